package policy

// The guardrail decision rule (see the package documentation, "The
// guardrail decision rule"): Risks for identity policies, and the
// machinery TrustRisks (risktrust.go) and the condition reading
// (riskcond.go) share.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// RiskOptions refine Risks and TrustRisks.
type RiskOptions struct {
	// Account is the 12-digit account the policies live in (a trust
	// policy's role's account). When empty, identity policies are asked
	// about every account they name literally and a stand-in, and a trust
	// policy's named accounts all count as other accounts.
	Account string
}

// Risk is one risk the decision rule found in identity policies.
type Risk struct {
	Severity string // SECURITY_WARNING
	Code     string // CodeAdminEquivalent, CodePrivilegeEscalationOnStar or CodePassRoleWithStar
	Message  string
	// Source is the ID of the policy whose statement grants it, Statement
	// that statement's index (-1 when several statements together grant
	// it) and Sid its Sid.
	Source    string
	Statement int
	Sid       string
	Field     string   // "Action" or "Resource"
	Value     string   // the actions, or the resources as written
	Actions   []string // the actions concerned
}

// rProbe holds the names of one run of the rule: the principal's own name,
// a target's name and IAM path, the attacker's names. They are drawn from a
// key made at random when the process starts, keyed by the documents
// judged: no document can name them in advance (a Deny on exactly the names
// the rule asks about would otherwise hide a grant on every other name),
// changing a document to probe for them changes them, and no answer shows
// them; yet the same documents get the same answer, places included, for
// as long as the process runs.
type rProbe struct {
	self, target, path, att, session, repo string
}

// rKey is the process's secret for drawing names.
var rKey = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails on supported platforms
	return b
})

// rSeed is a stream of pseudo-random bytes for one run, from the process's
// key and the documents judged.
type rSeed struct {
	seed []byte
	n    uint32
}

// rSeedOf seeds a run with what it judges.
func rSeedOf(parts ...any) *rSeed {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return &rSeed{seed: sum[:]}
}

func (s *rSeed) next() []byte {
	m := hmac.New(sha256.New, rKey())
	m.Write(s.seed)
	m.Write([]byte{byte(s.n), byte(s.n >> 8), byte(s.n >> 16), byte(s.n >> 24)})
	s.n++
	return m.Sum(nil)
}

// word is a name of 14 letters and digits, starting with a letter.
func (s *rSeed) word() string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := s.next()
	out := make([]byte, 14)
	out[0] = alpha[int(b[0])%26]
	for i := 1; i < len(out); i++ {
		out[i] = alpha[int(b[i])%len(alpha)]
	}
	return string(out)
}

// account is a 12-digit account id not in taken.
func (s *rSeed) account(taken map[string]bool) string {
	for {
		b := s.next()
		out := make([]byte, 12)
		out[0] = "123456789"[int(b[0])%9]
		for i := 1; i < len(out); i++ {
			out[i] = "0123456789"[int(b[i])%10]
		}
		if !taken[string(out)] {
			return string(out)
		}
	}
}

// rNewProbe draws a run's names (tests pin them to see that none shows).
var rNewProbe = func(s *rSeed) rProbe {
	return rProbe{self: s.word(), target: s.word(), path: s.word(), att: s.word(), session: s.word(), repo: s.word()}
}

// show hides the run's names in text meant for people.
func (p rProbe) show(s string) string {
	return strings.NewReplacer(p.self, "<principal>", p.target, "<name>", p.path, "<path>", p.att, "<attacker>", p.session, "<session>", p.repo, "<repo>").Replace(s)
}

// rNow is the clock of aws:CurrentTime (tests may pin it).
var rNow = time.Now

// rCtx is one run of the rule: the account, the attacker's account, the
// clock, and the context keys every request carries.
type rCtx struct {
	account, attacker string
	now               time.Time
	trust             bool
	probe             rProbe
	env               map[string][]string
	standIn           bool // account is not the real one: messages say "the account"
	// carry, when set, says whether the request being judged can carry a
	// condition key at all (rMayCarry for its action).
	carry func(lk string) bool
	// condCache remembers rCondition's answers (riskcond.go).
	condCache map[rCondKey]rCondResult
	// ignoreConds reads every Allow as unconditional and no conditioned
	// Deny as applying: what a policy would grant without its conditions,
	// for explaining a negative answer.
	ignoreConds bool
}

// acctName names the account in messages.
func (c *rCtx) acctName() string {
	if c.standIn {
		return "the account"
	}
	return "account " + c.account
}

func (c *rCtx) attackerRole() string {
	return "arn:aws:iam::" + c.attacker + ":role/" + c.probe.att
}

func newRCtx(account string, named map[string]bool, trust bool, seed *rSeed) *rCtx {
	taken := map[string]bool{account: true}
	for a := range named {
		taken[a] = true
	}
	c := &rCtx{account: account, attacker: seed.account(taken), now: rNow(), trust: trust, probe: rNewProbe(seed)}
	c.env = map[string][]string{
		"aws:currenttime": {c.now.UTC().Format("2006-01-02T15:04:05Z")}, "aws:epochtime": {rEpoch(c.now.Unix())},
		"aws:viaawsservice": {"false"}, "aws:principalisawsservice": {"false"},
		"aws:calledvia": nil, "aws:calledviafirst": nil, "aws:calledvialast": nil,
		"aws:sourcevpc": nil, "aws:sourcevpce": nil, "aws:vpcsourceip": nil,
		"aws:sourcearn": nil, "aws:sourceaccount": nil, "aws:sourceorgid": nil, "aws:sourceorgpaths": nil,
		"aws:multifactorauthage": nil, "aws:principalservicename": nil, "aws:principalservicenameslist": nil,
		"aws:ec2instancesourcevpc": nil, "aws:ec2instancesourceprivateipv4": nil, "aws:federatedprovider": nil,
		"aws:resourceaccount": {account},
	}
	return c
}

// rHolder is a principal making the rule's requests.
type rHolder struct {
	what     string              // in words: "a user", "a role session"…
	arn      string              // Request.Principal
	account  string              // its account
	self     string              // its own user or role ARN ("" for none)
	selfKind string              // "user" or "role"
	fixed    map[string][]string // lower-case key → values; nil = absent
	free     map[string]bool     // keys it sets as it likes
	ctx      map[string][]string // Request.Context (the present fixed values)
	// own is a key prefix ("token.actions.githubusercontent.com:") whose
	// other keys carry the caller's own values: absent, or values the
	// policy does not name.
	own string
}

func (h *rHolder) finish() *rHolder {
	h.ctx = map[string][]string{}
	for k, v := range h.fixed {
		if len(v) > 0 {
			h.ctx[k] = v
		}
	}
	return h
}

// rIAMHolder is a user ("user") or a role session ("role") of account,
// with an IAM path when path is not "/".
func (c *rCtx) rIAMHolder(kind, account, path, what string) *rHolder {
	name := c.probe.self
	entity := "arn:aws:iam::" + account + ":" + kind + path + name
	h := &rHolder{what: what, account: account, self: entity, selfKind: kind, free: map[string]bool{}}
	if kind == "user" {
		h.arn = entity
		h.fixed = map[string][]string{
			"aws:principalarn": {entity}, "aws:principalaccount": {account}, "aws:principaltype": {"User"},
			"aws:username": {name}, "aws:userid": {"AIDA" + strings.ToUpper(name)},
		}
	} else {
		h.arn = "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + c.probe.session
		h.fixed = map[string][]string{
			"aws:principalarn": {entity}, "aws:principalaccount": {account}, "aws:principaltype": {"AssumedRole"},
			"aws:username": nil, "aws:userid": {"AROA" + strings.ToUpper(name) + ":" + c.probe.session},
		}
	}
	return h.finish()
}

// rRootHolder is another account's root user (a trust policy naming the
// account lets it, and whomever it delegates to, assume the role).
func (c *rCtx) rRootHolder(account string) *rHolder {
	arn := "arn:aws:iam::" + account + ":root"
	h := &rHolder{what: "the account " + account, arn: arn, account: account, free: map[string]bool{},
		fixed: map[string][]string{"aws:principalarn": {arn}, "aws:principalaccount": {account}, "aws:principaltype": {"Account"}, "aws:username": nil, "aws:userid": {account}}}
	return h.finish()
}

// identityHolders are the principals an identity policy is judged for.
func (c *rCtx) identityHolders() []*rHolder {
	p := "/" + c.probe.path + "/"
	return []*rHolder{
		c.rIAMHolder("user", c.account, "/", "a user"),
		c.rIAMHolder("user", c.account, p, "a user with an IAM path"),
		c.rIAMHolder("role", c.account, "/", "a role session"),
		c.rIAMHolder("role", c.account, p, "a session of a role with an IAM path"),
	}
}

// rPlace names a statement of a source.
type rPlace struct {
	src string
	idx int
}

// rBoundaryType marks the neutral copies of boundaries, so that their
// matches are told from the identity policies'.
const rBoundaryType = "\x00boundary"

// rNeutral copies srcs for holder h, with each statement's Condition
// decided (see the package's rule): an Allow whose condition the attacker
// can meet loses it, one whose condition can fail is left out; a Deny whose
// condition always holds loses it, any other conditioned Deny is left out.
// The second result lists, per statement kept, the condition keys that were
// judged no restriction.
func (c *rCtx) rNeutral(srcs []Source, h *rHolder, typ string) ([]Source, map[rPlace][]string) {
	out := make([]Source, 0, len(srcs))
	opened := map[rPlace][]string{}
	for _, src := range srcs {
		if src.Doc == nil {
			continue
		}
		vars := src.Doc.Version == "2012-10-17"
		nd := &Document{Version: src.Doc.Version, ID: src.Doc.ID, versionSet: src.Doc.versionSet, Statements: make([]Statement, 0, len(src.Doc.Statements))}
		for _, st := range src.Doc.Statements {
			if len(st.Condition) > 0 {
				deny := st.Effect == "Deny"
				var met bool
				var keys []string
				switch {
				case c.ignoreConds:
					met = !deny
				default:
					met, keys = c.rCondition(st.Condition, h, vars, deny)
				}
				if !met {
					continue
				}
				if !deny && len(keys) > 0 {
					opened[rPlace{src.ID, st.Index}] = keys
				}
				st.Condition = nil
			}
			if vars {
				c.rFreeResources(&st, h)
			}
			nd.Statements = append(nd.Statements, st)
		}
		t := src.Type
		if typ != "" {
			t = typ
		}
		out = append(out, Source{ID: src.ID, Type: t, Doc: nd})
	}
	return out, opened
}

// rFreeResources rewrites the requester-chosen variables of a statement's
// Resource or NotResource the way the attacker would choose them: an
// Allow's Resource and a Deny's NotResource match anything, an Allow's
// NotResource and a Deny's Resource nothing.
func (c *rCtx) rFreeResources(st *Statement, h *rHolder) {
	rewrite := func(list []string, with string) []string {
		var out []string
		for i, r := range list {
			if !c.rHasFreeVar(r, h) {
				continue
			}
			if out == nil {
				out = append([]string(nil), list...)
			}
			out[i] = c.rFreeVarsAs(r, with, h)
		}
		if out == nil {
			return list
		}
		return out
	}
	nothing := c.probe.att + "-nothing"
	if st.Effect == "Allow" {
		st.Resource, st.NotResource = rewrite(st.Resource, "*"), rewrite(st.NotResource, nothing)
	} else {
		st.Resource, st.NotResource = rewrite(st.Resource, nothing), rewrite(st.NotResource, "*")
	}
}

// rAllows evaluates one request and returns the identity statements that
// allow it, or nil when it is not allowed.
func (c *rCtx) rAllows(ids, bnds []Source, h *rHolder, action, resource string) []Match {
	r := Evaluate(Input{Identity: ids, Boundaries: bnds}, Request{Action: action, Resource: resource, Context: h.ctx, Principal: h.arn, PrincipalAccount: h.account})
	if r.Decision != Allowed {
		return nil
	}
	var by []Match
	for _, m := range r.Matched {
		if m.Effect == "Allow" && m.SourceType != rBoundaryType {
			by = append(by, m)
		}
	}
	if len(by) == 0 {
		by = []Match{{Index: -1}} // cannot happen: an Allow decided it
	}
	return by
}

// rEscalations are the actions whose grant lets a principal raise its own
// privileges with nothing else needed, with the kind of IAM resource each
// is authorised on, and whether the principal's own user or role counts as
// a target (changing one's own permissions is the escalation; creating
// one's own access key is not).
var rEscalations = []struct {
	action, kind string
	self         bool
}{
	{"iam:PassRole", "role", false},
	{"iam:CreateAccessKey", "user", false},
	{"iam:CreateLoginProfile", "user", false},
	{"iam:UpdateLoginProfile", "user", false},
	{"iam:AttachUserPolicy", "user", true},
	{"iam:PutUserPolicy", "user", true},
	{"iam:AttachRolePolicy", "role", true},
	{"iam:PutRolePolicy", "role", true},
	{"iam:AttachGroupPolicy", "group", false},
	{"iam:PutGroupPolicy", "group", false},
	{"iam:CreatePolicyVersion", "policy", false},
	{"iam:SetDefaultPolicyVersion", "policy", false},
	{"iam:UpdateAssumeRolePolicy", "role", false},
	{"iam:AddUserToGroup", "group", false},
	{"iam:DeleteUserPermissionsBoundary", "user", true},
	{"iam:DeleteRolePermissionsBoundary", "role", true},
	{"iam:PutUserPermissionsBoundary", "user", true},
	{"iam:PutRolePermissionsBoundary", "role", true},
	{"sts:AssumeRole", "role", false},
}

// rTargets are the arbitrary targets of a kind in account: one at the root
// path and one under a path. Reaching either is reaching "any".
func (c *rCtx) rTargets(kind, account string) []string {
	name := c.probe.target
	return []string{
		"arn:aws:iam::" + account + ":" + kind + "/" + name,
		"arn:aws:iam::" + account + ":" + kind + "/" + c.probe.path + "/" + name,
	}
}

// rInstantiate turns an ARN template of the reference into a concrete ARN
// of the account.
func (c *rCtx) rInstantiate(format string) string {
	var b strings.Builder
	for len(format) > 0 {
		i := strings.Index(format, "${")
		if i < 0 {
			b.WriteString(format)
			break
		}
		b.WriteString(format[:i])
		j := strings.IndexByte(format[i:], '}')
		if j < 0 {
			b.WriteString(format[i:])
			break
		}
		switch format[i+2 : i+j] {
		case "Partition":
			b.WriteString("aws")
		case "Account":
			b.WriteString(c.account)
		case "Region":
			b.WriteString("us-east-1")
		default:
			b.WriteString(c.probe.target)
		}
		format = format[i+j+1:]
	}
	return b.String()
}

// rIAMProbe is one IAM action with a concrete resource of each of its
// resource types.
type rIAMProbe struct {
	action    *iamdata.ActionInfo
	resources []string
}

// rIAMProbes lists the IAM actions authorised on IAM resources, each with a
// resource of every type it names: the requests "every IAM action on every
// IAM resource" stands for.
func (c *rCtx) rIAMProbes() []rIAMProbe {
	var out []rIAMProbe
	for _, a := range iamdata.MatchActions("iam:*") {
		var res []string
		for _, rt := range iamdata.ResourceTypesFor(a) {
			for _, f := range rt.ARNFormats {
				// AWS's own resources (account "aws": role templates)
				// are not the account's to grant.
				if r := c.rInstantiate(f); arnAccount(r) == c.account {
					res = append(res, r)
				}
			}
		}
		if len(res) > 0 {
			out = append(out, rIAMProbe{action: a, resources: res})
		}
	}
	return out
}

// rEscalation is one escalation found: the action, the target it reaches
// (in words and as the request's ARN), for which principal, and which
// statements allow it.
type rEscalation struct {
	action, target, arn string
	holder              *rHolder
	by                  []Match
}

// rIdentityResult is the rule's answer for identity policies.
type rIdentityResult struct {
	admin       bool
	adminHow    string // how, starting with a verb
	adminBy     []Match
	escalations []rEscalation
	opened      map[rPlace][]string // conditions judged no restriction
}

// rIdentity runs the rule over identity policies (and boundaries) for
// every holder; a risk for any holder is a risk.
//
// adminOnly skips the escalation actions.
func (c *rCtx) rIdentity(ids, bnds []Source, adminOnly bool) rIdentityResult {
	var res rIdentityResult
	res.opened = map[rPlace][]string{}
	probes := c.rIAMProbes()
	seen := map[string]bool{}
	keys := rConditionKeys(append(append([]Source(nil), ids...), bnds...))
	for _, h := range c.identityHolders() {
		n := c.rNeutralizer(ids, bnds, h, keys, res.opened)
		if !res.admin {
			if ok, how, by := c.rAdmin(n, h, probes); ok {
				res.admin, res.adminHow, res.adminBy = true, how, by
			}
		}
		if adminOnly {
			if res.admin {
				break
			}
			continue
		}
		for _, e := range rEscalations {
			if seen[e.action] {
				continue
			}
			var targets []struct{ what, arn string }
			for _, t := range c.rTargets(e.kind, c.account) {
				targets = append(targets, struct{ what, arn string }{"any " + e.kind + " of " + c.acctName(), t})
			}
			if e.self && h.selfKind == e.kind {
				targets = append(targets, struct{ what, arn string }{"the principal's own " + e.kind + " (for " + h.what + ")", h.self})
			}
			nids, nbs := n(e.action)
			for _, t := range targets {
				if by := c.rAllows(nids, nbs, h, e.action, t.arn); by != nil {
					seen[e.action] = true
					res.escalations = append(res.escalations, rEscalation{action: e.action, target: t.what, arn: t.arn, holder: h, by: by})
					break
				}
			}
		}
	}
	return res
}

// rConditionKeys lists the condition keys the sources use, lower case.
func rConditionKeys(srcs []Source) []string {
	set := map[string]bool{}
	for _, s := range srcs {
		if s.Doc == nil {
			continue
		}
		for _, st := range s.Doc.Statements {
			for _, keys := range st.Condition {
				for k := range keys {
					set[strings.ToLower(k)] = true
				}
			}
		}
	}
	return sortedNames(set)
}

// rNeutralizer returns, for holder h, the neutral copies of the sources
// for a request of a given action: conditions are decided knowing which
// keys that action can carry. Actions that can carry the same keys share
// the copies.
func (c *rCtx) rNeutralizer(ids, bnds []Source, h *rHolder, keys []string, opened map[rPlace][]string) func(action string) ([]Source, []Source) {
	type pair struct{ ids, bnds []Source }
	cache := map[string]pair{}
	return func(action string) ([]Source, []Source) {
		a, _ := iamdata.Action(action)
		sig := make([]byte, len(keys))
		for i, k := range keys {
			sig[i] = '0'
			if rMayCarry(a, k) {
				sig[i] = '1'
			}
		}
		if p, ok := cache[string(sig)]; ok {
			return p.ids, p.bnds
		}
		c.carry = func(lk string) bool { return rMayCarry(a, lk) }
		defer func() { c.carry = nil }()
		nids, op := c.rNeutral(ids, h, "")
		for k, v := range op {
			opened[k] = v
		}
		var nbs []Source
		if len(bnds) > 0 {
			nbs, _ = c.rNeutral(bnds, h, rBoundaryType)
		}
		cache[string(sig)] = pair{nids, nbs}
		return nids, nbs
	}
}

// rAdmin decides admin-equivalence for one holder: every IAM action allowed
// on a resource of each of its types, or a NotAction statement leaving an
// IAM write or permissions-management action open.
func (c *rCtx) rAdmin(n func(string) ([]Source, []Source), h *rHolder, probes []rIAMProbe) (bool, string, []Match) {
	all := true
	var by []Match
	var notActionOpen []string
	var notActionBy []Match
	for _, p := range probes {
		ids, bnds := n(p.action.FullName())
		ok := true
		for _, r := range p.resources {
			m := c.rAllows(ids, bnds, h, p.action.FullName(), r)
			if m == nil {
				ok = false
				break
			}
			by = rAddMatch(by, m[0])
			if aIAMEscalation(p.action) {
				if st := rStatement(ids, m[0]); st != nil && len(st.NotAction) > 0 {
					notActionOpen = append(notActionOpen, p.action.FullName())
					notActionBy = rAddMatch(notActionBy, m[0])
				}
			}
		}
		if !ok {
			all = false
		}
	}
	if all && len(probes) > 0 {
		return true, fmt.Sprintf("allows every IAM action (iam:*) on every kind of IAM resource (users, roles, groups, policies …) of %s, through %s; with IAM a principal can grant itself any permission",
			c.acctName(), rDescribeMatches(by)), by
	}
	if len(notActionOpen) > 0 {
		sort.Strings(notActionOpen)
		notActionOpen = slices.Compact(notActionOpen)
		return true, fmt.Sprintf("allows, through the NotAction in %s, every action but those it lists, which leaves %d IAM write or permissions-management actions open on every resource (%s); with them a principal can grant itself any permission",
			rDescribeMatches(notActionBy), len(notActionOpen), vList(notActionOpen, 3)), notActionBy
	}
	return false, "", nil
}

// rAddMatch adds a statement to a list once.
func rAddMatch(list []Match, m Match) []Match {
	for _, x := range list {
		if x.SourceID == m.SourceID && x.Index == m.Index {
			return list
		}
	}
	return append(list, m)
}

// rStatement finds a matched statement in its (neutral) source.
func rStatement(srcs []Source, m Match) *Statement {
	for _, s := range srcs {
		if s.ID != m.SourceID || s.Doc == nil {
			continue
		}
		for i := range s.Doc.Statements {
			if s.Doc.Statements[i].Index == m.Index {
				return &s.Doc.Statements[i]
			}
		}
	}
	return nil
}

// rDescribeMatches names statements for messages.
func rDescribeMatches(ms []Match) string {
	names := make([]string, 0, len(ms))
	for _, m := range ms {
		n := fmt.Sprintf("statement %d", m.Index)
		if m.Sid != "" {
			n += fmt.Sprintf(" (Sid %q)", m.Sid)
		}
		if m.SourceID != "" {
			n += " of " + m.SourceID
		}
		names = append(names, n)
	}
	if len(names) > 1 {
		return "statements " + vList(names, 4) + " together"
	}
	return strings.Join(names, "")
}

// rNamedAccounts collects the 12-digit accounts the documents name in
// Resource and NotResource patterns.
func rNamedAccounts(srcs []Source) map[string]bool {
	out := map[string]bool{}
	for _, s := range srcs {
		if s.Doc == nil {
			continue
		}
		for _, st := range s.Doc.Statements {
			for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
				if a := arnAccount(r); isAccountID(a) {
					out[a] = true
				}
			}
		}
	}
	return out
}

// rMaxAccounts bounds how many named accounts are tried when the account is
// unknown, so that a document listing thousands costs no more than eight.
const rMaxAccounts = 8

// rAccounts are the accounts to judge identity policies in, and whether
// the last is a stand-in (a random account, for when the account is not
// known: a document cannot name it in advance).
func rAccounts(o RiskOptions, named map[string]bool, seed *rSeed) ([]string, bool) {
	if o.Account != "" {
		return []string{o.Account}, false
	}
	list := make([]string, 0, len(named))
	for a := range named {
		list = append(list, a)
	}
	sort.Strings(list)
	if len(list) > rMaxAccounts {
		list = list[:rMaxAccounts]
	}
	return append(list, seed.account(named)), true
}

// Risks decides, by the guardrail decision rule (see the top of this file),
// what the identity policies in.Identity, attached together to one
// principal and within in.Boundaries when given, let that principal do that
// the guardrails exist to stop: administrator-equivalent access
// (ADMIN_EQUIVALENT), passing any role (PASS_ROLE_WITH_STAR) and other
// privilege escalation (PRIVILEGE_ESCALATION_ON_STAR). Each risk names the
// statement that grants it. SCP, session and resource layers of in are
// ignored.
func Risks(in Input, o RiskOptions) []Risk {
	named := rNamedAccounts(append(append([]Source(nil), in.Identity...), in.Boundaries...))
	var out []Risk
	seed := rSeedOf(in.Identity, in.Boundaries, o)
	accts, standIn := rAccounts(o, named, seed)
	for i, acct := range accts {
		c := newRCtx(acct, named, false, seed)
		c.standIn = standIn && i == len(accts)-1
		res := c.rIdentity(in.Identity, in.Boundaries, false)
		if rs := c.rRisks(in.Identity, res); len(rs) > 0 {
			out = rs
			break
		}
	}
	return out
}

// rRisks turns the rule's answer into risks with places.
func (c *rCtx) rRisks(ids []Source, res rIdentityResult) []Risk {
	var out []Risk
	place := func(r *Risk, by []Match) {
		r.Statement = -1
		if len(by) == 1 && by[0].Index >= 0 {
			r.Source, r.Statement, r.Sid = by[0].SourceID, by[0].Index, by[0].Sid
		}
	}
	condNote := func(by []Match) string {
		var notes []string
		for _, m := range by {
			if keys := res.opened[rPlace{m.SourceID, m.Index}]; len(keys) > 0 {
				notes = append(notes, fmt.Sprintf("the conditions of statement %d (on %s) can always be met, so they restrict nothing", m.Index, strings.Join(keys, ", ")))
			}
		}
		if len(notes) == 0 {
			return ""
		}
		return "; " + strings.Join(notes, "; ")
	}
	if res.admin {
		r := Risk{Severity: SeveritySecurityWarning, Code: CodeAdminEquivalent, Actions: []string{"iam:*"}}
		place(&r, res.adminBy)
		r.Message = "The policy is administrator-equivalent: it " + c.rAdminWording(ids, res) + condNote(res.adminBy) + ". Grant the actions the principal needs instead."
		out = append(out, r)
	}
	// One finding per granting statement: the escalation actions it allows.
	type group struct {
		by      Match
		actions []rEscalation
	}
	var groups []*group
	find := func(m Match) *group {
		for _, g := range groups {
			if g.by.SourceID == m.SourceID && g.by.Index == m.Index {
				return g
			}
		}
		g := &group{by: m}
		groups = append(groups, g)
		return g
	}
	for _, e := range res.escalations {
		if e.action == "iam:PassRole" {
			r := Risk{Severity: SeveritySecurityWarning, Code: CodePassRoleWithStar, Field: "Resource", Actions: []string{e.action}}
			place(&r, e.by[:1])
			if st := rStatement(ids, e.by[0]); st != nil {
				r.Value = strings.Join(append(append([]string(nil), st.Resource...), st.NotResource...), ",")
			}
			r.Message = fmt.Sprintf("iam:PassRole is allowed on %s: the principal can pass any role, including more privileged ones, to a service%s. Name the roles it may pass, or limit it with iam:PassedToService.",
				e.target, condNote(e.by[:1]))
			out = append(out, r)
			continue
		}
		if res.admin {
			continue // admin-equivalence says more
		}
		g := find(e.by[0])
		g.actions = append(g.actions, e)
	}
	for _, g := range groups {
		var names, parts []string
		for _, e := range g.actions {
			names = append(names, e.action)
			parts = append(parts, e.action+" on "+e.target)
		}
		r := Risk{Severity: SeveritySecurityWarning, Code: CodePrivilegeEscalationOnStar, Field: "Action", Value: strings.Join(names, ","), Actions: names}
		place(&r, []Match{g.by})
		r.Message = fmt.Sprintf("The policy allows %s: with %s a principal can raise its own privileges (%s)%s. Name the resources, or add conditions that the principal cannot meet on its own.",
			vList(parts, 6), vThem(len(names)), vEscalationWhy(names[0]), condNote([]Match{g.by}))
		out = append(out, r)
	}
	return out
}

// rAdminWording says how a policy is admin-equivalent: as "every action"
// when its neutral statements allow every action in the reference on "*",
// else as the rule found it.
func (c *rCtx) rAdminWording(ids []Source, res rIdentityResult) string {
	// The neutral copy for the holder that matters little here: "every
	// action" is asked of the statements read without their conditions
	// that were judged no restriction.
	h := c.identityHolders()[0]
	nids, _ := c.rNeutral(ids, h, "")
	merged := &Document{Version: "2012-10-17"}
	for _, s := range nids {
		merged.Statements = append(merged.Statements, s.Doc.Statements...)
	}
	if ok, why := aAdminWith(aCollect(merged, false)); ok && strings.HasPrefix(why, "allows every action") {
		return why
	}
	return res.adminHow
}

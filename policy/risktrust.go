package policy

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Trust exposure, by the guardrail decision rule (risk.go): a trust policy
// is asked whether a principal outside the role's account, or a token
// anyone can obtain, may assume the role, by evaluating sts:AssumeRole*
// requests of such callers against the policy with its conditions decided
// as the rule decides them.

// TrustFinding is one risk in a role's trust policy.
type TrustFinding struct {
	Statement int    // 0-based index of the statement
	Sid       string // the statement's Sid, "" when absent
	// Kind is "anyone" (Principal "*", {"AWS": "*"} or an Allow with
	// NotPrincipal), "other-account-unconditioned" (a principal in another
	// account, with no condition or only conditions any of its principals
	// meets: the confused-deputy risk), "other-account" (another account,
	// with conditions that can fail; informational), "federated-open" (a
	// public identity provider's tokens, which anyone can obtain, without
	// the condition that pins whose they are) or "federated-owner-wide" (a
	// public provider pinned to an organisation but not to one of its
	// repositories or projects).
	Kind      string
	Principal string // the principal as written ("*" for a wildcard)
	Message   string // the risk in words
	// Open is true when nothing in the policy narrows the grant for an
	// outsider: no condition, or only conditions the outsider can meet,
	// and no Deny that stops it.
	Open bool
}

// Trust finding kinds.
const (
	aKindAnyone         = "anyone"
	aKindOtherUncond    = "other-account-unconditioned"
	aKindOtherAccount   = "other-account"
	aKindFederatedOpen  = "federated-open"
	aKindFederatedOwner = "federated-owner-wide"
)

// rAttackerAdmin is the attacker's own identity policy: in its own
// account it may do anything, so only the trust policy decides.
var rAttackerAdmin = sync.OnceValue(func() Source {
	d, _ := Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	return Source{ID: "\x00attacker", Type: "user-managed", Doc: d}
})

// rIssuer is a public identity provider: anyone can obtain its tokens, so a
// trust policy must pin whose they are with a condition.
type rIssuer struct {
	host string
	// subPrefix and ownerEnd locate the owner (organisation, group) in the
	// sub claim: "repo:OWNER/…" for GitHub. "" when the sub is not the pin.
	subPrefix string
	ownerEnd  byte
	// generic are sub claims of tokens the attacker mints for itself (OWNER
	// and REPO replaced).
	generic []string
	// freeAud: the token's audience is chosen by whoever requests it, so an
	// aud condition pins nothing.
	freeAud bool
	cognito bool
}

var rIssuers = []rIssuer{
	{host: "token.actions.githubusercontent.com", subPrefix: "repo:", ownerEnd: '/', freeAud: true,
		generic: []string{"repo:OWNER/REPO:ref:refs/heads/main", "repo:OWNER/REPO:environment:production", "repo:OWNER/REPO:pull_request", "repo:OWNER/REPO:ref:refs/tags/v1"}},
	{host: "gitlab.com", subPrefix: "project_path:", ownerEnd: '/', freeAud: true,
		generic: []string{"project_path:OWNER/REPO:ref_type:branch:ref:main", "project_path:OWNER/REPO:ref_type:tag:ref:v1"}},
	{host: "app.terraform.io", subPrefix: "organization:", ownerEnd: ':', freeAud: true,
		generic: []string{"organization:OWNER:project:REPO:workspace:REPO:run_phase:apply", "organization:OWNER:project:REPO:workspace:REPO:run_phase:plan"}},
	{host: "cognito-identity.amazonaws.com", cognito: true},
	{host: "accounts.google.com"},
	{host: "graph.facebook.com"},
	{host: "www.amazon.com"},
}

// rIssuerOf finds the public provider of a Federated principal: an OIDC
// provider ARN of a public host, or the provider's name itself.
func rIssuerOf(v string) *rIssuer {
	host := v
	if _, h, ok := strings.Cut(v, ":oidc-provider/"); ok {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "/"))
	for i := range rIssuers {
		if rIssuers[i].host == host {
			return &rIssuers[i]
		}
	}
	return nil
}

// rConcretize turns a pattern into a string it matches, the attacker's
// way: every * becomes fill, every ? a letter.
func rConcretize(p, fill string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(fill)
		case '?':
			b.WriteByte('z')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rConditionValues returns the policy values a statement tests key with,
// under any operator.
func rConditionValues(st *Statement, key string) []string {
	var out []string
	for _, keys := range st.Condition {
		for k, vals := range keys {
			if strings.EqualFold(k, key) {
				out = append(out, vals...)
			}
		}
	}
	sort.Strings(out)
	return out
}

// rOwner returns the owner part of a sub claim (or pattern) and whether it
// has the issuer's shape.
func (is *rIssuer) rOwner(sub string) (string, bool) {
	if !strings.HasPrefix(sub, is.subPrefix) {
		return "", false
	}
	rest := sub[len(is.subPrefix):]
	if i := strings.IndexByte(rest, is.ownerEnd); i >= 0 {
		return rest[:i], true
	}
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		return rest[:i], true
	}
	return rest, true
}

// rWebHolders are callers holding tokens of a public issuer that the
// attacker can obtain, for the statement st.
func (c *rCtx) rWebHolders(is *rIssuer, provider string, st *Statement) []*rHolder {
	host := strings.ToLower(is.host)
	mk := func(what string, fixed map[string][]string) *rHolder {
		base := map[string][]string{"aws:principalarn": nil, "aws:principalaccount": nil, "aws:principaltype": {"WebIdentityUser"}, "aws:username": nil, "aws:userid": nil, "aws:federatedprovider": {provider}}
		for k, v := range fixed {
			base[k] = v
		}
		h := &rHolder{what: what, arn: provider, fixed: base, free: map[string]bool{}, own: host + ":"}
		if is.freeAud {
			h.free[host+":aud"] = true
			h.free[host+":oaud"] = true
		}
		return h.finish()
	}
	att := c.probe.att
	var out []*rHolder
	switch {
	case is.cognito:
		pools := []string{"us-east-1:" + att}
		for _, v := range rConditionValues(st, host+":aud") {
			if strings.ContainsAny(v, "*?") {
				pools = append(pools, rConcretize(v, att))
			}
		}
		for _, p := range pools {
			out = append(out, mk("an authenticated identity of the attacker's own identity pool", map[string][]string{host + ":aud": {p}, host + ":amr": {"authenticated", "graph.facebook.com"}, host + ":sub": {"us-east-1:" + att + "-identity"}}))
		}
		for _, v := range rConditionValues(st, host+":aud") {
			if !strings.ContainsAny(v, "*?") {
				out = append(out, mk("a guest (unauthenticated) identity of pool "+v, map[string][]string{host + ":aud": {v}, host + ":amr": {"unauthenticated"}, host + ":sub": {"us-east-1:" + att + "-guest"}}))
			}
		}
	case is.subPrefix != "":
		subs := c.rSubCandidates(is, rConditionValues(st, host+":sub"))
		for _, s := range subs {
			out = append(out, mk("a token the attacker mints for its own "+strings.TrimSuffix(is.subPrefix, ":")+" (sub "+s+")", map[string][]string{host + ":sub": {s}}))
		}
	default:
		auds := []string{att + "-app"}
		for _, v := range rConditionValues(st, host+":aud") {
			if strings.ContainsAny(v, "*?") {
				auds = append(auds, rConcretize(v, att))
			}
		}
		for _, a := range auds {
			out = append(out, mk("a token for the attacker's own application", map[string][]string{host + ":aud": {a}, host + ":sub": {att + "-user"}}))
		}
	}
	return out
}

// rSubCandidates are the sub claims the attacker can get for tokens of its
// own organisation: the issuer's usual shapes, and each pattern of the
// policy made concrete where its owner is not one the policy names
// literally (the attacker cannot be that organisation, but can register
// any other name).
func (c *rCtx) rSubCandidates(is *rIssuer, pols []string) []string {
	att := c.probe.att
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, g := range is.generic {
		add(strings.NewReplacer("OWNER", att, "REPO", c.probe.repo).Replace(g))
	}
	victims := map[string]bool{}
	for _, p := range pols {
		if o, ok := is.rOwner(p); ok && !strings.ContainsAny(o, "*?") {
			victims[o] = true
		}
	}
	first := strings.NewReplacer("OWNER", att, "REPO", c.probe.repo).Replace(is.generic[0])
	for _, p := range pols {
		if cand := rConcretize(p, att); !victims[mustOwner(is, cand)] && strings.HasPrefix(cand, is.subPrefix) {
			add(cand)
		}
		if strings.HasPrefix(p, "*") {
			// A leading * swallows the owner: the attacker's own token,
			// with what the pattern wants at its end (branch names are
			// the attacker's to choose).
			add(first + "/" + rConcretize(strings.TrimLeft(p, "*"), att))
		}
	}
	return out
}

func mustOwner(is *rIssuer, s string) string {
	o, _ := is.rOwner(s)
	return o
}

// rTrustAllows evaluates an assume request of holder h against the trust
// policy d (its conditions decided for h) and reports whether statement idx
// allows it.
func (c *rCtx) rTrustAllows(d *Document, idx int, h *rHolder, action, role string) (bool, []string) {
	// Only the statement asked about and the Deny statements can decide
	// whether it allows: the other Allows are left out, which keeps a
	// document of many statements linear in them.
	one := &Document{Version: d.Version, versionSet: d.versionSet}
	for _, st := range d.Statements {
		if st.Index == idx || st.Effect == "Deny" {
			one.Statements = append(one.Statements, st)
		}
	}
	nd, opened := c.rNeutral([]Source{{ID: "trust", Type: "resource", Doc: one}}, h, "")
	in := Input{Resource: nd}
	if h.account != "" {
		in.Identity = []Source{rAttackerAdmin()}
	}
	r := Evaluate(in, Request{Action: action, Resource: role, Context: h.ctx, Principal: h.arn, PrincipalAccount: h.account})
	if r.Decision != Allowed {
		return false, nil
	}
	for _, m := range r.Matched {
		if m.SourceID == "trust" && m.Index == idx && m.Effect == "Allow" {
			return true, opened[rPlace{"trust", idx}]
		}
	}
	return false, nil
}

// rOpenFor reports whether any of holders may assume the role through
// statement idx, and the conditions judged no restriction on the way.
func (c *rCtx) rOpenFor(d *Document, idx int, holders []*rHolder, action, role string) (bool, []string, *rHolder) {
	for _, h := range holders {
		if ok, keys := c.rTrustAllows(d, idx, h, action, role); ok {
			return true, keys, h
		}
	}
	return false, nil, nil
}

// rNamedOutsiders are principals of the attacker's own account named the
// way the statement's conditions on aws:PrincipalArn or aws:username want:
// the attacker names its users and roles as it likes, so only the account
// in such a condition pins anyone ("*admin" is met by a role the attacker
// calls "admin").
func (c *rCtx) rNamedOutsiders(st *Statement) []*rHolder {
	var out []*rHolder
	seen := map[string]bool{}
	for _, key := range []string{"aws:PrincipalArn", "aws:username"} {
		for _, v := range rConditionValues(st, key) {
			if strings.Contains(v, "${") {
				continue
			}
			suffix := strings.TrimLeft(v, "*?")
			for _, k := range []string{":role/", ":user/"} {
				if i := strings.LastIndex(v, k); i >= 0 {
					suffix = v[i+len(k):]
				}
			}
			name := rConcretize(suffix, "x")
			if name == "" || strings.ContainsAny(name, ":") || seen[name] {
				continue
			}
			seen[name] = true
			for _, kind := range []string{"role", "user"} {
				entity := "arn:aws:iam::" + c.attacker + ":" + kind + "/" + name
				h := c.rIAMHolder(kind, c.attacker, "/", "a "+kind+" of another account, named to match")
				h.self = entity
				h.fixed["aws:principalarn"] = []string{entity}
				last := name[strings.LastIndexByte(name, '/')+1:]
				if kind == "user" {
					h.arn = entity
					h.fixed["aws:username"] = []string{last}
				} else {
					h.arn = "arn:aws:sts::" + c.attacker + ":assumed-role/" + last + "/" + c.probe.session
				}
				rOutsiderFree(h)
				out = append(out, h.finish())
			}
		}
	}
	return out
}

// rOutsiderFree marks what an outsider sets on its own principals: in its
// own account it has MFA devices and tags as it likes.
func rOutsiderFree(h *rHolder) {
	h.free["aws:multifactorauthpresent"] = true
	h.free["aws:multifactorauthage"] = true
}

// rAWSHolders are principals a Principal {"AWS": v} of another account
// stands for.
func (c *rCtx) rAWSHolders(v, acct string) []*rHolder {
	switch {
	case isAccountID(v) || strings.HasSuffix(v, ":root"):
		return []*rHolder{c.rIAMHolder("role", acct, "/", "a role session of account "+acct), c.rIAMHolder("user", acct, "/", "a user of account "+acct), c.rRootHolder(acct)}
	case strings.Contains(v, ":role/"):
		name := v[strings.LastIndexByte(v, '/')+1:]
		h := &rHolder{what: "a session of " + v, account: acct, arn: "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + c.probe.session, free: map[string]bool{},
			fixed: map[string][]string{"aws:principalarn": {v}, "aws:principalaccount": {acct}, "aws:principaltype": {"AssumedRole"}, "aws:username": nil, "aws:userid": {"AROA" + strings.ToUpper(c.probe.self) + ":" + c.probe.session}}}
		return []*rHolder{h.finish()}
	case strings.Contains(v, ":user/"):
		name := v[strings.LastIndexByte(v, '/')+1:]
		h := &rHolder{what: v, account: acct, arn: v, free: map[string]bool{},
			fixed: map[string][]string{"aws:principalarn": {v}, "aws:principalaccount": {acct}, "aws:principaltype": {"User"}, "aws:username": {name}, "aws:userid": {"AIDA" + strings.ToUpper(c.probe.self)}}}
		return []*rHolder{h.finish()}
	}
	h := &rHolder{what: v, account: acct, arn: v, free: map[string]bool{}, fixed: map[string][]string{"aws:principalarn": {v}, "aws:principalaccount": {acct}}}
	return []*rHolder{h.finish()}
}

// rAssumeAction is the assume action a statement allows, for the kind of
// caller: AssumeRoleWithWebIdentity for federated ones, else AssumeRole
// (or, failing that, any assume action it names).
func rAssumeAction(st *Statement, web bool) string {
	order := []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity"}
	if web {
		order = []string{"sts:AssumeRoleWithWebIdentity"}
	}
	for _, a := range order {
		if aActionMatches(st, strings.ToLower(a)) {
			return a
		}
	}
	return ""
}

// TrustRisks reports who outside the role's account a trust policy lets
// assume the role, decided by the guardrail decision rule (risk.go).
// account is the role's own account id; when it is "" every principal
// named by account is reported, since none can be shown to be local.
//
// The guardrails refuse a trust policy open to "*", to another account
// without a condition that any of its principals cannot meet (none, or
// only conditions that always hold, such as aws:CurrentTime after 2000 or
// aws:PrincipalArn like "*"), or to a public identity provider without the
// condition that pins whose tokens count (GitHub Actions without a sub
// naming the organisation, Cognito without aud and amr): with them any
// principal the other account's administrators allow, or anyone at all,
// can assume the role. Only Allow statements whose action can be an assume
// count; a Deny that stops the outsider whatever it does closes the grant.
// Service principals, the account's own identity providers (SAML, its
// clusters' OIDC) and the role's own account are not findings.
func TrustRisks(d *Document, account string) []TrustFinding {
	if d == nil {
		return nil
	}
	named := map[string]bool{}
	for _, st := range d.Statements {
		for _, p := range []*Principal{st.Principal, st.NotPrincipal} {
			if p == nil {
				continue
			}
			for _, v := range p.Values["AWS"] {
				if isAccountID(v) {
					named[v] = true
				} else if a := arnAccount(v); a != "" {
					named[a] = true
				}
			}
		}
	}
	seed := rSeedOf(d, account)
	own := account
	if own == "" {
		own = seed.account(named)
	}
	c := newRCtx(own, named, true, seed)
	role := "arn:aws:iam::" + own + ":role/" + c.probe.target
	outsiders := []*rHolder{
		c.rIAMHolder("role", c.attacker, "/", "a role session of another account"),
		c.rIAMHolder("user", c.attacker, "/", "a user of another account"),
		c.rRootHolder(c.attacker),
	}
	for _, h := range outsiders {
		rOutsiderFree(h)
	}
	var out []TrustFinding
	for i := range d.Statements {
		st := &d.Statements[i]
		if st.Effect != "Allow" || !aAssumes(st) {
			continue
		}
		add := func(kind, principal, msg string, open bool) {
			out = append(out, TrustFinding{Statement: st.Index, Sid: st.Sid, Kind: kind, Principal: principal, Message: aStatementName(st) + ": " + msg, Open: open})
		}
		anyone := func(principal, lead string) {
			action := rAssumeAction(st, false)
			open, keys, _ := c.rOpenFor(d, i, append(outsiders, c.rNamedOutsiders(st)...), action, role)
			add(aKindAnyone, principal, lead+rAnyoneSuffix(st, open, keys), open)
		}
		if st.NotPrincipal != nil {
			anyone("*", "Allow with NotPrincipal lets every principal not listed, in any account, assume the role")
		}
		p := st.Principal
		if p == nil {
			continue
		}
		if p.Wildcard {
			anyone("*", `Principal "*" lets anyone, in any AWS account, assume the role`)
			continue
		}
		types := make([]string, 0, len(p.Values))
		for t := range p.Values {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			for _, v := range p.Values[t] {
				if v == "*" {
					anyone(v, fmt.Sprintf(`Principal {%q: "*"} lets anyone assume the role`, t))
					continue
				}
				switch t {
				case "AWS":
					c.rTrustAWS(st, i, d, v, account, role, add)
				case "Federated":
					c.rTrustFederated(st, i, d, v, role, add)
				}
			}
		}
	}
	return out
}

// rAnyoneSuffix says what narrows an "anyone" grant.
func rAnyoneSuffix(st *Statement, open bool, keys []string) string {
	switch {
	case len(st.Condition) == 0 && open:
		return ", with no condition"
	case open && len(keys) > 0:
		return ", with conditions on " + strings.Join(keys, ", ") + " that anyone can meet, so they restrict nothing"
	case open:
		return ", and nothing in the policy narrows it"
	case len(st.Condition) == 0:
		return ", but a Deny statement stops callers outside the account"
	}
	return ", limited only by conditions on " + strings.Join(st.ConditionKeys(), ", ") + " (check that they pin the caller)"
}

func (c *rCtx) rTrustAWS(st *Statement, i int, d *Document, v, account, role string, add func(kind, principal, msg string, open bool)) {
	acct := v
	if !isAccountID(v) {
		acct = arnAccount(v)
	}
	if acct == "" || (account != "" && acct == account) {
		return
	}
	who := fmt.Sprintf("%s in account %s", v, acct)
	if v == acct {
		who = "account " + acct
	}
	open, keys, _ := c.rOpenFor(d, i, c.rAWSHolders(v, acct), rAssumeAction(st, false), role)
	conditioned := len(st.Condition) > 0
	switch {
	case open && conditioned:
		add(aKindOtherUncond, v, fmt.Sprintf("%s can assume the role: its conditions (on %s) can be met by any principal that account allows, so they restrict nothing; any principal that account allows (including a third party's service acting for another customer, the confused deputy) can assume it; require sts:ExternalId or aws:PrincipalOrgID/aws:PrincipalArn", who, strings.Join(keys, ", ")), true)
	case open:
		add(aKindOtherUncond, v, fmt.Sprintf("%s can assume the role without any condition; any principal that account allows (including a third party's service acting for another customer, the confused deputy) can assume it; require sts:ExternalId or aws:PrincipalOrgID/aws:PrincipalArn", who), true)
	default:
		msg := fmt.Sprintf("%s can assume the role, limited by conditions on %s", who, strings.Join(st.ConditionKeys(), ", "))
		if !conditioned {
			msg = who + " is named, but a Deny statement stops it"
		} else if !aHasExternalID(st) {
			msg += "; none of them is sts:ExternalId, the usual defence against the confused deputy when a third party assumes the role"
		}
		add(aKindOtherAccount, v, msg, false)
	}
}

func (c *rCtx) rTrustFederated(st *Statement, i int, d *Document, v, role string, add func(kind, principal, msg string, open bool)) {
	is := rIssuerOf(v)
	action := rAssumeAction(st, true)
	if is == nil || action == "" {
		return // the account's own identity provider, or not a web identity grant
	}
	open, keys, h := c.rOpenFor(d, i, c.rWebHolders(is, v, st), action, role)
	if open {
		why := "with no condition"
		if len(keys) > 0 {
			why = "its conditions (on " + strings.Join(keys, ", ") + ") are met by it"
		}
		fix := "add a condition on " + is.host + ":sub that names your organisation and repository (StringLike \"" + is.subPrefix + "your-org/your-repo:*\")"
		switch {
		case is.cognito:
			fix = "require both " + is.host + ":aud (your identity pool id, with StringEquals) and " + is.host + ":amr (ForAnyValue:StringLike \"authenticated\"), as AWS requires for Cognito"
		case is.subPrefix == "":
			fix = "add a condition on " + is.host + ":aud that names your application's id"
		}
		add(aKindFederatedOpen, v, c.probe.show(fmt.Sprintf("tokens of %s, which anyone can obtain, may assume the role: %s can, %s; %s", is.host, h.what, why, fix)), true)
		return
	}
	if is.subPrefix == "" || is.ownerEnd != '/' {
		return
	}
	// Pinned to an owner: is it pinned to a repository too?
	host := strings.ToLower(is.host)
	for _, p := range rConditionValues(st, host+":sub") {
		o, ok := is.rOwner(p)
		if !ok || strings.ContainsAny(o, "*?") {
			continue
		}
		sub := strings.NewReplacer("OWNER", o, "REPO", c.probe.repo).Replace(is.generic[0])
		h := &rHolder{what: "any repository of " + o, arn: v, free: map[string]bool{host + ":aud": true}, own: host + ":",
			fixed: map[string][]string{host + ":sub": {sub}, "aws:principalarn": nil, "aws:principalaccount": nil, "aws:username": nil, "aws:userid": nil}}
		if ok, _ := c.rTrustAllows(d, i, h.finish(), action, role); ok {
			add(aKindFederatedOwner, v, fmt.Sprintf("tokens of %s for every repository or project of %s may assume the role (the sub condition names the owner but not one repository); anyone who can add a workflow to any of them gets the role", is.host, o), false)
			return
		}
	}
}

package review

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
)

// Across accounts: which principal of one reviewed account can assume
// which role of another, and where chains of such steps lead.
//
// An edge p → t is decided by policy.Evaluate on the concrete request —
// sts:AssumeRole on t's ARN by p (a user, or a session of a role) — with
// t's trust policy as the resource policy, p's identity policies and
// boundary, and then p's account's SCPs (scp.go; SCPs limit the caller,
// never the role's account). Across accounts AWS needs both the trust
// policy and p's own policies to allow, whatever the trust names (an
// account root or p itself); the evaluator applies that rule. An edge
// holds outright when the strict readings allow it, and is conditional
// when only the readings with conditions assumed met do (engine.go).
//
// Only the pairs a trust policy can let in are evaluated: roles are
// indexed by the accounts and principal ARNs their trust policies name
// (and "*"), and only principals whose policies name sts:AssumeRole at all
// are tried, against the roles that name their account, their ARN, or
// everyone. The cost is the pairs trust lets in, never accounts ×
// principals. Principals of accounts outside the review (and services)
// are not expanded.
//
// Chains are found by breadth-first search backwards from every
// admin-equivalent role an edge reaches, so each (start, target) pair is
// reported with its shortest chain — one that holds outright first, then,
// for starts that reach the target only conditionally, the shortest
// conditional one — at a cost of targets × edges. A chain ends at the
// first administrator on its way. The management
// account reaching the organisation's access role is the organisation's
// intended access (each account reports it once, IAM.TRUST.ORG_ACCESS_ROLE)
// and is neither an edge finding nor a step of a chain.

// Bounds of the cross-account part.
const (
	maxCrossEdgesListed = 500
	maxChains           = 2000
	maxReachersNamed    = 20
	// maxPairs bounds the assume requests evaluated: past it the review
	// stops looking for edges and says so (an organisation whose roles
	// trust everyone, conditioned, could otherwise ask every principal
	// about every such role).
	maxPairs = 200000
)

// xnode is a principal of a reviewed account.
type xnode struct {
	p *principal
	r *reviewCtx
}

// xedge is one cross-account assume.
type xedge struct {
	from, to  *principal
	cond      string
	orgAccess bool
	match     *policy.Statement // the trust statement that lets p in
}

type crossResult struct {
	findings   []Finding
	edges      []CrossEdge
	edgesTotal int
	notes      []string
}

// crossAccount finds the edges and chains across the reviewed accounts.
func crossAccount(rs []*reviewCtx, tree *orgTree, cfg *config) crossResult {
	var res crossResult
	em := &reviewCtx{cfg: cfg} // collects the findings through emit
	owner := map[*principal]*reviewCtx{}
	byAccount := map[string]*reviewCtx{}
	for _, r := range rs {
		byAccount[r.account] = r
		for _, list := range [][]*principal{r.m.users, r.m.roles} {
			for _, p := range list {
				owner[p] = r
			}
		}
	}
	mgmt := ""
	orgID := ""
	if tree != nil {
		mgmt, orgID = tree.org.ManagementAccountID, tree.org.ID
	}

	// Roles by what their trust policies name.
	namesAccount := map[string][]*principal{} // account id → roles trusting it (root or bare id)
	namesARN := map[string][]*principal{}     // principal ARN → roles trusting it
	var namesAnyone []*principal
	for _, r := range rs {
		named := r.trustNamed()
		for _, t := range r.m.roles { // in the account's order, so that the report is stable
			names := named[t]
			if names["*"] {
				namesAnyone = append(namesAnyone, t)
			}
			for _, v := range slices.Sorted(maps.Keys(names)) {
				acct, isRoot := trustedAccount(v)
				if v == "*" || acct == "" || acct == r.account || byAccount[acct] == nil {
					continue // same account (the account's own graph), or not reviewed
				}
				if isRoot {
					namesAccount[acct] = append(namesAccount[acct], t)
				} else {
					namesARN[v] = append(namesARN[v], t)
				}
			}
		}
	}

	// Evaluate the candidate pairs.
	u := universe()
	assumeIdx := u.lookup(assumeRoleAction)
	var edges []*xedge
	pairs := 0
	pre := &identityCheck{sets: map[*policySet]*assumeScope{}}
	for _, r := range rs {
		for _, list := range [][]*principal{r.m.users, r.m.roles} {
			for _, p := range list {
				if p.set == nil || !p.set.cand.has(assumeIdx) {
					continue // across accounts its own policies must allow
				}
				tried := map[*principal]bool{}
				for _, group := range [][]*principal{namesAccount[r.account], namesARN[p.arn], namesAnyone} {
					for _, t := range group {
						if tried[t] || owner[t] == r {
							continue
						}
						tried[t] = true
						if !pre.may(p, t) {
							continue // its own policies do not allow it: no edge
						}
						if pairs++; pairs == maxPairs {
							em.notes = append(em.notes, fmt.Sprintf("%d principal–role pairs evaluated across accounts: the search for edges stopped there, so edges and chains may be missing", maxPairs))
						}
						if pairs >= maxPairs {
							continue
						}
						e := assumeEdge(r, p, owner[t], t, orgID)
						if e == nil {
							continue
						}
						e.orgAccess = t.name == OrgAccessRoleName && r.account == mgmt
						edges = append(edges, e)
					}
				}
			}
		}
	}
	sort.SliceStable(edges, func(i, j int) bool {
		if edges[i].to.arn != edges[j].to.arn {
			return edges[i].to.arn < edges[j].to.arn
		}
		return edges[i].from.arn < edges[j].from.arn
	})
	res.edgesTotal = len(edges)
	res.edges = []CrossEdge{}
	for _, e := range edges {
		if len(res.edges) == maxCrossEdgesListed {
			break
		}
		res.edges = append(res.edges, CrossEdge{From: e.from.arn, To: e.to.arn, Conditional: e.cond, OrgAccess: e.orgAccess})
	}

	// One finding per role reachable from another account.
	into := map[*principal][]*xedge{}
	var targets []*principal
	for _, e := range edges {
		if e.orgAccess {
			continue
		}
		if into[e.to] == nil {
			targets = append(targets, e.to)
		}
		into[e.to] = append(into[e.to], e)
	}
	for _, t := range targets {
		if !cfg.wants(KindRole) {
			break
		}
		es := into[t]
		rt := owner[t]
		byAcct := map[string][]string{}
		var ev []Evidence
		for _, e := range es {
			a := owner[e.from].account
			name := string(e.from.kind) + " " + e.from.name
			if e.cond != "" {
				name += " (conditionally)"
			}
			byAcct[a] = append(byAcct[a], name)
		}
		var parts []string
		for _, a := range sortedKeys(byAcct) {
			parts = append(parts, fmt.Sprintf("from account %s: %s", a, capList(byAcct[a], maxReachersNamed)))
		}
		if st := es[0].match; st != nil {
			ev = append(ev, trustEvidence(t, st, "the trust policy lets in "+strings.Join(trustedNames(st), ", ")))
		}
		for _, e := range es {
			if len(ev) > maxReachersNamed {
				break
			}
			ev = append(ev, Evidence{Source: "authorization_details", Detail: fmt.Sprintf("%s may call sts:AssumeRole on %s (the policy engine allowed it with its policies, boundary and account SCPs)%s", e.from.arn, t.arn, condSuffix(e.cond))})
		}
		msg := fmt.Sprintf("role %s of account %s can be assumed %s", t.name, rt.account, strings.Join(parts, "; "))
		em.emit(RuleXAccountAssume, t.subject(), msg, ev, fixed(Remediation{Summary: "Check that each principal listed needs the role. Name the callers in the trust policy (their ARNs, or aws:PrincipalArn) rather than the whole account, and limit sts:AssumeRole in the callers' policies to the roles they need.", Steps: []Step{}}),
			func(f *Finding) { f.rank = len(es) })
	}

	// Chains to administrators.
	admin := map[*principal]string{}
	isAdmin := func(t *principal) string {
		if why, ok := admin[t]; ok {
			return why
		}
		why := ""
		r := owner[t]
		if t.set != nil {
			if ok, w, _ := r.e.setAdmin(t.set); ok {
				why = "admin-equivalent in account " + r.account + ": " + w
			} else if r.graph != nil && r.graph.strict[t] != nil {
				why = "can make itself an administrator of account " + r.account + " (its own finding there)"
			}
		}
		admin[t] = why
		return why
	}
	// Backwards from each administrator reached across accounts, one
	// breadth-first search per target over the reversed edges: the cost
	// is targets × edges, never starts × reachable nodes.
	var admins []*principal
	for _, t := range targets {
		if isAdmin(t) != "" {
			admins = append(admins, t)
		}
	}
	chains := 0
	for _, target := range admins {
		found := map[*principal]bool{}
		for _, strict := range []bool{true, false} {
			for _, chain := range reverseBFS(target, into, strict, func(p *principal) bool { return p != target && isAdmin(p) != "" }) {
				s := chain[0].from
				if found[s] || s == target || !cfg.wants(s.kind) || isAdmin(s) != "" {
					continue // an administrator gains nothing
				}
				found[s] = true
				chains++
				if chains > maxChains {
					continue
				}
				emitChain(em, s, chain, isAdmin(target), strict, owner)
			}
		}
	}
	if chains > maxChains {
		em.notes = append(em.notes, fmt.Sprintf("%d chains to administrators across accounts; the first %d are findings", chains, maxChains))
	}
	res.findings, res.notes = em.findings, em.notes
	return res
}

// reverseBFS returns, for every principal that can reach target over
// into's edges (only those that hold outright, when strict), the shortest
// chain from it to target. It does not search past a principal that stop
// says is an administrator itself: a chain through one is reported as
// ending there.
func reverseBFS(target *principal, into map[*principal][]*xedge, strict bool, stop func(*principal) bool) [][]*xedge {
	next := map[*principal]*xedge{target: nil}
	queue := []*principal{target}
	var chains [][]*xedge
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, e := range into[p] {
			if strict && e.cond != "" {
				continue
			}
			if _, seen := next[e.from]; seen {
				continue
			}
			next[e.from] = e
			var chain []*xedge
			for x := e; x != nil; x = next[x.to] {
				chain = append(chain, x)
			}
			chains = append(chains, chain)
			if !stop(e.from) {
				queue = append(queue, e.from)
			}
		}
	}
	return chains
}

// emitChain reports one chain from s to an administrator.
func emitChain(em *reviewCtx, s *principal, chain []*xedge, why string, strict bool, owner map[*principal]*reviewCtx) {
	var steps []PathStep
	var names []string
	names = append(names, fmt.Sprintf("%s %s (%s)", s.kind, s.name, owner[s].account))
	var conds []string
	for _, e := range chain {
		steps = append(steps, PathStep{From: e.from.arn, To: e.to.arn, Kind: edgeAssume, How: "sts:AssumeRole across accounts, allowed by the role's trust policy and the caller's policies and SCPs", Actions: []string{assumeRoleAction}, Condition: e.cond})
		names = append(names, fmt.Sprintf("role %s (%s)", e.to.name, owner[e.to].account))
		if e.cond != "" {
			conds = append(conds, e.cond)
		}
	}
	end := chain[len(chain)-1].to
	steps = append(steps, PathStep{From: end.arn, To: end.arn, Kind: "admin-equivalent", How: "role " + end.name + " is " + why})
	rule, status := RuleXAccountAdmin, StatusConfirmed
	msg := fmt.Sprintf("%s %s can become an administrator of account %s: %s", s.kind, s.name, owner[end].account, strings.Join(names, " → "))
	if !strict {
		rule, status = RuleXAccountAdminCond, StatusPotential
		msg = fmt.Sprintf("%s %s may become an administrator of account %s: %s; %s", s.kind, s.name, owner[end].account, strings.Join(names, " → "), strings.Join(conds, "; "))
	}
	var ev []Evidence
	for _, e := range chain {
		if e.match != nil {
			ev = append(ev, trustEvidence(e.to, e.match, e.from.arn+" is let in by this statement"))
		}
	}
	fix := Remediation{Summary: fmt.Sprintf("Cut the chain at its weakest step: remove %s's sts:AssumeRole on %s, or name only the callers that need it in that role's trust policy; or take the administrator rights from %s.", chain[0].from.name, chain[0].to.arn, end.name), Steps: []Step{}}
	em.emit(rule, s.subject(), msg, ev, fixed(fix), func(f *Finding) {
		f.Status, f.Path, f.rank = status, steps, 100-len(chain)
	})
}

// assumeEdge decides whether p (of account r) may assume t (of account
// rt), and how.
func assumeEdge(r *reviewCtx, p *principal, rt *reviewCtx, t *principal, orgID string) *xedge {
	d := roleTrust(rt, t)
	if d == nil {
		return nil
	}
	who, ctx := r.crossCaller(p, orgID)
	for _, rd := range []reading{rdStrict, rdCond} {
		ids, bnd := identitySources(p, nil, rd)
		in := policy.Input{Identity: ids, Boundaries: bnd, Resource: []policy.Source{{ID: "trust", Type: "resource", Doc: d.in(rd)}}}
		res := policy.Evaluate(in, policy.Request{Action: assumeRoleAction, Resource: t.arn, Principal: who, Context: ctx})
		if res.Decision != policy.Allowed {
			continue
		}
		if ok, _ := r.e.scp.allows(rd, assumeRoleAction, t.arn, ctx); !ok {
			continue
		}
		e := &xedge{from: p, to: t}
		if rd == rdCond {
			e.cond = "sts:AssumeRole on " + t.arn + " holds only under conditions"
		}
		for _, m := range res.Matched {
			if m.SourceID == "trust" && m.Effect == "Allow" && m.Index >= 0 && m.Index < len(d.doc.Statements) {
				e.match = &d.doc.Statements[m.Index]
				break
			}
		}
		return e
	}
	return nil
}

// identityCheck answers, before the full evaluation, whether p's own
// policies could allow sts:AssumeRole on a role at all: across accounts
// they must, and most principal–role pairs a trust policy names (every
// principal of an account, for a trust in its root) fail here. It reads,
// once per policy set, the Resource patterns of the Allow statements that
// name sts:AssumeRole (conditions ignored, a NotResource or a policy
// variable taken as any role), and matches the role's ARN against them:
// an over-approximation of what the evaluator allows, so no edge is lost,
// at the cost of a pattern match per pair instead of an evaluation.
type identityCheck struct {
	sets map[*policySet]*assumeScope
}

// assumeScope is where a policy set may call sts:AssumeRole.
type assumeScope struct {
	any      bool
	patterns []string
}

func (c *identityCheck) may(p *principal, t *principal) bool {
	sc := c.sets[p.set]
	if sc == nil {
		sc = &assumeScope{}
		for _, d := range p.set.identity {
			if d.doc == nil {
				continue
			}
			for _, st := range d.doc.Statements {
				if st.Effect != "Allow" || !namesAction(st.Action, st.NotAction, assumeRoleAction) {
					continue
				}
				if len(st.NotResource) > 0 {
					sc.any = true
				}
				for _, r := range st.Resource {
					if strings.Contains(r, "${") {
						sc.any = true
					}
					sc.patterns = append(sc.patterns, r)
				}
			}
		}
		c.sets[p.set] = sc
	}
	if sc.any {
		return true
	}
	for _, pat := range sc.patterns {
		if glob(pat, t.arn, false) {
			return true
		}
	}
	return false
}

// namesAction reports whether a statement's Action (or NotAction) covers
// action, as IAM matches actions: case-insensitively, with wildcards.
func namesAction(actions, notActions []string, action string) bool {
	if len(actions) > 0 {
		for _, a := range actions {
			if glob(a, action, true) {
				return true
			}
		}
		return false
	}
	if len(notActions) == 0 {
		return false
	}
	for _, a := range notActions {
		if glob(a, action, true) {
			return false
		}
	}
	return true
}

// glob matches s against a pattern of * (any run, ':' and '/' included)
// and ? (one character), as IAM matches actions and resources.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// crossCaller is how p's assume request names it to another account: its
// ARN (a role acts through a session of itself) and the context keys
// trust conditions read.
func (r *reviewCtx) crossCaller(p *principal, orgID string) (string, map[string][]string) {
	ctx := map[string][]string{"aws:PrincipalArn": {p.arn}, "aws:PrincipalAccount": {r.account}}
	if orgID != "" {
		ctx["aws:PrincipalOrgID"] = []string{orgID}
	}
	if p.kind == KindUser {
		ctx["aws:username"] = []string{p.name}
		ctx["aws:PrincipalType"] = []string{"User"}
		return p.arn, ctx
	}
	ctx["aws:PrincipalType"] = []string{"AssumedRole"}
	return "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + p.name + "/access-review", ctx
}

// trustOf is a role's parsed trust policy, nil when absent or unreadable.
func roleTrust(r *reviewCtx, t *principal) *docInfo {
	if t.role == nil || len(t.role.AssumeRolePolicyDocument) == 0 {
		return nil
	}
	d := r.e.doc(string(t.role.AssumeRolePolicyDocument))
	if d.doc == nil {
		return nil
	}
	return d
}

// trustedAccount reads the account a trust policy's AWS principal names:
// a bare 12-digit id or an account root ARN (isRoot), or the account of a
// principal ARN.
func trustedAccount(v string) (acct string, isRoot bool) {
	if len(v) == 12 && strings.Trim(v, "0123456789") == "" {
		return v, true
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" && parts[2] != "sts" {
		return "", false
	}
	return parts[4], parts[5] == "root"
}

// trustedNames lists what a trust statement's Principal names.
func trustedNames(st *policy.Statement) []string {
	if st.Principal == nil {
		return []string{"everyone (NotPrincipal)"}
	}
	if st.Principal.Wildcard {
		return []string{"*"}
	}
	var out []string
	for _, k := range sortedKeys(st.Principal.Values) {
		out = append(out, st.Principal.Values[k]...)
	}
	return out
}

func condSuffix(c string) string {
	if c == "" {
		return ""
	}
	return "; " + c
}

package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
)

// The principal graph: privilege escalation decided by target, not by
// method. A node is a user, role or group of the account; an edge says
// that a principal can become, or act as, another:
//
//   - assume: its policies allow sts:AssumeRole on the role, and the role's
//     trust policy allows it (the engine decides both together, as AWS
//     does for a trust policy in the same account);
//   - pass-role: it may pass the role (iam:PassRole on the role's ARN, with
//     iam:PassedToService) to a service the role trusts, and may create what
//     runs with it there (a function and its invocation, a stack, a build,
//     an instance of an instance profile);
//   - existing-resource: it may take over what already runs with the role
//     (a function's code, an endpoint, a notebook, a shell on an instance):
//     IAM's data does not show whether such a resource exists, so the edge
//     is conditional;
//   - rewrite-trust: it may rewrite the role's trust policy and assume it;
//   - credentials: it may create an access key or a console password for
//     the user;
//   - join-group: it may add itself to the group.
//
// and a principal that may rewrite its own permissions (an inline policy,
// an attachment, a new default version of a policy it holds, removing the
// boundary that limits it) has an edge to "administrator" directly.
//
// Every edge is decided by policy.Evaluate on the concrete request (the
// action on the target's ARN, the caller's own ARN and name for policy
// variables), so wildcard ARNs, ${aws:username}, NotResource and Deny
// statements count as AWS counts them. An edge holds (strict) when the
// unconditioned statements allow it and no Deny, conditions ignored, stops
// it; it is conditional when it holds only with conditions assumed met.
//
// Paths are found backwards from the privileged nodes (admin-equivalent
// users, roles and groups, and principals that can rewrite their own
// permissions), one level at a time: only principals whose policies name a
// graph action at all are sources, and each is tried only against the
// nodes the previous level added. That keeps the cost at sources ×
// privileged nodes, not principals², in an account of 10,000.

// Edge kinds, as the report names them.
const (
	edgeAssume   = "assume"
	edgePass     = "pass-role"
	edgeExisting = "existing-resource"
	edgeTrust    = "rewrite-trust"
	edgeCreds    = "credentials"
	edgeJoin     = "join-group"
	edgeSelf     = "rewrite-own-permissions"
	edgeControl  = "rewrite-permissions"
)

const adminPolicyARNSuffix = ":iam::aws:policy/AdministratorAccess"

// cut is one action on one resource whose denial removes an edge.
type cut struct{ action, resource string }

// edge is one way a principal can act as another.
type edge struct {
	kind     string
	from, to *principal // to is nil for edgeSelf
	method   string     // the EscalationMethods id it realises, when one does
	how      string
	actions  []string
	cuts     []cut
	cond     string         // why it holds only under conditions; "" when it holds outright
	matches  []policy.Match // the identity statements that allow it (source ids are docInfo ids)
}

// hop is how a privileged node reaches administrator: its first edge and
// the node after it (nil when the edge or the node itself is the end).
type hop struct {
	e     *edge
	next  *principal
	admin string // for an admin-equivalent node: why it is
}

// graph is the account's principal graph, built once per review.
type graph struct {
	r       *reviewCtx
	sources []*principal // users and roles whose policies name a graph action, or whom a trust policy names
	// acting: the sources whose policies name a graph action; the others
	// can only assume a role whose trust policy names them (or everyone),
	// so they are tried against those roles alone.
	acting map[*principal]bool
	// admits: per role, the principal ARNs its trust policy names, "*"
	// for everyone.
	admits map[*principal]map[string]bool
	strict map[*principal]*hop
	full   map[*principal]*hop
	trusts map[trustKey]bool
	mays   map[mayKey]mayResult
}

type trustKey struct {
	doc     int
	service string
	rd      reading
}

// reading selects a document reading for evaluation.
type reading int

const (
	rdStrict reading = iota
	rdCond
	rdWidened
	rdRelaxed
	rdOriginal
)

func (d *docInfo) in(rd reading) *policy.Document {
	switch rd {
	case rdCond:
		return d.cond
	case rdWidened:
		return d.widened
	case rdRelaxed:
		return d.relaxed
	case rdOriginal:
		return d.doc
	}
	return d.strict
}

// graphActions are the actions an edge needs besides the methods' own.
var graphActions = []string{
	"sts:AssumeRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey", "iam:CreateLoginProfile",
	"iam:UpdateLoginProfile", "iam:AddUserToGroup", "iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:PutRolePolicy",
	"iam:AttachRolePolicy", "iam:PutGroupPolicy", "iam:AttachGroupPolicy", "iam:CreatePolicyVersion",
	"iam:SetDefaultPolicyVersion", "iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
	"iam:PutUserPermissionsBoundary", "iam:PutRolePermissionsBoundary",
}

// buildGraph finds every principal's shortest path to administrator, in
// the strict reading and allowing conditional edges.
func (r *reviewCtx) buildGraph() *graph {
	g := &graph{r: r, trusts: map[trustKey]bool{}, mays: map[mayKey]mayResult{}}
	u := r.e.u
	var idx []int
	for _, a := range graphActions {
		idx = append(idx, u.lookup(a))
	}
	for _, m := range u.methods {
		idx = append(idx, m...)
	}
	g.admits = r.trustNamed()
	named := map[string]bool{}
	for _, arns := range g.admits {
		for a := range arns {
			named[a] = true
		}
	}
	g.acting = map[*principal]bool{}
	for _, list := range [][]*principal{r.m.users, r.m.roles} {
		for _, p := range list {
			if p.set == nil {
				continue
			}
			for _, i := range idx {
				if p.set.cand.has(i) {
					g.acting[p] = true
					break
				}
			}
			if g.acting[p] || named["*"] || named[p.arn] {
				// A trust policy naming it (or everyone) lets it assume a
				// role with no permission of its own.
				g.sources = append(g.sources, p)
			}
		}
	}
	g.strict = g.search(false)
	g.full = g.search(true)
	return g
}

// trustNamed lists, per role, the principal ARNs its trust policy's Allow
// statements name, "*" for everyone (a wildcard or NotPrincipal).
func (r *reviewCtx) trustNamed() map[*principal]map[string]bool {
	out := map[*principal]map[string]bool{}
	for _, t := range r.m.roles {
		d := roleTrust(r, t)
		if d == nil {
			continue
		}
		names := map[string]bool{}
		for _, st := range d.doc.Statements {
			if st.Effect != "Allow" {
				continue
			}
			if st.NotPrincipal != nil || (st.Principal != nil && st.Principal.Wildcard) {
				names["*"] = true
				continue
			}
			if st.Principal == nil {
				continue
			}
			for _, v := range st.Principal.Values["AWS"] {
				names[v] = true
			}
		}
		if len(names) > 0 {
			out[t] = names
		}
	}
	return out
}

// tries reports whether the search asks for p's edge to t at all: a
// source whose policies name no graph action can only assume a role that
// names it (or everyone).
func (g *graph) tries(p, t *principal) bool {
	if g.acting[p] {
		return true
	}
	names := g.admits[t]
	return names != nil && (names["*"] || names[p.arn])
}

// search runs the backward search; conditional allows conditional edges.
func (g *graph) search(conditional bool) map[*principal]*hop {
	priv := map[*principal]*hop{}
	var frontier []*principal
	for _, list := range [][]*principal{g.r.m.users, g.r.m.roles} {
		for _, p := range list {
			if p.set == nil {
				continue
			}
			if ok, why, _ := g.r.e.setAdmin(p.set); ok {
				priv[p] = &hop{admin: why}
				frontier = append(frontier, p)
			}
		}
	}
	for _, grp := range g.r.m.groups {
		if ok, why := g.groupAdmin(grp); ok {
			priv[grp] = &hop{admin: why}
			frontier = append(frontier, grp)
		}
	}
	for _, p := range g.sources {
		if priv[p] != nil {
			continue
		}
		if !g.acting[p] {
			continue
		}
		if e := g.selfEdge(p, nil, conditional); e != nil {
			priv[p] = &hop{e: e}
			frontier = append(frontier, p)
		} else if es := g.controlEdges(p, nil, conditional, true); len(es) > 0 {
			priv[p] = &hop{e: es[0]}
			frontier = append(frontier, p)
		}
	}
	for len(frontier) > 0 {
		var next []*principal
		for _, p := range g.sources {
			if priv[p] != nil {
				continue
			}
			for _, t := range frontier {
				if !g.tries(p, t) {
					continue
				}
				if e := g.edgeTo(p, t, nil, conditional); e != nil {
					priv[p] = &hop{e: e, next: t}
					next = append(next, p)
					break
				}
			}
		}
		frontier = next
	}
	return priv
}

// groupAdmin reports whether a group's own policies make a member with no
// other policy and no boundary admin-equivalent.
func (g *graph) groupAdmin(grp *principal) (bool, string) {
	var docs []*docInfo
	for _, ref := range grp.own {
		if ref.doc != nil {
			docs = append(docs, ref.doc)
		}
	}
	if len(docs) == 0 {
		return false, ""
	}
	ok, why, _ := g.r.e.setAdmin(g.r.e.set(docs, nil))
	return ok, why
}

// caller is how a principal's own requests name it: its ARN (a role acts
// through a session of itself) and the context keys policy variables read.
func (g *graph) caller(p *principal) (string, map[string][]string) {
	ctx := map[string][]string{"aws:PrincipalArn": {p.arn}, "aws:PrincipalAccount": {g.r.account}}
	if p.kind == KindUser {
		ctx["aws:username"] = []string{p.name}
		ctx["aws:PrincipalType"] = []string{"User"}
		return p.arn, ctx
	}
	ctx["aws:PrincipalType"] = []string{"AssumedRole"}
	return "arn:" + g.r.partition + ":sts::" + g.r.account + ":assumed-role/" + p.name + "/access-review", ctx
}

// identity is a principal's identity documents in a reading, with extra
// documents (a plan's Deny) added.
func identitySources(p *principal, extra []*docInfo, rd reading) (ids, bnd []policy.Source) {
	for _, d := range append(append([]*docInfo(nil), p.set.identity...), extra...) {
		if doc := d.in(rd); doc != nil {
			ids = append(ids, policy.Source{ID: strconv.Itoa(d.id), Type: "user-managed", Doc: doc})
		}
	}
	if b := p.set.boundary; b != nil && b.in(rd) != nil {
		bnd = []policy.Source{{ID: boundaryPrefix + strconv.Itoa(b.id), Type: "user-managed", Doc: b.in(rd)}}
	}
	return ids, bnd
}

// may evaluates one request of p: in the strict reading first, then (when
// conditional) in the cond reading. It returns whether it is allowed, why
// only conditionally, and the identity Allow statements that matched.
func (g *graph) may(p *principal, extra []*docInfo, conditional bool, action, resource string, trust *docInfo, ctx map[string][]string) (bool, string, []policy.Match) {
	// An action none of p's policies names is allowed by none of them:
	// only a trust policy naming p can grant without them.
	if i := g.r.e.u.lookup(action); i >= 0 && trust == nil && !p.set.cand.has(i) {
		return false, "", nil
	}
	var k mayKey
	if extra == nil {
		k = mayKey{p: p, conditional: conditional, action: action, resource: resource, trust: -1}
		if trust != nil {
			k.trust = trust.id
		}
		// The context's keys with their values, in a fixed order, so
		// that two contexts share an entry only when they are the same.
		for _, key := range sortedKeys(ctx) {
			k.ctx += key + "=" + strings.Join(ctx[key], ",") + ";"
		}
		if r, ok := g.mays[k]; ok {
			return r.ok, r.why, r.ms
		}
	}
	ok, why, ms := g.evaluate(p, extra, conditional, action, resource, trust, ctx)
	if extra == nil {
		g.mays[k] = mayResult{ok, why, ms}
	}
	return ok, why, ms
}

// mayKey and mayResult cache may's answers without extra documents: the
// two searches and the plans ask the same requests.
type mayKey struct {
	p                     *principal
	conditional           bool
	action, resource, ctx string
	trust                 int
}

type mayResult struct {
	ok  bool
	why string
	ms  []policy.Match
}

func (g *graph) evaluate(p *principal, extra []*docInfo, conditional bool, action, resource string, trust *docInfo, ctx map[string][]string) (bool, string, []policy.Match) {
	for _, rd := range []reading{rdStrict, rdCond} {
		if rd == rdCond && !conditional {
			break
		}
		ids, bnd := identitySources(p, extra, rd)
		in := policy.Input{Identity: ids, Boundaries: bnd}
		if trust != nil && trust.doc != nil {
			in.Resource = []policy.Source{{ID: "trust", Type: "resource", Doc: trust.in(rd)}}
		}
		who, c := g.caller(p)
		for k, v := range ctx {
			c[k] = v
		}
		res := policy.Evaluate(in, policy.Request{Action: action, Resource: resource, Principal: who, Context: c})
		// The account's SCPs (scp.go) must let the request through too.
		if g.passes(res, rd, action, resource, c) {
			why := ""
			if rd == rdCond {
				why = action + " on " + resource + " holds only under conditions"
			}
			return true, why, identityAllows(res.Matched)
		}
	}
	return false, "", nil
}

// passes reports whether an evaluation allowed the request and the
// account's SCPs (scp.go) let it through in the same reading.
func (g *graph) passes(res policy.Result, rd reading, action, resource string, ctx map[string][]string) bool {
	if res.Decision != policy.Allowed {
		return false
	}
	ok, _ := g.r.e.scp.allows(rd, action, resource, ctx)
	return ok
}

// launch reports whether p may create what runs a passed role (or use
// what already runs with one): every action allowed on some resource it
// names, strictly (widened reading) or, when conditional, in the relaxed
// reading.
func (g *graph) launch(p *principal, extra []*docInfo, conditional bool, actions []string) (bool, string, []policy.Match) {
	var all []policy.Match
	why := ""
	for _, a := range actions {
		ok := false
		for _, rd := range []reading{rdWidened, rdRelaxed} {
			if rd == rdRelaxed && !conditional {
				break
			}
			ids, bnd := identitySources(p, extra, rd)
			res := policy.Evaluate(policy.Input{Identity: ids, Boundaries: bnd}, policy.Request{Action: a, Resource: "*"})
			if g.passes(res, rd, a, "*", nil) {
				ok = true
				all = append(all, identityAllows(res.Matched)...)
				if rd == rdRelaxed && why == "" {
					why = a + " holds only under conditions"
				}
				break
			}
		}
		if !ok {
			return false, "", nil
		}
	}
	return true, why, all
}

// trusts reports whether a role's trust policy lets a service assume it
// for a resource of the role's own account.
func (g *graph) trustsService(t *principal, service string, conditional bool) bool {
	if t.role == nil || len(t.role.AssumeRolePolicyDocument) == 0 {
		return false
	}
	d := g.r.e.doc(string(t.role.AssumeRolePolicyDocument))
	if d.doc == nil {
		return false
	}
	// The service acts for a resource this principal creates in its own
	// account, so the request's context is known: the document is asked
	// as written (rdOriginal), conditions and all; when conditional, with
	// its conditions removed too.
	rds := []reading{rdOriginal}
	if conditional {
		rds = append(rds, rdCond)
	}
	for _, rd := range rds {
		k := trustKey{d.id, service, rd}
		ok, seen := g.trusts[k]
		if !seen {
			prefix, _, _ := strings.Cut(service, ".")
			res := policy.Evaluate(policy.Input{Resource: []policy.Source{{ID: "trust", Type: "resource", Doc: d.in(rd)}}},
				policy.Request{Action: "sts:AssumeRole", Resource: t.arn, Principal: service, Context: map[string][]string{
					"aws:SourceAccount": {g.r.account},
					"aws:SourceArn":     {"arn:" + g.r.partition + ":" + prefix + ":us-east-1:" + g.r.account + ":access-review"},
				}})
			ok = res.Decision == policy.Allowed
			g.trusts[k] = ok
		}
		if ok {
			return true
		}
	}
	return false
}

// trustDoc is a role's trust policy.
func (g *graph) trustDoc(t *principal) *docInfo {
	if t.role == nil || len(t.role.AssumeRolePolicyDocument) == 0 {
		return nil
	}
	return g.r.e.doc(string(t.role.AssumeRolePolicyDocument))
}

// edgeTo finds p's edge to t, preferring one that holds outright; extra
// documents (a plan's Deny) are added to p's.
func (g *graph) edgeTo(p, t *principal, extra []*docInfo, conditional bool) *edge {
	if p == t {
		return nil
	}
	var best *edge
	offer := func(e *edge) {
		if best == nil || (best.cond != "" && e.cond == "") {
			best = e
		}
	}
	switch t.kind {
	case KindRole:
		if trust := g.trustDoc(t); trust == nil || trust.doc == nil {
			// No readable trust policy: nobody can assume it or be
			// passed it as far as the review can tell.
			return nil
		} else if ok, why, ms := g.may(p, extra, conditional, "sts:AssumeRole", t.arn, trust, nil); ok {
			offer(&edge{kind: edgeAssume, from: p, to: t, how: "assumes role " + t.name + ", which its trust policy admits",
				actions: []string{"sts:AssumeRole"}, cuts: []cut{{"sts:AssumeRole", t.arn}}, cond: why, matches: ms})
		}
		if best == nil || best.cond != "" {
			ok1, why1, ms1 := g.may(p, extra, conditional, "iam:UpdateAssumeRolePolicy", t.arn, nil, nil)
			if ok1 {
				if ok2, why2, ms2 := g.may(p, extra, conditional, "sts:AssumeRole", t.arn, nil, nil); ok2 {
					offer(&edge{kind: edgeTrust, from: p, to: t, method: "UpdateAssumeRolePolicy", how: "rewrites the trust policy of role " + t.name + " to trust itself, then assumes it",
						actions: []string{"iam:UpdateAssumeRolePolicy", "sts:AssumeRole"}, cuts: []cut{{"iam:UpdateAssumeRolePolicy", t.arn}},
						cond: firstOf(why1, why2), matches: append(ms1, ms2...)})
				}
			}
		}
		for i := range EscalationMethods {
			if best != nil && best.cond == "" {
				break
			}
			m := &EscalationMethods[i]
			if m.Service == "" || (m.Profile && len(t.role.InstanceProfiles) == 0) || !g.trustsService(t, m.Service, conditional) {
				continue
			}
			if m.Existing {
				if !conditional {
					continue
				}
				if ok, _, ms := g.launch(p, extra, conditional, m.Actions); ok {
					// No cut: the resource is not known, and denying the
					// action everywhere would stop the workflow.
					offer(&edge{kind: edgeExisting, from: p, to: t, method: m.ID, how: m.How + " (role " + t.name + ", which " + m.Service + " may assume)",
						actions: m.Actions,
						cond:    "needs a resource already running with role " + t.name + ", which IAM's data does not show", matches: ms})
				}
				continue
			}
			var launchActs []string
			for _, a := range m.Actions {
				if a != passRoleAction {
					launchActs = append(launchActs, a)
				}
			}
			ok1, why1, ms1 := g.may(p, extra, conditional, passRoleAction, t.arn, nil, map[string][]string{"iam:PassedToService": {m.Service}})
			if !ok1 {
				continue
			}
			if ok2, why2, ms2 := g.launch(p, extra, conditional, launchActs); ok2 {
				offer(&edge{kind: edgePass, from: p, to: t, method: m.ID, how: "passes role " + t.name + " to " + m.Service + " and " + strings.TrimPrefix(m.How, "creates ") + " (" + strings.Join(launchActs, ", ") + ")",
					actions: m.Actions, cuts: []cut{{passRoleAction, t.arn}}, cond: firstOf(why1, why2), matches: append(ms1, ms2...)})
			}
		}
	case KindUser:
		var acts []string
		var ms []policy.Match
		c := condition{}
		for _, a := range []string{"iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"} {
			if ok, w, m := g.may(p, extra, conditional, a, t.arn, nil, nil); ok {
				acts, ms = append(acts, a), append(ms, m...)
				c.add(w)
			}
		}
		why := c.why()
		if len(acts) > 0 {
			offer(&edge{kind: edgeCreds, from: p, to: t, method: strings.TrimPrefix(acts[0], "iam:"), how: "mints credentials of user " + t.name + " (" + strings.Join(acts, ", ") + ")",
				actions: acts, cuts: actionCuts(acts, t.arn), cond: why, matches: ms})
		}
	case KindGroup:
		if p.kind != KindUser || containsPrincipal(p.groups, t) {
			return nil
		}
		ok, why, ms := g.may(p, extra, conditional, "iam:AddUserToGroup", t.arn, nil, nil)
		if !ok {
			return nil
		}
		// The user's own boundary still limits what the group grants.
		docs := append([]*docInfo(nil), p.set.identity...)
		for _, ref := range t.own {
			if ref.doc != nil {
				docs = append(docs, ref.doc)
			}
		}
		if admin, _, _ := g.r.e.setAdmin(g.r.e.set(docs, p.set.boundary)); !admin {
			return nil
		}
		offer(&edge{kind: edgeJoin, from: p, to: t, method: "AddUserToGroup", how: "adds itself to group " + t.name,
			actions: []string{"iam:AddUserToGroup"}, cuts: []cut{{"iam:AddUserToGroup", t.arn}}, cond: why, matches: ms})
	}
	return best
}

// selfEdge finds the ways p can rewrite its own permissions into an
// administrator's: every such way, so that a plan denies them all.
func (g *graph) selfEdge(p *principal, extra []*docInfo, conditional bool) *edge {
	e := &edge{kind: edgeSelf, from: p}
	var methods []string
	c := condition{}
	allow := func(method, action, resource string, ctx map[string][]string) bool {
		ok, why, ms := g.may(p, extra, conditional, action, resource, nil, ctx)
		if !ok {
			return false
		}
		e.actions = appendNew(e.actions, action)
		e.cuts = append(e.cuts, cut{action, resource})
		e.matches = append(e.matches, ms...)
		c.add(why)
		methods = appendNew(methods, method)
		return true
	}
	if !g.selfPaths(p, allow) {
		return nil
	}
	e.cond = c.why()
	e.method = methods[0]
	e.how = "rewrites its own permissions (" + strings.Join(e.actions, ", ") + " on itself, its groups or its policies)"
	return e
}

// condition tracks whether any of several allows holds outright.
type condition struct {
	strict bool
	first  string
}

func (c *condition) add(why string) {
	if why == "" {
		c.strict = true
	} else if c.first == "" {
		c.first = why
	}
}

func (c *condition) why() string {
	if c.strict {
		return ""
	}
	return c.first
}

// selfPaths tries every way p can make itself an administrator through
// its own permissions, recording each allowed one with allow.
func (g *graph) selfPaths(p *principal, allow func(method, action, resource string, ctx map[string][]string) bool) bool {
	delB, putB := "iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary"
	if p.kind == KindRole {
		delB, putB = "iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"
	}
	// A grant written on itself counts only where its boundary allows,
	// unless it may also remove or replace the boundary.
	if b := p.set.boundary; b != nil {
		if ok, _ := g.r.e.isAdmin(b); !ok {
			removed := allow(strings.TrimPrefix(delB, "iam:"), delB, p.arn, nil)
			replaced := allow(strings.TrimPrefix(putB, "iam:"), putB, p.arn, map[string][]string{"iam:PermissionsBoundary": {"arn:" + g.r.partition + adminPolicyARNSuffix}})
			if !removed && !replaced {
				return false
			}
			// Without the boundary its own policies may already be an
			// administrator's; if not, writing the grant is the rest.
			if ok, _, _ := g.r.e.setAdmin(g.r.e.set(p.set.identity, nil)); ok {
				g.writes(p, allow)
				return true
			}
		}
	}
	return g.writes(p, allow)
}

// writes tries every write that changes t's own grants (an inline
// policy, an attachment, its groups', a new or older default version of a
// customer managed policy it holds); it reports whether any is allowed
// (allow records each that is).
func (g *graph) writes(t *principal, allow func(method, action, resource string, ctx map[string][]string) bool) bool {
	policyCtx := map[string][]string{"iam:PolicyARN": {"arn:" + g.r.partition + adminPolicyARNSuffix}}
	put, attach := "iam:PutUserPolicy", "iam:AttachUserPolicy"
	if t.kind == KindRole {
		put, attach = "iam:PutRolePolicy", "iam:AttachRolePolicy"
	}
	found := false
	found = allow(strings.TrimPrefix(put, "iam:"), put, t.arn, nil) || found
	found = allow(strings.TrimPrefix(attach, "iam:"), attach, t.arn, policyCtx) || found
	for _, grp := range t.groups {
		found = allow("PutGroupPolicy", "iam:PutGroupPolicy", grp.arn, nil) || found
		found = allow("AttachGroupPolicy", "iam:AttachGroupPolicy", grp.arn, policyCtx) || found
	}
	seen := map[string]bool{}
	for _, ref := range t.effective() {
		if ref.arn == "" || ref.typ == ptAWS || seen[ref.arn] {
			continue
		}
		seen[ref.arn] = true
		found = allow("CreatePolicyVersion", "iam:CreatePolicyVersion", ref.arn, nil) || found
		if mp := g.r.m.policyByARN[ref.arn]; mp != nil && g.olderAdminVersion(mp) {
			found = allow("SetDefaultPolicyVersion", "iam:SetDefaultPolicyVersion", ref.arn, nil) || found
		}
	}
	return found
}

// controlEdges finds the principals p can turn into administrators by
// rewriting their permissions and then act as (a role it may pass or
// assume, a user whose key it may create): each is a path as short as
// rewriting its own. Only principals whose policies name a write of
// permissions are asked, against every user and role with no boundary in
// the way; first stops at the first one found (the search needs one, a
// plan all).
func (g *graph) controlEdges(p *principal, extra []*docInfo, conditional, first bool) []*edge {
	if !g.writesAny(p) {
		return nil
	}
	var out []*edge
	for _, list := range [][]*principal{g.r.m.users, g.r.m.roles} {
		for _, t := range list {
			if t == p || t.set == nil {
				continue
			}
			if b := t.set.boundary; b != nil {
				if ok, _ := g.r.e.isAdmin(b); !ok {
					continue
				}
			}
			e := &edge{kind: edgeControl, from: p, to: t}
			c := condition{}
			allow := func(_, action, resource string, ctx map[string][]string) bool {
				ok, why, ms := g.may(p, extra, conditional, action, resource, nil, ctx)
				if ok {
					e.actions = appendNew(e.actions, action)
					e.cuts = append(e.cuts, cut{action, resource})
					e.matches = append(e.matches, ms...)
					c.add(why)
				}
				return ok
			}
			if !g.writes(t, allow) {
				continue
			}
			reach := g.edgeTo(p, t, extra, conditional)
			if reach == nil {
				continue
			}
			e.cond = firstOf(c.why(), reach.cond)
			e.method = strings.TrimPrefix(e.actions[0], "iam:")
			e.how = "rewrites the permissions of " + string(t.kind) + " " + t.name + " (" + strings.Join(e.actions, ", ") + ") and " + reach.how
			e.matches = append(e.matches, reach.matches...)
			out = append(out, e)
			if first {
				return out
			}
		}
	}
	return out
}

// writesAny reports whether p's policies name any write of permissions.
func (g *graph) writesAny(p *principal) bool {
	for _, a := range []string{"iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy",
		"iam:PutGroupPolicy", "iam:AttachGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"} {
		if p.set.cand.has(g.r.e.u.lookup(a)) {
			return true
		}
	}
	return false
}

// olderAdminVersion reports whether a managed policy keeps a non-default
// version that is admin-equivalent (set_default_policy_version brings it
// back).
func (g *graph) olderAdminVersion(mp *managed) bool {
	for _, v := range mp.detail.Versions {
		if v.IsDefaultVersion || len(v.Document) == 0 {
			continue
		}
		if ok, _ := g.r.e.isAdmin(g.r.e.doc(string(v.Document))); ok {
			return true
		}
	}
	return false
}

// path is p's shortest path to administrator: the edges in order and the
// admin-equivalent node it ends at (nil when it ends by rewriting its own
// permissions).
func (g *graph) path(p *principal, priv map[*principal]*hop) ([]*edge, *principal) {
	var out []*edge
	seen := map[*principal]bool{}
	for n := p; n != nil && !seen[n]; {
		seen[n] = true
		h := priv[n]
		if h == nil || h.e == nil {
			return out, n
		}
		out = append(out, h.e)
		n = h.next
	}
	return out, nil
}

// outEdges lists every edge of p into the privileged nodes (and its self
// edge): what a plan must cut for p to reach administrator no more.
func (g *graph) outEdges(p *principal, extra []*docInfo) []*edge {
	var out []*edge
	if e := g.selfEdge(p, extra, true); e != nil {
		out = append(out, e)
	}
	out = append(out, g.controlEdges(p, extra, true, false)...)
	targets := make([]*principal, 0, len(g.full))
	for t := range g.full {
		if t != p {
			targets = append(targets, t)
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].arn < targets[j].arn })
	for _, t := range targets {
		if e := g.edgeTo(p, t, extra, true); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// describe renders a path for a message: "role a → role b → administrator".
func describePath(p *principal, edges []*edge, end *principal) string {
	var b strings.Builder
	b.WriteString(string(p.kind) + " " + p.name)
	for _, e := range edges {
		if e.to != nil {
			fmt.Fprintf(&b, " → %s %s", e.to.kind, e.to.name)
		}
	}
	switch {
	case len(edges) > 0 && edges[len(edges)-1].kind == edgeControl:
		b.WriteString(" → administrator (its permissions rewritten)")
	case end == nil || len(edges) > 0 && edges[len(edges)-1].kind == edgeSelf:
		b.WriteString(" → administrator (own permissions rewritten)")
	default:
		b.WriteString(" (admin-equivalent)")
	}
	return b.String()
}

func actionCuts(actions []string, resource string) []cut {
	out := make([]cut, 0, len(actions))
	for _, a := range actions {
		out = append(out, cut{a, resource})
	}
	return out
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func appendNew(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}

func containsPrincipal(list []*principal, p *principal) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

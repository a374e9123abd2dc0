package review

import (
	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Service control policies in the review's decisions. An account of an
// organisation is limited by the SCPs attached at each level of its place
// in the tree — the root, each OU down to it, and the account itself — and
// AWS requires an Allow at every level while any Deny, at any level, denies
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html).
// policy.Evaluate takes SCPs as one flat set, so each level is evaluated as
// a layer of its own: the request passes the SCPs when, for every level,
// the level's policies alone allow it and none denies it; the principal's
// own policies are then evaluated as without SCPs and both must allow.
// That is exactly Evaluate with every level as its SCP layer, one level at
// a time, since the SCP layer only ever takes a grant away.
//
// Which reading of an SCP is used follows the decision it is part of (see
// engine.go): a confirmed decision drops conditional Allows and keeps
// every Deny with its conditions removed; a conditional one keeps every
// Allow without conditions and only unconditioned Denies.

// scpLevel is the SCPs attached at one level of an account's path.
type scpLevel struct {
	target string // the root's, OU's or account's name and id, for messages
	docs   []*docInfo
	names  []string // the policies' names, by docs' positions
}

// scpGate answers whether the SCPs of one account let a request through.
// nil (the management account, an account outside any organisation, or
// SCPs unknown) lets everything through, as AWS does for the management
// account.
type scpGate struct {
	levels []scpLevel
	// conditioned: some SCP has conditions or policy variables, so answers
	// depend on the request's context and are not cached.
	conditioned bool
	cache       map[scpKey]scpAnswer
}

type scpKey struct {
	rd               reading
	action, resource string
}

type scpAnswer struct {
	ok bool
	by string
}

// newSCPGate builds an account's gate from its levels, parsing each
// document once through the engine's cache.
func newSCPGate(levels []scpLevel) *scpGate {
	g := &scpGate{levels: levels, cache: map[scpKey]scpAnswer{}}
	for _, l := range levels {
		for _, d := range l.docs {
			g.conditioned = g.conditioned || d.hasVars
			if d.doc != nil {
				for _, st := range d.doc.Statements {
					g.conditioned = g.conditioned || len(st.Condition) > 0
				}
			}
		}
	}
	return g
}

// allows reports whether every level lets the request through in the
// reading rd, and when not, which SCP (or which level's lack of an Allow)
// stops it.
func (g *scpGate) allows(rd reading, action, resource string, ctx map[string][]string) (bool, string) {
	if g == nil || len(g.levels) == 0 {
		return true, ""
	}
	k := scpKey{rd, action, resource}
	if !g.conditioned {
		if a, ok := g.cache[k]; ok {
			return a.ok, a.by
		}
	}
	ok, by := true, ""
	for _, l := range g.levels {
		var srcs []policy.Source
		for i, d := range l.docs {
			if doc := d.in(rd); doc != nil {
				srcs = append(srcs, policy.Source{ID: l.names[i], Type: "scp", Doc: doc})
			}
		}
		// The level's policies are asked as identity policies would be:
		// an Allow of one of them and no Deny. No principal is named, so
		// the request counts as within the account, which is where an
		// SCP applies.
		res := policy.Evaluate(policy.Input{Identity: srcs}, policy.Request{Action: action, Resource: resource, Context: ctx})
		if res.Decision == policy.Allowed {
			continue
		}
		ok = false
		by = "no service control policy attached to " + l.target + " allows it"
		for _, m := range res.Matched {
			if m.Effect == "Deny" {
				by = "denied by service control policy " + m.SourceID + " (attached to " + l.target + ")"
				break
			}
		}
		break
	}
	if !g.conditioned {
		g.cache[k] = scpAnswer{ok, by}
	}
	return ok, by
}

// orgTree is the organisation's structure, for placing accounts and
// finding the SCPs of each level above them.
type orgTree struct {
	org      *api.OrganizationOutput
	units    map[string]api.OrgUnit // roots and OUs by id
	accounts map[string]api.OrgAccount
	byTarget map[string][]*api.SCP // the SCPs attached to a root, OU or account
}

// newOrgTree indexes the organisation; nil when it is unknown.
func newOrgTree(org *api.OrganizationOutput) *orgTree {
	if org == nil {
		return nil
	}
	t := &orgTree{org: org, units: map[string]api.OrgUnit{}, accounts: map[string]api.OrgAccount{}, byTarget: map[string][]*api.SCP{}}
	for _, u := range org.Roots {
		t.units[u.ID] = u
	}
	for _, u := range org.OrganizationalUnits {
		t.units[u.ID] = u
	}
	for _, a := range org.Accounts {
		t.accounts[a.ID] = a
	}
	for i := range org.Policies {
		p := &org.Policies[i]
		for _, target := range p.Targets {
			t.byTarget[target] = append(t.byTarget[target], p)
		}
	}
	return t
}

// accountName is the account's name in the organisation.
func (t *orgTree) accountName(id string) string {
	if t == nil {
		return ""
	}
	return t.accounts[id].Name
}

// inOrg reports whether the account belongs to the organisation.
func (t *orgTree) inOrg(id string) bool {
	if t == nil {
		return false
	}
	_, ok := t.accounts[id]
	return ok
}

// maxOrgDepth bounds the walk up the tree (AWS allows five levels of OUs
// under a root); a cycle in what the host answered stops there too.
const maxOrgDepth = 16

// levels returns the SCP levels that limit an account, top down (root,
// OUs, the account), its place (the names of its root and OUs), and
// whether it is the management account, which no SCP limits. Documents
// are parsed through the engine's cache. No levels when SCPs are not
// enabled or the account is not in the organisation.
func (t *orgTree) levels(id string, e *engine) (levels []scpLevel, place []string, mgmt bool) {
	if t == nil {
		return nil, nil, false
	}
	a, ok := t.accounts[id]
	if !ok {
		return nil, nil, false
	}
	chain := []string{id}
	for parent, n := a.ParentID, 0; parent != "" && n < maxOrgDepth; n++ {
		u, ok := t.units[parent]
		if !ok {
			break
		}
		chain = append([]string{u.ID}, chain...)
		place = append([]string{u.Name}, place...)
		parent = u.ParentID
	}
	if id == t.org.ManagementAccountID {
		return nil, place, true
	}
	if !t.org.SCPsEnabled {
		return nil, place, false
	}
	for _, target := range chain {
		name := target
		if u, ok := t.units[target]; ok {
			name = u.Name + " (" + target + ")"
		} else {
			name = "account " + target
		}
		l := scpLevel{target: name}
		for _, p := range t.byTarget[target] {
			l.docs = append(l.docs, e.doc(p.Document))
			l.names = append(l.names, p.Name)
		}
		levels = append(levels, l)
	}
	return levels, place, false
}

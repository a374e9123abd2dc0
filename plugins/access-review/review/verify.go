package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Every plan is checked before it is shown, against the account as the
// plans listed before it would leave it:
//
//   - each document it writes is validated as the server's guardrails
//     validate it (policy.ValidateWithOptions: an ERROR or SECURITY_WARNING
//     finding is a refusal), and each managed policy it attaches is judged
//     by its document;
//   - a new policy version identical to the one in effect is refused (it
//     changes nothing and uses one of the five versions);
//   - a plan that takes administrator rights away (a detach, a deleted
//     inline policy, a user out of a group) must leave some administrator:
//     the account after it is evaluated, with the earlier plans applied;
//   - a change to something shared (a managed policy, a group, a boundary)
//     names every principal it reaches;
//   - values in angle brackets are for a person: such a plan needs input.
//
// A refused plan is not shown as calls: its steps become the choice a
// person has to make, with the reason.
//
// The server's own dry run runs the same guardrails with the catalogue's
// planners; the review cannot call it, because a dry run is a call of the
// write operation, which the plugin is not granted (it reads only). Tests
// run every plan of the demo through the real dry run, then for real.

// planState is what the plans checked so far would change.
type planState struct {
	removed map[*principal]map[*docInfo]bool // identity documents taken away, per principal
	admins  []*principal                     // admin-equivalent users and roles before any plan
	done    map[string]string                // the changing steps of the passing plans so far → whose plan
}

// verifyPlans checks the listed findings' plans, in report order.
func (r *reviewCtx) verifyPlans(fs []Finding) {
	st := &planState{removed: map[*principal]map[*docInfo]bool{}, done: map[string]string{}}
	for _, list := range [][]*principal{r.m.users, r.m.roles} {
		for _, p := range list {
			if p.set != nil {
				if ok, _, _ := r.e.setAdmin(p.set); ok {
					st.admins = append(st.admins, p)
				}
			}
		}
	}
	for i := range fs {
		r.verifyPlan(&fs[i], st)
	}
}

func (r *reviewCtx) verifyPlan(f *Finding, st *planState) {
	rem := &f.Remediation
	c := rem.Check
	if c == nil {
		c = &PlanCheck{Result: CheckPasses}
	}
	// A change a plan listed above already makes is not repeated (two
	// findings on one console password both remove it): run twice, the
	// second call would fail.
	kept := rem.Steps[:0:0]
	for _, s := range rem.Steps {
		if whose, dup := st.done[stepKey(s)]; dup && !s.Manual {
			c.Checks = append(c.Checks, s.Op+" is already in the plan of "+whose+" listed above; it is not repeated here")
			continue
		}
		kept = append(kept, s)
	}
	if len(kept) < len(rem.Steps) {
		rem.Steps = kept
		if !mutates(kept) {
			rem.Steps = append(rem.Steps, manualStep("Nothing more to do: the plan listed above makes this change."))
			c.Checks = append(c.Checks, "nothing left to run once that plan has run")
			rem.Check = c
			return
		}
	}
	refuse := func(msg string) {
		c.Result = CheckRefused
		c.Problems = append(c.Problems, msg)
	}
	needs := func(msg string) {
		if c.Result == CheckPasses {
			c.Result = CheckNeedsInput
		}
		c.Checks = appendNew(c.Checks, msg)
	}
	removals := map[*principal]map[*docInfo]bool{}
	remove := func(p *principal, d *docInfo) {
		if p == nil || d == nil {
			return
		}
		if removals[p] == nil {
			removals[p] = map[*docInfo]bool{}
		}
		removals[p][d] = true
	}
	affects := map[string]bool{}
	reach := func(ps ...*principal) {
		for _, p := range ps {
			if p != nil && p.arn != f.Principal {
				affects[string(p.kind)+" "+p.name] = true
			}
		}
	}
	wrote := 0
	for _, s := range rem.Steps {
		if s.Manual || s.Op == "" {
			needs("a step is for a person (manual); the calls after it assume it was done")
			continue
		}
		if hasPlaceholder(s.Args) {
			needs("values in angle brackets are for a person to fill in before the calls run")
		}
		if doc, ok := s.Args["policy_document"]; ok {
			wrote++
			t := policy.IdentityPolicy
			if s.Op == "update_assume_role_policy" {
				t = policy.TrustPolicy
			}
			r.checkWritten(s, doc, t, refuse, needs)
		}
		if doc, ok := s.Args["assume_role_policy_document"]; ok {
			wrote++
			r.checkWritten(s, doc, policy.TrustPolicy, refuse, needs)
		}
		arn, _ := s.Args["policy_arn"].(string)
		mp := r.m.policyByARN[arn]
		owner := r.ownerOf(s)
		switch s.Op {
		case "attach_user_policy", "attach_group_policy", "attach_role_policy":
			if mp != nil && mp.doc != nil {
				if bad := r.risky(mp.doc.text, policy.IdentityPolicy, policy.ValidateOptions{Account: r.account, Stored: true, SizeLimit: -1, Inline: true}); bad != "" {
					refuse("the server's guardrails would refuse attaching " + mp.detail.PolicyName + ": " + bad)
				}
			}
			if owner != nil && owner.kind == KindGroup {
				reach(r.members(owner)...)
			}
		case "create_policy_version":
			if mp != nil {
				if mp.doc != nil && sameDocument(s.Args["policy_document"], mp.doc.text) {
					refuse("create_policy_version would write a version identical to the one in effect (" + mp.version + "): it changes nothing")
				}
				reach(r.holders(mp)...)
			}
		case "set_default_policy_version":
			if mp != nil {
				reach(r.holders(mp)...)
			}
		case "detach_user_policy", "detach_group_policy", "detach_role_policy":
			if owner != nil && mp != nil {
				for _, p := range r.affected(owner) {
					remove(p, mp.doc)
				}
				reach(owner)
				reach(r.affected(owner)...)
			}
		case "delete_user_policy", "delete_group_policy", "delete_role_policy", "put_group_policy":
			name, _ := s.Args["policy_name"].(string)
			if owner != nil {
				if s.Op != "put_group_policy" {
					for _, ref := range owner.own {
						if ref.typ == ptInline && ref.name == name {
							for _, p := range r.affected(owner) {
								remove(p, ref.doc)
							}
						}
					}
				}
				if owner.kind == KindGroup {
					reach(r.members(owner)...)
				}
			}
		case "remove_user_from_group":
			if u := r.userNamed(s.Args["user_name"]); u != nil {
				if g := r.groupNamed(s.Args["group_name"]); g != nil {
					for _, ref := range g.own {
						remove(u, ref.doc)
					}
				}
			}
		case "delete_user", "delete_role":
			if owner != nil && owner.set != nil {
				for _, d := range owner.set.identity {
					remove(owner, d)
				}
			}
		case "put_user_permissions_boundary", "put_role_permissions_boundary":
			if b, _ := s.Args["permissions_boundary"].(string); b != "" {
				if bm := r.m.policyByARN[b]; bm != nil {
					reach(bm.boundaryOf...)
				}
			}
		case "delete_policy":
			if mp != nil {
				for _, p := range mp.attached {
					for _, q := range r.affected(p) {
						remove(q, mp.doc)
					}
				}
			}
		}
	}
	if wrote > 0 && c.Result != CheckRefused {
		c.Checks = appendNew(c.Checks, "every document it writes passes the server's guardrails (validate_policy: no ERROR or SECURITY_WARNING)")
	}
	touchesAdmin := false
	for _, a := range st.admins {
		touchesAdmin = touchesAdmin || len(removals[a]) > 0
	}
	if touchesAdmin {
		if left := r.adminsAfter(st, removals); len(left) == 0 {
			refuse("it would leave the account without any administrator (with the plans listed before it applied): keep this access until another administrator path exists — a break-glass role assumed with MFA, or an administrators' group with MFA-protected members — then run it")
		} else {
			c.Checks = append(c.Checks, fmt.Sprintf("after it (and the plans listed before it), %d administrator(s) remain, e.g. %s", len(left), left[0].name))
			for p, docs := range removals {
				if st.removed[p] == nil {
					st.removed[p] = map[*docInfo]bool{}
				}
				for d := range docs {
					st.removed[p][d] = true
				}
			}
		}
	}
	c.Affects = sortedKeys(affects)
	if c.Result == CheckPasses {
		for _, s := range rem.Steps {
			if op, ok := api.Lookup(s.Op); ok && op.Mutates {
				st.done[stepKey(s)] = f.RuleID + " on " + f.PrincipalName
			}
		}
	}
	if c.Result == CheckRefused {
		var was []string
		for _, s := range rem.Steps {
			if !s.Manual && s.Op != "" {
				was = append(was, s.Op)
			}
		}
		rem.Steps = []Step{manualStep("Do not run this plan as written (" + strings.Join(c.Problems, "; ") + "). Decide instead: " + rem.Summary +
			" The calls it would have made: " + strings.Join(was, ", ") + ".")}
	}
	if len(c.Checks) == 0 && c.Result == CheckPasses {
		c.Checks = []string{"no step writes a policy document or takes administrator rights away"}
		if !mutates(rem.Steps) {
			c.Checks = []string{"the plan only reads"}
		}
	}
	rem.Check = c
}

// stepKey identifies a call: its operation and arguments.
func stepKey(s Step) string {
	b, _ := json.Marshal(s.Args)
	return s.Op + " " + string(b)
}

// mutates reports whether a plan has a step that changes IAM.
func mutates(steps []Step) bool {
	for _, s := range steps {
		if op, ok := api.Lookup(s.Op); ok && op.Mutates {
			return true
		}
	}
	return false
}

// checkWritten validates a document a step writes.
func (r *reviewCtx) checkWritten(s Step, doc any, t policy.PolicyType, refuse, needs func(string)) {
	raw, err := json.Marshal(doc)
	if err != nil || doc == nil {
		refuse(s.Op + " has no readable document")
		return
	}
	if hasPlaceholder(doc) {
		needs("a document has values in angle brackets to fill in; it is validated when the call runs")
		return
	}
	o := policy.ValidateOptions{Account: r.account}
	if owner := r.ownerOf(s); owner != nil && strings.HasPrefix(s.Op, "put_") && strings.HasSuffix(s.Op, "_policy") {
		// IAM's inline quota is for all of the owner's inline policies.
		name, _ := s.Args["policy_name"].(string)
		o.SizeLimit = policy.SizeLimit(inlineQuota[owner.kind] - r.otherInline(owner, name))
	}
	if bad := r.risky(string(raw), t, o); bad != "" {
		refuse("the server's guardrails would refuse the document of " + s.Op + ": " + bad)
	}
}

// otherInline is the size of an owner's inline policies other than name,
// as IAM counts it against the owner's quota.
func (r *reviewCtx) otherInline(owner *principal, name string) int {
	n := 0
	for _, ref := range owner.own {
		if ref.typ == ptInline && ref.name != name && ref.doc != nil {
			n += policy.Size(ref.doc.text)
		}
	}
	return n
}

// risky says why the guardrails would refuse a document ("" when they
// would not).
func (r *reviewCtx) risky(text string, t policy.PolicyType, o policy.ValidateOptions) string {
	var bad []string
	for _, f := range r.validate(text, t, o) {
		if f.Severity == policy.SeverityError || f.Severity == policy.SeveritySecurityWarning {
			bad = append(bad, f.Message)
		}
	}
	return capList(bad, 2)
}

// validation is one call of policy.ValidateWithOptions.
type validation struct {
	text string
	t    policy.PolicyType
	o    policy.ValidateOptions
}

// validate is policy.ValidateWithOptions, once per document, type and
// options in a review: the plans of a large account validate the same
// documents again and again (a user's policy in the plan that moves it and
// in the check of that plan, a shared policy in every plan that moves it),
// and a validation, which evaluates the document for its risk checks, is
// milliseconds inside the Wasm plugin. The findings returned are shared:
// read them, do not change them.
func (r *reviewCtx) validate(text string, t policy.PolicyType, o policy.ValidateOptions) []policy.Finding {
	k := validation{text, t, o}
	if fs, ok := r.validated[k]; ok {
		return fs
	}
	if r.validated == nil {
		r.validated = map[validation][]policy.Finding{}
	}
	fs := policy.ValidateWithOptions(text, t, o)
	r.validated[k] = fs
	return fs
}

// adminsAfter lists the administrators left once the earlier plans' and
// this plan's removals are applied.
func (r *reviewCtx) adminsAfter(st *planState, removals map[*principal]map[*docInfo]bool) []*principal {
	var left []*principal
	for _, p := range st.admins {
		gone := map[*docInfo]bool{}
		for d := range st.removed[p] {
			gone[d] = true
		}
		for d := range removals[p] {
			gone[d] = true
		}
		if len(gone) == 0 {
			left = append(left, p)
			continue
		}
		var docs []*docInfo
		for _, d := range p.set.identity {
			if !gone[d] {
				docs = append(docs, d)
			}
		}
		if ok, _, _ := r.e.setAdmin(r.e.set(docs, p.set.boundary)); ok {
			left = append(left, p)
		}
	}
	return left
}

// ownerOf is the principal a step's user_name, group_name or role_name
// names.
func (r *reviewCtx) ownerOf(s Step) *principal {
	if u := r.userNamed(s.Args["user_name"]); u != nil {
		if _, isGroupStep := s.Args["group_name"]; !isGroupStep {
			return u
		}
	}
	if g := r.groupNamed(s.Args["group_name"]); g != nil {
		return g
	}
	return named(r.m.roles, s.Args["role_name"])
}

func (r *reviewCtx) userNamed(v any) *principal  { return named(r.m.users, v) }
func (r *reviewCtx) groupNamed(v any) *principal { return named(r.m.groups, v) }

// named finds the principal of a list whose name is v (a plan's argument).
func named(list []*principal, v any) *principal {
	name, _ := v.(string)
	for _, p := range list {
		if p.name == name {
			return p
		}
	}
	return nil
}

// members are a group's users.
func (r *reviewCtx) members(g *principal) []*principal {
	var out []*principal
	for _, u := range r.m.users {
		if containsPrincipal(u.groups, g) {
			out = append(out, u)
		}
	}
	return out
}

// affected are the users and roles a change to p's own policies reaches:
// p itself, or a group's members.
func (r *reviewCtx) affected(p *principal) []*principal {
	if p.kind == KindGroup {
		return r.members(p)
	}
	return []*principal{p}
}

// holders are every user and role a managed policy reaches: attached, or
// through a group, or as a boundary.
func (r *reviewCtx) holders(mp *managed) []*principal {
	var out []*principal
	for _, p := range mp.attached {
		out = append(out, r.affected(p)...)
		if p.kind == KindGroup {
			out = append(out, p)
		}
	}
	out = append(out, mp.boundaryOf...)
	sort.Slice(out, func(i, j int) bool { return out[i].arn < out[j].arn })
	return out
}

// placeholder reports whether arguments hold a value for a person to fill
// in (in angle brackets).
func hasPlaceholder(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "<") && strings.Contains(x, ">")
	case map[string]any:
		for _, e := range x {
			if hasPlaceholder(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasPlaceholder(e) {
				return true
			}
		}
	case []string:
		for _, e := range x {
			if hasPlaceholder(e) {
				return true
			}
		}
	}
	return false
}

// sameDocument reports whether a plan's document is the one in effect,
// compared as JSON values.
func sameDocument(doc any, text string) bool {
	a, err1 := json.Marshal(doc)
	var cur any
	if err1 != nil || json.Unmarshal([]byte(text), &cur) != nil {
		return false
	}
	b, err2 := json.Marshal(cur)
	return err2 == nil && string(a) == string(b)
}

package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
)

// Privilege escalation findings, from the principal graph (graph.go):
// critical when a path of edges that hold outright reaches an
// administrator, high when a step holds only under conditions or needs a
// resource IAM does not show, low when the principal holds a method's
// actions but nothing it can reach with them is more privileged.

// denyPolicyName names the inline policy escalation plans write.
const denyPolicyName = "AccessReviewDenyEscalation"

// maxDenyTargets bounds the ARNs one action is denied on; beyond it the
// plan denies the action on every resource and says so.
const maxDenyTargets = 20

// inlineQuota is IAM's quota on all of an owner's inline policies
// (counted without white space), per kind of owner.
var inlineQuota = map[Kind]int{KindUser: int(policy.UserInlineLimit), KindRole: int(policy.RoleInlineLimit), KindGroup: int(policy.GroupInlineLimit)}

// checkEscalation builds the graph and reports every user and role in
// scope that is not already an administrator.
func (r *reviewCtx) checkEscalation() {
	r.graph = r.buildGraph()
	for _, list := range [][]*principal{r.m.users, r.m.roles} {
		for _, p := range list {
			if !p.inScope || p.set == nil {
				continue
			}
			if ok, _, _ := r.e.setAdmin(p.set); ok {
				continue // nothing to escalate to: the admin rules report it
			}
			switch {
			case r.graph.strict[p] != nil:
				r.pathFinding(p, RuleEscalationConfirmed, StatusConfirmed, r.graph.strict)
			case r.graph.full[p] != nil:
				r.pathFinding(p, RuleEscalationPotential, StatusPotential, r.graph.full)
			default:
				if hits := r.e.escalations(p.set); len(hits) > 0 {
					r.noTargetFinding(p, hits)
				}
				// What the account's SCPs stop is not a finding, but the
				// report says so: removing the SCP would make it one.
				for _, b := range p.set.blocked {
					r.blocked = append(r.blocked, BlockedEscalation{Principal: p.arn, Method: EscalationMethods[b.method].ID, By: b.by})
				}
			}
		}
	}
}

// pathFinding reports p's path to administrator, with every step and the
// statements that allow p's own first step as evidence.
func (r *reviewCtx) pathFinding(p *principal, ruleID, status string, priv map[*principal]*hop) {
	edges, end := r.graph.path(p, priv)
	var steps []PathStep
	var methods []MethodHit
	var ev []Evidence
	for _, e := range edges {
		to := "administrator"
		if e.to != nil {
			to = e.to.arn
		}
		steps = append(steps, PathStep{From: e.from.arn, To: to, Kind: e.kind, Method: e.method, How: e.how, Actions: e.actions, Condition: e.cond})
		if e.method != "" {
			if m := methodByID(e.method); m != nil {
				st := StatusConfirmed
				if e.cond != "" {
					st = StatusPotential
				}
				methods = append(methods, MethodHit{ID: m.ID, Status: st, Actions: m.Actions, How: m.How, Source: m.Source})
			}
		}
		ev = append(ev, r.edgeEvidence(e)...)
	}
	if end != nil {
		why := ""
		if h := priv[end]; h != nil {
			why = h.admin
		}
		steps = append(steps, PathStep{From: end.arn, To: end.arn, Kind: "admin-equivalent", How: string(end.kind) + " " + end.name + " is admin-equivalent: " + why})
	}
	msg := fmt.Sprintf("%s %s can become an administrator: %s", p.kind, p.name, describePath(p, edges, end))
	if status == StatusPotential {
		var conds []string
		for _, e := range edges {
			if e.cond != "" {
				conds = append(conds, e.cond)
			}
		}
		msg = fmt.Sprintf("%s %s may become an administrator: %s; %s", p.kind, p.name, describePath(p, edges, end), strings.Join(conds, "; "))
	}
	direct := len(edges) > 0 && (edges[0].kind == edgeSelf || edges[0].kind == edgeJoin || edges[0].kind == edgeCreds || edges[0].kind == edgeTrust)
	rank := 100 - len(edges)
	if direct {
		rank += 1000
	}
	// A path through another principal that escalates on its own: fixing
	// that one's step (its own finding) cuts the path for everyone who
	// reaches it, which the plan says.
	var via *principal
	if len(edges) > 1 && edges[0].to != nil {
		if h := priv[edges[0].to]; h != nil && h.e != nil {
			via = edges[0].to
		}
	}
	r.emit(ruleID, p.subject(), msg, ev, func() Remediation {
		rem := r.escalationPlan(p, status)
		if via != nil {
			n := 0
			for _, h := range priv {
				if h.next == via {
					n++
				}
			}
			rem.Summary += fmt.Sprintf(" The path continues through %s %s, which has a finding of its own: its plan cuts the rest of the path for all %d principal(s) whose first step reaches it, and may be the better fix.", via.kind, via.name, n)
		}
		return rem
	}, func(f *Finding) {
		f.Status, f.Methods, f.Path, f.rank = status, methods, steps, rank
	})
}

// edgeEvidence names the statements that allow an edge, on the policies
// of the principal taking it.
func (r *reviewCtx) edgeEvidence(e *edge) []Evidence {
	type key struct {
		policy, via string
		stmt        int
	}
	byKey := map[key]*Evidence{}
	var order []key
	for _, m := range e.matches {
		id, err := strconv.Atoi(m.SourceID)
		if err != nil {
			continue
		}
		for _, ref := range e.from.refsFor(id) {
			k := key{ref.label(), ref.viaText(), m.Index}
			ev := byKey[k]
			if ev == nil {
				ev = &Evidence{Source: "policy", Policy: ref.label(), PolicyType: ref.typ, Via: ref.viaText(), Version: ref.version,
					Statement: intp(m.Index), Sid: m.Sid, Detail: fmt.Sprintf("%s %s: %s", e.from.kind, e.from.name, e.how)}
				byKey[k] = ev
				order = append(order, k)
			}
		}
	}
	out := make([]Evidence, 0, len(order))
	for _, k := range order {
		ev := byKey[k]
		ev.Actions = append([]string(nil), e.actions...)
		sort.Strings(ev.Actions)
		out = append(out, *ev)
	}
	if e.to != nil && (e.kind == edgeAssume || e.kind == edgePass || e.kind == edgeExisting) {
		out = append(out, Evidence{Source: "trust_policy", Policy: "trust policy of " + e.to.name, PolicyType: ptTrust,
			Detail: "the policy engine allowed the step with this trust policy"})
	}
	return out
}

// noTargetFinding reports a principal that holds the actions of methods
// but reaches nothing more privileged with them.
func (r *reviewCtx) noTargetFinding(p *principal, hits []methodResult) {
	var methods []MethodHit
	var ids []string
	for _, h := range hits {
		m := EscalationMethods[h.method]
		methods = append(methods, MethodHit{ID: m.ID, Status: h.status, Actions: m.Actions, How: m.How, Source: m.Source})
		ids = append(ids, m.ID)
	}
	msg := fmt.Sprintf("%s %s holds the actions of %s, but no role, user, group or policy it can reach with them is more privileged than it is",
		p.kind, p.name, capList(ids, 6))
	r.emit(RuleEscalationNoTarget, p.subject(), msg, r.methodEvidence(p, hits), func() Remediation {
		return Remediation{
			Summary: "Nothing to remove today. Keep it that way: scope iam:PassRole to the roles the job passes (with iam:PassedToService), and give roles that services run with no more than the principals that may pass them or change their code.",
			Steps: []Step{step("simulate_principal_policy", map[string]any{"policy_source_arn": p.arn, "action_names": methodActions(hits)},
				"shows what the actions reach; rerun the review after adding roles or functions")},
			Check: &PlanCheck{Result: CheckPasses, Checks: []string{"no change proposed: the plan only reads"}},
		}
	}, func(f *Finding) { f.Methods = methods })
}

// methodEvidence names the statements that grant the methods' actions.
func (r *reviewCtx) methodEvidence(p *principal, hits []methodResult) []Evidence {
	u := r.e.u
	type key struct {
		policy, via string
		stmt        int
	}
	byKey := map[key]*Evidence{}
	var order []key
	for _, h := range hits {
		for _, ai := range u.methods[h.method] {
			for _, m := range r.e.action(p.set, ai).by {
				id, err := strconv.Atoi(m.SourceID)
				if err != nil {
					continue
				}
				for _, ref := range p.refsFor(id) {
					k := key{ref.label(), ref.viaText(), m.Index}
					ev := byKey[k]
					if ev == nil {
						ev = &Evidence{Source: "policy", Policy: ref.label(), PolicyType: ref.typ, Via: ref.viaText(), Version: ref.version, Statement: intp(m.Index), Sid: m.Sid}
						byKey[k] = ev
						order = append(order, k)
					}
					ev.Actions = appendNew(ev.Actions, u.names[ai])
				}
			}
		}
	}
	out := make([]Evidence, 0, len(order)+1)
	for _, k := range order {
		ev := byKey[k]
		sort.Strings(ev.Actions)
		out = append(out, *ev)
	}
	return append(out, Evidence{Source: "authorization_details", Detail: "the policy engine found no edge from it to an admin-equivalent user, role or group, and no way to rewrite its own permissions"})
}

func methodActions(hits []methodResult) []string {
	set := map[string]bool{}
	for _, h := range hits {
		for _, a := range EscalationMethods[h.method].Actions {
			set[a] = true
		}
	}
	return sortedKeys(set)
}

func methodByID(id string) *EscalationMethod {
	for i := range EscalationMethods {
		if EscalationMethods[i].ID == id {
			return &EscalationMethods[i]
		}
	}
	return nil
}

// escalationPlan cuts every edge of p into the privileged part of the
// graph — the one action on the one target each needs, nothing else — with
// a Deny policy of p's own, so that no other principal is touched. Before
// the plan is shown the graph is asked again with the Deny added: p must
// reach no administrator, and the Deny must pass the guardrails.
func (r *reviewCtx) escalationPlan(p *principal, status string) Remediation {
	edges := r.graph.outEdges(p, nil)
	var cuts []cut
	var manual []Step
	for _, e := range edges {
		if len(e.cuts) == 0 {
			manual = append(manual, manualStep("Find what runs with role "+e.to.name+" ("+e.how+") and deny "+strings.Join(e.actions, ", ")+" on those resources' ARNs to "+p.name+", or give the role less privilege."))
			continue
		}
		cuts = append(cuts, e.cuts...)
	}
	broad := collapsed(cuts)
	rem := Remediation{Summary: "Deny " + p.name + " exactly the steps that lead to an administrator (" + cutText(cuts) + "), through a Deny policy of its own: every other principal, and everything else " + p.name + " does, stays as it is. If the job needs one of these steps, give the target less privilege instead; if " + p.name + " is meant to be an administrator, require MFA on the step instead (a condition on aws:MultiFactorAuthPresent in the trust policy)."}
	if len(broad) > 0 {
		rem.Summary += " " + strings.Join(broad, ", ") + " reach more than " + strconv.Itoa(maxDenyTargets) + " privileged targets each, so they are denied on every resource: check that the job does not need them."
	}
	check := &PlanCheck{Result: CheckPasses}
	if len(cuts) == 0 {
		rem.Steps = manual
		check.Result = CheckNeedsInput
		check.Checks = append(check.Checks, "no step of the path can be cut by a Deny on a known ARN: a person decides")
		rem.Check = check
		return rem
	}
	doc := r.denyDocument(p, cuts)
	text, _ := json.Marshal(doc)
	var steps []Step
	steps = append(steps, step("simulate_principal_policy", map[string]any{"policy_source_arn": p.arn, "action_names": cutActions(cuts), "resource_arns": cutResources(cuts)},
		"confirm with IAM's simulator that these are allowed today"))
	if policy.Size(string(text))+r.otherInline(p, denyPolicyName) <= inlineQuota[p.kind] {
		op, key := inlineOp("put", p)
		steps = append(steps, step(op, map[string]any{key: p.name, "policy_name": denyPolicyName, "policy_document": doc},
			"denies only these actions on these ARNs; delete the inline policy to undo"))
	} else {
		name := denyPolicyName + "-" + shortHash(p.arn)
		arn := "arn:" + r.partition + ":iam::" + r.account + ":policy/" + name
		attach := "attach_user_policy"
		key := "user_name"
		if p.kind == KindRole {
			attach, key = "attach_role_policy", "role_name"
		}
		steps = append(steps,
			step("create_policy", map[string]any{"policy_name": name, "policy_document": doc, "description": "Denies " + p.name + " the steps to administrator found by the access review"},
				"too large for an inline policy of a "+string(p.kind)),
			step(attach, map[string]any{key: p.name, "policy_arn": arn}, "detach to undo"))
	}
	steps = append(steps, step("simulate_principal_policy", map[string]any{"policy_source_arn": p.arn, "action_names": cutActions(cuts), "resource_arns": cutResources(cuts)},
		"every one should now be explicitDeny"))
	rem.Steps = append(steps, manual...)
	if status == StatusPotential {
		// A conditional path is often the intended one: an administrator
		// who assumes the admin role with MFA. A person decides first.
		rem.Steps = append([]Step{manualStep("Decide whether " + p.name + " is meant to reach an administrator this way (" + conditionText(edges) + "). If it is, keep the path and make sure the condition holds (MFA for people); if not, run the calls below.")}, rem.Steps...)
	}

	// The graph after (verifyPlans checks the document against the
	// guardrails, as for every plan).
	extra := []*docInfo{r.e.doc(string(text))}
	var still []string
	if e := r.graph.selfEdge(p, extra, true); e != nil {
		still = append(still, e.how)
	}
	for t := range r.graph.full {
		if t == p {
			continue
		}
		if e := r.graph.edgeTo(p, t, extra, true); e != nil && len(e.cuts) > 0 {
			still = append(still, e.how)
		}
	}
	sort.Strings(still)
	if len(still) > 0 {
		check.Result = CheckRefused
		check.Problems = append(check.Problems, "after the Deny "+p.name+" still "+strings.Join(still, "; "))
	} else {
		check.Checks = append(check.Checks, fmt.Sprintf("after the plan, the policy engine finds no path from %s to an administrator through the %d step(s) denied", p.name, len(cuts)))
	}
	if len(manual) > 0 && check.Result == CheckPasses {
		check.Result = CheckNeedsInput
		check.Checks = append(check.Checks, "steps through resources IAM does not show are left to a person (the manual steps)")
	}
	check.Checks = append(check.Checks, "no other principal is affected: the Deny is "+p.name+"'s own")
	// What the Deny may stop that is in use: a role on the path that
	// something assumed lately (IAM records when, not by whom).
	for _, e := range edges {
		if e.to == nil || e.to.role == nil || len(e.cuts) == 0 || e.to.role.LastUsedDate == nil {
			continue
		}
		if d := r.ago(*e.to.role.LastUsedDate); d <= 90 {
			check.Checks = append(check.Checks, fmt.Sprintf("role %s was last used %d day(s) ago, by someone: if %s is who uses it, this stops that work, and the better fix is to give the role less privilege", e.to.name, d, p.name))
		}
	}
	rem.Check = check
	return rem
}

// conditionText lists the conditions the edges hold under.
func conditionText(edges []*edge) string {
	var out []string
	for _, e := range edges {
		if e.cond != "" {
			out = appendNew(out, e.cond)
		}
	}
	if len(out) == 0 {
		return "every step holds whatever the request"
	}
	return strings.Join(out, "; ")
}

// denyDocument is p's Deny policy: one statement per action, with the
// ARNs it is denied on, added to the statements of a Deny policy of the
// same name that p already has.
func (r *reviewCtx) denyDocument(p *principal, cuts []cut) map[string]any {
	byAction := map[string][]string{}
	for _, c := range cuts {
		byAction[c.action] = appendNew(byAction[c.action], c.resource)
	}
	for a, res := range byAction {
		if len(res) > maxDenyTargets {
			// So many targets that the action itself is the risk: deny it
			// everywhere (the plan's summary says so).
			byAction[a] = []string{"*"}
		}
	}
	var stmts []any
	for _, ref := range p.own {
		if ref.typ == ptInline && ref.name == denyPolicyName && ref.doc != nil {
			if d := docObject(ref.doc.text); d != nil {
				switch s := d["Statement"].(type) {
				case []any:
					stmts = append(stmts, s...)
				case map[string]any:
					stmts = append(stmts, s)
				}
			}
		}
	}
	n := len(stmts)
	for i, a := range sortedKeys(byAction) {
		res := byAction[a]
		sort.Strings(res)
		stmts = append(stmts, map[string]any{"Sid": fmt.Sprintf("DenyPathToAdmin%d", n+i+1), "Effect": "Deny", "Action": a, "Resource": res})
	}
	return map[string]any{"Version": "2012-10-17", "Statement": stmts}
}

// collapsed lists the actions with more than maxDenyTargets targets.
func collapsed(cuts []cut) []string {
	n := map[string]int{}
	for _, c := range cuts {
		n[c.action]++
	}
	var out []string
	for a, k := range n {
		if k > maxDenyTargets {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func cutText(cuts []cut) string {
	var parts []string
	for _, c := range cuts {
		parts = append(parts, c.action+" on "+c.resource)
	}
	return capList(parts, 4)
}

func cutActions(cuts []cut) []string { return cutField(cuts, func(c cut) string { return c.action }) }
func cutResources(cuts []cut) []string {
	return cutField(cuts, func(c cut) string { return c.resource })
}

// cutField lists one field of the cuts, each value once, sorted.
func cutField(cuts []cut, field func(cut) string) []string {
	var out []string
	for _, c := range cuts {
		out = appendNew(out, field(c))
	}
	sort.Strings(out)
	return out
}

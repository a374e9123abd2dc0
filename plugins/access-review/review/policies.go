package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy"
)

// Over-privilege and privilege escalation: what the policies allow, as the
// policy engine evaluates them.

// maxEvidenceActions bounds the actions listed in one evidence entry.
const maxEvidenceActions = 15

// polTarget is a policy the per-policy rules judge: a managed policy in use
// (reported on the policy) or an inline policy (reported on its owner).
type polTarget struct {
	subj subject
	ref  *policyRef
	mp   *managed // managed policies
}

// targets lists the policies to judge, in a stable order.
func (r *reviewCtx) targets() []polTarget {
	var out []polTarget
	for _, mp := range r.m.policies {
		if mp.doc == nil || len(mp.attached) == 0 || !r.m.policyInScope(mp, r.cfg) {
			continue
		}
		out = append(out, polTarget{
			subj: subject{mp.detail.Arn, mp.detail.PolicyName, KindPolicy},
			ref:  &policyRef{doc: mp.doc, typ: mp.typ(), name: mp.detail.PolicyName, arn: mp.detail.Arn, version: mp.version},
			mp:   mp,
		})
	}
	for _, list := range [][]*principal{r.m.users, r.m.groups, r.m.roles} {
		for _, p := range list {
			if !p.inScope {
				continue
			}
			for _, ref := range p.own {
				if ref.typ == ptInline && ref.doc != nil {
					out = append(out, polTarget{subj: p.subject(), ref: ref})
				}
			}
		}
	}
	return out
}

// checkPolicies runs the over-privilege rules.
func (r *reviewCtx) checkPolicies() {
	u := r.e.u
	for _, t := range r.targets() {
		d := t.ref.doc
		if d.doc == nil {
			r.notes = append(r.notes, fmt.Sprintf("policy %s (%s) does not parse and was not evaluated: %v", t.ref.label(), t.subj.arn, d.err))
			continue
		}
		if admin, why := r.e.isAdmin(d); admin {
			r.adminFinding(t, why)
			continue // admin-equivalent covers every narrower grant
		}
		if t.ref.typ != ptAWS {
			r.wildcardFinding(t)
		}
		onStar, _ := r.e.allowedOnStar(d)
		pick := func(idx []int) []int {
			var out []int
			for _, i := range idx {
				if onStar.has(i) && u.scoped[i] {
					out = append(out, i)
				}
			}
			return out
		}
		r.sensitiveFinding(t, RuleDataExfiltration, pick(u.cat[catDataExfil]), "reads data of every resource of its kind")
		r.sensitiveFinding(t, RuleCredentialsExposure, pick(u.cat[catCredentials]), "creates or reads credentials of any identity or resource")
		r.sensitiveFinding(t, RuleResourceExposure, pick(u.cat[catResourceExp]), "changes the resource policies (who may access) of every resource of its kind")
		r.sensitiveFinding(t, RulePassRoleOnStar, pick([]int{u.lookup(passRoleAction)}), "passes any role, administrators' included, to services")
		r.sensitiveFinding(t, RuleAssumeRoleOnStar, pick([]int{u.lookup(assumeRoleAction)}), "assumes any role that trusts this account")
	}
	// Admin policies nobody uses.
	if r.cfg.wants(KindPolicy) {
		for _, mp := range r.m.policies {
			if mp.aws || mp.doc == nil || !r.cfg.inPath(mp.detail.Path) || len(mp.attached) > 0 || mp.detail.AttachmentCount > 0 ||
				len(mp.boundaryOf) > 0 || mp.detail.PermissionsBoundaryUsageCount > 0 {
				continue
			}
			if ok, why := r.e.isAdmin(mp.doc); ok {
				r.emit(RuleUnattachedAdmin, subject{mp.detail.Arn, mp.detail.PolicyName, KindPolicy},
					fmt.Sprintf("%s is admin-equivalent and attached to nobody", mp.detail.PolicyName),
					[]Evidence{{Source: "policy", Policy: mp.detail.Arn, PolicyType: ptCustomer, Version: mp.version, Detail: why,
						Fields: map[string]string{"attachment_count": "0", "permissions_boundary_usage_count": "0"}}},
					func() Remediation {
						return Remediation{Summary: "Delete the policy (or make it least-privilege) before someone attaches it.",
							Steps: []Step{
								step("list_entities_for_policy", map[string]any{"policy_arn": mp.detail.Arn}, "confirm nothing uses it"),
								step("delete_policy", map[string]any{"policy_arn": mp.detail.Arn}, "deletes its versions too"),
							}}
					})
			}
		}
	}
}

// adminFinding reports an admin-equivalent policy: on each principal an
// AWS managed one is attached to, on the customer managed policy itself
// (with who has it), or on the owner of an inline one.
func (r *reviewCtx) adminFinding(t polTarget, why string) {
	ev := Evidence{Source: "policy", Policy: t.ref.label(), PolicyType: t.ref.typ, Version: t.ref.version, Detail: why}
	if st, sid, ok := r.firstAllow(t.ref.doc, adminProbeAction); ok {
		ev.Statement, ev.Sid = intp(st), sid
	}
	switch t.ref.typ {
	case ptAWS:
		for _, p := range t.mp.attached {
			if !p.inScope {
				continue
			}
			ref := &policyRef{doc: t.ref.doc, typ: ptAWS, name: t.ref.name, arn: t.ref.arn, version: t.ref.version, owner: p}
			r.emit(RuleAWSAdminAttached, p.subject(), fmt.Sprintf("%s %s has %s attached, which is admin-equivalent", p.kind, p.name, t.ref.name),
				[]Evidence{ev}, func() Remediation {
					return Remediation{
						Summary: "Detach the admin policy and grant a job-function or least-privilege policy instead; keep administrators few, in a group or a role assumed with MFA.",
						Steps: []Step{
							manualStep("Decide what " + p.name + " needs: a job-function policy (PowerUserAccess, ReadOnlyAccess…) or a customer managed one; if it must stay an administrator, make it a role assumed with MFA."),
							detachStep(ref, "after granting what the job needs"),
						},
					}
				})
		}
	case ptCustomer:
		var who []string
		var steps []Step
		steps = append(steps, step("list_entities_for_policy", map[string]any{"policy_arn": t.ref.arn}, "who has it"))
		for _, p := range t.mp.attached {
			who = append(who, string(p.kind)+" "+p.name)
			if len(steps) <= 10 {
				steps = append(steps, detachStep(&policyRef{arn: t.ref.arn, owner: p}, "or keep it on the few who must be administrators"))
			}
		}
		ev.Fields = map[string]string{"attached_to": capList(who, 10), "attachment_count": strconv.Itoa(len(t.mp.attached))}
		r.emit(RuleCustomerAdminPolicy, t.subj, fmt.Sprintf("%s is admin-equivalent and attached to %s", t.ref.name, capList(who, 5)),
			[]Evidence{ev}, func() Remediation {
				return Remediation{Summary: "Replace the policy's content with what its holders need (create_policy_version), or detach it from everyone who is not meant to be an administrator.", Steps: steps}
			})
	case ptInline:
		managedName := t.ref.owner.name + "-" + t.ref.name
		steps := []Step{
			inlineStep("get", t.ref, "read it"),
			manualStep("Decide what " + t.ref.owner.name + " needs; write that as a managed policy (create_policy) and attach it, or add the identity to the administrators' group if it must be one."),
			step("create_policy", map[string]any{"policy_name": managedName, "policy_document": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": []string{"<the actions the job needs>"}, "Resource": []string{"<the ARNs it needs them on>"}}}}}, "fill in the least-privilege grant"),
			inlineStep("delete", t.ref, "then remove the inline admin grant"),
		}
		r.emit(RuleInlineAdminPolicy, t.subj, fmt.Sprintf("inline policy %s of %s %s is admin-equivalent", t.ref.name, t.subj.kind, t.subj.name),
			[]Evidence{ev}, func() Remediation {
				return Remediation{Summary: "Remove the inline admin grant; grant least privilege through a managed policy, or administrator rights through the administrators' group.", Steps: steps}
			})
	}
}

// firstAllow finds the first unconditioned statement allowing an action on
// "*", for evidence.
func (r *reviewCtx) firstAllow(d *docInfo, action string) (int, string, bool) {
	if d == nil || d.strict == nil {
		return 0, "", false
	}
	res := policy.Evaluate(policy.Input{Identity: []policy.Source{{ID: "0", Type: "user-managed", Doc: d.strict}}}, policy.Request{Action: action, Resource: "*"})
	for _, m := range res.Matched {
		if m.Effect == "Allow" {
			return m.Index, m.Sid, true
		}
	}
	return 0, "", false
}

// wildcardFinding reports service:* grants on "*".
func (r *reviewCtx) wildcardFinding(t polTarget) {
	ws := r.e.wildcards(t.ref.doc)
	if len(ws) == 0 {
		return
	}
	var ev []Evidence
	var names, security []string
	for _, w := range ws {
		ev = append(ev, Evidence{Source: "policy", Policy: t.ref.label(), PolicyType: t.ref.typ, Version: t.ref.version,
			Statement: intp(w.statement), Sid: w.sid, Actions: []string{w.pattern},
			Detail: fmt.Sprintf("%s matches all %d actions of %s in AWS's action reference, on every resource", w.pattern, w.actions, w.service)})
		names = append(names, w.pattern)
		if securityServices[w.service] {
			security = append(security, w.pattern)
		}
	}
	msg := fmt.Sprintf("%s allows %s on every resource", t.ref.name, strings.Join(names, ", "))
	if len(security) > 0 {
		msg += "; " + strings.Join(security, ", ") + " controls security itself (keys, audit trail, identities)"
	}
	r.emit(RuleServiceWildcard, t.subj, msg, ev, func() Remediation {
		return r.narrowPlan(t, names, "List the actions the job uses (service last accessed, CloudTrail) and name them instead of service:*; keep permission-management and delete actions out unless needed.")
	})
}

// sensitiveFinding reports sensitive actions a policy allows on "*".
func (r *reviewCtx) sensitiveFinding(t polTarget, ruleID string, idx []int, what string) {
	if len(idx) == 0 {
		return
	}
	u := r.e.u
	_, by := r.e.allowedOnStar(t.ref.doc)
	type stmt struct {
		index int
		sid   string
	}
	acts := map[stmt][]string{}
	var all []string
	for _, i := range idx {
		all = append(all, u.names[i])
		for _, m := range by[i] {
			k := stmt{m.Index, m.Sid}
			acts[k] = append(acts[k], u.names[i])
			break
		}
	}
	keys := make([]stmt, 0, len(acts))
	for k := range acts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].index < keys[j].index })
	var ev []Evidence
	for _, k := range keys {
		a := acts[k]
		sort.Strings(a)
		e := Evidence{Source: "policy", Policy: t.ref.label(), PolicyType: t.ref.typ, Version: t.ref.version, Statement: intp(k.index), Sid: k.sid}
		if len(a) > maxEvidenceActions {
			e.Detail = fmt.Sprintf("%d actions; the first %d listed", len(a), maxEvidenceActions)
			a = a[:maxEvidenceActions]
		}
		e.Actions = a
		if t.mp != nil {
			e.Fields = map[string]string{"attachment_count": strconv.Itoa(len(t.mp.attached))}
		}
		ev = append(ev, e)
	}
	sort.Strings(all)
	msg := fmt.Sprintf("%s allows %s on every resource: it %s", t.ref.name, capList(all, 4), what)
	if t.mp != nil {
		msg += fmt.Sprintf(" (attached to %d principal(s))", len(t.mp.attached))
	}
	advice := "Scope these actions to the ARNs the job needs, or add conditions (for iam:PassRole, iam:PassedToService and named roles; for sts:AssumeRole, named roles)."
	rank := 1
	if t.mp != nil {
		rank = len(t.mp.attached)
	}
	r.emit(ruleID, t.subj, msg, ev, func() Remediation { return r.narrowPlan(t, all, advice) }, func(f *Finding) { f.rank = rank })
}

// narrowPlan is the plan for a grant that must be narrowed by a person:
// read the policy, rewrite the statements, write the new version (or, for
// an AWS managed policy, replace it on its holders).
func (r *reviewCtx) narrowPlan(t polTarget, actions []string, advice string) Remediation {
	rem := Remediation{Summary: advice}
	switch t.ref.typ {
	case ptCustomer:
		// The rewrite is a person's: which resources the job needs is not
		// in IAM's data. A copy of the current document as the new version
		// would change nothing, so the write is described, not prepared.
		rem.Steps = []Step{
			step("get_managed_policy_document", map[string]any{"policy_arn": t.ref.arn}, "read the version in effect"),
			manualStep("Rewrite the statements granting " + capList(actions, 5) + " with named resources or conditions, then call create_policy_version on " + t.ref.arn + " with the rewritten document and set_as_default true (IAM keeps five versions; set_default_policy_version rolls back). It reaches everyone the policy is attached to."),
		}
	case ptInline:
		rem.Steps = []Step{
			inlineStep("get", t.ref, "read it"),
			manualStep("Rewrite the statements granting " + capList(actions, 5) + " with named resources or conditions, then put the rewritten document back under the same name (" + t.ref.name + ")."),
		}
	case ptAWS:
		rem.Summary = "AWS managed policies cannot be edited: " + advice + " Write that as a customer managed policy and attach it in place of " + t.ref.name + " on each holder."
		rem.Steps = []Step{step("list_entities_for_policy", map[string]any{"policy_arn": t.ref.arn}, "who holds it"),
			manualStep("Write a customer managed policy granting what the holders use of " + t.ref.name + " (service last accessed shows it), scoped, and attach it to each holder before detaching " + t.ref.name + ": detaching first takes away access they use.")}
		for i, p := range t.mp.attached {
			if i == 10 {
				rem.Steps = append(rem.Steps, manualStep(fmt.Sprintf("and %d more holders", len(t.mp.attached)-10)))
				break
			}
			rem.Steps = append(rem.Steps, detachStep(&policyRef{arn: t.ref.arn, owner: p}, "after attaching the scoped replacement"))
		}
	}
	return rem
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/policy"
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
			Detail: fmt.Sprintf("%s matches all %d actions of %s in AWS's catalogue, on every resource", w.pattern, w.actions, w.service)})
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
		rem.Steps = []Step{
			step("get_managed_policy_document", map[string]any{"policy_arn": t.ref.arn}, "read the version in effect"),
			manualStep("Rewrite the statements granting " + capList(actions, 5) + " with named resources or conditions."),
			step("create_policy_version", map[string]any{"policy_arn": t.ref.arn, "policy_document": docObject(t.ref.doc.text), "set_as_default": true},
				"with the rewritten document in place of this copy of the current one; set_default_policy_version rolls back"),
		}
	case ptInline:
		rem.Steps = []Step{
			inlineStep("get", t.ref, "read it"),
			manualStep("Rewrite the statements granting " + capList(actions, 5) + " with named resources or conditions."),
			putInlineStep(t.ref, docObject(t.ref.doc.text), "with the rewritten document in place of this copy of the current one"),
		}
	case ptAWS:
		rem.Summary = "AWS managed policies cannot be edited: " + advice + " Write that as a customer managed policy and attach it in place of " + t.ref.name + " on each holder."
		rem.Steps = []Step{step("list_entities_for_policy", map[string]any{"policy_arn": t.ref.arn}, "who holds it")}
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

// checkEscalation runs the privilege escalation rules on every user and
// role in scope: for each published method whose actions the principal's
// policies name at all, the engine evaluates each action on "*" over the
// principal's effective policy set, strictly and relaxed (see engine.go).
// Principals that are already admin-equivalent are skipped: they have
// nothing to escalate to, and the admin rules report them.
func (r *reviewCtx) checkEscalation() {
	for _, list := range [][]*principal{r.m.users, r.m.roles} {
		for _, p := range list {
			if !p.inScope || p.set == nil {
				continue
			}
			if ok, _, _ := r.e.setAdmin(p.set); ok {
				continue
			}
			hits := r.e.escalations(p.set)
			var confirmed, potential []methodResult
			for _, h := range hits {
				if h.status == StatusConfirmed {
					confirmed = append(confirmed, h)
				} else {
					potential = append(potential, h)
				}
			}
			if len(confirmed) > 0 {
				r.escalationFinding(p, RuleEscalationConfirmed, StatusConfirmed, confirmed)
			}
			if len(potential) > 0 {
				r.escalationFinding(p, RuleEscalationPotential, StatusPotential, potential)
			}
		}
	}
}

// escalationFinding reports one principal's methods of one status, with
// the statements that grant each action as evidence.
func (r *reviewCtx) escalationFinding(p *principal, ruleID, status string, hits []methodResult) {
	u := r.e.u
	type key struct {
		policy, via string
		stmt        int
	}
	evs := map[key]*Evidence{}
	var order []key
	actionSet := map[string]bool{}
	var methods []MethodHit
	var ids []string
	for _, h := range hits {
		m := EscalationMethods[h.method]
		mh := MethodHit{ID: m.ID, Status: status, Actions: m.Actions, How: m.How, Source: m.Source}
		for _, li := range h.limited {
			why := u.names[li] + " only on some resources or under conditions"
			if len(r.e.action(p.set, li).deniedBy) > 0 {
				why = u.names[li] + " allowed on *, but a Deny with conditions may apply"
			}
			mh.Limited = append(mh.Limited, why)
		}
		methods = append(methods, mh)
		ids = append(ids, m.ID)
		for _, ai := range u.methods[h.method] {
			actionSet[u.names[ai]] = true
			ar := r.e.action(p.set, ai)
			for _, mt := range ar.by {
				id, err := strconv.Atoi(mt.SourceID)
				if err != nil {
					continue
				}
				for _, ref := range p.refsFor(id) {
					k := key{ref.label(), ref.viaText(), mt.Index}
					e := evs[k]
					if e == nil {
						e = &Evidence{Source: "policy", Policy: ref.label(), PolicyType: ref.typ, Via: ref.viaText(), Version: ref.version,
							Statement: intp(mt.Index), Sid: mt.Sid}
						evs[k] = e
						order = append(order, k)
					}
					if !contains(e.Actions, u.names[ai]) {
						e.Actions = append(e.Actions, u.names[ai])
					}
				}
			}
		}
	}
	ev := make([]Evidence, 0, len(order))
	for _, k := range order {
		e := evs[k]
		sort.Strings(e.Actions)
		ev = append(ev, *e)
	}
	if p.boundary != nil {
		ev = append(ev, Evidence{Source: "policy", Policy: p.boundary.label(), PolicyType: ptBoundary, Version: p.boundary.version,
			Detail: "the permissions boundary allows these actions"})
	}
	actions := sortedKeys(actionSet)
	msg := fmt.Sprintf("%s %s can escalate through %s", p.kind, p.name, capList(ids, 6))
	if status == StatusPotential {
		msg = fmt.Sprintf("%s %s may escalate through %s, depending on resources or conditions", p.kind, p.name, capList(ids, 6))
	}
	rank := len(methods)
	for _, h := range hits {
		if EscalationMethods[h.method].Direct {
			rank += 1000
		}
	}
	r.emit(ruleID, p.subject(), msg, ev, func() Remediation { return r.escalationPlan(p, actions, status) }, func(f *Finding) {
		f.Status, f.Methods, f.rank = status, methods, rank
	})
}

// escalationPlan verifies with IAM's own simulator, then denies the
// escalation actions through the principal's permissions boundary — the
// one change that limits this principal alone, whatever grants them.
func (r *reviewCtx) escalationPlan(p *principal, actions []string, status string) Remediation {
	rem := Remediation{Summary: "Deny " + capList(actions, 6) + " to " + p.name + " through its permissions boundary, or remove or scope the grants listed in the evidence. If the job needs some of these actions, scope them to resources that run with no more privilege than the principal has."}
	if status == StatusPotential {
		rem.Summary = "Check the resources and conditions the grants are limited to (evidence); if any reaches a more privileged role, function or user, scope them tighter or deny them through the permissions boundary."
	}
	steps := []Step{step("simulate_principal_policy", map[string]any{"policy_source_arn": p.arn, "action_names": actions}, "confirm with IAM's simulator")}
	putBoundary := "put_user_permissions_boundary"
	key := "user_name"
	if p.kind == KindRole {
		putBoundary, key = "put_role_permissions_boundary", "role_name"
	}
	awsBoundary := p.boundary != nil && strings.HasPrefix(p.boundary.arn, "arn:"+r.partition+":iam::aws:")
	if p.boundary != nil && p.boundary.doc != nil && !awsBoundary {
		if s, ok := denyInPolicy(p.boundary, "AccessReviewDenyEscalation", actions, "adds the Deny to the boundary "+p.boundary.name+" (every principal it bounds is affected)"); ok {
			steps = append(steps, s)
		}
	} else {
		// A new boundary: everything the identity policies allow (or, when
		// the principal has an AWS managed boundary, which cannot be
		// edited, everything that boundary allows) except the escalation.
		name := "AccessReviewDenyEscalation-" + shortHash(actions...)
		var doc map[string]any
		if awsBoundary && p.boundary.doc != nil {
			name = "AccessReviewDenyEscalation-" + shortHash(append([]string{p.boundary.arn}, actions...)...)
			doc = withStatement(p.boundary.doc.text, denyStatement("DenyEscalation", actions))
		} else {
			doc = map[string]any{"Version": "2012-10-17", "Statement": []any{
				map[string]any{"Sid": "AllowWhatIdentityPoliciesAllow", "Effect": "Allow", "Action": "*", "Resource": "*"},
				denyStatement("DenyEscalation", actions),
			}}
		}
		steps = append(steps,
			step("create_policy", map[string]any{"policy_name": name, "policy_document": doc, "description": "Permissions boundary: everything the identity policies allow except privilege escalation"}, "once; other findings with the same actions reuse it"),
			step(putBoundary, map[string]any{key: p.name, "permissions_boundary": "arn:" + r.partition + ":iam::" + r.account + ":policy/" + name}, "the boundary only removes: the principal keeps everything else its policies allow"),
		)
	}
	steps = append(steps, step("simulate_principal_policy", map[string]any{"policy_source_arn": p.arn, "action_names": actions}, "every action should now be denied"))
	rem.Steps = steps
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

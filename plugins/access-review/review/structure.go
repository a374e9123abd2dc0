package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Structure checks (how permissions are organised) and the
// service-last-accessed deep check.

// checkStructure runs the structure rules.
func (r *reviewCtx) checkStructure() {
	if r.g.auth == nil {
		return
	}
	for _, p := range r.m.users {
		if !p.inScope {
			continue
		}
		var names []string
		var ev []Evidence
		for _, ref := range p.own {
			if isGuard(ref) {
				continue
			}
			names = append(names, ref.name)
			ev = append(ev, Evidence{Source: "authorization_details", Policy: ref.label(), PolicyType: ref.typ, Version: ref.version})
		}
		if len(names) == 0 {
			continue
		}
		r.emit(RuleUserAttachedPolicy, p.subject(), fmt.Sprintf("user %s has %d policies of its own: %s", p.name, len(names), capList(names, 5)), ev,
			func() Remediation { return r.userGroupPlan(p) })
	}
	for _, list := range [][]*principal{r.m.groups, r.m.roles} {
		for _, p := range list {
			// A service-linked role's policies are AWS's: IAM refuses to
			// change them, so there is nothing to move.
			if !p.inScope || strings.HasPrefix(p.path, "/aws-service-role/") {
				continue
			}
			var names []string
			var ev []Evidence
			for _, ref := range p.own {
				if ref.typ != ptInline || isGuard(ref) {
					continue
				}
				names = append(names, ref.name)
				ev = append(ev, Evidence{Source: "authorization_details", Policy: ref.name, PolicyType: ptInline})
			}
			if len(names) == 0 {
				continue
			}
			r.emit(RuleInlinePolicy, p.subject(), fmt.Sprintf("%s %s has inline policies: %s", p.kind, p.name, capList(names, 5)), ev,
				func() Remediation { return r.inlineToManagedPlan(p) })
		}
	}
	if r.cfg.wants(KindAccount) {
		support := "arn:" + r.partition + ":iam::aws:policy/AWSSupportAccess"
		if !r.roleHas(support) {
			trust := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:" + r.partition + ":iam::" + r.account + ":root"}, "Action": "sts:AssumeRole",
				"Condition": map[string]any{"Bool": map[string]any{"aws:MultiFactorAuthPresent": "true"}}}}}
			r.emit(RuleNoSupportRole, subject{r.rootARN(), "account", KindAccount}, "no role has AWSSupportAccess attached",
				[]Evidence{{Source: "authorization_details", Detail: fmt.Sprintf("none of the %d roles has %s attached", len(r.m.roles), support)}},
				func() Remediation {
					return Remediation{Summary: "Create a role for managing support cases, assumable with MFA by the people who handle incidents.", Steps: []Step{
						step("create_role", map[string]any{"role_name": "AWSSupportAccessRole", "assume_role_policy_document": trust, "description": "Manage AWS Support cases (CIS 1.17)"}, "trusts this account's identities that are allowed sts:AssumeRole on it, with MFA"),
						step("attach_role_policy", map[string]any{"role_name": "AWSSupportAccessRole", "policy_arn": support}, ""),
					}}
				})
		}
	}
	if r.cfg.wants(KindAccount) {
		audit := "arn:" + r.partition + ":iam::aws:policy/SecurityAudit"
		if !r.roleHas(audit) {
			trust := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:" + r.partition + ":iam::" + r.account + ":root"}, "Action": "sts:AssumeRole",
				"Condition": map[string]any{"Bool": map[string]any{"aws:MultiFactorAuthPresent": "true"}}}}}
			r.emit(RuleNoAuditRole, subject{r.rootARN(), "account", KindAccount}, "no role has SecurityAudit attached",
				[]Evidence{{Source: "authorization_details", Detail: fmt.Sprintf("none of the %d roles has %s attached", len(r.m.roles), audit)}},
				fixed(Remediation{Summary: "Create a read-only role for security reviews, assumable with MFA by the security team.", Steps: []Step{
					step("create_role", map[string]any{"role_name": "SecurityAuditRole", "assume_role_policy_document": trust, "description": "Read-only security review"}, "trusts this account's identities that are allowed sts:AssumeRole on it, with MFA"),
					step("attach_role_policy", map[string]any{"role_name": "SecurityAuditRole", "policy_arn": audit}, ""),
				}}))
		}
	}
	for _, p := range r.m.roles {
		if !p.inScope || strings.HasPrefix(p.path, "/aws-service-role/") || r.now.Sub(p.created) < roleUnusedDays*24*time.Hour {
			continue
		}
		last := p.role.LastUsedDate
		if last != nil && r.now.Sub(*last) < roleUnusedDays*24*time.Hour {
			continue
		}
		msg := fmt.Sprintf("role %s (created %d days ago) was never used in IAM's tracking period", p.name, r.ago(p.created))
		if last != nil {
			msg = fmt.Sprintf("role %s was last used %d days ago", p.name, r.ago(*last))
		}
		r.emit(RuleRoleUnused, p.subject(), msg,
			[]Evidence{{Source: "authorization_details", Fields: map[string]string{"create_date": fmtTime(&p.created), "role_last_used": fmtTime(last), "last_used_region": orNA(p.role.LastUsedRegion)}}},
			func() Remediation {
				return Remediation{Summary: "Confirm with the role's owner that nothing needs it, then delete it.", Steps: []Step{
					step("get_role", map[string]any{"role_name": p.name}, "its policies, instance profiles and trust: who would notice"),
					step("delete_role", map[string]any{"role_name": p.name, "force": true}, "detaches its policies, deletes its inline ones and removes it from instance profiles first"),
				}}
			})
	}
}

// isGuard reports whether a policy is the Deny an escalation plan of this
// review wrote: it belongs to its one principal on purpose, so it is no
// structure finding, and no structural plan moves it into a group.
func isGuard(ref *policyRef) bool {
	return ref.name == denyPolicyName || strings.HasPrefix(ref.name, denyPolicyName+"-")
}

// roleHas reports whether some role has the managed policy attached.
func (r *reviewCtx) roleHas(arn string) bool {
	for _, p := range r.m.roles {
		for _, ref := range p.own {
			if ref.arn == arn {
				return true
			}
		}
	}
	return false
}

// The structural plans move permissions, they do not judge them: what
// they move is granted again exactly as before (to the same user through a
// group, or to the same role as a managed policy). So a policy that another
// rule says must go — admin-equivalent, a step of a path to administrator,
// or one the server's guardrails refuse to write or attach — is never
// copied or re-granted: the plan leaves it where it is, says which finding
// to fix first, and applies to what remains. Otherwise the two plans would
// contradict each other (one deletes the break-glass *:* policy, the other
// recreates it as a managed policy), and the copy would be refused anyway.

// movePlan is the part of an identity's policies a structural plan can move.
type movePlan struct {
	move []*policyRef
	held []heldPolicy
}

// heldPolicy is a policy the plan leaves in place, and why.
type heldPolicy struct {
	ref   *policyRef
	why   string
	rules []string // findings to fix first
}

// splitMovable sorts p's own policies of the given types into those a
// structural plan may move and those it must leave to other findings.
func (r *reviewCtx) splitMovable(p *principal, inlineOnly bool) movePlan {
	var mp movePlan
	escalates := r.findingsOn(p.arn, "privilege escalation", High)
	for _, ref := range p.own {
		if (inlineOnly && ref.typ != ptInline) || isGuard(ref) {
			continue
		}
		if ref.doc == nil || ref.doc.doc == nil {
			mp.held = append(mp.held, heldPolicy{ref: ref, why: "its document does not parse"})
			continue
		}
		if ok, why := r.e.isAdmin(ref.doc); ok {
			mp.held = append(mp.held, heldPolicy{ref: ref, why: "it is admin-equivalent (" + why + ")", rules: r.fixFirst(p, ref, adminRuleFor(ref))})
			continue
		}
		if ref.typ == ptInline {
			if _, bad := r.managedCopy(ref); bad != "" {
				mp.held = append(mp.held, heldPolicy{ref: ref, why: bad, rules: r.fixFirst(p, ref, "")})
				continue
			}
		} else if bad := r.guardProblems(ref.doc.text, policy.ValidateOptions{Account: r.account, Stored: true, SizeLimit: -1, Inline: true}); bad != "" {
			mp.held = append(mp.held, heldPolicy{ref: ref, why: "the server's guardrails refuse attaching it: " + bad, rules: r.fixFirst(p, ref, "")})
			continue
		}
		if len(escalates) > 0 {
			if hits := r.e.escalations(r.e.set([]*docInfo{ref.doc}, nil)); len(hits) > 0 {
				var ids []string
				for _, h := range hits {
					ids = append(ids, EscalationMethods[h.method].ID)
				}
				mp.held = append(mp.held, heldPolicy{ref: ref, why: "it grants the actions of " + capList(ids, 3) + ", a step of the escalation reported on " + p.name, rules: escalates})
				continue
			}
		}
		mp.move = append(mp.move, ref)
	}
	return mp
}

// managedCopy is an inline policy's document as a customer managed
// policy, and why it cannot be one ("" when it can): a managed policy must
// say Version 2012-10-17 (an inline one may leave it out, and then means
// 2008-10-17, under which ${…} is literal text: such a document is not
// copied, since the copy would mean something else), must fit the managed
// quota, and must pass the guardrails.
func (r *reviewCtx) managedCopy(ref *policyRef) (map[string]any, string) {
	d := docObject(ref.doc.text)
	if d == nil {
		return nil, "its document is not a JSON object"
	}
	if v, _ := d["Version"].(string); v != "2012-10-17" {
		if strings.Contains(ref.doc.text, "${") {
			return nil, "it uses ${…} under policy version " + orNA(v) + ", where they are literal text; a managed copy (version 2012-10-17) would read them as variables"
		}
		d["Version"] = "2012-10-17"
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, "its document does not encode"
	}
	if bad := r.guardProblems(string(b), policy.ValidateOptions{Account: r.account}); bad != "" {
		return nil, "the server's guardrails (or IAM's quota for a managed policy) refuse it as a managed policy: " + bad
	}
	return d, ""
}

// guardProblems validates a document as the server's guardrails do and
// says why they would refuse it ("" when they would not).
func (r *reviewCtx) guardProblems(text string, o policy.ValidateOptions) string {
	var bad []string
	for _, f := range r.validate(text, policy.IdentityPolicy, o) {
		if f.Severity == policy.SeverityError || f.Severity == policy.SeveritySecurityWarning {
			bad = append(bad, f.Code+": "+f.Message)
		}
	}
	return capList(bad, 2)
}

// adminRuleFor is the rule that reports an admin-equivalent policy of the
// reference's type.
func adminRuleFor(ref *policyRef) string {
	switch ref.typ {
	case ptInline:
		return RuleInlineAdminPolicy
	case ptAWS:
		return RuleAWSAdminAttached
	}
	return RuleCustomerAdminPolicy
}

// findingsOn lists the rules of a category, at least min severe, already
// reported on a principal or policy ARN.
func (r *reviewCtx) findingsOn(arn, category string, min Severity) []string {
	var out []string
	for _, f := range r.findings {
		if f.Principal == arn && f.Severity >= min && rulesByID[f.RuleID].Category == category {
			out = appendNew(out, f.RuleID)
		}
	}
	return out
}

// fixFirst names the findings that deal with a held policy: the
// over-privilege and escalation findings on the policy itself or on p,
// else the fallback rule.
func (r *reviewCtx) fixFirst(p *principal, ref *policyRef, fallback string) []string {
	var out []string
	for _, f := range r.findings {
		cat := rulesByID[f.RuleID].Category
		if (cat != "over-privilege" && cat != "privilege escalation") || f.Severity < Medium {
			continue
		}
		if (ref.arn != "" && f.Principal == ref.arn) || f.Principal == p.arn {
			out = appendNew(out, f.RuleID)
		}
	}
	if len(out) == 0 && fallback != "" {
		out = append(out, fallback)
	}
	return out
}

// heldText says what a plan leaves in place and which findings to fix
// first.
func heldText(held []heldPolicy) string {
	var parts []string
	var rules []string
	for _, h := range held {
		parts = append(parts, h.ref.name+" ("+h.why+")")
		for _, id := range h.rules {
			rules = appendNew(rules, id)
		}
	}
	fix := "fix its own findings first"
	if len(rules) > 0 {
		fix = "fix " + strings.Join(rules, ", ") + " first"
	}
	return "Left in place, not copied or re-granted: " + strings.Join(parts, "; ") + ". " + strings.ToUpper(fix[:1]) + fix[1:] + "; this plan applies to what remains."
}

// managedName is the name of an inline policy's managed copy: the owner's
// name and the policy's, within IAM's 128 characters (a hash of the two
// keeps long ones apart).
func managedName(owner, name string) string {
	n := owner + "-" + name
	if len(n) <= 128 {
		return n
	}
	return n[:119] + "-" + shortHash(owner, name)
}

// userGroupPlan moves a user's own policies to a group: each movable
// policy attached to (or, inline, copied as a managed policy and attached
// to) a group for the user's job, the user added, then its own copies
// removed.
func (r *reviewCtx) userGroupPlan(p *principal) Remediation {
	mp := r.splitMovable(p, false)
	if len(mp.move) == 0 {
		return Remediation{Summary: "Nothing to move into a group until the user's other findings are fixed.",
			Steps: []Step{manualStep(heldText(mp.held) + " Run the review again afterwards.")}}
	}
	group := "<group for " + p.name + "'s job, e.g. an existing one with the same policies>"
	steps := []Step{step("create_group", map[string]any{"group_name": group, "path": p.path}, "or use an existing group whose members do the same job")}
	for _, ref := range mp.move {
		if ref.typ == ptInline {
			doc, _ := r.managedCopy(ref)
			name := managedName(p.name, ref.name)
			steps = append(steps,
				step("create_policy", map[string]any{"policy_name": name, "policy_document": doc, "path": p.path}, "the inline policy as a managed one (review it: it may be broader than the job)"),
				step("attach_group_policy", map[string]any{"group_name": group, "policy_arn": "arn:" + r.partition + ":iam::" + r.account + ":policy" + p.path + name}, ""))
		} else {
			steps = append(steps, step("attach_group_policy", map[string]any{"group_name": group, "policy_arn": ref.arn}, ""))
		}
	}
	steps = append(steps, step("add_user_to_group", map[string]any{"group_name": group, "user_name": p.name}, ""))
	for _, ref := range mp.move {
		if ref.typ == ptInline {
			steps = append(steps, inlineStep("delete", ref, "once the group grants the same"))
		} else {
			steps = append(steps, detachStep(ref, "once the group grants the same"))
		}
	}
	summary := "Grant the permissions through a group for the user's job, then remove the user's own policies."
	if len(mp.held) > 0 {
		summary += " " + heldText(mp.held)
	}
	return Remediation{Summary: summary, Steps: steps}
}

// inlineToManagedPlan moves a group's or role's inline policies to
// customer managed ones attached to it.
func (r *reviewCtx) inlineToManagedPlan(p *principal) Remediation {
	mp := r.splitMovable(p, true)
	if len(mp.move) == 0 {
		return Remediation{Summary: "Nothing to move to a managed policy until the " + string(p.kind) + "'s other findings are fixed.",
			Steps: []Step{manualStep(heldText(mp.held) + " Run the review again afterwards.")}}
	}
	attachOp, key := "attach_group_policy", "group_name"
	if p.kind == KindRole {
		attachOp, key = "attach_role_policy", "role_name"
	}
	var steps []Step
	for _, ref := range mp.move {
		doc, _ := r.managedCopy(ref)
		name := managedName(p.name, ref.name)
		steps = append(steps,
			step("create_policy", map[string]any{"policy_name": name, "policy_document": doc, "path": p.path}, "the inline policy as a managed, versioned one"),
			step(attachOp, map[string]any{key: p.name, "policy_arn": "arn:" + r.partition + ":iam::" + r.account + ":policy" + p.path + name}, ""),
			inlineStep("delete", ref, "once the managed policy is attached"))
	}
	summary := "Move inline policies to customer managed policies, which are versioned, reusable and listed."
	if len(mp.held) > 0 {
		summary += " " + heldText(mp.held)
	}
	return Remediation{Summary: summary, Steps: steps}
}

// serviceLastAccessed is the service_last_accessed deep check: for users
// and roles in scope (at most maxDeepPrincipals, the most exposed first:
// those with findings, then roles, then users), IAM's job reports the
// services each may use and when it last did. Services unused for 90 days
// by a principal older than that are findings. Jobs are started in one
// batch, then read in batches until complete, with back-off.
func (r *reviewCtx) serviceLastAccessed() {
	score := map[string]Severity{}
	for _, f := range r.findings {
		if s := f.Severity + 1; s > score[f.Principal] {
			score[f.Principal] = s
		}
	}
	var cands []*principal
	for _, list := range [][]*principal{r.m.roles, r.m.users} {
		for _, p := range list {
			if p.inScope && r.now.Sub(p.created) >= serviceIdleDays*24*time.Hour {
				cands = append(cands, p)
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := score[cands[i].arn], score[cands[j].arn]
		if a != b {
			return a > b
		}
		if cands[i].kind != cands[j].kind {
			return cands[i].kind == KindRole
		}
		return cands[i].name < cands[j].name
	})
	if len(cands) > maxDeepPrincipals {
		r.notes = append(r.notes, fmt.Sprintf("service_last_accessed checked %d of %d principals older than %d days (those with findings first); run it with a narrower scope for the rest", maxDeepPrincipals, len(cands), serviceIdleDays))
		cands = cands[:maxDeepPrincipals]
	}
	if len(cands) == 0 {
		return
	}
	jobs := make([]api.GenerateServiceLastAccessedOutput, len(cands))
	reqs := make([]hostiam.Request, len(cands))
	for i, p := range cands {
		reqs[i] = hostiam.Request{Op: opGenerateLastAccess, In: api.GenerateServiceLastAccessedInput{Arn: p.arn}, Out: &jobs[i]}
	}
	errs := r.c.batch(reqs)
	failed := 0
	var firstErr error
	note := func(err error) {
		failed++
		if firstErr == nil {
			firstErr = err
		}
	}
	results := make([]*api.ServiceLastAccessedOutput, len(cands))
	var pending []int
	for i := range cands {
		if errs[i] != nil {
			note(errs[i])
			continue
		}
		pending = append(pending, i)
	}
	wait := firstBackoff
	for attempt := 1; len(pending) > 0 && attempt <= lastAccessedAttempts; attempt++ {
		outs := make([]api.ServiceLastAccessedOutput, len(pending))
		reqs = make([]hostiam.Request, len(pending))
		for k, i := range pending {
			reqs[k] = hostiam.Request{Op: opGetLastAccess, In: api.GetServiceLastAccessedInput{JobID: jobs[i].JobID, PageInput: api.PageInput{MaxItems: lastAccessedPageItems}}, Out: &outs[k]}
		}
		errs = r.c.batch(reqs)
		var again []int
		for k, i := range pending {
			switch {
			case errs[k] != nil:
				note(errs[k])
			case outs[k].JobStatus == "IN_PROGRESS":
				again = append(again, i)
			case outs[k].JobStatus == "FAILED":
				note(fmt.Errorf("the job for %s failed: %s", cands[i].arn, outs[k].Error))
			default:
				res := outs[k]
				// Rare: more services than one page holds.
				for res.IsTruncated && res.Marker != "" {
					var more api.ServiceLastAccessedOutput
					if err := r.c.call(opGetLastAccess, api.GetServiceLastAccessedInput{JobID: jobs[i].JobID, PageInput: api.PageInput{MaxItems: lastAccessedPageItems, Marker: res.Marker}}, &more); err != nil {
						note(err)
						break
					}
					res.ServicesLastAccessed = append(res.ServicesLastAccessed, more.ServicesLastAccessed...)
					res.IsTruncated, res.Marker = more.IsTruncated, more.Marker
				}
				results[i] = &res
			}
		}
		pending = again
		if len(pending) > 0 {
			r.c.sleep(wait)
			wait = min(2*wait, maxBackoff)
		}
	}
	if len(pending) > 0 {
		note(fmt.Errorf("%d jobs were still in progress after %d attempts", len(pending), lastAccessedAttempts))
	}
	if failed > 0 {
		r.g.fail("service last accessed", opGenerateLastAccess+", "+opGetLastAccess, firstErr,
			fmt.Sprintf("%d principals were not checked for unused services", failed))
	}
	for i, p := range cands {
		res := results[i]
		if res == nil {
			continue
		}
		var idle []string
		var fields = map[string]string{}
		for _, s := range res.ServicesLastAccessed {
			if s.LastAuthenticated != nil && r.now.Sub(*s.LastAuthenticated) < serviceIdleDays*24*time.Hour {
				continue
			}
			idle = append(idle, s.ServiceNamespace)
			if len(fields) < maxEvidenceActions {
				fields[s.ServiceNamespace] = fmtTime(s.LastAuthenticated)
			}
		}
		if len(idle) == 0 {
			continue
		}
		sort.Strings(idle)
		r.emit(RuleUnusedServices, p.subject(), fmt.Sprintf("%s %s may use %d of %d services it has not used for %d days: %s", p.kind, p.name, len(idle), len(res.ServicesLastAccessed), serviceIdleDays, capList(idle, 8)),
			[]Evidence{{Source: "service_last_accessed", Fields: fields, Detail: "last authenticated per service namespace (N/A: never in IAM's tracking period)"}},
			func() Remediation {
				return Remediation{Summary: "Remove the unused services from the principal's policies (policies shared with others: check their use first).", Steps: []Step{
					step(opGenerateLastAccess, map[string]any{"arn": p.arn, "granularity": "ACTION_LEVEL"}, "action-level detail for the services it does use"),
					manualStep("Rewrite the policies listed by get_" + string(p.kind) + " to name only the services (and actions) used: " + capList(idle, 8) + " can go."),
				}}
			})
	}
}

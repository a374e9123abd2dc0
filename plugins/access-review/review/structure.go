package review

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/plugins/internal/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Structure checks (how permissions are organised) and the
// service-last-accessed deep check.

// checkStructure runs the structure rules.
func (r *reviewCtx) checkStructure() {
	if r.g.auth == nil {
		return
	}
	for _, p := range r.m.users {
		if !p.inScope || len(p.own) == 0 {
			continue
		}
		var names []string
		var ev []Evidence
		var steps []Step
		group := "<group for " + p.name + "'s job, e.g. an existing one with the same policies>"
		steps = append(steps, step("create_group", map[string]any{"group_name": group, "path": p.path}, "or use an existing group whose members do the same job"))
		for _, ref := range p.own {
			names = append(names, ref.name)
			ev = append(ev, Evidence{Source: "authorization_details", Policy: ref.label(), PolicyType: ref.typ, Version: ref.version})
			if ref.typ == ptInline {
				steps = append(steps,
					step("create_policy", map[string]any{"policy_name": p.name + "-" + ref.name, "policy_document": docObject(ref.doc.text), "path": p.path}, "the inline policy as a managed one (review it: it may be broader than the job)"),
					step("attach_group_policy", map[string]any{"group_name": group, "policy_arn": "arn:" + r.partition + ":iam::" + r.account + ":policy" + p.path + p.name + "-" + ref.name}, ""))
			} else {
				steps = append(steps, step("attach_group_policy", map[string]any{"group_name": group, "policy_arn": ref.arn}, ""))
			}
		}
		steps = append(steps, step("add_user_to_group", map[string]any{"group_name": group, "user_name": p.name}, ""))
		for _, ref := range p.own {
			if ref.typ == ptInline {
				steps = append(steps, inlineStep("delete", ref, "once the group grants the same"))
			} else {
				steps = append(steps, detachStep(ref, "once the group grants the same"))
			}
		}
		r.emit(RuleUserAttachedPolicy, p.subject(), fmt.Sprintf("user %s has %d policies of its own: %s", p.name, len(p.own), capList(names, 5)), ev,
			func() Remediation {
				return Remediation{Summary: "Grant the permissions through a group for the user's job, then remove the user's own policies.", Steps: steps}
			})
	}
	for _, list := range [][]*principal{r.m.groups, r.m.roles} {
		for _, p := range list {
			if !p.inScope {
				continue
			}
			var names []string
			var ev []Evidence
			var steps []Step
			for _, ref := range p.own {
				if ref.typ != ptInline {
					continue
				}
				names = append(names, ref.name)
				ev = append(ev, Evidence{Source: "authorization_details", Policy: ref.name, PolicyType: ptInline})
				arn := "arn:" + r.partition + ":iam::" + r.account + ":policy" + p.path + p.name + "-" + ref.name
				attachOp, key := "attach_group_policy", "group_name"
				if p.kind == KindRole {
					attachOp, key = "attach_role_policy", "role_name"
				}
				steps = append(steps,
					step("create_policy", map[string]any{"policy_name": p.name + "-" + ref.name, "policy_document": docObject(ref.doc.text), "path": p.path}, "the inline policy as a managed, versioned one"),
					step(attachOp, map[string]any{key: p.name, "policy_arn": arn}, ""),
					inlineStep("delete", ref, "once the managed policy is attached"))
			}
			if len(names) == 0 {
				continue
			}
			r.emit(RuleInlinePolicy, p.subject(), fmt.Sprintf("%s %s has inline policies: %s", p.kind, p.name, capList(names, 5)), ev,
				func() Remediation {
					return Remediation{Summary: "Move inline policies to customer managed policies, which are versioned, reusable and listed.", Steps: steps}
				})
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

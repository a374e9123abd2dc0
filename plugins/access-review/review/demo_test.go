package review

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// The demo organisation's planted problems, each found where it was
// planted; and what the review costs there.
func TestSandboxDemoSeed(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, h := s.review(Input{MinSeverity: "info"})
	want := []struct{ rule, principal string }{
		{RuleRootAccessKey, ":root"},
		{RuleRootNoMFA, ":root"},
		{RuleRootRecentlyUsed, ":root"},
		{RuleAdminNoMFA, "alice.nguyen"},
		{RuleConsoleNoMFA, "alice.nguyen"},
		{RuleConsoleNoMFA, "jonas.berg"},
		{RuleConsoleNoMFA, "former.employee"},
		{RuleConsoleUnused, "former.employee"},
		{RuleKeyNotRotated, "ci-deploy"},
		{RuleKeyUnused, "legacy-etl"},
		{RuleTwoActiveKeys, "isla.moreau"},
		{RulePasswordPolicyWeak, ":root"},
		{RuleAWSAdminAttached, "group/Admins"},
		{RuleInlineAdminPolicy, "quinn.taylor"},
		{RuleUnattachedAdmin, "policy/LegacyAdmin"},
		{RuleDataExfiltration, "policy/service/ReadAllSecrets"},
		{RulePassRoleOnStar, "policy/eng/SelfServiceIAM"},
		{RuleEscalationConfirmed, "liam.obrien"},
		{RuleTrustAnyone, "role/open-trust-role"},
		{RuleTrustCrossAccount, "role/partners/partner-audit"},
		{RuleTrustOIDCNoSub, "role/ci/github-deploy"},
		{RuleUserAttachedPolicy, "quinn.taylor"},
		{RuleUserAttachedPolicy, "liam.obrien"},
	}
	for _, w := range want {
		if len(find(rep, w.rule, w.principal)) != 1 {
			t.Errorf("demo: no %s on %s", w.rule, w.principal)
		}
	}
	// What was planted right is not reported.
	for _, miss := range []struct{ rule, principal string }{
		{RuleTrustCrossAccount, "vendor-integration"}, {RuleTrustCrossAccountCnd, "vendor-integration"},
		{RuleConsoleNoMFA, "bob.martin"}, {RuleAdminNoMFA, "bob.martin"}, {RulePasswordPolicyNone, ""},
		{RuleTrustServiceNoSource, "ec2-app-role"},
	} {
		if len(find(rep, miss.rule, miss.principal)) != 0 {
			t.Errorf("demo: %s reported on %s", miss.rule, miss.principal)
		}
	}
	// Escalation by target: the principals with a path to administrator
	// are critical, each with its path; those holding a method's actions
	// with nothing privileged to reach are low.
	esc := find(rep, RuleEscalationConfirmed, "")
	var names []string
	for _, f := range esc {
		names = append(names, f.PrincipalName)
		if f.Severity != Critical || len(f.Path) == 0 {
			t.Errorf("%s: %s, path %s", f.PrincipalName, f.Severity, pathJSON(f))
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "farid.haddad,jonas.berg,kara.singh,liam.obrien,rosa.silva,support-automation" {
		t.Errorf("confirmed escalations: %v", names)
	}
	liam := mustFind(t, rep, RuleEscalationConfirmed, "liam.obrien")
	if liam.Path[0].Kind != edgeSelf || !contains(liam.Path[0].Actions, "iam:CreatePolicyVersion") {
		t.Errorf("liam.obrien's path %s", pathJSON(liam))
	}
	found := false
	for _, e := range liam.Evidence {
		found = found || (strings.HasSuffix(e.Policy, "policy/eng/SelfServiceIAM") && contains(e.Actions, "iam:CreatePolicyVersion") && e.Statement != nil)
	}
	if !found {
		t.Errorf("liam.obrien's evidence does not name SelfServiceIAM's statement: %+v", liam.Evidence)
	}
	// The planted chain: Support → support-automation → ops-admin.
	jonas := mustFind(t, rep, RuleEscalationConfirmed, "jonas.berg")
	if len(jonas.Path) != 3 || jonas.Path[0].Kind != edgeAssume || !strings.HasSuffix(jonas.Path[0].To, "role/ops/support-automation") ||
		!strings.HasSuffix(jonas.Path[1].To, "role/ops/ops-admin") || jonas.Path[2].Kind != "admin-equivalent" {
		t.Errorf("jonas.berg's path %s", pathJSON(jonas))
	}
	if len(find(rep, RuleEscalationPotential, "")) != 0 {
		t.Errorf("potential escalations in the demo: %v", ruleSummary(rep))
	}
	for _, name := range []string{"carol.diaz", "dan.okafor", "erin.walsh", "sam.lee", "tara.bose", "github-deploy", "ci-deploy"} {
		if f := mustFind(t, rep, RuleEscalationNoTarget, name); f.Severity != Low {
			t.Errorf("%s: %s", name, f.Severity)
		}
	}
	// Every plan was checked; none that passes writes what the guardrails
	// refuse (TestDemoPassingPlansPassTheDryRun runs them), and the two
	// that would together remove every administrator do not both pass.
	admins := 0
	for _, id := range []string{RuleAWSAdminAttached, RuleInlineAdminPolicy} {
		for _, f := range find(rep, id, "") {
			if f.Remediation.Check.Result != CheckRefused {
				admins++
			}
		}
	}
	if admins != 2 {
		t.Errorf("%d plans removing administrators pass; the last must keep one", admins)
	}
	// Five calls, whatever the number of principals: one page of
	// authorization details, the report (generate, get), the password
	// policy, the summary.
	if h.Calls() != 5 || rep.Header.IAMCalls != 5 || rep.Header.Reviewed.Users != 25 {
		t.Errorf("demo review: %d calls (%v), header %d, %d users", h.Calls(), h.Ops(), rep.Header.IAMCalls, rep.Header.Reviewed.Users)
	}
	if rep.Header.AccountID != sandbox.AccountID || !rep.Header.ReadOnly || rep.Header.CredentialReportGeneratedAt == nil {
		t.Errorf("header %+v", rep.Header)
	}
	checkPlans(t, rep)
	msgs := h.ProgressMessages()
	if len(msgs) < 6 || !strings.HasPrefix(msgs[len(msgs)-1], "done") {
		t.Errorf("progress %v", msgs)
	}
	t.Logf("demo: %d findings (%v), %d IAM calls", rep.Summary.Total, rep.Summary.BySeverity, rep.Header.IAMCalls)

	// The deep checks: unused services from the seeded history, and key
	// ids in the plans.
	rep, h = s.review(Input{Include: []string{IncludeServiceLastAccessed, IncludeKeyLastUsed}})
	if len(find(rep, RuleUnusedServices, "")) == 0 {
		t.Error("service_last_accessed found no unused services in the demo")
	}
	old := mustFind(t, rep, RuleKeyNotRotated, "ci-deploy")
	id := ""
	for _, st := range old.Remediation.Steps {
		if st.Op == "update_access_key" {
			id, _ = st.Args["access_key_id"].(string)
		}
	}
	if !strings.HasPrefix(id, "AKIA") || old.Evidence[0].Fields["access_key_id"] != id {
		t.Errorf("key_last_used did not name ci-deploy's key: %q, %+v", id, old.Evidence)
	}
	if n := h.Ops()[opGenerateLastAccess]; n == 0 || n > maxDeepPrincipals {
		t.Errorf("%d service-last-accessed jobs", n)
	}
	checkPlans(t, rep)
}

// Adding 200 users (in groups, with keys) adds no IAM call: the calls grow
// with pages of 1,000 entities, not with principals.
func TestSandboxCallsDoNotGrowWithPrincipals(t *testing.T) {
	s := newSandbox(t, "demo", false)
	_, h := s.review(Input{})
	before := h.Calls()
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("bulk-%03d", i)
		s.user(name)
		s.join(name, []string{"Developers", "DataScience", "Support"}[i%3])
		if i%4 == 0 {
			s.at(30, func() { s.key(name) })
		}
	}
	// Within four hours IAM serves the same credential report: the review
	// says which users it does not cover yet.
	rep, _ := s.review(Input{})
	if len(rep.Header.Notes) == 0 || !strings.Contains(strings.Join(rep.Header.Notes, " "), "200 users are newer than the credential report") {
		t.Errorf("notes %q", rep.Header.Notes)
	}
	s.advance(5 * time.Hour)
	rep, h = s.review(Input{})
	if h.Calls() != before || rep.Header.Reviewed.Users != 225 {
		t.Fatalf("calls went from %d to %d (%v) for 200 more users", before, h.Calls(), h.Ops())
	}
	if n := len(find(rep, RuleKeyUnused, "")); n < 50 {
		t.Errorf("the new never-used keys are not all reviewed: %d", n)
	}
}

// The review needs nothing but read operations: every operation it
// declares is read-only as the catalogue rates it, and it runs on a
// read-only server granted exactly those (deny by default), with nothing
// unreadable.
func TestSandboxReadOnly(t *testing.T) {
	for _, op := range Operations {
		o, ok := api.Lookup(op)
		if !ok || o.Mutates {
			t.Errorf("%s: in catalogue %v, mutates %v", op, ok, o.Mutates)
		}
	}
	s := newSandbox(t, "demo", false)
	rep, _ := s.review(Input{Include: []string{IncludeServiceLastAccessed, IncludeKeyLastUsed}})
	if len(rep.Header.Unreadable) != 0 || !rep.Header.ReadOnly {
		t.Fatalf("read-only review: unreadable %+v", rep.Header.Unreadable)
	}
	// Without the deep checks' grants, the deep checks say what they miss
	// and the rest runs.
	h := hostiamtest.New(t, hostiamtest.Options{Sandbox: s.sb, Plugin: "access-review", ReadOnly: true,
		Grants: []string{opAuthDetails, opGenerateCredReport, opGetCredReport, opPasswordPolicy, opAccountSummary}})
	rep, err := Run(h, Input{Include: []string{IncludeServiceLastAccessed}}, Options{Now: func() time.Time { return s.now }, Sleep: func(time.Duration) {}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Header.Unreadable) != 1 || rep.Header.Unreadable[0].Code != string(api.NotGranted) || len(find(rep, RuleRootNoMFA, "")) != 1 {
		t.Fatalf("unreadable %+v", rep.Header.Unreadable)
	}
}

// Throttling that outlasts the SDK's retries is retried by the review; a
// flaky account still gives a complete review.
func TestSandboxThrottling(t *testing.T) {
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", Faults: sandbox.Faults{ThrottleRate: 0.25, Seed: 7}})
	if err != nil {
		t.Fatal(err)
	}
	h := hostiamtest.New(t, hostiamtest.Options{Sandbox: sb, Plugin: "access-review", Grants: Operations, ReadOnly: true})
	rep, err := Run(h, Input{Include: []string{IncludeKeyLastUsed}}, Options{Sleep: func(time.Duration) {}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Header.Unreadable) != 0 || len(find(rep, RuleRootNoMFA, "")) != 1 {
		t.Fatalf("throttled review: unreadable %+v", rep.Header.Unreadable)
	}
	t.Logf("with 25%% throttling: %d calls", rep.Header.IAMCalls)
}

// Scope narrows what is reported, and what is read.
func TestSandboxScope(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, h := s.review(Input{Scope: "roles"})
	for _, f := range rep.Findings {
		if f.PrincipalType != KindRole && f.PrincipalType != KindPolicy {
			t.Errorf("scope roles reported %s on %s", f.RuleID, f.Principal)
		}
	}
	if h.Ops()[opGetCredReport] != 0 || len(find(rep, RuleTrustOIDCNoSub, "github-deploy")) != 1 {
		t.Errorf("scope roles: %v, %v", h.Ops(), ruleSummary(rep))
	}
	rep, _ = s.review(Input{Scope: "/service/"})
	for _, f := range rep.Findings {
		// A policy is in scope when it is attached to a principal that is.
		if !strings.Contains(f.Principal, "/service/") && f.PrincipalType != KindPolicy {
			t.Errorf("scope /service/ reported %s on %s", f.RuleID, f.Principal)
		}
	}
	if len(find(rep, RuleKeyNotRotated, "ci-deploy")) != 1 {
		t.Errorf("scope /service/: %v", ruleSummary(rep))
	}
	rep, _ = s.review(Input{Scope: "account"})
	for _, f := range rep.Findings {
		if f.PrincipalType != KindAccount {
			t.Errorf("scope account reported %s on %s", f.RuleID, f.Principal)
		}
	}
}

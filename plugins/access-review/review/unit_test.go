package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/policy/iamdata"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// ---- the tables ----

func TestRuleTable(t *testing.T) {
	if len(Rules) != len(RuleIDs()) {
		t.Fatal("duplicate rule ids")
	}
	for _, r := range Rules {
		if !strings.HasPrefix(r.ID, "IAM.") || strings.ToUpper(r.ID) != r.ID {
			t.Errorf("%s: ids are IAM.CATEGORY.NAME in upper case", r.ID)
		}
		for _, ref := range r.References {
			if !strings.HasPrefix(ref.URL, "https://") || ref.Title == "" {
				t.Errorf("%s: reference %+v", r.ID, ref)
			}
		}
	}
}

// Every rule is tabled in docs/access-review.md, with its severity.
func TestDocsTableEveryRule(t *testing.T) {
	b, err := os.ReadFile("../../../docs/access-review.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range Rules {
		line := ""
		for _, l := range strings.Split(doc, "\n") {
			if strings.HasPrefix(l, "| `"+r.ID+"`") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("docs/access-review.md has no table row for %s", r.ID)
			continue
		}
		if !strings.Contains(line, "| "+r.Severity.String()+" |") {
			t.Errorf("docs row of %s does not say %s: %s", r.ID, r.Severity, line)
		}
		for _, p := range r.Prowler {
			id, _, _ := strings.Cut(p, " ")
			if !strings.Contains(line, id) {
				t.Errorf("docs row of %s does not name prowler's %s", r.ID, id)
			}
		}
	}
	for _, m := range EscalationMethods {
		if !strings.Contains(doc, m.ID) {
			t.Errorf("docs/access-review.md does not list escalation method %s", m.ID)
		}
	}
}

// Every action the tables name is in AWS's action reference, spelled as AWS does,
// so that a typo cannot silently disable a method.
func TestTableActionsAreInTheCatalogue(t *testing.T) {
	var all []string
	for _, m := range EscalationMethods {
		all = append(all, m.Actions...)
	}
	all = append(all, dataExfiltrationActions...)
	all = append(all, credentialsExposureActions...)
	all = append(all, passRoleAction, assumeRoleAction, adminProbeAction)
	for _, a := range all {
		info, ok := iamdata.Action(a)
		if !ok {
			t.Errorf("%s is not in AWS's action reference", a)
			continue
		}
		if info.FullName() != a {
			t.Errorf("%s is spelled %s in AWS's action reference", a, info.FullName())
		}
	}
	if u := universe(); len(u.extra) != 0 {
		t.Errorf("actions outside the catalogue: %v", u.extra)
	}
	if n := len(universe().cat[catResourceExp]); n < 100 {
		t.Errorf("only %d resource-exposure actions: the catalogue's access levels changed?", n)
	}
}

func TestParseInput(t *testing.T) {
	good := []struct {
		in    Input
		scope string
		kinds []Kind
	}{
		{Input{}, "all", []Kind{KindAccount, KindUser, KindGroup, KindRole, KindPolicy}},
		{Input{Scope: "roles, users"}, "roles,users", []Kind{KindRole, KindUser}},
		{Input{Scope: "/eng/"}, "/eng/", []Kind{KindUser, KindGroup, KindRole, KindPolicy}},
		{Input{Scope: "account", MinSeverity: "HIGH", Include: []string{"key_last_used"}, MaxFindingsPerRule: 3}, "account", []Kind{KindAccount}},
	}
	for _, g := range good {
		c, err := parseInput(g.in)
		if err != nil {
			t.Errorf("%+v: %v", g.in, err)
			continue
		}
		if c.scopeText != g.scope || len(c.kinds) != len(g.kinds) {
			t.Errorf("%+v: scope %q kinds %v", g.in, c.scopeText, c.kinds)
		}
		for _, k := range g.kinds {
			if !c.kinds[k] {
				t.Errorf("%+v: kind %s missing", g.in, k)
			}
		}
	}
	bad := map[string]Input{
		"not a scope":                 {Scope: "everything"},
		"starts and ends with /":      {Scope: "/eng"},
		"all cannot be combined":      {Scope: "all,users"},
		"min_severity":                {MinSeverity: "urgent"},
		"the deep checks are":         {Include: []string{"everything"}},
		"max_findings_per_rule 501":   {MaxFindingsPerRule: 501},
		"max_findings_per_rule -1: ":  {MaxFindingsPerRule: -1},
		"no empty segment, spaces, c": {Scope: "/a,b/"},
	}
	for want, in := range bad {
		_, err := parseInput(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: error %v, want one saying %q", in, err, want)
		}
	}
	// Run reports bad input as InvalidInput, before any IAM call.
	h := newFixture().host(1000)
	_, err := Run(h, Input{Scope: "nope"}, Options{})
	if e, ok := err.(*api.Error); !ok || e.Code != api.InvalidInput || h.total() != 0 {
		t.Fatalf("Run with bad input: %v after %d calls", err, h.total())
	}
}

// ---- the engine on crafted documents ----

func mustDoc(t *testing.T, e *engine, text string) *docInfo {
	t.Helper()
	d := e.doc(text)
	if d.doc == nil {
		t.Fatalf("%s: %v", text, d.err)
	}
	return d
}

func methodStatus(e *engine, s *policySet, id string) string {
	for _, h := range e.escalations(s) {
		if EscalationMethods[h.method].ID == id {
			return h.status
		}
	}
	return ""
}

func TestEscalationConfirmedPotentialAbsent(t *testing.T) {
	e := newEngine()
	allow := func(action, resource string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":%q}]}`, action, resource)
	}
	cases := []struct {
		name     string
		docs     []string
		boundary string
		method   string
		want     string
	}{
		{"on star", []string{allow("iam:CreatePolicyVersion", "*")}, "", "CreatePolicyVersion", StatusConfirmed},
		{"wildcard action", []string{allow("iam:Create*", "*")}, "", "CreatePolicyVersion", StatusConfirmed},
		{"named resource", []string{allow("iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/team-*")}, "", "CreatePolicyVersion", StatusPotential},
		{"two policies make one method", []string{allow("iam:PassRole", "*"), allow("ec2:RunInstances", "*")}, "", "PassRole+EC2", StatusConfirmed},
		{"one of two actions missing", []string{allow("iam:PassRole", "*")}, "", "PassRole+EC2", ""},
		{"PassRole scoped", []string{allow("iam:PassRole", "arn:aws:iam::123456789012:role/app"), allow("ec2:RunInstances", "*")}, "", "PassRole+EC2", StatusPotential},
		{"conditioned", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"StringEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]}`}, "", "AttachUserPolicy", StatusPotential},
		{"denied", []string{allow("iam:*", "*"), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*"}]}`}, "", "AttachUserPolicy", ""},
		{"conditional deny", []string{allow("iam:AttachUserPolicy", "*"), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`}, "", "AttachUserPolicy", StatusPotential},
		{"boundary blocks", []string{allow("iam:AttachUserPolicy", "*")}, allow("s3:*", "*"), "AttachUserPolicy", ""},
		{"boundary allows", []string{allow("lambda:*", "*")}, allow("lambda:*", "*"), "UpdateFunctionCode", StatusConfirmed},
		{"NotAction leaves it open", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}`}, "", "PassRole+EC2", ""},
		{"NotAction leaves compute open", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}]}`}, "", "SSMSendCommand", StatusConfirmed},
		{"nothing", []string{allow("s3:GetObject", "*")}, "", "CreatePolicyVersion", ""},
	}
	for _, c := range cases {
		var docs []*docInfo
		for _, d := range c.docs {
			docs = append(docs, mustDoc(t, e, d))
		}
		var b *docInfo
		if c.boundary != "" {
			b = mustDoc(t, e, c.boundary)
		}
		if got := methodStatus(e, e.set(docs, b), c.method); got != c.want {
			t.Errorf("%s: %s is %q, want %q", c.name, c.method, got, c.want)
		}
	}
}

func TestAdminEquivalence(t *testing.T) {
	e := newEngine()
	cases := []struct {
		docs []string
		want bool
	}{
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, true},
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`}, true},
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`}, true},
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`}, false},
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`}, false},
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"}]}`}, false},
		// A Deny in another of the principal's policies takes IAM away.
		{[]string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`}, false},
	}
	for _, c := range cases {
		var docs []*docInfo
		for _, d := range c.docs {
			docs = append(docs, mustDoc(t, e, d))
		}
		if got, why, _ := e.setAdmin(e.set(docs, nil)); got != c.want {
			t.Errorf("%v: admin %v (%s), want %v", c.docs, got, why, c.want)
		}
	}
}

// The engine parses each distinct document once and evaluates each
// distinct set once, however many principals share them.
func TestCachesAreShared(t *testing.T) {
	e := newEngine()
	text := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`
	a, b := e.doc(text), e.doc(text)
	if a != b || len(e.docs) != 1 {
		t.Fatal("the same text parsed twice")
	}
	s1, s2 := e.set([]*docInfo{a, a}, nil), e.set([]*docInfo{a}, nil)
	if s1 != s2 || len(e.sets) != 1 {
		t.Fatal("the same set evaluated twice")
	}
}

func TestWildcards(t *testing.T) {
	e := newEngine()
	d := mustDoc(t, e, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Keys","Effect":"Allow","Action":["kms:*","s3:Get*"],"Resource":"*"},
		{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/app"},
		{"Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`)
	ws := e.wildcards(d)
	if len(ws) != 1 || ws[0].service != "kms" || ws[0].statement != 0 || ws[0].sid != "Keys" {
		t.Fatalf("wildcards %+v, want kms:* in statement 0 only (s3:Get* is not the whole service, dynamodb:* is on a named table, sqs:* is conditioned)", ws)
	}
}

// ---- rules on a crafted account ----

func TestCleanFixtureHasNoFindings(t *testing.T) {
	f := newFixture()
	f.group("Engineers", nil, f.customerPolicy("EngRead", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::eng","arn:aws:s3:::eng/*"]}]}`))
	f.user("ana", "/eng/", []string{"Engineers"}, nil)
	row := f.row("ana")
	row.PasswordEnabled, row.MFAActive, row.PasswordLastUsed = true, true, daysBefore(2)
	row.AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(30), LastUsedDate: daysBefore(1)}}
	rep := reviewAll(t, f.host(1000))
	if rep.Summary.Total != 0 {
		t.Fatalf("a clean account has findings: %v", ruleSummary(rep))
	}
	if !strings.Contains(rep.Markdown, "No findings") {
		t.Errorf("markdown of a clean account:\n%s", rep.Markdown)
	}
}

func TestCredentialRulesOnCraftedReport(t *testing.T) {
	f := newFixture()
	admin := f.awsPolicy("AdministratorAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	f.group("Admins", nil, admin)
	f.user("boss", "/", []string{"Admins"}, nil)
	f.row("boss").PasswordEnabled = true
	f.row("boss").PasswordLastUsed = daysBefore(1)
	f.user("old-key", "/svc/", nil, nil).User.CreateDate = *daysBefore(500)
	f.row("old-key").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(200), LastUsedDate: daysBefore(1)}}
	f.user("idle-key", "/svc/", nil, nil)
	f.row("idle-key").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(60), LastUsedDate: daysBefore(50)}}
	f.user("fresh-key", "/svc/", nil, nil) // never used, but only 3 days old: not yet
	f.row("fresh-key").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(3)}}
	f.user("two-keys", "/svc/", nil, nil)
	f.row("two-keys").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(40), LastUsedDate: daysBefore(1)},
		{Slot: 2, Active: true, LastRotated: daysBefore(10), LastUsedDate: daysBefore(1)}}
	f.user("inactive-old", "/svc/", nil, nil) // inactive keys are no finding
	f.row("inactive-old").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: false, LastRotated: daysBefore(900)}}
	f.user("gone", "/", nil, nil)
	f.row("gone").PasswordEnabled, f.row("gone").MFAActive, f.row("gone").PasswordLastUsed = true, true, daysBefore(100)
	f.user("never", "/", nil, nil)
	f.row("never").PasswordEnabled, f.row("never").MFAActive, f.row("never").PasswordLastChanged = true, true, daysBefore(90)
	f.report.Rows[0].AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(700), LastUsedDate: daysBefore(5)}}
	f.report.Rows[0].MFAActive = false
	f.summary = map[string]int{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}
	f.pwd.PasswordPolicy.MinimumPasswordLength = 8
	f.pwd.PasswordPolicy.RequireSymbols = false

	rep := reviewAll(t, f.host(1000))
	root := mustFind(t, rep, RuleRootAccessKey, ":root")
	if root.Evidence[0].Fields["access_key_1_active"] != "true" || root.Evidence[1].Fields["AccountAccessKeysPresent"] != "1" {
		t.Errorf("root key evidence %+v", root.Evidence)
	}
	mustFind(t, rep, RuleRootNoMFA, ":root")
	mustFind(t, rep, RuleRootRecentlyUsed, ":root")
	adm := mustFind(t, rep, RuleAdminNoMFA, "boss")
	if adm.Evidence[1].Policy != admin || adm.Evidence[1].Via != "group Admins" {
		t.Errorf("admin evidence %+v", adm.Evidence)
	}
	mustFind(t, rep, RuleConsoleNoMFA, "boss")
	old := mustFind(t, rep, RuleKeyNotRotated, "old-key")
	if old.Evidence[0].Fields["access_key_1_last_rotated"] != daysBefore(200).Format(time.RFC3339) {
		t.Errorf("old key evidence %+v", old.Evidence)
	}
	if len(find(rep, RuleKeyNotRotated, "two-keys")) != 0 || len(find(rep, RuleKeyNotRotated, "inactive-old")) != 0 {
		t.Error("a 40-day-old key or an inactive key is not due for rotation")
	}
	mustFind(t, rep, RuleKeyUnused, "idle-key")
	if len(find(rep, RuleKeyUnused, "fresh-key")) != 0 {
		t.Error("a 3-day-old unused key is flagged")
	}
	two := mustFind(t, rep, RuleTwoActiveKeys, "two-keys")
	if len(two.Evidence) != 2 {
		t.Errorf("two keys evidence %+v", two.Evidence)
	}
	mustFind(t, rep, RuleConsoleUnused, "gone")
	mustFind(t, rep, RuleConsoleUnused, "never")
	weak := mustFind(t, rep, RulePasswordPolicyWeak, "")
	if !strings.Contains(weak.Message, "minimum length 8") || !strings.Contains(weak.Message, "symbols") || strings.Contains(weak.Message, "numbers") {
		t.Errorf("weak password policy message %q", weak.Message)
	}

	f.pwd = api.PasswordPolicyOutput{Present: false}
	rep = reviewAll(t, f.host(1000))
	mustFind(t, rep, RulePasswordPolicyNone, "")
	if len(find(rep, RulePasswordPolicyWeak, "")) != 0 {
		t.Error("a missing policy is also reported weak")
	}
}

func TestPolicyRulesOnCraftedAccount(t *testing.T) {
	f := newFixture()
	admin := f.awsPolicy("AdministratorAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	notS3 := f.customerPolicy("AlmostAll", `{"Version":"2012-10-17","Statement":[{"Sid":"All","Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`)
	legacy := f.customerPolicy("Legacy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	kms := f.customerPolicy("KeyAdmin", `{"Version":"2012-10-17","Statement":[{"Sid":"Keys","Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)
	secrets := f.customerPolicy("Secrets", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ec2:GetPasswordData","s3:PutBucketPolicy","iam:PassRole","sts:AssumeRole"],"Resource":"*"}]}`)
	scoped := f.customerPolicy("Scoped", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","iam:PassRole"],"Resource":"arn:aws:secretsmanager:*:*:secret:app-*"}]}`)
	f.role("admin-role", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, admin)
	f.group("Ops", map[string]string{"ops-all": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, notS3, kms, secrets, scoped)
	_ = legacy

	rep := reviewAll(t, f.host(1000))
	a := mustFind(t, rep, RuleAWSAdminAttached, "role/admin-role")
	if a.Evidence[0].Policy != admin || a.Evidence[0].Statement == nil || *a.Evidence[0].Statement != 0 {
		t.Errorf("AWS admin evidence %+v", a.Evidence)
	}
	c := mustFind(t, rep, RuleCustomerAdminPolicy, "policy/AlmostAll")
	if c.Evidence[0].Sid != "All" || !strings.Contains(c.Evidence[0].Fields["attached_to"], "group Ops") {
		t.Errorf("customer admin evidence %+v", c.Evidence)
	}
	in := mustFind(t, rep, RuleInlineAdminPolicy, "group/Ops")
	if in.Evidence[0].Policy != "ops-all" || in.Evidence[0].PolicyType != ptInline {
		t.Errorf("inline admin evidence %+v", in.Evidence)
	}
	mustFind(t, rep, RuleUnattachedAdmin, "policy/Legacy")
	w := mustFind(t, rep, RuleServiceWildcard, "policy/KeyAdmin")
	if w.Evidence[0].Actions[0] != "kms:*" || w.Evidence[0].Sid != "Keys" || !strings.Contains(w.Message, "security itself") {
		t.Errorf("wildcard %+v", w)
	}
	for rule, action := range map[string]string{RuleDataExfiltration: "secretsmanager:GetSecretValue", RuleCredentialsExposure: "ec2:GetPasswordData",
		RuleResourceExposure: "s3:PutBucketPolicy", RulePassRoleOnStar: "iam:PassRole", RuleAssumeRoleOnStar: "sts:AssumeRole"} {
		got := mustFind(t, rep, rule, "policy/Secrets")
		if !contains(got.Evidence[0].Actions, action) || *got.Evidence[0].Statement != 0 {
			t.Errorf("%s evidence %+v", rule, got.Evidence)
		}
		if len(find(rep, rule, "policy/Scoped")) != 0 {
			t.Errorf("%s reported on a policy scoped to named resources", rule)
		}
	}
	// Admin-equivalent policies are reported once, as admin, not again for
	// each sensitive action they include.
	if len(find(rep, RuleDataExfiltration, "policy/AlmostAll")) != 0 {
		t.Error("an admin policy is also reported for data exfiltration")
	}
}

func TestTrustRulesOnCraftedAccount(t *testing.T) {
	f := newFixture()
	trust := func(stmt string) string { return `{"Version":"2012-10-17","Statement":[` + stmt + `]}` }
	f.role("open", "/", trust(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`))
	f.role("org-only", "/", trust(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}`))
	f.role("partner", "/", trust(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}`))
	f.role("partner-mfa", "/", trust(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`))
	f.role("vendor", "/", trust(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::345678901234:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}}`))
	gh := `"Federated":"arn:aws:iam::` + fxAccount + `:oidc-provider/token.actions.githubusercontent.com"`
	f.role("gh-open", "/", trust(`{"Effect":"Allow","Principal":{`+gh+`},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}`))
	f.role("gh-star", "/", trust(`{"Effect":"Allow","Principal":{`+gh+`},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}}`))
	f.role("gh-pinned", "/", trust(`{"Effect":"Allow","Principal":{`+gh+`},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app:*"},"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}`))
	f.role("config", "/", trust(`{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}`))
	f.role("config-pinned", "/", trust(`{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"`+fxAccount+`"}}}`))
	f.role("ec2", "/", trust(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`))

	rep := reviewAll(t, f.host(1000))
	want := map[string][]string{
		RuleTrustAnyone: {"open"}, RuleTrustAnyoneCond: {"org-only"}, RuleTrustCrossAccount: {"partner"}, RuleTrustCrossAccountCnd: {"partner-mfa"},
		RuleTrustOIDCNoSub: {"gh-open", "gh-star"}, RuleTrustServiceNoSource: {"config"},
	}
	for rule, roles := range want {
		var got []string
		for _, f := range find(rep, rule, "") {
			got = append(got, f.PrincipalName)
		}
		if !reflect.DeepEqual(got, roles) && !(len(got) == len(roles) && containsAll(got, roles)) {
			t.Errorf("%s on %v, want %v", rule, got, roles)
		}
	}
	// The fixes are trust policies that no longer let the outsider in.
	for _, fd := range find(rep, RuleTrustOIDCNoSub, "") {
		doc := fd.Remediation.Steps[0].Args["policy_document"]
		b, _ := json.Marshal(doc)
		if !strings.Contains(string(b), "token.actions.githubusercontent.com:sub") {
			t.Errorf("OIDC fix %s", b)
		}
	}
	svc := mustFind(t, rep, RuleTrustServiceNoSource, "config")
	b, _ := json.Marshal(svc.Remediation.Steps[0].Args["policy_document"])
	d, err := policy.Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	res := policy.Evaluate(policy.Input{Resource: []policy.Source{{ID: "t", Type: "resource", Doc: d}}}, policy.Request{Action: "sts:AssumeRole",
		Resource: "arn:aws:iam::" + fxAccount + ":role/config", Principal: "config.amazonaws.com", Context: map[string][]string{"aws:SourceAccount": {outsiderAccount}}})
	if res.Decision == policy.Allowed {
		t.Errorf("the proposed trust policy still lets another account's service in: %s", b)
	}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !contains(got, w) {
			return false
		}
	}
	return true
}

func TestStructureRulesOnCraftedAccount(t *testing.T) {
	f := newFixture()
	ro := f.awsPolicy("ReadOnlyish", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:Get*","Resource":"*"}]}`)
	f.user("direct", "/", nil, nil, ro)
	f.user("inline-user", "/", nil, map[string]string{"mine": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudwatch:Get*","Resource":"*"}]}`})
	r := f.role("with-inline", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	r.InlinePolicies = []api.InlinePolicy{{PolicyName: "logs", PolicyDocument: api.PolicyDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`)}}
	stale := f.role("stale", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	stale.LastUsedDate = daysBefore(200)
	never := f.role("never-used", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	never.LastUsedDate = nil
	young := f.role("young", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	young.LastUsedDate, young.CreateDate = nil, *daysBefore(10)
	slr := f.role("AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"support.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	slr.LastUsedDate = nil

	rep := reviewAll(t, f.host(1000))
	mustFind(t, rep, RuleUserAttachedPolicy, "direct")
	mustFind(t, rep, RuleUserAttachedPolicy, "inline-user")
	mustFind(t, rep, RuleInlinePolicy, "with-inline")
	if len(find(rep, RuleInlinePolicy, "inline-user")) != 0 {
		t.Error("a user's inline policy is reported twice (USER_DIRECT_POLICY covers it)")
	}
	mustFind(t, rep, RuleRoleUnused, "stale")
	mustFind(t, rep, RuleRoleUnused, "never-used")
	if len(find(rep, RuleRoleUnused, "young")) != 0 || len(find(rep, RuleRoleUnused, "AWSServiceRoleForSupport")) != 0 {
		t.Error("a young role or a service-linked role is reported unused")
	}
	if len(find(rep, RuleNoSupportRole, "")) != 0 || len(find(rep, RuleNoAuditRole, "")) != 0 {
		t.Error("the fixture has a support role and an audit role")
	}
	f.auth.Roles = f.auth.Roles[1:] // the support and audit role
	rep = reviewAll(t, f.host(1000))
	mustFind(t, rep, RuleNoSupportRole, "")
	mustFind(t, rep, RuleNoAuditRole, "")
}

// ---- gathering ----

// The authorization details are read page by page: the calls grow with
// pages, and every principal is seen.
func TestPagingCallsGrowWithPages(t *testing.T) {
	f := newFixture()
	for i := 0; i < 25; i++ {
		f.user(fmt.Sprintf("u%02d", i), "/", nil, nil)
	}
	h := f.host(10) // 25 users + 1 role + 1 policy = 27 entries, 3 pages
	rep := reviewAll(t, h)
	if rep.Header.Reviewed.Users != 25 || h.calls[opAuthDetails] != 3 {
		t.Fatalf("reviewed %d users in %d pages", rep.Header.Reviewed.Users, h.calls[opAuthDetails])
	}
	if rep.Header.IAMCalls != h.total() || rep.Header.IAMCalls != 3+4 {
		t.Fatalf("header says %d calls, the host ran %d: %v", rep.Header.IAMCalls, h.total(), h.calls)
	}
	if len(h.progress) < 5 || !strings.HasPrefix(h.progress[len(h.progress)-1], "done") {
		t.Errorf("progress %v", h.progress)
	}
}

// A credential report still being built is waited for, a bounded number of
// times; one that never comes is reported, and the rest of the review runs.
func TestCredentialReportInProgress(t *testing.T) {
	f := newFixture()
	f.report.Rows[0].MFAActive = false
	h := f.host(1000)
	gets := 0
	h.handlers[opGenerateCredReport] = func(json.RawMessage) (any, error) {
		return api.GenerateCredentialReportOutput{State: "STARTED"}, nil
	}
	h.handlers[opGetCredReport] = func(json.RawMessage) (any, error) {
		if gets++; gets < 3 {
			return nil, &api.Error{Code: api.NoSuchEntity, Message: "IAM is still building the credential report (IAM answered ReportInProgress)"}
		}
		return f.report, nil
	}
	var slept []time.Duration
	rep, err := Run(h, Input{}, Options{Now: func() time.Time { return fxNow }, Sleep: func(d time.Duration) { slept = append(slept, d) }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Header.CredentialReportGeneratedAt == nil || gets != 3 || len(slept) != 2 || slept[1] <= slept[0] {
		t.Fatalf("report read after %d gets, slept %v", gets, slept)
	}
	h.handlers[opGetCredReport] = func(json.RawMessage) (any, error) {
		return nil, &api.Error{Code: api.NoSuchEntity, Message: "still building"}
	}
	h.calls = map[string]int{}
	rep = run(t, h, Input{})
	if len(rep.Header.Unreadable) != 1 || rep.Header.Unreadable[0].Op != opGetCredReport || h.calls[opGetCredReport] != credReportAttempts {
		t.Fatalf("unreadable %+v after %d gets", rep.Header.Unreadable, h.calls[opGetCredReport])
	}
	if !strings.Contains(rep.Markdown, "Not everything could be read") {
		t.Error("the markdown does not say the report was unreadable")
	}
}

// An operation the operator did not grant is reported with what it costs,
// and every other check still runs.
func TestUnreadableIsReported(t *testing.T) {
	f := newFixture()
	f.pwd = api.PasswordPolicyOutput{Present: false}
	h := f.host(1000)
	delete(h.handlers, opGetCredReport)
	rep := run(t, h, Input{})
	if len(rep.Header.Unreadable) != 1 || rep.Header.Unreadable[0].Code != string(api.NotGranted) || !strings.Contains(rep.Header.Unreadable[0].Impact, "credential checks") {
		t.Fatalf("unreadable %+v", rep.Header.Unreadable)
	}
	mustFind(t, rep, RulePasswordPolicyNone, "")
	// Nothing readable at all is an error that says what to grant.
	_, err := Run(&fakeHost{handlers: map[string]func(json.RawMessage) (any, error){}, calls: map[string]int{}}, Input{}, Options{Sleep: func(time.Duration) {}})
	if err == nil || !strings.Contains(err.Error(), "NotGranted") || !strings.Contains(err.Error(), "Grant the plugin") {
		t.Fatalf("nothing readable: %v", err)
	}
}

// Throttled batch requests are retried with back-off; the others are not
// run twice.
func TestBatchRetriesThrottled(t *testing.T) {
	h := &fakeHost{handlers: map[string]func(json.RawMessage) (any, error){}, calls: map[string]int{}}
	tries := map[string]int{}
	h.handlers[opAccessKeyLastUsed] = func(in json.RawMessage) (any, error) {
		var req api.AccessKeyIDInput
		_ = json.Unmarshal(in, &req)
		tries[req.AccessKeyID]++
		if req.AccessKeyID == "AKIASLOW" && tries[req.AccessKeyID] < 3 {
			return nil, &api.Error{Code: api.Throttled, Message: "Rate exceeded"}
		}
		return api.AccessKeyLastUsedOutput{AccessKeyID: req.AccessKeyID}, nil
	}
	var slept []time.Duration
	c := &counter{h: h, byOp: map[string]int{}, sleep: func(d time.Duration) { slept = append(slept, d) }}
	ids := []string{"AKIAONE", "AKIASLOW", "AKIATWO"}
	outs := make([]api.AccessKeyLastUsedOutput, len(ids))
	var reqs []hostiam.Request
	for i, id := range ids {
		reqs = append(reqs, hostiam.Request{Op: opAccessKeyLastUsed, In: api.AccessKeyIDInput{AccessKeyID: id}, Out: &outs[i]})
	}
	errs := c.batch(reqs)
	for i, err := range errs {
		if err != nil || outs[i].AccessKeyID != ids[i] {
			t.Errorf("%s: %v %+v", ids[i], err, outs[i])
		}
	}
	if tries["AKIASLOW"] != 3 || tries["AKIAONE"] != 1 || c.total != 5 || len(slept) != 2 {
		t.Fatalf("tries %v, counted %d, slept %v", tries, c.total, slept)
	}
}

// ---- the report ----

func TestSortCapAndMarkdown(t *testing.T) {
	f := newFixture()
	f.report.Rows[0].MFAActive, f.summary["AccountMFAEnabled"] = false, 0
	for i := 0; i < 40; i++ {
		name := fmt.Sprintf("user%02d", i)
		f.user(name, "/", nil, nil)
		r := f.row(name)
		r.PasswordEnabled, r.PasswordLastUsed = true, daysBefore(1)
	}
	rep := run(t, f.host(1000), Input{MaxFindingsPerRule: 5})
	if len(find(rep, RuleConsoleNoMFA, "")) != 5 || rep.Summary.Total != 41 {
		t.Fatalf("listed %d of %d", len(find(rep, RuleConsoleNoMFA, "")), rep.Summary.Total)
	}
	if len(rep.Omitted) != 1 || rep.Omitted[0].Count != 35 || len(rep.Omitted[0].Principals) != maxOmittedNames {
		t.Fatalf("omitted %+v", rep.Omitted)
	}
	if rep.Findings[0].RuleID != RuleRootNoMFA {
		t.Errorf("the most severe finding is not first: %s", rep.Findings[0].RuleID)
	}
	md := rep.Markdown
	iSum, iCrit, iHigh := strings.Index(md, "## Summary"), strings.Index(md, "### Critical"), strings.Index(md, "### High")
	if iSum < 0 || iCrit < iSum || iHigh < iCrit {
		t.Fatalf("markdown order: summary %d, critical %d, high %d\n%s", iSum, iCrit, iHigh, md)
	}
	if !strings.Contains(md, "| critical | 1 |") || !strings.Contains(md, "| high | 40 |") || !strings.Contains(md, "35 more not listed") {
		t.Errorf("markdown summary:\n%s", md)
	}
	// min_severity cuts below it, and says how many.
	rep = run(t, f.host(1000), Input{MinSeverity: "critical"})
	if rep.Summary.Total != 1 || rep.Summary.BelowMinSeverity != 40 {
		t.Errorf("min severity: total %d below %d", rep.Summary.Total, rep.Summary.BelowMinSeverity)
	}
}

// Every remediation step is a catalogue call its operation accepts: the op
// exists, the args decode strictly into its input type, and every required
// argument is there.
func checkPlans(t *testing.T, rep *Report) {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Remediation.Summary == "" || len(f.Remediation.Steps) == 0 {
			t.Errorf("%s on %s has no plan", f.RuleID, f.PrincipalName)
		}
		for i, s := range f.Remediation.Steps {
			if s.Manual {
				if s.Op != "" || s.Note == "" {
					t.Errorf("%s step %d: a manual step has a note and no op", f.RuleID, i)
				}
				continue
			}
			op, ok := api.Lookup(s.Op)
			if !ok {
				t.Errorf("%s step %d: %q is no catalogue operation", f.RuleID, i, s.Op)
				continue
			}
			raw, _ := json.Marshal(s.Args)
			if s.Args == nil {
				raw = []byte("{}")
			}
			v := reflect.New(reflect.TypeOf(op.Input)).Interface()
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Errorf("%s step %d: %s %s: %v", f.RuleID, i, s.Op, raw, err)
			}
			if req, ok := api.SchemaOf(op.Input)["required"].([]string); ok {
				for _, r := range req {
					if _, ok := s.Args[r]; !ok {
						t.Errorf("%s step %d: %s lacks required %s", f.RuleID, i, s.Op, r)
					}
				}
			}
		}
		if len(f.References) == 0 {
			t.Errorf("%s has no references", f.RuleID)
		}
	}
}

func TestPlansAreCatalogueCalls(t *testing.T) {
	f := newFixture()
	f.report.Rows[0].MFAActive = false
	f.summary["AccountMFAEnabled"] = 0
	f.user("k", "/", nil, map[string]string{"p": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:AttachUserPolicy","kms:*","s3:GetObject"],"Resource":"*"}]}`})
	f.row("k").AccessKeys = []api.CredentialReportKey{{Slot: 1, Active: true, LastRotated: daysBefore(300)}, {Slot: 2, Active: true, LastRotated: daysBefore(200), LastUsedDate: daysBefore(100)}}
	f.row("k").PasswordEnabled = true
	checkPlans(t, reviewAll(t, f.host(1000)))
}

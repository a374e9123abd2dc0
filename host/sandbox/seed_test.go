package sandbox

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestSeedDemoPlantedProblems checks, through the SDK as an access review
// would, that every problem the demo organisation plants is there.
func TestSeedDemoPlantedProblems(t *testing.T) {
	sb := newSandbox(t, Options{Seed: "demo"})
	c := sb.iam
	now := time.Now()

	users := 0
	p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{})
	paths := map[string]bool{}
	for p.HasMorePages() {
		out := must[*iam.ListUsersOutput](t)(p.NextPage(ctx))
		users += len(out.Users)
		for _, u := range out.Users {
			paths[*u.Path] = true
		}
	}
	if users < 20 || users > 30 || len(paths) < 4 {
		t.Fatalf("demo has %d users in %d paths", users, len(paths))
	}

	keys := func(user string) []struct {
		id     string
		active bool
		age    time.Duration
		unused time.Duration
	} {
		out := must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)}))
		var res []struct {
			id     string
			active bool
			age    time.Duration
			unused time.Duration
		}
		for _, k := range out.AccessKeyMetadata {
			lu := must[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}))
			var unused time.Duration
			if lu.AccessKeyLastUsed.LastUsedDate != nil {
				unused = now.Sub(*lu.AccessKeyLastUsed.LastUsedDate)
			}
			res = append(res, struct {
				id     string
				active bool
				age    time.Duration
				unused time.Duration
			}{*k.AccessKeyId, k.Status == "Active", now.Sub(*k.CreateDate), unused})
		}
		return res
	}
	const day = 24 * time.Hour
	if k := keys("legacy-etl"); len(k) != 1 || k[0].unused < 199*day {
		t.Errorf("legacy-etl should have a key unused for 200 days: %+v", k)
	}
	if k := keys("ci-deploy"); len(k) != 1 || k[0].age < 400*day {
		t.Errorf("ci-deploy should have a key older than 400 days: %+v", k)
	}
	if k := keys("isla.moreau"); len(k) != 2 || !k[0].active || !k[1].active {
		t.Errorf("isla.moreau should have two active keys: %+v", k)
	}

	// An administrator without MFA, and a console user without MFA.
	for _, name := range []string{"alice.nguyen", "jonas.berg"} {
		must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)}))
		mfa := must[*iam.ListMFADevicesOutput](t)(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(name)}))
		if len(mfa.MFADevices) != 0 {
			t.Errorf("%s should have no MFA", name)
		}
	}
	groups := must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice.nguyen")}))
	admin := false
	for _, g := range groups.Groups {
		att := must[*iam.ListAttachedGroupPoliciesOutput](t)(c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: g.GroupName}))
		for _, a := range att.AttachedPolicies {
			admin = admin || *a.PolicyName == "AdministratorAccess"
		}
	}
	if !admin {
		t.Error("alice.nguyen should be an administrator")
	}
	// The other administrator has MFA, so a review can tell them apart.
	if mfa := must[*iam.ListMFADevicesOutput](t)(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob.martin")})); len(mfa.MFADevices) != 1 {
		t.Error("bob.martin should have MFA")
	}

	trust := func(role string) string {
		r := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}))
		doc, err := url.PathUnescape(*r.Role.AssumeRolePolicyDocument)
		ok(t, err)
		return doc
	}
	if doc := trust("open-trust-role"); !strings.Contains(doc, `"AWS":"*"`) {
		t.Errorf("open-trust-role should trust *: %s", doc)
	}
	if doc := trust("partner-audit"); !strings.Contains(doc, "210987654321") || strings.Contains(doc, "ExternalId") {
		t.Errorf("partner-audit should trust another account without an external id: %s", doc)
	}
	if doc := trust("vendor-integration"); !strings.Contains(doc, "sts:ExternalId") {
		t.Errorf("vendor-integration should require an external id: %s", doc)
	}

	inline := must[*iam.GetUserPolicyOutput](t)(c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("quinn.taylor"), PolicyName: aws.String("break-glass")}))
	if doc, _ := url.PathUnescape(*inline.PolicyDocument); !strings.Contains(doc, `"Action":"*"`) || !strings.Contains(doc, `"Resource":"*"`) {
		t.Errorf("quinn.taylor should have an inline *:* policy: %s", doc)
	}

	pp := must[*iam.GetAccountPasswordPolicyOutput](t)(c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{}))
	if *pp.PasswordPolicy.MinimumPasswordLength >= 14 || pp.PasswordPolicy.RequireSymbols || pp.PasswordPolicy.ExpirePasswords {
		t.Errorf("the password policy should be weak: %+v", pp.PasswordPolicy)
	}

	// A managed policy with versions, and an instance profile.
	v := must[*iam.ListPolicyVersionsOutput](t)(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/ci/DeployPipeline")}))
	if len(v.Versions) != 2 {
		t.Errorf("DeployPipeline should have two versions: %d", len(v.Versions))
	}
	ip := must[*iam.ListInstanceProfilesForRoleOutput](t)(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("ec2-app-role")}))
	if len(ip.InstanceProfiles) != 1 {
		t.Error("ec2-app-role should be in an instance profile")
	}

	// A key never used, and an active key older than 90 days in use today.
	if k := keys("carol.diaz"); len(k) != 1 || !k[0].active || k[0].unused != 0 {
		t.Errorf("carol.diaz should have one active key never used: %+v", k)
	}
	if k := keys("backup-agent"); len(k) != 1 || !k[0].active || k[0].age < 91*day || k[0].unused > day {
		t.Errorf("backup-agent should have an active key older than 90 days used today: %+v", k)
	}
	// A console password unused for 120 days or more.
	must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("former.employee")}))
	if u := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("former.employee")})).User; u.PasswordLastUsed == nil || now.Sub(*u.PasswordLastUsed) < 120*day {
		t.Errorf("former.employee's password should be unused for 120+ days: %v", u.PasswordLastUsed)
	}

	// The root: no MFA, one active access key, old and used recently.
	summary := must[*iam.GetAccountSummaryOutput](t)(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})).SummaryMap
	if summary["AccountMFAEnabled"] != 0 || summary["AccountAccessKeysPresent"] != 1 {
		t.Errorf("root: AccountMFAEnabled %d, AccountAccessKeysPresent %d", summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"])
	}
	must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	_, byUser, rows := credentialReport(t, c)
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	root := byUser["<root_account>"]
	rotated, err1 := time.Parse(time.RFC3339, root[col["access_key_1_last_rotated"]])
	used, err2 := time.Parse(time.RFC3339, root[col["access_key_1_last_used_date"]])
	if root[col["mfa_active"]] != "false" || root[col["access_key_1_active"]] != "true" || err1 != nil || err2 != nil ||
		now.Sub(rotated) < 365*day || now.Sub(used) > 7*day || root[col["access_key_2_active"]] != "false" {
		t.Errorf("the report's root row: %q", root)
	}

	policyDoc := func(arn string) (*iam.GetPolicyOutput, string) {
		p := must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))
		v := must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId}))
		doc, err := url.PathUnescape(*v.PolicyVersion.Document)
		ok(t, err)
		return p, doc
	}
	entities := func(arn string) *iam.ListEntitiesForPolicyOutput {
		return must[*iam.ListEntitiesForPolicyOutput](t)(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}))
	}
	// Privilege escalation on *, on a user without the developer boundary.
	const selfService = "arn:aws:iam::123456789012:policy/eng/SelfServiceIAM"
	if _, doc := policyDoc(selfService); !strings.Contains(doc, `"iam:CreatePolicyVersion"`) || !strings.Contains(doc, `"iam:PassRole"`) ||
		!strings.Contains(doc, `"ec2:RunInstances"`) || strings.Contains(doc, "arn:aws:iam::123456789012:role") {
		t.Errorf("SelfServiceIAM should allow escalation on *: %s", doc)
	}
	if e := entities(selfService); len(e.PolicyUsers) != 1 || *e.PolicyUsers[0].UserName != "liam.obrien" {
		t.Errorf("SelfServiceIAM should be attached to liam.obrien: %+v", e.PolicyUsers)
	}
	if u := must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("liam.obrien")})).User; u.PermissionsBoundary != nil {
		t.Error("liam.obrien should have no permissions boundary to stop the escalation")
	}
	// An administrator policy left unattached.
	if p, doc := policyDoc("arn:aws:iam::123456789012:policy/LegacyAdmin"); *p.Policy.AttachmentCount != 0 || !strings.Contains(doc, `"Action":"*","Resource":"*"`) {
		t.Errorf("LegacyAdmin should be *:* and unattached: %d %s", *p.Policy.AttachmentCount, doc)
	}
	// An unconstrained sensitive action, on a role.
	if _, doc := policyDoc("arn:aws:iam::123456789012:policy/service/ReadAllSecrets"); !strings.Contains(doc, `"Action":"secretsmanager:GetSecretValue","Resource":"*"`) {
		t.Errorf("ReadAllSecrets: %s", doc)
	}
	if e := entities("arn:aws:iam::123456789012:policy/service/ReadAllSecrets"); len(e.PolicyRoles) != 1 || *e.PolicyRoles[0].RoleName != "orders-api" {
		t.Errorf("ReadAllSecrets should be attached to orders-api: %+v", e.PolicyRoles)
	}
	// OIDC trust with an audience but no subject; a service trust without
	// aws:SourceAccount or aws:SourceArn.
	if doc := trust("github-deploy"); !strings.Contains(doc, "oidc-provider/token.actions.githubusercontent.com") ||
		!strings.Contains(doc, "token.actions.githubusercontent.com:aud") || strings.Contains(doc, ":sub") {
		t.Errorf("github-deploy should trust GitHub's OIDC provider without a sub condition: %s", doc)
	}
	if doc := trust("lambda-exec"); !strings.Contains(doc, `"Service":"lambda.amazonaws.com"`) || strings.Contains(doc, "aws:Source") {
		t.Errorf("lambda-exec should trust Lambda without a source condition: %s", doc)
	}
	if doc := trust("orders-api"); !strings.Contains(doc, "aws:SourceAccount") || !strings.Contains(doc, "aws:SourceArn") {
		t.Errorf("orders-api should show a service trust done right: %s", doc)
	}

	// Service last accessed: services allowed but unused for 90+ days next
	// to services in use.
	lastUse := func(arn string) map[string]*time.Time {
		_, svc := lastAccessed(t, c, arn, "")
		out := map[string]*time.Time{}
		for ns, s := range svc {
			out[ns] = s.LastAuthenticated
		}
		return out
	}
	ci := lastUse("arn:aws:iam::123456789012:user/service/ci-deploy")
	if ci["iam"] == nil || now.Sub(*ci["iam"]) < 90*day || ci["cloudformation"] == nil || now.Sub(*ci["cloudformation"]) > 2*day {
		t.Errorf("ci-deploy should use cloudformation daily and iam not for 90+ days: %v", ci)
	}
	partner := lastUse("arn:aws:iam::123456789012:role/partners/partner-audit")
	if len(partner) == 0 {
		t.Error("partner-audit should be allowed services")
	}
	for ns, when := range partner {
		if when != nil && now.Sub(*when) < 90*day {
			t.Errorf("partner-audit should not have used %s for 90+ days: %v", ns, when)
		}
	}
	if r := must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("partner-audit")})).Role; r.RoleLastUsed == nil || r.RoleLastUsed.LastUsedDate == nil || now.Sub(*r.RoleLastUsed.LastUsedDate) < 90*day {
		t.Errorf("partner-audit's last use should be 90+ days ago: %+v", r.RoleLastUsed)
	}
	if bot := lastUse("arn:aws:iam::123456789012:user/service/monitoring-bot"); bot["rds"] == nil || now.Sub(*bot["rds"]) < 90*day || bot["logs"] == nil || now.Sub(*bot["logs"]) > day {
		t.Errorf("monitoring-bot should use logs daily and not rds for 90+ days: rds %v logs %v", bot["rds"], bot["logs"])
	}
}

func TestSeedUnknown(t *testing.T) {
	if _, err := New(Options{Seed: "nonsense"}); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Fatalf("unknown seed: %v", err)
	}
}

// TestSeedWithState checks that a seed applies to a new account only: an
// existing state file wins, so a restart never re-seeds over changes.
func TestSeedWithState(t *testing.T) {
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{Seed: "demo", StateFile: path})
	ok(t, second(sb.iam.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("quinn.taylor"), PolicyName: aws.String("break-glass")})))
	again := newSandbox(t, Options{Seed: "demo", StateFile: path})
	_, err := again.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("quinn.taylor"), PolicyName: aws.String("break-glass")})
	wantCode(t, err, "NoSuchEntity")
}

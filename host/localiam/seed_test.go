package localiam

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

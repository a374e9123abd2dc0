package sandbox

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestOrgSeed proves each planted fact of the org seed through the real
// SDK, signing as the seed's own principals.
func TestOrgSeed(t *testing.T) {
	sb := newSandbox(t, Options{Seed: "org"})
	if got := sb.srv.Members(); !slices.Equal(got, []string{OrgSharedID, OrgDevID, OrgProdID}) || sb.srv.AccountID() != OrgManagementID {
		t.Fatalf("accounts %s %v", sb.srv.AccountID(), got)
	}
	operator := keyCreds(OrgOperatorKeyID)
	who := must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(operator).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:iam::123456789012:user/"+OrgOperatorUser {
		t.Fatalf("operator key signs as %s", aws.ToString(who.Arn))
	}

	// The structure: OUs, aliases, and the SCP on dev only.
	org := sb.orgAs(operator)
	accts := must[*organizations.ListAccountsOutput](t)(org.ListAccounts(ctx, &organizations.ListAccountsInput{}))
	var names []string
	for _, a := range accts.Accounts {
		names = append(names, aws.ToString(a.Id)+"="+aws.ToString(a.Name))
	}
	if strings.Join(names, " ") != "123456789012=acme-management 222222222222=acme-shared 333333333333=acme-dev 444444444444=acme-prod" {
		t.Fatalf("accounts %v", names)
	}
	for _, id := range []string{OrgSharedID, OrgDevID, OrgProdID} {
		pols := must[*organizations.ListPoliciesForTargetOutput](t)(org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(id), Filter: orgtypes.PolicyTypeServiceControlPolicy}))
		var got []string
		for _, p := range pols.Policies {
			got = append(got, aws.ToString(p.Name))
		}
		want := []string{"FullAWSAccess"}
		if id == OrgDevID {
			want = append(want, "DenyIAMPolicyRewrites")
		}
		if !slices.Equal(got, want) {
			t.Fatalf("SCPs on %s: %v", id, got)
		}
	}

	// Every member: OrganizationAccountAccessRole reached by the operator,
	// its alias, and IAM calls landing in it.
	wantUsers := map[string][]string{
		OrgSharedID: {"build-bot", "shared-intern"},
		OrgDevID:    {"dev-ci", "dev-engineer", "dev-intern", "dev-reader"},
		OrgProdID:   {"prod-oncall"},
	}
	for id, alias := range map[string]string{OrgSharedID: "acme-shared", OrgDevID: "acme-dev", OrgProdID: "acme-prod"} {
		sc := sessionCreds(t, assume(t, sb.stsAs(operator), roleARN(id, OrgAccessRoleName)))
		c := sb.iamAs(sc)
		al := must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))
		if !slices.Equal(al.AccountAliases, []string{alias}) {
			t.Fatalf("aliases of %s: %v", id, al.AccountAliases)
		}
		users := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{}))
		var got []string
		for _, u := range users.Users {
			got = append(got, aws.ToString(u.UserName))
			if !strings.HasPrefix(aws.ToString(u.Arn), "arn:aws:iam::"+id+":user/") {
				t.Fatalf("user ARN %s in %s", aws.ToString(u.Arn), id)
			}
		}
		if !slices.Equal(got, wantUsers[id]) {
			t.Fatalf("users of %s: %v", id, got)
		}
	}

	// Planted 1: prod's dev-deploy is reached by dev-ci, not by dev-reader.
	deploy := roleARN(OrgProdID, "dev-deploy")
	ci := sessionCreds(t, assume(t, sb.stsAs(sb.userKey(t, OrgDevID, "dev-ci")), deploy))
	got := must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(ci).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(got.Arn) != "arn:aws:sts::444444444444:assumed-role/dev-deploy/test-session" {
		t.Fatalf("dev-ci's session %s", aws.ToString(got.Arn))
	}
	_, err := sb.stsAs(sb.userKey(t, OrgDevID, "dev-reader")).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(deploy), RoleSessionName: aws.String("x1")})
	wantMessage(t, err, "AccessDenied", "User: arn:aws:iam::333333333333:user/dev-reader is not authorized to perform: sts:AssumeRole on resource: "+deploy)

	// Planted 2: dev-engineer → shared-tooling → prod-admin, with the
	// credentials each step returns.
	engineer := sb.userKey(t, OrgDevID, "dev-engineer")
	hop1 := sessionCreds(t, assume(t, sb.stsAs(engineer), roleARN(OrgSharedID, "shared-tooling")))
	hop2 := sessionCreds(t, assume(t, sb.stsAs(hop1), roleARN(OrgProdID, "prod-admin")))
	got = must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(hop2).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(got.Account) != OrgProdID || aws.ToString(got.Arn) != "arn:aws:sts::444444444444:assumed-role/prod-admin/test-session" {
		t.Fatalf("end of the chain %s", aws.ToString(got.Arn))
	}
	admin := must[*iam.ListAttachedRolePoliciesOutput](t)(sb.iamAs(hop2).ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("prod-admin")}))
	if len(admin.AttachedPolicies) != 1 || aws.ToString(admin.AttachedPolicies[0].PolicyName) != "AdministratorAccess" {
		t.Fatalf("prod-admin's policies %+v", admin.AttachedPolicies)
	}
	// dev-engineer cannot skip the middle.
	_, err = sb.stsAs(engineer).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(OrgProdID, "prod-admin")), RoleSessionName: aws.String("x1")})
	wantCode(t, err, "AccessDenied")

	// Planted 3: the SCP on dev denies dev-intern's policy rewrite; the
	// same grant in shared is allowed. IAM's simulator applies the SCPs of
	// a member account, level by level.
	simulate := func(account, user string) iamtypes.EvaluationResult {
		t.Helper()
		policyARN := "arn:aws:iam::" + account + ":policy/InternTools"
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(sb.memberIAM(t, account).SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::" + account + ":user/" + user),
			ActionNames:     []string{"iam:CreatePolicyVersion"},
			ResourceArns:    []string{policyARN},
		}))
		return out.EvaluationResults[0]
	}
	dev := simulate(OrgDevID, "dev-intern")
	if dev.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeExplicitDeny || dev.OrganizationsDecisionDetail == nil || dev.OrganizationsDecisionDetail.AllowedByOrganizations {
		t.Fatalf("dev-intern: %s %+v", dev.EvalDecision, dev.OrganizationsDecisionDetail)
	}
	shared := simulate(OrgSharedID, "shared-intern")
	if shared.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || shared.OrganizationsDecisionDetail == nil || !shared.OrganizationsDecisionDetail.AllowedByOrganizations {
		t.Fatalf("shared-intern: %s %+v", shared.EvalDecision, shared.OrganizationsDecisionDetail)
	}
	// Each intern has a customer managed policy attached: the rewrite
	// would raise its own permissions.
	for id, user := range map[string]string{OrgDevID: "dev-intern", OrgSharedID: "shared-intern"} {
		att := must[*iam.ListAttachedUserPoliciesOutput](t)(sb.memberIAM(t, id).ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)}))
		if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != "arn:aws:iam::"+id+":policy/InternTools" {
			t.Fatalf("%s's policies %+v", user, att.AttachedPolicies)
		}
	}
	// The management account is not subject to SCPs: no detail there.
	mg := must[*iam.SimulatePrincipalPolicyOutput](t)(sb.iam.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/" + OrgOperatorUser), ActionNames: []string{"iam:CreatePolicyVersion"},
	}))
	if r := mg.EvaluationResults[0]; r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed || r.OrganizationsDecisionDetail != nil {
		t.Fatalf("operator: %s %+v", r.EvalDecision, r.OrganizationsDecisionDetail)
	}
}

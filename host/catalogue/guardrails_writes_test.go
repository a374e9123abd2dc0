package catalogue

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Writes that are not documents but change what a principal may do: a
// stored version made the default, a user joining a group, a permissions
// boundary removed or replaced. Each passes the same decision as a
// document write.

const demoAcct = "123456789012"

// wantRefused checks a refusal says what, why and how to proceed.
func wantRefused(t *testing.T, msg string, want ...string) {
	t.Helper()
	for _, w := range append(want, "--allow-risky-policies") {
		if !strings.Contains(msg, w) {
			t.Errorf("refusal does not say %q: %s", w, msg)
		}
	}
}

// TestGuardrailSetDefaultVersion: a stored admin-equivalent version (written
// by someone else, bypassing this server) is not made the default; the
// users of the policy keep what they had.
func TestGuardrailSetDefaultVersion(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	lake := "arn:aws:iam::" + demoAcct + ":policy/data/DataLakeRead"
	// Someone with IAM access stored an admin version, not the default.
	if _, err := c.clients.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(lake), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*:*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	msg := callFails(t, c, "set_default_policy_version", `{"policy_arn":"`+lake+`","version_id":"v2"}`, api.RiskyPolicy)
	wantRefused(t, msg, "ADMIN_EQUIVALENT", "making the default", "(version v2)", "Nothing was written", "aws:CurrentTime")
	if d := call[api.PolicyDocumentOutput](t, c, "get_managed_policy_document", `{"policy_arn":"`+lake+`"}`); d.VersionID != "v1" {
		t.Fatalf("the default changed to %s", d.VersionID)
	}
	// grace.kim (DataScience, which has DataLakeRead) still cannot create users.
	sim := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{"policy_source_arn":"arn:aws:iam::`+demoAcct+`:user/data/grace.kim","action_names":["iam:CreateUser"]}`)
	if sim.EvaluationResults[0].Decision != "implicitDeny" {
		t.Fatalf("grace.kim: %+v", sim.EvaluationResults[0])
	}
	// A narrow version goes through; a missing one is IAM's NoSuchEntity.
	if _, err := c.clients.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(lake), PolicyDocument: aws.String(readS3Doc)}); err != nil {
		t.Fatal(err)
	}
	if r := call[api.Result](t, c, "set_default_policy_version", `{"policy_arn":"`+lake+`","version_id":"v3"}`); len(r.Warnings) != 0 {
		t.Errorf("narrow version: warnings %q", r.Warnings)
	}
	callFails(t, c, "set_default_policy_version", `{"policy_arn":"`+lake+`","version_id":"v9"}`, api.NoSuchEntity)

	// With --allow-risky-policies it is made, with the risk in the result.
	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	if _, err := risky.clients.IAM.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(lake), PolicyDocument: aws.String(adminDoc)}); err != nil {
		t.Fatal(err)
	}
	r := call[api.Result](t, risky, "set_default_policy_version", `{"policy_arn":"`+lake+`","version_id":"v2"}`)
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "ADMIN_EQUIVALENT") {
		t.Errorf("allowed: warnings %q", r.Warnings)
	}
}

// TestGuardrailGroupMembership: joining a group gives the user the group's
// policies, judged together as the user's.
func TestGuardrailGroupMembership(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	msg := callFails(t, c, "add_user_to_group", `{"group_name":"Admins","user_name":"farid.haddad"}`, api.RiskyPolicy)
	wantRefused(t, msg, "ADMIN_EQUIVALENT", "AdministratorAccess", "user farid.haddad", "Nothing was written")
	// A group whose inline policy escalates through a wildcard ARN (put by
	// someone else, bypassing this server).
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"KeyMasters"}`)
	if _, err := c.clients.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("KeyMasters"), PolicyName: aws.String("keys"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	msg = callFails(t, c, "add_user_to_group", `{"group_name":"KeyMasters","user_name":"farid.haddad"}`, api.RiskyPolicy)
	wantRefused(t, msg, "PRIVILEGE_ESCALATION_ON_STAR", "iam:CreateAccessKey", "statement 0 of keys")
	if g := call[api.GroupsOutput](t, c, "list_groups_for_user", `{"user_name":"farid.haddad"}`); len(g.Groups) != 1 {
		t.Fatalf("a refused add happened: %+v", g.Groups)
	}
	// The group's policies count together: an attached Deny takes away what
	// the inline Allow gives.
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"Fenced"}`)
	if _, err := c.clients.IAM.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("Fenced"), PolicyName: aws.String("all"), PolicyDocument: aws.String(adminDoc)}); err != nil {
		t.Fatal(err)
	}
	fence := call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"NoIAM","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*"],"Resource":"*"}]}}`)
	call[api.Result](t, c, "attach_group_policy", `{"group_name":"Fenced","policy_arn":"`+fence.Policy.Arn+`"}`)
	if r := call[api.Result](t, c, "add_user_to_group", `{"group_name":"Fenced","user_name":"farid.haddad"}`); len(r.Warnings) != 0 {
		t.Errorf("fenced group: warnings %q", r.Warnings)
	}
	for _, g := range []string{"DataScience", "Support", "Auditors"} {
		if r := call[api.Result](t, c, "add_user_to_group", `{"group_name":"`+g+`","user_name":"quinn.taylor"}`); len(r.Warnings) != 0 {
			t.Errorf("%s: warnings %q", g, r.Warnings)
		}
	}
	callFails(t, c, "add_user_to_group", `{"group_name":"Nobody","user_name":"farid.haddad"}`, api.NoSuchEntity)

	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	if r := call[api.Result](t, risky, "add_user_to_group", `{"group_name":"Admins","user_name":"farid.haddad"}`); len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "ADMIN_EQUIVALENT") {
		t.Errorf("allowed: warnings %q", r.Warnings)
	}
}

// TestGuardrailBoundary: removing or widening a boundary that holds a
// principal back is refused, saying what it holds back; narrowing, or a
// boundary that holds nothing back, goes through.
func TestGuardrailBoundary(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	boundary := "arn:aws:iam::" + demoAcct + ":policy/boundaries/DeveloperBoundary"
	// carol.diaz is in Developers (PowerUserAccess) within DeveloperBoundary,
	// which keeps her from sts:AssumeRole on every role.
	msg := callFails(t, c, "delete_user_permissions_boundary", `{"user_name":"carol.diaz"}`, api.RiskyPolicy)
	wantRefused(t, msg, "removing the permissions boundary "+boundary, "holding back", "sts:AssumeRole", "PowerUserAccess", "Nothing was changed")
	msg = callFails(t, c, "put_user_permissions_boundary", `{"user_name":"carol.diaz","permissions_boundary":"arn:aws:iam::aws:policy/AdministratorAccess"}`, api.RiskyPolicy)
	wantRefused(t, msg, "replacing the permissions boundary", "with arn:aws:iam::aws:policy/AdministratorAccess", "sts:AssumeRole")
	if u := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"carol.diaz"}`); u.User.PermissionsBoundary != boundary {
		t.Fatalf("a refused change happened: %q", u.User.PermissionsBoundary)
	}
	// A narrower boundary goes through; so does a boundary for a user who
	// had none (a boundary only narrows), and removing one that held
	// nothing back.
	call[api.UserOutput](t, c, "put_user_permissions_boundary", `{"user_name":"carol.diaz","permissions_boundary":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`)
	call[api.UserOutput](t, c, "put_user_permissions_boundary", `{"user_name":"grace.kim","permissions_boundary":"`+boundary+`"}`)
	if r := call[api.UserOutput](t, c, "delete_user_permissions_boundary", `{"user_name":"grace.kim"}`); len(r.Warnings) != 0 {
		t.Errorf("grace.kim: warnings %q", r.Warnings)
	}

	// A role: escalation through a wildcard ARN, held back by its boundary.
	call[api.RoleOutput](t, c, "create_role", `{"role_name":"builder","assume_role_policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]},"permissions_boundary":"`+boundary+`"}`)
	if _, err := c.clients.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("policies"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreatePolicyVersion","s3:*"],"Resource":["arn:aws:iam::*:policy/*","*"]}]}`)}); err != nil {
		t.Fatal(err)
	}
	msg = callFails(t, c, "delete_role_permissions_boundary", `{"role_name":"builder"}`, api.RiskyPolicy)
	wantRefused(t, msg, "role builder", "iam:CreatePolicyVersion", "statement 0 of policies")
	callFails(t, c, "put_role_permissions_boundary", `{"role_name":"builder","permissions_boundary":"arn:aws:iam::aws:policy/IAMFullAccess"}`, api.RiskyPolicy)
	if r := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"builder"}`); r.Role.PermissionsBoundary != boundary {
		t.Fatalf("a refused change happened: %q", r.Role.PermissionsBoundary)
	}
	callFails(t, c, "delete_role_permissions_boundary", `{"role_name":"nobody"}`, api.NoSuchEntity)

	risky := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	if r := call[api.UserOutput](t, risky, "delete_user_permissions_boundary", `{"user_name":"carol.diaz"}`); len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "sts:AssumeRole") || r.User.PermissionsBoundary != "" {
		t.Errorf("allowed: %+v", r)
	}
}

// denyActions is a transport that answers AccessDenied, as IAM does, to the
// named Query actions: the server's credentials lacking a read permission.
type denyActions struct {
	next    http.RoundTripper
	actions []string
}

func (d denyActions) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	for _, a := range d.actions {
		if bytes.Contains(body, []byte("Action="+a+"&")) {
			xml := `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: iam:` + a + `</Message></Error><RequestId>1</RequestId></ErrorResponse>`
			return &http.Response{StatusCode: 403, Status: "403 Forbidden", Header: http.Header{"Content-Type": {"text/xml"}}, Body: io.NopCloser(strings.NewReader(xml)), Request: req}, nil
		}
	}
	return d.next.RoundTrip(req)
}

// newDeniedCatalogue is a demo catalogue whose credentials may not call
// actions.
func newDeniedCatalogue(t *testing.T, opts Options, actions ...string) *testCatalogue {
	t.Helper()
	sb := newSandbox(t, sandbox.Options{Seed: "demo"})
	return catalogueOver(t, sb, denyActions{sb.Transport(), actions}, opts)
}

// TestGuardrailsFailClosed: when the policies a check needs cannot be read,
// the change is refused with the reason, unless --allow-risky-policies.
func TestGuardrailsFailClosed(t *testing.T) {
	c := newDeniedCatalogue(t, Options{}, "GetPolicyVersion")
	cases := []struct{ op, args string }{
		{"add_user_to_group", `{"group_name":"Support","user_name":"farid.haddad"}`},
		{"delete_user_permissions_boundary", `{"user_name":"carol.diaz"}`},
		{"set_default_policy_version", `{"policy_arn":"arn:aws:iam::` + demoAcct + `:policy/ci/DeployPipeline","version_id":"v1"}`},
	}
	for _, tc := range cases {
		msg := callFails(t, c, tc.op, tc.args, api.AccessDenied)
		for _, w := range []string{"could not read", "GetPolicyVersion", "nothing was", "--allow-risky-policies"} {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: refusal does not say %q: %s", tc.op, w, msg)
			}
		}
	}
	if g := call[api.GroupsOutput](t, c, "list_groups_for_user", `{"user_name":"farid.haddad"}`); len(g.Groups) != 1 {
		t.Errorf("a refused add happened: %+v", g.Groups)
	}
	callFails(t, newDeniedCatalogue(t, Options{}, "GetGroupPolicy", "ListGroupPolicies"), "add_user_to_group", `{"group_name":"Support","user_name":"farid.haddad"}`, api.AccessDenied)

	risky := newDeniedCatalogue(t, Options{AllowRiskyPolicies: true}, "GetPolicyVersion")
	r := call[api.Result](t, risky, "add_user_to_group", `{"group_name":"Support","user_name":"farid.haddad"}`)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "unchecked") {
		t.Errorf("allowed: warnings %q", r.Warnings)
	}
}

// TestGuardrailsJudgeInTheAccount: identity writes are judged in the
// credentials' account, so a wildcard on that account's resources counts
// as much as "*".
func TestGuardrailsJudgeInTheAccount(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::` + demoAcct + `:user/*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::` + demoAcct + `:*"}]}`,
	} {
		msg := callFails(t, c, "put_role_policy", `{"role_name":"lambda-exec","policy_name":"p","policy_document":`+doc+`}`, api.RiskyPolicy)
		wantRefused(t, msg, "account "+demoAcct)
		callFails(t, c, "create_policy", `{"policy_name":"p","policy_document":`+doc+`}`, api.RiskyPolicy)
	}
	// Another account's users are not this account's to change.
	call[api.Result](t, c, "put_role_policy", `{"role_name":"lambda-exec","policy_name":"p","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"arn:aws:iam::210987654321:user/*"}]}}`)
}

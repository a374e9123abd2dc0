package catalogue

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Trust policies the role tests use.
const (
	ec2TrustDoc      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	openTrustDoc     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	partnerTrustDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`
	vendorTrustDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::345678901234:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}]}`
	sameAcctTrustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	roleBoundaryARN  = "arn:aws:iam::aws:policy/PowerUserAccess"
)

func TestRolesLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	created := call[api.RoleOutput](t, c, "create_role", `{"role_name":"app","assume_role_policy_document":`+ec2TrustDoc+`,"path":"/service/","description":"application servers","max_session_duration":7200,"permissions_boundary":"`+roleBoundaryARN+`"}`)
	r := created.Role
	if r.Arn != "arn:aws:iam::123456789012:role/service/app" || r.Description != "application servers" || r.MaxSessionDuration != 7200 || r.PermissionsBoundary != roleBoundaryARN {
		t.Fatalf("create_role: %+v", r)
	}
	if !strings.Contains(string(r.AssumeRolePolicyDocument), `"ec2.amazonaws.com"`) || r.AssumeRolePolicyDocument[0] != '{' {
		t.Fatalf("trust policy not returned as an object: %s", r.AssumeRolePolicyDocument)
	}
	if len(created.Warnings) != 0 || created.Message == "" {
		t.Fatalf("a service trust with a boundary should not warn: %+v", created.Result)
	}
	callFails(t, c, "create_role", `{"role_name":"APP","assume_role_policy_document":`+ec2TrustDoc+`}`, api.EntityAlreadyExists)

	list := call[api.ListRolesOutput](t, c, "list_roles", `{"path_prefix":"/service/"}`)
	if len(list.Roles) != 1 || list.Roles[0].RoleName != "app" || list.Roles[0].AssumeRolePolicyDocument == nil {
		t.Fatalf("list_roles: %+v", list)
	}

	// update_role: each field alone, both, clearing the description.
	up := call[api.RoleOutput](t, c, "update_role", `{"role_name":"app","description":"web tier"}`)
	if up.Role.Description != "web tier" || up.Role.MaxSessionDuration != 7200 {
		t.Fatalf("update_role description: %+v", up.Role)
	}
	up = call[api.RoleOutput](t, c, "update_role", `{"role_name":"app","max_session_duration":3600,"description":""}`)
	if up.Role.Description != "" || up.Role.MaxSessionDuration != 3600 || !strings.Contains(up.Message, "3600") {
		t.Fatalf("update_role both: %+v", up)
	}
	if msg := callFails(t, c, "update_role", `{"role_name":"app"}`, api.InvalidInput); !strings.Contains(msg, "nothing to change") {
		t.Fatalf("empty update: %s", msg)
	}

	// Boundary off and on again; each result shows the role read back.
	if b := call[api.RoleOutput](t, c, "delete_role_permissions_boundary", `{"role_name":"app"}`); b.Role.PermissionsBoundary != "" || b.Role.RoleName != "app" {
		t.Fatalf("boundary not removed: %+v", b.Role)
	}
	if b := call[api.RoleOutput](t, c, "put_role_permissions_boundary", `{"role_name":"app","permissions_boundary":"`+roleBoundaryARN+`"}`); b.Role.PermissionsBoundary != roleBoundaryARN {
		t.Fatalf("boundary not set: %+v", b.Role)
	}

	if a := call[api.Result](t, c, "attach_role_policy", `{"role_name":"app","policy_arn":"`+readOnlyARN+`"}`); len(a.Warnings) != 0 {
		t.Fatalf("ReadOnlyAccess warned: %+v", a)
	}
	call[api.Result](t, c, "attach_role_policy", `{"role_name":"app","policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}`)
	call[api.Result](t, c, "detach_role_policy", `{"role_name":"app","policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}`)
	attached := call[api.AttachedPoliciesOutput](t, c, "list_attached_role_policies", `{"role_name":"app"}`)
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyArn != readOnlyARN {
		t.Fatalf("list_attached_role_policies: %+v", attached)
	}
	call[api.Result](t, c, "put_role_policy", `{"role_name":"app","policy_name":"bucket","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}}`)

	// Instance profiles.
	prof := call[api.InstanceProfileOutput](t, c, "create_instance_profile", `{"instance_profile_name":"app-profile","path":"/service/"}`)
	if prof.InstanceProfile.Arn != "arn:aws:iam::123456789012:instance-profile/service/app-profile" || prof.InstanceProfile.Roles == nil || len(prof.InstanceProfile.Roles) != 0 {
		t.Fatalf("create_instance_profile: %+v", prof)
	}
	callFails(t, c, "create_instance_profile", `{"instance_profile_name":"APP-PROFILE"}`, api.EntityAlreadyExists)
	call[api.Result](t, c, "add_role_to_instance_profile", `{"instance_profile_name":"app-profile","role_name":"app"}`)
	profiles := call[api.InstanceProfilesOutput](t, c, "list_instance_profiles_for_role", `{"role_name":"app"}`)
	if len(profiles.InstanceProfiles) != 1 || profiles.InstanceProfiles[0].InstanceProfileName != "app-profile" || len(profiles.InstanceProfiles[0].Roles) != 1 || profiles.InstanceProfiles[0].Roles[0] != "app" {
		t.Fatalf("list_instance_profiles_for_role: %+v", profiles)
	}

	got := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"app"}`)
	if got.Role.RoleName != "app" || got.Role.PermissionsBoundary != roleBoundaryARN || len(got.AttachedPolicies) != 1 ||
		len(got.InlinePolicies) != 1 || got.InlinePolicies[0] != "bucket" || len(got.InstanceProfiles) != 1 || got.InstanceProfiles[0] != "app-profile" {
		t.Fatalf("get_role: %+v", got)
	}

	// The profile holds the role: deleting it is refused, naming the role.
	msg := callFails(t, c, "delete_instance_profile", `{"instance_profile_name":"app-profile"}`, api.DeleteConflict)
	says(t, "profile conflict", msg, "role app", "remove_role_from_instance_profile", "Nothing was changed")

	// Without force: refused, nothing changed.
	msg = callFails(t, c, "delete_role", `{"role_name":"app"}`, api.DeleteConflict)
	says(t, "role conflict", msg, "role app", "instance profile", "Nothing was changed", "force=true")
	if still := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"app"}`); len(still.AttachedPolicies) != 1 || len(still.InlinePolicies) != 1 || len(still.InstanceProfiles) != 1 {
		t.Fatalf("a refused delete changed the role: %+v", still)
	}

	del := call[api.DeleteOutput](t, c, "delete_role", `{"role_name":"app","force":true}`)
	want := []api.DeleteStep{{Action: "DetachRolePolicy", Target: readOnlyARN}, {Action: "DeleteRolePolicy", Target: "role/app/policy/bucket"}, {Action: "RemoveRoleFromInstanceProfile", Target: "instance-profile/app-profile"}}
	if del.Deleted != "app" || !slices.Equal(del.Steps, want) {
		t.Fatalf("delete_role force: %+v, want the steps %+v", del, want)
	}
	callFails(t, c, "get_role", `{"role_name":"app"}`, api.NoSuchEntity)

	// The emptied profile now deletes.
	dp := call[api.DeleteOutput](t, c, "delete_instance_profile", `{"instance_profile_name":"app-profile"}`)
	if dp.Deleted != "app-profile" || dp.Steps == nil || dp.Message == "" {
		t.Fatalf("delete_instance_profile: %+v", dp)
	}
	callFails(t, c, "delete_instance_profile", `{"instance_profile_name":"app-profile"}`, api.NoSuchEntity)

	// A role with nothing attached deletes without force.
	call[api.RoleOutput](t, c, "create_role", `{"role_name":"bare","assume_role_policy_document":`+ec2TrustDoc+`}`)
	if d := call[api.DeleteOutput](t, c, "delete_role", `{"role_name":"bare"}`); d.Deleted != "bare" || len(d.Steps) != 0 {
		t.Fatalf("delete_role bare: %+v", d)
	}
}

// TestRolesWarnings: with --allow-risky-policies, risky trust policies are
// written and say why they are risky (guardrails_test.go shows the
// refusals).
func TestRolesWarnings(t *testing.T) {
	c := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	withBoundary := `,"permissions_boundary":"` + roleBoundaryARN + `"`
	cases := []struct {
		name, trust, extra string
		want               []string // substrings, one per expected warning
	}{
		{"open", openTrustDoc, withBoundary, []string{"lets anyone assume the role"}},
		{"partner", partnerTrustDoc, withBoundary, []string{"210987654321 can assume the role without any condition"}},
		{"vendor", vendorTrustDoc, withBoundary, nil},
		{"same-account", sameAcctTrustDoc, withBoundary, nil},
		{"service", ec2TrustDoc, withBoundary, nil},
		{"no-boundary", ec2TrustDoc, "", []string{"no permissions boundary"}},
		{"open-no-boundary", openTrustDoc, "", []string{"lets anyone assume the role", "no permissions boundary"}},
		// The trust policy as a string holding JSON, as some assistants send it.
		{"as-string", strings.ReplaceAll(`"`+strings.ReplaceAll(openTrustDoc, `"`, `\"`)+`"`, "\n", ""), withBoundary, []string{"lets anyone assume the role"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := call[api.RoleOutput](t, c, "create_role", `{"role_name":"w-`+tc.name+`","assume_role_policy_document":`+tc.trust+tc.extra+`}`)
			checkWarnings(t, out.Warnings, tc.want)
		})
	}

	// Demo's open-trust-role: replacing its trust with a service principal
	// clears the warning; opening it again brings it back.
	fixed := call[api.RoleOutput](t, c, "update_assume_role_policy", `{"role_name":"open-trust-role","policy_document":`+ec2TrustDoc+`}`)
	checkWarnings(t, fixed.Warnings, nil)
	if !strings.Contains(string(fixed.Role.AssumeRolePolicyDocument), "ec2.amazonaws.com") {
		t.Fatalf("trust policy not replaced: %s", fixed.Role.AssumeRolePolicyDocument)
	}
	opened := call[api.RoleOutput](t, c, "update_assume_role_policy", `{"role_name":"open-trust-role","policy_document":`+openTrustDoc+`}`)
	checkWarnings(t, opened.Warnings, []string{"lets anyone assume the role"})
	partner := call[api.RoleOutput](t, c, "update_assume_role_policy", `{"role_name":"partner-audit","policy_document":`+partnerTrustDoc+`}`)
	checkWarnings(t, partner.Warnings, []string{"210987654321"})

	admin := call[api.Result](t, c, "attach_role_policy", `{"role_name":"lambda-exec","policy_arn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
	checkWarnings(t, admin.Warnings, []string{"administrator-equivalent", "iam:PassRole"})
	if !strings.Contains(admin.Warnings[0], "role lambda-exec") {
		t.Errorf("admin warning does not name the role: %s", admin.Warnings[0])
	}
	// A customer policy: the demo's DeployPipeline (v2, scoped) is not admin.
	scoped := call[api.Result](t, c, "attach_role_policy", `{"role_name":"lambda-exec","policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline"}`)
	checkWarnings(t, scoped.Warnings, nil)
}

// checkWarnings wants exactly one warning per substring, each containing it.
func checkWarnings(t *testing.T, got []string, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("warnings %q, want %d containing %q", got, len(want), want)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, w)
		}
		if !found {
			t.Fatalf("warnings %q: none says %q", got, w)
		}
	}
}

func TestRolesDemoInstanceProfile(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	got := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"ec2-app-role"}`)
	if len(got.InstanceProfiles) != 1 || got.InstanceProfiles[0] != "ec2-app" || len(got.AttachedPolicies) != 1 || got.Role.Description == "" {
		t.Fatalf("demo ec2-app-role: %+v", got)
	}

	// The profile's one slot is taken: adding another role names the holder.
	msg := callFails(t, c, "add_role_to_instance_profile", `{"instance_profile_name":"ec2-app","role_name":"lambda-exec"}`, api.LimitExceeded)
	if !strings.Contains(msg, "role ec2-app-role") || !strings.Contains(msg, "remove_role_from_instance_profile") {
		t.Fatalf("full-profile message: %s", msg)
	}
	msg = callFails(t, c, "delete_instance_profile", `{"instance_profile_name":"ec2-app"}`, api.DeleteConflict)
	if !strings.Contains(msg, "role ec2-app-role") {
		t.Fatalf("profile conflict does not name its role: %s", msg)
	}
	callFails(t, c, "remove_role_from_instance_profile", `{"instance_profile_name":"ec2-app","role_name":"lambda-exec"}`, api.NoSuchEntity)

	msg = callFails(t, c, "delete_role", `{"role_name":"ec2-app-role"}`, api.DeleteConflict)
	if !strings.Contains(msg, "Nothing was changed") {
		t.Fatalf("role conflict: %s", msg)
	}
	del := call[api.DeleteOutput](t, c, "delete_role", `{"role_name":"ec2-app-role","force":true}`)
	steps := stepActions(del.Steps)
	if steps["DetachRolePolicy"] != 1 || steps["RemoveRoleFromInstanceProfile"] != 1 || len(del.Steps) != 2 {
		t.Fatalf("force delete steps: %+v", del.Steps)
	}
	// The profile survives its role, empty, and can take another.
	call[api.Result](t, c, "add_role_to_instance_profile", `{"instance_profile_name":"ec2-app","role_name":"lambda-exec"}`)
	call[api.Result](t, c, "remove_role_from_instance_profile", `{"instance_profile_name":"ec2-app","role_name":"lambda-exec"}`)
	call[api.DeleteOutput](t, c, "delete_instance_profile", `{"instance_profile_name":"ec2-app"}`)
}

// TestRolesForceDeleteAcrossPages: a role in more instance profiles than
// one page of ListInstanceProfilesForRole holds is taken out of all of them.
func TestRolesForceDeleteAcrossPages(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.RoleOutput](t, c, "create_role", `{"role_name":"wide","assume_role_policy_document":`+ec2TrustDoc+`}`)
	const n = 110
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("p%03d", i)
		call[api.InstanceProfileOutput](t, c, "create_instance_profile", `{"instance_profile_name":"`+p+`"}`)
		call[api.Result](t, c, "add_role_to_instance_profile", `{"instance_profile_name":"`+p+`","role_name":"wide"}`)
	}
	if got := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"wide"}`); len(got.InstanceProfiles) != n {
		t.Fatalf("get_role lists %d instance profiles, want all %d", len(got.InstanceProfiles), n)
	}
	del := call[api.DeleteOutput](t, c, "delete_role", `{"role_name":"wide","force":true}`)
	if got := stepActions(del.Steps)["RemoveRoleFromInstanceProfile"]; got != n {
		t.Fatalf("force delete took the role out of %d profiles, want %d", got, n)
	}
	call[api.DeleteOutput](t, c, "delete_instance_profile", `{"instance_profile_name":"p109"}`)
}

func TestRolesErrors(t *testing.T) {
	// Risky policies allowed: the ten attached below include AdministratorAccess.
	c := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	cases := []struct {
		op, args string
		code     api.ErrorCode
	}{
		{"get_role", `{"role_name":"nobody"}`, api.NoSuchEntity},
		{"delete_role", `{"role_name":"nobody"}`, api.NoSuchEntity},
		{"delete_role", `{"role_name":"nobody","force":true}`, api.NoSuchEntity},
		{"update_role", `{"role_name":"nobody","description":"x"}`, api.NoSuchEntity},
		{"update_assume_role_policy", `{"role_name":"nobody","policy_document":` + ec2TrustDoc + `}`, api.NoSuchEntity},
		{"attach_role_policy", `{"role_name":"nobody","policy_arn":"` + readOnlyARN + `"}`, api.NoSuchEntity},
		{"attach_role_policy", `{"role_name":"lambda-exec","policy_arn":"arn:aws:iam::123456789012:policy/Missing"}`, api.NoSuchEntity},
		{"detach_role_policy", `{"role_name":"lambda-exec","policy_arn":"` + readOnlyARN + `"}`, api.NoSuchEntity},
		{"list_attached_role_policies", `{"role_name":"nobody"}`, api.NoSuchEntity},
		{"list_instance_profiles_for_role", `{"role_name":"nobody"}`, api.NoSuchEntity},
		{"put_role_permissions_boundary", `{"role_name":"nobody","permissions_boundary":"` + roleBoundaryARN + `"}`, api.NoSuchEntity},
		{"delete_role_permissions_boundary", `{"role_name":"nobody"}`, api.NoSuchEntity},
		{"add_role_to_instance_profile", `{"instance_profile_name":"nothing","role_name":"lambda-exec"}`, api.NoSuchEntity},
		{"add_role_to_instance_profile", `{"instance_profile_name":"ec2-app","role_name":"nobody"}`, api.NoSuchEntity},
		{"remove_role_from_instance_profile", `{"instance_profile_name":"nothing","role_name":"lambda-exec"}`, api.NoSuchEntity},
		{"delete_instance_profile", `{"instance_profile_name":"nothing"}`, api.NoSuchEntity},
		{"create_role", `{"role_name":"Open-Trust-Role","assume_role_policy_document":` + ec2TrustDoc + `}`, api.EntityAlreadyExists},
		{"create_instance_profile", `{"instance_profile_name":"EC2-APP"}`, api.EntityAlreadyExists},
		// A trust policy without a principal, and one with a bad effect.
		{"create_role", `{"role_name":"np","assume_role_policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}}`, api.MalformedPolicyDocument},
		{"update_assume_role_policy", `{"role_name":"lambda-exec","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}`, api.MalformedPolicyDocument},
		// A boundary that does not exist.
		{"create_role", `{"role_name":"nb","assume_role_policy_document":` + ec2TrustDoc + `,"permissions_boundary":"arn:aws:iam::123456789012:policy/Missing"}`, api.InvalidInput},
		{"put_role_permissions_boundary", `{"role_name":"lambda-exec","permissions_boundary":"arn:aws:iam::123456789012:policy/Missing"}`, api.InvalidInput},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			// A document IAM would refuse is refused before IAM sees it.
			if msg := callFails(t, c, tc.op, tc.args, tc.code); !strings.Contains(msg, "IAM answered") && !strings.Contains(msg, "IAM would refuse") {
				t.Errorf("message does not relay IAM's answer: %s", msg)
			}
		})
	}
	// Refused creates left nothing behind.
	callFails(t, c, "get_role", `{"role_name":"np"}`, api.NoSuchEntity)
	callFails(t, c, "get_role", `{"role_name":"nb"}`, api.NoSuchEntity)
	if got := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"lambda-exec"}`); !strings.Contains(string(got.Role.AssumeRolePolicyDocument), "lambda.amazonaws.com") || got.Role.PermissionsBoundary != "" {
		t.Fatalf("a refused update changed the role: %+v", got.Role)
	}

	// Eleven managed policies on one role: the eleventh is refused.
	call[api.RoleOutput](t, c, "create_role", `{"role_name":"full","assume_role_policy_document":`+ec2TrustDoc+`}`)
	for _, p := range []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "IAMUserChangePassword", "IAMReadOnlyAccess",
		"AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AmazonEC2ReadOnlyAccess", "ReadOnlyAccess", "SecurityAudit"} {
		call[api.Result](t, c, "attach_role_policy", `{"role_name":"full","policy_arn":"arn:aws:iam::aws:policy/`+p+`"}`)
	}
	callFails(t, c, "attach_role_policy", `{"role_name":"full","policy_arn":"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}`, api.LimitExceeded)
	// Force delete detaches all ten.
	if d := call[api.DeleteOutput](t, c, "delete_role", `{"role_name":"full","force":true}`); stepActions(d.Steps)["DetachRolePolicy"] != 10 {
		t.Fatalf("force delete of a full role: %+v", d.Steps)
	}
}

func TestRolesBadInput(t *testing.T) {
	c := newTestCatalogue(t, "")
	trust := `,"assume_role_policy_document":` + ec2TrustDoc
	cases := []struct{ op, args, want string }{
		{"create_role", `{"assume_role_policy_document":` + ec2TrustDoc + `}`, `"role_name" is required`},
		{"create_role", `{"role_name":"r"}`, `"assume_role_policy_document" is required`},
		{"create_role", `{"role_name":"r","assume_role_policy_document":42}`, "policy document"},
		{"create_role", `{"role_name":"r","assume_role_policy_document":"not json"}`, "policy document"},
		{"create_role", `{"role_name":"r","assume_role_policy_document":[]}`, "policy document"},
		{"create_role", `{"role_name":"` + strings.Repeat("r", 65) + `"` + trust + `}`, "1-64"},
		{"create_role", `{"role_name":"r r"` + trust + `}`, "letters, digits"},
		{"create_role", `{"role_name":"r","path":"/no-end"` + trust + `}`, "starts and ends with /"},
		{"create_role", `{"role_name":"r","max_session_duration":60` + trust + `}`, "between 3600 and 43200"},
		{"create_role", `{"role_name":"r","max_session_duration":"1h"` + trust + `}`, "wrong type"},
		{"create_role", `{"role_name":"r","description":"` + strings.Repeat("d", 1001) + `"` + trust + `}`, "at most 1000"},
		{"create_role", `{"role_name":"r","permissions_boundary":"PowerUserAccess"` + trust + `}`, "ARN"},
		{"create_role", `{"role_name":"r","tags":{}` + trust + `}`, "unknown argument"},
		{"list_roles", `{"path_prefix":"service"}`, "path prefix"},
		{"list_roles", `{"max_items":100000}`, "between 1 and 1000"},
		{"get_role", `{}`, `"role_name" is required`},
		{"delete_role", `{"role_name":"r","force":1}`, "wrong type"},
		{"update_role", `{"role_name":"r","max_session_duration":50000}`, "between 3600 and 43200"},
		{"update_role", `{"role_name":"r","description":5}`, "wrong type"},
		{"update_role", `{"role_name":"r"}`, "nothing to change"},
		{"update_assume_role_policy", `{"role_name":"r"}`, `"policy_document" is required`},
		{"update_assume_role_policy", `{"role_name":"r","policy_document":"{"}`, "policy document"},
		{"attach_role_policy", `{"role_name":"r","policy_arn":"arn:aws:s3:::bucket"}`, "managed policy ARN"},
		{"detach_role_policy", `{"policy_arn":"` + readOnlyARN + `"}`, `"role_name" is required`},
		{"put_role_permissions_boundary", `{"role_name":"r"}`, `"permissions_boundary" is required`},
		{"list_instance_profiles_for_role", `{"role_name":"r","max_items":0.1}`, "wrong type"},
		{"create_instance_profile", `{"instance_profile_name":"a b"}`, "letters, digits"},
		{"create_instance_profile", `{"instance_profile_name":"p","path":"x"}`, "starts and ends with /"},
		{"add_role_to_instance_profile", `{"instance_profile_name":"p"}`, `"role_name" is required`},
		{"remove_role_from_instance_profile", `{"role_name":"r"}`, `"instance_profile_name" is required`},
		{"delete_instance_profile", `{"instance_profile_name":"` + strings.Repeat("p", 129) + `"}`, "1-128"},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			msg := callFails(t, c, tc.op, tc.args, api.InvalidInput)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
		})
	}
}

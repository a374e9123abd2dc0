package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func userNames(us []api.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.UserName)
	}
	return out
}

func groupNames(gs []api.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.GroupName)
	}
	return out
}

func policyArns(ps []api.AttachedPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.PolicyArn)
	}
	return out
}

func stepActions(steps []api.DeleteStep) []string {
	var out []string
	for _, st := range steps {
		out = append(out, st.Action)
	}
	return out
}

// wantSteps checks that a force delete reported each of the actions.
func wantSteps(t *testing.T, what string, del api.DeleteOutput, actions ...string) {
	t.Helper()
	got := stepActions(del.Steps)
	for _, a := range actions {
		if !has(got, a) {
			t.Errorf("force delete of %s: no %s step reported; steps: %v", what, a, got)
		}
	}
	for _, st := range del.Steps {
		if st.Target == "" {
			t.Errorf("force delete of %s: step %s names no target", what, st.Action)
		}
	}
}

// decisions simulates and returns action → decision (one resource).
func decisions(s *server, source string, resource string, actions ...string) map[string]string {
	s.t.Helper()
	args := map[string]any{"policy_source_arn": source, "action_names": actions}
	if resource != "" {
		args["resource_arns"] = []string{resource}
	}
	out := ok[api.SimulateOutput](s, "simulate_principal_policy", args)
	got := map[string]string{}
	for _, r := range out.EvaluationResults {
		got[r.ActionName] = r.Decision
		if r.Decision == "allowed" && len(r.MatchedStatements) == 0 {
			s.t.Errorf("simulate %s %s: allowed without a matched statement", source, r.ActionName)
		}
	}
	if len(out.EvaluationResults) != len(actions) {
		s.t.Errorf("simulate %s: %d results for %d actions", source, len(out.EvaluationResults), len(actions))
	}
	return got
}

func wantDecisions(t *testing.T, who string, got map[string]string, want map[string]string) {
	t.Helper()
	for action, d := range want {
		if got[action] != d {
			t.Errorf("simulate %s %s: decision %q, want %q", who, action, got[action], d)
		}
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	const first, name = "e2e.dev", "e2e.developer"

	created := ok[api.UserOutput](s, "create_user", map[string]any{"user_name": first, "path": "/e2e/"})
	if created.User.UserName != first || created.User.Path != "/e2e/" || created.User.Arn != userArn+"/e2e/"+first || created.User.UserID == "" || created.User.CreateDate.IsZero() {
		t.Errorf("create_user returned %+v", created.User)
	}
	fails(s, "create_user", map[string]any{"user_name": strings.ToUpper(first)}, api.EntityAlreadyExists)

	renamed := ok[api.UserOutput](s, "update_user", map[string]any{"user_name": first, "new_user_name": name})
	if renamed.User.UserName != name {
		t.Errorf("update_user: user is now %+v", renamed.User)
	}
	if len(renamed.Warnings) == 0 {
		t.Errorf("update_user renaming a user gave no warning about policies naming the old ARN")
	}
	listed := ok[api.ListUsersOutput](s, "list_users", map[string]any{"path_prefix": "/e2e/"})
	if got := userNames(listed.Users); len(got) != 1 || got[0] != name || listed.IsTruncated {
		t.Errorf("list_users /e2e/: %v (truncated %v)", got, listed.IsTruncated)
	}

	fresh := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": name})
	if len(fresh.AttachedPolicies)+len(fresh.InlinePolicies)+len(fresh.Groups)+len(fresh.AccessKeys) != 0 {
		t.Errorf("a new user has policies, groups or keys: %+v", fresh)
	}

	// Give it everything a force delete must remove.
	ok[api.Result](s, "attach_user_policy", map[string]any{"user_name": name, "policy_arn": awsPol + "ReadOnlyAccess"})
	ok[api.Result](s, "put_user_policy", map[string]any{"user_name": name, "policy_name": "reports", "policy_document": s3ReadDoc})
	ok[api.Result](s, "put_user_policy", map[string]any{"user_name": name, "policy_name": "no-deletes", "policy_document": denyDeleteDocString})
	ok[api.Result](s, "add_user_to_group", map[string]any{"group_name": "Support", "user_name": name})
	ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": name})
	ok[api.LoginProfileOutput](s, "create_login_profile", map[string]any{"user_name": name, "password": "E2e-Passw0rd!long", "password_reset_required": true})

	got := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": name})
	if !has(policyArns(got.AttachedPolicies), awsPol+"ReadOnlyAccess") || !has(got.InlinePolicies, "reports") || !has(groupNames(got.Groups), "Support") || len(got.AccessKeys) != 1 {
		t.Errorf("get_user after setup: %+v", got)
	}
	inline := ok[api.InlinePolicyOutput](s, "get_user_policy", map[string]any{"user_name": name, "policy_name": "reports"})
	if !jsonEqual(docJSON(t, inline.PolicyDocument), s3ReadDoc) {
		t.Errorf("get_user_policy: %s", inline.PolicyDocument)
	}
	if names := ok[api.InlinePolicyNamesOutput](s, "list_user_policies", map[string]any{"user_name": name}); len(names.PolicyNames) != 2 {
		t.Errorf("list_user_policies: %v", names.PolicyNames)
	}
	if att := ok[api.AttachedPoliciesOutput](s, "list_attached_user_policies", map[string]any{"user_name": name}); len(att.AttachedPolicies) != 1 {
		t.Errorf("list_attached_user_policies: %v", att.AttachedPolicies)
	}
	if gs := ok[api.GroupsOutput](s, "list_groups_for_user", map[string]any{"user_name": name}); !has(groupNames(gs.Groups), "Support") {
		t.Errorf("list_groups_for_user: %v", groupNames(gs.Groups))
	}

	// Simulation with its real policies: the three decisions.
	arn := userArn + "/e2e/" + name
	wantDecisions(t, name, decisions(s, arn, "arn:aws:s3:::e2e-reports/q1.csv", "s3:GetObject", "s3:DeleteObject", "iam:CreateUser"),
		map[string]string{"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny", "iam:CreateUser": "implicitDeny"})

	// A boundary narrows it; removing it restores.
	boundary := localPol + "/boundaries/DeveloperBoundary"
	withBoundary := ok[api.UserOutput](s, "put_user_permissions_boundary", map[string]any{"user_name": name, "permissions_boundary": boundary})
	if withBoundary.User.PermissionsBoundary != boundary {
		t.Errorf("put_user_permissions_boundary: boundary %q", withBoundary.User.PermissionsBoundary)
	}
	wantDecisions(t, name+" (boundary)", decisions(s, arn, "*", "ec2:DescribeInstances"), map[string]string{"ec2:DescribeInstances": "implicitDeny"})
	if without := ok[api.UserOutput](s, "delete_user_permissions_boundary", map[string]any{"user_name": name}); without.User.PermissionsBoundary != "" {
		t.Errorf("delete_user_permissions_boundary left %q", without.User.PermissionsBoundary)
	}
	wantDecisions(t, name, decisions(s, arn, "*", "ec2:DescribeInstances"), map[string]string{"ec2:DescribeInstances": "allowed"})

	// Without force: a conflict that names what blocks, and nothing changes.
	msg := fails(s, "delete_user", map[string]any{"user_name": name}, api.DeleteConflict)
	if !strings.Contains(strings.ToLower(msg), "force") && !strings.Contains(strings.ToLower(msg), "key") && !strings.Contains(strings.ToLower(msg), "polic") {
		t.Errorf("delete_user conflict does not say what blocks it or what to do: %s", msg)
	}
	if still := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": name}); len(still.AccessKeys) != 1 || len(still.Groups) != 1 || len(still.InlinePolicies) != 2 {
		t.Errorf("a refused delete_user changed the user: %+v", still)
	}

	del := ok[api.DeleteOutput](s, "delete_user", map[string]any{"user_name": name, "force": true})
	if del.Deleted != name {
		t.Errorf("delete_user: deleted %q", del.Deleted)
	}
	wantSteps(t, name, del, "DeleteAccessKey", "DeleteLoginProfile", "DeleteUserPolicy", "DetachUserPolicy", "RemoveUserFromGroup")
	fails(s, "get_user", map[string]any{"user_name": name}, api.NoSuchEntity)
	if sup := ok[api.GetGroupOutput](s, "get_group", map[string]any{"group_name": "Support"}); has(userNames(sup.Users), name) {
		t.Errorf("Support still lists the deleted user")
	}
}

func TestGroupLifecycle(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	const name = "e2e-readers"
	dataLake := localPol + "/data/DataLakeRead"

	created := ok[api.GroupOutput](s, "create_group", map[string]any{"group_name": name, "path": "/e2e/"})
	if created.Group.Arn != "arn:aws:iam::"+account+":group/e2e/"+name {
		t.Errorf("create_group: %+v", created.Group)
	}
	ok[api.Result](s, "add_user_to_group", map[string]any{"group_name": name, "user_name": "grace.kim"})
	ok[api.Result](s, "add_user_to_group", map[string]any{"group_name": name, "user_name": "farid.haddad"})
	ok[api.Result](s, "attach_group_policy", map[string]any{"group_name": name, "policy_arn": dataLake})
	ok[api.Result](s, "put_group_policy", map[string]any{"group_name": name, "policy_name": "no-deletes", "policy_document": denyDeleteDocString})

	got := ok[api.GetGroupOutput](s, "get_group", map[string]any{"group_name": name})
	if m := userNames(got.Users); len(m) != 2 || !has(m, "grace.kim") || !has(m, "farid.haddad") {
		t.Errorf("get_group members: %v", m)
	}
	if !has(policyArns(got.AttachedPolicies), dataLake) || !has(got.InlinePolicies, "no-deletes") {
		t.Errorf("get_group policies: %+v %v", got.AttachedPolicies, got.InlinePolicies)
	}
	if gp := ok[api.InlinePolicyOutput](s, "get_group_policy", map[string]any{"group_name": name, "policy_name": "no-deletes"}); !jsonEqual(docJSON(t, gp.PolicyDocument), mustJSON(t, denyDeleteDocString)) {
		t.Errorf("get_group_policy: %s", gp.PolicyDocument)
	}
	if l := ok[api.GroupsOutput](s, "list_groups", map[string]any{"path_prefix": "/e2e/"}); len(l.Groups) != 1 || l.Groups[0].GroupName != name {
		t.Errorf("list_groups /e2e/: %v", groupNames(l.Groups))
	}
	if l := ok[api.AttachedPoliciesOutput](s, "list_attached_group_policies", map[string]any{"group_name": name}); len(l.AttachedPolicies) != 1 {
		t.Errorf("list_attached_group_policies: %v", l.AttachedPolicies)
	}
	if l := ok[api.InlinePolicyNamesOutput](s, "list_group_policies", map[string]any{"group_name": name}); len(l.PolicyNames) != 1 {
		t.Errorf("list_group_policies: %v", l.PolicyNames)
	}

	// farid (Developers, no boundary) gains the group's deny.
	wantDecisions(t, "farid.haddad", decisions(s, userArn+"/eng/farid.haddad", "arn:aws:s3:::acme-data-lake/x", "s3:GetObject", "s3:DeleteObject"),
		map[string]string{"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny"})

	ok[api.Result](s, "remove_user_from_group", map[string]any{"group_name": name, "user_name": "farid.haddad"})
	if after := ok[api.GetGroupOutput](s, "get_group", map[string]any{"group_name": name}); has(userNames(after.Users), "farid.haddad") {
		t.Errorf("remove_user_from_group: farid still a member")
	}
	ok[api.Result](s, "detach_group_policy", map[string]any{"group_name": name, "policy_arn": dataLake})
	ok[api.Result](s, "attach_group_policy", map[string]any{"group_name": name, "policy_arn": dataLake})

	fails(s, "delete_group", map[string]any{"group_name": name}, api.DeleteConflict)
	del := ok[api.DeleteOutput](s, "delete_group", map[string]any{"group_name": name, "force": true})
	wantSteps(t, name, del, "RemoveUserFromGroup", "DetachGroupPolicy", "DeleteGroupPolicy")
	fails(s, "get_group", map[string]any{"group_name": name}, api.NoSuchEntity)
	if gs := ok[api.GroupsOutput](s, "list_groups_for_user", map[string]any{"user_name": "grace.kim"}); has(groupNames(gs.Groups), name) || !has(groupNames(gs.Groups), "DataScience") {
		t.Errorf("grace.kim's groups after the delete: %v", groupNames(gs.Groups))
	}
}

func TestRoleLifecycle(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	const name, profile = "e2e-worker", "e2e-profile"
	basic := awsPol + "service-role/AWSLambdaBasicExecutionRole"

	created := ok[api.RoleOutput](s, "create_role", map[string]any{
		"role_name": name, "assume_role_policy_document": lambdaTrust, "path": "/e2e/",
		"description": "e2e worker", "max_session_duration": 7200,
	})
	if created.Role.Arn != roleArn+"/e2e/"+name || created.Role.MaxSessionDuration != 7200 || created.Role.Description != "e2e worker" {
		t.Errorf("create_role: %+v", created.Role)
	}
	if !jsonEqual(docJSON(t, created.Role.AssumeRolePolicyDocument), lambdaTrust) {
		t.Errorf("create_role: trust policy came back as %s", created.Role.AssumeRolePolicyDocument)
	}
	if !strings.Contains(strings.ToLower(strings.Join(created.Warnings, " ")), "boundary") {
		t.Errorf("create_role without a permissions boundary: no warning about it: %v", created.Warnings)
	}

	ok[api.Result](s, "attach_role_policy", map[string]any{"role_name": name, "policy_arn": basic})
	ok[api.Result](s, "put_role_policy", map[string]any{"role_name": name, "policy_name": "reports", "policy_document": s3ReadDoc})
	if rp := ok[api.InlinePolicyOutput](s, "get_role_policy", map[string]any{"role_name": name, "policy_name": "reports"}); rp.PrincipalName != name || !jsonEqual(docJSON(t, rp.PolicyDocument), s3ReadDoc) {
		t.Errorf("get_role_policy: %+v", rp)
	}
	upd := ok[api.RoleOutput](s, "update_role", map[string]any{"role_name": name, "description": "e2e worker, updated", "max_session_duration": 3600})
	if upd.Role.Description != "e2e worker, updated" || upd.Role.MaxSessionDuration != 3600 {
		t.Errorf("update_role: %+v", upd.Role)
	}
	// The trust policy as a JSON string this time.
	ok[api.RoleOutput](s, "update_assume_role_policy", map[string]any{"role_name": name, "policy_document": ec2TrustString})
	ip := ok[api.InstanceProfileOutput](s, "create_instance_profile", map[string]any{"instance_profile_name": profile, "path": "/e2e/"})
	if ip.InstanceProfile.InstanceProfileName != profile || len(ip.InstanceProfile.Roles) != 0 {
		t.Errorf("create_instance_profile: %+v", ip.InstanceProfile)
	}
	ok[api.Result](s, "add_role_to_instance_profile", map[string]any{"instance_profile_name": profile, "role_name": name})

	got := ok[api.GetRoleOutput](s, "get_role", map[string]any{"role_name": name})
	if !jsonEqual(docJSON(t, got.Role.AssumeRolePolicyDocument), mustJSON(t, ec2TrustString)) {
		t.Errorf("get_role after update_assume_role_policy: trust %s", got.Role.AssumeRolePolicyDocument)
	}
	if !has(policyArns(got.AttachedPolicies), basic) || !has(got.InlinePolicies, "reports") || !has(got.InstanceProfiles, profile) {
		t.Errorf("get_role: %+v", got)
	}
	if l := ok[api.InstanceProfilesOutput](s, "list_instance_profiles_for_role", map[string]any{"role_name": name}); len(l.InstanceProfiles) != 1 || !has(l.InstanceProfiles[0].Roles, name) {
		t.Errorf("list_instance_profiles_for_role: %+v", l.InstanceProfiles)
	}
	if l := ok[api.AttachedPoliciesOutput](s, "list_attached_role_policies", map[string]any{"role_name": name}); len(l.AttachedPolicies) != 1 {
		t.Errorf("list_attached_role_policies: %v", l.AttachedPolicies)
	}
	if l := ok[api.InlinePolicyNamesOutput](s, "list_role_policies", map[string]any{"role_name": name}); len(l.PolicyNames) != 1 {
		t.Errorf("list_role_policies: %v", l.PolicyNames)
	}
	if l := ok[api.ListRolesOutput](s, "list_roles", map[string]any{"path_prefix": "/e2e/"}); len(l.Roles) != 1 || l.Roles[0].RoleName != name {
		t.Errorf("list_roles /e2e/: %+v", l.Roles)
	}
	wantDecisions(t, name, decisions(s, roleArn+"/e2e/"+name, "arn:aws:s3:::e2e-reports/a", "s3:GetObject", "iam:CreateUser"),
		map[string]string{"s3:GetObject": "allowed", "iam:CreateUser": "implicitDeny"})

	boundary := localPol + "/boundaries/DeveloperBoundary"
	if b := ok[api.RoleOutput](s, "put_role_permissions_boundary", map[string]any{"role_name": name, "permissions_boundary": boundary}); b.Role.PermissionsBoundary != boundary {
		t.Errorf("put_role_permissions_boundary: %+v", b.Role)
	}
	ok[api.RoleOutput](s, "delete_role_permissions_boundary", map[string]any{"role_name": name})

	fails(s, "delete_role", map[string]any{"role_name": name}, api.DeleteConflict)
	fails(s, "delete_instance_profile", map[string]any{"instance_profile_name": profile}, api.DeleteConflict)
	del := ok[api.DeleteOutput](s, "delete_role", map[string]any{"role_name": name, "force": true})
	wantSteps(t, name, del, "DetachRolePolicy", "DeleteRolePolicy", "RemoveRoleFromInstanceProfile")
	fails(s, "get_role", map[string]any{"role_name": name}, api.NoSuchEntity)
	ok[api.DeleteOutput](s, "delete_instance_profile", map[string]any{"instance_profile_name": profile})

	// A trust policy open to anyone is refused by the guardrails, and
	// nothing is created; a service's trust is created, with a warning
	// for the missing boundary.
	msg := fails(s, "create_role", map[string]any{
		"role_name": "e2e-open", "assume_role_policy_document": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`,
	}, api.RiskyPolicy)
	if !strings.Contains(msg, "TRUST_OPEN_TO_ANYONE") || !strings.Contains(msg, "--allow-risky-policies") {
		t.Errorf("create_role open to *: %s", msg)
	}
	fails(s, "get_role", map[string]any{"role_name": "e2e-open"}, api.NoSuchEntity)
	open := ok[api.RoleOutput](s, "create_role", map[string]any{
		"role_name": "e2e-open", "assume_role_policy_document": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
	})
	if len(open.Warnings) != 1 {
		t.Errorf("create_role for ec2 without a boundary: want the boundary warning, got %v", open.Warnings)
	}
	// An instance profile with its role removed first, then the role.
	ok[api.InstanceProfileOutput](s, "create_instance_profile", map[string]any{"instance_profile_name": "e2e-open"})
	ok[api.Result](s, "add_role_to_instance_profile", map[string]any{"instance_profile_name": "e2e-open", "role_name": "e2e-open"})
	ok[api.Result](s, "remove_role_from_instance_profile", map[string]any{"instance_profile_name": "e2e-open", "role_name": "e2e-open"})
	ok[api.DeleteOutput](s, "delete_instance_profile", map[string]any{"instance_profile_name": "e2e-open"})
	if d := ok[api.DeleteOutput](s, "delete_role", map[string]any{"role_name": "e2e-open"}); len(d.Steps) != 0 {
		t.Errorf("delete_role of a bare role without force reported steps: %v", d.Steps)
	}
}

func versionDoc(i int) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"V%d","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::e2e-reports/%d/*"}]}`, i, i)
}

func TestManagedPolicyLifecycle(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	created := ok[api.PolicyOutput](s, "create_policy", map[string]any{
		"policy_name": "e2e-reports", "path": "/e2e/", "policy_document": s3ReadDoc, "description": "e2e reports",
	})
	arn := created.Policy.Arn
	if arn != localPol+"/e2e/e2e-reports" || created.Policy.DefaultVersionID != "v1" || !created.Policy.IsAttachable {
		t.Errorf("create_policy: %+v", created.Policy)
	}
	if got := ok[api.PolicyOutput](s, "get_policy", map[string]any{"policy_arn": arn}); got.Policy.Description != "e2e reports" || got.Policy.AttachmentCount != 0 {
		t.Errorf("get_policy: %+v", got.Policy)
	}
	if l := ok[api.ListPoliciesOutput](s, "list_policies", map[string]any{"path_prefix": "/e2e/"}); len(l.Policies) != 1 || l.Policies[0].Arn != arn {
		t.Errorf("list_policies /e2e/: %+v", l.Policies)
	}

	// Versions up to IAM's limit of five…
	for i := 2; i <= 5; i++ {
		v := ok[api.PolicyVersionOutput](s, "create_policy_version", map[string]any{"policy_arn": arn, "policy_document": versionDoc(i)})
		if v.Version.VersionID != fmt.Sprintf("v%d", i) || v.Version.IsDefaultVersion {
			t.Errorf("create_policy_version %d: %+v", i, v.Version)
		}
	}
	// …and at the limit, an error naming the versions that can go.
	msg := fails(s, "create_policy_version", map[string]any{"policy_arn": arn, "policy_document": versionDoc(6)}, api.LimitExceeded)
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		if !strings.Contains(msg, v) {
			t.Errorf("the version-limit error does not name deletable version %s: %s", v, msg)
		}
	}
	if versions := ok[api.ListPolicyVersionsOutput](s, "list_policy_versions", map[string]any{"policy_arn": arn}); len(versions.Versions) != 5 {
		t.Errorf("list_policy_versions: %d versions", len(versions.Versions))
	}

	ok[api.Result](s, "set_default_policy_version", map[string]any{"policy_arn": arn, "version_id": "v3"})
	def := ok[api.PolicyDocumentOutput](s, "get_managed_policy_document", map[string]any{"policy_arn": arn})
	if def.VersionID != "v3" || !def.IsDefaultVersion || !jsonEqual(docJSON(t, def.PolicyDocument), mustJSON(t, versionDoc(3))) {
		t.Errorf("get_managed_policy_document (default): %+v", def)
	}
	v1 := ok[api.PolicyDocumentOutput](s, "get_managed_policy_document", map[string]any{"policy_arn": arn, "version_id": "v1"})
	if v1.IsDefaultVersion || !jsonEqual(docJSON(t, v1.PolicyDocument), s3ReadDoc) {
		t.Errorf("get_managed_policy_document v1: %+v", v1)
	}
	// A version made default on creation.
	ok[api.Result](s, "delete_policy_version", map[string]any{"policy_arn": arn, "version_id": "v5"})
	if v := ok[api.PolicyVersionOutput](s, "create_policy_version", map[string]any{"policy_arn": arn, "policy_document": versionDoc(6), "set_as_default": true}); !v.Version.IsDefaultVersion {
		t.Errorf("create_policy_version set_as_default: %+v", v.Version)
	}

	// Attached: delete refused. Then versions: refused. Then it goes.
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "e2e-policy-user"})
	ok[api.Result](s, "attach_user_policy", map[string]any{"user_name": "e2e-policy-user", "policy_arn": arn})
	if p := ok[api.PolicyOutput](s, "get_policy", map[string]any{"policy_arn": arn}); p.Policy.AttachmentCount != 1 {
		t.Errorf("get_policy after attach: attachment_count %d", p.Policy.AttachmentCount)
	}
	fails(s, "delete_policy", map[string]any{"policy_arn": arn}, api.DeleteConflict)
	ok[api.Result](s, "detach_user_policy", map[string]any{"user_name": "e2e-policy-user", "policy_arn": arn})
	fails(s, "delete_policy", map[string]any{"policy_arn": arn}, api.DeleteConflict)
	fails(s, "delete_policy_version", map[string]any{"policy_arn": arn, "version_id": "v6"}, api.DeleteConflict)
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		ok[api.Result](s, "delete_policy_version", map[string]any{"policy_arn": arn, "version_id": v})
	}
	ok[api.DeleteOutput](s, "delete_policy", map[string]any{"policy_arn": arn})
	fails(s, "get_policy", map[string]any{"policy_arn": arn}, api.NoSuchEntity)

	// AWS managed policies are listed with scope AWS, not by default.
	aws := ok[api.ListPoliciesOutput](s, "list_policies", map[string]any{"scope": "AWS", "max_items": 1000})
	found := false
	for _, p := range aws.Policies {
		found = found || p.Arn == awsPol+"AdministratorAccess"
	}
	if !found {
		t.Errorf("list_policies scope AWS does not list AdministratorAccess")
	}
	for _, p := range ok[api.ListPoliciesOutput](s, "list_policies", nil).Policies {
		if strings.HasPrefix(p.Arn, awsPol) {
			t.Errorf("list_policies with the default scope lists AWS managed %s", p.Arn)
			break
		}
	}
}

func TestCredentialsLifecycle(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all")
	const name = "e2e-keys"
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": name})

	key := ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": name})
	id := key.AccessKey.AccessKeyID
	if !strings.HasPrefix(id, "AKIA") || key.AccessKey.Status != "Active" || key.AccessKey.UserName != name {
		t.Errorf("create_access_key: %+v", key.AccessKey)
	}
	secret := readSecretFile(t, s, key)

	if l := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": name}); len(l.AccessKeys) != 1 || l.AccessKeys[0].AccessKeyID != id || l.AccessKeys[0].Status != "Active" {
		t.Errorf("list_access_keys: %+v", l.AccessKeys)
	}
	second := ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": name})
	readSecretFile(t, s, second)
	fails(s, "create_access_key", map[string]any{"user_name": name}, api.LimitExceeded)

	ok[api.Result](s, "update_access_key", map[string]any{"user_name": name, "access_key_id": id, "status": "Inactive"})
	for _, k := range ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": name}).AccessKeys {
		if k.AccessKeyID == id && k.Status != "Inactive" {
			t.Errorf("update_access_key Inactive: key is %s", k.Status)
		}
	}
	never := ok[api.AccessKeyLastUsedOutput](s, "get_access_key_last_used", map[string]any{"access_key_id": id})
	if never.UserName != name || never.LastUsedDate != nil || never.ServiceName != "N/A" || never.Region != "N/A" {
		t.Errorf("get_access_key_last_used of a new key: %+v", never)
	}
	// A seeded key with history: ci-deploy's, last used by CloudFormation.
	ci := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	if len(ci.AccessKeys) == 1 {
		used := ok[api.AccessKeyLastUsedOutput](s, "get_access_key_last_used", map[string]any{"access_key_id": ci.AccessKeys[0].AccessKeyID})
		if used.LastUsedDate == nil || used.ServiceName != "cloudformation" || used.Region != "eu-west-1" {
			t.Errorf("get_access_key_last_used ci-deploy: %+v", used)
		}
	} else {
		t.Errorf("ci-deploy has %d keys, the demo seed gives it one", len(ci.AccessKeys))
	}
	ok[api.Result](s, "delete_access_key", map[string]any{"user_name": name, "access_key_id": id})
	ok[api.Result](s, "delete_access_key", map[string]any{"user_name": name, "access_key_id": second.AccessKey.AccessKeyID})
	if l := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": name}); len(l.AccessKeys) != 0 {
		t.Errorf("list_access_keys after deleting both: %+v", l.AccessKeys)
	}
	fails(s, "delete_access_key", map[string]any{"user_name": name, "access_key_id": id}, api.NoSuchEntity)

	// Console password.
	const password = "E2e-Console-Passw0rd!"
	lp := ok[api.LoginProfileOutput](s, "create_login_profile", map[string]any{"user_name": name, "password": password, "password_reset_required": true})
	if lp.LoginProfile.UserName != name || !lp.LoginProfile.PasswordResetRequired {
		t.Errorf("create_login_profile: %+v", lp.LoginProfile)
	}
	ok[api.LoginProfileOutput](s, "get_login_profile", map[string]any{"user_name": name})
	ok[api.Result](s, "delete_login_profile", map[string]any{"user_name": name})
	fails(s, "get_login_profile", map[string]any{"user_name": name}, api.NoSuchEntity)

	// MFA: bob.martin has one; deactivating it leaves none.
	mfa := ok[api.ListMFADevicesOutput](s, "list_mfa_devices", map[string]any{"user_name": "bob.martin"})
	if len(mfa.MFADevices) != 1 {
		t.Fatalf("bob.martin has %d MFA devices, the demo seed gives him one", len(mfa.MFADevices))
	}
	ok[api.Result](s, "deactivate_mfa_device", map[string]any{"user_name": "bob.martin", "serial_number": mfa.MFADevices[0].SerialNumber})
	if after := ok[api.ListMFADevicesOutput](s, "list_mfa_devices", map[string]any{"user_name": "bob.martin"}); len(after.MFADevices) != 0 {
		t.Errorf("list_mfa_devices after deactivation: %+v", after.MFADevices)
	}
	if none := ok[api.ListMFADevicesOutput](s, "list_mfa_devices", map[string]any{"user_name": "alice.nguyen"}); len(none.MFADevices) != 0 {
		t.Errorf("alice.nguyen (planted: admin without MFA) has MFA devices: %+v", none.MFADevices)
	}

	assertNowhere(t, s, secret, "the secret access key")
	assertNowhere(t, s, password, "the console password")
}

// readSecretFile checks where create_access_key put the secret (a 0600
// file under --secrets-dir, not the result) and returns the secret.
func readSecretFile(t *testing.T, s *server, key api.CreateAccessKeyOutput) string {
	t.Helper()
	if key.SecretAccessKey != "" {
		t.Fatalf("create_access_key returned the secret without --return-secrets")
	}
	if key.SecretFile == "" {
		t.Fatalf("create_access_key: no secret_file in the result")
	}
	if dir, _ := filepath.Rel(s.secretsDir, key.SecretFile); strings.HasPrefix(dir, "..") || filepath.IsAbs(dir) {
		t.Errorf("secret file %s is not under --secrets-dir %s", key.SecretFile, s.secretsDir)
	}
	st, err := os.Stat(key.SecretFile)
	if err != nil {
		t.Fatalf("secret file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", st.Mode().Perm())
	}
	data, err := os.ReadFile(key.SecretFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("secret file is not JSON: %v", err)
	}
	if f.AccessKeyID != key.AccessKey.AccessKeyID || len(f.SecretAccessKey) < 20 {
		t.Fatalf("secret file holds key %q and a %d-character secret", f.AccessKeyID, len(f.SecretAccessKey))
	}
	return f.SecretAccessKey
}

// assertNowhere checks that a secret never reached the client (any
// message, text or structured) nor the server's log.
func assertNowhere(t *testing.T, s *server, secret, what string) {
	t.Helper()
	if secret == "" {
		t.Fatalf("no %s to look for", what)
	}
	if strings.Contains(s.serverOutput(), secret) {
		t.Errorf("%s reached the MCP client", what)
	}
	if strings.Contains(s.stderr.String(), secret) {
		t.Errorf("%s reached the server's log (stderr)", what)
	}
}

func TestSimulation(t *testing.T) {
	t.Parallel()
	s := start(t)
	cases := []struct {
		who, source, resource string
		want                  map[string]string
	}{
		// An administrator (the planted one, without MFA).
		{"alice.nguyen", userArn + "/eng/alice.nguyen", "*", map[string]string{"iam:CreateUser": "allowed", "s3:DeleteBucket": "allowed"}},
		// A developer inside DeveloperBoundary: the boundary's Deny is explicit,
		// and what the boundary leaves out is implicitly denied.
		{"carol.diaz", userArn + "/eng/carol.diaz", "*", map[string]string{"s3:GetObject": "allowed", "iam:CreateUser": "explicitDeny", "ec2:RunInstances": "implicitDeny"}},
		// Data science reads the lake and nothing in IAM.
		{"grace.kim", userArn + "/data/grace.kim", "arn:aws:s3:::acme-data-lake/reports/a.csv", map[string]string{"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny", "iam:CreateUser": "implicitDeny"}},
		// The planted break-glass contractor can do anything.
		{"quinn.taylor", userArn + "/contractors/quinn.taylor", "*", map[string]string{"iam:DeleteRole": "allowed"}},
		// A role.
		{"open-trust-role", roleArn + "/open-trust-role", "arn:aws:s3:::any-bucket/key", map[string]string{"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}},
	}
	for _, c := range cases {
		var actions []string
		for a := range c.want {
			actions = append(actions, a)
		}
		wantDecisions(t, c.who, decisions(s, c.source, c.resource, actions...), c.want)
	}
	// Context entries are accepted.
	out := ok[api.SimulateOutput](s, "simulate_principal_policy", map[string]any{
		"policy_source_arn": userArn + "/data/grace.kim", "action_names": []string{"s3:GetObject"},
		"resource_arns":   []string{"arn:aws:s3:::acme-data-lake/a"},
		"context_entries": []any{map[string]any{"context_key_name": "aws:SourceIp", "context_key_values": []string{"10.1.2.3"}, "context_key_type": "ip"}},
	})
	if len(out.EvaluationResults) != 1 || out.EvaluationResults[0].Decision != "allowed" {
		t.Errorf("simulate with a context entry: %+v", out.EvaluationResults)
	}
	fails(s, "simulate_principal_policy", map[string]any{"policy_source_arn": userArn + "/nobody", "action_names": []string{"s3:GetObject"}}, api.NoSuchEntity)
}

func TestAccountInfo(t *testing.T) {
	t.Parallel()
	s := start(t)
	info := ok[api.AccountInfoOutput](s, "get_account_info", nil)
	if info.AccountID != account || info.AccountAlias != "acme-demo" || info.Partition != "aws" || !strings.Contains(info.CallerArn, account) {
		t.Errorf("get_account_info: %+v", info)
	}
	// An empty object and no arguments at all mean the same.
	if again := ok[api.AccountInfoOutput](s, "get_account_info", map[string]any{}); !reflect.DeepEqual(again, info) {
		t.Errorf("get_account_info {}: %+v", again)
	}
}

package catalogue

import (
	"os"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func TestUsersLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	created := call[api.UserOutput](t, c, "create_user", `{"user_name":"ana","path":"/eng/"}`)
	if created.User.Arn != "arn:aws:iam::123456789012:user/eng/ana" || created.Message == "" {
		t.Fatalf("create_user: %+v", created)
	}
	callFails(t, c, "create_user", `{"user_name":"ANA"}`, api.EntityAlreadyExists)

	list := call[api.ListUsersOutput](t, c, "list_users", `{"path_prefix":"/eng/"}`)
	if len(list.Users) != 1 || list.IsTruncated {
		t.Fatalf("list_users: %+v", list)
	}
	got := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"ana"}`)
	if got.User.UserName != "ana" || got.AttachedPolicies == nil || got.Groups == nil || got.AccessKeys == nil {
		t.Fatalf("get_user: %+v", got)
	}
	up := call[api.UserOutput](t, c, "update_user", `{"user_name":"ana","new_user_name":"ana.b","new_path":"/ops/"}`)
	if up.User.Path != "/ops/" || up.User.UserName != "ana.b" || len(up.Warnings) != 1 {
		t.Fatalf("update_user: %+v", up)
	}
	callFails(t, c, "update_user", `{"user_name":"ana.b"}`, api.InvalidInput)

	b := call[api.UserOutput](t, c, "put_user_permissions_boundary", `{"user_name":"ana.b","permissions_boundary":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`)
	if b.User.PermissionsBoundary != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("boundary: %+v", b.User)
	}
	b = call[api.UserOutput](t, c, "delete_user_permissions_boundary", `{"user_name":"ana.b"}`)
	if b.User.PermissionsBoundary != "" {
		t.Fatalf("boundary not removed: %+v", b.User)
	}
	del := call[api.DeleteOutput](t, c, "delete_user", `{"user_name":"ana.b"}`)
	if del.Deleted != "ana.b" || len(del.Steps) != 0 {
		t.Fatalf("delete_user: %+v", del)
	}
	callFails(t, c, "get_user", `{"user_name":"ana.b"}`, api.NoSuchEntity)
}

func TestUsersBadInput(t *testing.T) {
	c := newTestCatalogue(t, "")
	cases := []struct{ op, args, want string }{
		{"create_user", `{}`, `"user_name" is required`},
		{"create_user", `{"user_name":"has space"}`, "letters, digits"},
		{"create_user", `{"user_name":"` + strings.Repeat("x", 65) + `"}`, "1-64"},
		{"create_user", `{"user_name":"ok","path":"eng"}`, "starts and ends with /"},
		{"create_user", `{"user_name":42}`, "wrong type"},
		{"create_user", `{"user_name":"ok","colour":"blue"}`, "unknown argument"},
		{"create_user", `{"user_name":"ok","permissions_boundary":"ReadOnly"}`, "ARN"},
		{"list_users", `{"max_items":5000}`, "between 1 and 1000"},
		{"list_users", `[1,2]`, "JSON object"},
		{"list_users", `{nope`, "not valid JSON"},
		{"no_such_tool", `{}`, "no operation"},
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

func TestUsersForceDelete(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	// The demo's isla.moreau has two keys and group memberships; bob.martin
	// has MFA and a login profile.
	msg := callFails(t, c, "delete_user", `{"user_name":"bob.martin"}`, api.DeleteConflict)
	if !strings.Contains(msg, "Nothing was changed") || !strings.Contains(msg, "force=true") {
		t.Fatalf("conflict message: %s", msg)
	}
	if got := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"bob.martin"}`); len(got.Groups) == 0 {
		t.Fatal("a refused delete changed the user")
	}
	call[api.UserOutput](t, c, "create_user", `{"user_name":"loaded"}`)
	call[api.Result](t, c, "add_user_to_group", `{"user_name":"loaded","group_name":"Support"}`)
	call[api.Result](t, c, "attach_user_policy", `{"user_name":"loaded","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`)
	call[api.Result](t, c, "put_user_policy", `{"user_name":"loaded","policy_name":"p","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`)
	key := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"loaded"}`)
	call[api.LoginProfileOutput](t, c, "create_login_profile", `{"user_name":"loaded","password":"Correct-Horse-9!"}`)

	del := call[api.DeleteOutput](t, c, "delete_user", `{"user_name":"loaded","force":true}`)
	actions := map[string]bool{}
	for _, s := range del.Steps {
		actions[s.Action] = true
	}
	for _, want := range []string{"DeleteAccessKey", "DeleteLoginProfile", "DeleteUserPolicy", "DetachUserPolicy", "RemoveUserFromGroup"} {
		if !actions[want] {
			t.Errorf("force delete did not %s: %+v", want, del.Steps)
		}
	}
	callFails(t, c, "get_user", `{"user_name":"loaded"}`, api.NoSuchEntity)
	if _, err := os.Stat(key.SecretFile); err != nil {
		t.Fatalf("the secret file of a deleted key should stay for the operator to clean: %v", err)
	}

	// MFA: deactivated and the virtual device deleted.
	del = call[api.DeleteOutput](t, c, "delete_user", `{"user_name":"bob.martin","force":true}`)
	actions = map[string]bool{}
	for _, s := range del.Steps {
		actions[s.Action] = true
	}
	if !actions["DeactivateMFADevice"] || !actions["DeleteVirtualMFADevice"] {
		t.Fatalf("MFA not cleaned: %+v", del.Steps)
	}
}

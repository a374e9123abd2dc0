package catalogue

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const readOnlyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"

// stepActions counts a force delete's steps by action.
func stepActions(steps []api.DeleteStep) map[string]int {
	m := map[string]int{}
	for _, s := range steps {
		m[s.Action]++
	}
	return m
}

func TestGroupsLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	created := call[api.GroupOutput](t, c, "create_group", `{"group_name":"eng","path":"/eng/"}`)
	if created.Group.Arn != "arn:aws:iam::123456789012:group/eng/eng" || created.Group.GroupID == "" || created.Message == "" {
		t.Fatalf("create_group: %+v", created)
	}
	callFails(t, c, "create_group", `{"group_name":"ENG"}`, api.EntityAlreadyExists)
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"other"}`)

	list := call[api.GroupsOutput](t, c, "list_groups", `{"path_prefix":"/eng/"}`)
	if len(list.Groups) != 1 || list.Groups[0].GroupName != "eng" || list.IsTruncated {
		t.Fatalf("list_groups: %+v", list)
	}
	first := call[api.GroupsOutput](t, c, "list_groups", `{"max_items":1}`)
	if len(first.Groups) != 1 || !first.IsTruncated || first.Marker == "" {
		t.Fatalf("list_groups page 1: %+v", first)
	}
	rest := call[api.GroupsOutput](t, c, "list_groups", `{"max_items":1,"marker":"`+first.Marker+`"}`)
	if len(rest.Groups) != 1 || rest.Groups[0].GroupName == first.Groups[0].GroupName || rest.IsTruncated {
		t.Fatalf("list_groups page 2: %+v", rest)
	}

	empty := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"eng"}`)
	if empty.Users == nil || empty.AttachedPolicies == nil || empty.InlinePolicies == nil {
		t.Fatalf("get_group of an empty group must give empty lists, not null: %+v", empty)
	}

	for _, u := range []string{"ana", "ben"} {
		call[api.UserOutput](t, c, "create_user", `{"user_name":"`+u+`"}`)
		if r := call[api.Result](t, c, "add_user_to_group", `{"group_name":"eng","user_name":"`+u+`"}`); !strings.Contains(r.Message, u) {
			t.Fatalf("add_user_to_group: %+v", r)
		}
	}
	att := call[api.Result](t, c, "attach_group_policy", `{"group_name":"eng","policy_arn":"`+readOnlyARN+`"}`)
	if len(att.Warnings) != 0 || att.Message == "" {
		t.Fatalf("attach ReadOnlyAccess: %+v", att)
	}
	call[api.Result](t, c, "put_group_policy", `{"group_name":"eng","policy_name":"logs","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:GetLogEvents","Resource":"*"}]}}`)

	got := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"eng","max_items":1}`)
	if len(got.Users) != 1 || !got.IsTruncated || got.Marker == "" {
		t.Fatalf("get_group page 1: %+v", got)
	}
	if len(got.AttachedPolicies) != 1 || got.AttachedPolicies[0].PolicyArn != readOnlyARN || len(got.InlinePolicies) != 1 || got.InlinePolicies[0] != "logs" {
		t.Fatalf("get_group policies: %+v", got)
	}
	next := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"eng","max_items":1,"marker":"`+got.Marker+`"}`)
	if len(next.Users) != 1 || next.Users[0].UserName == got.Users[0].UserName || next.IsTruncated {
		t.Fatalf("get_group page 2: %+v", next)
	}
	if groups := call[api.GroupsOutput](t, c, "list_groups_for_user", `{"user_name":"ana"}`); len(groups.Groups) != 1 {
		t.Fatalf("ana's groups: %+v", groups)
	}

	attached := call[api.AttachedPoliciesOutput](t, c, "list_attached_group_policies", `{"group_name":"eng"}`)
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyName != "ReadOnlyAccess" {
		t.Fatalf("list_attached_group_policies: %+v", attached)
	}
	call[api.Result](t, c, "detach_group_policy", `{"group_name":"eng","policy_arn":"`+readOnlyARN+`"}`)
	call[api.Result](t, c, "remove_user_from_group", `{"group_name":"eng","user_name":"ben"}`)
	after := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"eng"}`)
	if len(after.Users) != 1 || after.Users[0].UserName != "ana" || len(after.AttachedPolicies) != 0 {
		t.Fatalf("after detach and remove: %+v", after)
	}
	call[api.Result](t, c, "attach_group_policy", `{"group_name":"eng","policy_arn":"`+readOnlyARN+`"}`)

	// Without force: refused, and nothing changed.
	msg := callFails(t, c, "delete_group", `{"group_name":"eng"}`, api.DeleteConflict)
	says(t, "conflict message", msg, "group eng", "1 member", "Nothing was changed", "force=true")
	if still := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"eng"}`); len(still.Users) != 1 || len(still.AttachedPolicies) != 1 || len(still.InlinePolicies) != 1 {
		t.Fatalf("a refused delete changed the group: %+v", still)
	}

	del := call[api.DeleteOutput](t, c, "delete_group", `{"group_name":"eng","force":true}`)
	want := []api.DeleteStep{{Action: "RemoveUserFromGroup", Target: "user/ana"}, {Action: "DetachGroupPolicy", Target: readOnlyARN}, {Action: "DeleteGroupPolicy", Target: "group/eng/policy/logs"}}
	if del.Deleted != "eng" || !slices.Equal(del.Steps, want) || !strings.Contains(del.Message, "3 clean-up steps") {
		t.Fatalf("delete_group force: %+v, want the steps %+v", del, want)
	}
	callFails(t, c, "get_group", `{"group_name":"eng"}`, api.NoSuchEntity)
	if u := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"ana"}`); len(u.Groups) != 0 {
		t.Fatalf("ana still in a deleted group: %+v", u.Groups)
	}

	// An empty group deletes without force and without steps.
	plain := call[api.DeleteOutput](t, c, "delete_group", `{"group_name":"other"}`)
	if plain.Deleted != "other" || plain.Steps == nil || len(plain.Steps) != 0 {
		t.Fatalf("delete_group of an empty group: %+v", plain)
	}
}

func TestGroupsForceDeleteDemo(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	// Developers: several members and two AWS policies.
	before := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"Developers"}`)
	members, policies := len(before.Users), len(before.AttachedPolicies)
	if members < 5 || policies != 2 {
		t.Fatalf("demo Developers: %d members, %d policies", members, policies)
	}
	callFails(t, c, "delete_group", `{"group_name":"Developers"}`, api.DeleteConflict)
	del := call[api.DeleteOutput](t, c, "delete_group", `{"group_name":"Developers","force":true}`)
	got := stepActions(del.Steps)
	if got["RemoveUserFromGroup"] != members || got["DetachGroupPolicy"] != policies || got["DeleteGroupPolicy"] != 0 {
		t.Fatalf("force delete steps %v, want %d members and %d policies", got, members, policies)
	}
	callFails(t, c, "get_group", `{"group_name":"Developers"}`, api.NoSuchEntity)
	// The members themselves stay.
	call[api.GetUserOutput](t, c, "get_user", `{"user_name":"carol.diaz"}`)
}

// TestGroupsForceDeleteAcrossPages checks that force delete finds members
// beyond IAM's first page (100) and, by collecting before removing, skips
// none as the pages shift under it.
func TestGroupsForceDeleteAcrossPages(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"big"}`)
	const n = 130
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("u%03d", i)
		call[api.UserOutput](t, c, "create_user", `{"user_name":"`+u+`"}`)
		call[api.Result](t, c, "add_user_to_group", `{"group_name":"big","user_name":"`+u+`"}`)
	}
	if g := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"big"}`); len(g.Users) != 100 || !g.IsTruncated {
		t.Fatalf("get_group should page members at 100: %d, truncated %v", len(g.Users), g.IsTruncated)
	}
	del := call[api.DeleteOutput](t, c, "delete_group", `{"group_name":"big","force":true}`)
	if got := stepActions(del.Steps)["RemoveUserFromGroup"]; got != n {
		t.Fatalf("force delete removed %d members, want %d", got, n)
	}
	callFails(t, c, "get_group", `{"group_name":"big"}`, api.NoSuchEntity)
}

// TestGroupsWarnings: with --allow-risky-policies, risky attaches are made
// and say why they are risky (guardrails_test.go shows the refusals).
func TestGroupsWarnings(t *testing.T) {
	c := newTestCatalogueWith(t, "", Options{AllowRiskyPolicies: true})
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"g"}`)
	admin := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::aws:policy/AdministratorAccess"}`)
	if len(admin.Warnings) == 0 || !strings.Contains(admin.Warnings[0], "administrator-equivalent") || !strings.Contains(admin.Warnings[0], "group g") {
		t.Fatalf("AdministratorAccess without a warning: %+v", admin)
	}
	if r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::aws:policy/IAMFullAccess"}`); len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "administrator-equivalent") {
		t.Fatalf("IAMFullAccess without a warning: %+v", r)
	}
	// PowerUserAccess cannot change IAM, but sts:AssumeRole on * reaches
	// every role that trusts the account.
	if r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::aws:policy/PowerUserAccess"}`); len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "sts:AssumeRole") {
		t.Fatalf("PowerUserAccess without its sts:AssumeRole warning: %+v", r)
	}
	if r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::aws:policy/AmazonS3FullAccess"}`); len(r.Warnings) != 0 {
		t.Fatalf("AmazonS3FullAccess warned: %+v", r)
	}
	// Customer policies are judged by their default version's document.
	call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Everything","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}}`)
	call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Narrow","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}`)
	if r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::123456789012:policy/Everything"}`); len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "administrator-equivalent") {
		t.Fatalf("customer *:* policy without a warning: %+v", r)
	}
	if r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::123456789012:policy/Narrow"}`); len(r.Warnings) != 0 {
		t.Fatalf("narrow policy warned: %+v", r)
	}
}

func TestGroupsErrors(t *testing.T) {
	// Risky policies allowed: the ten attached below include AdministratorAccess.
	c := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	cases := []struct {
		op, args string
		code     api.ErrorCode
	}{
		{"get_group", `{"group_name":"Nobody"}`, api.NoSuchEntity},
		{"list_attached_group_policies", `{"group_name":"Nobody"}`, api.NoSuchEntity},
		{"delete_group", `{"group_name":"Nobody"}`, api.NoSuchEntity},
		{"delete_group", `{"group_name":"Nobody","force":true}`, api.NoSuchEntity},
		{"create_group", `{"group_name":"developers"}`, api.EntityAlreadyExists},
		{"add_user_to_group", `{"group_name":"Developers","user_name":"nobody"}`, api.NoSuchEntity},
		{"add_user_to_group", `{"group_name":"Nobody","user_name":"carol.diaz"}`, api.NoSuchEntity},
		{"remove_user_from_group", `{"group_name":"Admins","user_name":"carol.diaz"}`, api.NoSuchEntity},
		{"attach_group_policy", `{"group_name":"Developers","policy_arn":"arn:aws:iam::123456789012:policy/Missing"}`, api.NoSuchEntity},
		{"attach_group_policy", `{"group_name":"Nobody","policy_arn":"` + readOnlyARN + `"}`, api.NoSuchEntity},
		{"detach_group_policy", `{"group_name":"Developers","policy_arn":"` + readOnlyARN + `"}`, api.NoSuchEntity},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			// Refused by IAM, or at plan time as IAM would refuse it.
			if msg := callFails(t, c, tc.op, tc.args, tc.code); !strings.Contains(msg, "IAM answered") && !strings.Contains(msg, "IAM would refuse") {
				t.Errorf("message does not relay IAM's answer: %s", msg)
			}
		})
	}

	// Eleven managed policies on one group: the eleventh is refused.
	call[api.GroupOutput](t, c, "create_group", `{"group_name":"full"}`)
	policies := []string{"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "IAMUserChangePassword", "IAMReadOnlyAccess",
		"AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AmazonEC2ReadOnlyAccess", "ReadOnlyAccess", "SecurityAudit"}
	for _, p := range policies {
		call[api.Result](t, c, "attach_group_policy", `{"group_name":"full","policy_arn":"arn:aws:iam::aws:policy/`+p+`"}`)
	}
	msg := callFails(t, c, "attach_group_policy", `{"group_name":"full","policy_arn":"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}`, api.LimitExceeded)
	if !strings.Contains(msg, "10") {
		t.Errorf("limit message does not give the limit: %s", msg)
	}
	// Attaching again what is attached is not an error (idempotent).
	call[api.Result](t, c, "attach_group_policy", `{"group_name":"full","policy_arn":"`+readOnlyARN+`"}`)
}

func TestGroupsBadInput(t *testing.T) {
	c := newTestCatalogue(t, "")
	cases := []struct{ op, args, want string }{
		{"create_group", `{}`, `"group_name" is required`},
		{"create_group", `{"group_name":"has space"}`, "letters, digits"},
		{"create_group", `{"group_name":"` + strings.Repeat("g", 129) + `"}`, "1-128"},
		{"create_group", `{"group_name":"g","path":"eng"}`, "starts and ends with /"},
		{"create_group", `{"group_name":["g"]}`, "wrong type"},
		{"create_group", `{"group_name":"g","members":["a"]}`, "unknown argument"},
		{"list_groups", `{"path_prefix":"eng"}`, "path prefix"},
		{"list_groups", `{"max_items":0.5}`, "wrong type"},
		{"list_groups", `{"max_items":1001}`, "between 1 and 1000"},
		{"get_group", `{"group_name":"g","max_items":-1}`, "between 1 and 1000"},
		{"get_group", `{"group_name":""}`, `"group_name" is required`},
		{"delete_group", `{"group_name":"g","force":"yes"}`, "wrong type"},
		{"add_user_to_group", `{"group_name":"g"}`, `"user_name" is required`},
		{"add_user_to_group", `{"group_name":"g","user_name":"a/b"}`, "letters, digits"},
		{"remove_user_from_group", `{"user_name":"a"}`, `"group_name" is required`},
		{"attach_group_policy", `{"group_name":"g","policy_arn":"AdministratorAccess"}`, "managed policy ARN"},
		{"attach_group_policy", `{"group_name":"g","policy_arn":"arn:aws:iam::123456789012:role/r"}`, "managed policy ARN"},
		{"detach_group_policy", `{"group_name":"g"}`, `"policy_arn" is required`},
		{"list_attached_group_policies", `{}`, `"group_name" is required`},
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

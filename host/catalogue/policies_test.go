package catalogue

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const (
	testAccountPolicy = "arn:aws:iam::123456789012:policy/"
	readS3Doc         = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	adminDoc          = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// sameJSON reports whether a document returned by the catalogue is the JSON
// value that was sent.
func sameJSON(t *testing.T, got api.PolicyDocument, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("returned document %s is not a JSON object: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.(map[string]any); !ok || !reflect.DeepEqual(g, w) {
		t.Fatalf("document: got %s, want %s", got, want)
	}
}

// docArg is a document as a JSON string argument rather than an object.
func docArg(doc string) string {
	b, _ := json.Marshal(doc)
	return string(b)
}

func TestPoliciesLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	created := call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"ReadS3","path":"/data/","description":"read objects","policy_document":`+readS3Doc+`}`)
	arn := testAccountPolicy + "data/ReadS3"
	if created.Policy.Arn != arn || created.Policy.DefaultVersionID != "v1" || created.Message == "" || len(created.Warnings) != 0 {
		t.Fatalf("create_policy: %+v", created)
	}
	callFails(t, c, "create_policy", `{"policy_name":"reads3","policy_document":`+readS3Doc+`}`, api.EntityAlreadyExists)

	got := call[api.PolicyOutput](t, c, "get_policy", `{"policy_arn":"`+arn+`"}`)
	if got.Policy.PolicyName != "ReadS3" || got.Policy.Description != "read objects" || got.Policy.AttachmentCount != 0 {
		t.Fatalf("get_policy: %+v", got)
	}

	// The default scope is Local: the account's policy, none of AWS's.
	local := call[api.ListPoliciesOutput](t, c, "list_policies", `{}`)
	if len(local.Policies) != 1 || local.Policies[0].Arn != arn || local.IsTruncated {
		t.Fatalf("list_policies default scope: %+v", local)
	}
	aws := call[api.ListPoliciesOutput](t, c, "list_policies", `{"scope":"AWS","max_items":2}`)
	if len(aws.Policies) != 2 || !aws.IsTruncated || aws.Marker == "" || !strings.Contains(aws.Policies[0].Arn, ":aws:policy/") {
		t.Fatalf("list_policies AWS page: %+v", aws)
	}
	next := call[api.ListPoliciesOutput](t, c, "list_policies", `{"scope":"AWS","max_items":2,"marker":"`+aws.Marker+`"}`)
	if len(next.Policies) == 0 || next.Policies[0].Arn == aws.Policies[0].Arn {
		t.Fatalf("list_policies second page: %+v", next)
	}
	if l := call[api.ListPoliciesOutput](t, c, "list_policies", `{"path_prefix":"/other/"}`); len(l.Policies) != 0 || l.Policies == nil {
		t.Fatalf("list_policies path_prefix: %+v", l)
	}
	if l := call[api.ListPoliciesOutput](t, c, "list_policies", `{"only_attached":true}`); len(l.Policies) != 0 {
		t.Fatalf("list_policies only_attached before attaching: %+v", l)
	}

	doc := call[api.PolicyDocumentOutput](t, c, "get_managed_policy_document", `{"policy_arn":"`+arn+`"}`)
	if doc.VersionID != "v1" || !doc.IsDefaultVersion || doc.PolicyArn != arn {
		t.Fatalf("get_managed_policy_document: %+v", doc)
	}
	sameJSON(t, doc.PolicyDocument, readS3Doc)

	// A version given as a string comes back as the object it holds.
	v2Doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	v2 := call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+arn+`","policy_document":`+docArg(v2Doc)+`}`)
	if v2.Version.VersionID != "v2" || v2.Version.IsDefaultVersion || !strings.Contains(v2.Message, "set_default_policy_version") {
		t.Fatalf("create_policy_version: %+v", v2)
	}
	sameJSON(t, v2.Version.Document, v2Doc)
	sameJSON(t, call[api.PolicyDocumentOutput](t, c, "get_managed_policy_document", `{"policy_arn":"`+arn+`","version_id":"v2"}`).PolicyDocument, v2Doc)

	v3 := call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+arn+`","policy_document":`+readS3Doc+`,"set_as_default":true}`)
	if !v3.Version.IsDefaultVersion || !strings.Contains(v3.Message, "default") {
		t.Fatalf("create_policy_version set_as_default: %+v", v3)
	}
	versions := call[api.ListPolicyVersionsOutput](t, c, "list_policy_versions", `{"policy_arn":"`+arn+`"}`)
	if len(versions.Versions) != 3 || versions.Versions[0].VersionID != "v3" || !versions.Versions[0].IsDefaultVersion {
		t.Fatalf("list_policy_versions: %+v", versions)
	}
	if r := call[api.Result](t, c, "set_default_policy_version", `{"policy_arn":"`+arn+`","version_id":"v2"}`); !strings.Contains(r.Message, "v2") {
		t.Fatalf("set_default_policy_version: %+v", r)
	}
	if d := call[api.PolicyDocumentOutput](t, c, "get_managed_policy_document", `{"policy_arn":"`+arn+`"}`); d.VersionID != "v2" {
		t.Fatalf("default after set_default_policy_version: %+v", d)
	}
	msg := callFails(t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v2"}`, api.DeleteConflict)
	if !strings.Contains(msg, "default version") || !strings.Contains(msg, "set_default_policy_version") {
		t.Fatalf("delete_policy_version of the default: %s", msg)
	}
	call[api.Result](t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v3"}`)
	callFails(t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v3"}`, api.NoSuchEntity)

	// Attached to a user, with a non-default version: delete_policy names both.
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	att := call[api.Result](t, c, "attach_user_policy", `{"user_name":"ana","policy_arn":"`+arn+`"}`)
	if len(att.Warnings) != 0 || !strings.Contains(att.Message, "ana") {
		t.Fatalf("attach_user_policy: %+v", att)
	}
	listed := call[api.AttachedPoliciesOutput](t, c, "list_attached_user_policies", `{"user_name":"ana"}`)
	if len(listed.AttachedPolicies) != 1 || listed.AttachedPolicies[0].PolicyArn != arn {
		t.Fatalf("list_attached_user_policies: %+v", listed)
	}
	if l := call[api.ListPoliciesOutput](t, c, "list_policies", `{"only_attached":true}`); len(l.Policies) != 1 {
		t.Fatalf("list_policies only_attached: %+v", l)
	}
	msg = callFails(t, c, "delete_policy", `{"policy_arn":"`+arn+`"}`, api.DeleteConflict)
	says(t, "delete_policy conflict", msg, "attached to 1", "detach_user_policy", "non-default versions v1", "delete_policy_version", "nothing was changed")
	if r := call[api.Result](t, c, "detach_user_policy", `{"user_name":"ana","policy_arn":"`+arn+`"}`); !strings.Contains(r.Message, "detached") {
		t.Fatalf("detach_user_policy: %+v", r)
	}
	callFails(t, c, "detach_user_policy", `{"user_name":"ana","policy_arn":"`+arn+`"}`, api.NoSuchEntity)
	if l := call[api.AttachedPoliciesOutput](t, c, "list_attached_user_policies", `{"user_name":"ana"}`); l.AttachedPolicies == nil || len(l.AttachedPolicies) != 0 {
		t.Fatalf("list_attached_user_policies after detach: %+v", l)
	}
	// Only the versions remain in the way now.
	msg = callFails(t, c, "delete_policy", `{"policy_arn":"`+arn+`"}`, api.DeleteConflict)
	if strings.Contains(msg, "attached") || !strings.Contains(msg, "v1") {
		t.Fatalf("delete_policy conflict over versions only: %s", msg)
	}
	call[api.Result](t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v1"}`)
	del := call[api.DeleteOutput](t, c, "delete_policy", `{"policy_arn":"`+arn+`"}`)
	if del.Deleted != arn || del.Steps == nil || del.Message == "" {
		t.Fatalf("delete_policy: %+v", del)
	}
	callFails(t, c, "get_policy", `{"policy_arn":"`+arn+`"}`, api.NoSuchEntity)
	callFails(t, c, "delete_policy", `{"policy_arn":"`+arn+`"}`, api.NoSuchEntity)
}

func TestPoliciesVersionLimit(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Busy","policy_document":`+readS3Doc+`}`)
	arn := testAccountPolicy + "Busy"
	for i := 2; i <= 5; i++ {
		call[api.PolicyVersionOutput](t, c, "create_policy_version", fmt.Sprintf(`{"policy_arn":%q,"policy_document":%s,"set_as_default":%v}`, arn, readS3Doc, i == 3))
	}
	// v3 is the default; v1, v2, v4 and v5 can go, oldest first.
	msg := callFails(t, c, "create_policy_version", `{"policy_arn":"`+arn+`","policy_document":`+readS3Doc+`}`, api.LimitExceeded)
	says(t, "limit message", msg, "5 versions", "delete_policy_version", "v1 (created", "nothing was created")
	at := func(id string) int { return strings.Index(msg, id+" (") }
	if strings.Contains(msg, "v3 (") || !(at("v1") < at("v2") && at("v2") < at("v4") && at("v4") < at("v5")) {
		t.Fatalf("limit message must list v1, v2, v4, v5 oldest first and not the default v3: %s", msg)
	}
	call[api.Result](t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v1"}`)
	v6 := call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+arn+`","policy_document":`+readS3Doc+`}`)
	if v6.Version.VersionID != "v6" {
		t.Fatalf("version after deleting one: %+v", v6)
	}

	// Over the size quota, the limit is the document's, not the versions'.
	call[api.Result](t, c, "delete_policy_version", `{"policy_arn":"`+arn+`","version_id":"v2"}`)
	msg = callFails(t, c, "create_policy_version", `{"policy_arn":"`+arn+`","policy_document":`+bigDocument(6200)+`}`, api.LimitExceeded)
	if !strings.Contains(msg, "6144") || strings.Contains(msg, "versions") {
		t.Fatalf("size limit message: %s", msg)
	}
	msg = callFails(t, c, "create_policy", `{"policy_name":"Huge","policy_document":`+bigDocument(6200)+`}`, api.LimitExceeded)
	if !strings.Contains(msg, "6144") {
		t.Fatalf("create_policy size limit message: %s", msg)
	}
}

// bigDocument is a valid policy with at least n characters without
// whitespace.
func bigDocument(n int) string {
	var actions []string
	for size := 0; size < n; size += 30 {
		a := fmt.Sprintf("s3:GetObjectVersion%010d", len(actions))
		actions = append(actions, `"`+a+`"`)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}]}`
}

// TestPoliciesAdminWarnings: with --allow-risky-policies, admin-equivalent
// policies are written and attached, and say so (guardrails_test.go shows
// the refusals).
func TestPoliciesAdminWarnings(t *testing.T) {
	c := newTestCatalogueWith(t, "", Options{AllowRiskyPolicies: true})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"bo"}`)
	admin := call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Everything","policy_document":`+docArg(adminDoc)+`}`)
	if len(admin.Warnings) == 0 || !strings.Contains(admin.Warnings[0], "administrator") {
		t.Fatalf("create_policy of an admin document: %+v", admin)
	}
	narrow := call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Narrow","policy_document":`+readS3Doc+`}`)
	if len(narrow.Warnings) != 0 {
		t.Fatalf("create_policy of a narrow document warned: %+v", narrow)
	}
	cases := []struct {
		arn  string
		warn bool
	}{
		{"arn:aws:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws:iam::aws:policy/IAMFullAccess", true},
		{"arn:aws:iam::aws:policy/ReadOnlyAccess", false},
		{admin.Policy.Arn, true},
		{narrow.Policy.Arn, false},
	}
	for _, tc := range cases {
		r := call[api.Result](t, c, "attach_user_policy", `{"user_name":"bo","policy_arn":"`+tc.arn+`"}`)
		if got := len(r.Warnings) > 0 && strings.Contains(r.Warnings[0], "user bo"); got != tc.warn {
			t.Errorf("attach_user_policy %s: warnings %q, want a warning: %v", tc.arn, r.Warnings, tc.warn)
		}
	}

	// A new admin version warns, whether or not it takes effect at once.
	v := call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+narrow.Policy.Arn+`","policy_document":`+adminDoc+`}`)
	if len(v.Warnings) == 0 || !strings.Contains(v.Warnings[0], "administrator-equivalent") {
		t.Fatalf("non-default admin version: %+v", v)
	}
	v = call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+narrow.Policy.Arn+`","policy_document":`+adminDoc+`,"set_as_default":true}`)
	if len(v.Warnings) == 0 || !strings.Contains(v.Warnings[0], "administrator-equivalent") {
		t.Fatalf("default admin version: %+v", v)
	}
	v = call[api.PolicyVersionOutput](t, c, "create_policy_version", `{"policy_arn":"`+narrow.Policy.Arn+`","policy_document":`+readS3Doc+`}`)
	if len(v.Warnings) != 0 {
		t.Fatalf("narrow version warned: %+v", v)
	}
}

func TestPoliciesErrors(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	deploy := testAccountPolicy + "ci/DeployPipeline"
	invalid := []struct{ op, args, want string }{
		{"get_policy", `{"policy_arn":"DeployPipeline"}`, "managed policy ARN"},
		{"get_policy", `{}`, `"policy_arn" is required`},
		{"list_policies", `{"scope":"Mine"}`, "one of All, AWS, Local"},
		{"list_policies", `{"only_attached":"yes"}`, "wrong type"},
		{"get_managed_policy_document", `{"policy_arn":"` + deploy + `","version_id":"2"}`, "version id"},
		{"create_policy", `{"policy_name":"X","policy_document":[1]}`, "policy document"},
		{"create_policy", `{"policy_name":"X","policy_document":"not json"}`, "policy document"},
		{"create_policy", `{"policy_name":"X"}`, `"policy_document" is required`},
		{"create_policy", `{"policy_name":"bad name","policy_document":` + readS3Doc + `}`, "letters, digits"},
		{"create_policy_version", `{"policy_arn":"` + deploy + `","policy_document":42}`, "policy document"},
		{"attach_user_policy", `{"user_name":"ci-deploy","policy_arn":"arn:aws:iam::123456789012:role/x"}`, "managed policy ARN"},
	}
	for _, tc := range invalid {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			if msg := callFails(t, c, tc.op, tc.args, api.InvalidInput); !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
		})
	}

	malformed := `{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:GetObject","Resource":"*"}]}`
	callFails(t, c, "create_policy", `{"policy_name":"Bad","policy_document":`+malformed+`}`, api.MalformedPolicyDocument)
	callFails(t, c, "create_policy_version", `{"policy_arn":"`+deploy+`","policy_document":`+docArg(malformed)+`}`, api.MalformedPolicyDocument)

	missing := testAccountPolicy + "Nope"
	for _, tc := range []struct{ op, args string }{
		{"get_policy", `{"policy_arn":"` + missing + `"}`},
		{"get_managed_policy_document", `{"policy_arn":"` + missing + `"}`},
		{"get_managed_policy_document", `{"policy_arn":"` + deploy + `","version_id":"v9"}`},
		{"list_policy_versions", `{"policy_arn":"` + missing + `"}`},
		{"set_default_policy_version", `{"policy_arn":"` + deploy + `","version_id":"v9"}`},
		{"delete_policy_version", `{"policy_arn":"` + missing + `","version_id":"v1"}`},
		{"create_policy_version", `{"policy_arn":"` + missing + `","policy_document":` + readS3Doc + `}`},
		{"attach_user_policy", `{"user_name":"nobody","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`},
		{"attach_user_policy", `{"user_name":"ci-deploy","policy_arn":"` + missing + `"}`},
		{"detach_user_policy", `{"user_name":"nobody","policy_arn":"` + deploy + `"}`},
		{"list_attached_user_policies", `{"user_name":"nobody"}`},
	} {
		callFails(t, c, tc.op, tc.args, api.NoSuchEntity)
	}

	// AWS managed policies are AWS's: IAM refuses to change them.
	callFails(t, c, "delete_policy", `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, api.AccessDenied)
	// The demo's DeployPipeline is attached to ci-deploy and has v1 besides
	// its default v2.
	msg := callFails(t, c, "delete_policy", `{"policy_arn":"`+deploy+`"}`, api.DeleteConflict)
	if !strings.Contains(msg, "attached") || !strings.Contains(msg, "v1") {
		t.Fatalf("delete_policy conflict: %s", msg)
	}
	if l := call[api.AttachedPoliciesOutput](t, c, "list_attached_user_policies", `{"user_name":"ci-deploy","max_items":1}`); len(l.AttachedPolicies) != 1 {
		t.Fatalf("list_attached_user_policies: %+v", l)
	}
}

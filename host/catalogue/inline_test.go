package catalogue

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// inlineCases are the three kinds of principal, each with how to create
// one in a fresh sandbox.
var inlineCases = []struct {
	kind, field, create, createArgs string
}{
	{"user", "user_name", "create_user", `{"user_name":"p1"}`},
	{"role", "role_name", "create_role", `{"role_name":"p1","assume_role_policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}`},
	{"group", "group_name", "create_group", `{"group_name":"p1"}`},
}

func TestInlineLifecycle(t *testing.T) {
	listDoc := `{"Version":"2012-10-17","Statement":[{"Sid":"List","Effect":"Allow","Action":["s3:ListBucket"],"Resource":"arn:aws:s3:::bucket"}]}`
	for _, k := range inlineCases {
		t.Run(k.kind, func(t *testing.T) {
			c := newTestCatalogue(t, "")
			call[map[string]any](t, c, k.create, k.createArgs)
			who := `"` + k.field + `":"p1"`
			put, get, del, list := "put_"+k.kind+"_policy", "get_"+k.kind+"_policy", "delete_"+k.kind+"_policy", "list_"+k.kind+"_policies"

			// A document as an object creates the policy.
			r := call[api.Result](t, c, put, `{`+who+`,"policy_name":"read","policy_document":`+readS3Doc+`}`)
			if !strings.HasPrefix(r.Message, "created") || len(r.Warnings) != 0 {
				t.Fatalf("%s: %+v", put, r)
			}
			got := call[api.InlinePolicyOutput](t, c, get, `{`+who+`,"policy_name":"read"}`)
			if got.PrincipalName != "p1" || got.PolicyName != "read" {
				t.Fatalf("%s: %+v", get, got)
			}
			sameJSON(t, got.PolicyDocument, readS3Doc)

			// The same name with a document as a string replaces it.
			r = call[api.Result](t, c, put, `{`+who+`,"policy_name":"read","policy_document":`+docArg(listDoc)+`}`)
			if !strings.HasPrefix(r.Message, "replaced") {
				t.Fatalf("%s over an existing policy: %+v", put, r)
			}
			sameJSON(t, call[api.InlinePolicyOutput](t, c, get, `{`+who+`,"policy_name":"read"}`).PolicyDocument, listDoc)
			// Writing it again, laid out differently, changes nothing.
			r = call[api.Result](t, c, put, `{`+who+`,"policy_name":"read","policy_document":`+docArg(strings.ReplaceAll(listDoc, ",", ",\n  "))+`}`)
			if !strings.Contains(r.Message, "unchanged") {
				t.Fatalf("%s with the same document: %+v", put, r)
			}

			call[api.Result](t, c, put, `{`+who+`,"policy_name":"second","policy_document":`+readS3Doc+`}`)
			names := call[api.InlinePolicyNamesOutput](t, c, list, `{`+who+`}`)
			if strings.Join(names.PolicyNames, ",") != "read,second" || names.IsTruncated {
				t.Fatalf("%s: %+v", list, names)
			}
			first := call[api.InlinePolicyNamesOutput](t, c, list, `{`+who+`,"max_items":1}`)
			if len(first.PolicyNames) != 1 || !first.IsTruncated {
				t.Fatalf("%s first page: %+v", list, first)
			}
			rest := call[api.InlinePolicyNamesOutput](t, c, list, `{`+who+`,"max_items":1,"marker":"`+first.Marker+`"}`)
			if len(rest.PolicyNames) != 1 || rest.PolicyNames[0] == first.PolicyNames[0] || rest.IsTruncated {
				t.Fatalf("%s second page: %+v", list, rest)
			}

			if r := call[api.Result](t, c, del, `{`+who+`,"policy_name":"read"}`); !strings.Contains(r.Message, "deleted") {
				t.Fatalf("%s: %+v", del, r)
			}
			msg := callFails(t, c, get, `{`+who+`,"policy_name":"read"}`, api.NoSuchEntity)
			if !strings.Contains(msg, list) {
				t.Fatalf("%s of a deleted policy should point at %s: %s", get, list, msg)
			}
			callFails(t, c, del, `{`+who+`,"policy_name":"read"}`, api.NoSuchEntity)
			call[api.Result](t, c, del, `{`+who+`,"policy_name":"second"}`)
			if names := call[api.InlinePolicyNamesOutput](t, c, list, `{`+who+`}`); names.PolicyNames == nil || len(names.PolicyNames) != 0 {
				t.Fatalf("%s when empty: %+v", list, names)
			}
		})
	}
}

func TestInlineErrors(t *testing.T) {
	c := newTestCatalogue(t, "")
	for _, k := range inlineCases {
		call[map[string]any](t, c, k.create, k.createArgs)
	}
	malformed := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`
	for _, k := range inlineCases {
		t.Run(k.kind, func(t *testing.T) {
			who, nobody := `"`+k.field+`":"p1"`, `"`+k.field+`":"nobody"`
			put, get, del, list := "put_"+k.kind+"_policy", "get_"+k.kind+"_policy", "delete_"+k.kind+"_policy", "list_"+k.kind+"_policies"
			for _, args := range []string{
				`{` + who + `,"policy_name":"x","policy_document":[1,2]}`,
				`{` + who + `,"policy_name":"x","policy_document":"{not json"}`,
				`{` + who + `,"policy_name":"x","policy_document":7}`,
				`{` + who + `,"policy_name":"x"}`,
				`{` + who + `,"policy_name":"a b","policy_document":` + readS3Doc + `}`,
				`{"policy_name":"x","policy_document":` + readS3Doc + `}`,
			} {
				callFails(t, c, put, args, api.InvalidInput)
			}
			callFails(t, c, put, `{`+who+`,"policy_name":"x","policy_document":`+malformed+`}`, api.MalformedPolicyDocument)
			callFails(t, c, put, `{`+who+`,"policy_name":"x","policy_document":`+docArg(malformed)+`}`, api.MalformedPolicyDocument)
			callFails(t, c, get, `{`+who+`,"policy_name":"bad name"}`, api.InvalidInput)
			callFails(t, c, list, `{`+who+`,"max_items":0.5}`, api.InvalidInput)

			callFails(t, c, put, `{`+nobody+`,"policy_name":"x","policy_document":`+readS3Doc+`}`, api.NoSuchEntity)
			if msg := callFails(t, c, get, `{`+nobody+`,"policy_name":"x"}`, api.NoSuchEntity); strings.Contains(msg, list) {
				t.Fatalf("a missing %s is not a missing policy: %s", k.kind, msg)
			}
			callFails(t, c, del, `{`+nobody+`,"policy_name":"x"}`, api.NoSuchEntity)
			callFails(t, c, list, `{`+nobody+`}`, api.NoSuchEntity)
		})
	}
}

func TestInlineSizeLimits(t *testing.T) {
	c := newTestCatalogue(t, "")
	for _, k := range inlineCases {
		call[map[string]any](t, c, k.create, k.createArgs)
	}
	big := bigDocument(2100)
	msg := callFails(t, c, "put_user_policy", `{"user_name":"p1","policy_name":"big","policy_document":`+big+`}`, api.LimitExceeded)
	if !strings.Contains(msg, "2048") || !strings.Contains(msg, "create_policy") {
		t.Fatalf("user size limit message: %s", msg)
	}
	callFails(t, c, "get_user_policy", `{"user_name":"p1","policy_name":"big"}`, api.NoSuchEntity)
	// Groups (5,120) and roles (10,240) take more.
	call[api.Result](t, c, "put_group_policy", `{"group_name":"p1","policy_name":"big","policy_document":`+big+`}`)
	call[api.Result](t, c, "put_role_policy", `{"role_name":"p1","policy_name":"big","policy_document":`+docArg(big)+`}`)
	msg = callFails(t, c, "put_group_policy", `{"group_name":"p1","policy_name":"bigger","policy_document":`+bigDocument(5200)+`}`, api.LimitExceeded)
	if !strings.Contains(msg, "5120") {
		t.Fatalf("group size limit message: %s", msg)
	}
}

// TestInlineAdminWarnings: with --allow-risky-policies, admin-equivalent
// inline policies are written and say so (guardrails_test.go shows the
// refusals).
func TestInlineAdminWarnings(t *testing.T) {
	c := newTestCatalogueWith(t, "", Options{AllowRiskyPolicies: true})
	for _, k := range inlineCases {
		call[map[string]any](t, c, k.create, k.createArgs)
	}
	iamAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`
	conditioned := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	for _, k := range inlineCases {
		who := `"` + k.field + `":"p1"`
		put := "put_" + k.kind + "_policy"
		for _, tc := range []struct {
			doc  string
			warn bool
		}{{adminDoc, true}, {docArg(iamAll), true}, {readS3Doc, false}, {conditioned, false}} {
			r := call[api.Result](t, c, put, `{`+who+`,"policy_name":"p","policy_document":`+tc.doc+`}`)
			if got := len(r.Warnings) > 0 && strings.Contains(r.Warnings[0], "administrator-equivalent") && strings.Contains(r.Warnings[0], k.kind+" p1"); got != tc.warn {
				t.Errorf("%s %s: warnings %q, want a warning: %v", put, tc.doc, r.Warnings, tc.warn)
			}
		}
	}
}

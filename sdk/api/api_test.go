package api_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestCatalogueIsComplete checks the rules every entry must keep, beyond
// what the package refuses at start-up. (The server's own rules, for the
// descriptions, IAM actions and toolsets, are host/catalogue's.)
func TestCatalogueIsComplete(t *testing.T) {
	all := api.All()
	for _, op := range all {
		if name := reflect.TypeOf(op.Input).Name(); name == "" {
			t.Errorf("%s: input type is not a named struct", op.Name)
		}
		if s := api.SchemaOf(op.Output); s["type"] != "object" {
			t.Errorf("%s: output schema is %v, not an object (MCP clients reject others)", op.Name, s["type"])
		}
		if got, ok := api.Lookup(op.Name); !ok || got.Name != op.Name {
			t.Errorf("Lookup(%s) = %v, %v", op.Name, got.Name, ok)
		}
	}
	if len(api.Names()) != len(all) || !slices.IsSorted(api.Names()) {
		t.Error("Names and All disagree, or Names is not sorted")
	}
	// All hands out copies: changing one changes nothing for the next caller.
	all[0].Mutates, all[0].Name = !all[0].Mutates, "changed"
	if again := api.All(); again[0].Name == "changed" || again[0].Mutates == all[0].Mutates {
		t.Error("All returned the catalogue itself, not a copy")
	}
}

func TestSchemaOf(t *testing.T) {
	s := api.SchemaOf(api.ListPoliciesInput{})
	b, _ := json.Marshal(s)
	got := string(b)
	for _, want := range []string{
		`"additionalProperties":false`,
		`"scope":{"description":"Local (customer managed, the default), AWS (AWS managed) or All","enum":["All","AWS","Local"],"type":"string"}`,
		`"max_items":{"description":"items per page, 1-1000 (default 100)","maximum":1000,"minimum":1,"type":"integer"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("schema lacks %s:\n%s", want, got)
		}
	}
	if _, ok := s["required"]; ok {
		t.Errorf("list_policies has no required argument: %v", s["required"])
	}
	req := api.SchemaOf(api.PutUserPolicyInput{})["required"].([]string)
	if strings.Join(req, ",") != "user_name,policy_name,policy_document" {
		t.Errorf("required %v", req)
	}
}

func TestPolicyDocumentAcceptsObjectOrString(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[]}`
	for _, in := range []string{doc, fmt.Sprintf("%q", doc)} {
		var d api.PolicyDocument
		if err := json.Unmarshal([]byte(in), &d); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := json.Marshal(d)
		if string(out) != doc {
			t.Fatalf("%s became %s", in, out)
		}
	}
	for _, bad := range []string{`"not json"`, `[1]`, `42`, `"null"`} {
		var d api.PolicyDocument
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s accepted as a policy document", bad)
		}
	}
}

func ExampleSchemaOf() {
	b, _ := json.Marshal(api.SchemaOf(api.UserNameInput{}))
	fmt.Println(string(b))
	// Output: {"additionalProperties":false,"properties":{"user_name":{"description":"the IAM user's name","type":"string"}},"required":["user_name"],"type":"object"}
}

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The guardrail attack corpus (policy/testdata/guardrail_corpus.json:
// risky documents in many spellings, each with a request our simulator
// allows, and benign near-misses) through the built binary over stdio:
// without --allow-risky-policies every risky one is refused and nothing is
// written, validate_policy reports it, and the benign ones are written.

type attackCase struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Risky bool            `json:"risky"`
	Doc   json.RawMessage `json:"doc"`
}

func TestGuardrailsHoldUnderAttack(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../policy/testdata/guardrail_corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []attackCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	s := startWritable(t, "--toolsets", "all")
	var risky, refused, reported, benign, written int
	for i, c := range cases {
		doc := string(c.Doc)
		name := fmt.Sprintf("e2e-attack-%d", i)
		var op string
		var args, undo map[string]any
		if c.Type == "TRUST_POLICY" {
			op, args = "create_role", map[string]any{"role_name": name, "assume_role_policy_document": doc}
			undo = map[string]any{"role_name": name}
		} else {
			op, args = "put_role_policy", map[string]any{"role_name": "lambda-exec", "policy_name": name, "policy_document": doc}
			undo = map[string]any{"role_name": "lambda-exec", "policy_name": name}
		}
		res := s.call(op, args)
		v := ok[api.ValidatePolicyOutput](s, "validate_policy", map[string]any{"policy_type": c.Type, "policy_document": doc})
		security := v.Counts["SECURITY_WARNING"]
		if !c.Risky {
			benign++
			if res.IsError || security != 0 {
				t.Errorf("benign %q: %s: %s; validate_policy %v", c.Name, op, resultText(res), v.Counts)
			} else {
				written++
				s.call(strings.Replace(op, strings.SplitN(op, "_", 2)[0], "delete", 1), undo)
			}
			continue
		}
		risky++
		if text := resultText(res); res.IsError && strings.HasPrefix(text, string(api.RiskyPolicy)+": ") {
			refused++
		} else {
			t.Errorf("risky %q: %s answered %s\n%s", c.Name, op, text, doc)
		}
		if security > 0 {
			reported++
		} else {
			t.Errorf("risky %q: validate_policy reports %v", c.Name, v.Counts)
		}
	}
	t.Logf("risky: %d tried, %d refused, %d reported by validate_policy; benign: %d tried, %d written", risky, refused, reported, benign, written)
	if l := ok[api.InlinePolicyNamesOutput](s, "list_role_policies", map[string]any{"role_name": "lambda-exec"}); len(l.PolicyNames) != 0 {
		t.Errorf("lambda-exec keeps inline policies %v", l.PolicyNames)
	}
	if l := ok[api.ListRolesOutput](s, "list_roles", map[string]any{"max_items": 1000}); strings.Contains(fmt.Sprint(l.Roles), "e2e-attack-") {
		t.Errorf("a role of the corpus is left")
	}

	// Writes that are not documents pass the same decision.
	boundary := localPol + "/boundaries/DeveloperBoundary"
	for _, w := range []struct {
		op   string
		args map[string]any
		want string
	}{
		{"add_user_to_group", map[string]any{"group_name": "Admins", "user_name": "farid.haddad"}, "ADMIN_EQUIVALENT"},
		{"delete_user_permissions_boundary", map[string]any{"user_name": "carol.diaz"}, "holding back"},
		{"put_user_permissions_boundary", map[string]any{"user_name": "carol.diaz", "permissions_boundary": awsPol + "AdministratorAccess"}, "sts:AssumeRole"},
	} {
		if msg := fails(s, w.op, w.args, api.RiskyPolicy); !strings.Contains(msg, w.want) {
			t.Errorf("%s: %s", w.op, msg)
		}
	}
	if u := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "carol.diaz"}); u.User.PermissionsBoundary != boundary {
		t.Errorf("carol.diaz's boundary is %q", u.User.PermissionsBoundary)
	}
	if u := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "farid.haddad"}); len(u.Groups) != 1 {
		t.Errorf("farid.haddad's groups: %+v", u.Groups)
	}

	// The operator's switch: written, with the risk in the result.
	risk := startWritable(t, "--toolsets", "all", "--allow-risky-policies")
	r := ok[api.Result](risk, "add_user_to_group", map[string]any{"group_name": "Admins", "user_name": "farid.haddad"})
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "ADMIN_EQUIVALENT") {
		t.Errorf("--allow-risky-policies: warnings %q", r.Warnings)
	}
}

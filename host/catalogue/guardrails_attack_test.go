package catalogue

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The guardrail attack corpus (policy/testdata/guardrail_corpus.json,
// generated and reviewed in policy's risk_corpus_test.go), run through
// the catalogue's real write tools against the sandbox, over the AWS SDK.
// Without --allow-risky-policies every risky document must be refused with
// RiskyPolicy, reported by validate_policy with a SECURITY_WARNING, and its
// witness request allowed by simulate_custom_policy (what makes it risky,
// by our own simulator); every benign near-miss must be written.

type corpusCase struct {
	Name    string             `json:"name"`
	Type    string             `json:"type"`
	Risky   bool               `json:"risky"`
	Doc     json.RawMessage    `json:"doc"`
	Witness *corpusCaseWitness `json:"witness"`
}

type corpusCaseWitness struct {
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Caller    string              `json:"caller"`
	Context   map[string][]string `json:"context"`
	Federated bool                `json:"federated"`
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	b, err := os.ReadFile("../../policy/testdata/guardrail_corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// witnessAllowed asks simulate_custom_policy (or, for a web identity
// caller, which the tool cannot name, the engine directly) for the case's
// witness request.
func witnessAllowed(t *testing.T, c *testCatalogue, tc corpusCase) (string, string) {
	t.Helper()
	w := tc.Witness
	keys := make([]string, 0, len(w.Context))
	for k := range w.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	entries := make([]api.ContextEntry, 0, len(keys))
	for _, k := range keys {
		entries = append(entries, api.ContextEntry{ContextKeyName: k, ContextKeyValues: w.Context[k]})
	}
	if w.Federated {
		d, err := policy.Parse(string(tc.Doc))
		if err != nil {
			t.Fatal(err)
		}
		r := policy.Evaluate(policy.Input{Resource: []policy.Source{{ID: "trust", Type: "resource", Doc: d}}},
			policy.Request{Action: w.Action, Resource: w.Resource, Principal: w.Caller, Context: w.Context})
		return string(r.Decision), r.Reason
	}
	in := map[string]any{"action_names": []string{w.Action}, "resource_arns": []string{w.Resource}, "caller_arn": w.Caller, "context_entries": entries}
	if tc.Type == "TRUST_POLICY" {
		in["policy_documents"] = []json.RawMessage{json.RawMessage(adminDoc)}
		in["resource_policy"] = tc.Doc
	} else {
		in["policy_documents"] = []json.RawMessage{tc.Doc}
	}
	args, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := call[api.SimulateOutput](t, c, "simulate_custom_policy", string(args))
	return out.EvaluationResults[0].Decision, out.EvaluationResults[0].Reason
}

func TestGuardrailsAttackCorpus(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	cases := loadCorpus(t)
	var risky, refused, reported, witnessed, benign, passed int
	for i, tc := range cases {
		doc := string(tc.Doc)
		var op, args, undo string
		switch {
		case tc.Type == "TRUST_POLICY" && i%2 == 0:
			op, args = "create_role", fmt.Sprintf(`{"role_name":"attack-%d","assume_role_policy_document":%s}`, i, doc)
			undo = fmt.Sprintf(`{"role_name":"attack-%d"}`, i)
		case tc.Type == "TRUST_POLICY":
			op, args = "update_assume_role_policy", `{"role_name":"partner-audit","policy_document":`+doc+`}`
		default:
			switch i % 4 {
			case 0:
				op, args = "put_user_policy", fmt.Sprintf(`{"user_name":"farid.haddad","policy_name":"attack-%d","policy_document":%s}`, i, doc)
				undo = fmt.Sprintf(`{"user_name":"farid.haddad","policy_name":"attack-%d"}`, i)
			case 1:
				op, args = "put_role_policy", fmt.Sprintf(`{"role_name":"lambda-exec","policy_name":"attack-%d","policy_document":%s}`, i, doc)
				undo = fmt.Sprintf(`{"role_name":"lambda-exec","policy_name":"attack-%d"}`, i)
			case 2:
				op, args = "put_group_policy", fmt.Sprintf(`{"group_name":"Finance","policy_name":"attack-%d","policy_document":%s}`, i, doc)
				undo = fmt.Sprintf(`{"group_name":"Finance","policy_name":"attack-%d"}`, i)
			default:
				op, args = "create_policy", fmt.Sprintf(`{"policy_name":"attack-%d","policy_document":%s}`, i, doc)
				undo = fmt.Sprintf(`{"policy_arn":"arn:aws:iam::%s:policy/attack-%d"}`, demoAcct, i)
			}
		}
		_, err := c.Call(ctx, op, json.RawMessage(args))
		v := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_type":"`+tc.Type+`","policy_document":`+doc+`}`)
		if !tc.Risky {
			benign++
			if err != nil {
				t.Errorf("benign %q: %s refused it: %v", tc.Name, op, err)
			} else if v.Counts[policy.SeveritySecurityWarning] != 0 {
				t.Errorf("benign %q: validate_policy reports %+v", tc.Name, v.Findings)
			} else {
				passed++
			}
			if err == nil && undo != "" {
				// Keep the principals under IAM's inline quotas.
				_, _ = c.Call(ctx, strings.Replace(strings.Replace(op, "put_", "delete_", 1), "create_", "delete_", 1), json.RawMessage(undo))
			}
			continue
		}
		risky++
		var ae *api.Error
		if err == nil || !errors.As(err, &ae) || ae.Code != api.RiskyPolicy {
			t.Errorf("risky %q: %s answered %v, want RiskyPolicy\n%s", tc.Name, op, err, doc)
		} else {
			refused++
		}
		if v.Counts[policy.SeveritySecurityWarning] > 0 {
			reported++
		} else {
			t.Errorf("risky %q: validate_policy reports no SECURITY_WARNING: %+v", tc.Name, v.Findings)
		}
		if d, why := witnessAllowed(t, c, tc); d == "allowed" {
			witnessed++
		} else {
			t.Errorf("risky %q: the simulator answers %s for the witness %+v (%s)", tc.Name, d, tc.Witness, why)
		}
	}
	t.Logf("risky: %d tried, %d refused, %d reported by validate_policy, %d allowed by the simulator; benign: %d tried, %d written", risky, refused, reported, witnessed, benign, passed)
	if risky < 300 || benign < 30 {
		t.Errorf("the corpus shrank: %d risky, %d benign", risky, benign)
	}
	// Nothing risky was written.
	if l := call[api.InlinePolicyNamesOutput](t, c, "list_user_policies", `{"user_name":"farid.haddad"}`); len(l.PolicyNames) != 0 {
		t.Errorf("farid.haddad has inline policies %v", l.PolicyNames)
	}
	if l := call[api.InlinePolicyNamesOutput](t, c, "list_group_policies", `{"group_name":"Finance"}`); len(l.PolicyNames) != 0 {
		t.Errorf("Finance has inline policies %v", l.PolicyNames)
	}
	if l := call[api.InlinePolicyNamesOutput](t, c, "list_role_policies", `{"role_name":"lambda-exec"}`); len(l.PolicyNames) != 0 {
		t.Errorf("lambda-exec has inline policies %v", l.PolicyNames)
	}
	if l := call[api.ListPoliciesOutput](t, c, "list_policies", `{"max_items":1000}`); strings.Contains(fmt.Sprint(l.Policies), "attack-") {
		t.Errorf("a risky managed policy was created")
	}
	if l := call[api.ListRolesOutput](t, c, "list_roles", `{"max_items":1000}`); strings.Contains(fmt.Sprint(l.Roles), "attack-") {
		t.Errorf("a role with a risky trust policy was created")
	}
}

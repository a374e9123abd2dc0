package e2e

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestPolicyEngineTools drives the policy toolset as an assistant would,
// over stdio: check a draft, simulate it, explain a real principal's
// access, and see the guardrails refuse, then (with --allow-risky-policies)
// let through, a risky write. The first server may write but its client
// cannot ask the person: a risky put_user_policy (destructive) is refused
// by the guardrails, before anyone would be asked.
func TestPolicyEngineTools(t *testing.T) {
	s := start(t, "--allow-write") // the default toolset: validate_policy and simulate_custom_policy are in it
	if s.tools["validate_policy"] == nil || s.tools["simulate_custom_policy"] == nil || s.tools["explain_access"] != nil {
		t.Fatalf("default toolset: validate_policy %v, simulate_custom_policy %v, explain_access %v",
			s.tools["validate_policy"] != nil, s.tools["simulate_custom_policy"] != nil, s.tools["explain_access"] != nil)
	}
	if hint := s.tools["validate_policy"].Annotations.OpenWorldHint; hint == nil || *hint {
		t.Errorf("validate_policy makes no AWS call; openWorldHint %v", hint)
	}
	draft := `{"Version":"2012-10-17","Statement":[{"Sid":"Deploy","Effect":"Allow","Action":["lambda:UpdateFunctionCode","iam:PassRole"],"Resource":"*"}]}`
	v := ok[api.ValidatePolicyOutput](s, "validate_policy", map[string]any{"policy_document": draft})
	if !v.Valid || v.Counts["SECURITY_WARNING"] == 0 || v.Findings[0].Code != "PASS_ROLE_WITH_STAR" {
		t.Errorf("validate_policy: %+v", v)
	}
	sim := ok[api.SimulateOutput](s, "simulate_custom_policy", map[string]any{
		"policy_documents": []string{draft}, "action_names": []string{"lambda:UpdateFunctionCode", "lambda:DeleteFunction"},
		"resource_arns": []string{"arn:aws:lambda:eu-west-1:123456789012:function:api"},
	})
	if len(sim.EvaluationResults) != 2 || sim.EvaluationResults[0].Decision != "allowed" || sim.EvaluationResults[1].Decision != "implicitDeny" {
		t.Errorf("simulate_custom_policy: %+v", sim.EvaluationResults)
	}
	msg := fails(s, "put_user_policy", map[string]any{"user_name": "farid.haddad", "policy_name": "deploy", "policy_document": draft}, api.RiskyPolicy)
	if !strings.Contains(msg, "PASS_ROLE_WITH_STAR") {
		t.Errorf("guardrail refusal: %s", msg)
	}

	all := startWritable(t, "--toolsets", "policy,inline", "--allow-risky-policies")
	if len(all.tools) != 3+12 {
		t.Errorf("--toolsets policy,inline: %d tools, want 15", len(all.tools))
	}
	ex := ok[api.ExplainAccessOutput](all, "explain_access", map[string]any{"principal_arn": "arn:aws:iam::123456789012:user/eng/carol.diaz", "action": "iam:CreateUser"})
	if ex.Decision != "explicitDeny" || len(ex.DecidingStatements) == 0 || ex.DecidingStatements[0].Sid != "NoIAMChanges" || len(ex.NextSteps) == 0 {
		t.Errorf("explain_access: %+v", ex)
	}
	// The same write goes through with the flag, the risks as warnings.
	put := ok[api.Result](all, "put_user_policy", map[string]any{"user_name": "farid.haddad", "policy_name": "deploy", "policy_document": draft})
	if len(put.Warnings) == 0 || !strings.Contains(put.Warnings[0], "--allow-risky-policies") {
		t.Errorf("put_user_policy with --allow-risky-policies: %+v", put)
	}
}

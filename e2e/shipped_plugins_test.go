package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestShippedPlugins loads the repository's plugins.yaml (its modules built
// for this run) into a server with the default flags — read-only, as
// the demo's second server is — and
// drives both shipped plugins over stdio with the official client: the
// access review reports progress and finds the demo's planted problems
// with a handful of IAM calls; the key rotation plans without changing
// anything; each tool is announced read-only or not by what it may call
// (unused_roles, the AssemblyScript plugin's, is driven by TestUnusedRoles).
func TestShippedPlugins(t *testing.T) {
	t.Parallel()
	s, progress := startPlugins(t, shippedPlugins)
	for name, readOnly := range map[string]bool{"access_review": true, "plan_key_rotation": true, "rotate_access_key": false, "unused_roles": true} {
		tool := s.tools[name]
		if tool == nil {
			t.Fatalf("%s is not listed", name)
		}
		if tool.Annotations == nil || tool.Annotations.ReadOnlyHint != readOnly {
			t.Errorf("%s: readOnlyHint %+v, want %v", name, tool.Annotations, readOnly)
		}
	}

	ctx, cancel := ctxT()
	defer cancel()
	params := &mcp.CallToolParams{Name: "access_review", Arguments: map[string]any{}}
	params.SetProgressToken("review")
	res, err := s.cs.CallTool(ctx, params)
	if err != nil || res.IsError {
		t.Fatalf("access_review: %v %s", err, resultText(res))
	}
	var review struct {
		Header struct {
			IAMCalls int  `json:"iam_calls"`
			ReadOnly bool `json:"read_only"`
		} `json:"header"`
		Findings []struct {
			Rule      string `json:"rule_id"`
			Principal string `json:"principal"`
		} `json:"findings"`
		Markdown string `json:"markdown"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &review); err != nil {
		t.Fatal(err)
	}
	if !review.Header.ReadOnly || review.Header.IAMCalls == 0 || review.Header.IAMCalls > 10 {
		t.Errorf("access_review header: %+v", review.Header)
	}
	rules := map[string]bool{}
	for _, f := range review.Findings {
		rules[f.Rule] = true
	}
	for _, want := range []string{"IAM.CRED.ROOT_ACCESS_KEY", "IAM.CRED.ADMIN_NO_MFA", "IAM.ESC.CONFIRMED", "IAM.TRUST.ANYONE", "IAM.CRED.TWO_ACTIVE_KEYS"} {
		if !rules[want] {
			t.Errorf("access_review on the demo: no %s finding (rules found: %v)", want, rules)
		}
	}
	if text := resultText(res); !strings.HasPrefix(text, "# IAM access review") || text != review.Markdown {
		t.Errorf("the text content is not the Markdown report: %.200s", text)
	}
	if progress.count("review") == 0 {
		t.Error("access_review sent no progress notification")
	}

	plan, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "plan_key_rotation", Arguments: map[string]any{"max_age_days": 90}})
	if err != nil || plan.IsError || !strings.Contains(resultText(plan), "ci-deploy") {
		t.Fatalf("plan_key_rotation: %v %s", err, resultText(plan))
	}
	// The server is read-only: creating the new key is refused, and the
	// answer is the plan.
	keys := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	rot, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "rotate_access_key", Arguments: map[string]any{
		"user_name": "ci-deploy", "access_key_id": keys.AccessKeys[0].AccessKeyID, "step": "create"}})
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Outcome string `json:"outcome"`
		Changes []any  `json:"changes"`
		Plan    []any  `json:"plan"`
	}
	b, _ = json.Marshal(rot.StructuredContent)
	if err := json.Unmarshal(b, &answer); err != nil || rot.IsError || answer.Outcome != "read_only" || len(answer.Changes) != 0 || len(answer.Plan) == 0 {
		t.Errorf("rotate_access_key create on a read-only server: %s", resultText(rot))
	}
	if after := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"}); len(after.AccessKeys) != 1 {
		t.Errorf("a read-only rotation created a key: %+v", after)
	}
}

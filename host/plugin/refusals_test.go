package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestEveryRuntimeRefusalIsTheGatesLine: each refusal the runtime decides
// itself, before asking the gate — a request or plan that does not
// decode, too many requests at once, a plan over the caps, an empty plan
// or a summary that is not one line, an operation the tool did not
// declare — is written to the audit log by the gate (Gate.Refused), one
// line each: the plugin and tool, the operation (or the host function,
// when no operation could be read), the decoded arguments or only their
// size, "refused", and the very code and message the plugin was answered.
func TestEveryRuntimeRefusalIsTheGatesLine(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	// get_user: granted, declared by no tool.
	s.Grants = []string{"read", "create_user"}
	s.Limits.MaxIAMCalls, s.Limits.MaxMutations = 2, 3
	e := newEnv(t, gate.Options{}, s)

	plan := func(summary string, ops ...string) string {
		calls := make([]string, len(ops))
		for i, op := range ops {
			calls[i] = fmt.Sprintf(`{"op":%q,"args":{"user_name":"u%d"}}`, op, i)
		}
		b, _ := json.Marshal(summary)
		return `{"summary":` + string(b) + `,"calls":[` + strings.Join(calls, ",") + `]}`
	}
	tooMany := "[" + strings.TrimSuffix(strings.Repeat("{},", MaxBatchRequests+1), ",") + "]"
	undecoded := func(payload string) string { return fmt.Sprintf(`{"undecoded_bytes":%d}`, len(payload)) }
	for _, c := range []struct {
		name, fn, payload string
		op                string
		code              api.ErrorCode
		args              string // the audit line's arguments; "" for the payload's size
	}{
		{"iam_call spelt two ways", api.HostIAMCall, `{"op":"list_users","OP":"delete_user"}`, api.HostIAMCall, api.InvalidInput, ""},
		{"iam_call undeclared", api.HostIAMCall, `{"op":"get_user","args":{"user_name":"alice.nguyen"}}`, "get_user", api.NotGranted, `{"user_name":"alice.nguyen"}`},
		{"iam_batch spelt two ways", api.HostIAMBatch, `[{"op":"list_users","OP":"x"}]`, api.HostIAMBatch, api.InvalidInput, ""},
		{"iam_batch too many", api.HostIAMBatch, tooMany, api.HostIAMBatch, api.LimitExceeded, ""},
		{"consent spelt two ways", api.HostConsent, `{"summary":"s","calls":[],"CALLS":[]}`, api.HostConsent, api.InvalidInput, "{}"},
		{"consent call spelt two ways", api.HostConsent, `{"summary":"s","calls":[{"op":"create_user","OP":"x"}]}`, api.HostConsent, api.InvalidInput, "{}"},
		{"consent too many", api.HostConsent, `{"summary":"s","calls":` + tooMany + `}`, api.HostConsent, api.LimitExceeded, "{}"},
		{"consent over max_mutations", api.HostConsent, plan("four", "create_user", "create_user", "create_user", "create_user"), api.HostConsent, api.LimitExceeded, "{}"},
		{"consent empty", api.HostConsent, plan("nothing"), api.HostConsent, api.InvalidInput, "{}"},
		{"consent two-line summary", api.HostConsent, plan("one\ntwo", "create_user"), api.HostConsent, api.InvalidInput, "{}"},
		{"consent undeclared", api.HostConsent, plan("read", "get_user"), "get_user", api.NotGranted, `{"user_name":"u0"}`},
		{"consent over max_iam_calls", api.HostConsent, plan("three", "create_user", "create_user", "create_user"), "create_user", api.LimitExceeded, `{"user_name":"u2"}`},
	} {
		before := len(e.auditRecords(t))
		args, _ := json.Marshal(map[string]any{"fn": c.fn, "payload": c.payload})
		answer := structured(t, e.call(t, "hostile_raw", string(args)))["answer"].(string)
		var a struct {
			Error *api.Error `json:"error"`
		}
		if err := json.Unmarshal([]byte(answer), &a); err != nil || a.Error == nil || a.Error.Code != c.code {
			t.Errorf("%s: answered %.300s", c.name, answer)
			continue
		}
		recs := e.auditRecords(t)[before:]
		if len(recs) != 1 {
			t.Errorf("%s: %d audit lines, want 1: %+v", c.name, len(recs), recs)
			continue
		}
		want := c.args
		if want == "" {
			want = undecoded(c.payload)
		}
		r := recs[0]
		if r.Caller != gate.Plugin || r.Plugin != "hostile" || r.Tool != "hostile_raw" || r.Operation != c.op || r.Outcome != "refused" ||
			r.Code != c.code || r.Message != a.Error.Message || string(r.Arguments) != want {
			t.Errorf("%s: audit line %+v (arguments %s), want operation %s, code %s, arguments %s and the message the plugin read (%s)",
				c.name, r, r.Arguments, c.op, c.code, want, a.Error.Message)
		}
	}
}

// TestToolError: a plugin tool's failure as its caller shows it — the
// runtime's *api.Error as it is, a cancelled call said to be one, and
// anything else Internal, naming the plugin and the tool.
func TestToolError(t *testing.T) {
	t.Parallel()
	tool := Tool{Name: "acme_offboard", Plugin: "acme"}
	e := api.Errorf(api.LimitExceeded, "plugin acme: acme_offboard did not finish within its time limit")
	if got := ToolError(tool, fmt.Errorf("wrapped: %w", e)); got != e {
		t.Errorf("an *api.Error: %v", got)
	}
	cancelled := fmt.Errorf("plugin acme: acme_offboard was cancelled, and the plugin was stopped: %w", context.Canceled)
	if got := ToolError(tool, cancelled); got.Code != api.Internal || !strings.Contains(got.Message, "was cancelled before it finished") {
		t.Errorf("cancelled: %v", got)
	}
	if got := ToolError(tool, errors.New("wasm: out of bounds memory access")); got.Error() != "Internal: plugin acme failed while running acme_offboard: wasm: out of bounds memory access" {
		t.Errorf("a plain error: %v", got)
	}
}

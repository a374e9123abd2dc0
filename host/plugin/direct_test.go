package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestDirectIAMCall: the direct iam_call (api.HostDirectModule) runs a
// request through the same checks as Extism's — the grant, the count, the
// audit line — and hands the answer straight into the plugin's memory.
func TestDirectIAMCall(t *testing.T) {
	s := slowSpec()
	s.Grants = []string{"list_users"}
	e := newEnv(t, gate.Options{}, s)
	call := func(mode, payload string) string {
		t.Helper()
		args, _ := json.Marshal(map[string]any{"mode": mode, "payload": payload})
		return structured(t, e.call(t, "hostile_direct", string(args)))["answer"].(string)
	}
	answer := call("call", `{"op":"list_users","args":{"max_items":1}}`)
	var ok struct {
		Result api.ListUsersOutput `json:"result"`
	}
	if err := json.Unmarshal([]byte(answer), &ok); err != nil || len(ok.Result.Users) != 1 {
		t.Errorf("list_users through the direct iam_call: %.300s (%v)", answer, err)
	}
	// Refusals answer as through Extism: not granted, a request that is not
	// one, a request over the cap (refused by its length, unread).
	for _, c := range []struct{ mode, payload, code, says string }{
		{"call", `{"op":"delete_user","args":{"user_name":"alice.nguyen"}}`, string(api.NotGranted), "delete_user"},
		{"call", `{"op":"list_users","OP":"delete_user"}`, string(api.InvalidInput), "exactly those keys"},
		{"request-too-long", "", string(api.InvalidInput), fmt.Sprintf("the iam_call request is %d bytes", uint32(0xFFFFFFFF))},
	} {
		answer := call(c.mode, c.payload)
		var r api.IAMResponse
		if err := json.Unmarshal([]byte(answer), &r); err != nil || r.Error == nil || string(r.Error.Code) != c.code || !strings.Contains(r.Error.Message, c.says) {
			t.Errorf("%s %s: %.300s", c.mode, c.payload, answer)
		}
	}
	if n := len(e.auditRecords(t)); n != 4 {
		t.Errorf("%d audit lines for four direct iam_calls; want one each", n)
	}
}

// TestDirectIAMCallMisusedTrapsThePlugin: an answer taken with another
// length, with none waiting, or to or from outside the plugin's memory
// stops the plugin's call with an error that says what it did; the host
// and the next call go on.
func TestDirectIAMCallMisusedTrapsThePlugin(t *testing.T) {
	s := slowSpec()
	s.Grants = []string{"list_users"}
	e := newEnv(t, gate.Options{}, s)
	for _, c := range []struct{ mode, says string }{
		{"wrong-length", "but the answer waiting has"},
		{"no-answer", "no answer is waiting"},
		{"request-outside", "is outside its memory"},
		{"answer-outside", "outside its memory"},
	} {
		args, _ := json.Marshal(map[string]any{"mode": c.mode, "payload": `{"op":"list_users","args":{"max_items":1}}`})
		err := e.callErr(t, "hostile_direct", string(args))
		if !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "plugin hostile") {
			t.Errorf("%s: %v", c.mode, err)
		}
	}
	if got := structured(t, e.call(t, "hostile_ok", `{}`)); got != nil {
		t.Errorf("the next call: %v", got)
	}
}

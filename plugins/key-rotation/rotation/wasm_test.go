package rotation

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// TestWasmPlugin builds the plugin for wasip1 and runs it in the server's
// plugin runtime on the demo sandbox: its describe declares the two tools
// and their operations, and its calls reach the workflow through the SDK's
// host functions, with the secret kept out of the answer.
func TestWasmPlugin(t *testing.T) {
	wasm, sum := hostiamtest.BuildWasm(t, "..")
	if testing.Short() {
		t.Skip("-short: the plugin builds; not running it")
	}
	oc := &hostiamtest.Clock{} // the real time (the plugin reads WASI's), moved by an offset
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", Now: oc.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	prefix := ""
	spec := plugin.Spec{Name: "key-rotation", Path: wasm, SHA256: sum, Prefix: &prefix, Grants: allGrants,
		Config: map[string]string{ConfigGraceDays: "10"}}
	h := hostiamtest.LoadWasm(t, sb, spec, hostiamtest.WasmOptions{})
	ops := map[string][]string{}
	for _, tool := range h.Tools() {
		ops[tool.Name] = tool.Operations
	}
	if strings.Join(ops["rotate_access_key"], ",") != strings.Join(RotateOps(), ",") || strings.Join(ops["plan_key_rotation"], ",") != strings.Join(PlanOps(), ",") {
		t.Fatalf("the plugin's tools and operations: %v", ops)
	}

	call := func(tool, args string) *api.PluginResult {
		t.Helper()
		res, err := h.Call(ctx, tool, json.RawMessage(args), nil)
		if err != nil {
			t.Fatalf("%s %s: %v", tool, args, err)
		}
		if res.IsError || len(res.Content) != 1 || len(res.StructuredContent) == 0 {
			t.Fatalf("%s %s: %+v", tool, args, res)
		}
		return res
	}
	var plan PlanResult
	res := call("plan_key_rotation", `{}`)
	if err := json.Unmarshal(res.StructuredContent, &plan); err != nil {
		t.Fatal(err)
	}
	ci := dueFor(&plan, "ci-deploy")
	if len(ci) != 1 || ci[0].AgeDays != 420 || !strings.Contains(res.Content[0].Text, "ci-deploy") {
		t.Fatalf("plan_key_rotation in Wasm: %+v", plan.Due)
	}

	var rot RotateResult
	res = call("rotate_access_key", `{"user_name":"ci-deploy","access_key_id":"`+ci[0].AccessKeyID+`","step":"create"}`)
	if err := json.Unmarshal(res.StructuredContent, &rot); err != nil {
		t.Fatal(err)
	}
	if rot.Outcome != OutcomeAdvanced || rot.SecretFile == "" {
		t.Fatalf("create in Wasm: %+v", rot)
	}
	secret := secretOf(t, rot.SecretFile, rot.NewAccessKeyID)
	if strings.Contains(string(res.StructuredContent), secret) || strings.Contains(res.Content[0].Text, secret) {
		t.Fatal("the secret is in the plugin's answer")
	}
	// The operator's config reaches the workflow: the grace period is 10 days.
	if !strings.Contains(compactJSON(rot.Plan), "10 days (the plugin's grace_days config)") {
		t.Errorf("the grace period from the plugin's config is not in the plan: %s", compactJSON(rot.Plan[len(rot.Plan)-1]))
	}
	if !strings.Contains(rot.SecretNote, rot.SecretFile) {
		t.Errorf("the create answer in Wasm does not say where the secret is: %q", rot.SecretNote)
	}
	// One test call with the new key does not prove the cut-over.
	e := &env{t: t, sb: sb, clock: hostiamtest.NewClock(time.Now()), opts: Options{Now: oc.Now, Sleep: func(time.Duration) {}},
		admin: hostiamtest.New(t, hostiamtest.Options{Sandbox: sb, Plugin: "test-admin", Grants: api.Names(), Person: hostiamtest.Accepting()})}
	e.use(rot.NewAccessKeyID, secret)
	old := ci[0].AccessKeyID
	if res = call("rotate_access_key", `{"user_name":"ci-deploy","access_key_id":"`+old+`","step":"cutover"}`); !strings.Contains(string(res.StructuredContent), `"outcome":"waiting"`) ||
		!strings.Contains(res.Content[0].Text, "cloudformation in eu-west-1") {
		t.Fatalf("cutover in Wasm after one test call: %s", res.Content[0].Text)
	}
	// That check saw the new key used: the server removed its secret
	// file (secret_file_remove), and the answer says so.
	var checked RotateResult
	if err := json.Unmarshal(res.StructuredContent, &checked); err != nil {
		t.Fatal(err)
	}
	if checked.SecretFileRemoved != rot.SecretFile || fileExists(t, rot.SecretFile) || !strings.Contains(res.Content[0].Text, "was removed from the server") {
		t.Errorf("the secret file after the new key's use, in Wasm: removed %q, exists %v: %s", checked.SecretFileRemoved, fileExists(t, rot.SecretFile), checked.SecretNote)
	}
	// The state written in Wasm is sealed with the server's key: the
	// native workflow, on the same secrets directory, checks it.
	if st := checked.StateTag; st == nil || st.Seal == "" || e.tags("ci-deploy")[SealKey(old)] != st.Seal {
		t.Errorf("the state tag written in Wasm: %+v", st)
	}
	if res := e.rotate(e.host(), "ci-deploy", old, StepStatus); res.Phase != string(PhaseCreated) {
		t.Errorf("the state sealed in Wasm, read natively: %s", res.Happened)
	}

	// A rotation begun three days ago (natively, on the sandbox's clock set
	// back): the old key used by s3 in us-east-1, the new key too, an hour
	// later. In Wasm, now, the cut-over is proven.
	oc.SetOffset(-72 * time.Hour)
	wk := e.createUser("wasm-user", 1)[0]
	e.useFor(wk, "s3", "us-east-1")
	oc.SetOffset(-72*time.Hour + time.Minute)
	n := e.rotate(e.host(), "wasm-user", wk, StepCreate).NewAccessKeyID
	oc.SetOffset(-71 * time.Hour)
	e.useFor(n, "s3", "us-east-1")
	oc.SetOffset(0)
	if res = call("rotate_access_key", `{"user_name":"wasm-user","access_key_id":"`+wk+`","step":"cutover"}`); !strings.Contains(string(res.StructuredContent), `"phase":"cutover"`) {
		t.Fatalf("cutover in Wasm: %s", res.Content[0].Text)
	}
	// The deactivate step states its change through the consent host
	// function: nobody to ask refuses it; a no changes nothing; a yes is
	// asked once, and the step runs on it.
	old = wk
	deactivate := json.RawMessage(`{"user_name":"wasm-user","access_key_id":"` + old + `","step":"deactivate"}`)
	if res, err := h.Call(ctx, "rotate_access_key", deactivate, nil); err != nil || !res.IsError || !strings.Contains(res.Content[0].Text, "ConsentRequired") {
		t.Fatalf("deactivate with nobody to ask, in Wasm: %+v, %v", res, err)
	}
	for _, c := range []struct {
		person  *hostiamtest.Person
		outcome string
	}{{hostiamtest.Declining(), OutcomeDeclined}, {hostiamtest.Accepting(), OutcomeAdvanced}} {
		res, err := h.CallWithConsent(ctx, "rotate_access_key", deactivate, nil, c.person)
		if err != nil || res.IsError {
			t.Fatalf("deactivate in Wasm: %+v, %v", res, err)
		}
		if err := json.Unmarshal(res.StructuredContent, &rot); err != nil {
			t.Fatal(err)
		}
		if rot.Outcome != c.outcome || len(c.person.Asked()) != 1 || !strings.HasPrefix(c.person.Asked()[0], "update_access_key") {
			t.Errorf("deactivate in Wasm: outcome %s (want %s), asked %q", rot.Outcome, c.outcome, c.person.Asked())
		}
	}

	// A refusal is a tool error the assistant reads.
	bad, err := h.Call(ctx, "rotate_access_key", json.RawMessage(`{"user_name":"wasm-user","access_key_id":"`+old+`","step":"delete"}`), nil)
	if err != nil || !bad.IsError || !strings.Contains(bad.Content[0].Text, "grace period") {
		t.Errorf("delete during the grace period in Wasm: %+v, %v", bad, err)
	}
}

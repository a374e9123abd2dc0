package hostiamtest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// The kit's own tests, from outside the package as a plugin author uses
// it: a host's grants, read-only mode and throttling are the real gate's
// and the real sandbox's, the Recorder counts what they did, and a plugin
// built from source runs through the real runtime with the same counts.

// TestThrottleEveryRequest: Throttle 1 makes the sandbox answer every
// request with IAM's Throttling; the AWS SDK tries Attempts times, and
// the workflow sees api.Throttled, which the audit record keeps.
func TestThrottleEveryRequest(t *testing.T) {
	t.Parallel()
	rec := &hostiamtest.Recorder{}
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "kit", Grants: []string{"list_users"}, Throttle: 1, Attempts: 3, Recorder: rec})
	var out api.ListUsersOutput
	err := h.Call("list_users", api.ListUsersInput{}, &out)
	if hostiam.Code(err) != api.Throttled || !strings.Contains(err.Error(), "rate-limiting") {
		t.Fatalf("list_users on a sandbox that throttles every request: %v", err)
	}
	if rec.Requests() != 3 || rec.Throttled() != 3 {
		t.Errorf("requests %d, throttled %d; want the 3 attempts, each throttled", rec.Requests(), rec.Throttled())
	}
	records := rec.Records()
	if len(records) != 1 || records[0].Operation != "list_users" || records[0].Code != api.Throttled || records[0].Plugin != "kit" {
		t.Errorf("audit records: %+v", records)
	}
	if h.Calls() != 1 || h.Ops()["list_users"] != 1 {
		t.Errorf("the workflow's calls: %d %v", h.Calls(), h.Ops())
	}
}

// TestThrottleRetried: with half the requests throttled, the SDK's
// retries absorb most of it: every call the workflow makes counts once in
// the audit, and the sandbox saw one request per throttled answer plus one
// per success (list_users of the demo account is one request: checked
// first, unthrottled). The sequence is fixed, so the test repeats.
func TestThrottleRetried(t *testing.T) {
	t.Parallel()
	list := func(h *hostiamtest.Client) (int, error) {
		var out api.ListUsersOutput
		err := h.Call("list_users", api.ListUsersInput{}, &out)
		return len(out.Users), err
	}
	base := &hostiamtest.Recorder{}
	if n, err := list(hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "kit", Grants: []string{"list_users"}, Recorder: base})); err != nil || n != 25 || base.Requests() != 1 || base.Throttled() != 0 {
		t.Fatalf("list_users unthrottled: %d users, %v, %d requests, %d throttled", n, err, base.Requests(), base.Throttled())
	}
	rec := &hostiamtest.Recorder{}
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "kit", Grants: []string{"list_users"}, Throttle: 0.5, Recorder: rec})
	const calls = 20
	ok := 0
	for i := 0; i < calls; i++ {
		switch n, err := list(h); {
		case err == nil && n == 25:
			ok++
		case hostiam.Code(err) == api.Throttled:
		default:
			t.Fatalf("list_users: %v (%d users)", err, n)
		}
	}
	if rec.Throttled() == 0 || ok < calls/2 {
		t.Fatalf("%d throttled answers, %d calls of %d succeeded: the fault injection did not act as asked", rec.Throttled(), ok, calls)
	}
	if rec.Requests() != rec.Throttled()+ok {
		t.Errorf("%d requests for %d throttled answers and %d successes", rec.Requests(), rec.Throttled(), ok)
	}
	if rec.Ops()["list_users"] != calls || h.Calls() != calls {
		t.Errorf("audit %v, client %d calls; want %d", rec.Ops(), h.Calls(), calls)
	}
	t.Logf("%d calls: %d succeeded, %d requests, %d throttled", calls, ok, rec.Requests(), rec.Throttled())
}

// TestGrantsAndReadOnly: deny by default, and read-only wins over a grant;
// both are the gate's refusals, recorded as such.
func TestGrantsAndReadOnly(t *testing.T) {
	t.Parallel()
	rec := &hostiamtest.Recorder{}
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "kit", Grants: []string{"create_user", "list_users"}, ReadOnly: true, Recorder: rec})
	if err := h.Call("create_user", api.CreateUserInput{UserName: "new.person"}, nil); hostiam.Code(err) != api.ReadOnly {
		t.Errorf("create_user on a read-only server: %v", err)
	}
	if err := h.Call("delete_user", api.UserNameInput{UserName: "bob.martin"}, nil); hostiam.Code(err) != api.NotGranted {
		t.Errorf("delete_user, not granted: %v", err)
	}
	if err := h.Call("list_users", api.ListUsersInput{}, nil); err != nil {
		t.Errorf("list_users, granted: %v", err)
	}
	var outcomes []string
	for _, r := range rec.Records() {
		outcomes = append(outcomes, r.Operation+" "+r.Outcome)
	}
	if got := strings.Join(outcomes, ", "); got != "create_user refused, delete_user refused, list_users ok" {
		t.Errorf("audit: %s", got)
	}
	if info, _ := h.Info(); !info.ReadOnly || info.Plugin != "kit" {
		t.Errorf("host info: %+v", info)
	}
}

// helloPlugin builds plugins/hello-iam, a plugin of this module, as make
// plugins does, for the kit's Wasm tests.
func helloPlugin(t *testing.T, grants ...string) plugin.Spec {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds a Wasm plugin")
	}
	path, sum := hostiamtest.BuildWasm(t, "../../../plugins/hello-iam")
	prefix := "hello"
	return plugin.Spec{Name: "hello-iam", Path: path, SHA256: sum, Prefix: &prefix, Grants: grants}
}

// TestWasm: a plugin built from source runs through the real runtime on
// the sandbox; CallTool decodes its answer; the Recorder counts its calls
// as the gate decided them; a tool whose handler failed is a *ToolError
// with the code the assistant reads.
func TestWasm(t *testing.T) {
	t.Parallel()
	spec := helloPlugin(t, "list_users")
	admin := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "admin", Grants: []string{"list_users"}})
	var users api.ListUsersOutput
	if err := admin.Call("list_users", api.ListUsersInput{PathPrefix: "/eng/"}, &users); err != nil {
		t.Fatal(err)
	}
	rec := &hostiamtest.Recorder{}
	rt := hostiamtest.LoadWasm(t, admin.Sandbox, spec, hostiamtest.WasmOptions{ReadOnly: true, Recorder: rec})
	var out struct {
		Total int `json:"total"`
		Paths []struct {
			Path  string `json:"path"`
			Users int    `json:"users"`
		} `json:"paths"`
	}
	if _, err := hostiamtest.CallTool(t, rt, "hello_users_per_path", map[string]string{"path_prefix": "/eng/"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Total != len(users.Users) || len(out.Paths) != 1 || out.Paths[0].Path != "/eng/" {
		t.Fatalf("users_per_path /eng/ in Wasm: %+v; natively %d users", out, len(users.Users))
	}
	if ops := rec.Ops(); len(ops) != 1 || ops["list_users"] != 1 {
		t.Errorf("the plugin's calls: %v", ops)
	}
	// ungrouped_users also calls list_groups_for_user, not granted.
	res, err := hostiamtest.CallTool(t, rt, "hello_ungrouped_users", nil, nil)
	var te *hostiamtest.ToolError
	if !errors.As(err, &te) || !strings.Contains(te.Text, string(api.NotGranted)) || res == nil || !res.IsError {
		t.Fatalf("ungrouped_users without list_groups_for_user: %v", err)
	}
	if refused := rec.Ops()["list_groups_for_user"]; refused == 0 {
		t.Errorf("the refused calls are not in the audit: %v", rec.Ops())
	}
	// Arguments the tool does not take: the SDK's strict decoding.
	if _, err := hostiamtest.CallTool(t, rt, "hello_users_per_path", map[string]string{"prefix": "/eng/"}, nil); !errors.As(err, &te) || !strings.Contains(te.Text, "prefix") {
		t.Errorf("an unknown argument: %v", err)
	}
	// No such tool: the runtime's error.
	if _, err := hostiamtest.CallTool(t, rt, "hello_nothing", nil, nil); hostiam.Code(err) != api.InvalidInput {
		t.Errorf("a tool that does not exist: %v", err)
	}
}

// TestWasmThrottled: the plugin on a sandbox that throttles every request
// answers with the Throttled error, after the attempts asked for.
func TestWasmThrottled(t *testing.T) {
	t.Parallel()
	spec := helloPlugin(t, "list_users")
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", Faults: sandbox.Faults{ThrottleRate: 1, Seed: 1}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &hostiamtest.Recorder{}
	rt := hostiamtest.LoadWasm(t, sb, spec, hostiamtest.WasmOptions{Attempts: 2, Recorder: rec})
	_, err = hostiamtest.CallTool(t, rt, "hello_users_per_path", nil, nil)
	var te *hostiamtest.ToolError
	if !errors.As(err, &te) || !strings.Contains(te.Text, string(api.Throttled)) {
		t.Fatalf("users_per_path, every request throttled: %v", err)
	}
	if rec.Requests() != 2 || rec.Throttled() != 2 || rec.Calls() != 1 {
		t.Errorf("requests %d, throttled %d, calls %d; want 2, 2, 1", rec.Requests(), rec.Throttled(), rec.Calls())
	}
}

package hostiamtest_test

import (
	"fmt"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// usersPerPath is a plugin's workflow, written against hostiam.Client in a
// package without build tags: the plugin's main package (//go:build
// wasip1) hands it hostiam.FromSDK(ctx), a test hands it the kit's Client.
func usersPerPath(h hostiam.Client) (map[string]int, error) {
	in := api.ListUsersInput{PageInput: api.PageInput{MaxItems: 1000}}
	counts := map[string]int{}
	for {
		var page api.ListUsersOutput
		if err := h.Call("list_users", in, &page); err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			counts[u.Path]++
		}
		if !page.IsTruncated {
			return counts, nil
		}
		in.Marker = page.Marker
	}
}

// A plugin's test of its workflow, natively and as Wasm: in a plugin's
// own module, this is the body of a func TestUsersPerPath(t *testing.T)
// (TestUsersPerPath below runs these steps and checks them; an Example has
// no testing.T, so this one is compiled, not run).
func Example() {
	var t *testing.T // the test's

	// Natively: the real gate on the demo sandbox, granted only
	// list_users, on a read-only server.
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "hello-iam", Grants: []string{"list_users"}, ReadOnly: true})
	counts, err := usersPerPath(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(counts["/eng/"], h.Ops()["list_users"]) // 9 1

	// With every IAM request throttled, the workflow fails with Throttled.
	throttled := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Grants: []string{"list_users"}, Throttle: 1, Attempts: 1})
	if _, err := usersPerPath(throttled); hostiam.Code(err) != api.Throttled {
		t.Fatal(err)
	}

	// As Wasm: the plugin's main package (here ../../../plugins/hello-iam;
	// in a plugin's module, ".." from its workflow package) built as make
	// plugins builds it, loaded into the real runtime over the same sandbox.
	path, sum := hostiamtest.BuildWasm(t, "../../../plugins/hello-iam")
	prefix := "hello"
	rec := &hostiamtest.Recorder{}
	rt := hostiamtest.LoadWasm(t, h.Sandbox, plugin.Spec{Name: "hello-iam", Path: path, SHA256: sum, Prefix: &prefix, Grants: []string{"list_users"}},
		hostiamtest.WasmOptions{ReadOnly: true, Recorder: rec})
	var out struct {
		Total int `json:"total"`
	}
	if _, err := hostiamtest.CallTool(t, rt, "hello_users_per_path", nil, &out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.Total, rec.Ops()) // 25 map[list_users:1]
}

// TestUsersPerPath runs the Example's steps and checks what it says.
func TestUsersPerPath(t *testing.T) {
	t.Parallel()
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "hello-iam", Grants: []string{"list_users"}, ReadOnly: true})
	counts, err := usersPerPath(h)
	if err != nil || counts["/eng/"] != 9 || h.Ops()["list_users"] != 1 {
		t.Fatalf("natively: %v, %v, %v", counts, err, h.Ops())
	}
	throttled := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Grants: []string{"list_users"}, Throttle: 1, Attempts: 1})
	if _, err := usersPerPath(throttled); hostiam.Code(err) != api.Throttled {
		t.Fatalf("every request throttled: %v", err)
	}
	if testing.Short() {
		t.Skip("-short: not building the plugin")
	}
	path, sum := hostiamtest.BuildWasm(t, "../../../plugins/hello-iam")
	prefix := "hello"
	rec := &hostiamtest.Recorder{}
	rt := hostiamtest.LoadWasm(t, h.Sandbox, plugin.Spec{Name: "hello-iam", Path: path, SHA256: sum, Prefix: &prefix, Grants: []string{"list_users"}},
		hostiamtest.WasmOptions{ReadOnly: true, Recorder: rec})
	var out struct {
		Total int `json:"total"`
	}
	if _, err := hostiamtest.CallTool(t, rt, "hello_users_per_path", nil, &out); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if out.Total != total || out.Total != 25 || fmt.Sprint(rec.Ops()) != "map[list_users:1]" {
		t.Fatalf("as Wasm: %d users (natively %d), calls %v", out.Total, total, rec.Ops())
	}
}

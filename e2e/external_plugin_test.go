package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// TestExternalPlugin is a plugin written outside this repository, end to
// end, as docs/plugins.md ("Write a plugin in your own module") walks
// through it: `plugins new` writes a module in a temporary directory
// (replacing the server module by this checkout), `go test ./...` there
// runs its workflow with the public test kit natively and as Wasm, the
// module is built as `make plugins` builds, `plugins inspect` gives its
// sha256, which is pinned in the module's plugins.yaml, and the server,
// started on the demo sandbox with that file, serves its tool to a real
// MCP client. Then one byte of the module changes, and the server
// refuses to start with it.
func TestExternalPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and tests a plugin module")
	}
	t.Parallel()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "mfa-report")

	// 1. The module.
	stdout, stderr, code := runServer(t, "plugins", "new", "mfa-report", "--dir", dir, "--sdk", root)
	if code != 0 || !strings.Contains(stdout, "Wrote the plugin mfa-report") {
		t.Fatalf("plugins new: exit %d\n%s%s", code, stdout, stderr)
	}

	// 2. Its tests: the workflow natively on the sandbox with the kit
	// (grants, read-only, throttling, counts), and the plugin as Wasm.
	out := goInModule(t, dir, nil, "test", "-count=1", "-v", "./...")
	for _, test := range []string{"TestUsersWithoutMFA", "TestPathPrefix", "TestReadOnlyServer", "TestNotGranted", "TestThrottled", "TestThrottledRetried", "TestWasm", "TestWasmThrottled"} {
		if !strings.Contains(out, "--- PASS: "+test+" ") {
			t.Errorf("the module's %s did not pass:\n%s", test, out)
		}
	}

	// 3. The module, built exactly as make plugins builds (and as the
	// module's `make wasm` does).
	goInModule(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", "mfa-report.wasm", ".")
	wasm := filepath.Join(dir, "mfa-report.wasm")

	// 4. Its sha256 and what it asks for, as an operator sees them.
	stdout, stderr, code = runServer(t, "plugins", "inspect", wasm)
	var inspected struct {
		SHA256   string `json:"sha256"`
		Describe struct {
			Name  string `json:"name"`
			Tools []struct {
				Name       string   `json:"name"`
				Operations []string `json:"operations"`
			} `json:"tools"`
		} `json:"describe"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &inspected) != nil {
		t.Fatalf("plugins inspect: exit %d\n%s%s", code, stdout, stderr)
	}
	if inspected.SHA256 != sha256File(t, wasm) || inspected.Describe.Name != "mfa-report" || len(inspected.Describe.Tools) != 1 ||
		inspected.Describe.Tools[0].Name != "users_without_mfa" || !slices.Equal(inspected.Describe.Tools[0].Operations, []string{"list_users", "get_login_profile", "list_mfa_devices"}) {
		t.Fatalf("plugins inspect: %+v", inspected)
	}

	// 5. Pinned in the module's plugins.yaml, which grants what it asks for.
	pluginsFile := filepath.Join(dir, "plugins.yaml")
	yaml, err := os.ReadFile(pluginsFile)
	if err != nil {
		t.Fatal(err)
	}
	pinned := strings.Replace(string(yaml), `sha256: ""`, "sha256: "+inspected.SHA256, 1)
	if pinned == string(yaml) {
		t.Fatalf("plugins.yaml has no empty sha256 to fill in:\n%s", yaml)
	}
	if err := os.WriteFile(pluginsFile, []byte(pinned), 0o644); err != nil {
		t.Fatal(err)
	}

	// 6. Served over MCP on the demo sandbox, read-only, and called.
	s := start(t, "--plugins", pluginsFile, "--cache-dir", wasmCache)
	const tool = "mfa-report_users_without_mfa"
	info := s.tools[tool]
	if info == nil || info.Annotations == nil || !info.Annotations.ReadOnlyHint {
		t.Fatalf("the tool %s as listed: %+v", tool, info)
	}
	type report struct {
		Checked      int `json:"checked"`
		ConsoleUsers int `json:"console_users"`
		WithoutMFA   []struct {
			UserName string `json:"user_name"`
		} `json:"without_mfa"`
	}
	names := func(args map[string]any) (report, string) {
		t.Helper()
		res := s.call(tool, args)
		if res.IsError {
			t.Fatalf("%s %v: %s", tool, args, resultText(res))
		}
		var r report
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, u := range r.WithoutMFA {
			n = append(n, u.UserName)
		}
		return r, strings.Join(n, ",")
	}
	if r, got := names(map[string]any{}); got != "alice.nguyen,former.employee,jonas.berg" || r.Checked != 25 || r.ConsoleUsers != 18 {
		t.Errorf("%s: %s, %+v", tool, got, r)
	}
	if r, got := names(map[string]any{"path_prefix": "/ops/"}); got != "jonas.berg" || r.Checked != 3 {
		t.Errorf("%s under /ops/: %s, %+v", tool, got, r)
	}
	if res := s.call(tool, map[string]any{"path": "/ops/"}); !res.IsError || !strings.Contains(resultText(res), "path") {
		t.Errorf("an argument the tool does not take: %s", resultText(res))
	}
	s.close()

	// 7. One byte of the module changed: the server refuses to start,
	// naming the file and both hashes.
	b, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(wasm, b, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = runServer(t, "tools", "--sandbox", "--plugins", pluginsFile, "--cache-dir", wasmCache)
	if code != 1 || stdout != "" {
		t.Errorf("a changed module: exit %d, stdout %q", code, stdout)
	}
	for _, want := range []string{"mfa-report", wasm, inspected.SHA256, sha256File(t, wasm)} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the refusal does not name %s:\n%s", want, stderr)
		}
	}
}

// goInModule runs the go command in a plugin module outside this one and
// returns its output; a failure fails the test with it. Offline, as an
// author without a published server module works: everything comes from
// the module cache this checkout's build filled (GOPROXY=off), no
// workspace adds this checkout's module beside it (GOWORK=off), no other
// toolchain is fetched (GOTOOLCHAIN=local), and -mod=readonly (CI's, and
// over any GOFLAGS of the shell): the go.mod and go.sum plugins new wrote
// must be complete as written.
func goInModule(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.GoTool(), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "GOFLAGS", "GOPROXY", "GOWORK", "GOTOOLCHAIN", "GOOS", "GOARCH":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s go %s in %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

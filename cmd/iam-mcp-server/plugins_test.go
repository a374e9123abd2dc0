package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// pluginCache is the compilation cache the plugin tests share (each
// module compiles once per run), under the temporary HOME that TestMain
// removes.
var pluginCache = sync.OnceValues(func() (string, error) {
	return os.MkdirTemp(os.Getenv("HOME"), "wasm-cache-")
})

// withPlugin returns the flags that load the plugin package pkg (relative
// to the module root), built from source as `make plugins` builds it, with
// its prefix and grants, and the shared compilation cache.
func withPlugin(t *testing.T, pkg, prefix string, grants ...string) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Wasm plugin; skipped with -short")
	}
	wasm, sum := testenv.Wasm(t, pkg)
	cache, err := pluginCache()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "plugins.yaml")
	yaml := fmt.Sprintf("plugins:\n  - name: %s\n    path: %s\n    sha256: %s\n    prefix: %q\n    grants: [%s]\n",
		filepath.Base(pkg), wasm, sum, prefix, strings.Join(grants, ", "))
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--plugins", file, "--cache-dir", cache}
}

// withHello loads the shipped hello-iam plugin with the prefix "hello"
// and its two grants.
func withHello(t *testing.T) []string {
	return withPlugin(t, "plugins/hello-iam", "hello", "list_users", "list_groups_for_user")
}

// TestPluginsFiltered: --tools and --exclude-tools apply to plugin tools;
// a pattern only a plugin tool matches is accepted once the plugins are
// loaded, and one that matches nothing is still a usage error; an
// excluded operation is refused to a plugin's iam_call (Excluded), and an
// excluded plugin tool cannot be called.
func TestPluginsFiltered(t *testing.T) {
	plugins := withHello(t)
	tools := func(args ...string) result {
		t.Helper()
		return cli(t, "", append(append([]string{"tools", "--sandbox"}, args...), plugins...)...)
	}
	r := tools("--tools", "hello_*")
	if r.code != 0 || r.stdout == "" {
		t.Fatalf("tools --tools hello_*: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "hello_users_per_path") || !strings.HasPrefix(lines[1], "hello_ungrouped_users") {
		t.Errorf("tools --tools hello_*: only the plugin's two tools expected:\n%s", r.stdout)
	}
	r = tools("--exclude-tools", "hello_ungrouped_users")
	if r.code != 0 || strings.Contains(r.stdout, "hello_ungrouped_users") || !strings.Contains(r.stdout, "hello_users_per_path") || !strings.Contains(r.stdout, "list_users") {
		t.Errorf("tools --exclude-tools hello_ungrouped_users: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ args []string }{
		{[]string{"--tools", "helo_*"}},
		{[]string{"--exclude-tools", "hello_nothing"}},
		{[]string{"--tools", "list_users,hello_users_per_path,nope"}},
	} {
		r := tools(c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, "matches no tool, built-in or of the plugins,") || r.stdout != "" {
			t.Errorf("tools %v: exit %d, want a usage error\nstdout: %s\nstderr: %s", c.args, r.code, r.stdout, r.stderr)
		}
	}
	if r := tools("--tools", "hello_*", "--exclude-tools", "hello_*"); r.code != 2 || !strings.Contains(r.stderr, "leave no tool to expose, built-in or of the plugins") {
		t.Errorf("everything excluded: exit %d\n%s", r.code, r.stderr)
	}
	// The plugins file is read, not loaded, by policy: a pattern only a
	// plugin tool could match is taken to name one.
	if r := cli(t, "", append([]string{"policy", "--tools", "list_users,hello_*"}, plugins...)...); r.code != 0 || !strings.Contains(r.stdout, `"iam:ListGroupsForUser"`) {
		t.Errorf("policy with a plugin pattern: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Only the plugin's grant brings iam:ListGroupsForUser into the
	// simulation toolset's policy; excluded, it is gone.
	if r := cli(t, "", append([]string{"policy", "--toolsets", "simulation"}, plugins...)...); r.code != 0 || !strings.Contains(r.stdout, `"iam:ListGroupsForUser"`) {
		t.Errorf("policy: the plugin's grant does not count:\n%s%s", r.stdout, r.stderr)
	}
	if r := cli(t, "", append([]string{"policy", "--toolsets", "simulation", "--exclude-tools", "list_groups_for_user"}, plugins...)...); r.code != 0 || strings.Contains(r.stdout, `"iam:ListGroupsForUser"`) {
		t.Errorf("policy: an excluded operation granted to a plugin still counts:\n%s%s", r.stdout, r.stderr)
	}

	audit := filepath.Join(t.TempDir(), "audit.log")
	call := func(args ...string) result {
		t.Helper()
		return cli(t, "", append(append([]string{"call", "--sandbox", "--sandbox-seed", "demo", "--audit-log", audit}, args...), plugins...)...)
	}
	if r := call("hello_users_per_path"); r.code != 0 || !strings.Contains(r.stdout, `"total"`) {
		t.Fatalf("hello_users_per_path: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Excluding the operation the plugin's tool calls: refused inside the
	// plugin, for the plugin, by the plugins' gate.
	r = call("hello_users_per_path", "--exclude-tools", "list_users")
	if r.code != 1 || !strings.Contains(r.stderr, "Excluded") || r.stdout != "" {
		t.Errorf("hello_users_per_path with list_users excluded: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	recs := auditRecords(t, audit)
	if last := recs[len(recs)-1]; last.Caller != "plugin" || last.Operation != "list_users" || last.Outcome != "refused" || last.Code != "Excluded" {
		t.Errorf("the plugin's refused call is not audited as Excluded: %+v", last)
	}
	// An excluded plugin tool is not called at all.
	n := len(recs)
	r = call("hello_users_per_path", "--exclude-tools", "hello_users_*")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Excluded: hello_users_per_path is excluded") {
		t.Errorf("an excluded plugin tool: exit %d\n%s", r.code, r.stderr)
	}
	if len(auditRecords(t, audit)) != n {
		t.Error("an excluded plugin tool ran and called IAM")
	}
}

// TestPluginCallConsent: a change a plugin tool makes that --confirm
// covers is put to the person as an operation's is: refused without a
// terminal (naming --yes), run with --yes and audited so; and
// --allow-write is still needed.
func TestPluginCallConsent(t *testing.T) {
	plugins := withPlugin(t, "e2e/testdata/e2e-tools", "t", "read", "create_user")
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.log")
	call := func(args ...string) result {
		t.Helper()
		return cli(t, "", append(append([]string{"call", "t_create_user", "--sandbox", "--sandbox-state", filepath.Join(dir, "state.json"),
			"--audit-log", audit, "--confirm", "writes"}, args...), plugins...)...)
	}
	r := call("--allow-write", "--args", `{"user_name": "pat"}`)
	if r.code != 1 || !strings.Contains(r.stderr, "ConsentRequired") || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("a plugin's covered change without a terminal: exit %d\n%s", r.code, r.stderr)
	}
	if r := call("--yes", "--args", `{"user_name": "pat"}`); r.code != 1 || !strings.Contains(r.stderr, "ReadOnly") {
		t.Errorf("--yes without --allow-write: exit %d\n%s", r.code, r.stderr)
	}
	if r := call("--allow-write", "--yes", "--args", `{"user_name": "pat"}`); r.code != 0 || !strings.Contains(r.stdout, `"created": "pat"`) {
		t.Errorf("--yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var got []string
	for _, rec := range auditRecords(t, audit) {
		if rec.Operation == "create_user" {
			c := "none"
			if rec.Consent != nil {
				c = rec.Consent.Via + " " + rec.Consent.Answer
			}
			got = append(got, string(rec.Caller)+" "+rec.Outcome+" "+c)
		}
	}
	want := "plugin refused terminal unavailable\nplugin refused none\nplugin ok --yes accept"
	if strings.Join(got, "\n") != want {
		t.Errorf("audit of the plugin's create_user:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

package catalogue

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestToolsComplete: every operation of sdk/api is a tool, in sdk/api's
// order, and the entries pass the check New runs.
func TestToolsComplete(t *testing.T) {
	if err := checkTools(about); err != nil {
		t.Fatal(err)
	}
	all, ops := Tools(), api.All()
	if len(all) != len(ops) {
		t.Fatalf("%d tools for %d operations", len(all), len(ops))
	}
	defaults := 0
	for i, tool := range all {
		if !reflect.DeepEqual(tool.Operation, ops[i]) {
			t.Errorf("tool %d is %+v, want sdk/api's %+v", i, tool.Operation, ops[i])
		}
		if tool.Default {
			defaults++
		}
	}
	// The AWS Labs server's 29 tools plus get_role, get_policy,
	// list_access_keys, get_account_info and the policy engine's
	// validate_policy and simulate_custom_policy.
	if defaults != 35 {
		t.Errorf("%d default tools, want 35", defaults)
	}
	if got := Toolsets(); len(got) != 9 || got[0] != ToolsetUsers || got[8] != ToolsetAccount {
		t.Errorf("Toolsets() = %v", got)
	}
}

// TestToolsAreCopies: what LookupTool, Tools and Toolsets return is the
// caller's; changing it changes nothing for the next caller.
func TestToolsAreCopies(t *testing.T) {
	tool, ok := LookupTool("delete_user")
	if !ok || tool.Name != "delete_user" || !tool.Mutates || tool.Toolset != ToolsetUsers || len(tool.IAMActions) == 0 {
		t.Fatalf("LookupTool(delete_user) = %+v, %v", tool, ok)
	}
	tool.IAMActions[0], tool.Description = "iam:Changed", "changed"
	Tools()[0].IAMActions[0] = "iam:Changed"
	Toolsets()[0] = "changed"
	if again, _ := LookupTool("delete_user"); again.IAMActions[0] == "iam:Changed" || again.Description == "changed" {
		t.Error("LookupTool handed out the catalogue's own entry")
	}
	if Tools()[0].IAMActions[0] == "iam:Changed" || Toolsets()[0] == "changed" {
		t.Error("Tools or Toolsets handed out the catalogue's own list")
	}
	if _, ok := LookupTool("made_up"); ok {
		t.Error("LookupTool(made_up) found a tool")
	}
}

// TestCheckToolsRefusesIncomplete: each way of breaking the entries is
// refused, naming the operation, so New refuses to start on it.
func TestCheckToolsRefusesIncomplete(t *testing.T) {
	for what, c := range map[string]struct {
		change func(m map[string]Tool)
		want   string
	}{
		"missing":         {func(m map[string]Tool) { delete(m, "get_user") }, "get_user has no entry"},
		"extra":           {func(m map[string]Tool) { m["made_up"] = m["get_user"] }, "made_up is described but is no operation"},
		"no description":  {func(m map[string]Tool) { x := m["get_user"]; x.Description = " "; m["get_user"] = x }, "get_user has no description"},
		"unknown toolset": {func(m map[string]Tool) { x := m["get_user"]; x.Toolset = "people"; m["get_user"] = x }, `get_user is in the unknown toolset "people"`},
		"offline, actions": {func(m map[string]Tool) {
			x := m["validate_policy"]
			x.IAMActions = []string{"iam:GetPolicy"}
			m["validate_policy"] = x
		}, "validate_policy: offline true, yet 1 IAM actions"},
		"online, none":  {func(m map[string]Tool) { x := m["get_user"]; x.IAMActions = nil; m["get_user"] = x }, "get_user: offline false, yet 0 IAM actions"},
		"not an action": {func(m map[string]Tool) { x := m["get_user"]; x.IAMActions = []string{"GetUser"}; m["get_user"] = x }, `get_user: the IAM action "GetUser" is not iam:* or sts:*`},
	} {
		m := maps.Clone(about)
		c.change(m)
		if err := checkTools(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", what, err, c.want)
		}
	}
}

// shippedPlugins are the plugins the project ships (plugins.yaml pins
// their sha256).
var shippedPlugins = []string{"plugins/hello-iam", "plugins/access-review", "plugins/key-rotation"}

// TestToolTextStaysOutOfPlugins proves that rewording a built-in tool
// changes no plugin: each shipped plugin is built as `make plugins` builds
// it, then again with this package's tools.go replaced (go build -overlay)
// by a copy in which delete_role's description is reworded, and the two
// modules must be byte for byte the same, and hold no description at all.
// So that it cannot pass by building something else, the test also checks
// that the overlay is a change this package compiles, and that the
// compiled package carries the new words.
func TestToolTextStaysOutOfPlugins(t *testing.T) {
	if testing.Short() && os.Getenv(testenv.RequireAllEnv) != "1" {
		t.Skip("builds every shipped plugin twice")
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// The reworded copy of tools.go, and the overlay that puts it in place.
	const marker = " (Reworded by TestToolTextStaysOutOfPlugins.)"
	src, err := os.ReadFile("tools.go")
	if err != nil {
		t.Fatal(err)
	}
	old := strconv.Quote(about["delete_role"].Description)
	if n := bytes.Count(src, []byte(old)); n != 1 {
		t.Fatalf("delete_role's description is written %d times in tools.go, want once as a plain string literal", n)
	}
	reworded := bytes.Replace(src, []byte(old), []byte(strconv.Quote(about["delete_role"].Description+marker)), 1)
	if bytes.Equal(reworded, src) {
		t.Fatal("the reworded tools.go is the same as the original")
	}
	dir := t.TempDir()
	copyPath, overlay := filepath.Join(dir, "tools.go"), filepath.Join(dir, "overlay.json")
	self, err := filepath.Abs("tools.go")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]map[string]string{"Replace": {self: copyPath}})
	if err := os.WriteFile(copyPath, reworded, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(overlay, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(overlay, " \t") {
		t.Fatalf("the overlay's path %q has a space, which GOFLAGS cannot carry; set TMPDIR to a path without one", overlay)
	}

	// This package compiles with the overlay, and then carries the marker.
	list := exec.Command(testenv.GoTool(), "list", "-overlay", overlay, "-export", "-f", "{{.Export}}", "./host/catalogue")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("host/catalogue does not build with the reworded tools.go: %v\n%s", err, errOutput(err))
	}
	archive, err := os.ReadFile(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(archive, []byte(marker)) {
		t.Fatal("host/catalogue compiled with the overlay lacks the reworded description: the overlay was not applied")
	}

	sums := map[string]string{}
	for _, p := range shippedPlugins {
		path, sum := testenv.Wasm(t, p)
		module, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkNoToolText(t, p, module, marker)
		sums[p] = sum
	}
	// The overlay reaches the builds through GOFLAGS, which BuildWasm's go
	// command inherits with the rest of the environment.
	t.Setenv("GOFLAGS", strings.TrimSpace(os.Getenv("GOFLAGS")+" -overlay="+overlay))
	for _, p := range shippedPlugins {
		out := filepath.Join(dir, filepath.Base(p)+".wasm")
		sum, err := testenv.BuildWasm(p, out)
		if err != nil {
			t.Fatal(err)
		}
		module, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if h := sha256.Sum256(module); hex.EncodeToString(h[:]) != sum {
			t.Fatalf("%s: BuildWasm's sha256 is not the module's", p)
		}
		checkNoToolText(t, p+" (reworded)", module, marker)
		if sum != sums[p] {
			t.Errorf("%s: rewording delete_role's description changed the plugin's sha256 from %s to %s; the plugin compiles in something of host/catalogue's", p, sums[p], sum)
		}
	}
}

// checkNoToolText fails when module holds any built-in tool's description
// (or the marker of the reworded one): the text is the server's alone.
func checkNoToolText(t *testing.T, name string, module []byte, marker string) {
	t.Helper()
	if len(module) == 0 {
		t.Fatalf("%s: empty module", name)
	}
	for _, tool := range slices.Sorted(maps.Keys(about)) {
		if d := about[tool].Description; bytes.Contains(module, []byte(d)) {
			t.Errorf("%s holds the description of %s: %.60q…", name, tool, d)
		}
	}
	if bytes.Contains(module, []byte(marker)) {
		t.Errorf("%s holds the reworded description", name)
	}
}

// errOutput is what a failed command wrote to stderr, if it was kept.
func errOutput(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

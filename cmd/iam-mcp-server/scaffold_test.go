package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// moduleRoot is this checkout: what --sdk names in the tests.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// startEnv is the environment this test binary started with, taken
// before TestMain points HOME and the XDG directories at a temporary
// directory: the go commands run in a new plugin's module need the real
// ones, where the module cache and the build cache are.
var startEnv = os.Environ()

// offlineGo is the environment of the go commands run in a new plugin's
// module (startEnv, and): no network (GOPROXY=off: everything comes from the module cache
// this checkout's build filled), no workspace that would add this
// checkout's module beside it (GOWORK=off), no other toolchain fetched
// (GOTOOLCHAIN=local), and -mod=readonly, as CI runs, overriding any
// GOFLAGS of the shell: the go.mod and go.sum plugins new wrote must be
// complete as written, which is what "builds unchanged" means.
func offlineGo(extra ...string) []string {
	env := []string{}
	for _, kv := range startEnv {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GOFLAGS", "GOPROXY", "GOWORK", "GOTOOLCHAIN", "GOOS", "GOARCH":
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "GOFLAGS=-mod=readonly", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"), extra...)
}

// goIn runs the go command in dir and returns its output; a failure
// fails the test with it.
func goIn(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.GoTool(), args...)
	cmd.Dir = dir
	cmd.Env = offlineGo(env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s go %s in %s: %v\n%s", strings.Join(env, " "), strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var pinnedSHA = regexp.MustCompile(`(?m)^ *sha256: ([0-9a-f]{64})$`)

// TestPluginsNew: what `plugins new --sdk CHECKOUT` writes builds
// unchanged, offline: go vet (for the host and for wasip1), `make pin`
// (the module built as make plugins builds, its sha256 written into
// plugins.yaml, and that hash the one the module's own test gets building
// it as the test kit does), and the server loads the entry as written.
// go.mod and go.sum are left as written. (e2e's TestExternalPlugin runs
// the module's whole test suite and serves the plugin over MCP.)
func TestPluginsNew(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and tests a new plugin module")
	}
	dir := filepath.Join(t.TempDir(), "mfa-report")
	r := cli(t, "", "plugins", "new", "mfa-report", "--dir", dir, "--sdk", moduleRoot(t))
	if r.code != 0 || !strings.Contains(r.stdout, "mfa-report_users_without_mfa --sandbox") || r.stderr != "" {
		t.Fatalf("plugins new: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	modSum, sumSum := fileSum(t, filepath.Join(dir, "go.mod")), fileSum(t, filepath.Join(dir, "go.sum"))
	if got := string(must(os.ReadFile(filepath.Join(dir, "go.mod")))); !strings.Contains(got, "replace "+serverModule+" => "+filepath.ToSlash(moduleRoot(t))+"\n") ||
		!strings.HasPrefix(got, "module example.com/mfa-report\n") {
		t.Errorf("go.mod:\n%s", got)
	}

	goIn(t, dir, nil, "vet", "./...")
	// For wasip1: the plugin's main package vetted, and everything built
	// (the workflow's tests use the kit, which imports the server's host
	// packages: those build for the host only).
	goIn(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "vet", ".")
	goIn(t, dir, []string{"GOOS=wasip1", "GOARCH=wasm"}, "build", "./...")

	t.Run("make pin", func(t *testing.T) {
		makeTool := testenv.LookTool(t, "make", "install make, e.g. apt-get install make")
		cmd := exec.Command(makeTool, "pin")
		cmd.Dir = dir
		cmd.Env = offlineGo()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make pin: %v\n%s", err, out)
		}
		m := pinnedSHA.FindSubmatch(must(os.ReadFile(filepath.Join(dir, "plugins.yaml"))))
		if m == nil || string(m[1]) != fileSum(t, filepath.Join(dir, "mfa-report.wasm")) {
			t.Fatalf("plugins.yaml after make pin pins %q, the module's sha256 is %s", m, fileSum(t, filepath.Join(dir, "mfa-report.wasm")))
		}
	})
	pinned := pinnedSHA.Match(must(os.ReadFile(filepath.Join(dir, "plugins.yaml"))))

	// The module's whole test suite runs in e2e (TestExternalPlugin); here,
	// the pin against the module its tests build.
	if pinned {
		if out := goIn(t, dir, nil, "test", "-count=1", "-v", "-run", "^TestPinned$", "./workflow"); !strings.Contains(out, "--- PASS: TestPinned ") {
			t.Errorf("the pin was not checked against the module the tests build:\n%s", out)
		}
	}
	if fileSum(t, filepath.Join(dir, "go.mod")) != modSum || fileSum(t, filepath.Join(dir, "go.sum")) != sumSum {
		t.Errorf("building and testing changed go.mod or go.sum: they were not complete as written")
	}

	if !pinned {
		return
	}
	r = cli(t, "", "plugins", "list", "--plugins", filepath.Join(dir, "plugins.yaml"), "--cache-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.stdout, "tools:       mfa-report_users_without_mfa\n") ||
		!strings.Contains(r.stdout, "granted:     get_login_profile, list_mfa_devices, list_users\n") || !strings.Contains(r.stdout, "mode:        read-only") {
		t.Errorf("plugins list of the written entry: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPluginsNewRefuses: a name the plugins file would refuse, a bad
// module path or a tool name over MCP's 64 characters are usage errors;
// a directory that is not empty is refused with nothing written; a --sdk
// that is not a checkout of the server is refused before anything is.
func TestPluginsNewRefuses(t *testing.T) {
	tmp := t.TempDir()
	usageFails(t, "which plugin?", "plugins", "new")
	usageFails(t, "unexpected argument", "plugins", "new", "a", "b")
	usageFails(t, "unknown flag --force", "plugins", "new", "a", "--force")
	for _, name := range []string{"has space", "a/b", "dot.ted", "ünï", "_" + strings.Repeat("x", 64)} {
		usageFails(t, "letters, digits, '_' or '-'", "plugins", "new", name, "--dir", filepath.Join(tmp, "x"))
	}
	usageFails(t, "MCP allows 64; use at most 46", "plugins", "new", strings.Repeat("n", 47), "--dir", filepath.Join(tmp, "x"))
	for _, mod := range []string{"noDomain/x", "example.com//x", "example.com/.x", "example.com/x.", "example.com/a b", "example.com/" + strings.Repeat("a", 300), serverModule + "/plugin"} {
		r := cli(t, "", "plugins", "new", "ok", "--dir", filepath.Join(tmp, "x"), "--module", mod)
		if r.code != 2 || !strings.Contains(r.stderr, "module path") {
			t.Errorf("--module %q: exit %d\n%s", mod, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "x")); err == nil {
		t.Fatal("a refused command line wrote its directory")
	}

	// A directory with a file in it: refused, the file untouched, nothing added.
	full := filepath.Join(tmp, "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "main.go"), []byte("mine"), 0o644)
	if r := cli(t, "", "plugins", "new", "p", "--dir", full); r.code != 1 || !strings.Contains(r.stderr, "not empty; nothing was written") {
		t.Errorf("a non-empty directory: exit %d\n%s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(full); len(entries) != 1 || string(must(os.ReadFile(filepath.Join(full, "main.go")))) != "mine" {
		t.Errorf("the non-empty directory was changed: %v", entries)
	}

	// --sdk that is not the server's checkout, or no checkout at all.
	other := filepath.Join(tmp, "other")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(other, "go.sum"), nil, 0o644)
	for sdk, want := range map[string]string{other: "not " + serverModule, filepath.Join(tmp, "none"): "--sdk names a checkout"} {
		dir := filepath.Join(tmp, "sdk-refused")
		if r := cli(t, "", "plugins", "new", "p", "--dir", dir, "--sdk", sdk); r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("--sdk %s: exit %d\n%s", sdk, r.code, r.stderr)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("--sdk %s: the directory was written", sdk)
		}
	}
}

// TestPluginsNewWithoutSDK: without a checkout the module requires no
// local replacement, and the next steps say to fetch the server module;
// an existing empty directory is used. The files are those of --sdk but
// go.sum, with the name and module path given.
func TestPluginsNewWithoutSDK(t *testing.T) {
	dir := t.TempDir() // exists, empty
	r := cli(t, "", "plugins", "new", "Team_Keys", "--dir", dir, "--module", "git.example.org/sec/team-keys")
	if r.code != 0 || !strings.Contains(r.stdout, "go get "+serverModule+"@latest") {
		t.Fatalf("plugins new: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var names []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if got := strings.Join(names, " "); got != ".gitignore Makefile README.md go.mod main.go plugins.yaml workflow/wasm_test.go workflow/workflow.go workflow/workflow_test.go" {
		t.Errorf("files: %s", got)
	}
	mod := string(must(os.ReadFile(filepath.Join(dir, "go.mod"))))
	if !strings.HasPrefix(mod, "module git.example.org/sec/team-keys\n\ngo 1.") || strings.Contains(mod, "replace") {
		t.Errorf("go.mod:\n%s", mod)
	}
	main := string(must(os.ReadFile(filepath.Join(dir, "main.go"))))
	yaml := string(must(os.ReadFile(filepath.Join(dir, "plugins.yaml"))))
	if !strings.Contains(main, `"git.example.org/sec/team-keys/workflow"`) || !strings.Contains(main, `sdk.Plugin("Team_Keys"`) ||
		!strings.Contains(yaml, "  - name: Team_Keys\n    path: Team_Keys.wasm\n") || strings.Contains(main+yaml, "<%") {
		t.Errorf("main.go:\n%s\nplugins.yaml:\n%s", main, yaml)
	}
}

// TestParseServerGoMod: the checkout's go.mod as the scaffold reads it:
// this module's own, and the directives it refuses.
func TestParseServerGoMod(t *testing.T) {
	m, err := parseServerGoMod(must(os.ReadFile(filepath.Join(moduleRoot(t), "go.mod"))))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range m.requires {
		found = found || r.path == "github.com/tetratelabs/wazero"
	}
	if m.goVersion == "" || len(m.requires) < 10 || !found {
		t.Errorf("this module's go.mod: %+v", m)
	}
	for src, want := range map[string]string{
		"module " + serverModule + "\ngo 1.26\nreplace x => ../x\n":                 "replace directive",
		"module " + serverModule + "\ngo 1.26\nexclude (\n x v1.0.0\n)\n":           "exclude directive",
		"module " + serverModule + "\ngo 1.26\nrequire (\n x v1.0.0\n":              "not closed",
		"module " + serverModule + "\ngo 1.26\nrequire x v1.0.0 extra\n":            "a module path and a version",
		"module " + serverModule + "\ngo 1.26\nrequire \"x y\" v1.0.0\n":            "a module path and a version",
		"module " + serverModule + "\ngo 1.26\nrequire x\tv1.0.0\nfrobnicate x\n":   "unknown directive",
		"module " + serverModule + "\ngo one\n":                                     "not a Go version",
		"module " + serverModule + "\n":                                             "no go directive",
		"module example.com/x\ngo 1.26\n":                                           "not " + serverModule,
		"module " + serverModule + "\ngo 1.26\ntoolchain go1.26.1;rm\n":             "not a Go toolchain",
		"module " + serverModule + "\nmodule " + serverModule + "\ngo 1.26\n":       "once",
		"module " + serverModule + "\ngo 1.26\nrequire x v1.0.0\nrequire (\n)\n)\n": "unknown directive",
	} {
		if _, err := parseServerGoMod([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want an error saying %q", src, err, want)
		}
	}
}

// FuzzServerGoMod: whatever --sdk's go.mod holds, reading it never panics,
// and what it accepts is written into the new go.mod as exactly the
// directives read (nothing smuggled in through a field), which read back
// the same.
func FuzzServerGoMod(f *testing.F) {
	if b, err := os.ReadFile("../../go.mod"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("module " + serverModule + "\ngo 1.26\ntoolchain go1.26.1\nrequire (\n\ta v1.0.0 // indirect\n)\nretract v0.1.0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseServerGoMod(b)
		if err != nil {
			if len(err.Error()) > 400 {
				t.Errorf("an error of %d bytes: %.100s…", len(err.Error()), err)
			}
			return
		}
		s := &scaffold{Module: "example.com/p", server: &serverCheckout{dir: "/checkout dir", mod: m}}
		out := s.goMod()
		// Read back as the server's go.mod: the same go version, toolchain
		// and requirements (the server's own requirement first).
		back, err := parseServerGoMod(bytes.Replace(bytes.Replace(out, []byte("module example.com/p"), []byte("module "+serverModule), 1),
			[]byte("\nreplace "), []byte("\n// replace "), 1))
		if err != nil {
			t.Fatalf("the written go.mod does not read back: %v\n%s", err, out)
		}
		if back.goVersion != m.goVersion || back.toolchain != m.toolchain || len(back.requires) != len(m.requires)+1 ||
			fmt.Sprint(back.requires[1:]) != fmt.Sprint(m.requires) {
			t.Fatalf("read back %+v from\n%s\nwant %+v", back, out, m)
		}
		if n := bytes.Count(out, []byte("\nreplace ")); n != 1 {
			t.Fatalf("%d replace directives in\n%s", n, out)
		}
	})
}

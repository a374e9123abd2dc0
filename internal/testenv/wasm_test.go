package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWasmAsMakePlugins: a plugin built by Wasm has, to the byte, what the
// Makefile's own plugins target builds, so a hash a test computes is the
// one `make plugins` writes into plugins.yaml. The Makefile runs on a copy
// of the files hello-iam builds from, in another directory (make plugins
// rewrites plugins.yaml and writes beside the sources; the checkout must
// not change under a test): that also shows the bytes do not depend on
// where the checkout is.
func TestWasmAsMakePlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Wasm plugin twice; skipped with -short")
	}
	makeTool := LookTool(t, "make", "install make, e.g. apt-get install make")
	t.Parallel()
	const dir = "plugins/hello-iam"
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	copyRoot := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "Makefile", "plugins.yaml"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(copyRoot, f))
	}
	// The module's packages hello-iam's build reads, each directory's
	// files (not its subdirectories: those are packages of their own,
	// listed when needed) and whatever it embeds.
	list := exec.Command(GoTool(), "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{range .EmbedFiles}}\t{{.}}{{end}}{{end}}", "./"+dir)
	list.Dir = root
	list.Env = append(os.Environ(), wasmEnv...)
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v\n%s", dir, err, errOutput(err))
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Split(line, "\t")
		pkgDir := fields[0]
		rel, err := filepath.Rel(root, pkgDir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module outside this one, read from the module cache
		}
		entries, err := os.ReadDir(pkgDir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".wasm") {
				copyFile(t, filepath.Join(pkgDir, e.Name()), filepath.Join(copyRoot, rel, e.Name()))
			}
		}
		for _, f := range fields[1:] {
			copyFile(t, filepath.Join(pkgDir, f), filepath.Join(copyRoot, rel, f))
		}
	}
	if _, err := os.Stat(filepath.Join(copyRoot, dir, "main.go")); err != nil {
		t.Fatalf("the copy has no %s/main.go: %v", dir, err)
	}

	// The Makefile, as a person runs it, with the go command the helper
	// uses; nothing of a make that runs this test leaks in.
	mk := exec.Command(makeTool, "--no-print-directory", "plugins", "GO="+GoTool())
	mk.Dir = copyRoot
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			mk.Env = append(mk.Env, kv)
		}
	}
	if b, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make plugins in a copy of the module: %v\n%s", err, cut(b))
	}
	byMake, err := os.ReadFile(filepath.Join(copyRoot, dir, "hello-iam.wasm"))
	if err != nil {
		t.Fatalf("make plugins built no %s/hello-iam.wasm: %v", dir, err)
	}

	path, sum := Wasm(t, dir)
	byHelper, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(byHelper, byMake) {
		t.Fatalf("testenv.Wasm built %d bytes, make plugins %d other ones: make Wasm build as the Makefile's plugins target does (its flags and environment)", len(byHelper), len(byMake))
	}
	yaml, err := os.ReadFile(filepath.Join(copyRoot, "plugins.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yaml), "sha256: "+sum+"\n") {
		t.Errorf("make plugins wrote no line sha256: %s (Wasm's hash) into plugins.yaml:\n%s", sum, yaml)
	}

	// Another test's copy is a file of its own with the same bytes, built
	// once.
	again, sum2 := Wasm(t, filepath.Join(root, dir))
	if again == path || sum2 != sum {
		t.Errorf("a second Wasm of %s: %s (sha256 %s), the first %s (sha256 %s); want another file, the same hash", dir, again, sum2, path, sum)
	}
}

// TestBuildWasmFails: a plugin that does not build fails with what the
// compiler said and the command that was run; a directory outside the
// module is refused before any build.
func TestBuildWasmFails(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "x.wasm")
	_, err := BuildWasm("plugins/no-such-plugin", out)
	if err == nil || !strings.Contains(err.Error(), "./plugins/no-such-plugin") || !strings.Contains(err.Error(), "-trimpath -buildvcs=false") ||
		!strings.Contains(err.Error(), "no-such-plugin") || !strings.Contains(err.Error(), "fix what the compiler says") {
		t.Errorf("a missing plugin directory: %v", err)
	}
	for _, dir := range []string{"../elsewhere", string(filepath.Separator)} {
		if _, err := BuildWasm(dir, out); err == nil || !strings.Contains(err.Error(), "outside the module") {
			t.Errorf("BuildWasm(%q): %v; want it refused as outside the module", dir, err)
		}
	}
}

// TestCut: a long build output keeps its head and says how much is gone.
func TestCut(t *testing.T) {
	if got := cut([]byte("a\nb\n")); got != "a\nb" {
		t.Errorf("short output: %q", got)
	}
	var many []string
	for range 100 {
		many = append(many, "x.go:1: error")
	}
	got := cut([]byte(strings.Join(many, "\n")))
	if strings.Count(got, "x.go:1: error") != 40 || !strings.HasSuffix(got, "… (60 more lines of compiler output)") {
		t.Errorf("100 lines cut to:\n%s", got)
	}
	long := cut([]byte(strings.Repeat("y", 10000) + "\nz"))
	if len(long) > 4<<10+100 || !strings.HasSuffix(long, "… (2 more lines of compiler output)") {
		t.Errorf("a 10,000-byte line cut to %d bytes, ending %q", len(long), long[len(long)-50:])
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// errOutput is the standard error an exec.ExitError kept.
func errOutput(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}

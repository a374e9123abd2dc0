package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// wasmFlags are the flags of the Makefile's plugins target, which builds
// what an operator pins: a WASI reactor (-buildmode=c-shared) whose bytes,
// and so whose sha256, do not depend on where the checkout is or on its
// commit (-trimpath -buildvcs=false). TestWasmAsMakePlugins fails when the
// two part ways.
var wasmFlags = []string{"-buildmode=c-shared", "-trimpath", "-buildvcs=false"}

// wasmEnv is what the Makefile adds to the environment for that build.
var wasmEnv = []string{"GOOS=wasip1", "GOARCH=wasm"}

// BuildWasm builds the plugin whose main package is in dir to the Wasm
// module out, exactly as `make plugins` does, and returns the module's
// sha256 in hex. dir is relative to the module root (as
// "plugins/hello-iam"), whatever the working directory, or absolute (and
// inside the module).
//
// It is for a TestMain, which has no testing.TB and owns the directory of
// out; a test calls Wasm.
func BuildWasm(dir, out string) (sha256Hex string, err error) {
	root, rel, err := modulePackage(dir)
	if err != nil {
		return "", err
	}
	args := append(append([]string{"build"}, wasmFlags...), "-o", out, rel)
	cmd := exec.Command(GoTool(), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), wasmEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the plugin %s to Wasm as `make plugins` does (%s go %s, in %s): %v; fix what the compiler says:\n%s",
			rel, strings.Join(wasmEnv, " "), strings.Join(args, " "), root, err, cut(b))
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// wasmBuild is one plugin built by this test binary: its bytes, kept in
// memory so that nothing outlives the run, and their sha256.
type wasmBuild struct {
	once   sync.Once
	module []byte
	sum    string
	err    error
}

// wasmBuilds holds each plugin built by this test binary, by its directory
// relative to the module root: building takes seconds, so the tests of a
// package share one build.
var wasmBuilds sync.Map // dir → *wasmBuild

// Wasm returns the path of a file of the test's own, under t.TempDir(),
// holding the plugin whose main package is in dir, built by BuildWasm once
// per test binary, and the module's sha256. A test may change or remove
// its file; other tests, and other test binaries building the same plugin
// at the same time, have theirs. dir is as for BuildWasm. The test fails,
// with the compiler's output, when the plugin does not build.
func Wasm(t testing.TB, dir string) (path, sha256Hex string) {
	t.Helper()
	_, rel, err := modulePackage(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := wasmBuilds.LoadOrStore(rel, &wasmBuild{})
	w := v.(*wasmBuild)
	w.once.Do(func() {
		tmp, err := os.MkdirTemp("", "iam-mcp-wasm-")
		if err != nil {
			w.err = err
			return
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, "plugin.wasm")
		if w.sum, w.err = BuildWasm(rel, out); w.err == nil {
			w.module, w.err = os.ReadFile(out)
		}
	})
	if w.err != nil {
		t.Fatal(w.err)
	}
	path = filepath.Join(t.TempDir(), filepath.Base(rel)+".wasm")
	if err := os.WriteFile(path, w.module, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, w.sum
}

// modulePackage returns the module root and dir as a package path
// relative to it, "./" and slashes, as go build wants it from the root.
func modulePackage(dir string) (root, rel string, err error) {
	root, err = ModuleRoot()
	if err != nil {
		return "", "", err
	}
	r := filepath.Clean(dir)
	if filepath.IsAbs(dir) {
		if r, err = filepath.Rel(root, dir); err != nil {
			r = ".."
		}
	}
	if r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("the plugin directory %s is outside the module at %s; give one inside it, relative to the module root or absolute", dir, root)
	}
	return root, "./" + filepath.ToSlash(r), nil
}

// ModuleRoot is the directory of the go.mod above the working directory:
// the module's root, from whichever package's directory a test runs in.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run the tests inside the module")
		}
		dir = parent
	}
}

// GoTool is the go command to build with: the one on PATH, as the Makefile
// runs it (go test puts its own toolchain's first on a test's PATH).
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// cut keeps the head of a build's output: the first errors say what is
// wrong, and a broken shared package can make every importer's report
// run to pages.
func cut(out []byte) string {
	const maxLines, maxBytes = 40, 4 << 10
	s := strings.TrimRight(string(out), "\n")
	lines := strings.Split(s, "\n")
	kept := len(lines)
	if kept > maxLines {
		kept = maxLines
	}
	head := strings.Join(lines[:kept], "\n")
	if len(head) > maxBytes {
		head = head[:maxBytes]
		kept = strings.Count(head, "\n") // the last line shown is cut
	}
	if head == s {
		return s
	}
	return fmt.Sprintf("%s\n… (%d more lines of compiler output)", head, len(lines)-kept)
}

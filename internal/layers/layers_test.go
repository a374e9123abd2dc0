package layers

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/iammcp/iam-mcp-server/"

// rule is what the packages under one prefix may import from the module
// (their own subtree always included), and whether they must use the
// standard library alone.
type rule struct {
	prefix  string
	may     []string
	stdOnly bool
}

// rules, most specific prefix first. A package of the module that no rule
// names fails the test: a new top-level directory takes a place here.
var rules = []rule{
	{prefix: "policy/iamdata", stdOnly: true},
	{prefix: "policy", stdOnly: true},
	{prefix: "sdk/api", stdOnly: true},
	// The public plugin test kit runs a plugin author's workflow against
	// the real gate and catalogue on the embedded sandbox, and as Wasm
	// through the real runtime: the one package under sdk/ that may reach
	// into host/, and nothing but tests (and commands or suites) imports
	// it, as net/http/httptest sits beside net/http.
	{prefix: "sdk/hostiam/hostiamtest", may: []string{"internal", "sdk", "policy", "host"}},
	{prefix: "sdk", may: []string{"sdk/api"}},
	{prefix: "internal/layers"},
	{prefix: "internal", may: []string{"internal"}},
	{prefix: "host/args", may: []string{"internal", "sdk/api"}},
	{prefix: "host/sandbox", may: []string{"internal", "policy"}},
	{prefix: "host/catalogue", may: []string{"internal", "policy", "sdk/api", "host/args"}},
	{prefix: "host/gate", may: []string{"internal", "sdk/api", "host/args"}},
	// Who is calling over HTTP and what the rules let them do: the
	// standard library and internal helpers alone, so that the
	// authentication code has nothing between it and crypto/*.
	{prefix: "host/httpauth", may: []string{"internal"}},
	// The registry client, cache and signatures: no runtime, no gate; the
	// command hands the runtime a verified file in the cache.
	{prefix: "host/pluginreg", may: []string{"internal", "sdk/api"}},
	{prefix: "host/plugin", may: []string{"internal", "sdk/api", "host/args", "host/gate"}},
	// One-time secret links: the principal from the gate's context, no
	// catalogue and no transport (mcpserver mounts it).
	{prefix: "host/secretlink", may: []string{"internal", "sdk/api", "host/args", "host/gate"}},
	{prefix: "host/accounts", may: []string{"internal", "sdk/api", "host/args", "host/gate", "host/catalogue"}},
	{prefix: "host/mcpserver", may: []string{"internal", "sdk/api", "policy", "host/args", "host/gate", "host/plugin", "host/catalogue", "host/httpauth"}},
	{prefix: "plugins", may: []string{"internal", "sdk", "policy"}},
	{prefix: "cmd", may: []string{"internal", "sdk", "policy", "host"}},
	{prefix: "e2e", may: []string{"internal", "sdk", "policy", "host", "plugins"}},
	{prefix: "bench", may: []string{"internal", "sdk", "policy", "host", "plugins"}},
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func ruleFor(path string) (rule, bool) {
	for _, r := range rules {
		if under(path, r.prefix) {
			return r, true
		}
	}
	return rule{}, false
}

type pkg struct {
	ImportPath  string
	GoFiles     []string // none: a directory of tests alone, which go build refuses
	Imports     []string
	TestImports []string
	Standard    bool
	Error       *struct{ Err string }
	DepsErrors  []*struct{ Err string }
}

// list runs `go list -json` on the whole module in env's build
// configuration.
func list(t *testing.T, env ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", env, err, stderr.Bytes())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", dir, err)
	}
	return dir
}

// standard reports whether path is a standard-library package (no dot in
// its first element), the test's one notion of "outside the module and
// not third-party".
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// check returns the edges of p that its rule forbids.
func check(p pkg, imports []string) []string {
	self := strings.TrimPrefix(p.ImportPath, module)
	r, ok := ruleFor(self)
	if !ok {
		return []string{self + " has no rule in internal/layers: give its directory a place in the map"}
	}
	var bad []string
	for _, imp := range imports {
		if !strings.HasPrefix(imp, module) {
			if r.stdOnly && !standard(imp) {
				bad = append(bad, self+" imports "+imp+", but it must use the standard library alone")
			}
			continue
		}
		target := strings.TrimPrefix(imp, module)
		allowed := under(target, r.prefix)
		for _, m := range r.may {
			allowed = allowed || under(target, m)
		}
		// Nothing imports the plugin test kit but tests, a command or a
		// test suite.
		if under(target, "sdk/hostiam/hostiamtest") && !under(self, target) {
			allowed = false
		}
		if !allowed {
			bad = append(bad, self+" imports "+target+", which is not below it in the map")
		}
	}
	return bad
}

// TestImportsGoDownward checks every package's imports, as built for the
// host and for wasip1 (the plugins and the packages they share), against
// the map. Tests may import more (a plugin's tests use the sandbox), but
// never a command, e2e or bench.
func TestImportsGoDownward(t *testing.T) {
	for _, env := range [][]string{nil, {"GOOS=wasip1", "GOARCH=wasm"}} {
		pkgs := list(t, env...)
		if len(pkgs) < 20 {
			t.Fatalf("go list %v found %d packages: is this the module?", env, len(pkgs))
		}
		for _, p := range pkgs {
			if p.Error != nil && len(env) == 0 {
				t.Errorf("%s: %s", p.ImportPath, p.Error.Err)
			}
			for _, bad := range check(p, p.Imports) {
				t.Errorf("%v: %s", env, bad)
			}
			self := strings.TrimPrefix(p.ImportPath, module)
			for _, imp := range p.TestImports {
				target := strings.TrimPrefix(imp, module)
				if target != imp && (under(target, "cmd") || under(target, "e2e") || under(target, "bench")) && !under(self, target) {
					t.Errorf("%v: the tests of %s import %s", env, self, target)
				}
			}
		}
	}
}

// TestSharedPackagesBuildForWasip1: what plugins are built from (every
// package under policy/, sdk/ and plugins/ but the native test kit, and
// but directories holding tests alone) compiles for GOOS=wasip1
// GOARCH=wasm.
func TestSharedPackagesBuildForWasip1(t *testing.T) {
	args := []string{"build"}
	for _, p := range list(t, "GOOS=wasip1", "GOARCH=wasm") {
		self := strings.TrimPrefix(p.ImportPath, module)
		if (under(self, "policy") || under(self, "sdk") || under(self, "plugins")) && !under(self, "sdk/hostiam/hostiamtest") && len(p.GoFiles) > 0 {
			args = append(args, p.ImportPath)
		}
	}
	if len(args) < 8 {
		t.Fatalf("only %d packages to build: %v", len(args)-1, args)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=wasip1 GOARCH=wasm go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRulesCatchAnUpwardImport: the check is not vacuous. Each edge below
// breaks the map and must be named.
func TestRulesCatchAnUpwardImport(t *testing.T) {
	cases := []struct{ from, to string }{
		{"policy", "host/catalogue"},
		{"policy", "github.com/aws/aws-sdk-go-v2/service/iam"},
		{"sdk/api", "internal/quote"},
		{"sdk", "host/gate"},
		{"host/sandbox", "host/catalogue"},
		{"host/catalogue", "host/gate"},
		{"host/gate", "host/plugin"},
		{"host/httpauth", "host/gate"},
		{"host/plugin", "host/catalogue"},
		{"host/plugin", "host/mcpserver"},
		{"plugins/access-review/review", "host/sandbox"},
		{"plugins/key-rotation/rotation", "sdk/hostiam/hostiamtest"},
		{"sdk/hostiam", "host/gate"},
		{"sdk/hostiam", "sdk/hostiam/hostiamtest"},
		{"host/mcpserver", "cmd/iam-mcp-server"},
		{"newdir/pkg", "sdk/api"},
	}
	for _, c := range cases {
		to := c.to
		if !strings.Contains(strings.SplitN(to, "/", 2)[0], ".") {
			to = module + to
		}
		if bad := check(pkg{ImportPath: module + c.from}, []string{to}); len(bad) == 0 {
			t.Errorf("%s importing %s passed the map", c.from, c.to)
		}
	}
	if bad := check(pkg{ImportPath: module + "host/plugin"}, []string{module + "host/gate", "encoding/json", "github.com/extism/go-sdk"}); len(bad) != 0 {
		t.Errorf("allowed edges refused: %v", bad)
	}
}

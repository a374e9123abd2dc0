package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var ctx = context.Background()

// The test plugins, built from testdata/<name> once per test run.
var testPlugins = []string{"good", "hostile", "sdkbatch", "consent", "seal"}

var (
	// wasmPath and wasmSHA are each test plugin's module and hash.
	wasmPath = map[string]string{}
	wasmSHA  = map[string]string{}
	// cacheDir is the compilation cache every test shares, warmed by
	// TestMain, so that each module is compiled once per run.
	cacheDir string
	// coldLoad is how long TestMain's first Load took (compiling both).
	coldLoad time.Duration
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "iam-mcp-plugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		flag.Parse()
		if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
			// Fuzzing (coordinator and each worker run TestMain): the fuzz
			// targets call host functions directly and need no module, and
			// building and compiling three would eat the fuzzing time.
			return m.Run()
		}
		if err := buildPlugins(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cacheDir = filepath.Join(dir, "cache")
		inspectCacheDir = cacheDir
		if err := warmCache(); err != nil {
			fmt.Fprintln(os.Stderr, "warming the compilation cache:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildPlugins builds every test plugin, in parallel, as `make plugins`
// builds a plugin.
func buildPlugins(dir string) error {
	sums := make([]string, len(testPlugins))
	errs := make([]error, len(testPlugins))
	var wg sync.WaitGroup
	for i, name := range testPlugins {
		out := filepath.Join(dir, name+".wasm")
		wasmPath[name] = out
		wg.Go(func() { sums[i], errs[i] = testenv.BuildWasm("host/plugin/testdata/"+name, out) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, name := range testPlugins {
		wasmSHA[name] = sums[i]
	}
	return nil
}

// warmCache loads every test plugin once, so that the later loads of the
// run find their machine code in cacheDir.
func warmCache() error {
	g, _, _ := sandboxGate(nil, gate.Options{})
	start := time.Now()
	h, err := Load(ctx, &Config{Plugins: []Spec{spec("good"), spec("hostile")}}, Options{Gate: g, CacheDir: cacheDir})
	if err != nil {
		return err
	}
	coldLoad = time.Since(start)
	return h.Close(ctx)
}

// spec is a plugins-file entry for a test plugin, named after it, with
// the default limits and no grants.
func spec(name string) Spec {
	return Spec{Name: name, Path: wasmPath[name], SHA256: wasmSHA[name]}
}

// env is one test's world: a sandbox, the gate in front of it, its audit
// log, and a host with some plugins.
type env struct {
	h       *Runtime
	gate    *gate.Gate
	state   string // the sandbox's state file
	audit   *syncio.Buffer
	secrets string // the catalogue's secrets directory
	logs    *syncio.Buffer
}

// envConfig varies a test's world.
type envConfig struct {
	gate          gate.Options
	returnSecrets bool           // the catalogue returns secrets inline
	opts          func(*Options) // adjusts the runtime's options
}

// newEnv loads specs over a fresh persisted sandbox.
func newEnv(t testing.TB, gopts gate.Options, specs ...Spec) *env {
	t.Helper()
	return newEnvWith(t, envConfig{gate: gopts}, specs...)
}

func newEnvWith(t testing.TB, c envConfig, specs ...Spec) *env {
	t.Helper()
	e := &env{audit: &syncio.Buffer{}, logs: &syncio.Buffer{}}
	c.gate.Audit = e.audit
	e.gate, e.state, e.secrets = sandboxGateWith(t, c.gate, c.returnSecrets)
	logger := slog.New(requestTagger{slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})})
	opts := Options{
		Gate: e.gate, CacheDir: cacheDir, Logger: logger,
		Account: func(context.Context) (string, string, error) { return "123456789012", "aws", nil },
	}
	if c.opts != nil {
		c.opts(&opts)
	}
	h, err := Load(ctx, &Config{Plugins: specs}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	e.h = h
	return e
}

// sandboxGate wires the real chain: sandbox (persisted, so that its bytes
// can be compared) → SDK client → catalogue (secrets to a directory) →
// gate. t may be nil (TestMain).
func sandboxGate(t testing.TB, opts gate.Options) (*gate.Gate, string, string) {
	return sandboxGateWith(t, opts, false)
}

func sandboxGateWith(t testing.TB, opts gate.Options, returnSecrets bool) (*gate.Gate, string, string) {
	dir, err := os.MkdirTemp("", "iam-mcp-sandbox-")
	if err != nil {
		panic(err)
	}
	if t != nil {
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	state := filepath.Join(dir, "state.json")
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", StateFile: state})
	if err != nil {
		panic(err)
	}
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		panic(err)
	}
	secrets := filepath.Join(dir, "secrets")
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: secrets}, ReturnSecrets: returnSecrets})
	if err != nil {
		panic(err)
	}
	return gate.New(cat, opts), state, secrets
}

// call calls a tool and fails the test on an error.
func (e *env) call(t testing.TB, tool string, args string) *api.PluginResult {
	t.Helper()
	res, err := e.h.Call(ctx, tool, json.RawMessage(args), nil)
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	return res
}

// structured decodes a result's structured content.
func structured(t testing.TB, res *api.PluginResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(res.StructuredContent, &m); err != nil {
		t.Fatalf("structured content %s: %v", res.StructuredContent, err)
	}
	return m
}

// callErr calls a tool that must fail, and returns its error.
func (e *env) callErr(t testing.TB, tool, args string) error {
	t.Helper()
	res, err := e.h.Call(ctx, tool, json.RawMessage(args), nil)
	if err == nil {
		t.Fatalf("%s succeeded (%+v); it must fail", tool, res)
	}
	return err
}

// readState returns the sandbox's persisted state (empty before its first
// change).
func readState(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

// auditRecords parses the audit log.
func (e *env) auditRecords(t testing.TB) []gate.Record {
	t.Helper()
	var out []gate.Record
	for _, line := range strings.Split(strings.TrimSpace(e.audit.String()), "\n") {
		if line == "" {
			continue
		}
		var r gate.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// requestKey tags a test's context, and requestTagger writes the tag into
// each record logged with that context: it shows which records carry the
// context of the call they belong to (the MCP layer's client log reads the
// request from it).
type requestKey struct{}

type requestTagger struct{ slog.Handler }

func (h requestTagger) Handle(ctx context.Context, r slog.Record) error {
	if v, ok := ctx.Value(requestKey{}).(string); ok {
		r.AddAttrs(slog.String("request", v))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestTagger) WithAttrs(as []slog.Attr) slog.Handler {
	return requestTagger{h.Handler.WithAttrs(as)}
}

func (h requestTagger) WithGroup(name string) slog.Handler {
	return requestTagger{h.Handler.WithGroup(name)}
}

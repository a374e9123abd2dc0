package hostiamtest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// BuildWasm builds the plugin whose main package is dir (relative to the
// test's package, e.g. ".." from a workflow package below the plugin's
// main package, or absolute), exactly as `make plugins` does
// (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath
// -buildvcs=false), once per test binary, and returns the path of the
// test's own copy of the module and its sha256: the hash an operator pins
// in the plugins file. dir must be inside the module of the test's package
// (the go.mod above the working directory), whichever module that is. A
// compile error fails the test with the compiler's first lines.
func BuildWasm(t testing.TB, dir string) (path, sha256Hex string) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Wasm(t, abs)
}

// WasmOptions configure LoadWasm: the server's side of the plugins file
// (the plugin's own entry is the plugin.Spec).
type WasmOptions struct {
	ReadOnly bool          // the server's --readonly
	Confirm  gate.Confirm  // the server's --confirm; "" is destructive
	Latency  time.Duration // added to every IAM request, as a far-away IAM
	// Attempts is how many times the AWS SDK tries a request, as
	// Options.Attempts; throttling is the sandbox's (Options.Throttle, or
	// sandbox.Options.Faults).
	Attempts int
	// Recorder, when set, receives the gate's audit records of the
	// plugin's calls and counts its IAM requests (see Recorder).
	Recorder *Recorder
	// SecretsDir is the server's --secrets-dir; "" is the sandbox's own
	// (SandboxSecretsDir), shared with the Clients of New on it.
	SecretsDir string
}

// LoadWasm loads one plugin into the server's real runtime, over a gate
// and catalogue on the sandbox sb, as the server does with a plugins file
// holding spec (spec.Path and spec.SHA256 from BuildWasm; spec.Grants
// deny by default): the module's sha256 is checked, its describe runs, and
// its tools are listed by rt.Tools(). Call them with CallTool, or with
// rt.Call and rt.CallWithConsent for progress reports and a person to ask.
// A plugin that does not load fails the test with the runtime's error.
// On an organisation sandbox the gate reaches its accounts as New's does
// (see the package doc), and spec.Accounts restricts the plugin to some.
// The runtime is closed when the test ends. The compilation cache is kept
// between runs (it is keyed by the module's hash), so later runs and the
// race detector's skip compiling.
func LoadWasm(t testing.TB, sb *sandbox.Server, spec plugin.Spec, o WasmOptions) *plugin.Runtime {
	t.Helper()
	ctx := context.Background()
	g, secrets := newGate(t, sb, slowTransport{sb.Transport(), o.Latency}, serverOptions{
		secretsDir: o.SecretsDir, attempts: o.Attempts, rec: o.Recorder, readOnly: o.ReadOnly, confirm: o.Confirm,
	})
	id := sb.AccountID()
	h, err := plugin.Load(ctx, &plugin.Config{Plugins: []plugin.Spec{spec}}, plugin.Options{
		Gate:       g,
		CacheDir:   filepath.Join(os.TempDir(), "iam-mcp-plugin-test-cache"),
		Account:    func(context.Context) (string, string, error) { return id, "aws", nil },
		Secrets:    catalogue.SecretFiles{Dir: secrets},
		SecretsDir: secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	return h
}

// ToolError is a plugin tool's answer with is_error set: its handler
// failed, and Text is what the assistant reads (an IAM error's code and
// message, as the SDK writes them, e.g. "Throttled: …").
type ToolError struct {
	Tool string // the tool's full name
	Text string // the answer's text
}

func (e *ToolError) Error() string { return e.Tool + " answered an error: " + e.Text }

// CallTool runs the tool of rt named tool (its full name, the plugins
// file's prefix included) as an MCP client would, with nobody to ask for
// consent, and decodes the structured content of its answer into out (a
// pointer; nil to skip). args are the tool's arguments: anything that
// encodes as a JSON object (a struct, a map, a json.RawMessage), or nil
// for none.
//
// It returns the answer, and an error when the call failed: a *ToolError
// when the tool answered is_error, or the runtime's error (an *api.Error
// for bad arguments, a trap, a time or memory limit). The test fails only
// when args do not encode or the structured content does not decode into
// out: those are the test's mistakes, or the plugin's.
func CallTool(t testing.TB, rt *plugin.Runtime, tool string, args, out any) (*api.PluginResult, error) {
	t.Helper()
	raw := json.RawMessage("{}")
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatalf("CallTool %s: the arguments do not encode as JSON: %v", tool, err)
		}
		raw = b
	}
	res, err := rt.Call(context.Background(), tool, raw, nil)
	if err != nil {
		return nil, err
	}
	if res.IsError {
		var text []string
		for _, c := range res.Content {
			text = append(text, c.Text)
		}
		return res, &ToolError{Tool: tool, Text: strings.Join(text, "\n")}
	}
	if out != nil {
		if len(res.StructuredContent) == 0 {
			t.Fatalf("CallTool %s: the answer has no structured content to decode (text: %.200q)", tool, res.Content)
		}
		if err := json.Unmarshal(res.StructuredContent, out); err != nil {
			t.Fatalf("CallTool %s: the structured content does not decode into %T: %v\n%.500s", tool, out, err, res.StructuredContent)
		}
	}
	return res, nil
}

// slowTransport adds latency to every IAM request.
type slowTransport struct {
	rt http.RoundTripper
	d  time.Duration
}

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.d)
	return s.rt.RoundTrip(r)
}

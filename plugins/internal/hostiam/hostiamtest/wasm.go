package hostiamtest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// BuildWasm builds the plugin whose main package is dir (relative to the
// test's package, e.g. ".."), as `make plugins` does, once per test binary,
// and returns the path of the test's own copy of the module and its
// sha256 (testenv.Wasm).
func BuildWasm(t testing.TB, dir string) (path, sha256Hex string) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Wasm(t, abs)
}

// WasmOptions configure LoadWasm.
type WasmOptions struct {
	ReadOnly bool          // the server's --readonly
	Confirm  gate.Confirm  // the server's --confirm; "" is destructive
	Latency  time.Duration // added to every IAM request, as a far-away IAM
	// SecretsDir is the server's --secrets-dir; "" is the sandbox's own
	// (SandboxSecretsDir), shared with the Clients of New on it.
	SecretsDir string
}

// LoadWasm loads one plugin into the real runtime, over a gate and
// catalogue on the sandbox, as the server does with a plugins file holding
// spec. The compilation cache is kept between runs (it is keyed by the
// module's hash), so later runs and the race detector's skip compiling.
func LoadWasm(t testing.TB, sb *sandbox.Server, spec plugin.Spec, o WasmOptions) *plugin.Runtime {
	t.Helper()
	ctx := context.Background()
	cat, secrets := newCatalogue(t, sb, slowTransport{sb.Transport(), o.Latency}, o.SecretsDir)
	h, err := plugin.Load(ctx, &plugin.Config{Plugins: []plugin.Spec{spec}}, plugin.Options{
		Gate:       gate.New(cat, gate.Options{ReadOnly: o.ReadOnly, Confirm: o.Confirm}),
		CacheDir:   filepath.Join(os.TempDir(), "iam-mcp-plugin-test-cache"),
		Account:    func(context.Context) (string, string, error) { return sandbox.AccountID, "aws", nil },
		Secrets:    catalogue.SecretFiles{Dir: secrets},
		SecretsDir: secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(ctx) })
	return h
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

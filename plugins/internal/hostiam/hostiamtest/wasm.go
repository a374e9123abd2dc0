package hostiamtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// builds holds each plugin built by this test binary: building one takes
// seconds, so every test of a package shares one build.
var builds sync.Map // dir → *build

type build struct {
	once      sync.Once
	path, sum string
	out       []byte
	err       error
}

// BuildWasm builds the plugin whose main package is dir (relative to the
// test's package, e.g. ".."), as `make plugins` does
// (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath), once per
// test binary, and returns the module's path and sha256.
func BuildWasm(t testing.TB, dir string) (path, sha256Hex string) {
	t.Helper()
	v, _ := builds.LoadOrStore(dir, &build{})
	b := v.(*build)
	b.once.Do(func() {
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			if goBin, b.err = exec.LookPath("go"); b.err != nil {
				return
			}
		}
		tmp, err := os.MkdirTemp("", "iam-mcp-plugin-build-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(tmp, "plugin.wasm")
		cmd := exec.Command(goBin, "build", "-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-o", b.path, dir)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if b.out, b.err = cmd.CombinedOutput(); b.err != nil {
			return
		}
		wasm, err := os.ReadFile(b.path)
		if err != nil {
			b.err = err
			return
		}
		sum := sha256.Sum256(wasm)
		b.sum = hex.EncodeToString(sum[:])
	})
	if b.err != nil {
		t.Fatalf("GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared %s: %v\n%s", dir, b.err, b.out)
	}
	return b.path, b.sum
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
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Local: slowTransport{sb.Transport(), o.Latency}, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	secrets := o.SecretsDir
	if secrets == "" {
		secrets = SandboxSecretsDir(t, sb)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: secrets}})
	if err != nil {
		t.Fatal(err)
	}
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

package interrupt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// goBuilds holds what this test binary built, by directory and mode:
// building a Go program to Wasm takes seconds.
var goBuilds sync.Map // string → *goBuild

type goBuild struct {
	once sync.Once
	wasm []byte
	err  error
}

// buildGo builds the Go program in dir (relative to the module root) to
// out with GOOS=wasip1 GOARCH=wasm: as a command, or as a reactor the way
// `make plugins` builds plugins (testenv.BuildWasm).
func buildGo(t testing.TB, dir, out string, reactor bool) {
	t.Helper()
	v, _ := goBuilds.LoadOrStore(fmt.Sprint(dir, reactor), &goBuild{})
	g := v.(*goBuild)
	g.once.Do(func() {
		tmp, err := os.MkdirTemp("", "interrupt-go-")
		if err != nil {
			g.err = err
			return
		}
		defer os.RemoveAll(tmp)
		file := filepath.Join(tmp, "out.wasm")
		if reactor {
			_, g.err = testenv.BuildWasm(dir, file)
		} else {
			root, err := testenv.ModuleRoot()
			if err != nil {
				g.err = err
				return
			}
			cmd := exec.Command(testenv.GoTool(), "build", "-trimpath", "-buildvcs=false", "-o", file, "./"+dir)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				g.err = fmt.Errorf("building %s to Wasm: %v\n%s", dir, err, b)
				return
			}
		}
		if g.err == nil {
			g.wasm, g.err = os.ReadFile(file)
		}
	})
	if g.err != nil {
		t.Fatal(g.err)
	}
	if err := os.WriteFile(out, g.wasm, 0o644); err != nil {
		t.Fatal(err)
	}
}

func goWasm(t testing.TB, dir string, reactor bool) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "m.wasm")
	buildGo(t, dir, out, reactor)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wasiRuntime is a runtime with WASI and the check's host module.
func wasiRuntime(t testing.TB, cfg wazero.RuntimeConfig) wazero.Runtime {
	t.Helper()
	rt := newRuntime(t, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(context.Background(), rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

// compile compiles wasm in rt.
func compile(t testing.TB, rt wazero.Runtime, wasm []byte) wazero.CompiledModule {
	t.Helper()
	c, err := rt.CompileModule(context.Background(), wasm)
	if err != nil {
		t.Fatalf("compiling: %v", err)
	}
	return c
}

// runCommand runs a Go command module to its exit with stdin and args,
// and returns its stdout.
func runCommand(ctx context.Context, t testing.TB, rt wazero.Runtime, c wazero.CompiledModule, stdin string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().WithName("").
		WithArgs(append([]string{"loops"}, args...)...).
		WithStdin(strings.NewReader(stdin)).WithStdout(&stdout).WithStderr(&stderr)
	m, err := rt.InstantiateModule(ctx, c, cfg)
	if m != nil {
		defer m.Close(ctx)
	}
	if err != nil && stderr.Len() > 0 {
		err = fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	return stdout.String(), err
}

const loopsInput = `It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief, it was the
epoch of incredulity, it was the season of Light, it was the season of Darkness.`

// TestGoProgramRunsTheSame: a Go program doing varied work (goroutines,
// maps, sorting, hashing, big numbers, recursion, a recovered panic)
// prints the same when instrumented, in both of wazero's engines.
func TestGoProgramRunsTheSame(t *testing.T) {
	in := goWasm(t, "host/plugin/interrupt/testdata/loops", false)
	out := instrument(t, in)
	ctx := context.Background()
	for name, cfg := range engines {
		t.Run(name, func(t *testing.T) {
			rt := wasiRuntime(t, cfg())
			want, err := runCommand(ctx, t, rt, compile(t, rt, in), loopsInput)
			if err != nil {
				t.Fatalf("the original program: %v", err)
			}
			if !strings.Contains(want, "fib(27) = 196418") {
				t.Fatalf("the original program printed %q: the test program is wrong", want)
			}
			got, err := runCommand(ctx, t, rt, compile(t, rt, out), loopsInput)
			if err != nil {
				t.Fatalf("the instrumented program: %v", err)
			}
			if got != want {
				t.Fatalf("the instrumented program printed\n%s\nthe original\n%s", got, want)
			}
		})
	}
}

// TestGoProgramSpinningInMainStops: a Go command spinning in main (so,
// during instantiation, in _start) stops when its context is cancelled.
func TestGoProgramSpinningInMainStops(t *testing.T) {
	out := instrument(t, goWasm(t, "host/plugin/interrupt/testdata/loops", false))
	rt := wasiRuntime(t, wazero.NewRuntimeConfig())
	c := compile(t, rt, out)
	stopsWhenCancelled(t, func(ctx context.Context) error {
		_, err := runCommand(ctx, t, rt, c, "", "spin")
		return err
	})
}

// TestGoReactorSpinningInAnExportStops: a Go reactor, built as plugins
// are, spinning in an exported function stops when the call's context is
// cancelled; its other export computes what the original does.
func TestGoReactorSpinningInAnExportStops(t *testing.T) {
	in := goWasm(t, "host/plugin/interrupt/testdata/spin", true)
	out := instrument(t, in)
	ctx := context.Background()
	results := map[string]uint64{}
	for name, wasm := range map[string][]byte{"original": in, "instrumented": out} {
		rt := wasiRuntime(t, wazero.NewRuntimeConfig())
		m, err := rt.InstantiateModule(ctx, compile(t, rt, wasm), wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := m.ExportedFunction("work").Call(ctx, 100000)
		if err != nil {
			t.Fatalf("%s: work: %v", name, err)
		}
		results[name] = res[0]
		if name == "instrumented" {
			stopsWhenCancelled(t, func(ctx context.Context) error {
				_, err := m.ExportedFunction("spin").Call(ctx)
				return err
			})
		}
	}
	if results["original"] != results["instrumented"] || results["original"] == 0 {
		t.Fatalf("work(100000): original %d, instrumented %d", results["original"], results["instrumented"])
	}
}

// TestShippedPluginInstruments: a shipped plugin, built as `make plugins`
// builds it, instruments, passes the checker and compiles.
func TestShippedPluginInstruments(t *testing.T) {
	path, _ := testenv.Wasm(t, "plugins/hello-iam")
	in, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := instrument(t, in)
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, out); err != nil {
		t.Fatalf("compiling the instrumented plugin: %v", err)
	}
	if _, err := Instrument(out); !errors.Is(err, ErrInstrumented) {
		t.Fatalf("instrumenting it again: %v, want ErrInstrumented", err)
	}
	t.Logf("%d bytes → %d bytes", len(in), len(out))
}

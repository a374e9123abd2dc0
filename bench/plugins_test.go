package bench

// The plugin benchmarks the issue asks to report:
//
//   - BenchmarkPluginSpawnToInitialize: exec of the binary with two plugins
//     (hello-iam and the e2e test plugin) to the MCP initialize result,
//     with an empty compilation cache (cold) and a filled one (warm;
//     target < 150 ms);
//   - BenchmarkPluginToolCall: a plugin tool making one iam_call (get_user)
//     against the built-in get_user, both handled in process on the
//     sandbox (target < 0.5 ms added at the median);
//   - BenchmarkPluginIAMCall: one iam_call's round trip from inside a
//     plugin, against the same operation through the gate directly;
//   - BenchmarkPluginBatch: 100 list_users calls with 20 ms of sandbox
//     latency each, one after another and in one iam_batch (target: near
//     100/N of the sequential time, N the runtime's batch concurrency);
//   - BenchmarkPluginIdleRSS: resident memory with the two plugins loaded.
//
// The plugins are built from source here, as `make plugins` builds them.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// batchConcurrency is the iam_batch concurrency the benchmarks load the
// runtime with (its default).
const batchConcurrency = 8

var (
	pluginOnce   sync.Once
	pluginDir    string // the modules, the plugins file and a warm cache
	pluginsYAML  string
	warmCache    string
	pluginErr    error
	pluginBuilds = map[string]string{"hello-iam.wasm": "plugins/hello-iam", "e2e-tools.wasm": "e2e/testdata/e2e-tools"}
)

// pluginsFile builds the two plugins once and returns the plugins file
// that loads them (hello-iam with what it asks for; the test plugin, prefix
// "t", with every read and create_user).
func pluginsFile(b *testing.B) string {
	b.Helper()
	pluginOnce.Do(func() {
		if pluginDir, pluginErr = os.MkdirTemp("", "iam-mcp-bench-plugins-"); pluginErr != nil {
			return
		}
		sums := map[string]string{}
		for out, pkg := range pluginBuilds {
			if sums[out], pluginErr = testenv.BuildWasm(pkg, filepath.Join(pluginDir, out)); pluginErr != nil {
				return
			}
		}
		yaml := fmt.Sprintf(`plugins:
  - name: hello-iam
    path: hello-iam.wasm
    sha256: %s
    grants: [list_users, list_groups_for_user]
  - name: e2e-tools
    path: e2e-tools.wasm
    sha256: %s
    prefix: t
    grants: [read, create_user]
`, sums["hello-iam.wasm"], sums["e2e-tools.wasm"])
		pluginsYAML = filepath.Join(pluginDir, "plugins.yaml")
		warmCache = filepath.Join(pluginDir, "warm-cache")
		pluginErr = os.WriteFile(pluginsYAML, []byte(yaml), 0o600)
	})
	if pluginErr != nil {
		b.Fatal(pluginErr)
	}
	return pluginsYAML
}

// BenchmarkPluginSpawnToInitialize: exec to initialize result with two
// plugins, per cache state. ms/spawn-median is the median of at least 20
// warm spawns, or 3 cold ones (each compiles both plugins, about a second).
func BenchmarkPluginSpawnToInitialize(b *testing.B) {
	bin := serverBinary(b)
	file := pluginsFile(b)
	for _, c := range []struct {
		name    string
		samples int
		cache   func(b *testing.B) string
	}{
		{"cold", 3, func(b *testing.B) string { return b.TempDir() }},
		{"warm", 20, func(*testing.B) string { return warmCache }},
	} {
		b.Run(c.name, func(b *testing.B) {
			if c.name == "warm" { // fill the cache
				spawn(b, bin, []string{"--sandbox", "--plugins", file, "--cache-dir", warmCache}, nil).close(b)
			}
			samples := spawnTimes(b, bin, c.samples, func() []string {
				return []string{"--sandbox", "--sandbox-seed", "demo", "--plugins", file, "--cache-dir", c.cache(b)}
			}, nil)
			b.ReportMetric(ms(median(samples)), "ms/spawn-median")
		})
	}
}

// inProcess is the server's wiring with the two plugins, as
// `--sandbox --sandbox-seed demo --plugins FILE` builds it (cmd's config.open):
// one sandbox, a catalogue and gate for the built-in tools, another pair
// for the plugins, the plugin runtime on the warm cache, the MCP server.
type inProcess struct {
	gate, pluginGate *gate.Gate
	host             *plugin.Runtime
	srv              *mcpserver.Server
}

func newInProcess(b *testing.B, latency time.Duration) *inProcess {
	b.Helper()
	file := pluginsFile(b)
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", Faults: sandbox.Faults{Latency: latency}})
	if err != nil {
		b.Fatal(err)
	}
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport()})
	if err != nil {
		b.Fatal(err)
	}
	secrets := catalogue.SecretFiles{Dir: filepath.Join(b.TempDir(), "secrets")}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: secrets})
	if err != nil {
		b.Fatal(err)
	}
	pcat, err := catalogue.New(clients, catalogue.Options{Secrets: secrets})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := plugin.LoadConfig(file)
	if err != nil {
		b.Fatal(err)
	}
	p := &inProcess{gate: gate.New(cat, gate.Options{}), pluginGate: gate.New(pcat, gate.Options{})}
	ops, _ := mcpserver.ResolveToolsets(mcpserver.ToolsetDefault)
	var builtins []string
	for _, op := range ops {
		builtins = append(builtins, op.Name)
	}
	p.host, err = plugin.Load(context.Background(), cfg, plugin.Options{
		Gate: p.pluginGate, CacheDir: warmCache, Concurrency: batchConcurrency, Builtins: builtins, Secrets: secrets,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.host.Close(context.Background()) })
	if p.srv, err = mcpserver.New(p.gate, mcpserver.Options{Tools: ops, Sandbox: true, Plugins: p.host}); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPluginToolCall: the same get_user, as the built-in tool and as
// a plugin tool whose handler makes one iam_call of it, each a tools/call
// handled in process (request bytes in, response bytes out, as in
// BenchmarkToolCallGetUser). µs/call-median is the median call; the
// difference of the two medians is what a plugin adds.
func BenchmarkPluginToolCall(b *testing.B) {
	p := newInProcess(b, 0)
	for _, c := range []struct{ name, tool string }{{"builtin", "get_user"}, {"plugin", "t_get_user"}} {
		b.Run(c.name, func(b *testing.B) {
			req := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + c.tool + `","arguments":{"user_name":"` + benchUser + `"}}}`)
			for range 20 { // warm: instances, connections, caches
				checkResponse(b, handle(b, p.srv, req))
			}
			samples := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				handle(b, p.srv, req)
				samples = append(samples, time.Since(t0))
			}
			b.StopTimer()
			b.ReportMetric(float64(median(samples))/1e3, "µs/call-median")
		})
	}
}

// BenchmarkPluginIAMCall: list_users (one user per page: one sandbox
// request) through the plugins' gate directly, and from inside a plugin —
// 100 iam_calls one after another in one tool call, so that the tool
// call's own cost is spread thin. ns/iam_call of the second minus ns/op of
// the first is the iam_call round trip: encoding, the host function, the
// copies in and out of the plugin's memory.
func BenchmarkPluginIAMCall(b *testing.B) {
	p := newInProcess(b, 0)
	ctx := context.Background()
	b.Run("gate", func(b *testing.B) {
		caller := gate.Caller{Kind: gate.Plugin, Plugin: "e2e-tools", Tool: "t_repeat", Grants: map[string]bool{"list_users": true}}
		args := json.RawMessage(`{"max_items":1}`)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := p.pluginGate.Call(ctx, caller, "list_users", args); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plugin", func(b *testing.B) {
		const n = 100
		args := json.RawMessage(fmt.Sprintf(`{"op":"list_users","count":%d}`, n))
		repeat(b, p.host, args, n) // warm
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			repeat(b, p.host, args, n)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/iam_call")
	})
}

// repeat calls t_repeat through the runtime and checks that all n calls
// succeeded.
func repeat(b *testing.B, h *plugin.Runtime, args json.RawMessage, n int) {
	res, err := h.Call(context.Background(), "t_repeat", args, nil)
	if err != nil {
		b.Fatal(err)
	}
	var out struct{ OK, Failed int }
	if res.IsError || json.Unmarshal(res.StructuredContent, &out) != nil || out.OK != n {
		b.Fatalf("t_repeat %s: %+v %s", args, res, res.StructuredContent)
	}
}

// BenchmarkPluginBatch: 100 list_users with 20 ms of injected sandbox
// latency each, from inside a plugin: one iam_call after another, then in
// one iam_batch that the host runs batchConcurrency at a time. The ratio
// of the two is the batch's speed-up; the ideal is batchConcurrency.
func BenchmarkPluginBatch(b *testing.B) {
	p := newInProcess(b, 20*time.Millisecond)
	for _, c := range []struct {
		name  string
		batch bool
	}{{"sequential", false}, {"batch", true}} {
		b.Run(c.name, func(b *testing.B) {
			args := json.RawMessage(fmt.Sprintf(`{"op":"list_users","count":100,"batch":%v}`, c.batch))
			for i := 0; i < b.N; i++ {
				repeat(b, p.host, args, 100)
			}
			b.ReportMetric(batchConcurrency, "concurrency")
		})
	}
}

// BenchmarkPluginIdleRSS: the resident memory of a spawned server with the
// two plugins loaded (warm cache), once initialize has been answered
// (MB-rss), and after one call of each plugin (MB-rss-used).
func BenchmarkPluginIdleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/PID/status")
	}
	bin := serverBinary(b)
	file := pluginsFile(b)
	args := []string{"--sandbox", "--sandbox-seed", "demo", "--plugins", file, "--cache-dir", warmCache}
	spawn(b, bin, args, nil).close(b) // fill the cache
	var idle, used []time.Duration    // bytes, sorted with the duration helpers
	b.ResetTimer()
	for i := 0; i < max(b.N, 5); i++ {
		s := spawn(b, bin, args, nil)
		idle = append(idle, settledRSS(b, s))
		for _, call := range []*mcp.CallToolParams{
			{Name: "hello-iam_users_per_path", Arguments: map[string]any{}},
			{Name: "t_get_user", Arguments: map[string]any{"user_name": benchUser}},
		} {
			res, err := s.cs.CallTool(context.Background(), call)
			if err != nil || res.IsError {
				b.Fatalf("%s: %v %+v", call.Name, err, res)
			}
		}
		used = append(used, settledRSS(b, s))
		b.StopTimer()
		s.close(b)
		b.StartTimer()
	}
	b.ReportMetric(float64(median(idle))/(1<<20), "MB-rss")
	b.ReportMetric(float64(median(used))/(1<<20), "MB-rss-used")
}

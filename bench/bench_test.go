// Package bench measures what the issue asks to report (not to assert):
//
//   - BenchmarkSpawnToInitialize: from exec of the built binary to the MCP
//     initialize result, median of at least 20 spawns (target < 50 ms);
//   - BenchmarkToolsList: a tools/list round trip over stdio;
//   - BenchmarkBareSDKGetUser vs BenchmarkToolCallGetUser: what a built-in
//     tool call adds over the AWS SDK calls it makes, on the in-process
//     sandbox (target < 1 ms per call);
//   - BenchmarkIdleRSS: the resident memory of a spawned server after
//     initialize (target < 40 MB);
//   - and the plugin benchmarks of plugins_test.go.
//
// `make bench` runs them once through cmd/iam-mcp-bench, which prints the
// ratios to the targets. The binary under test is IAM_MCP_SERVER_BIN when
// set (the release build of `make build`), else built here with the same
// flags.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	tmpDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range []string{tmpDir, pluginDir, reviewDir} {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// serverBinary returns the binary to measure, building it at most once.
func serverBinary(b *testing.B) string {
	b.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	if p := os.Getenv("IAM_MCP_SERVER_BIN"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		if _, err := os.Stat(p); err != nil {
			b.Fatalf("IAM_MCP_SERVER_BIN: %v", err)
		}
		return p
	}
	buildOnce.Do(func() {
		if tmpDir, buildErr = os.MkdirTemp("", "iam-mcp-bench-"); buildErr != nil {
			return
		}
		builtBin = filepath.Join(tmpDir, "iam-mcp-server")
		// The flags of `make build`: what users run.
		cmd := exec.Command(testenv.GoTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", builtBin, "./cmd/iam-mcp-server")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the server: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return builtBin
}

// modes are the ways the server is started: the sandbox seeded with the
// demo organisation (the quick start), the empty sandbox, and real AWS
// (nothing is called at start, so no credentials are needed to measure it).
var modes = []struct {
	name string
	args []string
	env  []string
}{
	{"local-demo", []string{"--sandbox", "--sandbox-seed", "demo"}, nil},
	{"local", []string{"--sandbox"}, nil},
	{"aws", nil, []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}},
}

// spawned is one server process and the official client's session.
type spawned struct {
	cs  *mcp.ClientSession
	cmd *exec.Cmd
}

// spawn starts the binary and returns once the initialize result is in.
// It uses the initialize handshake (protocol 2025-11-25) that today's
// clients use, not the newer server/discover probe.
func spawn(b *testing.B, bin string, args, env []string) *spawned {
	b.Helper()
	args = append(slices.Clone(args), "--secrets-dir", filepath.Join(b.TempDir(), "secrets"))
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-bench", Version: "1.0.0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		b.Fatalf("spawning %s %v: %v", bin, args, err)
	}
	return &spawned{cs: cs, cmd: cmd}
}

func (s *spawned) close(b *testing.B) {
	if err := s.cs.Close(); err != nil {
		b.Errorf("server exit: %v", err)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spawnTimes spawns the server b.N times, timed, and untimed ones more
// until there are at least min, and returns how long each took to the
// initialize result. args gives each spawn's arguments (made with the timer
// stopped); closing a session is not timed. It returns with the timer
// stopped.
func spawnTimes(b *testing.B, bin string, min int, args func() []string, env []string) []time.Duration {
	var samples []time.Duration
	once := func() {
		b.StopTimer()
		a := args()
		b.StartTimer()
		t0 := time.Now()
		s := spawn(b, bin, a, env)
		samples = append(samples, time.Since(t0))
		b.StopTimer()
		s.close(b)
		b.StartTimer()
	}
	b.StopTimer()
	for len(samples)+b.N < min {
		once()
	}
	b.StartTimer()
	for i := 0; i < b.N; i++ {
		once()
	}
	b.StopTimer()
	return samples
}

// BenchmarkSpawnToInitialize: exec to initialize result, per start mode.
// ns/op is the mean of the timed spawns; ms/spawn-median the median of at
// least 20 (untimed extra spawns fill in when b.N is smaller). Closing the
// session (stdin EOF, waiting for exit) is not timed.
func BenchmarkSpawnToInitialize(b *testing.B) {
	bin := serverBinary(b)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			samples := spawnTimes(b, bin, 20, func() []string { return m.args }, m.env)
			b.ReportMetric(ms(median(samples)), "ms/spawn-median")
			slices.Sort(samples)
			b.ReportMetric(ms(samples[len(samples)*9/10]), "ms/spawn-p90")
		})
	}
}

// BenchmarkToolsList: tools/list over stdio with the official client.
func BenchmarkToolsList(b *testing.B) {
	bin := serverBinary(b)
	for _, set := range []string{"default", "all"} {
		b.Run(set, func(b *testing.B) {
			s := spawn(b, bin, []string{"--sandbox", "--toolsets", set}, nil)
			defer s.close(b)
			ctx := context.Background()
			var n int
			var size int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := s.cs.ListTools(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				n = len(res.Tools)
				if i == 0 {
					raw, _ := json.Marshal(res)
					size = len(raw)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n), "tools")
			b.ReportMetric(float64(size)/1024, "KB/list")
		})
	}
}

// sandboxClients wires what --sandbox --sandbox-seed demo wires: the sandbox,
// in process, behind the real AWS SDK clients.
func sandboxClients(b *testing.B) *catalogue.Clients {
	b.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		b.Fatal(err)
	}
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport()})
	if err != nil {
		b.Fatal(err)
	}
	return clients
}

const benchUser = "alice.nguyen"

// BenchmarkBareSDKGetUser is the AWS SDK work the get_user tool does, called
// directly: GetUser and the four lists that complete it (attached and inline
// policies, groups, access keys), one page each, as the tool does for alice.
// This is the baseline the tool's overhead is measured against.
func BenchmarkBareSDKGetUser(b *testing.B) {
	c := sandboxClients(b).IAM
	ctx := context.Background()
	name := aws.String(benchUser)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: name}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: name}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: name}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: name}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: name}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareSDKGetUserOnly is one SDK GetUser call, for scale: the cost
// of one IAM request through the SDK and the sandbox.
func BenchmarkBareSDKGetUserOnly(b *testing.B) {
	c := sandboxClients(b).IAM
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(benchUser)}); err != nil {
			b.Fatal(err)
		}
	}
}

// builtIn is the server's own wiring over the demo sandbox, as --sandbox
// --sandbox-seed demo builds it: catalogue, gate, MCP server.
func builtIn(b *testing.B) (*gate.Gate, *mcpserver.Server) {
	b.Helper()
	cat, err := catalogue.New(sandboxClients(b), catalogue.Options{Secrets: catalogue.SecretFiles{Dir: filepath.Join(b.TempDir(), "secrets")}})
	if err != nil {
		b.Fatal(err)
	}
	g := gate.New(cat, gate.Options{})
	srv, err := mcpserver.New(g, mcpserver.Options{Sandbox: true})
	if err != nil {
		b.Fatal(err)
	}
	return g, srv
}

var getUserArgs = json.RawMessage(`{"user_name":"` + benchUser + `"}`)

// BenchmarkGateGetUser is get_user through the gate and the catalogue
// (argument decoding and validation, the SDK calls, the result), without
// MCP: it splits the overhead between the catalogue and the protocol.
func BenchmarkGateGetUser(b *testing.B) {
	g, _ := builtIn(b)
	ctx := context.Background()
	caller := gate.Caller{Kind: gate.BuiltIn, Tool: "get_user"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := g.Call(ctx, caller, "get_user", getUserArgs); err != nil {
			b.Fatal(err)
		}
	}
}

// handle is what the stdio server does with one request line, minus the
// pipe: mcp-go's message handler decodes the JSON-RPC request, dispatches
// it (for a tool: our handler, the gate, the catalogue, the result encoded
// as structured content and text), and the response is encoded to the
// bytes stdio would write.
func handle(b *testing.B, srv *mcpserver.Server, request []byte) []byte {
	resp := srv.MCP().HandleMessage(context.Background(), request)
	out, err := json.Marshal(resp)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// checkResponse fails unless out is a successful JSON-RPC response whose
// result is not a tool error.
func checkResponse(b *testing.B, out []byte) {
	b.Helper()
	var r struct {
		Result *struct {
			IsError bool `json:"isError"`
		} `json:"result"`
	}
	if err := json.Unmarshal(out, &r); err != nil || r.Result == nil || r.Result.IsError {
		b.Fatalf("unexpected response: %s", out)
	}
}

// BenchmarkToolCallGetUser is a get_user tools/call handled by the server
// in process, with the same wiring as --sandbox --sandbox-seed demo: request
// bytes in, response bytes out (see handle). No client decodes anything
// and no pipe is crossed, so the difference from BenchmarkBareSDKGetUser is
// what the server itself adds per call. (mcp-go's in-process client would
// add its own decoding of the result — about as much again as the server's
// work — so it is not used here.)
func BenchmarkToolCallGetUser(b *testing.B) {
	_, srv := builtIn(b)
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"` + benchUser + `"}}}`)
	checkResponse(b, handle(b, srv, req))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		handle(b, srv, req)
	}
}

// BenchmarkToolsListServer is tools/list handled in process (see handle),
// to split BenchmarkToolsList between the server and the client and pipes.
func BenchmarkToolsListServer(b *testing.B) {
	_, srv := builtIn(b)
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`)
	var size int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		size = len(handle(b, srv, req))
	}
	b.StopTimer()
	b.ReportMetric(float64(size)/1024, "KB/list")
}

// BenchmarkToolCallGetUserStdio is the same call as a real client makes it:
// the official Go SDK client and the spawned binary over stdio. It adds the
// pipes, the process boundary and the client's own work to the above.
func BenchmarkToolCallGetUserStdio(b *testing.B) {
	s := spawn(b, serverBinary(b), []string{"--sandbox", "--sandbox-seed", "demo"}, nil)
	defer s.close(b)
	ctx := context.Background()
	params := &mcp.CallToolParams{Name: "get_user", Arguments: map[string]any{"user_name": benchUser}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.cs.CallTool(ctx, params)
		if err != nil {
			b.Fatal(err)
		}
		if res.IsError {
			b.Fatalf("get_user: %v", res.Content)
		}
	}
}

// vmRSS reads a process's resident set size from /proc, in bytes.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// settledRSS is the resident memory of the spawned server, in bytes (as a
// Duration, to be sorted with the duration helpers), once it has finished
// what its last request started.
func settledRSS(b *testing.B, s *spawned) time.Duration {
	b.Helper()
	time.Sleep(50 * time.Millisecond) // a pause before measuring, not a deadline
	v, err := vmRSS(s.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return time.Duration(v)
}

// BenchmarkIdleRSS reports the resident memory of a spawned server once
// initialize has been answered and the server sits idle, per start mode
// (median over the spawns; MB = 2^20 bytes). ns/op is the spawn and is not
// the point here.
func BenchmarkIdleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/PID/status")
	}
	bin := serverBinary(b)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var rss []time.Duration // bytes, sorted with the duration helpers
			n := max(b.N, 5)
			for i := 0; i < n; i++ {
				s := spawn(b, bin, m.args, m.env)
				rss = append(rss, settledRSS(b, s))
				b.StopTimer()
				s.close(b)
				b.StartTimer()
			}
			b.ReportMetric(float64(median(rss))/(1<<20), "MB-rss")
		})
	}
}

package review

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// The plugin itself: built from source as make plugins builds it, loaded
// by the real runtime with only its read grants on a read-only server, and
// called as an MCP client would.

// buildWasm builds ./plugins/access-review once per test binary.
func buildWasm(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	p, _ := hostiamtest.BuildWasm(t, "..")
	return p
}

func TestWasmBuild(t *testing.T) {
	t.Parallel()
	p := buildWasm(t)
	fi, err := os.Stat(p)
	if err != nil || fi.Size() == 0 {
		t.Fatalf("no module: %v", err)
	}
	t.Logf("access-review.wasm: %d bytes", fi.Size())
}

// The plugin describes one read-only tool, access_review, asking for
// exactly the review's operations, all granted by the entry the repository's
// plugins.yaml has.
func TestWasmDescribe(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := loadPlugin(t, sb, 0)
	tools := h.Tools()
	if len(tools) != 1 || tools[0].Name != "access_review" || tools[0].Mutates || strings.Join(tools[0].Operations, ",") != strings.Join(Operations, ",") {
		t.Fatalf("tools: %+v", tools)
	}
	info := h.Plugins()[0]
	if info.Name != "access-review" || len(info.NotGranted) != 0 {
		t.Fatalf("plugin: %+v", info)
	}
}

// loadPlugin loads the built plugin over a sandbox as plugins.yaml would:
// prefix "", only its declared read operations granted, server read-only.
func loadPlugin(t testing.TB, sb *sandbox.Server, latency time.Duration) *plugin.Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	p, sum := hostiamtest.BuildWasm(t, "..")
	prefix := ""
	spec := plugin.Spec{Name: "access-review", Path: p, SHA256: sum, Prefix: &prefix,
		// The time limit only guards against a hang: a review takes seconds,
		// more on a busy machine.
		Grants: Operations, Limits: plugin.Limits{Memory: "512MiB", Timeout: 5 * time.Minute, MaxIAMCalls: 2000}}
	return hostiamtest.LoadWasm(t, sb, spec, hostiamtest.WasmOptions{ReadOnly: true, Latency: latency})
}

func callReview(t testing.TB, h *plugin.Runtime, args string) (*Report, *api.PluginResult, []api.ProgressReport) {
	t.Helper()
	var mu sync.Mutex
	var progress []api.ProgressReport
	res, err := h.Call(bg, "access_review", json.RawMessage(args), func(p api.ProgressReport) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("access_review: %+v", res.Content)
	}
	var rep Report
	if err := json.Unmarshal(res.StructuredContent, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, res, progress
}

func TestWasmPluginOnDemo(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	h := loadPlugin(t, sb, 0)
	rep, res, progress := callReview(t, h, `{"include":["key_last_used"]}`)
	if len(res.Content) != 1 || !strings.HasPrefix(res.Content[0].Text, "# IAM access review — account "+sandbox.AccountID) || res.Content[0].Text != rep.Markdown {
		t.Fatalf("text content: %.200q", res.Content)
	}
	if len(find(rep, RuleRootNoMFA, "")) != 1 || len(find(rep, RuleEscalationConfirmed, "liam.obrien")) != 1 || !rep.Header.ReadOnly || len(rep.Header.Unreadable) != 0 {
		t.Fatalf("plugin review: %v, header %+v", ruleSummary(rep), rep.Header)
	}
	if len(progress) < 5 {
		t.Errorf("progress %+v", progress)
	}
	// Bad input is a tool error the assistant can act on.
	res, err = h.Call(bg, "access_review", json.RawMessage(`{"scope":"everything"}`), nil)
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].Text, "use all, a comma-separated list") {
		t.Fatalf("bad scope: %v %+v", err, res)
	}
	t.Logf("plugin on the demo: %d findings, %d IAM calls", rep.Summary.Total, rep.Header.IAMCalls)
}

// go test -run '^$' -bench WasmReview10k ./plugins/access-review/review/
// The target: 10,000 principals, 20 ms per IAM call, under 30 s
// and 200 calls, through the plugin runtime.
func BenchmarkWasmReview10k(b *testing.B) {
	sb := largeSandbox(b, 10000)
	h := loadPlugin(b, sb, 20*time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rep, res, _ := callReview(b, h, `{}`)
		b.ReportMetric(time.Since(start).Seconds(), "s/review")
		b.ReportMetric(float64(rep.Header.IAMCalls), "iam-calls")
		b.ReportMetric(float64(len(res.StructuredContent)+len(res.Content[0].Text))/1024, "KiB-result")
	}
}

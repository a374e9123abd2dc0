package plugin

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Attacks on the runtime's own limits, run on the host functions directly
// (no Wasm): the edges of each cap.

// inspectingPlugin is a plugin as Inspect has it: no gate, so every
// admitted request answers "being inspected" without running.
func inspectingPlugin(t *testing.T, limits Limits) *loaded {
	t.Helper()
	p, err := newLoaded(Spec{Name: "edge", Path: "edge.wasm", SHA256: strings.Repeat("0", 64), Limits: limits}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func batchOf(n int, req string) []byte {
	return []byte("[" + strings.TrimSuffix(strings.Repeat(req+",", n), ",") + "]")
}

// TestBatchCapEdges: MaxBatchRequests requests are decoded and answered one
// by one; one more, however it is spelt (nulls, whitespace, strings full of
// brackets and commas), is refused whole and all of it counted.
func TestBatchCapEdges(t *testing.T) {
	t.Parallel()
	p := inspectingPlugin(t, Limits{})
	st := &callState{tool: "edge_t"}
	var many []api.IAMResponse
	if err := json.Unmarshal(p.iamBatchFunc(ctx, st, batchOf(MaxBatchRequests, `{"op":"list_users"}`)), &many); err != nil || len(many) != MaxBatchRequests {
		t.Fatalf("a batch of exactly %d: %d answers, %v", MaxBatchRequests, len(many), err)
	}
	for _, over := range [][]byte{
		batchOf(MaxBatchRequests+1, `{"op":"list_users"}`),
		batchOf(MaxBatchRequests+1, `null`),
		batchOf(MaxBatchRequests+1, " \n{ \"op\" : \"a,]\\\"[,\" }\t"),
		batchOf(MaxBatchRequests+1, `[[],{}]`),
	} {
		st := &callState{tool: "edge_t"}
		var one api.IAMResponse
		out := p.iamBatchFunc(ctx, st, over)
		if err := json.Unmarshal(out, &one); err != nil || one.Error == nil || one.Error.Code != api.LimitExceeded ||
			!strings.Contains(one.Error.Message, fmt.Sprintf("iam_batch of %d requests refused", MaxBatchRequests+1)) {
			t.Errorf("%.40s…: %.200s", over, out)
		}
		if n := st.calls.Load(); n != MaxBatchRequests+1 {
			t.Errorf("%.40s…: %d requests counted, want %d", over, n, MaxBatchRequests+1)
		}
	}
}

// TestHugeOperationNameIsCut: an operation name of 100,000 characters is
// repeated in no message and no audit line beyond a short prefix.
func TestHugeOperationNameIsCut(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"read"}
	s.Limits.MaxIAMCalls = 1
	e := newEnv(t, gate.Options{}, s)
	huge := strings.Repeat("x", 100_000)
	args, _ := json.Marshal(map[string]any{"requests": []map[string]string{{"op": huge}, {"op": huge}}})
	res := e.call(t, "hostile_iam", string(args))
	if len(res.StructuredContent) > 4000 {
		t.Errorf("the answers to two requests with a 100,000-character operation are %d bytes", len(res.StructuredContent))
	}
	audit := e.audit.String()
	if len(audit) > 4000 || strings.Count(audit, "\n") != 2 {
		t.Errorf("audit of two such requests: %d bytes, %d lines", len(audit), strings.Count(audit, "\n"))
	}
}

// TestCutText: a cut text is at most its cap, valid UTF-8 when the text
// was, and says how long it was; a text within the cap is untouched.
func TestCutText(t *testing.T) {
	t.Parallel()
	for _, s := range []string{strings.Repeat("é", 400), strings.Repeat("a", 511) + "€€€", strings.Repeat("🙂", 1000), strings.Repeat("x", 10_000)} {
		c := cutText(s, MaxProgressMessageBytes)
		if len(c) > MaxProgressMessageBytes || !utf8.ValidString(c) || !strings.HasSuffix(c, fmt.Sprintf("… [cut: %d bytes in all]", len(s))) {
			t.Errorf("%d bytes cut to %d: %q", len(s), len(c), c)
		}
	}
	if s := strings.Repeat("a", MaxProgressMessageBytes); cutText(s, MaxProgressMessageBytes) != s {
		t.Error("a text of exactly the cap was cut")
	}
}

// TestBucketsAgainstClockTricks: a clock that goes backwards or jumps far
// ahead earns no more than the burst.
func TestBucketsAgainstClockTricks(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_700_000_000, 0)
	times := []time.Time{t0}
	for i := 0; i < 100; i++ {
		times = append(times, t0.Add(-time.Duration(i)*time.Hour)) // backwards
	}
	for i := 0; i < 100; i++ {
		times = append(times, t0.Add(1000*time.Hour)) // far ahead, then still
	}
	i := 0
	now := func() time.Time { tt := times[min(i, len(times)-1)]; i++; return tt }
	l := newProgressLimiter(now)
	passed := 0
	for range 100 {
		if l.allow(api.ProgressReport{}) {
			passed++
		}
	}
	if passed != ProgressBurst {
		t.Errorf("backwards clock: %d passed, want the burst %d", passed, ProgressBurst)
	}
	passed = 0
	for range 100 {
		if l.allow(api.ProgressReport{}) {
			passed++
		}
	}
	if passed != ProgressBurst {
		t.Errorf("a jump of 1,000 hours: %d passed, want the burst %d", passed, ProgressBurst)
	}
}

// TestLineLoggerNeverHoldsMoreThanALine: 10 MB written to a plugin's
// stdout without a newline is held as one cut line, logged once when the
// line ends.
func TestLineLoggerNeverHoldsMoreThanALine(t *testing.T) {
	t.Parallel()
	logs := &syncio.Buffer{}
	w := &lineLogger{log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), budget: newLogBudget(time.Now), stream: "stdout"}
	chunk := []byte(strings.Repeat("y", 1<<20))
	for range 10 {
		w.Write(chunk)
		if len(w.partial) > MaxLogLineBytes {
			t.Fatalf("%d bytes held", len(w.partial))
		}
	}
	w.Write([]byte("\nnext line\n"))
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 2 || recs[1]["line"] != "next line" {
		t.Fatalf("%d lines logged: %v", len(recs), recs)
	}
	line := recs[0]["line"].(string)
	if len(line) > MaxLogLineBytes || !strings.HasSuffix(line, fmt.Sprintf("… [cut: %d bytes in all]", 10<<20)) {
		t.Errorf("the long line was logged as %d bytes: …%q", len(line), line[max(0, len(line)-40):])
	}
}

package gate

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// overlapWriter counts the Writes that began while another was still
// under way: the audit log's one lock is what keeps that at zero.
type overlapWriter struct {
	busy     atomic.Bool
	overlaps atomic.Int64
	lines    atomic.Int64
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if !w.busy.CompareAndSwap(false, true) {
		w.overlaps.Add(1)
		return len(p), nil
	}
	runtime.Gosched() // hold the write open while others may start theirs
	w.lines.Add(int64(strings.Count(string(p), "\n")))
	w.busy.Store(false)
	return len(p), nil
}

// TestOverSharesTheAuditLog: the plugins' gate (Over) and the gate it was
// made from write one audit log under one lock: lines from both, written
// at once from many goroutines, never overlap and none is lost. (A lock
// per gate would let them overlap; how often depends on the machine, so
// only the sound case is asserted.)
func TestOverSharesTheAuditLog(t *testing.T) {
	w := &overlapWriter{}
	builtins := New(&recordingRunner{}, Options{Audit: w})
	plugins := builtins.Over(&recordingRunner{})
	notGranted := Caller{Kind: Plugin, Plugin: "p", Tool: "p_t"} // refused before any runner is asked
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if i%2 == 0 {
					_, _ = builtins.Call(ctx, notGranted, "delete_user", json.RawMessage(`{"user_name":"x"}`))
				} else {
					plugins.Refused(t.Context(), notGranted, "list_users", nil, api.Errorf(api.LimitExceeded, "over the cap"))
				}
			}
		}()
	}
	wg.Wait()
	if n := w.overlaps.Load(); n != 0 {
		t.Errorf("%d audit writes overlapped another", n)
	}
	if n := w.lines.Load(); n != workers*each {
		t.Errorf("%d audit lines, want %d", n, workers*each)
	}
}

// TestOverDecidesAsItsGate: a gate made with Over keeps the options of the
// gate it was made from (read-only here, and its audit log) and runs its
// own runner, never the other's.
func TestOverDecidesAsItsGate(t *testing.T) {
	var audit bytes.Buffer
	first, second := &recordingRunner{}, &recordingRunner{}
	g := New(first, Options{ReadOnly: true, Confirm: ConfirmWrites, Audit: &audit})
	o := g.Over(second)
	if !o.ReadOnly() || o.Confirm() != ConfirmWrites {
		t.Fatalf("Over: read-only %v, confirm %s", o.ReadOnly(), o.Confirm())
	}
	if _, err := o.Call(ctx, Caller{Kind: CLI}, "list_users", json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Call(ctx, Caller{Kind: CLI}, "create_user", json.RawMessage(`{"user_name":"x"}`)); code(err) != api.ReadOnly {
		t.Fatalf("a mutation through Over on a read-only gate: %v", err)
	}
	if len(first.ran) != 0 || strings.Join(second.ran, ",") != "list_users" {
		t.Errorf("ran: first %v, second %v", first.ran, second.ran)
	}
	lines := strings.Split(strings.TrimSpace(audit.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"operation":"list_users"`) || !strings.Contains(lines[1], `"outcome":"refused","code":"ReadOnly"`) {
		t.Errorf("audit:\n%s", audit.String())
	}
}

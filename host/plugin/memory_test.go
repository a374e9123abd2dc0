package plugin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin/interrupt"
)

// TestCloseStopsRunningCalls: closing the runtime while plugin calls run —
// two in an endless loop, one asleep — stops each
// of them (cancelled, naming the plugin) before the runtime and the
// instances' memory go: with memory mapped outside the Go heap
// (memory_linux.go), a module closed under running code would crash the
// process instead.
func TestCloseStopsRunningCalls(t *testing.T) {
	t.Parallel()
	s := slowSpec()
	e := newEnv(t, gate.Options{}, s)
	calls := []struct{ tool, args string }{
		{"hostile_loop", `{}`},
		{"hostile_loop", `{}`},
		{"hostile_sleep", `{"ms":600000}`},
	}
	done := make(chan error, len(calls))
	for _, c := range calls {
		go func() { _, err := e.h.Call(ctx, c.tool, []byte(c.args), nil); done <- err }()
	}
	// Let them start (the start-up of three instances included); a call
	// that has not started when Close comes is refused instead, which is
	// also an error naming the plugin.
	deadline := time.Now().Add(2 * time.Minute)
	for e.h.plugins[0].instances.Load() < int64(len(calls)) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	closed := make(chan error, 1)
	go func() { closed <- e.h.Close(context.Background()) }()
	for range calls {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "plugin hostile") && !strings.Contains(err.Error(), "closed") {
				t.Errorf("a call running while the runtime closed: %v", err)
			}
		case <-time.After(5 * time.Minute):
			// Only a guard against a hang.
			t.Fatal("a call still runs after Close")
		}
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("Close did not return")
	}
	if _, err := e.h.Call(ctx, "hostile_ok", []byte(`{}`), nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a call after Close: %v", err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		t.Fatal("the test's own context was cancelled")
	}
}

// loopingStart is a module whose start section loops for ever:
//
//	(module (func $spin (loop (br 0))) (start $spin)
//	  (func (export "describe") (result i32) (i32.const 0)))
var loopingStart = []byte{0, 'a', 's', 'm', 1, 0, 0, 0,
	1, 8, 2, 0x60, 0, 0, 0x60, 0, 1, 0x7f, // types: [] -> [], [] -> i32
	3, 3, 2, 0, 1, // functions
	7, 12, 1, 8, 'd', 'e', 's', 'c', 'r', 'i', 'b', 'e', 0, 1, // export describe
	8, 1, 0, // start: function 0
	10, 14, 2, 7, 0, 0x03, 0x40, 0x0c, 0, 0x0b, 0x0b, 4, 0, 0x41, 0, 0x0b,
}

// TestStartSectionStopsAtTheStartUpLimit: a start section runs at
// instantiation, outside any call; one that loops is stopped at the
// start-up limit, with an error that says so, rather than hanging the
// call that needed an instance.
func TestStartSectionStopsAtTheStartUpLimit(t *testing.T) {
	t.Parallel()
	p, err := newLoaded(Spec{Name: "spinstart", Path: "spinstart.wasm"}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	p.startup = 200 * time.Millisecond
	if err := p.compile(ctx, loopingStart, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.links.close(ctx); p.compiled.Close(ctx) })
	done := make(chan error, 1)
	go func() { _, err := p.newInstance(ctx); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, interrupt.ErrStopped) || !strings.Contains(err.Error(), "start section ran past the start-up limit") {
			t.Errorf("instantiating a module whose start section loops: %v", err)
		}
	case <-time.After(5 * time.Minute):
		// Only a guard against a hang.
		t.Fatal("the looping start section was not stopped")
	}
}

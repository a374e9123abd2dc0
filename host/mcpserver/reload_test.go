package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestSetPluginsUnderLoad: calls running on the old set when SetPlugins
// swaps in a new one finish with the old tool's answer; new calls reach
// the new set; the client gets exactly one notifications/tools/list_changed
// and a listing of the new tools; a set with a bad tool is refused and
// leaves everything as it was; the old set is idle only once its calls end.
func TestSetPluginsUnderLoad(t *testing.T) {
	const n = 5
	var started atomic.Int32
	allStarted, release := make(chan struct{}), make(chan struct{})
	old := &fakePlugins{tools: fakeTools, call: func(ctx context.Context, tool string, _ json.RawMessage, _ func(api.ProgressReport)) (*api.PluginResult, error) {
		if started.Add(1) == n {
			close(allStarted)
		}
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &api.PluginResult{StructuredContent: json.RawMessage(`{"steps":1}`)}, nil
	}}
	next := &fakePlugins{tools: []plugin.Tool{
		fakeTools[0], // acme_review stays, answered by the new set
		{Name: "beta_scan", Plugin: "beta", PluginTool: "scan", Description: "Scan.", InputSchema: json.RawMessage(`{"type":"object"}`)},
	}, call: func(_ context.Context, tool string, _ json.RawMessage, _ func(api.ProgressReport)) (*api.PluginResult, error) {
		if tool == "beta_scan" {
			return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: "scanned by the new set"}}}, nil
		}
		return &api.PluginResult{StructuredContent: json.RawMessage(`{"steps":2}`)}, nil
	}}
	srv := newPluginServer(t, false, old)
	s := serveRaw(t, srv)
	for i := range n {
		s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":"old-%d","method":"tools/call","params":{"name":"acme_review","arguments":{}}}`, i))
	}
	select {
	case <-allStarted:
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the calls on the old set did not start")
	}

	if err := srv.SetPlugins(next); err != nil {
		t.Fatalf("SetPlugins: %v", err)
	}
	s.waitFor(func(line string) bool { return strings.Contains(line, `"notifications/tools/list_changed"`) })
	select {
	case <-srv.PluginsIdle(old):
		t.Fatal("the old set is reported idle while calls run on it")
	default:
	}

	s.send(`{"jsonrpc":"2.0","id":"list","method":"tools/list"}`)
	var listing string
	s.waitFor(func(line string) bool { listing = line; return strings.Contains(line, `"id":"list"`) })
	if !strings.Contains(listing, `"name":"beta_scan"`) || !strings.Contains(listing, `"name":"acme_review"`) ||
		strings.Contains(listing, `"name":"acme_offboard"`) || !strings.Contains(listing, `"name":"list_users"`) {
		t.Errorf("the listing after the swap is not the built-in tools and the new set's:\n%s", listing)
	}
	s.send(`{"jsonrpc":"2.0","id":"new-review","method":"tools/call","params":{"name":"acme_review","arguments":{}}}`)
	s.waitFor(func(line string) bool {
		if !strings.Contains(line, `"id":"new-review"`) {
			return false
		}
		if !strings.Contains(line, `"structuredContent":{"steps":2}`) {
			t.Errorf("a call after the swap did not reach the new set: %s", line)
		}
		return true
	})
	s.send(`{"jsonrpc":"2.0","id":"gone","method":"tools/call","params":{"name":"acme_offboard","arguments":{}}}`)
	s.waitFor(func(line string) bool {
		if !strings.Contains(line, `"id":"gone"`) {
			return false
		}
		if strings.Contains(line, `"result":{"content":[{"type":"text","text":"done"}]`) {
			t.Errorf("a tool the new set dropped still ran: %s", line)
		}
		return true
	})

	// Refused sets: nothing changes, the error says why.
	for name, bad := range map[string]plugin.Tool{
		"built-in name, other case": {Name: "List_Users", Plugin: "evil", PluginTool: "x", InputSchema: json.RawMessage(`{"type":"object"}`)},
		"reserved name":             {Name: "_x", Plugin: "evil", PluginTool: "x", InputSchema: json.RawMessage(`{"type":"object"}`)},
		"schema not an object":      {Name: "evil_x", Plugin: "evil", PluginTool: "x", InputSchema: json.RawMessage(`{"type":"array"}`)},
	} {
		err := srv.SetPlugins(&fakePlugins{tools: []plugin.Tool{bad}, call: fakeCall})
		if err == nil {
			t.Errorf("%s: SetPlugins accepted %s", name, bad.Name)
		} else if !strings.Contains(err.Error(), bad.Name) && !strings.Contains(err.Error(), "schema") {
			t.Errorf("%s: the error does not say what was wrong: %v", name, err)
		}
	}
	s.send(`{"jsonrpc":"2.0","id":"still","method":"tools/call","params":{"name":"beta_scan","arguments":{}}}`)
	s.waitFor(func(line string) bool {
		if !strings.Contains(line, `"id":"still"`) {
			return false
		}
		if !strings.Contains(line, "scanned by the new set") {
			t.Errorf("after a refused set, the served set changed: %s", line)
		}
		return true
	})

	close(release)
	select {
	case <-srv.PluginsIdle(old):
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the old set never became idle after its calls ended")
	}
	lines := s.close()
	oldDone, changed := 0, 0
	for _, line := range lines {
		if strings.Contains(line, `"id":"old-`) {
			if strings.Contains(line, `"structuredContent":{"steps":1}`) {
				oldDone++
			} else {
				t.Errorf("a call started on the old set did not end with its answer: %s", line)
			}
		}
		if strings.Contains(line, `"notifications/tools/list_changed"`) {
			changed++
		}
	}
	if oldDone != n {
		t.Errorf("%d of the %d calls on the old set finished with its answer", oldDone, n)
	}
	if changed != 1 {
		t.Errorf("the client got %d notifications/tools/list_changed, want exactly 1 (one swap; refused sets change nothing)", changed)
	}
}

// TestSetPluginsHTTP: over Streamable HTTP, a connected client (the
// official go-sdk, which keeps a GET stream for the server's messages) is
// sent notifications/tools/list_changed and then lists the new set.
func TestSetPluginsHTTP(t *testing.T) {
	srv := newPluginServer(t, false, &fakePlugins{tools: fakeTools, call: fakeCall})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan net.Addr, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStreamableHTTP(ctx, mcpserver.HTTPOptions{Listener: ln, Ready: func(a net.Addr) { ready <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Minute): // a guard against a hang
			t.Error("ServeStreamableHTTP did not return")
		}
	})
	var url string
	select {
	case a := <-ready:
		url = "http://" + a.String() + mcpserver.EndpointPath
	case err := <-done:
		t.Fatalf("ServeStreamableHTTP: %v", err)
	case <-time.After(time.Minute): // a guard against a hang
		t.Fatal("the server did not start")
	}
	changed := make(chan struct{}, 10)
	client := mcp.NewClient(&mcp.Implementation{Name: "reload-test", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	cctx, ccancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang
	defer ccancel()
	cs, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	next := &fakePlugins{tools: []plugin.Tool{{Name: "beta_scan", Plugin: "beta", PluginTool: "scan", InputSchema: json.RawMessage(`{"type":"object"}`)}}, call: fakeCall}
	// The client's GET stream may open just after Connect returns: swap
	// until a notification arrives (each swap is a real change).
	sets := []mcpserver.Plugins{next, &fakePlugins{tools: fakeTools, call: fakeCall}}
	for i := 0; ; i++ {
		if err := srv.SetPlugins(sets[i%2]); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
			if i < 180 { // a guard against a hang: three minutes
				continue
			}
			t.Fatal("no notifications/tools/list_changed over HTTP")
		}
		names := map[string]bool{}
		for tool, err := range cs.Tools(cctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			names[tool.Name] = true
		}
		if want := i%2 == 0; names["beta_scan"] != want || names["acme_review"] == want {
			t.Errorf("after swap %d the HTTP listing is %v", i, names)
		}
		return
	}
}

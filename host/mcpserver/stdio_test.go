package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/iam"
	"github.com/iammcp/iam-mcp-server/host/localiam"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

// newServer wires a server on a sandbox with injected latency.
func newServer(t *testing.T, latency time.Duration) *mcpserver.Server {
	t.Helper()
	sb, err := localiam.New(localiam.Options{Seed: "demo", Faults: localiam.Faults{Latency: latency}})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := iam.NewClients(context.Background(), iam.ClientOptions{Local: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := iam.New(clients, iam.Options{Secrets: iam.SecretFiles{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mcpserver.New(gate.New(cat, gate.Options{}), mcpserver.Options{Local: true})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

const script = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"script","version":"1"}}}
{"jsonrpc":"2.0","method":"notifications/initialized"}
{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1}}}
{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"no_such_tool"}}
{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"alice.nguyen"}}}
`

// TestServeStdioAnswersBeforeEOF: a script that writes its requests and
// closes stdin gets every answer, though the calls are still running when
// the input ends.
func TestServeStdioAnswersBeforeEOF(t *testing.T) {
	srv := newServer(t, 300*time.Millisecond)
	var out bytes.Buffer
	if err := srv.ServeStdio(context.Background(), strings.NewReader(script), &out); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var msg struct {
			ID     any             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("stdout holds something that is not JSON-RPC: %q", line)
		}
		b, _ := json.Marshal(msg.ID)
		answers[string(b)] = string(msg.Result) + string(msg.Error)
	}
	for id, want := range map[string]string{`1`: `"serverInfo"`, `2`: `"users"`, `"three"`: `unknown tool \"no_such_tool\"`, `4`: `"alice.nguyen"`} {
		got, ok := answers[id]
		if !ok {
			t.Errorf("request %s was not answered:\n%s", id, out.String())
			continue
		}
		if !strings.Contains(got, want) || strings.Contains(got, "cancel") {
			t.Errorf("request %s: %s, want %s", id, got, want)
		}
	}
}

// TestServeStdioStopsOnCancel: ending the context (a signal) stops the
// server at once, even with a call in flight.
func TestServeStdioStopsOnCancel(t *testing.T) {
	srv := newServer(t, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out lockedBuffer
		done <- srv.ServeStdio(ctx, strings.NewReader(script), &out)
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeStdio still running 10s after its context ended")
	}
}

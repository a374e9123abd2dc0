package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// logged is a notifications/message as the client reads it.
type logged struct {
	Params struct {
		Level  string         `json:"level"`
		Logger string         `json:"logger"`
		Data   map[string]any `json:"data"`
	} `json:"params"`
}

func readLogged(t testing.TB, m rpcMessage) logged {
	t.Helper()
	var l logged
	if err := json.Unmarshal([]byte(m.line), &l); err != nil {
		t.Fatalf("notifications/message: %v: %s", err, m.line)
	}
	return l
}

// startLogging is a wire whose server logs through a ClientLog onto w.log
// at level Info; logger is that logger.
func startLogging(t *testing.T) (w *wire, logger *slog.Logger) {
	t.Helper()
	var cl mcpserver.ClientLog
	lb := &syncio.Buffer{}
	logger = slog.New(cl.Handler(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo})))
	w = startWire(t, wireSetup{opts: func(o *mcpserver.Options) {
		o.Logger = logger
		o.ClientLog = &cl
	}})
	w.log = lb
	return w, logger
}

func isLog(tool string) func(rpcMessage) bool {
	return func(m rpcMessage) bool {
		return m.Method == "notifications/message" && strings.Contains(m.line, `"tool":"`+tool+`"`)
	}
}

// TestClientLogLegacy: the server declares logging; an earlier client gets
// no log notifications until it calls logging/setLevel, then the records
// at or above its level (the server's debug lines of its calls, and lines
// logged outside any call), while the server's own log keeps its level.
func TestClientLogLegacy(t *testing.T) {
	w, _ := startLogging(t)
	res := w.request("initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"wire","version":"1"}}`)
	if !strings.Contains(string(res.Result), `"logging":{}`) {
		t.Fatalf("the server does not declare logging: %s", res.line)
	}
	w.send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	w.read = ""
	w.call("", "list_users", `{"max_items":1}`, "")
	if r := w.request("logging/setLevel", `{"level":"debug"}`); r.Result == nil {
		t.Fatalf("logging/setLevel: %s", r.line)
	}
	w.call("", "get_user", `{"user_name":"alice.nguyen"}`, "")
	l := readLogged(t, w.await(isLog("get_user")))
	if l.Params.Level != "debug" || l.Params.Logger != mcpserver.Name || l.Params.Data["message"] != "tool call" {
		t.Errorf("the log notification: %+v", l.Params)
	}
	w.mu.Lock()
	for _, k := range w.kept {
		if strings.Contains(k, `"notifications/message"`) && strings.Contains(k, `"tool":"list_users"`) {
			t.Errorf("a log notification before logging/setLevel: %s", k)
		}
	}
	w.mu.Unlock()
	if strings.Contains(w.log.String(), "tool call") {
		t.Errorf("the server's log (level info) got the debug lines: %s", w.log.String())
	}
	// A warning outside any call (an over-long line refused) reaches both.
	if r := w.request("logging/setLevel", `{"level":"warning"}`); r.Result == nil {
		t.Fatal(r.line)
	}
	w.send(`{"jsonrpc":"2.0","id":"big","method":"ping","params":{"_meta":{"pad":"` + strings.Repeat("p", mcpserver.MaxMessageBytes) + `"}}}`)
	l = readLogged(t, w.await(func(m rpcMessage) bool {
		return m.Method == "notifications/message" && strings.Contains(m.line, "over the size limit")
	}))
	if l.Params.Level != "warning" {
		t.Errorf("the warning went out as %s", l.Params.Level)
	}
	for !strings.Contains(w.log.String(), "over the size limit") {
		time.Sleep(10 * time.Millisecond) // the guard is the test's own timeout
	}
	// At warning, the debug lines of calls no longer go out.
	w.call("", "list_groups", `{}`, "")
	w.send(`{"jsonrpc":"2.0","id":"big2","method":"ping","params":{"_meta":{"pad":"` + strings.Repeat("p", mcpserver.MaxMessageBytes) + `"}}}`)
	w.await(func(m rpcMessage) bool {
		return m.Method == "notifications/message" && strings.Contains(m.line, "over the size limit")
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.kept {
		if strings.Contains(k, `"tool":"list_groups"`) {
			t.Errorf("a debug line went out at level warning: %s", k)
		}
	}
}

// TestClientLogModern: a 2026-07-28 request gets the log lines of its own
// handling at the level its _meta names, and none without one.
func TestClientLogModern(t *testing.T) {
	w, _ := startLogging(t)
	withLevel := `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"debug"}`
	withoutLevel := modernMeta(`{}`)
	w.call(withoutLevel, "list_groups", `{}`, "")
	w.call(withLevel, "list_users", `{"max_items":1}`, "")
	w.await(isLog("list_users"))
	w.call(withoutLevel, "get_account_info", `{}`, "")
	w.call(withLevel, "get_user", `{"user_name":"alice.nguyen"}`, "")
	// Notifications go out in the order they were queued: had the call
	// without a level logged to the client, it would be out by now.
	w.await(isLog("get_user"))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.kept {
		if strings.Contains(k, `"notifications/message"`) && (strings.Contains(k, "list_groups") || strings.Contains(k, "get_account_info")) {
			t.Errorf("a request without a log level got a log line: %s", k)
		}
	}
}

// TestClientLogRedacts: attributes named like secrets never leave for the
// client, at any depth, and values are cut short.
func TestClientLogRedacts(t *testing.T) {
	w, logger := startLogging(t)
	w.srv.MCP().AddTool(mcp.Tool{Name: "noisy", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			logger.With("session_token", "TOKEN-FROM-WITH").WithGroup("g").InfoContext(ctx, "noisy", "tool", "noisy",
				"secret_access_key", "SECRET-1", "Password", "SECRET-2",
				slog.Group("creds", "SecretAccessKey", "SECRET-3", "private_key", "SECRET-4"),
				"big", strings.Repeat("v", 100000))
			return mcp.NewToolResultText("ok"), nil
		})
	meta := `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"info"}`
	w.call(meta, "noisy", `{}`, "")
	m := w.await(func(m rpcMessage) bool {
		return m.Method == "notifications/message" && strings.Contains(m.line, `"g.tool":"noisy"`)
	})
	if strings.Contains(m.line, "SECRET-") || strings.Contains(m.line, "TOKEN-FROM-WITH") {
		t.Errorf("a secret reached the client: %s", m.line)
	}
	if strings.Count(m.line, "[redacted]") != 5 {
		t.Errorf("want 5 redactions: %.2000s", m.line)
	}
	if len(m.line) > 8<<10 {
		t.Errorf("a log notification of %d bytes", len(m.line))
	}
	if !strings.Contains(w.log.String(), "SECRET-1") {
		t.Errorf("the server's own log lost the record") // it is the operator's to configure
	}
}

// blockingOut is a client that stops reading log notifications: writes of
// notifications/message block until released; the rest pass.
type blockingOut struct {
	w       io.Writer
	release chan struct{}
	once    sync.Once
	blocked chan struct{}
}

func (b *blockingOut) Write(p []byte) (int, error) {
	if strings.Contains(string(p), `"notifications/message"`) {
		b.once.Do(func() { close(b.blocked) })
		<-b.release
	}
	return b.w.Write(p)
}

// TestClientLogNeverBlocks: a client that does not read log notifications
// costs it log lines, never a call: the call's logging returns at once
// (the notifications beyond the session's queue are dropped), the server's
// own log keeps every line, and says how many notifications it dropped.
func TestClientLogNeverBlocks(t *testing.T) {
	var cl mcpserver.ClientLog
	stderr := &syncio.Buffer{}
	logger := slog.New(cl.Handler(slog.NewTextHandler(stderr, nil)))
	srv := newServerWith(t, mcpserver.Options{Logger: logger, ClientLog: &cl, Sandbox: true})
	const lines = 1000
	logged := make(chan struct{})
	srv.MCP().AddTool(mcp.Tool{Name: "chatty", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			for i := range lines {
				logger.InfoContext(ctx, "line", "n", i)
			}
			close(logged)
			return mcp.NewToolResultText("ok"), nil
		})
	var out syncio.Buffer
	bo := &blockingOut{w: &out, release: make(chan struct{}), blocked: make(chan struct{})}
	inR, inW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, bo) }()
	meta := `{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"info"}`
	io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"chatty","arguments":{},"_meta":`+meta+`}}`+"\n")
	select {
	case <-logged:
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the call's logging blocked on a client that does not read")
	}
	close(bo.release)
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sent := strings.Count(out.String(), `"notifications/message"`)
	if sent >= lines || sent == 0 {
		t.Errorf("%d of %d log lines went out to a client that stopped reading", sent, lines)
	}
	if n := strings.Count(stderr.String(), "msg=line"); n != lines {
		t.Errorf("the server's log kept %d of %d lines", n, lines)
	}
	if !strings.Contains(stderr.String(), "log notifications dropped") {
		t.Errorf("the drops are not reported in the server's log")
	}
}

// newServerWith is a server on the demo sandbox with the test's options.
func newServerWith(t *testing.T, opts mcpserver.Options) *mcpserver.Server {
	t.Helper()
	return buildServer(t, wireSetup{opts: func(o *mcpserver.Options) {
		o.Logger, o.ClientLog = opts.Logger, opts.ClientLog
	}}, io.Discard)
}

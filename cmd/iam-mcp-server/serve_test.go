package main

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// TestServeFilterAndClientLog: serve exposes the tools --tools and
// --exclude-tools select, runs no excluded one, and builds its logger on
// the client log: a record of the sandbox, below the --log-level that
// stderr keeps, reaches a client that asked for it.
func TestServeFilterAndClientLog(t *testing.T) {
	s := startServe(t, mcp.ProtocolVersion20251125, "--sandbox", "--sandbox-seed", "demo", "--log-level", "error",
		"--tools", "list_*,get_user", "--exclude-tools", "get_user,list_[^u]*")
	c, ctx, stderr := s.Client, s.ctx, s.stderr
	logs := make(chan string, 100)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/message" {
			b, _ := json.Marshal(n)
			select {
			case logs <- string(b):
			default:
			}
		}
	})
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	if !slices.Equal(names, []string{"list_users", "list_user_policies"}) {
		t.Errorf("tools/list: %v, want list_users and list_user_policies", names)
	}
	call := mcp.CallToolRequest{}
	call.Params.Name = "get_user"
	call.Params.Arguments = map[string]any{"user_name": "alice.nguyen"}
	if out, err := c.CallTool(ctx, call); err == nil && !out.IsError {
		t.Errorf("an excluded tool ran: %+v", out)
	}

	level := mcp.SetLevelRequest{}
	level.Params.Level = mcp.LoggingLevelDebug
	if err := c.SetLevel(ctx, level); err != nil {
		t.Fatalf("logging/setLevel: %v", err)
	}
	call.Params.Name = "list_users"
	call.Params.Arguments = nil
	if out, err := c.CallTool(ctx, call); err != nil || out.IsError {
		t.Fatalf("list_users: %v %+v", err, out)
	}
	for found := false; !found; {
		select {
		case l := <-logs:
			found = strings.Contains(l, "sandbox") && strings.Contains(l, "ListUsers")
		case <-ctx.Done():
			t.Fatalf("no sandbox log record reached the client\nstderr: %s", stderr)
		}
	}
	s.stop(t)
	if strings.Contains(stderr.String(), "ListUsers") {
		t.Errorf("a debug record reached stderr at --log-level error:\n%s", stderr)
	}
}

// serving is serve, run by run on pipes, with mcp-go's client initialized
// at the other end: the server as an MCP client sees it.
type serving struct {
	*client.Client
	ctx    context.Context // the test's calls: its deadline only guards against a hang
	init   *mcp.InitializeResult
	stderr *syncio.Buffer
	done   chan int // serve's exit status
}

// startServe runs serve with args and initializes a client of the
// protocol version over it.
func startServe(t *testing.T, protocol string, args ...string) *serving {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &serving{stderr: &syncio.Buffer{}, done: make(chan int, 1)}
	go func() {
		s.done <- run(process{}, args, inR, outW, s.stderr)
		outW.Close()
	}()
	s.Client = client.NewClient(transport.NewIO(outR, inW, nil))
	// Minutes: a guard against a hang only, never against a slow machine
	// (serve's own bound on an exit at EOF is a minute and some seconds).
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s.ctx = ctx
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = protocol
	init.Params.ClientInfo = mcp.Implementation{Name: "cmd-test", Version: "1"}
	res, err := s.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("initialize: %v\n%s", err, s.stderr)
	}
	s.init = res
	return s
}

// stop closes the client, and with it serve's input, and wants serve to
// exit 0.
func (s *serving) stop(t *testing.T) {
	t.Helper()
	s.Close()
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("serve exited %d\n%s", code, s.stderr)
		}
	case <-s.ctx.Done():
		t.Fatal("serve did not exit after its input closed")
	}
}

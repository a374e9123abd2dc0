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
)

// TestServeFilterAndClientLog: serve exposes the tools --tools and
// --exclude-tools select, runs no excluded one, and builds its logger on
// the client log: a record of the sandbox, below the --log-level that
// stderr keeps, reaches a client that asked for it.
func TestServeFilterAndClientLog(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(process{}, []string{"--local", "--local-seed", "demo", "--log-level", "error",
			"--tools", "list_*,get_user", "--exclude-tools", "get_user,list_[^u]*"}, inR, outW, stderr)
		outW.Close()
	}()
	c := client.NewClient(transport.NewIO(outR, inW, nil))
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
	// The deadline only guards against a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "cmd-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v\n%s", err, stderr)
	}
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
	c.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d\n%s", code, stderr)
		}
	case <-ctx.Done():
		t.Fatal("serve did not exit after its input closed")
	}
	if strings.Contains(stderr.String(), "ListUsers") {
		t.Errorf("a debug record reached stderr at --log-level error:\n%s", stderr)
	}
}

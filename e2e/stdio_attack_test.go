package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stdioAttackLines are lines no client should send, each of which once
// crashed the server, wedged it at the end of its input, or was read
// differently from how it was checked. Between any two of them the script
// sends a well-formed call, which must be answered: one line never stops
// the server.
var stdioAttackLines = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`, // panicked: nil map
	`{"jsonrpc":"2.0","id":2,"method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":"list_users"}`,
	`{"jsonrpc":"2.0","id":1e400,"method":"tools/list"}`,          // wedged the exit
	`{"jsonrpc":"2.0","id":4,"method":"tools/list","result":{}}`,  // wedged the exit
	`{"jsonrpc":2,"id":5,"method":"tools/list"}`,                  // wedged the exit
	`{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}`, // echoed as another number
	`{"jsonrpc":"2.0","id":null,"method":"notifications/initialized"}`,
	`[{"jsonrpc":"2.0","id":6,"method":"ping"}]`,
	`{"jsonrpc":"2.0","ID":7,"method":"tools/call","params":{"name":"delete_user","arguments":{"user_name":"alice.nguyen"}}}`,
	`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"list_users","NAME":"delete_user","arguments":{"user_name":"alice.nguyen"}}}`,
	"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"get_user\",\"arguments\":{\"user_name\":\"alice\xff\"}}}",
	strings.Repeat("[", 100000),
	``,
	" \t ",
	`{"jsonrpc":"2.0","id":10,"result":{}}`,
	`{"jsonrpc":"2.0","id":11,"error":{"code":-32601,"message":"no"}}`,
	// 5 MB of argument, over the 1 MiB message limit, the id at the end
	// as the official TypeScript SDK writes it.
	`{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"` + strings.Repeat("a", 5<<20) + `"}},"id":"huge"}`,
	`{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"` + strings.Repeat("x", 50000) + `"}}`,
}

// TestStdioAttackScript pipes a hostile script into the real binary
// (--sandbox), as `cat script | iam-mcp-server` would, closing stdin at the
// end: the server answers every well-formed request around the hostile
// lines, refuses a mutation sent before initialize (it never reaches the
// gate — the server may write without asking, so nothing else stops it),
// answers a last request that has no newline, writes nothing but JSON-RPC
// on stdout, and exits 0 at EOF.
func TestStdioAttackScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.log")
	var script bytes.Buffer
	line := func(s string) { script.WriteString(s + "\n") }
	line(`{"jsonrpc":"2.0","id":"early","method":"tools/call","params":{"name":"create_user","arguments":{"user_name":"e2e.early"}}}`)
	line(`{"jsonrpc":"2.0","id":"early-ping","method":"ping"}`)
	line(`{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"attack","version":"1"}}}`)
	line(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i, hostile := range stdioAttackLines {
		line(hostile)
		line(fmt.Sprintf(`{"jsonrpc":"2.0","id":"ok-%d","method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1}}}`, i))
	}
	line(`{"jsonrpc":"2.0","id":"check","method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"e2e.early"}}}`)
	script.WriteString(`{"jsonrpc":"2.0","id":"last","method":"ping"}`) // no newline

	// Only a guard against a hang: the server's own bound at EOF is a
	// minute and some seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, "--sandbox", "--sandbox-seed", "demo", "--secrets-dir", filepath.Join(dir, "secrets"), "--audit-log", audit,
		"--allow-write", "--confirm", "none")
	cmd.Stdin = &script
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the server did not exit at the end of its input\nstderr:\n%s", tail(stderr.String(), 4000))
	}
	if err != nil {
		t.Fatalf("the server exited with %v, want status 0\nstderr:\n%s", err, tail(stderr.String(), 4000))
	}
	if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine ") {
		t.Errorf("the server's log shows a panic:\n%s", tail(stderr.String(), 4000))
	}

	answers := map[string][]map[string]json.RawMessage{}
	for _, l := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		if len(l) > 8192 {
			t.Errorf("an answer of %d bytes: the server echoed a bad value: %.200s…", len(l), l)
		}
		var msg map[string]json.RawMessage
		if err := json.Unmarshal([]byte(l), &msg); err != nil || string(msg["jsonrpc"]) != `"2.0"` {
			t.Fatalf("stdout holds a line that is not a JSON-RPC message: %.300q", l)
		}
		var id any
		_ = json.Unmarshal(msg["id"], &id)
		key := fmt.Sprint(id)
		answers[key] = append(answers[key], msg)
	}
	one := func(id string) map[string]json.RawMessage {
		t.Helper()
		if len(answers[id]) != 1 {
			t.Fatalf("request %s: %d answers, want 1\nstdout:\n%s", id, len(answers[id]), tail(stdout.String(), 4000))
		}
		return answers[id][0]
	}
	if a := one("early"); !strings.Contains(string(a["error"]), "-32600") || !strings.Contains(string(a["error"]), "before initialize") {
		t.Errorf("create_user before initialize: %s %s, want Invalid Request", a["result"], a["error"])
	}
	for _, id := range []string{"early-ping", "init", "last"} {
		if a := one(id); a["result"] == nil {
			t.Errorf("%s: %s, want a result", id, a["error"])
		}
	}
	for i := range stdioAttackLines {
		if a := one(fmt.Sprintf("ok-%d", i)); !strings.Contains(string(a["result"]), `"users"`) {
			t.Errorf("the call after hostile line %d (%.60q): %s %s", i, stdioAttackLines[i], a["result"], a["error"])
		}
	}
	if a := one("check"); !strings.Contains(string(a["result"]), "NoSuchEntity") {
		t.Errorf("get_user e2e.early: %s %s: the user created before initialize exists", a["result"], a["error"])
	}
	if a := one("huge"); !strings.Contains(string(a["error"]), "-32600") || !strings.Contains(string(a["error"]), "1048576") {
		t.Errorf("the 5 MB message: %s, want Invalid Request naming the limit", a["error"])
	}
	for _, id := range []string{"1", "2", "3", "4", "5", "8"} {
		if a := one(id); a["error"] == nil {
			t.Errorf("hostile request %s: %s, want a JSON-RPC error", id, a["result"])
		}
	}
	for _, id := range []string{"10", "11", "7", "6"} {
		if len(answers[id]) != 0 {
			t.Errorf("id %s: %d answers, want none (a response, a misspelt id, a batch member)", id, len(answers[id]))
		}
	}
	if a := one("12"); !strings.Contains(string(a["error"]), "-32602") {
		t.Errorf("a call of an unknown tool with a long name: %s %s, want the JSON-RPC error -32602", a["result"], a["error"])
	}

	// Nothing the hostile lines named ran: the audit log records every
	// decided call, and no mutation is among them.
	log, err := os.ReadFile(audit)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(log), "\n") {
		if strings.Contains(l, "create_user") || strings.Contains(l, "delete_user") {
			t.Errorf("the audit log records a mutation: %s", l)
		}
	}
}

package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// SetStdioTimeouts shortens ServeStdio's end-of-input bounds for a test
// (the external tests reach it from this file, compiled into the same test
// binary); the returned function restores them.
func SetStdioTimeouts(drain, stop time.Duration) (restore func()) {
	oldDrain, oldStop := drainTimeout, stopTimeout
	drainTimeout, stopTimeout = drain, stop
	return func() { drainTimeout, stopTimeout = oldDrain, oldStop }
}

var (
	fuzzOnce   sync.Once
	fuzzServer *Server
	fuzzErr    error
)

// fuzzTarget is one read-only server on the demo sandbox, shared by every
// input: the fuzz body must stay cheap, and a read-only gate keeps inputs
// from changing what later inputs see.
func fuzzTarget(t testing.TB) *Server {
	fuzzOnce.Do(func() {
		sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
		if err != nil {
			fuzzErr = err
			return
		}
		clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Local: sb.Transport(), MaxAttempts: 1})
		if err != nil {
			fuzzErr = err
			return
		}
		cat, err := catalogue.New(clients, catalogue.Options{})
		if err != nil {
			fuzzErr = err
			return
		}
		fuzzServer, fuzzErr = New(gate.New(cat, gate.Options{ReadOnly: true}), Options{Local: true})
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzServer
}

const fuzzInit = `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"1"}}}` + "\n"

// FuzzStdio feeds arbitrary bytes to ServeStdio as its whole input and
// checks what must hold for any input: no panic; ServeStdio returns at EOF;
// every line out is one JSON-RPC 2.0 message; every request with a usable
// id (a string, or an integer a float64 holds) gets exactly one response
// with that id; nothing else gets a response with an id it did not send.
func FuzzStdio(f *testing.F) {
	for _, seed := range []string{
		fuzzInit + `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1}}}`,
		fuzzInit + `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}` + "\n",
		fuzzInit + `{"jsonrpc":"2.0","id":1e400,"method":"tools/list"}` + "\n",
		fuzzInit + `{"jsonrpc":"2.0","id":2,"method":"tools/list","result":{}}` + "\n",
		fuzzInit + `[{"jsonrpc":"2.0","id":3,"method":"ping"}]` + "\n",
		fuzzInit + `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_user","NAME":"x","arguments":{"user_name":"alice.nguyen"}}}` + "\n",
		fuzzInit + `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"no_such_tool"}}` + "\n\n  \n",
		`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"list_users"}}` + "\n" + fuzzInit,
		`{"jsonrpc":"2.0","id":"\u0031","method":"ping"}` + "\n" + `{"jsonrpc":"2.0","id":1,"method":"ping"}`,
		"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\",\"params\":{\"_meta\":{\"progressToken\":\"\xff\"}}}\n",
		fuzzInit + `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}}` + "\n" + `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`,
		fuzzInit + strings.Repeat("[", 5000) + "\n" + `{"jsonrpc":"2.0","id":10,"result":{}}` + "\n" + `{"jsonrpc":"2.0","id":null,"method":"ping"}`,
		fuzzInit + `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"list_users"}}` + "\n" + `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11}}` + "\n" + `{"jsonrpc":"2.0","id":"11","method":"ping"}`,
		fuzzInit + `{"jsonrpc":"2.0","id":12,"method":"tools/list","params":{"cursor":"eA=="}}` + "\n",
		fuzzInit + `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"delete_user","arguments":{"user_name":"alice.nguyen"},"requestState":"x","inputResponses":{"consent":{"action":"accept"}}}}` + "\n",
	} {
		f.Add([]byte(seed))
	}
	srv := fuzzTarget(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) > 64<<10 {
			t.Skip("inputs over 64 KiB only slow the search; the size limit has its own tests")
		}
		// Half the inputs start after the handshake, so that the search
		// reaches the tools without having to find initialize first.
		if len(input)%2 == 1 {
			input = append([]byte(fuzzInit), input...)
		}
		var out lockedOutput
		done := make(chan error, 1)
		go func() { done <- srv.ServeStdio(context.Background(), bytes.NewReader(input), &out) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("ServeStdio: %v", err)
			}
		case <-time.After(drainTimeout + stopTimeout + time.Minute):
			// Only a guard against a hang; ServeStdio's own bound is
			// DrainTimeout+StopTimeout.
			t.Fatalf("ServeStdio did not return at EOF\ninput: %q", input)
		}
		checkStdioTranscript(t, input, out.String())
	})
}

// lockedOutput is the fuzz target's stdout.
type lockedOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// checkStdioTranscript checks the output of ServeStdio for input. It reads
// the input on its own, with the rules of JSON-RPC and MCP rather than with
// the code under test: a request is a JSON object of valid UTF-8 with one
// "method" member and one "id" member that is a string or a safe integer.
func checkStdioTranscript(t testing.TB, input []byte, output string) {
	t.Helper()
	want := map[string]int{}      // lines owed exactly one response, per id
	carried := map[string]int{}   // lines carrying the id, per id
	cancelled := map[string]int{} // cancellations naming the id after a line carrying it
	for _, line := range bytes.Split(input, []byte("\n")) {
		if key := oracleCancel(line); key != "" && carried[key] > 0 {
			cancelled[key]++
		}
		key, owed := oracleLine(line)
		if key == "" {
			continue
		}
		carried[key]++
		if owed {
			want[key]++
		}
	}
	got := map[string]int{}
	for _, line := range strings.Split(output, "\n") {
		if line == "" {
			continue
		}
		var msg map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("an output line is not a JSON object: %v\n%.3000s\ninput: %.3000q", err, line, input)
		}
		if string(msg["jsonrpc"]) != `"2.0"` {
			t.Fatalf("an output line is not JSON-RPC 2.0: %s", line)
		}
		_, hasMethod := msg["method"]
		_, hasResult := msg["result"]
		_, hasError := msg["error"]
		id, hasID := msg["id"]
		switch {
		case hasMethod && !hasID && !hasResult && !hasError: // a notification
			continue
		case !hasMethod && hasID && hasResult != hasError: // a response
		default:
			t.Fatalf("an output line is neither a response nor a notification: %s", line)
		}
		if string(id) == "null" {
			continue
		}
		got[oracleResponseKey(id)]++
	}
	for key, n := range want {
		// A request the client cancelled gets no response, unless it was
		// answered before the cancellation was read.
		if got[key] != n && (got[key] > n || got[key] < n-cancelled[key]) {
			t.Fatalf("%d request(s) with id %s got %d response(s)\ninput: %.3000q\noutput:\n%.3000s", n, key, got[key], input, output)
		}
	}
	for key, n := range got {
		if n > carried[key] {
			t.Fatalf("%d response(s) with id %s, which %d line(s) of input carried\ninput: %.3000q\noutput:\n%.3000s", n, key, carried[key], input, output)
		}
	}
}

// oracleLine returns the id of a line carrying exactly one usable id at its
// top level, and whether JSON-RPC owes the line exactly one response: every
// such line does, except a well-formed response (jsonrpc "2.0", an id, one
// of result or error, nothing else), which is never answered.
func oracleLine(line []byte) (key string, owed bool) {
	line = bytes.Trim(line, " \t\r")
	if !utf8.Valid(line) || !json.Valid(line) || len(line) == 0 || line[0] != '{' {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return "", false
	}
	count := map[string]int{}
	others, jsonrpc := 0, ""
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return "", false
		}
		name, _ := tok.(string)
		switch name {
		case "id":
			key = oracleIDKey(v)
		case "jsonrpc":
			jsonrpc = string(v)
		case "result", "error":
		default:
			others++
		}
		count[name]++
	}
	if count["id"] != 1 || key == "" {
		return "", false
	}
	response := others == 0 && jsonrpc == `"2.0"` && count["jsonrpc"] == 1 && count["result"]+count["error"] == 1
	return key, !response
}

// oracleCancel returns the id a notifications/cancelled line names, or "".
func oracleCancel(line []byte) string {
	var n struct {
		Method string `json:"method"`
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		} `json:"params"`
	}
	if json.Unmarshal(line, &n) != nil || !strings.EqualFold(n.Method, "notifications/cancelled") || len(n.Params.RequestID) == 0 {
		return ""
	}
	return oracleIDKey(n.Params.RequestID)
}

// oracleIDKey: a string id by its value; an integer literal of at most
// 2^53-1 in magnitude by its value; anything else unusable ("").
func oracleIDKey(v json.RawMessage) string {
	if len(v) > 256 {
		return ""
	}
	var s string
	if v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return "string " + strconv.Quote(s)
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n > 1<<53-1 || n < -(1<<53-1) || string(v) != strconv.FormatInt(n, 10) && string(v) != "-0" {
		return ""
	}
	return fmt.Sprintf("number %d", n)
}

func oracleResponseKey(id json.RawMessage) string {
	var s string
	if id[0] == '"' && json.Unmarshal(id, &s) == nil {
		return "string " + strconv.Quote(s)
	}
	var f float64
	if json.Unmarshal(id, &f) == nil && f == float64(int64(f)) {
		return fmt.Sprintf("number %d", int64(f))
	}
	return "other " + string(id)
}

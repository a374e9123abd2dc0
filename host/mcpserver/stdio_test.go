package mcpserver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// newServer wires a server on a sandbox with injected latency.
func newServer(t *testing.T, latency time.Duration) *mcpserver.Server {
	t.Helper()
	cat := mcpserver.SandboxCatalogue(t, sandbox.Options{Seed: "demo", Faults: sandbox.Faults{Latency: latency}})
	srv, err := mcpserver.New(gate.New(cat, gate.Options{}), mcpserver.Options{Sandbox: true})
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
	for id, want := range map[string]string{`1`: `"serverInfo"`, `2`: `"users"`, `"three"`: `-32602`, `4`: `"alice.nguyen"`} {
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
	// Without the stop, the call in flight (an hour of latency) and the end
	// of input (ten minutes of drain) would hold ServeStdio far longer than
	// the guard below, which only guards against a hang.
	restore := mcpserver.SetStdioTimeouts(10*time.Minute, mcpserver.StopTimeout)
	defer restore()
	srv := newServer(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out syncio.Buffer
		done <- srv.ServeStdio(ctx, strings.NewReader(script), &out)
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeStdio after cancel: %v", err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("ServeStdio still running 3 minutes after its context ended")
	}
}

// rpcMessage is one line ServeStdio wrote, read loosely so that a test can
// say what is wrong with it.
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	line string
}

// serve runs ServeStdio over input to its end and returns what it wrote,
// each line checked to be one JSON-RPC 2.0 message.
func serve(t *testing.T, srv *mcpserver.Server, input string) []rpcMessage {
	t.Helper()
	return serveReader(t, srv, strings.NewReader(input))
}

func serveReader(t *testing.T, srv *mcpserver.Server, input io.Reader) []rpcMessage {
	t.Helper()
	var out syncio.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), input, &out) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeStdio: %v", err)
		}
	case <-time.After(3 * time.Minute):
		// Only a guard against a hang: ServeStdio's own bound at EOF is
		// DrainTimeout+StopTimeout.
		t.Fatalf("ServeStdio did not return at the end of its input; it wrote:\n%s", out.String())
	}
	var msgs []rpcMessage
	for _, line := range strings.Split(out.String(), "\n") {
		if line == "" {
			continue
		}
		m := rpcMessage{line: line}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.JSONRPC != "2.0" {
			t.Fatalf("ServeStdio wrote a line that is not a JSON-RPC 2.0 message: %q", line)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// answers returns the responses with id (as written by the client: the
// value, not the spelling, counts).
func answers(msgs []rpcMessage, id string) []rpcMessage {
	var want any
	if err := json.Unmarshal([]byte(id), &want); err != nil {
		panic(err)
	}
	var found []rpcMessage
	for _, m := range msgs {
		var got any
		if m.Method != "" || len(m.ID) == 0 || json.Unmarshal(m.ID, &got) != nil {
			continue
		}
		if got == want { // by value: -0 is 0
			found = append(found, m)
		}
	}
	return found
}

func (m rpcMessage) String() string { return m.line }

const (
	initLine  = `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}`
	readyLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	afterLine = `{"jsonrpc":"2.0","id":"after","method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1}}}`
)

// hostileLines are lines no client should send. want is the error code of
// the one response expected, with the id it must carry ("null" when the id
// cannot be known); code 0 means no JSON-RPC error: a result (a tool error
// included) with that id; an empty id means no response at all.
var hostileLines = []struct {
	name, line string
	code       int
	id         string
}{
	{"params null", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`, -32602, `1`},
	{"params absent", `{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, -32602, `1`},
	{"params a string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"list_users"}`, -32602, `1`},
	{"params an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["list_users",{}]}`, -32602, `1`},
	{"params a number", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":5}`, -32602, `1`},
	{"ping with params null", `{"jsonrpc":"2.0","id":1,"method":"ping","params":null}`, -32602, `1`},
	{"name absent", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}`, -32602, `1`},
	{"name a number", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":5}}`, -32602, `1`},
	{"name null", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":null}}`, -32602, `1`},
	{"name empty", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""}}`, -32602, `1`},
	{"name spelled Name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"list_users"}}`, -32602, `1`},
	{"name twice, case apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","NAME":"delete_user","arguments":{"user_name":"alice.nguyen"}}}`, -32602, `1`},
	{"name twice", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","name":"delete_user"}}`, -32602, `1`},
	{"arguments twice, Kelvin sign", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"list_users\",\"arguments\":{},\"ar\u212Auments\":{}}}", -32602, `1`},
	{"unknown params member", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","argumentz":{}}}`, -32602, `1`},
	{"_meta not an object", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":"x"}}`, -32602, `1`},
	{"arguments a number", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":5}}`, 0, `1`},
	{"arguments null", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":null}}`, 0, `1`},
	{"a huge number in the arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1e400}}}`, -1, `1`},
	{"deep arrays in the arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}}}`, -1, `1`},
	{"id 1e400", `{"jsonrpc":"2.0","id":1e400,"method":"tools/list"}`, -32600, `null`},
	{"id 1.0", `{"jsonrpc":"2.0","id":1.0,"method":"tools/list"}`, -32600, `null`},
	{"id 1e2", `{"jsonrpc":"2.0","id":1e2,"method":"tools/list"}`, -32600, `null`},
	{"id past 2^53", `{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/list"}`, -32600, `null`},
	{"id a big integer", `{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/list"}`, -32600, `null`},
	{"id null", `{"jsonrpc":"2.0","id":null,"method":"tools/list"}`, -32600, `null`},
	{"notification with id null", `{"jsonrpc":"2.0","id":null,"method":"notifications/initialized"}`, -32600, `null`},
	{"id true", `{"jsonrpc":"2.0","id":true,"method":"tools/list"}`, -32600, `null`},
	{"id an object", `{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}`, -32600, `null`},
	{"id too long", `{"jsonrpc":"2.0","id":"` + strings.Repeat("x", 300) + `","method":"tools/list"}`, -32600, `null`},
	{"id twice", `{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/list"}`, -32600, `null`},
	{"id spelled ID", `{"jsonrpc":"2.0","ID":1,"method":"tools/list"}`, -32600, `null`},
	{"method spelled Method", `{"jsonrpc":"2.0","id":1,"Method":"tools/list"}`, -32600, `1`},
	{"method twice", `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call"}`, -32600, `1`},
	{"method a number", `{"jsonrpc":"2.0","id":1,"method":5}`, -32600, `1`},
	{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"no/such"}`, -32601, `1`},
	{"jsonrpc 2", `{"jsonrpc":2,"id":1,"method":"tools/list"}`, -32600, `1`},
	{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, -32600, `1`},
	{"jsonrpc absent", `{"id":1,"method":"tools/list"}`, -32600, `1`},
	{"unknown member", `{"jsonrpc":"2.0","id":1,"method":"tools/list","extra":true}`, -32600, `1`},
	{"a request with a result", `{"jsonrpc":"2.0","id":1,"method":"tools/list","result":{}}`, -32600, `1`},
	{"a request with an error", `{"jsonrpc":"2.0","id":1,"method":"tools/list","error":{"code":1,"message":"x"}}`, -32600, `1`},
	{"a response with both", `{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}`, -32600, `1`},
	{"only an id", `{"jsonrpc":"2.0","id":1}`, -32600, `1`},
	{"a batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, -32600, `null`},
	{"an empty batch", `[]`, -32600, `null`},
	{"a number", `5`, -32600, `null`},
	{"a string", `"tools/list"`, -32600, `null`},
	{"null", `null`, -32600, `null`},
	{"two messages on one line", `{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"ping"}`, -32700, `null`},
	{"truncated", `{"jsonrpc":"2.0","id":1,"method":"tools/list"`, -32700, `null`},
	{"not JSON", `hello`, -32700, `null`},
	{"non-UTF-8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"get_user\",\"arguments\":{\"user_name\":\"alice\xff\"}}}", -32700, `null`},
	{"a byte-order mark", "\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", -32700, `null`},
	{"deeply nested arrays", strings.Repeat("[", 200000), -32700, `null`},
	{"deeply nested objects", strings.Repeat(`{"a":`, 100000), -32700, `null`},
	{"a NUL byte", "\x00", -32700, `null`},
	{"an empty line", ``, 0, ``},
	{"only whitespace", " \t \r", 0, ``},
	{"a response to nothing", `{"jsonrpc":"2.0","id":99,"result":{}}`, 0, ``},
	{"an error response to nothing", `{"jsonrpc":"2.0","id":99,"error":{"code":-32601,"message":"no"}}`, 0, ``},
	{"the client's error with id null", `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`, 0, ``},
	{"a response with id 1e400", `{"jsonrpc":"2.0","id":1e400,"result":{}}`, 0, ``},
	{"an unknown notification", `{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":1}}`, 0, ``},
	{"a cancellation of nothing", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}}`, 0, ``},
	{"a second initialize", initLine, -32600, `"init"`},
	{"an unknown tool with a long name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + strings.Repeat("n", 100000) + `"}}`, -32602, `1`},
	{"the old hidden tool by name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"_unknown_tool","arguments":{"tool":"` + strings.Repeat("n", 100000) + `"}}}`, -32602, `1`},
	{"an unknown tool, Unicode", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_uſers"}}`, -32602, `1`},
	{"a tool in another letter case", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"List_Users"}}`, -32602, `1`},
	{"a cursor for tools/list", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"not base64!"}}`, -32602, `1`},
	{"a base64 cursor for tools/list", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"bGlzdF91c2Vycw=="}}`, -32602, `1`},
	{"a cursor that is a number", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":5}}`, -32602, `1`},
	{"an empty cursor", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":""}}`, 0, `1`},
	{"requestState a number", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","requestState":5}}`, -32602, `1`},
	{"requestState too long", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","requestState":"` + strings.Repeat("s", 300) + `"}}`, -32602, `1`},
	{"inputResponses an array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","inputResponses":[]}}`, -32602, `1`},
	{"inputResponses with a key twice, case apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","inputResponses":{"consent":{"action":"decline"},"CONSENT":{"action":"accept"}}}}`, -32602, `1`},
	{"an answer with action twice, case apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","inputResponses":{"consent":{"action":"decline","Action":"accept"}}}}`, -32602, `1`},
	{"an answer that is a string", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","inputResponses":{"consent":"accept"}}}`, -32602, `1`},
	{"a read tool with a forged answer", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","requestState":"forged","inputResponses":{"consent":{"action":"accept"}}}}`, 0, `1`},
	{"a task-augmented call", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{},"task":{"ttl":1000}}}`, -1, `1`},
	{"tasks/result of nothing", `{"jsonrpc":"2.0","id":1,"method":"tasks/result","params":{"taskId":"nope"}}`, -1, `1`},
	{"tasks/get of nothing", `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"nope"}}`, -1, `1`},
	{"subscriptions/listen, legacy", `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{}}`, -1, `1`},
	{"server/discover, legacy", `{"jsonrpc":"2.0","id":1,"method":"server/discover"}`, -1, `1`},
	{"logging/setLevel wrong", `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":5}}`, -1, `1`},
	{"completion/complete empty", `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{}}`, -1, `1`},
	{"resources/read", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}`, -1, `1`},
	{"a stateless request with bad capabilities", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":5}}}`, -1, `1`},
	{"a stateless listen", `{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, -1, `1`},
	{"a stateless initialize", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, -1, `1`},
	{"a progress token that is an object", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","_meta":{"progressToken":{"a":[1,2]}}}}`, -1, `1`},
	{"a cancellation with a bad requestId", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":1e400}}}`, 0, ``},
	{"a notification with params null", `{"jsonrpc":"2.0","method":"notifications/cancelled","params":null}`, -32602, `null`},
	{"a number of 900,000 digits in the arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1` + strings.Repeat("0", 900000) + `}}}`, -1, `1`},
	{"a number of 900,000 digits in params", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":1` + strings.Repeat("0", 900000) + `}}`, -1, `1`},
	{"a long unknown method", `{"jsonrpc":"2.0","id":1,"method":"` + strings.Repeat("m", 900000) + `"}`, -1, `1`},
	{"resources/read of a long uri", `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + strings.Repeat("u", 900000) + `"}}`, -1, `1`},
	{"prompts/get of a long name", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"` + strings.Repeat("p", 900000) + `"}}`, -1, `1`},
	{"logging/setLevel to a long level", `{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"` + strings.Repeat("l", 900000) + `"}}`, -1, `1`},
	{"tasks/get of a long id", `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"` + strings.Repeat("t", 900000) + `"}}`, -1, `1`},
	{"completion of a long ref", `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"` + strings.Repeat("c", 900000) + `"},"argument":{"name":"a","value":"b"}}}`, -1, `1`},
	{"a long protocol version", `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"9` + strings.Repeat("9", 900000) + `","io.modelcontextprotocol/clientCapabilities":{}}}}`, -1, `1`},
	{"a long progress token", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","_meta":{"progressToken":"` + strings.Repeat("k", 900000) + `"}}}`, -1, `1`},
	{"id spelled with an escape", `{"jsonrpc":"2.0","id":"\u0031","method":"ping"}`, 0, `"1"`},
	{"the largest safe id", `{"jsonrpc":"2.0","id":9007199254740991,"method":"ping"}`, 0, `9007199254740991`},
	{"id -0", `{"jsonrpc":"2.0","id":-0,"method":"ping"}`, 0, `0`},
	{"CRLF", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r", 0, `1`},
}

// TestServeStdioHostileLines: each hostile line, after the handshake, gets
// the answer JSON-RPC prescribes (or none), ServeStdio returns at the end of
// the input, and the well-formed call after it is still answered: one line
// never stops the server.
func TestServeStdioHostileLines(t *testing.T) {
	srv := newServer(t, 0)
	for _, c := range hostileLines {
		t.Run(c.name, func(t *testing.T) {
			msgs := serve(t, srv, initLine+"\n"+readyLine+"\n"+c.line+"\n"+afterLine+"\n")
			if got := answers(msgs, `"init"`); len(got) < 1 || got[0].Result == nil {
				t.Fatalf("initialize was not answered: %v", msgs)
			}
			after := answers(msgs, `"after"`)
			if len(after) != 1 || after[0].Result == nil || !strings.Contains(string(after[0].Result), `"users"`) {
				t.Fatalf("the call after the hostile line was not answered with users: %v", msgs)
			}
			for _, m := range msgs {
				if len(m.line) > 4096 && !strings.Contains(m.line, `"users"`) {
					t.Errorf("an answer of %d bytes: the server echoed the bad value: %.300s…", len(m.line), m.line)
				}
			}
			expected := 2 // init, after
			if c.id != "" {
				expected++
				got := answers(msgs, c.id)
				if c.name == "a second initialize" {
					got = got[1:]
				}
				switch {
				case len(got) != 1:
					t.Fatalf("%d answers with id %s, want 1: %v", len(got), c.id, msgs)
				case c.code == 0 && (got[0].Error != nil || got[0].Result == nil):
					t.Errorf("want a result, got %s", got[0].line)
				case c.code == -1:
					// Either answer is fine: one must come.
				case c.code < 0 && (got[0].Error == nil || got[0].Error.Code != c.code):
					t.Errorf("want error %d, got %s", c.code, got[0].line)
				}
				if got[0].Error != nil && len(got[0].Error.Message) < 20 && c.code >= -32603 && c.code <= -32600 && got[0].Error.Code != -32601 {
					t.Errorf("the error does not say what was wrong and what to do: %s", got[0].line)
				}
			}
			// mcp-go's notification queue is process-wide: one queued in
			// an earlier session may come out in this one. Count answers.
			responses := 0
			for _, m := range msgs {
				if m.Method == "" {
					responses++
				}
			}
			if responses != expected {
				t.Errorf("%d answers out, want %d: %v", responses, expected, msgs)
			}
		})
	}
}

// TestServeStdioBeforeInitialize: before initialize, only ping (and
// requests of the stateless protocol generation, which has no initialize)
// is answered; everything else is refused with Invalid Request, so no tool
// runs — a mutation least of all. notifications/initialized does not stand
// in for initialize, nor does an initialize that failed.
func TestServeStdioBeforeInitialize(t *testing.T) {
	srv := newServer(t, 0)
	const create = `{"jsonrpc":"2.0","id":"create","method":"tools/call","params":{"name":"create_user","arguments":{"user_name":"early.bird"}}}`
	msgs := serve(t, srv, strings.Join([]string{
		`{"jsonrpc":"2.0","id":"ping","method":"ping"}`,
		create,
		`{"jsonrpc":"2.0","id":"list","method":"tools/list"}`,
		readyLine,
		`{"jsonrpc":"2.0","id":"list2","method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":"badinit","method":"initialize","params":{"protocolVersion":5}}`,
		`{"jsonrpc":"2.0","id":"list3","method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":"discover","method":"server/discover"}`,
		initLine,
		`{"jsonrpc":"2.0","id":"get","method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"early.bird"}}}`,
		`{"jsonrpc":"2.0","id":"list4","method":"tools/list"}`,
	}, "\n")+"\n")
	for _, c := range []struct {
		id   string
		want string // a result containing it, or "-32600"
	}{
		{`"ping"`, `{}`},
		{`"create"`, "-32600"},
		{`"list"`, "-32600"},
		{`"list2"`, "-32600"},
		{`"list3"`, "-32600"},
		{`"discover"`, "-32600"},
		{`"init"`, `"serverInfo"`},
		{`"get"`, `NoSuchEntity`},
		{`"list4"`, `"create_user"`},
	} {
		got := answers(msgs, c.id)
		if len(got) != 1 {
			t.Errorf("%s: %d answers, want 1: %v", c.id, len(got), msgs)
			continue
		}
		if c.want == "-32600" {
			if got[0].Error == nil || got[0].Error.Code != -32600 || !strings.Contains(got[0].Error.Message, "before initialize") {
				t.Errorf("%s before initialize: %s, want Invalid Request saying so", c.id, got[0].line)
			}
		} else if !strings.Contains(string(got[0].Result), c.want) {
			t.Errorf("%s: %s, want a result with %s", c.id, got[0].line, c.want)
		}
	}
	if got := answers(msgs, `"badinit"`); len(got) != 1 || got[0].Error == nil {
		t.Errorf("an initialize with a bad protocolVersion: %v, want an error", got)
	}
}

// TestServeStdioStateless: a request stamped with the stateless protocol
// version (2026-07-28, which has no initialize) is served without one, as
// mcp-go serves it; one stamped with a version mcp-go does not know is
// answered with its error, not run.
func TestServeStdioStateless(t *testing.T) {
	srv := newServer(t, 0)
	const meta = `"_meta":{"io.modelcontextprotocol/protocolVersion":%q,"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"modern","version":"1"}}`
	msgs := serve(t, srv, fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1},`+meta+`}}`, "2026-07-28")+"\n"+
		fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_users",`+meta+`}}`, "2999-01-01")+"\n"+
		fmt.Sprintf(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_users","_META":{},`+meta+`}}`, "2026-07-28")+"\n")
	if got := answers(msgs, `1`); len(got) != 1 || !strings.Contains(string(got[0].Result), `"users"`) {
		t.Errorf("a stateless tools/call: %v", got)
	}
	if got := answers(msgs, `2`); len(got) != 1 || got[0].Error == nil {
		t.Errorf("a tools/call of an unknown stateless version: %v, want an error", got)
	}
	// mcp-go would read _META as _meta (case-insensitively, the last one
	// winning) and see no stateless version; refused before it decides.
	if got := answers(msgs, `3`); len(got) != 1 || got[0].Error == nil || got[0].Error.Code != -32602 {
		t.Errorf("a tools/call with _meta and _META: %v, want Invalid params", got)
	}
}

// TestServeStdioLastLineWithoutNewline: a last request without a newline
// is answered, and so is one after a last line that is cut short.
func TestServeStdioLastLineWithoutNewline(t *testing.T) {
	srv := newServer(t, 0)
	msgs := serve(t, srv, initLine+"\n"+afterLine)
	if got := answers(msgs, `"after"`); len(got) != 1 || !strings.Contains(string(got[0].Result), `"users"`) {
		t.Errorf("the last request, without a newline: %v", msgs)
	}
	msgs = serve(t, srv, initLine+"\n"+`{"jsonrpc":"2.0","id":"cut","method":"tools/li`)
	if got := answers(msgs, `null`); len(got) != 1 || got[0].Error == nil || got[0].Error.Code != -32700 {
		t.Errorf("a last line cut short: %v, want a parse error", msgs)
	}
}

// bigLine streams a line of n bytes of JSON without holding it: a
// tools/call whose argument is n bytes of "a", with the id before or after
// the params (the official TypeScript SDK writes it last).
type bigLine struct {
	head, tail []byte
	n          int64
}

func newBigLine(id string, idLast bool, n int64) *bigLine {
	head := `{"jsonrpc":"2.0",`
	if !idLast {
		head += `"id":` + id + `,`
	}
	head += `"method":"tools/call","params":{"name":"get_user","arguments":{"user_name":"`
	tail := `"}}`
	if idLast {
		tail += `,"id":` + id
	}
	return &bigLine{head: []byte(head), tail: []byte(tail + "}\n"), n: n}
}

func (b *bigLine) Read(p []byte) (int, error) {
	switch {
	case len(b.head) > 0:
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	case b.n > 0:
		n := min(int64(len(p)), b.n)
		for i := range n {
			p[i] = 'a'
		}
		b.n -= n
		return int(n), nil
	case len(b.tail) > 0:
		n := copy(p, b.tail)
		b.tail = b.tail[n:]
		return n, nil
	}
	return 0, io.EOF
}

// TestServeStdioOversizeLine: a line over MaxMessageBytes is answered with
// Invalid Request carrying its id, wherever the id is in it, and saying the
// limit and what to do; it is read through without being held (the bytes
// allocated while it passes are a fraction of its size); the server goes on.
func TestServeStdioOversizeLine(t *testing.T) {
	srv := newServer(t, 0)
	for _, c := range []struct {
		name   string
		id     string
		idLast bool
		n      int64
		wantID string
	}{
		{"id first", `41`, false, 64 << 20, `41`},
		{"id last", `"forty-two"`, true, 64 << 20, `"forty-two"`},
		{"just over", `43`, false, mcpserver.MaxMessageBytes, `43`},
		{"id unusable", `1e400`, true, 4 << 20, `null`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := io.MultiReader(strings.NewReader(initLine+"\n"), newBigLine(c.id, c.idLast, c.n), strings.NewReader(afterLine+"\n"))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			msgs := serveReader(t, srv, in)
			runtime.ReadMemStats(&after)
			got := answers(msgs, c.wantID)
			if len(got) != 1 || got[0].Error == nil || got[0].Error.Code != -32600 ||
				!strings.Contains(got[0].Error.Message, fmt.Sprint(mcpserver.MaxMessageBytes)) || !strings.Contains(got[0].Error.Message, "send smaller") {
				t.Fatalf("the oversize line: %v, want Invalid Request with id %s saying the limit", msgs, c.wantID)
			}
			if a := answers(msgs, `"after"`); len(a) != 1 || !strings.Contains(string(a[0].Result), `"users"`) {
				t.Errorf("the call after the oversize line: %v", msgs)
			}
			if c.n >= 64<<20 {
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(c.n/4) {
					t.Errorf("%d bytes allocated while a line of %d went by: the line was held", alloc, c.n)
				}
			}
		})
	}
	// A line of exactly the limit is read and decided on its merits.
	line := `{"jsonrpc":"2.0","id":44,"method":"ping","params":{"_meta":{"pad":"`
	line += strings.Repeat("p", mcpserver.MaxMessageBytes-len(line)-4) + `"}}}`
	msgs := serve(t, srv, initLine+"\n"+line+"\n")
	if got := answers(msgs, `44`); len(got) != 1 || got[0].Result == nil {
		t.Errorf("a line of exactly MaxMessageBytes: %v, want a result", msgs)
	}
}

// TestServeStdioCancelledCall: a call the client cancels
// (notifications/cancelled) gets no response (MCP: "Receivers of a
// cancellation notification SHOULD NOT send a response for the cancelled
// request"), its handler's context ends, and the end of input after it
// does not wait for the call to run its course.
func TestServeStdioCancelledCall(t *testing.T) {
	restore := mcpserver.SetStdioTimeouts(10*time.Minute, 10*time.Minute)
	defer restore()
	srv := newServer(t, 0)
	started, release := make(chan struct{}), make(chan struct{})
	ended := make(chan error, 1)
	defer close(release)
	srv.MCP().AddTool(mcp.Tool{Name: "slow", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			close(started)
			select {
			case <-ctx.Done():
				ended <- ctx.Err()
				return mcp.NewToolResultText("returned after the cancellation"), nil
			case <-release:
				return mcp.NewToolResultText("ran its course"), nil
			}
		})
	inR, inW := io.Pipe()
	var out syncio.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, &out) }()
	io.WriteString(inW, initLine+"\n"+`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow"}}`+"\n")
	select {
	case <-started:
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the call did not start")
	}
	// A cancellation of the string "7" is not one of the number 7.
	io.WriteString(inW, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"7","reason":"test"}}`+"\n")
	io.WriteString(inW, `{"jsonrpc":"2.0","id":"p","method":"ping"}`+"\n")
	for !strings.Contains(out.String(), `"id":"p"`) {
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-ended:
		t.Fatal("a cancellation of the string id \"7\" cancelled the request with the number id 7")
	default:
	}
	io.WriteString(inW, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"test"}}`+"\n")
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the handler's context ended with %v", err)
		}
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the cancelled call's context did not end")
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute): // a guard, far below the drain timeout set above
		t.Fatal("ServeStdio waited for a cancelled call")
	}
	if strings.Contains(out.String(), `"id":7`) {
		t.Errorf("the cancelled call was answered:\n%s", out.String())
	}
}

// TestServeStdioCancelledBeforeStart: a cancellation that arrives while
// the call waits for a worker (mcp-go has not filed it as in flight yet)
// still cancels it: the call's context is already cancelled when its
// handler runs, and nothing answers it.
func TestServeStdioCancelledBeforeStart(t *testing.T) {
	srv := newServer(t, 0)
	release := make(chan struct{})
	var ran []string
	var mu sync.Mutex
	srv.MCP().AddTool(mcp.Tool{Name: "block", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			<-release
			return mcp.NewToolResultText("blocked"), nil
		})
	srv.MCP().AddTool(mcp.Tool{Name: "record", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			mu.Lock()
			ran = append(ran, fmt.Sprintf("ctx err %v", ctx.Err()))
			mu.Unlock()
			return mcp.NewToolResultText("recorded"), nil
		})
	// Fill every worker with a blocked call, so that the next call waits
	// in the queue while its cancellation is read.
	var in strings.Builder
	in.WriteString(initLine + "\n")
	for i := range mcpserver.WorkerPoolSize {
		fmt.Fprintf(&in, `{"jsonrpc":"2.0","id":"b%d","method":"tools/call","params":{"name":"block"}}`+"\n", i)
	}
	in.WriteString(`{"jsonrpc":"2.0","id":"queued","method":"tools/call","params":{"name":"record"}}` + "\n")
	in.WriteString(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"queued"}}` + "\n")
	in.WriteString(`{"jsonrpc":"2.0","id":"p","method":"ping"}` + "\n")
	inR, inW := io.Pipe()
	var out syncio.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, &out) }()
	io.WriteString(inW, in.String())
	for !strings.Contains(out.String(), `"id":"p"`) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ran) != 1 || ran[0] != "ctx err context canceled" {
		t.Errorf("the call cancelled while queued ran with %v", ran)
	}
	if strings.Contains(out.String(), `"id":"queued"`) {
		t.Errorf("the cancelled call was answered:\n%s", out.String())
	}
	if n := strings.Count(out.String(), `"blocked"`); n != mcpserver.WorkerPoolSize {
		t.Errorf("%d of the %d blocked calls were answered", n, mcpserver.WorkerPoolSize)
	}
}

// TestServeStdioIDsThatPrintAlike: mcp-go files requests in flight by the
// id's printed form, so the string "7" and the number 7 would share one
// slot and a cancellation of one could end the other: the second of such a
// pair, while the first is in flight, is refused.
func TestServeStdioIDsThatPrintAlike(t *testing.T) {
	srv := newServer(t, 0)
	release := make(chan struct{})
	srv.MCP().AddTool(mcp.Tool{Name: "block", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return mcp.NewToolResultText("done"), nil
		})
	inR, inW := io.Pipe()
	var out syncio.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, &out) }()
	io.WriteString(inW, initLine+"\n"+
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"block"}}`+"\n"+
		`{"jsonrpc":"2.0","id":"7","method":"ping"}`+"\n"+
		`{"jsonrpc":"2.0","id":1000000,"method":"tools/call","params":{"name":"block"}}`+"\n"+
		`{"jsonrpc":"2.0","id":"1e+06","method":"ping"}`+"\n")
	for strings.Count(out.String(), "a request in flight") < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	msgs := parseLines(t, out.String())
	for _, id := range []string{`"7"`, `"1e+06"`} {
		if got := answers(msgs, id); len(got) != 1 || got[0].Error == nil || got[0].Error.Code != -32600 {
			t.Errorf("the id %s beside a request in flight that prints alike: %v", id, got)
		}
	}
	for _, id := range []string{`7`, `1000000`} {
		if got := answers(msgs, id); len(got) != 1 || got[0].Result == nil {
			t.Errorf("the call %s: %v", id, got)
		}
	}
}

func parseLines(t *testing.T, out string) []rpcMessage {
	t.Helper()
	var msgs []rpcMessage
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		m := rpcMessage{line: line}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON-RPC: %q", line)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// failingWriter is a client that stopped reading: every write fails.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// TestServeStdioOutputGone: when the client no longer reads, the end of
// input does not wait for answers nobody will see.
func TestServeStdioOutputGone(t *testing.T) {
	restore := mcpserver.SetStdioTimeouts(10*time.Minute, 10*time.Minute)
	defer restore()
	srv := newServer(t, 0)
	hang := make(chan struct{})
	defer close(hang)
	srv.MCP().AddTool(mcp.Tool{Name: "hang", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			select { // ends when cancelled
			case <-ctx.Done():
			case <-hang:
			}
			return mcp.NewToolResultText("late"), nil
		})
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStdio(context.Background(), strings.NewReader(initLine+"\n"+
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hang"}}`+"\n"), failingWriter{})
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Minute): // a guard against a hang, far below the drain timeout set above
		t.Fatal("ServeStdio waited for answers to a client that is gone")
	}
}

// TestServeStdioHandlerNeverReturns: a call whose handler ignores its
// cancellation and never returns cannot keep ServeStdio from returning at
// the end of its input: it waits DrainTimeout for the answer, cancels, waits
// StopTimeout, and returns; the other requests are answered.
func TestServeStdioHandlerNeverReturns(t *testing.T) {
	// The ping is answered before the input ends, so that the short bounds
	// here (the stuck call is all they wait for) cannot cut it short on a
	// busy machine.
	restore := mcpserver.SetStdioTimeouts(time.Second, time.Second)
	defer restore()
	srv := newServer(t, 0)
	release := make(chan struct{})
	defer close(release)
	srv.MCP().AddTool(mcp.Tool{Name: "stuck", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			<-release // ignores ctx on purpose
			return mcp.NewToolResultText("late"), nil
		})
	inR, inW := io.Pipe()
	var out syncio.Buffer
	done := make(chan error, 1)
	go func() { done <- srv.ServeStdio(context.Background(), inR, &out) }()
	io.WriteString(inW, initLine+"\n"+
		`{"jsonrpc":"2.0","id":"stuck","method":"tools/call","params":{"name":"stuck"}}`+"\n"+
		`{"jsonrpc":"2.0","id":"ping","method":"ping"}`+"\n")
	for !strings.Contains(out.String(), `"id":"ping"`) {
		time.Sleep(10 * time.Millisecond) // the guard is the test's own timeout
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("ServeStdio did not return at the end of its input: the stuck call held it")
	}
	msgs := parseLines(t, out.String())
	if got := answers(msgs, `"ping"`); len(got) != 1 {
		t.Errorf("the ping beside the stuck call: %v", msgs)
	}
}

// TestServeStdioReadError: a failure to read the input ends ServeStdio with
// that error, after the requests already read are answered.
func TestServeStdioReadError(t *testing.T) {
	srv := newServer(t, 0)
	var out syncio.Buffer
	err := srv.ServeStdio(context.Background(), io.MultiReader(strings.NewReader(initLine+"\n"+afterLine+"\n"), iotest.ErrReader(errors.New("the pipe broke"))), &out)
	if err == nil || !strings.Contains(err.Error(), "the pipe broke") {
		t.Errorf("ServeStdio on a failing input: %v, want the read error", err)
	}
	if !strings.Contains(out.String(), `"id":"after"`) {
		t.Errorf("the request read before the failure was not answered:\n%s", out.String())
	}
}

// TestServeStdioOversizeLastLine: an over-long last line without a newline
// is answered like any other.
func TestServeStdioOversizeLastLine(t *testing.T) {
	srv := newServer(t, 0)
	line := `{"jsonrpc":"2.0","id":"big","method":"ping","params":{"_meta":{"pad":"` + strings.Repeat("p", 2<<20) + `"}}}`
	msgs := serve(t, srv, initLine+"\n"+line)
	if got := answers(msgs, `"big"`); len(got) != 1 || got[0].Error == nil || got[0].Error.Code != -32600 {
		t.Errorf("an over-long last line: %v", msgs)
	}
}

// TestServeStdioServerRequests: the client's answer to a request the
// server sent (roots/list here; elicitation works the same way) reaches
// mcp-go; an answer to no request of the server's is dropped, never
// answered.
func TestServeStdioServerRequests(t *testing.T) {
	srv := newServer(t, 0)
	srv.MCP().AddTool(mcp.Tool{Name: "ask", RawInputSchema: json.RawMessage(`{"type":"object"}`)},
		func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			roots, err := srv.MCP().RequestRoots(ctx, mcp.ListRootsRequest{})
			if err != nil {
				return nil, err
			}
			return mcp.NewToolResultText(fmt.Sprintf("%d roots", len(roots.Roots))), nil
		})
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	// The client answers the server's request while the server is still
	// inside the Write that sent it: the answer must not be taken for a
	// response to no request (it once was, and the tool waited forever).
	answered := make(chan struct{})
	out := writerFunc(func(p []byte) (int, error) {
		n, err := outW.Write(p)
		if bytes.Contains(p, []byte(`"roots/list"`)) {
			<-answered
			time.Sleep(50 * time.Millisecond) // lets the reader take the answer first
		}
		return n, err
	})
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStdio(context.Background(), inR, out)
		outW.Close()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(match string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the output ended before a line with %s", match)
				}
				if strings.Contains(l, match) {
					return l
				}
			case <-time.After(3 * time.Minute): // a guard against a hang
				t.Fatalf("no line with %s", match)
			}
		}
	}
	io.WriteString(inW, `{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"test","version":"1"}}}`+"\n")
	next(`"id":"init"`)
	io.WriteString(inW, `{"jsonrpc":"2.0","id":"ask","method":"tools/call","params":{"name":"ask"}}`+"\n")
	var req struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal([]byte(next(`"roots/list"`)), &req); err != nil {
		t.Fatal(err)
	}
	io.WriteString(inW, `{"jsonrpc":"2.0","id":"not-asked","error":{"code":-32601,"message":"no"}}`+"\n")
	io.WriteString(inW, `{"jsonrpc":"2.0","id":`+string(req.ID)+`,"result":{"roots":[{"uri":"file:///work","name":"work"}]}}`+"\n")
	close(answered)
	if l := next(`"id":"ask"`); !strings.Contains(l, "1 roots") {
		t.Errorf("the tool that asked for roots: %s", l)
	}
	inW.Close()
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range rest {
		if strings.Contains(l, "not-asked") {
			t.Errorf("an answer to a response: %s", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

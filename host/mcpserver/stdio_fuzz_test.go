package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// SetStdioTimeouts shortens ServeStdio's end-of-input bounds for a test
// (the external tests reach it from this file, compiled into the same test
// binary); the returned function restores them.
func SetStdioTimeouts(drain, stop time.Duration) (restore func()) {
	oldDrain, oldStop := drainTimeout, stopTimeout
	drainTimeout, stopTimeout = drain, stop
	return func() { drainTimeout, stopTimeout = oldDrain, oldStop }
}

// SandboxCatalogue is a catalogue on a new embedded sandbox of opts, wired
// as `iam-mcp-server --sandbox` wires it, with its secrets in a temporary
// directory: what most tests of this package serve (the external tests
// reach it from this file too).
func SandboxCatalogue(t testing.TB, opts sandbox.Options) *catalogue.Catalogue {
	t.Helper()
	sb, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	return cat
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
		clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
		if err != nil {
			fuzzErr = err
			return
		}
		cat, err := catalogue.New(clients, catalogue.Options{})
		if err != nil {
			fuzzErr = err
			return
		}
		fuzzServer, fuzzErr = New(gate.New(cat, gate.Options{ReadOnly: true}), Options{Sandbox: true})
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
		var out syncio.Buffer
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

// BenchmarkStdioLine measures what ServeStdio's own reading costs per line
// of input, before mcp-go sees it: the checks of each kind of message a
// client sends, mcp-go's work and the tool's excluded. Each line is judged
// as if it were the only one in flight.
func BenchmarkStdioLine(b *testing.B) {
	srv := fuzzTarget(b)
	var doc strings.Builder
	doc.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := range 40 {
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"Sid":"S%d","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket-%d/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, i, i, i)
	}
	doc.WriteString(`]}`)
	for _, c := range []struct{ name, line string }{
		{"call", `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"list_users","arguments":{"max_items":1},"_meta":{"progressToken":12}}}`},
		{"call-with-policy", `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"put_user_policy","arguments":{"user_name":"alice.nguyen","policy_name":"p","policy_document":` + doc.String() + `}}}`},
		{"consent-retry", `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"list_users","arguments":{},"requestState":"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq","inputResponses":{"consent":{"action":"accept","content":{}}}}}`},
		{"list", `{"jsonrpc":"2.0","id":12,"method":"tools/list","params":{}}`},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1,"total":2}}`},
		{"elicitation-answer", `{"jsonrpc":"2.0","id":3,"result":{"action":"accept","content":{"confirm":true}}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			sess := newStdioSession(srv.logger)
			sess.initialized = true
			r := &lineReader{ctx: context.Background(), srv: srv, sess: sess, out: &responseWriter{w: io.Discard, sess: sess}}
			line := []byte(c.line)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				sess.outstanding["n:3"] = string(mcp.MethodElicitationCreate)
				if r.handle(line) == nil {
					b.Fatalf("the line was refused: %s", c.line)
				}
				clear(sess.pending)
				clear(sess.inflight)
			}
		})
	}
}

// inputResponses and elicitationResult are ServeStdio's checks of a retry's
// inputResponses and of an elicitation's result, applied to bytes of their
// own (the consent tests and FuzzConsentAnswer call them): read as
// readMessage reads that member of a line, then checked.
func inputResponses(raw []byte) string {
	v, ok := readValue(raw, answersShape)
	if !ok {
		return "is not one JSON value"
	}
	return checkInputResponses(v)
}

func elicitationResult(raw []byte) string {
	v, ok := readValue(raw, messageShape.keys["result"])
	if !ok {
		return "the result is not one JSON value"
	}
	return checkElicitationResult(v)
}

// FuzzReadValue checks the one pass that reads every line (jsonScan)
// against encoding/json, which mcp-go reads the same bytes with: the same
// bytes are JSON to both; an object's members are the keys encoding/json
// decodes, in order, with their values as written; and a number is noted
// as overflowing exactly when encoding/json cannot decode the value into an
// any.
func FuzzReadValue(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2.5e3,-0,{"b":null}]}}}`,
		`{"k\u0065y":"v","\ud800":1,"\ud83d\ude00":2,"K":3}`, "{\"K\":1,\"\u212a\":2,\"\u00df\":3,\"\u1e9e\":4,\"s\":5,\"\u017f\":6}",
		`[1e400]`, `{"a":1e-400}`, `{"a":-1.7976931348623159e308}`, `123456789e300`,
		`{"a":1` + strings.Repeat("0", 308) + `}`, `{"a":1` + strings.Repeat("0", 309) + `.5}`,
		` {"a" : [ ] , "b" : { } } `, `{"a":1,}`, `[01]`, `"\x01"`, `"\u00"`, `tru`, `{"a":1}{"b":2}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000), strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // ServeStdio refuses such a line before it is scanned
		}
		v, ok := readValue(data, &shape{})
		if ok != json.Valid(data) {
			t.Fatalf("the scan says JSON %v, encoding/json %v: %q", ok, !ok, data)
		}
		if !ok {
			return
		}
		var x any
		sc := jsonScan{data: data}
		sc.value(sc.skipSpace(0), nil, nil)
		if err := json.Unmarshal(data, &x); (err != nil) != sc.overflow {
			t.Fatalf("overflow %v, but encoding/json says %v: %q", sc.overflow, err, data)
		}
		if v.value[0] != '{' {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.Token()
		i := 0
		for ; dec.More(); i++ {
			key, _ := dec.Token()
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				t.Fatal(err)
			}
			if i >= len(v.sub) || v.sub[i].key != key || !bytes.Equal(v.sub[i].value, raw) {
				t.Fatalf("member %d of %q is not %q: %s", i, data, key, raw)
			}
		}
		if i != len(v.sub) {
			t.Fatalf("%d members read of %q, which has %d", len(v.sub), data, i)
		}
		// foldDuplicate compares few keys with strings.EqualFold and many
		// by foldKey: the two must agree.
		for _, a := range v.sub {
			for _, b := range v.sub {
				if strings.EqualFold(a.key, b.key) != (foldKey(a.key) == foldKey(b.key)) {
					t.Fatalf("EqualFold and foldKey disagree on %q and %q", a.key, b.key)
				}
			}
		}
	})
}

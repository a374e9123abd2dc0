package mcpserver

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// FuzzHTTPMessage posts a body with X-MCP-* headers to the MCP endpoint of
// a read-only server on the sandbox, through the whole handler: the
// headers' narrowing, the body's cap and strict checks, then mcp-go.
// Whatever arrives, the server answers without panicking, with a status
// the transport defines, and a refusal of its own repeats at most a short
// prefix of what it refuses; a tool call outside the headers' tool set
// never reaches a tool.
func FuzzHTTPMessage(f *testing.F) {
	for _, seed := range []struct{ body, readOnly, toolsets, tools string }{
		{`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}`, "", "", ""},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, "true", "users", "get_role"},
		{`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_roles","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`, "0", "users", ""},
		{`[{"jsonrpc":"2.0","id":3,"method":"ping"}]`, "", "", ""},
		{`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_user","NAME":"x"}}`, "yes", "", ""},
		{`{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"eA=="}}`, "", "all", "list_*"},
		{`{"jsonrpc":"2.0","id":6,"result":{"action":"accept","Action":"decline"}}`, "", "", ""},
		{`{"jsonrpc":"2.0","method":"notifications/initialized","params":{"n":1e400}}`, "", ",", ""},
		{``, "", "", "[!x]"},
	} {
		f.Add([]byte(seed.body), seed.readOnly, seed.toolsets, seed.tools)
	}
	g := gate.New(SandboxCatalogue(f, sandbox.Options{Seed: "demo"}), gate.Options{ReadOnly: true, ExpectAccount: sandbox.AccountID})
	srv, err := New(g, Options{Sandbox: true})
	if err != nil {
		f.Fatal(err)
	}
	h, err := srv.newHTTPHandler(HTTPOptions{}, &fakeAddr{"127.0.0.1:8080"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, readOnly, toolsets, tools string) {
		r := httptest.NewRequest("POST", "http://127.0.0.1:8080"+EndpointPath, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		r.Header.Set("MCP-Protocol-Version", "2026-07-28")
		for k, v := range map[string]string{HeaderReadOnly: readOnly, HeaderToolsets: toolsets, HeaderTools: tools} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200, 202, 400, 404, 405, 406, 413, 415:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
		out := w.Body.String()
		if w.Code >= 400 && len(out) > 4096 {
			t.Fatalf("a refusal of %d bytes: %.200s", len(out), out)
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("an answer that is not JSON: %.200s", out)
		}
		// A call the headers leave out never runs: no structured result.
		if m, bad := readMessage(body); bad == nil && m != nil && m.method == "tools/call" && w.Code == 200 {
			name, _ := jsonString(m.params.get("name"))
			narrowings, err := srv.headerNarrowings(r.Header)
			if err == nil {
				acc, _ := srv.newAccess(nil, narrowings)
				if ok, _ := acc.allows(name); !ok && strings.Contains(out, `"structuredContent"`) {
					t.Fatalf("the tool %q ran outside the headers' set: %.300s", name, out)
				}
			}
		}
	})
}

type fakeAddr struct{ s string }

func (a *fakeAddr) Network() string { return "tcp" }
func (a *fakeAddr) String() string  { return a.s }

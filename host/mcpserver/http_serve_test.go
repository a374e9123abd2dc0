package mcpserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/host/httpauth/authtest"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// The tokens of the test's token file, one per subject.
var httpTokens = map[string]string{
	"alice": "alice-token-0123456789abcdefghijklmnopqrstuvwxyz",
	"bob":   "bob-token-0123456789abcdefghijklmnopqrstuvwxyz012",
	"carol": "carol-token-0123456789abcdefghijklmnopqrstuvwxyz",
}

func tokenFile(t *testing.T) *httpauth.TokenFile {
	t.Helper()
	var b strings.Builder
	for subject, token := range httpTokens {
		fmt.Fprintf(&b, "%s %s\n", subject, token)
	}
	tf, err := httpauth.ParseTokenFile([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

type httpSetup struct {
	readOnly bool
	confirm  gate.Confirm
	toolsets string
	rules    string // a rules file's YAML
	noAuth   bool
	auth     httpauth.Authenticator // instead of the token file
	latency  time.Duration
	shutdown time.Duration
	plugins  mcpserver.Plugins
	logLevel slog.Level // with a ClientLog when set
}

// httpServer is the server wired as `iam-mcp-server serve --http` wires
// it (the real gate on the embedded sandbox over the real AWS SDK), served
// on a loopback port.
type httpServer struct {
	t      *testing.T
	url    string // the MCP endpoint
	base   string
	audit  *syncio.Buffer
	stop   context.CancelFunc
	done   chan error
	client *http.Client
}

func startHTTP(t *testing.T, s httpSetup) *httpServer {
	t.Helper()
	runner := mcpserver.SandboxCatalogue(t, sandbox.Options{Seed: "demo", Faults: sandbox.Faults{Latency: s.latency}})
	audit := &syncio.Buffer{}
	g := gate.New(runner, gate.Options{ReadOnly: s.readOnly, Confirm: s.confirm, Audit: audit, ExpectAccount: sandbox.AccountID})
	ops, err := mcpserver.ResolveToolsets(s.toolsets)
	if err != nil {
		t.Fatal(err)
	}
	sopts := mcpserver.Options{Tools: ops, Sandbox: true, Version: "test", Plugins: s.plugins}
	if s.logLevel != 0 {
		sopts.ClientLog = &mcpserver.ClientLog{}
		sopts.Logger = slog.New(sopts.ClientLog.Handler(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: s.logLevel})))
	}
	srv, err := mcpserver.New(g, sopts)
	if err != nil {
		t.Fatal(err)
	}
	opts := mcpserver.HTTPOptions{ShutdownTimeout: s.shutdown}
	switch {
	case s.auth != nil:
		opts.Auth = s.auth
	case !s.noAuth:
		opts.Auth = tokenFile(t)
	}
	if s.rules != "" {
		if opts.Rules, err = httpauth.ParseRules([]byte(s.rules)); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = ln
	ready := make(chan net.Addr, 1)
	opts.Ready = func(a net.Addr) { ready <- a }
	ctx, cancel := context.WithCancel(context.Background())
	h := &httpServer{t: t, audit: audit, stop: cancel, done: make(chan error, 1), client: &http.Client{}}
	go func() { h.done <- srv.ServeStreamableHTTP(ctx, opts) }()
	select {
	case a := <-ready:
		h.base = "http://" + a.String()
		h.url = h.base + mcpserver.EndpointPath
	case err := <-h.done:
		t.Fatalf("ServeStreamableHTTP: %v", err)
	case <-time.After(time.Minute): // a guard against a hang
		t.Fatal("the server did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("ServeStreamableHTTP: %v", err)
			}
		case <-time.After(3 * time.Minute): // a guard against a hang
			t.Errorf("ServeStreamableHTTP did not return after its context ended")
		}
	})
	return h
}

// headerTransport adds headers to every request of a client.
type headerTransport struct{ h http.Header }

func (ht headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range ht.h {
		r.Header[k] = v
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a go-sdk client session as subject ("" for none) at
// protocol version, with extra headers.
func (h *httpServer) connect(subject, version string, headers map[string]string, copts *mcp.ClientOptions) *mcp.ClientSession {
	h.t.Helper()
	hdr := http.Header{}
	if subject != "" {
		hdr.Set("Authorization", "Bearer "+httpTokens[subject])
	}
	for k, v := range headers {
		hdr.Set(k, v)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "http-test", Version: "1"}, copts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against a hang
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: h.url, HTTPClient: &http.Client{Transport: headerTransport{hdr}}, MaxRetries: -1},
		&mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		h.t.Fatalf("connect as %q (%s): %v", subject, version, err)
	}
	h.t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *mcp.ClientSession) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against a hang
	defer cancel()
	names := map[string]bool{}
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names[tool.Name] = true
	}
	return names
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args any) (*mcp.CallToolResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard against a hang
	defer cancel()
	return cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// raw sends one request with net/http and returns its answer.
type rawAnswer struct {
	status int
	header http.Header
	body   string
}

func (h *httpServer) raw(method, path, subject string, headers map[string]string, body string) rawAnswer {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, text/event-stream")
	if subject != "" {
		req.Header.Set("Authorization", "Bearer "+httpTokens[subject])
	}
	for k, v := range headers {
		if v == "" {
			continue
		}
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawAnswer{resp.StatusCode, resp.Header, string(b)}
}

// initLegacy opens a session of protocol 2025-11-25 as subject and
// returns its id.
func (h *httpServer) initLegacy(subject string, headers map[string]string) string {
	h.t.Helper()
	a := h.raw("POST", mcpserver.EndpointPath, subject, headers,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	sid := a.header.Get("Mcp-Session-Id")
	if a.status != 200 || sid == "" {
		h.t.Fatalf("initialize as %s: %d %s", subject, a.status, a.body)
	}
	hd := sessionHeaders(sid, headers)
	if a := h.raw("POST", mcpserver.EndpointPath, subject, hd, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); a.status != 202 {
		h.t.Fatalf("initialized: %d %s", a.status, a.body)
	}
	return sid
}

func sessionHeaders(sid string, extra map[string]string) map[string]string {
	hd := map[string]string{"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
	for k, v := range extra {
		hd[k] = v
	}
	return hd
}

func TestHTTPAuthentication(t *testing.T) {
	h := startHTTP(t, httpSetup{})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	for _, c := range []struct {
		name string
		auth string
	}{{"no token", ""}, {"wrong token", "Bearer " + strings.Repeat("x", 48)}, {"another scheme", "Basic YWxpY2U6cHc="}} {
		a := h.raw("POST", mcpserver.EndpointPath, "", map[string]string{"Authorization": c.auth}, init)
		want := http.StatusUnauthorized
		if c.name == "another scheme" && a.status == http.StatusBadRequest {
			want = a.status // RFC 6750's invalid_request
		}
		if a.status != want || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d, WWW-Authenticate %q: %s", c.name, a.status, a.header.Get("WWW-Authenticate"), a.body)
		}
		if strings.Contains(a.body, strings.Repeat("x", 48)) {
			t.Errorf("%s: the refusal repeats the token: %s", c.name, a.body)
		}
	}
	// The right token, with both generations of the protocol.
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		cs := h.connect("alice", version, nil, nil)
		if names := toolNames(t, cs); !names["list_users"] {
			t.Errorf("%s: tools listed: %v", version, names)
		}
		r, err := call(t, cs, "list_users", map[string]any{})
		if err != nil || r.IsError {
			t.Fatalf("%s: list_users: %v %v", version, err, r)
		}
	}
	if !strings.Contains(h.audit.String(), `"subject":"alice"`) {
		t.Errorf("no audit line names the subject:\n%s", h.audit.String())
	}
}

func TestHTTPHostAndOrigin(t *testing.T) {
	h := startHTTP(t, httpSetup{noAuth: true})
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	host := strings.TrimPrefix(h.base, "http://")
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"rebound host", map[string]string{"Host": "evil.example.com", "Origin": "http://evil.example.com"}, 403},
		{"rebound host with the port", map[string]string{"Host": "evil.example.com:" + strings.Split(host, ":")[1]}, 403},
		{"foreign origin", map[string]string{"Origin": "https://evil.example.com"}, 403},
		{"localhost with its origin", map[string]string{"Host": "localhost:" + strings.Split(host, ":")[1], "Origin": "http://localhost:" + strings.Split(host, ":")[1]}, 200},
		{"no origin", nil, 200},
	} {
		a := h.raw("POST", mcpserver.EndpointPath, "", c.headers, init)
		if a.status != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, a.status, c.want, a.body)
		}
		if a.status == 403 && len(a.body) > 400 {
			t.Errorf("%s: a long refusal: %s", c.name, a.body)
		}
	}
	// /healthz is behind the Host check too (no rebinding of anything).
	if a := h.raw("GET", mcpserver.HealthPath, "", map[string]string{"Host": "evil.example.com"}, ""); a.status != 403 {
		t.Errorf("healthz with a rebound host: %d", a.status)
	}
}

func TestHTTPRefusedAtStart(t *testing.T) {
	runner := mcpserver.SandboxCatalogue(t, sandbox.Options{})
	g := gate.New(runner, gate.Options{ReadOnly: true})
	srv, err := mcpserver.New(g, mcpserver.Options{Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against a hang
	defer cancel()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	rules := func(yaml string) *httpauth.Rules {
		r, err := httpauth.ParseRules([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct {
		name string
		opts mcpserver.HTTPOptions
		want string
	}{
		{"network without auth", mcpserver.HTTPOptions{Addr: "0.0.0.0:0"}, "needs authentication"},
		{"a name without auth", mcpserver.HTTPOptions{Addr: "example.com:8080"}, "needs authentication"},
		{"cert without key", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", TLSCert: junk}, "both a certificate and its key"},
		{"key without cert", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", TLSKey: junk}, "both a certificate and its key"},
		{"unloadable cert", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", TLSCert: junk, TLSKey: junk}, "cannot load the TLS certificate"},
		{"unknown toolset in the rules", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", Auth: tokenFile(t), Rules: rules("rules:\n  - subject: alice\n    toolsets: [userz]\n")}, "unknown toolset"},
		{"tool pattern matching nothing", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", Auth: tokenFile(t), Rules: rules("rules:\n  - subject: alice\n    tools: [\"nothing_*\"]\n")}, "matches no tool"},
		{"account not reached", mcpserver.HTTPOptions{Addr: "127.0.0.1:0", Auth: tokenFile(t), Rules: rules("rules:\n  - subject: alice\n    accounts: [\"999999999999\"]\n")}, "not one this server acts in"},
	} {
		err := srv.ServeStreamableHTTP(ctx, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if _, err := srv.HTTPHandler(c.opts); err == nil && !strings.Contains(c.name, "cert") && !strings.Contains(c.name, "key") {
			t.Errorf("%s: HTTPHandler accepted it", c.name)
		}
		if strings.HasPrefix(c.name, "unknown toolset") && err != nil && !strings.Contains(err.Error(), "alice") {
			t.Errorf("%s: the error does not name the rule: %v", c.name, err)
		}
	}
}

func TestHTTPNarrowing(t *testing.T) {
	h := startHTTP(t, httpSetup{toolsets: "all", confirm: gate.ConfirmNone, rules: `
rules:
  - subject: bob
    read_only: true
  - subject: carol
    toolsets: [users]
`})
	// Headers narrow: alice asks for two tools only.
	alice := h.connect("alice", "2025-11-25", map[string]string{mcpserver.HeaderTools: "list_users,get_user"}, nil)
	if names := toolNames(t, alice); len(names) != 2 || !names["list_users"] || !names["get_user"] {
		t.Errorf("alice with X-MCP-Tools lists %v", names)
	}
	// Headers never widen: carol's rule keeps users; her header asks for all.
	carol := h.connect("carol", "2026-07-28", map[string]string{mcpserver.HeaderToolsets: "all"}, nil)
	names := toolNames(t, carol)
	if names["list_roles"] || !names["list_users"] {
		t.Errorf("carol (rule: users; header: all) lists %v", names)
	}
	// A call outside the set is refused with who narrowed it.
	_, err := call(t, carol, "list_roles", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "operator's rules") && !strings.Contains(err.Error(), "carol") {
		t.Errorf("carol calling list_roles: %v", err)
	}
	_, err = call(t, alice, "list_roles", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), mcpserver.HeaderTools) {
		t.Errorf("alice calling list_roles outside her header: %v", err)
	}
	// Both refusals are in the audit log, each for its subject.
	refusedFor := map[string]bool{}
	for _, line := range strings.Split(h.audit.String(), "\n") {
		if strings.Contains(line, `"operation":"list_roles"`) && strings.Contains(line, `"outcome":"refused"`) && strings.Contains(line, `"code":"NotGranted"`) {
			for _, who := range []string{"alice", "carol"} {
				refusedFor[who] = refusedFor[who] || strings.Contains(line, `"subject":"`+who+`"`)
			}
		}
	}
	if !refusedFor["alice"] || !refusedFor["carol"] {
		t.Errorf("the narrowing's refusals are not audited for their subjects (%v):\n%s", refusedFor, h.audit.String())
	}

	// Read-only from the rules (bob) and from a header (alice's second
	// client), while a writable alice runs at the same time.
	bob := h.connect("bob", "2026-07-28", nil, nil)
	aliceRO := h.connect("alice", "2026-07-28", map[string]string{mcpserver.HeaderReadOnly: "true"}, nil)
	aliceRW := h.connect("alice", "2025-11-25", nil, nil)
	var wg sync.WaitGroup
	results := make([]string, 3)
	errs := make([]bool, 3)
	for i, cs := range []*mcp.ClientSession{bob, aliceRO, aliceRW} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := call(t, cs, "create_user", map[string]any{"user_name": fmt.Sprintf("http-user-%d", i)})
			if err != nil {
				results[i] = err.Error()
				return
			}
			results[i], errs[i] = resultText(r), r.IsError
		}()
	}
	wg.Wait()
	if !errs[0] || !strings.Contains(results[0], "ReadOnly") || !strings.Contains(results[0], "bob") {
		t.Errorf("bob (read-only by rule) create_user: %s", results[0])
	}
	if !errs[1] || !strings.Contains(results[1], "ReadOnly") || !strings.Contains(results[1], mcpserver.HeaderReadOnly) {
		t.Errorf("alice with X-MCP-Readonly create_user: %s", results[1])
	}
	if errs[2] {
		t.Errorf("alice without narrowing create_user: %s", results[2])
	}
	audit := h.audit.String()
	for _, want := range []string{`"subject":"bob"`, `"auth":"token"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s:\n%s", want, audit)
		}
	}
	for _, line := range strings.Split(audit, "\n") {
		if strings.Contains(line, "http-user-2") && !strings.Contains(line, `"subject":"alice"`) {
			t.Errorf("alice's create is audited for someone else: %s", line)
		}
		if strings.Contains(line, "http-user-0") && !strings.Contains(line, `"subject":"bob"`) {
			t.Errorf("bob's create is audited for someone else: %s", line)
		}
	}

	// Accounts: the sandbox's own by id is fine; another is a 400.
	acct := h.connect("alice", "2026-07-28", map[string]string{mcpserver.HeaderAccounts: sandbox.AccountID}, nil)
	if r, err := call(t, acct, "list_users", map[string]any{}); err != nil || r.IsError {
		t.Errorf("alice narrowed to her account: %v %v", err, r)
	}
	// Bad header values.
	for _, hd := range []map[string]string{
		{mcpserver.HeaderReadOnly: "yes"},
		{mcpserver.HeaderToolsets: "userz"},
		{mcpserver.HeaderTools: ","},
		{mcpserver.HeaderAccounts: "999999999999"},
	} {
		a := h.raw("POST", mcpserver.EndpointPath, "alice", hd, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
		if a.status != 400 || len(a.body) > 1000 {
			t.Errorf("header %v: %d %s", hd, a.status, a.body)
		}
	}
}

func TestHTTPSessionBinding(t *testing.T) {
	h := startHTTP(t, httpSetup{})
	sid := h.initLegacy("alice", nil)
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	if a := h.raw("POST", mcpserver.EndpointPath, "alice", sessionHeaders(sid, nil), list); a.status != 200 || !strings.Contains(a.body, "list_users") {
		t.Fatalf("alice in her session: %d %s", a.status, a.body)
	}
	unknown := h.raw("POST", mcpserver.EndpointPath, "bob", sessionHeaders(strings.Repeat("0", 32), nil), list)
	foreign := h.raw("POST", mcpserver.EndpointPath, "bob", sessionHeaders(sid, nil), list)
	if foreign.status != 404 || foreign.status != unknown.status || foreign.body != unknown.body {
		t.Errorf("bob with alice's session: %d %q; with an unknown one: %d %q", foreign.status, foreign.body, unknown.status, unknown.body)
	}
	for _, method := range []string{"GET", "DELETE"} {
		if a := h.raw(method, mcpserver.EndpointPath, "bob", sessionHeaders(sid, nil), ""); a.status != 404 {
			t.Errorf("bob %s alice's session: %d %s", method, a.status, a.body)
		}
	}
	// Her session survived bob's DELETE; her own ends it.
	if a := h.raw("POST", mcpserver.EndpointPath, "alice", sessionHeaders(sid, nil), list); a.status != 200 {
		t.Fatalf("alice after bob's DELETE: %d %s", a.status, a.body)
	}
	if a := h.raw("DELETE", mcpserver.EndpointPath, "alice", sessionHeaders(sid, nil), ""); a.status != 200 {
		t.Errorf("alice DELETE: %d %s", a.status, a.body)
	}
	if a := h.raw("POST", mcpserver.EndpointPath, "alice", sessionHeaders(sid, nil), list); a.status != 404 {
		t.Errorf("alice after DELETE: %d %s", a.status, a.body)
	}
	// A session keeps the narrowing it was opened with: a later request's
	// headers narrow further, never widen.
	narrow := h.initLegacy("alice", map[string]string{mcpserver.HeaderTools: "list_users,get_user"})
	a := h.raw("POST", mcpserver.EndpointPath, "alice", sessionHeaders(narrow, map[string]string{mcpserver.HeaderTools: "list_roles,list_users"}), list)
	if !strings.Contains(a.body, `"list_users"`) || strings.Contains(a.body, `"list_roles"`) || strings.Contains(a.body, `"get_user"`) {
		t.Errorf("a narrowed session, narrowed again: %s", a.body)
	}
}

func TestHTTPMessages(t *testing.T) {
	h := startHTTP(t, httpSetup{})
	sid := h.initLegacy("alice", nil)
	hd := sessionHeaders(sid, nil)
	for _, c := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"batch", `[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, 400, "batches are not supported"},
		{"not JSON", `{"jsonrpc":`, 400, "Parse error"},
		{"member case", `{"jsonrpc":"2.0","ID":1,"method":"ping"}`, 400, "unknown member"},
		{"duplicate param keys", `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_users","Name":"delete_user"}}`, 200, "more than once"},
		{"cursor", `{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":"abc"}}`, 200, "hands out no cursors"},
		{"unknown tool", `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"delete_role","arguments":{}}}`, 200, "--toolsets"},
		{"unknown method echo", `{"jsonrpc":"2.0","id":6,"method":"` + strings.Repeat("m", 100000) + `"}`, 200, "-32601"},
	} {
		a := h.raw("POST", mcpserver.EndpointPath, "alice", hd, c.body)
		if a.status != c.status || !strings.Contains(a.body, c.want) {
			t.Errorf("%s: %d %s", c.name, a.status, shortBody(a.body))
		}
		if len(a.body) > 4096 {
			t.Errorf("%s: an answer of %d bytes echoes the request", c.name, len(a.body))
		}
	}
	big := `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_users","arguments":{"x":"` + strings.Repeat("a", mcpserver.MaxMessageBytes) + `"}}}`
	if a := h.raw("POST", mcpserver.EndpointPath, "alice", hd, big); a.status != http.StatusRequestEntityTooLarge || !strings.Contains(a.body, "limit") {
		t.Errorf("oversize: %d %s", a.status, shortBody(a.body))
	}
}

func shortBody(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestHTTPHealthAndMetadata(t *testing.T) {
	is := authtest.NewIssuer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against a hang
	defer cancel()
	v, err := httpauth.NewJWTVerifier(ctx, httpauth.OAuthOptions{Issuer: is.URL(), Audience: []string{"https://iam.example.com"},
		JWKSURL: is.JWKSURL(), ResourceURL: "https://iam.example.com", MetadataURL: "https://iam.example.com" + mcpserver.MetadataPath})
	if err != nil {
		t.Fatal(err)
	}
	h := startHTTP(t, httpSetup{auth: v})
	if a := h.raw("GET", mcpserver.HealthPath, "", nil, ""); a.status != 200 || strings.TrimSpace(a.body) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", a.status, a.body)
	}
	for _, p := range []string{mcpserver.MetadataPath, mcpserver.MetadataPath + mcpserver.EndpointPath} {
		a := h.raw("GET", p, "", nil, "")
		var md httpauth.ResourceMetadata
		if a.status != 200 || json.Unmarshal([]byte(a.body), &md) != nil || md.Resource != "https://iam.example.com" || len(md.AuthorizationServers) != 1 {
			t.Errorf("%s: %d %s", p, a.status, a.body)
		}
	}
	a := h.raw("POST", mcpserver.EndpointPath, "", nil, `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "resource_metadata") {
		t.Errorf("no token with OAuth: %d %q", a.status, a.header.Get("WWW-Authenticate"))
	}
	// A JWT of the issuer for this audience is a principal.
	jwt := is.Sign(map[string]any{"sub": "dana", "aud": "https://iam.example.com", "iss": is.URL(), "exp": time.Now().Add(time.Hour).Unix()})
	a = h.raw("POST", mcpserver.EndpointPath, "", map[string]string{"Authorization": "Bearer " + jwt, "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "list_users"},
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_users","arguments":{},"_meta":`+modernMeta(noElicitCaps)+`}}`)
	if a.status != 200 || !strings.Contains(h.audit.String(), `"subject":"dana"`) {
		t.Errorf("a call with a JWT: %d %s\naudit: %s", a.status, shortBody(a.body), h.audit.String())
	}
}

func TestHTTPShutdown(t *testing.T) {
	h := startHTTP(t, httpSetup{latency: 8 * time.Second, shutdown: 2 * time.Minute})
	cs := h.connect("alice", "2026-07-28", nil, nil)
	result := make(chan error, 1)
	go func() {
		r, err := call(t, cs, "list_users", map[string]any{})
		if err == nil && r.IsError {
			err = fmt.Errorf("%s", resultText(r))
		}
		result <- err
	}()
	deadline := time.Now().Add(time.Minute) // a guard against a hang
	for mcpserver.HTTPInFlight() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.stop()
	for {
		a := h.raw("GET", mcpserver.HealthPath, "", nil, "")
		if a.status == 503 && strings.Contains(a.body, "stopping") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz never turned 503: %d %s", a.status, a.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if a := h.raw("POST", mcpserver.EndpointPath, "alice", nil, `{"jsonrpc":"2.0","id":1,"method":"ping"}`); a.status != 503 {
		t.Errorf("a new request during shutdown: %d %s", a.status, a.body)
	}
	if err := <-result; err != nil {
		t.Errorf("the call in flight: %v", err)
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("ServeStreamableHTTP: %v", err)
		}
		h.done <- nil // for the cleanup
	case <-time.After(2 * time.Minute): // a guard against a hang
		t.Fatal("ServeStreamableHTTP did not return")
	}
}

// asker answers every consent question with its answer.
type asker struct {
	mu     sync.Mutex
	answer string
	asked  int
}

func (a *asker) handler(_ context.Context, _ *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked++
	return &mcp.ElicitResult{Action: a.answer}, nil
}

func TestHTTPConsent(t *testing.T) {
	h := startHTTP(t, httpSetup{confirm: gate.ConfirmWrites, toolsets: "all"})
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		for _, answer := range []string{"accept", "decline"} {
			p := &asker{answer: answer}
			cs := h.connect("alice", version, nil, &mcp.ClientOptions{ElicitationHandler: p.handler})
			user := "consent-" + answer + "-" + strings.ReplaceAll(version, "-", "")
			r, err := call(t, cs, "create_user", map[string]any{"user_name": user})
			if err != nil {
				t.Fatalf("%s %s: %v", version, answer, err)
			}
			if p.asked != 1 {
				t.Errorf("%s %s: asked %d times", version, answer, p.asked)
			}
			if got := !r.IsError; got != (answer == "accept") {
				t.Errorf("%s %s: %s", version, answer, resultText(r))
			}
			if answer == "decline" && !strings.Contains(resultText(r), "Declined") {
				t.Errorf("%s decline: %s", version, resultText(r))
			}
		}
	}

	// A question asked for alice cannot be answered by bob with her
	// requestState, nor is it used up by his try.
	modern := func(subject, params string) rawAnswer {
		return h.raw("POST", mcpserver.EndpointPath, subject, map[string]string{"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "create_user"},
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":`+params+`}`)
	}
	args := `"name":"create_user","arguments":{"user_name":"replayed"},"_meta":` + modernMeta(elicitCaps)
	first := modern("alice", "{"+args+"}")
	var res struct {
		Result struct {
			RequestState string `json:"requestState"`
		} `json:"result"`
	}
	if json.Unmarshal([]byte(first.body), &res) != nil || res.Result.RequestState == "" {
		t.Fatalf("alice's call asks no question: %d %s", first.status, first.body)
	}
	retry := `{` + args + `,"requestState":"` + res.Result.RequestState + `","inputResponses":{"consent":{"action":"accept"}}}`
	byBob := modern("bob", retry)
	if !strings.Contains(byBob.body, "requestState") || strings.Contains(byBob.body, `"isError":false`) {
		t.Errorf("bob replaying alice's answer is not asked again: %s", byBob.body)
	}
	if strings.Contains(h.audit.String(), `"replayed"`) && strings.Contains(h.audit.String(), `"subject":"bob"`) && strings.Contains(byBob.body, "UserName") {
		t.Errorf("bob's replay created the user: %s", byBob.body)
	}
	byAlice := modern("alice", retry)
	if !strings.Contains(byAlice.body, `"replayed"`) || strings.Contains(byAlice.body, `"isError":true`) {
		t.Errorf("alice's own answer after bob's replay: %s", byAlice.body)
	}
}

// Progress notifications of a plugin tool and the server's log records
// reach an HTTP client on the call's own response stream (SSE).
func TestHTTPProgressAndLog(t *testing.T) {
	h := startHTTP(t, httpSetup{plugins: &fakePlugins{tools: fakeTools, call: fakeCall}, logLevel: slog.LevelDebug})
	const steps = 20
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		var mu sync.Mutex
		var got []float64
		var logs int
		cs := h.connect("alice", version, nil, &mcp.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
				mu.Lock()
				got = append(got, r.Params.Progress)
				mu.Unlock()
			},
			LoggingMessageHandler: func(_ context.Context, _ *mcp.LoggingMessageRequest) {
				mu.Lock()
				logs++
				mu.Unlock()
			},
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a guard against a hang
		if version == "2025-11-25" {
			if err := cs.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "debug"}); err != nil {
				t.Fatal(err)
			}
		}
		params := &mcp.CallToolParams{Name: "acme_review", Arguments: map[string]any{"steps": steps}}
		params.SetProgressToken("tok")
		r, err := cs.CallTool(ctx, params)
		cancel()
		if err != nil || r.IsError {
			t.Fatalf("%s: acme_review: %v %v", version, err, r)
		}
		// The client may hand notifications to its handlers after the
		// result: wait for them, bounded against a hang. mcp-go's stream
		// may drop the one notification it holds when the result is
		// written, never more.
		deadline := time.Now().Add(time.Minute)
		for {
			mu.Lock()
			n, l := len(got), logs
			mu.Unlock()
			if n >= steps-1 && (l > 0 || version != "2025-11-25") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d progress notifications of %d, %d log records", version, n, steps, l)
			}
			time.Sleep(10 * time.Millisecond)
		}
		mu.Lock()
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Errorf("%s: progress does not increase: %v", version, got)
			}
		}
		mu.Unlock()
	}
}

// TestHTTPTLS serves over TLS from a certificate and key in PEM files.
func TestHTTPTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	runner := mcpserver.SandboxCatalogue(t, sandbox.Options{})
	srv, err := mcpserver.New(gate.New(runner, gate.Options{ReadOnly: true}), mcpserver.Options{Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStreamableHTTP(ctx, mcpserver.HTTPOptions{Listener: ln, Auth: tokenFile(t), TLSCert: certFile, TLSKey: keyFile})
	}()
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: time.Minute} // a guard against a hang
	resp, err := c.Get("https://" + ln.Addr().String() + mcpserver.HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("healthz over TLS: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeStreamableHTTP: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

package e2e

// serve --http over the built binary: the official Go SDK's Streamable
// HTTP client, with the Authorization and X-MCP-* headers a team's clients
// send, against a server on the demo sandbox; and raw HTTP for what a
// client must be refused.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/host/httpauth/authtest"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// httpServer is one `iam-mcp-server serve --http 127.0.0.1:0` process.
type httpServer struct {
	t      testing.TB
	args   []string
	base   string // http://127.0.0.1:PORT, from the ready line
	auth   string // what the ready line says: token, oauth or none
	stderr *syncio.Buffer
	audit  string // the --audit-log file
	proc   *os.Process
	exited chan struct{}
	err    error // the process's exit, once exited is closed
}

// readyLine is what serve --http says on stderr once it accepts
// connections; the tests learn the port from it.
var readyLine = regexp.MustCompile(`iam-mcp-server: serving MCP on (http://127\.0\.0\.1:\d+)/mcp \(auth: (token|oauth|none)\)`)

// startHTTP starts serve --http on a free loopback port, on the demo
// sandbox (unless args say --endpoint-url) with an audit log, and waits
// for its ready line. env is added to the environment. The server gets
// SIGTERM when the test ends.
func startHTTP(t testing.TB, env []string, args ...string) *httpServer {
	t.Helper()
	hs := &httpServer{t: t, stderr: &syncio.Buffer{}, audit: filepath.Join(t.TempDir(), "audit.log"), exited: make(chan struct{})}
	hs.args = []string{"serve", "--http", "127.0.0.1:0", "--audit-log", hs.audit}
	if !slices.Contains(args, "--endpoint-url") {
		hs.args = append(hs.args, "--sandbox", "--sandbox-seed", "demo")
	}
	hs.args = append(hs.args, args...)
	cmd := exec.Command(serverBin, hs.args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = hs.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hs.proc = cmd.Process
	go func() { hs.err = cmd.Wait(); close(hs.exited) }()
	t.Cleanup(func() {
		if !hs.done() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-hs.exited:
			case <-time.After(2 * time.Minute): // a guard against a hang
				_ = cmd.Process.Kill()
				<-hs.exited
			}
		}
		if t.Failed() {
			t.Logf("server %s stderr:\n%s", strings.Join(hs.args, " "), tail(hs.stderr.String(), 6000))
		}
	})
	guard := time.After(3 * time.Minute) // a guard against a hang, not a speed limit
	for {
		if m := readyLine.FindStringSubmatch(hs.stderr.String()); m != nil {
			hs.base, hs.auth = m[1], m[2]
			return hs
		}
		select {
		case <-hs.exited:
			t.Fatalf("serve %s exited before it was ready (%v):\n%s", strings.Join(hs.args, " "), hs.err, hs.stderr)
		case <-guard:
			t.Fatalf("serve %s never said it was ready:\n%s", strings.Join(hs.args, " "), hs.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (hs *httpServer) done() bool {
	select {
	case <-hs.exited:
		return true
	default:
		return false
	}
}

// headers adds a bearer token and request headers to every request.
type headers struct {
	token string
	set   map[string]string
}

func (h headers) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if h.token != "" {
		r.Header.Set("Authorization", "Bearer "+h.token)
	}
	for k, v := range h.set {
		if k == "Host" {
			r.Host = v // net/http sends r.Host, never a Host header
			continue
		}
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens a session of the official client with the server, sending
// h on every request, and lists the tools (built-in ones only: each must
// declare an output schema).
func (hs *httpServer) connect(t testing.TB, h headers, opts *mcp.ClientOptions, protocol string) *server {
	t.Helper()
	s := hs.dial(t, h, opts, protocol)
	s.loadTools()
	return s
}

// dial is connect without listing the tools.
func (hs *httpServer) dial(t testing.TB, h headers, opts *mcp.ClientOptions, protocol string) *server {
	t.Helper()
	s := &server{t: t, args: hs.args, wire: &syncio.Buffer{}, stderr: hs.stderr}
	transport := &mcp.LoggingTransport{
		Transport: &mcp.StreamableClientTransport{Endpoint: hs.base + "/mcp", HTTPClient: &http.Client{Transport: h}, MaxRetries: -1},
		Writer:    s.wire,
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-e2e-http", Version: "1.0.0"}, opts)
	ctx, cancel := ctxT()
	defer cancel()
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: protocol})
	if err != nil {
		t.Fatalf("connecting the official client over HTTP to %s: %v\nserver stderr:\n%s", hs.base, err, tail(hs.stderr.String(), 4000))
	}
	s.cs = cs
	t.Cleanup(s.close)
	return s
}

// do sends one raw request and returns the response with its body read.
func (hs *httpServer) do(t testing.TB, method, path string, h headers, body string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, hs.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
	}
	res, err := (&http.Client{Transport: h}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, string(b)
}

const initializeBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// auditLines are the audit log's records.
func (hs *httpServer) auditLines(t testing.TB) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(hs.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// team writes a token file of subjects (0600) and returns it with each
// subject's token.
func team(t testing.TB, subjects ...string) (string, map[string]string) {
	t.Helper()
	tokens := map[string]string{}
	var b strings.Builder
	for _, s := range subjects {
		r := make([]byte, 24)
		rand.Read(r)
		tokens[s] = hex.EncodeToString(r)
		fmt.Fprintf(&b, "%s %s\n", s, tokens[s])
	}
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, tokens
}

func writeFile(t testing.TB, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTTPToken: bearer tokens from a file, per-subject rules, header
// narrowing, the audit's subjects and the Origin check, over one server.
func TestHTTPToken(t *testing.T) {
	t.Parallel()
	tokens, tok := team(t, "alice", "bob")
	rules := writeFile(t, "rules.yaml", "rules:\n  - subject: bob\n    read_only: true\n")
	hs := startHTTP(t, nil, append(slices.Clone(allowWrites), "--http-token-file", tokens, "--http-rules", rules)...)
	if hs.auth != "token" {
		t.Fatalf("the ready line says auth %s, want token", hs.auth)
	}

	t.Run("refused without a token or with a wrong one", func(t *testing.T) {
		for name, h := range map[string]headers{"no token": {}, "wrong token": {token: strings.Repeat("x", 48)}} {
			res, body := hs.do(t, "POST", "/mcp", h, initializeBody)
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401: %s", name, res.StatusCode, body)
			}
			if ch := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer") {
				t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", name, ch)
			}
			if strings.Contains(body, "serverInfo") {
				t.Errorf("%s: the server answered initialize: %s", name, body)
			}
		}
	})
	t.Run("foreign Origin refused", func(t *testing.T) {
		res, body := hs.do(t, "POST", "/mcp", headers{token: tok["alice"], set: map[string]string{"Origin": "https://evil.example"}}, initializeBody)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a foreign Origin: status %d, want 403: %s", res.StatusCode, body)
		}
		res, body = hs.do(t, "POST", "/mcp", headers{token: tok["alice"], set: map[string]string{"Host": "evil.example"}}, initializeBody)
		if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("a foreign Host: status %d, want 403: %s", res.StatusCode, body)
		}
	})
	t.Run("healthz", func(t *testing.T) {
		res, body := hs.do(t, "GET", "/healthz", headers{}, "")
		if res.StatusCode != http.StatusOK {
			t.Errorf("/healthz: status %d: %s", res.StatusCode, body)
		}
	})

	alice := hs.connect(t, headers{token: tok["alice"]}, nil, "")
	bob := hs.connect(t, headers{token: tok["bob"]}, nil, "")
	ok[api.ListUsersOutput](alice, "list_users", nil)
	ok[api.ListUsersOutput](bob, "list_users", nil)
	ok[api.UserOutput](alice, "create_user", map[string]any{"user_name": "http-alice-made"})
	msg := fails(bob, "create_user", map[string]any{"user_name": "http-bob-made"}, api.ReadOnly)
	for _, want := range []string{"bob", `the operator's rule for subject "bob"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("bob's refused write does not name %q: %s", want, msg)
		}
	}

	// Header narrowing: alice's own read-only and tool list, for this
	// client only; it never widens bob's rule.
	narrowed := hs.connect(t, headers{token: tok["alice"], set: map[string]string{"X-MCP-Readonly": "true", "X-MCP-Tools": "list_users,create_user"}}, nil, "")
	if names := slices.Sorted(func(yield func(string) bool) {
		for n := range narrowed.tools {
			if !yield(n) {
				return
			}
		}
	}); !slices.Equal(names, []string{"create_user", "list_users"}) {
		t.Errorf("X-MCP-Tools list_users,create_user: tools/list %v", names)
	}
	if msg := fails(narrowed, "create_user", map[string]any{"user_name": "http-narrowed"}, api.ReadOnly); !strings.Contains(msg, "X-MCP-Readonly") {
		t.Errorf("a write refused by the header does not name it: %s", msg)
	}
	if res, _ := narrowed.tryCall("get_user", map[string]any{"user_name": "alice.nguyen"}); res != nil && !res.IsError {
		t.Errorf("a tool outside X-MCP-Tools ran")
	}
	ok[api.UserOutput](alice, "create_user", map[string]any{"user_name": "http-alice-again"}) // alice's own session is not narrowed
	widen := hs.connect(t, headers{token: tok["bob"], set: map[string]string{"X-MCP-Readonly": "false"}}, nil, "")
	fails(widen, "create_user", map[string]any{"user_name": "http-bob-widened"}, api.ReadOnly)

	subjects := map[string]int{}
	for _, l := range hs.auditLines(t) {
		s, _ := l["subject"].(string)
		subjects[s]++
		if l["auth"] != "token" {
			t.Errorf("audit line without auth token: %v", l)
		}
	}
	if subjects["alice"] == 0 || subjects["bob"] == 0 || subjects[""] != 0 {
		t.Errorf("audit lines by subject: %v, want alice's and bob's, none without one", subjects)
	}
}

// secretLink calls create_access_key over s and returns the link and the
// whole result as the client received it.
func secretLink(t testing.TB, s *server, user string) (string, string) {
	t.Helper()
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": user})
	res := s.call("create_access_key", map[string]any{"user_name": user})
	if res.IsError {
		t.Fatalf("create_access_key: %s", resultText(res))
	}
	b, _ := json.Marshal(res.StructuredContent)
	var out struct {
		SecretLink      string `json:"secret_link"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	json.Unmarshal(b, &out)
	if out.SecretLink == "" || out.SecretAccessKey != "" {
		t.Fatalf("create_access_key over HTTP: want a secret_link and no secret, got %s", b)
	}
	return out.SecretLink, s.serverOutput()
}

// TestHTTPSecretLink: create_access_key over HTTP gives a one-time link,
// for the same subject only; the secret is nowhere else.
func TestHTTPSecretLink(t *testing.T) {
	t.Parallel()
	tokens, tok := team(t, "alice", "carol")
	hs := startHTTP(t, nil, append(slices.Clone(allowWrites), "--http-token-file", tokens)...)
	alice := hs.connect(t, headers{token: tok["alice"]}, nil, "")
	link, wire := secretLink(t, alice, "http-link-user")
	path, found := strings.CutPrefix(link, hs.base)
	if !found || !strings.HasPrefix(path, "/secrets/") {
		t.Fatalf("the link %s is not under %s/secrets/", link, hs.base)
	}
	if res, body := hs.do(t, "GET", path, headers{}, ""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the link without a token: %d, want 401: %s", res.StatusCode, body)
	}
	if res, body := hs.do(t, "GET", path, headers{token: tok["carol"]}, ""); res.StatusCode != http.StatusNotFound || strings.Contains(body, "secret_access_key") {
		t.Errorf("the link fetched by another subject: %d, want 404: %s", res.StatusCode, body)
	}
	res, body := hs.do(t, "GET", path, headers{token: tok["alice"]}, "")
	var got struct {
		UserName        string `json:"user_name"`
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || got.SecretAccessKey == "" || got.UserName != "http-link-user" {
		t.Fatalf("the owner's fetch: %d %s", res.StatusCode, body)
	}
	if res, body := hs.do(t, "GET", path, headers{token: tok["alice"]}, ""); res.StatusCode != http.StatusGone || strings.Contains(body, got.SecretAccessKey) {
		t.Errorf("the link fetched again: %d, want 410: %s", res.StatusCode, body)
	}
	alice.close()
	audit, _ := os.ReadFile(hs.audit)
	for where, text := range map[string]string{"the MCP messages": wire, "the server's stderr": hs.stderr.String(), "the audit log": string(audit)} {
		if strings.Contains(text, got.SecretAccessKey) {
			t.Errorf("the secret access key appears in %s", where)
		}
	}
	created := false
	for _, l := range hs.auditLines(t) {
		created = created || (l["operation"] == "create_access_key" && l["subject"] == "alice" && l["outcome"] == "ok")
	}
	if !created {
		t.Errorf("the audit log does not record alice's create_access_key:\n%s", audit)
	}
}

// TestHTTPNoAuthSecretFile: over loopback HTTP without authentication
// there is nobody to bind a link to, and the person is on this machine:
// a new secret goes to a file in --secrets-dir, as over stdio, and the
// result names the file, never the secret.
func TestHTTPNoAuthSecretFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets")
	hs := startHTTP(t, nil, append(slices.Clone(allowWrites), "--secrets-dir", dir)...)
	if hs.auth != "none" {
		t.Fatalf("auth %q", hs.auth)
	}
	s := hs.connect(t, headers{}, nil, "")
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "http-file-user"})
	out := ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": "http-file-user"})
	if out.SecretLink != "" || out.SecretAccessKey != "" || !strings.HasPrefix(out.SecretFile, dir) {
		t.Fatalf("create_access_key over loopback HTTP without authentication: %+v", out)
	}
	b, err := os.ReadFile(out.SecretFile)
	if err != nil || !strings.Contains(string(b), `"secret_access_key"`) {
		t.Fatalf("the secret file %s: %v (%d bytes)", out.SecretFile, err, len(b))
	}
}

// TestHTTPSecretLinkExpires: a link fetched after --secret-link-ttl
// gives nothing. The test waits for time to pass, which no machine speeds
// up: past the expiry the result states.
func TestHTTPSecretLinkExpires(t *testing.T) {
	t.Parallel()
	tokens, tok := team(t, "alice")
	hs := startHTTP(t, nil, append(slices.Clone(allowWrites), "--http-token-file", tokens, "--secret-link-ttl", "2s")...)
	alice := hs.connect(t, headers{token: tok["alice"]}, nil, "")
	link, _ := secretLink(t, alice, "http-late-user")
	var expires time.Time
	for _, m := range alice.received() {
		var r struct {
			StructuredContent struct {
				SecretLinkExpires string `json:"secret_link_expires"`
			} `json:"structuredContent"`
		}
		if json.Unmarshal(m.Result, &r) == nil && r.StructuredContent.SecretLinkExpires != "" {
			expires, _ = time.Parse(time.RFC3339, r.StructuredContent.SecretLinkExpires)
		}
	}
	if expires.IsZero() {
		t.Fatal("create_access_key's result has no secret_link_expires")
	}
	time.Sleep(time.Until(expires) + time.Second) // RFC 3339 has whole seconds: one more
	res, body := hs.do(t, "GET", strings.TrimPrefix(link, hs.base), headers{token: tok["alice"]}, "")
	// 410 while the link's tombstone is kept (a TTL past expiry), 404 once
	// it is forgotten: either way, no secret.
	if (res.StatusCode != http.StatusGone && res.StatusCode != http.StatusNotFound) || strings.Contains(body, "secret_access_key") {
		t.Errorf("a link fetched after its TTL: %d, want 410: %s", res.StatusCode, body)
	}
}

// TestHTTPOAuth: JWTs of an issuer the test runs: a valid one works, an
// expired one and one for another audience are refused, the metadata
// document names the issuer, and a rotated key is picked up.
func TestHTTPOAuth(t *testing.T) {
	t.Parallel()
	is := authtest.NewIssuer(t)
	hs := startHTTP(t, nil, "--oauth-issuer", is.URL())
	fetched := time.Now() // the server fetched the JWKS before it was ready
	if hs.auth != "oauth" {
		t.Fatalf("the ready line says auth %s, want oauth", hs.auth)
	}
	resource := hs.base + "/mcp"
	valid := is.Sign(map[string]any{"sub": "dana", "aud": resource})

	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		res, body := hs.do(t, "GET", path, headers{}, "")
		var md struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &md) != nil || md.Resource != resource || !slices.Contains(md.AuthorizationServers, is.URL()) {
			t.Errorf("%s: %d %s; want resource %s and authorization server %s", path, res.StatusCode, body, resource, is.URL())
		}
	}
	for name, tokn := range map[string]string{
		"no token":         "",
		"expired":          is.Sign(map[string]any{"sub": "dana", "aud": resource, "exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}),
		"foreign audience": is.Sign(map[string]any{"sub": "dana", "aud": "https://other.example/mcp"}),
	} {
		res, body := hs.do(t, "POST", "/mcp", headers{token: tokn}, initializeBody)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", name, res.StatusCode, body)
		}
		if ch := res.Header.Get("WWW-Authenticate"); !strings.Contains(ch, "resource_metadata=") {
			t.Errorf("%s: WWW-Authenticate %q does not point at the metadata document", name, ch)
		}
	}

	dana := hs.connect(t, headers{token: valid}, nil, "")
	ok[api.ListUsersOutput](dana, "list_users", nil)

	// A token naming a key id the server has not seen makes it fetch the
	// JWKS again, at most once per 30 seconds (so that random key ids
	// cannot flood the issuer): the test waits that long, which no
	// machine speeds up.
	before := is.JWKSFetches()
	is.Rotate()
	time.Sleep(time.Until(fetched.Add(31 * time.Second)))
	erin := hs.connect(t, headers{token: is.Sign(map[string]any{"sub": "erin", "aud": resource})}, nil, "")
	ok[api.ListUsersOutput](erin, "list_users", nil)
	if is.JWKSFetches() <= before {
		t.Errorf("a token signed with the rotated key was accepted without fetching the JWKS again (%d fetches)", is.JWKSFetches())
	}
	// The old key left the JWKS with the rotation: its tokens stop.
	if res, body := hs.do(t, "POST", "/mcp", headers{token: valid}, initializeBody); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token of the key rotated out: %d, want 401: %s", res.StatusCode, body)
	}
	subjects := map[string]bool{}
	for _, l := range hs.auditLines(t) {
		if l["auth"] == "oauth" {
			subjects[fmt.Sprint(l["subject"])] = true
		}
	}
	if !subjects["dana"] || !subjects["erin"] {
		t.Errorf("audit subjects %v, want dana and erin", subjects)
	}
}

// TestHTTPConsent: under the default --confirm, a destructive change is
// put to the person through the client over HTTP, at both protocol
// generations: accepted it runs, declined it does not.
func TestHTTPConsent(t *testing.T) {
	t.Parallel()
	tokens, tok := team(t, "alice")
	hs := startHTTP(t, nil, "--allow-write", "--http-token-file", tokens)
	for _, version := range consentVersions {
		t.Run(version, func(t *testing.T) {
			p := &person{}
			s := hs.connect(t, headers{token: tok["alice"]}, &mcp.ClientOptions{ElicitationHandler: p.handler}, version)
			user := "http-consent-" + strings.ReplaceAll(version, "-", "")
			ok[api.UserOutput](s, "create_user", map[string]any{"user_name": user})
			p.say("decline")
			if res := s.call("delete_user", map[string]any{"user_name": user}); !res.IsError {
				t.Errorf("declined, delete_user still succeeded")
			}
			if !userExists(s, user) {
				t.Fatalf("declined, yet %s was deleted", user)
			}
			p.say("accept")
			ok[api.DeleteOutput](s, "delete_user", map[string]any{"user_name": user})
			if userExists(s, user) {
				t.Errorf("accepted, yet %s still exists", user)
			}
			if q := p.questions(); len(q) != 2 || !strings.Contains(q[0], user) {
				t.Errorf("questions asked: %q", q)
			}
		})
	}
}

// holdingSandbox is the demo sandbox over HTTP in the test process, which
// holds every ListUsers request until released: a call in flight that
// the test controls, whatever the machine's speed.
type holdingSandbox struct {
	url     string
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newHoldingSandbox(t testing.TB) *holdingSandbox {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	h := &holdingSandbox{arrived: make(chan struct{}, 10), release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte("Action=ListUsers")) {
			h.arrived <- struct{}{}
			<-h.release
		}
		sb.ServeHTTP(w, r)
	}))
	h.url = srv.URL
	t.Cleanup(func() { h.let(); srv.Close(); sb.Close() })
	return h
}

func (h *holdingSandbox) let() { h.once.Do(func() { close(h.release) }) }

// TestHTTPGracefulShutdown: SIGTERM with a call in flight: new requests
// are refused, the call finishes with its result, and the server exits 0.
func TestHTTPGracefulShutdown(t *testing.T) {
	t.Parallel()
	sb := newHoldingSandbox(t)
	tokens, tok := team(t, "alice")
	env := []string{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=", "AWS_SESSION_TOKEN="}
	hs := startHTTP(t, env, "--endpoint-url", sb.url, "--http-token-file", tokens, "--shutdown-timeout", "3m")
	alice := hs.connect(t, headers{token: tok["alice"]}, nil, "")

	type outcome struct {
		res *mcp.CallToolResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		ctx, cancel := ctxT()
		defer cancel()
		res, err := alice.cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_users"})
		done <- outcome{res, err}
	}()
	select {
	case <-sb.arrived:
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("list_users never reached the sandbox")
	}
	if err := hs.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New requests are refused while the call is in flight.
	refused := false
	for guard := time.Now().Add(time.Minute); !refused && time.Now().Before(guard); time.Sleep(20 * time.Millisecond) {
		res, _ := hs.do(t, "GET", "/healthz", headers{}, "")
		refused = res.StatusCode == http.StatusServiceUnavailable
	}
	if !refused {
		t.Errorf("/healthz did not answer 503 after SIGTERM")
	}
	if res, body := hs.do(t, "POST", "/mcp", headers{token: tok["alice"]}, initializeBody); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a new session after SIGTERM: %d, want 503: %s", res.StatusCode, body)
	}
	if hs.done() {
		t.Fatalf("the server exited with a call in flight: %v", hs.err)
	}
	sb.let()
	o := <-done
	if o.err != nil || o.res.IsError {
		t.Fatalf("the call in flight at SIGTERM: %v %v", o.err, o.res)
	}
	select {
	case <-hs.exited:
	case <-time.After(3 * time.Minute): // a guard against a hang
		t.Fatal("the server did not exit after SIGTERM")
	}
	if hs.err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", hs.err)
	}
}

// TestHTTPCommandRefusals: what serve --http refuses to start with, each
// with status 2 and a message saying what to do.
func TestHTTPCommandRefusals(t *testing.T) {
	t.Parallel()
	tokens, _ := team(t, "alice")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--http", "0.0.0.0:0", "--public-url", "https://iam.example.com"}, "without authentication"},
		{[]string{"--http", "127.0.0.1:0", "--return-secrets"}, "one-time links"},
		{[]string{"--http", "127.0.0.1:0", "--http-token-file", tokens, "--oauth-issuer", "https://auth.example.com"}, "give one"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, "only applies with --http"},
	} {
		cmd := exec.Command(serverBin, append([]string{"serve", "--sandbox"}, c.args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("serve %s: %v, want status 2 saying %q:\n%s", strings.Join(c.args, " "), err, c.want, stderr.String())
		}
	}
}

// TestREADMERemote: the README's remote section shows a rules file the
// server accepts, and a client configuration that reaches this server's
// endpoint with a bearer token.
func TestREADMERemote(t *testing.T) {
	t.Parallel()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(readme), "## Remote: one server for a team\n")
	section, _, _ = strings.Cut(section, "\n## ")
	if !found {
		t.Fatal("the README has no section \"Remote: one server for a team\"")
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)  ```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the remote section shows no rules file")
	}
	rules := regexp.MustCompile(`(?m)^  `).ReplaceAllString(m[1], "")
	if _, err := httpauth.ParseRules([]byte(rules)); err != nil {
		t.Errorf("the README's rules file is refused: %v\n%s", err, rules)
	}
	m = regexp.MustCompile("(?s)```jsonc\n//[^\n]*\n(.*?)```").FindStringSubmatch(section)
	var doc struct {
		MCPServers map[string]struct {
			Type    string            `json:"type"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"mcpServers"`
	}
	if m == nil || json.Unmarshal([]byte(m[1]), &doc) != nil || len(doc.MCPServers) != 1 {
		t.Fatalf("the remote section shows no client configuration: %v", m)
	}
	for _, c := range doc.MCPServers {
		if c.Type != "http" || !strings.HasSuffix(c.URL, "/mcp") || !strings.HasPrefix(c.Headers["Authorization"], "Bearer ") {
			t.Errorf("the README's client configuration: %+v; want type http, the /mcp endpoint and a bearer token", c)
		}
	}
}

// TestHTTPPluginKeyRotation: over HTTP, the key a plugin creates (the
// shipped key rotation's create step) waits behind a one-time link for
// the subject who called the plugin, as create_access_key's does.
func TestHTTPPluginKeyRotation(t *testing.T) {
	t.Parallel()
	tokens, tok := team(t, "alice", "carol")
	hs := startHTTP(t, nil, append(slices.Clone(allowWrites), "--http-token-file", tokens, "--plugins", shippedPlugins, "--cache-dir", wasmCache)...)
	alice := hs.dial(t, headers{token: tok["alice"]}, nil, "") // plugin tools declare no output schema
	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		ctx, cancel := ctxT()
		defer cancel()
		res, err := alice.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %s", name, err, resultText(res))
		}
		return res
	}
	var keys api.ListAccessKeysOutput
	b, _ := json.Marshal(call("list_access_keys", map[string]any{"user_name": "ci-deploy"}).StructuredContent)
	if json.Unmarshal(b, &keys) != nil || len(keys.AccessKeys) != 1 {
		t.Fatalf("ci-deploy's keys: %s", b)
	}
	res := call("rotate_access_key", map[string]any{"user_name": "ci-deploy", "access_key_id": keys.AccessKeys[0].AccessKeyID, "step": "create"})
	link := regexp.MustCompile(regexp.QuoteMeta(hs.base) + `/secrets/[A-Za-z0-9_-]+`).FindString(resultText(res))
	if link == "" {
		t.Fatalf("the create step's result names no secret link on %s:\n%s", hs.base, resultText(res))
	}
	path := strings.TrimPrefix(link, hs.base)
	if res, body := hs.do(t, "GET", path, headers{token: tok["carol"]}, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("the plugin's link fetched by another subject: %d, want 404: %s", res.StatusCode, body)
	}
	got, body := hs.do(t, "GET", path, headers{token: tok["alice"]}, "")
	var secret struct {
		SecretAccessKey string `json:"secret_access_key"`
	}
	if got.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &secret) != nil || secret.SecretAccessKey == "" {
		t.Fatalf("the caller's fetch of the plugin's link: %d %s", got.StatusCode, body)
	}
	alice.close()
	audit, _ := os.ReadFile(hs.audit)
	for where, text := range map[string]string{"the MCP messages": alice.serverOutput(), "the server's stderr": hs.stderr.String(), "the audit log": string(audit)} {
		if strings.Contains(text, secret.SecretAccessKey) {
			t.Errorf("the secret access key appears in %s", where)
		}
	}
}

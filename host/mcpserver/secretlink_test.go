package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/host/secretlink"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const (
	aliceToken = "alice-token-0123456789abcdefghijklmnopqrstuvwxyz"
	bobToken   = "bob-token-0123456789abcdefghijklmnopqrstuvwxyz0123"
)

// bearer adds a token to each request, as an HTTP client configured with
// one does.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// linkServer serves a read-write server on the demo sandbox over
// Streamable HTTP on a loopback port, with a token file of alice and bob
// and the one-time links mounted; it returns the base URL and the log.
func linkServer(t *testing.T) (base string, logs, audit *syncio.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncio.Buffer{}
	links := secretlink.New(secretlink.Options{BaseURL: base, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: links})
	if err != nil {
		t.Fatal(err)
	}
	audit = &syncio.Buffer{}
	g := gate.New(cat, gate.Options{Confirm: gate.ConfirmNone, Audit: audit})
	ops, err := mcpserver.ResolveToolsets("users,credentials")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mcpserver.New(g, mcpserver.Options{Tools: ops, Sandbox: true, Version: "test", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := httpauth.ParseTokenFile([]byte("alice " + aliceToken + "\nbob " + bobToken + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- srv.ServeStreamableHTTP(ctx, mcpserver.HTTPOptions{Listener: ln, Auth: tokens, Secrets: links, PublicURL: base, ShutdownTimeout: time.Minute})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeStreamableHTTP: %v", err)
		}
	})
	return base, logs, audit
}

// connect is alice's client over HTTP at protocol version, declaring URL
// elicitation when onURL is set (and answering with it).
func connect(t *testing.T, base, version string, onURL func(*sdk.ElicitParams) string) *sdk.ClientSession {
	t.Helper()
	opts := &sdk.ClientOptions{}
	if onURL != nil {
		opts.Capabilities = &sdk.ClientCapabilities{Elicitation: &sdk.ElicitationCapabilities{URL: &sdk.URLElicitationCapabilities{}}}
		opts.ElicitationHandler = func(_ context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
			return &sdk.ElicitResult{Action: onURL(req.Params)}, nil
		}
	}
	hc := &http.Client{Transport: bearer{aliceToken, http.DefaultTransport.(*http.Transport).Clone()}}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "links", Version: "1"}, opts).Connect(context.Background(),
		&sdk.StreamableClientTransport{Endpoint: base + mcpserver.EndpointPath, HTTPClient: hc, MaxRetries: -1}, &sdk.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// createKey creates user (once) and a key for it as alice.
func createKey(t *testing.T, cs *sdk.ClientSession, user string) *api.CreateAccessKeyOutput {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "create_user", Arguments: map[string]any{"user_name": user}}); err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "create_access_key", Arguments: map[string]any{"user_name": user}})
	if err != nil || res.IsError {
		t.Fatalf("create_access_key: %v %+v", err, res)
	}
	text := res.Content[0].(*sdk.TextContent).Text
	var out api.CreateAccessKeyOutput
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatal(err)
	}
	if out.SecretAccessKey != "" || strings.Contains(text, "secret_access_key") || out.SecretLinkExpires == "" {
		t.Fatalf("create_access_key's result: %s", text)
	}
	return &out
}

// fetchLink gets link with token.
func fetchLink(t *testing.T, link, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSecretLinkElicitation: over HTTP, a client that declared URL
// elicitation is sent the new key's link in an elicitation/create of
// mode url, and once the person accepts, the result has no link; the link
// works once, for alice only (bob is told it does not exist, and does not
// use it up). A client without URL elicitation, and a 2026-07-28
// request, get the link in the result with how to fetch it.
func TestSecretLinkElicitation(t *testing.T) {
	base, logs, audit := linkServer(t)
	if secretlink.Path != mcpserver.SecretPath {
		t.Fatalf("secretlink.Path %q is not mcpserver.SecretPath %q", secretlink.Path, mcpserver.SecretPath)
	}

	var mu sync.Mutex
	var asked []*sdk.ElicitParams
	cs := connect(t, base, "2025-11-25", func(p *sdk.ElicitParams) string {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, p)
		return "accept"
	})
	out := createKey(t, cs, "link-ana")
	mu.Lock()
	if len(asked) != 1 {
		t.Fatalf("%d elicitations, want 1", len(asked))
	}
	p := asked[0]
	mu.Unlock()
	if p.Mode != "url" || !strings.HasPrefix(p.URL, base+mcpserver.SecretPath) || p.ElicitationID == "" || !strings.Contains(p.Message, out.AccessKey.AccessKeyID) || !strings.Contains(p.Message, "curl") {
		t.Fatalf("the elicitation: %+v", p)
	}
	if out.SecretLink != "" || strings.Contains(out.Message, p.URL) || !strings.Contains(out.Message, "given to the person directly") {
		t.Fatalf("the result after the elicitation: %+v", out)
	}
	if code, body := fetchLink(t, p.URL, bobToken); code != http.StatusNotFound || strings.Contains(body, out.AccessKey.AccessKeyID) {
		t.Fatalf("bob fetching alice's link: %d %s", code, body)
	}
	code, body := fetchLink(t, p.URL, aliceToken)
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || got["access_key_id"] != out.AccessKey.AccessKeyID || len(got["secret_access_key"]) != 40 {
		t.Fatalf("alice fetching her link: %d %s", code, body)
	}
	if code, body := fetchLink(t, p.URL, aliceToken); code != http.StatusGone || !strings.Contains(body, "used already") {
		t.Fatalf("alice fetching it again: %d %s", code, body)
	}
	for name, b := range map[string]*syncio.Buffer{"log": logs, "audit": audit} {
		if strings.Contains(b.String(), got["secret_access_key"]) || strings.Contains(b.String(), strings.TrimPrefix(p.URL, base+mcpserver.SecretPath)) {
			t.Fatalf("the server's %s carries the secret or the link's id: %s", name, b)
		}
	}
	if !strings.Contains(audit.String(), `"subject":"alice"`) || !strings.Contains(logs.String(), "a one-time secret link was fetched") {
		t.Fatalf("the audit or the log does not show alice's key and its fetch:\n%s\n%s", audit, logs)
	}

	// A person who declines keeps the link in the result.
	declined := connect(t, base, "2025-11-25", func(*sdk.ElicitParams) string { return "decline" })
	if out := createKey(t, declined, "link-dee"); !strings.HasPrefix(out.SecretLink, base+mcpserver.SecretPath) {
		t.Fatalf("declined: %+v", out)
	}
	// No URL elicitation, and the stateless protocol: the link in the result.
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		cs := connect(t, base, version, nil)
		out := createKey(t, cs, "link-"+strings.ReplaceAll(version, "-", ""))
		if !strings.HasPrefix(out.SecretLink, base+mcpserver.SecretPath) || !strings.Contains(out.Message, out.SecretLink) || !strings.Contains(out.Message, "curl -H") || !strings.Contains(out.Message, "once") {
			t.Fatalf("%s without URL elicitation: %+v", version, out)
		}
		if code, _ := fetchLink(t, out.SecretLink, aliceToken); code != http.StatusOK {
			t.Fatalf("%s: fetching the link: %d", version, code)
		}
	}
}

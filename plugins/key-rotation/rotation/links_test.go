package rotation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/host/secretlink"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// TestWasmPluginSecretLink runs the plugin in the server's runtime as
// MCP over HTTP wires it: the plugins' catalogue keeps new secrets behind
// one-time links (host/secretlink) for the authenticated caller. The
// create step's answer shows the link (never the secret, which the plugin
// never sees); the link hands the secret to that caller only. A second
// rotation whose link is not fetched: once the new key is used, the
// cut-over check withdraws the link, and the link then says so.
func TestWasmPluginSecretLink(t *testing.T) {
	wasm, sum := hostiamtest.BuildWasm(t, "..")
	if testing.Short() {
		t.Skip("-short: the plugin builds; not running it")
	}
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	links := secretlink.New(secretlink.Options{BaseURL: "https://iam.example.com"})
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: links})
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(t.TempDir(), "secrets")
	id := sb.AccountID()
	prefix := ""
	h, err := plugin.Load(context.Background(), &plugin.Config{Plugins: []plugin.Spec{{Name: "key-rotation", Path: wasm, SHA256: sum, Prefix: &prefix, Grants: allGrants}}}, plugin.Options{
		Gate:       gate.New(cat, gate.Options{Confirm: gate.ConfirmNone}),
		CacheDir:   filepath.Join(os.TempDir(), "iam-mcp-plugin-test-cache"),
		Account:    func(context.Context) (string, string, error) { return id, "aws", nil },
		Secrets:    links,
		SecretsDir: secrets,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	alice := gate.WithPrincipal(context.Background(), &gate.Principal{Subject: "alice", Via: "oauth"})

	call := func(args string) (*api.PluginResult, RotateResult) {
		t.Helper()
		res, err := h.Call(alice, "rotate_access_key", json.RawMessage(args), nil)
		if err != nil || res.IsError {
			t.Fatalf("rotate_access_key %s: %v %+v", args, err, res)
		}
		var rot RotateResult
		if err := json.Unmarshal(res.StructuredContent, &rot); err != nil {
			t.Fatal(err)
		}
		return res, rot
	}
	fetch := func(ctx context.Context, link string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		links.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, strings.TrimPrefix(link, "https://iam.example.com"), nil))
		return w
	}
	e := &env{t: t, sb: sb}
	keyOf := func(user string) string {
		t.Helper()
		out, err := cat.Call(alice, "list_access_keys", json.RawMessage(`{"user_name":"`+user+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		return out.(*api.ListAccessKeysOutput).AccessKeys[0].AccessKeyID
	}

	// The create step: the link in the answer and its text; the secret
	// behind it, for alice only.
	for _, user := range []string{"link-one", "link-two"} {
		if _, err := cat.Call(alice, "create_user", json.RawMessage(`{"user_name":"`+user+`"}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.Call(alice, "create_access_key", json.RawMessage(`{"user_name":"`+user+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	old := keyOf("link-one")
	if _, err := links.RemoveAccessKey(alice, old); err != nil { // the setup's own link
		t.Fatal(err)
	}
	res, rot := call(`{"user_name":"link-one","access_key_id":"` + old + `","step":"create"}`)
	if rot.Outcome != OutcomeAdvanced || !strings.HasPrefix(rot.SecretLink, "https://iam.example.com"+secretlink.Path) || rot.SecretFile != "" || rot.SecretLinkExpires == "" {
		t.Fatalf("create over links: %+v", rot)
	}
	if !strings.Contains(res.Content[0].Text, rot.SecretLink) || !strings.Contains(rot.SecretNote, rot.SecretLink) || !strings.Contains(rot.Happened, "curl") {
		t.Fatalf("the answer does not show the link: %s", res.Content[0].Text)
	}
	bob := gate.WithPrincipal(context.Background(), &gate.Principal{Subject: "bob", Via: "oauth"})
	if w := fetch(bob, rot.SecretLink); w.Code != http.StatusNotFound {
		t.Fatalf("bob fetching alice's link: %d %s", w.Code, w.Body)
	}
	w := fetch(alice, rot.SecretLink)
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusOK || err != nil || got["access_key_id"] != rot.NewAccessKeyID || len(got["secret_access_key"]) != 40 {
		t.Fatalf("alice fetching the link: %d %s", w.Code, w.Body)
	}
	if strings.Contains(string(res.StructuredContent), got["secret_access_key"]) || strings.Contains(res.Content[0].Text, got["secret_access_key"]) {
		t.Fatal("the secret is in the plugin's answer")
	}

	// An unfetched link is withdrawn by the check that sees the new key used.
	old = keyOf("link-two")
	if _, err := links.RemoveAccessKey(alice, old); err != nil {
		t.Fatal(err)
	}
	_, rot = call(`{"user_name":"link-two","access_key_id":"` + old + `","step":"create"}`)
	e.use(rot.NewAccessKeyID, "")
	res, checked := call(`{"user_name":"link-two","access_key_id":"` + old + `","step":"cutover"}`)
	if !strings.Contains(checked.SecretFileRemoved, "one-time secret link of "+rot.NewAccessKeyID) || !strings.Contains(checked.SecretNote, "was withdrawn from the server") {
		t.Fatalf("the check after the new key's use: removed %q, note %q", checked.SecretFileRemoved, checked.SecretNote)
	}
	if w := fetch(alice, rot.SecretLink); w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "withdrawn") {
		t.Fatalf("the withdrawn link: %d %s", w.Code, w.Body)
	}
}

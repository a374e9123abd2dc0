package catalogue

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/secretlink"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestCredentialsAccessKeySecretLink: with a link store (MCP over HTTP),
// create_access_key through the real SDK on the sandbox keeps the secret
// behind a one-time link for the caller: the result names the link, its
// expiry and how to fetch it, never the secret; the link hands the secret
// (which signs requests as the new key) to the same subject once. Without
// an authenticated caller the key is deleted again and the error says why.
func TestCredentialsAccessKeySecretLink(t *testing.T) {
	links := secretlink.New(secretlink.Options{BaseURL: "https://iam.example.com/"})
	c := newCatalogueWith(t, "", Options{Secrets: links})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)

	alice := &gate.Principal{Subject: "alice", Via: "token"}
	actx := gate.WithPrincipal(ctx, alice)
	out, err := c.Call(actx, "create_access_key", json.RawMessage(`{"user_name":"ana"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := out.(*api.CreateAccessKeyOutput)
	if !strings.HasPrefix(res.SecretLink, "https://iam.example.com/secrets/") || res.SecretLinkExpires == "" || res.SecretFile != "" || res.SecretAccessKey != "" {
		t.Fatalf("create_access_key with a link store: %+v", res)
	}
	for _, want := range []string{res.SecretLink, res.SecretLinkExpires, "once", "curl -H"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("the message does not say %q: %s", want, res.Message)
		}
	}

	get := httptest.NewRequestWithContext(actx, http.MethodGet, strings.TrimPrefix(res.SecretLink, "https://iam.example.com"), nil)
	w := httptest.NewRecorder()
	links.ServeHTTP(w, get)
	var f secretFile
	if err := json.Unmarshal(w.Body.Bytes(), &f); w.Code != http.StatusOK || err != nil || f.AccessKeyID != res.AccessKey.AccessKeyID || len(f.SecretAccessKey) != 40 {
		t.Fatalf("fetching the link: %d %s", w.Code, w.Body)
	}
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), f.SecretAccessKey) || strings.Contains(string(b), "secret_access_key") {
		t.Fatalf("the result carries the secret: %s", b)
	}
	// The secret is the key's: it signs requests as ana.
	who, err := clientsSignedBy(c.sandbox, f.AccessKeyID, f.SecretAccessKey).STS.GetCallerIdentity(ctx, nil)
	if err != nil || !strings.HasSuffix(*who.Arn, ":user/ana") {
		t.Fatalf("signing with the fetched secret: %v", err)
	}

	// No authenticated caller: nobody could fetch a link, so the key goes.
	msg := callFails(t, c, "create_access_key", `{"user_name":"ana"}`, api.ServiceFailure)
	if !strings.Contains(msg, "authenticated caller") || !strings.Contains(msg, "deleted again") {
		t.Fatalf("message: %s", msg)
	}
	if n := keyCount(t, c, "ana"); n != 1 {
		t.Fatalf("%d keys, want the first one only", n)
	}
	// A subject without a name is no authenticated caller either.
	if _, err := c.Call(gate.WithPrincipal(context.Background(), &gate.Principal{Via: "token"}), "create_access_key", json.RawMessage(`{"user_name":"ana"}`)); err == nil {
		t.Fatal("a principal without a subject got a link")
	}
	if n := keyCount(t, c, "ana"); n != 1 {
		t.Fatalf("%d keys, want the first one only", n)
	}
}

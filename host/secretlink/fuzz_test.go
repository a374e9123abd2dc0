package secretlink

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSecretID: the path parser takes exactly Path + the canonical
// base64url of 32 bytes and nothing else, and the handler answers any
// path briefly, without the secret, and never consumes the one real link.
func FuzzSecretID(f *testing.F) {
	f.Add(Path + strings.Repeat("A", idLen))
	f.Add(Path + strings.Repeat("_", idLen-1) + "w")
	f.Add(Path)
	f.Add("/secrets")
	f.Add(Path + "../../etc/passwd")
	f.Add(Path + strings.Repeat("A", idLen) + "/")
	f.Add(Path + strings.Repeat("+", idLen))
	e := newEnv(f, 0)
	alice := as("alice", "token")
	link, err := e.StoreAccessKey(alice, "ana", keyID, secret, e.clock.now())
	if err != nil {
		f.Fatal(err)
	}
	real := strings.TrimPrefix(link, "https://iam.example.com")
	f.Fuzz(func(t *testing.T, path string) {
		id, err := ParseID(path)
		if err == nil {
			raw, derr := base64.RawURLEncoding.DecodeString(id)
			if derr != nil || len(raw) != idBytes || Path+base64.RawURLEncoding.EncodeToString(raw) != path {
				t.Fatalf("ParseID took %q", path)
			}
		} else if len(err.Error()) > 200 || (len(path) > 8 && strings.Contains(err.Error(), path)) {
			t.Fatalf("ParseID(%q) echoes it: %v", path, err)
		}
		if path == real {
			return
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequestWithContext(alice, http.MethodGet, "/", nil)
		r.URL.Path = path
		e.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound || w.Body.Len() > 1024 || strings.Contains(w.Body.String(), secret) {
			t.Fatalf("GET %q: %d %s", path, w.Code, w.Body)
		}
		if e.Pending() != 1 {
			t.Fatalf("GET %q consumed the link", path)
		}
	})
}

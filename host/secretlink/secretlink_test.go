package secretlink

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

const (
	keyID  = "AKIAEXAMPLE000000001"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func as(subject, via string) context.Context {
	return gate.WithPrincipal(context.Background(), &gate.Principal{Subject: subject, Via: via})
}

type env struct {
	*Store
	clock *clock
	logs  *bytes.Buffer
}

func newEnv(t testing.TB, max int) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 7, 28, 12, 0, 0, 0, time.UTC)}
	logs := &bytes.Buffer{}
	s := New(Options{BaseURL: "https://iam.example.com/", TTL: 10 * time.Minute, MaxPending: max, Now: c.now, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	return &env{Store: s, clock: c, logs: logs}
}

// store keeps secret for ctx's subject and returns the link's path.
func (e *env) store(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	link, err := e.StoreAccessKey(ctx, "ana", id, secret, e.clock.now())
	if err != nil {
		t.Fatal(err)
	}
	path, ok := strings.CutPrefix(link, "https://iam.example.com"+Path)
	if !ok {
		t.Fatalf("link %q is not BaseURL (without its slash) + %s + id", link, Path)
	}
	return Path + path
}

// fetch requests path as ctx's subject (nil: no principal).
func (e *env) fetch(ctx context.Context, method, path string) *httptest.ResponseRecorder {
	if ctx == nil {
		ctx = context.Background()
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequestWithContext(ctx, method, path, nil))
	return w
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int, says string) {
	t.Helper()
	if w.Code != status || !strings.Contains(w.Body.String(), says) {
		t.Fatalf("got %d %s, want %d saying %q", w.Code, w.Body, status, says)
	}
	if strings.Contains(w.Body.String(), secret) && status != http.StatusOK {
		t.Fatalf("a refusal carries the secret: %s", w.Body)
	}
	for h, v := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Content-Security-Policy": "default-src 'none'"} {
		if got := w.Header().Get(h); got != v {
			t.Errorf("%s: %q, want %q", h, got, v)
		}
	}
}

// TestLinkOnce: the owner gets the secret once (JSON, uncacheable); a
// second fetch is told it was used; another subject — also one with the
// same name authenticated another way — is told there is no such link and
// does not consume it; no principal is 401; HEAD and POST are refused
// without consuming it. The logs name the key and the subject, never the
// secret or the link's id.
func TestLinkOnce(t *testing.T) {
	e := newEnv(t, 0)
	alice := as("alice", "token")
	path := e.store(t, alice, keyID)
	id := strings.TrimPrefix(path, Path)

	wantStatus(t, e.fetch(as("bob", "token"), http.MethodGet, path), http.StatusNotFound, "no such secret link")
	wantStatus(t, e.fetch(as("alice", "oauth"), http.MethodGet, path), http.StatusNotFound, "no such secret link")
	wantStatus(t, e.fetch(nil, http.MethodGet, path), http.StatusUnauthorized, "credentials")
	for _, m := range []string{http.MethodHead, http.MethodPost, http.MethodDelete} {
		w := e.fetch(alice, m, path)
		wantStatus(t, w, http.StatusMethodNotAllowed, "")
		if w.Header().Get("Allow") != http.MethodGet {
			t.Errorf("%s: Allow %q", m, w.Header().Get("Allow"))
		}
	}
	if n := e.Pending(); n != 1 {
		t.Fatalf("%d pending after refusals, want 1", n)
	}

	w := e.fetch(alice, http.MethodGet, path)
	wantStatus(t, w, http.StatusOK, secret)
	var got map[string]string
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil || len(got) != 4 || got["user_name"] != "ana" || got["access_key_id"] != keyID || got["secret_access_key"] != secret || got["create_date"] != "2026-07-28T12:00:00Z" {
		t.Fatalf("the secret: %v %v", got, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusGone, "used already")
	wantStatus(t, e.fetch(as("bob", "token"), http.MethodGet, path), http.StatusNotFound, "no such secret link")
	if n := e.Pending(); n != 0 {
		t.Fatalf("%d pending after the fetch", n)
	}

	logs := e.logs.String()
	for _, want := range []string{keyID, `"subject":"alice"`, "fetched", "expires"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs do not say %q: %s", want, logs)
		}
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, id) {
		t.Fatalf("the logs carry the secret or the link's id: %s", logs)
	}
}

// TestLinkExpires: a link fetched late is told when it expired and what
// to do; its secret is zeroed then, and so is a fetched one.
func TestLinkExpires(t *testing.T) {
	e := newEnv(t, 0)
	alice := as("alice", "oauth")
	path := e.store(t, alice, keyID)
	e.mu.Lock()
	var held []byte
	for _, en := range e.entries {
		held = en.secret
	}
	e.mu.Unlock()

	e.clock.add(10*time.Minute - time.Second)
	if e.Pending() != 1 || string(held) != secret {
		t.Fatal("the link went before its time")
	}
	e.clock.add(time.Second)
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusGone, "expired at 2026-07-28T12:10:00Z; create a new key")
	if !bytes.Equal(held, make([]byte, len(secret))) {
		t.Fatalf("the expired secret was not zeroed: %q", held)
	}
	// A TTL later, even the tombstone is gone.
	e.clock.add(10 * time.Minute)
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusNotFound, "no such secret link")

	// A fetched secret is zeroed too.
	path = e.store(t, alice, keyID)
	e.mu.Lock()
	held = e.entries[strings.TrimPrefix(path, Path)].secret
	e.mu.Unlock()
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusOK, secret)
	if !bytes.Equal(held, make([]byte, len(secret))) {
		t.Fatalf("the fetched secret was not zeroed: %q", held)
	}
}

// TestLinkRefusals: no authenticated subject, a key id IAM does not
// issue, and a full store are refused; a full store takes new links
// again once one is fetched.
func TestLinkRefusals(t *testing.T) {
	e := newEnv(t, 2)
	if _, err := e.StoreAccessKey(context.Background(), "ana", keyID, secret, time.Time{}); err == nil || !strings.Contains(err.Error(), "authenticated caller") {
		t.Fatalf("without a principal: %v", err)
	}
	if _, err := e.StoreAccessKey(as("", "token"), "ana", keyID, secret, time.Time{}); err == nil || !strings.Contains(err.Error(), "authenticated caller") {
		t.Fatalf("without a subject: %v", err)
	}
	if _, err := e.StoreAccessKey(as("alice", "token"), "ana", "../../x", secret, time.Time{}); err == nil {
		t.Fatal("a key id IAM does not issue was kept")
	}
	alice := as("alice", "token")
	first := e.store(t, alice, keyID)
	e.store(t, alice, "AKIAEXAMPLE000000002")
	_, err := e.StoreAccessKey(alice, "ana", "AKIAEXAMPLE000000003", secret, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "2 secret links are waiting") || strings.Contains(err.Error(), secret) {
		t.Fatalf("a full store: %v", err)
	}
	wantStatus(t, e.fetch(alice, http.MethodGet, first), http.StatusOK, secret)
	e.store(t, alice, "AKIAEXAMPLE000000003")
}

// TestLinkMalformedIDs: a path that is not Path + a canonical id is 404
// before any lookup, and says what is wrong briefly (never echoing it).
func TestLinkMalformedIDs(t *testing.T) {
	e := newEnv(t, 0)
	alice := as("alice", "token")
	path := e.store(t, alice, keyID)
	id := strings.TrimPrefix(path, Path)
	last := id[len(id)-1]
	other := byte('B') // the unused low bits of the last character set: not canonical
	if last == 'B' {
		other = 'C'
	}
	long := strings.Repeat("A", 10000)
	for _, bad := range []string{
		Path, Path + id[:len(id)-1], Path + id + "A", Path + id + "/", Path + strings.ToUpper(id[:1]) + "+" + id[2:],
		Path + id[:len(id)-1] + string(other), "/other/" + id, Path + "../" + id[3:], Path + long,
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequestWithContext(alice, http.MethodGet, "/", nil)
		r.URL.Path = bad
		e.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound || w.Body.Len() > 512 {
			t.Errorf("%.60q: %d %s", bad, w.Code, w.Body)
		}
	}
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusOK, secret)
}

// TestLinkWithdraw: the plugins' removal withdraws an unfetched link of
// the caller's own (named without its id); another subject's is not
// seen; a withdrawn link answers 410.
func TestLinkWithdraw(t *testing.T) {
	e := newEnv(t, 0)
	alice := as("alice", "token")
	path := e.store(t, alice, keyID)
	if held, err := e.HeldAccessKey(as("bob", "token"), keyID); err != nil || held != "" {
		t.Fatalf("bob sees alice's link: %q %v", held, err)
	}
	if got, err := e.RemoveAccessKey(as("bob", "token"), keyID); err != nil || got != "" {
		t.Fatalf("bob withdrew alice's link: %q %v", got, err)
	}
	held, err := e.HeldAccessKey(alice, keyID)
	if err != nil || !strings.Contains(held, keyID) || strings.Contains(held, strings.TrimPrefix(path, Path)) {
		t.Fatalf("held: %q %v", held, err)
	}
	if _, err := e.HeldAccessKey(alice, "../x"); err == nil {
		t.Fatal("a bad key id was looked up")
	}
	if got, err := e.RemoveAccessKey(alice, keyID); err != nil || got != held {
		t.Fatalf("remove: %q %v", got, err)
	}
	wantStatus(t, e.fetch(alice, http.MethodGet, path), http.StatusGone, "withdrawn")
	if got, err := e.RemoveAccessKey(alice, keyID); err != nil || got != "" {
		t.Fatalf("remove again: %q %v", got, err)
	}
}

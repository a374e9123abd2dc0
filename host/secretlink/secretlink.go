// Package secretlink keeps the secret of a new access key in memory for a
// few minutes and hands out a one-time link to it on this server, for MCP
// over HTTP: the person is remote, so a file on the server is no use to
// them, and the secret must not pass through the model.
//
// A link works once, until it expires (TTL, 10 minutes unless set), and
// only for the authenticated subject whose request created the key: the
// link alone is not enough, the caller's credentials are needed too (so a
// link that leaks into a transcript or a log is useless to whoever reads
// it). Another subject is told the link does not exist (404, as for an
// unknown id), never that it exists for someone else, and the link stays
// for its owner.
package secretlink

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Path prefixes the links: it is mcpserver.SecretPath, repeated rather
// than imported because mcpserver mounts this handler (and its tests
// check that the two agree); this small package must not pull in the
// whole server.
const Path = "/secrets/"

// Defaults of Options.
const (
	DefaultTTL        = 10 * time.Minute
	DefaultMaxPending = 1000
)

// idBytes is the size of a link's random id: 256 bits, never guessed.
const idBytes = 32

// idLen is the length of an id in a link: base64url of idBytes, unpadded.
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

// Options configures a Store.
type Options struct {
	// BaseURL is the server's URL as its clients reach it
	// (https://iam.example.com); links are BaseURL + Path + id.
	BaseURL string
	// TTL is how long a link works; zero means DefaultTTL.
	TTL time.Duration
	// MaxPending bounds the links waiting to be fetched (and so the
	// secrets held in memory); zero means DefaultMaxPending. When full, a
	// new secret is refused (the catalogue then deletes the key again).
	MaxPending int
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Logger receives a line for each link made and fetched (never the
	// secret or the link's id); nil means none.
	Logger *slog.Logger
}

// Store holds the secrets behind the links. It is an http.Handler for
// GET Path{id}, to be mounted behind the server's authentication: the
// principal must be in the request's context (gate.WithPrincipal).
type Store struct {
	base       string
	ttl        time.Duration
	maxPending int
	now        func() time.Time
	logger     *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry // by link id
}

// entry is one link. Once taken, withdrawn or expired, its secret is
// zeroed and dropped, and the entry stays as a tombstone (until a TTL past
// its expiry) so that a second fetch is told why it fails.
type entry struct {
	owner     string // principalKey of the creator
	subject   string // for log lines
	user      string
	keyID     string
	created   time.Time
	expires   time.Time
	secret    []byte // nil once gone
	gone      string // "used", "withdrawn", "expired": why secret is nil
	goneAt    time.Time
	expiryJob *time.Timer
}

// New returns a Store.
func New(o Options) *Store {
	s := &Store{base: strings.TrimRight(o.BaseURL, "/"), ttl: o.TTL, maxPending: o.MaxPending, now: o.Now, logger: o.Logger, entries: map[string]*entry{}}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.maxPending <= 0 {
		s.maxPending = DefaultMaxPending
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// TTL is how long a link works.
func (s *Store) TTL() time.Duration { return s.ttl }

// principalKey names who may fetch a link: how they authenticated and
// who they are ("" when the context carries no subject). A token named
// alice and an OAuth subject alice are different people.
func principalKey(ctx context.Context) (key, subject string) {
	p := gate.PrincipalFrom(ctx)
	if p == nil || p.Subject == "" {
		return "", ""
	}
	return p.Via + "\x00" + p.Subject, p.Subject
}

// ErrNoCaller is StoreAccessKey's error for a context without an
// authenticated subject: a link nobody in particular may fetch would be a
// bearer secret.
var ErrNoCaller = errors.New("secret links need an authenticated caller (MCP over HTTP with a token or OAuth), and this request has none; use a secrets directory (--secrets-dir) for a local server")

// StoreAccessKey implements catalogue.SecretSink: it keeps secret behind
// a new one-time link for the subject of ctx and returns the link.
func (s *Store) StoreAccessKey(ctx context.Context, userName, keyID, secret string, created time.Time) (string, error) {
	link, _, err := s.StoreAccessKeyLink(ctx, userName, keyID, secret, created)
	return link, err
}

// StoreAccessKeyLink is StoreAccessKey, also returning when the link
// stops working.
func (s *Store) StoreAccessKeyLink(ctx context.Context, userName, keyID, secret string, created time.Time) (link string, expires time.Time, err error) {
	owner, subject := principalKey(ctx)
	if owner == "" {
		return "", time.Time{}, ErrNoCaller
	}
	if !iamname.AccessKeyID(keyID) {
		return "", time.Time{}, fmt.Errorf("the access key id %.40q is not one IAM issues (16-128 letters, digits and _), so its secret was not kept", keyID)
	}
	raw := make([]byte, idBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("no random id for the link: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)

	now := s.now()
	s.mu.Lock()
	s.sweepLocked(now)
	if n := s.pendingLocked(); n >= s.maxPending {
		s.mu.Unlock()
		return "", time.Time{}, fmt.Errorf("%d secret links are waiting to be fetched, the most this server holds; fetch them or let them expire (each within %s) and try again", n, s.ttl)
	}
	e := &entry{owner: owner, subject: subject, user: userName, keyID: keyID, created: created, expires: now.Add(s.ttl), secret: []byte(secret)}
	// The secret is zeroed when its time is up even if nobody asks the
	// store anything meanwhile.
	e.expiryJob = time.AfterFunc(s.ttl, func() { s.expire(id) })
	s.entries[id] = e
	s.mu.Unlock()

	s.logger.InfoContext(ctx, "kept a new access key's secret behind a one-time link", "access_key_id", keyID, "user_name", userName, "subject", subject, "expires", e.expires.UTC().Format(time.RFC3339))
	return s.base + Path + id, e.expires, nil
}

// expire zeroes the secret of id once its time is up.
func (s *Store) expire(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[id]; e != nil && e.secret != nil {
		e.drop("expired", e.expires)
	}
}

// drop zeroes and forgets e's secret.
func (e *entry) drop(why string, at time.Time) {
	clear(e.secret)
	e.secret, e.gone, e.goneAt = nil, why, at
	if e.expiryJob != nil {
		e.expiryJob.Stop()
	}
}

// sweepLocked expires the links whose time is up and forgets tombstones a
// TTL past their expiry; tombstones beyond maxPending go first, oldest
// first, so that memory stays bounded.
func (s *Store) sweepLocked(now time.Time) {
	tombs := 0
	for id, e := range s.entries {
		if e.secret != nil && !now.Before(e.expires) {
			e.drop("expired", e.expires)
		}
		if e.secret == nil {
			if !now.Before(e.expires.Add(s.ttl)) {
				delete(s.entries, id)
				continue
			}
			tombs++
		}
	}
	for tombs > s.maxPending {
		var oldest string
		for id, e := range s.entries {
			if e.secret == nil && (oldest == "" || e.expires.Before(s.entries[oldest].expires)) {
				oldest = id
			}
		}
		delete(s.entries, oldest)
		tombs--
	}
}

func (s *Store) pendingLocked() int {
	n := 0
	for _, e := range s.entries {
		if e.secret != nil {
			n++
		}
	}
	return n
}

// Pending is the number of links waiting to be fetched.
func (s *Store) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
	return s.pendingLocked()
}

// findLocked is the unfetched link of keyID that the subject of ctx
// owns, or "".
func (s *Store) findLocked(ctx context.Context, keyID string) string {
	owner, _ := principalKey(ctx)
	if owner == "" {
		return ""
	}
	s.sweepLocked(s.now())
	for id, e := range s.entries {
		if e.secret != nil && e.keyID == keyID && e.owner == owner {
			return id
		}
	}
	return ""
}

// describe names e's link in answers and logs without its id, which is
// the one thing the link's owner must keep to themselves.
func (e *entry) describe() string {
	return "the one-time secret link of " + e.keyID + " (unfetched, working until " + e.expires.UTC().Format(time.RFC3339) + ")"
}

// HeldAccessKey says whether an unfetched link of keyID, made for the
// subject of ctx, is waiting, and names it (never its URL): "" when
// there is none (fetched, expired, or never made here for this subject).
// It is the plugins' view (plugin.SecretFiles).
func (s *Store) HeldAccessKey(ctx context.Context, keyID string) (string, error) {
	if !iamname.AccessKeyID(keyID) {
		return "", fmt.Errorf("%.40q is not an access key id", keyID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := s.findLocked(ctx, keyID); id != "" {
		return s.entries[id].describe(), nil
	}
	return "", nil
}

// RemoveAccessKey withdraws the unfetched link of keyID made for the
// subject of ctx — its secret is zeroed, and fetching it answers 410 —
// and names what was withdrawn, or "" when there was none. Deciding
// whether it may go (the key has been used) is the caller's.
func (s *Store) RemoveAccessKey(ctx context.Context, keyID string) (string, error) {
	if !iamname.AccessKeyID(keyID) {
		return "", fmt.Errorf("%.40q is not an access key id", keyID)
	}
	s.mu.Lock()
	id := s.findLocked(ctx, keyID)
	if id == "" {
		s.mu.Unlock()
		return "", nil
	}
	e := s.entries[id]
	what := e.describe()
	e.drop("withdrawn", s.now())
	s.mu.Unlock()
	s.logger.InfoContext(ctx, "withdrew an unfetched one-time secret link", "access_key_id", keyID, "subject", e.subject)
	return what, nil
}

// ParseID returns the link id of a request path (Path + id), or an error
// saying what is wrong with it. It checks length and alphabet before
// anything is looked up, and takes only the canonical encoding of
// idBytes.
func ParseID(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, Path)
	if !ok {
		return "", fmt.Errorf("a secret link's path starts with %s", Path)
	}
	if len(rest) != idLen {
		return "", fmt.Errorf("a secret link's id has %d characters", idLen)
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", errors.New("a secret link's id has only letters, digits, - and _")
		}
	}
	// Strict: the unused low bits of the last character must be zero, so
	// that each id has one spelling only.
	if raw, err := base64.RawURLEncoding.Strict().DecodeString(rest); err != nil || len(raw) != idBytes {
		return "", errors.New("a secret link's id is not one this server makes")
	}
	return rest, nil
}

// ServeHTTP serves GET Path{id}: the secret, once, to its owner.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing here may be cached, sniffed, framed, or leak its URL onward.
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'")
	if r.Method != http.MethodGet {
		// Not even HEAD: a link preview or a prefetch must not consume it.
		h.Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "a secret link is fetched with GET only")
		return
	}
	owner, subject := principalKey(r.Context())
	if owner == "" {
		writeError(w, http.StatusUnauthorized, "a secret link works only for the authenticated caller who created the key: send the same credentials (Authorization: Bearer …) as for the MCP endpoint")
		return
	}
	id, err := ParseID(r.URL.Path)
	if err != nil {
		writeError(w, http.StatusNotFound, "there is no such secret link: "+err.Error())
		return
	}
	now := s.now()
	s.mu.Lock()
	s.sweepLocked(now)
	e := s.entries[id]
	if e == nil || e.owner != owner {
		s.mu.Unlock()
		// Another subject is told what an unknown id is told: a link's
		// existence is nobody else's business, and the owner keeps it.
		writeError(w, http.StatusNotFound, "there is no such secret link for you: it never existed, or it expired long ago, or it was made for someone else (a link works only with the credentials of whoever created the key)")
		return
	}
	if e.secret == nil {
		gone, goneAt, keyID, expires := e.gone, e.goneAt, e.keyID, e.expires
		s.mu.Unlock()
		switch gone {
		case "used":
			writeError(w, http.StatusGone, "this link was used already (at "+goneAt.UTC().Format(time.RFC3339)+"): a secret is handed out once. If you do not have it, delete access key "+keyID+" and create a new one")
		case "withdrawn":
			writeError(w, http.StatusGone, "this link was withdrawn at "+goneAt.UTC().Format(time.RFC3339)+" because access key "+keyID+" has been used, so its secret had reached its user")
		default:
			writeError(w, http.StatusGone, "this link expired at "+expires.UTC().Format(time.RFC3339)+"; create a new key (and delete this one, "+keyID+")")
		}
		return
	}
	body := secretJSON(e)
	e.drop("used", now)
	user, keyID, expires := e.user, e.keyID, e.expires
	s.mu.Unlock()

	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	clear(body)
	s.logger.InfoContext(r.Context(), "a one-time secret link was fetched", "access_key_id", keyID, "user_name", user, "subject", subject, "expires", expires.UTC().Format(time.RFC3339))
}

// secretJSON is {user_name, access_key_id, secret_access_key,
// create_date}, built by hand so that the secret is copied only into this
// buffer, which the caller zeroes once written (a string could not be).
func secretJSON(e *entry) []byte {
	var b bytes.Buffer
	// Grown once, for the worst case (every byte escaped), so that no
	// earlier, smaller copy of the secret is left behind unzeroed.
	b.Grow(256 + 6*(len(e.user)+len(e.keyID)+len(e.secret)))
	field := func(name, v string) {
		q, _ := json.Marshal(v)
		b.WriteString(`"` + name + `":`)
		b.Write(q)
	}
	b.WriteByte('{')
	field("user_name", e.user)
	b.WriteByte(',')
	field("access_key_id", e.keyID)
	b.WriteString(`,"secret_access_key":"`)
	const hex = "0123456789abcdef"
	for _, c := range e.secret {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			// IAM's secrets are base64; a control character is escaped,
			// never emitted raw into JSON.
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString(`",`)
	field("create_date", e.created.UTC().Format(time.RFC3339))
	b.WriteString("}\n")
	return b.Bytes()
}

// writeError answers {"error": message} with status.
func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": message})
}

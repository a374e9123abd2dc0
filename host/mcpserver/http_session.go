package mcpserver

import (
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/host/httpauth"
)

// Sessions of the protocol versions before 2026-07-28 (initialize →
// Mcp-Session-Id). mcp-go's default session id manager validates nothing:
// any well-formed id is "a session". Here an id is 128 random bits, known
// only once this server minted it, and bound to the principal that
// initialized it (Via+Subject) and to the narrowing that principal had
// then. A request carrying the id of another principal's session is
// answered exactly as one carrying an unknown id (404), so an id that
// leaks tells its finder nothing and gives them nothing.

// Session bounds: how many sessions are kept (the least recently used is
// dropped first) and how long an idle one lives.
const (
	MaxHTTPSessions   = 10000
	HTTPSessionIdle   = 30 * time.Minute
	sessionIDBytes    = 16 // 128 bits
	sessionIDHexChars = 2 * sessionIDBytes
)

// httpSession is what the server knows of a session.
type httpSession struct {
	id         string
	owner      string               // principalKey of who initialized it
	narrowings []httpauth.Narrowing // the narrowing it was opened with
	last       time.Time            // last request
	elem       *list.Element
}

// sessionStore holds the sessions, bounded in number and idle time.
type sessionStore struct {
	logger *slog.Logger
	now    func() time.Time
	max    int
	idle   time.Duration

	mu     sync.Mutex
	byID   map[string]*httpSession
	order  *list.List // least recently used first
	closed func(id string)
}

func newSessionStore(logger *slog.Logger) *sessionStore {
	return &sessionStore{logger: logger, now: time.Now, max: MaxHTTPSessions, idle: HTTPSessionIdle,
		byID: map[string]*httpSession{}, order: list.New()}
}

// principalKey names who a session belongs to: "" without authentication.
func principalKey(id *httpauth.Identity) string {
	if id == nil {
		return ""
	}
	return id.Via + "\x00" + id.Subject
}

// create mints a session for owner with its narrowings.
func (st *sessionStore) create(owner string, narrowings []httpauth.Narrowing) string {
	var b [sessionIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("mcpserver: no randomness for a session id: " + err.Error()) // crypto/rand never fails on supported systems
	}
	sess := &httpSession{id: hex.EncodeToString(b[:]), owner: owner, narrowings: narrowings}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	for st.order.Len() >= st.max {
		old := st.order.Front().Value.(*httpSession)
		st.logger.Info("dropped the least recently used MCP session: too many sessions", "limit", st.max)
		st.remove(old)
	}
	sess.last = st.now()
	sess.elem = st.order.PushBack(sess)
	st.byID[sess.id] = sess
	return sess.id
}

// lookup returns the session id names, if it exists and belongs to owner,
// and marks it used. A session of another owner is logged and reported as
// absent.
func (st *sessionStore) lookup(id, owner string) *httpSession {
	if len(id) != sessionIDHexChars {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	sess := st.byID[id]
	if sess == nil {
		return nil
	}
	if sess.owner != owner {
		st.logger.Warn("refused a request carrying the session id of another subject; answered as an unknown session")
		return nil
	}
	sess.last = st.now()
	st.order.MoveToBack(sess.elem)
	return sess
}

// terminate ends the session id (no error when it is gone already).
func (st *sessionStore) terminate(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if sess := st.byID[id]; sess != nil {
		st.remove(sess)
	}
}

func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.order.Len()
}

func (st *sessionStore) expire() {
	cutoff := st.now().Add(-st.idle)
	for e := st.order.Front(); e != nil; e = st.order.Front() {
		sess := e.Value.(*httpSession)
		if sess.last.After(cutoff) {
			return
		}
		st.remove(sess)
	}
}

func (st *sessionStore) remove(sess *httpSession) {
	st.order.Remove(sess.elem)
	delete(st.byID, sess.id)
	if st.closed != nil {
		// mcp-go's per-session state (registered session, log level,
		// capabilities) goes with it; run outside the lock's callers'
		// expectations but cheaply: it only deletes map entries.
		go st.closed(sess.id)
	}
}

// errNoSession is what the manager answers for an id it does not hold.
var errNoSession = errors.New("unknown session")

// sessionResolver gives mcp-go, per request, a SessionIdManager bound to
// the request's principal and access (set in its context by the handler).
type sessionResolver struct{ st *sessionStore }

func (r sessionResolver) ResolveSessionIdManager(req *http.Request) server.SessionIdManager {
	m := boundManager{st: r.st}
	if req != nil {
		if b := bindingFrom(req.Context()); b != nil {
			m.b = b
		}
	}
	return m
}

// binding is who a request is for, as the session store needs it.
type binding struct {
	owner      string
	narrowings []httpauth.Narrowing // the request's own (rules and headers)
}

type bindingKey struct{}

func bindingFrom(ctx interface{ Value(any) any }) *binding {
	b, _ := ctx.Value(bindingKey{}).(*binding)
	return b
}

// boundManager is the session id manager for one request.
type boundManager struct {
	st *sessionStore
	b  *binding // nil outside a request (mcp-go's sweeper, shutdown)
}

func (m boundManager) Generate() string {
	if m.b == nil {
		// mcp-go mints ids outside POST initialize only for a GET without
		// one, which the handler refuses before mcp-go sees it.
		return ""
	}
	return m.st.create(m.b.owner, m.b.narrowings)
}

func (m boundManager) Validate(id string) (bool, error) {
	if m.b == nil || m.st.lookup(id, m.b.owner) == nil {
		return false, errNoSession
	}
	return false, nil
}

func (m boundManager) Terminate(id string) (bool, error) {
	if m.b != nil && m.st.lookup(id, m.b.owner) == nil {
		return false, nil // not this principal's: nothing to terminate for them
	}
	m.st.terminate(id)
	return false, nil
}

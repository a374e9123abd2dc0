package mcpserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// ServeStreamableHTTP serves MCP over Streamable HTTP on opts.Addr (or
// opts.Listener) until ctx ends, then shuts down gracefully: /healthz
// answers 503 and new MCP requests are refused with 503 at once, the calls
// in flight get opts.ShutdownTimeout to finish, then the contexts of those
// still running are cancelled and their connections closed. It returns nil
// after a shutdown, or the error that kept it from serving.
//
// What a request goes through is HTTPHandler's.
func (s *Server) ServeStreamableHTTP(ctx context.Context, opts HTTPOptions) error {
	ln := opts.Listener
	if ln == nil {
		if opts.Addr == "" {
			return errors.New("mcpserver: serving over HTTP needs an address to listen on (host:port)")
		}
		if err := checkLoopback(opts.Addr, opts.Auth); err != nil {
			return err
		}
	} else if err := checkLoopback(ln.Addr().String(), opts.Auth); err != nil {
		return err
	}
	var tlsConfig *tls.Config
	switch {
	case (opts.TLSCert == "") != (opts.TLSKey == ""):
		return errors.New("mcpserver: TLS needs both a certificate and its key (--tls-cert and --tls-key), or neither")
	case opts.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return fmt.Errorf("mcpserver: cannot load the TLS certificate %s with its key %s: %w (both are PEM files; the key must be the certificate's)", opts.TLSCert, opts.TLSKey, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return fmt.Errorf("mcpserver: cannot listen on %s: %w", opts.Addr, err)
		}
	}
	defer ln.Close()
	h, err := s.newHTTPHandler(opts, ln.Addr())
	if err != nil {
		return err
	}
	// Every call's context derives from base, so that the calls still
	// running when the shutdown's bound has passed can be cancelled.
	base, cancelCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelCalls()
	srv := &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		TLSConfig:         tlsConfig,
		BaseContext:       func(net.Listener) context.Context { return base },
		// net/http's own complaints (a TLS handshake from a port scanner)
		// are about a connection, not the server: debug level.
		ErrorLog: slog.NewLogLogger(unwrapClientLog(s.logger.Handler()), slog.LevelDebug),
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	s.logger.Info("serving MCP over HTTP", "url", scheme+"://"+ln.Addr().String()+EndpointPath,
		"auth", authKind(opts.Auth), "tls", tlsConfig != nil, "public_url", opts.PublicURL)
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("mcpserver: serving HTTP: %w", err)
	case <-ctx.Done():
	}
	h.stopping.Store(true)
	timeout := opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	s.logger.Info("shutting down: refusing new requests, letting calls in flight finish", "within", timeout)
	// SSE streams that only listen (GET) carry no call: they end now.
	h.mcp.Shutdown(context.Background())
	// The listener stays open meanwhile, so that a load balancer reads
	// 503 from /healthz and a client that still sends is told why (a
	// closed port would say nothing).
	if !h.drain(timeout) {
		s.logger.Warn("calls still running after the shutdown bound; cancelling them", "waited", timeout, "calls", h.inflight.Load())
		cancelCalls()
		if !h.drain(stopTimeout) {
			s.logger.Error("calls did not end after they were cancelled; closing their connections", "waited", stopTimeout, "calls", h.inflight.Load())
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if srv.Shutdown(sctx) != nil {
		srv.Close()
	}
	<-served
	s.logger.Info("stopped serving MCP over HTTP")
	return nil
}

// HTTPHandler returns the handler ServeStreamableHTTP serves, for a
// server that listens itself (opts.Addr names the address its clients
// reach, for the Host allowlist; opts.Listener, when set, is read for its
// address only). Every request goes through, in order:
//
//  1. the Host header against the allowlist (DNS rebinding) and the
//     Origin header, when present, against the allowed origins: 403;
//  2. /healthz and the metadata document, answered without
//     authentication and without any IAM call;
//  3. for /mcp and the secret links, authentication (opts.Auth): 401 or
//     403 with the challenge; then the operator's rules for the identity
//     and the request's X-MCP-* headers (400 when malformed) make its
//     access: a gate.Principal in its context, which the gate applies to
//     every call made for it, and the set of tools it may list and call;
//  4. for /mcp, a session id of the earlier protocol must be one this
//     server minted for the same principal (else 404, as unknown), whose
//     narrowing then applies too; the body is capped at MaxMessageBytes
//     and checked as ServeStdio checks a line, before mcp-go reads it.
func (s *Server) HTTPHandler(opts HTTPOptions) (http.Handler, error) {
	addr := opts.Addr
	if opts.Listener != nil {
		addr = opts.Listener.Addr().String()
	}
	if err := checkLoopback(addr, opts.Auth); err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: the address %q is not host:port: %w", addr, err)
	}
	return s.newHTTPHandler(opts, &net.TCPAddr{IP: net.ParseIP(host), Port: atoiPort(port)})
}

func atoiPort(p string) int {
	n, _ := strconv.Atoi(p)
	return n
}

// checkLoopback refuses to serve a non-loopback address without
// authentication: IAM must not be open to whoever reaches the port.
func checkLoopback(addr string, auth httpauth.Authenticator) error {
	if auth != nil {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("mcpserver: the address %q is not host:port: %w", addr, err)
	}
	if !isLoopbackName(host) {
		return fmt.Errorf("mcpserver: %s is not a loopback address: serving IAM to the network needs authentication: --http-token-file or --oauth-issuer (or listen on 127.0.0.1)", addr)
	}
	return nil
}

func isLoopbackName(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func authKind(a httpauth.Authenticator) string {
	switch {
	case a == nil:
		return "none (loopback only)"
	case isMetadataProvider(a):
		return "oauth"
	}
	return "token"
}

func isMetadataProvider(a httpauth.Authenticator) bool {
	_, ok := a.(httpauth.MetadataProvider)
	return ok
}

// httpHandler is HTTPHandler's handler.
type httpHandler struct {
	s        *Server
	opts     HTTPOptions
	mcp      *server.StreamableHTTPServer
	sessions *sessionStore
	hosts    map[string]bool // lower-case Host values accepted
	origins  map[string]bool // lower-case origins accepted
	metadata []byte          // the metadata document, nil when none
	stopping atomic.Bool
	inflight atomic.Int64 // MCP POSTs being served
}

// httpInFlight counts the MCP POSTs being served by every handler of the
// process, for tests that must act while a call runs.
var httpInFlight atomic.Int64

// drain waits up to limit for the MCP POSTs in flight to end; it reports
// whether they did. Shutdown is rare and short: polling is enough.
func (h *httpHandler) drain(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for h.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

func (s *Server) newHTTPHandler(opts HTTPOptions, addr net.Addr) (*httpHandler, error) {
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return nil, errors.New("mcpserver: TLS needs both a certificate and its key (--tls-cert and --tls-key), or neither")
	}
	if opts.Rules != nil {
		for _, n := range opts.Rules.All() {
			if err := s.checkNarrowing(n); err != nil {
				return nil, fmt.Errorf("mcpserver: the rules file: %w", err)
			}
		}
	}
	h := &httpHandler{s: s, opts: opts, sessions: newSessionStore(s.logger),
		hosts: map[string]bool{}, origins: map[string]bool{}}
	port := ""
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
	} else if _, p, err := net.SplitHostPort(addr.String()); err == nil {
		port = p
	}
	for _, name := range []string{"localhost", "127.0.0.1", "[::1]"} {
		h.hosts[name+":"+port] = true
		h.origins["http://"+name+":"+port] = true
		h.origins["https://"+name+":"+port] = true
	}
	if opts.PublicURL != "" {
		u, err := url.Parse(opts.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("mcpserver: the public URL %q is not an http(s)://host[:port] URL", opts.PublicURL)
		}
		h.hosts[strings.ToLower(u.Host)] = true
		h.origins[strings.ToLower(u.Scheme+"://"+u.Host)] = true
	}
	for _, v := range opts.AllowedHosts {
		h.hosts[strings.ToLower(v)] = true
	}
	for _, v := range opts.AllowedOrigins {
		h.origins[strings.ToLower(strings.TrimSuffix(v, "/"))] = true
	}
	if mp, ok := opts.Auth.(httpauth.MetadataProvider); ok {
		b, err := json.Marshal(mp.Metadata())
		if err != nil {
			return nil, fmt.Errorf("mcpserver: the protected-resource metadata: %w", err)
		}
		h.metadata = b
	}
	// A session this server drops (idle, or too many) is dropped from
	// mcp-go too, and with it from the per-session state the hooks keep.
	h.sessions.closed = func(id string) { s.mcp.UnregisterSession(context.Background(), id) }
	h.mcp = server.NewStreamableHTTPServer(s.mcp,
		server.WithEndpointPath(EndpointPath),
		server.WithSessionIdManagerResolver(sessionResolver{h.sessions}),
		// The Host allowlist below is this server's, and stricter: it
		// also applies behind a proxy that connects over loopback.
		server.WithDisableLocalhostProtection(true),
		// mcp-go's own per-session state expires with the sessions.
		server.WithSessionIdleTTL(HTTPSessionIdle),
		server.WithStreamableHTTPLogger(slog.New(unwrapClientLog(s.logger.Handler()))),
	)
	return h, nil
}

// maxEcho bounds what an HTTP refusal repeats of the request.
const maxEcho = 64

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hosts[strings.ToLower(r.Host)] {
		h.s.logger.Warn("refused a request for a Host this server does not answer to", "host", shortPrefix(r.Host), "remote", r.RemoteAddr)
		plain(w, http.StatusForbidden, fmt.Sprintf("Forbidden: the Host header %s is not one this server answers to (protection against DNS rebinding); the operator can allow it with --http-allowed-hosts", quoteShort(r.Host)))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !h.origins[strings.ToLower(origin)] {
		h.s.logger.Warn("refused a request from an origin not allowed", "origin", shortPrefix(origin), "remote", r.RemoteAddr)
		plain(w, http.StatusForbidden, fmt.Sprintf("Forbidden: the Origin %s is not allowed on this server; the operator can allow it with --http-allowed-origins", quoteShort(origin)))
		return
	}
	switch p := r.URL.Path; {
	case p == HealthPath:
		h.health(w, r)
	case p == MetadataPath || p == MetadataPath+EndpointPath:
		if h.metadata == nil {
			http.NotFound(w, r)
			return
		}
		if !readWithGet(w, r, "the metadata document") {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(h.metadata)
	case p == EndpointPath:
		h.serveMCP(w, r)
	case strings.HasPrefix(p, SecretPath) && h.opts.Secrets != nil:
		ctx, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		h.opts.Secrets.ServeHTTP(w, r.WithContext(ctx))
	default:
		http.NotFound(w, r)
	}
}

// readWithGet refuses (405) a request for what that is not GET or HEAD,
// and reports whether it may go on.
func readWithGet(w http.ResponseWriter, r *http.Request, what string) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	plain(w, http.StatusMethodNotAllowed, "Method Not Allowed: "+what+" is read with GET or HEAD")
	return false
}

func (h *httpHandler) health(w http.ResponseWriter, r *http.Request) {
	if !readWithGet(w, r, HealthPath) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.stopping.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"stopping"}`+"\n")
		return
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// authenticate authenticates r and works out its access from the rules
// and its headers; it answers the request itself (and reports false) when
// it is refused. The context returned carries the principal, the access
// and the session binding.
func (h *httpHandler) authenticate(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	var id *httpauth.Identity
	var narrowings []httpauth.Narrowing
	if h.opts.Auth != nil {
		var ref *httpauth.Refusal
		if id, ref = h.opts.Auth.Authenticate(r); ref != nil {
			h.refuseAuth(w, r, ref)
			return nil, false
		}
		if h.opts.Rules != nil {
			if narrowings, ref = h.opts.Rules.For(id); ref != nil {
				h.refuseAuth(w, r, ref)
				return nil, false
			}
		}
	}
	headers, err := h.s.headerNarrowings(r.Header)
	if err != nil {
		plain(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return nil, false
	}
	narrowings = append(narrowings, headers...)
	b := &binding{owner: principalKey(id), narrowings: narrowings}
	ctx := context.WithValue(r.Context(), bindingKey{}, b)
	ctx = context.WithValue(ctx, identityKey{}, id)
	acc, err := h.s.newAccess(id, narrowings)
	if err != nil {
		plain(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return nil, false
	}
	return h.withAccess(ctx, acc), true
}

type identityKey struct{}

func (h *httpHandler) withAccess(ctx context.Context, acc *access) context.Context {
	ctx = withAccess(ctx, acc)
	if acc.principal != nil {
		ctx = gate.WithPrincipal(ctx, acc.principal)
	}
	return ctx
}

func (h *httpHandler) refuseAuth(w http.ResponseWriter, r *http.Request, ref *httpauth.Refusal) {
	// Never the Authorization header: it may be a valid token of someone.
	h.s.logger.Info("refused an unauthenticated request", "status", ref.Status, "code", ref.Code, "remote", r.RemoteAddr)
	if c := h.opts.Auth.Challenge(ref); c != "" {
		w.Header().Set("WWW-Authenticate", c)
	}
	status := ref.Status
	if status == 0 {
		status = http.StatusUnauthorized
	}
	plain(w, status, http.StatusText(status)+": "+ref.Message)
}

// serveMCP serves the MCP endpoint: authentication, the session, the
// body's checks, then mcp-go.
func (h *httpHandler) serveMCP(w http.ResponseWriter, r *http.Request) {
	if h.stopping.Load() {
		h.refuseStopping(w)
		return
	}
	ctx, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodDelete:
		if isModernHeader(r.Header) {
			break // mcp-go explains that 2026-07-28 has no sessions
		}
		sid := r.Header.Get(server.HeaderKeySessionID)
		if sid == "" {
			plain(w, http.StatusBadRequest, "Bad Request: "+r.Method+" needs the Mcp-Session-Id header of a session this server opened (initialize opens one)")
			return
		}
		sess := h.sessions.lookup(sid, bindingFrom(ctx).owner)
		if sess == nil {
			plain(w, http.StatusNotFound, "Not Found: no such session; initialize a new one")
			return
		}
		acc, err := h.sessionAccess(ctx, sess)
		if err != nil {
			plain(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
		r = r.WithContext(h.withAccess(ctx, acc))
		h.mcp.ServeHTTP(w, r)
		return
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		plain(w, http.StatusMethodNotAllowed, "Method Not Allowed: the MCP endpoint takes POST (and GET or DELETE with a session)")
		return
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxMessageBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.s.logger.Warn("refused a message over the size limit", "limit", MaxMessageBytes)
			writeRPCError(w, http.StatusRequestEntityTooLarge, nil, mcp.INVALID_REQUEST, fmt.Sprintf(
				"Invalid Request: the message is over this server's limit of %d bytes per message (IAM's largest document is 10,240 characters): send smaller arguments", MaxMessageBytes))
			return
		}
		plain(w, http.StatusBadRequest, "Bad Request: the body could not be read")
		return
	}
	m, bad := readMessage(body)
	if bad == nil && m == nil {
		bad = &refusal{code: mcp.PARSE_ERROR, message: "Parse error: the body is empty; POST one JSON-RPC message"}
	}
	if bad != nil {
		h.refuseMessage(w, bad, isModernHeader(r.Header))
		return
	}
	// The earlier protocol's session: every message but initialize names
	// one, which must be this principal's.
	acc := accessFrom(ctx)
	if !m.modern && !(m.request && m.method == string(mcp.MethodInitialize)) {
		sid := r.Header.Get(server.HeaderKeySessionID)
		sess := h.sessions.lookup(sid, bindingFrom(ctx).owner)
		if sess == nil {
			// mcp-go answers a missing or unknown session itself (400 /
			// 404); this only makes a foreign one look unknown.
			if sid != "" {
				plain(w, http.StatusNotFound, "Not Found: no such session; initialize a new one")
				return
			}
		} else if acc, err = h.sessionAccess(ctx, sess); err != nil {
			plain(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
		ctx = h.withAccess(ctx, acc)
	}
	// A call is counted, then the shutdown checked again: the shutdown,
	// once it has seen no call in flight, cannot miss one that passed the
	// check. A subscriptions/listen stream is no call: it ends with the
	// server.
	if m.method != string(mcp.MethodSubscriptionsListen) {
		h.inflight.Add(1)
		httpInFlight.Add(1)
		defer func() { h.inflight.Add(-1); httpInFlight.Add(-1) }()
		if h.stopping.Load() {
			h.refuseStopping(w)
			return
		}
	}
	if drop, bad := h.s.checkHTTPRequest(m, acc); bad != nil {
		if bad.narrowed != "" {
			// The gate writes every audit line: a call the person's
			// narrowing refused is recorded for them like the gate's own
			// refusals.
			h.s.gate.Refused(ctx, gate.Caller{Kind: gate.BuiltIn, Tool: bad.narrowed}, bad.narrowed, nil,
				api.Errorf(api.NotGranted, "%s", strings.TrimPrefix(bad.message, "Invalid params: ")))
		}
		h.refuseMessage(w, bad, m.modern)
		return
	} else if drop {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	cw := newCapWriter(w)
	if m.method == string(mcp.MethodToolsCall) {
		ctx = context.WithValue(ctx, httpStreamKey{}, &httpStream{cw})
	}
	r = r.WithContext(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	h.mcp.ServeHTTP(cw, r)
	cw.finish()
}

func (h *httpHandler) refuseStopping(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Connection", "close")
	plain(w, http.StatusServiceUnavailable, "Service Unavailable: the server is shutting down and takes no new requests; retry in a moment (another instance will answer)")
}

// sessionAccess is the access of a request in sess: the session's
// narrowing, then the request's own.
func (h *httpHandler) sessionAccess(ctx context.Context, sess *httpSession) (*access, error) {
	id, _ := ctx.Value(identityKey{}).(*httpauth.Identity)
	own := bindingFrom(ctx).narrowings
	all := make([]httpauth.Narrowing, 0, len(sess.narrowings)+len(own))
	all = append(append(all, sess.narrowings...), own...)
	return h.s.newAccess(id, all)
}

// checkHTTPRequest applies to a message posted over HTTP the checks
// ServeStdio applies to a line that depend on the message and on what the
// request may call, not on stdio's own bookkeeping (mcp-go's sessions keep
// the lifecycle over HTTP). drop: a notification nobody is to answer,
// accepted and not passed on.
func (s *Server) checkHTTPRequest(m *message, acc *access) (drop bool, bad *refusal) {
	if !m.request {
		if result := m.members.member("result"); result != nil && result.value[0] == '{' && looksLikeElicitation(result.sub) {
			if problem := checkElicitationResult(result); problem != "" {
				return false, &refusal{id: m.id, code: mcp.INVALID_PARAMS, message: "Invalid params: the answer to the question was malformed: " + problem}
			}
		}
		return false, nil
	}
	if m.id == nil {
		return m.overflow, nil
	}
	if bad := listCursor(m.method, m.params); bad != "" {
		return false, &refusal{id: m.id, code: mcp.INVALID_PARAMS, message: bad}
	}
	if m.method == string(mcp.MethodToolsCall) {
		return false, s.checkToolCall(m, acc)
	}
	return false, nil
}

// looksLikeElicitation reports whether a response's result is an answer
// to an elicitation (its only results with an action): over HTTP the
// transport does not keep which method each of its requests was.
func looksLikeElicitation(ms members) bool {
	for _, m := range ms {
		if strings.EqualFold(m.key, "action") {
			return true
		}
	}
	return false
}

// refuseMessage answers a message refused before mcp-go saw it: a
// JSON-RPC error, with 400 when there is no request to tie it to or the
// request is of 2026-07-28 (which maps its errors onto HTTP statuses);
// else 200, as mcp-go answers a request of the earlier protocol.
func (h *httpHandler) refuseMessage(w http.ResponseWriter, bad *refusal, modern bool) {
	h.s.logger.Debug("refused a message", "code", bad.code, "reason", bad.message)
	status := http.StatusOK
	if bad.id == nil || modern {
		status = http.StatusBadRequest
	}
	writeRPCError(w, status, bad.id, bad.code, bad.message)
}

func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int, message string) {
	b, err := errorResponse(id, code, message)
	if err != nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// plain writes a short plain-text answer.
func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func isModernHeader(h http.Header) bool {
	return mcp.IsModernProtocol(h.Get(mcp.HeaderProtocolVersion))
}

// capWriter is the response writer mcp-go writes to. It holds back a
// JSON response (not an SSE stream) so that an error mcp-go writes has its
// echoes of the request cut (capError), as over stdio; a JSON response is
// one message, written once. And it lets this package write progress and
// log notifications on the call's own SSE stream, synchronously, while
// the call runs (httpStream), between mcp-go's events: each event is one
// Write, under one lock. mcp-go's header map is its own (hdr), copied out
// when mcp-go writes its status, so that the two writers never share a
// map.
type capWriter struct {
	w      http.ResponseWriter
	hdr    http.Header
	mu     sync.Mutex
	status int
	buf    *bytes.Buffer // a JSON response held back
	done   bool
}

func newCapWriter(w http.ResponseWriter) *capWriter {
	return &capWriter{w: w, hdr: http.Header{}}
}

func (c *capWriter) Header() http.Header { return c.hdr }

func (c *capWriter) WriteHeader(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeHeader(status, c.hdr)
}

func (c *capWriter) writeHeader(status int, hdr http.Header) {
	if c.status != 0 {
		return
	}
	c.status = status
	for k, v := range hdr {
		c.w.Header()[k] = v
	}
	if strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		c.buf = &bytes.Buffer{}
		return
	}
	c.w.WriteHeader(status)
}

func (c *capWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == 0 {
		c.writeHeader(http.StatusOK, c.hdr)
	}
	if c.buf != nil {
		if c.buf.Len()+len(p) > 4*MaxMessageBytes {
			return 0, errors.New("response too large to hold")
		}
		return c.buf.Write(p)
	}
	return c.w.Write(p)
}

func (c *capWriter) Flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf != nil {
		return
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// event writes one SSE event of this package's own, opening the stream
// when nothing is written yet; it fails once a JSON response is held or
// the call's answer is out.
func (c *capWriter) event(msg []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || c.buf != nil {
		return errors.New("the response is no longer a stream")
	}
	if c.status == 0 {
		c.writeHeader(http.StatusOK, http.Header{"Content-Type": {"text/event-stream"}, "Cache-Control": {"no-cache"}})
	}
	if _, err := c.w.Write([]byte("event: message\ndata: " + string(msg) + "\n\n")); err != nil {
		return err
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// finish writes a held response, its error capped; nothing more is
// written after it.
func (c *capWriter) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	if c.buf == nil {
		return
	}
	out := capError(c.buf.Bytes())
	c.w.Header().Del("Content-Length")
	c.w.WriteHeader(c.status)
	c.w.Write(out)
}

// httpStream is a tools/call's response stream, for its notifications.
type httpStream struct{ w *capWriter }

type httpStreamKey struct{}

// httpStreamFrom returns the stream of the HTTP tools/call ctx serves.
func httpStreamFrom(ctx context.Context) *httpStream {
	st, _ := ctx.Value(httpStreamKey{}).(*httpStream)
	return st
}

// send writes a notification on the call's stream, before its result:
// mcp-go's own queue would hand it to a goroutine that may lose the last
// one when the result is written. mcp-go is told that the response is a
// stream, so that it writes the result as an event of it.
func (st *httpStream) send(ctx context.Context, method string, params map[string]any) error {
	msg, err := json.Marshal(mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION,
		Notification: mcp.Notification{Method: method, Params: mcp.NotificationParams{AdditionalFields: params}}})
	if err != nil {
		return err
	}
	if sess, ok := server.ClientSessionFromContext(ctx).(server.SessionWithStreamableHTTPConfig); ok {
		sess.UpgradeToSSEWhenReceiveNotification()
	}
	return st.w.event(msg)
}

// Unwrap lets http.ResponseController reach the connection.
func (c *capWriter) Unwrap() http.ResponseWriter { return c.w }

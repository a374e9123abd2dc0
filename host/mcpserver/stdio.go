package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ServeStdio speaks MCP over in and out (newline-delimited JSON-RPC) until in
// reaches EOF or ctx ends; either is a normal end and returns nil.
//
// Every line is read, checked and answered here before mcp-go sees it, so
// that no line of input, however malformed, can stop the server, wedge it,
// or reach a handler in a shape mcp-go would read differently from the way
// this package decided about it. The line is parsed once (readMessage), and
// every check reads that parse. What is done here is what mcp-go v1.2.1
// does not do itself (its stdio server reads a line of any length, answers
// a blank line with a parse error and drops a last line without a newline;
// it decodes with encoding/json; it serves any request before initialize;
// it answers an unknown tool with the right code but without saying why or
// what to do; it files requests in flight by the id's printed form, answers
// a cancelled request, and cancels every call at EOF):
//
//  1. Framing. A line of more than MaxMessageBytes is discarded up to its
//     newline without being held in memory and answered with an Invalid
//     Request error carrying its id when the id can be found in it. Blank
//     lines are skipped. A last line without a newline is a message too.
//  2. Strict JSON-RPC 2.0. A message is one JSON object in UTF-8 with
//     exactly the members JSON-RPC names (jsonrpc, id, method, params,
//     result, error), each spelled exactly and present once: encoding/json
//     would match "ID" or "Method" case-insensitively, and a second "id"
//     silently wins over the first, so mcp-go would run something other
//     than what was checked. An id is a string or an integer of at most
//     2^53-1 in magnitude: mcp-go reads ids into float64 and echoes them
//     from there, so a larger or fractional id would come back spelled
//     differently, and a client could not match the answer. params, when
//     present, is an object without two keys that differ only in case.
//     Batches (arrays) are refused: MCP removed them in 2025-06-18 and
//     mcp-go does not implement them. Each refusal is a JSON-RPC error
//     response that says what was wrong and what to do, naming at most a
//     short prefix of the bad value.
//  3. The lifecycle. Before initialize, requests other than ping are
//     refused (see refuseBeforeInitialize for the spec text), so no tool,
//     and so no mutation, runs before the handshake. Requests stamped with
//     a stateless protocol version in _meta (2026-07-28 and later, which
//     have no initialize) are decided the same way mcp-go decides them and
//     passed on. Input after an initialize request is read only once that
//     request is answered, so that whether the session is initialised is
//     decided in the order the client wrote, not by goroutine timing.
//  4. A call to a tool the server does not serve is answered here with
//     JSON-RPC's Invalid params (-32602), as the spec says, with a message
//     that says why and what to do (the toolset that enables it, or that
//     the operator hid or excluded it). A list request with a cursor is
//     refused the same way: this server answers every list in one page
//     and hands out no cursors. The answers a client returns for the
//     server's consent questions (a tools/call retry's inputResponses, or
//     the response to an elicitation/create) are checked for keys that
//     differ only in case, which mcp-go would read the way encoding/json
//     does.
//  5. Cancellation. A request the client cancels (notifications/cancelled
//     naming a request in flight) gets no response: whatever its handler
//     still returns is dropped, as the spec requires; its context is
//     cancelled, also when the cancellation arrives before mcp-go has
//     started the call. A cancellation of a request not in flight is
//     dropped. Ids are compared as ServeStdio compares them (the string
//     "7" is not the number 7); since mcp-go files in-flight requests by
//     the id's printed form, a request whose id prints like that of one in
//     flight is refused, so a cancellation reaches exactly the request it
//     names.
//  6. At EOF the requests already read are answered before ServeStdio
//     returns. mcp-go cancels whatever is in flight when its input ends, so
//     a script that writes its requests and closes stdin (printf … |
//     iam-mcp-server) would otherwise get "cancelled" for its last calls.
//     Only requests certain to be answered are waited for, and never for
//     longer than DrainTimeout; then the calls still running are cancelled
//     and given StopTimeout to end. So ServeStdio returns at most
//     DrainTimeout+StopTimeout after its input ends, even if a handler
//     never returns. Ending ctx (SIGTERM from a client's shutdown) stops
//     at once, with the same StopTimeout for running calls.
//
// And three things change in how it runs:
//
//   - An error response mcp-go writes has its strings cut to short
//     prefixes (capError): its messages repeat parts of the request (an
//     unknown method, a number literal, a protocol version), which could
//     be a megabyte long.
//   - Every message goes out through one writer that writes it whole under
//     one lock. A plugin's progress notifications are written on it by the
//     tool call's own goroutine, synchronously, while the call runs — not
//     through mcp-go's notification queue, which another goroutine drains
//     (so a notification could follow the call's result, which strict
//     clients treat as a protocol error) and which drops messages when its
//     100 slots are full. The result is written by mcp-go after the
//     handler returns, so every progress notification of a call precedes
//     its result.
//   - mcp-go runs tool calls on a pool of 5 workers by default; a sixth
//     concurrent call (a plugin waiting on IAM, say) would wait for one to
//     finish. The pool here is WorkerPoolSize.
//
// mcp-go keeps one stdio session per process, so only one ServeStdio may run
// at a time in a process.
func (s *Server) ServeStdio(ctx context.Context, in io.Reader, out io.Writer) error {
	sess := newStdioSession(s.logger)
	s.stdio.Store(sess)
	defer s.stdio.CompareAndSwap(sess, nil)
	writer := &responseWriter{w: out, sess: sess}
	reader := &lineReader{
		ctx:   ctx,
		srv:   s,
		sess:  sess,
		out:   writer,
		src:   bufio.NewReaderSize(in, readChunk),
		ended: make(chan struct{}),
	}

	stdio := server.NewStdioServer(s.mcp)
	// mcp-go's own complaints are about this connection: they go to the
	// log, never over the connection (a failed write would log a line
	// that is sent, fails, and logs again).
	stdio.SetErrorLogger(slog.NewLogLogger(unwrapClientLog(s.logger.Handler()), slog.LevelError))
	server.WithWorkerPoolSize(WorkerPoolSize)(stdio)
	server.WithQueueSize(QueueSize)(stdio)
	stdio.SetContextFunc(func(ctx context.Context) context.Context {
		return context.WithValue(ctx, streamKey{}, writer)
	})

	listenCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- stdio.Listen(listenCtx, reader, writer) }()

	select {
	case err := <-done:
		return reader.result(ctx, err)
	case <-reader.ended:
	case <-ctx.Done():
	}
	// The input is over (and drained) or ctx ended: mcp-go now cancels the
	// calls still running. A handler that ignores its context would keep
	// Listen from returning for ever; the process must still exit, so it is
	// left behind after StopTimeout.
	stop()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return reader.result(ctx, err)
	case <-timer.C:
		s.logger.Error("a call did not end after it was cancelled; leaving it behind so that the server can exit",
			"waited", stopTimeout)
		return reader.result(ctx, nil)
	}
}

// result is what ServeStdio returns once Listen returned err: a failure to
// read the input, else nil, since the end of input and the end of ctx are
// normal ends (and Listen reports the cancellation ServeStdio itself made
// at the end of input as an error).
func (r *lineReader) result(ctx context.Context, err error) error {
	select {
	case <-r.ended: // r.err is set before ended closes, and never again
		if r.err != io.EOF {
			return r.err
		}
		return nil
	default:
	}
	if err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return nil
	}
	return err
}

// MaxMessageBytes is the largest message (one line, without its newline)
// ServeStdio reads. IAM's largest document is 10,240 characters and the
// gate caps a call's arguments at 256 KiB, so a legitimate message is far
// below it; the cap is what bounds the memory one line can take (mcp-go
// holds a message several times over while decoding it). A longer line is
// discarded in chunks of readChunk as it arrives and answered with an
// Invalid Request error.
const MaxMessageBytes = 1 << 20

// DrainTimeout is how long ServeStdio, at the end of its input, waits for
// the answers to the requests already read before cancelling them. It is
// longer than any call should take (a plugin's default time limit is 30 s),
// and short enough that a client closing stdin sees the server exit.
const DrainTimeout = time.Minute

// StopTimeout is how long ServeStdio waits, once the calls still running are
// cancelled, for them to end before it returns without them.
const StopTimeout = 5 * time.Second

// The bounds in use; tests shorten them.
var (
	drainTimeout = DrainTimeout
	stopTimeout  = StopTimeout
)

// readChunk is the size of the input buffer, and so the most of an
// over-long line held at once.
const readChunk = 64 << 10

// maxIDBytes bounds a request id as written (a UUID is 38 bytes).
const maxIDBytes = 256

// maxSafeInteger is the largest integer a float64 holds exactly (2^53-1):
// mcp-go reads ids into float64.
const maxSafeInteger = 1<<53 - 1

// WorkerPoolSize is how many tool calls ServeStdio runs at once (mcp-go's
// maximum; its default is 5). Calls beyond it wait in a queue of QueueSize,
// then are read only as workers free up. A goroutine per worker costs a few
// KB; the plugin runtime bounds its own instances per plugin.
const WorkerPoolSize = 100

// QueueSize is how many tool calls may wait for a worker before mcp-go
// runs the next one on its read loop (stalling the reading of input).
const QueueSize = 1000

// streamKey is the context key of the responseWriter of the stdio session
// a request came in on, for writing progress notifications in order.
type streamKey struct{}

// stdioSession is what ServeStdio knows of the conversation: the requests
// handed to mcp-go and not yet answered, the requests mcp-go sent the client
// and not yet answered, and where the lifecycle stands. It is per
// ServeStdio, not mcp-go's process-wide session, whose "initialized" flag
// survives from one ServeStdio to the next.
type stdioSession struct {
	logger *slog.Logger

	mu          sync.Mutex
	pending     map[string]string // id keys of requests mcp-go will answer → their mcp-go key
	inflight    map[string]string // mcp-go keys (the id as mcp-go prints it) → id key
	cancelled   map[string]bool   // id keys of pending requests the client cancelled
	listening   map[string]bool   // id keys of pending subscriptions/listen: not waited for at EOF
	outstanding map[string]string // id keys of mcp-go's requests to the client → method
	initialized bool              // an initialize was answered with a result
	initKey     string            // id key of the initialize awaiting its answer
	broken      bool              // a write to the client failed: nobody reads
	changed     chan struct{}     // signalled after each change of the above
}

func newStdioSession(logger *slog.Logger) *stdioSession {
	return &stdioSession{
		logger:      logger,
		pending:     map[string]string{},
		inflight:    map[string]string{},
		cancelled:   map[string]bool{},
		listening:   map[string]bool{},
		outstanding: map[string]string{},
		changed:     make(chan struct{}, 1),
	}
}

func (s *stdioSession) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// outHead is what the session needs of a message written to the client.
type outHead struct {
	key     string // id key; "" for a notification or an id-less error
	request bool   // a request of the server's own (sampling, elicitation, roots)
	method  string // its method, for a request
	result  bool   // a response with a result
}

func parseOutHead(msg []byte) outHead {
	head, err := objectMembers(msg)
	id := head.get("id")
	if err != nil || id == nil || bytes.Equal(id, []byte("null")) {
		return outHead{}
	}
	h := outHead{key: responseIDKey(id), result: head.get("result") != nil}
	if raw := head.get("method"); raw != nil {
		if h.method, h.request = jsonString(raw); !h.request {
			return outHead{}
		}
	}
	return h
}

// sending notes a request of the server's own before it is written: the
// client may answer before the write returns, and its answer is passed on
// only to a request noted as outstanding. It reports whether the message
// is to be written: the answer to a request the client cancelled is not.
func (s *stdioSession) sending(h outHead) bool {
	if h.key == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.request {
		s.outstanding[h.key] = h.method
		return true
	}
	return !s.cancelled[h.key]
}

// sent notes a message written to the client (or dropped, for a cancelled
// request): an answer to a pending request is no longer waited for.
func (s *stdioSession) sent(h outHead, werr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signal()
	if werr != nil {
		// Whatever is pending will never reach anyone: waiting for it
		// would only delay the exit.
		s.broken = true
	}
	if h.request || h.key == "" {
		return
	}
	if mk, ok := s.pending[h.key]; ok {
		delete(s.inflight, mk)
	}
	delete(s.pending, h.key)
	delete(s.cancelled, h.key)
	delete(s.listening, h.key)
	if h.key == s.initKey {
		s.initKey = ""
		s.initialized = h.result
	}
}

// isBroken reports whether a write to the client has failed.
func (s *stdioSession) isBroken() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken
}

// isCancelled reports whether the client cancelled the pending request
// whose id mcp-go decoded as id.
func (s *stdioSession) isCancelled(id any) bool {
	key := anyIDKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelled[key]
}

// wait returns when done() holds, a write has failed, ctx ends or limit
// passes; it reports whether done() held.
func (s *stdioSession) wait(ctx context.Context, limit time.Duration, done func() bool) bool {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok, broken := done(), s.broken
		s.mu.Unlock()
		if ok || broken {
			return ok
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return false
		case <-timer.C:
			return false
		}
	}
}

// lineReader is the input mcp-go reads: the client's stream, one checked
// message per line (see ServeStdio). It answers what it refuses itself,
// through out, and passes the rest on.
type lineReader struct {
	ctx  context.Context
	srv  *Server
	sess *stdioSession
	out  *responseWriter
	src  *bufio.Reader

	line      []byte        // the line being read, up to MaxMessageBytes
	buf       []byte        // what mcp-go has yet to read of the last message
	err       error         // the input's end, once reached
	awaitInit bool          // an initialize was passed on: await its answer
	ended     chan struct{} // closed once the input is over and drained
	endOnce   sync.Once
}

func (r *lineReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			r.endOnce.Do(r.drain)
			return 0, r.err
		}
		line, over, err := r.readLine()
		switch {
		case over != nil:
			r.settleInit()
			r.refuseOversize(over)
		case len(line) > 0:
			r.settleInit()
			r.buf = r.handle(line)
		}
		r.err = err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// drain waits, at the end of the input, for the answers to the requests
// already passed on, then lets mcp-go see the end.
func (r *lineReader) drain() {
	s := r.sess
	if !s.wait(r.ctx, drainTimeout, func() bool { return len(s.pending) == len(s.listening) }) && r.ctx.Err() == nil {
		s.mu.Lock()
		left, broken := len(s.pending)-len(s.listening), s.broken
		s.mu.Unlock()
		if !broken {
			s.logger.Warn("input ended; requests still unanswered after the drain timeout are cancelled",
				"requests", left, "waited", drainTimeout)
		}
	}
	close(r.ended)
}

// settleInit waits for the answer to the initialize passed on last, so that
// the next message is judged knowing whether the session is initialised.
// mcp-go answers initialize at once; the bound is only against a hang.
func (r *lineReader) settleInit() {
	if !r.awaitInit {
		return
	}
	r.awaitInit = false
	s := r.sess
	if !s.wait(r.ctx, drainTimeout, func() bool { return s.initKey == "" }) {
		s.mu.Lock()
		s.initKey = ""
		s.mu.Unlock()
	}
}

// oversize is what is kept of a line longer than MaxMessageBytes: its
// length and its id, found as the line streams past.
type oversize struct {
	size int64
	id   idScanner
}

// readLine returns the next line without its newline, or, for a line
// longer than MaxMessageBytes, what is known of it; err is the input's
// end (io.EOF) or a read error, with or without a last line.
func (r *lineReader) readLine() (line []byte, over *oversize, err error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.src.ReadSlice('\n')
		body := chunk
		if len(body) > 0 && body[len(body)-1] == '\n' {
			body = body[:len(body)-1]
		}
		if over == nil && len(r.line)+len(body) > MaxMessageBytes {
			over = &oversize{size: int64(len(r.line))}
			over.id.feed(r.line)
			r.line = r.line[:0]
		}
		if over != nil {
			over.size += int64(len(body))
			over.id.feed(body)
		} else {
			r.line = append(r.line, body...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return r.line, over, err
	}
}

func (r *lineReader) refuseOversize(over *oversize) {
	id := over.id.result()
	r.sess.logger.Warn("refused a message over the size limit", "bytes", over.size, "limit", MaxMessageBytes)
	r.out.reply(id, mcp.INVALID_REQUEST, fmt.Sprintf(
		"Invalid Request: the message is %d bytes, over this server's limit of %d bytes per message (IAM's largest document is 10,240 characters): send smaller arguments, one request per line",
		over.size, MaxMessageBytes))
}

// toolsCallParams are the members of tools/call params mcp-go reads
// (mcp.CallToolParams).
var toolsCallParams = map[string]bool{"name": true, "arguments": true, "_meta": true, "task": true, "inputResponses": true, "requestState": true}

// handle checks one line and returns what mcp-go is to read of it (the
// message, possibly rewritten, with a newline), or nil when it was answered
// here or dropped. The line is parsed once (readMessage); every check below
// reads the parsed message.
func (r *lineReader) handle(line []byte) []byte {
	m, bad := readMessage(line)
	if bad != nil {
		r.refuse(bad.id, bad.code, bad.message)
		return nil
	}
	if m == nil {
		return nil // a blank line
	}
	if !m.request {
		return r.handleResponse(m)
	}

	if m.id == nil { // a notification: never answered, whatever it holds
		if m.method == string(mcp.MethodNotificationInitialized) && !m.modern && !r.isInitialized() {
			// lifecycle: the client sends it "after successful
			// initialization"; before, it says nothing true.
			r.sess.logger.Warn("ignored notifications/initialized received before a successful initialize")
			return nil
		}
		// mcp-go answers a notification it cannot decode with a parse
		// error, and JSON-RPC never answers a notification: drop it here.
		// Past the checks above, a number beyond float64 is the one thing
		// encoding/json cannot decode into the any of mcp-go's params.
		if m.overflow {
			r.sess.logger.Warn("ignored a notification that cannot be decoded", "method", shortPrefix(m.method), "error", "a number in it does not fit a float64")
			return nil
		}
		if m.method == string(mcp.MethodNotificationCancelled) && !r.cancel(m.params) {
			return nil
		}
		return withNewline(m.raw)
	}

	if bad := r.refuseBeforeInitialize(m.method, m.modern, m.id); bad {
		return nil
	}
	mk := mcpIDKey(m.id, m.idKey)
	r.sess.mu.Lock()
	_, inFlight := r.sess.pending[m.idKey]
	other, clash := r.sess.inflight[mk]
	r.sess.mu.Unlock()
	if inFlight {
		r.refuse(m.id, mcp.INVALID_REQUEST, "Invalid Request: this id is already used by a request in flight; MCP requires a new id for each request of the session")
		return nil
	}
	if clash {
		r.refuse(m.id, mcp.INVALID_REQUEST, fmt.Sprintf("Invalid Request: this id reads like the id %s of a request in flight (one is a string, the other a number), and a cancellation could reach the wrong one; use another id", quoteShort(strings.TrimPrefix(strings.TrimPrefix(other, "s:"), "n:"))))
		return nil
	}
	if bad := listCursor(m.method, m.params); bad != "" {
		r.refuse(m.id, mcp.INVALID_PARAMS, bad)
		return nil
	}
	if m.method == string(mcp.MethodToolsCall) && !r.toolCall(m) {
		return nil
	}

	r.sess.mu.Lock()
	r.sess.pending[m.idKey] = mk
	r.sess.inflight[mk] = m.idKey
	// subscriptions/listen is answered only when the stream is closed:
	// waiting for it at EOF would only hold the exit back.
	if m.method == string(mcp.MethodSubscriptionsListen) {
		r.sess.listening[m.idKey] = true
	}
	if m.method == string(mcp.MethodInitialize) && !m.modern {
		r.sess.initKey = m.idKey
		r.awaitInit = true
	}
	r.sess.mu.Unlock()
	return withNewline(m.raw)
}

// refuseBeforeInitialize answers a request that may not run yet, and says
// whether it did. The lifecycle of the protocol versions that have an
// initialize (MCP 2025-11-25, basic/lifecycle, "Initialization"):
//
//	The client SHOULD NOT send requests other than pings before the server
//	has responded to the initialize request.
//
// The spec gives no error code for such a request: MCP 2026-07-28
// (basic/transports/stdio, "Backward Compatibility") notes that "legacy
// servers respond to unknown pre-initialize requests with
// implementation-defined errors (commonly -32601 or -32602)" and that a
// client's fallback "MUST NOT be keyed to one specific error code". The
// method exists and its params may be fine, so the answer is JSON-RPC's
// -32600 Invalid Request (the request is not valid in this state), which a
// dual-era client takes as "legacy server: initialize first".
//
// A request stamped with a stateless version (2026-07-28 and later) in
// params._meta is not refused: that generation has no initialize (basic/
// versioning: "A request carrying modern per-request _meta is served
// statelessly"), and mcp-go checks the version and client capabilities it
// must carry. A second initialize is refused: "The initialization phase
// MUST be the first interaction between client and server."
func (r *lineReader) refuseBeforeInitialize(method string, modern bool, id json.RawMessage) bool {
	if modern {
		return false
	}
	initialized := r.isInitialized()
	switch {
	case method == string(mcp.MethodPing):
		return false
	case method == string(mcp.MethodInitialize) && initialized:
		r.refuse(id, mcp.INVALID_REQUEST, "Invalid Request: the session is already initialized; initialize comes once, as the first request (restart the server to start a new session)")
		return true
	case method == string(mcp.MethodInitialize) || initialized:
		return false
	}
	r.refuse(id, mcp.INVALID_REQUEST, fmt.Sprintf(
		"Invalid Request: %s before initialize; send initialize first and wait for its answer (only ping may come before it)", quoteShort(method)))
	return true
}

func (r *lineReader) isInitialized() bool {
	r.sess.mu.Lock()
	defer r.sess.mu.Unlock()
	return r.sess.initialized
}

// toolCall checks a tools/call's params and answers a call of a tool the
// server does not serve; it reports whether the call is to be passed on.
func (r *lineReader) toolCall(m *message) bool {
	if bad := r.srv.checkToolCall(m, nil); bad != nil {
		r.refuse(bad.id, bad.code, bad.message)
		return false
	}
	return true
}

// checkToolCall checks a tools/call's params, and that it calls a tool the
// server serves and acc (nil: the whole server) allows; it returns the
// refusal to answer instead, or nil. ServeStdio and the HTTP transport
// both call it, so a call is judged the same way over either.
func (s *Server) checkToolCall(m *message, acc *access) *refusal {
	refuse := func(message string) *refusal { return &refusal{id: m.id, code: mcp.INVALID_PARAMS, message: message} }
	params := m.params
	if params == nil {
		return refuse(`Invalid params: tools/call needs params {"name": TOOL, "arguments": {...}}`)
	}
	for _, p := range params {
		if !toolsCallParams[p.key] {
			return refuse(fmt.Sprintf("Invalid params: unknown member %s in tools/call params; they are name, arguments and _meta", quoteShort(p.key)))
		}
	}
	name, ok := jsonString(params.get("name"))
	if !ok || name == "" {
		return refuse(`Invalid params: tools/call needs "name", the tool to call, as a string; list the tools to see the ones this server offers`)
	}
	if raw := params.get("requestState"); raw != nil && (raw[0] != '"' || len(raw) > maxRequestStateBytes) {
		return refuse("Invalid params: requestState must be the string this server returned, echoed unchanged")
	}
	if answers := params.member("inputResponses"); answers != nil {
		if problem := checkInputResponses(answers); problem != "" {
			return refuse("Invalid params: inputResponses " + problem)
		}
	}
	if s.mcp.GetTool(name) == nil {
		return refuse("Invalid params: " + s.unknownToolMessage(name))
	}
	if ok, why := acc.allows(name); !ok {
		bad := refuse("Invalid params: " + notAllowedMessage(name, why))
		bad.narrowed = name
		return bad
	}
	return nil
}

// maxRequestStateBytes bounds a requestState as written: this server's are
// 43 characters.
const maxRequestStateBytes = 256

// checkInputResponses checks a retry's answers: an object of objects, with no
// two keys equal but for case at either level (mcp-go decodes the answers
// with encoding/json, which would take "Action" for "action" and let a
// later key win).
func checkInputResponses(answers *member) string {
	if answers.value[0] != '{' {
		return "must be an object of the answers, keyed as the server asked"
	}
	if dup := answers.sub.foldDuplicate(); dup != "" {
		return fmt.Sprintf("has the key %s more than once (keys are compared ignoring case)", quoteShort(dup))
	}
	for _, a := range answers.sub {
		if a.value[0] != '{' {
			return fmt.Sprintf("has an answer %s that is not an object", quoteShort(a.key))
		}
		if dup := a.sub.foldDuplicate(); dup != "" {
			return fmt.Sprintf("has an answer with the key %s more than once (keys are compared ignoring case)", quoteShort(dup))
		}
	}
	return ""
}

// listMethods are the list requests mcp-go pages with a cursor.
var listMethods = map[string]bool{
	string(mcp.MethodToolsList): true, string(mcp.MethodResourcesList): true, string(mcp.MethodResourcesTemplatesList): true,
	string(mcp.MethodPromptsList): true, string(mcp.MethodTasksList): true,
}

// listCursor refuses a list request's cursor: this server answers every
// list in one page, so it never handed one out, and mcp-go would answer a
// cursor that is not base64 with the decoder's message, and take one
// that is for a name to start after — in alphabetical order, which is not
// the order tools are listed in.
func listCursor(method string, params members) string {
	if !listMethods[method] {
		return ""
	}
	raw := params.get("cursor")
	if raw == nil || bytes.Equal(raw, []byte(`""`)) || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	return fmt.Sprintf("Invalid params: %s was given a cursor, but this server answers every list in one page and hands out no cursors; call %s again without one", method, method)
}

// cancel decides about a notifications/cancelled: it is passed on only
// when it names, as ServeStdio compares ids, a request in flight, which
// is then marked so that its answer is dropped.
func (r *lineReader) cancel(params members) bool {
	raw := params.get("requestId")
	key, problem := "", "no requestId"
	if raw != nil {
		key, problem = requestIDKey(raw)
	}
	s := r.sess
	s.mu.Lock()
	_, inFlight := s.pending[key]
	ok := problem == "" && inFlight && key != s.initKey // "The client MUST NOT cancel initialize"
	if ok {
		s.cancelled[key] = true
	}
	s.mu.Unlock()
	if !ok {
		s.logger.Debug("ignored a cancellation of no request in flight", "requestId", shortPrefix(string(raw)))
	}
	return ok
}

// mcpIDKey is the key under which mcp-go files a request in flight for
// notifications/cancelled: the id decoded into an any (a number into a
// float64, so -0 stays -0), printed with %v. key is the id's requestIDKey.
func mcpIDKey(id json.RawMessage, key string) string {
	if s, ok := strings.CutPrefix(key, "s:"); ok {
		return s
	}
	f, _ := strconv.ParseFloat(string(id), 64) // an integer requestIDKey accepted
	return fmt.Sprintf("%v", f)
}

// anyIDKey is requestIDKey for an id as mcp-go decoded it.
func anyIDKey(id any) string {
	switch v := id.(type) {
	case string:
		return "s:" + v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= maxSafeInteger {
			return "n:" + strconv.FormatInt(int64(v), 10)
		}
	case json.Number:
		return responseIDKey(json.RawMessage(v))
	case mcp.RequestId:
		b, err := json.Marshal(v)
		if err == nil {
			return responseIDKey(b)
		}
	}
	return fmt.Sprintf("x:%v", id)
}

// installCancelHook closes the gap between a cancellation and the start
// of the call it names: mcp-go cancels a request only once it has filed it
// as in flight, which a tool call waiting for a worker has not. Each tool
// call, once filed and before its handler runs, checks whether the client
// cancelled it meanwhile, and if so hands mcp-go the cancellation again.
func (s *Server) installCancelHook(h *server.Hooks) {
	h.AddBeforeCallTool(func(ctx context.Context, id any, _ *mcp.CallToolRequest) {
		sess := s.stdio.Load()
		if sess == nil || !sess.isCancelled(id) {
			return
		}
		b, err := json.Marshal(map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "method": mcp.MethodNotificationCancelled,
			"params": map[string]any{"requestId": id, "reason": "cancelled by the client before the call started"}})
		if err == nil {
			s.mcp.HandleMessage(ctx, b)
		}
	})
}

// clientGone reports whether the client of ServeStdio stopped reading.
func (s *Server) clientGone() bool {
	sess := s.stdio.Load()
	return sess != nil && sess.isBroken()
}

// handleResponse handles a message without a method: the client's answer to
// a request of the server's. Only an answer to a request mcp-go sent and
// still waits for is passed on: mcp-go would answer any other with an
// error, and JSON-RPC never answers a response.
func (r *lineReader) handleResponse(m *message) []byte {
	if m.id == nil {
		// No request of this server has such an id (it sends small
		// integers); id null is the client reporting an error it could
		// not tie to a request.
		r.sess.logger.Warn("ignored a response to no request of this server", "id", shortPrefix(string(m.rawID)), "error", shortPrefix(string(m.members.get("error"))))
		return nil
	}
	r.sess.mu.Lock()
	method, waiting := r.sess.outstanding[m.idKey]
	delete(r.sess.outstanding, m.idKey)
	r.sess.mu.Unlock()
	if !waiting {
		r.sess.logger.Debug("ignored a response to no request of this server", "id", shortPrefix(string(m.id)))
		return nil
	}
	if result := m.members.member("result"); method == string(mcp.MethodElicitationCreate) && result != nil {
		if problem := checkElicitationResult(result); problem != "" {
			// The person's answer decides whether a change runs: one
			// that mcp-go could read otherwise than it is written is
			// no answer, and the question fails (nothing runs).
			r.sess.logger.Warn("refused the client's answer to a consent question", "problem", problem)
			b, err := json.Marshal(map[string]any{"jsonrpc": mcp.JSONRPC_VERSION, "id": m.id,
				"error": map[string]any{"code": mcp.INVALID_PARAMS, "message": "the client's answer to the question was malformed: " + problem}})
			if err != nil {
				return nil
			}
			return withNewline(b)
		}
	}
	return withNewline(m.raw)
}

// checkElicitationResult checks the result of an elicitation/create: an object
// with action (a string) and optionally content and _meta, each key once
// and spelled exactly.
func checkElicitationResult(result *member) string {
	if result.value[0] != '{' {
		return "the result is not an object"
	}
	ms := result.sub
	if dup := ms.foldDuplicate(); dup != "" {
		return fmt.Sprintf("the result has the key %s more than once (keys are compared ignoring case)", quoteShort(dup))
	}
	for _, m := range ms {
		switch m.key {
		case "action":
			if m.value[0] != '"' {
				return "the action is not a string"
			}
		case "content", "_meta", "resultType":
		default:
			return fmt.Sprintf("the result has the unknown key %s (it has action, content and _meta)", quoteShort(m.key))
		}
	}
	if ms.get("action") == nil {
		return "the result has no action"
	}
	return ""
}

func (r *lineReader) refuse(id json.RawMessage, code int, message string) {
	r.sess.logger.Debug("refused a message", "code", code, "reason", message)
	r.out.reply(id, code, message)
}

// requestIDKey checks a request's id and returns the key under which its
// answer is recognised, or what is wrong with it. JSON-RPC 2.0 allows a
// string, a number or null; MCP forbids null; and mcp-go reads the id into
// float64 and echoes it from there, so only an integer a float64 holds
// exactly comes back as the same number.
func requestIDKey(raw json.RawMessage) (key, problem string) {
	const want = "must be a string or an integer between -9007199254740991 and 9007199254740991, written without fraction or exponent (MCP forbids null; a notification has no id)"
	if len(raw) == 0 || len(raw) > maxIDBytes {
		return "", fmt.Sprintf("is longer than %d bytes; use a short string or an integer", maxIDBytes)
	}
	if !utf8.Valid(raw) {
		return "", want
	}
	if raw[0] == '"' {
		s, ok := jsonString(raw)
		if !ok {
			return "", want
		}
		return "s:" + s, ""
	}
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 16 || (digits[0] == '0' && len(digits) > 1) {
		return "", want
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", want
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n > maxSafeInteger || n < -maxSafeInteger {
		return "", want
	}
	return "n:" + strconv.FormatInt(n, 10), ""
}

// responseIDKey is requestIDKey for the id of a message mcp-go wrote: the
// same value gives the same key, however it is spelled.
func responseIDKey(raw json.RawMessage) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "x:" + string(raw)
	}
	switch v := v.(type) {
	case string:
		return "s:" + v
	case json.Number:
		if f, err := v.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) <= maxSafeInteger {
			return "n:" + strconv.FormatInt(int64(f), 10)
		}
	}
	return "x:" + string(raw)
}

// idScanner finds the id of a JSON object fed to it in pieces, without
// holding the object: the value of its one top-level "id" member, if that
// is a valid request id.
type idScanner struct {
	started, done   bool
	depth           int
	inString, esc   bool
	wantKey, inKey  bool
	haveKey         bool
	key             []byte
	capturing, over bool
	value           []byte
	ids             int
	id              []byte
}

func (s *idScanner) feed(p []byte) {
	for _, c := range p {
		if s.done {
			return
		}
		if s.inString {
			if s.inKey {
				s.key = appendCapped(s.key, c, 64)
			} else if s.capturing {
				s.record(c)
			}
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inString = false
				if s.inKey {
					s.inKey, s.haveKey = false, true
				}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			s.inString = true
			if s.depth == 1 && s.wantKey {
				s.wantKey, s.inKey = false, true
				s.key = append(s.key[:0], c)
			} else if s.capturing {
				s.record(c)
			}
		case '{', '[':
			if !s.started {
				s.started = true
				if c != '{' {
					s.done = true
					return
				}
				s.depth, s.wantKey = 1, true
				continue
			}
			if s.capturing {
				s.record(c)
			}
			s.depth++
		case '}', ']':
			if s.depth == 1 {
				s.endValue()
				s.done = true
				return
			}
			if s.capturing {
				s.record(c)
			}
			s.depth--
		case ',':
			if s.depth == 1 {
				s.endValue()
				s.wantKey = true
			} else if s.capturing {
				s.record(c)
			}
		case ':':
			if s.depth == 1 && s.haveKey {
				s.haveKey = false
				if k, ok := jsonString(s.key); ok && k == "id" {
					s.ids++
					s.capturing, s.over, s.value = true, false, s.value[:0]
				}
			} else if s.capturing {
				s.record(c)
			}
		default:
			if !s.started {
				s.done = true
				return
			}
			if s.capturing {
				s.record(c)
			}
		}
	}
}

func (s *idScanner) record(c byte) {
	if len(s.value) >= maxIDBytes {
		s.over = true
		return
	}
	s.value = append(s.value, c)
}

func (s *idScanner) endValue() {
	if s.capturing {
		s.capturing = false
		if !s.over {
			s.id = append(s.id[:0], s.value...)
		} else {
			s.id = nil
		}
	}
}

// result is the id found, or nil when there was none, more than one, or one
// that is not a valid request id.
func (s *idScanner) result() json.RawMessage {
	s.endValue() // a line cut short inside the id's value
	if s.ids != 1 || s.id == nil {
		return nil
	}
	if _, problem := requestIDKey(s.id); problem != "" {
		return nil
	}
	return json.RawMessage(s.id)
}

func appendCapped(b []byte, c byte, limit int) []byte {
	if len(b) >= limit {
		return b
	}
	return append(b, c)
}

// responseWriter is the one way out to the client: mcp-go writes each
// response and notification through it as one whole message per Write, and
// progress notifications are written through it directly (sendProgress).
// The lock keeps messages whole whoever writes; it notes each message once
// it is out (stdioSession.sent).
type responseWriter struct {
	mu   sync.Mutex
	w    io.Writer
	sess *stdioSession
}

func (w *responseWriter) Write(p []byte) (int, error) {
	msg := capError(p)
	head := parseOutHead(msg)
	if !w.sess.sending(head) {
		// The client cancelled the request: MCP forbids answering it.
		w.sess.logger.Debug("dropped the answer to a cancelled request")
		w.sess.sent(head, nil)
		return len(p), nil
	}
	w.mu.Lock()
	_, err := w.w.Write(msg)
	w.mu.Unlock()
	w.sess.sent(head, err)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// maxErrorBytes is the size beyond which an error response is cut down.
const maxErrorBytes = 2048

// capError cuts the long strings in an error response mcp-go wrote: its
// messages repeat parts of the request ("Method <method> not found",
// "cannot unmarshal number <literal>", "unsupported protocol version:
// <version>" with the version again in data), and a request of a megabyte
// would be echoed whole. Each string of the error is cut to a short prefix;
// data that cannot be read is dropped. Anything else passes unchanged.
func capError(p []byte) []byte {
	if len(p) <= maxErrorBytes || !bytes.Contains(p, []byte(`"error"`)) {
		return p
	}
	var msg struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result,omitempty"`
		Method  string          `json:"method,omitempty"`
		Error   *struct {
			Code    int             `json:"code"`
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data,omitempty"`
		} `json:"error"`
	}
	if json.Unmarshal(p, &msg) != nil || msg.Error == nil || msg.Result != nil || msg.Method != "" {
		return p
	}
	msg.Error.Message = shortPrefixN(msg.Error.Message, 256)
	if len(msg.Error.Data) > 0 {
		var data any
		dec := json.NewDecoder(bytes.NewReader(msg.Error.Data))
		dec.UseNumber()
		msg.Error.Data = nil
		if dec.Decode(&data) == nil {
			if data, ok := capStrings(data); ok {
				if b, err := json.Marshal(data); err == nil && len(b) <= maxErrorBytes/2 {
					msg.Error.Data = b
				}
			}
		}
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return p
	}
	return append(b, '\n')
}

// capStrings returns v with every string in it cut to a short prefix, or
// false when it holds a number too long to be anything but an echo.
func capStrings(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		return shortPrefix(v), true
	case json.Number:
		return v, len(v) <= 32
	case []any:
		for i := range v {
			var ok bool
			if v[i], ok = capStrings(v[i]); !ok {
				return nil, false
			}
		}
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			x, ok := capStrings(x)
			if !ok {
				return nil, false
			}
			m[shortPrefix(k)] = x
		}
		return m, true
	}
	return v, true
}

// errorResponse is a JSON-RPC error response with id, or null when the
// id could not be read: the server's own answer to a message mcp-go never
// saw, over stdio or HTTP.
func errorResponse(id json.RawMessage, code int, message string) ([]byte, error) {
	if id == nil {
		id = json.RawMessage("null")
	}
	type details struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	return json.Marshal(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   details         `json:"error"`
	}{mcp.JSONRPC_VERSION, id, details{code, message}})
}

// reply writes an error response of ServeStdio's own (for a message mcp-go
// never saw), with id, or null when the id could not be read. It is not
// noted as an answer: no request it answers was counted as pending.
func (w *responseWriter) reply(id json.RawMessage, code int, message string) {
	b, err := errorResponse(id, code, message)
	if err != nil {
		return
	}
	w.mu.Lock()
	_, err = w.w.Write(append(b, '\n'))
	w.mu.Unlock()
	if err != nil {
		w.sess.sent(outHead{}, err)
	}
}

// withNewline is msg with a newline, in msg's own array when it has room
// (the line's buffer, which is read again only once mcp-go has read all of
// what handle returned).
func withNewline(msg []byte) []byte { return append(msg, '\n') }

// shortPrefix is s cut to at most 64 bytes at a rune boundary, with "…"
// when cut: what an error may repeat of a value it refuses.
func shortPrefix(s string) string { return shortPrefixN(s, 64) }

func shortPrefixN(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	return cutBytes(s, limit) + "…"
}

func quoteShort(s string) string { return strconv.Quote(shortPrefix(s)) }

package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ClientLog sends the server's log records to the MCP clients that ask for
// them, as notifications/message, while the records still reach the log
// they were meant for (stderr). Build the process logger on it, so that
// every record — the server's, the gate's, a plugin's — can reach the
// client:
//
//	var cl mcpserver.ClientLog
//	logger := slog.New(cl.Handler(slog.NewTextHandler(os.Stderr, nil)))
//	srv, err := mcpserver.New(g, mcpserver.Options{Logger: logger, ClientLog: &cl})
//
// Which records a client gets is the client's choice, as MCP says:
//
//   - a request of protocol 2026-07-28 or later names a level in its
//     _meta (io.modelcontextprotocol/logLevel): the records logged while
//     serving that request (with its context) at or above it reach that
//     client; without a level, none do;
//   - an earlier client calls logging/setLevel: from then on, the records
//     at or above that level reach its session, whether logged while
//     serving one of its requests or not (a plugin's log, say). Until it
//     does, it gets none.
//
// A notification never blocks the record's logger: it is queued on the
// session's own queue and dropped when that is full (a client that reads
// slowly loses log lines, never a call). Attributes whose names suggest a
// secret are sent as "[redacted]", and every value is cut short. The zero
// value is ready to use; records logged before a server is attached reach
// only the next handler.
type ClientLog struct {
	srv atomic.Pointer[Server]

	mu     sync.Mutex
	levels map[string]mcp.LoggingLevel // session id → level from logging/setLevel
	// floor is the lowest slog level any session asked for, plus
	// floorBias; 0 when none asked (the zero value).
	floor atomic.Int64

	dropped     atomic.Int64 // notifications dropped since the last report
	lastDropLog atomic.Int64 // unix nanoseconds of the last report
}

const floorBias = 1 << 20

// Handler returns a slog.Handler that passes every record to next (as
// next decides) and sends it to the clients that asked for its level.
func (cl *ClientLog) Handler(next slog.Handler) slog.Handler {
	return &clientLogHandler{next: next, cl: cl}
}

// attach makes s the server whose clients get the records.
func (cl *ClientLog) attach(s *Server) { cl.srv.Store(s) }

// install has mcp-go tell cl the levels sessions set, and forget a session
// that ends.
func (cl *ClientLog) install(h *server.Hooks) {
	h.AddAfterSetLevel(func(ctx context.Context, _ any, req *mcp.SetLevelRequest, _ *mcp.EmptyResult) {
		if sess := server.ClientSessionFromContext(ctx); sess != nil && req != nil {
			cl.setLevel(sess.SessionID(), req.Params.Level)
		}
	})
	h.AddOnUnregisterSession(func(_ context.Context, sess server.ClientSession) {
		cl.setLevel(sess.SessionID(), "")
	})
}

// setLevel records the level a session asked for; "" forgets the session.
func (cl *ClientLog) setLevel(session string, level mcp.LoggingLevel) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.levels == nil {
		cl.levels = map[string]mcp.LoggingLevel{}
	}
	if level == "" {
		delete(cl.levels, session)
	} else {
		cl.levels[session] = level
	}
	var floor int64
	for _, l := range cl.levels {
		if f := int64(slogFloor(l)) + floorBias; floor == 0 || f < floor {
			floor = f
		}
	}
	cl.floor.Store(floor)
}

func (cl *ClientLog) sessionLevel(session string) (mcp.LoggingLevel, bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	l, ok := cl.levels[session]
	return l, ok
}

// wants reports whether some client may want a record of level in ctx.
func (cl *ClientLog) wants(ctx context.Context, level slog.Level) bool {
	if cl.srv.Load() == nil {
		return false
	}
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return info.LogLevel != "" && level >= slogFloor(info.LogLevel)
	}
	f := cl.floor.Load()
	return f != 0 && int64(level) >= f-floorBias
}

// send queues r for the clients that asked for its level.
func (cl *ClientLog) send(ctx context.Context, r slog.Record, h *clientLogHandler) {
	s := cl.srv.Load()
	if s == nil || s.clientGone() {
		return
	}
	level := mcpLevel(r.Level)
	params := func() map[string]any {
		return map[string]any{"level": level, "logger": Name, "data": h.data(r)}
	}
	var err error
	// A record of an HTTP tool call goes on the call's own stream, before
	// its result (see httpStream); once the result is out, the session's.
	stream := httpStreamFrom(ctx)
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		if info.LogLevel == "" || !level.ShouldSendTo(info.LogLevel) {
			return
		}
		if stream == nil || stream.send(ctx, string(mcp.MethodNotificationMessage), params()) != nil {
			err = s.mcp.SendNotificationToClient(ctx, string(mcp.MethodNotificationMessage), params())
		}
	} else if sess := server.ClientSessionFromContext(ctx); sess != nil {
		want, ok := cl.sessionLevel(sess.SessionID())
		if !ok || !level.ShouldSendTo(want) {
			return
		}
		if stream == nil || stream.send(ctx, string(mcp.MethodNotificationMessage), params()) != nil {
			err = s.mcp.SendNotificationToSpecificClient(sess.SessionID(), string(mcp.MethodNotificationMessage), params())
		}
	} else {
		cl.mu.Lock()
		var to []string
		for id, want := range cl.levels {
			if level.ShouldSendTo(want) {
				to = append(to, id)
			}
		}
		cl.mu.Unlock()
		for _, id := range to {
			if e := s.mcp.SendNotificationToSpecificClient(id, string(mcp.MethodNotificationMessage), params()); e != nil {
				err = e
			}
		}
	}
	if errors.Is(err, server.ErrNotificationChannelBlocked) {
		cl.dropped.Add(1)
	}
}

// reportDrops tells next, at most every dropReportEvery, how many
// notifications the clients' queues refused. It writes to next only, so
// that the report cannot itself fill the queue.
func (cl *ClientLog) reportDrops(ctx context.Context, next slog.Handler) {
	if cl.dropped.Load() == 0 {
		return
	}
	now := time.Now().UnixNano()
	last := cl.lastDropLog.Load()
	if now-last < int64(dropReportEvery) || !cl.lastDropLog.CompareAndSwap(last, now) {
		return
	}
	n := cl.dropped.Swap(0)
	if !next.Enabled(ctx, slog.LevelWarn) {
		return
	}
	r := slog.NewRecord(time.Now(), slog.LevelWarn, "log notifications dropped: the client reads them more slowly than the server logs", 0)
	r.AddAttrs(slog.Int64("dropped", n))
	_ = next.Handle(ctx, r)
}

const dropReportEvery = 10 * time.Second

// mcpLevel maps a slog level to MCP's syslog levels.
func mcpLevel(l slog.Level) mcp.LoggingLevel {
	switch {
	case l < slog.LevelInfo:
		return mcp.LoggingLevelDebug
	case l < slog.LevelInfo+2:
		return mcp.LoggingLevelInfo
	case l < slog.LevelWarn:
		return mcp.LoggingLevelNotice
	case l < slog.LevelError:
		return mcp.LoggingLevelWarning
	case l < slog.LevelError+4:
		return mcp.LoggingLevelError
	case l < slog.LevelError+8:
		return mcp.LoggingLevelCritical
	case l < slog.LevelError+12:
		return mcp.LoggingLevelAlert
	}
	return mcp.LoggingLevelEmergency
}

// slogFloor is the lowest slog level that maps to l or above.
func slogFloor(l mcp.LoggingLevel) slog.Level {
	switch l {
	case mcp.LoggingLevelInfo:
		return slog.LevelInfo
	case mcp.LoggingLevelNotice:
		return slog.LevelInfo + 2
	case mcp.LoggingLevelWarning:
		return slog.LevelWarn
	case mcp.LoggingLevelError:
		return slog.LevelError
	case mcp.LoggingLevelCritical:
		return slog.LevelError + 4
	case mcp.LoggingLevelAlert:
		return slog.LevelError + 8
	case mcp.LoggingLevelEmergency:
		return slog.LevelError + 12
	}
	return slog.Level(-1 << 30) // debug, or a level mcp-go would not have accepted
}

// clientLogHandler is ClientLog's slog.Handler.
type clientLogHandler struct {
	next   slog.Handler
	cl     *ClientLog
	attrs  []slog.Attr // from WithAttrs, keys already qualified by groups
	prefix string      // the open groups, "a.b."
}

func (h *clientLogHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l) || h.cl.wants(ctx, l)
}

func (h *clientLogHandler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if h.cl.wants(ctx, r.Level) {
		h.cl.send(ctx, r, h)
	}
	h.cl.reportDrops(ctx, h.next)
	return err
}

func (h *clientLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), qualify(h.prefix, as)...)
	return &c
}

func (h *clientLogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	c.prefix = h.prefix + name + "."
	return &c
}

// unwrapClientLog returns the handler a ClientLog handler passes records
// to, or h: for logs about the client connection itself, which must not
// be sent over it.
func unwrapClientLog(h slog.Handler) slog.Handler {
	if c, ok := h.(*clientLogHandler); ok {
		return c.next
	}
	return h
}

func qualify(prefix string, as []slog.Attr) []slog.Attr {
	if prefix == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

// The bounds of one notification's data.
const (
	maxLogAttrs      = 32
	maxLogValueBytes = 1024
)

// logSecretWords are parts of attribute names whose values never leave
// for a client (as the gate's audit redaction, plus tokens and
// credentials).
var logSecretWords = []string{"password", "secret", "session_token", "private_key", "token", "credential"}

// data is the notification's data: the message and the attributes, each
// value cut short, secrets redacted, groups flattened as "group.key".
func (h *clientLogHandler) data(r slog.Record) map[string]any {
	d := map[string]any{"message": cutBytes(r.Message, maxLogValueBytes)}
	n := 0
	add := func(a slog.Attr) {
		if n >= maxLogAttrs {
			return
		}
		for _, leaf := range flatten("", a) {
			if n >= maxLogAttrs {
				return
			}
			n++
			d[leaf.Key] = logValue(leaf)
		}
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(slog.Attr{Key: h.prefix + a.Key, Value: a.Value})
		return n < maxLogAttrs
	})
	return d
}

// flatten resolves a and expands groups into "group.key" leaves.
func flatten(prefix string, a slog.Attr) []slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup {
		if a.Key == "" {
			return nil
		}
		return []slog.Attr{{Key: prefix + a.Key, Value: a.Value}}
	}
	p := prefix
	if a.Key != "" {
		p += a.Key + "."
	}
	var out []slog.Attr
	for _, g := range a.Value.Group() {
		out = append(out, flatten(p, g)...)
	}
	return out
}

func logValue(a slog.Attr) any {
	low := strings.ToLower(a.Key)
	for _, w := range logSecretWords {
		if strings.Contains(low, w) {
			return "[redacted]"
		}
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindBool:
		return v.Bool()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	case slog.KindString:
		return cutBytes(strings.ToValidUTF8(v.String(), "\uFFFD"), maxLogValueBytes)
	}
	var s string
	if err, ok := v.Any().(error); ok {
		s = err.Error()
	} else {
		s = fmt.Sprint(v.Any())
	}
	return cutBytes(strings.ToValidUTF8(s, "\uFFFD"), maxLogValueBytes)
}

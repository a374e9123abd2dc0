package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ServeStdio speaks MCP over in and out (newline-delimited JSON-RPC) until in
// reaches EOF or ctx ends; either is a normal end and returns nil.
//
// Two things differ from mcp-go's own stdio server, both done on the stream
// around it so that mcp-go still builds every response for whichever
// protocol version was negotiated:
//
//   - A call to a tool the server does not have is answered with a tool
//     error (isError) naming the tool and what to do, instead of a JSON-RPC
//     "invalid params" error: an assistant reads a tool error, while many
//     clients only log a protocol error. Such calls are routed to a hidden
//     tool before mcp-go sees them.
//   - At EOF the requests already read are answered before ServeStdio
//     returns. mcp-go cancels whatever is in flight when its input ends, so
//     a script that writes its requests and closes stdin (printf … |
//     iam-mcp-server) would otherwise get "cancelled" for its last calls.
//     Ending ctx (SIGTERM from a client's shutdown) still stops at once.
//
// And two things change in how it runs:
//
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
	pending := &pendingRequests{ids: map[string]bool{}, changed: make(chan struct{}, 1)}
	reader := &lineReader{
		src: bufio.NewReader(in),
		rewrite: func(line []byte) []byte {
			pending.read(line)
			return s.routeUnknownTool(line)
		},
		atEOF: func() { pending.wait(ctx) },
	}
	writer := &responseWriter{w: out, pending: pending}

	stdio := server.NewStdioServer(s.mcp)
	stdio.SetErrorLogger(slog.NewLogLogger(s.logger.Handler(), slog.LevelError))
	server.WithWorkerPoolSize(WorkerPoolSize)(stdio)
	server.WithQueueSize(QueueSize)(stdio)
	stdio.SetContextFunc(func(ctx context.Context) context.Context {
		return context.WithValue(ctx, streamKey{}, writer)
	})
	err := stdio.Listen(ctx, reader, writer)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

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

// messageHead is what the stream plumbing reads of a JSON-RPC message.
type messageHead struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// isRequest: a message with an id and a method expects exactly one
// response (one with an id and no method is a response).
func (h messageHead) isRequest() bool {
	return h.Method != "" && len(h.ID) > 0 && !bytes.Equal(h.ID, []byte("null"))
}

// idKey normalises a JSON-RPC id so that the request's and the response's
// spellings of it compare equal.
func idKey(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// routeUnknownTool rewrites one incoming line: a tools/call of a tool that
// is not registered becomes a call of unknownTool with the requested name as
// its argument. Every other line passes unchanged.
func (s *Server) routeUnknownTool(line []byte) []byte {
	if !bytes.Contains(line, []byte(`tools/call`)) {
		return line
	}
	var head messageHead
	if json.Unmarshal(line, &head) != nil || head.Method != string(mcp.MethodToolsCall) || s.mcp.GetTool(head.Params.Name) != nil {
		return line
	}
	var msg, params map[string]json.RawMessage
	if json.Unmarshal(line, &msg) != nil || json.Unmarshal(msg["params"], &params) != nil {
		return line
	}
	params["name"], _ = json.Marshal(unknownTool)
	params["arguments"], _ = json.Marshal(map[string]string{"tool": head.Params.Name})
	var err error
	if msg["params"], err = json.Marshal(params); err != nil {
		return line
	}
	rewritten, err := json.Marshal(msg)
	if err != nil {
		return line
	}
	return append(rewritten, '\n')
}

// pendingRequests are the requests read and not yet answered.
type pendingRequests struct {
	mu      sync.Mutex
	ids     map[string]bool
	changed chan struct{} // signalled after each answer
}

func (p *pendingRequests) read(line []byte) {
	var head messageHead
	if json.Unmarshal(line, &head) != nil || !head.isRequest() {
		return
	}
	p.mu.Lock()
	p.ids[idKey(head.ID)] = true
	p.mu.Unlock()
}

func (p *pendingRequests) answered(msg []byte) {
	var head messageHead
	if json.Unmarshal(msg, &head) != nil || head.Method != "" || len(head.ID) == 0 {
		return
	}
	p.mu.Lock()
	delete(p.ids, idKey(head.ID))
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// wait returns when every request read has been answered, or ctx ends.
func (p *pendingRequests) wait(ctx context.Context) {
	for {
		p.mu.Lock()
		n := len(p.ids)
		p.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-p.changed:
		case <-ctx.Done():
			return
		}
	}
}

// lineReader passes a newline-delimited stream through rewrite, one line at
// a time, and calls atEOF before reporting the end of the stream.
type lineReader struct {
	src     *bufio.Reader
	rewrite func(line []byte) []byte
	atEOF   func()
	buf     []byte
	err     error
}

func (r *lineReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		line, err := r.src.ReadBytes('\n')
		if len(line) > 0 {
			r.buf = r.rewrite(line)
		}
		if err != nil {
			if err == io.EOF && len(r.buf) == 0 {
				r.atEOF()
			}
			r.err = err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// responseWriter is the one way out to the client: mcp-go writes each
// response and notification through it as one whole message per Write, and
// progress notifications are written through it directly (sendProgress).
// The lock keeps messages whole whoever writes; it notes each response once
// it is out.
type responseWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending *pendingRequests
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	n, err := w.w.Write(p)
	w.mu.Unlock()
	if err == nil {
		w.pending.answered(p)
	}
	return n, err
}

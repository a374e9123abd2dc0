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
	err := stdio.Listen(ctx, reader, writer)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

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

// responseWriter notes each response mcp-go writes (one whole message per
// Write) once it is out.
type responseWriter struct {
	w       io.Writer
	pending *pendingRequests
}

func (w *responseWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err == nil {
		w.pending.answered(p)
	}
	return n, err
}

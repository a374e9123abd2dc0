package sandbox

import (
	"bytes"
	"io"
	"net/http"
)

// Transport returns an http.RoundTripper that delivers requests straight to
// the sandbox, in process, without a socket. Give it to an SDK client's HTTP
// client (with any endpoint URL) to talk to the sandbox with no port to
// allocate and nothing listening. Its requests pass every rule of the HTTP
// front (front.go) but the Host check: no browser can reach them, and their
// Host is whatever the SDK's endpoint says.
func (s *Server) Transport() http.RoundTripper { return inProcess{s: s} }

// Client is an *http.Client over Transport.
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

// inProcess serves requests in process; as, when set, is the member
// account MemberTransport serves them in, as its root.
type inProcess struct{ s, as *Server }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	// The server reads the body as a server would; make it look like one.
	if req.Body == nil {
		req.Body = http.NoBody
	}
	t.s.serve(rec, req, false, t.as)
	return &http.Response{
		Status:        http.StatusText(rec.status),
		StatusCode:    rec.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the minimal http.ResponseWriter the in-process transport needs.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

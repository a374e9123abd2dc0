package hostiamtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

// Recorder is what a test host saw, for a test to count: the gate's audit
// records (one per call the gate decided, refusals included: a call not
// granted, refused in read-only mode, or refused by the plugin runtime over
// its limits) and the IAM requests the host's AWS SDK sent to the sandbox,
// retries included, with those the sandbox answered with IAM's Throttling
// error. Give one to Options.Recorder (a native host) or
// WasmOptions.Recorder (a plugin loaded by LoadWasm), or to both, to
// compare them: the same workflow makes the same calls either way. The
// zero value is ready to use; it is safe for concurrent use.
type Recorder struct {
	mu        sync.Mutex
	records   []gate.Record
	requests  int
	throttled int
}

// Records are the gate's audit records so far, in the order the calls
// were decided.
func (r *Recorder) Records() []gate.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]gate.Record(nil), r.records...)
}

// Ops is how many calls of each operation the gate decided so far.
func (r *Recorder) Ops() map[string]int {
	out := map[string]int{}
	for _, rec := range r.Records() {
		out[rec.Operation]++
	}
	return out
}

// Calls is how many calls the gate decided so far.
func (r *Recorder) Calls() int { return len(r.Records()) }

// Requests is how many IAM requests reached the sandbox, each retry of the
// AWS SDK counted.
func (r *Recorder) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Throttled is how many of the Requests the sandbox answered with IAM's
// Throttling error (Options.Throttle).
func (r *Recorder) Throttled() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.throttled
}

// audit is the gate's audit writer feeding r, or nil (no audit log) for
// a nil r: a nil *Recorder inside an io.Writer would not be nil.
func (r *Recorder) audit() io.Writer {
	if r == nil {
		return nil
	}
	return auditWriter{r}
}

// auditWriter receives the gate's audit lines: each Write is one JSON
// line (gate.Options.Audit).
type auditWriter struct{ r *Recorder }

func (w auditWriter) Write(p []byte) (int, error) {
	var rec gate.Record
	if err := json.Unmarshal(p, &rec); err != nil {
		// The gate writes gate.Records: a line that does not read back is
		// a bug, kept where a test counting operations sees it.
		rec = gate.Record{Operation: UndecodableAudit, Outcome: "error", Message: fmt.Sprintf("%v: %.200q", err, p)}
	}
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	w.r.records = append(w.r.records, rec)
	return len(p), nil
}

// UndecodableAudit is the Operation of a Record standing for an audit
// line the Recorder could not read (its Message says why): never expected,
// but counted rather than lost.
const UndecodableAudit = "(undecodable audit line)"

// transport counts the requests the AWS SDK sends through rt, and the
// sandbox's Throttling answers among them.
func (r *Recorder) transport(rt http.RoundTripper) http.RoundTripper {
	return countingTransport{rt: rt, r: r}
}

type countingTransport struct {
	rt http.RoundTripper
	r  *Recorder
}

// throttlingCode is how IAM's Query protocol, and so the sandbox, names
// the throttling error in an error response's body.
var throttlingCode = []byte("<Code>Throttling</Code>")

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	throttled := false
	if err == nil && resp.StatusCode == http.StatusBadRequest {
		// An error answer is a few hundred bytes: read it to see its code,
		// and hand the SDK the same bytes.
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		throttled = bytes.Contains(body, throttlingCode)
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	c.r.requests++
	if throttled {
		c.r.throttled++
	}
	return resp, err
}

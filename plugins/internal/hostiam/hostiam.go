// Package hostiam is what the shipped plugins' workflows need from the
// host: catalogue calls, batches, progress and the host's facts, behind one
// small interface. Inside a plugin it is the SDK's host functions
// (FromSDK, built for wasip1); in tests it is the real gate over the real
// catalogue on the embedded sandbox (package hostiamtest). So a workflow's
// logic, its IAM calls included, is tested natively and fast, and the Wasm
// build only adds the transport.
package hostiam

import "github.com/iammcp/iam-mcp-server/sdk/api"

// Host runs catalogue operations for a workflow.
type Host interface {
	// Call runs one operation; out is a pointer to its output type, or nil
	// to discard the result. Errors are *api.Error.
	Call(op string, in, out any) error
	// Batch runs the requests concurrently on the host (bounded), decoding
	// each result into its Out, and returns one error (nil on success) per
	// request, in order. One failure does not fail the others.
	Batch(reqs []Request) []error
	// Progress reports how far the tool call has come.
	Progress(done, total float64, message string)
	// Info is the host's facts: read-only mode, account, partition, grants.
	Info() (*api.HostInfo, error)
}

// Planner is a Host that can state a step's changes before making them
// (the consent host function). It is a separate interface so that a Host
// written before it (a test's fake) still is one; both Hosts of this
// package implement it.
type Planner interface {
	Host
	// Consent states the changes a step is about to make, in order and
	// with exactly their inputs, before it makes any: the person is asked
	// once about those the operator's --confirm covers, and each approved
	// call then runs once without another question. nil: go ahead.
	// Otherwise an *api.Error: Declined (change nothing and say so),
	// ConsentRequired (nobody can be asked), or a call's own refusal. The
	// requests' Out is not used.
	Consent(summary string, calls []Request) error
}

// Consent states calls through h when it is a Planner. Any other Host
// goes ahead: the gate still decides each change as it is made, and asks
// the person about each one --confirm covers.
func Consent(h Host, summary string, calls []Request) error {
	if p, ok := h.(Planner); ok {
		return p.Consent(summary, calls)
	}
	return nil
}

// Request is one operation of a batch.
type Request struct {
	Op  string
	In  any
	Out any // pointer to the operation's output type, or nil to discard it
}

// Code returns err's api error code, or "" for nil or a foreign error.
func Code(err error) api.ErrorCode {
	if e, ok := err.(*api.Error); ok {
		return e.Code
	}
	return ""
}

// Package hostiam is a plugin workflow's view of the server: catalogue
// calls, batches, progress and the host's facts, behind one small interface
// (Client), and, as optional interfaces, consent (Planner), the server's
// seal of state kept in tags (Sealer) and the removal of a used key's
// secret file (SecretFileRemover).
//
// Write a plugin's logic against Client, in a package without build tags,
// and keep the plugin's main package (//go:build wasip1) a thin shell that
// registers its tools with package sdk and hands each handler
// FromSDK(ctx). Inside the plugin the Client is the SDK's host functions;
// in an ordinary `go test` it is package hostiamtest's, the real gate over
// the real catalogue on the embedded IAM sandbox. So a workflow's logic,
// its IAM calls included, is tested natively in milliseconds, and the Wasm
// build only adds the transport. The shipped plugins (plugins/ in this
// repository) are written this way; a plugin in a module of its own imports
// this package as they do (`iam-mcp-server plugins new` writes one).
package hostiam

import "github.com/iammcp/iam-mcp-server/sdk/api"

// Client runs catalogue operations for a workflow.
type Client interface {
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

// Planner is a Client that can state a step's changes before making them
// (the consent host function). It is a separate interface so that a Client
// written before it (a test's fake) still is one; FromSDK's and
// hostiamtest's Clients implement it.
type Planner interface {
	Client
	// Consent states the changes a step is about to make, in order and
	// with exactly their inputs, before it makes any: the person is asked
	// once about those the operator's --confirm covers, and each approved
	// call then runs once without another question. nil: go ahead.
	// Otherwise an *api.Error: Declined (change nothing and say so),
	// ConsentRequired (nobody can be asked), or a call's own refusal. The
	// requests' Out is not used.
	Consent(summary string, calls []Request) error
}

// Consent states calls through h when it is a Planner. Any other Client
// goes ahead: the gate still decides each change as it is made, and asks
// the person about each one --confirm covers.
func Consent(h Client, summary string, calls []Request) error {
	if p, ok := h.(Planner); ok {
		return p.Consent(summary, calls)
	}
	return nil
}

// Sealer is a Client that can seal a workflow's state with the server's
// key (the state_seal host function), so that state kept where others can
// write it (a tag) can be checked when it is read back. A separate
// interface, as Planner is.
type Sealer interface {
	Client
	// Seal returns the server's seal of data (at most api.MaxSealData
	// bytes of UTF-8): the same for the same data, plugin, account and
	// secrets directory. Errors are *api.Error (Unavailable: the server
	// cannot seal).
	Seal(data string) (string, error)
}

// Seal seals data through h, or fails with api.Unavailable when h cannot
// seal: a workflow that relies on seals must not go on without them.
func Seal(h Client, data string) (string, error) {
	if s, ok := h.(Sealer); ok {
		return s.Seal(data)
	}
	return "", &api.Error{Code: api.Unavailable, Message: "this host cannot seal state (it offers no state_seal)"}
}

// SecretFileRemover is a Client that can remove the secret file the server
// wrote for a new access key, once IAM shows the key used (the
// secret_file_remove host function).
type SecretFileRemover interface {
	Client
	// RemoveSecretFile removes accessKeyID's secret file: removed is its
	// path, or "" with a note saying why there was none. Errors are
	// *api.Error: NotGranted, ReadOnly, InvalidInput (the key not used
	// yet), or the IAM call's.
	RemoveSecretFile(accessKeyID string) (removed, note string, err error)
}

// RemoveSecretFile removes accessKeyID's secret file through h, or fails
// with api.Unavailable when h cannot.
func RemoveSecretFile(h Client, accessKeyID string) (removed, note string, err error) {
	if r, ok := h.(SecretFileRemover); ok {
		return r.RemoveSecretFile(accessKeyID)
	}
	return "", "", &api.Error{Code: api.Unavailable, Message: "this host cannot remove secret files (it offers no secret_file_remove)"}
}

// Request is one operation of a batch.
type Request struct {
	Op  string
	In  any
	Out any // pointer to the operation's output type, or nil to discard it
	// Account is the account to run it in: an id or alias as Info's
	// Accounts lists them; "" for the server's own (or the Client's, see
	// In). A batch may mix accounts.
	Account string
}

// Code returns err's api error code, or "" for nil or a foreign error.
func Code(err error) api.ErrorCode {
	if e, ok := err.(*api.Error); ok {
		return e.Code
	}
	return ""
}

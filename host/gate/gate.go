// Package gate is the one check in front of every catalogue operation,
// whoever calls it: the assistant through a built-in tool, a plugin through
// iam_call, or a person through the command line. There is no other path to
// the catalogue.
//
// For each call the gate decides, in this order:
//
//  1. the operation exists (else InvalidInput);
//  2. a plugin was granted it by the operator (else NotGranted);
//  3. the arguments decode strictly into the operation's input type (host/args:
//     size capped, exact key spelling, each key once; else InvalidInput);
//  4. in read-only mode, it does not mutate (else ReadOnly) — before any AWS
//     call is made;
//  5. with an expected account, the credentials belong to it (else
//     WrongAccount);
//
// then runs the decoded input, and writes one audit line per decided call,
// refusals included. The audit line records the decoded input — what ran,
// encoded again with the schema's own key spelling — with secrets removed,
// never the bytes as sent: a record of the raw bytes could name one user
// while the call acted on another.
package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// CallerKind says who is asking.
type CallerKind string

// The three kinds of caller.
const (
	BuiltIn CallerKind = "built-in" // an MCP client calling a built-in tool
	CLI     CallerKind = "cli"      // `iam-mcp-server call`
	Plugin  CallerKind = "plugin"   // a Wasm plugin through iam_call
)

// Caller identifies who asks, for the grant check and the audit record.
type Caller struct {
	Kind   CallerKind
	Plugin string // the plugin's name, for Kind == Plugin
	Tool   string // the MCP tool being served, when there is one
	// Grants are the operations the operator granted a plugin; ignored for
	// other kinds. Deny by default: an empty set grants nothing.
	Grants map[string]bool
}

// Runner is what the gate guards: the catalogue. Run takes a pointer to a
// value of the operation's input type, decoded by the gate.
type Runner interface {
	Run(ctx context.Context, op string, in any) (any, error)
	Account(ctx context.Context) (string, error)
}

// Options configures a Gate.
type Options struct {
	// ReadOnly refuses every operation that mutates, whoever asks.
	ReadOnly bool
	// ExpectAccount, when set, refuses every call unless the credentials
	// belong to this account id.
	ExpectAccount string
	// Audit receives one JSON line per decided call; nil for none.
	Audit io.Writer
	// Now is the clock for audit records; nil means time.Now.
	Now func() time.Time
}

// Gate decides and runs calls. It is safe for concurrent use.
type Gate struct {
	runner Runner
	opts   Options
	now    func() time.Time
	auditM sync.Mutex
}

// New returns a gate in front of runner.
func New(runner Runner, opts Options) *Gate {
	g := &Gate{runner: runner, opts: opts, now: opts.Now}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// ReadOnly reports whether the gate refuses mutations.
func (g *Gate) ReadOnly() bool { return g.opts.ReadOnly }

// Call decides whether caller may run op with the JSON arguments args,
// runs it if so, and audits the outcome. Errors are always *api.Error.
func (g *Gate) Call(ctx context.Context, caller Caller, op string, args json.RawMessage) (any, error) {
	in, out, err := g.decideAndRun(ctx, caller, op, args)
	g.audit(caller, op, in, args, err, false)
	return out, err
}

// decideAndRun returns the decoded input (nil when decoding was not
// reached or failed), and the outcome.
func (g *Gate) decideAndRun(ctx context.Context, caller Caller, opName string, raw json.RawMessage) (any, any, error) {
	op, ok := api.Lookup(opName)
	if !ok {
		return nil, nil, api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(opName))
	}
	if caller.Kind == Plugin && !caller.Grants[opName] {
		return nil, nil, api.Errorf(api.NotGranted, "plugin %s was not granted %s; the operator grants operations in the plugins file", caller.Plugin, opName)
	}
	in, aerr := args.Decode(op, raw)
	if aerr != nil {
		return nil, nil, aerr
	}
	if g.opts.ReadOnly && op.Mutates {
		return in, nil, api.Errorf(api.ReadOnly, "%s changes IAM and the server runs in read-only mode (--readonly); nothing was changed. Restart the server without --readonly to allow changes", opName)
	}
	if err := g.checkAccount(ctx); err != nil {
		return in, nil, err
	}
	out, err := g.runner.Run(ctx, opName, in)
	if err != nil {
		return in, nil, asAPIError(err)
	}
	return in, out, nil
}

// checkAccount refuses when the credentials do not belong to the expected
// account.
func (g *Gate) checkAccount(ctx context.Context) error {
	if g.opts.ExpectAccount == "" {
		return nil
	}
	acct, err := g.runner.Account(ctx)
	if err != nil {
		return asAPIError(err)
	}
	if acct != g.opts.ExpectAccount {
		return api.Errorf(api.WrongAccount, "the AWS credentials belong to account %s, but the server was started with --expect-account %s; nothing was done. Fix the profile or credentials", acct, g.opts.ExpectAccount)
	}
	return nil
}

// HostInfoOperation names a plugin's host_info in audit records: it is no
// catalogue operation, but it tells a plugin which account it works in, so
// it passes the same account check and is recorded like one.
const HostInfoOperation = "host_info"

// Info decides whether caller may learn the account it works in (a
// plugin's host_info): refused with WrongAccount as every call would be
// when the credentials are not the expected account's. It writes the
// audit line.
func (g *Gate) Info(ctx context.Context, caller Caller) error {
	err := g.checkAccount(ctx)
	g.audit(caller, HostInfoOperation, nil, nil, err, false)
	return err
}

// Refused records a call that the caller's own runtime refused before
// asking the gate (a plugin over its limits, or calling an operation its
// tool did not declare): the gate writes every audit line. e's code
// should be one the runtime decides (LimitExceeded, NotGranted).
func (g *Gate) Refused(caller Caller, op string, raw json.RawMessage, e *api.Error) {
	if g.opts.Audit == nil {
		return // nothing to record, so nothing to decode
	}
	var in any
	if meta, ok := api.Lookup(op); ok {
		in, _ = args.Decode(meta, raw)
	}
	var err error = e
	if e == nil { // a refusal without a reason is still a refusal
		err = api.Errorf(api.Internal, "refused by the caller's runtime")
	}
	g.audit(caller, op, in, raw, err, true)
}

// recordedArguments is what the audit record shows of a call's arguments:
// the decoded input encoded again, secrets redacted; or, when the
// arguments never decoded, only their size — bytes that did not decode
// are not what ran, and may hold a secret under a misspelt name.
func recordedArguments(in any, raw json.RawMessage) json.RawMessage {
	if in != nil {
		if b, err := json.Marshal(in); err == nil {
			return Redact(b)
		}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}")
	}
	return json.RawMessage(fmt.Sprintf(`{"undecoded_bytes":%d}`, len(raw)))
}

func asAPIError(err error) *api.Error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	return api.Errorf(api.Internal, "unexpected failure: %v; please report it", err)
}

// ---- audit ----

// Record is one audit line.
type Record struct {
	Time      time.Time       `json:"time"`
	Caller    CallerKind      `json:"caller"`
	Plugin    string          `json:"plugin,omitempty"`
	Tool      string          `json:"tool,omitempty"`
	Operation string          `json:"operation"`
	Mutates   bool            `json:"mutates"`
	Arguments json.RawMessage `json:"arguments"`
	Outcome   string          `json:"outcome"` // "ok", "refused" or "error"
	Code      api.ErrorCode   `json:"code,omitempty"`
	Message   string          `json:"message,omitempty"`
}

// refusals are the codes the gate itself decides.
var refusals = map[api.ErrorCode]bool{api.ReadOnly: true, api.NotGranted: true, api.WrongAccount: true}

// audit writes one record of op with the decoded input in (nil when the
// arguments raw never decoded); refused marks err as a refusal whatever
// its code (the runtime's own limits). Without an audit log it does
// nothing, not even encode the arguments.
func (g *Gate) audit(caller Caller, op string, in any, raw json.RawMessage, err error, refused bool) {
	if g.opts.Audit == nil {
		return
	}
	opMeta, known := api.Lookup(op)
	if !known {
		op = args.Cut(op, args.QuoteMax) // a name from outside, possibly huge
	}
	rec := Record{
		Time: g.now().UTC(), Caller: caller.Kind, Plugin: caller.Plugin, Tool: caller.Tool,
		Operation: op, Mutates: opMeta.Mutates, Arguments: recordedArguments(in, raw), Outcome: "ok",
	}
	if err != nil {
		ae := asAPIError(err)
		rec.Outcome, rec.Code, rec.Message = "error", ae.Code, ae.Message
		if refused || refusals[ae.Code] {
			rec.Outcome = "refused"
		}
	}
	line, mErr := json.Marshal(rec)
	if mErr != nil {
		line = []byte(fmt.Sprintf(`{"operation":%q,"outcome":"audit-encoding-failed"}`, op))
	}
	g.auditM.Lock()
	defer g.auditM.Unlock()
	_, _ = g.opts.Audit.Write(append(line, '\n'))
}

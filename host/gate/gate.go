// Package gate is the one check in front of every catalogue operation,
// whoever calls it: the assistant through a built-in tool, a plugin through
// iam_call, or a person through the command line. There is no other path to
// the catalogue.
//
// For each call the gate decides, in this order:
//
//  1. the operation exists (else InvalidInput);
//  2. a plugin was granted it by the operator (else NotGranted);
//  3. in read-only mode, it does not mutate (else ReadOnly) — before any AWS
//     call is made;
//  4. with an expected account, the credentials belong to it (else
//     WrongAccount);
//
// then runs it, and writes one audit line per decided call, refusals
// included, with secrets removed from the arguments.
package gate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

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

// Runner is what the gate guards: the catalogue.
type Runner interface {
	Call(ctx context.Context, op string, args json.RawMessage) (any, error)
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

// Call decides whether caller may run op, runs it if so, and audits the
// outcome. Errors are always *api.Error.
func (g *Gate) Call(ctx context.Context, caller Caller, op string, args json.RawMessage) (any, error) {
	out, err := g.decideAndRun(ctx, caller, op, args)
	g.audit(caller, op, args, err)
	return out, err
}

func (g *Gate) decideAndRun(ctx context.Context, caller Caller, opName string, args json.RawMessage) (any, error) {
	op, ok := api.Lookup(opName)
	if !ok {
		return nil, api.Errorf(api.InvalidInput, "there is no operation %q; list the tools to see what exists", opName)
	}
	if caller.Kind == Plugin && !caller.Grants[opName] {
		return nil, api.Errorf(api.NotGranted, "plugin %s was not granted %s; the operator grants operations in the plugins file", caller.Plugin, opName)
	}
	if g.opts.ReadOnly && op.Mutates {
		return nil, api.Errorf(api.ReadOnly, "%s changes IAM and the server runs in read-only mode (--readonly); nothing was changed. Restart the server without --readonly to allow changes", opName)
	}
	if g.opts.ExpectAccount != "" {
		acct, err := g.runner.Account(ctx)
		if err != nil {
			return nil, asAPIError(err)
		}
		if acct != g.opts.ExpectAccount {
			return nil, api.Errorf(api.WrongAccount, "the AWS credentials belong to account %s, but the server was started with --expect-account %s; nothing was done. Fix the profile or credentials", acct, g.opts.ExpectAccount)
		}
	}
	out, err := g.runner.Call(ctx, opName, args)
	if err != nil {
		return nil, asAPIError(err)
	}
	return out, nil
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

func (g *Gate) audit(caller Caller, op string, args json.RawMessage, err error) {
	if g.opts.Audit == nil {
		return
	}
	opMeta, _ := api.Lookup(op)
	rec := Record{
		Time: g.now().UTC(), Caller: caller.Kind, Plugin: caller.Plugin, Tool: caller.Tool,
		Operation: op, Mutates: opMeta.Mutates, Arguments: Redact(args), Outcome: "ok",
	}
	if err != nil {
		ae := asAPIError(err)
		rec.Outcome, rec.Code, rec.Message = "error", ae.Code, ae.Message
		if refusals[ae.Code] {
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

// Package gate is the one check in front of every catalogue operation,
// whoever calls it: the assistant through a built-in tool, a plugin through
// iam_call, or a person through the command line. There is no other path to
// the catalogue.
//
// For each call the gate decides, in this order:
//
//  1. the operation exists and the operator did not exclude it (else
//     InvalidInput, Excluded);
//  2. a plugin was granted it by the operator (else NotGranted);
//  3. the arguments decode strictly into the operation's input type (host/args:
//     size capped, exact key spelling, each key once; else InvalidInput),
//     with the gate's own dry_run and confirmed beside them on a mutation;
//  4. a dry run is planned and its plan returned, changing nothing — in
//     read-only mode too;
//  5. in read-only mode, it does not mutate (else ReadOnly) — before any AWS
//     call is made;
//  6. with an expected account, the credentials belong to it (else
//     WrongAccount);
//  7. a mutation is planned (reads, preconditions, guardrails), and when
//     Options.Confirm covers it, the person approves that plan through the
//     caller's Consent (else Declined, or ConsentRequired when nobody can
//     be asked);
//
// then runs the decoded input (a mutation: exactly the plan approved), and
// writes one audit line per decided call, refusals included, with the
// consent asked and given. It is the only writer of audit lines: what
// another part refuses before asking it (the plugin runtime's caps, a
// request that does not decode) it records through Refused. The audit
// line records the decoded input —
// what ran, encoded again with the schema's own key spelling — with
// secrets removed, never the bytes as sent: a record of the raw bytes could
// name one user while the call acted on another.
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
	// Consent asks the person behind the caller to approve a change that
	// Options.Confirm covers; nil when nobody can be asked, which refuses
	// such a change with ConsentRequired.
	Consent Consent
}

// Runner is what the gate guards: the catalogue. Run and Prepare take a
// pointer to a value of the operation's input type, decoded by the gate.
type Runner interface {
	// Run runs an operation that changes nothing.
	Run(ctx context.Context, op string, in any) (any, error)
	// Prepare plans a mutation, changing nothing, and returns its plan
	// with the function that carries out exactly that plan.
	Prepare(ctx context.Context, op string, in any) (*api.Plan, func(context.Context) (any, error), error)
	Account(ctx context.Context) (string, error)
}

// Confirm says which mutations need a person's yes before they run.
type Confirm string

// The levels of --confirm.
const (
	// ConfirmDestructive asks before operations marked Destructive (they
	// delete, overwrite or can cut off access). The zero value means it.
	ConfirmDestructive Confirm = "destructive"
	// ConfirmWrites asks before every mutation.
	ConfirmWrites Confirm = "writes"
	// ConfirmNone never asks.
	ConfirmNone Confirm = "none"
)

// ParseConfirm reads a --confirm value.
func ParseConfirm(s string) (Confirm, error) {
	switch c := Confirm(s); c {
	case ConfirmDestructive, ConfirmWrites, ConfirmNone:
		return c, nil
	}
	return "", fmt.Errorf("%s is not a confirmation level: use destructive (ask before deleting, overwriting or cutting off access), writes (ask before every change) or none", args.Quote(s))
}

// Covers reports whether op needs a person's yes at this level.
func (c Confirm) Covers(op api.Operation) bool {
	switch c {
	case ConfirmNone:
		return false
	case ConfirmWrites:
		return op.Mutates
	}
	return op.Destructive
}

// Consent asks a person to approve a change.
type Consent interface {
	// Ask shows q to the person and returns their answer. An error is a
	// failure to ask (the client went away), never a no.
	Ask(ctx context.Context, q Question) (Answer, error)
}

// Question is what the person is asked to approve: one call's change, or
// the changes a plugin states for one step of its workflow.
type Question struct {
	Caller Caller
	// Summary is the plugin's own words for the step; "" for one call.
	Summary string
	// Changes are the changes, in the order they will be made.
	Changes []Proposed
}

// Proposed is one change put to the person.
type Proposed struct {
	Operation string
	// Input is the decoded input (a pointer to the operation's input
	// type), exactly what will run.
	Input any
	Plan  *api.Plan
}

// Answer is the person's answer, or why none could be had.
type Answer struct {
	// Decision is "accept", "decline" or "cancel" (closed without an
	// answer); only "accept" lets the change run.
	Decision string
	// Via says how the person was asked, for the audit line: "elicitation",
	// "terminal", "--yes", "plugin plan".
	Via string
	// Unavailable, when set, says that nobody could be asked and what the
	// operator can do about it (the flag that allows the change without
	// asking); Decision is then ignored.
	Unavailable string
	// Pending means the question was handed to the client, whose answer
	// comes with a later request (MCP's input-required results): the
	// call stops here, unaudited, changing nothing, and is asked again.
	Pending bool
}

// The decisions of an Answer.
const (
	Accept  = "accept"
	Decline = "decline"
	Cancel  = "cancel"
)

// ErrPending is the error of a call whose question is pending (Answer's
// Pending): not a refusal, and not audited.
var ErrPending = api.Errorf(api.ConsentRequired, "the change is waiting for the person's answer; nothing was changed yet")

// Options configures a Gate.
type Options struct {
	// ReadOnly refuses every operation that mutates, whoever asks.
	ReadOnly bool
	// ReadOnlyAdvice ends the refusal of a mutation in read-only mode: how
	// the operator allows writes (the default tells to restart without
	// --readonly).
	ReadOnlyAdvice string
	// Confirm says which mutations need a person's yes.
	Confirm Confirm
	// Excluded are operations the operator took out of the server: refused
	// for every caller, plugins included.
	Excluded map[string]bool
	// ExpectAccount, when set, refuses every call unless the credentials
	// belong to this account id.
	ExpectAccount string
	// Audit receives one JSON line per decided call, each in one Write;
	// nil for none. The gate is its only writer: a gate and the gates made
	// from it with Over hold one lock around it, so their lines never
	// interleave. Give one writer to one New.
	Audit io.Writer
	// Now is the clock for audit records; nil means time.Now.
	Now func() time.Time
}

// Gate decides and runs calls. It is safe for concurrent use.
type Gate struct {
	runner Runner
	opts   Options
	now    func() time.Time
	log    *auditLog // shared with the gates made by Over
}

// auditLog is Options.Audit with the one lock its lines are written
// under. Only the gate writes it (Gate.audit): a refusal decided elsewhere
// reaches it through a gate method (Refused, Info, Preview).
type auditLog struct {
	mu sync.Mutex
	w  io.Writer // nil: no audit log
}

// New returns a gate in front of runner.
func New(runner Runner, opts Options) *Gate {
	g := &Gate{runner: runner, opts: opts, now: opts.Now, log: &auditLog{w: opts.Audit}}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// Over returns a gate that decides exactly as g does (its options, clock
// and audit log) in front of another runner: the plugins' gate, over a
// catalogue of their own that never returns a secret inline. Both write
// the one audit log under one lock.
func (g *Gate) Over(runner Runner) *Gate {
	o := *g
	o.runner = runner
	return &o
}

// ReadOnly reports whether the gate refuses mutations.
func (g *Gate) ReadOnly() bool { return g.opts.ReadOnly }

// Confirm is the level of consent the gate asks for.
func (g *Gate) Confirm() Confirm {
	if g.opts.Confirm == "" {
		return ConfirmDestructive
	}
	return g.opts.Confirm
}

// Excluded reports whether the operator took op out of the server.
func (g *Gate) Excluded(op string) bool { return g.opts.Excluded[op] }

// Call decides whether caller may run op with the JSON arguments args,
// runs it if so, and audits the outcome. Errors are always *api.Error; a
// call whose question is pending returns ErrPending.
func (g *Gate) Call(ctx context.Context, caller Caller, op string, args json.RawMessage) (any, error) {
	d := g.decideAndRun(ctx, caller, op, args)
	if d.err == ErrPending {
		return nil, d.err
	}
	g.audit(caller, op, d, args, false)
	return d.out, d.err
}

// decision is what the gate decided about one call, for its caller and
// its audit line.
type decision struct {
	in      any          // the decoded input; nil when decoding was not reached or failed
	opts    args.Options // the gate's own arguments
	consent *ConsentRecord
	out     any
	err     error
}

func (g *Gate) decideAndRun(ctx context.Context, caller Caller, opName string, raw json.RawMessage) (d decision) {
	d, op := g.admit(caller, opName, raw)
	if d.err != nil {
		return d
	}
	if d.opts.DryRun {
		d.out, d.err = g.dryRun(ctx, op, d.in)
		return d
	}
	if g.opts.ReadOnly && op.Mutates {
		d.err = g.readOnlyError(opName)
		return d
	}
	if err := g.checkAccount(ctx); err != nil {
		d.err = err
		return d
	}
	if !op.Mutates {
		out, err := g.runner.Run(ctx, opName, d.in)
		if err != nil {
			d.err = AsAPIError(err)
			return d
		}
		d.out = out
		return d
	}
	plan, apply, err := g.runner.Prepare(ctx, opName, d.in)
	if err != nil {
		d.err = AsAPIError(err)
		return d
	}
	if g.Confirm().Covers(op) {
		d.consent, d.err = g.ask(ctx, caller, op, d.in, plan)
		if d.err != nil {
			return d
		}
	}
	out, err := apply(ctx)
	if err != nil {
		d.err = AsAPIError(err)
		return d
	}
	if d.opts.Confirmed != nil {
		if r, ok := out.(interface{ AddWarning(string) }); ok {
			r.AddWarning("the confirmed argument has no effect on this server: changes that need consent are approved by the person, whom the server asks through the client")
		}
	}
	d.out = out
	return d
}

// Preview decides a call as Call would, up to its plan, and changes
// nothing: for a plugin that states its plan before making its calls. It
// returns the change proposed and whether the gate will ask the person
// before running it (Options.Confirm covers it). A call that would be
// refused (not granted, read-only, excluded, the wrong account, a
// guardrail) returns the refusal, audited as Call would; a call that reads
// has no plan and is an InvalidInput error.
func (g *Gate) Preview(ctx context.Context, caller Caller, opName string, raw json.RawMessage) (Proposed, bool, error) {
	d, op, plan := g.preview(ctx, caller, opName, raw)
	if d.err != nil {
		g.audit(caller, opName, d, raw, false)
		return Proposed{}, false, d.err
	}
	return Proposed{Operation: opName, Input: d.in, Plan: plan}, g.Confirm().Covers(op), nil
}

func (g *Gate) preview(ctx context.Context, caller Caller, opName string, raw json.RawMessage) (d decision, op api.Operation, plan *api.Plan) {
	d, op = g.admit(caller, opName, raw)
	switch {
	case d.err != nil:
	case !op.Mutates:
		d.err = api.Errorf(api.InvalidInput, "%s changes nothing, so it needs no consent; call it directly", opName)
	case g.opts.ReadOnly:
		d.err = g.readOnlyError(opName)
	default:
		d.err = g.checkAccount(ctx)
	}
	if d.err != nil {
		return d, op, nil
	}
	plan, _, err := g.runner.Prepare(ctx, opName, d.in)
	if err != nil {
		d.err = AsAPIError(err)
	}
	return d, op, plan
}

// admit makes the checks that need no AWS call: the operation exists and
// is not excluded, a plugin was granted it, the arguments decode.
func (g *Gate) admit(caller Caller, opName string, raw json.RawMessage) (d decision, op api.Operation) {
	op, ok := api.Lookup(opName)
	switch {
	case !ok:
		d.err = api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(opName))
	case g.opts.Excluded[opName]:
		d.err = api.Errorf(api.Excluded, "%s is excluded from this server by its operator (--exclude-tools), for every caller; nothing was done", opName)
	case caller.Kind == Plugin && !caller.Grants[opName]:
		d.err = api.Errorf(api.NotGranted, "plugin %s was not granted %s; the operator grants operations in the plugins file", caller.Plugin, opName)
	default:
		var aerr *api.Error
		if d.in, d.opts, aerr = args.DecodeCall(op, raw); aerr != nil {
			d.err = aerr
		}
	}
	return d, op
}

func (g *Gate) readOnlyError(opName string) error {
	advice := g.opts.ReadOnlyAdvice
	if advice == "" {
		advice = "Restart the server without --readonly to allow changes"
	}
	return api.Errorf(api.ReadOnly, "%s changes IAM and the server is read-only; nothing was changed. %s (or call it with dry_run: true to see what it would do)", opName, advice)
}

// dryRun plans a mutation and returns the plan as the call's result,
// changing nothing. It passes the account check — a plan read from the
// wrong account would mislead — but not the read-only one.
func (g *Gate) dryRun(ctx context.Context, op api.Operation, in any) (any, error) {
	if err := g.checkAccount(ctx); err != nil {
		return nil, err
	}
	plan, _, err := g.runner.Prepare(ctx, op.Name, in)
	if err != nil {
		return nil, AsAPIError(err)
	}
	msg := "dry run: nothing was changed"
	switch {
	case g.opts.ReadOnly:
		msg += "; the server is read-only, so this change would be refused"
	case g.Confirm().Covers(op):
		msg += "; the person will be asked to approve this plan before it runs"
	}
	return &api.DryRunOutput{DryRun: true, Plan: *plan, Result: api.Result{Message: msg}}, nil
}

// ask has the person approve plan through the caller's Consent.
func (g *Gate) ask(ctx context.Context, caller Caller, op api.Operation, in any, plan *api.Plan) (*ConsentRecord, error) {
	rec := &ConsentRecord{Level: g.Confirm()}
	if caller.Consent == nil {
		rec.Answer = "unavailable"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes (--confirm %s) and nobody can be asked here; nothing was changed", op.Name, g.Confirm())
	}
	a, err := caller.Consent.Ask(ctx, Question{Caller: caller, Changes: []Proposed{{Operation: op.Name, Input: in, Plan: plan}}})
	rec.Via = a.Via
	switch {
	case err != nil:
		rec.Answer = "failed"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes and asking failed (%v); nothing was changed", op.Name, err)
	case a.Pending:
		return rec, ErrPending
	case a.Unavailable != "":
		rec.Answer = "unavailable"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes (--confirm %s) and nobody can be asked: %s. Nothing was changed", op.Name, g.Confirm(), a.Unavailable)
	}
	rec.Answer = a.Decision
	switch a.Decision {
	case Accept:
		return rec, nil
	case Cancel:
		return rec, api.Errorf(api.Declined, "the person closed the question about %s without answering; nothing was changed", op.Name)
	}
	rec.Answer = Decline
	return rec, api.Errorf(api.Declined, "the person declined %s; nothing was changed", op.Name)
}

// checkAccount refuses when the credentials do not belong to the expected
// account.
func (g *Gate) checkAccount(ctx context.Context) error {
	if g.opts.ExpectAccount == "" {
		return nil
	}
	acct, err := g.runner.Account(ctx)
	if err != nil {
		return AsAPIError(err)
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
	g.audit(caller, HostInfoOperation, decision{err: err}, nil, false)
	return err
}

// Refused records a call that the caller's own runtime refused before
// asking the gate (a plugin over its limits, or calling an operation its
// tool did not declare): the gate writes every audit line. e's code
// should be one the runtime decides (LimitExceeded, NotGranted).
func (g *Gate) Refused(caller Caller, op string, raw json.RawMessage, e *api.Error) {
	if g.log.w == nil {
		return // nothing to record, so nothing to decode
	}
	var d decision
	if meta, ok := api.Lookup(op); ok {
		d.in, d.opts, _ = args.DecodeCall(meta, raw)
	}
	d.err = e
	if e == nil { // a refusal without a reason is still a refusal
		d.err = api.Errorf(api.Internal, "refused by the caller's runtime")
	}
	g.audit(caller, op, d, raw, true)
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

// AsAPIError is err as every caller of the host is answered: the
// *api.Error err is or wraps, as it is; or else, since a failure that
// nothing turned into an *api.Error is one nobody foresaw, an Internal
// error that quotes it and asks for a report. The gate, the plugin
// runtime, the MCP server and the command line all answer through it.
func AsAPIError(err error) *api.Error {
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
	// DryRun: the call asked for the plan only; nothing was changed.
	DryRun bool `json:"dry_run,omitempty"`
	// Confirmed is the upstream's confirmed argument when given: recorded,
	// never obeyed.
	Confirmed *bool `json:"confirmed_argument,omitempty"`
	// Consent is the question put to the person, for a call --confirm
	// covers; absent when none was needed.
	Consent *ConsentRecord `json:"consent,omitempty"`
	Outcome string         `json:"outcome"` // "ok", "refused" or "error"
	Code    api.ErrorCode  `json:"code,omitempty"`
	Message string         `json:"message,omitempty"`
}

// ConsentRecord is how a call's consent was asked and answered.
type ConsentRecord struct {
	Level Confirm `json:"level"`         // the --confirm level that required it
	Via   string  `json:"via,omitempty"` // elicitation, terminal, --yes, plugin plan
	// Answer is accept, decline, cancel, unavailable (nobody could be
	// asked) or failed (asking failed).
	Answer string `json:"answer"`
}

// refusals are the codes the gate itself decides.
var refusals = map[api.ErrorCode]bool{api.ReadOnly: true, api.NotGranted: true, api.WrongAccount: true, api.Excluded: true,
	api.Declined: true, api.ConsentRequired: true}

// audit writes one record of op from what was decided (d.in nil when the
// arguments raw never decoded); refused marks d.err as a refusal whatever
// its code (the runtime's own limits). Without an audit log it does
// nothing, not even encode the arguments.
func (g *Gate) audit(caller Caller, op string, d decision, raw json.RawMessage, refused bool) {
	if g.log.w == nil {
		return
	}
	opMeta, known := api.Lookup(op)
	if !known {
		op = args.Cut(op, args.QuoteMax) // a name from outside, possibly huge
	}
	rec := Record{
		Time: g.now().UTC(), Caller: caller.Kind, Plugin: caller.Plugin, Tool: caller.Tool,
		Operation: op, Mutates: opMeta.Mutates, Arguments: recordedArguments(d.in, raw), Outcome: "ok",
		DryRun: d.opts.DryRun, Confirmed: d.opts.Confirmed, Consent: d.consent,
	}
	if err := d.err; err != nil {
		ae := AsAPIError(err)
		rec.Outcome, rec.Code, rec.Message = "error", ae.Code, ae.Message
		if refused || refusals[ae.Code] {
			rec.Outcome = "refused"
		}
	}
	line, mErr := json.Marshal(rec)
	if mErr != nil {
		line = []byte(fmt.Sprintf(`{"operation":%q,"outcome":"audit-encoding-failed"}`, op))
	}
	g.log.mu.Lock()
	defer g.log.mu.Unlock()
	_, _ = g.log.w.Write(append(line, '\n'))
}

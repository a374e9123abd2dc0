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
//     with the gate's own account beside them on an operation that calls
//     AWS, and dry_run and confirmed on a mutation (naming an account both
//     there and beside the arguments, two different ones, is InvalidInput);
//  4. the account named is one the server acts in — "" its own, else an
//     id or alias Options.Accounts lists (without Accounts, only the
//     server's own id) — and, for a plugin, one the operator allowed it
//     (else AccountNotAllowed, before any AWS call), and for an
//     authenticated HTTP caller (the context's Principal) one its
//     narrowing keeps; it brings its mode:
//     read-only when the server or the account is, and the account's
//     confirmation level;
//  5. a dry run is planned in that account and its plan returned,
//     changing nothing — in read-only mode too;
//  6. in read-only mode (the server's, the account's, or the
//     principal's), it does not
//     mutate (else ReadOnly) — before any AWS call is made;
//  7. in the server's own account, with an expected account, the
//     credentials belong to it (else WrongAccount); in another, the
//     Accounts give the runner that acts there (their error is the call's);
//  8. a mutation is planned (reads, preconditions, guardrails), and when
//     the account's confirmation level covers it, the person approves that
//     plan, told which account it is in, through the caller's Consent
//     (else Declined, or ConsentRequired when nobody can be asked);
//
// then runs the decoded input (a mutation: exactly the plan approved), and
// writes one audit line per decided call, refusals included, with the
// consent asked and given, the account (and role session) it acted
// in, and the authenticated subject it acted for. It is the only writer of audit lines: what another part refuses
// before asking it (the plugin runtime's caps, a request that does not
// decode) it records through Refused. The audit line records the decoded
// input — what ran, encoded again with the schema's own key spelling —
// with secrets removed, never the bytes as sent: a record of the raw bytes could
// name one user while the call acted on another.
package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
	// Accounts are, for a plugin, the ids of the accounts the operator
	// allowed it (the plugins file); nil allows every account the server
	// reaches. Ignored for other kinds.
	Accounts map[string]bool
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
	// Account is the account the changes are in, for the person: worth
	// naming when it is not the server's own (Self).
	Account Account
	// Summary is the plugin's own words for the step; "" for one call.
	Summary string
	// Changes are the changes, in the order they will be made.
	Changes []Proposed
}

// Proposed is one change put to the person.
type Proposed struct {
	Operation string
	// Account is the account the change is in.
	Account Account
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
	// ExpectAccount, when set, refuses every call in the server's own
	// account unless the credentials belong to this account id.
	ExpectAccount string
	// Accounts are the other accounts the server may act in (the account
	// argument), each with its mode; nil: the server's own account only.
	Accounts Accounts
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
	// self is the server's own account with the gate's mode; its ID is
	// known from the Accounts' self entry or ExpectAccount, else "".
	self Account
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
	if opts.Accounts != nil {
		for _, a := range opts.Accounts.List() {
			if a.Self {
				g.self = a
				break
			}
		}
	}
	if g.self.ID == "" {
		g.self.ID = opts.ExpectAccount
	}
	// The server's own account has the server's mode, whatever an entry
	// says: the flags are the operator's word for it.
	g.self.Self, g.self.ReadOnly, g.self.Confirm, g.self.Via = true, opts.ReadOnly, g.Confirm(), ""
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

// Accounts lists the accounts the gate acts in, each with its mode as the
// gate decides it: the server's own first (the gate's mode; its ID ""
// when unknown), then the others (read-only whenever the server is; the
// server's confirmation level when their entry sets none). A server of
// one account lists its own only.
func (g *Gate) Accounts() []Account {
	out := []Account{g.self}
	if g.opts.Accounts == nil {
		return out
	}
	for _, a := range g.opts.Accounts.List() {
		if a.Self || a.ID == g.self.ID {
			continue
		}
		out = append(out, g.mode(a))
	}
	return out
}

// mode is a for the gate: read-only when the server is (read-only wins),
// and the server's confirmation level when a sets none.
func (g *Gate) mode(a Account) Account {
	if a.Self {
		return g.self
	}
	a.ReadOnly = a.ReadOnly || g.opts.ReadOnly
	if a.Confirm == "" {
		a.Confirm = g.Confirm()
	}
	return a
}

// Call decides whether caller may run op with the JSON arguments args,
// runs it if so, and audits the outcome. Errors are always *api.Error; a
// call whose question is pending returns ErrPending. It is CallIn with
// the account, if any, named in the arguments only.
func (g *Gate) Call(ctx context.Context, caller Caller, op string, args json.RawMessage) (any, error) {
	return g.CallIn(ctx, caller, "", op, args)
}

// CallIn is Call in account (an id or alias; "" for the one the
// arguments name with api.ArgAccount, or else the server's own): a
// plugin's iam_call names the account beside the arguments. Naming two
// different accounts is InvalidInput.
func (g *Gate) CallIn(ctx context.Context, caller Caller, account, op string, args json.RawMessage) (any, error) {
	d := g.decideAndRun(ctx, caller, account, op, args)
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
	asked   string       // the account the call named, "" for none
	acct    Account      // the account resolved; zero until it is
	session string       // the role session Accounts.Runner acted through
	// principal is the authenticated person the call is made for (MCP
	// over HTTP), from the context; nil on a local server.
	principal *Principal
	consent   *ConsentRecord
	out       any
	err       error
}

func (g *Gate) decideAndRun(ctx context.Context, caller Caller, account, opName string, raw json.RawMessage) (d decision) {
	d, op := g.admit(ctx, caller, account, opName, raw)
	if d.err != nil {
		return d
	}
	if d.opts.DryRun {
		d.out, d.err = g.dryRun(ctx, caller, op, &d)
		return d
	}
	if op.Mutates && d.readOnly() {
		d.err = g.readOnlyError(opName, &d)
		return d
	}
	runner, err := g.runnerFor(ctx, caller, &d)
	if err != nil {
		d.err = err
		return d
	}
	if !op.Mutates {
		out, err := runner.Run(ctx, opName, d.in)
		if err != nil {
			d.err = AsAPIError(err)
			return d
		}
		d.out = out
		return d
	}
	plan, apply, err := runner.Prepare(ctx, opName, d.in)
	if err != nil {
		d.err = AsAPIError(err)
		return d
	}
	if d.acct.Confirm.Covers(op) {
		d.consent, d.err = g.ask(ctx, caller, op, d.acct, d.in, plan)
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
// before running it (the account's confirmation level covers it). A call
// that would be refused (not granted, read-only, excluded, an account not
// allowed, the wrong account, a guardrail) returns the refusal, audited as
// Call would; a call that reads has no plan and is an InvalidInput error.
// It is PreviewIn with the account, if any, named in the arguments only.
func (g *Gate) Preview(ctx context.Context, caller Caller, opName string, raw json.RawMessage) (Proposed, bool, error) {
	return g.PreviewIn(ctx, caller, "", opName, raw)
}

// PreviewIn is Preview in account, as CallIn is Call.
func (g *Gate) PreviewIn(ctx context.Context, caller Caller, account, opName string, raw json.RawMessage) (Proposed, bool, error) {
	d, op, plan := g.preview(ctx, caller, account, opName, raw)
	if d.err != nil {
		g.audit(caller, opName, d, raw, false)
		return Proposed{}, false, d.err
	}
	return Proposed{Operation: opName, Account: d.acct, Input: d.in, Plan: plan}, d.acct.Confirm.Covers(op), nil
}

func (g *Gate) preview(ctx context.Context, caller Caller, account, opName string, raw json.RawMessage) (d decision, op api.Operation, plan *api.Plan) {
	d, op = g.admit(ctx, caller, account, opName, raw)
	var runner Runner
	switch {
	case d.err != nil:
	case !op.Mutates:
		d.err = api.Errorf(api.InvalidInput, "%s changes nothing, so it needs no consent; call it directly", opName)
	case d.readOnly():
		d.err = g.readOnlyError(opName, &d)
	default:
		runner, d.err = g.runnerFor(ctx, caller, &d)
	}
	if d.err != nil {
		return d, op, nil
	}
	plan, _, err := runner.Prepare(ctx, opName, d.in)
	if err != nil {
		d.err = AsAPIError(err)
	}
	return d, op, plan
}

// admit makes the checks that need no AWS call to a listed account: the
// operation exists and is not excluded, a plugin was granted it, the
// arguments decode, the account they name is one the server and the
// plugin may act in (d.acct, with its mode).
func (g *Gate) admit(ctx context.Context, caller Caller, account, opName string, raw json.RawMessage) (d decision, op api.Operation) {
	d.principal = PrincipalFrom(ctx)
	op, ok := api.Lookup(opName)
	switch {
	case !ok:
		d.err = api.Errorf(api.InvalidInput, "there is no operation %s; list the tools to see what exists", args.Quote(opName))
		return d, op
	case g.opts.Excluded[opName]:
		d.err = api.Errorf(api.Excluded, "%s is excluded from this server by its operator (--exclude-tools), for every caller; nothing was done", opName)
		return d, op
	case caller.Kind == Plugin && !caller.Grants[opName]:
		d.err = api.Errorf(api.NotGranted, "plugin %s was not granted %s; the operator grants operations in the plugins file", caller.Plugin, opName)
		return d, op
	}
	var aerr *api.Error
	if d.in, d.opts, aerr = args.DecodeCall(op, raw); aerr != nil {
		d.in, d.err = nil, aerr
		return d, op
	}
	d.asked = d.opts.Account
	if account != "" {
		switch {
		case op.Offline:
			d.err = api.Errorf(api.InvalidInput, "%s is answered by the policy engine alone, in no account; call it without an account", opName)
		case args.CheckAccount(account) != nil:
			d.err = args.CheckAccount(account)
		case d.asked != "" && d.asked != account:
			d.err = api.Errorf(api.InvalidInput, "the call names two accounts, %s and %s (argument %s); name one", args.Quote(account), args.Quote(d.asked), api.ArgAccount)
		}
		if d.err != nil {
			d.in = nil // not what would run: the audit line shows the size only
			return d, op
		}
		d.asked = account
	}
	if op.Offline {
		// The policy engine alone, in no account: it runs under the
		// server's own checks, and no plugin's account list applies.
		d.acct = g.self
		return d, op
	}
	d.acct, d.err = g.resolve(ctx, caller, d.principal, d.asked)
	return d, op
}

// readOnly reports whether d's call may not mutate: its account is
// read-only (the server's mode included), or its principal's is.
func (d *decision) readOnly() bool {
	return d.acct.ReadOnly || (d.principal != nil && d.principal.ReadOnly)
}

// resolve finds the account a call names ("" for the server's own) with
// the mode the gate gives it, and checks that caller may act there. A
// plugin refused an account it names gets the account with the error.
func (g *Gate) resolve(ctx context.Context, caller Caller, p *Principal, name string) (Account, error) {
	acct := g.self
	switch {
	case name == "" || name == g.self.ID:
	case g.opts.Accounts != nil:
		a, ok := g.opts.Accounts.Lookup(name)
		if !ok {
			return Account{}, g.notAllowed(name)
		}
		acct = g.mode(a)
	default:
		// One account, its id perhaps unknown: ask the credentials which
		// it is, unless the operator named it (then any other is wrong
		// without asking AWS).
		if g.opts.ExpectAccount != "" {
			return Account{}, g.notAllowed(name)
		}
		id, err := g.runner.Account(ctx)
		if err != nil {
			return Account{}, AsAPIError(err)
		}
		if name != id {
			return Account{}, g.notAllowed(name)
		}
		acct.ID = id
	}
	pluginLimited := caller.Kind == Plugin && caller.Accounts != nil
	principalLimited := p != nil && p.Accounts != nil
	if !pluginLimited && !principalLimited {
		return acct, nil
	}
	id := acct.ID
	if id == "" { // the server's own, unnamed: which one it is decides
		var err error
		if id, err = g.runner.Account(ctx); err != nil {
			return Account{}, AsAPIError(err)
		}
	}
	if pluginLimited && !caller.Accounts[id] {
		acct.ID = id // for the audit line: the account refused
		return acct, api.Errorf(api.AccountNotAllowed, "plugin %s may not act in account %s; the operator allows accounts per plugin in the plugins file (its accounts key); nothing was called",
			caller.Plugin, describeAccount(acct, id))
	}
	if principalLimited && !p.Accounts[id] {
		acct.ID = id
		return acct, api.Errorf(api.AccountNotAllowed, "%s may not act in account %s (%s); nothing was called",
			p.who(), describeAccount(acct, id), p.AccountsWhy)
	}
	return acct, nil
}

// maxListed is how many accounts a refusal lists before it counts the rest.
const maxListed = 10

// notAllowed refuses a call naming an account the server may not act in,
// listing those it may.
func (g *Gate) notAllowed(name string) *api.Error {
	var b strings.Builder
	all := g.Accounts()
	for i, a := range all {
		if i == maxListed {
			fmt.Fprintf(&b, " … and %d more", len(all)-maxListed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(describeAccount(a, a.ID))
	}
	if g.opts.Accounts == nil {
		return api.Errorf(api.AccountNotAllowed, "account %s is not one this server may act in: it acts in its own account only (%s), and the operator lists others with --accounts; nothing was called. Leave the account argument out, or call get_account_info to see the account",
			args.Quote(name), b.String())
	}
	return api.Errorf(api.AccountNotAllowed, "account %s is not one this server may act in; it reaches %s (get_account_info lists them, with their modes); nothing was called. Name one of them by its 12-digit id or alias",
		args.Quote(name), b.String())
}

// describeAccount names a for people, its id being id (the server's own
// account may be known only by asking the credentials).
func describeAccount(a Account, id string) string {
	a.ID = id
	s := a.Name()
	switch {
	case s == "":
		return "the server's own account"
	case a.Self:
		return s + " (the server's own)"
	}
	return s
}

// runnerFor is the runner that acts in d.acct, after the checks that
// account makes: for the server's own, the expected account's; for
// another, the account's credentials from Accounts (d.session names the
// role session).
func (g *Gate) runnerFor(ctx context.Context, caller Caller, d *decision) (Runner, error) {
	if d.acct.Self {
		if err := g.checkAccount(ctx); err != nil {
			return nil, err
		}
		return g.runner, nil
	}
	r, session, err := g.opts.Accounts.Runner(ctx, g.runner, d.acct, caller)
	if err != nil {
		return nil, AsAPIError(err)
	}
	d.session = session
	return r, nil
}

func (g *Gate) readOnlyError(opName string, d *decision) error {
	acct := d.acct
	if p := d.principal; p != nil && p.ReadOnly && !acct.ReadOnly {
		return api.Errorf(api.ReadOnly, "%s changes IAM and %s may only read on this server (%s); nothing was changed. Call it with dry_run: true to see what it would do",
			opName, p.who(), p.ReadOnlyWhy)
	}
	if !g.opts.ReadOnly { // only the account is read-only
		return api.Errorf(api.ReadOnly, "%s changes IAM and account %s is read-only for this server (the operator's accounts file gives it mode read-only); nothing was changed. Call it with dry_run: true to see what it would do",
			opName, describeAccount(acct, acct.ID))
	}
	advice := g.opts.ReadOnlyAdvice
	if advice == "" {
		advice = "Restart the server without --readonly to allow changes"
	}
	return api.Errorf(api.ReadOnly, "%s changes IAM and the server is read-only; nothing was changed. %s (or call it with dry_run: true to see what it would do)", opName, advice)
}

// dryRun plans a mutation in d's account and returns the plan as the
// call's result, changing nothing. It passes the account checks — a plan
// read from the wrong account would mislead — but not the read-only one.
func (g *Gate) dryRun(ctx context.Context, caller Caller, op api.Operation, d *decision) (any, error) {
	runner, err := g.runnerFor(ctx, caller, d)
	if err != nil {
		return nil, err
	}
	plan, _, err := runner.Prepare(ctx, op.Name, d.in)
	if err != nil {
		return nil, AsAPIError(err)
	}
	msg := "dry run: nothing was changed"
	switch {
	case d.principal != nil && d.principal.ReadOnly && !d.acct.ReadOnly:
		msg += "; you may only read on this server (" + d.principal.ReadOnlyWhy + "), so this change would be refused"
	case d.acct.ReadOnly && !g.opts.ReadOnly:
		msg += "; account " + describeAccount(d.acct, d.acct.ID) + " is read-only for this server, so this change would be refused"
	case d.acct.ReadOnly:
		msg += "; the server is read-only, so this change would be refused"
	case d.acct.Confirm.Covers(op):
		msg += "; the person will be asked to approve this plan before it runs"
	}
	return &api.DryRunOutput{DryRun: true, Plan: *plan, Result: api.Result{Message: msg}}, nil
}

// ask has the person approve plan, in acct, through the caller's Consent.
func (g *Gate) ask(ctx context.Context, caller Caller, op api.Operation, acct Account, in any, plan *api.Plan) (*ConsentRecord, error) {
	level := acct.Confirm
	rec := &ConsentRecord{Level: level}
	if caller.Consent == nil {
		rec.Answer = "unavailable"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes (--confirm %s) and nobody can be asked here; nothing was changed", op.Name, level)
	}
	a, err := caller.Consent.Ask(ctx, Question{Caller: caller, Account: acct, Changes: []Proposed{{Operation: op.Name, Account: acct, Input: in, Plan: plan}}})
	rec.Via = a.Via
	switch {
	case err != nil:
		rec.Answer = "failed"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes and asking failed (%v); nothing was changed", op.Name, err)
	case a.Pending:
		return rec, ErrPending
	case a.Unavailable != "":
		rec.Answer = "unavailable"
		return rec, api.Errorf(api.ConsentRequired, "%s needs a person's yes (--confirm %s) and nobody can be asked: %s. Nothing was changed", op.Name, level, a.Unavailable)
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
// account: the server's own, which --expect-account names.
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
	g.audit(caller, HostInfoOperation, decision{err: err, principal: PrincipalFrom(ctx)}, nil, false)
	return err
}

// Refused records a call that the caller's own runtime refused before
// asking the gate (a plugin over its limits, or calling an operation its
// tool did not declare): the gate writes every audit line. e's code
// should be one the runtime decides (LimitExceeded, NotGranted).
func (g *Gate) Refused(ctx context.Context, caller Caller, op string, raw json.RawMessage, e *api.Error) {
	g.RefusedIn(ctx, caller, "", op, raw, e)
}

// RefusedIn is Refused for a call that named account beside its
// arguments (a plugin's iam_call): the audit line names the account asked.
func (g *Gate) RefusedIn(ctx context.Context, caller Caller, account, op string, raw json.RawMessage, e *api.Error) {
	if g.log.w == nil {
		return // nothing to record, so nothing to decode
	}
	d := decision{principal: PrincipalFrom(ctx)}
	if meta, ok := api.Lookup(op); ok {
		d.in, d.opts, _ = args.DecodeCall(meta, raw)
	}
	d.asked = d.opts.Account
	if account != "" {
		d.asked = account
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
	Time      time.Time  `json:"time"`
	Caller    CallerKind `json:"caller"`
	Plugin    string     `json:"plugin,omitempty"`
	Tool      string     `json:"tool,omitempty"`
	Operation string     `json:"operation"`
	// Account is the id of the account the call acted in (for the
	// server's own, when known without asking AWS), or for a call refused
	// before its account was resolved, the name it asked for.
	Account string `json:"account,omitempty"`
	// Session is the role session the call acted through in another
	// account (an assumed-role ARN, or "profile NAME").
	Session string `json:"session,omitempty"`
	// Subject is the authenticated person the call was made for (MCP over
	// HTTP: a token's name or a JWT's sub), and Auth how they
	// authenticated; both absent on a local server.
	Subject   string          `json:"subject,omitempty"`
	Auth      string          `json:"auth,omitempty"`
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

// maxSubject bounds the subject an audit line records: a JWT's sub is the
// issuer's, and a line must stay a line.
const maxSubject = 256

// refusals are the codes the gate itself decides.
var refusals = map[api.ErrorCode]bool{api.ReadOnly: true, api.NotGranted: true, api.WrongAccount: true, api.Excluded: true,
	api.Declined: true, api.ConsentRequired: true, api.AccountNotAllowed: true}

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
		Account: d.acct.ID, Session: d.session,
	}
	if p := d.principal; p != nil {
		rec.Subject, rec.Auth = args.Cut(p.Subject, maxSubject), p.Via
	}
	if rec.Account == "" && !d.acct.Self {
		// Not resolved: the name asked, from outside, bounded.
		rec.Account = args.Cut(d.asked, args.MaxAccount)
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

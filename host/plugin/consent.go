package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Consent to a plugin's changes.
//
// A plugin tool states the changes of a step before it makes any of them
// (the consent host function). The host plans each change through the
// gate (gate.Preview: grants, read-only mode, account, arguments,
// guardrails, exactly as iam_call would decide it), and asks the person
// once, through the tool call's consenter, about those the operator's
// --confirm covers. A yes is remembered as approvals: each the exact call
// (operation, account and decoded input) with the plan shown, usable
// once, in this tool call only: a plan approved in one account lets
// nothing run in another. When the plugin then makes its calls, the gate asks the
// plugin's consenter (toolConsent, the Caller's Consent), which answers
// yes from an approval, and otherwise puts the question to the person as
// for any other caller: a call outside the plan, a second use of an
// approved one, or one whose plan changed since it was shown is asked
// about again, never waved through.

// ViaPluginPlan is the audit record's consent "via" of a call the person
// approved as part of a plugin's stated plan.
const ViaPluginPlan = "plugin plan"

// ErrConsentPending is wrapped by the error of a CallWithConsent whose
// tool call stopped because a question to the person is pending (the
// consenter answered gate.Answer.Pending, as MCP's input-required results
// do): the plugin was stopped before it changed anything more, and every
// request it made after the question was refused. The caller answers with
// its pending question and, once the person has answered, runs the whole
// tool call again, from the start; the plugin states the same plan, and
// the consenter answers it from the reply.
var ErrConsentPending = errors.New("the tool call stopped to wait for the person's answer; it runs again from the start once they answer")

// MaxConsentSummaryBytes caps the summary of a stated plan: one line the
// person reads above the changes, not a document.
const MaxConsentSummaryBytes = 1024

// toolConsent is the consent of one tool call: the approvals the person
// gave to the plugin's stated plans, and the way to ask about anything
// else. It is the gate.Consent of the plugin's caller.
type toolConsent struct {
	ask  gate.Consent // the tool call's consenter; nil when nobody can be asked
	stop func()       // stops the tool call once a question is pending

	// asking serialises the questions put to the person: a batch's
	// requests run concurrently, and a person answers one question at a
	// time (with a pending-style consenter, only the first can be
	// pending; those after it are refused as pending too).
	asking  sync.Mutex
	pending atomic.Bool

	mu       sync.Mutex
	approved map[[sha256.Size]byte]int // approval → uses left
}

func newToolConsent(ask gate.Consent, stop func()) *toolConsent {
	return &toolConsent{ask: ask, stop: stop, approved: map[[sha256.Size]byte]int{}}
}

// Ask implements gate.Consent for the plugin's own calls: yes, from an
// unused approval of exactly this change; otherwise the question goes to
// the person.
func (c *toolConsent) Ask(ctx context.Context, q gate.Question) (gate.Answer, error) {
	if len(q.Changes) == 1 && c.take(q.Changes[0]) {
		return gate.Answer{Decision: gate.Accept, Via: ViaPluginPlan}, nil
	}
	return c.person(ctx, q)
}

// person puts q to the tool call's consenter, one question at a time.
func (c *toolConsent) person(ctx context.Context, q gate.Question) (gate.Answer, error) {
	c.asking.Lock()
	defer c.asking.Unlock()
	switch {
	case c.pending.Load():
		return gate.Answer{Pending: true}, nil
	case c.ask == nil:
		return gate.Answer{Unavailable: "this plugin tool call has no way to ask the person, and the change is not one of a plan they approved"}, nil
	}
	a, err := c.ask.Ask(ctx, q)
	if err == nil && a.Pending {
		c.setPending()
	}
	return a, err
}

// setPending marks the tool call as waiting for an answer and stops it.
func (c *toolConsent) setPending() {
	c.pending.Store(true)
	if c.stop != nil {
		c.stop()
	}
}

// approve remembers a yes to each change, once per time it was listed.
func (c *toolConsent) approve(changes []gate.Proposed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range changes {
		if k, ok := approvalKey(p); ok {
			c.approved[k]++
		}
	}
}

// take uses up one approval of p, if there is one.
func (c *toolConsent) take(p gate.Proposed) bool {
	k, ok := approvalKey(p)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.approved[k] == 0 {
		return false
	}
	c.approved[k]--
	return true
}

// approvalKey identifies a change as the person approved it: the
// operation, the account it is in (as the gate resolved it, whether the
// plugin named it by id or alias, beside the arguments or in them), the
// decoded input encoded again (what runs, whatever the spelling of the
// bytes the plugin sent) and the plan shown. Without the account, a
// deletion approved in dev would let the same deletion run in prod. The plan is
// part of it so that a change whose plan is no longer the one shown —
// someone added a key to the user that a force delete would now remove —
// is asked about again. ok is false for a change that does not encode,
// which no approval then matches.
func approvalKey(p gate.Proposed) (k [sha256.Size]byte, ok bool) {
	in, err := json.Marshal(p.Input)
	if err != nil {
		return k, false
	}
	plan, err := json.Marshal(p.Plan)
	if err != nil {
		return k, false
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(p.Operation), []byte(accountKey(p.Account)), in, plan} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	copy(k[:], h.Sum(nil))
	return k, true
}

// accountKey names the account of a change in an approval: the server's
// own is "self" (its id may be known on one path and not yet on another),
// any other its id, which the gate resolved from the id or alias named.
func accountKey(a gate.Account) string {
	if a.Self {
		return "self"
	}
	return "id:" + a.ID
}

// consentFunc is consent: ConsentRequest → ConsentAnswer. The request is
// decoded strictly and its calls counted before they are decoded: more
// than MaxBatchRequests is refused whole, each counted against
// max_iam_calls as iam_batch does.
func (p *loaded) consentFunc(ctx context.Context, st *callState, in []byte) []byte {
	return mustJSON(p.statePlan(ctx, st, in))
}

// consentTooBig answers a consent request over MaxHostInputBytes, unread.
func (p *loaded) consentTooBig(ctx context.Context, st *callState, size uint64) []byte {
	st.calls.Add(1)
	e := api.Errorf(api.LimitExceeded, "plugin %s: the consent request is %d bytes, more than the %d a host function reads; nobody was asked and nothing may run on it", p.name, size, MaxHostInputBytes)
	p.refused(ctx, st, "", api.HostConsent, nil, e)
	return mustJSON(api.ConsentAnswer{Error: e})
}

// consentRequest is ConsentRequest with its calls left undecoded, so that
// they are counted before a Go value is made for each.
type consentRequest struct {
	Summary string          `json:"summary"`
	Calls   json.RawMessage `json:"calls"`
}

func (p *loaded) statePlan(ctx context.Context, st *callState, in []byte) api.ConsentAnswer {
	refuse := func(e *api.Error) api.ConsentAnswer {
		p.refused(ctx, st, "", api.HostConsent, nil, e)
		return api.ConsentAnswer{Error: e}
	}
	switch {
	case st.tool == "":
		return api.ConsentAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s asked for consent outside a tool call (in describe); plans are stated while serving a tool", p.name)}
	case st.consent == nil:
		return api.ConsentAnswer{Error: api.Errorf(api.ConsentRequired, "plugin %s: nobody can be asked in this call", p.name)}
	case st.consent.pending.Load():
		return api.ConsentAnswer{Error: pendingError(p.name)}
	}
	var raw consentRequest
	if err := strictjson.Unmarshal(in, &raw); err != nil {
		st.calls.Add(1)
		return refuse(api.Errorf(api.InvalidInput, "plugin %s: consent takes one JSON object {\"summary\": TEXT, \"calls\": [{\"op\": NAME, \"args\": {...}}, ...]}, with exactly those keys, each once: %v; nobody was asked", p.name, err))
	}
	n, counted := countArrayElements(raw.Calls)
	if counted && n > MaxBatchRequests {
		st.calls.Add(int64(n))
		return refuse(api.Errorf(api.LimitExceeded, "plugin %s: a plan of %d calls refused: at most %d; state it in smaller steps. Nobody was asked", p.name, n, MaxBatchRequests))
	}
	var calls []api.IAMRequest
	if err := strictjson.Unmarshal(raw.Calls, &calls); err != nil {
		st.calls.Add(int64(max(n, 1)))
		return refuse(api.Errorf(api.InvalidInput, "plugin %s: consent's calls must be a JSON array of {\"op\": NAME, \"args\": {...}, \"account\": ID or ALIAS}, exactly those keys (args and account may be left out): %v. Nobody was asked", p.name, err))
	}
	if max := p.limits.MaxMutations; max > 0 && len(calls) > max {
		st.calls.Add(int64(len(calls)))
		return refuse(api.Errorf(api.LimitExceeded, "plugin %s: a plan of %d changes can never run: the plugin may make at most %d changes per tool call (limits.max_mutations in the plugins file). Nobody was asked", p.name, len(calls), max))
	}
	if p.gate == nil {
		st.calls.Add(int64(len(calls)))
		return api.ConsentAnswer{Error: api.Errorf(api.NotGranted, "plugin %s is being inspected, with no grants and no IAM", p.name)}
	}
	return st.consent.state(ctx, p.gate, p.caller(st), raw.Summary, calls, func(req api.IAMRequest) *api.Error {
		if e := p.countPreview(st, req.Op); e != nil {
			return e
		}
		return p.undeclared(st, req.Op)
	})
}

// state plans calls, in order, against IAM as it is now, through g as
// caller (each exactly as the call itself would be decided, refusals
// audited), then asks the person once about those that --confirm covers
// and remembers a yes as approvals. admit, when not nil, may refuse a call
// first (the runtime's caps); the first refusal answers the whole plan,
// and nobody is asked.
func (c *toolConsent) state(ctx context.Context, g *gate.Gate, caller gate.Caller, summary string, calls []api.IAMRequest, admit func(api.IAMRequest) *api.Error) api.ConsentAnswer {
	who := "plugin " + caller.Plugin
	refuse := func(req api.IAMRequest, e *api.Error) api.ConsentAnswer {
		g.RefusedIn(ctx, caller, req.Account, req.Op, req.Args, e)
		return api.ConsentAnswer{Error: e}
	}
	switch {
	case c.pending.Load():
		return api.ConsentAnswer{Error: pendingError(caller.Plugin)}
	case len(calls) == 0:
		return refuse(api.IAMRequest{Op: api.HostConsent}, api.Errorf(api.InvalidInput, "%s: a plan lists at least one call; nobody was asked", who))
	}
	if why := badSummary(summary); why != "" {
		return refuse(api.IAMRequest{Op: api.HostConsent}, api.Errorf(api.InvalidInput, "%s: the plan's summary %s; it is one line the person reads above the changes. Nobody was asked", who, why))
	}
	changes := make([]gate.Proposed, 0, len(calls))
	asking := make([]api.IAMRequest, 0, len(calls))
	plans := make([]api.Plan, 0, len(calls))
	for i, req := range calls {
		req.Op = opName(req.Op)
		if admit != nil {
			if e := admit(req); e != nil {
				return refuse(req, e)
			}
		}
		change, needs, err := g.PreviewIn(ctx, caller, req.Account, req.Op, req.Args) // audits its refusals
		if err != nil {
			ae := gate.AsAPIError(err)
			return api.ConsentAnswer{Error: &api.Error{Code: ae.Code, Message: fmt.Sprintf("call %d of the plan (%s): %s; nobody was asked", i+1, req.Op, ae.Message)}}
		}
		if change.Plan != nil {
			plans = append(plans, *change.Plan)
		}
		if needs {
			changes = append(changes, change)
			asking = append(asking, req)
		}
	}
	answer := api.ConsentAnswer{Plans: plans}
	if len(changes) == 0 {
		answer.Approved = true // nothing here needs the person's yes
		return answer
	}

	// Only what needs a yes is put to the person: the rest the operator
	// lets run without asking, and a question naming only these stays the
	// same when the tool call is run again with the person's answer.
	a, err := c.person(ctx, gate.Question{Caller: caller, Account: sameAccount(changes), Summary: summary, Changes: changes})
	var e *api.Error
	switch {
	case err != nil:
		e = api.Errorf(api.ConsentRequired, "%s: %d change(s) of the plan need a person's yes and asking failed (%v); nothing may run on it", who, len(changes), err)
	case a.Pending:
		return api.ConsentAnswer{Error: pendingError(caller.Plugin)}
	case a.Unavailable != "":
		e = api.Errorf(api.ConsentRequired, "%s: %d change(s) of the plan need a person's yes (--confirm %s) and nobody can be asked: %s. Nothing was changed", who, len(changes), g.Confirm(), a.Unavailable)
	case a.Decision == gate.Accept:
		c.approve(changes)
		answer.Approved = true
		return answer
	case a.Decision == gate.Cancel:
		e = api.Errorf(api.Declined, "the person closed the question about %s's plan (%s) without answering; nothing was changed", who, args.Cut(summary, 200))
	default:
		e = api.Errorf(api.Declined, "the person declined %s's plan (%s); nothing was changed", who, args.Cut(summary, 200))
	}
	// The operator's record of the changes that were put to the person and
	// will not run.
	for _, req := range asking {
		g.RefusedIn(ctx, caller, req.Account, req.Op, req.Args, e)
	}
	answer.Error = e
	return answer
}

// sameAccount is the account every change is in, for the question; the
// zero Account when they are in more than one (each change names its
// own).
func sameAccount(changes []gate.Proposed) gate.Account {
	for _, c := range changes[1:] {
		if accountKey(c.Account) != accountKey(changes[0].Account) {
			return gate.Account{}
		}
	}
	return changes[0].Account
}

// badSummary says what is wrong with a plan's summary, or "". It is one
// line of text: a newline, a control character or an invisible format
// character (a bidirectional override, a zero-width space) could make the
// plugin's words pass for the host's account of the changes, or hide
// some of them, where the person reads the question.
func badSummary(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "is empty"
	case len(s) > MaxConsentSummaryBytes:
		return fmt.Sprintf("is %d bytes; at most %d", len(s), MaxConsentSummaryBytes)
	case !utf8.ValidString(s):
		return "is not UTF-8 text"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("holds the character %U (line breaks, control and invisible format characters are refused)", r)
		}
	}
	return ""
}

// countPreview counts one planned call against max_iam_calls (planning a
// change reads IAM) but not against max_mutations, which counts the
// changes when they are made.
func (p *loaded) countPreview(st *callState, op string) *api.Error {
	n := st.calls.Add(1)
	if max := p.limits.MaxIAMCalls; max > 0 && n > int64(max) {
		return api.Errorf(api.LimitExceeded, "plugin %s may make at most %d IAM calls per tool call (limits.max_iam_calls in the plugins file, planning a change counts as one); %s was not planned and nobody was asked",
			p.name, max, args.Quote(op))
	}
	return nil
}

// pendingError refuses what a tool call asks after a question to the
// person went pending: the call is being stopped, and runs again from the
// start with the answer.
func pendingError(plugin string) *api.Error {
	return api.Errorf(api.ConsentRequired, "plugin %s: this tool call is stopping to wait for the person's answer, and runs again from the start once they answer; nothing more runs in it", plugin)
}

func (p *loaded) pendingError() *api.Error { return pendingError(p.name) }

// Consent is the consent of one plugin tool call outside the runtime: for
// a test kit that runs a plugin's workflow natively over the real gate
// (sdk/hostiam/hostiamtest), so that its plans are approved,
// refused and matched exactly as the runtime does it. The runtime makes
// its own for each tool call.
type Consent struct {
	c      *toolConsent
	gate   *gate.Gate
	caller gate.Caller
}

// NewConsent starts the consent of one tool call of caller (a plugin
// caller) through g; person asks the person (nil: nobody can be asked).
func NewConsent(g *gate.Gate, caller gate.Caller, person gate.Consent) *Consent {
	c := &Consent{c: newToolConsent(person, nil), gate: g}
	caller.Consent = c.c
	c.caller = caller
	return c
}

// Caller is the caller that the tool call's IAM calls are made as: its
// Consent answers from the approvals, and asks the person about the rest.
func (c *Consent) Caller() gate.Caller { return c.caller }

// State is the consent host function: it plans calls, asks the person
// once about those --confirm covers, and remembers a yes.
func (c *Consent) State(ctx context.Context, summary string, calls []api.IAMRequest) api.ConsentAnswer {
	return c.c.state(ctx, c.gate, c.caller, summary, calls, nil)
}

// Pending reports whether a question went pending (the person answers in
// a later request): the tool call must stop, and run again from the start.
func (c *Consent) Pending() bool { return c.c.pending.Load() }

package mcpserver

// Consent through the client: before a change that --confirm covers runs,
// the person behind the MCP client is shown its plan and asked for a yes,
// through MCP elicitation, in the multi round-trip style of mark3labs/mcp-go
// that serves both protocol generations with one handler:
//
//  1. The tool call reaches the gate with a consenter (one per call). When
//     the gate asks, the consenter checks that the client can elicit at
//     all; if not, it says so and the gate refuses the call
//     (ConsentRequired) with the flag that lets such changes run without
//     asking. Nothing ever runs silently.
//  2. Otherwise the consenter keeps the question server-side under a random
//     token and answers Pending; the gate stops the call (ErrPending,
//     unaudited, nothing changed) and the handler returns an input-required
//     result: the elicitation, with the token as requestState.
//  3. A 2026-07-28 client shows the question and retries the call with the
//     person's answer and the token; for an earlier client mcp-go sends
//     elicitation/create itself and calls the handler again the same way.
//  4. On that retry the gate plans the call again and asks again; the
//     consenter takes the token (once: it is then gone) and applies the
//     answer only if the token was issued by this server, recently, for
//     this tool, these argument bytes and a question equal to the one now
//     asked — the same operations, inputs and plans. Anything else (no
//     token, a forged, replayed, expired or foreign one, a plan that
//     changed meanwhile, a malformed answer) is not an answer: the person
//     is asked again.
//
// requestState travels through the client, which echoes it; it carries
// nothing but the token, so nothing the client sends back is trusted
// beyond "the person answered the question issued under this token".

import (
	"bytes"
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// ConsentInputID is the key of the consent question among an
// input-required result's inputRequests, and of its answer among the
// retry's inputResponses.
const ConsentInputID = "consent"

// ViaElicitation is how the audit line says the person was asked.
const ViaElicitation = "elicitation"

// NoElicitation is why a client that cannot elicit is not asked, and what
// the operator can do about it.
const NoElicitation = "this client cannot ask the person (it does not support MCP elicitation); the operator can let such changes run without asking with --confirm none (or IAM_MCP_CONFIRM=none)"

// The bounds on questions awaiting an answer: how many one server keeps
// (the oldest is dropped first) and for how long. A person answers in
// seconds or minutes; a question older than QuestionTTL is asked again,
// so that nobody approves a plan read long ago.
const (
	MaxPendingQuestions = 256
	QuestionTTL         = 10 * time.Minute
)

// pendingQuestion is a question handed to a client, kept server-side.
type pendingQuestion struct {
	token    string
	session  string   // the client session it was asked in
	asker    string   // the authenticated principal it was asked for (HTTP): Via and Subject
	tool     string   // the tool called
	args     [32]byte // sha256 of the call's argument bytes
	question [32]byte // sha256 of the question: operations, inputs, plans
	asked    time.Time
	elem     *list.Element
}

// questionStore holds the questions awaiting an answer, bounded in number
// and age; each is taken at most once.
type questionStore struct {
	mu      sync.Mutex
	byToken map[string]*pendingQuestion
	order   *list.List // of *pendingQuestion, oldest first
	max     int
	ttl     time.Duration
	now     func() time.Time
}

func newQuestionStore() *questionStore {
	return &questionStore{byToken: map[string]*pendingQuestion{}, order: list.New(),
		max: MaxPendingQuestions, ttl: QuestionTTL, now: time.Now}
}

// tokenBytes is the entropy of a token: 256 bits, beyond guessing.
const tokenBytes = 32

// maxTokenChars bounds a requestState worth looking up.
const maxTokenChars = 64

// add keeps q and returns its new token.
func (st *questionStore) add(q pendingQuestion) (string, error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("no randomness for a consent token: %w", err)
	}
	q.token = base64.RawURLEncoding.EncodeToString(b[:])
	st.mu.Lock()
	defer st.mu.Unlock()
	q.asked = st.now()
	st.expire()
	for st.order.Len() >= st.max {
		st.remove(st.order.Front().Value.(*pendingQuestion))
	}
	q.elem = st.order.PushBack(&q)
	st.byToken[q.token] = &q
	return q.token, nil
}

// take removes and returns the question of token asked for no principal
// (stdio), if it is still there.
func (st *questionStore) take(token string) *pendingQuestion { return st.takeFor(token, "") }

// takeFor removes and returns the question of token, if it is still there
// and was asked for asker. A question asked for someone else is left
// where it is and reported as absent: another person's requestState
// neither answers nor cancels their question.
func (st *questionStore) takeFor(token, asker string) *pendingQuestion {
	if token == "" || len(token) > maxTokenChars {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.expire()
	q := st.byToken[token]
	if q == nil || q.asker != asker {
		return nil
	}
	st.remove(q)
	return q
}

func (st *questionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.order.Len()
}

// expire drops the questions older than the TTL (they are in age order).
func (st *questionStore) expire() {
	cutoff := st.now().Add(-st.ttl)
	for e := st.order.Front(); e != nil; e = st.order.Front() {
		q := e.Value.(*pendingQuestion)
		if q.asked.After(cutoff) {
			return
		}
		st.remove(q)
	}
}

func (st *questionStore) remove(q *pendingQuestion) {
	st.order.Remove(q.elem)
	delete(st.byToken, q.token)
}

// consenter is one tool call's gate.Consent: it asks the call's client.
type consenter struct {
	s       *Server
	tool    string
	session string
	asker   string // the request's principal (Via, Subject); "" without one
	args    [32]byte

	// The answer the request carries, if it is a retry; used at most once.
	state     string
	responses mcp.InputResponses
	retried   bool

	// Set when a question was handed to the client.
	token  string
	params *mcp.ElicitationParams
}

func (s *Server) newConsenter(ctx context.Context, tool string, req mcp.CallToolRequest, args json.RawMessage) *consenter {
	c := &consenter{s: s, tool: tool, args: sha256.Sum256(args),
		state: req.Params.RequestState, responses: req.Params.InputResponses}
	c.retried = c.state != "" || c.responses != nil
	if sess := server.ClientSessionFromContext(ctx); sess != nil {
		c.session = sess.SessionID()
	}
	if p := gate.PrincipalFrom(ctx); p != nil {
		c.asker = p.Via + "\x00" + p.Subject
	}
	return c
}

// Ask implements gate.Consent.
func (c *consenter) Ask(ctx context.Context, q gate.Question) (gate.Answer, error) {
	if !c.s.clients.canElicit(ctx) {
		return gate.Answer{Unavailable: NoElicitation}, nil
	}
	if c.token != "" {
		// A second question in one call: the first is still unanswered.
		return gate.Answer{Pending: true, Via: ViaElicitation}, nil
	}
	qh, err := questionHash(q)
	if err != nil {
		return gate.Answer{}, err
	}
	if c.retried {
		c.retried = false // an answer answers one question
		decision, why := c.answer(qh)
		if why == "" {
			c.s.logger.DebugContext(ctx, "consent answered", "tool", c.tool, "answer", decision)
			return gate.Answer{Decision: decision, Via: ViaElicitation}, nil
		}
		c.s.logger.InfoContext(ctx, "a retried call carried no valid consent answer; asking again", "tool", c.tool, "why", why)
	}
	token, err := c.s.questions.add(pendingQuestion{session: c.session, asker: c.asker, tool: c.tool, args: c.args, question: qh})
	if err != nil {
		return gate.Answer{}, err
	}
	c.token = token
	c.params = &mcp.ElicitationParams{
		Message:         renderQuestion(q),
		RequestedSchema: consentSchema(),
	}
	return gate.Answer{Pending: true, Via: ViaElicitation}, nil
}

// answer checks the retry's token and answer against the question now
// asked (its hash qh) and returns the person's decision, or why there is
// none.
func (c *consenter) answer(qh [32]byte) (decision, why string) {
	state, responses := c.state, c.responses
	c.state, c.responses = "", nil
	p := c.s.questions.takeFor(state, c.asker)
	switch {
	case p == nil:
		return "", "the requestState is not a question this server is waiting on (unknown, expired, or already answered)"
	case p.session != c.session:
		return "", "the question was asked in another session"
	case p.tool != c.tool:
		return "", "the question was asked for another tool"
	case p.args != c.args:
		return "", "the arguments differ from those of the call asked about"
	case p.question != qh:
		return "", "the plan changed since the question was asked"
	}
	return decodeAnswer(responses)
}

// inputRequired is the result that hands the pending question to the
// client, or nil when none is pending.
func (c *consenter) inputRequired() *mcp.CallToolResult {
	if c.token == "" || c.params == nil {
		return nil
	}
	return server.NewInputRequestBuilder(c.token).Elicit(ConsentInputID, *c.params).ToolResult()
}

// consentSchema is what the elicitation asks for: nothing but the answer
// itself (accept is yes), so an object with no properties.
func consentSchema() map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{}}
}

// decodeAnswer reads the person's answer strictly: the inputResponses hold
// exactly the consent answer; it is an object with the keys action (once,
// spelled exactly: encoding/json would take "Action" too), content, _meta
// and resultType, and action is accept, decline or cancel.
func decodeAnswer(responses mcp.InputResponses) (decision, why string) {
	if len(responses) != 1 {
		return "", fmt.Sprintf("the inputResponses hold %d answers, want exactly one under %q", len(responses), ConsentInputID)
	}
	resp, ok := responses[ConsentInputID]
	if !ok {
		return "", fmt.Sprintf("the inputResponses hold no answer under %q", ConsentInputID)
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		return "", "the answer is not JSON"
	}
	ms, err := objectMembers(raw)
	if err != nil {
		return "", "the answer is not a JSON object"
	}
	var action string
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m.key] {
			return "", fmt.Sprintf("the answer has %s more than once", quoteShort(m.key))
		}
		seen[m.key] = true
		switch m.key {
		case "action":
			if m.value[0] != '"' || json.Unmarshal(m.value, &action) != nil {
				return "", "the answer's action is not a string"
			}
		case "content", "_meta":
			if !bytes.Equal(m.value, []byte("null")) && m.value[0] != '{' {
				return "", fmt.Sprintf("the answer's %s is not an object", m.key)
			}
		case "resultType": // as a result of its own carries it
			if m.value[0] != '"' {
				return "", "the answer's resultType is not a string"
			}
		default:
			return "", fmt.Sprintf("the answer has the unknown key %s", quoteShort(m.key))
		}
	}
	switch action {
	case gate.Accept, gate.Decline, gate.Cancel:
		return action, ""
	}
	return "", fmt.Sprintf("the answer's action %s is not accept, decline or cancel", quoteShort(action))
}

// questionHash identifies a question by what the person approves: who
// asks, and each change's account, operation, decoded input and plan, in
// order (a yes to a change in one account is no yes to the same change in
// another). Two
// questions with the same hash make the same changes. A plugin's summary
// is not part of it: it is the plugin's words about the changes, not a
// change, and a plugin run again after an answer may word the same
// changes otherwise (the key rotation, resuming a step, does).
func questionHash(q gate.Question) ([32]byte, error) {
	type change struct {
		Account   string    `json:"account"`
		Operation string    `json:"operation"`
		Input     any       `json:"input"`
		Plan      *api.Plan `json:"plan"`
	}
	v := struct {
		Caller  gate.CallerKind `json:"caller"`
		Plugin  string          `json:"plugin"`
		Tool    string          `json:"tool"`
		Account string          `json:"account"`
		Changes []change        `json:"changes"`
	}{Caller: q.Caller.Kind, Plugin: q.Caller.Plugin, Tool: q.Caller.Tool, Account: q.Account.ID}
	for _, p := range q.Changes {
		v.Changes = append(v.Changes, change{p.Account.ID, p.Operation, p.Input, p.Plan})
	}
	b, err := json.Marshal(v)
	if err != nil {
		return [32]byte{}, fmt.Errorf("the question cannot be encoded: %w", err)
	}
	return sha256.Sum256(b), nil
}

// ---- the client's capabilities ----

// clientCaps remembers what each session's client declared at initialize
// (protocol versions before 2026-07-28). mcp-go also keeps them on the
// session, but overwrites them with those of any 2026-07-28 request, which
// declares its own per request.
type clientCaps struct {
	mu   sync.Mutex
	caps map[string]mcp.ClientCapabilities // session id → declared at initialize
}

func (cc *clientCaps) install(h *server.Hooks) {
	h.AddAfterInitialize(func(ctx context.Context, _ any, req *mcp.InitializeRequest, _ *mcp.InitializeResult) {
		sess := server.ClientSessionFromContext(ctx)
		if sess == nil || req == nil {
			return
		}
		cc.mu.Lock()
		defer cc.mu.Unlock()
		if cc.caps == nil {
			cc.caps = map[string]mcp.ClientCapabilities{}
		}
		cc.caps[sess.SessionID()] = req.Params.Capabilities
	})
	h.AddOnUnregisterSession(func(_ context.Context, sess server.ClientSession) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		delete(cc.caps, sess.SessionID())
	})
}

// canElicit reports whether the client of the request in ctx can show the
// person a form: a 2026-07-28 request declares it in its own _meta (and
// nothing may be inferred from earlier requests); an earlier one declared
// it at initialize. A client that declares only URL elicitation cannot
// show a form.
func (cc *clientCaps) canElicit(ctx context.Context) bool {
	if info := server.RequestProtocolInfoFromContext(ctx); info != nil && info.Modern {
		return formElicitation(info.ClientCapabilities)
	}
	caps, ok := cc.ofSession(ctx)
	return ok && formElicitation(&caps)
}

// ofSession is what the session of the request in ctx declared at
// initialize (protocol versions before 2026-07-28).
func (cc *clientCaps) ofSession(ctx context.Context) (mcp.ClientCapabilities, bool) {
	sess := server.ClientSessionFromContext(ctx)
	if sess == nil {
		return mcp.ClientCapabilities{}, false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	caps, ok := cc.caps[sess.SessionID()]
	return caps, ok
}

func formElicitation(caps *mcp.ClientCapabilities) bool {
	if caps == nil || caps.Elicitation == nil {
		return false
	}
	// {} means form (2025-06-18 had only forms); {"url": {}} alone does not.
	return caps.Elicitation.Form != nil || caps.Elicitation.URL == nil
}

// ---- what the person is shown ----

// The bounds of the message shown: a force delete of a user with a
// thousand attachments lists the first of each kind and says how many
// more, so that the person reads a page, not a megabyte.
const (
	maxShownSteps    = 40
	maxShownAffected = 40
	maxShownFindings = 20
	maxFieldBytes    = 300
	// maxDetailBytes bounds a step's detail, which may hold the policy
	// document the step writes: the person approves the whole document,
	// so it is shown whole up to IAM's largest (10,240 characters, a
	// little more once escaped).
	maxDetailBytes = 12 << 10
	// MaxQuestionBytes bounds the whole message.
	MaxQuestionBytes = 48 << 10
)

// renderQuestion is the elicitation message: who asks, and for each change
// its summary, the IAM calls in order with their targets, the entities
// affected, the guardrails' findings, and whether it can be undone.
// Every value is put on one line (control and bidi characters become
// spaces), so that no name or summary can forge a line of its own.
func renderQuestion(q gate.Question) string {
	var b strings.Builder
	switch q.Caller.Kind {
	case gate.Plugin:
		fmt.Fprintf(&b, "Plugin %s (tool %s) asks to make ", oneLine(q.Caller.Plugin), oneLine(q.Caller.Tool))
	default:
		fmt.Fprintf(&b, "The assistant asks to make ")
	}
	where := ""
	if name := otherAccount(q.Account); name != "" {
		where = " in account " + name
	}
	if len(q.Changes) == 1 {
		fmt.Fprintf(&b, "this change to IAM%s. It needs your yes.\n", where)
	} else {
		fmt.Fprintf(&b, "these %d changes to IAM%s, in this order. They need your yes.\n", len(q.Changes), where)
	}
	if q.Summary != "" {
		fmt.Fprintf(&b, "Purpose (the plugin's words): %s\n", oneLine(q.Summary))
	}
	steps, affected, findings := maxShownSteps, maxShownAffected, maxShownFindings
	for i, p := range q.Changes {
		b.WriteString("\n")
		plan := p.Plan
		if plan == nil {
			plan = &api.Plan{Operation: p.Operation}
		}
		head := oneLine(plan.Summary)
		if head == "" {
			head = oneLine(p.Operation)
		}
		// Every line that carries words the host did not write starts with
		// the host's own label, so none can pass for a line of the host's
		// ("CANNOT be undone", "Accept to…") whatever a summary or a name
		// holds.
		if len(q.Changes) > 1 {
			fmt.Fprintf(&b, "Change %d of %d: %s (%s)\n", i+1, len(q.Changes), head, oneLine(p.Operation))
		} else {
			fmt.Fprintf(&b, "Change: %s (%s)\n", head, oneLine(p.Operation))
		}
		if p.Account.ID != q.Account.ID {
			if name := otherAccount(p.Account); name != "" {
				fmt.Fprintf(&b, "In account: %s\n", name)
			}
		}
		if len(plan.Steps) > 0 {
			b.WriteString("IAM calls, in this order:\n")
			writeLines(&b, len(plan.Steps), steps, "calls", func(j int) {
				st := plan.Steps[j]
				fmt.Fprintf(&b, "  %d. %s %s", j+1, oneLine(st.Action), oneLine(st.Target))
				if st.Detail != "" {
					fmt.Fprintf(&b, " (%s)", cutLine(st.Detail, maxDetailBytes))
				}
				b.WriteString("\n")
			})
			steps = max(steps-len(plan.Steps), 5)
		}
		if len(plan.Affected) > 0 {
			shown := make([]string, 0, min(len(plan.Affected), affected))
			for _, a := range plan.Affected[:min(len(plan.Affected), affected)] {
				shown = append(shown, oneLine(a))
			}
			fmt.Fprintf(&b, "Affected: %s", strings.Join(shown, ", "))
			if n := len(plan.Affected) - len(shown); n > 0 {
				fmt.Fprintf(&b, ", …and %d more", n)
			}
			b.WriteString("\n")
			affected = max(affected-len(plan.Affected), 5)
		}
		if len(plan.Findings) > 0 {
			b.WriteString("Guardrail findings:\n")
			writeLines(&b, len(plan.Findings), findings, "findings", func(j int) {
				fmt.Fprintf(&b, "  - %s\n", oneLine(plan.Findings[j]))
			})
			findings = max(findings-len(plan.Findings), 3)
		}
		undo := oneLine(plan.Undo)
		switch {
		case plan.Reversible && undo != "":
			fmt.Fprintf(&b, "Can be undone: %s\n", undo)
		case plan.Reversible:
			b.WriteString("Can be undone.\n")
		case undo != "":
			fmt.Fprintf(&b, "CANNOT be undone: %s\n", undo)
		default:
			b.WriteString("CANNOT be undone.\n")
		}
	}
	const tail = "\nAccept to make exactly this change; decline or cancel to change nothing."
	msg := b.String()
	if len(msg)+len(tail) > MaxQuestionBytes {
		msg = cutBytes(msg, MaxQuestionBytes-len(tail)-len("\n…(the rest is cut)")) + "\n…(the rest is cut)"
	}
	return msg + tail
}

// otherAccount names a, made one line, when it is not the server's own
// account: the person must know a change lands elsewhere. "" for the
// server's own (what every question without an account means).
func otherAccount(a gate.Account) string {
	if a.Self {
		return ""
	}
	return oneLine(a.Name())
}

// writeLines writes the lines of n items, line(j) for each, but only the
// first limit of them, then one saying how many more (of noun) there are.
func writeLines(b *strings.Builder, n, limit int, noun string, line func(j int)) {
	for j := range n {
		if j >= limit {
			fmt.Fprintf(b, "  …and %d more %s\n", n-j, noun)
			return
		}
		line(j)
	}
}

// oneLine makes s safe to show as one line of the message: valid UTF-8,
// control, line-separating and bidi-override characters replaced by a
// space, cut to maxFieldBytes.
func oneLine(s string) string { return cutLine(s, maxFieldBytes) }

// cutLine is oneLine with a bound of max bytes.
func cutLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, s)
	return shortPrefixN(strings.TrimSpace(s), max)
}

// cutBytes cuts s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

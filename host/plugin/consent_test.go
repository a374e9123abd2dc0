package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// consentOps are the operations the consent test plugin's step tool
// declares, all granted to it.
var consentOps = []string{"create_user", "delete_user", "tag_user", "untag_user", "get_user", "create_access_key", "update_access_key", "delete_access_key"}

func consentSpec() Spec {
	s := spec("consent")
	s.Grants = consentOps
	return s
}

// person is the test's consenter: it records every question and answers
// them in turn with answers (the last one again once they run out).
type person struct {
	mu        sync.Mutex
	answers   []gate.Answer
	questions []gate.Question
}

func answering(decisions ...string) *person {
	p := &person{}
	for _, d := range decisions {
		p.answers = append(p.answers, gate.Answer{Decision: d, Via: "test"})
	}
	return p
}

func (p *person) Ask(_ context.Context, q gate.Question) (gate.Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.questions = append(p.questions, q)
	if len(p.answers) == 0 {
		return gate.Answer{Pending: true}, nil
	}
	return p.answers[min(len(p.questions), len(p.answers))-1], nil
}

// asked lists the questions put so far, each as "op {input}; op {input}".
func (p *person) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, q := range p.questions {
		var calls []string
		for _, c := range q.Changes {
			b, _ := json.Marshal(c.Input)
			calls = append(calls, c.Operation+" "+string(b))
		}
		out = append(out, strings.Join(calls, "; "))
	}
	return out
}

// stepResult is the step tool's answer (testdata/consent).
type stepResult struct {
	Stated       bool   `json:"stated"`
	Approved     bool   `json:"approved"`
	ConsentCode  string `json:"consent_code"`
	ConsentError string `json:"consent_error"`
	Plans        int    `json:"plans"`
	Runs         []struct {
		Op      string `json:"op"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"runs"`
	Confirm string `json:"confirm"`
}

// codes are the runs' outcomes, "ok" for a call that ran.
func (r stepResult) codes() string {
	var out []string
	for _, run := range r.Runs {
		c := run.Code
		if c == "" {
			c = "ok"
		}
		out = append(out, c)
	}
	return strings.Join(out, ",")
}

// step calls the consent plugin's tool with a consenter (nil: nobody).
func (e *env) step(t *testing.T, tool string, c gate.Consent, args string) (stepResult, error) {
	t.Helper()
	res, err := e.h.CallWithConsent(ctx, tool, stepArgs(t, args), nil, c)
	if err != nil {
		return stepResult{}, err
	}
	var r stepResult
	if res.IsError {
		t.Fatalf("%s %s: %s", tool, args, res.Content[0].Text)
	}
	if err := json.Unmarshal(res.StructuredContent, &r); err != nil {
		t.Fatalf("%s: %s: %v", tool, res.StructuredContent, err)
	}
	return r, nil
}

// stepArgs turns the calls of args ({"op": …, "args": {…}}, easier to
// write) into the step tool's form, each call's arguments as JSON text.
func stepArgs(t *testing.T, args string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatalf("test arguments %s: %v", args, err)
	}
	for _, k := range []string{"plan", "run"} {
		if m[k] == nil {
			continue
		}
		var calls []struct {
			Op      string          `json:"op"`
			Args    json.RawMessage `json:"args,omitempty"`
			Account string          `json:"account,omitempty"`
		}
		if err := json.Unmarshal(m[k], &calls); err != nil {
			t.Fatalf("test arguments %s: %v", m[k], err)
		}
		out := make([]map[string]string, len(calls))
		for i, c := range calls {
			out[i] = map[string]string{"op": c.Op, "args": string(c.Args)}
			if c.Account != "" {
				out[i]["account"] = c.Account
			}
		}
		m[k], _ = json.Marshal(out)
	}
	b, _ := json.Marshal(m)
	return b
}

// admin makes a change as a person at the command line who says yes.
func (e *env) admin(t *testing.T, op, args string) {
	t.Helper()
	if _, err := e.gate.Call(ctx, gate.Caller{Kind: gate.CLI, Consent: answering(gate.Accept)}, op, json.RawMessage(args)); err != nil {
		t.Fatalf("%s %s: %v", op, args, err)
	}
}

// exists reports whether the sandbox has the user.
func (e *env) exists(t *testing.T, user string) bool {
	t.Helper()
	_, err := e.gate.Call(ctx, gate.Caller{Kind: gate.CLI}, "get_user", json.RawMessage(`{"user_name":"`+user+`"}`))
	var ae *api.Error
	switch {
	case err == nil:
		return true
	case errors.As(err, &ae) && ae.Code == api.NoSuchEntity:
		return false
	}
	t.Fatalf("get_user %s: %v", user, err)
	return false
}

// pluginRecords are the audit records of the consent plugin's calls.
func (e *env) pluginRecords(t *testing.T) []gate.Record {
	var out []gate.Record
	for _, r := range e.auditRecords(t) {
		if r.Caller == gate.Plugin && r.Operation != gate.HostInfoOperation {
			out = append(out, r)
		}
	}
	return out
}

func users(t *testing.T, e *env, names ...string) {
	for _, n := range names {
		e.admin(t, "create_user", `{"user_name":"`+n+`"}`)
	}
}

func del(user string) string { return `{"op":"delete_user","args":{"user_name":"` + user + `"}}` }

// TestConsentAcceptRunsThePlan: the person is asked once, about the
// plan's changes that --confirm covers, and the plan then runs without
// another question; the audit line says how it was approved.
func TestConsentAcceptRunsThePlan(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	users(t, e, "ana", "ben")
	p := answering(gate.Accept)
	tag := `{"op":"tag_user","args":{"user_name":"ben","tags":{"team":"blue"}}}`
	r, err := e.step(t, "consent_step", p, `{"summary":"Remove ana and tag ben","plan":[`+del("ana")+`,`+tag+`],"run":[`+del("ana")+`,`+tag+`]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Approved || r.Plans != 2 || r.codes() != "ok,ok" || r.Confirm != "destructive" {
		t.Fatalf("accepted plan: %+v", r)
	}
	// One question, naming only what needs a yes (tag_user is not
	// destructive), with the plugin's summary and who asks.
	if got := p.asked(); len(got) != 1 || got[0] != `delete_user {"user_name":"ana"}` {
		t.Fatalf("questions: %q", got)
	}
	q := p.questions[0]
	if q.Summary != "Remove ana and tag ben" || q.Caller.Plugin != "consent" || q.Caller.Tool != "consent_step" || q.Changes[0].Plan == nil || q.Changes[0].Plan.Operation != "delete_user" {
		t.Errorf("question: %+v", q)
	}
	if e.exists(t, "ana") {
		t.Error("the approved delete did not run")
	}
	var rec *gate.Record
	for _, r := range e.pluginRecords(t) {
		if r.Operation == "delete_user" {
			rec = &r
		}
	}
	if rec == nil || rec.Outcome != "ok" || rec.Consent == nil || rec.Consent.Via != ViaPluginPlan || rec.Consent.Answer != gate.Accept || rec.Consent.Level != gate.ConfirmDestructive {
		t.Errorf("the audit record of the approved delete: %+v", rec)
	}
}

// TestConsentOutsideThePlanIsAskedAgain: a plugin cannot stretch an
// approval — another entity, other arguments, a second use of the same
// call, a change whose plan is no longer the one shown: each is put to
// the person again (who says no here, so none runs).
func TestConsentOutsideThePlanIsAskedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	users(t, e, "cy", "dee", "eve")
	untag := `{"op":"untag_user","args":{"user_name":"cy","tag_keys":["absent"]}}`
	cases := []struct {
		name, plan, run, codes string
		questions              []string
	}{
		{"another user", del("cy"), del("dee"), "Declined",
			[]string{`delete_user {"user_name":"cy"}`, `delete_user {"user_name":"dee"}`}},
		{"other arguments", del("cy"), `{"op":"delete_user","args":{"user_name":"cy","force":true}}`, "Declined",
			[]string{`delete_user {"user_name":"cy"}`, `delete_user {"user_name":"cy","force":true}`}},
		{"a second use", untag, untag + `,` + untag, "ok,Declined",
			[]string{`untag_user {"user_name":"cy","tag_keys":["absent"]}`, `untag_user {"user_name":"cy","tag_keys":["absent"]}`}},
		// Listed twice, approved twice: both run on the one yes.
		{"listed twice", untag + `,` + untag, untag + `,` + untag, "ok,ok",
			[]string{`untag_user {"user_name":"cy","tag_keys":["absent"]}; untag_user {"user_name":"cy","tag_keys":["absent"]}`}},
		// The same change spelt otherwise (spaces, key order, the gate's
		// own arguments) is the same change: it runs on the approval.
		{"the same change spelt otherwise", `{"op":"delete_user","args":{"force":false,"user_name":"eve"}}`, `{"op":"delete_user","args":{ "user_name" : "eve", "dry_run": false }}`, "ok",
			[]string{`delete_user {"user_name":"eve"}`}},
		// Planned with force when dee had nothing; the plugin then gives dee
		// a key (not a destructive change, so not asked), and the force
		// delete would now remove it too: the plan changed, so it is asked
		// about again.
		{"a plan that changed", `{"op":"delete_user","args":{"user_name":"dee","force":true}}`,
			`{"op":"create_access_key","args":{"user_name":"dee"}},{"op":"delete_user","args":{"user_name":"dee","force":true}}`, "ok,Declined",
			[]string{`delete_user {"user_name":"dee","force":true}`, `delete_user {"user_name":"dee","force":true}`}},
	}
	for _, c := range cases {
		p := answering(gate.Accept, gate.Decline)
		r, err := e.step(t, "consent_step", p, `{"summary":"`+c.name+`","plan":[`+c.plan+`],"run":[`+c.run+`]}`)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !r.Approved || r.codes() != c.codes {
			t.Errorf("%s: approved %v, runs %s (want %s): %+v", c.name, r.Approved, r.codes(), c.codes, r.Runs)
		}
		if got := p.asked(); strings.Join(got, "\n") != strings.Join(c.questions, "\n") {
			t.Errorf("%s: questions\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(c.questions, "\n"))
		}
	}
	if !e.exists(t, "cy") || !e.exists(t, "dee") || e.exists(t, "eve") {
		t.Error("a change outside the approved plan ran, or the approved one did not")
	}
	// The approvals of one tool call are gone in the next.
	p := answering(gate.Decline)
	r, err := e.step(t, "consent_step", p, `{"run":[`+untag+`]}`)
	if err != nil || r.codes() != "Declined" || len(p.asked()) != 1 {
		t.Errorf("a later tool call used an earlier approval: %+v, %v, %q", r, err, p.asked())
	}
}

// TestConsentDeclineChangesNothing: a no refuses the whole plan; a plugin
// that makes the calls anyway is asked again, and the refusals are
// audited.
func TestConsentDeclineChangesNothing(t *testing.T) {
	t.Parallel()
	for _, d := range []string{gate.Decline, gate.Cancel} {
		e := newEnv(t, gate.Options{Confirm: gate.ConfirmWrites}, consentSpec())
		users(t, e, "fay", "gus")
		before := readState(t, e.state)
		p := answering(d)
		r, err := e.step(t, "consent_step", p, `{"summary":"Remove two","plan":[`+del("fay")+`,`+del("gus")+`],"run":[`+del("fay")+`]}`)
		if err != nil {
			t.Fatal(err)
		}
		if r.Approved || r.ConsentCode != "Declined" || len(r.Runs) != 0 || !strings.Contains(r.ConsentError, "nothing was changed") {
			t.Fatalf("%s: %+v", d, r)
		}
		r, err = e.step(t, "consent_step", p, `{"summary":"Remove two","plan":[`+del("fay")+`,`+del("gus")+`],"run":[`+del("fay")+`,{"op":"create_user","args":{"user_name":"hal"}}],"anyway":true}`)
		if err != nil {
			t.Fatal(err)
		}
		if r.codes() != "Declined,Declined" || len(p.asked()) != 4 {
			t.Errorf("%s, anyway: runs %s, questions %q", d, r.codes(), p.asked())
		}
		if string(readState(t, e.state)) != string(before) {
			t.Errorf("%s: the sandbox changed", d)
		}
		refused := 0
		for _, rec := range e.pluginRecords(t) {
			if rec.Outcome == "ok" {
				t.Errorf("%s: %s ran", d, rec.Operation)
			}
			if rec.Code == api.Declined {
				refused++
			}
		}
		// Two per stated plan (both calls), one per call made anyway.
		if refused != 6 {
			t.Errorf("%s: %d Declined audit records, want 6: %s", d, refused, e.audit.String())
		}
	}
}

// TestConsentNobodyToAsk: without a consenter (Call), a plan that needs a
// yes is refused and so is each covered call; a plan that needs none is
// approved without asking.
func TestConsentNobodyToAsk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	users(t, e, "ida")
	r, err := e.step(t, "consent_step", nil, `{"summary":"Remove ida","plan":[`+del("ida")+`],"run":[`+del("ida")+`],"anyway":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Approved || r.ConsentCode != "ConsentRequired" || r.codes() != "ConsentRequired" || !e.exists(t, "ida") {
		t.Fatalf("nobody to ask: %+v", r)
	}
	tag := `{"op":"tag_user","args":{"user_name":"ida","tags":{"k":"v"}}}`
	r, err = e.step(t, "consent_step", nil, `{"summary":"Tag ida","plan":[`+tag+`],"run":[`+tag+`]}`)
	if err != nil || !r.Approved || r.codes() != "ok" {
		t.Fatalf("a plan that needs no yes: %+v, %v", r, err)
	}
}

// pendingPerson (a person with no answers) hands every question to the client (MCP's input-required
// results): the answer comes with a later request.
type pendingPerson struct{ person }

func (p *pendingPerson) Ask(ctx context.Context, q gate.Question) (gate.Answer, error) {
	return p.person.Ask(ctx, q) // no answers: pending
}

// TestConsentPendingStopsThePlugin: once a question is pending, the
// plugin is stopped: CallWithConsent returns ErrConsentPending, nothing
// it asks afterwards runs, and the person is asked once.
func TestConsentPendingStopsThePlugin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	users(t, e, "jo", "kit")
	for _, c := range []struct{ name, args string }{
		{"a stated plan", `{"summary":"Remove jo","plan":[` + del("jo") + `],"run":[` + del("kit") + `,{"op":"create_user","args":{"user_name":"late1"}}],"anyway":true}`},
		{"a call outside any plan", `{"run":[{"op":"create_user","args":{"user_name":"early"}},` + del("jo") + `,{"op":"create_user","args":{"user_name":"late2"}}]}`},
		{"a batch", `{"run":[` + del("jo") + `,` + del("kit") + `,` + del("jo") + `],"batch":true}`},
	} {
		p := &pendingPerson{}
		_, err := e.step(t, "consent_step", p, c.args)
		if !errors.Is(err, ErrConsentPending) {
			t.Fatalf("%s: %v, want ErrConsentPending", c.name, err)
		}
		if n := len(p.asked()); n != 1 {
			t.Errorf("%s: asked %d times: %q", c.name, n, p.asked())
		}
	}
	if !e.exists(t, "jo") || !e.exists(t, "kit") || e.exists(t, "late1") || e.exists(t, "late2") {
		t.Error("a change ran after the question went pending")
	}
	if !e.exists(t, "early") {
		t.Error("the change made before the question did not run")
	}
	for _, rec := range e.pluginRecords(t) {
		if rec.Operation != "delete_user" && !strings.Contains(string(rec.Arguments), "late") {
			continue
		}
		// A batch's other requests run concurrently: one may be planning
		// (reading IAM) when the question goes pending and the call is
		// cancelled. Its read fails and is recorded as such; nothing may
		// have run, and nothing else may be recorded.
		if rec.Outcome == "ok" || rec.Code != api.ServiceFailure || !strings.Contains(rec.Message, "cancelled") {
			t.Errorf("a pending call was audited: %+v", rec)
		}
	}
	// The same tool call run again, with the person's yes: it runs.
	r, err := e.step(t, "consent_step", answering(gate.Accept), `{"summary":"Remove jo","plan":[`+del("jo")+`],"run":[`+del("jo")+`]}`)
	if err != nil || r.codes() != "ok" || e.exists(t, "jo") {
		t.Errorf("the run after the answer: %+v, %v", r, err)
	}
}

// TestConsentPlanRefusals: a plan that would be refused is answered with
// the refusal, and nobody is asked: read-only, an operation the tool does
// not declare, one that changes nothing, a missing entity, more changes
// than max_mutations.
func TestConsentPlanRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	ro := newEnv(t, gate.Options{ReadOnly: true}, consentSpec())
	s := consentSpec()
	s.Limits.MaxMutations = 2
	capped := newEnv(t, gate.Options{}, s)
	users(t, e, "lee")
	for _, c := range []struct {
		env        *env
		tool, plan string
		code       api.ErrorCode
		words      string
	}{
		{ro, "consent_step", del("lee"), api.ReadOnly, "read-only"},
		{e, "consent_narrow", del("lee"), api.NotGranted, "does not declare"},
		{e, "consent_step", `{"op":"get_user","args":{"user_name":"lee"}}`, api.InvalidInput, "changes nothing"},
		{e, "consent_step", del("nobody-here"), api.NoSuchEntity, "call 1 of the plan (delete_user)"},
		{e, "consent_step", `{"op":"DELETE_USER","args":{"user_name":"lee"}}`, api.InvalidInput, "no operation"},
		{e, "consent_step", `{"op":"delete_user","args":{"user_name":"lee","User_Name":"x"}}`, api.InvalidInput, "User_Name"},
		{capped, "consent_step", del("a") + `,` + del("b") + `,` + del("c"), api.LimitExceeded, "max_mutations"},
	} {
		p := answering(gate.Accept)
		r, err := c.env.step(t, c.tool, p, `{"summary":"s","plan":[`+c.plan+`]}`)
		if err != nil {
			t.Fatal(err)
		}
		if r.Approved || r.ConsentCode != string(c.code) || !strings.Contains(r.ConsentError, c.words) || len(p.asked()) != 0 {
			t.Errorf("%s %s: %+v, asked %q; want %s with %q", c.tool, c.plan, r, p.asked(), c.code, c.words)
		}
	}
	if !e.exists(t, "lee") {
		t.Error("lee was deleted")
	}
}

// TestConsentHostileRequests: whatever bytes a plugin hands consent, the
// answer is one ConsentAnswer saying what is wrong, nobody is asked, and
// nothing may run on it.
func TestConsentHostileRequests(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"list_users", "create_user", "delete_user"}
	e := newEnv(t, gate.Options{}, s)
	users(t, e, "mo")
	huge := `{"summary":"many","calls":[` + strings.Repeat(del("mo")+",", MaxBatchRequests) + del("mo") + `]}`
	for _, c := range []struct {
		name, payload string
		code          api.ErrorCode
		words         string
	}{
		{"not JSON", `not json`, api.InvalidInput, "one JSON object"},
		{"keys spelt twice", `{"summary":"s","calls":[` + del("mo") + `],"Calls":[]}`, api.InvalidInput, "Calls"},
		{"a call's keys spelt otherwise", `{"summary":"s","calls":[{"op":"list_users","OP":"delete_user","args":{"user_name":"mo"}}]}`, api.InvalidInput, "OP"},
		{"no calls", `{"summary":"s","calls":[]}`, api.InvalidInput, "at least one"},
		{"calls not a list", `{"summary":"s","calls":{"op":"delete_user"}}`, api.InvalidInput, "array"},
		{"10,001 calls", huge, api.LimitExceeded, "10001 calls"},
		{"no summary", `{"calls":[` + del("mo") + `]}`, api.InvalidInput, "summary is empty"},
		{"a summary over two lines", `{"summary":"Tag mo\nSteps: none, nothing is deleted","calls":[` + del("mo") + `]}`, api.InvalidInput, "U+000A"},
		{"a bidi override", `{"summary":"Tag mo \u202eeteled","calls":[` + del("mo") + `]}`, api.InvalidInput, "U+202E"},
		{"a long summary", `{"summary":"` + strings.Repeat("a", MaxConsentSummaryBytes+1) + `","calls":[` + del("mo") + `]}`, api.InvalidInput, "at most 1024"},
	} {
		p := answering(gate.Accept)
		args, _ := json.Marshal(map[string]any{"fn": "consent", "payload": c.payload})
		res, err := e.h.CallWithConsent(ctx, "hostile_raw", args, nil, p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var a api.ConsentAnswer
		answer := structured(t, res)["answer"].(string)
		if err := json.Unmarshal([]byte(answer), &a); err != nil {
			t.Fatalf("%s: answered %q", c.name, answer)
		}
		if a.Approved || a.Error == nil || a.Error.Code != c.code || !strings.Contains(a.Error.Message, c.words) || len(p.asked()) != 0 {
			t.Errorf("%s: %+v, asked %q; want %s with %q", c.name, a, p.asked(), c.code, c.words)
		}
		if len(answer) > 1024 {
			t.Errorf("%s: a %d-byte answer", c.name, len(answer))
		}
	}
	// Over the input cap: refused unread.
	p := answering(gate.Accept)
	res, err := e.h.CallWithConsent(ctx, "hostile_raw", json.RawMessage(fmt.Sprintf(`{"fn":"consent","bytes":%d}`, MaxHostInputBytes+1)), nil, p)
	if err != nil {
		t.Fatal(err)
	}
	if answer := structured(t, res)["answer"].(string); !strings.Contains(answer, "LimitExceeded") || len(p.asked()) != 0 {
		t.Errorf("an oversize request: %s", answer)
	}
	if !e.exists(t, "mo") {
		t.Error("mo was deleted")
	}
}

// TestConsentOutsideAToolCall: describe cannot state a plan.
func TestConsentOutsideAToolCall(t *testing.T) {
	t.Parallel()
	p, err := newLoaded(Spec{Name: "x", Path: "x.wasm", SHA256: strings.Repeat("0", 64)}, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	var a api.ConsentAnswer
	if err := json.Unmarshal(p.consentFunc(ctx, &callState{}, []byte(`{"summary":"s","calls":[`+del("a")+`]}`)), &a); err != nil || a.Error == nil || !strings.Contains(a.Error.Message, "outside a tool call") {
		t.Errorf("consent in describe: %+v, %v", a, err)
	}
}

// TestConsentApprovalUsedOnceInABatch: requests of one batch run
// concurrently; an approval listed once lets exactly one of two identical
// requests through, and the other is asked about.
func TestConsentApprovalUsedOnceInABatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, consentSpec())
	users(t, e, "nia")
	untag := `{"op":"untag_user","args":{"user_name":"nia","tag_keys":["absent"]}}`
	for range 5 {
		p := answering(gate.Accept, gate.Decline)
		r, err := e.step(t, "consent_step", p, `{"summary":"untag once","plan":[`+untag+`],"run":[`+untag+`,`+untag+`,`+untag+`],"batch":true}`)
		if err != nil {
			t.Fatal(err)
		}
		if ok := strings.Count(r.codes(), "ok"); ok != 1 || strings.Count(r.codes(), "Declined") != 2 || len(p.asked()) != 3 {
			t.Fatalf("one approval, three identical requests in a batch: %s, %d questions", r.codes(), len(p.asked()))
		}
	}
}

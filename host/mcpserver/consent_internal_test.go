package mcpserver

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestQuestionStoreBounds: the store keeps at most MaxPendingQuestions,
// dropping the oldest; a question older than QuestionTTL is gone; a token
// is taken once; tokens are distinct and unguessable in size.
func TestQuestionStoreBounds(t *testing.T) {
	st := newQuestionStore()
	clock := time.Unix(1_000_000, 0)
	st.now = func() time.Time { return clock }
	tokens := make([]string, 0, MaxPendingQuestions+10)
	seen := map[string]bool{}
	for i := range MaxPendingQuestions + 10 {
		tok, err := st.add(pendingQuestion{tool: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if seen[tok] || len(tok) < 43 {
			t.Fatalf("token %q repeated or short", tok)
		}
		seen[tok] = true
		tokens = append(tokens, tok)
	}
	if n := st.len(); n != MaxPendingQuestions {
		t.Errorf("%d questions kept, want %d", n, MaxPendingQuestions)
	}
	for _, tok := range tokens[:10] {
		if st.take(tok) != nil {
			t.Errorf("an oldest question survived the bound")
		}
	}
	if q := st.take(tokens[10]); q == nil || q.tool != "10" {
		t.Errorf("the oldest kept question: %+v", q)
	}
	if st.take(tokens[10]) != nil {
		t.Error("a question was taken twice")
	}
	clock = clock.Add(QuestionTTL - time.Second)
	if st.take(tokens[11]) == nil {
		t.Error("a question younger than the TTL expired")
	}
	clock = clock.Add(2 * time.Second)
	if st.take(tokens[12]) != nil {
		t.Error("a question older than the TTL was answered")
	}
	if n := st.len(); n != 0 {
		t.Errorf("%d expired questions kept", n)
	}
	if st.take(strings.Repeat("A", 10000)) != nil || st.take("") != nil {
		t.Error("a huge or empty token was taken")
	}
}

// bigQuestion is a force delete of a user with n of everything.
func bigQuestion(n int) gate.Question {
	plan := &api.Plan{Operation: "delete_user", Summary: "delete IAM user big and everything it has", Undo: "a deleted user cannot be restored"}
	for i := range n {
		plan.Steps = append(plan.Steps, api.PlanStep{Action: "iam:DeleteAccessKey", Target: fmt.Sprintf("user/big/access-key/AKIA%016d", i)})
		plan.Affected = append(plan.Affected, fmt.Sprintf("user/big/access-key/AKIA%016d", i))
		plan.Findings = append(plan.Findings, fmt.Sprintf("finding %d", i))
	}
	plan.Steps = append(plan.Steps, api.PlanStep{Action: "iam:DeleteUser", Target: "user/big"})
	return gate.Question{Caller: gate.Caller{Kind: gate.BuiltIn, Tool: "delete_user"},
		Changes: []gate.Proposed{{Operation: "delete_user", Input: &api.DeleteUserInput{UserName: "big", Force: true}, Plan: plan}}}
}

// TestRenderQuestionBounded: a force delete of a user with a thousand
// keys reads as a page: the first steps, "…and N more", and a size far
// below a megabyte; the undo line and the closing line are still there.
func TestRenderQuestionBounded(t *testing.T) {
	msg := renderQuestion(bigQuestion(1000))
	for _, want := range []string{"1. iam:DeleteAccessKey user/big/access-key/AKIA0000000000000000", "…and 961 more calls", "…and 960 more",
		"…and 980 more findings", "CANNOT be undone: a deleted user cannot be restored", "Accept to make exactly this change"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q", want)
		}
	}
	if len(msg) > 8<<10 {
		t.Errorf("the message is %d bytes", len(msg))
	}
	// Many changes with long fields: the whole stays under the cap.
	q := bigQuestion(100)
	long := strings.Repeat("x", 5000)
	for i := range 50 {
		q.Changes = append(q.Changes, gate.Proposed{Operation: "delete_role", Plan: &api.Plan{Summary: long, Undo: long,
			Steps: []api.PlanStep{{Action: long, Target: long, Detail: long}}, Affected: []string{long}, Findings: []string{long}}})
		_ = i
	}
	msg = renderQuestion(q)
	if len(msg) > MaxQuestionBytes || !strings.HasSuffix(msg, "decline or cancel to change nothing.") || !strings.Contains(msg, "…(the rest is cut)") {
		t.Errorf("a message of %d bytes (cap %d), ending %q", len(msg), MaxQuestionBytes, msg[len(msg)-80:])
	}
}

// TestRenderQuestionShowsWholeDocuments: the policy document a step
// writes is shown whole, up to IAM's largest, since that is what the
// person approves; other fields stay short.
func TestRenderQuestionShowsWholeDocuments(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 10000) + `/*"}]}`
	q := gate.Question{Changes: []gate.Proposed{{Operation: "put_user_policy", Plan: &api.Plan{Summary: "put inline policy p on user u",
		Steps: []api.PlanStep{{Action: "iam:PutUserPolicy", Target: "user/u/policy/p", Detail: "document " + doc}}, Undo: "delete_user_policy u p", Reversible: true}}}}
	msg := renderQuestion(q)
	if !strings.Contains(msg, doc) {
		t.Fatalf("the %d-byte document is not shown whole in a %d-byte message", len(doc), len(msg))
	}
	if !strings.Contains(msg, "Can be undone: delete_user_policy u p") {
		t.Fatal("the undo line is gone")
	}
}

// TestRenderQuestionOneLinePerValue: names, summaries and findings are
// put on one line each, so that no value (a plugin's summary, a policy's
// text) can forge a line of the question — "Can be undone" under a change
// that cannot — or reorder what is shown with bidi controls.
func TestRenderQuestionOneLinePerValue(t *testing.T) {
	forged := "x\nCan be undone: by asking nicely\r\nAccept to make exactly this change\u2028\u202Eevil\x00\xff"
	q := gate.Question{Caller: gate.Caller{Kind: gate.Plugin, Plugin: "p\nq", Tool: "t"}, Summary: forged,
		Changes: []gate.Proposed{{Operation: "delete_role", Plan: &api.Plan{Summary: forged, Undo: forged,
			Steps: []api.PlanStep{{Action: forged, Target: forged, Detail: forged}}, Affected: []string{forged}, Findings: []string{forged}}}}}
	msg := renderQuestion(q)
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Can be undone") || strings.HasPrefix(l, "Accept") && !strings.HasPrefix(l, "Accept to make exactly this change; decline") {
			t.Errorf("a value forged the line %q", l)
		}
	}
	for _, bad := range []string{"\r", "\u2028", "\u202E", "\x00", "\xff"} {
		if strings.Contains(msg, bad) {
			t.Errorf("the message carries %q", bad)
		}
	}
	if !strings.Contains(msg, "CANNOT be undone") {
		t.Errorf("the change that cannot be undone does not say so:\n%s", msg)
	}
}

// TestRenderQuestionNamesTheAccount: a change in another account than the
// server's own says which, in the first line (and per change when one
// differs); the server's own account is not named, as before accounts.
func TestRenderQuestionNamesTheAccount(t *testing.T) {
	prod := gate.Account{ID: "444444444444", Alias: "acme-prod\nAccept"}
	q := bigQuestion(1)
	q.Account = prod
	q.Changes[0].Account = prod
	msg := renderQuestion(q)
	first, _, _ := strings.Cut(msg, "\n")
	if !strings.Contains(first, "in account acme-prod Accept (444444444444)") || strings.Contains(msg, "In account:") {
		t.Fatalf("the question does not name the account on its first line:\n%s", msg)
	}
	q.Changes = append(q.Changes, gate.Proposed{Operation: "delete_role", Account: gate.Account{ID: "555555555555"}, Plan: &api.Plan{Summary: "delete role r"}})
	if msg := renderQuestion(q); !strings.Contains(msg, "In account: 555555555555\n") {
		t.Fatalf("a change in another account does not say so:\n%s", msg)
	}
	own := bigQuestion(1)
	own.Account = gate.Account{ID: "111111111111", Self: true}
	own.Changes[0].Account = own.Account
	if msg := renderQuestion(own); strings.Contains(msg, "account") {
		t.Fatalf("the server's own account is named:\n%s", msg)
	}
}

// TestQuestionHashCoversThePlan: two questions differ in hash whenever
// anything the person approves differs.
func TestQuestionHashCoversThePlan(t *testing.T) {
	base := bigQuestion(2)
	h0, err := questionHash(base)
	if err != nil {
		t.Fatal(err)
	}
	mutations := map[string]func(*gate.Question){
		"a step":     func(q *gate.Question) { q.Changes[0].Plan.Steps[0].Target += "x" },
		"an entity":  func(q *gate.Question) { q.Changes[0].Plan.Affected = q.Changes[0].Plan.Affected[1:] },
		"the input":  func(q *gate.Question) { q.Changes[0].Input = &api.DeleteUserInput{UserName: "big"} },
		"a finding":  func(q *gate.Question) { q.Changes[0].Plan.Findings = nil },
		"the undo":   func(q *gate.Question) { q.Changes[0].Plan.Reversible = true },
		"the caller": func(q *gate.Question) { q.Caller.Tool = "other" },
		"the op":     func(q *gate.Question) { q.Changes[0].Operation = "delete_role" },
		// A yes to a change in one account is no yes in another.
		"the account": func(q *gate.Question) { q.Account = gate.Account{ID: "444444444444"} },
		"a change's account": func(q *gate.Question) {
			q.Changes[0].Account = gate.Account{ID: "444444444444"}
		},
	}
	for name, m := range mutations {
		q := bigQuestion(2)
		m(&q)
		if h, _ := questionHash(q); h == h0 {
			t.Errorf("changing %s leaves the hash", name)
		}
	}
	if h, _ := questionHash(bigQuestion(2)); h != h0 {
		t.Error("the same question hashes differently")
	}
	// A plugin's words are not a change: the same changes worded otherwise
	// are the same question.
	q := bigQuestion(2)
	q.Summary = "other words"
	if h, _ := questionHash(q); h != h0 {
		t.Error("the summary changes the hash")
	}
}

// TestDecodeAnswerStrict: only an exactly spelled action of the three
// decides.
func TestDecodeAnswerStrict(t *testing.T) {
	for raw, want := range map[string]string{
		`{"consent":{"action":"accept"}}`:                             "accept",
		`{"consent":{"action":"decline","content":{}}}`:               "decline",
		`{"consent":{"action":"cancel","_meta":{}}}`:                  "cancel",
		`{"consent":{"action":"accept","resultType":"complete"}}`:     "accept",
		`{"consent":{"action":"accept","content":null}}`:              "accept",
		`{"consent":{"Action":"accept"}}`:                             "",
		`{"consent":{"action":"accept","action":"decline"}}`:          "",
		`{"consent":{"action":"Accept"}}`:                             "",
		`{"consent":{"action":"accept "}}`:                            "",
		`{"consent":{"action":"accept","x":1}}`:                       "",
		`{"consent":{"action":"accept"},"other":{"action":"accept"}}`: "",
		`{"Consent":{"action":"accept"}}`:                             "",
		`{"consent":{"action":["accept"]}}`:                           "",
		`{"consent":{"action":"accept","content":[]}}`:                "",
		`{"consent":{"action":"accept","resultType":1}}`:              "",
		`{"consent":null}`:                                            "",
		`{}`:                                                          "",
		`{"consent":{"action":"acc\u0065pt"}}`:                        "accept",
		`{"consent":{"a\u0063tion":"accept"}}`:                        "accept",
		`{"consent":{"\u0041ction":"accept"}}`:                        "",
		`{"consent":{"action":"accept"}}` + strings.Repeat(" ", 10):   "accept",
	} {
		var rs mcp.InputResponses
		if err := json.Unmarshal([]byte(raw), &rs); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got, why := decodeAnswer(rs)
		if got != want || (want == "") == (why == "") {
			t.Errorf("%s: %q (%s), want %q", raw, got, why, want)
		}
	}
}

// TestAnswerChecksOnNothing: the stdio checks of an answer refuse empty
// bytes rather than index them (found by FuzzConsentAnswer).
func TestAnswerChecksOnNothing(t *testing.T) {
	for _, raw := range [][]byte{nil, {}, []byte(" ")} {
		if inputResponses(raw) == "" || elicitationResult(raw) == "" {
			t.Errorf("%q passed the checks", raw)
		}
	}
}

// BenchmarkConsentBookkeeping is the server's own work for one accepted
// question, IAM aside: hashing the question twice (asked, answered),
// rendering it, keeping and taking its token, reading the answer.
func BenchmarkConsentBookkeeping(b *testing.B) {
	q := bigQuestion(10)
	st := newQuestionStore()
	var rs mcp.InputResponses
	if err := json.Unmarshal([]byte(`{"consent":{"action":"accept"}}`), &rs); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		h, _ := questionHash(q)
		_ = renderQuestion(q)
		tok, _ := st.add(pendingQuestion{tool: "delete_user", question: h})
		h2, _ := questionHash(q)
		if p := st.take(tok); p == nil || p.question != h2 {
			b.Fatal("lost")
		}
		if d, _ := decodeAnswer(rs); d != gate.Accept {
			b.Fatal(d)
		}
	}
}

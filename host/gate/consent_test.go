package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// person answers every question the same way and remembers what it was
// asked: a stand-in for the human, who is the one thing a test cannot run.
type person struct {
	mu     sync.Mutex
	answer Answer
	asked  []Question
}

func (p *person) Ask(_ context.Context, q Question) (Answer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, q)
	return p.answer, nil
}

func declining() *person { return &person{answer: Answer{Decision: Decline, Via: "test"}} }

// TestDryRunWalksTheWholeCatalogue: every mutating operation answers
// dry_run with a plan of at least one IAM call, on a read-only server,
// and the account does not change.
func TestDryRunWalksTheWholeCatalogue(t *testing.T) {
	g, state := newGate(t, Options{ReadOnly: true})
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range api.All() {
		if !op.Mutates {
			continue
		}
		t.Run(op.Name, func(t *testing.T) {
			raw := withArg(t, string(argsFor(t, g, op.Name)), api.ArgDryRun, true)
			out, err := g.Call(ctx, Caller{Kind: BuiltIn, Tool: op.Name}, op.Name, raw)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			dry, ok := out.(*api.DryRunOutput)
			if !ok || !dry.DryRun {
				t.Fatalf("dry run answered %T %+v", out, out)
			}
			p := dry.Plan
			if p.Operation != op.Name || p.Summary == "" || len(p.Steps) == 0 || len(p.Affected) == 0 || p.Undo == "" {
				t.Fatalf("incomplete plan: %+v", p)
			}
			for _, s := range p.Steps {
				if !strings.HasPrefix(s.Action, "iam:") || s.Target == "" {
					t.Fatalf("a step without an IAM action or a target: %+v", s)
				}
			}
			if !strings.Contains(dry.Message, "read-only") {
				t.Errorf("the dry run on a read-only server does not say the change would be refused: %q", dry.Message)
			}
		})
	}
	after, _ := os.ReadFile(state)
	if !bytes.Equal(before, after) {
		t.Fatal("a dry run changed the sandbox")
	}
}

// TestConsentWalksTheWholeCatalogue: under the default --confirm, every
// destructive operation asks the person, with the plan the dry run gives,
// and a decline changes nothing; a mutation that is not destructive runs
// without asking. Under --confirm writes every mutation asks.
func TestConsentWalksTheWholeCatalogue(t *testing.T) {
	for _, level := range []Confirm{"", ConfirmWrites} {
		g, state := newGate(t, Options{Confirm: level})
		for _, op := range api.All() {
			if !op.Mutates {
				continue
			}
			covered := op.Destructive || level == ConfirmWrites
			if !covered {
				continue // it runs: checked below, on a gate of its own
			}
			t.Run(string(level)+"/"+op.Name, func(t *testing.T) {
				before, _ := os.ReadFile(state)
				p := declining()
				_, err := g.Call(ctx, Caller{Kind: BuiltIn, Tool: op.Name, Consent: p}, op.Name, argsFor(t, g, op.Name))
				if code(err) != api.Declined || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("a declined %s: %v", op.Name, err)
				}
				if len(p.asked) != 1 || len(p.asked[0].Changes) != 1 {
					t.Fatalf("asked %d times: %+v", len(p.asked), p.asked)
				}
				ch := p.asked[0].Changes[0]
				if ch.Operation != op.Name || ch.Plan == nil || len(ch.Plan.Steps) == 0 || ch.Input == nil {
					t.Fatalf("the question shows no plan: %+v", ch)
				}
				after, _ := os.ReadFile(state)
				if !bytes.Equal(before, after) {
					t.Fatal("a declined change changed the sandbox")
				}
			})
		}
	}
	for _, op := range api.All() {
		if !op.Mutates || op.Destructive {
			continue
		}
		t.Run("default/"+op.Name+"/not-asked", func(t *testing.T) {
			g, _ := newGate(t, Options{})
			p := declining()
			if _, err := g.Call(ctx, Caller{Kind: BuiltIn, Consent: p}, op.Name, argsFor(t, g, op.Name)); err != nil {
				t.Fatalf("%s: %v", op.Name, err)
			}
			if len(p.asked) != 0 {
				t.Fatalf("%s asked the person under --confirm destructive", op.Name)
			}
		})
	}
}

func TestConsentAnswers(t *testing.T) {
	var audit bytes.Buffer
	g, state := newGate(t, Options{Audit: &audit})
	call := func(a Answer, consent bool) error {
		c := Caller{Kind: BuiltIn, Tool: "delete_user"}
		if consent {
			c.Consent = &person{answer: a}
		}
		_, err := g.Call(ctx, c, "delete_user", json.RawMessage(sampleArgs["delete_user"]))
		return err
	}
	unchanged := func(t *testing.T, f func() error) error {
		t.Helper()
		before, _ := os.ReadFile(state)
		err := f()
		after, _ := os.ReadFile(state)
		if !bytes.Equal(before, after) {
			t.Fatalf("the sandbox changed (%v)", err)
		}
		return err
	}
	if err := unchanged(t, func() error { return call(Answer{}, false) }); code(err) != api.ConsentRequired {
		t.Fatalf("no one to ask: %v", err)
	}
	err := unchanged(t, func() error { return call(Answer{Unavailable: "the client cannot elicit; use --confirm none"}, true) })
	if code(err) != api.ConsentRequired || !strings.Contains(err.Error(), "--confirm none") {
		t.Fatalf("unavailable: %v", err)
	}
	if err := unchanged(t, func() error { return call(Answer{Decision: Cancel, Via: "elicitation"}, true) }); code(err) != api.Declined {
		t.Fatalf("cancel: %v", err)
	}
	// An answer that is not a yes is a no, whatever it says.
	if err := unchanged(t, func() error { return call(Answer{Decision: "ACCEPT", Via: "elicitation"}, true) }); code(err) != api.Declined {
		t.Fatalf("a misspelt accept: %v", err)
	}
	lines := strings.Count(audit.String(), "\n")
	if err := unchanged(t, func() error { return call(Answer{Pending: true, Via: "elicitation"}, true) }); err != ErrPending {
		t.Fatalf("pending: %v", err)
	}
	if strings.Count(audit.String(), "\n") != lines {
		t.Fatal("a pending question was audited as a decided call")
	}
	if err := call(Answer{Decision: Accept, Via: "elicitation"}, true); err != nil {
		t.Fatalf("accept: %v", err)
	}
	var answers []string
	for _, l := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Consent == nil || r.Consent.Level != ConfirmDestructive {
			t.Fatalf("a covered call's audit line without its consent: %s", l)
		}
		answers = append(answers, r.Outcome+"/"+r.Consent.Via+"/"+r.Consent.Answer)
	}
	want := "refused//unavailable refused//unavailable refused/elicitation/cancel refused/elicitation/decline ok/elicitation/accept"
	if got := strings.Join(answers, " "); got != want {
		t.Fatalf("audit consent records:\n got %s\nwant %s", got, want)
	}
}

func TestConfirmedArgumentHasNoEffect(t *testing.T) {
	var audit bytes.Buffer
	g, state := newGate(t, Options{Audit: &audit})
	before, _ := os.ReadFile(state)
	// The model sets confirmed: true; nobody can be asked; nothing runs.
	raw := withArg(t, sampleArgs["delete_user"], api.ArgConfirmed, true)
	if _, err := g.Call(ctx, Caller{Kind: BuiltIn}, "delete_user", raw); code(err) != api.ConsentRequired {
		t.Fatalf("confirmed: true stood in for the person: %v", err)
	}
	after, _ := os.ReadFile(state)
	if !bytes.Equal(before, after) {
		t.Fatal("the sandbox changed")
	}
	// On a change that needs no consent it runs, and the result says the
	// argument did nothing.
	out, err := g.Call(ctx, Caller{Kind: BuiltIn}, "create_user", withArg(t, sampleArgs["create_user"], api.ArgConfirmed, true))
	if err != nil {
		t.Fatal(err)
	}
	if u := out.(*api.UserOutput); len(u.Warnings) == 0 || !strings.Contains(u.Warnings[len(u.Warnings)-1], "no effect") {
		t.Fatalf("the result does not say confirmed had no effect: %+v", u.Result)
	}
	if !strings.Contains(audit.String(), `"confirmed_argument":true`) {
		t.Fatalf("the audit line does not record the confirmed argument:\n%s", audit.String())
	}
	// Misspellings of the gate's own arguments are refused like any other.
	for _, bad := range []string{`{"user_name":"x","Dry_Run":true}`, `{"user_name":"x","dry_run":"true"}`, `{"user_name":"x","dry_run":true,"dry_run":false}`, `{"user_name":"x","confirmed":1}`,
		// null is "absent" to encoding/json: a dry run would become a change.
		`{"user_name":"x","dry_run":null}`, `{"user_name":"x","confirmed":null}`} {
		if _, err := g.Call(ctx, Caller{Kind: BuiltIn}, "create_user", json.RawMessage(bad)); code(err) != api.InvalidInput {
			t.Fatalf("%s: %v", bad, err)
		}
	}
	// A read takes neither.
	if _, err := g.Call(ctx, Caller{Kind: BuiltIn}, "list_users", json.RawMessage(`{"dry_run":true}`)); code(err) != api.InvalidInput {
		t.Fatalf("dry_run on a read: %v", err)
	}
}

func TestExcludedForEveryCaller(t *testing.T) {
	g, _ := newGate(t, Options{Confirm: ConfirmNone, Excluded: map[string]bool{"delete_user": true, "list_users": true}})
	callers := []Caller{{Kind: BuiltIn}, {Kind: CLI}, {Kind: Plugin, Plugin: "p", Grants: map[string]bool{"delete_user": true, "list_users": true}}}
	for _, c := range callers {
		for _, op := range []string{"delete_user", "list_users"} {
			if _, err := g.Call(ctx, c, op, json.RawMessage(sampleArgs[op])); code(err) != api.Excluded {
				t.Fatalf("%s by %s: %v", op, c.Kind, err)
			}
		}
		if _, _, err := g.Preview(ctx, c, "delete_user", json.RawMessage(sampleArgs["delete_user"])); code(err) != api.Excluded {
			t.Fatalf("preview by %s: %v", c.Kind, err)
		}
	}
}

func TestPreview(t *testing.T) {
	g, state := newGate(t, Options{})
	before, _ := os.ReadFile(state)
	p, ask, err := g.Preview(ctx, Caller{Kind: BuiltIn}, "delete_user", json.RawMessage(sampleArgs["delete_user"]))
	if err != nil || !ask || p.Plan == nil || p.Operation != "delete_user" || p.Input.(*api.DeleteUserInput).UserName != "former.employee" {
		t.Fatalf("preview: %+v %v %v", p, ask, err)
	}
	if _, ask, _ := g.Preview(ctx, Caller{Kind: BuiltIn}, "create_user", json.RawMessage(sampleArgs["create_user"])); ask {
		t.Fatal("create_user needs no consent under --confirm destructive")
	}
	if _, _, err := g.Preview(ctx, Caller{Kind: BuiltIn}, "list_users", nil); code(err) != api.InvalidInput {
		t.Fatalf("preview of a read: %v", err)
	}
	ro, _ := newGate(t, Options{ReadOnly: true, ReadOnlyAdvice: "Restart with --allow-write"})
	if _, _, err := ro.Preview(ctx, Caller{Kind: BuiltIn}, "create_user", json.RawMessage(sampleArgs["create_user"])); code(err) != api.ReadOnly || !strings.Contains(err.Error(), "--allow-write") {
		t.Fatalf("preview on a read-only server: %v", err)
	}
	after, _ := os.ReadFile(state)
	if !bytes.Equal(before, after) {
		t.Fatal("a preview changed the sandbox")
	}
}

// withArg adds key: value to a JSON object of arguments.
func withArg(t *testing.T, args, key string, value any) json.RawMessage {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(args), &m); err != nil {
		t.Fatal(err)
	}
	m[key] = value
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

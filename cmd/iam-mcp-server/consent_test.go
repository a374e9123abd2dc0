package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// askWith asks q through a terminalConsent whose terminal reads answer.
func askWith(t *testing.T, ctx context.Context, answer io.Reader, q gate.Question) (gate.Answer, string, error) {
	t.Helper()
	var out bytes.Buffer
	c := &terminalConsent{level: gate.ConfirmDestructive, terminal: func() (io.Reader, io.Writer, bool) { return answer, &out, true }}
	a, err := c.Ask(ctx, q)
	return a, out.String(), err
}

var deletePlan = gate.Question{Changes: []gate.Proposed{{Operation: "delete_user", Plan: &api.Plan{
	Operation: "delete_user", Summary: "delete IAM user alice and everything it has",
	Steps: []api.PlanStep{
		{Action: "iam:DeleteAccessKey", Target: "user/alice/access-key/AKIAEXAMPLE"},
		{Action: "iam:DeleteUser", Target: "user/alice", Detail: "last"},
	},
	Affected:   []string{"user/alice", "user/alice/access-key/AKIAEXAMPLE"},
	Findings:   []string{"the user has console access"},
	Reversible: false, Undo: "cannot be undone: the access key's secret is gone",
}}}}

// TestTerminalAnswers: only a line saying y or yes approves; anything
// else declines, and a question closed without a line (Ctrl-D, Ctrl-C) is
// a cancel. The question shows the whole plan.
func TestTerminalAnswers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"y\n", gate.Accept}, {"yes\n", gate.Accept}, {"Y\n", gate.Accept}, {"YES\n", gate.Accept}, {"  y \r\n", gate.Accept},
		{"n\n", gate.Decline}, {"\n", gate.Decline}, {"no\n", gate.Decline}, {"yy\n", gate.Decline}, {"y es\n", gate.Decline},
		{"yes please\n", gate.Decline}, {"ok\n", gate.Decline}, {"1\n", gate.Decline}, {"true\n", gate.Decline},
		{"n\ny\n", gate.Decline}, // one answer only: the first line
		{strings.Repeat("y", 100) + "\n", gate.Decline}, {strings.Repeat(" ", 200) + "y\n", gate.Decline},
		{"\x1by\n", gate.Decline}, {"y\x00\n", gate.Decline}, {"ｙ\n", gate.Decline},
		{"", gate.Cancel}, {"y", gate.Cancel}, {"yes", gate.Cancel}, // no newline: Ctrl-D, never a yes
	} {
		a, shown, err := askWith(t, context.Background(), strings.NewReader(c.in), deletePlan)
		if err != nil || a.Decision != c.want || a.Via != "terminal" || a.Unavailable != "" || a.Pending {
			t.Errorf("answer %q: %+v (%v), want %s via terminal", c.in, a, err, c.want)
		}
		for _, want := range []string{"--confirm destructive", "delete_user: delete IAM user alice and everything it has",
			"1. iam:DeleteAccessKey user/alice/access-key/AKIAEXAMPLE", "2. iam:DeleteUser user/alice — last",
			"Affects:", "  - user/alice\n", "Guardrail findings:", "the user has console access",
			"Can be undone: no — cannot be undone: the access key's secret is gone", "[y/N]"} {
			if !strings.Contains(shown, want) {
				t.Errorf("the question does not show %q:\n%s", want, shown)
			}
		}
	}
	// A terminal that fails is a failure to ask, not an answer.
	if a, _, err := askWith(t, context.Background(), iotestErr{}, deletePlan); err == nil || a.Decision != "" {
		t.Errorf("a failing terminal: %+v, %v", a, err)
	}
	// Ctrl-C while waiting: the read is abandoned and the question
	// cancelled. The deadline only guards against a hang.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	done := make(chan gate.Answer, 1)
	go func() { a, _, _ := askWith(t, ctx, pr, deletePlan); done <- a }()
	select {
	case a := <-done:
		if a.Decision != gate.Cancel {
			t.Errorf("cancelled while asking: %+v", a)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("asking did not end when its context did")
	}
	// --yes answers without reading anything; no terminal is unavailable,
	// naming --yes.
	c := &terminalConsent{yes: true, terminal: func() (io.Reader, io.Writer, bool) { t.Error("--yes read the terminal"); return nil, nil, false }}
	if a, err := c.Ask(context.Background(), deletePlan); err != nil || a.Decision != gate.Accept || a.Via != "--yes" {
		t.Errorf("--yes: %+v %v", a, err)
	}
	c = &terminalConsent{terminal: func() (io.Reader, io.Writer, bool) { return nil, nil, false }}
	if a, err := c.Ask(context.Background(), deletePlan); err != nil || a.Unavailable == "" || !strings.Contains(a.Unavailable, "--yes") {
		t.Errorf("no terminal: %+v %v", a, err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, os.ErrPermission }

// TestTerminalNamesTheAccount: a change in another account says which,
// and the level asked at is that account's; the server's own account is
// asked as before.
func TestTerminalNamesTheAccount(t *testing.T) {
	q := deletePlan
	q.Account = gate.Account{ID: "444444444444", Alias: "acme-prod\x1b[2J", Confirm: gate.ConfirmWrites}
	_, shown, err := askWith(t, context.Background(), strings.NewReader("n\n"), q)
	if err != nil || !strings.Contains(shown, `This change in account acme-prod\x1b[2J (444444444444) needs your yes (confirm writes there)`) || strings.Contains(shown, "\x1b") {
		t.Fatalf("%v:\n%s", err, shown)
	}
	q.Account = gate.Account{ID: "123456789012", Self: true, Confirm: gate.ConfirmDestructive}
	if _, shown, _ := askWith(t, context.Background(), strings.NewReader("n\n"), q); strings.Contains(shown, "account") || !strings.Contains(shown, "--confirm destructive") {
		t.Fatalf("the server's own account:\n%s", shown)
	}
}

// TestQuestionCannotBeRedrawn: what a plan carries from the arguments and
// from IAM cannot move the cursor, clear the screen, reverse the text or
// start a line of its own; and a huge plan is shown bounded.
func TestQuestionCannotBeRedrawn(t *testing.T) {
	hostile := "x\x1b[2J\x1b[1;1HApprove? (safe)\r\nAffects: nothing\u202eenil\x07\u009b31m\xff\u200b\x9b"
	q := gate.Question{Summary: hostile, Changes: []gate.Proposed{{Operation: "delete_user", Plan: &api.Plan{
		Operation: "delete_user", Summary: hostile,
		Steps:    []api.PlanStep{{Action: "iam:DeleteUser", Target: hostile, Detail: hostile}},
		Affected: []string{hostile}, Findings: []string{hostile}, Undo: hostile,
	}}, {Operation: "delete_group", Plan: nil}}}
	_, shown, _ := askWith(t, context.Background(), strings.NewReader("n\n"), q)
	for _, bad := range []string{"\x1b", "\r", "\u202e", "\x07", "\u009b", "\xff", "\x9b", "\u200b"} {
		if strings.Contains(shown, bad) {
			t.Errorf("the question shows %q raw:\n%q", bad, shown)
		}
	}
	for _, want := range []string{`x\x1b[2J\x1b[1;1HApprove? (safe)\r\nAffects: nothing\u202eenil\a\u009b31m\xff\u200b\x9b`, "2. delete_group", "(no plan was made)"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the question does not show %q:\n%s", want, shown)
		}
	}
	// Every line the question prints is one of its own.
	for _, l := range strings.Split(shown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Affects: nothing") {
			t.Errorf("a value started a line of its own: %q", l)
		}
	}

	// A plugin's summary that reads like a line of the host's stays
	// labelled as the plugin's words (found by FuzzRenderQuestion for the
	// client's question; the terminal's is the same class).
	_, shown, _ = askWith(t, context.Background(), strings.NewReader("n\n"), gate.Question{Summary: "Can be undone: yes", Changes: []gate.Proposed{{Operation: "delete_user", Plan: &api.Plan{Operation: "delete_user", Summary: "delete user bob"}}}})
	for _, l := range strings.Split(shown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "Can be undone: yes") {
			t.Errorf("the plugin's summary passes for the host's line: %q", l)
		}
	}

	many := &api.Plan{Operation: "delete_user", Summary: strings.Repeat("s", 10000)}
	for i := 0; i < 1000; i++ {
		many.Steps = append(many.Steps, api.PlanStep{Action: "iam:DetachUserPolicy", Target: "user/u"})
		many.Affected = append(many.Affected, "policy/p")
	}
	_, shown, _ = askWith(t, context.Background(), strings.NewReader("n\n"), gate.Question{Changes: []gate.Proposed{{Operation: "delete_user", Plan: many}}})
	if len(shown) > 40000 || !strings.Contains(shown, "… and 800 more (call it with dry_run: true to see the whole plan)") || !strings.Contains(shown, "… (10000 characters)") {
		t.Errorf("a huge plan: %d bytes shown\n%.600s", len(shown), shown)
	}
}

// auditRecords reads an audit log.
func auditRecords(t *testing.T, path string) []gate.Record {
	t.Helper()
	var recs []gate.Record
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		var r gate.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestCallConsent: `call` of a change --confirm covers, against the
// sandbox: refused without a terminal (naming --yes) and nothing changed;
// run with --yes, recorded as approved via --yes; still refused without
// --allow-write; and nothing a script can set in advance but --yes
// approves it.
func TestCallConsent(t *testing.T) {
	dir := t.TempDir()
	state, audit := filepath.Join(dir, "state.json"), filepath.Join(dir, "audit.log")
	common := []string{"--sandbox", "--sandbox-state", state, "--audit-log", audit}
	call := func(env map[string]string, stdin string, args ...string) result {
		t.Helper()
		return cliEnv(t, env, stdin, append(append([]string{"call"}, args...), common...)...)
	}
	exists := func(user string) bool {
		t.Helper()
		r := call(nil, "", "get_user", "--args", `{"user_name": "`+user+`"}`)
		return r.code == 0
	}
	// create_user is no destructive change: the default --confirm runs it
	// without asking.
	for _, u := range []string{"alice", "bob"} {
		if r := call(nil, "", "create_user", "--allow-write", "--args", `{"user_name": "`+u+`"}`); r.code != 0 {
			t.Fatalf("create_user %s: exit %d\n%s", u, r.code, r.stderr)
		}
	}
	del := []string{"delete_user", "--allow-write", "--args", `{"user_name": "alice"}`}
	for _, c := range []struct {
		name  string
		env   map[string]string
		stdin string
		extra []string
	}{
		{"no terminal", nil, "", nil},
		{"y piped into stdin", nil, "y\n", nil},
		{"IAM_MCP_YES", map[string]string{"IAM_MCP_YES": "1"}, "", nil},
		{"the upstream's confirmed argument", nil, "", []string{"--args", `{"user_name": "alice", "confirmed": true}`}},
		{"--args - with no controlling terminal", nil, `{"user_name": "alice"}`, []string{"--args", "-"}},
	} {
		r := call(c.env, c.stdin, append(append([]string{}, del...), c.extra...)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "ConsentRequired: delete_user needs a person's yes (--confirm destructive)") ||
			!strings.Contains(r.stderr, "add --yes to approve it from a script") || r.stdout != "" {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", c.name, r.code, r.stdout, r.stderr)
		}
	}
	if !exists("alice") {
		t.Fatal("a refused delete_user deleted alice")
	}

	// --yes does not lift read-only mode.
	if r := call(nil, "", "delete_user", "--yes", "--args", `{"user_name": "alice"}`); r.code != 1 || !strings.HasPrefix(r.stderr, "ReadOnly: ") || !strings.Contains(r.stderr, "--allow-write") {
		t.Errorf("--yes without --allow-write: exit %d\n%s", r.code, r.stderr)
	}
	// A dry run needs neither writes nor a yes, and changes nothing.
	r := call(nil, "", "delete_user", "--args", `{"user_name": "alice", "dry_run": true}`)
	var dry api.DryRunOutput
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &dry) != nil || !dry.DryRun || dry.Plan.Operation != "delete_user" {
		t.Errorf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// --yes approves, for this command only.
	if r := call(nil, "", append(del, "--yes")...); r.code != 0 {
		t.Fatalf("delete_user --yes: exit %d\n%s", r.code, r.stderr)
	}
	if exists("alice") {
		t.Error("delete_user --yes left alice")
	}
	// --confirm writes asks before a create too; --confirm none never asks.
	if r := call(nil, "", "create_user", "--allow-write", "--confirm", "writes", "--args", `{"user_name": "carol"}`); r.code != 1 || !strings.HasPrefix(r.stderr, "ConsentRequired: create_user needs a person's yes (--confirm writes)") {
		t.Errorf("create_user --confirm writes: exit %d\n%s", r.code, r.stderr)
	}
	if r := call(map[string]string{"IAM_MCP_CONFIRM": "writes"}, "", "create_user", "--allow-write", "--args", `{"user_name": "carol"}`); r.code != 1 || !strings.Contains(r.stderr, "ConsentRequired") {
		t.Errorf("create_user IAM_MCP_CONFIRM=writes: exit %d\n%s", r.code, r.stderr)
	}
	if r := call(nil, "", "delete_user", "--allow-write", "--confirm", "none", "--args", `{"user_name": "bob"}`); r.code != 0 || !strings.Contains(r.stderr, "without a person's yes") {
		t.Errorf("delete_user --confirm none: exit %d\n%s", r.code, r.stderr)
	}

	// The audit log says how each was asked and answered.
	var consents []string
	for _, rec := range auditRecords(t, audit) {
		if rec.Consent != nil {
			consents = append(consents, rec.Operation+" "+string(rec.Consent.Level)+" "+rec.Consent.Via+" "+rec.Consent.Answer+" "+rec.Outcome)
		}
	}
	want := []string{
		"delete_user destructive terminal unavailable refused", "delete_user destructive terminal unavailable refused",
		"delete_user destructive terminal unavailable refused", "delete_user destructive terminal unavailable refused",
		"delete_user destructive terminal unavailable refused",
		"delete_user destructive --yes accept ok",
		"create_user writes terminal unavailable refused", "create_user writes terminal unavailable refused",
	}
	if strings.Join(consents, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit consents:\n%s\nwant:\n%s", strings.Join(consents, "\n"), strings.Join(want, "\n"))
	}
}

package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The gate's account decisions, over runners that record what ran where
// (nothing real tells "never called" from "called and refused") and a
// fake Accounts: the real one (host/accounts) assumes roles in the
// sandbox, and is tested there and through the command line.

// accountRunner is the catalogue acting in one account: it records each
// call as "account op" in a log shared by every account.
type accountRunner struct {
	id  string
	log *[]string
}

func (r *accountRunner) Run(_ context.Context, op string, _ any) (any, error) {
	*r.log = append(*r.log, r.id+" "+op)
	return &struct{}{}, nil
}

func (r *accountRunner) Prepare(_ context.Context, op string, _ any) (*api.Plan, func(context.Context) (any, error), error) {
	*r.log = append(*r.log, r.id+" plan "+op)
	return &api.Plan{Operation: op}, func(context.Context) (any, error) {
		*r.log = append(*r.log, r.id+" "+op)
		return &struct{}{}, nil
	}, nil
}

func (r *accountRunner) Account(context.Context) (string, error) {
	*r.log = append(*r.log, r.id+" whoami")
	return r.id, nil
}

// fakeAccounts lists accounts and hands out their runners.
type fakeAccounts struct {
	list    []Account
	log     *[]string
	failing error // Runner's error, when set
}

func (f *fakeAccounts) List() []Account { return f.list }

func (f *fakeAccounts) Lookup(name string) (Account, bool) {
	for _, a := range f.list {
		if a.ID == name || (a.Alias != "" && a.Alias == name) {
			return a, true
		}
	}
	return Account{}, false
}

func (f *fakeAccounts) Runner(_ context.Context, base Runner, acct Account, caller Caller) (Runner, string, error) {
	if acct.Self {
		return nil, "", errors.New("Runner was asked for the server's own account")
	}
	if _, ok := base.(*accountRunner); !ok {
		return nil, "", fmt.Errorf("base is %T, not the gate's runner", base)
	}
	if f.failing != nil {
		return nil, "", f.failing
	}
	return &accountRunner{id: acct.ID, log: f.log}, "arn:aws:sts::" + acct.ID + ":assumed-role/Access/iam-mcp." + caller.Tool, nil
}

const (
	ownID  = "111111111111"
	devID  = "222222222222"
	prodID = "333333333333"
)

// org is a gate over the server's own account 111111111111 (read-write,
// the gate's options) and two others: dev (read-write, asking before
// every write) and prod (read-only).
func org(t *testing.T, opts Options) (*Gate, *[]string, *fakeAccounts, *bytes.Buffer) {
	t.Helper()
	log := &[]string{}
	accts := &fakeAccounts{log: log, list: []Account{
		{ID: ownID, Alias: "acme-main", Self: true},
		{ID: devID, Alias: "acme-dev", Confirm: ConfirmWrites, Via: "arn:aws:iam::222222222222:role/Access"},
		{ID: prodID, Alias: "acme-prod", ReadOnly: true, Via: "arn:aws:iam::333333333333:role/Access"},
	}}
	audit := &bytes.Buffer{}
	opts.Accounts, opts.Audit = accts, audit
	return New(&accountRunner{id: ownID, log: log}, opts), log, accts, audit
}

func records(t *testing.T, audit *bytes.Buffer) []Record {
	t.Helper()
	var out []Record
	for _, line := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		if line == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit line %s: %v", line, err)
		}
		out = append(out, r)
	}
	audit.Reset()
	return out
}

func takeLog(log *[]string) string {
	s := strings.Join(*log, "; ")
	*log = (*log)[:0]
	return s
}

var cli = Caller{Kind: CLI, Tool: "cli"}

// TestCallInAnotherAccount: by alias or id, in the arguments or beside
// them, the call runs in the account named — its runner, not the
// server's — and the audit line names the account and the role session.
func TestCallInAnotherAccount(t *testing.T) {
	g, log, _, audit := org(t, Options{Confirm: ConfirmNone})
	for _, c := range []struct{ account, args string }{
		{"", `{"user_name":"alice","account":"acme-dev"}`},
		{"", `{"user_name":"alice","account":"222222222222"}`},
		{"acme-dev", `{"user_name":"alice"}`},
		{"222222222222", `{"user_name":"alice","account":"222222222222"}`},
	} {
		if _, err := g.CallIn(ctx, cli, c.account, "get_user", json.RawMessage(c.args)); err != nil {
			t.Fatalf("%q %s: %v", c.account, c.args, err)
		}
		if got := takeLog(log); got != devID+" get_user" {
			t.Fatalf("%q %s ran: %s", c.account, c.args, got)
		}
		recs := records(t, audit)
		if len(recs) != 1 || recs[0].Account != devID || recs[0].Session != "arn:aws:sts::222222222222:assumed-role/Access/iam-mcp.cli" || recs[0].Outcome != "ok" {
			t.Fatalf("audit %+v", recs)
		}
		if strings.Contains(string(recs[0].Arguments), "account") {
			t.Fatalf("the account is recorded apart, not as the input: %s", recs[0].Arguments)
		}
	}
	// No account, or the server's own by alias or id: the server's runner,
	// no session; the line still names the account, known without asking.
	for _, args := range []string{`{"user_name":"alice"}`, `{"user_name":"alice","account":"acme-main"}`, `{"user_name":"alice","account":"111111111111"}`} {
		if _, err := g.Call(ctx, cli, "get_user", json.RawMessage(args)); err != nil {
			t.Fatal(err)
		}
		if got := takeLog(log); got != ownID+" get_user" {
			t.Fatalf("%s ran: %s", args, got)
		}
		if recs := records(t, audit); len(recs) != 1 || recs[0].Account != ownID || recs[0].Session != "" {
			t.Fatalf("audit %+v", recs)
		}
	}
	// A mutation in dev, a dry run in dev: planned and run there.
	if _, err := g.Call(ctx, cli, "create_user", json.RawMessage(`{"user_name":"bob","account":"acme-dev","dry_run":true}`)); err != nil {
		t.Fatal(err)
	}
	if got := takeLog(log); got != devID+" plan create_user" {
		t.Fatalf("dry run ran: %s", got)
	}
	records(t, audit)
}

// TestAccountNotAllowed: a name no account has is refused before any AWS
// call, naming it (quoted, cut) and listing the reachable ones; the
// audit line names the account asked.
func TestAccountNotAllowed(t *testing.T) {
	g, log, _, audit := org(t, Options{})
	long := strings.Repeat("x", 64)
	for _, name := range []string{"acme-qa", "444444444444", "ACME-DEV", long, "evil\x1b[2J"} {
		_, err := g.CallIn(ctx, cli, name, "list_users", nil)
		if code(err) != api.AccountNotAllowed {
			t.Fatalf("%q: %v", name, err)
		}
		msg := err.Error()
		for _, want := range []string{"acme-main (111111111111", "acme-dev (222222222222)", "acme-prod (333333333333)", "get_account_info"} {
			if !strings.Contains(msg, want) {
				t.Fatalf("%q: message lacks %s: %s", name, want, msg)
			}
		}
		if strings.Contains(msg, "\x1b") || len(msg) > 600 {
			t.Fatalf("%q: message %q", name, msg)
		}
		recs := records(t, audit)
		if len(recs) != 1 || recs[0].Outcome != "refused" || recs[0].Code != api.AccountNotAllowed || recs[0].Account != name {
			t.Fatalf("%q audit %+v", name, recs)
		}
	}
	if len(*log) != 0 {
		t.Fatalf("refused calls reached AWS: %v", *log)
	}
	// Outside the argument's bounds: InvalidInput, from the arguments or
	// beside them.
	for _, c := range [][2]string{{strings.Repeat("y", 65), `{}`}, {"", `{"account":""}`}, {"", `{"account":null}`}, {"", `{"account":12}`}, {"", `{"Account":"acme-dev"}`}} {
		if _, err := g.CallIn(ctx, cli, c[0], "list_users", json.RawMessage(c[1])); code(err) != api.InvalidInput {
			t.Fatalf("%q %s: %v", c[0], c[1], err)
		}
	}
	// A long list is cut, counting the rest.
	many := &fakeAccounts{log: log}
	many.list = append(many.list, Account{ID: ownID, Self: true})
	for i := range 15 {
		many.list = append(many.list, Account{ID: fmt.Sprintf("5000000000%02d", i)})
	}
	_, err := New(&accountRunner{id: ownID, log: log}, Options{Accounts: many}).CallIn(ctx, cli, "nope", "list_users", nil)
	if code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), "… and 6 more") || strings.Contains(err.Error(), "500000000010") {
		t.Fatalf("long list: %v", err)
	}
}

// TestOneAccountServer: without Accounts, only the server's own id is
// accepted, learnt from --expect-account or else from the credentials.
func TestOneAccountServer(t *testing.T) {
	log := &[]string{}
	g := New(&accountRunner{id: ownID, log: log}, Options{})
	if _, err := g.CallIn(ctx, cli, ownID, "list_users", nil); err != nil {
		t.Fatal(err)
	}
	if got := takeLog(log); got != ownID+" whoami; "+ownID+" list_users" {
		t.Fatalf("ran: %s", got)
	}
	_, err := g.CallIn(ctx, cli, devID, "list_users", nil)
	if code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), "--accounts") || !strings.Contains(err.Error(), `"222222222222"`) {
		t.Fatalf("another account on a server of one: %v", err)
	}
	if got := takeLog(log); got != ownID+" whoami" {
		t.Fatalf("ran: %s", got)
	}
	if accts := g.Accounts(); len(accts) != 1 || !accts[0].Self || accts[0].ID != "" || accts[0].Confirm != ConfirmDestructive {
		t.Fatalf("Accounts %+v", accts)
	}
	// With the account expected, another is refused without asking AWS.
	g = New(&accountRunner{id: ownID, log: log}, Options{ExpectAccount: ownID, ReadOnly: true})
	if _, err := g.CallIn(ctx, cli, devID, "list_users", nil); code(err) != api.AccountNotAllowed {
		t.Fatalf("another account with --expect-account: %v", err)
	}
	if len(*log) != 0 {
		t.Fatalf("ran: %v", *log)
	}
	if accts := g.Accounts(); len(accts) != 1 || accts[0].ID != ownID || !accts[0].ReadOnly {
		t.Fatalf("Accounts %+v", accts)
	}
	// Offline operations are in no account: the argument is unknown.
	_, err = g.Call(ctx, cli, "validate_policy", json.RawMessage(`{"policy_document":{"Version":"2012-10-17","Statement":[]},"account":"111111111111"}`))
	if code(err) != api.InvalidInput || !strings.Contains(err.Error(), `"account"`) {
		t.Fatalf("offline with account: %v", err)
	}
	_, err = g.CallIn(ctx, cli, ownID, "validate_policy", json.RawMessage(`{"policy_document":{"Version":"2012-10-17","Statement":[]}}`))
	if code(err) != api.InvalidInput || !strings.Contains(err.Error(), "no account") {
		t.Fatalf("offline in an account: %v", err)
	}
}

// TestTwoAccountsNamed: the account beside the arguments and the one in
// them must agree; nothing runs otherwise, and the audit line keeps only
// the arguments' size.
func TestTwoAccountsNamed(t *testing.T) {
	g, log, _, audit := org(t, Options{})
	_, err := g.CallIn(ctx, cli, "acme-dev", "get_user", json.RawMessage(`{"user_name":"a","account":"acme-prod"}`))
	if code(err) != api.InvalidInput || !strings.Contains(err.Error(), "two accounts") {
		t.Fatalf("two accounts: %v", err)
	}
	if len(*log) != 0 {
		t.Fatalf("ran: %v", *log)
	}
	if recs := records(t, audit); len(recs) != 1 || !strings.HasPrefix(string(recs[0].Arguments), `{"undecoded_bytes"`) {
		t.Fatalf("audit %+v", recs)
	}
}

// TestReadOnlyWinsPerAccount: a read-only account refuses writes while
// the server's own account writes; a read-only server refuses writes in
// every account, whatever the account's mode. Dry runs plan in both.
func TestReadOnlyWinsPerAccount(t *testing.T) {
	g, log, _, audit := org(t, Options{Confirm: ConfirmNone})
	create := `{"user_name":"bob"}`
	if _, err := g.Call(ctx, cli, "create_user", json.RawMessage(create)); err != nil {
		t.Fatal(err)
	}
	_, err := g.CallIn(ctx, cli, "acme-prod", "create_user", json.RawMessage(create))
	if code(err) != api.ReadOnly || !strings.Contains(err.Error(), "acme-prod (333333333333)") {
		t.Fatalf("write in a read-only account: %v", err)
	}
	if _, err := g.CallIn(ctx, cli, "acme-prod", "list_users", nil); err != nil {
		t.Fatal(err)
	}
	out, err := g.CallIn(ctx, cli, "acme-prod", "create_user", json.RawMessage(`{"user_name":"bob","dry_run":true}`))
	if err != nil || !strings.Contains(out.(*api.DryRunOutput).Message, "acme-prod") {
		t.Fatalf("dry run in a read-only account: %v %+v", err, out)
	}
	if got := takeLog(log); got != ownID+" plan create_user; "+ownID+" create_user; "+prodID+" list_users; "+prodID+" plan create_user" {
		t.Fatalf("ran: %s", got)
	}
	recs := records(t, audit)
	if len(recs) != 4 || recs[1].Outcome != "refused" || recs[1].Account != prodID || recs[1].Session != "" {
		t.Fatalf("audit %+v", recs)
	}

	ro, log, _, _ := org(t, Options{ReadOnly: true, Confirm: ConfirmNone})
	for _, acct := range []string{"", "acme-dev", "acme-prod"} {
		_, err := ro.CallIn(ctx, cli, acct, "create_user", json.RawMessage(create))
		if code(err) != api.ReadOnly || !strings.Contains(err.Error(), "the server is read-only") {
			t.Fatalf("write in %q on a read-only server: %v", acct, err)
		}
	}
	if len(*log) != 0 {
		t.Fatalf("ran: %v", *log)
	}
	for _, a := range ro.Accounts() {
		if !a.ReadOnly {
			t.Fatalf("on a read-only server, %s is listed read-write", a.ID)
		}
	}
}

// TestConfirmPerAccount: each account's confirmation level decides
// whether the person is asked, and the question names the account.
func TestConfirmPerAccount(t *testing.T) {
	g, log, _, audit := org(t, Options{Confirm: ConfirmDestructive})
	p := &person{answer: Answer{Decision: Accept, Via: "test"}}
	c := Caller{Kind: BuiltIn, Tool: "create_user", Consent: p}
	// create_user is not destructive: the own account (destructive) does
	// not ask; dev (writes) does.
	if _, err := g.Call(ctx, c, "create_user", json.RawMessage(`{"user_name":"bob"}`)); err != nil || len(p.asked) != 0 {
		t.Fatalf("own account: %v, asked %d", err, len(p.asked))
	}
	if _, err := g.Call(ctx, c, "create_user", json.RawMessage(`{"user_name":"bob","account":"acme-dev"}`)); err != nil {
		t.Fatal(err)
	}
	if len(p.asked) != 1 {
		t.Fatalf("asked %d times in dev", len(p.asked))
	}
	q := p.asked[0]
	if q.Account.ID != devID || q.Account.Alias != "acme-dev" || q.Account.Self || len(q.Changes) != 1 || q.Changes[0].Account.ID != devID {
		t.Fatalf("question %+v", q)
	}
	if got := takeLog(log); got != ownID+" plan create_user; "+ownID+" create_user; "+devID+" plan create_user; "+devID+" create_user" {
		t.Fatalf("ran: %s", got)
	}
	recs := records(t, audit)
	if len(recs) != 2 || recs[1].Consent == nil || recs[1].Consent.Level != ConfirmWrites || recs[1].Consent.Answer != Accept {
		t.Fatalf("audit %+v", recs)
	}
	// An account without a level of its own takes the server's.
	if accts := g.Accounts(); len(accts) != 3 || accts[0].ID != ownID || !accts[0].Self || accts[1].Confirm != ConfirmWrites || accts[2].Confirm != ConfirmDestructive {
		t.Fatalf("Accounts %+v", accts)
	}
	// Preview in dev: the account's level says the person will be asked.
	prop, asks, err := g.PreviewIn(ctx, c, "acme-dev", "create_user", json.RawMessage(`{"user_name":"bob"}`))
	if err != nil || !asks || prop.Account.ID != devID {
		t.Fatalf("preview in dev: %v %v %+v", err, asks, prop)
	}
	if _, asks, err := g.Preview(ctx, c, "create_user", json.RawMessage(`{"user_name":"bob"}`)); err != nil || asks {
		t.Fatalf("preview in the own account: %v %v", err, asks)
	}
	if _, _, err := g.PreviewIn(ctx, c, "acme-prod", "create_user", json.RawMessage(`{"user_name":"bob"}`)); code(err) != api.ReadOnly {
		t.Fatalf("preview in prod: %v", err)
	}
}

// TestExpectAccountIsTheServersOwn: --expect-account checks the server's
// own credentials only; another account's calls go through its runner.
func TestExpectAccountIsTheServersOwn(t *testing.T) {
	g, log, _, _ := org(t, Options{ExpectAccount: "999999999999"})
	if _, err := g.Call(ctx, cli, "list_users", nil); code(err) != api.WrongAccount {
		t.Fatalf("own account with the wrong credentials: %v", err)
	}
	if _, err := g.CallIn(ctx, cli, "acme-dev", "list_users", nil); err != nil {
		t.Fatal(err)
	}
	if got := takeLog(log); got != ownID+" whoami; "+devID+" list_users" {
		t.Fatalf("ran: %s", got)
	}
}

// TestPluginAccounts: a plugin acts only in the accounts the operator
// allowed it; the refusal names the plugin and the plugins file.
func TestPluginAccounts(t *testing.T) {
	g, log, _, audit := org(t, Options{})
	p := Caller{Kind: Plugin, Plugin: "reviewer", Tool: "reviewer_run", Grants: map[string]bool{"list_users": true}, Accounts: map[string]bool{devID: true}}
	if _, err := g.CallIn(ctx, p, "acme-dev", "list_users", nil); err != nil {
		t.Fatal(err)
	}
	for _, acct := range []string{"acme-prod", "", ownID} {
		_, err := g.CallIn(ctx, p, acct, "list_users", nil)
		if code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), "reviewer") || !strings.Contains(err.Error(), "plugins file") {
			t.Fatalf("plugin in %q: %v", acct, err)
		}
	}
	if got := takeLog(log); got != devID+" list_users" {
		t.Fatalf("ran: %s", got)
	}
	recs := records(t, audit)
	if len(recs) != 4 || recs[0].Session == "" || recs[1].Account != prodID || recs[1].Outcome != "refused" || recs[2].Account != ownID {
		t.Fatalf("audit %+v", recs)
	}
	// nil allows every account.
	p.Accounts = nil
	if _, err := g.CallIn(ctx, p, "acme-prod", "list_users", nil); err != nil {
		t.Fatal(err)
	}
	// The runtime's own refusals name the account asked.
	g.RefusedIn(ctx, p, "acme-prod", "list_users", nil, api.Errorf(api.LimitExceeded, "over"))
	g.Refused(ctx, p, "list_users", json.RawMessage(`{"account":"acme-dev"}`), api.Errorf(api.LimitExceeded, "over"))
	recs = records(t, audit)
	if len(recs) != 3 || recs[1].Account != "acme-prod" || recs[2].Account != "acme-dev" || recs[2].Outcome != "refused" {
		t.Fatalf("audit %+v", recs)
	}
}

// TestAccountsRunnerError: the Accounts' failure to reach an account (a
// refused AssumeRole) is the call's error, audited with the account.
func TestAccountsRunnerError(t *testing.T) {
	g, log, accts, audit := org(t, Options{})
	accts.failing = api.Errorf(api.AccessDenied, "the role refused us")
	_, err := g.CallIn(ctx, cli, "acme-dev", "list_users", nil)
	if code(err) != api.AccessDenied {
		t.Fatalf("%v", err)
	}
	accts.failing = errors.New("a bug")
	if _, err := g.CallIn(ctx, cli, "acme-dev", "list_users", nil); code(err) != api.Internal {
		t.Fatalf("%v", err)
	}
	if len(*log) != 0 {
		t.Fatalf("ran: %v", *log)
	}
	recs := records(t, audit)
	if len(recs) != 2 || recs[0].Account != devID || recs[0].Outcome != "error" || recs[0].Code != api.AccessDenied {
		t.Fatalf("audit %+v", recs)
	}
}

// FuzzCallIn: an account and arguments from outside (a plugin's iam_call,
// an MCP client) never panic the gate; a call either runs in the one
// account it resolved to, or is refused with a bounded message having run
// nothing; and every call leaves one audit line of bounded size.
// `go test -fuzz FuzzCallIn ./host/gate/` explores further.
func FuzzCallIn(f *testing.F) {
	for _, s := range [][2]string{
		{"", `{"user_name":"a"}`}, {"acme-dev", `{"user_name":"a"}`}, {"", `{"user_name":"a","account":"acme-prod"}`},
		{"acme-dev", `{"user_name":"a","account":"acme-prod"}`}, {"333333333333", `{"user_name":"a","dry_run":true}`},
		{"nope", `{}`}, {"", `{"account":null}`}, {"\x1b[2J", `{"account":"\u0000"}`},
	} {
		f.Add(s[0], []byte(s[1]), uint8(0))
	}
	ops := api.All()
	f.Fuzz(func(t *testing.T, account string, raw []byte, which uint8) {
		g, log, _, audit := org(t, Options{Confirm: ConfirmNone})
		o := ops[int(which)%len(ops)]
		caller := Caller{Kind: Plugin, Plugin: "p", Tool: "p_t", Grants: map[string]bool{o.Name: true}, Accounts: map[string]bool{ownID: true, devID: true}}
		_, err := g.CallIn(ctx, caller, account, o.Name, raw)
		ran := *log
		if err != nil {
			ae := AsAPIError(err)
			if len(ae.Message) > 1200 || ae.Code == api.Internal {
				t.Fatalf("%s: %v", o.Name, ae)
			}
			for _, r := range ran {
				if !strings.HasSuffix(r, " whoami") && !strings.Contains(r, " plan ") {
					t.Fatalf("refused (%v), yet ran %v", ae, ran)
				}
			}
		} else {
			accts := map[string]bool{}
			for _, r := range ran {
				id, _, _ := strings.Cut(r, " ")
				accts[id] = true
			}
			if len(accts) > 1 || accts[prodID] {
				t.Fatalf("%s ran in %v", o.Name, ran)
			}
		}
		recs := records(t, audit)
		if len(recs) != 1 || len(recs[0].Account) > 4*64 {
			t.Fatalf("audit %+v", recs)
		}
	})
}

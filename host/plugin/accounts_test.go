package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The accounts of the tests' organisation: the server's own (the demo
// sandbox of newEnv) and two more, each an IAM sandbox of its own with a
// user that names it, so that where a call ran shows in its answer, and a
// user "deploy" of the same name in both.
const (
	selfID = "123456789012"
	devID  = "333333333333"
	prodID = "444444444444"
)

// twoAccounts is a gate.Accounts over real sandboxes: the registry's
// (host/accounts) job of assuming a role is not what these tests are
// about, so its Runner hands the catalogue of the account's own sandbox,
// and names a session as the registry does.
type twoAccounts struct {
	list    []gate.Account
	runners map[string]gate.Runner
}

func (a *twoAccounts) List() []gate.Account { return a.list }

func (a *twoAccounts) Lookup(name string) (gate.Account, bool) {
	for _, x := range a.list {
		if x.ID == name || (x.Alias != "" && x.Alias == name) {
			return x, true
		}
	}
	return gate.Account{}, false
}

func (a *twoAccounts) Runner(_ context.Context, _ gate.Runner, acct gate.Account, caller gate.Caller) (gate.Runner, string, error) {
	r, ok := a.runners[acct.ID]
	if !ok {
		return nil, "", fmt.Errorf("no runner for %s", acct.ID)
	}
	return r, "arn:aws:sts::" + acct.ID + ":assumed-role/" + "OrganizationAccountAccessRole" + "/iam-mcp." + caller.Tool, nil
}

// newTwoAccounts makes the dev and prod accounts (writes allowed), each
// holding the users <alias>-only and deploy.
func newTwoAccounts(t testing.TB) *twoAccounts {
	t.Helper()
	a := &twoAccounts{
		list: []gate.Account{
			{ID: selfID, Self: true},
			{ID: devID, Alias: "dev", Confirm: gate.ConfirmDestructive, Via: "arn:aws:iam::" + devID + ":role/" + "OrganizationAccountAccessRole"},
			{ID: prodID, Alias: "prod", Confirm: gate.ConfirmDestructive, Via: "arn:aws:iam::" + prodID + ":role/" + "OrganizationAccountAccessRole"},
		},
		runners: map[string]gate.Runner{},
	}
	for _, acct := range a.list[1:] {
		sb, err := sandbox.New(sandbox.Options{})
		if err != nil {
			t.Fatal(err)
		}
		clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{acct.Alias + "-only", "deploy"} {
			_, run, err := cat.Prepare(ctx, "create_user", &api.CreateUserInput{UserName: name})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		a.runners[acct.ID] = cat
	}
	return a
}

// newOrgEnv loads specs over a gate that reaches the own demo account, dev
// and prod.
func newOrgEnv(t testing.TB, gopts gate.Options, specs ...Spec) (*env, *twoAccounts) {
	t.Helper()
	accts := newTwoAccounts(t)
	gopts.Accounts = accts
	return newEnv(t, gopts, specs...), accts
}

// hostileIn is the hostile plugin granted reads, allowed the accounts
// named (nil: all).
func hostileIn(accounts ...string) Spec {
	s := spec("hostile")
	s.Prefix = new(string)
	*s.Prefix = "h"
	s.Grants = []string{ReadGrant}
	s.Accounts = accounts
	return s
}

// iamAnswers runs the hostile plugin's iam tool (one iam_call per
// request, or one iam_batch) and returns the answers.
func (e *env) iamAnswers(t *testing.T, batch bool, requests ...string) []api.IAMResponse {
	t.Helper()
	args := fmt.Sprintf(`{"batch":%v,"requests":[%s]}`, batch, strings.Join(requests, ","))
	out := structured(t, e.call(t, "h_iam", args))
	raw, _ := json.Marshal(out["answers"])
	var answers []json.RawMessage
	if err := json.Unmarshal(raw, &answers); err != nil {
		t.Fatal(err)
	}
	var resps []api.IAMResponse
	for _, a := range answers {
		if batch {
			var rs []api.IAMResponse
			if err := json.Unmarshal(a, &rs); err != nil {
				t.Fatalf("batch answer %s: %v", a, err)
			}
			resps = append(resps, rs...)
			continue
		}
		var r api.IAMResponse
		if err := json.Unmarshal(a, &r); err != nil {
			t.Fatalf("answer %s: %v", a, err)
		}
		resps = append(resps, r)
	}
	if len(resps) != len(requests) {
		t.Fatalf("%d answers to %d requests", len(resps), len(requests))
	}
	return resps
}

// userNames are the users a list_users answer lists.
func userNames(t *testing.T, r api.IAMResponse) []string {
	t.Helper()
	if r.Error != nil {
		t.Fatalf("list_users failed: %v", r.Error)
	}
	var out api.ListUsersOutput
	if err := json.Unmarshal(r.Result, &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, u.UserName)
	}
	return names
}

// TestPluginCallsInAccounts: a request's account (beside its arguments,
// by alias or id, or in them) runs it there — through iam_call, iam_batch
// and the direct iam_call — and its audit line names the account and the
// role session; an account the plugin is not allowed is refused
// AccountNotAllowed before any call, with one audit line naming the
// account asked, and so is one the server does not reach.
func TestPluginCallsInAccounts(t *testing.T) {
	e, _ := newOrgEnv(t, gate.Options{}, hostileIn("dev"))
	for _, batch := range []bool{false, true} {
		rs := e.iamAnswers(t, batch,
			`{"op":"list_users","account":"dev"}`,
			`{"op":"list_users","account":"`+devID+`"}`,
			`{"op":"list_users","args":{"account":"dev"}}`,
		)
		for i, r := range rs {
			if got := strings.Join(userNames(t, r), ","); got != "deploy,dev-only" {
				t.Errorf("batch %v, request %d ran in the wrong account: users %s, want dev's deploy,dev-only", batch, i, got)
			}
		}
	}
	// The direct iam_call reads the same request.
	out := structured(t, e.call(t, "h_direct", `{"payload":"{\"op\":\"list_users\",\"account\":\"dev\"}"}`))
	var direct api.IAMResponse
	if err := json.Unmarshal([]byte(out["answer"].(string)), &direct); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(userNames(t, direct), ","); got != "deploy,dev-only" {
		t.Errorf("the direct iam_call ran in the wrong account: %v", got)
	}
	recs := e.auditRecords(t)
	if len(recs) != 7 {
		t.Fatalf("%d audit lines for 7 calls: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Account != devID || !strings.Contains(r.Session, ":assumed-role/") || r.Outcome != "ok" || r.Plugin != "hostile" {
			t.Errorf("audit line %+v: want account %s, its role session, ok", r, devID)
		}
	}

	// Not allowed: prod (reached by the server, not allowed this plugin),
	// the server's own account (which the list leaves out too), and an
	// account the server does not reach at all.
	for _, c := range []struct{ req, asked, says string }{
		{`{"op":"list_users","account":"prod"}`, "prod", "plugins file"},
		{`{"op":"list_users","args":{"account":"` + prodID + `"}}`, prodID, "plugins file"},
		{`{"op":"list_users"}`, "", "plugins file"},
		{`{"op":"list_users","account":"999999999999"}`, "999999999999", "get_account_info"},
	} {
		before := len(e.auditRecords(t))
		for _, batch := range []bool{false, true} {
			r := e.iamAnswers(t, batch, c.req)[0]
			if r.Error == nil || r.Error.Code != api.AccountNotAllowed || !strings.Contains(r.Error.Message, c.says) {
				t.Errorf("%s (batch %v): %+v; want AccountNotAllowed saying %q", c.req, batch, r, c.says)
			}
		}
		recs := e.auditRecords(t)[before:]
		if len(recs) != 2 {
			t.Fatalf("%s: %d audit lines for 2 refusals", c.req, len(recs))
		}
		for _, r := range recs {
			if r.Outcome != "refused" || r.Code != api.AccountNotAllowed || r.Session != "" {
				t.Errorf("%s: audit line %+v", c.req, r)
			}
			if c.asked != "" && r.Account != c.asked && !(c.asked == "prod" && r.Account == prodID) {
				t.Errorf("%s: the audit line names account %q, want the one asked (%s)", c.req, r.Account, c.asked)
			}
		}
	}

	// Two different accounts in one request are refused, not guessed.
	r := e.iamAnswers(t, false, `{"op":"list_users","account":"dev","args":{"account":"prod"}}`)[0]
	if r.Error == nil || r.Error.Code != api.InvalidInput {
		t.Errorf("two accounts in one request: %+v; want InvalidInput", r)
	}
}

// TestRuntimeRefusalsNameTheAccount: a request the runtime refuses itself
// (over max_iam_calls) is audited with the account it named.
func TestRuntimeRefusalsNameTheAccount(t *testing.T) {
	s := hostileIn()
	s.Limits.MaxIAMCalls = 1
	e, _ := newOrgEnv(t, gate.Options{}, s)
	rs := e.iamAnswers(t, false, `{"op":"list_users","account":"dev"}`, `{"op":"list_users","account":"prod"}`)
	if rs[0].Error != nil || rs[1].Error == nil || rs[1].Error.Code != api.LimitExceeded {
		t.Fatalf("answers %+v; want the first to run and the second LimitExceeded", rs)
	}
	recs := e.auditRecords(t)
	if len(recs) != 2 || recs[1].Code != api.LimitExceeded || recs[1].Account != "prod" {
		t.Errorf("audit %+v; want the refusal's line naming account prod", recs)
	}
}

// hostInfoOf calls host_info through the hostile plugin.
func (e *env) hostInfoOf(t *testing.T) api.HostInfo {
	t.Helper()
	out := structured(t, e.call(t, "h_raw", `{"fn":"host_info"}`))
	var info api.HostInfo
	if err := json.Unmarshal([]byte(out["answer"].(string)), &info); err != nil {
		t.Fatalf("host_info answer %q: %v", out["answer"], err)
	}
	return info
}

// TestHostInfoAccounts: host_info lists the accounts the plugin may act
// in, with their modes (read-only wins), only those the operator allowed
// it; none on a server of one account.
func TestHostInfoAccounts(t *testing.T) {
	e, _ := newOrgEnv(t, gate.Options{ReadOnly: true, Confirm: gate.ConfirmWrites}, hostileIn())
	info := e.hostInfoOf(t)
	var ids []string
	for _, a := range info.Accounts {
		ids = append(ids, a.ID)
		if !a.ReadOnly {
			t.Errorf("account %+v is not read-only on a read-only server", a)
		}
	}
	if strings.Join(ids, ",") != selfID+","+devID+","+prodID {
		t.Errorf("host_info lists %v; want the own account first, then dev and prod", ids)
	}
	if a := info.Accounts[0]; !a.Self || a.Confirm != "writes" || a.Via != "" {
		t.Errorf("own account %+v", a)
	}
	if a := info.Accounts[2]; a.Alias != "prod" || a.Self || a.Confirm != "destructive" || !strings.Contains(a.Via, prodID) {
		t.Errorf("prod %+v", a)
	}

	e, _ = newOrgEnv(t, gate.Options{}, hostileIn("prod", devID))
	info = e.hostInfoOf(t)
	if len(info.Accounts) != 2 || info.Accounts[0].ID != devID || info.Accounts[1].ID != prodID {
		t.Errorf("a plugin allowed dev and prod is told %+v", info.Accounts)
	}

	one := newEnv(t, gate.Options{}, hostileIn())
	if info := one.hostInfoOf(t); info.Accounts != nil {
		t.Errorf("one account: host_info lists %+v; want no accounts", info.Accounts)
	}
	b, _ := json.Marshal(one.hostInfoOf(t))
	if strings.Contains(string(b), `"accounts"`) {
		t.Errorf("one account: host_info's JSON %s has an accounts key", b)
	}
}

// TestLoadResolvesAccounts: the plugins file's accounts are resolved
// when the runtime loads: an alias or id the server reaches is allowed by
// id; anything else refuses to load, naming the plugin and the name and
// listing what exists.
func TestLoadResolvesAccounts(t *testing.T) {
	accts := newTwoAccounts(t)
	g, _, _ := sandboxGate(t, gate.Options{Accounts: accts})
	self := func(context.Context) (string, string, error) { return selfID, "aws", nil }
	h, err := Load(ctx, &Config{Plugins: []Spec{hostileIn("prod", selfID)}}, Options{Gate: g, CacheDir: cacheDir, Account: self})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if got := h.Plugins()[0].Accounts; strings.Join(got, ",") != selfID+","+prodID {
		t.Errorf("plugins list says it is allowed %v; want the own account and prod, by id", got)
	}
	_, err = Load(ctx, &Config{Plugins: []Spec{hostileIn("dev", "staging")}}, Options{Gate: g, CacheDir: cacheDir})
	if err == nil {
		t.Fatal("a plugin allowed an account the server does not reach loaded")
	}
	for _, want := range []string{"plugin hostile", `"staging"`, devID + " (dev)", prodID + " (prod)", selfID + " (the server's own)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// One account whose id the server learns from its credentials: the
	// id names it; any other is refused.
	one, _, _ := sandboxGate(t, gate.Options{})
	h, err = Load(ctx, &Config{Plugins: []Spec{hostileIn(selfID)}}, Options{Gate: one, CacheDir: cacheDir, Account: self})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if !h.plugins[0].allowed[selfID] {
		t.Errorf("allowed %v", h.plugins[0].allowed)
	}
	if _, err := Load(ctx, &Config{Plugins: []Spec{hostileIn(prodID)}}, Options{Gate: one, CacheDir: cacheDir, Account: self}); err == nil || !strings.Contains(err.Error(), "only its own account") {
		t.Errorf("one account, another named: %v", err)
	}
}

// TestConfigAccounts: the plugins file's accounts key is read strictly.
func TestConfigAccounts(t *testing.T) {
	head := "plugins:\n  - name: p\n    path: p.wasm\n    sha256: " + sha + "\n"
	cfg, err := LoadConfig(writeConfig(t, head+"    accounts: [prod, \"444444444444\", 012345678901]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Plugins[0].Accounts, ","); got != "prod,444444444444,012345678901" {
		t.Errorf("accounts %q; an id with a leading zero must keep it", got)
	}
	if cfg, err := LoadConfig(writeConfig(t, head)); err != nil || cfg.Plugins[0].Accounts != nil {
		t.Errorf("no accounts key: %v %v; want nil (every account)", err, cfg)
	}
	for body, want := range map[string]string{
		"    accounts: []\n":                                "list at least one",
		"    accounts:\n":                                   "list at least one",
		"    accounts:\n    # - prod\n":                     "list at least one",
		"    accounts: [\"\"]\n":                            "accounts[0] is empty",
		"    accounts: [prod, prod]\n":                      `"prod" twice`,
		"    accounts: [\"a b\"]\n":                         "is not an account id",
		"    accounts: [" + strings.Repeat("a", 65) + "]\n": "is not an account id",
		"    accounts: prod\n":                              "line 5",
		"    accounts: [[prod]]\n":                          "line 5",
		"    account: [prod]\n":                             `unknown key "account" (known: name, path, source, publisher, signed_by, sha256, prefix, grants, config, limits, accounts)`,
	} {
		_, err := LoadConfig(writeConfig(t, head+body))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "p") {
			t.Errorf("%q: %v; want an error saying %q", body, err, want)
		}
	}
	if err := (&Config{Plugins: []Spec{{Name: "p", Path: "p.wasm", SHA256: sha, Accounts: []string{}}}}).Validate(); err == nil || !strings.Contains(err.Error(), "list at least one") {
		t.Errorf("an empty list built in Go: %v", err)
	}
}

// TestConsentAccountAttack: a plan the person approved in dev lets
// nothing run in prod: the same call (operation and input) in another
// account is put to the person again, and their no refuses it; the
// approved one runs in dev, once.
func TestConsentAccountAttack(t *testing.T) {
	s := consentSpec()
	e, accts := newOrgEnv(t, gate.Options{}, s)
	p := answering(gate.Accept, gate.Decline)
	r, err := e.step(t, "consent_step", p, `{"summary":"remove dev's deploy user",
		"plan":[{"op":"delete_user","args":{"user_name":"deploy"},"account":"dev"}],
		"run":[{"op":"delete_user","args":{"user_name":"deploy"},"account":"prod"},
		       {"op":"delete_user","args":{"user_name":"deploy"},"account":"`+prodID+`"},
		       {"op":"delete_user","args":{"user_name":"deploy"},"account":"dev"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Approved || r.codes() != "Declined,Declined,ok" {
		t.Fatalf("runs %s (approved %v): the prod calls must be asked about and declined, the dev one run: %+v", r.codes(), r.Approved, r)
	}
	asked := p.asked()
	if len(asked) != 3 {
		t.Fatalf("questions %q; want the plan, then each prod call", asked)
	}
	for _, q := range p.questions[1:] {
		if q.Account.ID != prodID || q.Changes[0].Account.ID != prodID {
			t.Errorf("a question about a prod call names account %+v", q.Account)
		}
	}
	if q := p.questions[0]; q.Account.ID != devID {
		t.Errorf("the plan's question names account %+v; want dev", q.Account)
	}
	// prod still has its user (and dev's is gone).
	out, err := accts.runners[prodID].Run(ctx, "list_users", &api.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if users := out.(*api.ListUsersOutput).Users; len(users) != 2 {
		t.Errorf("prod's users %+v; its deploy user must still be there", users)
	}
	out, err = accts.runners[devID].Run(ctx, "list_users", &api.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if users := out.(*api.ListUsersOutput).Users; len(users) != 1 || users[0].UserName != "dev-only" {
		t.Errorf("dev's users %+v; the approved delete did not run", users)
	}
	for _, rec := range e.auditRecords(t) {
		if rec.Operation == "delete_user" && rec.Outcome == "ok" && (rec.Account != devID || rec.Consent == nil || rec.Consent.Via != ViaPluginPlan) {
			t.Errorf("the approved delete's audit line %+v", rec)
		}
	}
}

// TestApprovalKeyAccount: approvals of one change in two accounts differ;
// the server's own account matches itself whether its id is known or not.
func TestApprovalKeyAccount(t *testing.T) {
	in := &api.DeleteUserInput{UserName: "x"}
	key := func(a gate.Account) [32]byte {
		k, ok := approvalKey(gate.Proposed{Operation: "delete_user", Account: a, Input: in})
		if !ok {
			t.Fatal("no key")
		}
		return k
	}
	if key(gate.Account{ID: devID}) == key(gate.Account{ID: prodID}) {
		t.Error("one approval key for dev and prod")
	}
	if key(gate.Account{ID: devID}) == key(gate.Account{Self: true}) {
		t.Error("one approval key for dev and the own account")
	}
	if key(gate.Account{Self: true}) != key(gate.Account{Self: true, ID: selfID}) {
		t.Error("the own account's key depends on whether its id is known")
	}
}

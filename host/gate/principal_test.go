package gate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestPrincipalNarrows: a principal in the context narrows every call made
// with it — read-only refuses mutations (a dry run still plans), its
// accounts refuse the others before any AWS call — and never widens: a
// read-only account stays read-only for a principal that may write, and
// every audit line names the subject, refusals included.
func TestPrincipalNarrows(t *testing.T) {
	g, log, _, audit := org(t, Options{Confirm: ConfirmNone})
	alice := &Principal{Subject: "alice", Via: "token", ReadOnly: true, ReadOnlyWhy: "the operator's rule for subject \"alice\"",
		Accounts: map[string]bool{ownID: true, devID: true}, AccountsWhy: "this request's X-MCP-Accounts header"}
	actx := WithPrincipal(ctx, alice)

	if _, err := g.Call(actx, cli, "list_users", nil); err != nil {
		t.Fatal(err)
	}
	_, err := g.Call(actx, cli, "create_user", json.RawMessage(`{"user_name":"bob"}`))
	if code(err) != api.ReadOnly || !strings.Contains(err.Error(), `subject "alice"`) || !strings.Contains(err.Error(), "the operator's rule") {
		t.Fatalf("read-only principal's write: %v", err)
	}
	if _, err := g.CallIn(actx, cli, "acme-dev", "create_user", json.RawMessage(`{"user_name":"bob"}`)); code(err) != api.ReadOnly {
		t.Fatalf("read-only principal's write in dev: %v", err)
	}
	out, err := g.Call(actx, cli, "create_user", json.RawMessage(`{"user_name":"bob","dry_run":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if msg := out.(*api.DryRunOutput).Message; !strings.Contains(msg, "you may only read") {
		t.Fatalf("dry run message: %s", msg)
	}
	for _, acct := range []string{"acme-prod", prodID} {
		_, err := g.CallIn(actx, cli, acct, "list_users", nil)
		if code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), "X-MCP-Accounts") {
			t.Fatalf("principal in %s: %v", acct, err)
		}
	}
	if got := takeLog(log); got != ownID+" list_users; "+ownID+" plan create_user" {
		t.Fatalf("ran: %s", got)
	}
	recs := records(t, audit)
	if len(recs) != 6 {
		t.Fatalf("audit %+v", recs)
	}
	for _, r := range recs {
		if r.Subject != "alice" || r.Auth != "token" {
			t.Fatalf("audit line without its subject: %+v", r)
		}
	}
	if recs[1].Outcome != "refused" || recs[4].Account != prodID || recs[4].Code != api.AccountNotAllowed {
		t.Fatalf("audit %+v", recs)
	}

	// A principal that may write: the account's own read-only still wins,
	// and the server's decides as without a principal.
	bob := WithPrincipal(ctx, &Principal{Subject: "bob", Via: "oauth"})
	if _, err := g.CallIn(bob, cli, "acme-prod", "create_user", json.RawMessage(`{"user_name":"x"}`)); code(err) != api.ReadOnly || strings.Contains(err.Error(), "bob") {
		t.Fatalf("bob in read-only prod: %v", err)
	}
	if _, err := g.Call(bob, cli, "create_user", json.RawMessage(`{"user_name":"x"}`)); err != nil {
		t.Fatal(err)
	}
	recs = records(t, audit)
	if len(recs) != 2 || recs[0].Subject != "bob" || recs[0].Auth != "oauth" || recs[1].Outcome != "ok" {
		t.Fatalf("audit %+v", recs)
	}

	// Without a principal (stdio, the command line): no subject.
	if _, err := g.Call(ctx, cli, "list_users", nil); err != nil {
		t.Fatal(err)
	}
	if recs := records(t, audit); recs[0].Subject != "" || recs[0].Auth != "" {
		t.Fatalf("audit %+v", recs)
	}
}

// TestPrincipalWithPluginAndRuntimeRefusals: a plugin's calls made for a
// principal are narrowed by both the plugin's accounts and the
// principal's; the runtime's own refusals and host_info name the subject.
func TestPrincipalWithPluginAndRuntimeRefusals(t *testing.T) {
	g, log, _, audit := org(t, Options{Confirm: ConfirmNone})
	p := Caller{Kind: Plugin, Plugin: "reviewer", Tool: "reviewer_run", Grants: map[string]bool{"list_users": true, "create_user": true},
		Accounts: map[string]bool{devID: true, prodID: true}}
	pctx := WithPrincipal(ctx, &Principal{Subject: "carol", Via: "oauth", Accounts: map[string]bool{devID: true}, AccountsWhy: "the operator's default rule"})
	if _, err := g.CallIn(pctx, p, "acme-dev", "list_users", nil); err != nil {
		t.Fatal(err)
	}
	// prod: the plugin may, carol may not.
	if _, err := g.CallIn(pctx, p, "acme-prod", "list_users", nil); code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), `subject "carol"`) {
		t.Fatalf("carol's plugin in prod: %v", err)
	}
	// own: carol may not, nor the plugin; the plugin's refusal is said first.
	if _, err := g.CallIn(pctx, p, "", "list_users", nil); code(err) != api.AccountNotAllowed || !strings.Contains(err.Error(), "plugin reviewer") {
		t.Fatalf("carol's plugin in own: %v", err)
	}
	g.RefusedIn(pctx, p, "acme-dev", "list_users", nil, api.Errorf(api.LimitExceeded, "over"))
	if err := g.Info(pctx, p); err != nil {
		t.Fatal(err)
	}
	if got := takeLog(log); got != devID+" list_users" {
		t.Fatalf("ran: %s", got)
	}
	recs := records(t, audit)
	if len(recs) != 5 {
		t.Fatalf("audit %+v", recs)
	}
	for _, r := range recs {
		if r.Subject != "carol" || r.Plugin != "reviewer" {
			t.Fatalf("audit line %+v", r)
		}
	}
}

// TestPrincipalSubjectBounded: a subject from outside is cut in the audit
// line and quoted safely in a refusal.
func TestPrincipalSubjectBounded(t *testing.T) {
	g, _, _, audit := org(t, Options{})
	long := strings.Repeat("é", 1000) + "\x1b[2J\""
	pctx := WithPrincipal(ctx, &Principal{Subject: long, Via: "oauth", ReadOnly: true, ReadOnlyWhy: "x"})
	_, err := g.Call(pctx, cli, "create_user", json.RawMessage(`{"user_name":"bob"}`))
	if code(err) != api.ReadOnly || strings.Contains(err.Error(), "\x1b") || len(err.Error()) > 600 {
		t.Fatalf("refusal: %q", err)
	}
	recs := records(t, audit)
	if n := len([]rune(recs[0].Subject)); n > maxSubject+1 {
		t.Fatalf("subject of %d characters recorded", n)
	}
}

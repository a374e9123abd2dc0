package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// The accounts of --accounts and of the sandbox's organisation, through
// the command line: the real registry (host/accounts) assuming roles in
// the embedded sandbox's organisation, over the real AWS SDK.

// orgAccountsFile writes an accounts file reaching dev read-write and prod
// read-only through the role every member of the sandbox's organisation
// has.
func orgAccountsFile(t *testing.T) string {
	t.Helper()
	role := func(id string) string { return "arn:aws:iam::" + id + ":role/" + sandbox.OrgAccessRoleName }
	path := filepath.Join(t.TempDir(), "accounts.yaml")
	data := "accounts:\n" +
		"  - id: \"" + sandbox.OrgDevID + "\"\n    alias: dev\n    role_arn: " + role(sandbox.OrgDevID) + "\n    mode: read-write\n    confirm: none\n" +
		"  - id: \"" + sandbox.OrgProdID + "\"\n    alias: prod\n    role_arn: " + role(sandbox.OrgProdID) + "\n    mode: read-only\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// userNames runs list_users with args and returns the names it lists.
func userNames(t *testing.T, args string, flags ...string) []string {
	t.Helper()
	r := cli(t, "", append([]string{"call", "list_users", "--args", args}, flags...)...)
	if r.code != 0 {
		t.Fatalf("list_users %s: exit %d\n%s", args, r.code, r.stderr)
	}
	var out struct {
		Users []struct {
			UserName string `json:"user_name"`
			Arn      string `json:"arn"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("list_users %s: %v\n%s", args, err, r.stdout)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, u.UserName+" "+u.Arn)
	}
	return names
}

// TestCallInAnotherAccount: call with an account argument lands in that
// account (its users, their ARNs in its id), by the file's alias or by
// discovery on the sandbox's organisation with no file at all.
func TestCallInAnotherAccount(t *testing.T) {
	file := orgAccountsFile(t)
	for _, c := range []struct {
		name  string
		flags []string
		dev   string // how dev is named
	}{
		{"accounts file", []string{"--sandbox", "--sandbox-seed", "org", "--accounts", file}, "dev"},
		{"discovery", []string{"--sandbox", "--sandbox-seed", "org"}, "acme-dev"},
	} {
		t.Run(c.name, func(t *testing.T) {
			own := userNames(t, `{}`, c.flags...)
			dev := userNames(t, `{"account":"`+c.dev+`"}`, c.flags...)
			byID := userNames(t, `{"account":"`+sandbox.OrgDevID+`"}`, c.flags...)
			if strings.Join(dev, ",") != strings.Join(byID, ",") || len(dev) == 0 {
				t.Fatalf("dev by alias %v, by id %v", dev, byID)
			}
			for _, u := range dev {
				if !strings.Contains(u, ":"+sandbox.OrgDevID+":") {
					t.Fatalf("a user of dev outside dev: %s", u)
				}
			}
			for _, u := range own {
				if !strings.Contains(u, ":"+sandbox.OrgManagementID+":") {
					t.Fatalf("a user of the server's own account outside it: %s", u)
				}
			}
		})
	}
}

// TestAccountsFileRefused: a bad accounts file stops the command, naming
// the key; an account the server does not reach is refused by name.
func TestAccountsFileRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "accounts.yaml")
	if err := os.WriteFile(bad, []byte("accounts:\n  - id: \"333333333333\"\n    role_arn: arn:aws:iam::333333333333:role/R\n    mdoe: read-write\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "", "call", "list_users", "--sandbox", "--sandbox-seed", "org", "--accounts", bad)
	if r.code == 0 || !strings.Contains(r.stderr, "mdoe") || !strings.Contains(r.stderr, "--accounts") {
		t.Fatalf("a misspelt key: exit %d\n%s", r.code, r.stderr)
	}
	usageFails(t, "--accounts needs a path", "call", "list_users", "--sandbox", "--accounts", "")

	file := orgAccountsFile(t)
	r = cli(t, "", "call", "list_users", "--sandbox", "--sandbox-seed", "org", "--accounts", file, "--args", `{"account":"acme-shared"}`)
	if r.code != 1 || !strings.Contains(r.stderr, "AccountNotAllowed") || !strings.Contains(r.stderr, `"acme-shared"`) || !strings.Contains(r.stderr, "dev (333333333333)") {
		t.Fatalf("an account the file does not list: exit %d\n%s", r.code, r.stderr)
	}
	// Without accounts, the sandbox's one account reaches no other.
	r = cli(t, "", "call", "list_users", "--sandbox", "--args", `{"account":"`+sandbox.OrgDevID+`"}`)
	if r.code != 1 || !strings.Contains(r.stderr, "AccountNotAllowed") {
		t.Fatalf("another account on a server of one: exit %d\n%s", r.code, r.stderr)
	}
}

// TestReadOnlyAccount: with --allow-write, the server's own account and
// a read-write account take a change while a read-only account refuses
// it; the audit lines name the account and, in another, the role session.
func TestReadOnlyAccount(t *testing.T) {
	file := orgAccountsFile(t)
	audit := filepath.Join(t.TempDir(), "audit.log")
	common := []string{"--sandbox", "--sandbox-seed", "org", "--accounts", file, "--allow-write", "--yes", "--audit-log", audit}
	create := func(account string) result {
		args := `{"user_name":"new.user"}`
		if account != "" {
			args = `{"user_name":"new.user","account":"` + account + `"}`
		}
		return cli(t, "", append([]string{"call", "create_user", "--args", args}, common...)...)
	}
	if r := create(""); r.code != 0 || !strings.Contains(r.stdout, ":"+sandbox.OrgManagementID+":user/new.user") {
		t.Fatalf("own account: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := create("dev"); r.code != 0 || !strings.Contains(r.stdout, ":"+sandbox.OrgDevID+":user/new.user") {
		t.Fatalf("dev: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := create("prod"); r.code != 1 || !strings.Contains(r.stderr, "ReadOnly") || !strings.Contains(r.stderr, "prod (444444444444)") {
		t.Fatalf("prod: exit %d\n%s", r.code, r.stderr)
	}
	// Read-only wins: without --allow-write, dev is read-only too.
	r := cli(t, "", "call", "create_user", "--sandbox", "--sandbox-seed", "org", "--accounts", file, "--args", `{"user_name":"x","account":"dev"}`)
	if r.code != 1 || !strings.Contains(r.stderr, "ReadOnly") {
		t.Fatalf("dev on a read-only server: exit %d\n%s", r.code, r.stderr)
	}

	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d audit lines:\n%s", len(lines), data)
	}
	var recs []gate.Record
	for _, l := range lines {
		var rec gate.Record
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if r := recs[0]; r.Outcome != "ok" || r.Account != sandbox.OrgManagementID || r.Session != "" {
		t.Fatalf("own account's line: %s", lines[0])
	}
	if r := recs[1]; r.Outcome != "ok" || r.Account != sandbox.OrgDevID ||
		!strings.HasPrefix(r.Session, "arn:aws:sts::"+sandbox.OrgDevID+":assumed-role/"+sandbox.OrgAccessRoleName+"/") {
		t.Fatalf("dev's line: %s", lines[1])
	}
	if r := recs[2]; r.Outcome != "refused" || r.Code != "ReadOnly" || r.Account != sandbox.OrgProdID {
		t.Fatalf("prod's line: %s", lines[2])
	}
}

// TestPolicyWithAccounts: the policy says what reaching the accounts of
// the file takes: each role named, and discovery's list and role.
func TestPolicyWithAccounts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "accounts.yaml")
	if err := os.WriteFile(file, []byte("accounts:\n  - id: \"333333333333\"\n    role_arn: arn:aws:iam::333333333333:role/Access\n  - id: \"444444444444\"\n    profile: prod\ndiscovery:\n  role_name: OrgAccess\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "", "policy", "--accounts", file)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var p iamPolicy
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Statement[1:] {
		got = append(got, strings.Join(s.Action, ",")+" "+s.Resource)
	}
	want := "sts:AssumeRole arn:aws:iam::333333333333:role/Access; organizations:ListAccounts *; sts:AssumeRole arn:aws:iam::*:role/OrgAccess"
	if strings.Join(got, "; ") != want || p.Statement[0].Resource != "*" {
		t.Fatalf("statements after the first: %v", got)
	}
	if r := cli(t, "", "policy", "--accounts", filepath.Join(t.TempDir(), "missing.yaml")); r.code != 1 || !strings.Contains(r.stderr, "--accounts") {
		t.Fatalf("a missing file: exit %d\n%s", r.code, r.stderr)
	}
}

// TestServeAccounts: over MCP, on the sandbox's organisation, the tools
// take the account argument, a call lands in the account it names, and
// get_account_info lists the accounts reached.
func TestServeAccounts(t *testing.T) {
	s := startServe(t, mcp.ProtocolVersion20251125, "--sandbox", "--sandbox-seed", "org", "--toolsets", "all")
	tools, err := s.ListTools(s.ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools.Tools {
		if tl.Name != "list_users" {
			continue
		}
		if _, ok := tl.InputSchema.Properties["account"]; !ok {
			t.Fatalf("list_users takes no account: %+v", tl.InputSchema)
		}
	}
	call := func(name string, args map[string]any) string {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		out, err := s.CallTool(s.ctx, req)
		if err != nil || out.IsError {
			t.Fatalf("%s %v: %v %+v", name, args, err, out)
		}
		b, _ := json.Marshal(out.StructuredContent)
		return string(b)
	}
	if got := call("list_users", map[string]any{"account": "acme-prod"}); !strings.Contains(got, ":"+sandbox.OrgProdID+":user/") || strings.Contains(got, ":"+sandbox.OrgManagementID+":") {
		t.Fatalf("list_users in acme-prod: %s", got)
	}
	info := call("get_account_info", nil)
	for _, id := range []string{sandbox.OrgManagementID, sandbox.OrgSharedID, sandbox.OrgDevID, sandbox.OrgProdID} {
		if !strings.Contains(info, `"id":"`+id+`"`) {
			t.Fatalf("get_account_info lacks %s: %s", id, info)
		}
	}
	s.stop(t)
}

// TestPluginsListAccounts: plugins list says which accounts a plugin is
// restricted to, by id, resolved from the aliases the plugins file names.
func TestPluginsListAccounts(t *testing.T) {
	flags := withHello(t)
	file := flags[1]
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(b, "    accounts: [acme-dev]\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	r := cli(t, "", append([]string{"plugins", "list", "--sandbox", "--sandbox-seed", "org"}, flags...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "accounts:    "+sandbox.OrgDevID+" (only these") {
		t.Errorf("plugins list of a plugin restricted to acme-dev: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "", append([]string{"plugins", "list", "--sandbox", "--sandbox-seed", "org"}, withHello(t)...)...)
	if r.code != 0 || strings.Contains(r.stdout, "accounts:") {
		t.Errorf("plugins list of a plugin of every account: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

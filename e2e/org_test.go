package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/plugins/access-review/review"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The sandbox's organisation (--sandbox-seed org) over MCP, as an operator
// tries it with no setup: the server reaches the three member accounts by
// discovery, every tool takes an account, the allowlist and each account's
// mode are the gate's, the audit names the account and the role session,
// and the shipped access review over every account finds each planted
// problem and none that an SCP blocks.

// sessionOf is the role session the server opens in a member account for
// a tool: discovery reaches members through the organisation's access role.
func sessionOf(account, tool string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + sandbox.OrgAccessRoleName + "/iam-mcp." + tool
}

func TestOrganisation(t *testing.T) {
	t.Parallel()
	audit := filepath.Join(t.TempDir(), "audit.log")
	s, _ := startPlugins(t, shippedPlugins, "--sandbox-seed", "org", "--audit-log", audit, "--toolsets", "all")

	info := ok[api.AccountInfoOutput](s, "get_account_info", nil)
	aliases := map[string]string{}
	for _, a := range info.Accounts {
		aliases[a.ID] = a.Alias
		if !a.ReadOnly {
			t.Errorf("account %s is writable on a server without --allow-write", a.ID)
		}
	}
	if info.AccountID != sandbox.OrgManagementID || len(info.Accounts) != 4 || !info.Accounts[0].Self ||
		aliases[sandbox.OrgDevID] != "acme-dev" || aliases[sandbox.OrgProdID] != "acme-prod" || aliases[sandbox.OrgSharedID] != "acme-shared" {
		t.Fatalf("get_account_info: %+v", info)
	}

	org := ok[api.OrganizationOutput](s, "describe_organization", nil)
	if org.ManagementAccountID != sandbox.OrgManagementID || len(org.Accounts) != 4 || !org.SCPsEnabled || len(org.Policies) < 2 {
		t.Errorf("describe_organization: %d accounts, SCPs enabled %v, %d SCPs", len(org.Accounts), org.SCPsEnabled, len(org.Policies))
	}
	fails(s, "describe_organization", map[string]any{"account": "acme-dev"}, api.AccessDenied)

	// Each account is its own: dev's users are not prod's, by alias or id.
	names := func(account string) []string {
		args := map[string]any{}
		if account != "" {
			args["account"] = account
		}
		var out []string
		for _, u := range ok[api.ListUsersOutput](s, "list_users", args).Users {
			out = append(out, u.UserName)
		}
		return out
	}
	dev, prod := names("acme-dev"), names(sandbox.OrgProdID)
	if !has(dev, "dev-ci") || !has(dev, "dev-engineer") || has(prod, "dev-ci") || has(names(""), "dev-ci") {
		t.Errorf("users: dev %v, prod %v", dev, prod)
	}
	// Refused by the gate before any call: an account not reached, a write
	// on a read-only server, an account on a tool that calls no account.
	msg := fails(s, "list_users", map[string]any{"account": "999999999999"}, api.AccountNotAllowed)
	if !strings.Contains(msg, "acme-dev") || !strings.Contains(msg, "get_account_info") {
		t.Errorf("AccountNotAllowed does not say what exists: %s", msg)
	}
	fails(s, "create_user", map[string]any{"account": "acme-dev", "user_name": "mallory"}, api.ReadOnly)
	fails(s, "validate_policy", map[string]any{"account": "acme-dev", "policy_document": `{"Version":"2012-10-17","Statement":[]}`}, api.InvalidInput)

	// The review of the whole organisation, from the shipped plugin.
	ctx, cancel := ctxT()
	defer cancel()
	res, err := s.cs.CallTool(ctx, &mcp.CallToolParams{Name: "access_review", Arguments: map[string]any{"accounts": []string{"*"}, "min_severity": "info"}})
	if err != nil || res.IsError {
		t.Fatalf("access_review over the organisation: %v %s", err, resultText(res))
	}
	var rep review.Report
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	checkOrgReview(t, &rep)
	if text := resultText(res); !strings.Contains(text, "Across accounts") || !strings.Contains(text, "prod-admin") {
		t.Errorf("the Markdown report has no cross-account part: %.400s", text)
	}

	// The audit log: every call in a member names the account and its
	// role session, named for the tool; the review's calls too.
	var listDev, reviewProd bool
	for _, r := range auditRecords(t, audit) {
		switch {
		case r.Operation == "list_users" && r.Account == sandbox.OrgDevID:
			listDev = r.Session == sessionOf(sandbox.OrgDevID, "list_users") && r.Outcome == "ok"
		case r.Tool == "access_review" && r.Account == sandbox.OrgProdID:
			reviewProd = reviewProd || r.Session == sessionOf(sandbox.OrgProdID, "access_review")
		case r.Code == api.AccountNotAllowed:
			// Refused before any call: the line names the account asked,
			// and no session.
			if r.Outcome != "refused" || r.Account != "999999999999" || r.Session != "" {
				t.Errorf("the refusal of an account not reached: %+v", r)
			}
		}
	}
	if !listDev || !reviewProd {
		t.Errorf("audit: list_users in dev with its session %v, the review in prod with its session %v", listDev, reviewProd)
	}
}

// checkOrgReview: the planted problems of the org seed, found by the
// review over MCP (review's own tests check the same natively).
func checkOrgReview(t *testing.T, rep *review.Report) {
	t.Helper()
	if rep.Organization == nil || !rep.Organization.SCPsEnabled || len(rep.Accounts) != 4 {
		t.Fatalf("organisation %+v, %d accounts", rep.Organization, len(rep.Accounts))
	}
	find := func(fs []review.Finding, rule, principal string) *review.Finding {
		for i := range fs {
			if fs[i].RuleID == rule && strings.HasSuffix(fs[i].Principal, "/"+principal) {
				return &fs[i]
			}
		}
		return nil
	}
	// (a) prod's dev-deploy trusts all of dev: dev-ci reaches it, dev-reader
	// does not.
	if f := find(rep.Findings, review.RuleXAccountAssume, "dev-deploy"); f == nil || !strings.Contains(f.Message, "dev-ci") || strings.Contains(f.Message, "dev-reader") {
		t.Errorf("dev-deploy trusted by dev: %+v", f)
	}
	// (b) the chain dev → shared → prod ending in an administrator.
	chain := find(rep.Findings, review.RuleXAccountAdmin, "dev-engineer")
	if chain == nil || chain.Status != review.StatusConfirmed || !strings.Contains(chain.Message, "shared-tooling") || !strings.Contains(chain.Message, "prod-admin") {
		t.Errorf("chain dev-engineer → shared-tooling → prod-admin: %+v", chain)
	}
	// (c) the same escalation in shared and dev: confirmed where no SCP
	// stops it, and not reported where DenyIAMPolicyRewrites does.
	for _, a := range rep.Accounts {
		switch a.AccountID {
		case sandbox.OrgSharedID:
			if find(a.Findings, review.RuleEscalationConfirmed, "shared-intern") == nil {
				t.Error("shared-intern's escalation is not confirmed")
			}
		case sandbox.OrgDevID:
			for _, rule := range []string{review.RuleEscalationConfirmed, review.RuleEscalationPotential} {
				if f := find(a.Findings, rule, "dev-intern"); f != nil {
					t.Errorf("dev-intern's escalation, which an SCP blocks, is reported: %+v", f)
				}
			}
			blocked := false
			for _, b := range a.BlockedBySCP {
				blocked = blocked || strings.HasSuffix(b.Principal, "/dev-intern") && strings.Contains(b.By, "DenyIAMPolicyRewrites")
			}
			if !blocked {
				t.Errorf("dev-intern is not listed as blocked by DenyIAMPolicyRewrites: %+v", a.BlockedBySCP)
			}
		}
		if a.Header.IAMCalls >= 10 {
			t.Errorf("account %s: %d IAM calls, want under 10", a.AccountID, a.Header.IAMCalls)
		}
	}
}

// TestAccountsFileModes: an operator's accounts file over MCP — prod
// read-only, dev writable — on a writable server: a change lands in dev,
// the same change in prod is refused by the gate, and the server's own
// account keeps the server's mode.
func TestAccountsFileModes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "accounts.yaml")
	role := func(id string) string { return "arn:aws:iam::" + id + ":role/" + sandbox.OrgAccessRoleName }
	if err := os.WriteFile(file, []byte(`accounts:
  - id: "`+sandbox.OrgDevID+`"
    alias: dev
    role_arn: `+role(sandbox.OrgDevID)+`
    mode: read-write
  - id: "`+sandbox.OrgProdID+`"
    alias: prod
    role_arn: `+role(sandbox.OrgProdID)+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startWritable(t, "--sandbox-seed", "org", "--accounts", file)
	ok[api.UserOutput](s, "create_user", map[string]any{"account": "dev", "user_name": "e2e-dev"})
	fails(s, "create_user", map[string]any{"account": "prod", "user_name": "e2e-prod"}, api.ReadOnly)
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "e2e-own"})
	// shared is in the organisation but not in the file.
	fails(s, "list_users", map[string]any{"account": sandbox.OrgSharedID}, api.AccountNotAllowed)
	// A dry run plans in the account named, on a read-only account too.
	dry := ok[api.DryRunOutput](s, "delete_user", map[string]any{"account": "prod", "user_name": "prod-oncall", "force": true, "dry_run": true})
	if !dry.DryRun || len(dry.Plan.Steps) == 0 {
		t.Errorf("dry run in prod: %+v", dry)
	}
}

// auditRecords reads an audit log's lines.
func auditRecords(t *testing.T, path string) []gate.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []gate.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r gate.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

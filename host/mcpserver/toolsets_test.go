package mcpserver_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

func names(tools []catalogue.Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name
	}
	return out
}

func TestResolveToolsets(t *testing.T) {
	all := catalogue.Tools()
	count := func(keep func(catalogue.Tool) bool) int {
		n := 0
		for _, op := range all {
			if keep(op) {
				n++
			}
		}
		return n
	}
	defaults := count(func(op catalogue.Tool) bool { return op.Default })
	users := count(func(op catalogue.Tool) bool { return op.Toolset == catalogue.ToolsetUsers })
	creds := count(func(op catalogue.Tool) bool { return op.Toolset == catalogue.ToolsetCredentials })
	defaultOrCreds := count(func(op catalogue.Tool) bool { return op.Default || op.Toolset == catalogue.ToolsetCredentials })
	for _, c := range []struct {
		spec string
		want int
	}{
		{"", defaults},
		{"default", defaults},
		{"all", len(all)},
		{"all,default,users", len(all)},
		{"users", users},
		{" Users , credentials ,", users + creds},
		{"default,credentials", defaultOrCreds},
		{"credentials,default,credentials", defaultOrCreds},
	} {
		ops, err := mcpserver.ResolveToolsets(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if len(ops) != c.want {
			t.Errorf("%q: %d operations, want %d", c.spec, len(ops), c.want)
		}
		// Catalogue order, no duplicates.
		rank := map[string]int{}
		for i, op := range all {
			rank[op.Name] = i
		}
		for i := 1; i < len(ops); i++ {
			if rank[ops[i-1].Name] >= rank[ops[i].Name] {
				t.Errorf("%q: %s before %s: not in catalogue order, or listed twice", c.spec, ops[i-1].Name, ops[i].Name)
			}
		}
	}
	if defaults != 35 {
		t.Errorf("the default toolset has %d operations, want 35 (the AWS Labs server's 29, get_role, get_policy, list_access_keys, get_account_info, validate_policy, simulate_custom_policy)", defaults)
	}
	for _, bad := range []string{"user", "default,bogus", "ALL;users", ","} {
		_, err := mcpserver.ResolveToolsets(bad)
		if err == nil {
			t.Errorf("%q: accepted", bad)
			continue
		}
		for _, ts := range catalogue.Toolsets() {
			if !strings.Contains(err.Error(), string(ts)) {
				t.Errorf("%q: the error does not list toolset %s: %v", bad, ts, err)
			}
		}
	}
}

func TestTitle(t *testing.T) {
	for in, want := range map[string]string{
		"list_users":       "List users",
		"list_mfa_devices": "List MFA devices",
		"get_account_info": "Get account info",
	} {
		if got := mcpserver.Title(in); got != want {
			t.Errorf("Title(%q) = %q, want %q", in, got, want)
		}
	}
}

func ExampleResolveToolsets() {
	ops, err := mcpserver.ResolveToolsets("simulation,account")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(names(ops), " "))
	_, err = mcpserver.ResolveToolsets("sers")
	fmt.Println(err)
	// Output:
	// simulate_principal_policy get_account_authorization_details get_account_password_policy get_account_summary generate_service_last_accessed_details get_service_last_accessed_details list_entities_for_policy get_policy_version get_account_info describe_organization
	// unknown toolset "sers"; use "default", "all", or a comma-separated list of: users, groups, roles, policies, inline, credentials, simulation, policy, account (which may include default)
}

// TestToolFilterRefusesShellNegation: path.Match reads [!u] as "! or u",
// so a shell user's list_[!u]* would pick the very tool meant to be left
// out; every caller of ParseToolFilter gets the refusal.
func TestToolFilterRefusesShellNegation(t *testing.T) {
	for _, inc := range [][2]string{{"list_[!u]*", ""}, {"", "get_[!r]*"}} {
		if _, err := mcpserver.ParseToolFilter(inc[0], inc[1]); err == nil || !strings.Contains(err.Error(), "[^…]") {
			t.Errorf("%q %q: %v", inc[0], inc[1], err)
		}
	}
	if f, err := mcpserver.ParseToolFilter("list_[^u]*", ""); err != nil || f.Shows("list_users") || !f.Shows("list_roles") {
		t.Errorf("[^u]: %v", err)
	}
}

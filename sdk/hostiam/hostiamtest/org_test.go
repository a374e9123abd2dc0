package hostiamtest_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest/testdata/orgusers/workflow"
)

// TestOrganisation: with Seed "org" the host reaches the organisation's
// four accounts, the management account (its own) first, as Info says; a
// request naming an account (hostiam.In, Request.Account) runs there,
// through a role session the audit record names.
func TestOrganisation(t *testing.T) {
	t.Parallel()
	rec := &hostiamtest.Recorder{}
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "org", Plugin: "orgusers", Grants: workflow.Operations, Recorder: rec})
	res, err := workflow.Run(h, workflow.Input{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{sandbox.OrgManagementID, sandbox.OrgSharedID, sandbox.OrgDevID, sandbox.OrgProdID}
	if got := slices.Clone(res.Reachable); len(got) != 4 || got[0] != sandbox.OrgManagementID {
		t.Fatalf("Info lists %v; want the management account first, then the members", got)
	} else if slices.Sort(got); !reflect.DeepEqual(got, want) {
		t.Fatalf("Info lists %v; want %v", res.Reachable, want)
	}
	users := map[string][]string{}
	for _, a := range res.Accounts {
		if a.Code != "" {
			t.Fatalf("list_users in %s: %s", a.Account, a.Code)
		}
		users[a.Account] = a.Users
	}
	if !slices.Contains(users[sandbox.OrgManagementID], sandbox.OrgOperatorUser) || !slices.Contains(users[sandbox.OrgDevID], "dev-ci") ||
		slices.Contains(users[sandbox.OrgProdID], "dev-ci") {
		t.Errorf("each account's users: %v", users)
	}
	// hostiam.In: the same call, in dev.
	var out api.ListUsersOutput
	if err := hostiam.In(h, sandbox.OrgDevID).Call("list_users", api.ListUsersInput{}, &out); err != nil || len(out.Users) != len(users[sandbox.OrgDevID]) {
		t.Errorf("list_users in dev through hostiam.In: %v, %d users", err, len(out.Users))
	}
	for _, r := range rec.Records() {
		if r.Account == "" || (r.Account != sandbox.OrgManagementID && !strings.Contains(r.Session, ":assumed-role/"+sandbox.OrgAccessRoleName+"/")) {
			t.Errorf("audit record %+v: a call in a member names its account and role session", r)
		}
	}
}

// TestOrganisationAllowlist: Options.Accounts restricts the plugin as the
// plugins file's accounts key does, natively and as Wasm, with the same
// answer: Info lists the allowed accounts only, and a call in another is
// AccountNotAllowed.
func TestOrganisationAllowlist(t *testing.T) {
	t.Parallel()
	allowed := []string{sandbox.OrgProdID, sandbox.OrgDevID}
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "org", Plugin: "orgusers", Grants: workflow.Operations, Accounts: allowed})
	in := workflow.Input{Accounts: []string{sandbox.OrgDevID, sandbox.OrgSharedID, ""}}
	native, err := workflow.Run(h, in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(native.Reachable, []string{sandbox.OrgDevID, sandbox.OrgProdID}) {
		t.Errorf("Info lists %v; want only dev and prod", native.Reachable)
	}
	codes := []string{}
	for _, a := range native.Accounts {
		codes = append(codes, a.Code)
	}
	if !reflect.DeepEqual(codes, []string{"", string(api.AccountNotAllowed), string(api.AccountNotAllowed)}) {
		t.Errorf("dev, shared, the own account: codes %q; want dev to run and the others refused", codes)
	}

	path, sum := hostiamtest.BuildWasm(t, "testdata/orgusers")
	rt := hostiamtest.LoadWasm(t, h.Sandbox, plugin.Spec{Name: "orgusers", Path: path, SHA256: sum, Grants: workflow.Operations, Accounts: allowed}, hostiamtest.WasmOptions{})
	var wasm workflow.Result
	if _, err := hostiamtest.CallTool(t, rt, "orgusers_users", in, &wasm); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(wasm, native) {
		t.Errorf("as Wasm %+v\nnatively %+v", wasm, native)
	}
}

//go:build !wasip1

// The test kit runs the real server, which does not build for wasip1.

package hostiam_test

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// In runs Call and Batch in its account, through the real gate on the
// sandbox's organisation; a request that names its own account keeps it,
// and "" is the Client itself.
func TestInRunsInTheAccount(t *testing.T) {
	h := hostiamtest.New(t, hostiamtest.Options{Seed: "org", Plugin: "t", Grants: []string{"list_users"}, ReadOnly: true})
	users := func(c hostiam.Client) string {
		var out api.ListUsersOutput
		if err := c.Call("list_users", api.ListUsersInput{}, &out); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range out.Users {
			names = append(names, u.UserName)
		}
		return strings.Join(names, ",")
	}
	dev := hostiam.In(h, "acme-dev")
	if got := users(dev); !strings.Contains(got, "dev-ci") || strings.Contains(got, "iam-mcp-operator") {
		t.Errorf("users in acme-dev: %s", got)
	}
	if got := users(hostiam.In(h, "")); !strings.Contains(got, "iam-mcp-operator") {
		t.Errorf("users in the server's own account: %s", got)
	}
	var a, b api.ListUsersOutput
	errs := dev.Batch([]hostiam.Request{{Op: "list_users", In: api.ListUsersInput{}, Out: &a}, {Op: "list_users", In: api.ListUsersInput{}, Out: &b, Account: "acme-shared"}})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if len(a.Users) == 0 || len(b.Users) == 0 || !strings.Contains(a.Users[0].Arn, ":333333333333:") || !strings.Contains(b.Users[0].Arn, ":222222222222:") {
		t.Errorf("batch: %+v / %+v", a.Users, b.Users)
	}
	if err := hostiam.In(h, "acme-staging").Call("list_users", api.ListUsersInput{}, nil); hostiam.Code(err) != api.AccountNotAllowed {
		t.Errorf("an account the server does not reach: %v", err)
	}
}

// Package workflow is the organisation test plugin's workflow, run by the
// kit's tests natively (over hostiamtest.Client) and as Wasm (main.go):
// the users of each account the plugin may reach, through hostiam.In.
package workflow

import (
	"sort"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Input names the accounts to list; none: every account Info lists (or
// the server's own on a server of one account).
type Input struct {
	Accounts []string `json:"accounts,omitempty"`
}

// Account is one account's users, or the error listing them.
type Account struct {
	Account string   `json:"account"`
	Users   []string `json:"users,omitempty"`
	Code    string   `json:"code,omitempty"`
}

// Result is the workflow's answer.
type Result struct {
	// Reachable are the ids Info lists, in its order.
	Reachable []string  `json:"reachable"`
	Accounts  []Account `json:"accounts"`
}

// Operations are what the workflow calls.
var Operations = []string{"list_users"}

// Run lists the users of each account, one batch for them all.
func Run(h hostiam.Client, in Input) (Result, error) {
	info, err := h.Info()
	if err != nil {
		return Result{}, err
	}
	res := Result{Reachable: []string{}, Accounts: []Account{}}
	for _, a := range info.Accounts {
		res.Reachable = append(res.Reachable, a.ID)
	}
	names := in.Accounts
	if len(names) == 0 {
		names = res.Reachable
	}
	outs := make([]api.ListUsersOutput, len(names))
	reqs := make([]hostiam.Request, len(names))
	for i, n := range names {
		reqs[i] = hostiam.Request{Op: "list_users", In: api.ListUsersInput{}, Out: &outs[i], Account: n}
	}
	for i, err := range h.Batch(reqs) {
		a := Account{Account: names[i]}
		if err != nil {
			a.Code = string(hostiam.Code(err))
		} else {
			for _, u := range outs[i].Users {
				a.Users = append(a.Users, u.UserName)
			}
			sort.Strings(a.Users)
		}
		res.Accounts = append(res.Accounts, a)
	}
	return res, nil
}

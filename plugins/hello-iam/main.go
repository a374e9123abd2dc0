//go:build wasip1

// Command hello-iam is the tutorial plugin of docs/plugins.md: two read-only
// tools that compose catalogue operations — how many users live under each
// path, and which users belong to no group — written with the project's Go
// SDK. Build it with `make plugins`.
package main

import (
	"errors"
	"fmt"
	"sort"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Args is the input of both tools; its tags become their JSON Schema.
type Args struct {
	PathPrefix string `json:"path_prefix,omitempty" desc:"only users whose path starts with this, e.g. /eng/ (default: every user)"`
}

// PathCount is one line of users_per_path's answer.
type PathCount struct {
	Path  string `json:"path"`
	Users int    `json:"users"`
}

func init() {
	sdk.Plugin("hello-iam", "0.1.0", "Users per path, and who belongs to no group")
	sdk.Tool("users_per_path", "Count the IAM users under each path (e.g. /eng/), to see how the account is organised.",
		usersPerPath, sdk.OpListUsers)
	sdk.Tool("ungrouped_users", "List the IAM users that belong to no group: their permissions, if any, are attached to them one by one, which is harder to review.",
		ungroupedUsers, sdk.OpListUsers, sdk.OpListGroupsForUser)
}

// main is never called: the host calls the SDK's exports.
func main() {}

func usersPerPath(ctx *sdk.Context, in Args) (any, error) {
	users, err := listUsers(ctx, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, u := range users {
		counts[u.Path]++
	}
	paths := []PathCount{}
	for p, n := range counts {
		paths = append(paths, PathCount{Path: p, Users: n})
	}
	sort.Slice(paths, func(i, j int) bool { return paths[i].Path < paths[j].Path })
	return map[string]any{"total": len(users), "paths": paths}, nil
}

func ungroupedUsers(ctx *sdk.Context, in Args) (any, error) {
	users, err := listUsers(ctx, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	// One batch asks for every user's groups at once: the host runs the
	// requests concurrently while this single-threaded plugin waits.
	inputs := make([]api.UserPageInput, len(users))
	for i, u := range users {
		inputs[i] = api.UserPageInput{UserName: u.UserName}
	}
	ctx.Progress(0, float64(len(users)), "asking for each user's groups")
	groups, errs := sdk.BatchOf[api.GroupsOutput](sdk.OpListGroupsForUser, inputs)
	ungrouped := []string{}
	for i, u := range users {
		var apiErr *api.Error
		switch {
		case errors.As(errs[i], &apiErr) && apiErr.Code == api.NoSuchEntity:
			continue // deleted since we listed it
		case errs[i] != nil:
			return nil, fmt.Errorf("the groups of %s: %w", u.UserName, errs[i])
		case len(groups[i].Groups) == 0:
			ungrouped = append(ungrouped, u.UserName)
		}
	}
	ctx.Progress(float64(len(users)), float64(len(users)), "done")
	return map[string]any{"checked": len(users), "ungrouped": ungrouped}, nil
}

// listUsers pages through list_users until IAM says there is no more.
func listUsers(ctx *sdk.Context, prefix string) ([]api.User, error) {
	in := api.ListUsersInput{PathPrefix: prefix, PageInput: api.PageInput{MaxItems: 1000}}
	var users []api.User
	for {
		page, err := sdk.ListUsers(in)
		if err != nil {
			return nil, err
		}
		users = append(users, page.Users...)
		if !page.IsTruncated {
			return users, nil
		}
		in.Marker = page.Marker
		ctx.Progress(float64(len(users)), 0, "listing users")
	}
}

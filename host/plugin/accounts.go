package plugin

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Accounts in the plugin runtime.
//
// The operator may restrict a plugin to some of the accounts the server
// reaches (Spec.Accounts, ids or aliases). Load resolves those names to
// account ids against the gate's accounts, once, and the ids ride in the
// plugin's gate.Caller (Caller.Accounts), where the gate refuses a call in
// any other account (AccountNotAllowed) before it reaches AWS. The runtime
// itself never decides an account: a request's account (IAMRequest.Account)
// goes to the gate as it was written, and the gate resolves it.

// maxListedAccounts bounds the accounts an error message lists.
const maxListedAccounts = 10

// resolveAccounts turns a plugin's accounts list into the set of account
// ids it allows: nil (every account) for no list. Each name is an exact
// account id or alias of reachable. self, when not nil, learns the
// server's own account id, for a server that does not know it yet (one
// account, no --expect-account): it is asked only if a name matches
// nothing else.
func resolveAccounts(ctx context.Context, plugin string, names []string, reachable []gate.Account, self func(context.Context) (string, string, error)) (map[string]bool, error) {
	if names == nil {
		return nil, nil
	}
	allowed := make(map[string]bool, len(names))
	var unknown []string
	for _, n := range names {
		if a, ok := findAccount(reachable, n); ok && a.ID != "" {
			allowed[a.ID] = true
			continue
		}
		unknown = append(unknown, n)
	}
	if len(unknown) > 0 && self != nil && selfIDUnknown(reachable) {
		// One account whose id the server has not learned: a name that is
		// its id is the one account there is.
		if id, _, err := self(ctx); err == nil && id != "" {
			rest := unknown[:0]
			for _, n := range unknown {
				if n == id {
					allowed[id] = true
				} else {
					rest = append(rest, n)
				}
			}
			unknown = rest
		}
	}
	if len(unknown) > 0 {
		quoted := make([]string, len(unknown))
		for i, n := range unknown {
			quoted[i] = args.Quote(n)
		}
		return nil, fmt.Errorf("plugin %s: accounts names %s, which the server does not reach (it reaches %s); name an account id or alias the server reaches (get_account_info lists them; the accounts file adds accounts), or leave the key out for all of them",
			plugin, strings.Join(quoted, ", "), describeAccounts(reachable))
	}
	return allowed, nil
}

// findAccount finds the account named by its exact id or alias.
func findAccount(list []gate.Account, name string) (gate.Account, bool) {
	for _, a := range list {
		if name != "" && (a.ID == name || a.Alias == name) {
			return a, true
		}
	}
	return gate.Account{}, false
}

// selfIDUnknown reports whether the only account is the server's own with
// an id not yet known.
func selfIDUnknown(list []gate.Account) bool {
	return len(list) == 1 && list[0].Self && list[0].ID == ""
}

// describeAccounts lists accounts for a message: "111111111111 (this
// server's own), 222222222222 (dev)", at most maxListedAccounts of them.
func describeAccounts(list []gate.Account) string {
	if len(list) == 0 || selfIDUnknown(list) {
		return "only its own account"
	}
	parts := make([]string, 0, min(len(list), maxListedAccounts)+1)
	for i, a := range list {
		if i == maxListedAccounts {
			parts = append(parts, fmt.Sprintf("… and %d more", len(list)-i))
			break
		}
		s := a.ID
		switch {
		case a.Self && a.Alias != "":
			s += " (" + a.Alias + ", the server's own)"
		case a.Self:
			s += " (the server's own)"
		case a.Alias != "":
			s += " (" + a.Alias + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// reachableAccounts are the accounts of list a plugin allowed only allowed
// (nil: all) may act in, as host_info tells it; nil on a server of one
// account, where a plugin has no account to choose. An account without its
// own confirm level has the gate's.
func reachableAccounts(list []gate.Account, allowed map[string]bool, confirm gate.Confirm) []api.ReachableAccount {
	if len(list) <= 1 {
		return nil
	}
	out := make([]api.ReachableAccount, 0, len(list))
	for _, a := range list {
		if allowed != nil && !allowed[a.ID] {
			continue
		}
		c := a.Confirm
		if c == "" {
			c = confirm
		}
		out = append(out, api.ReachableAccount{ID: a.ID, Alias: a.Alias, Self: a.Self, ReadOnly: a.ReadOnly, Confirm: string(c), Via: a.Via})
	}
	return out
}

// reachable is what host_info tells the plugin of the accounts it may
// act in (nil on a server of one account).
func (p *loaded) reachable() []api.ReachableAccount {
	if p.gate == nil {
		return nil
	}
	return HostAccounts(p.gate, p.allowed)
}

// allowedIDs is a plugin's allowed accounts, sorted, for the describe
// cache key and logs; nil for every account.
func allowedIDs(allowed map[string]bool) []string {
	if allowed == nil {
		return nil
	}
	out := make([]string, 0, len(allowed))
	for id := range allowed {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ResolveAccounts resolves a plugins-file accounts list (Spec.Accounts)
// against the accounts g reaches, exactly as Load does, for a test kit
// that runs a plugin's workflow natively (sdk/hostiam/hostiamtest): the
// ids to put in the plugin's gate.Caller.Accounts, nil for every account.
// self learns the server's own account id when g does not know it (nil:
// it is not asked).
func ResolveAccounts(ctx context.Context, g *gate.Gate, plugin string, names []string, self func(context.Context) (accountID, partition string, err error)) (map[string]bool, error) {
	if err := validAccountNames(names); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", plugin, err)
	}
	return resolveAccounts(ctx, plugin, names, g.Accounts(), self)
}

// HostAccounts is what host_info tells a plugin allowed the accounts
// allowed (nil: every one) of those g reaches: HostInfo.Accounts, nil on
// a server of one account.
func HostAccounts(g *gate.Gate, allowed map[string]bool) []api.ReachableAccount {
	return reachableAccounts(g.Accounts(), allowed, g.Confirm())
}

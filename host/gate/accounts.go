package gate

import "context"

// Account is one account the server may act in, with the mode the
// operator gave it there. The server's own account is one too (Self),
// with the gate's Options as its mode.
type Account struct {
	ID    string // the 12-digit account id
	Alias string // the operator's name for it, or the organization's; may be ""
	Self  bool   // the server's own account: its credentials' account
	// ReadOnly refuses every mutation in this account. Read-only wins: an
	// account is read-only whenever the server is.
	ReadOnly bool
	// Confirm is which changes the person approves in this account.
	Confirm Confirm
	// Via says how the server reaches it, for people: a role ARN it
	// assumes, "profile NAME", or "" for the server's own credentials.
	Via string
}

// Accounts is the operator's allowlist of accounts and how to act in
// each. Without one (Options.Accounts nil) the server acts in its own
// account only.
type Accounts interface {
	// List returns every account, the server's own first.
	List() []Account
	// Lookup finds the account a call names by its exact id or alias.
	Lookup(name string) (Account, bool)
	// Runner returns the runner that acts in acct (never Self) for
	// caller: base's operation catalogue with the account's credentials,
	// a role session named for the server and the caller's tool. session
	// names that role session for the audit line (an assumed-role ARN, or
	// "profile NAME").
	Runner(ctx context.Context, base Runner, acct Account, caller Caller) (r Runner, session string, err error)
}

// Name names the account for people: "acme-prod (444444444444)", or the
// id or the alias alone when only one is known; "" when neither is (the
// server's own account, its id unknown). Callers that show it to a person
// make it printable: an alias may come from the organization.
func (a Account) Name() string {
	switch {
	case a.Alias != "" && a.ID != "":
		return a.Alias + " (" + a.ID + ")"
	case a.ID != "":
		return a.ID
	}
	return a.Alias
}

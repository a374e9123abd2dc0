// Package accounts is the server's allowlist of AWS accounts besides its
// own: the operator's accounts file (--accounts), or the accounts of the
// organization found by discovery, each with the mode the operator gave
// it and how the server reaches it (a role it assumes with its own
// credentials, or a named profile). A *Registry implements gate.Accounts:
// the gate looks a call's account up in it and asks it for a runner — the
// catalogue acting through that account's credentials, in a role session
// named for the server and the tool, cached and refreshed before expiry.
package accounts

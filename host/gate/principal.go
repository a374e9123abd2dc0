package gate

import (
	"context"
	"strings"
)

// Principal is the person an authenticated transport serves (MCP over
// HTTP): who they are, for the audit line, and how the operator's rules
// and their own request narrowed the server for them. It travels in the
// request's context (WithPrincipal), not in Caller, so that every call
// made on the request's behalf — a built-in tool's, and each iam_call of a
// plugin tool the request runs — is decided and recorded for the same
// person without any layer in between having to carry it: a layer that
// forgot it could only lose the narrowing, and the gate reads it itself.
//
// A Principal only narrows. Read-only here adds to the server's and the
// account's read-only; Accounts keep a subset of those the server
// reaches. Nothing in it can widen what the operator set.
type Principal struct {
	// Subject is who authenticated: the name of a bearer token in the
	// operator's token file, or a JWT's issuer-verified sub claim.
	Subject string
	// Via is how: "token" or "oauth".
	Via string
	// ReadOnly refuses every mutation for this person, whatever the
	// server's and the account's modes; ReadOnlyWhy says who decided it,
	// for the refusal ("the operator's rule for subject alice", "this
	// request's X-MCP-Readonly header").
	ReadOnly    bool
	ReadOnlyWhy string
	// Accounts, when not nil, are the ids of the only accounts this person
	// may act in; AccountsWhy says who decided it, as ReadOnlyWhy.
	Accounts    map[string]bool
	AccountsWhy string
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p: the gate decides and records
// every call made with that context for p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal ctx carries, or nil (a local
// server: stdio, the command line).
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// who names the principal in a refusal.
func (p *Principal) who() string {
	if p.Subject == "" {
		return "this caller"
	}
	return "subject " + quoteSubject(p.Subject)
}

// quoteSubject bounds and quotes a subject from outside for a message.
func quoteSubject(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, s) + `"`
}

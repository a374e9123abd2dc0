package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/httpauth"
	"github.com/iammcp/iam-mcp-server/internal/quote"
)

// An HTTP request's access is what the server allows the person who sent
// it: the operator's flags (the tools served, the gate's modes), then every
// narrowing that applies — the operator's rules for the subject, the
// narrowing the session was opened with, and the request's own X-MCP-*
// headers — each applied on top of the others. A narrowing can only take
// away: the tool set is an intersection, read-only an "or", the accounts an
// intersection. So nothing a client writes in a header can add a tool, an
// account or write access, and one request's headers change nothing for
// another request (the access lives in that request's context only).

// access is one request's access; nil (stdio, an in-process client) is the
// whole server.
type access struct {
	principal *gate.Principal // nil without authentication and read-only/accounts narrowing
	// narrowings apply in order; a tool is allowed when each allows it.
	narrowings []httpauth.Narrowing
}

type accessKey struct{}

func withAccess(ctx context.Context, a *access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

func accessFrom(ctx context.Context) *access {
	a, _ := ctx.Value(accessKey{}).(*access)
	return a
}

// allows reports whether the tool named name may be listed and called,
// and when not, why (the narrowing's Why: who took it away).
func (a *access) allows(name string) (bool, string) {
	if a == nil {
		return true, ""
	}
	for _, n := range a.narrowings {
		if !narrowingAllows(n, name) {
			return false, n.Why
		}
	}
	return true, ""
}

// narrowingAllows reports whether n leaves the tool named name: n keeps
// every tool when it names no toolset and no tool, else the tools of its
// toolsets plus those its tool patterns match.
func narrowingAllows(n httpauth.Narrowing, name string) bool {
	if n.Toolsets == nil && n.Tools == nil {
		return true
	}
	if matchAny(n.Tools, name) || slices.ContainsFunc(n.Toolsets, func(ts string) bool { return strings.EqualFold(ts, ToolsetAll) }) {
		return true // "all" is every tool the server serves, plugins' included
	}
	t, ok := catalogue.LookupTool(name)
	if !ok {
		return false // a plugin tool belongs to no toolset: only named ones pass
	}
	for _, ts := range n.Toolsets {
		switch ts = strings.ToLower(ts); {
		case ts == ToolsetDefault && t.Default, ts == string(t.Toolset):
			return true
		}
	}
	return false
}

// newAccess is the access of a request of id (nil without authentication)
// under narrowings, with the accounts resolved to ids through the gate.
func (s *Server) newAccess(id *httpauth.Identity, narrowings []httpauth.Narrowing) (*access, error) {
	a := &access{narrowings: narrowings}
	p := &gate.Principal{}
	if id != nil {
		p.Subject, p.Via = id.Subject, id.Via
	}
	for _, n := range narrowings {
		if n.ReadOnly && !p.ReadOnly {
			p.ReadOnly, p.ReadOnlyWhy = true, n.Why
		}
		if n.Accounts == nil {
			continue
		}
		ids, err := s.accountIDs(n.Accounts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Why, err)
		}
		if p.Accounts == nil {
			p.Accounts, p.AccountsWhy = ids, n.Why
			continue
		}
		for k := range p.Accounts {
			if !ids[k] {
				delete(p.Accounts, k)
			}
		}
		p.AccountsWhy += "; " + n.Why
	}
	// A request without authentication and without a read-only or accounts
	// narrowing carries no principal: the gate then decides as for stdio.
	if id != nil || p.ReadOnly || p.Accounts != nil {
		a.principal = p
	}
	return a, nil
}

// accountIDs resolves account names (ids or aliases) to the ids of the
// accounts the gate acts in; a name it does not reach is an error.
func (s *Server) accountIDs(names []string) (map[string]bool, error) {
	accts := s.gate.Accounts()
	ids := map[string]bool{}
	for _, name := range names {
		found := false
		for _, a := range accts {
			// Exact spelling, as the gate looks accounts up: a name that
			// differs in case is another name.
			if name != "" && (name == a.ID || name == a.Alias) {
				if a.ID == "" {
					return nil, fmt.Errorf("the account %s is the server's own, whose id is not known yet; name it by id with --expect-account", quote.Short(name, 64))
				}
				ids[a.ID], found = true, true
				break
			}
		}
		if !found {
			hint := ""
			if accts[0].ID == "" {
				hint = " (the id of the server's own account is not known at start; the operator names it with --expect-account)"
			}
			return nil, fmt.Errorf("the account %s is not one this server acts in; it acts in %s%s", quote.Short(name, 64), s.accountNames(accts), hint)
		}
	}
	return ids, nil
}

func (s *Server) accountNames(accts []gate.Account) string {
	names := make([]string, 0, len(accts))
	for _, a := range accts {
		if n := a.Name(); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "its own account only"
	}
	return strings.Join(names, ", ")
}

// checkNarrowing checks that a narrowing names only toolsets that exist,
// tool patterns that match a tool this server has (built-in or plugin),
// and accounts the gate reaches: a typo in the operator's rules must stop
// the server at start, not silently leave a person with nothing.
func (s *Server) checkNarrowing(n httpauth.Narrowing) error {
	for _, ts := range n.Toolsets {
		if name := strings.ToLower(strings.TrimSpace(ts)); name != ToolsetAll && name != ToolsetDefault && !isToolset(name) {
			return fmt.Errorf("%s: unknown toolset %s; use %s", n.Why, quote.Short(ts, 64), ValidToolsets())
		}
	}
	names := s.allToolNames()
	for _, p := range n.Tools {
		if !slices.ContainsFunc(names, func(name string) bool { return matchAny([]string{p}, name) }) {
			return fmt.Errorf("%s: the tool name or pattern %s matches no tool of this server (list them with iam-mcp-server tools)", n.Why, quote.Short(p, 64))
		}
	}
	if n.Accounts != nil {
		if _, err := s.accountIDs(n.Accounts); err != nil {
			return fmt.Errorf("%s: %w", n.Why, err)
		}
	}
	return nil
}

// allToolNames are the catalogue's operations and the plugins' tools.
func (s *Server) allToolNames() []string {
	var names []string
	for _, t := range catalogue.Tools() {
		names = append(names, t.Name)
	}
	if p := s.currentPlugins(); p != nil {
		for _, t := range p.Tools() {
			names = append(names, t.Name)
		}
	}
	return names
}

// maxHeaderItems bounds the entries of one X-MCP-* list header.
const maxHeaderItems = 256

// headerNarrowings reads the request's X-MCP-* headers into narrowings:
// at most one for the tools (toolsets and tools together, a union, as
// github-mcp-server reads them), one for read-only, one for the accounts.
// A bad value is an error for a 400 that says what is valid.
func (s *Server) headerNarrowings(h http.Header) ([]httpauth.Narrowing, error) {
	var out []httpauth.Narrowing
	if vs := h.Values(HeaderReadOnly); len(vs) > 0 {
		if len(vs) > 1 {
			return nil, fmt.Errorf("%s appears more than once; send it once, as true or false", HeaderReadOnly)
		}
		switch v := strings.TrimSpace(vs[0]); strings.ToLower(v) {
		case "true", "1":
			out = append(out, httpauth.Narrowing{ReadOnly: true, Why: "this request's " + HeaderReadOnly + " header"})
		case "false", "0":
		default:
			return nil, fmt.Errorf("%s is %s; it is true, 1, false or 0", HeaderReadOnly, quote.Short(v, 64))
		}
	}
	toolsets, err := headerList(h, HeaderToolsets)
	if err != nil {
		return nil, err
	}
	for _, ts := range toolsets {
		if name := strings.ToLower(ts); name != ToolsetAll && name != ToolsetDefault && !isToolset(name) {
			return nil, fmt.Errorf("%s names the unknown toolset %s; use %s", HeaderToolsets, quote.Short(ts, 64), ValidToolsets())
		}
	}
	tools, err := headerList(h, HeaderTools)
	if err != nil {
		return nil, err
	}
	for _, t := range tools {
		if _, err := ParseToolFilter(t, ""); err != nil {
			return nil, fmt.Errorf("%s: %s is not a tool name or pattern (use names, or globs such as list_*)", HeaderTools, quote.Short(t, 64))
		}
	}
	if toolsets != nil || tools != nil {
		why := "this request's " + HeaderToolsets + " header"
		switch {
		case toolsets == nil:
			why = "this request's " + HeaderTools + " header"
		case tools != nil:
			why = "this request's " + HeaderToolsets + " and " + HeaderTools + " headers"
		}
		if toolsets == nil {
			toolsets = []string{}
		}
		if tools == nil {
			tools = []string{}
		}
		out = append(out, httpauth.Narrowing{Toolsets: toolsets, Tools: tools, Why: why})
	}
	accounts, err := headerList(h, HeaderAccounts)
	if err != nil {
		return nil, err
	}
	if accounts != nil {
		if _, err := s.accountIDs(accounts); err != nil {
			return nil, fmt.Errorf("%s: %w", HeaderAccounts, err)
		}
		out = append(out, httpauth.Narrowing{Accounts: accounts, Why: "this request's " + HeaderAccounts + " header"})
	}
	return out, nil
}

// headerList reads a comma-separated header (all its lines); nil when
// absent. A header present but naming nothing is an error: the client
// meant something, and an empty list would leave it no tool.
func headerList(h http.Header, name string) ([]string, error) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return nil, nil
	}
	var out []string
	for _, v := range vs {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names nothing; leave it out, or give a comma-separated list", name)
	}
	if len(out) > maxHeaderItems {
		return nil, fmt.Errorf("%s has %d entries, over the limit of %d", name, len(out), maxHeaderItems)
	}
	return out, nil
}

// notAllowedMessage says why a tool the server serves is not this
// request's to call: who narrowed it away.
func notAllowedMessage(name, why string) string {
	return fmt.Sprintf("the tool %s is not available to you here: %s leaves it out; list the tools to see the ones you may call", quoteShort(name), why)
}

package api

import "sort"

// Toolset groups operations so that an operator can expose only some of them
// (some MCP clients cap a session's tools).
type Toolset string

// The toolsets, one per resource family.
const (
	ToolsetUsers       Toolset = "users"
	ToolsetGroups      Toolset = "groups"
	ToolsetRoles       Toolset = "roles"
	ToolsetPolicies    Toolset = "policies"
	ToolsetInline      Toolset = "inline"
	ToolsetCredentials Toolset = "credentials"
	ToolsetSimulation  Toolset = "simulation"
	ToolsetPolicy      Toolset = "policy" // the policy engine: validate, simulate and explain locally
	ToolsetAccount     Toolset = "account"
)

// Toolsets lists every toolset, in display order.
var Toolsets = []Toolset{ToolsetUsers, ToolsetGroups, ToolsetRoles, ToolsetPolicies, ToolsetInline, ToolsetCredentials, ToolsetSimulation, ToolsetPolicy, ToolsetAccount}

// Operation describes one catalogue operation: everything a caller needs to
// decide whether and how to call it, with no implementation.
type Operation struct {
	Name        string  // snake_case tool name, e.g. "list_users"
	Toolset     Toolset // which --toolsets entry exposes it
	Description string  // written for an assistant: what it does, when to use it, what to watch
	// IAMActions are the IAM permissions the operation uses; `iam-mcp-server
	// policy` builds the server's least-privilege policy from them.
	IAMActions []string
	// Mutates: the operation changes IAM. Refused in read-only mode.
	Mutates bool
	// Destructive: it deletes, overwrites, or can cut off access.
	Destructive bool
	// Idempotent: calling it twice with the same arguments has the same
	// effect as calling it once.
	Idempotent bool
	// Offline: answered by the policy engine alone, with no AWS call, so
	// IAMActions is empty and the tool works without credentials.
	Offline bool
	// Default: exposed when --toolsets is not given (the tools the AWS Labs
	// server offers, plus a few lookups every session needs).
	Default bool
	// Input and Output are zero values of the operation's argument and
	// result types, from which JSON Schemas are derived.
	Input, Output any
}

// Lookup returns the operation with the given name.
func Lookup(name string) (Operation, bool) {
	op, ok := byName[name]
	return op, ok
}

// Names returns every operation name, sorted.
func Names() []string {
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var byName = func() map[string]Operation {
	m := make(map[string]Operation, len(Operations))
	for _, op := range Operations {
		if _, dup := m[op.Name]; dup {
			panic("api: operation " + op.Name + " listed twice")
		}
		if op.Name == "" || op.Toolset == "" || op.Description == "" || (len(op.IAMActions) == 0) != op.Offline || op.Input == nil || op.Output == nil {
			panic("api: operation " + op.Name + " is incomplete")
		}
		if op.Offline && op.Mutates {
			panic("api: operation " + op.Name + " is offline but mutates")
		}
		if op.Destructive && !op.Mutates {
			panic("api: operation " + op.Name + " is destructive but does not mutate")
		}
		m[op.Name] = op
	}
	return m
}()

package api

import "sort"

// Operation is one catalogue operation as both sides of the plugin boundary
// must agree on it: its name, its input and output types, and how it
// behaves. What only the server needs to offer it as a tool (the
// description written for the assistant, the IAM actions, the toolset)
// lives in host/catalogue, so that rewording a tool changes no plugin.
type Operation struct {
	Name string // snake_case name, e.g. "list_users"
	// Mutates: the operation changes IAM. Refused in read-only mode, and
	// counted against a plugin's cap on mutations.
	Mutates bool
	// Destructive: it deletes, overwrites, or can cut off access; the gate
	// asks the person before it runs (--confirm destructive, the default).
	Destructive bool
	// Idempotent: calling it twice with the same arguments has the same
	// effect as calling it once, so a caller may repeat it (after a
	// timeout, say) without harm.
	Idempotent bool
	// Offline: answered by the policy engine alone, with no AWS call, so it
	// works without credentials.
	Offline bool
	// Input and Output are zero values of the operation's argument and
	// result types, from which JSON Schemas are derived.
	Input, Output any
}

// All returns every operation in catalogue order, in a new slice.
func All() []Operation {
	return append([]Operation(nil), operations...)
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
	m := make(map[string]Operation, len(operations))
	for _, op := range operations {
		if _, dup := m[op.Name]; dup {
			panic("api: operation " + op.Name + " listed twice")
		}
		if op.Name == "" || op.Input == nil || op.Output == nil {
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

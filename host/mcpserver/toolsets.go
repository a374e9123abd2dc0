package mcpserver

import (
	"fmt"
	"strings"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The two toolset names that are not resource families.
const (
	// ToolsetDefault names the operations marked Default in the catalogue:
	// the AWS Labs IAM server's tools plus the lookups every session needs.
	ToolsetDefault = "default"
	// ToolsetAll names every operation in the catalogue.
	ToolsetAll = "all"
)

// ResolveToolsets turns a --toolsets value into the operations it exposes,
// in catalogue order and without duplicates.
//
// The value is a comma-separated list of "default", "all" and the toolset
// names of api.Toolsets (users, groups, roles, …); entries combine as a
// union, so "default,credentials" is the default tools plus every
// credentials tool. An empty value means "default". An unknown name is an
// error that lists the valid ones, so that a typo stops the server at start
// rather than silently hiding tools.
//
// The server, `iam-mcp-server tools` and `iam-mcp-server policy` all call
// this one function, so what is listed, what is served and what the printed
// policy allows can never disagree.
func ResolveToolsets(spec string) ([]api.Operation, error) {
	if strings.TrimSpace(spec) == "" {
		spec = ToolsetDefault
	}
	var all, def bool
	sets := map[api.Toolset]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case name == "":
			// "users,,groups" or a trailing comma: nothing to add.
		case name == ToolsetAll:
			all = true
		case name == ToolsetDefault:
			def = true
		case isToolset(name):
			sets[api.Toolset(name)] = true
		default:
			return nil, fmt.Errorf("unknown toolset %q; use %s", name, ValidToolsets())
		}
	}
	var ops []api.Operation
	for _, op := range api.Operations {
		if all || (def && op.Default) || sets[op.Toolset] {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("--toolsets %q selects no tools; use %s", spec, ValidToolsets())
	}
	return ops, nil
}

// ValidToolsets describes the accepted --toolsets values, for usage text and
// error messages.
func ValidToolsets() string {
	names := make([]string, len(api.Toolsets))
	for i, t := range api.Toolsets {
		names[i] = string(t)
	}
	return `"default", "all", or a comma-separated list of: ` + strings.Join(names, ", ") + ` (which may include default)`
}

func isToolset(name string) bool {
	for _, t := range api.Toolsets {
		if string(t) == name {
			return true
		}
	}
	return false
}

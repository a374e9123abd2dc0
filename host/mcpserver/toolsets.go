package mcpserver

import (
	"fmt"
	"path"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/internal/quote"
)

// The two toolset names that are not resource families.
const (
	// ToolsetDefault names the operations marked Default in the catalogue:
	// the AWS Labs IAM server's tools plus the lookups every session needs.
	ToolsetDefault = "default"
	// ToolsetAll names every operation in the catalogue.
	ToolsetAll = "all"
)

// ResolveToolsets turns a --toolsets value into the tools it exposes, in
// catalogue order and without duplicates.
//
// The value is a comma-separated list of "default", "all" and the toolset
// names of catalogue.Toolsets (users, groups, roles, …); entries combine as a
// union, so "default,credentials" is the default tools plus every
// credentials tool. An empty value means "default". An unknown name is an
// error that lists the valid ones, so that a typo stops the server at start
// rather than silently hiding tools.
//
// The server, `iam-mcp-server tools` and `iam-mcp-server policy` all call
// this one function, so what is listed, what is served and what the printed
// policy allows can never disagree.
func ResolveToolsets(spec string) ([]catalogue.Tool, error) {
	if strings.TrimSpace(spec) == "" {
		spec = ToolsetDefault
	}
	var all, def bool
	sets := map[catalogue.Toolset]bool{}
	for _, given := range strings.Split(spec, ",") {
		name := strings.ToLower(strings.TrimSpace(given))
		switch {
		case name == "":
			// "users,,groups" or a trailing comma: nothing to add.
		case name == ToolsetAll:
			all = true
		case name == ToolsetDefault:
			def = true
		case isToolset(name):
			sets[catalogue.Toolset(name)] = true
		default:
			return nil, fmt.Errorf("unknown toolset %s; use %s", quote.Short(strings.TrimSpace(given), 64), ValidToolsets())
		}
	}
	var tools []catalogue.Tool
	for _, t := range catalogue.Tools() {
		if all || (def && t.Default) || sets[t.Toolset] {
			tools = append(tools, t)
		}
	}
	if len(tools) == 0 {
		return nil, fmt.Errorf("--toolsets %s selects no tools; use %s", quote.Short(spec, 64), ValidToolsets())
	}
	return tools, nil
}

// ValidToolsets describes the accepted --toolsets values, for usage text and
// error messages.
func ValidToolsets() string {
	toolsets := catalogue.Toolsets()
	names := make([]string, len(toolsets))
	for i, t := range toolsets {
		names[i] = string(t)
	}
	return `"default", "all", or a comma-separated list of: ` + strings.Join(names, ", ") + ` (which may include default)`
}

func isToolset(name string) bool {
	for _, t := range catalogue.Toolsets() {
		if string(t) == name {
			return true
		}
	}
	return false
}

// ToolFilter is --tools and --exclude-tools: which tools, built-in or from
// a plugin, the assistant sees. A tool is shown when it matches an include
// pattern (or there are none) and matches no exclude pattern: exclusion
// wins. Patterns are tool names or globs in path.Match syntax ("list_*",
// "*_policy", "review_*"). The nil filter shows everything.
type ToolFilter struct {
	include, exclude []string
}

// ParseToolFilter reads the comma-separated pattern lists of --tools and
// --exclude-tools. A malformed glob is an error; so is a list that names
// nothing at all (only commas and spaces), since the operator meant
// something.
func ParseToolFilter(include, exclude string) (*ToolFilter, error) {
	f := &ToolFilter{}
	var err error
	if f.include, err = patterns("--tools", include); err != nil {
		return nil, err
	}
	if f.exclude, err = patterns("--exclude-tools", exclude); err != nil {
		return nil, err
	}
	if f.include == nil && f.exclude == nil {
		return nil, nil
	}
	return f, nil
}

func patterns(flag, list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		// The shell negates a class with [!…], path.Match with [^…] and
		// reads [!u] as "! or u": list_[!u]* would pick list_users, the
		// very tool it meant to leave out.
		if strings.Contains(p, "[!") {
			return nil, fmt.Errorf("%s: %s: a class is negated with [^…] here, not [!…] (which would match the characters it names)", flag, quote.Short(p, 64))
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%s: %s is not a valid name or glob (use * and ?, e.g. list_* or *_policy)", flag, quote.Short(p, 64))
		}
		out = append(out, p)
	}
	if out == nil {
		return nil, fmt.Errorf("%s %s names no tool; leave the flag out, or give names or globs such as list_*", flag, quote.Short(list, 64))
	}
	return out, nil
}

// Shows reports whether the tool named name is shown.
func (f *ToolFilter) Shows(name string) bool {
	if f == nil {
		return true
	}
	return (f.include == nil || matchAny(f.include, name)) && !f.Excludes(name)
}

// Excludes reports whether --exclude-tools names the tool: an excluded
// catalogue operation is refused for every caller, plugins included, not
// only hidden.
func (f *ToolFilter) Excludes(name string) bool {
	return f != nil && matchAny(f.exclude, name)
}

// Patterns returns every pattern, for checking that each matches some tool.
func (f *ToolFilter) Patterns() (include, exclude []string) {
	if f == nil {
		return nil, nil
	}
	return f.include, f.exclude
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

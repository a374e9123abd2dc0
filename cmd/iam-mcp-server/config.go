package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// config is everything serve, call, tools, policy and plugins list need,
// built once from the command line and the environment (flags.go), then
// checked and completed here (validate). open (wiring.go) is the one place
// that turns it into a gate (and, with --plugins, the plugin runtime
// behind its own gate).
type config struct {
	command string // serve, call, tools, policy or "plugins list"

	// readOnly is the mode the gates enforce: read-only unless
	// --allow-write, and --readonly wins over --allow-write.
	readOnly       bool
	readOnlyFlag   bool // --readonly
	allowWrite     bool // --allow-write
	confirm        gate.Confirm
	noConfirmation bool // --no-confirmation, upstream's --confirm none

	toolsets string
	include  string // --tools
	exclude  string // --exclude-tools
	filter   *mcpserver.ToolFilter
	// tools are the built-in tools exposed: the toolsets' operations that
	// the filter shows, in catalogue order; never nil, since the MCP
	// server reads nil as "the default toolset".
	tools []catalogue.Tool
	// excluded are the catalogue operations --exclude-tools matches,
	// exposed or not: the gates refuse them to every caller.
	excluded map[string]bool
	// pluginPatterns are the --tools and --exclude-tools patterns that no
	// built-in tool satisfies: only a plugin tool can, which is checked
	// once the plugins are loaded.
	pluginPatterns []unmatched

	region        string
	profile       string
	endpointURL   string
	expectAccount string
	// accounts is --accounts FILE: the other accounts the server may act
	// in (host/accounts); "" for none (but see sandboxOrg).
	accounts string

	sandbox      bool
	sandboxSeed  string // "" for none
	sandboxState string

	secretsDir    string // "" for the default, decided in open
	returnSecrets bool
	allowRisky    bool
	auditLog      string

	plugins  string // --plugins FILE; "" for none
	cacheDir string // --cache-dir; "" for the default, decided in open
	watch    bool   // serve --watch: reload the plugins when their file changes

	logLevel slog.Level

	// http is serve's HTTP mode (--http and the flags that only apply with
	// it; httpconfig.go): the zero value serves stdio.
	http httpConfig

	version bool   // --version
	args    string // call: --args
	yes     bool   // call: --yes

	// from says where each flag that was set came from: "--name" for the
	// command line, the variable's name for the environment; messages
	// about a value name what the operator actually wrote.
	from map[string]string
	// warnings are said on stderr when the server or call starts.
	warnings []string
	// renamed are the old spellings of flags and variables the command
	// used, as "--local is now --sandbox": said once, on stderr, by
	// sayRenamed.
	renamed []string
}

var accountID = regexp.MustCompile(`^\d{12}$`)

// validate checks the values and their combinations, and derives the
// mode, the confirmation level and the tool selection from them.
func (c *config) validate(logLevel, confirm string) error {
	var err error
	if c.logLevel, err = parseLevel(logLevel); err != nil {
		return usagef("%s: %v", c.source("log-level"), err)
	}
	if err := c.mode(confirm); err != nil {
		return err
	}
	if err := c.selectTools(); err != nil {
		return err
	}

	if c.sandbox {
		var bad []string
		for _, f := range []string{"region", "profile", "endpoint-url"} {
			if c.set(f) {
				bad = append(bad, c.source(f))
			}
		}
		if len(bad) > 0 {
			return usagef("%s cannot be used with %s: --sandbox runs the embedded sandbox in process and reads no AWS configuration; drop %s, or drop --sandbox to use AWS",
				strings.Join(bad, " and "), c.source("sandbox"), strings.Join(bad, " and "))
		}
	} else {
		for _, f := range []string{"sandbox-seed", "sandbox-state"} {
			if c.set(f) {
				return usagef("%s only applies with --sandbox (the embedded sandbox)", c.source(f))
			}
		}
	}
	switch seed := c.sandboxSeed; {
	case seed == "none" || seed == "":
		c.sandboxSeed = ""
	case !slices.Contains(sandbox.SeedNames(), seed):
		return usagef("%s %s: use none or %s", c.source("sandbox-seed"), quoted(seed), strings.Join(sandbox.SeedNames(), ", "))
	}

	if c.set("expect-account") && strings.TrimSpace(c.expectAccount) == "" {
		// An empty value must not read as "no pin": whoever wrote the flag
		// meant to pin an account, and a template that failed to fill it in
		// would otherwise run against whatever the credentials reach.
		return usagef("%s needs the 12-digit account id the credentials must belong to; leave the flag out to not pin an account", c.source("expect-account"))
	}
	if c.expectAccount != "" && !accountID.MatchString(c.expectAccount) {
		return usagef("%s %s: an AWS account id is 12 digits", c.source("expect-account"), quoted(c.expectAccount))
	}
	if c.endpointURL != "" {
		u, err := url.Parse(c.endpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("%s %s: use an http:// or https:// URL such as http://127.0.0.1:4599", c.source("endpoint-url"), quoted(c.endpointURL))
		}
	}
	for _, f := range []struct{ name, value string }{{"secrets-dir", c.secretsDir}, {"audit-log", c.auditLog},
		{"sandbox-state", c.sandboxState}, {"plugins", c.plugins}, {"cache-dir", c.cacheDir}, {"accounts", c.accounts}} {
		if c.set(f.name) && strings.TrimSpace(f.value) == "" {
			return usagef("%s needs a path", c.source(f.name))
		}
	}
	if c.watch && c.plugins == "" {
		return usagef("%s only applies with --plugins (it reloads the plugins when their file changes)", c.source("watch"))
	}
	if c.set("cache-dir") && c.plugins == "" {
		return usagef("%s only applies with --plugins (it caches compiled plugins)", c.source("cache-dir"))
	}
	if err := c.validateHTTP(); err != nil {
		return err
	}
	if c.command == "plugins list" && c.plugins == "" {
		return usagef("which plugins? Name the plugins file with --plugins FILE")
	}
	return nil
}

// mode decides read-only and the confirmation level, with the warnings
// the operator should see: --readonly winning over --allow-write, and
// changes that run without anyone's yes.
func (c *config) mode(confirm string) error {
	c.readOnly = !c.allowWrite || c.readOnlyFlag
	if c.allowWrite && c.readOnlyFlag {
		c.warnings = append(c.warnings, fmt.Sprintf("%s wins over %s: every change is refused", c.source("readonly"), c.source("allow-write")))
	}
	level, err := gate.ParseConfirm(confirm)
	if err != nil {
		return usagef("%s: %v", c.source("confirm"), err)
	}
	if c.noConfirmation {
		if c.set("confirm") && level != gate.ConfirmNone {
			return usagef("%s means --confirm none, but %s says %s: give one of them", c.source("no-confirmation"), c.source("confirm"), level)
		}
		level = gate.ConfirmNone
	}
	c.confirm = level
	if level == gate.ConfirmNone && !c.readOnly {
		via := c.source("confirm")
		if c.noConfirmation {
			via = c.source("no-confirmation")
		}
		c.warnings = append(c.warnings, via+": changes, deletes included, run without a person's yes; only --allow-write and the guardrails stand before them")
	}
	return nil
}

// readOnlyAdvice ends a refused change: what the operator does to allow
// changes.
func (c *config) readOnlyAdvice() string {
	restart := "Restart the server"
	if c.command == "call" {
		restart = "Run the command again"
	}
	switch {
	case c.readOnlyFlag && c.allowWrite:
		return fmt.Sprintf("The server was started with %s, which wins over %s; %s without it to allow changes",
			c.source("readonly"), c.source("allow-write"), strings.ToLower(restart[:1])+restart[1:])
	case c.readOnlyFlag:
		return fmt.Sprintf("The server was started with %s; %s without it and with --allow-write (or IAM_MCP_ALLOW_WRITE=true) to allow changes",
			c.source("readonly"), strings.ToLower(restart[:1])+restart[1:])
	}
	return restart + " with --allow-write (or IAM_MCP_ALLOW_WRITE=true) to allow changes"
}

// unmatched is a --tools or --exclude-tools pattern that no built-in tool
// satisfies, left for the plugins' tools to match.
type unmatched struct {
	flag, pattern string
	hint          string // why no built-in tool counts, when one would have
}

// selectTools resolves --toolsets, --tools and --exclude-tools: the
// built-in tools exposed are the toolsets' operations that the filter
// shows; the operations excluded are every catalogue operation an
// --exclude-tools pattern matches, exposed or not (a plugin could call
// it). --tools picks from the toolsets, never past them: it narrows what
// --toolsets exposes, so that one flag decides the families on offer.
//
// Every pattern must match a tool: a typo must not silently expose or
// hide. A pattern only a plugin tool could match is left for open to
// check once the plugins are loaded; without --plugins it is an error.
func (c *config) selectTools() error {
	offered, err := mcpserver.ResolveToolsets(c.toolsets)
	if err != nil {
		return usagef("%s: %v", c.source("toolsets"), err)
	}
	if c.filter, err = mcpserver.ParseToolFilter(c.include, c.exclude); err != nil {
		var vars []string // the message says --tools; say which variable set it
		for _, f := range []string{"tools", "exclude-tools"} {
			if c.set(f) && !strings.HasPrefix(c.source(f), "--") {
				vars = append(vars, c.source(f))
			}
		}
		if len(vars) > 0 {
			return usagef("%v (set by %s)", err, strings.Join(vars, " and "))
		}
		return &usageError{err.Error()}
	}
	c.tools = make([]catalogue.Tool, 0, len(offered))
	for _, op := range offered {
		if c.filter.Shows(op.Name) {
			c.tools = append(c.tools, op)
		}
	}
	c.excluded = map[string]bool{}
	for _, op := range api.All() {
		if c.filter.Excludes(op.Name) {
			c.excluded[op.Name] = true
		}
	}

	include, exclude := c.filter.Patterns()
	c.pluginPatterns = nil
	for _, p := range include {
		if slices.ContainsFunc(offered, func(t catalogue.Tool) bool { return match(p, t.Name) }) {
			continue
		}
		u := unmatched{flag: c.source("tools"), pattern: p}
		var sets []string
		for _, t := range catalogue.Tools() {
			if match(p, t.Name) && !slices.Contains(sets, string(t.Toolset)) {
				sets = append(sets, string(t.Toolset))
			}
		}
		if len(sets) > 0 {
			u.hint = fmt.Sprintf("--tools picks from the toolsets, and what it matches is in %s, which %s %s does not expose: add it, as in --toolsets %s,%s",
				strings.Join(sets, ", "), c.source("toolsets"), quoted(c.toolsets), c.toolsets, strings.Join(sets, ","))
		}
		c.pluginPatterns = append(c.pluginPatterns, u)
	}
	for _, p := range exclude {
		if !slices.ContainsFunc(api.All(), func(op api.Operation) bool { return match(p, op.Name) }) {
			c.pluginPatterns = append(c.pluginPatterns, unmatched{flag: c.source("exclude-tools"), pattern: p})
		}
	}
	if c.plugins == "" {
		if len(c.pluginPatterns) > 0 {
			return c.pluginPatterns[0].error(false)
		}
		if len(c.tools) == 0 {
			return usagef("%s and %s leave no tool to expose (exclusion wins); change one of them", c.source("tools"), c.source("exclude-tools"))
		}
	}
	return nil
}

// error is the usage error of a pattern that matched no tool.
func (u unmatched) error(plugins bool) error {
	what := "no tool"
	if plugins {
		what = "no tool, built-in or of the plugins,"
	}
	msg := fmt.Sprintf("%s: %s matches %s so it would expose or hide nothing", u.flag, quoted(u.pattern), what)
	if u.hint != "" {
		return usagef("%s; %s", msg, u.hint)
	}
	return usagef("%s; list the tools with \"iam-mcp-server tools --toolsets all\" (and --plugins FILE)", msg)
}

// checkPluginPatterns checks the patterns no built-in tool matched against
// the loaded plugins' tools, and that some tool is left to expose.
func (c *config) checkPluginPatterns(names []string) error {
	for _, u := range c.pluginPatterns {
		if !slices.ContainsFunc(names, func(n string) bool { return match(u.pattern, n) }) {
			return u.error(true)
		}
	}
	shown := len(c.tools)
	for _, n := range names {
		if c.filter.Shows(n) {
			shown++
		}
	}
	if shown == 0 && (c.set("tools") || c.set("exclude-tools")) {
		return usagef("%s and %s leave no tool to expose, built-in or of the plugins (exclusion wins); change one of them", c.source("tools"), c.source("exclude-tools"))
	}
	return nil
}

// match is path.Match as the tool filter uses it; ParseToolFilter already
// refused a malformed pattern.
func match(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

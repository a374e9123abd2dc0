package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/private"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// config is everything serve, call, tools, policy and plugins list need,
// built once from the command line. open is the one place that turns it
// into a gate (and, with --plugins, the plugin runtime behind its own gate).
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
	tools []api.Operation
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

	local      bool
	localSeed  string // "" for none
	localState string

	secretsDir    string // "" for the default, decided in open
	returnSecrets bool
	allowRisky    bool
	auditLog      string

	plugins  string // --plugins FILE; "" for none
	cacheDir string // --cache-dir; "" for the default, decided in open

	logLevel slog.Level

	version bool   // --version
	args    string // call: --args
	yes     bool   // call: --yes

	// from says where each flag that was set came from: "--name" for the
	// command line, the variable's name for the environment; messages
	// about a value name what the operator actually wrote.
	from map[string]string
	// warnings are said on stderr when the server or call starts.
	warnings []string
}

// The shared flags, documented once for every command's usage.
const flagsHelp = `Flags (for serve, call, tools, policy and plugins list; they may also follow the arguments):
  --allow-write          allow the operations that change IAM; without it the server is read-only:
                         mutating tools stay listed, marked disabled, and answer dry_run: true
  --readonly             refuse every change, whoever asks, even with --allow-write (it wins)
  --confirm LEVEL        which changes need a person's yes before they run, asked through the MCP client
                         (by call, on the terminal): destructive (delete, overwrite, cut off access),
                         writes (every change) or none (default "destructive")
  --no-confirmation      the same as --confirm none (the AWS Labs server's spelling)
  --toolsets LIST        the tools to expose: default, all, or a comma-separated list of users, groups,
                         roles, policies, inline, credentials, simulation, policy, account (may include
                         default)
                         (default "default")
  --tools LIST           expose only the tools matching these comma-separated names or globs (list_*,
                         *_policy): built-in tools picked from --toolsets, and plugin tools
  --exclude-tools LIST   hide the tools matching these names or globs, built-in or plugin; an excluded
                         operation is refused to every caller, plugins included; exclusion wins over
                         --tools. A pattern of either list that matches no tool stops the start
  --region REGION        AWS region for STS and request signing (default: the AWS configuration, else
                         us-east-1)
  --profile NAME         profile of the shared AWS configuration (default: AWS_PROFILE, else "default")
  --endpoint-url URL     send IAM and STS requests to URL (a proxy, or "iam-mcp-server sandbox")
  --expect-account ID    refuse every call unless the credentials belong to this 12-digit account
  --local                use the embedded IAM sandbox, in process: no AWS account, configuration or
                         credentials are read (account 123456789012)
  --local-seed NAME      with --local: seed a new sandbox account, "none" or "demo" (default "none")
  --local-state FILE     with --local: keep the sandbox account in FILE, loaded at start and saved
                         after every change (default: in memory, lost at exit)
  --secrets-dir DIR      where new secret access keys are written, one 0600 file each, and the key
                         that seals plugins' state (state-seal.key) is kept (default: the user config
                         dir's iam-mcp-server/secrets; with --local, the user cache dir's
                         iam-mcp-server/local-secrets)
  --return-secrets       return new secret access keys inline, once, instead of writing a file
  --allow-risky-policies write policies the guardrails call risky (admin-equivalent, privilege
                         escalation on *, trust open to anyone or to another account without a
                         condition), listing the risks as warnings; refused otherwise
  --audit-log FILE       append one JSON line per decided call to FILE (created 0600); off by default
  --plugins FILE         load the Wasm plugins FILE lists (YAML: path, sha256, prefix, grants, config,
                         limits; see docs/plugins.md) and serve their tools next to the built-in ones; a
                         plugin that cannot load stops the start
  --cache-dir DIR        with --plugins: keep compiled plugins in DIR, created 0700 (default: the user
                         cache dir's iam-mcp-server/wasm-cache)
  --log-level LEVEL      debug, info, warn or error; logs go to stderr (default "warn")
  --version              print the version and exit

Each flag but --version (and call's --args and --yes) can also come from the environment, as
IAM_MCP_ and its name in upper case, dashes as underscores: IAM_MCP_ALLOW_WRITE=true,
IAM_MCP_TOOLSETS=all, IAM_MCP_EXCLUDE_TOOLS=delete_*. A flag on the command line wins over its
variable; an empty variable counts as unset (but an empty IAM_MCP_EXPECT_ACCOUNT is refused);
booleans take true, false, 1 or 0.

The AWS environment variables (AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, ...) and the shared config and credentials files work as in every AWS tool.
`

// commandUsage is each command's synopsis.
var commandUsage = map[string]string{
	"serve": `Usage: iam-mcp-server [serve] [flags]

Serves the IAM tools over MCP on stdin and stdout, for an MCP client (Claude Desktop, Cursor,
Amazon Q CLI, VS Code, Cline) to start. Read-only unless --allow-write; a change that --confirm
covers runs only after the person says yes through the client. Logs go to stderr.
`,
	"call": `Usage: iam-mcp-server call TOOL [--args JSON|@FILE|-] [--yes] [flags]

Runs one operation through the same checks as the MCP server (--allow-write, --readonly,
--confirm, --exclude-tools, --expect-account, the audit log) and prints its result as JSON.
Every operation can be called, whatever --toolsets and --tools expose; with --plugins, so can
every plugin tool (its progress is logged at --log-level info). A change that --confirm covers
is shown on the terminal (its IAM calls, what it affects, the guardrails' findings, whether it
can be undone) and runs only on "y"; without a terminal it is refused unless --yes is given.
Exit status: 0 on success, 1 when the operation fails or is declined (the error is printed on
stderr as "<Code>: <message>"), 2 for a usage error.

  --args JSON|@FILE|-    the operation's arguments: a JSON object, @FILE to read it from FILE,
                         or - to read it from stdin (default {}); the question is then asked on
                         the controlling terminal
  --yes                  approve the change without asking, for scripts (--allow-write is still
                         needed to change anything)
`,
	"tools": `Usage: iam-mcp-server tools [flags]

Lists the tools the server exposes with these flags (--toolsets, --tools, --exclude-tools), one
per line: name, toolset, and read or write, in catalogue order; with --plugins, the plugins'
tools follow, their toolset "plugin:<name>".
`,
	"policy": `Usage: iam-mcp-server policy [--allow-write] [--readonly] [--toolsets LIST] [--tools LIST]
                            [--exclude-tools LIST] [--plugins FILE]

Prints the least-privilege IAM policy the server's credentials need for the tools exposed with
these flags: only the actions of tools that change nothing, unless --allow-write (without
--readonly) lets them write. With --plugins, the operations granted to the plugins count too,
but no excluded one; the plugins are not loaded, so a --tools or --exclude-tools pattern that
no built-in tool matches is taken to name a plugin tool.
`,
	"plugins": `Usage: iam-mcp-server plugins list --plugins FILE [flags]
       iam-mcp-server plugins inspect FILE.wasm

  list      loads the plugins FILE lists, as the server would, and prints each: its path and
            sha256, its tools (full names), the operations it asks for and those granted, and
            its limits. A plugin that cannot load is an error naming it (exit status 1).
  inspect   prints a module's sha256 and what its describe export returns, as indented JSON,
            so that an operator can write its entry (hash and grants) in the plugins file.
`,
	"plugins list": `Usage: iam-mcp-server plugins list --plugins FILE [flags]

Loads the plugins FILE lists, as the server would with these flags, and prints each: its path
and sha256, its tools (full names), the operations it asks for and those granted, and its
limits. A plugin that cannot load is an error naming it (exit status 1).
`,
	"plugins inspect": `Usage: iam-mcp-server plugins inspect FILE.wasm

Prints a module's sha256 and what its describe export returns (name, version, tools, and the
operations each tool asks for), as indented JSON, so that an operator can write its entry in
the plugins file. The module runs only its describe export, with no IAM access.
`,
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// parseConfig parses a command's flags, wherever they appear among its
// arguments, and the IAM_MCP_* environment variables (through lookupEnv,
// nil for none) into a validated config. It returns the positional
// arguments. flag.ErrHelp means -h or --help was asked for.
func parseConfig(command string, args []string, lookupEnv func(string) (string, bool)) (config, []string, error) {
	c := config{command: command}
	fs, logLevel, confirm := c.flagSet()
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, nil, err
		}
		return c, nil, &usageError{flagMessage(err)}
	}
	if c.version {
		return c, pos, nil
	}
	c.from = map[string]string{}
	fs.Visit(func(f *flag.Flag) { c.from[f.Name] = "--" + f.Name })
	if err := c.fromEnvironment(fs, lookupEnv); err != nil {
		return c, nil, err
	}
	if err := c.validate(*logLevel, *confirm); err != nil {
		return c, nil, err
	}
	return c, pos, nil
}

// flagSet declares the flags of c.command, bound to c; the log level and
// the confirmation level are returned to be parsed by validate.
func (c *config) flagSet() (fs *flag.FlagSet, logLevel, confirm *string) {
	fs = flag.NewFlagSet(c.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, in one line
	fs.BoolVar(&c.allowWrite, "allow-write", false, "")
	fs.BoolVar(&c.readOnlyFlag, "readonly", false, "")
	confirm = fs.String("confirm", string(gate.ConfirmDestructive), "")
	fs.BoolVar(&c.noConfirmation, "no-confirmation", false, "")
	fs.StringVar(&c.toolsets, "toolsets", mcpserver.ToolsetDefault, "")
	fs.StringVar(&c.include, "tools", "", "")
	fs.StringVar(&c.exclude, "exclude-tools", "", "")
	fs.StringVar(&c.region, "region", "", "")
	fs.StringVar(&c.profile, "profile", "", "")
	fs.StringVar(&c.endpointURL, "endpoint-url", "", "")
	fs.StringVar(&c.expectAccount, "expect-account", "", "")
	fs.BoolVar(&c.local, "local", false, "")
	fs.StringVar(&c.localSeed, "local-seed", "none", "")
	fs.StringVar(&c.localState, "local-state", "", "")
	fs.StringVar(&c.secretsDir, "secrets-dir", "", "")
	fs.BoolVar(&c.returnSecrets, "return-secrets", false, "")
	fs.BoolVar(&c.allowRisky, "allow-risky-policies", false, "")
	fs.StringVar(&c.auditLog, "audit-log", "", "")
	fs.StringVar(&c.plugins, "plugins", "", "")
	fs.StringVar(&c.cacheDir, "cache-dir", "", "")
	logLevel = fs.String("log-level", "warn", "")
	fs.BoolVar(&c.version, "version", false, "")
	if c.command == "call" {
		fs.StringVar(&c.args, "args", "", "")
		fs.BoolVar(&c.yes, "yes", false, "")
	}
	return fs, logLevel, confirm
}

// notFromEnvironment are the flags no variable sets. --version and --args
// are one command line's business. --yes is a person's approval of the
// change in front of them: a variable would outlive that one command and
// approve every later one run from the same shell or script.
var notFromEnvironment = map[string]bool{"version": true, "args": true, "yes": true}

// envName is the variable of a flag: IAM_MCP_ and the flag's name in upper
// case, dashes as underscores. It is derived, never listed, so the
// variables cannot drift from the flags.
func envName(flagName string) string {
	return "IAM_MCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fromEnvironment sets each flag the command line did not set from its
// variable, when that is set and not empty. --confirm and
// --no-confirmation are one setting: either on the command line makes the
// command line decide it, so that a flag always wins over a variable.
func (c *config) fromEnvironment(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		return nil
	}
	cmdline := func(name string) bool { return strings.HasPrefix(c.from[name], "--") }
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || notFromEnvironment[f.Name] || cmdline(f.Name) {
			return
		}
		if (f.Name == "confirm" || f.Name == "no-confirmation") && (cmdline("confirm") || cmdline("no-confirmation")) {
			return
		}
		name := envName(f.Name)
		v, ok := lookupEnv(name)
		switch {
		case !ok:
			return
		case v == "" && f.Name == "expect-account":
			// As for the empty flag: whoever set the variable meant to pin
			// an account, and a template that failed to fill it in must
			// not run against whatever the credentials reach.
			err = usagef("%s is set but empty: set it to the 12-digit account id the credentials must belong to, or unset it to not pin an account", name)
			return
		case v == "":
			return // an empty variable counts as unset
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			// Exactly these four: the flag package would also take "t",
			// "T" or "TRUE", and a client config's "yes" or "on" must not
			// be read as anything.
			if v != "true" && v != "false" && v != "1" && v != "0" {
				err = usagef("%s=%s: use true, false, 1 or 0", name, quoted(v))
				return
			}
		}
		if serr := f.Value.Set(v); serr != nil {
			err = usagef("%s=%s: %v", name, quoted(v), serr)
			return
		}
		c.from[f.Name] = name
	})
	return err
}

// set reports whether a flag was set, on the command line or by its
// variable.
func (c *config) set(name string) bool { return c.from[name] != "" }

// source names where a flag's value came from, for a message: "--name",
// or "IAM_MCP_NAME" when its variable set it.
func (c *config) source(name string) string {
	if s := c.from[name]; s != "" {
		return s
	}
	return "--" + name
}

// parseInterspersed lets flags follow positional arguments ("call list_users
// --local"), which the flag package alone stops at. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage rewords the flag package's errors with the double dash the
// usage text shows: "flag provided but not defined: -x" becomes
// "unknown flag --x".
func flagMessage(err error) string {
	msg := strings.Replace(err.Error(), "flag provided but not defined: ", "unknown flag ", 1)
	return singleDash.ReplaceAllString(msg, "$1--$2")
}

var singleDash = regexp.MustCompile(`(^|[\s:])-([a-z])`)

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

	if c.local {
		var bad []string
		for _, f := range []string{"region", "profile", "endpoint-url"} {
			if c.set(f) {
				bad = append(bad, c.source(f))
			}
		}
		if len(bad) > 0 {
			return usagef("%s cannot be used with %s: --local runs the embedded sandbox in process and reads no AWS configuration; drop %s, or drop --local to use AWS",
				strings.Join(bad, " and "), c.source("local"), strings.Join(bad, " and "))
		}
	} else {
		for _, f := range []string{"local-seed", "local-state"} {
			if c.set(f) {
				return usagef("%s only applies with --local (the embedded sandbox)", c.source(f))
			}
		}
	}
	switch seed := c.localSeed; {
	case seed == "none" || seed == "":
		c.localSeed = ""
	case !slices.Contains(sandbox.SeedNames(), seed):
		return usagef("%s %s: use none or %s", c.source("local-seed"), quoted(seed), strings.Join(sandbox.SeedNames(), ", "))
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
		{"local-state", c.localState}, {"plugins", c.plugins}, {"cache-dir", c.cacheDir}} {
		if c.set(f.name) && strings.TrimSpace(f.value) == "" {
			return usagef("%s needs a path", c.source(f.name))
		}
	}
	if c.set("cache-dir") && c.plugins == "" {
		return usagef("%s only applies with --plugins (it caches compiled plugins)", c.source("cache-dir"))
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
	c.tools = make([]api.Operation, 0, len(offered))
	for _, op := range offered {
		if c.filter.Shows(op.Name) {
			c.tools = append(c.tools, op)
		}
	}
	c.excluded = map[string]bool{}
	for _, op := range api.Operations {
		if c.filter.Excludes(op.Name) {
			c.excluded[op.Name] = true
		}
	}

	include, exclude := c.filter.Patterns()
	c.pluginPatterns = nil
	for _, p := range include {
		if slices.ContainsFunc(offered, func(op api.Operation) bool { return match(p, op.Name) }) {
			continue
		}
		u := unmatched{flag: c.source("tools"), pattern: p}
		var sets []string
		for _, op := range api.Operations {
			if match(p, op.Name) && !slices.Contains(sets, string(op.Toolset)) {
				sets = append(sets, string(op.Toolset))
			}
		}
		if len(sets) > 0 {
			u.hint = fmt.Sprintf("--tools picks from the toolsets, and what it matches is in %s, which %s %s does not expose: add it, as in --toolsets %s,%s",
				strings.Join(sets, ", "), c.source("toolsets"), quoted(c.toolsets), c.toolsets, strings.Join(sets, ","))
		}
		c.pluginPatterns = append(c.pluginPatterns, u)
	}
	for _, p := range exclude {
		if !slices.ContainsFunc(api.Operations, func(op api.Operation) bool { return match(p, op.Name) }) {
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

// logger writes the configured level and above to w (stderr).
func (c config) logger(w io.Writer) *slog.Logger {
	return slog.New(c.logHandler(w))
}

func (c config) logHandler(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: c.logLevel})
}

// warn says the configuration's warnings, for a command that may change
// IAM (serve and call).
func (c config) warn(logger *slog.Logger) {
	for _, w := range c.warnings {
		logger.Warn(w)
	}
}

// openFailure reports an error of open: a pattern of --tools or
// --exclude-tools that matched no plugin tool either is a usage error
// (status 2), anything else a failure to start (status 1).
func openFailure(stderr io.Writer, command string, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return usageFailure(stderr, command, ue)
	}
	fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
	return 1
}

// wiring is what open builds: the gate of the built-in tools and of the
// command line, and the plugin runtime (with --plugins) behind its own gate.
type wiring struct {
	gate    *gate.Gate
	plugins *plugin.Runtime // nil without --plugins
	close   func()       // releases the plugins, then the audit log
}

// open wires what serve, call, tools and plugins list share, in this order:
// the sandbox (with --local) or the AWS configuration, the SDK clients, the
// catalogue with its secrets directory, the audit log, the gate in front of
// it all and, with --plugins, the plugins.
//
// The plugins get a gate of their own over a catalogue of their own on the
// same clients: the same read-only mode, confirmation level, exclusions,
// expected account and audit log,
// but a catalogue that never returns a secret inline — a key created on a
// plugin's behalf always goes to the secrets directory, whatever
// --return-secrets says, since a plugin is code the operator may not trust.
// w.close releases everything; on error open has released what it built.
func (c config) open(ctx context.Context, logger *slog.Logger) (_ *wiring, err error) {
	opts := catalogue.ClientOptions{Region: c.region, Profile: c.profile, EndpointURL: c.endpointURL}
	// The embedded sandbox saves what reads recorded (keys' last use) at
	// most once a second; Close saves the rest when the server stops.
	closeSandbox := func() {}
	if c.local {
		sb, serr := sandbox.New(sandbox.Options{Seed: c.localSeed, StateFile: c.localState, Logger: logger.With("component", "sandbox")})
		if serr != nil {
			return nil, fmt.Errorf("cannot start the embedded sandbox: %w", serr)
		}
		opts.Local = sb.Transport()
		closeSandbox = func() {
			if cerr := sb.Close(); cerr != nil {
				logger.Error("saving the sandbox state", "err", cerr)
			}
		}
		defer func() {
			if err != nil {
				closeSandbox()
			}
		}()
	}
	clients, err := catalogue.NewClients(ctx, opts)
	if err != nil {
		return nil, err
	}

	dir, err := c.secretsDirectory()
	if err != nil {
		return nil, err
	}
	if err := (catalogue.SecretFiles{Dir: dir}).Check(); err != nil {
		return nil, err
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: dir}, ReturnSecrets: c.returnSecrets, AllowRiskyPolicies: c.allowRisky})
	if err != nil {
		return nil, err
	}

	w := &wiring{close: closeSandbox}
	gopts := gate.Options{ReadOnly: c.readOnly, ReadOnlyAdvice: c.readOnlyAdvice(), Confirm: c.confirm,
		Excluded: c.excluded, ExpectAccount: c.expectAccount}
	if c.auditLog != "" {
		audit, fixed, err := private.OpenAppend(c.auditLog)
		if err != nil {
			return nil, fmt.Errorf("cannot open the audit log: %w", err)
		}
		if fixed != "" {
			logger.Warn("--audit-log: " + fixed)
		}
		w.close = func() {
			if err := audit.Close(); err != nil {
				logger.Error("closing the audit log", "path", c.auditLog, "err", err)
			}
			closeSandbox()
		}
		// Two gates write to it: one lock keeps their lines whole.
		gopts.Audit = &syncWriter{w: audit}
	}
	if c.allowRisky {
		logger.Warn("--allow-risky-policies: policy writes the guardrails call risky (admin-equivalent, privilege escalation on *, open trust) are made, with the risks as warnings, instead of refused")
	}
	if c.returnSecrets {
		logger.Warn("--return-secrets: new secret access keys will be returned to the caller (and so reach the assistant's context) instead of being written to a file")
	}
	logger.Debug("configuration", "readonly", c.readOnly, "allow_write", c.allowWrite, "confirm", c.confirm,
		"toolsets", c.toolsets, "tools", c.include, "exclude_tools", c.exclude, "excluded", len(c.excluded), "local", c.local, "seed", c.localSeed, "state", c.localState,
		"secrets_dir", dir, "audit_log", c.auditLog, "expect_account", c.expectAccount, "region", c.region, "profile", c.profile,
		"endpoint_url", c.endpointURL, "plugins", c.plugins, "cache_dir", c.cacheDir)
	w.gate = gate.New(cat, gopts)
	if c.plugins == "" {
		return w, nil
	}

	defer func() {
		if err != nil {
			w.close()
		}
	}()
	pcfg, err := plugin.LoadConfig(c.plugins)
	if err != nil {
		return nil, fmt.Errorf("the plugins file %s: %w", c.plugins, err)
	}
	pcat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: dir}, ReturnSecrets: false, AllowRiskyPolicies: c.allowRisky})
	if err != nil {
		return nil, err
	}
	cacheDir, err := c.cacheDirectory()
	if err != nil {
		return nil, err
	}
	builtins := make([]string, len(c.tools))
	for i, op := range c.tools {
		builtins[i] = op.Name
	}
	start := time.Now()
	host, err := plugin.Load(ctx, pcfg, plugin.Options{
		Gate:     gate.New(pcat, gopts),
		CacheDir: cacheDir,
		Logger:   logger.With("component", "plugins"),
		Account:  accountOf(pcat),
		Builtins: builtins,
		Secrets:  catalogue.SecretFiles{Dir: dir},
		// secret_file_remove removes there what pcat wrote; state_seal
		// keeps its key there.
		SecretsDir: dir,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot load the plugins of %s: %w", c.plugins, err)
	}
	names := make([]string, 0, len(host.Tools()))
	for _, t := range host.Tools() {
		names = append(names, t.Name)
	}
	if err := c.checkPluginPatterns(names); err != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if cerr := host.Close(cctx); cerr != nil {
			logger.Error("closing the plugins", "err", cerr)
		}
		return nil, err
	}
	logger.Info("plugins loaded", "file", c.plugins, "plugins", len(pcfg.Plugins), "tools", len(host.Tools()), "cache_dir", cacheDir, "took", time.Since(start))
	w.plugins = host
	releaseAudit := w.close
	w.close = func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := host.Close(cctx); err != nil {
			logger.Error("closing the plugins", "err", err)
		}
		releaseAudit()
	}
	return w, nil
}

// accountOf answers the plugins' host_info: the account id and partition of
// the credentials, from get_account_info run on the catalogue directly (it
// is the host's own question, not the plugin's call, so it is neither
// granted nor audited), remembered once known. Without the permission
// get_account_info needs beyond STS, the account id alone is known and the
// partition is taken to be "aws".
func accountOf(cat *catalogue.Catalogue) func(ctx context.Context) (string, string, error) {
	var mu sync.Mutex
	var id, partition string
	return func(ctx context.Context) (string, string, error) {
		mu.Lock()
		defer mu.Unlock()
		if id != "" {
			return id, partition, nil
		}
		out, err := cat.Call(ctx, "get_account_info", nil)
		if info, ok := out.(*api.AccountInfoOutput); err == nil && ok && info.AccountID != "" {
			id, partition = info.AccountID, info.Partition
			return id, partition, nil
		}
		acct, aerr := cat.Account(ctx)
		if aerr != nil {
			return "", "", aerr
		}
		id, partition = acct, "aws"
		return id, partition, nil
	}
}

// syncWriter makes each Write whole with respect to the others.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// cacheDirectory is --cache-dir, or the user's cache directory's
// iam-mcp-server/wasm-cache. The runtime creates it 0700 and refuses one
// another user owns: it holds machine code that runs without the sha256
// check.
func (c config) cacheDirectory() (string, error) {
	if c.cacheDir != "" {
		return c.cacheDir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the compiled plugins (%v); pass --cache-dir", err)
	}
	return filepath.Join(base, "iam-mcp-server", "wasm-cache"), nil
}

// secretsDirectory is --secrets-dir, or the default: the user's config
// directory for real keys, and a separate one under the user's cache
// directory for the sandbox's, so that fake keys never mix with real ones.
func (c config) secretsDirectory() (string, error) {
	if c.secretsDir != "" {
		return c.secretsDir, nil
	}
	if !c.local {
		return catalogue.DefaultSecretsDir()
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the sandbox's secrets (%v); pass --secrets-dir", err)
	}
	return filepath.Join(base, "iam-mcp-server", "local-secrets"), nil
}

// quoted quotes a value from outside for a message: escaped, and no more
// than a short prefix of it (args.Quote, under a name no parameter called
// args shadows).
func quoted(s string) string { return args.Quote(s) }

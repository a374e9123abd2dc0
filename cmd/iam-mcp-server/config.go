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
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/iam"
	"github.com/iammcp/iam-mcp-server/host/localiam"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/internal/private"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// config is everything serve, call, tools, policy and plugins list need,
// built once from the command line. open is the one place that turns it
// into a gate (and, with --plugins, the plugin runtime behind its own gate).
type config struct {
	command string // serve, call, tools, policy or "plugins list"

	readOnly bool
	toolsets string
	tools    []api.Operation // toolsets, resolved

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
}

// The shared flags, documented once for every command's usage.
const flagsHelp = `Flags (for serve, call, tools, policy and plugins list; they may also follow the arguments):
  --readonly             refuse every operation that changes IAM, whoever asks; mutating tools stay
                         listed, their description saying they are disabled
  --toolsets LIST        the tools to expose: default, all, or a comma-separated list of users, groups,
                         roles, policies, inline, credentials, simulation, policy, account (may include
                         default)
                         (default "default")
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
  --secrets-dir DIR      where new secret access keys are written, one 0600 file each (default: the
                         user config dir's iam-mcp-server/secrets; with --local, the user cache dir's
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

The AWS environment variables (AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, ...) and the shared config and credentials files work as in every AWS tool.
`

// commandUsage is each command's synopsis.
var commandUsage = map[string]string{
	"serve": `Usage: iam-mcp-server [serve] [flags]

Serves the IAM tools over MCP on stdin and stdout, for an MCP client (Claude Desktop, Cursor,
Amazon Q CLI, VS Code, Cline) to start. Logs go to stderr.
`,
	"call": `Usage: iam-mcp-server call TOOL [--args JSON|@FILE|-] [flags]

Runs one operation through the same checks as the MCP server (--readonly, --expect-account,
the audit log) and prints its result as JSON. Every operation can be called, whatever
--toolsets exposes; with --plugins, so can every plugin tool (its progress is logged at
--log-level info). Exit status: 0 on success, 1 when the operation fails (the error is
printed on stderr as "<Code>: <message>"), 2 for a usage error.

  --args JSON|@FILE|-    the operation's arguments: a JSON object, @FILE to read it from FILE,
                         or - to read it from stdin (default {})
`,
	"tools": `Usage: iam-mcp-server tools [flags]

Lists the tools the server exposes with these flags, one per line: name, toolset, and read or
write, in catalogue order; with --plugins, the plugins' tools follow, their toolset
"plugin:<name>".
`,
	"policy": `Usage: iam-mcp-server policy [--readonly] [--toolsets LIST] [--plugins FILE]

Prints the least-privilege IAM policy the server's credentials need for the tools exposed with
these flags (with --readonly, only the actions of tools that change nothing); with --plugins,
the operations granted to the plugins count too.
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
// arguments, into a validated config. It returns the positional arguments.
// flag.ErrHelp means -h or --help was asked for.
func parseConfig(command string, args []string) (config, []string, error) {
	c := config{command: command}
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, in one line
	fs.BoolVar(&c.readOnly, "readonly", false, "")
	fs.StringVar(&c.toolsets, "toolsets", mcpserver.ToolsetDefault, "")
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
	logLevel := fs.String("log-level", "warn", "")
	fs.BoolVar(&c.version, "version", false, "")
	if command == "call" {
		fs.StringVar(&c.args, "args", "", "")
	}

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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := c.validate(set, *logLevel); err != nil {
		return c, nil, err
	}
	return c, pos, nil
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

// validate checks the values and their combinations; set holds the flags
// given on the command line.
func (c *config) validate(set map[string]bool, logLevel string) error {
	tools, err := mcpserver.ResolveToolsets(c.toolsets)
	if err != nil {
		return usagef("--toolsets: %v", err)
	}
	c.tools = tools

	if c.logLevel, err = parseLevel(logLevel); err != nil {
		return &usageError{err.Error()}
	}

	if c.local {
		var bad []string
		for _, f := range []string{"region", "profile", "endpoint-url"} {
			if set[f] {
				bad = append(bad, "--"+f)
			}
		}
		if len(bad) > 0 {
			return usagef("%s cannot be used with --local: --local runs the embedded sandbox in process and reads no AWS configuration; drop %s, or drop --local to use AWS",
				strings.Join(bad, " and "), strings.Join(bad, " and "))
		}
	} else {
		for _, f := range []string{"local-seed", "local-state"} {
			if set[f] {
				return usagef("--%s only applies with --local (the embedded sandbox)", f)
			}
		}
	}
	switch seed := c.localSeed; {
	case seed == "none" || seed == "":
		c.localSeed = ""
	case !slices.Contains(localiam.SeedNames(), seed):
		return usagef("--local-seed %q: use none or %s", seed, strings.Join(localiam.SeedNames(), ", "))
	}

	if set["expect-account"] && strings.TrimSpace(c.expectAccount) == "" {
		// An empty value must not read as "no pin": whoever wrote the flag
		// meant to pin an account, and a template that failed to fill it in
		// would otherwise run against whatever the credentials reach.
		return usagef("--expect-account needs the 12-digit account id the credentials must belong to; leave the flag out to not pin an account")
	}
	if c.expectAccount != "" && !accountID.MatchString(c.expectAccount) {
		return usagef("--expect-account %q: an AWS account id is 12 digits", c.expectAccount)
	}
	if c.endpointURL != "" {
		u, err := url.Parse(c.endpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--endpoint-url %q: use an http:// or https:// URL such as http://127.0.0.1:4599", c.endpointURL)
		}
	}
	for f, v := range map[string]string{"secrets-dir": c.secretsDir, "audit-log": c.auditLog, "local-state": c.localState,
		"plugins": c.plugins, "cache-dir": c.cacheDir} {
		if set[f] && strings.TrimSpace(v) == "" {
			return usagef("--%s needs a path", f)
		}
	}
	if set["cache-dir"] && c.plugins == "" {
		return usagef("--cache-dir only applies with --plugins (it caches compiled plugins)")
	}
	if c.command == "plugins list" && c.plugins == "" {
		return usagef("which plugins? Name the plugins file with --plugins FILE")
	}
	return nil
}

// logger writes the configured level and above to w (stderr).
func (c config) logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: c.logLevel}))
}

// wiring is what open builds: the gate of the built-in tools and of the
// command line, and the plugin runtime (with --plugins) behind its own gate.
type wiring struct {
	gate    *gate.Gate
	plugins *plugin.Host // nil without --plugins
	close   func()       // releases the plugins, then the audit log
}

// open wires what serve, call, tools and plugins list share, in this order:
// the sandbox (with --local) or the AWS configuration, the SDK clients, the
// catalogue with its secrets directory, the audit log, the gate in front of
// it all and, with --plugins, the plugins.
//
// The plugins get a gate of their own over a catalogue of their own on the
// same clients: the same read-only mode, expected account and audit log,
// but a catalogue that never returns a secret inline — a key created on a
// plugin's behalf always goes to the secrets directory, whatever
// --return-secrets says, since a plugin is code the operator may not trust.
// w.close releases everything; on error open has released what it built.
func (c config) open(ctx context.Context, logger *slog.Logger) (_ *wiring, err error) {
	opts := iam.ClientOptions{Region: c.region, Profile: c.profile, EndpointURL: c.endpointURL}
	if c.local {
		sb, err := localiam.New(localiam.Options{Seed: c.localSeed, StateFile: c.localState, Logger: logger.With("component", "sandbox")})
		if err != nil {
			return nil, fmt.Errorf("cannot start the embedded sandbox: %w", err)
		}
		opts.Local = sb.Transport()
	}
	clients, err := iam.NewClients(ctx, opts)
	if err != nil {
		return nil, err
	}

	dir, err := c.secretsDirectory()
	if err != nil {
		return nil, err
	}
	if err := (iam.SecretFiles{Dir: dir}).Check(); err != nil {
		return nil, err
	}
	cat, err := iam.New(clients, iam.Options{Secrets: iam.SecretFiles{Dir: dir}, ReturnSecrets: c.returnSecrets, AllowRiskyPolicies: c.allowRisky})
	if err != nil {
		return nil, err
	}

	w := &wiring{close: func() {}}
	gopts := gate.Options{ReadOnly: c.readOnly, ExpectAccount: c.expectAccount}
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
	logger.Debug("configuration", "readonly", c.readOnly, "local", c.local, "seed", c.localSeed, "state", c.localState,
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
	pcat, err := iam.New(clients, iam.Options{Secrets: iam.SecretFiles{Dir: dir}, ReturnSecrets: false, AllowRiskyPolicies: c.allowRisky})
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
		Secrets:  iam.SecretFiles{Dir: dir},
	})
	if err != nil {
		return nil, fmt.Errorf("cannot load the plugins of %s: %w", c.plugins, err)
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
func accountOf(cat *iam.Catalogue) func(ctx context.Context) (string, string, error) {
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
		return iam.DefaultSecretsDir()
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the sandbox's secrets (%v); pass --secrets-dir", err)
	}
	return filepath.Join(base, "iam-mcp-server", "local-secrets"), nil
}

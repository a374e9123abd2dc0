package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/host/accounts"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/host/secretlink"
	"github.com/iammcp/iam-mcp-server/internal/private"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// wiring is what open builds: the gate of the built-in tools and of the
// command line, and the plugin runtime (with --plugins) behind its own gate.
type wiring struct {
	gate    *gate.Gate
	plugins *plugin.Runtime // nil without --plugins
	// links holds new secrets behind one-time links in HTTP mode (serve
	// --http), mounted by the HTTP server; nil otherwise.
	links *secretlink.Store
	close func() // releases the plugins, then the audit log
	// loadPlugins loads the plugin set from the plugins file as it is now
	// (nil without --plugins): at start, and on every reload.
	loadPlugins func(context.Context) (*plugin.Runtime, error)
}

// open wires what serve, call, tools and plugins list share, in this order:
// the configuration's warnings said, the sandbox (with --sandbox) or the
// AWS configuration, the SDK clients, the other accounts (--accounts, or
// the sandbox's organisation: openAccounts), the catalogue with its
// secrets directory, the audit log, the gate in front of it all and, with
// --plugins, the plugins.
//
// The plugins get a gate of their own over a catalogue of their own on the
// same clients (gate.Over): the same read-only mode, confirmation level,
// exclusions, expected account, other accounts and audit log, but a catalogue that never returns a secret inline — a key created on a
// plugin's behalf always goes to the secrets directory (over HTTP, a one-time link), whatever
// --return-secrets says, since a plugin is code the operator may not trust.
// w.close releases everything; on error open has released what it built.
func (c config) open(ctx context.Context, logger *slog.Logger) (_ *wiring, err error) {
	if c.command == "serve" || c.command == "call" {
		// The configuration's warnings, for the commands that may change
		// IAM: --readonly winning, changes without a person's yes.
		for _, w := range c.warnings {
			logger.Warn(w)
		}
	}
	opts := catalogue.ClientOptions{Region: c.region, Profile: c.profile, EndpointURL: c.endpointURL}
	// The embedded sandbox saves what reads recorded (keys' last use) at
	// most once a second; Close saves the rest when the server stops.
	closeSandbox := func() {}
	if c.sandbox {
		sb, serr := sandbox.New(sandbox.Options{Seed: c.sandboxSeed, StateFile: c.sandboxState, Logger: logger.With("component", "sandbox")})
		if serr != nil {
			return nil, fmt.Errorf("cannot start the embedded sandbox: %w", serr)
		}
		opts.Sandbox = sb.Transport()
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
	if c.sandboxOrg() {
		// The organisation's management account is reached as its
		// operator user, as an operator's credentials would be: AWS (and
		// the sandbox) lets no root assume a role, and reaching the
		// members is what the seed is for.
		opts.SandboxKeyID = sandbox.OrgOperatorKeyID
	}
	clients, err := catalogue.NewClients(ctx, opts)
	if err != nil {
		return nil, err
	}
	reg, err := c.openAccounts(ctx, clients, logger)
	if err != nil {
		return nil, err
	}
	// get_account_info lists the accounts as the gate decides them (read-
	// only wins, the server's --confirm where an account sets none); the
	// gate is made below, before any call.
	var g *gate.Gate
	var reachable func() []api.ReachableAccount
	if reg != nil {
		reachable = func() []api.ReachableAccount { return reachableOf(g) }
	}

	dir, err := c.secretsDirectory()
	if err != nil {
		return nil, err
	}
	// Where new secrets go: files in the secrets directory or, over HTTP
	// with authentication, one-time links on this server for the subject
	// who asked (a file on the server is no use to a remote person, and the
	// result would carry the secret through the model). Over HTTP without
	// authentication (loopback only) nobody could be told apart to hand a
	// link to, and the person is on this machine: files, as over stdio.
	// The directory keeps the key that seals the plugins' state either way.
	var sink interface {
		catalogue.SecretSink
		plugin.SecretFiles
	} = catalogue.SecretFiles{Dir: dir}
	var links *secretlink.Store
	if c.http.on() && c.http.authName() != "none" {
		links = secretlink.New(secretlink.Options{BaseURL: c.http.base, TTL: c.http.secretLinkTTL, Logger: logger.With("component", "secretlink")})
		sink = links
	}
	if links == nil || c.plugins != "" {
		if err := (catalogue.SecretFiles{Dir: dir}).Check(); err != nil {
			return nil, err
		}
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: sink, ReturnSecrets: c.returnSecrets, AllowRiskyPolicies: c.allowRisky,
		Accounts: reachable})
	if err != nil {
		return nil, err
	}

	w := &wiring{close: closeSandbox, links: links}
	gopts := gate.Options{ReadOnly: c.readOnly, ReadOnlyAdvice: c.readOnlyAdvice(), Confirm: c.confirm,
		Excluded: c.excluded, ExpectAccount: c.expectAccount}
	if reg != nil {
		gopts.Accounts = reg
	}
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
		// Its only writer is the gate (and the plugins' gate made from it
		// with Over), under one lock.
		gopts.Audit = audit
	}
	if c.allowRisky {
		logger.Warn("--allow-risky-policies: policy writes the guardrails call risky (admin-equivalent, privilege escalation on *, open trust) are made, with the risks as warnings, instead of refused")
	}
	if c.returnSecrets {
		logger.Warn("--return-secrets: new secret access keys will be returned to the caller (and so reach the assistant's context) instead of being written to a file")
	}
	logger.Debug("configuration", "readonly", c.readOnly, "allow_write", c.allowWrite, "confirm", c.confirm,
		"toolsets", c.toolsets, "tools", c.include, "exclude_tools", c.exclude, "excluded", len(c.excluded), "sandbox", c.sandbox, "seed", c.sandboxSeed, "state", c.sandboxState,
		"secrets_dir", dir, "audit_log", c.auditLog, "expect_account", c.expectAccount, "region", c.region, "profile", c.profile,
		"endpoint_url", c.endpointURL, "plugins", c.plugins, "cache_dir", c.cacheDir, "accounts", c.accounts)
	g = gate.New(cat, gopts)
	w.gate = g
	if c.plugins == "" {
		return w, nil
	}

	defer func() {
		if err != nil {
			w.close()
		}
	}()
	pcat, err := catalogue.New(clients, catalogue.Options{Secrets: sink, ReturnSecrets: false, AllowRiskyPolicies: c.allowRisky,
		Accounts: reachable})
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
	// The plugin set is loaded here at start and again, from the file as
	// it is then, on every reload (serve: SIGHUP, --watch).
	w.loadPlugins = func(ctx context.Context) (*plugin.Runtime, error) {
		start := time.Now()
		pcfg, err := plugin.LoadConfig(c.plugins)
		if err != nil {
			return nil, fmt.Errorf("the plugins file %s: %w", c.plugins, err)
		}
		// oci:// entries become verified modules in the cache first: the
		// runtime loads only local files.
		if err := resolvePluginSources(ctx, pcfg, cacheDir, logger.With("component", "pluginreg")); err != nil {
			return nil, fmt.Errorf("the plugins file %s: %w", c.plugins, err)
		}
		host, err := plugin.Load(ctx, pcfg, plugin.Options{
			Gate:     w.gate.Over(pcat),
			CacheDir: cacheDir,
			Logger:   logger.With("component", "plugins"),
			Account:  accountOf(pcat),
			Builtins: builtins,
			Secrets:  sink,
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
			closePlugins(host, logger)
			return nil, err
		}
		logger.Info("plugins loaded", "file", c.plugins, "plugins", len(pcfg.Plugins), "tools", len(host.Tools()), "cache_dir", cacheDir, "took", time.Since(start))
		return host, nil
	}
	host, err := w.loadPlugins(ctx)
	if err != nil {
		return nil, err
	}
	w.plugins = host
	releaseAudit := w.close
	w.close = func() {
		closePlugins(w.plugins, logger)
		releaseAudit()
	}
	return w, nil
}

// closePlugins closes a plugin set, within a bound.
func closePlugins(host *plugin.Runtime, logger *slog.Logger) {
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := host.Close(cctx); err != nil {
		logger.Error("closing the plugins", "err", err)
	}
}

// sandboxOrg reports whether the server runs on the embedded sandbox's
// organisation (--sandbox --sandbox-seed org).
func (c config) sandboxOrg() bool { return c.sandbox && c.sandboxSeed == "org" }

// openAccounts builds the other accounts the server may act in: those of
// --accounts FILE or, on the sandbox's organisation without a file, its
// members by discovery through the role every member has, in the
// server's mode — so that --sandbox --sandbox-seed org reaches them with
// no setup. nil without either: the server's own account only. It logs
// the accounts reached, with their modes, in one line.
func (c config) openAccounts(ctx context.Context, clients *catalogue.Clients, logger *slog.Logger) (*accounts.Registry, error) {
	var f *accounts.File
	from := c.source("accounts") + " " + c.accounts
	switch {
	case c.accounts != "":
		var err error
		if f, err = accounts.Load(c.accounts); err != nil {
			return nil, fmt.Errorf("%s: %w", c.source("accounts"), err)
		}
	case c.sandboxOrg():
		mode := "read-only"
		if !c.readOnly {
			mode = "read-write"
		}
		f = &accounts.File{Discovery: &accounts.Discovery{RoleName: sandbox.OrgAccessRoleName, Mode: mode, Confirm: string(c.confirm)}}
		from = "the sandbox's organisation (--sandbox-seed org)"
	default:
		return nil, nil
	}
	// The server's own account: its id is learnt by New, with one
	// GetCallerIdentity; its mode is the flags'.
	reg, err := accounts.New(ctx, f, accounts.Options{Clients: clients, Self: gate.Account{Self: true, ReadOnly: c.readOnly, Confirm: c.confirm},
		Logger: logger.With("component", "accounts")})
	if err != nil {
		return nil, fmt.Errorf("cannot reach the accounts of %s: %w", from, err)
	}
	list := reg.List()
	shown := make([]string, 0, len(list))
	for _, a := range list {
		mode := "read-write"
		if a.ReadOnly || c.readOnly {
			mode = "read-only"
		}
		if a.Self {
			mode += ", own"
		}
		shown = append(shown, fmt.Sprintf("%s (%s, confirm %s)", a.Name(), mode, cmp.Or(a.Confirm, c.confirm)))
	}
	logger.Info("accounts reached", "from", from, "count", len(list), "accounts", strings.Join(shown, "; "))
	return reg, nil
}

// reachableOf is g's accounts as get_account_info lists them.
func reachableOf(g *gate.Gate) []api.ReachableAccount {
	if g == nil {
		return nil
	}
	list := g.Accounts()
	out := make([]api.ReachableAccount, len(list))
	for i, a := range list {
		out[i] = api.ReachableAccount{ID: a.ID, Alias: a.Alias, Self: a.Self, ReadOnly: a.ReadOnly, Confirm: string(a.Confirm), Via: a.Via}
	}
	return out
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
	if !c.sandbox {
		return catalogue.DefaultSecretsDir()
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory for the sandbox's secrets (%v); pass --secrets-dir", err)
	}
	// The directory keeps the name it had when the flag was --local: it
	// holds the key that seals plugins' state in a --sandbox-state file,
	// and a new name would orphan it, and with it that state.
	return filepath.Join(base, "iam-mcp-server", "local-secrets"), nil
}

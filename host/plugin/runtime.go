package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Options configures Load.
type Options struct {
	// Gate runs every IAM call a plugin makes: it checks the plugin's
	// grants, read-only mode and the expected account, and audits. Required.
	// Give plugins a gate over a catalogue without ReturnSecrets, so that a
	// key created on a plugin's behalf has its secret written to the secrets
	// directory whatever --return-secrets says (the runtime also strips any
	// secret from what a plugin sees; see Secrets).
	Gate *gate.Gate
	// CacheDir is wazero's on-disk compilation cache, so that a restart
	// skips the second-long compilation of each plugin, and the describe
	// cache (its subdirectory "describe"), so that a restart lists a
	// plugin's tools without compiling or instantiating it; "" for
	// neither. It is created 0700, and refused when another user owns it or
	// others may write it: it holds machine code that runs without the
	// sha256 check, and the answers that become the tools listed.
	CacheDir string
	// Logger receives the runtime's log and the plugins' own log lines and
	// output, each tagged plugin=<name>; nil discards them.
	Logger *slog.Logger
	// Account gives host_info the account id and partition; nil (or an
	// error) leaves them empty.
	Account func(ctx context.Context) (accountID, partition string, err error)
	// Concurrency bounds how many requests of one iam_batch run at once;
	// default 8.
	Concurrency int
	// Builtins are the tool names already taken (the built-in tools): a
	// plugin tool of the same name, in any letter case, is a load error
	// naming both. Every catalogue operation's name is refused anyway,
	// exposed or not (see Runtime).
	Builtins []string
	// MaxInstances bounds the instances of each plugin, and so the calls of
	// it that run at once (more wait for a free one, within their time
	// limit); default 8. Each instance holds up to the plugin's memory
	// limit.
	MaxInstances int
	// Secrets are where the plugins' catalogue keeps new keys' secrets:
	// the key files of the server's secrets directory, or over HTTP the
	// one-time links (host/secretlink). secret_file_remove
	// removes a key's file (withdraws its unfetched link) once the key
	// has been used, and a secret
	// the gate's catalogue returns inline anyway (it should not; see Gate)
	// is written there instead of reaching the plugin. nil for none:
	// secret_file_remove finds no file, and such a secret is discarded
	// (the result tells the plugin so).
	Secrets SecretFiles
	// SecretsDir is the server's secrets directory (--secrets-dir), where
	// state_seal keeps its key (SealKeyFile). "" for none: state_seal then
	// answers Unavailable.
	SecretsDir string
	// Now is the clock of the budgets of progress reports and log lines
	// (tests stop it to count exactly what passes); nil means time.Now.
	Now func() time.Time
}

// Runtime is the loaded plugins: their compiled modules, pools of initialised
// instances, and tools. It is safe for concurrent use.
//
// A plugin's life in the host:
//
//  1. Load reads its .wasm — a regular file of at most MaxModuleBytes,
//     opened without blocking, so that a FIFO or /dev/zero is refused
//     rather than waited on or read for ever — and checks the sha256 the
//     operator pinned;
//  2. looks for its describe answer in the describe cache (with
//     Options.CacheDir), under a key made of the module's sha256, the
//     contract's and the runtime's versions, and everything describe can
//     read (see describeKey). Found, the answer is checked as a fresh one
//     and the plugin's tools are listed from it: nothing is compiled or
//     instantiated until its first call (step 5);
//  3. otherwise compiles it once (through the on-disk cache when there is
//     one) into a wazero runtime of its own that carries its memory limit,
//     instantiates one sandboxed instance and calls its describe export,
//     within the start-up limit (StartupTimeout), to learn its tools (that
//     warm instance is kept), and keeps the answer in the describe cache;
//  4. names its tools <prefix>_<tool> and refuses a name that is, in any
//     letter case, a catalogue operation's (exposed as a tool or not: a
//     plugin must never answer a call meant for one), a built-in tool's,
//     another plugin tool's, or that starts with '_' (the server's own);
//  5. each Call then takes an idle instance (or makes one, up to
//     MaxInstances, and starts it with a describe under the start-up
//     limit), runs call in it under the plugin's timeout and the caller's
//     context, and gives the instance back, or closes it if the call
//     failed so that the next call gets a fresh one. The first Call of a
//     plugin listed from the describe cache first compiles it (once, for
//     all the calls that arrive together; the module is read again and
//     its sha256 checked again), and every new instance's start-up
//     describe must answer exactly what the tools were listed from, or
//     the plugin's calls are refused (see checkDescribe);
//  6. Close closes every instance, runtime and the compilation cache.
type Runtime struct {
	opts   Options
	logger *slog.Logger
	cache  wazero.CompilationCache
	// compileLocks serialises compiling one module for several plugins
	// (lazy.go): they share cache's engine.
	compileLocks compileLocks
	plugins      []*loaded
	byTool       map[string]toolEntry
	tools        []Tool
	closed       atomic.Bool
	once         sync.Once
	// stopCalls ends every running call (Close); each plugin's calls
	// context is its context.
	stopCalls context.CancelFunc
}

type toolEntry struct {
	tool Tool
	p    *loaded
}

// Tool is one plugin tool as the MCP server lists it.
type Tool struct {
	Name         string // full MCP name: <prefix>_<tool>, or <tool> with an empty prefix
	Plugin       string // the plugin's name in the plugins file
	PluginTool   string // the name the plugin knows it by (unprefixed)
	Description  string
	InputSchema  json.RawMessage // a JSON Schema object; {"type":"object"} when the plugin gave none
	OutputSchema json.RawMessage // nil when the plugin declared none
	// Mutates: some operation the tool may call changes IAM (a tool may
	// call only the operations its describe lists that the plugins file
	// grants). The same word as api.Operation.Mutates for built-ins.
	Mutates bool
	// Operations are the operations describe says the tool needs (a
	// request; only the grants count).
	Operations []string
}

// PluginInfo describes one loaded plugin, for `plugins list`.
type PluginInfo struct {
	Name        string
	Path        string
	SHA256      string
	Version     string // from describe
	Description string // from describe
	Prefix      string // "" for none
	Tools       []string
	// Asked are the operations describe asks for, sorted.
	Asked []string
	// Granted are the operations the plugins file grants, sorted, with
	// "read" expanded.
	Granted []string
	// NotGranted are asked for but not granted: calls to them fail with
	// NotGranted.
	NotGranted []string
	// Limits are the effective limits, defaults applied.
	Limits      Limits
	MemoryPages uint32
	MaxInput    int  // bytes of call input accepted
	Mutates     bool // some granted operation changes IAM
	// Accounts are the ids of the accounts the plugins file allows the
	// plugin, sorted; nil for every account the server reaches.
	Accounts []string
}

// loaded is one plugin in the host.
type loaded struct {
	spec       Spec
	name, path string
	sha        string
	limits     Limits
	pages      uint32
	maxInput   int
	grants     map[string]bool
	// toolGrants narrows the grants to each tool's declared operations
	// (by full MCP name): a tool may call only what its describe lists
	// and the operator granted, so a read-only tool of a plugin that also
	// holds mutating grants does not mutate, and says so.
	toolGrants   map[string]map[string]bool
	granted      []string
	desc         *api.PluginDescription
	tools        []Tool
	mutates      bool
	maxInstances int
	concurrency  int
	// startup bounds the plugin's start-up and each new instance's (see
	// StartupTimeout): max(StartupTimeout, limits.timeout); a field so
	// that a test can see which limit a start-up ran under.
	startup time.Duration

	gate *gate.Gate // nil while inspecting
	// allowed are the ids of the accounts the operator allows the plugin
	// (Spec.Accounts, resolved at Load); nil for every account. It rides
	// in the plugin's gate.Caller, where the gate enforces it.
	allowed map[string]bool
	secrets SecretFiles // nil: none (see Options.Secrets)
	// sealer serves state_seal (see Options.SecretsDir); it is the
	// Runtime's, shared by its plugins.
	sealer  *StateSealer
	account func(ctx context.Context) (string, string, error)
	now     func() time.Time
	logger  *slog.Logger
	logs    *logBudget // the plugin's log lines, all its calls together

	// ccache is the runtime's compilation cache (nil: none), kept for a
	// compile on first use.
	ccache wazero.CompilationCache
	// compileLocks is the runtime's: one compilation of a module at a time.
	compileLocks *compileLocks
	// dcache is the describe cache (nil: none) and dkey the plugin's key
	// in it (see describeKey).
	dcache *describeCache
	dkey   string
	// described is the describe answer the plugin's tools were listed
	// from, which every new instance's start-up describe must repeat (see
	// checkDescribe); nil without a describe cache, when nothing is
	// compared. refusal is set once one did not: every call gets it.
	described []byte
	refusal   atomic.Pointer[api.Error]
	// startSem is held (one slot) while the plugin is compiled on first
	// use, and by Close; stopped, under it, says Close has run, so that
	// no compile starts after it. ready says compiled, links and pool are
	// set (at Load, or on first use: see ensureCompiled).
	startSem chan struct{}
	stopped  bool
	ready    atomic.Bool
	compiles atomic.Int64 // compilations, for tests

	compiled *extism.CompiledPlugin
	// calls ends when the Runtime closes: every call of the plugin is
	// stopped then (nil while inspecting).
	calls     context.Context
	links     *directLinks // what instances link to besides Extism (direct.go)
	pool      *pool
	instances atomic.Int64 // instances made, for tests and benchmarks
}

// Load verifies every plugin of cfg and learns its tools (from the
// describe cache, or by compiling and describing it: see Runtime), and
// returns the host serving them. Plugins load in parallel; the first
// failure, in the file's order, is returned and nothing stays loaded. Each
// error names the plugin and what to do.
func Load(ctx context.Context, cfg *Config, opts Options) (*Runtime, error) {
	if opts.Gate == nil {
		return nil, errors.New("plugin: Options.Gate is required: every IAM call of a plugin goes through a gate")
	}
	if cfg == nil {
		cfg = &Config{}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	prepareProcess()
	calls, stopCalls := context.WithCancel(context.Background())
	h := &Runtime{opts: opts, logger: opts.Logger, byTool: map[string]toolEntry{}, stopCalls: stopCalls}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	var dcache *describeCache
	if opts.CacheDir != "" {
		cache, err := openCache(opts.CacheDir)
		if err != nil {
			return nil, err
		}
		h.cache = cache
		if dcache, err = openDescribeCache(opts.CacheDir, h.logger); err != nil {
			_ = cache.Close(ctx)
			return nil, err
		}
	}

	sealer := NewStateSealer(opts.SecretsDir)
	h.plugins = make([]*loaded, len(cfg.Plugins))
	errs := make([]error, len(cfg.Plugins))
	var wg sync.WaitGroup
	for i, spec := range cfg.Plugins {
		p, err := newLoaded(spec, h.logger)
		if err != nil {
			errs[i] = err
			continue
		}
		p.gate, p.secrets, p.account, p.sealer, p.calls = opts.Gate, opts.Secrets, opts.Account, sealer, calls
		if p.allowed, err = resolveAccounts(ctx, spec.Name, spec.Accounts, opts.Gate.Accounts(), opts.Account); err != nil {
			errs[i] = err
			continue
		}
		p.ccache, p.dcache, p.compileLocks = h.cache, dcache, &h.compileLocks
		if opts.Now != nil {
			p.now = opts.Now
		}
		if opts.MaxInstances > 0 {
			p.maxInstances = opts.MaxInstances
		}
		if opts.Concurrency > 0 {
			p.concurrency = opts.Concurrency
		}
		h.plugins[i] = p
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.load(ctx)
		}()
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	if err := h.buildTools(); err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	return h, nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// openCache creates (0700) or checks the compilation cache directory and
// opens wazero's cache in it.
func openCache(dir string) (wazero.CompilationCache, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("the compilation cache directory: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the compilation cache directory %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("the compilation cache directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("the compilation cache %s is not a directory", dir)
	}
	if err := checkCacheOwner(dir, fi); err != nil {
		return nil, err
	}
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot open the compilation cache in %s: %w", dir, err)
	}
	return cache, nil
}

// newLoaded prepares a plugin from its (validated) spec, defaults applied.
func newLoaded(spec Spec, logger *slog.Logger) (*loaded, error) {
	if spec.Source != "" && (spec.Path == "" || spec.SHA256 == "") {
		// The runtime never reads a registry: the command resolves each
		// oci:// entry to a verified module in the cache first.
		return nil, fmt.Errorf("plugin %s: its source %s has not been resolved to a verified module; load the plugins file through iam-mcp-server, which pulls and verifies it", spec.Name, spec.Source)
	}
	limits := spec.Limits.withDefaults()
	pages, err := limits.Pages()
	if err != nil {
		return nil, fmt.Errorf("plugin %s: limits: %w", spec.Name, err)
	}
	grants, err := expandGrants(spec.Grants)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", spec.Name, err)
	}
	p := &loaded{
		spec: spec, name: spec.Name, path: spec.Path, limits: limits, pages: pages,
		maxInput: min(MaxInputBytes, int(pages)*pageSize/2),
		grants:   grants, granted: sortedKeys(grants),
		maxInstances: defaultMaxInstances, concurrency: defaultConcurrency, startup: max(StartupTimeout, limits.Timeout),
		logger: logger.With("plugin", spec.Name), now: time.Now,
		sealer:   NewStateSealer(""), // no secrets directory until Load gives one
		startSem: make(chan struct{}, 1),
	}
	// The budget reads p.now at each line, so that Options.Now, set after
	// this, is its clock.
	p.logs = newLogBudget(func() time.Time { return p.now() })
	for op := range grants {
		if meta, _ := api.Lookup(op); meta.Mutates {
			p.mutates = true
		}
	}
	return p, nil
}

// load verifies one plugin and learns its tools: from the describe cache
// when it has the plugin's answer (nothing is compiled or instantiated
// then: see ensureCompiled), otherwise by compiling the plugin and calling
// its describe, whose answer the cache then keeps.
func (p *loaded) load(ctx context.Context) error {
	if p.dcache != nil {
		// Only the hash is needed to find the entry: the module is read
		// whole only if it has to be compiled.
		sha, err := hashModule(p.path)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", p.name, err)
		}
		if err := p.checkPin(sha); err != nil {
			return err
		}
		p.sha, p.dkey = sha, p.describeKey()
		if desc, raw, ok := p.dcache.load(p.name, p.dkey); ok {
			p.desc, p.described = desc, raw
			p.logger.Debug("plugin described from the cache; it is compiled and started on first use", "path", p.path, "sha256", p.sha,
				"version", desc.Version, "tools", len(desc.Tools))
			return nil
		}
		// Said at Info: the first start with a module is slow (seconds per
		// plugin), and the operator should know why, and that it is once.
		p.logger.Info("compiling the plugin: the first start with this module or its settings; later starts use the cache", "path", p.path, "sha256", p.sha)
	}
	wasm, sha, err := p.readModule()
	if err != nil {
		return err
	}
	p.sha = sha
	start := time.Now()
	if err := p.compileModule(ctx, wasm); err != nil {
		return err
	}
	compiled := time.Since(start)
	desc, raw, err := p.describe(ctx)
	if err != nil {
		return err
	}
	p.desc = desc
	if p.dcache != nil {
		p.described = raw
		if err := p.dcache.store(p.dkey, raw); err != nil {
			p.logger.Warn("cannot keep the plugin's describe answer in the cache; the next start compiles it again", "dir", p.dcache.dir, "err", err)
		}
	}
	p.logger.Debug("plugin loaded", "path", p.path, "sha256", p.sha, "version", desc.Version, "tools", len(desc.Tools),
		"compile", compiled, "describe", time.Since(start)-compiled)
	return nil
}

// describe calls the plugin's describe export and checks what it says,
// returning the description and the exact answer. The instance it ran in
// stays in the pool, warm.
func (p *loaded) describe(ctx context.Context) (*api.PluginDescription, []byte, error) {
	out, err := p.invoke(ctx, api.ExportDescribe, nil, &callState{}, "describe", p.startupLimit())
	if err != nil {
		return nil, nil, fmt.Errorf("plugin %s: describe failed: %w", p.name, err)
	}
	d, err := parseDescription(p.name, out)
	if err != nil {
		return nil, nil, err
	}
	return d, out, nil
}

// parseDescription decodes describe's JSON and checks each tool: a valid
// unique name, and object schemas (a missing input schema means any
// object).
//
// The decoding is strict (internal/strictjson): exactly the contract's
// keys, each once. With encoding/json, a describe holding both "tools"
// and "Tools", or "tools" twice, would be read one way here and possibly
// another way by a person reading it in `plugins inspect`; what the
// operator reviews must be what runs.
func parseDescription(name string, out []byte) (*api.PluginDescription, error) {
	var d api.PluginDescription
	if len(out) > MaxResultBytes {
		return nil, fmt.Errorf("plugin %s: describe returned %d bytes, more than the %d it may; report this to the plugin's author", name, len(out), MaxResultBytes)
	}
	trimmed := bytes.TrimSpace(out)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("plugin %s: describe did not return a JSON object but %s", name, quote.Short(string(out), 80))
	}
	if err := strictjson.Unmarshal(trimmed, &d); err != nil {
		return nil, fmt.Errorf("plugin %s: describe returned JSON that is not a plugin description (%v): %s", name, err, quote.Short(string(out), 80))
	}
	seen := map[string]bool{}
	for i := range d.Tools {
		t := &d.Tools[i]
		if !namePattern.MatchString(t.Name) {
			return nil, fmt.Errorf("plugin %s: describe: tool %d's name %s must be 1 to 64 letters, digits, '_' or '-'", name, i, args.Quote(t.Name))
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("plugin %s: describe lists the tool %q twice", name, t.Name)
		}
		seen[t.Name] = true
		in, err := objectSchema(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: describe: tool %s: input_schema %v", name, t.Name, err)
		}
		if in == nil {
			in = json.RawMessage(`{"type":"object"}`)
		}
		t.InputSchema = in
		if t.OutputSchema, err = objectSchema(t.OutputSchema); err != nil {
			return nil, fmt.Errorf("plugin %s: describe: tool %s: output_schema %v", name, t.Name, err)
		}
	}
	return &d, nil
}

// objectSchema checks that raw, when given, is a JSON Schema of an object,
// as MCP requires; nil when absent.
//
// A key given twice anywhere in it is refused: a client reading the schema
// may keep the other one than this check saw.
func objectSchema(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var s map[string]any
	if err := strictjson.Unmarshal(raw, &s); err != nil {
		var dup *strictjson.DuplicateKeyError
		var deep *strictjson.DepthError
		if errors.As(err, &dup) || errors.As(err, &deep) {
			return nil, err
		}
		return nil, errors.New("is not a JSON object")
	}
	if t, ok := s["type"]; ok && t != "object" {
		return nil, fmt.Errorf("has type %s; MCP tools take and give objects", args.Quote(fmt.Sprint(t)))
	}
	if _, ok := s["type"]; !ok {
		s["type"] = "object"
		return json.Marshal(s)
	}
	return raw, nil
}

// buildTools names every plugin's tools and refuses collisions.
//
// Names are compared without regard to letter case: MCP's names are
// case-sensitive, but a client that is not (or a person reading a list)
// would take Delete_Role for delete_role, so a plugin may not take a name
// that differs from another only in case.
func (h *Runtime) buildTools() error {
	builtins := map[string]string{} // folded → as given
	for _, b := range h.opts.Builtins {
		builtins[strings.ToLower(b)] = b
	}
	taken := map[string]string{} // folded → full name, of the plugin tools so far
	for _, p := range h.plugins {
		prefix := p.name
		if p.spec.Prefix != nil {
			prefix = *p.spec.Prefix
		}
		for _, d := range p.desc.Tools {
			full := d.Name
			if prefix != "" {
				full = prefix + "_" + d.Name
			}
			if !namePattern.MatchString(full) {
				return fmt.Errorf("plugin %s: its tool %q would be named %q, longer than MCP's 64 characters; give the plugin a shorter prefix in the plugins file", p.name, d.Name, full)
			}
			if why := ReservedToolName(full); why != "" {
				return fmt.Errorf("plugin %s: its tool %q would be named %s, which %s; give the plugin another prefix in the plugins file", p.name, d.Name, full, why)
			}
			if b, ok := builtins[strings.ToLower(full)]; ok {
				return fmt.Errorf("plugin %s: its tool %q would be named %s, which is (in some letter case) the built-in tool %s; give the plugin another prefix in the plugins file", p.name, d.Name, full, b)
			}
			if prev, ok := taken[strings.ToLower(full)]; ok {
				other := h.byTool[prev]
				return fmt.Errorf("plugin %s: its tool %q would be named %s, like (in some letter case) plugin %s's tool %s; give one of them another prefix in the plugins file",
					p.name, d.Name, full, other.p.name, prev)
			}
			taken[strings.ToLower(full)] = full
			tg, mutates := map[string]bool{}, false
			for _, op := range d.Operations {
				if p.grants[op] {
					tg[op] = true
					if meta, _ := api.Lookup(op); meta.Mutates {
						mutates = true
					}
				}
			}
			if p.toolGrants == nil {
				p.toolGrants = map[string]map[string]bool{}
			}
			p.toolGrants[full] = tg
			t := Tool{
				Name: full, Plugin: p.name, PluginTool: d.Name, Description: d.Description,
				InputSchema: d.InputSchema, OutputSchema: d.OutputSchema, Mutates: mutates,
				Operations: append([]string(nil), d.Operations...),
			}
			h.byTool[full] = toolEntry{tool: t, p: p}
			h.tools = append(h.tools, t)
			p.tools = append(p.tools, t)
		}
		var notAsked []string
		for _, op := range p.asked() {
			if _, ok := api.Lookup(op); !ok {
				notAsked = append(notAsked, op)
			}
		}
		if len(notAsked) > 0 {
			p.logger.Warn("describe asks for operations that do not exist", "operations", notAsked)
		}
	}
	return nil
}

// ReservedToolName says why a plugin tool may not have the full MCP name
// name, or "" when it may: it is, in any letter case, the name of a
// catalogue operation (exposed as a built-in tool or not: the server
// answers a call to an operation it does not expose by saying how to
// enable it, and a plugin tool of that name would run instead), or it
// starts with '_', which the server keeps for its own hidden tools.
func ReservedToolName(name string) string {
	if strings.HasPrefix(name, "_") {
		return "starts with '_', which is kept for the server's own tools"
	}
	for _, op := range api.All() {
		if strings.EqualFold(op.Name, name) {
			if op.Name == name {
				return "is the name of the catalogue operation " + op.Name + " (whether it is exposed as a tool or not)"
			}
			return "differs only in letter case from the catalogue operation " + op.Name + " (clients that ignore case would take one for the other)"
		}
	}
	return ""
}

// asked returns the operations describe asks for, sorted.
func (p *loaded) asked() []string {
	set := map[string]bool{}
	for _, t := range p.desc.Tools {
		for _, op := range t.Operations {
			set[op] = true
		}
	}
	return sortedKeys(set)
}

// Tools returns every plugin tool, plugins in the file's order and each
// plugin's tools in its describe's order.
func (h *Runtime) Tools() []Tool {
	return append([]Tool(nil), h.tools...)
}

// Plugins describes every loaded plugin, in the file's order.
func (h *Runtime) Plugins() []PluginInfo {
	out := make([]PluginInfo, 0, len(h.plugins))
	for _, p := range h.plugins {
		info := PluginInfo{
			Name: p.name, Path: p.path, SHA256: p.sha, Version: p.desc.Version, Description: p.desc.Description,
			Prefix: p.name, Asked: p.asked(), Granted: append([]string(nil), p.granted...),
			Limits: p.limits, MemoryPages: p.pages, MaxInput: p.maxInput, Mutates: p.mutates,
			Accounts: allowedIDs(p.allowed),
		}
		if p.spec.Prefix != nil {
			info.Prefix = *p.spec.Prefix
		}
		for _, t := range p.tools {
			info.Tools = append(info.Tools, t.Name)
		}
		for _, op := range info.Asked {
			if !p.grants[op] {
				info.NotGranted = append(info.NotGranted, op)
			}
		}
		out = append(out, info)
	}
	return out
}

// Call runs one plugin tool with nobody to ask for consent: a change that
// the operator's --confirm covers is refused with ConsentRequired, whether
// the plugin stated it in a plan or not. See CallWithConsent.
func (h *Runtime) Call(ctx context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport)) (*api.PluginResult, error) {
	return h.CallWithConsent(ctx, tool, args, progress, nil)
}

// CallWithConsent runs one plugin tool. args are the tool's JSON arguments
// (empty for none); progress, when not nil, receives the plugin's progress
// reports, synchronously, while the call runs (never after it returns),
// within the call's budget (ProgressPerSecond after ProgressBurst; the
// last report dropped is delivered just before the call returns).
//
// consent asks the person behind the tool call (nil: nobody can be asked).
// It is asked once for each plan the plugin states through the consent
// host function, about the plan's changes that --confirm covers, and again
// for any covered change the plugin makes that is not an unused approval
// of such a plan. When it answers Pending — the question went to the
// client, whose answer comes with a later request — the plugin is stopped
// at once (every request it makes after that is refused, and its call is
// cancelled) and CallWithConsent returns an error wrapping
// ErrConsentPending; the caller runs the whole tool call again with the
// answer.
//
// A failure the assistant should see — a trap or panic, the time or memory
// limit, a result that is not JSON or is too large, an input too large, an
// error the plugin reports — is an *api.Error naming the plugin and saying
// what happened; a cancelled call returns an error wrapping the context's.
// Either way the server, the other plugins and the next call go on: an
// instance whose call failed is discarded and replaced.
func (h *Runtime) CallWithConsent(ctx context.Context, tool string, args json.RawMessage, progress func(api.ProgressReport), consent gate.Consent) (*api.PluginResult, error) {
	if h.closed.Load() {
		return nil, api.Errorf(api.Internal, "the plugin runtime is closed; %s cannot run", tool)
	}
	e, ok := h.byTool[tool]
	if !ok {
		return nil, api.Errorf(api.InvalidInput, "there is no plugin tool %q; list the tools to see what exists", tool)
	}
	p := e.p
	a := bytes.TrimSpace(args)
	if len(a) == 0 || bytes.Equal(a, []byte("null")) {
		a = []byte("{}")
	}
	if len(a) > p.maxInput {
		return nil, api.Errorf(api.InvalidInput, "the arguments of %s are %d bytes; plugin %s accepts at most %d bytes per call (limits.memory is %s); nothing was run",
			tool, len(a), p.name, p.maxInput, p.limits.Memory)
	}
	if !json.Valid(a) {
		return nil, api.Errorf(api.InvalidInput, "the arguments of %s are not valid JSON", tool)
	}
	input, err := json.Marshal(api.PluginCall{Tool: e.tool.PluginTool, Arguments: a})
	if err != nil {
		return nil, api.Errorf(api.InvalidInput, "the arguments of %s cannot be encoded: %v", tool, err)
	}
	if len(input) > p.maxInput {
		return nil, api.Errorf(api.InvalidInput, "the arguments of %s are %d bytes; plugin %s accepts at most %d bytes per call (limits.memory is %s); nothing was run",
			tool, len(input), p.name, p.maxInput, p.limits.Memory)
	}
	// stop ends the plugin's call when a question to the person goes
	// pending: wazero closes the module at its next check of the context.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	st := &callState{tool: tool, progress: progress, consent: newToolConsent(consent, stop)}
	if progress != nil {
		st.limiter = newProgressLimiter(p.now)
	}
	out, err := p.invoke(ctx, api.ExportCall, input, st, tool, p.callLimit())
	if st.limiter != nil {
		// Where the call ended, if that report was over the budget: still
		// before the result.
		if r, ok := st.limiter.final(); ok {
			progress(r)
		}
	}
	if st.stopping() {
		// Whatever the plugin answered, or however it stopped, it did not
		// finish its work: it runs again once the person has answered.
		return nil, fmt.Errorf("plugin %s: %s: %w", p.name, tool, ErrConsentPending)
	}
	if err != nil {
		return nil, err
	}
	if len(out) > MaxResultBytes {
		return nil, api.Errorf(api.LimitExceeded, "plugin %s answered %s with %d bytes, more than the %d a result may have; ask for less at once (a filter, a page)",
			p.name, tool, len(out), MaxResultBytes)
	}
	res, why := parseResult(out)
	if why != "" {
		return nil, api.Errorf(api.Internal, "plugin %s answered %s with something that is not a JSON result (%s: %q); report this to the plugin's author",
			p.name, tool, why, clip(string(out), 80))
	}
	return res, nil
}

// ToolError is a failed call of t as its caller shows it (the assistant's
// tool error, the command line's message): the runtime's *api.Error as it
// is (a trap, a time or memory limit, an answer too large: each names the
// plugin and says what happened); a cancelled call, which may have done
// part of its work, says so; anything else is Internal with its message.
func ToolError(t Tool, err error) *api.Error {
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, context.Canceled):
		return api.Errorf(api.Internal, "the call of %s (plugin %s) was cancelled before it finished; check with a read tool what it did before retrying", t.Name, t.Plugin)
	}
	return api.Errorf(api.Internal, "plugin %s failed while running %s: %v", t.Plugin, t.Name, err)
}

// parseResult decodes call's answer strictly: exactly the contract's keys,
// each once ("is_error" given twice, or beside "Is_Error", would let a
// person reading the plugin's answer see a success where the server
// reports a failure, or the reverse). The structured content is the
// plugin's to shape; it is passed on as sent (and checked to be an object
// by the server). why says what is wrong, or is "".
func parseResult(out []byte) (*api.PluginResult, string) {
	trimmed := bytes.TrimSpace(out)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, "not a JSON object"
	}
	var res api.PluginResult
	if err := strictjson.Unmarshal(trimmed, &res); err != nil {
		return nil, clip(err.Error(), 200)
	}
	return &res, ""
}

// Close stops every plugin: running calls are stopped, instances and
// runtimes closed, the compilation cache released. Calls after Close fail.
func (h *Runtime) Close(ctx context.Context) error {
	var errs []error
	h.once.Do(func() {
		h.closed.Store(true)
		h.stopCalls()
		for _, p := range h.plugins {
			if p == nil || !p.stop() {
				continue
			}
			p.pool.close()
			// A running call is stopped at its next check (see compile),
			// or as soon as the host function it waits in returns. Its
			// memory is unmapped when its module closes (memory_linux.go),
			// so the runtime is closed only once no call runs in it; one
			// that does not stop in time keeps its runtime, and the
			// process its memory, until it exits.
			if !p.pool.drain(closeWait) {
				p.logger.Warn("a call of the plugin did not stop when the server closed; its instance is left running", "waited", closeWait)
				continue
			}
			p.links.close(ctx)
			if err := p.compiled.Close(ctx); err != nil {
				errs = append(errs, fmt.Errorf("plugin %s: %w", p.name, err))
			}
		}
		if h.cache != nil {
			if err := h.cache.Close(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// inspectCacheDir is the compilation cache Inspect uses: none, except in
// this package's tests, which share theirs so that no module is compiled
// twice in a run.
var inspectCacheDir string

// Inspect reads a module, and calls its describe with the default limits,
// no grants and no compilation cache, so that an operator can pin its hash
// and write its grants (`plugins inspect`). The description is checked as
// Load checks it.
func Inspect(ctx context.Context, wasmPath string) (sha256Hex string, d *api.PluginDescription, err error) {
	prepareProcess()
	wasm, sha, err := readModuleFile(wasmPath)
	if err != nil {
		return "", nil, err
	}
	name := strings.TrimSuffix(filepath.Base(wasmPath), filepath.Ext(wasmPath))
	p, err := newLoaded(Spec{Name: name, Path: wasmPath, SHA256: sha}, slog.New(slog.DiscardHandler))
	if err != nil {
		return sha, nil, err
	}
	if inspectCacheDir != "" {
		if p.ccache, err = openCache(inspectCacheDir); err != nil {
			return sha, nil, err
		}
		defer p.ccache.Close(ctx)
	}
	if err := p.compileModule(ctx, wasm); err != nil {
		return sha, nil, err
	}
	defer func() {
		p.pool.close()
		p.links.close(ctx)
		_ = p.compiled.Close(ctx)
	}()
	d, _, err = p.describe(ctx)
	if err != nil {
		return sha, nil, err
	}
	return sha, d, nil
}

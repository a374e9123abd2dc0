package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/sys"

	"github.com/iammcp/iam-mcp-server/host/plugin/interrupt"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Caps on what crosses the boundary in one call.
const (
	// MaxInputBytes caps the JSON handed to a plugin's call (the arguments
	// with the tool's name). A plugin's input cap is this or half its memory
	// limit, whichever is smaller: Extism's kernel cannot allocate an input
	// larger than the memory left to it, and then hands the plugin an empty
	// input without a word, so a larger input is refused before the call.
	MaxInputBytes = 8 << 20
	// MaxResultBytes caps the JSON a plugin's call may answer.
	MaxResultBytes = 8 << 20
	// maxVarBytes bounds the Extism variables of one instance (kept in the
	// host's memory). Set explicitly: a ManifestMemory written as a Go struct
	// leaves it 0, which makes every var_set trap.
	maxVarBytes = 1 << 20
	// maxHTTPResponseBytes is 0 on purpose, and set explicitly: plugins have
	// no allowed hosts, so Extism refuses every HTTP request before it is
	// made, and nothing could ever be read.
	maxHTTPResponseBytes = 0
	// stderrTail is how much of a plugin's standard error is kept to explain
	// a crash (its start, with a Go panic's message, and its end).
	stderrTail = 4 << 10
	// defaultMaxInstances bounds the instances of one plugin.
	defaultMaxInstances = 8
	// defaultConcurrency bounds the IAM calls of one iam_batch that run at
	// once.
	defaultConcurrency = 8
)

// processOnce does what the Extism SDK needs once per process.
var processOnce sync.Once

// prepareProcess makes the process safe for plugins: with
// EXTISM_ENABLE_WASI_OUTPUT set, the Extism SDK connects every instance's
// stdout to the process's, which in stdio mode is the MCP stream, so it is
// unset (each time, since it is read at each instantiation). Guest logs are
// dropped until extism.SetLogLevel is called; the level is process-wide,
// and Debug keeps the SDK's own trace lines (printed with the standard
// logger before an instance has its own) out.
func prepareProcess() {
	_ = os.Unsetenv("EXTISM_ENABLE_WASI_OUTPUT")
	processOnce.Do(func() { extism.SetLogLevel(extism.LogLevelDebug) })
}

// compile builds the plugin's compiled module: one wazero runtime of its
// own (so that its memory limit is its own) with the host functions, the
// Extism kernel and the plugin's module, compiled once, through the
// compilation cache when there is one.
//
// The module is instrumented first (host/plugin/interrupt): every loop and
// every function that calls counts down, and every interrupt.Budget checks
// calls the host, which stops the call once its context is done (timeout,
// cancellation) and lets Go preempt the goroutine. That replaces wazero's
// WithCloseOnContextDone, whose compiled code leaves for Go at every loop
// iteration (wazero issue #2466, still so in 1.12) and cost a Go guest
// 4-5x of its CPU; see docs/RATIONALE.md.
func (p *loaded) compile(ctx context.Context, wasm []byte, cache wazero.CompilationCache) (err error) {
	// wazero 1.9's validation panics on some malformed functions (one
	// indexing past a function's locals, found by FuzzInstrument): a module
	// must not take the server down, so a panic refuses it.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugin %s: %s cannot run as a plugin: the runtime failed on it (%v); it is not valid WebAssembly, or wazero could not handle it", p.name, p.path, r)
		}
	}()
	wasm, err = interrupt.Instrument(wasm)
	if err != nil {
		return fmt.Errorf("plugin %s: %s cannot run as a plugin: %w", p.name, p.path, err)
	}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(p.pages)
	if cache != nil {
		rc = rc.WithCompilationCache(cache)
	}
	compiled, err := extism.NewCompiledPlugin(ctx, p.manifest(wasm), extism.PluginConfig{
		RuntimeConfig: rc,
		EnableWasi:    true, // Go's wasip1 port needs WASI's clocks, random and stdio; nothing more is given
	}, p.hostFunctions())
	if err != nil && strings.Contains(err.Error(), "over limit of") {
		return fmt.Errorf("plugin %s: its module needs more memory than limits.memory (%s) allows (%v); raise limits.memory in the plugins file", p.name, p.limits.Memory, err)
	}
	if err != nil {
		return fmt.Errorf("plugin %s: cannot compile %s: %w", p.name, p.path, err)
	}
	links, err := p.newDirectLinks(ctx)
	if err != nil {
		_ = compiled.Close(ctx)
		return err
	}
	p.compiled, p.links = compiled, links
	p.pool = &pool{p: p, slots: make(chan struct{}, p.maxInstances)}
	return nil
}

// manifest is the plugin's Extism manifest: its module, memory limits
// (every field set explicitly: a ManifestMemory written as a Go struct
// otherwise leaves MaxVarBytes and MaxHttpResponseBytes at 0) and config.
func (p *loaded) manifest(wasm []byte) extism.Manifest {
	return extism.Manifest{
		Wasm: []extism.Wasm{extism.WasmData{Data: wasm, Name: "main"}},
		Memory: &extism.ManifestMemory{
			MaxPages:             p.pages,
			MaxVarBytes:          maxVarBytes,
			MaxHttpResponseBytes: maxHTTPResponseBytes,
		},
		Config: copyConfig(p.spec.Config),
		// No AllowedHosts: Extism's http_request refuses every URL. No
		// AllowedPaths: no directory is mounted. No Timeout: each call gets
		// its own deadline (see invoke), so that a timeout can be told from a
		// cancellation.
	}
}

// instance is one initialised copy of a plugin, used by one call at a time.
type instance struct {
	ext    *extism.Plugin
	stderr *tailBuffer
	// done is the current call's ctx.Done(), read by the instance's sleep so
	// that a plugin sleeping in WASI's poll_oneoff wakes up when its call is
	// over (wazero's own sleep cannot be interrupted).
	done atomic.Pointer[<-chan struct{}]
	// ctx is the current call's context, for the plugin's log lines:
	// Extism's log callback has none, and a client on the 2026-07-28
	// protocol receives a request's log records only through it.
	ctx atomic.Pointer[context.Context]
	// started: an export has run in the instance, and with it the guest's
	// start-up (see invokeOnce).
	started bool
}

// callContext is the context of the call the instance serves, or
// context.Background() between calls.
func (inst *instance) callContext() context.Context {
	if c := inst.ctx.Load(); c != nil {
		return *c
	}
	return context.Background()
}

// newInstance instantiates the compiled plugin with its sandbox: no
// filesystem, no environment, no arguments, empty stdin, stdout and stderr
// to the log (never the process's), real clocks, a real but interruptible
// sleep, and crypto/rand as the random source.
func (p *loaded) newInstance(ctx context.Context) (_ *instance, err error) {
	// A panic inside wazero while it instantiates (compileLocks says how
	// one came about) fails this instance, not the server.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugin %s: the runtime failed starting an instance (%v); please report it", p.name, r)
		}
	}()
	inst := &instance{stderr: &tailBuffer{max: stderrTail}}
	mc := wazero.NewModuleConfig().
		// wazero's clocks are fake by default (they advance 1ms per reading)
		// and its sleep returns at once.
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.sleep).
		WithRandSource(rand.Reader).
		WithStdin(bytes.NewReader(nil)).
		WithStdout(&lineLogger{log: p.logger, budget: p.logs, stream: "stdout"}).
		WithStderr(multiWriter{inst.stderr, &lineLogger{log: p.logger, budget: p.logs, stream: "stderr"}})
	// Instantiation runs the module's start section, if it has one, outside
	// any call: it is bounded by the start-up limit (the interrupt checks
	// stop it there), not by the caller's context, which a wait for an
	// instance may be about to end.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.startup)
	defer cancel()
	ext, err := p.compiled.Instance(withLinearMemory(p.links.link(ictx)), extism.PluginInstanceConfig{ModuleConfig: mc})
	if errors.Is(err, interrupt.ErrStopped) {
		return nil, fmt.Errorf("its start section ran past the start-up limit (%v) and was stopped: %w", p.startup, err)
	}
	if err != nil {
		return nil, err
	}
	ext.SetLogger(func(level extism.LogLevel, msg string) { p.guestLog(inst.callContext(), level, msg) })
	inst.ext = ext
	p.instances.Add(1)
	return inst, nil
}

// sleep is the WASI sleep of an instance: time.Sleep, cut short when the
// call the instance serves ends (timeout or cancellation), after which
// wazero stops the module.
func (inst *instance) sleep(ns int64) {
	if ns <= 0 {
		return
	}
	var done <-chan struct{}
	if d := inst.done.Load(); d != nil {
		done = *d
	}
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-done:
	}
}

func (inst *instance) close() {
	_ = inst.ext.Close(context.Background())
}

// pool keeps a plugin's initialised instances: at most cap(slots) exist at
// once; idle ones are reused most-recent first (the warmest), new ones are
// made on demand, and one whose call failed is closed instead of returned.
type pool struct {
	p      *loaded
	slots  chan struct{}
	mu     sync.Mutex
	idle   []*instance
	closed bool
}

var errClosed = errors.New("the plugin runtime is closed")

// get returns an instance for one call, waiting for a free slot until ctx
// is done.
func (pl *pool) get(ctx context.Context) (*instance, error) {
	select {
	case pl.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		<-pl.slots
		return nil, errClosed
	}
	if n := len(pl.idle); n > 0 {
		inst := pl.idle[n-1]
		pl.idle = pl.idle[:n-1]
		pl.mu.Unlock()
		return inst, nil
	}
	pl.mu.Unlock()
	inst, err := pl.p.newInstance(ctx)
	if err != nil {
		<-pl.slots
		return nil, fmt.Errorf("%w: %w", errStart, err)
	}
	return inst, nil
}

var errStart = errors.New("cannot start an instance")

// put gives an instance back after a call: kept when healthy, closed (and
// so replaced by the next call that needs one) otherwise.
func (pl *pool) put(inst *instance, healthy bool) {
	inst.done.Store(nil)
	pl.mu.Lock()
	if healthy && !pl.closed {
		pl.idle = append(pl.idle, inst)
		pl.mu.Unlock()
		<-pl.slots
		return
	}
	pl.mu.Unlock()
	inst.close()
	<-pl.slots
}

// close closes the idle instances; busy ones are closed when they come
// back (and stopped at once by the runtime's own Close).
func (pl *pool) close() {
	pl.mu.Lock()
	idle := pl.idle
	pl.idle, pl.closed = nil, true
	pl.mu.Unlock()
	for _, inst := range idle {
		inst.close()
	}
}

// closeWait bounds how long Close waits for running calls to stop.
const closeWait = 30 * time.Second

// drain waits until no call holds an instance (every slot is taken back
// and kept: nothing starts after), or d passes; it says which.
func (pl *pool) drain(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for range cap(pl.slots) {
		select {
		case pl.slots <- struct{}{}:
		case <-t.C:
			return false
		}
	}
	return true
}

// idleCount reports the idle instances (for tests).
func (pl *pool) idleCount() int {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return len(pl.idle)
}

// StartupTimeout bounds a plugin's start-up — its describe at load, and
// each new instance's start-up (the guest's runtime and init functions) —
// separately from a tool call's limits.timeout. A limit chosen for a
// tool's work (a few hundred milliseconds, say) must not make the server
// fail to start, or a call fail, on a machine that is busy for a moment;
// the start-up limit only guards against a module that never answers.
const StartupTimeout = 2 * time.Minute

// timeLimit is the limit a call runs under, and what messages call it.
type timeLimit struct {
	d    time.Duration
	name string
}

// callLimit is a tool call's limit; startupLimit a start-up's, never less
// than the call limit.
func (p *loaded) callLimit() timeLimit    { return timeLimit{p.limits.Timeout, "limits.timeout"} }
func (p *loaded) startupLimit() timeLimit { return timeLimit{p.startup, "the start-up limit"} }

// invoke runs one export of the plugin within limit, on a pooled
// instance, and explains any failure as an error naming the plugin. what
// names the call for messages ("describe", or the tool's MCP name).
func (p *loaded) invoke(ctx context.Context, export string, input []byte, st *callState, what string, limit timeLimit) ([]byte, error) {
	defer p.reportDroppedLogs(what)
	if p.calls != nil {
		// Closing the Runtime stops the call.
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		unhook := context.AfterFunc(p.calls, stop)
		defer unhook()
	}
	for attempt := 0; ; attempt++ {
		out, retry, err := p.invokeOnce(ctx, export, input, st, what, limit, attempt == 0)
		if !retry {
			return out, err
		}
	}
}

// invokeOnce is one attempt of invoke; retry asks for another, on a new
// instance, when the one it got had exited and mayRetry allows it.
func (p *loaded) invokeOnce(ctx context.Context, export string, input []byte, st *callState, what string, limit timeLimit, mayRetry bool) (out []byte, retry bool, err error) {
	// A plugin whose tools came from the describe cache is compiled at its
	// first use; like making an instance, that does not count against the
	// call's limit.
	if err := p.ensureCompiled(ctx, what); err != nil {
		return nil, false, err
	}
	if e := p.refusal.Load(); e != nil {
		return nil, false, e
	}
	// Waiting for a free instance counts against the limit; making a new
	// one does not (wazero's instantiation cannot be interrupted, and a
	// machine busy for a moment must not turn it into a tool's timeout):
	// the export's own clock starts once the instance is there.
	wctx, wcancel := context.WithTimeout(ctx, limit.d)
	defer wcancel()
	inst, err := p.pool.get(wctx)
	if err != nil {
		return nil, false, p.waitFailure(ctx, wctx, err, what, limit)
	}
	healthy, fresh := true, !inst.started
	if fresh && export != api.ExportDescribe {
		// Extism runs the guest's start-up (Go's runtime, every init
		// function) at an instance's first export, under that export's
		// limit: a new instance's first export is therefore a describe
		// (which makes no IAM call), under the start-up limit, and the
		// call's clock starts after it. Its answer must be the one the
		// tools were listed from.
		var said []byte
		said, healthy, retry, err = p.run(ctx, inst, api.ExportDescribe, nil, &callState{}, "the start-up of a new instance for "+what, p.startupLimit(), mayRetry)
		if err == nil && !retry {
			if err = p.checkDescribe(said); err != nil {
				healthy = false
			}
		}
	}
	if err == nil && !retry {
		out, healthy, retry, err = p.run(ctx, inst, export, input, st, what, limit, mayRetry)
		if fresh && export == api.ExportDescribe && err == nil && !retry {
			if err = p.checkDescribe(out); err != nil {
				out, healthy = nil, false
			}
		}
	}
	p.pool.put(inst, healthy)
	return out, retry, err
}

// run calls export in inst within limit. healthy says whether the
// instance may serve another call; retry, that it had exited at the end of
// its last call (a WASI proc_exit(0) looks like success) and mayRetry
// allows another attempt on a new one.
func (p *loaded) run(ctx context.Context, inst *instance, export string, input []byte, st *callState, what string, limit timeLimit, mayRetry bool) (out []byte, healthy, retry bool, err error) {
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, stateKey{}, st), limit.d)
	defer cancel()
	done := cctx.Done()
	inst.done.Store(&done)
	inst.ctx.Store(&cctx)
	inst.stderr.Reset()
	_, out, err = inst.ext.CallWithContext(cctx, export, input)
	inst.ctx.Store(nil)
	inst.started = true
	if err == nil {
		return out, true, false, nil
	}
	if err.Error() == "module is closed" && mayRetry && cctx.Err() == nil {
		return nil, false, true, nil
	}
	reported := inst.ext.GetError()
	healthy = reported != "" && strings.HasPrefix(err.Error(), reported) && ctx.Err() == nil && cctx.Err() == nil
	return nil, healthy, false, p.failure(ctx, cctx, inst, err, healthy, what, limit)
}

// waitFailure explains why no instance could be had.
func (p *loaded) waitFailure(ctx, cctx context.Context, err error, what string, limit timeLimit) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("plugin %s: %s was cancelled before it started: %w", p.name, what, ctx.Err())
	case cctx.Err() != nil:
		return api.Errorf(api.LimitExceeded, "plugin %s: %s waited its whole time limit (%v, %s) for a free instance, all %d being busy; try again later",
			p.name, what, limit.d, limit.name, p.maxInstances)
	case errors.Is(err, errClosed):
		return api.Errorf(api.Internal, "plugin %s: %s cannot run: the server is shutting down", p.name, what)
	}
	return api.Errorf(api.Internal, "plugin %s: %s cannot run: %v (is limits.memory, %s, enough for it?)", p.name, what, err, p.limits.Memory)
}

// failure explains a failed call, most specific cause first.
func (p *loaded) failure(ctx, cctx context.Context, inst *instance, err error, reported bool, what string, limit timeLimit) error {
	var exit *sys.ExitError
	stderr := inst.stderr.String()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("plugin %s: %s was cancelled, and the plugin was stopped: %w", p.name, what, ctx.Err())
	case cctx.Err() != nil:
		return api.Errorf(api.LimitExceeded, "plugin %s: %s did not finish within its time limit (%v, %s) and was stopped; it may have done part of its work, so check with a read tool before retrying",
			p.name, what, limit.d, limit.name)
	case reported:
		return api.Errorf(api.Internal, "plugin %s reported an error in %s: %s", p.name, what, err.Error())
	case strings.Contains(stderr, "out of memory") || strings.Contains(err.Error(), "out of memory"):
		return api.Errorf(api.LimitExceeded, "plugin %s ran out of memory in %s (limits.memory is %s) and was stopped; ask for less at once, or raise the limit in the plugins file",
			p.name, what, p.limits.Memory)
	case goCrash(stderr) != "":
		// A Go panic or fatal error: the runtime printed why, then trapped
		// (unreachable) or exited.
		return api.Errorf(api.Internal, "plugin %s crashed in %s: %s; report this to the plugin's author", p.name, what, goCrash(stderr))
	case errors.As(err, &exit):
		detail := fmt.Sprintf("it exited with code %d", exit.ExitCode())
		if line := firstLine(stderr); line != "" {
			detail += ": " + line
		}
		return api.Errorf(api.Internal, "plugin %s stopped in %s: %s; report this to the plugin's author", p.name, what, detail)
	}
	line := trapLine(err)
	if strings.HasPrefix(line, "HTTP request to ") && strings.HasSuffix(line, " is not allowed") {
		return api.Errorf(api.Internal, "plugin %s tried to reach the network in %s (%s), and plugins have no network; report this to the plugin's author", p.name, what, line)
	}
	return api.Errorf(api.Internal, "plugin %s failed in %s: %s; report this to the plugin's author", p.name, what, line)
}

// goCrash picks the line of a guest's stderr that says why the Go runtime
// gave up ("panic: …" or "fatal error: …"), or "".
func goCrash(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			return clip(strings.TrimSpace(l), 300)
		}
	}
	return ""
}

// firstLine is the first non-blank line of s, clipped.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return clip(l, 300)
		}
	}
	return ""
}

// trapLine is the first line of a wazero error (the rest is a stack), with
// wazero's own words about how it caught it removed.
func trapLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), "(recovered by wazero)")
	return clip(strings.TrimSpace(s), 300)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// guestLog routes a plugin's Extism log lines to the host's log, tagged
// with the plugin's name, each cut to MaxLogLineBytes and within the
// plugin's log budget (see reportDroppedLogs). The SDK's own chatter about
// calling functions is dropped.
//
// Extism reads the line out of the plugin's memory before calling this
// (a copy bounded by the plugin's memory limit, dropped right after);
// what reaches the log is bounded here.
func (p *loaded) guestLog(ctx context.Context, level extism.LogLevel, msg string) {
	for _, noise := range sdkNoise {
		if strings.HasPrefix(msg, noise) {
			return
		}
	}
	var l slog.Level
	switch level {
	case extism.LogLevelTrace:
		l = slog.LevelDebug - 4
	case extism.LogLevelDebug:
		l = slog.LevelDebug
	case extism.LogLevelInfo:
		l = slog.LevelInfo
	case extism.LogLevelWarn:
		l = slog.LevelWarn
	default:
		l = slog.LevelError
	}
	p.pluginLog(ctx, l, msg)
}

// pluginLog logs a line the plugin caused (its own, or the runtime's about
// something it sent), within the plugin's log budget. A line below the
// log's level costs nothing.
func (p *loaded) pluginLog(ctx context.Context, level slog.Level, msg string, args ...any) {
	if !p.logger.Enabled(ctx, level) {
		return
	}
	msg = cutText(msg, MaxLogLineBytes)
	if !p.logs.allow(len(msg)) {
		return
	}
	p.logger.Log(ctx, level, msg, args...)
}

// reportDroppedLogs writes the one line that says how many of the
// plugin's log lines its budget dropped since the last such line; called
// as each call of the plugin ends, so that a flood costs one line per call.
func (p *loaded) reportDroppedLogs(what string) {
	if lines, bytes := p.logs.takeDropped(); lines > 0 {
		p.logger.Warn("plugin log lines dropped: more than its log budget allows",
			"lines", lines, "bytes", bytes, "call", what,
			"budget", fmt.Sprintf("%d lines and %d KiB a second, bursts of %d lines and %d KiB", LogLinesPerSecond, LogBytesPerSecond>>10, LogLineBurst, LogBytesBurst>>10))
	}
}

// sdkNoise are the prefixes of the Extism SDK's own debug lines, logged on
// every call through the plugin's logger.
var sdkNoise = []string{"Calling function : ", "Initializing runtime for ", "Calling _initialize", "Calling __wasm_call_ctors", "Initialized Haskell"}

// tailBuffer keeps the first and the last max/2 bytes written to it: a Go
// crash says why at the start of its stderr (a panic's message, "fatal
// error: out of memory"), then dumps every goroutine.
type tailBuffer struct {
	mu         sync.Mutex
	max        int
	head, tail []byte
	cut        bool
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b)
	if room := t.max/2 - len(t.head); room > 0 {
		k := min(room, len(b))
		t.head = append(t.head, b[:k]...)
		b = b[k:]
	}
	t.tail = append(t.tail, b...)
	if len(t.tail) > t.max/2 {
		t.tail = append(t.tail[:0:0], t.tail[len(t.tail)-t.max/2:]...)
		t.cut = true
	}
	return n, nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return string(t.head) + "\n…\n" + string(t.tail)
	}
	return string(t.head) + string(t.tail)
}

func (t *tailBuffer) Reset() {
	t.mu.Lock()
	t.head, t.tail, t.cut = t.head[:0], t.tail[:0], false
	t.mu.Unlock()
}

// lineLogger logs what a plugin writes to stdout or stderr, a line at a
// time, at debug level: a plugin author sees it with --log-level debug, and
// it can never reach the MCP stream on the process's stdout. Lines are cut
// to MaxLogLineBytes (only that much of one is ever held) and share the
// plugin's log budget with its Extism log lines.
type lineLogger struct {
	log     *slog.Logger
	budget  *logBudget
	stream  string
	mu      sync.Mutex
	partial []byte
	length  int // of the line being written, including what was not kept
}

func (w *lineLogger) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		chunk := b
		if i >= 0 {
			chunk = b[:i]
		}
		w.length += len(chunk)
		if room := MaxLogLineBytes - len(w.partial); room > 0 {
			w.partial = append(w.partial, chunk[:min(room, len(chunk))]...)
		}
		if i < 0 {
			break
		}
		b = b[i+1:]
		w.flush()
	}
	return n, nil
}

// flush logs the completed line, if it is not blank and the budget allows.
func (w *lineLogger) flush() {
	line, length := string(w.partial), w.length
	w.partial, w.length = w.partial[:0], 0
	if strings.TrimSpace(line) == "" || !w.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	line = cutKept(line, length, MaxLogLineBytes)
	if !w.budget.allow(len(line)) {
		return
	}
	w.log.Debug("plugin output", "stream", w.stream, "line", line)
}

// multiWriter writes to every writer (tailBuffer and lineLogger, which
// never fail).
type multiWriter []io.Writer

func (m multiWriter) Write(b []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(b)
	}
	return len(b), nil
}

func copyConfig(c map[string]string) map[string]string {
	out := make(map[string]string, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

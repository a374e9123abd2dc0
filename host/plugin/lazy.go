package plugin

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// A plugin whose describe answer was in the describe cache is loaded
// without compiling or instantiating it: Load lists its tools from the
// cached answer, and keeps no more of it than its description (not its
// module). Its first use — the first call of one of its tools — compiles
// it (through the compilation cache, which had its machine code when the
// describe was cached) and makes its first instance; that instance's
// start-up describe must repeat the cached answer byte for byte (see
// checkDescribe).

// readModule reads the plugin's .wasm and checks it against the sha256
// the plugins file pins, returning the module and its sha256.
func (p *loaded) readModule() ([]byte, string, error) {
	wasm, sha, err := readModuleFile(p.path)
	if err != nil {
		return nil, "", fmt.Errorf("plugin %s: %w", p.name, err)
	}
	if err := p.checkPin(sha); err != nil {
		return nil, "", err
	}
	return wasm, sha, nil
}

// pinned is the sha256 the plugins file pins, in lower case.
func (p *loaded) pinned() string { return strings.ToLower(p.spec.SHA256) }

// compileModule compiles wasm (see compile) through the runtime's
// compilation cache, and marks the plugin ready for instances.
func (p *loaded) compileModule(ctx context.Context, wasm []byte) error {
	p.compiles.Add(1)
	defer p.compileLocks.hold(p.sha)()
	if err := p.compile(ctx, wasm, p.ccache); err != nil {
		return err
	}
	p.ready.Store(true)
	return nil
}

// ensureCompiled compiles the plugin if Load did not: once, whatever the
// number of first calls that arrive together (the others wait for it,
// each as long as its context allows). The module is read again, and
// refused if it no longer has the pinned sha256, as Load would refuse it.
// A failure is the call's error, and the next call tries again. what
// names the call for messages.
func (p *loaded) ensureCompiled(ctx context.Context, what string) error {
	if p.ready.Load() {
		return nil
	}
	select {
	case p.startSem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("plugin %s: %s was cancelled before it started: %w", p.name, what, ctx.Err())
	}
	defer func() { <-p.startSem }()
	if p.ready.Load() {
		return nil
	}
	if p.stopped {
		return api.Errorf(api.Internal, "plugin %s: %s cannot run: the server is shutting down", p.name, what)
	}
	start := time.Now()
	wasm, _, err := p.readModule()
	if err == nil {
		err = p.compileModule(ctx, wasm)
	}
	if err != nil {
		return api.Errorf(api.Internal, "%v (while starting the plugin for %s, whose tools were listed from the describe cache); nothing was run: fix the plugin's file or its entry in the plugins file, or restart the server, which then reports the problem at start-up", err, what)
	}
	p.logger.Debug("plugin compiled on first use", "path", p.path, "sha256", p.sha, "took", time.Since(start))
	return nil
}

// checkDescribe compares what a new instance's start-up describe answered
// with the answer the plugin's tools were listed from, whenever there is a
// describe cache (which keeps that answer, whether Load read it there or
// got it from the plugin and stored it); without one, nothing is
// compared. A difference means the tools listed are not the module's: its describe
// is not the same at every start (it depends on the time, on chance, on
// the account), or the cache entry was changed. The plugin's calls are
// then refused until the server restarts (which describes it afresh), and
// the entry is removed. The first difference is logged; every call after
// it gets the same error.
func (p *loaded) checkDescribe(said []byte) error {
	if p.described == nil || bytes.Equal(said, p.described) {
		return nil
	}
	e := api.Errorf(api.Internal, "plugin %s cannot run: its describe now answers differently from the answer its tools were listed from (a describe that is not the same at every start, or a changed describe cache entry), so the tools the assistant sees may not be the plugin's; its calls are refused until the server is restarted, which describes it afresh. If this happens again after a restart, report it to the plugin's author",
		p.name)
	if p.refusal.CompareAndSwap(nil, e) {
		p.logger.Error("plugin refused: describe answered differently from the cached answer its tools were listed from; restart the server to describe it afresh",
			"sha256", p.sha, "cached_bytes", len(p.described), "answered_bytes", len(said))
		if p.dcache != nil {
			if err := p.dcache.remove(p.dkey); err != nil {
				p.logger.Warn("cannot remove the describe cache entry", "entry", p.dcache.path(p.dkey), "err", err)
			}
		}
	}
	return p.refusal.Load()
}

// stop keeps the plugin from being compiled from now on (Close), waiting
// for a compile under way, and says whether it was compiled: then Close
// has its pool and module to close.
func (p *loaded) stop() bool {
	p.startSem <- struct{}{}
	defer func() { <-p.startSem }()
	p.stopped = true
	return p.ready.Load()
}

// compileLocks makes the plugins of one runtime that load the same module
// compile it one at a time. They share the runtime's compilation cache,
// and so wazero's engine, which keys compiled modules by the module's
// hash; wazero 1.9 files a module read back from the disk cache as
// compiled before it has finished preparing it (its entry preambles), so
// a second plugin compiling the same bytes at that moment takes the
// unfinished module, and its first instance panics inside wazero
// (TestLoadNamesToolsAndWorksOutReadOnly loads one module twice, and did,
// now and then). Different modules still compile side by side. The zero
// value is ready; a nil *compileLocks (Inspect) locks nothing.
type compileLocks struct {
	mu    sync.Mutex
	bySHA map[string]*sync.Mutex
}

// hold locks sha's compilation and returns the unlock.
func (l *compileLocks) hold(sha string) (unlock func()) {
	if l == nil {
		return func() {}
	}
	l.mu.Lock()
	if l.bySHA == nil {
		l.bySHA = map[string]*sync.Mutex{}
	}
	m := l.bySHA[sha]
	if m == nil {
		m = &sync.Mutex{}
		l.bySHA[sha] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

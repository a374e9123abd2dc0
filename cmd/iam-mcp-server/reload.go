package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/iammcp/iam-mcp-server/host/mcpserver"
	"github.com/iammcp/iam-mcp-server/host/plugin"
)

// Reloading the plugin set while serving (serve, stdio and --http): on
// SIGHUP, and with --watch when the plugins file's content changes. A
// reload loads the whole new set from the file as it is then
// (w.loadPlugins: fetched, verified, compiled), and only then swaps it in
// (mcpserver.SetPlugins): a set that fails anywhere never replaces the one
// being served. The old set is closed once the calls running on it have
// finished.

// watchEvery is how often --watch reads the plugins file. A change is
// taken once two reads a poll apart agree, so that an editor's
// write-then-rename, or a file copied in pieces, is read whole.
const watchEvery = time.Second

// maxWatchedBytes bounds what --watch reads of the plugins file to hash it;
// plugin.LoadConfig refuses a larger file anyway.
const maxWatchedBytes = 4 << 20

// drainMargin is added to the longest plugin time limit to bound the wait
// for the old set's calls before it is closed regardless.
const drainMargin = 30 * time.Second

// reloader reloads the plugin set of a serving server. Reloads run one at a
// time on its own goroutine; a request during a reload schedules one more.
type reloader struct {
	cfg    config
	w      *wiring
	srv    *mcpserver.Server
	logger *slog.Logger

	kick   chan struct{} // one pending reload at most
	drains sync.WaitGroup
}

// startReloads starts listening for SIGHUP (and, with --watch, watching the
// plugins file) for srv over w. stop ends it and closes the old sets still
// draining; call it before w.close. SIGHUP is always caught while serving,
// so that it never ends the process; without --plugins it is logged and
// ignored.
func startReloads(ctx context.Context, cfg config, w *wiring, srv *mcpserver.Server, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	r := &reloader{cfg: cfg, w: w, srv: srv, logger: logger, kick: make(chan struct{}, 1)}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	var loops sync.WaitGroup
	loops.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if cfg.plugins == "" {
					logger.Warn("SIGHUP ignored: there are no plugins to reload (the server runs without --plugins)")
					continue
				}
				logger.Info("SIGHUP: reloading the plugins", "file", cfg.plugins)
				r.request()
			}
		}
	})
	if cfg.plugins != "" {
		loops.Go(func() { r.run(ctx) })
		if cfg.watch {
			loops.Go(func() { r.watch(ctx) })
		}
	}
	return func() {
		signal.Stop(hup)
		cancel()
		loops.Wait()
		r.drains.Wait()
	}
}

// request schedules a reload; one already pending covers this one.
func (r *reloader) request() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// run performs the reloads requested, one at a time.
func (r *reloader) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
			r.reload(ctx)
		}
	}
}

// reload loads the set from the file, swaps it in and drains the old one;
// on failure the old set stays, and the log says why.
func (r *reloader) reload(ctx context.Context) {
	start := time.Now()
	next, err := r.w.loadPlugins(ctx)
	if err == nil && next == nil {
		err = errors.New("the plugins file gave no plugin set")
	}
	if err != nil {
		r.logger.Error("plugins not reloaded; still serving the previous set", "file", r.cfg.plugins, "err", err)
		return
	}
	if err := r.srv.SetPlugins(next); err != nil {
		closePlugins(next, r.logger)
		r.logger.Error("plugins not reloaded; still serving the previous set", "file", r.cfg.plugins, "err", err)
		return
	}
	// w.close closes w.plugins: it runs after stop, so after this loop.
	old := r.w.plugins
	r.w.plugins = next
	added, removed := diffNames(toolNames(old), toolNames(next))
	r.logger.Info("plugins reloaded", "file", r.cfg.plugins, "plugins", len(next.Plugins()), "tools", len(next.Tools()),
		"added", added, "removed", removed, "took", time.Since(start))
	if old == nil {
		return
	}
	bound := longestTimeout(old) + drainMargin
	r.drains.Go(func() {
		timer := time.NewTimer(bound)
		defer timer.Stop()
		select {
		case <-r.srv.PluginsIdle(old):
		case <-timer.C:
			r.logger.Warn("closing the previous plugin set with calls still running on it", "waited", bound)
		case <-ctx.Done():
			// The server is stopping: its calls were cancelled.
		}
		closePlugins(old, r.logger)
	})
}

// watch requests a reload when the plugins file's content has changed and
// stayed the same for one poll.
func (r *reloader) watch(ctx context.Context) {
	applied := fileHash(r.cfg.plugins)
	seen := applied
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := fileHash(r.cfg.plugins)
		switch {
		case now == applied:
			seen = now
		case now != seen:
			seen = now // changed: wait for it to settle
		default:
			r.logger.Info("the plugins file changed: reloading the plugins", "file", r.cfg.plugins)
			applied = now
			r.request()
		}
	}
}

// fileHash is the SHA-256 of the file's first maxWatchedBytes, or of the
// error that reading it gave (a missing file is a state like another).
func fileHash(path string) [sha256.Size]byte {
	f, err := os.Open(path)
	if err != nil {
		return sha256.Sum256([]byte("error: " + err.Error()))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, maxWatchedBytes)); err != nil {
		return sha256.Sum256([]byte("error: " + err.Error()))
	}
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// toolNames lists a set's tools; nil for no set.
func toolNames(h *plugin.Runtime) []string {
	if h == nil {
		return nil
	}
	var names []string
	for _, t := range h.Tools() {
		names = append(names, t.Name)
	}
	return names
}

// diffNames says which names are in next and not in old, and the reverse.
func diffNames(old, next []string) (added, removed []string) {
	for _, n := range next {
		if !slices.Contains(old, n) {
			added = append(added, n)
		}
	}
	for _, n := range old {
		if !slices.Contains(next, n) {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// longestTimeout is the longest time limit of a call in the set.
func longestTimeout(h *plugin.Runtime) time.Duration {
	longest := plugin.DefaultTimeout
	for _, p := range h.Plugins() {
		longest = max(longest, p.Limits.Timeout)
	}
	return longest
}

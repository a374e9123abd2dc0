package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

// runServe serves MCP on stdin and stdout until stdin closes or ctx ends (a
// signal: SIGINT, SIGTERM); both end it with status 0. With --http it
// serves MCP over HTTP instead (servehttp.go).
func runServe(ctx context.Context, cfg config, stdin io.Reader, stdout, stderr io.Writer) int {
	// One logger for the process, built on the client log: the server's,
	// the sandbox's and the plugins' records reach stderr as configured,
	// and the MCP clients that ask for them (logging/setLevel, or a
	// request's log level) as notifications/message.
	var clientLog mcpserver.ClientLog
	logger := slog.New(clientLog.Handler(cfg.logHandler(stderr))).With("component", "server")

	if cfg.http.on() {
		return runServeHTTP(ctx, cfg, logger, &clientLog, stderr)
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			// A person ran it in a terminal: say what it is waiting for.
			fmt.Fprintln(stderr, `iam-mcp-server: serving MCP on stdin and stdout; an MCP client starts this command. Try "iam-mcp-server --help", or "iam-mcp-server call list_users --sandbox --sandbox-seed demo". Ctrl-C stops.`)
		}
	}

	w, err := cfg.open(ctx, logger)
	if err != nil {
		return openFailure(stderr, cfg.command, err)
	}
	defer w.close()
	srv, pluginTools, err := cfg.newServer(w, logger, &clientLog)
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	logger.Info("serving MCP on stdio", "version", version, "tools", len(cfg.tools), "toolsets", cfg.toolsets,
		"plugin_tools", pluginTools, "readonly", cfg.readOnly, "confirm", cfg.confirm, "excluded", len(cfg.excluded), "sandbox", cfg.sandbox)
	stopReloads := startReloads(ctx, cfg, w, srv, logger) // before w.close, deferred above
	defer stopReloads()
	if err := srv.ServeStdio(ctx, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	logger.Info("MCP session ended")
	return 0
}

// newServer builds the MCP server over w, for stdio or HTTP, and says how
// many plugin tools it serves.
func (c config) newServer(w *wiring, logger *slog.Logger, clientLog *mcpserver.ClientLog) (*mcpserver.Server, int, error) {
	opts := mcpserver.Options{Tools: c.tools, Filter: c.filter, Sandbox: c.sandbox, Version: version, Logger: logger,
		ClientLog: clientLog}
	pluginTools := 0
	if w.plugins != nil { // never a nil *plugin.Runtime in the interface
		opts.Plugins = w.plugins
		pluginTools = len(w.plugins.Tools())
	}
	srv, err := mcpserver.New(w.gate, opts)
	return srv, pluginTools, err
}

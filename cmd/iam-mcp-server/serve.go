package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

// runServe serves MCP on stdin and stdout until stdin closes or a signal
// (SIGINT, SIGTERM) arrives; both end it with status 0.
func runServe(cfg config, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := cfg.logger(stderr).With("component", "server")

	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			// A person ran it in a terminal: say what it is waiting for.
			fmt.Fprintln(stderr, `iam-mcp-server: serving MCP on stdin and stdout; an MCP client starts this command. Try "iam-mcp-server --help", or "iam-mcp-server call list_users --local --local-seed demo". Ctrl-C stops.`)
		}
	}

	w, err := cfg.open(ctx, logger)
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	defer w.close()
	opts := mcpserver.Options{Tools: cfg.tools, Local: cfg.local, Version: version, Logger: logger}
	pluginTools := 0
	if w.plugins != nil { // never a nil *plugin.Host in the interface
		opts.Plugins = w.plugins
		pluginTools = len(w.plugins.Tools())
	}
	srv, err := mcpserver.New(w.gate, opts)
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	logger.Info("serving MCP on stdio", "version", version, "tools", len(cfg.tools), "toolsets", cfg.toolsets,
		"plugin_tools", pluginTools, "readonly", cfg.readOnly, "local", cfg.local)
	if err := srv.ServeStdio(ctx, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	logger.Info("MCP session ended")
	return 0
}

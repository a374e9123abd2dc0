package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/iammcp/iam-mcp-server/host/plugin"
)

// runTools prints one line per exposed tool: name, toolset, read or write,
// in aligned columns and catalogue order — the toolsets' operations that
// --tools and --exclude-tools show. With --plugins the plugins are loaded
// as the server would load them, and their tools the filter shows follow,
// with the toolset "plugin:<name>" and read only when every operation the
// plugin may call is read-only.
func runTools(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	var pluginTools []plugin.Tool
	if cfg.plugins != "" {
		// Loaded before anything is printed: a pattern that matches no
		// tool is an error, and a partial listing would hide it.
		w, err := cfg.open(ctx, cfg.logger(stderr))
		if err != nil {
			return openFailure(stderr, cfg.command, err)
		}
		defer w.close()
		pluginTools = w.plugins.Tools()
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, op := range cfg.tools {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", op.Name, op.Toolset, readWrite(!op.Mutates))
	}
	for _, t := range pluginTools {
		if cfg.filter.Shows(t.Name) {
			fmt.Fprintf(tw, "%s\tplugin:%s\t%s\n", t.Name, t.Plugin, readWrite(!t.Mutates))
		}
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

func readWrite(readOnly bool) string {
	if readOnly {
		return "read"
	}
	return "write"
}

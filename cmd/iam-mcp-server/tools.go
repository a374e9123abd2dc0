package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
)

// runTools prints one line per exposed tool: name, toolset, read or write,
// in aligned columns and catalogue order. With --plugins the plugins are
// loaded as the server would load them, and their tools follow, with the
// toolset "plugin:<name>" and read only when every operation the plugin
// may call is read-only.
func runTools(cfg config, stdout, stderr io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, op := range cfg.tools {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", op.Name, op.Toolset, readWrite(!op.Mutates))
	}
	if cfg.plugins != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		w, err := cfg.open(ctx, cfg.logger(stderr))
		if err != nil {
			fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
			return 1
		}
		defer w.close()
		for _, t := range w.plugins.Tools() {
			fmt.Fprintf(tw, "%s\tplugin:%s\t%s\n", t.Name, t.Plugin, readWrite(t.ReadOnly))
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

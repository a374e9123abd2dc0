package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// runTools prints one line per exposed tool: name, toolset, read or write,
// in aligned columns and catalogue order.
func runTools(cfg config, stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, op := range cfg.tools {
		kind := "read"
		if op.Mutates {
			kind = "write"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", op.Name, op.Toolset, kind)
	}
	if err := tw.Flush(); err != nil {
		return 1
	}
	return 0
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// runCommand is the start-up that serve, call, tools, policy and plugins
// list share, written once: their flags and variables parsed into one
// config, help, --version and usage errors answered, the old spellings
// warned of, then the command run. A command that reaches IAM then opens
// its wiring (config.open) under ctx and reports a failure with
// openFailure.
func runCommand(ctx context.Context, p process, command string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, pos, err := parseConfig(command, args, p.lookupEnv)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage[command]+"\n"+flagsHelp)
		return 0
	case err != nil:
		return usageFailure(stderr, command, err)
	case cfg.version:
		fmt.Fprintln(stdout, "iam-mcp-server", version)
		return 0
	}
	cfg.sayRenamed(stderr)
	switch command {
	case "call":
		return runCall(ctx, p, cfg, pos, stdin, stdout, stderr)
	}
	if len(pos) > 0 {
		return usageFailure(stderr, command, usagef("unexpected argument %s", quoted(pos[0])))
	}
	switch command {
	case "serve":
		return runServe(ctx, cfg, stdin, stdout, stderr)
	case "tools":
		return runTools(ctx, cfg, stdout, stderr)
	case "plugins list":
		return runPluginsList(ctx, cfg, stdout, stderr)
	default: // policy
		return runPolicy(cfg, stdout, stderr)
	}
}

// logger writes the configured level and above to w (stderr).
func (c config) logger(w io.Writer) *slog.Logger {
	return slog.New(c.logHandler(w))
}

func (c config) logHandler(w io.Writer) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: c.logLevel})
}

// openFailure reports an error of open: a pattern of --tools or
// --exclude-tools that matched no plugin tool either is a usage error
// (status 2), anything else a failure to start (status 1).
func openFailure(stderr io.Writer, command string, err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return usageFailure(stderr, command, ue)
	}
	fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
	return 1
}

// Command iam-mcp-server is an MCP server for AWS IAM. This file only picks
// the subcommand. The files say each job: help.go the help text, flags.go
// the command line and environment parsed into one config (config.go, with
// its validation), start.go the start-up the commands share, wiring.go the
// catalogue, gate, sandbox, audit log and plugins opened from the config;
// one file per command runs it (serve.go, call.go, tools.go, policy.go,
// plugins.go, sandbox.go); serve --http has its flags in httpconfig.go and
// runs in servehttp.go.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(process{lookupEnv: os.LookupEnv, openTTY: openTTY}, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// process is what a command takes from its process besides its arguments
// and streams. The zero value has no environment and no terminal: tests
// give each run its own, and never share the test process's.
type process struct {
	// lookupEnv reads the IAM_MCP_* variables; nil for none.
	lookupEnv func(string) (string, bool)
	// openTTY opens the controlling terminal, where call asks its question
	// when stdin carries the arguments (--args -); nil for none.
	openTTY func() (*os.File, error)
}

// run executes one command line and returns the process exit code: 0 on
// success, 1 when the command failed, 2 for a usage error.
func run(p process, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	} else if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(stdout, usage+flagsHelp)
		return 0
	}
	// Every command runs until done or until SIGINT or SIGTERM cancels
	// this context; each stops its work, closes what it opened, and exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if command == "serve" {
		// SIGHUP reloads the plugins of a server that is serving
		// (reload.go); one that arrives while it still starts must not
		// end it, as the signal's default would.
		signal.Ignore(syscall.SIGHUP)
	}
	switch command {
	case "serve", "call", "tools", "policy":
		return runCommand(ctx, p, command, args, stdin, stdout, stderr)
	case "plugins":
		return runPlugins(ctx, p, args, stdin, stdout, stderr)
	case "sandbox":
		return serveSandbox(ctx, args, stderr, nil)
	case "version":
		fmt.Fprintln(stdout, "iam-mcp-server", version)
		return 0
	case "help":
		fmt.Fprint(stdout, usage+flagsHelp)
		return 0
	}
	fmt.Fprintf(stderr, "iam-mcp-server: unknown command %s\n\n%s", quoted(command), usage)
	return 2
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}

// Command iam-mcp-server is an MCP server for AWS IAM. This file only picks
// the subcommand; each subcommand turns its flags into one configuration
// (config.go) and runs it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `iam-mcp-server — AWS IAM for AI assistants, over MCP

Usage:
  iam-mcp-server [serve] [flags]          serve the IAM tools over MCP on stdio (what an MCP client runs)
  iam-mcp-server call TOOL [--args JSON|@FILE|-] [flags]
                                          run one operation and print its result as JSON
  iam-mcp-server tools [flags]            list the exposed tools: name, toolset, read or write
  iam-mcp-server policy [flags]           print the least-privilege IAM policy the server needs
  iam-mcp-server plugins list --plugins FILE [flags]
                                          load the plugins FILE lists and print each: hash, tools, grants, limits
  iam-mcp-server plugins inspect FILE.wasm
                                          print a plugin module's sha256 and describe output, to write its grant
  iam-mcp-server sandbox [flags]          serve the embedded IAM sandbox over HTTP (for the AWS CLI and SDKs)
  iam-mcp-server version                  print the version

Run "iam-mcp-server COMMAND --help" for a command's details, and
"iam-mcp-server sandbox --help" for the sandbox's flags.

`

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
	switch command {
	case "serve", "call", "tools", "policy":
		return runCommand(p, command, args, stdin, stdout, stderr)
	case "plugins":
		return runPlugins(p, args, stdin, stdout, stderr)
	case "sandbox":
		return runSandbox(args, stderr)
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

// runCommand parses a command's flags into a config and runs the command.
func runCommand(p process, command string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	switch command {
	case "call":
		return runCall(p, cfg, pos, stdin, stdout, stderr)
	}
	if len(pos) > 0 {
		return usageFailure(stderr, command, usagef("unexpected argument %s", quoted(pos[0])))
	}
	switch command {
	case "serve":
		return runServe(cfg, stdin, stdout, stderr)
	case "tools":
		return runTools(cfg, stdout, stderr)
	case "plugins list":
		return runPluginsList(cfg, stdout, stderr)
	default: // policy
		return runPolicy(cfg, stdout, stderr)
	}
}

// maxMessage bounds a usage error's message, in characters.
const maxMessage = 600

// usageFailure reports a bad command line in one line, then the command's
// synopsis, and returns exit status 2.
func usageFailure(stderr io.Writer, command string, err error) int {
	synopsis, _, _ := strings.Cut(commandUsage[command], "\n")
	// Escaped and bounded whatever built it: the flag package quotes a bad
	// value whole and names an unknown flag raw, and a flag carries
	// whatever a script passes it.
	msg := printableN(err.Error(), maxMessage)
	fmt.Fprintf(stderr, "iam-mcp-server %s: %s\n%s\nRun \"iam-mcp-server %s --help\" for the flags.\n", command, msg, synopsis, command)
	return 2
}

// Command iam-mcp-server is an MCP server for AWS IAM. This file only picks
// the subcommand; each subcommand turns its flags into one configuration and
// runs it.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `iam-mcp-server — AWS IAM for AI assistants, over MCP

Usage:
  iam-mcp-server sandbox [flags]   serve the embedded IAM sandbox over HTTP (for the AWS CLI and SDKs)
  iam-mcp-server --version         print the version

Run "iam-mcp-server sandbox --help" for the sandbox's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code: 0 on
// success, 1 when the command failed, 2 for a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "sandbox":
		return runSandbox(args[1:], stderr)
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, "iam-mcp-server", version)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "iam-mcp-server: unknown command %q\n\n%s", args[0], usage)
	return 2
}

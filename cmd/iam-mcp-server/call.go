package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// runCall runs one operation through the gate, as the command line caller,
// and prints its result as indented JSON.
func runCall(cfg config, pos []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(pos) == 0 {
		return usageFailure(stderr, "call", usagef("which tool? Name one (run \"iam-mcp-server tools --toolsets all\" to list them)"))
	}
	if len(pos) > 1 {
		return usageFailure(stderr, "call", usagef("unexpected argument %q after the tool name (pass arguments with --args)", pos[1]))
	}
	tool := pos[0]
	op, ok := api.Lookup(tool)
	if !ok {
		return usageFailure(stderr, "call", usagef("unknown tool %q (run \"iam-mcp-server tools --toolsets all\" to list them)", tool))
	}
	args, err := readArgs(cfg.args, stdin)
	if err != nil {
		return usageFailure(stderr, "call", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := cfg.logger(stderr)
	g, cleanup, err := cfg.open(ctx, logger)
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	defer cleanup()

	out, err := g.Call(ctx, gate.Caller{Kind: gate.CLI, Tool: tool}, tool, args)
	if err != nil {
		var ae *api.Error
		if !errors.As(err, &ae) {
			ae = api.Errorf(api.Internal, "unexpected failure: %v; please report it", err)
		}
		fmt.Fprintln(stderr, ae.Error())
		return 1
	}
	if op.Mutates && cfg.local && cfg.localState == "" {
		logger.Warn("the sandbox lives in memory without --local-state FILE: this change is gone when the command exits")
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s ran, but its result could not be encoded as JSON: %v\n", api.Internal, tool, err)
		return 1
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: cannot write the result: %v\n", err)
		return 1
	}
	return 0
}

// readArgs reads --args: literal JSON, @FILE, or - for stdin; none is {}.
// The value must be one JSON object.
func readArgs(spec string, stdin io.Reader) (json.RawMessage, error) {
	var data []byte
	var from string
	switch {
	case spec == "":
		return json.RawMessage("{}"), nil
	case spec == "-":
		from = "stdin"
		if stdin == nil {
			return nil, usagef("--args -: no standard input")
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usagef("--args -: cannot read stdin: %v", err)
		}
		data = b
	case strings.HasPrefix(spec, "@"):
		from = spec[1:]
		b, err := os.ReadFile(from)
		if err != nil {
			return nil, usagef("--args %s: %v", spec, err)
		}
		data = b
	default:
		from = "--args"
		data = []byte(spec)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, usagef("the arguments from %s are not valid JSON: %v", from, err)
	}
	if data[0] != '{' {
		return nil, usagef("the arguments from %s must be a JSON object, like {\"user_name\": \"alice\"}", from)
	}
	return data, nil
}

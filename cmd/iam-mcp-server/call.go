package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// runCall runs one operation through the gate, as the command line caller,
// or with --plugins one plugin tool through the plugin runtime, and prints
// its result as indented JSON. A change that --confirm covers is put to
// the person on the terminal first (see terminalConsent).
func runCall(ctx context.Context, p process, cfg config, pos []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(pos) == 0 {
		return usageFailure(stderr, "call", usagef("which tool? Name one (run \"iam-mcp-server tools --toolsets all\" to list them)"))
	}
	if len(pos) > 1 {
		return usageFailure(stderr, "call", usagef("unexpected argument %s after the tool name (pass arguments with --args)", quoted(pos[1])))
	}
	tool := pos[0]
	op, isOp := api.Lookup(tool)
	if !isOp && cfg.plugins == "" {
		return usageFailure(stderr, "call", usagef("unknown tool %s (run \"iam-mcp-server tools --toolsets all\" to list them; plugin tools need --plugins FILE)", quoted(tool)))
	}
	args, err := readArgs(cfg.args, stdin)
	if err != nil {
		return usageFailure(stderr, "call", err)
	}

	logger := cfg.logger(stderr)
	w, err := cfg.open(ctx, logger)
	if err != nil {
		return openFailure(stderr, cfg.command, err)
	}
	defer w.close()
	term, closeTerm := cfg.terminal(p, stdin, stderr)
	defer closeTerm()
	consent := &terminalConsent{yes: cfg.yes, level: cfg.confirm, terminal: term}

	// A plugin tool is looked up by its name; the runtime refuses any
	// plugin tool named like a catalogue operation, so a name means one
	// thing.
	if w.plugins != nil {
		for _, t := range w.plugins.Tools() {
			if t.Name != tool {
				continue
			}
			if cfg.filter.Excludes(t.Name) {
				fmt.Fprintln(stderr, api.Errorf(api.Excluded, "%s is excluded from this server by its operator (%s); nothing was done", t.Name, cfg.source("exclude-tools")).Error())
				return 1
			}
			return callPlugin(ctx, cfg, w, t, args, consent, stdout, stderr, logger)
		}
	}
	if !isOp {
		return usageFailure(stderr, "call", usagef("unknown tool %s: no catalogue operation and no tool of the plugins in %s (run \"iam-mcp-server tools --toolsets all --plugins %s\" to list them)", quoted(tool), cfg.plugins, cfg.plugins))
	}

	out, err := w.gate.Call(ctx, gate.Caller{Kind: gate.CLI, Tool: tool, Consent: consent}, tool, args)
	if err != nil {
		fmt.Fprintln(stderr, gate.AsAPIError(err).Error())
		return 1
	}
	if op.Mutates && cfg.sandbox && cfg.sandboxState == "" {
		logger.Warn("the sandbox lives in memory without --sandbox-state FILE: this change is gone when the command exits")
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s ran, but its result could not be encoded as JSON: %v\n", api.Internal, tool, err)
		return 1
	}
	return printResult(b, stdout, stderr)
}

// terminal says where call asks its question: on stdin when it is a
// terminal, with the question on stderr; when stdin carries the arguments
// (--args -), on the controlling terminal, question and answer both,
// opened when the first question comes. Without either there is no
// terminal.
// The returned func closes what was opened.
func (c config) terminal(p process, stdin io.Reader, stderr io.Writer) (func() (io.Reader, io.Writer, bool), func()) {
	var tty *os.File
	closeTTY := func() {
		if tty != nil {
			tty.Close()
		}
	}
	if c.args != "-" {
		f, ok := stdin.(*os.File)
		isTerm := ok && isTerminal(f.Fd())
		return func() (io.Reader, io.Writer, bool) { return stdin, stderr, isTerm }, closeTTY
	}
	return func() (io.Reader, io.Writer, bool) {
		if tty != nil { // a plugin's second question
			return tty, tty, true
		}
		if p.openTTY == nil {
			return nil, nil, false
		}
		f, err := p.openTTY()
		if err != nil {
			return nil, nil, false
		}
		if !isTerminal(f.Fd()) {
			f.Close()
			return nil, nil, false
		}
		tty = f
		return f, f, true
	}, closeTTY
}

// callPlugin runs one plugin tool. Its progress reports are logged (shown
// with --log-level info); the changes it makes that --confirm covers are
// put to the person as for an operation, once per plan the plugin states;
// its result is printed as the structured content, indented, or else as
// the text content. A tool error is printed on stderr and exits 1, like an
// operation's.
func callPlugin(ctx context.Context, cfg config, w *wiring, t plugin.Tool, args json.RawMessage, consent gate.Consent, stdout, stderr io.Writer, logger *slog.Logger) int {
	progress := func(r api.ProgressReport) {
		logger.Info("progress", "tool", t.Name, "progress", r.Progress, "total", r.Total, "message", r.Message)
	}
	res, err := w.plugins.CallWithConsent(ctx, t.Name, args, progress, consent)
	if err != nil {
		fmt.Fprintln(stderr, plugin.ToolError(t, err).Error())
		return 1
	}
	var text []string
	for _, c := range res.Content {
		text = append(text, c.Text)
	}
	if res.IsError {
		fmt.Fprintln(stderr, strings.Join(text, "\n"))
		return 1
	}
	if t.Mutates && cfg.sandbox && cfg.sandboxState == "" {
		logger.Info("the sandbox lives in memory without --sandbox-state FILE: any change the plugin made is gone when the command exits")
	}
	if sc := bytes.TrimSpace(res.StructuredContent); len(sc) > 0 && !bytes.Equal(sc, []byte("null")) {
		var b bytes.Buffer
		if err := json.Indent(&b, sc, "", "  "); err != nil {
			fmt.Fprintf(stderr, "%s: plugin %s answered %s with structured content that is not JSON; report this to the plugin's author\n", api.Internal, t.Plugin, t.Name)
			return 1
		}
		return printResult(b.Bytes(), stdout, stderr)
	}
	return printResult([]byte(strings.Join(text, "\n")), stdout, stderr)
}

func printResult(b []byte, stdout, stderr io.Writer) int {
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: cannot write the result: %v\n", err)
		return 1
	}
	return 0
}

// readArgs reads --args: literal JSON, @FILE, or - for stdin; none is {}.
// The value must be one JSON object of at most args.MaxBytes: a file or a
// stream is read no further than that (@/dev/zero must not eat memory).
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
		b, err := readCapped(stdin)
		if err != nil {
			return nil, usagef("--args -: cannot read stdin: %v", err)
		}
		data = b
	case strings.HasPrefix(spec, "@"):
		from = spec[1:]
		f, err := os.Open(from)
		if err != nil {
			return nil, usagef("--args %s: %v", spec, err)
		}
		b, err := readCapped(f)
		f.Close()
		if err != nil {
			return nil, usagef("--args %s: %v", spec, err)
		}
		data = b
	default:
		from = "--args"
		data = []byte(spec)
	}
	if len(data) > args.MaxBytes {
		return nil, usagef("the arguments from %s are over %d bytes, the most a call takes", from, args.MaxBytes)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return json.RawMessage("{}"), nil
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, usagef("the arguments from %s are not valid JSON: %s", from, args.Cut(err.Error(), 200))
	}
	if data[0] != '{' {
		return nil, usagef("the arguments from %s must be a JSON object, like {\"user_name\": \"alice\"}", from)
	}
	return data, nil
}

// readCapped reads r to its end, or to one byte past args.MaxBytes.
func readCapped(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, args.MaxBytes+1))
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// runPlugins is `iam-mcp-server plugins list|inspect|new|publish|sign|keygen|add|update`.
func runPlugins(ctx context.Context, p process, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageFailure(stderr, "plugins", usagef("which one? plugins list or plugins inspect (or plugins new NAME, to write a new plugin)"))
	}
	switch sub, rest := args[0], args[1:]; {
	case isHelp(sub) || sub == "help":
		fmt.Fprint(stdout, commandUsage["plugins"])
		return 0
	case sub == "list":
		return runCommand(ctx, p, "plugins list", rest, stdin, stdout, stderr)
	case sub == "inspect" && isOCIArg(rest):
		return runInspectOCI(ctx, rest, stdout, stderr)
	case sub == "inspect":
		return runInspect(ctx, rest, stdout, stderr)
	case sub == "new":
		return runPluginsNew(rest, stdout, stderr)
	case sub == "publish":
		return runPluginsPublish(ctx, rest, stdout, stderr)
	case sub == "sign":
		return runPluginsSign(ctx, rest, stdout, stderr)
	case sub == "keygen":
		return runPluginsKeygen(rest, stdout, stderr)
	case sub == "add":
		return runPluginsAdd(ctx, rest, stdin, stdout, stderr)
	case sub == "update":
		return runPluginsUpdate(ctx, rest, stdin, stdout, stderr)
	default:
		return usageFailure(stderr, "plugins", usagef("unknown subcommand %s: use plugins list, inspect, new, publish, sign, keygen, add or update", quoted(sub)))
	}
}

// runPluginsList loads the plugins as serve would (so that what it prints,
// and any error, is what the server would see) and prints each.
func runPluginsList(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	w, err := cfg.open(ctx, cfg.logger(stderr))
	if err != nil {
		return openFailure(stderr, cfg.command, err)
	}
	defer w.close()
	infos := w.plugins.Plugins()
	if len(infos) == 0 {
		fmt.Fprintf(stdout, "%s lists no plugins.\n", cfg.plugins)
		return 0
	}
	for i, p := range infos {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writePluginInfo(stdout, p)
	}
	return 0
}

// writePluginInfo prints one plugin for `plugins list`.
func writePluginInfo(w io.Writer, p plugin.PluginInfo) {
	title := p.Name
	if p.Version != "" {
		title += " " + p.Version
	}
	if p.Description != "" {
		title += " — " + p.Description
	}
	fmt.Fprintln(w, title)
	field := func(label, value string) {
		fmt.Fprintf(w, "  %-12s %s\n", label+":", wrap(value, 15, 100))
	}
	path := p.Path
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	field("path", path)
	field("sha256", p.SHA256)
	prefix := p.Prefix
	if prefix == "" {
		prefix = `"" (none)`
	}
	field("prefix", prefix)
	field("tools", list(p.Tools))
	field("asks for", list(p.Asked))
	field("granted", list(p.Granted))
	if len(p.NotGranted) > 0 {
		field("not granted", list(p.NotGranted)+" (asked for: calls to them fail with NotGranted)")
	}
	mode := "read-only (every operation granted reads)"
	if p.Mutates {
		mode = "may change IAM (it is granted operations that mutate)"
	}
	field("mode", mode)
	if len(p.Accounts) > 0 {
		field("accounts", list(p.Accounts)+" (only these; the plugins file's accounts:)")
	}
	field("limits", limitsText(p))
}

// limitsText says a plugin's effective limits in words.
func limitsText(p plugin.PluginInfo) string {
	capText := func(n int) string {
		if n == 0 {
			return "no cap"
		}
		return fmt.Sprint(n)
	}
	parts := []string{
		fmt.Sprintf("memory %s (%d pages)", p.Limits.Memory, p.MemoryPages),
		"timeout " + p.Limits.Timeout.String(),
		"IAM calls per tool call " + capText(p.Limits.MaxIAMCalls),
		"mutations per tool call " + capText(p.Limits.MaxMutations),
	}
	if p.MaxInput > 0 {
		parts = append(parts, fmt.Sprintf("input up to %d KiB", p.MaxInput>>10))
	}
	return strings.Join(parts, ", ")
}

func list(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// wrap breaks a comma-separated value into lines of at most width
// characters, continuation lines indented by indent.
func wrap(s string, indent, width int) string {
	if len(s)+indent <= width {
		return s
	}
	var b strings.Builder
	line := indent
	for i, word := range strings.Split(s, ", ") {
		switch {
		case i == 0:
		case line+2+len(word) > width:
			b.WriteString(",\n" + strings.Repeat(" ", indent))
			line = indent
		default:
			b.WriteString(", ")
			line += 2
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}

// inspected is what `plugins inspect` prints.
type inspected struct {
	Path     string                 `json:"path"`
	SHA256   string                 `json:"sha256"`
	Describe *api.PluginDescription `json:"describe"`
}

// runInspect prints a module's sha256 and its describe output. Nothing but
// describe runs, with the default limits and no IAM access; the sha256 is
// printed even when describe fails, on stderr with the error.
func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugins inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage["plugins inspect"])
		return 0
	case err != nil:
		return usageFailure(stderr, "plugins inspect", &usageError{flagMessage(err)})
	case len(pos) == 0:
		return usageFailure(stderr, "plugins inspect", usagef("which module? Name a .wasm file"))
	case len(pos) > 1:
		return usageFailure(stderr, "plugins inspect", usagef("unexpected argument %s: inspect one module at a time", quoted(pos[1])))
	}
	path := pos[0]
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	sha, desc, err := plugin.Inspect(ctx, path)
	if err != nil {
		if sha != "" {
			fmt.Fprintf(stderr, "iam-mcp-server: %s (sha256 %s): %v\n", path, sha, err)
		} else {
			fmt.Fprintf(stderr, "iam-mcp-server: %s: %v\n", path, err)
		}
		return 1
	}
	b, err := json.MarshalIndent(inspected{Path: path, SHA256: sha, Describe: desc}, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

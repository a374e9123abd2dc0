// Command iam-mcp-bench is `make bench`: it runs the benchmarks of ./bench
// once (go test -bench) and prints what they measured next to the targets
// of the issues: spawn to initialize under 50 ms, under 1 ms added per tool
// call, under 40 MB idle; with two Wasm plugins, a warm start under 150 ms
// and under 0.5 ms added by a plugin tool over the same built-in call, and
// iam_batch near N times faster than one call after another; the access
// review on 10,000 principals in under 30 s with fewer than 200 IAM calls,
// against a per-principal gatherer, and as Wasm within 2× of native and 200 MB;
// 50 clients × 100 calls over Streamable HTTP against the same over stdio,
// with no error and no leak between clients.
//
// Benchmarks report and never fail on a time; this command does not either:
// it exits 1 only when the benchmarks could not run.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	server := flag.String("server", "bin/iam-mcp-server", "the built server `binary` to measure (built by the benchmarks when missing)")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime for each benchmark")
	raw := flag.Bool("raw", false, "also print go test's own output")
	flag.Parse()
	if err := run(os.Stdout, os.Stderr, *server, *benchtime, *raw); err != nil {
		fmt.Fprintf(os.Stderr, "iam-mcp-bench: %v\n", err)
		os.Exit(1)
	}
}

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit: "ns/op", "ms/spawn-median", "MB-rss", …
type results map[string]map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

func parse(out string) results {
	r := results{}
	for _, line := range strings.Split(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		metrics := map[string]float64{}
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metrics[f[i+1]] = v
			}
		}
		r[m[1]] = metrics
	}
	return r
}

func (r results) get(name, unit string) (float64, bool) {
	v, ok := r[name][unit]
	return v, ok
}

func run(stdout, stderr io.Writer, server, benchtime string, raw bool) error {
	args := []string{"test", "-run", "^$", "-bench", ".", "-count", "1", "-benchtime", benchtime, "./bench/"}
	cmd := exec.Command("go", args...)
	cmd.Env = os.Environ()
	binNote := "built by the benchmarks with -trimpath -ldflags='-s -w'"
	if abs, err := filepath.Abs(server); err == nil {
		if _, err := os.Stat(abs); err == nil {
			cmd.Env = append(cmd.Env, "IAM_MCP_SERVER_BIN="+abs)
			binNote = server
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	fmt.Fprintf(stderr, "running go %s (about five minutes: the access review builds a 10,000-principal account)…\n", strings.Join(args, " "))
	start := time.Now()
	err := cmd.Run()
	if raw || err != nil {
		stdout.Write(out.Bytes())
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("the benchmarks failed (exit %d); their output is above", exit.ExitCode())
		}
		return fmt.Errorf("cannot run go test: %v", err)
	}
	r := parse(out.String())
	if len(r) == 0 {
		stdout.Write(out.Bytes())
		return errors.New("no benchmark results in the output above")
	}
	report(stdout, r, binNote, time.Since(start))
	return nil
}

func report(w io.Writer, r results, binNote string, took time.Duration) {
	fmt.Fprintf(w, "\niam-mcp-server benchmarks — one run of ./bench (%s), binary: %s\n\n", took.Round(time.Second), binNote)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\tmeasured\ttarget\tratio\t")
	fmt.Fprintln(tw, "-------\t--------\t------\t-----\t")
	row := func(what string, v float64, have bool, format func(float64) string, target float64) {
		if !have {
			fmt.Fprintf(tw, "%s\tn/a\t\t\t\n", what)
			return
		}
		if target == 0 {
			fmt.Fprintf(tw, "%s\t%s\t\t\t\n", what, format(v))
			return
		}
		verdict := "ok"
		if v > target {
			verdict = "OVER TARGET"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f× %s\t\n", what, format(v), format(target), v/target, verdict)
	}
	msF := func(v float64) string { return fmt.Sprintf("%.1f ms", v) }
	mbF := func(v float64) string { return fmt.Sprintf("%.1f MB", v) }
	nsF := func(v float64) string {
		if v < 1e6 {
			return fmt.Sprintf("%.0f µs", v/1e3)
		}
		return fmt.Sprintf("%.2f ms", v/1e6)
	}

	for _, m := range []struct{ name, what string }{
		{"local-demo", "--sandbox --sandbox-seed demo"},
		{"local", "--sandbox"},
		{"aws", "AWS (no --sandbox)"},
	} {
		v, ok := r.get("BenchmarkSpawnToInitialize/"+m.name, "ms/spawn-median")
		row("spawn → initialize, median, "+m.what, v, ok, msF, 50)
	}
	for _, set := range []string{"default", "all"} {
		v, ok := r.get("BenchmarkToolsList/"+set, "ns/op")
		n, _ := r.get("BenchmarkToolsList/"+set, "tools")
		kb, _ := r.get("BenchmarkToolsList/"+set, "KB/list")
		row(fmt.Sprintf("tools/list round trip, %.0f tools (%.0f KB), stdio", n, kb), v, ok, nsF, 0)
	}
	if v, ok := r.get("BenchmarkToolsListServer", "ns/op"); ok {
		row("  of which the server's handling (default tools)", v, ok, nsF, 0)
	}
	bare, okBare := r.get("BenchmarkBareSDKGetUser", "ns/op")
	one, okOne := r.get("BenchmarkBareSDKGetUserOnly", "ns/op")
	viaGate, okGate := r.get("BenchmarkGateGetUser", "ns/op")
	tool, okTool := r.get("BenchmarkToolCallGetUser", "ns/op")
	stdio, okStdio := r.get("BenchmarkToolCallGetUserStdio", "ns/op")
	row("get_user: one bare SDK GetUser", one, okOne, nsF, 0)
	row("get_user: its 5 bare SDK calls (baseline)", bare, okBare, nsF, 0)
	row("get_user: gate + catalogue, no MCP", viaGate, okGate, nsF, 0)
	row("get_user: MCP tools/call, server in process", tool, okTool, nsF, 0)
	row("get_user: MCP over stdio, spawned binary", stdio, okStdio, nsF, 0)
	msPerNs := func(v float64) float64 { return v / 1e6 }
	row("added per call by the server (in process − baseline)", msPerNs(tool-bare), okTool && okBare, func(v float64) string { return nsF(v * 1e6) }, 1)
	// Informative only: it adds the pipes, a second process and the
	// client's decoding, none of which is the server's overhead.
	row("added per call seen by a stdio client (stdio − baseline)", msPerNs(stdio-bare), okStdio && okBare, func(v float64) string { return nsF(v * 1e6) }, 0)
	for _, m := range []struct{ name, what string }{
		{"local-demo", "--sandbox --sandbox-seed demo"},
		{"local", "--sandbox"},
		{"aws", "AWS (no --sandbox)"},
	} {
		v, ok := r.get("BenchmarkIdleRSS/"+m.name, "MB-rss")
		row("idle RSS after initialize, "+m.what, v, ok, mbF, 40)
	}
	reportPlugins(row, r, msF, mbF, nsF)
	reportStartup(row, r, msF, mbF)
	reportReview(row, r, mbF)
	reportOrg(row, r, mbF)
	reportHTTP(row, r, mbF)
	tw.Flush()
	fmt.Fprintln(w, "\nTargets from the issue; for comparison, `import boto3` alone costs the Python server 0.3 s and 48 MB.")
	fmt.Fprintln(w, "Details: go test -run '^$' -bench . -benchmem ./bench/  (see bench/bench_test.go for what each measures)")
}

// rowFunc prints one row of the table: what, the value, whether it was
// measured, its format, and its target (0 for none).
type rowFunc func(what string, v float64, have bool, format func(float64) string, target float64)

// reportPlugins adds the plugin benchmarks' rows (bench/plugins_test.go).
func reportPlugins(row rowFunc, r results, msF, mbF, nsF func(float64) string) {
	cold, okCold := r.get("BenchmarkPluginSpawnToInitialize/cold", "ms/spawn-median")
	warm, okWarm := r.get("BenchmarkPluginSpawnToInitialize/warm", "ms/spawn-median")
	row("two plugins: spawn → initialize, cold compilation cache (median of 3)", cold, okCold, msF, 0)
	row("two plugins: spawn → initialize, warm compilation cache (median of 20)", warm, okWarm, msF, 150)

	usF := func(v float64) string { return fmt.Sprintf("%.0f µs", v) }
	builtin, okB := r.get("BenchmarkPluginToolCall/builtin", "µs/call-median")
	plug, okP := r.get("BenchmarkPluginToolCall/plugin", "µs/call-median")
	row("get_user as a built-in tool, in process, median", builtin, okB, usF, 0)
	row("get_user through a plugin tool (one iam_call), in process, median", plug, okP, usF, 0)
	row("added by a plugin tool over the built-in call (medians)", (plug-builtin)/1e3, okB && okP, msF, 0.5)

	gate, okG := r.get("BenchmarkPluginIAMCall/gate", "ns/op")
	perCall, okI := r.get("BenchmarkPluginIAMCall/plugin", "ns/iam_call")
	row("list_users (one sandbox request) through the gate", gate, okG, nsF, 0)
	row("the same as an iam_call from a plugin (100 in one tool call)", perCall, okI, nsF, 0)
	row("  iam_call round trip (plugin − gate)", perCall-gate, okG && okI, nsF, 0)

	seq, okS := r.get("BenchmarkPluginBatch/sequential", "ns/op")
	batch, okBa := r.get("BenchmarkPluginBatch/batch", "ns/op")
	n, _ := r.get("BenchmarkPluginBatch/batch", "concurrency")
	row("100 iam_calls, 20 ms sandbox latency, one after another", seq, okS, nsF, 0)
	row(fmt.Sprintf("the same in one iam_batch (concurrency %.0f; ideal %s)", n, nsF(seq/max(n, 1))), batch, okBa, nsF, 0)
	row(fmt.Sprintf("  iam_batch speed-up (ideal %.0f×)", n), seq/batch, okS && okBa && batch > 0, func(v float64) string { return fmt.Sprintf("%.1f×", v) }, 0)

	idle, okR := r.get("BenchmarkPluginIdleRSS", "MB-rss")
	used, okU := r.get("BenchmarkPluginIdleRSS", "MB-rss-used")
	row("RSS with two plugins loaded, after initialize", idle, okR, mbF, 0)
	row("RSS with two plugins, after a call of each", used, okU, mbF, 0)
}

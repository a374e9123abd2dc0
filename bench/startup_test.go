//go:build linux

package bench

// BenchmarkStartup: what the plugins the project ships cost a start
// of the server. The spawned binary runs `tools --sandbox` (it loads
// everything a server loads, lists the tools and exits), without plugins
// and with them, and each run's wall time and peak resident memory are
// taken (the child's rusage, through a small runner: see runnerSource;
// Linux gives Maxrss in KiB, hence the build tag). With a warm cache (the compilation cache and the describe cache,
// both in --cache-dir, filled by an unmeasured run first) a start lists
// the plugins' tools from the cached describe answers without compiling
// or instantiating anything; with a cold one (a fresh --cache-dir per
// run) every plugin is compiled and described.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iammcp/iam-mcp-server/internal/strictyaml"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// shippedPlugins are the plugins the benchmark loads, by their names in
// the repository's plugins.yaml (and their directories under plugins/).
var shippedPlugins = []string{"hello-iam", "access-review", "key-rotation", "unused-roles"}

// shippedPluginsFile builds the shipped plugins from source as `make
// plugins` does, into dir, and returns a plugins file there with their
// entries of the repository's plugins.yaml (grants, config, limits as
// shipped), each pointing at the module built here and pinned to its
// sha256.
func shippedPluginsFile(b *testing.B, dir string) string {
	b.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	sums := map[string]string{}
	for _, name := range shippedPlugins {
		out := filepath.Join(dir, name+".wasm")
		if gofiles, _ := filepath.Glob(filepath.Join(root, "plugins", name, "*.go")); len(gofiles) == 0 {
			// Not Go (unused-roles is AssemblyScript): its committed
			// module, which e2e holds to its source.
			sums[name], err = copyModule(filepath.Join(root, "plugins", name, name+".wasm"), out)
		} else {
			sums[name], err = testenv.BuildWasm("plugins/"+name, out)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	yml, err := shippedEntries(filepath.Join(root, "plugins.yaml"), dir, sums)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "plugins.yaml")
	if err := os.WriteFile(file, yml, 0o600); err != nil {
		b.Fatal(err)
	}
	return file
}

// copyModule copies the module at from to to and returns its sha256.
func copyModule(from, to string) (string, error) {
	b, err := os.ReadFile(from)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), os.WriteFile(to, b, 0o600)
}

// shippedEntries reads the plugins file at path and returns one with only
// the entries of shippedPlugins, in its order, each one's path set to
// dir/<name>.wasm and its sha256 to sums[name]; every other key is kept
// as written.
func shippedEntries(path, dir string, sums map[string]string) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	list := strictyaml.Value(doc.Content[0], "plugins")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s has no list of plugins", path)
	}
	var kept []*yaml.Node
	for _, entry := range list.Content {
		name := strictyaml.Value(entry, "name")
		if name == nil || !slices.Contains(shippedPlugins, name.Value) {
			continue
		}
		for key, value := range map[string]string{"path": filepath.Join(dir, name.Value+".wasm"), "sha256": sums[name.Value]} {
			v := strictyaml.Value(entry, key)
			if v == nil {
				return nil, fmt.Errorf("%s: plugin %s has no %s", path, name.Value, key)
			}
			v.Value = value
		}
		kept = append(kept, entry)
	}
	if len(kept) != len(shippedPlugins) {
		return nil, fmt.Errorf("%s lists %d of the shipped plugins %v", path, len(kept), shippedPlugins)
	}
	list.Content = kept
	return yaml.Marshal(&doc)
}

// startRun is one measured start: its wall time (exec to exit) and the
// child's peak resident memory.
type startRun struct {
	wall time.Duration
	rss  int64 // bytes
}

// runnerSource is a small program that runs its arguments as a command
// and reports, as the last line of its standard error, the command's wall
// time and peak resident memory (its rusage's Maxrss, KiB on Linux).
//
// The benchmark spawns the server through it, not itself, because Linux
// counts into an exec'd process's peak the memory of the process it was
// forked from, at the exec: Go starts children with vfork (sharing the
// parent's memory until the exec), so a child of this benchmark (tens of
// megabytes) would report the benchmark's peak, not its own, whenever that
// is larger. The runner, a few megabytes, is always smaller than the
// server.
const runnerSource = `package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "no rusage")
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "\n` + runnerReport + ` %d %d\n", wall.Nanoseconds(), ru.Maxrss)
}
`

// runnerReport opens the runner's report line.
const runnerReport = "startup-runner:"

// buildRunner builds runnerSource in dir and returns the binary.
func buildRunner(b *testing.B, dir string) string {
	b.Helper()
	src := filepath.Join(dir, "runner")
	if err := os.MkdirAll(src, 0o700); err != nil {
		b.Fatal(err)
	}
	for name, text := range map[string]string{"go.mod": "module runner\n\ngo 1.26\n", "main.go": runnerSource} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	bin := filepath.Join(src, "runner")
	cmd := exec.Command(testenv.GoTool(), "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the start-up runner: %v\n%s", err, out)
	}
	return bin
}

// startOnce runs the binary with args to its exit, through the runner,
// and measures it; its standard output must contain want.
func startOnce(b *testing.B, runner, bin string, args []string, want string) startRun {
	b.Helper()
	cmd := exec.Command(runner, append([]string{bin}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, errOut.Bytes())
	}
	if !strings.Contains(out.String(), want) {
		b.Fatalf("%s %s listed no %s:\n%s", bin, strings.Join(args, " "), want, out.Bytes())
	}
	var wall, kb int64
	i := strings.LastIndex(errOut.String(), runnerReport)
	if i < 0 {
		b.Fatalf("no report from the start-up runner:\n%s", errOut.Bytes())
	}
	if _, err := fmt.Sscanf(errOut.String()[i+len(runnerReport):], "%d %d", &wall, &kb); err != nil {
		b.Fatalf("the start-up runner's report: %v\n%s", err, errOut.Bytes())
	}
	return startRun{wall: time.Duration(wall), rss: kb << 10}
}

// BenchmarkStartup: `tools --sandbox` with no plugins, with the four
// shipped plugins and a warm cache, and with them and a cold cache.
// ms/start-median is the median wall time of at least 20 runs (3 cold
// ones, each compiling the four plugins); MB-peak-rss the median of the
// runs' peak resident memory (MB = 2^20 bytes). The timed runs are b.N;
// untimed ones fill in to the minimum.
func BenchmarkStartup(b *testing.B) {
	bin := serverBinary(b)
	dir := b.TempDir() // the modules, their plugins file, the warm cache, the secrets directory
	file := shippedPluginsFile(b, dir)
	runner := buildRunner(b, dir)
	base := []string{"tools", "--sandbox", "--secrets-dir", filepath.Join(dir, "secrets")}
	for _, c := range []struct {
		name    string
		runs    int
		plugins bool
		cache   func(b *testing.B) string // "" for none
	}{
		{"none", 20, false, nil},
		{"shipped-warm", 20, true, func(*testing.B) string { return filepath.Join(dir, "warm-cache") }},
		{"shipped-cold", 3, true, func(b *testing.B) string { return b.TempDir() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.StopTimer() // only the runs of the b.N loop below are timed
			args, want := func() []string { return base }, "list_users"
			if c.plugins {
				args = func() []string {
					return append(slices.Clone(base), "--plugins", file, "--cache-dir", c.cache(b))
				}
				want = "plugin:access-review"
				if c.name == "shipped-warm" { // fill the caches, unmeasured
					startOnce(b, runner, bin, args(), want)
				}
			}
			var runs []startRun
			for len(runs)+b.N < c.runs {
				runs = append(runs, startOnce(b, runner, bin, args(), want))
			}
			for i := 0; i < b.N; i++ {
				a := args() // a cold run's fresh directory is made untimed
				b.StartTimer()
				r := startOnce(b, runner, bin, a, want)
				b.StopTimer()
				runs = append(runs, r)
			}
			walls, rss := make([]time.Duration, len(runs)), make([]time.Duration, len(runs))
			for i, r := range runs {
				walls[i], rss[i] = r.wall, time.Duration(r.rss) // bytes, sorted with the duration helpers
			}
			b.ReportMetric(ms(median(walls)), "ms/start-median")
			b.ReportMetric(float64(median(rss))/(1<<20), "MB-peak-rss")
		})
	}
}

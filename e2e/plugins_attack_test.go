package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// A plugin cannot take the server down: attacks by the host package's
// hostile test plugin (host/plugin/testdata/hostile), on the built binary
// through the official MCP client.

// hostilePlugin is the hostile test plugin, built from source once per run,
// in a file of the test's own.
func hostilePlugin(t *testing.T) string {
	t.Helper()
	path, _ := testenv.Wasm(t, "host/plugin/testdata/hostile")
	return path
}

// hostileFile writes a plugins file with the hostile plugin at path (its
// real hash when it is a regular file), with prefix, reads granted, and
// extra YAML lines for its entry.
func hostileFile(t *testing.T, path, prefix string, extra ...string) string {
	t.Helper()
	sum := strings.Repeat("0", 64)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		sum = sha256File(t, path)
	}
	body := fmt.Sprintf("plugins:\n  - name: hostile\n    path: %s\n    sha256: %s\n    prefix: %q\n    grants: [read]\n", path, sum, prefix)
	for _, l := range extra {
		body += "    " + l + "\n"
	}
	file := filepath.Join(t.TempDir(), "plugins.yaml")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// runBounded runs the binary to completion with empty stdin. The deadline
// only guards against a hang (a FIFO used to block start-up for ever, deaf
// to SIGTERM); it measures nothing.
func runBounded(t *testing.T, args ...string) (stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("iam-mcp-server %s did not finish: it blocks", strings.Join(args, " "))
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("%v: %v", args, err)
	}
	if out.Len() > 0 && args[0] != "plugins" {
		t.Errorf("something was written on stdout: %q", out.String())
	}
	return errOut.String(), code
}

// TestPluginAttackStartUp: a plugin path (or plugins file, or `plugins
// inspect` module) that is a FIFO, /dev/zero, a directory or a link to one
// stops the start with a short error saying what it is, at once; so does a
// plugin tool named like a catalogue operation (delete_role is outside the
// default toolsets: it used to run the plugin).
func TestPluginAttackStartUp(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("FIFOs and /dev/zero are Unix's")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plugin.wasm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zeroLink := filepath.Join(dir, "zero.wasm")
	if err := os.Symlink("/dev/zero", zeroLink); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:        "a named pipe (FIFO), not a regular file",
		zeroLink:    "a character device, not a regular file",
		dir:         "a directory, not a regular file",
		"/dev/zero": "a character device, not a regular file",
	} {
		file := hostileFile(t, path, "h")
		stderr, code := runBounded(t, "--sandbox", "--plugins", file, "--cache-dir", wasmCache)
		if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "plugin hostile") || strings.Contains(stderr, "goroutine") {
			t.Errorf("serve with the plugin at %s: exit %d\n%s", path, code, stderr)
		}
		stderr, code = runBounded(t, "plugins", "inspect", path)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("plugins inspect %s: exit %d\n%s", path, code, stderr)
		}
		stderr, code = runBounded(t, "--sandbox", "--plugins", path, "--cache-dir", wasmCache)
		if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "plugins file") {
			t.Errorf("serve with the plugins file %s: exit %d\n%s", path, code, stderr)
		}
	}

	wasm := hostilePlugin(t)
	for name, want := range map[string]string{
		"delete_role":   "is the name of the catalogue operation delete_role",
		"Delete_Role":   "differs only in letter case from the catalogue operation delete_role",
		"_unknown_tool": "starts with '_'",
	} {
		file := hostileFile(t, wasm, "", "config: {extra_tool: "+name+"}")
		stderr, code := runBounded(t, "--sandbox", "--plugins", file, "--cache-dir", wasmCache)
		if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "plugin hostile") {
			t.Errorf("a plugin tool named %s: exit %d\n%s", name, code, stderr)
		}
	}
}

// callLong calls a tool with a progress token, under a deadline that only
// guards against a hang, and returns the result and how long it took.
func callLong(t *testing.T, s *server, name string, args any, token string) (*mcp.CallToolResult, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	params := &mcp.CallToolParams{Name: name, Arguments: args}
	if token != "" {
		params.SetProgressToken(token)
	}
	start := time.Now()
	res, err := s.cs.CallTool(ctx, params)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res, time.Since(start)
}

// TestPluginAttackFloods: a plugin reporting progress 20,000 times, and
// logging 20,000 lines of 1,000 bytes, as fast as it can, within one call:
// the client sees at most the progress budget (ProgressBurst, then
// ProgressPerSecond for as long as the call lasted, and the last report),
// and the server's log grows by at most the log budget, with one line
// saying how many were dropped. (20,000 notifications in 3 s and 22 MB of
// log lines used to go through.) The bounds grow with the time the call
// took, so a slow machine cannot fail them.
func TestPluginAttackFloods(t *testing.T) {
	t.Parallel()
	wasm := hostilePlugin(t)
	s, _ := startPlugins(t, hostileFile(t, wasm, "h"), "--log-level", "info")

	res, took := callLong(t, s, "h_progress", map[string]any{"n": 20000}, "flood")
	if res.IsError {
		t.Fatalf("h_progress: %s", resultText(res))
	}
	onWire, last := 0, 0.0
	for _, line := range strings.Split(s.wire.String(), "\n") {
		payload, ok := strings.CutPrefix(line, "read: ")
		if !ok || !strings.Contains(payload, "notifications/progress") {
			continue
		}
		var msg struct {
			Params struct {
				ProgressToken any     `json:"progressToken"`
				Progress      float64 `json:"progress"`
			} `json:"params"`
		}
		if json.Unmarshal([]byte(payload), &msg) == nil && msg.Params.ProgressToken == "flood" {
			onWire++
			last = msg.Params.Progress
		}
	}
	bound := plugin.ProgressBurst + int(took.Seconds()*plugin.ProgressPerSecond) + 2
	t.Logf("20,000 progress reports in %v: %d notifications on the wire (bound %d)", took.Round(time.Millisecond), onWire, bound)
	if onWire > bound || onWire < plugin.ProgressBurst {
		t.Errorf("%d progress notifications on the wire, want %d to %d", onWire, plugin.ProgressBurst, bound)
	}
	if last != 20000 {
		t.Errorf("the last notification says %v, want the call's last report (20000)", last)
	}

	before := len(s.stderr.String())
	res, took = callLong(t, s, "h_log", map[string]any{"n": 20000, "bytes": 1000}, "")
	if res.IsError {
		t.Fatalf("h_log: %s", resultText(res))
	}
	// The server goes on.
	if res, _ := callLong(t, s, "h_ok", map[string]any{}, ""); res.IsError || resultText(res) != "ok" {
		t.Errorf("h_ok after the floods: %s", resultText(res))
	}
	// The server writes its log on stderr, apart from its answers on
	// stdout: read it once the server has exited and written all of it.
	s.close()
	logged := s.stderr.String()[before:]
	lines := strings.Count(logged, "msg=LLLL")
	maxBytes := plugin.LogBytesBurst + int(took.Seconds()*plugin.LogBytesPerSecond)
	maxLines := plugin.LogLineBurst + int(took.Seconds()*plugin.LogLinesPerSecond)
	t.Logf("20,000 log lines of 1,000 bytes in %v: %d lines, %d bytes in the server's log", took.Round(time.Millisecond), lines, len(logged))
	if lines > maxLines || len(logged) > maxBytes+300*maxLines+64<<10 {
		t.Errorf("%d lines, %d bytes reached the log: the budget is %d lines and %d bytes for this call", lines, len(logged), maxLines, maxBytes)
	}
	if !strings.Contains(logged, "plugin log lines dropped") || lines == 0 {
		t.Errorf("no line says how many were dropped, or none was logged:\n%s", tail(logged, 2000))
	}
}

// TestPluginAttackHostInfoWrongAccount: under --expect-account naming
// another account, a plugin's host_info is refused as its IAM calls are
// (the Go SDK's HostInfo returns the WrongAccount error), and audited.
func TestPluginAttackHostInfoWrongAccount(t *testing.T) {
	t.Parallel()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	s, _ := startPlugins(t, writePlugins(t, toolsEntry()), "--expect-account", "999999999999", "--audit-log", audit)
	msg := pluginFails(s, "t_info", map[string]any{}, api.WrongAccount)
	if !strings.Contains(msg, "999999999999") {
		t.Errorf("the error does not name the expected account: %s", msg)
	}
	s.close()
	recs, _ := readAudit(t, audit)
	n := 0
	for _, r := range recs {
		if r.Operation == "host_info" {
			n++
			if r.Outcome != "refused" || r.Code != string(api.WrongAccount) || r.Plugin != "e2e-tools" || r.Tool != "t_info" {
				t.Errorf("audit of host_info: %+v", r)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d audit lines of host_info, want 1:\n%+v", n, recs)
	}
}

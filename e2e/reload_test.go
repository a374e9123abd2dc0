//go:build unix

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
)

// reloadServer is a served binary with a plugins file the test rewrites,
// the process to signal, and the list_changed notifications its client got.
type reloadServer struct {
	*server
	cmd     *exec.Cmd
	file    string
	changed chan struct{} // one value per notifications/tools/list_changed
}

// startReload serves the plugins file with --log-level info (the reload
// lines) and extra flags, and connects the official client with a
// ToolListChangedHandler.
func startReload(t *testing.T, file string, extra ...string) *reloadServer {
	t.Helper()
	s := &server{t: t, wire: &syncio.Buffer{}, stderr: &syncio.Buffer{}, secretsDir: filepath.Join(t.TempDir(), "secrets")}
	s.args = append([]string{"--sandbox", "--sandbox-seed", "demo", "--secrets-dir", s.secretsDir,
		"--plugins", file, "--cache-dir", wasmCache, "--log-level", "info"}, extra...)
	cmd := exec.Command(serverBin, s.args...)
	cmd.Stderr = s.stderr
	r := &reloadServer{server: s, cmd: cmd, file: file, changed: make(chan struct{}, 100)}
	client := mcp.NewClient(&mcp.Implementation{Name: "iam-mcp-e2e", Version: "1.0.0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { r.changed <- struct{}{} },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a guard against a hang; plugins compile at start
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.LoggingTransport{
		Transport: &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, Writer: s.wire}, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v\nstderr:\n%s", strings.Join(s.args, " "), err, s.stderr)
	}
	s.cs = cs
	t.Cleanup(s.close)
	return r
}

// toolNames lists the tools as the client sees them now.
func (r *reloadServer) toolNames() map[string]bool {
	r.t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	names := map[string]bool{}
	for tool, err := range r.cs.Tools(ctx, nil) {
		if err != nil {
			r.t.Fatalf("tools/list: %v", err)
		}
		names[tool.Name] = true
	}
	return names
}

// rewrite replaces the plugins file's content with that of from, as an
// editor does: a new file renamed over the old.
func (r *reloadServer) rewrite(from string) {
	r.t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		r.t.Fatal(err)
	}
	tmp := r.file + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, r.file); err != nil {
		r.t.Fatal(err)
	}
}

func (r *reloadServer) hup() {
	r.t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		r.t.Fatal(err)
	}
}

// waitChanged waits for one notifications/tools/list_changed.
func (r *reloadServer) waitChanged(what string) {
	r.t.Helper()
	select {
	case <-r.changed:
	case <-time.After(3 * time.Minute): // a guard against a hang
		r.t.Fatalf("%s: no notifications/tools/list_changed; stderr:\n%s", what, tail(r.stderr.String(), 3000))
	}
}

// waitStderr waits for the server's stderr to hold want n times.
func (r *reloadServer) waitStderr(want string, n int) {
	r.t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // a guard against a hang
	for strings.Count(r.stderr.String(), want) < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("the server never logged %q (%d times); stderr:\n%s", want, n, tail(r.stderr.String(), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReloadOnSIGHUP: the server serves hello-iam and e2e-tools (prefix t);
// the file is rewritten to drop hello-iam and serve e2e-tools under the
// prefix u; SIGHUP swaps the set: the client gets list_changed and the new
// list, and a t_spin call started before the reload finishes on the old
// set. Then a broken file (bad YAML, then a wrong sha256) and SIGHUP keep
// the old set, stderr says why, and the process lives on.
func TestReloadOnSIGHUP(t *testing.T) {
	t.Parallel()
	tools := toolsEntry()
	tools.limits = "{timeout: 10m}"
	r := startReload(t, writePlugins(t, helloEntry(), tools))
	before := r.toolNames()
	if !before["t_spin"] || !before["hello-iam_users_per_path"] {
		t.Fatalf("the tools at start lack t_spin or hello-iam_users_per_path: %v", before)
	}

	// A call running across the reload, on a tool the new set drops.
	spun := make(chan error, 1)
	go func() {
		ctx, cancel := ctxT()
		defer cancel()
		res, err := r.cs.CallTool(ctx, &mcp.CallToolParams{Name: "t_spin", Arguments: map[string]any{"ms": 3000}})
		if err == nil && res.IsError {
			err = fmt.Errorf("t_spin failed: %s", resultText(res))
		}
		spun <- err
	}()
	// The ping is answered after the server has read the call before it
	// (one stdin, read in order), so the call runs on the old set.
	ctx, cancel := ctxT()
	if err := r.cs.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	cancel()

	u := toolsEntry()
	u.prefix = strp("u")
	r.rewrite(writePlugins(t, u))
	r.hup()
	r.waitChanged("SIGHUP after the file changed")
	after := r.toolNames()
	if after["t_spin"] || after["hello-iam_users_per_path"] || !after["u_spin"] || !after["list_users"] {
		t.Errorf("the tools after the reload are not the built-in ones and u_*: %v", after)
	}
	r.waitStderr("plugins reloaded", 1)
	if err := <-spun; err != nil {
		t.Errorf("the call started before the reload: %v", err)
	}
	ctx, cancel = ctxT()
	defer cancel()
	if res, err := r.cs.CallTool(ctx, &mcp.CallToolParams{Name: "u_spin", Arguments: map[string]any{"ms": 1}}); err != nil || res.IsError {
		t.Errorf("u_spin after the reload: %v %s", err, resultText(res))
	}

	// Broken files: the old set stays and stderr says why.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("plugins: [\n  - name: {\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.rewrite(bad)
	r.hup()
	r.waitStderr("plugins not reloaded; still serving the previous set", 1)
	wrong := u
	wrong.sha256 = strings.Repeat("0", 64)
	r.rewrite(writePlugins(t, wrong))
	r.hup()
	r.waitStderr("plugins not reloaded; still serving the previous set", 2)
	if !strings.Contains(r.stderr.String(), "sha256") {
		t.Errorf("the failed reload of a wrong sha256 does not say so; stderr:\n%s", tail(r.stderr.String(), 3000))
	}
	if got := r.toolNames(); !got["u_spin"] || len(got) != len(after) {
		t.Errorf("a failed reload changed the tools: %v", got)
	}
	select {
	case <-r.changed:
		t.Error("a failed reload sent notifications/tools/list_changed")
	default:
	}
	if res, err := r.cs.CallTool(ctx, &mcp.CallToolParams{Name: "u_spin", Arguments: map[string]any{"ms": 1}}); err != nil || res.IsError {
		t.Errorf("u_spin after the failed reloads: %v %s", err, resultText(res))
	}
}

// TestReloadWatch: with --watch, a change to the plugins file is picked up
// without a signal.
func TestReloadWatch(t *testing.T) {
	t.Parallel()
	r := startReload(t, writePlugins(t, helloEntry()), "--watch")
	if names := r.toolNames(); names["t_spin"] {
		t.Fatalf("t_spin served before the file names it: %v", names)
	}
	r.rewrite(writePlugins(t, helloEntry(), toolsEntry()))
	r.waitChanged("--watch after the file changed")
	if names := r.toolNames(); !names["t_spin"] || !names["hello-iam_users_per_path"] {
		t.Errorf("after the watched change, the tools lack t_spin or hello-iam's: %v", names)
	}
}

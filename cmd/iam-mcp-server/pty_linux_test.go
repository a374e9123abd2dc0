//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

// openPTY opens a pseudo-terminal with nothing but the syscall package:
// the master, and the path of its slave (opened without becoming the test
// process's controlling terminal). What the slave echoes and what the
// command writes to it is drained from the master into the returned
// buffer, so that the terminal never blocks.
func openPTY(t *testing.T) (master *os.File, slavePath string, screen *syncio.Buffer) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		noPTY(t, fmt.Sprintf("no pseudo-terminal (%v): the terminal question is covered by TestTerminalAnswers only", err))
	}
	ioctl := func(req uintptr, arg unsafe.Pointer) error {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), req, uintptr(arg)); errno != 0 {
			return errno
		}
		return nil
	}
	var unlock int32
	var n uint32
	if err := ioctl(syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		m.Close()
		noPTY(t, fmt.Sprintf("cannot unlock the pseudo-terminal: %v", err))
	}
	if err := ioctl(syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		m.Close()
		noPTY(t, fmt.Sprintf("cannot name the pseudo-terminal: %v", err))
	}
	slavePath = fmt.Sprintf("/dev/pts/%d", n)
	// One slave stays open for the whole test: with none open, reading the
	// master fails (EIO) between the commands.
	keep, err := openSlave(slavePath)
	if err != nil {
		m.Close()
		noPTY(t, fmt.Sprintf("cannot open the pseudo-terminal's slave: %v", err))
	}
	screen = &syncio.Buffer{}
	go func() {
		b := make([]byte, 4096)
		for {
			k, err := m.Read(b)
			screen.Write(b[:k])
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { keep.Close(); m.Close() })
	return m, slavePath, screen
}

// noPTY skips the test, or fails it under IAM_MCP_REQUIRE_ALL=1, as a
// missing tool does.
func noPTY(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(testenv.RequireAllEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires every test to run", msg, testenv.RequireAllEnv)
	}
	t.Skip(msg)
}

func openSlave(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
}

// TestCallAsksOnTerminal: with a terminal on stdin, call shows the plan
// and runs the change only on y; a no is "Declined:" with status 1 and
// changes nothing; Ctrl-D closes the question. With --args -, the
// question goes to the controlling terminal. The audit log records each.
func TestCallAsksOnTerminal(t *testing.T) {
	master, slavePath, screen := openPTY(t)
	dir := t.TempDir()
	state, audit := filepath.Join(dir, "state.json"), filepath.Join(dir, "audit.log")
	common := []string{"--sandbox", "--sandbox-state", state, "--audit-log", audit, "--allow-write"}
	for _, u := range []string{"alice", "bob"} {
		mustCall[struct{}](t, append([]string{"create_user", "--args", `{"user_name": "` + u + `"}`}, common...)...)
	}
	callOnTTY := func(p process, answer string, args ...string) result {
		t.Helper()
		slave, err := openSlave(slavePath)
		if err != nil {
			t.Fatal(err)
		}
		defer slave.Close()
		// Typed ahead: the terminal keeps the line until the command reads
		// it.
		if _, err := master.Write([]byte(answer)); err != nil {
			t.Fatal(err)
		}
		var stdin io.Reader = slave
		if p.openTTY != nil { // --args -: stdin carries the arguments
			stdin = strings.NewReader(`{"user_name": "bob"}`)
		}
		var out, errOut strings.Builder
		code := run(p, append(append([]string{"call"}, args...), common...), stdin, &out, &errOut)
		return result{code, out.String(), errOut.String()}
	}
	exists := func(user string) bool {
		return cli(t, "", append([]string{"call", "get_user", "--args", `{"user_name": "` + user + `"}`}, common...)...).code == 0
	}
	del := []string{"delete_user", "--args", `{"user_name": "alice"}`}

	r := callOnTTY(process{}, "n\n", del...)
	if r.code != 1 || !strings.Contains(r.stderr, "Declined: the person declined delete_user; nothing was changed") {
		t.Errorf("answered n: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"This change needs your yes (--confirm destructive)", "delete_user: delete IAM user alice", "iam:DeleteUser user/alice", "[y/N]"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the question on stderr does not show %q:\n%s", want, r.stderr)
		}
	}
	if !exists("alice") {
		t.Fatal("a declined delete_user deleted alice")
	}
	if r := callOnTTY(process{}, "\x04", del...); r.code != 1 || !strings.Contains(r.stderr, "Declined: the person closed the question about delete_user without answering") {
		t.Errorf("answered Ctrl-D: exit %d\n%s", r.code, r.stderr)
	}
	if r := callOnTTY(process{}, "y\n", del...); r.code != 0 {
		t.Errorf("answered y: exit %d\n%s", r.code, r.stderr)
	}
	if exists("alice") {
		t.Error("an approved delete_user left alice")
	}

	// --args -: stdin carries the arguments, the controlling terminal the
	// question and the answer.
	tty := process{openTTY: func() (*os.File, error) { return openSlave(slavePath) }}
	r = callOnTTY(tty, "yes\n", "delete_user", "--args", "-")
	if r.code != 0 {
		t.Errorf("--args - answered yes on the terminal: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "[y/N]") {
		t.Errorf("--args -: the question went to stderr:\n%s", r.stderr)
	}
	// The master is read apart: wait for the question to come out of it.
	// The deadline only guards against a hang.
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(screen.String(), "delete_user: delete IAM user bob"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("--args -: the question never reached the terminal:\n%q", screen.String())
		}
	}
	if exists("bob") {
		t.Error("an approved delete_user left bob")
	}

	var got []string
	for _, rec := range auditRecords(t, audit) {
		if rec.Consent != nil {
			got = append(got, rec.Consent.Via+" "+rec.Consent.Answer+" "+rec.Outcome)
		}
	}
	want := "terminal decline refused\nterminal cancel refused\nterminal accept ok\nterminal accept ok"
	if strings.Join(got, "\n") != want {
		t.Errorf("audit consents:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

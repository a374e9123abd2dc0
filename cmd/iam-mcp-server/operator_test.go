//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestExpectAccountEmpty: an empty --expect-account is a usage error, not
// pinning turned off — in every spelling a template could produce.
func TestExpectAccountEmpty(t *testing.T) {
	for _, args := range [][]string{
		{"call", "list_users", "--sandbox", "--expect-account", ""},
		{"call", "list_users", "--sandbox", "--expect-account="},
		{"call", "list_users", "--sandbox", "--expect-account", "  "},
		{"tools", "--sandbox", "--expect-account="},
	} {
		usageFails(t, "--expect-account needs the 12-digit account id", args...)
	}
	usageFails(t, "12 digits", "call", "list_users", "--sandbox", "--expect-account", "12345678901x")
}

// TestAuditLogPermissions: an audit log others can read is fixed to 0600
// with a warning; one that is not a regular file is refused without
// blocking on it.
func TestAuditLogPermissions(t *testing.T) {
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(audit, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(audit, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	r := cli(t, "", "call", "list_users", "--sandbox", "--audit-log", audit)
	if r.code != 0 || !strings.Contains(r.stderr, "now 0600") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if st, _ := os.Stat(audit); st.Mode().Perm() != 0o600 {
		t.Fatalf("audit log mode %v after start", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(audit); !strings.Contains(string(b), `"operation":"list_users"`) {
		t.Fatalf("audit log:\n%s", b)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{fifo, dir, "/dev/null"} {
		r := cli(t, "", "call", "list_users", "--sandbox", "--audit-log", bad)
		if r.code == 0 || !strings.Contains(r.stderr, "audit log") {
			t.Errorf("--audit-log %s: exit %d, stderr:\n%s", bad, r.code, r.stderr)
		}
	}
}

// TestSecretsDirShared: a shared --secrets-dir is refused at start and
// left as it was; a fresh one is created 0700.
func TestSecretsDirShared(t *testing.T) {
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o1777); err != nil {
		t.Fatal(err)
	}
	groupWritable := t.TempDir()
	if err := os.Chmod(groupWritable, 0o770); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{shared, groupWritable} {
		before, _ := os.Stat(dir)
		r := cli(t, "", "call", "list_users", "--sandbox", "--secrets-dir", dir)
		if r.code == 0 || !strings.Contains(r.stderr, "writable by other users") {
			t.Errorf("--secrets-dir %v: exit %d, stderr:\n%s", before.Mode(), r.code, r.stderr)
		}
		if after, _ := os.Stat(dir); after.Mode() != before.Mode() {
			t.Errorf("--secrets-dir was chmodded from %v to %v", before.Mode(), after.Mode())
		}
	}
	if os.Geteuid() == 0 {
		// Root owns everything it may write; another user's directory is
		// tried where the tests do not run as root.
		t.Log("running as root: the other user's directory case is skipped")
	} else if r := cli(t, "", "call", "list_users", "--sandbox", "--secrets-dir", "/"); r.code == 0 || !strings.Contains(r.stderr, "another user") {
		t.Errorf("--secrets-dir /: exit %d, stderr:\n%s", r.code, r.stderr)
	}

	fresh := filepath.Join(t.TempDir(), "new", "secrets")
	state := filepath.Join(t.TempDir(), "state.json")
	common := []string{"--sandbox", "--sandbox-state", state, "--secrets-dir", fresh, "--allow-write"}
	mustCall[api.UserOutput](t, append([]string{"create_user", "--args", `{"user_name": "keyed"}`}, common...)...)
	if r := cli(t, "", append([]string{"call", "create_access_key", "--args", `{"user_name": "keyed"}`}, common...)...); r.code != 0 {
		t.Fatalf("create_access_key: %s", r.stderr)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("new secrets dir: %v %v", st.Mode(), err)
	}
}

// TestCallArgsCapped: --args from a file or stdin is read no further than
// the cap; an endless file is refused, not read into memory.
func TestCallArgsCapped(t *testing.T) {
	r := cli(t, "", "call", "list_users", "--sandbox", "--args", "@/dev/zero")
	if r.code != 2 || !strings.Contains(r.stderr, "bytes, the most a call takes") {
		t.Fatalf("@/dev/zero: exit %d, stderr:\n%.500s", r.code, r.stderr)
	}
	big := `{"user_name":"` + strings.Repeat("a", 300<<10) + `"}`
	r = cli(t, big, "call", "get_user", "--sandbox", "--args", "-")
	if r.code != 2 || len(r.stderr) > 4000 {
		t.Fatalf("big stdin: exit %d, %d bytes of stderr", r.code, len(r.stderr))
	}
}

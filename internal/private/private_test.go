//go:build unix

package private

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// otherUsers returns a directory and a file that belong to another user:
// as root (CI), a fresh pair chowned to nobody; otherwise the root
// directory and a file of root's.
func otherUsers(t *testing.T) (dir, file string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return "/", "/etc/hostname"
	}
	dir = filepath.Join(t.TempDir(), "theirs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "theirs.log")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, file} {
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	return dir, file
}

func TestCheckDir(t *testing.T) {
	mine := t.TempDir()
	if err := os.Chmod(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(mine); err != nil {
		t.Fatalf("a 0755 directory of mine: %v", err)
	}
	if err := CheckDir(filepath.Join(mine, "absent")); err != nil {
		t.Fatalf("an absent directory: %v", err)
	}
	theirs, file := otherUsers(t)
	for path, want := range map[string]string{theirs: "belongs to another user", file: "not a directory"} {
		if err := CheckDir(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	for _, mode := range []os.FileMode{0o777 | os.ModeSticky, 0o770, 0o702} {
		d := t.TempDir()
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		err := CheckDir(d)
		if err == nil || !strings.Contains(err.Error(), "writable by other users") {
			t.Errorf("mode %v: %v", mode, err)
		}
		if fi, _ := os.Stat(d); fi.Mode().Perm() != mode.Perm() {
			t.Errorf("mode %v was changed to %v", mode, fi.Mode())
		}
	}
	fresh := filepath.Join(t.TempDir(), "a", "b")
	if err := MkdirAll(fresh); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Fatalf("new directory mode %v", fi.Mode())
	}
}

func TestOpenAppend(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.log")
	if err := os.WriteFile(loose, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	f, fixed, err := OpenAppend(loose)
	if err != nil || !strings.Contains(fixed, "now 0600") {
		t.Fatalf("a 0644 log: %q, %v", fixed, err)
	}
	f.Close()
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after open %v", fi.Mode())
	}
	f, fixed, err = OpenAppend(filepath.Join(dir, "new.log"))
	if err != nil || fixed != "" {
		t.Fatalf("a new log: %q, %v", fixed, err)
	}
	f.Close()

	_, theirs := otherUsers(t)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{theirs, fifo, dir} {
		if f, _, err := OpenAppend(path); err == nil {
			f.Close()
			t.Errorf("%s was opened as an audit log", path)
		}
	}
}

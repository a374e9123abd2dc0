package catalogue

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretFilesPaths: a key id names a file in the directory and never
// anything else: StoreAccessKey takes IAM's pattern of key ids,
// AccessKeyFile and RemoveAccessKey (which take ids from plugins) only
// AKIA-style upper-case letters and digits.
func TestSecretFilesPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	s := SecretFiles{Dir: dir}
	const id = "AKIAIOSFODNN7EXAMPLE"
	path, err := s.StoreAccessKey(context.Background(), "alice", id, "secret", time.Now())
	if err != nil || path != filepath.Join(dir, id+".json") {
		t.Fatalf("StoreAccessKey: %q, %v", path, err)
	}
	if p, err := s.AccessKeyFile(id); err != nil || p != path {
		t.Errorf("AccessKeyFile: %q, %v", p, err)
	}
	for _, bad := range []string{"../x" + id, "AKIA/../../etc/passwd", id + "/x", "", "short", strings.Repeat("A", 129), "..", id + "\x00"} {
		if p, err := s.StoreAccessKey(context.Background(), "alice", bad, "secret", time.Now()); err == nil {
			t.Errorf("StoreAccessKey(%q) wrote %s", bad, p)
		}
		if p, err := s.AccessKeyFile(bad); err == nil {
			t.Errorf("AccessKeyFile(%q) = %s", bad, p)
		}
		if p, err := s.RemoveAccessKey(context.Background(), bad); err == nil {
			t.Errorf("RemoveAccessKey(context.Background(), %q) = %s", bad, p)
		}
	}
	// IAM's pattern allows lower case and _: stored, but not named by a
	// plugin.
	if _, err := s.StoreAccessKey(context.Background(), "alice", "akia_lower_case_0001", "secret", time.Now()); err != nil {
		t.Errorf("an id of IAM's pattern was refused: %v", err)
	}
	if _, err := s.RemoveAccessKey(context.Background(), "akia_lower_case_0001"); err == nil {
		t.Error("RemoveAccessKey took a lower-case id")
	}
	if _, err := (SecretFiles{}).AccessKeyFile(id); err == nil {
		t.Error("AccessKeyFile without a directory")
	}

	// Removed once; then none.
	if p, err := s.RemoveAccessKey(context.Background(), id); err != nil || p != path {
		t.Fatalf("RemoveAccessKey: %q, %v", p, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the file is still there: %v", err)
	}
	if p, err := s.RemoveAccessKey(context.Background(), id); err != nil || p != "" {
		t.Errorf("RemoveAccessKey again: %q, %v", p, err)
	}
	// A link in its place is not removed, nor what it points to.
	target := filepath.Join(t.TempDir(), "target")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveAccessKey(context.Background(), id); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a link: %v", err)
	}
	for _, p := range []string{path, target} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s is gone: %v", p, err)
		}
	}
}

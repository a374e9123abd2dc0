package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRequirePath(t *testing.T) {
	dir := t.TempDir()
	if got := RequirePath(t, dir, "nothing to install"); got != dir {
		t.Errorf("RequirePath(%q) = %q", dir, got)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := RequirePath(t, file, "nothing to install"); got != file {
		t.Errorf("RequirePath(%q) = %q", file, got)
	}
}

// TestRequirePathMissing checks that a missing path skips the test, and does
// not pass it, when IAM_MCP_REQUIRE_ALL is unset. (Under
// IAM_MCP_REQUIRE_ALL=1 it fails the test, which a test cannot observe of
// itself without failing.)
func TestRequirePathMissing(t *testing.T) {
	t.Setenv(RequireAllEnv, "")
	missing := filepath.Join(t.TempDir(), "absent")
	var reached bool
	ok := t.Run("sub", func(t *testing.T) {
		RequirePath(t, missing, "run the installer")
		reached = true
	})
	if !ok || reached {
		t.Errorf("a missing path: subtest succeeded=%v, went on after RequirePath=%v; want it skipped (succeeded, stopped)", ok, reached)
	}
}

package e2e

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs the scripted demo (make demo) against the built server:
// it must succeed and show the read-only refusal.
func TestDemo(t *testing.T) {
	t.Parallel()
	out, err := runCmd(demoBin, "--server", serverBin, "--plugins", shippedPlugins)
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"35 tools", "get_account_info", "alice.nguyen", "MFA", "allowed", "Deny", "--readonly", "ReadOnly",
		"access_review", "IAM calls", "plan_key_rotation", "ci-deploy", "rotate_access_key"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output does not mention %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out)
	}
}

// TestDemoWithoutServer: a missing binary is a clear failure, not a hang.
func TestDemoWithoutServer(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "no-such-server")
	out, err := runCmd(demoBin, "--server", missing)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the demo without a server: %v\n%s", err, out)
	}
	if !strings.Contains(out, missing) || !strings.Contains(out, "make build") {
		t.Errorf("the demo's failure does not say which binary is missing and how to build it:\n%s", out)
	}
}

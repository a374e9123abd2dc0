package e2e

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the scripted demo (make demo) against the built server:
// it must succeed and show what a newcomer should see — the tools, the
// planted administrator, a dry run's plan, one destructive change the
// person accepts and one they decline (each question as the client got
// it), the read-only default refusing a write, and the shipped plugins.
func TestDemo(t *testing.T) {
	t.Parallel()
	// The deadlines only guard against a hang: the demo starts servers and
	// loads two plugins, whose first compilation takes seconds on a busy
	// machine (it was once killed at 30 seconds, half-way). The demo's own
	// limit (2 minutes for `make demo`) is raised to 5, and the test's is a
	// minute more, so that a demo that hangs says where.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, demoBin, "--server", serverBin, "--plugins", shippedPlugins, "--timeout", "5m").CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{"35 tools", "get_account_info", "alice.nguyen", "MFA", "allowed", "Deny",
		"--allow-write", `"dry_run": true`, "dry run: nothing was changed", "iam:DeleteUser",
		"You answer: accept", "deleted user demo.tester", "iam:DeleteAccessKey", "You answer: decline", "Declined: ",
		"ReadOnly: ", "access_review", "IAM calls", "plan_key_rotation", "ci-deploy", "rotate_access_key"} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's output does not show %q", want)
		}
	}
	// Exactly two questions: the accepted delete and the declined one.
	if n := strings.Count(out, "The client shows you the server's question"); n != 2 {
		t.Errorf("the demo shows %d questions from the server, want 2", n)
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

// Package testenv holds what tests share about their environment: which
// external tools they may use and what happens when one is missing.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv, set to 1 (as .ci/run does), turns a skip for a missing tool
// into a failure, so that CI can never pass by skipping.
const RequireAllEnv = "IAM_MCP_REQUIRE_ALL"

// LookTool returns the path of an external tool a test needs. When the tool
// is missing the test is skipped with a message saying how to get it, or
// failed when IAM_MCP_REQUIRE_ALL=1.
func LookTool(t testing.TB, name, howToInstall string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	missing(t, name+" is not on PATH ("+howToInstall+")")
	return ""
}

// RequirePath returns path when a file or directory exists there, for a test
// that needs something installed beside the tools on PATH (an npm package in
// a testdata directory, say). When it is missing the test is skipped with a
// message saying how to get it, or failed when IAM_MCP_REQUIRE_ALL=1, exactly
// as LookTool does for a tool.
func RequirePath(t testing.TB, path, howToInstall string) string {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return path
	}
	missing(t, path+" does not exist ("+howToInstall+")")
	return ""
}

// missing skips the test, or fails it under IAM_MCP_REQUIRE_ALL=1.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequireAllEnv) == "1" {
		t.Fatalf("%s, and %s=1 requires every test to run", msg, RequireAllEnv)
	}
	t.Skip(msg + "; skipping")
}

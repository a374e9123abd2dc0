package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestArgumentsAreReadAsSpelt: the attacks through the real binary
// and an official client. A second spelling of a key cannot make a call
// act on one user while its audit line names another, and a folded key
// cannot carry a password past the redactor; from the command line too.
func TestArgumentsAreReadAsSpelt(t *testing.T) {
	t.Parallel()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	const password = "Folded-Key-Passw0rd!77"
	// Writes allowed without asking: the spelling alone must stop the
	// deletes.
	s := startWritable(t, "--toolsets", "all", "--audit-log", audit)

	fails(s, "delete_user", json.RawMessage(`{"user_name":"nobody-here","USER_NAME":"rosa.silva","force":true}`), api.InvalidInput)
	fails(s, "delete_user", json.RawMessage(`{"USER_NAME":"rosa.silva","force":true}`), api.InvalidInput)
	fails(s, "delete_user", json.RawMessage(`{"user_name":"nobody-here","user_name":"rosa.silva","force":true}`), api.InvalidInput)
	fails(s, "create_login_profile", json.RawMessage(`{"user_name":"farid.haddad","paſſword":"`+password+`"}`), api.InvalidInput)
	fails(s, "create_login_profile", json.RawMessage(`{"user_name":"farid.haddad","PASSWORD":"`+password+`"}`), api.InvalidInput)
	msg := fails(s, "get_user", json.RawMessage(`{"user_name":"`+strings.Repeat("x", 200000)+`"}`), api.InvalidInput)
	if len(msg) > 400 {
		t.Errorf("a 200,000-character name was echoed in a %d-character message", len(msg))
	}
	if u := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "rosa.silva"}); u.User.UserName != "rosa.silva" {
		t.Fatalf("rosa.silva: %+v", u)
	}
	s.close()

	recs, raw := readAudit(t, audit)
	if strings.Contains(raw, password) || strings.Contains(raw, "rosa.silva\",\"force") {
		t.Fatalf("the audit log holds bytes that never ran:\n%s", raw)
	}
	for _, r := range recs {
		if r.Operation == "delete_user" && r.Outcome == "ok" {
			t.Fatalf("a delete ran: %+v", r)
		}
	}

	// The command line reads --args the same way.
	cmd := exec.Command(serverBin, "call", "delete_user", "--sandbox", "--sandbox-seed", "demo", "--allow-write", "--yes",
		"--args", `{"user_name":"nobody-here","USER_NAME":"rosa.silva","force":true}`)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "InvalidInput") || !strings.Contains(string(out), "USER_NAME") {
		t.Fatalf("call with a second spelling: %v\n%s", err, out)
	}
	_ = os.Remove(audit)
}

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// auditRecord is one line of --audit-log, as documented.
type auditRecord struct {
	Time      time.Time       `json:"time"`
	Caller    string          `json:"caller"`
	Plugin    string          `json:"plugin"`
	Tool      string          `json:"tool"`
	Operation string          `json:"operation"`
	Mutates   bool            `json:"mutates"`
	Arguments json.RawMessage `json:"arguments"`
	DryRun    bool            `json:"dry_run"`
	Confirmed *bool           `json:"confirmed_argument"`
	Consent   *auditConsent   `json:"consent"`
	Outcome   string          `json:"outcome"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
}

// auditConsent is a record's consent: the --confirm level that asked for
// it, how the person was asked, and the answer.
type auditConsent struct {
	Level  string `json:"level"`
	Via    string `json:"via"`
	Answer string `json:"answer"`
}

func readAudit(t *testing.T, path string) ([]auditRecord, string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("audit log: %v", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("audit log mode %v: others can read it", st.Mode().Perm())
	}
	var recs []auditRecord
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r auditRecord
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Errorf("audit line is not the documented JSON record: %v\n%s", err, sc.Text())
			continue
		}
		recs = append(recs, r)
	}
	return recs, string(data)
}

// TestAuditLog: one line per call with caller "built-in" and the tool,
// outcomes ok, error and refused, and never a password or secret, neither
// in the audit file nor in the debug log.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	const password = "Audit-Known-Passw0rd!9f2c"

	s := startWritable(t, "--toolsets", "all", "--audit-log", path, "--return-secrets", "--log-level", "debug")
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "audit-user"})
	ok[api.LoginProfileOutput](s, "create_login_profile", map[string]any{"user_name": "audit-user", "password": password})
	key := ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": "audit-user"})
	if key.SecretAccessKey == "" || key.SecretFile != "" {
		t.Fatalf("with --return-secrets, create_access_key should return the secret inline and write no file: %+v", key)
	}
	if len(key.Warnings) == 0 {
		t.Errorf("a secret returned inline came without a warning")
	}
	fails(s, "get_user", map[string]any{"user_name": "no.such.user"}, api.NoSuchEntity)
	// A failing call that carries the password: its message must not echo it.
	fails(s, "create_login_profile", map[string]any{"user_name": "audit-user", "password": password}, api.EntityAlreadyExists)
	s.close()
	debugLog := s.stderr.String()

	// A second, read-only server appends a refusal to the same log.
	ro := start(t, "--readonly", "--audit-log", path, "--log-level", "debug")
	fails(ro, "create_user", map[string]any{"user_name": "audit-refused"}, api.ReadOnly)
	ro.close()
	debugLog += ro.stderr.String()

	recs, raw := readAudit(t, path)
	type want struct{ tool, outcome, code string }
	wants := []want{
		{"create_user", "ok", ""},
		{"create_login_profile", "ok", ""},
		{"create_access_key", "ok", ""},
		{"get_user", "error", "NoSuchEntity"},
		{"create_login_profile", "error", "EntityAlreadyExists"},
		{"create_user", "refused", "ReadOnly"},
	}
	if len(recs) != len(wants) {
		t.Errorf("audit log has %d records, want %d:\n%s", len(recs), len(wants), raw)
	}
	for i := 0; i < len(recs) && i < len(wants); i++ {
		r, w := recs[i], wants[i]
		if r.Caller != "built-in" || r.Tool != w.tool || r.Operation != w.tool || r.Outcome != w.outcome || r.Code != w.code {
			t.Errorf("audit record %d: caller %q tool %q operation %q outcome %q code %q; want built-in %s %s %q", i, r.Caller, r.Tool, r.Operation, r.Outcome, r.Code, w.tool, w.outcome, w.code)
		}
		if op, _ := api.Lookup(r.Operation); r.Mutates != op.Mutates {
			t.Errorf("audit record %d: mutates %v for %s", i, r.Mutates, r.Operation)
		}
		if r.Time.IsZero() || time.Since(r.Time) > time.Hour {
			t.Errorf("audit record %d: time %v", i, r.Time)
		}
		if (r.Outcome == "ok") != (r.Message == "") {
			t.Errorf("audit record %d: outcome %s with message %q", i, r.Outcome, r.Message)
		}
		var args map[string]any
		if err := json.Unmarshal(r.Arguments, &args); err != nil {
			t.Errorf("audit record %d: arguments are not an object: %s", i, r.Arguments)
		}
		if r.Operation == "create_user" && args["user_name"] == nil {
			t.Errorf("audit record %d: the arguments lost user_name: %s", i, r.Arguments)
		}
		if r.Operation == "create_login_profile" && (args["password"] == nil || args["user_name"] != "audit-user") {
			t.Errorf("audit record %d: the password should be redacted, not dropped, and the rest kept: %s", i, r.Arguments)
		}
	}
	for what, secret := range map[string]string{"the console password": password, "the secret access key": key.SecretAccessKey} {
		if strings.Contains(raw, secret) {
			t.Errorf("%s is in the audit log", what)
		}
		if strings.Contains(debugLog, secret) {
			t.Errorf("%s is in the server's debug log (stderr)", what)
		}
	}
	// With --return-secrets the secret reaches the client, once: only in
	// the create_access_key result.
	if n := strings.Count(s.serverOutput(), key.SecretAccessKey); n == 0 || n > 2 {
		t.Errorf("with --return-secrets the secret appears %d times in the server's messages, want it only in the one result (text and structured)", n)
	}
	if strings.Contains(s.serverOutput(), password) {
		t.Errorf("the console password was echoed to the client")
	}
}

// TestSecretsStayInTheFile: without --return-secrets, the secret of a new
// key is only in its 0600 file: not in any MCP message (text or structured
// content) and not in the server's log, even at debug level.
func TestSecretsStayInTheFile(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--log-level", "debug")
	// isla.moreau already has two keys (planted): the limit.
	fails(s, "create_access_key", map[string]any{"user_name": "isla.moreau"}, api.LimitExceeded)
	ok[api.UserOutput](s, "create_user", map[string]any{"user_name": "secret-holder"})
	key := ok[api.CreateAccessKeyOutput](s, "create_access_key", map[string]any{"user_name": "secret-holder"})
	secret := readSecretFile(t, s, key)
	// Reading the user and its keys never brings the secret back.
	ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "secret-holder"})
	ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "secret-holder"})
	s.close()
	assertNowhere(t, s, secret, "the secret access key")
	if entries, _ := os.ReadDir(s.secretsDir); len(entries) != 1 {
		t.Errorf("%d files in the secrets directory, want 1", len(entries))
	}
	if st, err := os.Stat(s.secretsDir); err == nil && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("secrets directory mode %v: others can list it", st.Mode().Perm())
	}
}

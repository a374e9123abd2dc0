package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// readArgs are arguments for every read operation that succeed on the
// prepared demo account.
var readArgs = map[string]map[string]any{
	"list_users":                             {"path_prefix": "/eng/", "max_items": 3},
	"get_user":                               {"user_name": "alice.nguyen"},
	"list_groups_for_user":                   {"user_name": "alice.nguyen"},
	"list_groups":                            nil,
	"get_group":                              {"group_name": "Developers", "max_items": 2},
	"list_attached_group_policies":           {"group_name": "Developers"},
	"list_roles":                             {"path_prefix": "/partners/"},
	"get_role":                               {"role_name": "ec2-app-role"},
	"list_attached_role_policies":            {"role_name": "ec2-app-role"},
	"list_instance_profiles_for_role":        {"role_name": "ec2-app-role"},
	"list_policies":                          {"scope": "Local"},
	"get_policy":                             {"policy_arn": localPol + "/ci/DeployPipeline"},
	"get_managed_policy_document":            {"policy_arn": localPol + "/ci/DeployPipeline", "version_id": "v1"},
	"list_policy_versions":                   {"policy_arn": localPol + "/ci/DeployPipeline"},
	"list_attached_user_policies":            {"user_name": "ci-deploy"},
	"get_user_policy":                        {"user_name": "quinn.taylor", "policy_name": "break-glass"},
	"list_user_policies":                     {"user_name": "quinn.taylor"},
	"get_role_policy":                        {"role_name": "lambda-exec", "policy_name": "e2e-inline"},
	"list_role_policies":                     {"role_name": "lambda-exec"},
	"get_group_policy":                       {"group_name": "Support", "policy_name": "e2e-inline"},
	"list_group_policies":                    {"group_name": "Support"},
	"list_access_keys":                       {"user_name": "isla.moreau"},
	"get_access_key_last_used":               {"access_key_id": "$ci-key"},
	"get_login_profile":                      {"user_name": "alice.nguyen"},
	"list_mfa_devices":                       {"user_name": "bob.martin"},
	"simulate_principal_policy":              {"policy_source_arn": userArn + "/eng/alice.nguyen", "action_names": []string{"iam:CreateUser"}},
	"validate_policy":                        {"policy_document": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}},
	"simulate_custom_policy":                 {"policy_documents": []any{map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}}}, "action_names": []string{"s3:GetObject"}},
	"explain_access":                         {"principal_arn": userArn + "/eng/alice.nguyen", "action": "iam:CreateUser"},
	"get_account_info":                       nil,
	"describe_organization":                  nil,
	"get_account_authorization_details":      {"filter": []string{"User", "Role"}, "max_items": 5},
	"generate_credential_report":             nil,
	"get_credential_report":                  nil,
	"get_account_password_policy":            nil,
	"get_account_summary":                    nil,
	"generate_service_last_accessed_details": {"arn": userArn + "/service/ci-deploy", "granularity": "ACTION_LEVEL"},
	"get_service_last_accessed_details":      {"job_id": "$job", "max_items": 2},
	"list_entities_for_policy":               {"policy_arn": awsPol + "ReadOnlyAccess", "entity_filter": "Group"},
	"get_policy_version":                     {"policy_arn": localPol + "/ci/DeployPipeline", "version_id": "v1"},
	"list_user_tags":                         {"user_name": "isla.moreau"},
}

// withFixtures substitutes the placeholders of what prepareState made
// ("$ci-key", "$job").
func withFixtures(args map[string]any, fixtures map[string]string) map[string]any {
	if args == nil {
		return nil
	}
	out := make(map[string]any, len(args))
	for k, v := range args {
		if s, ok := v.(string); ok && fixtures[s] != "" {
			v = fixtures[s]
		}
		out[k] = v
	}
	return out
}

func TestReadOnlyTablesCoverTheCatalogue(t *testing.T) {
	for _, op := range api.All() {
		_, m := mutatingArgs[op.Name]
		_, r := readArgs[op.Name]
		switch {
		case op.Mutates && !m:
			t.Errorf("mutating operation %s has no entry in mutatingArgs", op.Name)
		case !op.Mutates && !r:
			t.Errorf("read operation %s has no entry in readArgs", op.Name)
		case op.Mutates && r, !op.Mutates && m:
			t.Errorf("operation %s is in the wrong table", op.Name)
		}
	}
	for name := range mutatingArgs {
		if _, ok := api.Lookup(name); !ok {
			t.Errorf("mutatingArgs: %s is not a catalogue operation", name)
		}
	}
	for name := range readArgs {
		if _, ok := api.Lookup(name); !ok {
			t.Errorf("readArgs: %s is not a catalogue operation", name)
		}
	}
}

// TestReadOnly walks the whole catalogue on a --readonly server: every
// mutating tool is listed as disabled and refused with ReadOnly, the
// sandbox's saved state is byte for byte unchanged, and every read tool
// works.
func TestReadOnly(t *testing.T) {
	t.Parallel()
	state, fixtures := freshState(t)
	before := readState(t, state)

	s := start(t, "--readonly", "--toolsets", "all", "--sandbox-state", state)
	init := s.cs.InitializeResult()
	if !strings.Contains(strings.ToLower(init.Instructions), "read-only") {
		t.Errorf("the read-only server's instructions do not say so: %q", init.Instructions)
	}
	counts := map[string]int{}
	for _, op := range api.All() {
		tool := s.tools[op.Name]
		if tool == nil {
			t.Errorf("%s is not listed in read-only mode", op.Name)
			continue
		}
		// A read may say "read-only" of itself (generate_credential_report
		// is read-only as IAM rates it); only a disabled tool says disabled.
		desc := strings.ToLower(tool.Description)
		saysDisabled := strings.Contains(desc, "disabled") && (strings.Contains(desc, "read-only") || strings.Contains(desc, "readonly"))
		if op.Mutates != saysDisabled {
			t.Errorf("%s (mutates %v): description %q", op.Name, op.Mutates, tool.Description)
		}
		if op.Mutates {
			msg := fails(s, op.Name, withFixtures(mutatingArgs[op.Name], fixtures), api.ReadOnly)
			if !strings.Contains(msg, "read-only") && !strings.Contains(msg, "readonly") {
				t.Errorf("%s: the refusal does not say why: %s", op.Name, msg)
			}
			counts["refused"]++
		} else if op.Name == "describe_organization" {
			// The demo account is in no organization: the read runs, and
			// Organizations says so (TestOrganisation reads the org seed's).
			fails(s, op.Name, nil, api.NoSuchEntity)
			counts["read"]++
		} else {
			ok[map[string]any](s, op.Name, withFixtures(readArgs[op.Name], fixtures))
			counts["read"]++
		}
	}
	// The sandbox is unchanged: what the reads see, and the saved bytes.
	if u := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "former.employee"}); u.User.UserName != "former.employee" {
		t.Errorf("former.employee: %+v", u.User)
	}
	if l := ok[api.ListUsersOutput](s, "list_users", map[string]any{"path_prefix": "/e2e/"}); len(l.Users) != 0 {
		t.Errorf("a user was created in read-only mode: %v", userNames(l.Users))
	}
	s.close()
	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	// What reads record as IAM does (a key's last use, service use, the
	// credential report and access-advisor jobs they generate) is saved
	// when the server stops; the account itself is byte for byte the same.
	if b, a := accountOnly(t, before), accountOnly(t, after); !bytes.Equal(b, a) {
		t.Errorf("the sandbox account changed in read-only mode (%d bytes before, %d after)", len(b), len(a))
	}
	var saved struct {
		Account struct{ CredentialReport json.RawMessage }
	}
	if err := json.Unmarshal(after, &saved); err != nil || len(saved.Account.CredentialReport) == 0 || string(saved.Account.CredentialReport) == "null" {
		t.Errorf("the credential report the reads generated was not saved (%v)", err)
	}
	if entries, _ := os.ReadDir(s.secretsDir); len(entries) != 0 {
		t.Errorf("a secret file was written in read-only mode")
	}
	t.Logf("read-only: %d mutating tools refused, %d read tools worked", counts["refused"], counts["read"])
}

// TestReadOnlyDefaultToolset: the default list in read-only mode still has
// every default tool, the mutating ones marked.
func TestReadOnlyDefaultToolset(t *testing.T) {
	t.Parallel()
	s := start(t, "--readonly")
	var disabled []string
	for name, tool := range s.tools {
		if strings.Contains(strings.ToLower(tool.Description), "disabled") {
			disabled = append(disabled, name)
		}
	}
	sort.Strings(disabled)
	want := opsWhere(func(op catalogue.Tool) bool { return op.Default && op.Mutates })
	if len(s.tools) != 35 || strings.Join(disabled, ",") != strings.Join(want, ",") {
		t.Errorf("read-only default list: %d tools, disabled %v, want %v", len(s.tools), disabled, want)
	}
	fails(s, "create_user", map[string]any{"user_name": "nobody-new"}, api.ReadOnly)
	ok[api.ListUsersOutput](s, "list_users", map[string]any{"max_items": 2})
}

// accountOnly is a saved sandbox state without what reads record.
func accountOnly(t *testing.T, state []byte) []byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(state, &f); err != nil {
		t.Fatalf("the sandbox state: %v", err)
	}
	acct, _ := f["account"].(map[string]any)
	for _, k := range []string{"KeyUse", "ServiceUse", "CredentialReport", "AccessJobs"} {
		delete(acct, k)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

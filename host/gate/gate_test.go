package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var ctx = context.Background()

// sampleArgs holds plausible arguments for every catalogue operation on the
// demo organisation: reads must succeed with them, and mutations would.
var sampleArgs = map[string]string{
	"list_users":                             `{}`,
	"get_user":                               `{"user_name":"alice.nguyen"}`,
	"create_user":                            `{"user_name":"new.user"}`,
	"delete_user":                            `{"user_name":"former.employee","force":true}`,
	"update_user":                            `{"user_name":"sam.lee","new_path":"/moved/"}`,
	"list_groups_for_user":                   `{"user_name":"alice.nguyen"}`,
	"put_user_permissions_boundary":          `{"user_name":"sam.lee","permissions_boundary":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"delete_user_permissions_boundary":       `{"user_name":"alice.nguyen"}`,
	"list_groups":                            `{}`,
	"get_group":                              `{"group_name":"Developers"}`,
	"create_group":                           `{"group_name":"NewGroup"}`,
	"delete_group":                           `{"group_name":"Finance","force":true}`,
	"add_user_to_group":                      `{"group_name":"Finance","user_name":"sam.lee"}`,
	"remove_user_from_group":                 `{"group_name":"Admins","user_name":"alice.nguyen"}`,
	"attach_group_policy":                    `{"group_name":"Finance","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"detach_group_policy":                    `{"group_name":"Admins","policy_arn":"arn:aws:iam::aws:policy/AdministratorAccess"}`,
	"list_attached_group_policies":           `{"group_name":"Admins"}`,
	"list_roles":                             `{}`,
	"get_role":                               `{"role_name":"ec2-app-role"}`,
	"create_role":                            `{"role_name":"new-role","assume_role_policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}`,
	"delete_role":                            `{"role_name":"open-trust-role","force":true}`,
	"update_role":                            `{"role_name":"lambda-exec","description":"changed"}`,
	"update_assume_role_policy":              `{"role_name":"open-trust-role","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}`,
	"attach_role_policy":                     `{"role_name":"lambda-exec","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"detach_role_policy":                     `{"role_name":"open-trust-role","policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}`,
	"list_attached_role_policies":            `{"role_name":"ec2-app-role"}`,
	"put_role_permissions_boundary":          `{"role_name":"lambda-exec","permissions_boundary":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"delete_role_permissions_boundary":       `{"role_name":"lambda-exec"}`,
	"list_instance_profiles_for_role":        `{"role_name":"ec2-app-role"}`,
	"create_instance_profile":                `{"instance_profile_name":"new-profile"}`,
	"add_role_to_instance_profile":           `{"instance_profile_name":"spare-profile","role_name":"lambda-exec"}`,
	"remove_role_from_instance_profile":      `{"instance_profile_name":"ec2-app","role_name":"ec2-app-role"}`,
	"delete_instance_profile":                `{"instance_profile_name":"spare-profile"}`,
	"list_policies":                          `{"scope":"All"}`,
	"get_policy":                             `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline"}`,
	"get_managed_policy_document":            `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline"}`,
	"create_policy":                          `{"policy_name":"NewPolicy","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`,
	"delete_policy":                          `{"policy_arn":"arn:aws:iam::123456789012:policy/Spare"}`,
	"create_policy_version":                  `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`,
	"list_policy_versions":                   `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline"}`,
	"set_default_policy_version":             `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline","version_id":"v1"}`,
	"delete_policy_version":                  `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline","version_id":"v1"}`,
	"attach_user_policy":                     `{"user_name":"sam.lee","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"detach_user_policy":                     `{"user_name":"monitoring-bot","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"list_attached_user_policies":            `{"user_name":"monitoring-bot"}`,
	"put_user_policy":                        `{"user_name":"sam.lee","policy_name":"p","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`,
	"get_user_policy":                        `{"user_name":"quinn.taylor","policy_name":"break-glass"}`,
	"delete_user_policy":                     `{"user_name":"quinn.taylor","policy_name":"break-glass"}`,
	"list_user_policies":                     `{"user_name":"quinn.taylor"}`,
	"put_role_policy":                        `{"role_name":"lambda-exec","policy_name":"p","policy_document":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":\"*\"}]}"}`,
	"get_role_policy":                        `{"role_name":"lambda-exec","policy_name":"missing-is-fine-for-reads"}`,
	"delete_role_policy":                     `{"role_name":"lambda-exec","policy_name":"p"}`,
	"list_role_policies":                     `{"role_name":"lambda-exec"}`,
	"put_group_policy":                       `{"group_name":"Finance","policy_name":"p","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`,
	"get_group_policy":                       `{"group_name":"Finance","policy_name":"missing-is-fine-for-reads"}`,
	"delete_group_policy":                    `{"group_name":"Finance","policy_name":"p"}`,
	"list_group_policies":                    `{"group_name":"Finance"}`,
	"create_access_key":                      `{"user_name":"sam.lee"}`,
	"delete_access_key":                      `{"user_name":"carol.diaz","access_key_id":"AKIAAAAAAAAAAAAAAAAA"}`,
	"list_access_keys":                       `{"user_name":"isla.moreau"}`,
	"update_access_key":                      `{"user_name":"carol.diaz","access_key_id":"AKIAAAAAAAAAAAAAAAAA","status":"Inactive"}`,
	"get_access_key_last_used":               `{"access_key_id":"AKIAIOSFODNN7EXAMPLE"}`,
	"get_login_profile":                      `{"user_name":"alice.nguyen"}`,
	"create_login_profile":                   `{"user_name":"farid.haddad","password":"Correct-Horse-9!"}`,
	"delete_login_profile":                   `{"user_name":"alice.nguyen"}`,
	"list_mfa_devices":                       `{"user_name":"bob.martin"}`,
	"deactivate_mfa_device":                  `{"user_name":"bob.martin","serial_number":"arn:aws:iam::123456789012:mfa/bob.martin"}`,
	"simulate_principal_policy":              `{"policy_source_arn":"arn:aws:iam::123456789012:user/eng/alice.nguyen","action_names":["s3:GetObject"]}`,
	"validate_policy":                        `{"policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}`,
	"simulate_custom_policy":                 `{"policy_documents":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}],"action_names":["s3:GetObject"]}`,
	"explain_access":                         `{"principal_arn":"arn:aws:iam::123456789012:user/eng/alice.nguyen","action":"iam:CreateUser"}`,
	"get_account_info":                       `{}`,
	"describe_organization":                  `{}`,
	"get_account_authorization_details":      `{"filter":["User"],"max_items":5}`,
	"generate_credential_report":             `{}`,
	"get_credential_report":                  `{}`,
	"get_account_password_policy":            `{}`,
	"get_account_summary":                    `{}`,
	"generate_service_last_accessed_details": `{"arn":"arn:aws:iam::123456789012:user/service/ci-deploy"}`,
	"get_service_last_accessed_details":      `{"job_id":"00000000-0000-0000-0000-000000000000"}`,
	"list_entities_for_policy":               `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
	"get_policy_version":                     `{"policy_arn":"arn:aws:iam::123456789012:policy/ci/DeployPipeline","version_id":"v1"}`,
	"list_user_tags":                         `{"user_name":"alice.nguyen"}`,
	"tag_user":                               `{"user_name":"alice.nguyen","tags":{"team":"platform"}}`,
	"untag_user":                             `{"user_name":"alice.nguyen","tag_keys":["team"]}`,
}

// readErrorsAllowed are read operations whose sample target may not exist:
// they must still reach IAM and answer IAM's error for it, never a refusal.
// (IAM answers AccessDenied, not NoSuchEntity, for an unknown access key;
// a job id is only known once a job was started; the demo account is in
// no organization.)
var readErrorsAllowed = map[string]api.ErrorCode{"get_role_policy": api.NoSuchEntity, "get_group_policy": api.NoSuchEntity, "get_access_key_last_used": api.AccessDenied,
	"get_service_last_accessed_details": api.NoSuchEntity, "describe_organization": api.NoSuchEntity}

// newGate wires the real chain: sandbox (persisted, so its bytes can be
// compared) → SDK client → catalogue → gate.
func newGate(t *testing.T, opts Options) (*Gate, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state.json")
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", StateFile: state})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	// What the sample arguments need beyond the demo seed, so that every
	// mutation among them would succeed.
	setup := New(cat, Options{Confirm: ConfirmNone})
	for _, c := range [][2]string{
		{"put_role_policy", sampleArgs["put_role_policy"]},
		{"put_group_policy", sampleArgs["put_group_policy"]},
		{"create_instance_profile", `{"instance_profile_name":"spare-profile"}`},
		{"create_policy", `{"policy_name":"Spare","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`},
	} {
		if _, err := setup.Call(ctx, Caller{Kind: CLI}, c[0], json.RawMessage(c[1])); err != nil {
			t.Fatalf("setting up %s: %v", c[0], err)
		}
	}
	return New(cat, opts), state
}

// argsFor is op's sample arguments on g's sandbox: the access key of
// carol.diaz, whose id the sandbox chose, replaces the placeholder.
func argsFor(t *testing.T, g *Gate, op string) json.RawMessage {
	t.Helper()
	args := sampleArgs[op]
	if !strings.Contains(args, keyPlaceholder) {
		return json.RawMessage(args)
	}
	out, err := g.runner.Run(ctx, "list_access_keys", &api.UserPageInput{UserName: "carol.diaz"})
	if err != nil {
		t.Fatal(err)
	}
	keys := out.(*api.ListAccessKeysOutput).AccessKeys
	if len(keys) == 0 {
		t.Fatal("carol.diaz has no access key in the demo seed")
	}
	return json.RawMessage(strings.ReplaceAll(args, keyPlaceholder, keys[0].AccessKeyID))
}

const keyPlaceholder = "AKIAAAAAAAAAAAAAAAAA"

func code(err error) api.ErrorCode {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func TestReadOnlyWalksTheWholeCatalogue(t *testing.T) {
	g, state := newGate(t, Options{ReadOnly: true})
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range api.All() {
		args, ok := sampleArgs[op.Name]
		if !ok {
			t.Errorf("%s has no sample arguments: add it to sampleArgs", op.Name)
			continue
		}
		t.Run(op.Name, func(t *testing.T) {
			_, err := g.Call(ctx, Caller{Kind: BuiltIn, Tool: op.Name}, op.Name, json.RawMessage(args))
			switch {
			case op.Mutates && code(err) != api.ReadOnly:
				t.Fatalf("mutating %s was not refused with ReadOnly: %v", op.Name, err)
			case !op.Mutates && err != nil && readErrorsAllowed[op.Name] != code(err):
				t.Fatalf("read %s failed in read-only mode: %v", op.Name, err)
			}
		})
	}
	after, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the sandbox changed while the server was read-only")
	}
}

// TestSampleArgumentsMutate proves the table above is a real test: without
// read-only mode, the same arguments do change the account.
func TestSampleArgumentsMutate(t *testing.T) {
	g, state := newGate(t, Options{Confirm: ConfirmNone})
	for _, name := range []string{"create_user", "delete_user", "attach_group_policy", "create_access_key"} {
		before, _ := os.ReadFile(state)
		if _, err := g.Call(ctx, Caller{Kind: CLI}, name, argsFor(t, g, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		after, _ := os.ReadFile(state)
		if bytes.Equal(before, after) {
			t.Fatalf("%s did not change the sandbox", name)
		}
	}
}

func TestPluginGrants(t *testing.T) {
	g, _ := newGate(t, Options{})
	plugin := Caller{Kind: Plugin, Plugin: "reviewer", Tool: "reviewer_run", Grants: map[string]bool{"list_users": true}}
	if _, err := g.Call(ctx, plugin, "list_users", nil); err != nil {
		t.Fatalf("granted call refused: %v", err)
	}
	_, err := g.Call(ctx, plugin, "get_user", json.RawMessage(`{"user_name":"alice.nguyen"}`))
	if code(err) != api.NotGranted || !strings.Contains(err.Error(), "reviewer") {
		t.Fatalf("ungranted call: %v", err)
	}
	// Deny by default: no grants, nothing runs.
	_, err = g.Call(ctx, Caller{Kind: Plugin, Plugin: "bare"}, "list_users", nil)
	if code(err) != api.NotGranted {
		t.Fatalf("plugin without grants: %v", err)
	}
	// A granted mutation is still refused in read-only mode.
	ro, _ := newGate(t, Options{ReadOnly: true})
	_, err = ro.Call(ctx, Caller{Kind: Plugin, Plugin: "p", Grants: map[string]bool{"create_user": true}}, "create_user", json.RawMessage(sampleArgs["create_user"]))
	if code(err) != api.ReadOnly {
		t.Fatalf("granted mutation in read-only mode: %v", err)
	}
}

func TestExpectAccount(t *testing.T) {
	g, _ := newGate(t, Options{ExpectAccount: "123456789012"})
	if _, err := g.Call(ctx, Caller{Kind: CLI}, "list_users", nil); err != nil {
		t.Fatalf("right account refused: %v", err)
	}
	g, state := newGate(t, Options{ExpectAccount: "999999999999"})
	before, _ := os.ReadFile(state)
	for _, op := range []string{"list_users", "create_user"} {
		_, err := g.Call(ctx, Caller{Kind: CLI}, op, json.RawMessage(sampleArgs[op]))
		if code(err) != api.WrongAccount || !strings.Contains(err.Error(), "123456789012") {
			t.Fatalf("%s with the wrong account: %v", op, err)
		}
	}
	after, _ := os.ReadFile(state)
	if !bytes.Equal(before, after) {
		t.Fatal("a call ran against the wrong account")
	}
}

func TestAuditLog(t *testing.T) {
	var buf bytes.Buffer
	fixed := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	g, _ := newGate(t, Options{Audit: &buf, Now: func() time.Time { return fixed }})
	ro, _ := newGate(t, Options{Audit: &buf, ReadOnly: true, Now: func() time.Time { return fixed }})

	_, _ = g.Call(ctx, Caller{Kind: BuiltIn, Tool: "create_login_profile"}, "create_login_profile", json.RawMessage(`{"user_name":"farid.haddad","password":"Sup3r-Secret-Pass!"}`))
	_, _ = g.Call(ctx, Caller{Kind: CLI}, "get_user", json.RawMessage(`{"user_name":"nobody"}`))
	_, _ = ro.Call(ctx, Caller{Kind: Plugin, Plugin: "rotator", Tool: "rotator_rotate", Grants: map[string]bool{"create_user": true}}, "create_user", json.RawMessage(`{"user_name":"x"}`))

	if strings.Contains(buf.String(), "Sup3r-Secret-Pass!") {
		t.Fatal("a password reached the audit log")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 audit lines, got %d:\n%s", len(lines), buf.String())
	}
	var recs []Record
	for _, l := range lines {
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("audit line is not JSON: %s", l)
		}
		recs = append(recs, r)
	}
	if r := recs[0]; r.Outcome != "ok" || r.Caller != BuiltIn || r.Tool != "create_login_profile" || !r.Mutates || !r.Time.Equal(fixed) || !strings.Contains(string(r.Arguments), "[redacted]") {
		t.Fatalf("ok record: %+v", r)
	}
	if r := recs[1]; r.Outcome != "error" || r.Code != api.NoSuchEntity || r.Caller != CLI || r.Mutates {
		t.Fatalf("error record: %+v", r)
	}
	if r := recs[2]; r.Outcome != "refused" || r.Code != api.ReadOnly || r.Plugin != "rotator" || r.Tool != "rotator_rotate" {
		t.Fatalf("refused record: %+v", r)
	}
}

func TestRedact(t *testing.T) {
	got := string(Redact(json.RawMessage(`{"user_name":"a","password":"p1","nested":[{"secret_access_key":"s"}],"new_password":"p2"}`)))
	for _, leak := range []string{"p1", `"s"`, "p2"} {
		if strings.Contains(got, leak) {
			t.Fatalf("%s leaked: %s", leak, got)
		}
	}
	if !strings.Contains(got, `"user_name":"a"`) {
		t.Fatalf("non-secret lost: %s", got)
	}
	if got := string(Redact(json.RawMessage(`{broken`))); strings.Contains(got, "broken") {
		t.Fatalf("unparsable arguments kept: %s", got)
	}
}

// TestAsAPIError: an *api.Error, wrapped or not, is answered as it is;
// any other failure is Internal, quoting it and asking for a report.
func TestAsAPIError(t *testing.T) {
	e := api.Errorf(api.NoSuchEntity, "there is no user bob")
	for _, err := range []error{e, fmt.Errorf("reading bob: %w", e)} {
		if got := AsAPIError(err); got != e {
			t.Errorf("%v: %v", err, got)
		}
	}
	got := AsAPIError(errors.New("disk on fire"))
	if got.Code != api.Internal || got.Message != "unexpected failure: disk on fire; please report it" {
		t.Errorf("a plain error: %v", got)
	}
}

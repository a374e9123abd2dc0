package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The defaults of issue 11 over the whole catalogue, through the built
// binary and the official Go SDK client: a server is read-only unless the
// operator passes --allow-write; with writes allowed, every destructive
// change is put to the person through MCP elicitation first (--confirm
// destructive, the default) and a no changes nothing; dry_run plans any
// change, on any server, changing nothing. Each claim is checked against
// the sandbox's saved state, byte for byte, and against a control: the
// same call with the same arguments, accepted, does change it.

// mutatingArgs are arguments for every mutating operation on the demo
// account as prepareState leaves it ("$ci-key" is ci-deploy's access key
// id). Each makes a real change there and passes the guardrails
// (TestWriteTableMakesChanges proves both), so when a call with them
// changes nothing, the gate or the person stopped it. An operation added
// to the catalogue without an entry fails TestReadOnlyTablesCoverTheCatalogue.
var mutatingArgs = map[string]map[string]any{
	"create_user":                       {"user_name": "e2e-new-user", "path": "/e2e/"},
	"delete_user":                       {"user_name": "former.employee", "force": true},
	"update_user":                       {"user_name": "farid.haddad", "new_path": "/moved/"},
	"put_user_permissions_boundary":     {"user_name": "farid.haddad", "permissions_boundary": localPol + "/boundaries/DeveloperBoundary"},
	"delete_user_permissions_boundary":  {"user_name": "pablo.ruiz"},
	"create_group":                      {"group_name": "e2e-new-group"},
	"delete_group":                      {"group_name": "Finance", "force": true},
	"add_user_to_group":                 {"group_name": "Finance", "user_name": "farid.haddad"},
	"remove_user_from_group":            {"group_name": "Admins", "user_name": "alice.nguyen"},
	"attach_group_policy":               {"group_name": "Finance", "policy_arn": awsPol + "AmazonS3ReadOnlyAccess"},
	"detach_group_policy":               {"group_name": "Admins", "policy_arn": awsPol + "AdministratorAccess"},
	"create_role":                       {"role_name": "e2e-new-role", "assume_role_policy_document": lambdaTrust},
	"delete_role":                       {"role_name": "open-trust-role", "force": true},
	"update_role":                       {"role_name": "lambda-exec", "description": "changed by the e2e tests"},
	"update_assume_role_policy":         {"role_name": "lambda-exec", "policy_document": ec2TrustString},
	"attach_role_policy":                {"role_name": "lambda-exec", "policy_arn": awsPol + "AmazonS3ReadOnlyAccess"},
	"detach_role_policy":                {"role_name": "ec2-app-role", "policy_arn": localPol + "/data/DataLakeRead"},
	"put_role_permissions_boundary":     {"role_name": "ec2-app-role", "permissions_boundary": localPol + "/boundaries/DeveloperBoundary"},
	"delete_role_permissions_boundary":  {"role_name": "lambda-exec"},
	"create_instance_profile":           {"instance_profile_name": "e2e-new-profile"},
	"add_role_to_instance_profile":      {"instance_profile_name": "e2e-empty-profile", "role_name": "lambda-exec"},
	"remove_role_from_instance_profile": {"instance_profile_name": "ec2-app", "role_name": "ec2-app-role"},
	"delete_instance_profile":           {"instance_profile_name": "e2e-empty-profile"},
	"create_policy":                     {"policy_name": "e2e-new-policy", "policy_document": s3ReadDoc},
	"delete_policy":                     {"policy_arn": localPol + "/LegacyAdmin"},
	"create_policy_version":             {"policy_arn": localPol + "/ops/SupportRead", "policy_document": denyDeleteDocString, "set_as_default": true},
	"set_default_policy_version":        {"policy_arn": localPol + "/ci/DeployPipeline", "version_id": "v1"},
	"delete_policy_version":             {"policy_arn": localPol + "/ci/DeployPipeline", "version_id": "v1"},
	"attach_user_policy":                {"user_name": "farid.haddad", "policy_arn": awsPol + "AmazonS3ReadOnlyAccess"},
	"detach_user_policy":                {"user_name": "ci-deploy", "policy_arn": localPol + "/ci/DeployPipeline"},
	"put_user_policy":                   {"user_name": "farid.haddad", "policy_name": "e2e-put", "policy_document": denyDeleteDocString},
	"delete_user_policy":                {"user_name": "quinn.taylor", "policy_name": "break-glass"},
	"put_role_policy":                   {"role_name": "lambda-exec", "policy_name": "e2e-put", "policy_document": s3ReadDoc},
	"delete_role_policy":                {"role_name": "lambda-exec", "policy_name": "e2e-inline"},
	"put_group_policy":                  {"group_name": "Support", "policy_name": "e2e-put", "policy_document": s3ReadDoc},
	"delete_group_policy":               {"group_name": "Support", "policy_name": "e2e-inline"},
	"create_access_key":                 {"user_name": "farid.haddad"},
	"delete_access_key":                 {"user_name": "ci-deploy", "access_key_id": "$ci-key"},
	"update_access_key":                 {"user_name": "ci-deploy", "access_key_id": "$ci-key", "status": "Inactive"},
	"create_login_profile":              {"user_name": "farid.haddad", "password": tablePassword},
	"delete_login_profile":              {"user_name": "alice.nguyen"},
	"deactivate_mfa_device":             {"user_name": "bob.martin", "serial_number": "arn:aws:iam::" + account + ":mfa/bob.martin"},
	"tag_user":                          {"user_name": "alice.nguyen", "tags": map[string]string{"team": "platform"}},
	"untag_user":                        {"user_name": "isla.moreau", "tag_keys": []string{"e2e"}},
}

// tablePassword is create_login_profile's password in mutatingArgs: no
// question put to the person, plan or audit line may show it.
const tablePassword = "Table-Passw0rd!e2e-7c1d"

// prepareState writes a demo sandbox to a state file, with the fixtures the
// tables need (inline policies on a role and a group, permissions
// boundaries on a role and on a user whose access stays harmless without
// it, an empty instance profile, a tag, a service-last-accessed job), and
// returns the values of the tables' placeholders: ci-deploy's access key id
// ("$ci-key") and the job's id ("$job").
func prepareState(t *testing.T, state string) map[string]string {
	t.Helper()
	s := startWritable(t, "--toolsets", "all", "--sandbox-state", state)
	boundary := localPol + "/boundaries/DeveloperBoundary"
	// The job first: it is saved with the changes that follow it.
	job := ok[api.GenerateServiceLastAccessedOutput](s, "generate_service_last_accessed_details", map[string]any{"arn": userArn + "/eng/alice.nguyen"})
	ok[api.Result](s, "tag_user", map[string]any{"user_name": "isla.moreau", "tags": map[string]string{"e2e": "fixture"}})
	ok[api.Result](s, "put_role_policy", map[string]any{"role_name": "lambda-exec", "policy_name": "e2e-inline", "policy_document": s3ReadDoc})
	ok[api.Result](s, "put_group_policy", map[string]any{"group_name": "Support", "policy_name": "e2e-inline", "policy_document": denyDeleteDocString})
	ok[api.RoleOutput](s, "put_role_permissions_boundary", map[string]any{"role_name": "lambda-exec", "permissions_boundary": boundary})
	ok[api.UserOutput](s, "put_user_permissions_boundary", map[string]any{"user_name": "pablo.ruiz", "permissions_boundary": boundary})
	ok[api.InstanceProfileOutput](s, "create_instance_profile", map[string]any{"instance_profile_name": "e2e-empty-profile"})
	keys := ok[api.ListAccessKeysOutput](s, "list_access_keys", map[string]any{"user_name": "ci-deploy"})
	if len(keys.AccessKeys) != 1 {
		t.Fatalf("ci-deploy has %d keys", len(keys.AccessKeys))
	}
	s.close()
	if s.exitErr != nil {
		t.Fatalf("the server preparing the state did not exit cleanly: %v", s.exitErr)
	}
	return map[string]string{"$ci-key": keys.AccessKeys[0].AccessKeyID, "$job": job.JobID}
}

// A prepared state is made once per run and copied for each server that
// needs one: the fixtures are the same for all.
var (
	preparedOnce     sync.Once
	preparedState    []byte
	preparedFixtures map[string]string
	preparedErr      string
)

// freshState writes the prepared state to a new file and returns its path
// and the fixtures.
func freshState(t *testing.T) (string, map[string]string) {
	t.Helper()
	preparedOnce.Do(func() {
		// A failure inside Do must not leave the others waiting with no
		// state: it is recorded, and every caller fails on it.
		dir, err := os.MkdirTemp("", "iam-mcp-e2e-state-")
		if err != nil {
			preparedErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "iam.json")
		ok := t.Run("prepare the state", func(t *testing.T) { preparedFixtures = prepareState(t, path) })
		if !ok {
			preparedErr = "preparing the sandbox state failed (see the subtest above)"
			return
		}
		if preparedState, err = os.ReadFile(path); err != nil {
			preparedErr = "the prepared state was not written: " + err.Error()
		}
	})
	if preparedErr != "" {
		t.Fatal(preparedErr)
	}
	path := filepath.Join(t.TempDir(), "iam.json")
	if err := os.WriteFile(path, preparedState, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, preparedFixtures
}

func readState(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the sandbox state: %v", err)
	}
	return b
}

// withArgument returns a copy of args with one more argument.
func withArgument(args map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(args)+1)
	for k, x := range args {
		out[k] = x
	}
	out[key] = v
	return out
}

// mutatingOps are the catalogue's mutating operations that keep accepts,
// in catalogue order.
func mutatingOps(keep func(api.Operation) bool) []api.Operation {
	var out []api.Operation
	for _, op := range api.All() {
		if op.Mutates && keep(op) {
			out = append(out, op)
		}
	}
	return out
}

func anyOperation(api.Operation) bool     { return true }
func isDestructive(op api.Operation) bool { return op.Destructive }

// tablePerson is a client's elicitation handler standing in for the
// person: it records every question and gives the answer set for it.
type tablePerson struct {
	mu     sync.Mutex
	answer string // accept, decline or cancel
	asked  []*mcp.ElicitParams
}

func newTablePerson(answer string) *tablePerson { return &tablePerson{answer: answer} }

func (a *tablePerson) handle(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, req.Params)
	return &mcp.ElicitResult{Action: a.answer}, nil
}

// answerWith sets the answer to the next questions.
func (a *tablePerson) answerWith(answer string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answer = answer
}

func (a *tablePerson) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.asked)
}

func (a *tablePerson) last() *mcp.ElicitParams {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.asked) == 0 {
		return nil
	}
	return a.asked[len(a.asked)-1]
}

// startAsking starts a server whose client can elicit, answered by a.
func startAsking(t testing.TB, a *tablePerson, protocol string, extra ...string) *server {
	t.Helper()
	return launch(t, launchOptions{args: extra, protocol: protocol, client: &mcp.ClientOptions{ElicitationHandler: a.handle}})
}

// checkDryRunPlan checks a dry run's answer: it says nothing changed and carries
// a plan of op with its IAM calls, what they touch and how to undo them.
func checkDryRunPlan(t *testing.T, op string, dry api.DryRunOutput) {
	t.Helper()
	p := dry.Plan
	if !dry.DryRun || !strings.Contains(dry.Message, "nothing") {
		t.Errorf("%s dry run: dry_run %v, message %q: it must say that nothing was changed", op, dry.DryRun, dry.Message)
	}
	if p.Operation != op || p.Summary == "" || len(p.Steps) == 0 || len(p.Affected) == 0 || p.Undo == "" {
		t.Errorf("%s dry run: an incomplete plan: %+v", op, p)
	}
	for _, st := range p.Steps {
		if !strings.HasPrefix(st.Action, "iam:") || st.Target == "" {
			t.Errorf("%s dry run: step %+v is not an IAM call with a target", op, st)
		}
	}
}

// checkQuestionShowsPlan checks what the person was asked before op ran: the plan a
// dry run returned — each IAM call in order with its target, the entities
// affected, the guardrails' findings, whether it can be undone — and never
// a password from the arguments.
func checkQuestionShowsPlan(t *testing.T, op string, q *mcp.ElicitParams, plan api.Plan, args map[string]any) {
	t.Helper()
	if q == nil {
		t.Errorf("%s: no question", op)
		return
	}
	text := q.Message
	if schema, _ := json.Marshal(q.RequestedSchema); !strings.Contains(string(schema), `"object"`) {
		t.Errorf("%s: the question's requestedSchema is not an object schema: %s", op, schema)
	}
	at := 0
	for _, st := range plan.Steps {
		// The action in the order of the plan, with or without "iam:".
		name := strings.TrimPrefix(st.Action, "iam:")
		i := strings.Index(text[at:], name)
		if i < 0 {
			t.Errorf("%s: the question does not show the call %s (in the plan's order):\n%s", op, st.Action, text)
			break
		}
		at += i + len(name)
		if !strings.Contains(text, st.Target) {
			t.Errorf("%s: the question does not show the target %s of %s:\n%s", op, st.Target, st.Action, text)
		}
	}
	for _, e := range plan.Affected {
		if !strings.Contains(text, e) {
			t.Errorf("%s: the question does not name the affected %s:\n%s", op, e, text)
		}
	}
	for _, f := range plan.Findings {
		if prefix := f[:min(len(f), 40)]; !strings.Contains(text, prefix) {
			t.Errorf("%s: the question does not show the finding %q:\n%s", op, f, text)
		}
	}
	if !strings.Contains(strings.ToLower(text), "undo") {
		t.Errorf("%s: the question does not say whether the change can be undone:\n%s", op, text)
	}
	if pw, _ := args["password"].(string); pw != "" {
		if all, _ := json.Marshal(q); bytes.Contains(all, []byte(pw)) {
			t.Errorf("%s: the question shows the password", op)
		}
	}
}

// TestDefaultIsReadOnly: with none of the new flags, every mutating
// operation of the catalogue is refused with ReadOnly — the message saying
// how to allow writes —, the model's confirmed: true changes nothing about
// it, and a dry run returns the plan; the sandbox's saved state is byte for
// byte unchanged, no secret file is written, and the audit log has each
// refusal and each dry run.
func TestDefaultIsReadOnly(t *testing.T) {
	t.Parallel()
	state, fixtures := freshState(t)
	before := readState(t, state)
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	s := start(t, "--toolsets", "all", "--sandbox-state", state, "--audit-log", audit)
	if init := s.cs.InitializeResult(); !strings.Contains(strings.ToLower(init.Instructions), "read-only") {
		t.Errorf("the default server's instructions do not say it is read-only: %q", init.Instructions)
	}
	ops := mutatingOps(anyOperation)
	for _, op := range ops {
		if tool := s.tools[op.Name]; tool == nil {
			t.Errorf("%s is not listed by default", op.Name)
			continue
		} else if !strings.Contains(strings.ToLower(tool.Description), "disabled") {
			t.Errorf("%s: its description does not say it is disabled: %q", op.Name, tool.Description)
		}
		args := withFixtures(mutatingArgs[op.Name], fixtures)
		msg := fails(s, op.Name, args, api.ReadOnly)
		if !strings.Contains(msg, "--allow-write") || !strings.Contains(msg, "dry_run") {
			t.Errorf("%s: the refusal does not say how to allow writes (--allow-write) or to try dry_run: %s", op.Name, msg)
		}
		fails(s, op.Name, withArgument(args, api.ArgConfirmed, true), api.ReadOnly)
		dry := ok[api.DryRunOutput](s, op.Name, withArgument(args, api.ArgDryRun, true))
		checkDryRunPlan(t, op.Name, dry)
	}
	s.close()
	if after := readState(t, state); !bytes.Equal(before, after) {
		t.Errorf("the sandbox state changed on a server started without --allow-write (%d bytes before, %d after)", len(before), len(after))
	}
	if entries, _ := os.ReadDir(s.secretsDir); len(entries) != 0 {
		t.Errorf("a secret file was written without --allow-write")
	}
	recs, raw := readAudit(t, audit)
	type key struct {
		op, outcome, code string
		dry               bool
	}
	counts := map[key]int{}
	for _, r := range recs {
		counts[key{r.Operation, r.Outcome, r.Code, r.DryRun}]++
		if r.Consent != nil {
			t.Errorf("a read-only server asked for consent: %+v", r)
		}
	}
	for _, op := range ops {
		if n := counts[key{op.Name, "refused", string(api.ReadOnly), false}]; n != 2 {
			t.Errorf("audit: %d ReadOnly refusals of %s, want 2", n, op.Name)
		}
		if n := counts[key{op.Name, "ok", "", true}]; n != 1 {
			t.Errorf("audit: %d dry runs of %s, want 1", n, op.Name)
		}
		if n := counts[key{op.Name, "ok", "", false}]; n != 0 {
			t.Errorf("audit: %s ran", op.Name)
		}
	}
	if strings.Contains(raw, tablePassword) {
		t.Errorf("the audit log holds create_login_profile's password")
	}
	t.Logf("default flags: %d mutating operations refused and planned", len(ops))
}

// TestWriteTableMakesChanges is the control of the tests around it: with
// --allow-write and the default --confirm, each entry of mutatingArgs, on
// a fresh copy of the prepared state, asks the person exactly when its
// operation is destructive, runs when they accept, and changes the saved
// state. So a call with these arguments that leaves the state as it was
// was stopped by the gate or the person, not by IAM or a guardrail.
func TestWriteTableMakesChanges(t *testing.T) {
	t.Parallel()
	for _, op := range mutatingOps(anyOperation) {
		t.Run(op.Name, func(t *testing.T) {
			t.Parallel()
			state, fixtures := freshState(t)
			before := readState(t, state)
			a := newTablePerson("accept")
			s := startAsking(t, a, "", "--allow-write", "--toolsets", "all", "--sandbox-state", state)
			args := withFixtures(mutatingArgs[op.Name], fixtures)
			dry := ok[api.DryRunOutput](s, op.Name, withArgument(args, api.ArgDryRun, true))
			checkDryRunPlan(t, op.Name, dry)
			out := ok[map[string]any](s, op.Name, args)
			if _, isPlan := out["plan"]; isPlan {
				t.Errorf("%s: a call without dry_run answered a plan: %v", op.Name, out)
			}
			if want := map[bool]int{true: 1, false: 0}[op.Destructive]; a.count() != want {
				t.Errorf("%s (destructive %v): the person was asked %d times, want %d", op.Name, op.Destructive, a.count(), want)
			}
			if a.count() == 1 {
				checkQuestionShowsPlan(t, op.Name, a.last(), dry.Plan, args)
			}
			s.close()
			if bytes.Equal(before, readState(t, state)) {
				t.Errorf("%s %s changed nothing: the table's entry proves nothing", op.Name, argsText(args))
			}
		})
	}
}

// TestDestructiveChangesAsk: with --allow-write and the default --confirm,
// at both protocol generations (input-required results on 2026-07-28,
// elicitation/create before), every destructive operation of the catalogue
// is put to the person with the plan a dry run returns, and a decline or a
// cancel changes nothing — also when the model sets confirmed: true. A dry
// run asks nobody. Then every other mutation runs without asking.
func TestDestructiveChangesAsk(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"2026-07-28", "2025-11-25"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			state, fixtures := freshState(t)
			before := readState(t, state)
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			a := newTablePerson("decline")
			s := startAsking(t, a, protocol, "--allow-write", "--toolsets", "all", "--sandbox-state", state, "--audit-log", audit)
			if got := s.cs.InitializeResult().ProtocolVersion; got != protocol {
				t.Fatalf("the server answered protocol %s to a client asking for %s", got, protocol)
			}
			ops := mutatingOps(isDestructive)
			for _, op := range ops {
				args := withFixtures(mutatingArgs[op.Name], fixtures)
				n := a.count()
				dry := ok[api.DryRunOutput](s, op.Name, withArgument(args, api.ArgDryRun, true))
				checkDryRunPlan(t, op.Name, dry)
				if a.count() != n {
					t.Errorf("%s: a dry run asked the person", op.Name)
				}

				a.answerWith("decline")
				msg := fails(s, op.Name, args, api.Declined)
				if !strings.Contains(msg, "nothing") {
					t.Errorf("%s declined: the result does not say that nothing was changed: %s", op.Name, msg)
				}
				if a.count() != n+1 {
					t.Errorf("%s: the person was asked %d times, want once", op.Name, a.count()-n)
				}
				checkQuestionShowsPlan(t, op.Name, a.last(), dry.Plan, args)

				// The model cannot answer for the person: the upstream's
				// confirmed argument is taken and ignored, and a cancel (the
				// question closed unanswered) is a no.
				a.answerWith("cancel")
				fails(s, op.Name, withArgument(args, api.ArgConfirmed, true), api.Declined)
				if a.count() != n+2 {
					t.Errorf("%s with confirmed: true: the person was asked %d times, want once", op.Name, a.count()-n-1)
				}
			}
			if after := readState(t, state); !bytes.Equal(before, after) {
				t.Errorf("a declined change changed the sandbox state (%d bytes before, %d after)", len(before), len(after))
			}

			// Changes that are not destructive run without a question.
			n := a.count()
			for _, op := range mutatingOps(func(op api.Operation) bool { return !op.Destructive }) {
				ok[map[string]any](s, op.Name, withFixtures(mutatingArgs[op.Name], fixtures))
			}
			if a.count() != n {
				t.Errorf("%d questions for changes that are not destructive, want none", a.count()-n)
			}
			s.close()

			recs, _ := readAudit(t, audit)
			consents := map[string][]string{} // operation → answers recorded
			for _, r := range recs {
				if r.Consent == nil {
					continue
				}
				if r.Consent.Level != "destructive" || r.Consent.Via != "elicitation" || r.Outcome != "refused" || r.Code != string(api.Declined) {
					t.Errorf("audit: the consent record of %s: %+v consent %+v", r.Operation, r, *r.Consent)
				}
				consents[r.Operation] = append(consents[r.Operation], r.Consent.Answer)
				// The call cancelled was the one with the model's
				// confirmed: true, which the audit line keeps apart.
				if sent := r.Confirmed != nil && *r.Confirmed; sent != (r.Consent.Answer == "cancel") {
					t.Errorf("audit: %s answered %s records confirmed_argument %v", r.Operation, r.Consent.Answer, r.Confirmed)
				}
			}
			for _, op := range ops {
				if got := strings.Join(consents[op.Name], ","); got != "decline,cancel" {
					t.Errorf("audit: %s: consent answers %q, want decline,cancel", op.Name, got)
				}
			}
			t.Logf("protocol %s: %d destructive operations asked and declined, %d questions in all", protocol, len(ops), a.count())
		})
	}
}

// TestConfirmWritesAsksEveryChange: under --confirm writes every mutation
// of the catalogue asks, and declined, changes nothing; no question shows
// a password.
func TestConfirmWritesAsksEveryChange(t *testing.T) {
	t.Parallel()
	state, fixtures := freshState(t)
	before := readState(t, state)
	a := newTablePerson("decline")
	s := startAsking(t, a, "", "--allow-write", "--confirm", "writes", "--toolsets", "all", "--sandbox-state", state)
	ops := mutatingOps(anyOperation)
	for _, op := range ops {
		args := withFixtures(mutatingArgs[op.Name], fixtures)
		n := a.count()
		fails(s, op.Name, args, api.Declined)
		if a.count() != n+1 {
			t.Errorf("%s under --confirm writes: asked %d times, want once", op.Name, a.count()-n)
			continue
		}
		if pw, _ := args["password"].(string); pw != "" {
			if all, _ := json.Marshal(a.last()); bytes.Contains(all, []byte(pw)) {
				t.Errorf("%s: the question shows the password", op.Name)
			}
		}
	}
	s.close()
	if after := readState(t, state); !bytes.Equal(before, after) {
		t.Errorf("declined changes changed the sandbox state under --confirm writes")
	}
	if entries, _ := os.ReadDir(s.secretsDir); len(entries) != 0 {
		t.Errorf("a declined create_access_key wrote a secret file")
	}
}

// TestConsentWithoutElicitation: a client that cannot elicit gets every
// destructive operation refused with ConsentRequired, naming the flag that
// lets it run without asking — confirmed: true or not — and nothing
// changes; a change that needs no consent still runs.
func TestConsentWithoutElicitation(t *testing.T) {
	t.Parallel()
	state, fixtures := freshState(t)
	before := readState(t, state)
	s := start(t, "--allow-write", "--toolsets", "all", "--sandbox-state", state)
	for _, op := range mutatingOps(isDestructive) {
		args := withFixtures(mutatingArgs[op.Name], fixtures)
		if msg := fails(s, op.Name, args, api.ConsentRequired); !strings.Contains(msg, "--confirm none") {
			t.Errorf("%s: the refusal does not name the flag that allows it without asking (--confirm none): %s", op.Name, msg)
		}
		fails(s, op.Name, withArgument(args, api.ArgConfirmed, true), api.ConsentRequired)
	}
	if after := readState(t, state); !bytes.Equal(before, after) {
		t.Errorf("a change nobody could approve changed the sandbox state")
	}
	created := ok[api.UserOutput](s, "create_user", mutatingArgs["create_user"])
	if created.User.UserName != "e2e-new-user" {
		t.Errorf("create_user: %+v", created.User)
	}
}

// TestGateArgumentsAreStrict: the gate's own arguments, as a model might
// bend them to skip the question or the read-only check. Each is refused
// with InvalidInput before anyone is asked and before anything changes:
// a string for a boolean, another letter case, a repeated key (the last
// one would win in encoding/json), dry_run on an operation that changes
// nothing. dry_run: false is an ordinary call, asked as one.
func TestGateArgumentsAreStrict(t *testing.T) {
	t.Parallel()
	state, _ := freshState(t)
	before := readState(t, state)
	a := newTablePerson("decline")
	s := startAsking(t, a, "", "--allow-write", "--toolsets", "all", "--sandbox-state", state)
	del := `"user_name":"former.employee","force":true`
	for _, c := range []struct{ tool, args, mention string }{
		{"delete_user", `{` + del + `,"dry_run":"true"}`, "dry_run"},
		{"delete_user", `{` + del + `,"confirmed":"yes"}`, "confirmed"},
		{"delete_user", `{` + del + `,"confirmed":1}`, "confirmed"},
		{"delete_user", `{` + del + `,"DRY_RUN":true}`, "DRY_RUN"},
		{"delete_user", `{` + del + `,"Dry_Run":false}`, "Dry_Run"},
		{"delete_user", `{` + del + `,"dry_run":true,"dry_run":false}`, "dry_run"},
		{"delete_user", `{` + del + `,"dry_run":false,"dry_run":true}`, "dry_run"},
		{"delete_user", `{` + del + `,"confirmed":true,"confirmed":true}`, "confirmed"},
		{"delete_user", `{"user_name":"former.employee","force":true,"dry_ru\u006e":"x"}`, "dry_run"},
		{"get_user", `{"user_name":"former.employee","dry_run":true}`, "dry_run"},
		{"list_users", `{"confirmed":true}`, "confirmed"},
	} {
		msg := fails(s, c.tool, json.RawMessage(c.args), api.InvalidInput)
		if !strings.Contains(msg, c.mention) {
			t.Errorf("%s %s: the message does not name %s: %s", c.tool, c.args, c.mention, msg)
		}
	}
	if a.count() != 0 {
		t.Errorf("arguments the gate refuses put %d questions to the person", a.count())
	}
	// dry_run: false is a real call: asked, here declined.
	fails(s, "delete_user", json.RawMessage(`{`+del+`,"dry_run":false}`), api.Declined)
	if a.count() != 1 {
		t.Errorf("delete_user with dry_run: false was asked %d times, want once", a.count())
	}
	s.close()
	if !bytes.Equal(before, readState(t, state)) {
		t.Errorf("the sandbox state changed")
	}
}

// TestWriteFlagsFromEnvironment: what a client config sets, as flags or as
// IAM_MCP_* variables (the flag wins), through the real binary: writes
// allowed from the environment, --readonly winning over --allow-write with
// a warning, --no-confirmation as the upstream's --confirm none, and bad
// values refused at start, never read as the safe or the unsafe default.
func TestWriteFlagsFromEnvironment(t *testing.T) {
	t.Parallel()
	user := map[string]any{"user_name": "env-made-user"}
	del := map[string]any{"user_name": "former.employee", "force": true}
	cases := []struct {
		name       string
		env, args  []string
		op         string
		args2      map[string]any
		want       api.ErrorCode // "" for success
		wantStderr string
	}{
		{"IAM_MCP_ALLOW_WRITE=true", []string{"IAM_MCP_ALLOW_WRITE=true"}, nil, "create_user", user, "", ""},
		{"IAM_MCP_ALLOW_WRITE=1", []string{"IAM_MCP_ALLOW_WRITE=1"}, nil, "create_user", user, "", ""},
		{"IAM_MCP_ALLOW_WRITE empty is unset", []string{"IAM_MCP_ALLOW_WRITE="}, nil, "create_user", user, api.ReadOnly, ""},
		{"IAM_MCP_ALLOW_WRITE=false, the flag wins", []string{"IAM_MCP_ALLOW_WRITE=false"}, []string{"--allow-write"}, "create_user", user, "", ""},
		{"--readonly wins over IAM_MCP_ALLOW_WRITE", []string{"IAM_MCP_ALLOW_WRITE=true"}, []string{"--readonly"}, "create_user", user, api.ReadOnly, "--readonly"},
		{"--readonly wins over --allow-write", nil, []string{"--allow-write", "--readonly"}, "create_user", user, api.ReadOnly, "--readonly"},
		{"IAM_MCP_READONLY wins over --allow-write", []string{"IAM_MCP_READONLY=true"}, []string{"--allow-write"}, "create_user", user, api.ReadOnly, ""},
		{"--allow-write asks by default", nil, []string{"--allow-write"}, "delete_user", del, api.ConsentRequired, ""},
		{"IAM_MCP_CONFIRM=none", []string{"IAM_MCP_ALLOW_WRITE=true", "IAM_MCP_CONFIRM=none"}, nil, "delete_user", del, "", ""},
		{"--no-confirmation", nil, []string{"--allow-write", "--no-confirmation"}, "delete_user", del, "", ""},
		{"IAM_MCP_NO_CONFIRMATION", []string{"IAM_MCP_NO_CONFIRMATION=true"}, []string{"--allow-write"}, "delete_user", del, "", ""},
		{"--confirm wins over IAM_MCP_CONFIRM", []string{"IAM_MCP_CONFIRM=none"}, []string{"--allow-write", "--confirm", "destructive"}, "delete_user", del, api.ConsentRequired, ""},
		{"IAM_MCP_CONFIRM=writes", []string{"IAM_MCP_CONFIRM=writes"}, []string{"--allow-write"}, "create_user", user, api.ConsentRequired, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := launch(t, launchOptions{env: c.env, args: append([]string{"--toolsets", "all"}, c.args...)})
			if c.want == "" {
				ok[map[string]any](s, c.op, c.args2)
			} else {
				fails(s, c.op, c.args2, c.want)
			}
			s.close() // stderr is all read once the server has exited
			if c.wantStderr != "" && !strings.Contains(s.stderr.String(), c.wantStderr) {
				t.Errorf("no warning naming %s on stderr:\n%s", c.wantStderr, s.stderr)
			}
		})
	}

	// Bad values stop the start with a usage error naming what was wrong.
	for _, c := range []struct {
		env, args []string
		mention   string
	}{
		{[]string{"IAM_MCP_READONLY=ture"}, nil, "IAM_MCP_READONLY"},
		{[]string{"IAM_MCP_ALLOW_WRITE=yes"}, nil, "IAM_MCP_ALLOW_WRITE"},
		{[]string{"IAM_MCP_CONFIRM=sometimes"}, nil, "IAM_MCP_CONFIRM"},
		{nil, []string{"--confirm", "never"}, "--confirm"},
		{nil, []string{"--confirm", "NONE"}, "--confirm"},
		{nil, []string{"--confirm", "writes", "--no-confirmation"}, "--no-confirmation"},
	} {
		stderr, code := runEnv(t, c.env, append([]string{"--sandbox"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.mention) {
			t.Errorf("%v %v: exit %d, want 2 with a message naming %s:\n%s", c.env, c.args, code, c.mention, stderr)
		}
	}
}

// runEnv runs the binary to completion with empty stdin and env added to
// its environment, and returns its stderr and exit status. A server that
// starts reads the end of its input and exits 0.
func runEnv(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := ctxT()
	defer cancel()
	cmd := exec.CommandContext(ctx, serverBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("iam-mcp-server %s did not finish", strings.Join(args, " "))
	}
	if err != nil && cmd.ProcessState.ExitCode() < 0 {
		t.Fatalf("%v: %v", args, err)
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

// TestToolFilters: --tools and --exclude-tools decide what the assistant
// sees (exclusion wins); an excluded operation is unknown to the client
// and refused for every caller.
func TestToolFilters(t *testing.T) {
	t.Parallel()
	s := startWritable(t, "--toolsets", "all", "--tools", "list_*,get_user,delete_*", "--exclude-tools", "delete_user*,list_roles")
	for name := range s.tools {
		keep := (strings.HasPrefix(name, "list_") || name == "get_user" || strings.HasPrefix(name, "delete_")) &&
			!strings.HasPrefix(name, "delete_user") && name != "list_roles"
		if !keep {
			t.Errorf("%s is listed", name)
		}
	}
	for _, want := range []string{"list_users", "get_user", "delete_group", "delete_role"} {
		if s.tools[want] == nil {
			t.Errorf("%s is not listed", want)
		}
	}
	for _, name := range []string{"delete_user", "delete_user_policy", "list_roles", "create_user"} {
		unknownTool(t, s, name, map[string]any{"user_name": "former.employee"})
	}
	if u := ok[api.GetUserOutput](s, "get_user", map[string]any{"user_name": "former.employee"}); u.User.UserName != "former.employee" {
		t.Errorf("get_user: %+v", u.User)
	}
	// The command line passes the same gate: an excluded operation is
	// refused there too, whatever else would allow it.
	stderr, code := runEnv(t, nil, "call", "delete_user", "--args", `{"user_name":"former.employee","force":true}`,
		"--sandbox", "--sandbox-seed", "demo", "--allow-write", "--yes", "--exclude-tools", "delete_user")
	if code != 1 || !strings.HasPrefix(stderr, string(api.Excluded)+": ") {
		t.Errorf("call delete_user --exclude-tools delete_user: exit %d\n%s", code, stderr)
	}
	// A pattern that matches nothing is a typo: the start stops.
	stderr, code = runEnv(t, nil, "--sandbox", "--exclude-tools", "delete_usr")
	if code != 2 || !strings.Contains(stderr, "delete_usr") {
		t.Errorf("--exclude-tools delete_usr: exit %d\n%s", code, stderr)
	}
}

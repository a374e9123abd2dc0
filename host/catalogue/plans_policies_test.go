package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The plans of the managed policy, inline policy and credential
// operations, through the real SDK against the sandbox: Prepare reads and
// changes nothing (no write reaches the sandbox, and the account reads the
// same after it), the plan names each call, what it touches and how to
// undo it, and Apply sends exactly the planned writes, in order.
//
// Names here start with pp (policies' plans), apart from the other plan
// tests of this package.

const (
	ppAcct    = "arn:aws:iam::123456789012:"
	ppListDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
)

// ppCatalogue is a catalogue over a sandbox whose requests are recorded;
// deny names read actions the credentials may not call.
func ppCatalogue(t *testing.T, seed string, opts Options, deny ...string) (*testCatalogue, *recorder) {
	t.Helper()
	sb := newSandbox(t, sandbox.Options{Seed: seed})
	log := &recorder{next: denyActions{sb.Transport(), deny}}
	return catalogueOver(t, sb, log, opts), log
}

// ppDirect is an SDK client of the sandbox that bypasses the catalogue's
// transport: what the test itself reads or sets up is neither recorded
// nor denied.
func ppDirect(t *testing.T, c *testCatalogue) *iam.Client {
	t.Helper()
	clients, err := NewClients(ctx, ClientOptions{Sandbox: c.sandbox.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return clients.IAM
}

// ppState reads the whole account as JSON: every user, group, role and
// customer managed policy with their policies, versions and documents
// (GetAccountAuthorizationDetails), and each user's access keys, console
// password and MFA devices.
func ppState(t *testing.T, c *testCatalogue) string {
	t.Helper()
	cl := ppDirect(t, c)
	var parts []any
	p := iam.NewGetAccountAuthorizationDetailsPaginator(cl, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []types.EntityType{types.EntityTypeUser, types.EntityTypeGroup, types.EntityTypeRole, types.EntityTypeLocalManagedPolicy},
	})
	for p.HasMorePages() {
		o, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, o.UserDetailList, o.GroupDetailList, o.RoleDetailList, o.Policies)
	}
	users, err := allPages(ctx, iam.NewListUsersPaginator(cl, &iam.ListUsersInput{}), func(o *iam.ListUsersOutput) []types.User { return o.Users })
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		keys, err := allPages(ctx, iam.NewListAccessKeysPaginator(cl, &iam.ListAccessKeysInput{UserName: u.UserName}),
			func(o *iam.ListAccessKeysOutput) []types.AccessKeyMetadata { return o.AccessKeyMetadata })
		if err != nil {
			t.Fatal(err)
		}
		lp, err := cl.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: u.UserName})
		var profile any = "none"
		if err == nil {
			profile = lp.LoginProfile
		}
		mfa, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: u.UserName})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, *u.UserName, keys, profile, mfa.MFADevices)
	}
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ppPretty lays a compact document out over several lines, as a person
// might send it; plans show it compact again.
func ppPretty(doc string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(doc), "", "  "); err != nil {
		panic(err)
	}
	return b.String()
}

// ppScene builds the state a case starts from (bypassing the catalogue)
// and returns the values its strings name in braces ({KEY}: a key id).
type ppScene func(t *testing.T, s setup) map[string]string

type ppCase struct {
	name string
	seed string
	opts Options
	deny []string
	// scene sets up the account before the call.
	scene    ppScene
	op, args string

	// The plan: its steps ("iam:Action target"), in order; the entities
	// affected; text its steps' details and its findings hold; whether it
	// can be undone, and text of its undo.
	steps      []string
	affected   []string
	details    []string
	findings   []string
	reversible bool
	undo       string
	// check judges the operation's output after Apply.
	check func(t *testing.T, plan *api.Plan, out any)
}

// ppPrepare sets up a case and prepares its call, checking that Prepare
// wrote nothing and the account reads the same after it.
func ppPrepare(t *testing.T, seed string, opts Options, deny []string, scene ppScene, op, raw string) (*testCatalogue, *recorder, *strings.Replacer, *api.Plan, func(context.Context) (any, error), error) {
	t.Helper()
	c, log := ppCatalogue(t, seed, opts, deny...)
	vars := []string{}
	if scene != nil {
		for k, v := range scene(t, setup{t, ppDirect(t, c)}) {
			vars = append(vars, "{"+k+"}", v)
		}
	}
	r := strings.NewReplacer(vars...)
	o, _ := api.Lookup(op)
	in, aerr := args.Decode(o, json.RawMessage(r.Replace(raw)))
	if aerr != nil {
		t.Fatalf("%s %s: %v", op, raw, aerr)
	}
	before := ppState(t, c)
	log.take()
	plan, apply, err := c.Prepare(ctx, op, in)
	if w := writes(log.take()); len(w) > 0 {
		t.Fatalf("Prepare of %s sent writes: %v", op, w)
	}
	if after := ppState(t, c); after != before {
		t.Fatalf("the account changed during Prepare of %s:\nbefore %s\nafter  %s", op, before, after)
	}
	log.take()
	return c, log, r, plan, apply, err
}

func ppRun(t *testing.T, tc ppCase) {
	t.Helper()
	_, log, r, plan, apply, err := ppPrepare(t, tc.seed, tc.opts, tc.deny, tc.scene, tc.op, tc.args)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if plan.Operation != tc.op || plan.Summary == "" {
		t.Errorf("plan operation %q, summary %q", plan.Operation, plan.Summary)
	}
	var steps, details []string
	for _, s := range plan.Steps {
		steps = append(steps, s.Action+" "+s.Target)
		details = append(details, s.Detail)
	}
	want := func(list []string) []string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = r.Replace(s)
		}
		return out
	}
	if !slices.Equal(steps, want(tc.steps)) {
		t.Errorf("steps %q, want %q", steps, want(tc.steps))
	}
	if !slices.Equal(plan.Affected, want(tc.affected)) {
		t.Errorf("affected %q, want %q", plan.Affected, want(tc.affected))
	}
	for _, d := range want(tc.details) {
		if !strings.Contains(strings.Join(details, "\n"), d) {
			t.Errorf("the details %q do not say %q", details, d)
		}
	}
	if len(tc.findings) == 0 && len(plan.Findings) > 0 {
		t.Errorf("unexpected findings %q", plan.Findings)
	}
	for _, f := range tc.findings {
		if !strings.Contains(strings.Join(plan.Findings, "\n"), f) {
			t.Errorf("the findings %q do not say %q", plan.Findings, f)
		}
	}
	if plan.Reversible != tc.reversible || !strings.Contains(plan.Undo, r.Replace(tc.undo)) {
		t.Errorf("reversible %v, undo %q; want %v, %q", plan.Reversible, plan.Undo, tc.reversible, r.Replace(tc.undo))
	}

	out, err := apply(ctx)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	var planned []string
	for _, s := range plan.Steps {
		planned = append(planned, strings.TrimPrefix(s.Action, "iam:"))
	}
	if got := writes(log.take()); !slices.Equal(got, planned) {
		t.Errorf("Apply sent the writes %v, the plan %v", got, planned)
	}
	if tc.check != nil {
		tc.check(t, plan, out)
	}
}

// ppMessage checks a result's message and that its warnings are the
// plan's findings.
func ppMessage(says string) func(t *testing.T, plan *api.Plan, out any) {
	return func(t *testing.T, plan *api.Plan, out any) {
		t.Helper()
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		var res api.Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(res.Message, says) {
			t.Errorf("result message %q does not say %q", res.Message, says)
		}
		if !slices.Equal(res.Warnings, plan.Findings) {
			t.Errorf("result warnings %q, plan findings %q", res.Warnings, plan.Findings)
		}
	}
}

// Scenes.

func ppUser(name string) ppScene {
	return func(t *testing.T, s setup) map[string]string { s.user(name); return nil }
}

func ppPolicy(name, doc string, more ...func(s setup, arn string)) ppScene {
	return func(t *testing.T, s setup) map[string]string {
		arn := s.managed(name, doc)
		for _, m := range more {
			m(s, arn)
		}
		return map[string]string{"ARN": arn}
	}
}

func ppVersion(doc string, setDefault bool) func(s setup, arn string) {
	return func(s setup, arn string) {
		s.t.Helper()
		s.ok(s.cl.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: setDefault}))
	}
}

func ppAttachedTo(user string) func(s setup, arn string) {
	return func(s setup, arn string) {
		s.user(user)
		s.attach("user "+user, arn)
	}
}

func ppKeys(user string, n int) ppScene {
	return func(t *testing.T, s setup) map[string]string {
		s.user(user)
		vars := map[string]string{}
		for i := 0; i < n; i++ {
			out, err := s.cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
			if err != nil {
				t.Fatal(err)
			}
			vars[[]string{"KEY", "KEY2"}[i]] = *out.AccessKey.AccessKeyId
		}
		return vars
	}
}

func ppPrincipal(kind, name string) func(s setup) {
	return func(s setup) {
		switch kind {
		case "user":
			s.user(name)
		case "role":
			s.role(name)
		default:
			s.group(name)
		}
	}
}

func ppInline(kind, name, policy, doc string) ppScene {
	return func(t *testing.T, s setup) map[string]string {
		ppPrincipal(kind, name)(s)
		if doc != "" {
			s.inline(kind+" "+name, policy, doc)
		}
		return nil
	}
}

const ppPassword = "Correct-Horse-9!x"

func TestPlansManagedPolicies(t *testing.T) {
	for _, tc := range ppManagedCases() {
		t.Run(tc.name, func(t *testing.T) { ppRun(t, tc) })
	}
}

func ppManagedCases() []ppCase {
	arn := ppAcct + "policy/data/ReadS3"
	return []ppCase{
		{name: "create_policy", op: "create_policy",
			args:  `{"policy_name":"ReadS3","path":"/data/","description":"read objects","policy_document":` + ppPretty(readS3Doc) + `}`,
			steps: []string{"iam:CreatePolicy " + arn}, affected: []string{arn},
			details: []string{"version v1", readS3Doc}, reversible: true, undo: "delete_policy " + arn,
			check: func(t *testing.T, plan *api.Plan, out any) {
				ppMessage("created policy "+arn)(t, plan, out)
				if p := out.(*api.PolicyOutput).Policy; p.Arn != arn || p.DefaultVersionID != "v1" {
					t.Errorf("created %+v", p)
				}
			}},
		{name: "create_policy risky allowed", opts: Options{AllowRiskyPolicies: true}, op: "create_policy",
			args:  `{"policy_name":"Everything","policy_document":` + docArg(adminDoc) + `}`,
			steps: []string{"iam:CreatePolicy " + ppAcct + "policy/Everything"}, affected: []string{ppAcct + "policy/Everything"},
			details: []string{adminDoc}, findings: []string{"--allow-risky-policies", "administrator"}, reversible: true, undo: "delete_policy",
			check: ppMessage("created policy")},
		{name: "delete_policy", scene: ppPolicy("Old", readS3Doc), op: "delete_policy", args: `{"policy_arn":"{ARN}"}`,
			steps: []string{"iam:DeletePolicy {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"default version v1", readS3Doc}, undo: "cannot be restored",
			check: func(t *testing.T, plan *api.Plan, out any) {
				ppMessage("deleted policy")(t, plan, out)
				if d := out.(*api.DeleteOutput); d.Deleted != ppAcct+"policy/Old" || d.Steps == nil || len(d.Steps) != 0 {
					t.Errorf("deleted %+v", d)
				}
			}},
		{name: "create_policy_version", scene: ppPolicy("P", readS3Doc), op: "create_policy_version",
			args:  `{"policy_arn":"{ARN}","policy_document":` + ppPretty(ppListDoc) + `}`,
			steps: []string{"iam:CreatePolicyVersion {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"not the default (v1 stays in effect", ppListDoc}, reversible: true, undo: "delete_policy_version {ARN} with the new version's id",
			check: func(t *testing.T, plan *api.Plan, out any) {
				ppMessage("created version v2")(t, plan, out)
				if v := out.(*api.PolicyVersionOutput).Version; v.VersionID != "v2" || v.IsDefaultVersion {
					t.Errorf("version %+v", v)
				}
			}},
		{name: "create_policy_version default", scene: ppPolicy("P", readS3Doc), op: "create_policy_version",
			args:  `{"policy_arn":"{ARN}","policy_document":` + docArg(ppListDoc) + `,"set_as_default":true}`,
			steps: []string{"iam:CreatePolicyVersion {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"the default at once (in place of v1)", ppListDoc}, reversible: true,
			undo:  "set_default_policy_version {ARN} v1, then delete_policy_version {ARN}",
			check: ppMessage("now the default version")},
		{name: "set_default_policy_version", scene: ppPolicy("P", readS3Doc, ppVersion(ppListDoc, false)), op: "set_default_policy_version",
			args:  `{"policy_arn":"{ARN}","version_id":"v2"}`,
			steps: []string{"iam:SetDefaultPolicyVersion {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"v2 in place of v1", ppListDoc}, reversible: true, undo: "set_default_policy_version {ARN} v1",
			check: ppMessage("v2 is now the default version")},
		{name: "set_default_policy_version unchanged", scene: ppPolicy("P", readS3Doc, ppVersion(ppListDoc, false)), op: "set_default_policy_version",
			args:  `{"policy_arn":"{ARN}","version_id":"v1"}`,
			steps: []string{"iam:SetDefaultPolicyVersion {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"v1 is the default already: nothing will change"}, reversible: true, undo: "nothing to undo",
			check: ppMessage("v1 is now the default version")},
		{name: "delete_policy_version", scene: ppPolicy("P", readS3Doc, ppVersion(ppListDoc, true)), op: "delete_policy_version",
			args:  `{"policy_arn":"{ARN}","version_id":"v1"}`,
			steps: []string{"iam:DeletePolicyVersion {ARN} version v1"}, affected: []string{"{ARN} version v1"},
			details: []string{"not the default version", readS3Doc}, undo: "create_policy_version with the document shown",
			check: ppMessage("deleted version v1")},
		{name: "attach_user_policy", scene: ppPolicy("P", readS3Doc, func(s setup, _ string) { s.user("ana") }), op: "attach_user_policy",
			args:  `{"user_name":"ana","policy_arn":"{ARN}"}`,
			steps: []string{"iam:AttachUserPolicy user/ana"}, affected: []string{"user/ana", "{ARN}"},
			details: []string{"grants"}, reversible: true, undo: "detach_user_policy ana {ARN}",
			check: ppMessage("attached")},
		{name: "attach_user_policy again", scene: ppPolicy("P", readS3Doc, ppAttachedTo("ana")), op: "attach_user_policy",
			args:  `{"user_name":"ana","policy_arn":"{ARN}"}`,
			steps: []string{"iam:AttachUserPolicy user/ana"}, affected: []string{"user/ana", "{ARN}"},
			details: []string{"attached already: nothing will change"}, reversible: true, undo: "nothing to undo",
			check: ppMessage("attached")},
		{name: "detach_user_policy", scene: ppPolicy("P", readS3Doc, ppAttachedTo("ana")), op: "detach_user_policy",
			args:  `{"user_name":"ana","policy_arn":"{ARN}"}`,
			steps: []string{"iam:DetachUserPolicy user/ana"}, affected: []string{"user/ana", "{ARN}"},
			details: []string{"loses what the policy grants"}, reversible: true, undo: "attach_user_policy ana {ARN}",
			check: ppMessage("detached")},
		{name: "attach_user_policy risky allowed", opts: Options{AllowRiskyPolicies: true}, scene: ppUser("ana"), op: "attach_user_policy",
			args:  `{"user_name":"ana","policy_arn":"` + adminARN + `"}`,
			steps: []string{"iam:AttachUserPolicy user/ana"}, affected: []string{"user/ana", adminARN},
			findings: []string{"risky for user ana"}, reversible: true, undo: "detach_user_policy ana " + adminARN,
			check: ppMessage("attached")},
	}
}

func TestPlansInlinePolicies(t *testing.T) {
	for _, tc := range ppInlineCases() {
		t.Run(tc.name, func(t *testing.T) { ppRun(t, tc) })
	}
}

func ppInlineCases() []ppCase {
	var cases []ppCase
	for _, k := range []struct{ kind, name, action string }{{"user", "ana", "User"}, {"role", "app", "Role"}, {"group", "devs", "Group"}} {
		target := k.kind + "/" + k.name + "/policy/s3"
		cases = append(cases,
			ppCase{name: "put_" + k.kind + "_policy new", scene: ppInline(k.kind, k.name, "s3", ""), op: "put_" + k.kind + "_policy",
				args:  `{"` + k.kind + `_name":"` + k.name + `","policy_name":"s3","policy_document":` + ppPretty(readS3Doc) + `}`,
				steps: []string{"iam:Put" + k.action + "Policy " + target}, affected: []string{target},
				details: []string{readS3Doc}, reversible: true, undo: "delete_" + k.kind + "_policy " + k.name + " s3",
				check: ppMessage("created inline policy s3")},
			ppCase{name: "put_" + k.kind + "_policy replace", scene: ppInline(k.kind, k.name, "s3", readS3Doc), op: "put_" + k.kind + "_policy",
				args:  `{"` + k.kind + `_name":"` + k.name + `","policy_name":"s3","policy_document":` + docArg(ppListDoc) + `}`,
				steps: []string{"iam:Put" + k.action + "Policy " + target}, affected: []string{target},
				details: []string{ppListDoc}, reversible: true, undo: "put_" + k.kind + "_policy " + k.name + " s3 with the previous document: " + readS3Doc,
				check: ppMessage("replaced inline policy s3")},
			ppCase{name: "put_" + k.kind + "_policy same", scene: ppInline(k.kind, k.name, "s3", readS3Doc), op: "put_" + k.kind + "_policy",
				args:  `{"` + k.kind + `_name":"` + k.name + `","policy_name":"s3","policy_document":` + ppPretty(readS3Doc) + `}`,
				steps: []string{"iam:Put" + k.action + "Policy " + target}, affected: []string{target},
				details: []string{readS3Doc, "nothing will change"}, reversible: true, undo: "nothing to undo",
				check: ppMessage("unchanged")},
			ppCase{name: "delete_" + k.kind + "_policy", scene: ppInline(k.kind, k.name, "s3", readS3Doc), op: "delete_" + k.kind + "_policy",
				args:  `{"` + k.kind + `_name":"` + k.name + `","policy_name":"s3"}`,
				steps: []string{"iam:Delete" + k.action + "Policy " + target}, affected: []string{target},
				details: []string{"the document removed: " + readS3Doc}, reversible: true, undo: "put_" + k.kind + "_policy " + k.name + " s3 with the document removed",
				check: ppMessage("deleted inline policy s3")},
		)
	}
	// A character that would not show as itself (here a right-to-left
	// override, which would reorder the rest of the line on screen) is
	// shown escaped, in the new document and in the one it replaces.
	hidden := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"ana` + "\u202e" + `*:3s"}}}]}`
	shown := strings.ReplaceAll(hidden, "\u202e", `\u202e`)
	noHidden := func(t *testing.T, plan *api.Plan, out any) {
		t.Helper()
		if b, _ := json.Marshal(plan); strings.Contains(string(b), "\u202e") {
			t.Errorf("the plan holds a raw U+202E: %s", b)
		}
	}
	cases = append(cases,
		ppCase{name: "put_user_policy hidden characters", scene: ppInline("user", "ana", "", ""), op: "put_user_policy",
			args:  `{"user_name":"ana","policy_name":"s3","policy_document":` + hidden + `}`,
			steps: []string{"iam:PutUserPolicy user/ana/policy/s3"}, affected: []string{"user/ana/policy/s3"},
			details: []string{shown}, reversible: true, undo: "delete_user_policy ana s3", check: noHidden},
		ppCase{name: "put_user_policy replacing hidden characters", scene: ppInline("user", "ana", "s3", hidden), op: "put_user_policy",
			args:  `{"user_name":"ana","policy_name":"s3","policy_document":` + readS3Doc + `}`,
			steps: []string{"iam:PutUserPolicy user/ana/policy/s3"}, affected: []string{"user/ana/policy/s3"},
			details: []string{readS3Doc}, reversible: true, undo: "with the previous document: " + shown, check: noHidden})
	cases = append(cases, ppCase{name: "put_role_policy risky allowed", opts: Options{AllowRiskyPolicies: true}, scene: ppInline("role", "app", "", ""),
		op: "put_role_policy", args: `{"role_name":"app","policy_name":"all","policy_document":` + adminDoc + `}`,
		steps: []string{"iam:PutRolePolicy role/app/policy/all"}, affected: []string{"role/app/policy/all"},
		details: []string{adminDoc}, findings: []string{"--allow-risky-policies", "role app"}, reversible: true, undo: "delete_role_policy app all",
		check: ppMessage("created inline policy all")})
	return cases
}

func TestPlansCredentials(t *testing.T) {
	for _, tc := range ppCredentialCases() {
		t.Run(tc.name, func(t *testing.T) { ppRun(t, tc) })
	}
}

// TestPlansCoverEveryOperation: every mutating operation of policies.go,
// inline.go and credentials.go has a planner and a plan test above.
func TestPlansCoverEveryOperation(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range slices.Concat(ppManagedCases(), ppInlineCases(), ppCredentialCases()) {
		covered[tc.op] = true
	}
	for _, op := range []string{
		"create_policy", "delete_policy", "create_policy_version", "set_default_policy_version", "delete_policy_version",
		"attach_user_policy", "detach_user_policy",
		"put_user_policy", "delete_user_policy", "put_role_policy", "delete_role_policy", "put_group_policy", "delete_group_policy",
		"create_access_key", "delete_access_key", "update_access_key", "create_login_profile", "delete_login_profile", "deactivate_mfa_device",
	} {
		if im, ok := registry[op]; !ok || im.prepare == nil {
			t.Errorf("%s has no planner", op)
		}
		if !covered[op] {
			t.Errorf("%s has no plan test", op)
		}
	}
}

func ppCredentialCases() []ppCase {
	const serial = "arn:aws:iam::123456789012:mfa/bob.martin"
	withProfile := func(t *testing.T, s setup) map[string]string {
		s.user("ana")
		s.ok(s.cl.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ana"), Password: aws.String(ppPassword)}))
		return nil
	}
	noPassword := func(t *testing.T, plan *api.Plan, out any) {
		t.Helper()
		b, _ := json.Marshal(plan)
		if strings.Contains(string(b), ppPassword) {
			t.Errorf("the plan holds the password: %s", b)
		}
	}
	return []ppCase{
		{name: "create_access_key", scene: ppUser("ana"), op: "create_access_key", args: `{"user_name":"ana"}`,
			steps: []string{"iam:CreateAccessKey user/ana"}, affected: []string{"user/ana/access-key/(new)"},
			details: []string{"secrets directory", "deleted again"}, reversible: true, undo: "delete_access_key ana with the new key's id",
			check: func(t *testing.T, plan *api.Plan, out any) {
				ppMessage("created access key")(t, plan, out)
				if o := out.(*api.CreateAccessKeyOutput); o.SecretFile == "" || o.SecretAccessKey != "" {
					t.Errorf("output %+v", o)
				}
			}},
		{name: "create_access_key returned", opts: Options{ReturnSecrets: true}, scene: ppUser("ana"), op: "create_access_key", args: `{"user_name":"ana"}`,
			steps: []string{"iam:CreateAccessKey user/ana"}, affected: []string{"user/ana/access-key/(new)"},
			details: []string{"in the result, once"}, reversible: true, undo: "delete_access_key ana",
			check: func(t *testing.T, plan *api.Plan, out any) {
				o := out.(*api.CreateAccessKeyOutput)
				b, _ := json.Marshal(plan)
				if len(o.SecretAccessKey) != 40 || strings.Contains(string(b), o.SecretAccessKey) {
					t.Errorf("secret of %d characters; plan %s", len(o.SecretAccessKey), b)
				}
			}},
		{name: "delete_access_key", scene: ppKeys("ana", 1), op: "delete_access_key", args: `{"user_name":"ana","access_key_id":"{KEY}"}`,
			steps: []string{"iam:DeleteAccessKey user/ana/access-key/{KEY}"}, affected: []string{"user/ana/access-key/{KEY}"},
			details: []string{"status Active", "never used", "fails from then on"}, undo: "the secret is gone for good; a new key has a new id",
			check: ppMessage("deleted access key")},
		{name: "update_access_key", scene: ppKeys("ana", 1), op: "update_access_key", args: `{"user_name":"ana","access_key_id":"{KEY}","status":"Inactive"}`,
			steps: []string{"iam:UpdateAccessKey user/ana/access-key/{KEY}"}, affected: []string{"user/ana/access-key/{KEY}"},
			details: []string{"status Active", "fails at once"}, reversible: true, undo: "update_access_key ana {KEY} status Active",
			check: ppMessage("stops working")},
		{name: "update_access_key unchanged", scene: ppKeys("ana", 1), op: "update_access_key", args: `{"user_name":"ana","access_key_id":"{KEY}","status":"Active"}`,
			steps: []string{"iam:UpdateAccessKey user/ana/access-key/{KEY}"}, affected: []string{"user/ana/access-key/{KEY}"},
			details: []string{"Active already, so nothing will change"}, reversible: true, undo: "nothing to undo",
			check: ppMessage("works again")},
		{name: "create_login_profile", scene: ppUser("ana"), op: "create_login_profile",
			args:  `{"user_name":"ana","password":"` + ppPassword + `","password_reset_required":true}`,
			steps: []string{"iam:CreateLoginProfile user/ana/login-profile"}, affected: []string{"user/ana/login-profile"},
			details: []string{"not shown", "must choose a new password"}, reversible: true, undo: "delete_login_profile ana",
			check: func(t *testing.T, plan *api.Plan, out any) {
				noPassword(t, plan, out)
				ppMessage("console password")(t, plan, out)
			}},
		{name: "create_login_profile no reset", scene: ppUser("ana"), op: "create_login_profile",
			args:  `{"user_name":"ana","password":"` + ppPassword + `"}`,
			steps: []string{"iam:CreateLoginProfile user/ana/login-profile"}, affected: []string{"user/ana/login-profile"},
			details: []string{"need not change it"}, findings: []string{"password_reset_required=true"}, reversible: true, undo: "delete_login_profile ana",
			check: func(t *testing.T, plan *api.Plan, out any) {
				noPassword(t, plan, out)
				ppMessage("console password")(t, plan, out)
			}},
		{name: "delete_login_profile", scene: withProfile, op: "delete_login_profile", args: `{"user_name":"ana"}`,
			steps: []string{"iam:DeleteLoginProfile user/ana/login-profile"}, affected: []string{"user/ana/login-profile"},
			details: []string{"can no longer sign in"}, undo: "the password is gone",
			check: ppMessage("removed the console password")},
		{name: "deactivate_mfa_device", seed: "demo", op: "deactivate_mfa_device", args: `{"user_name":"bob.martin","serial_number":"` + serial + `"}`,
			steps: []string{"iam:DeactivateMFADevice " + serial}, affected: []string{serial},
			details: []string{"enabled 20", "without MFA"}, undo: "two consecutive codes",
			check: ppMessage("deactivated MFA device")},
	}
}

// TestPlansLeastPrivilege: the reads a plan adds for its own precision are
// not needed for the change. Credentials without them (the server's
// policy lists the writes) still plan and make it; the plan says what it
// could not read, and the write is still exactly the planned one.
func TestPlansLeastPrivilege(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/bob.martin"
	cases := []ppCase{
		{name: "detach_user_policy", deny: []string{"ListAttachedUserPolicies"}, scene: ppPolicy("P", readS3Doc, ppAttachedTo("ana")),
			op: "detach_user_policy", args: `{"user_name":"ana","policy_arn":"{ARN}"}`,
			steps: []string{"iam:DetachUserPolicy user/ana"}, affected: []string{"user/ana", "{ARN}"},
			details: []string{"could not read the policies attached to the user"}, reversible: true, undo: "attach_user_policy ana {ARN}",
			check: ppMessage("detached")},
		{name: "attach_user_policy", deny: []string{"ListAttachedUserPolicies"}, scene: ppPolicy("P", readS3Doc, func(s setup, _ string) { s.user("ana") }),
			op: "attach_user_policy", args: `{"user_name":"ana","policy_arn":"{ARN}"}`,
			steps: []string{"iam:AttachUserPolicy user/ana"}, affected: []string{"user/ana", "{ARN}"},
			details: []string{"could not read the policies attached"}, reversible: true, undo: "unless it was attached before",
			check: ppMessage("attached")},
		{name: "delete_policy", deny: []string{"GetPolicy"}, scene: ppPolicy("Old", readS3Doc), op: "delete_policy", args: `{"policy_arn":"{ARN}"}`,
			steps: []string{"iam:DeletePolicy {ARN}"}, affected: []string{"{ARN}"},
			details: []string{"could not read the policy"}, undo: "cannot be restored",
			check: ppMessage("deleted policy")},
		{name: "delete_policy_version", deny: []string{"GetPolicy", "GetPolicyVersion"}, scene: ppPolicy("P", readS3Doc, ppVersion(ppListDoc, true)),
			op: "delete_policy_version", args: `{"policy_arn":"{ARN}","version_id":"v1"}`,
			steps: []string{"iam:DeletePolicyVersion {ARN} version v1"}, affected: []string{"{ARN} version v1"},
			details: []string{"could not read the policy's default version", "could not read the version's document"}, undo: "cannot be restored",
			check: ppMessage("deleted version v1")},
		{name: "put_user_policy", deny: []string{"GetUser"}, scene: ppUser("ana"), op: "put_user_policy",
			args:  `{"user_name":"ana","policy_name":"s3","policy_document":` + readS3Doc + `}`,
			steps: []string{"iam:PutUserPolicy user/ana/policy/s3"}, affected: []string{"user/ana/policy/s3"},
			details: []string{"could not read user ana", readS3Doc}, reversible: true, undo: "delete_user_policy ana s3",
			check: ppMessage("created inline policy")},
		{name: "create_access_key", deny: []string{"ListAccessKeys"}, scene: ppUser("ana"), op: "create_access_key", args: `{"user_name":"ana"}`,
			steps: []string{"iam:CreateAccessKey user/ana"}, affected: []string{"user/ana/access-key/(new)"},
			details: []string{"could not read the user's access keys"}, reversible: true, undo: "delete_access_key ana",
			check: ppMessage("created access key")},
		{name: "delete_access_key", deny: []string{"ListAccessKeys", "GetAccessKeyLastUsed"}, scene: ppKeys("ana", 1), op: "delete_access_key",
			args:  `{"user_name":"ana","access_key_id":"{KEY}"}`,
			steps: []string{"iam:DeleteAccessKey user/ana/access-key/{KEY}"}, affected: []string{"user/ana/access-key/{KEY}"},
			details: []string{"status is unknown", "could not read the access keys of user ana"}, undo: "the secret is gone for good",
			check: ppMessage("deleted access key")},
		{name: "update_access_key", deny: []string{"ListAccessKeys"}, scene: ppKeys("ana", 1), op: "update_access_key",
			args:  `{"user_name":"ana","access_key_id":"{KEY}","status":"Inactive"}`,
			steps: []string{"iam:UpdateAccessKey user/ana/access-key/{KEY}"}, affected: []string{"user/ana/access-key/{KEY}"},
			details: []string{"could not read the access keys"}, reversible: true, undo: "with the status it had",
			check: ppMessage("stops working")},
		{name: "create_login_profile", deny: []string{"GetUser", "GetLoginProfile"}, scene: ppUser("ana"), op: "create_login_profile",
			args:  `{"user_name":"ana","password":"` + ppPassword + `","password_reset_required":true}`,
			steps: []string{"iam:CreateLoginProfile user/ana/login-profile"}, affected: []string{"user/ana/login-profile"},
			details: []string{"could not read user ana"}, reversible: true, undo: "delete_login_profile ana",
			check: ppMessage("console password")},
		{name: "delete_login_profile", deny: []string{"GetLoginProfile"}, scene: func(t *testing.T, s setup) map[string]string {
			s.user("ana")
			s.ok(s.cl.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ana"), Password: aws.String(ppPassword)}))
			return nil
		}, op: "delete_login_profile", args: `{"user_name":"ana"}`,
			steps: []string{"iam:DeleteLoginProfile user/ana/login-profile"}, affected: []string{"user/ana/login-profile"},
			details: []string{"could not read the console password's settings"}, undo: "the password is gone",
			check: ppMessage("removed the console password")},
		{name: "deactivate_mfa_device", seed: "demo", deny: []string{"ListMFADevices"}, op: "deactivate_mfa_device",
			args:  `{"user_name":"bob.martin","serial_number":"` + serial + `"}`,
			steps: []string{"iam:DeactivateMFADevice " + serial}, affected: []string{serial},
			details: []string{"could not read the user's MFA devices"}, undo: "two consecutive codes",
			check: ppMessage("deactivated")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { ppRun(t, tc) })
	}
}

// TestPlansRefused: what IAM or a guardrail would refuse is refused at
// plan time, with IAM's code and a message that says what to do; nothing
// is written and the account is unchanged (ppPrepare checks both).
func TestPlansRefused(t *testing.T) {
	const serial = "arn:aws:iam::123456789012:mfa/bob.martin"
	fenced := func(t *testing.T, s setup) map[string]string {
		s.user("fay")
		s.attach("user fay", adminARN)
		s.inline("user fay", "fence", denyIAMDoc)
		return nil
	}
	cases := []struct {
		name     string
		seed     string
		scene    ppScene
		op, args string
		code     api.ErrorCode
		says     []string
	}{
		{"delete_policy in use", "", ppPolicy("P", readS3Doc, ppVersion(ppListDoc, true), ppAttachedTo("ana")), "delete_policy", `{"policy_arn":"{ARN}"}`,
			api.DeleteConflict, []string{"would refuse", "attached to 1", "non-default versions v1", "delete_policy_version", "nothing was changed"}},
		{"delete_policy missing", "", nil, "delete_policy", `{"policy_arn":"` + ppAcct + `policy/Nope"}`, api.NoSuchEntity, nil},
		{"delete_policy AWS", "", nil, "delete_policy", `{"policy_arn":"` + adminARN + `"}`, api.AccessDenied, []string{"AWS managed policy", "nothing was changed", "create_policy"}},
		{"create_policy_version AWS", "", nil, "create_policy_version", `{"policy_arn":"` + adminARN + `","policy_document":` + readS3Doc + `}`, api.AccessDenied, []string{"AWS managed policy"}},
		{"set_default_policy_version AWS", "", nil, "set_default_policy_version", `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","version_id":"v1"}`, api.AccessDenied, []string{"AWS managed policy"}},
		{"delete_policy_version AWS", "", nil, "delete_policy_version", `{"policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess","version_id":"v1"}`, api.AccessDenied, []string{"AWS managed policy"}},
		{"create_policy_version limit", "", ppPolicy("P", readS3Doc, ppVersion(ppListDoc, false), ppVersion(ppListDoc, false), ppVersion(ppListDoc, false), ppVersion(ppListDoc, false)),
			"create_policy_version", `{"policy_arn":"{ARN}","policy_document":` + readS3Doc + `}`, api.LimitExceeded, []string{"5 versions", "v2 (created", "nothing was created"}},
		{"create_policy_version missing", "", nil, "create_policy_version", `{"policy_arn":"` + ppAcct + `policy/Nope","policy_document":` + readS3Doc + `}`, api.NoSuchEntity, nil},
		{"set_default_policy_version missing", "", ppPolicy("P", readS3Doc), "set_default_policy_version", `{"policy_arn":"{ARN}","version_id":"v9"}`, api.NoSuchEntity, nil},
		{"delete_policy_version default", "", ppPolicy("P", readS3Doc), "delete_policy_version", `{"policy_arn":"{ARN}","version_id":"v1"}`, api.DeleteConflict, []string{"default version", "set_default_policy_version"}},
		{"delete_policy_version missing", "", ppPolicy("P", readS3Doc), "delete_policy_version", `{"policy_arn":"{ARN}","version_id":"v7"}`, api.NoSuchEntity, nil},
		{"attach_user_policy no user", "", ppPolicy("P", readS3Doc), "attach_user_policy", `{"user_name":"nobody","policy_arn":"{ARN}"}`, api.NoSuchEntity, nil},
		{"attach_user_policy no policy", "", ppUser("ana"), "attach_user_policy", `{"user_name":"ana","policy_arn":"` + ppAcct + `policy/Nope"}`, api.NoSuchEntity, nil},
		{"attach_user_policy risky", "", ppUser("ana"), "attach_user_policy", `{"user_name":"ana","policy_arn":"` + adminARN + `"}`, api.RiskyPolicy, []string{"--allow-risky-policies"}},
		{"detach_user_policy not attached", "", ppPolicy("P", readS3Doc, func(s setup, _ string) { s.user("ana") }), "detach_user_policy", `{"user_name":"ana","policy_arn":"{ARN}"}`,
			api.NoSuchEntity, []string{"not attached to user ana", "list_attached_user_policies"}},
		{"detach_user_policy no user", "", ppPolicy("P", readS3Doc), "detach_user_policy", `{"user_name":"nobody","policy_arn":"{ARN}"}`, api.NoSuchEntity, nil},
		{"create_policy risky", "", nil, "create_policy", `{"policy_name":"All","policy_document":` + adminDoc + `}`, api.RiskyPolicy, []string{"Nothing was written"}},
		{"put_user_policy risky", "", ppUser("ana"), "put_user_policy", `{"user_name":"ana","policy_name":"all","policy_document":` + adminDoc + `}`, api.RiskyPolicy, nil},
		{"put_user_policy malformed", "", ppUser("ana"), "put_user_policy", `{"user_name":"ana","policy_name":"x","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}}`, api.MalformedPolicyDocument, nil},
		{"delete_user_policy takes a Deny away", "", fenced, "delete_user_policy", `{"user_name":"fay","policy_name":"fence"}`, api.RiskyPolicy, []string{"Deny"}},
		// Over IAM's fixed quotas on their own: refused before anyone is
		// asked, which also bounds a plan that shows the document.
		{"put_user_policy too big", "", ppUser("ana"), "put_user_policy", `{"user_name":"ana","policy_name":"big","policy_document":` + bigDocument(2100) + `}`, api.LimitExceeded, []string{"2048", "create_policy"}},
		{"put_role_policy too big", "", ppInline("role", "app", "", ""), "put_role_policy", `{"role_name":"app","policy_name":"big","policy_document":` + bigDocument(10300) + `}`, api.LimitExceeded, []string{"10240"}},
		{"create_policy too big", "", nil, "create_policy", `{"policy_name":"Big","policy_document":` + bigDocument(6200) + `}`, api.LimitExceeded, []string{"6144"}},
		{"create_policy_version too big", "", ppPolicy("P", readS3Doc), "create_policy_version", `{"policy_arn":"{ARN}","policy_document":` + docArg(bigDocument(6200)) + `}`, api.LimitExceeded, []string{"6144"}},
		{"put_user_policy no user", "", nil, "put_user_policy", `{"user_name":"nobody","policy_name":"s3","policy_document":` + readS3Doc + `}`, api.NoSuchEntity, nil},
		{"put_role_policy no role", "", nil, "put_role_policy", `{"role_name":"nobody","policy_name":"s3","policy_document":` + readS3Doc + `}`, api.NoSuchEntity, nil},
		{"put_group_policy no group", "", nil, "put_group_policy", `{"group_name":"nobody","policy_name":"s3","policy_document":` + readS3Doc + `}`, api.NoSuchEntity, nil},
		{"delete_role_policy missing", "", ppInline("role", "app", "", ""), "delete_role_policy", `{"role_name":"app","policy_name":"s3"}`, api.NoSuchEntity, []string{"list_role_policies"}},
		{"create_access_key quota", "", ppKeys("ana", 2), "create_access_key", `{"user_name":"ana"}`, api.LimitExceeded, []string{"already has 2 access keys", "{KEY}", "{KEY2}", "delete_access_key"}},
		{"create_access_key no user", "", nil, "create_access_key", `{"user_name":"nobody"}`, api.NoSuchEntity, nil},
		{"delete_access_key unknown", "", ppKeys("ana", 1), "delete_access_key", `{"user_name":"ana","access_key_id":"AKIAIOSFODNN7NOSUCH"}`, api.NoSuchEntity, []string{"no access key", "list_access_keys"}},
		{"delete_access_key another's", "", func(t *testing.T, s setup) map[string]string {
			v := ppKeys("ana", 1)(t, s)
			s.user("bo")
			return v
		}, "delete_access_key", `{"user_name":"bo","access_key_id":"{KEY}"}`, api.NoSuchEntity, []string{"user bo has no access key"}},
		{"update_access_key unknown", "", ppKeys("ana", 1), "update_access_key", `{"user_name":"ana","access_key_id":"AKIAIOSFODNN7NOSUCH","status":"Inactive"}`, api.NoSuchEntity, nil},
		{"create_login_profile exists", "", func(t *testing.T, s setup) map[string]string {
			s.user("ana")
			s.ok(s.cl.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ana"), Password: aws.String("Other-Passw0rd!")}))
			return nil
		}, "create_login_profile", `{"user_name":"ana","password":"` + ppPassword + `"}`, api.EntityAlreadyExists, []string{"delete_login_profile"}},
		{"create_login_profile no user", "", nil, "create_login_profile", `{"user_name":"nobody","password":"` + ppPassword + `"}`, api.NoSuchEntity, nil},
		{"delete_login_profile none", "", ppUser("ana"), "delete_login_profile", `{"user_name":"ana"}`, api.NoSuchEntity, []string{"no console password"}},
		{"deactivate_mfa_device another's", "demo", nil, "deactivate_mfa_device", `{"user_name":"alice.nguyen","serial_number":"` + serial + `"}`, api.NoSuchEntity, []string{"has no MFA device", "list_mfa_devices"}},
		{"deactivate_mfa_device no user", "demo", nil, "deactivate_mfa_device", `{"user_name":"nobody","serial_number":"` + serial + `"}`, api.NoSuchEntity, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, r, plan, _, err := ppPrepare(t, tc.seed, Options{}, nil, tc.scene, tc.op, tc.args)
			var ae *api.Error
			if !errors.As(err, &ae) || ae.Code != tc.code {
				t.Fatalf("Prepare: plan %+v, error %v; want %s", plan, err, tc.code)
			}
			for _, w := range tc.says {
				if !strings.Contains(ae.Message, r.Replace(w)) {
					t.Errorf("%q does not say %q", ae.Message, r.Replace(w))
				}
			}
			if strings.Contains(ae.Message, ppPassword) {
				t.Errorf("the refusal repeats the password: %s", ae.Message)
			}
		})
	}
}

// TestPlansChangedMeanwhile: the state may change between the plan and
// its approval. Apply still makes only the planned call, and IAM's refusal
// is explained as before the plans existed.
func TestPlansChangedMeanwhile(t *testing.T) {
	t.Run("delete_policy attached since", func(t *testing.T) {
		c, log, r, _, apply, err := ppPrepare(t, "", Options{}, nil, ppPolicy("P", readS3Doc), "delete_policy", `{"policy_arn":"{ARN}"}`)
		if err != nil {
			t.Fatal(err)
		}
		s := setup{t, ppDirect(t, c)}
		s.user("ana")
		s.attach("user ana", r.Replace("{ARN}"))
		log.take()
		_, err = apply(ctx)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.DeleteConflict || !strings.Contains(ae.Message, "IAM refused") || !strings.Contains(ae.Message, "attached to 1") {
			t.Fatalf("apply: %v", err)
		}
		if w := writes(log.take()); !slices.Equal(w, []string{"DeletePolicy"}) {
			t.Fatalf("writes %v", w)
		}
	})
	t.Run("delete_policy_version made the default since", func(t *testing.T) {
		c, _, r, _, apply, err := ppPrepare(t, "", Options{}, nil, ppPolicy("P", readS3Doc, ppVersion(ppListDoc, true)), "delete_policy_version", `{"policy_arn":"{ARN}","version_id":"v1"}`)
		if err != nil {
			t.Fatal(err)
		}
		s := setup{t, ppDirect(t, c)}
		s.ok(s.cl.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(r.Replace("{ARN}")), VersionId: aws.String("v1")}))
		var ae *api.Error
		if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.DeleteConflict || !strings.Contains(ae.Message, "never deletes the default version") {
			t.Fatalf("apply: %v", err)
		}
	})
	t.Run("put_user_policy user gone", func(t *testing.T) {
		c, _, _, _, apply, err := ppPrepare(t, "", Options{}, nil, ppUser("ana"), "put_user_policy", `{"user_name":"ana","policy_name":"s3","policy_document":`+readS3Doc+`}`)
		if err != nil {
			t.Fatal(err)
		}
		newSetup(t, c).ok(c.clients.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ana")}))
		var ae *api.Error
		if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.NoSuchEntity {
			t.Fatalf("apply: %v", err)
		}
	})
}

// TestShownDocument: a plan shows the very document that is sent, only
// without whitespace: a duplicate key, which a re-encoding would drop,
// stays for the person to see.
func TestShownDocument(t *testing.T) {
	for in, want := range map[string]string{
		ppPretty(readS3Doc): readS3Doc,
		`{"Statement":[{"Effect":"Deny","Effect":"Allow"}]}`: `{"Statement":[{"Effect":"Deny","Effect":"Allow"}]}`,
		"{\"Sid\" : \"a b\\u0020\",\n \"x\":[1 , 2]}":        `{"Sid":"a b\u0020","x":[1,2]}`,
		`not json`: `"not json"`,
		// What a screen would not show as itself is escaped, the value kept.
		"{\"Sid\":\"a\u202eb\u200bc\u2028d\x7fe\"}": `{"Sid":"a\u202eb\u200bc\u2028d\u007fe"}`,
		"{\"Sid\":\"caf\u00e9 \U0001F600 \u4e2d\"}": "{\"Sid\":\"caf\u00e9 \U0001F600 \u4e2d\"}",
		"{\"Sid\":\"\xff\"}":                        `{"Sid":"\ufffd"}`,
		"{\"Sid\":\"\U000E0041\"}":                  `{"Sid":"\udb40\udc41"}`,
		"not\x1b[2Jjson\u202e":                      `"not\u001b[2Jjson\u202e"`,
	} {
		if got := shownDocument(api.PolicyDocument(in)); got != want {
			t.Errorf("shownDocument(%q) = %q, want %q", in, got, want)
		}
	}
}

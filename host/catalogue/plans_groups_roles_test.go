package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The planners of groups, roles, instance profiles and tags, checked
// against the embedded sandbox through the real SDK: a plan changes
// nothing (the sandbox's state file, full reads of the entities, and the
// IAM actions sent all say so), says exactly which calls Apply makes, and
// Apply makes those and no others.

// planEnv is a catalogue over a sandbox that persists its state to a file
// (rewritten after every successful change) and a recorder of calls.
type planEnv struct {
	*testCatalogue
	rec   *recorder
	state string
}

func newPlanEnv(t testing.TB, opts Options) *planEnv {
	t.Helper()
	return newPlanEnvState(t, opts, true)
}

// newPlanEnvState is newPlanEnv with or without the state file: a test
// that builds large scenes does without (each change rewrites the file).
func newPlanEnvState(t testing.TB, opts Options, persist bool) *planEnv {
	t.Helper()
	state := ""
	if persist {
		state = filepath.Join(t.TempDir(), "state.json")
	}
	sb := newSandbox(t, sandbox.Options{StateFile: state})
	rec := &recorder{next: sb.Transport()}
	return &planEnv{testCatalogue: catalogueOver(t, sb, rec, opts), rec: rec, state: state}
}

// prepare decodes raw as the gate does and plans op.
func (e *planEnv) prepare(t testing.TB, op, raw string) (*api.Plan, func(context.Context) (any, error), error) {
	t.Helper()
	o, ok := api.Lookup(op)
	if !ok {
		t.Fatalf("no operation %s", op)
	}
	in, err := args.Decode(o, json.RawMessage(raw))
	if err != nil {
		t.Fatalf("%s %s: %v", op, raw, err)
	}
	return e.Prepare(ctx, op, in)
}

// planScene is the state every case starts from.
//
//	users ana (tags team=platform, owner=ana) and ben
//	group eng (path /eng/): member ana, ReadOnlyAccess, inline "logs"
//	group other: empty
//	role app: ec2 trust, boundary PowerUserAccess, description, 7200 s,
//	  ReadOnlyAccess, inline "bucket", in instance profile app-profile
//	role bare: nothing; instance profile spare: empty
func planScene(t testing.TB, e *planEnv) {
	t.Helper()
	for _, step := range [][2]string{
		{"create_user", `{"user_name":"ana"}`},
		{"create_user", `{"user_name":"ben"}`},
		{"tag_user", `{"user_name":"ana","tags":{"team":"platform","owner":"ana"}}`},
		{"create_group", `{"group_name":"eng","path":"/eng/"}`},
		{"create_group", `{"group_name":"other"}`},
		{"add_user_to_group", `{"group_name":"eng","user_name":"ana"}`},
		{"attach_group_policy", `{"group_name":"eng","policy_arn":"` + readOnlyARN + `"}`},
		{"put_group_policy", `{"group_name":"eng","policy_name":"logs","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:GetLogEvents","Resource":"*"}]}}`},
		{"create_role", `{"role_name":"app","assume_role_policy_document":` + ec2TrustDoc + `,"description":"application servers","max_session_duration":7200,"permissions_boundary":"` + roleBoundaryARN + `"}`},
		{"create_role", `{"role_name":"bare","assume_role_policy_document":` + ec2TrustDoc + `}`},
		{"attach_role_policy", `{"role_name":"app","policy_arn":"` + readOnlyARN + `"}`},
		{"put_role_policy", `{"role_name":"app","policy_name":"bucket","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}}`},
		{"create_instance_profile", `{"instance_profile_name":"app-profile"}`},
		{"add_role_to_instance_profile", `{"instance_profile_name":"app-profile","role_name":"app"}`},
		{"create_instance_profile", `{"instance_profile_name":"spare"}`},
	} {
		if _, err := e.Call(ctx, step[0], json.RawMessage(step[1])); err != nil {
			t.Fatalf("scene: %s %s: %v", step[0], step[1], err)
		}
	}
}

// sceneReads is a full read of every entity the cases touch or create,
// errors included (an entity created by mistake shows as a change).
var sceneReads = [][2]string{
	{"get_group", `{"group_name":"eng"}`}, {"get_group", `{"group_name":"other"}`}, {"get_group", `{"group_name":"ops"}`},
	{"get_role", `{"role_name":"app"}`}, {"get_role", `{"role_name":"bare"}`}, {"get_role", `{"role_name":"new"}`},
	{"get_user", `{"user_name":"ana"}`}, {"get_user", `{"user_name":"ben"}`},
	{"list_user_tags", `{"user_name":"ana"}`},
	{"list_instance_profiles_for_role", `{"role_name":"app"}`}, {"list_instance_profiles_for_role", `{"role_name":"bare"}`},
	{"get_managed_policy_document", `{"policy_arn":"` + readOnlyARN + `"}`},
}

// readAll reads the state as the catalogue shows it, and the sandbox's
// state file byte for byte.
func (e *planEnv) readAll(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range sceneReads {
		out, err := e.Call(ctx, r[0], json.RawMessage(r[1]))
		j, _ := json.Marshal(out)
		fmt.Fprintf(&b, "%s %s -> %s %v\n", r[0], r[1], j, err)
	}
	// The instance profiles themselves (spare holds no role, so no read
	// above shows it).
	for _, p := range []string{"app-profile", "spare", "p2"} {
		out, err := e.clients.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(p)})
		if err == nil {
			fmt.Fprintf(&b, "profile %s -> %v\n", p, instanceProfileOf(out.InstanceProfile))
		} else {
			fmt.Fprintf(&b, "profile %s -> %v\n", p, asAPIError(err).Code)
		}
	}
	if e.state != "" {
		file, err := os.ReadFile(e.state)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(file)
	}
	return b.String()
}

// stepsOf renders a plan's steps as "Action target".
func stepsOf(p *api.Plan) []string {
	out := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		out[i] = strings.TrimPrefix(s.Action, "iam:") + " " + s.Target
	}
	return out
}

func details(p *api.Plan) string {
	var d []string
	for _, s := range p.Steps {
		d = append(d, s.Detail)
	}
	return strings.Join(d, "\n")
}

const (
	ec2TrustCompact      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	sameAcctTrustIndent  = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"}, \"Action\": \"sts:AssumeRole\"}\n  ]\n}"
	sameAcctTrustCompact = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
)

// TestPlansGroupsRoles: for every mutating operation of groups, roles,
// instance profiles and tags, on the same scene: Prepare changes nothing
// and plans the right calls, entities and undo; Apply makes exactly the
// planned calls and returns what the operation always returned.
func TestPlansGroupsRoles(t *testing.T) {
	cases := []struct {
		name, op, args string
		steps          []string
		affected       []string
		reversible     bool
		undo           []string // substrings of Undo
		detail         []string // substrings of the steps' details
		summary        string   // substring of Summary
		findings       []string // substrings, one finding each
		check          func(t *testing.T, e *planEnv, out any)
	}{
		{name: "create group", op: "create_group", args: `{"group_name":"ops","path":"/ops/"}`,
			steps: []string{"CreateGroup group/ops"}, affected: []string{"group/ops"}, reversible: true, undo: []string{"delete_group ops"}, detail: []string{"under the path /ops/"},
			check: func(t *testing.T, e *planEnv, out any) {
				if g := out.(*api.GroupOutput); g.Group.Arn != "arn:aws:iam::123456789012:group/ops/ops" || !strings.Contains(g.Message, "created group ops") {
					t.Errorf("result %+v", g)
				}
			}},
		{name: "delete empty group", op: "delete_group", args: `{"group_name":"other"}`,
			steps: []string{"DeleteGroup group/other"}, affected: []string{"group/other"}, undo: []string{"cannot be restored"},
			check: func(t *testing.T, e *planEnv, out any) {
				if d := out.(*api.DeleteOutput); d.Deleted != "other" || len(d.Steps) != 0 {
					t.Errorf("result %+v", d)
				}
			}},
		{name: "force delete group", op: "delete_group", args: `{"group_name":"eng","force":true}`,
			steps:    []string{"RemoveUserFromGroup user/ana", "DetachGroupPolicy " + readOnlyARN, "DeleteGroupPolicy group/eng/policy/logs", "DeleteGroup group/eng"},
			affected: []string{"user/ana", readOnlyARN, "group/eng/policy/logs", "group/eng"}, undo: []string{"cannot be restored"},
			summary: "after removing its 1 member, 1 attached policy, 1 inline policy",
			check: func(t *testing.T, e *planEnv, out any) {
				d := out.(*api.DeleteOutput)
				want := []api.DeleteStep{{Action: "RemoveUserFromGroup", Target: "user/ana"}, {Action: "DetachGroupPolicy", Target: readOnlyARN}, {Action: "DeleteGroupPolicy", Target: "group/eng/policy/logs"}}
				if d.Deleted != "eng" || !slices.Equal(d.Steps, want) || !strings.Contains(d.Message, "3 clean-up steps") {
					t.Errorf("result %+v", d)
				}
			}},
		{name: "add member", op: "add_user_to_group", args: `{"group_name":"eng","user_name":"ben"}`,
			steps: []string{"AddUserToGroup user/ben"}, affected: []string{"user/ben", "group/eng"}, reversible: true, undo: []string{"remove_user_from_group eng ben"}, detail: []string{"into group eng"},
			check: func(t *testing.T, e *planEnv, out any) {
				if u := call[api.GetUserOutput](t, e.testCatalogue, "get_user", `{"user_name":"ben"}`); len(u.Groups) != 1 {
					t.Errorf("ben's groups %+v", u.Groups)
				}
			}},
		{name: "add member already in (other case)", op: "add_user_to_group", args: `{"group_name":"ENG","user_name":"ana"}`,
			steps: []string{"AddUserToGroup user/ana"}, affected: []string{"user/ana", "group/ENG"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"already: nothing will change"}},
		{name: "remove member", op: "remove_user_from_group", args: `{"group_name":"eng","user_name":"ana"}`,
			steps: []string{"RemoveUserFromGroup user/ana"}, affected: []string{"user/ana", "group/eng"}, reversible: true, undo: []string{"add_user_to_group eng ana"}, detail: []string{"from group eng"},
			check: func(t *testing.T, e *planEnv, out any) {
				if r := out.(*api.Result); !strings.Contains(r.Message, "removed user ana from group eng") {
					t.Errorf("result %+v", r)
				}
			}},
		{name: "attach to group", op: "attach_group_policy", args: `{"group_name":"other","policy_arn":"` + readOnlyARN + `"}`,
			steps: []string{"AttachGroupPolicy group/other"}, affected: []string{"group/other", readOnlyARN}, reversible: true, undo: []string{"detach_group_policy other " + readOnlyARN}, detail: []string{"attaches " + readOnlyARN}},
		{name: "attach to group again", op: "attach_group_policy", args: `{"group_name":"eng","policy_arn":"` + readOnlyARN + `"}`,
			steps: []string{"AttachGroupPolicy group/eng"}, affected: []string{"group/eng", readOnlyARN}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"already: nothing will change"}},
		{name: "detach from group", op: "detach_group_policy", args: `{"group_name":"eng","policy_arn":"` + readOnlyARN + `"}`,
			steps: []string{"DetachGroupPolicy group/eng"}, affected: []string{"group/eng", readOnlyARN}, reversible: true, undo: []string{"attach_group_policy eng " + readOnlyARN}},
		{name: "create role", op: "create_role", args: `{"role_name":"new","assume_role_policy_document":` + sameAcctTrustIndent + `,"permissions_boundary":"` + roleBoundaryARN + `","max_session_duration":3600}`,
			steps: []string{"CreateRole role/new"}, affected: []string{"role/new"}, reversible: true, undo: []string{"delete_role new"},
			detail: []string{"trust policy " + sameAcctTrustCompact, "permissions boundary " + roleBoundaryARN, "3600 s"},
			check: func(t *testing.T, e *planEnv, out any) {
				if r := out.(*api.RoleOutput); r.Role.PermissionsBoundary != roleBoundaryARN || len(r.Warnings) != 0 {
					t.Errorf("result %+v", r)
				}
			}},
		{name: "create role without boundary", op: "create_role", args: `{"role_name":"new","assume_role_policy_document":` + ec2TrustDoc + `}`,
			steps: []string{"CreateRole role/new"}, affected: []string{"role/new"}, reversible: true, undo: []string{"delete_role new"},
			detail: []string{"trust policy " + ec2TrustCompact}, findings: []string{"no permissions boundary"},
			check: func(t *testing.T, e *planEnv, out any) {
				checkWarnings(t, out.(*api.RoleOutput).Warnings, []string{"no permissions boundary"})
			}},
		{name: "delete bare role", op: "delete_role", args: `{"role_name":"bare"}`,
			steps: []string{"DeleteRole role/bare"}, affected: []string{"role/bare"}, undo: []string{"cannot be restored"}},
		{name: "force delete role", op: "delete_role", args: `{"role_name":"app","force":true}`,
			steps:    []string{"DetachRolePolicy " + readOnlyARN, "DeleteRolePolicy role/app/policy/bucket", "RemoveRoleFromInstanceProfile instance-profile/app-profile", "DeleteRole role/app"},
			affected: []string{readOnlyARN, "role/app/policy/bucket", "instance-profile/app-profile", "role/app"}, undo: []string{"cannot be restored"},
			summary: "after removing its 1 attached policy, 1 inline policy, 1 instance profile",
			check: func(t *testing.T, e *planEnv, out any) {
				d := out.(*api.DeleteOutput)
				want := []api.DeleteStep{{Action: "DetachRolePolicy", Target: readOnlyARN}, {Action: "DeleteRolePolicy", Target: "role/app/policy/bucket"}, {Action: "RemoveRoleFromInstanceProfile", Target: "instance-profile/app-profile"}}
				if d.Deleted != "app" || !slices.Equal(d.Steps, want) {
					t.Errorf("result %+v", d)
				}
			}},
		{name: "update role description", op: "update_role", args: `{"role_name":"app","description":"web tier"}`,
			steps: []string{"UpdateRole role/app"}, affected: []string{"role/app"}, reversible: true, undo: []string{`update_role app with description "application servers"`},
			check: func(t *testing.T, e *planEnv, out any) {
				if r := out.(*api.RoleOutput); r.Role.Description != "web tier" || r.Role.MaxSessionDuration != 7200 {
					t.Errorf("result %+v", r.Role)
				}
			}},
		{name: "update role to what it is", op: "update_role", args: `{"role_name":"app","max_session_duration":7200}`,
			steps: []string{"UpdateRole role/app"}, affected: []string{"role/app"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"nothing will change"}},
		{name: "update role both", op: "update_role", args: `{"role_name":"bare","description":"","max_session_duration":43200}`,
			steps: []string{"UpdateRole role/bare"}, affected: []string{"role/bare"}, reversible: true, undo: []string{`update_role bare with description "" and max_session_duration 3600`}},
		{name: "replace trust", op: "update_assume_role_policy", args: `{"role_name":"app","policy_document":` + sameAcctTrustIndent + `}`,
			steps: []string{"UpdateAssumeRolePolicy role/app"}, affected: []string{"role/app"}, reversible: true,
			undo: []string{"update_assume_role_policy app with the trust policy it has now: " + ec2TrustCompact}, detail: []string{"new trust policy " + sameAcctTrustCompact},
			check: func(t *testing.T, e *planEnv, out any) {
				if r := out.(*api.RoleOutput); !strings.Contains(string(r.Role.AssumeRolePolicyDocument), "123456789012:root") {
					t.Errorf("result %+v", r.Role)
				}
			}},
		{name: "same trust", op: "update_assume_role_policy", args: `{"role_name":"app","policy_document":` + ec2TrustDoc + `}`,
			steps: []string{"UpdateAssumeRolePolicy role/app"}, affected: []string{"role/app"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"nothing will change"}},
		{name: "attach to role", op: "attach_role_policy", args: `{"role_name":"bare","policy_arn":"` + readOnlyARN + `"}`,
			steps: []string{"AttachRolePolicy role/bare"}, affected: []string{"role/bare", readOnlyARN}, reversible: true, undo: []string{"detach_role_policy bare " + readOnlyARN}},
		{name: "detach from role", op: "detach_role_policy", args: `{"role_name":"app","policy_arn":"` + readOnlyARN + `"}`,
			steps: []string{"DetachRolePolicy role/app"}, affected: []string{"role/app", readOnlyARN}, reversible: true, undo: []string{"attach_role_policy app " + readOnlyARN}},
		{name: "replace boundary", op: "put_role_permissions_boundary", args: `{"role_name":"app","permissions_boundary":"` + readOnlyARN + `"}`,
			steps: []string{"PutRolePermissionsBoundary role/app"}, affected: []string{"role/app"}, reversible: true,
			undo: []string{"put_role_permissions_boundary app with " + roleBoundaryARN}, detail: []string{"replaces the permissions boundary " + roleBoundaryARN},
			check: func(t *testing.T, e *planEnv, out any) {
				if r := out.(*api.RoleOutput); r.Role.PermissionsBoundary != readOnlyARN {
					t.Errorf("result %+v", r.Role)
				}
			}},
		{name: "first boundary", op: "put_role_permissions_boundary", args: `{"role_name":"bare","permissions_boundary":"` + roleBoundaryARN + `"}`,
			steps: []string{"PutRolePermissionsBoundary role/bare"}, affected: []string{"role/bare"}, reversible: true, undo: []string{"delete_role_permissions_boundary bare"}},
		{name: "same boundary", op: "put_role_permissions_boundary", args: `{"role_name":"app","permissions_boundary":"` + roleBoundaryARN + `"}`,
			steps: []string{"PutRolePermissionsBoundary role/app"}, affected: []string{"role/app"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"nothing will change"}},
		{name: "remove boundary", op: "delete_role_permissions_boundary", args: `{"role_name":"app"}`,
			steps: []string{"DeleteRolePermissionsBoundary role/app"}, affected: []string{"role/app"}, reversible: true,
			undo: []string{"put_role_permissions_boundary app with " + roleBoundaryARN}, detail: []string{"removes the permissions boundary " + roleBoundaryARN}},
		{name: "remove no boundary", op: "delete_role_permissions_boundary", args: `{"role_name":"bare"}`,
			steps: []string{"DeleteRolePermissionsBoundary role/bare"}, affected: []string{"role/bare"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"no permissions boundary: nothing will change"}},
		{name: "create profile", op: "create_instance_profile", args: `{"instance_profile_name":"p2"}`,
			steps: []string{"CreateInstanceProfile instance-profile/p2"}, affected: []string{"instance-profile/p2"}, reversible: true, undo: []string{"delete_instance_profile p2"}},
		{name: "fill profile", op: "add_role_to_instance_profile", args: `{"instance_profile_name":"spare","role_name":"bare"}`,
			steps: []string{"AddRoleToInstanceProfile instance-profile/spare"}, affected: []string{"instance-profile/spare", "role/bare"}, reversible: true,
			undo: []string{"remove_role_from_instance_profile spare bare"}, detail: []string{"adds role bare"}},
		{name: "empty profile", op: "remove_role_from_instance_profile", args: `{"instance_profile_name":"app-profile","role_name":"APP"}`,
			steps: []string{"RemoveRoleFromInstanceProfile instance-profile/app-profile"}, affected: []string{"instance-profile/app-profile", "role/APP"}, reversible: true,
			undo: []string{"add_role_to_instance_profile app-profile APP"}},
		{name: "delete profile", op: "delete_instance_profile", args: `{"instance_profile_name":"spare"}`,
			steps: []string{"DeleteInstanceProfile instance-profile/spare"}, affected: []string{"instance-profile/spare"}, undo: []string{"cannot be restored"},
			check: func(t *testing.T, e *planEnv, out any) {
				if d := out.(*api.DeleteOutput); d.Deleted != "spare" || d.Steps == nil || len(d.Steps) != 0 {
					t.Errorf("result %+v", d)
				}
			}},
		{name: "tag", op: "tag_user", args: `{"user_name":"ana","tags":{"TEAM":"data","level":"3"}}`,
			steps: []string{"TagUser user/ana"}, affected: []string{"user/ana"}, reversible: true,
			undo:   []string{`untag_user ana with tag_keys ["level"]`, `tag_user ana with the values they have now, {"team":"platform"}`},
			detail: []string{`sets {"TEAM":"data","level":"3"}`},
			check: func(t *testing.T, e *planEnv, out any) {
				got := call[api.UserTagsOutput](t, e.testCatalogue, "list_user_tags", `{"user_name":"ana"}`)
				if fmt.Sprint(got.Tags) != fmt.Sprint(map[string]string{"team": "data", "owner": "ana", "level": "3"}) {
					t.Errorf("tags %v", got.Tags)
				}
			}},
		{name: "tag as it is", op: "tag_user", args: `{"user_name":"ana","tags":{"team":"platform"}}`,
			steps: []string{"TagUser user/ana"}, affected: []string{"user/ana"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"nothing will change"}},
		{name: "untag", op: "untag_user", args: `{"user_name":"ana","tag_keys":["OWNER","never-set"]}`,
			steps: []string{"UntagUser user/ana"}, affected: []string{"user/ana"}, reversible: true,
			undo: []string{`tag_user ana with {"owner":"ana"}`}, detail: []string{`removes {"owner":"ana"}`, "no tag never-set, which IAM ignores"}},
		{name: "untag nothing", op: "untag_user", args: `{"user_name":"ana","tag_keys":["never-set"]}`,
			steps: []string{"UntagUser user/ana"}, affected: []string{"user/ana"}, reversible: true, undo: []string{"nothing to undo"}, detail: []string{"none of these tags: nothing will change"}},
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.op] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newPlanEnv(t, Options{})
			planScene(t, e)
			before := e.readAll(t)
			e.rec.take()

			plan, apply, err := e.prepare(t, tc.op, tc.args)
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			if w := writes(e.rec.take()); len(w) != 0 {
				t.Fatalf("prepare made changes: %v", w)
			}
			if after := e.readAll(t); after != before {
				t.Fatalf("prepare changed the state:\nbefore %s\nafter %s", before, after)
			}

			if plan.Operation != tc.op || !slices.Equal(stepsOf(plan), tc.steps) || !slices.Equal(plan.Affected, tc.affected) || plan.Reversible != tc.reversible {
				t.Fatalf("plan %+v\nwant steps %q affected %q reversible %v", plan, tc.steps, tc.affected, tc.reversible)
			}
			for _, u := range tc.undo {
				if !strings.Contains(plan.Undo, u) {
					t.Errorf("undo %q does not say %q", plan.Undo, u)
				}
			}
			for _, d := range tc.detail {
				if !strings.Contains(details(plan), d) {
					t.Errorf("details %q do not say %q", details(plan), d)
				}
			}
			if !strings.Contains(plan.Summary, tc.summary) || plan.Summary == "" || strings.Contains(plan.Summary, "LEGACY") {
				t.Errorf("summary %q, want it to say %q", plan.Summary, tc.summary)
			}
			checkWarnings(t, plan.Findings, tc.findings)

			out, err := apply(ctx)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			made := writes(e.rec.take())
			want := make([]string, len(plan.Steps))
			for i, s := range plan.Steps {
				want[i] = strings.TrimPrefix(s.Action, "iam:")
			}
			if !slices.Equal(made, want) {
				t.Fatalf("apply made %v, the plan says %v", made, want)
			}
			if tc.check != nil {
				tc.check(t, e, out)
			}
		})
	}
	for _, op := range []string{"create_group", "delete_group", "add_user_to_group", "remove_user_from_group", "attach_group_policy", "detach_group_policy",
		"create_role", "delete_role", "update_role", "update_assume_role_policy", "attach_role_policy", "detach_role_policy",
		"put_role_permissions_boundary", "delete_role_permissions_boundary", "create_instance_profile", "add_role_to_instance_profile",
		"remove_role_from_instance_profile", "delete_instance_profile", "tag_user", "untag_user"} {
		if !covered[op] {
			t.Errorf("no plan case for %s", op)
		}
	}
}

// TestPlansRefusedAtPlanTime: what IAM would refuse, and what the
// guardrails refuse, is refused by Prepare — a dry run — with the code
// and message of the real call, before any change; the real call then
// refuses the same way and changes nothing either.
func TestPlansRefusedAtPlanTime(t *testing.T) {
	const adminARN = "arn:aws:iam::aws:policy/AdministratorAccess"
	cases := []struct {
		name     string
		setup    func(t *testing.T, e *planEnv)
		op, args string
		code     api.ErrorCode
		says     string
	}{
		// Entities that do not exist, or do already.
		{name: "create existing group", op: "create_group", args: `{"group_name":"ENG"}`, code: api.EntityAlreadyExists, says: "exists already as eng"},
		{name: "create existing role", op: "create_role", args: `{"role_name":"App","assume_role_policy_document":` + ec2TrustDoc + `,"permissions_boundary":"` + roleBoundaryARN + `"}`, code: api.EntityAlreadyExists, says: "as app"},
		{name: "create existing profile", op: "create_instance_profile", args: `{"instance_profile_name":"spare"}`, code: api.EntityAlreadyExists, says: "an instance profile named spare exists already"},
		{name: "delete missing group", op: "delete_group", args: `{"group_name":"nope","force":true}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "delete missing role", op: "delete_role", args: `{"role_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "delete missing group, no force", op: "delete_group", args: `{"group_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "delete missing role, force", op: "delete_role", args: `{"role_name":"nope","force":true}`, code: api.NoSuchEntity, says: "IAM answered"},
		// Without force, what IAM would refuse the delete over is named.
		{name: "delete full group", op: "delete_group", args: `{"group_name":"eng"}`, code: api.DeleteConflict, says: "group eng still has 1 member, 1 attached policy, 1 inline policy"},
		{name: "delete full role", op: "delete_role", args: `{"role_name":"app"}`, code: api.DeleteConflict, says: "role app still has 1 attached policy, 1 inline policy, 1 instance profile"},
		{name: "add missing user", op: "add_user_to_group", args: `{"group_name":"eng","user_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "add to missing group", op: "add_user_to_group", args: `{"group_name":"nope","user_name":"ana"}`, code: api.NoSuchEntity, says: "group"},
		{name: "remove non-member", op: "remove_user_from_group", args: `{"group_name":"other","user_name":"ana"}`, code: api.NoSuchEntity, says: "user ana is not in group other"},
		{name: "remove from missing group", op: "remove_user_from_group", args: `{"group_name":"nope","user_name":"ana"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "detach unattached", op: "detach_group_policy", args: `{"group_name":"other","policy_arn":"` + readOnlyARN + `"}`, code: api.NoSuchEntity, says: "is not attached to group other"},
		// ARNs are compared as IAM compares them: exactly.
		{name: "detach other spelling", op: "detach_role_policy", args: `{"role_name":"app","policy_arn":"arn:aws:iam::aws:policy/readonlyaccess"}`, code: api.NoSuchEntity, says: "is not attached to role app"},
		{name: "attach to missing role", op: "attach_role_policy", args: `{"role_name":"nope","policy_arn":"` + readOnlyARN + `"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "update missing role", op: "update_role", args: `{"role_name":"nope","description":"x"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "trust of missing role", op: "update_assume_role_policy", args: `{"role_name":"nope","policy_document":` + ec2TrustDoc + `}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "missing boundary, new role", op: "create_role", args: `{"role_name":"new","assume_role_policy_document":` + ec2TrustDoc + `,"permissions_boundary":"arn:aws:iam::123456789012:policy/Missing"}`, code: api.InvalidInput, says: "does not exist or is not attachable"},
		{name: "missing boundary, none before", op: "put_role_permissions_boundary", args: `{"role_name":"bare","permissions_boundary":"arn:aws:iam::123456789012:policy/Missing"}`, code: api.InvalidInput, says: "does not exist or is not attachable"},
		{name: "missing boundary, one before", op: "put_role_permissions_boundary", args: `{"role_name":"app","permissions_boundary":"arn:aws:iam::123456789012:policy/Missing"}`, code: api.InvalidInput, says: "does not exist or is not attachable"},
		{name: "boundary of missing role", op: "delete_role_permissions_boundary", args: `{"role_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "profile full", op: "add_role_to_instance_profile", args: `{"instance_profile_name":"app-profile","role_name":"bare"}`, code: api.LimitExceeded, says: "already holds role app"},
		{name: "profile full of this role", op: "add_role_to_instance_profile", args: `{"instance_profile_name":"app-profile","role_name":"app"}`, code: api.LimitExceeded, says: "already holds role app"},
		{name: "missing role into profile", op: "add_role_to_instance_profile", args: `{"instance_profile_name":"app-profile","role_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "role not in profile", op: "remove_role_from_instance_profile", args: `{"instance_profile_name":"spare","role_name":"app"}`, code: api.NoSuchEntity, says: "does not hold role app (it holds no role)"},
		{name: "held profile", op: "delete_instance_profile", args: `{"instance_profile_name":"app-profile"}`, code: api.DeleteConflict, says: "still holds role app"},
		{name: "missing profile", op: "delete_instance_profile", args: `{"instance_profile_name":"nope"}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "tag missing user", op: "tag_user", args: `{"user_name":"nope","tags":{"a":"b"}}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "untag missing user", op: "untag_user", args: `{"user_name":"nope","tag_keys":["a"]}`, code: api.NoSuchEntity, says: "IAM answered"},
		{name: "too many tags", op: "tag_user", args: tagsArgs("ana", 49, "x"), code: api.LimitExceeded, says: "has 2 tags and this adds 49 new keys"},
		{name: "eleventh group", op: "add_user_to_group", args: `{"group_name":"g10","user_name":"ben"}`, code: api.LimitExceeded, says: "is in 10 groups",
			setup: func(t *testing.T, e *planEnv) {
				for i := 0; i <= 10; i++ {
					call[api.GroupOutput](t, e.testCatalogue, "create_group", fmt.Sprintf(`{"group_name":"g%d"}`, i))
					if i < 10 {
						call[api.Result](t, e.testCatalogue, "add_user_to_group", fmt.Sprintf(`{"group_name":"g%d","user_name":"ben"}`, i))
					}
				}
			}},
		// Guardrails.
		{name: "admin to group", op: "attach_group_policy", args: `{"group_name":"other","policy_arn":"` + adminARN + `"}`, code: api.RiskyPolicy, says: "administrator-equivalent"},
		{name: "admin to role", op: "attach_role_policy", args: `{"role_name":"bare","policy_arn":"` + adminARN + `"}`, code: api.RiskyPolicy, says: "administrator-equivalent"},
		{name: "open trust, new role", op: "create_role", args: `{"role_name":"new","assume_role_policy_document":` + openTrustDoc + `}`, code: api.RiskyPolicy, says: "anyone"},
		{name: "open trust", op: "update_assume_role_policy", args: `{"role_name":"app","policy_document":` + openTrustDoc + `}`, code: api.RiskyPolicy, says: "anyone"},
		{name: "bad trust", op: "update_assume_role_policy", args: `{"role_name":"app","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}}`, code: api.MalformedPolicyDocument, says: "IAM would refuse"},
		{name: "join an admin group", op: "add_user_to_group", args: `{"group_name":"admins","user_name":"ben"}`, code: api.RiskyPolicy, says: "adding user ben to group admins",
			setup: func(t *testing.T, e *planEnv) {
				call[api.GroupOutput](t, e.testCatalogue, "create_group", `{"group_name":"admins"}`)
				// Around the guardrail, as someone else might have.
				if _, err := e.clients.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(adminARN)}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "leave a fence group", op: "remove_user_from_group", args: `{"group_name":"fenced","user_name":"ben"}`, code: api.RiskyPolicy, says: "removing user ben from group fenced", setup: fencedBen},
		{name: "delete a fence group", op: "delete_group", args: `{"group_name":"fenced","force":true}`, code: api.RiskyPolicy, says: "deleting group fenced", setup: fencedBen},
		{name: "detach a fence", op: "detach_group_policy", args: `{"group_name":"fenced","policy_arn":"arn:aws:iam::123456789012:policy/Fence"}`, code: api.RiskyPolicy, says: "detaching", setup: fencedBen},
		{name: "remove a boundary holding admin back", op: "delete_role_permissions_boundary", args: `{"role_name":"boxed"}`, code: api.RiskyPolicy, says: "removing the permissions boundary", setup: boxedRole},
		{name: "widen a boundary holding admin back", op: "put_role_permissions_boundary", args: `{"role_name":"boxed","permissions_boundary":"` + adminARN + `"}`, code: api.RiskyPolicy, says: "replacing the permissions boundary", setup: boxedRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newPlanEnv(t, Options{})
			planScene(t, e)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			before := e.readAll(t)
			e.rec.take()
			_, _, err := e.prepare(t, tc.op, tc.args)
			var planErr *api.Error
			if !errors.As(err, &planErr) || planErr.Code != tc.code || !strings.Contains(planErr.Message, tc.says) {
				t.Fatalf("prepare: got %v, want %s saying %q", err, tc.code, tc.says)
			}
			if w := writes(e.rec.take()); len(w) != 0 {
				t.Fatalf("a refused plan made changes: %v", w)
			}
			// The real call is refused the same way, before any change.
			_, err = e.Call(ctx, tc.op, json.RawMessage(tc.args))
			var callErr *api.Error
			if !errors.As(err, &callErr) || callErr.Code != planErr.Code || callErr.Message != planErr.Message {
				t.Fatalf("the call: got %v, the dry run %v", err, planErr)
			}
			if w := writes(e.rec.take()); len(w) != 0 {
				t.Fatalf("a call refused at plan time made changes: %v", w)
			}
			if after := e.readAll(t); after != before {
				t.Fatalf("a refused call changed the state")
			}
		})
	}
}

// fencedBen: ben is an administrator held back by the Deny of group
// fenced's managed policy Fence.
func fencedBen(t *testing.T, e *planEnv) {
	t.Helper()
	cl := e.clients.IAM
	call[api.PolicyOutput](t, e.testCatalogue, "create_policy", `{"policy_name":"Fence","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}}`)
	call[api.GroupOutput](t, e.testCatalogue, "create_group", `{"group_name":"fenced"}`)
	call[api.Result](t, e.testCatalogue, "attach_group_policy", `{"group_name":"fenced","policy_arn":"arn:aws:iam::123456789012:policy/Fence"}`)
	call[api.Result](t, e.testCatalogue, "add_user_to_group", `{"group_name":"fenced","user_name":"ben"}`)
	if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ben"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
}

// boxedRole: role boxed has AdministratorAccess within the boundary
// ReadOnlyAccess.
func boxedRole(t *testing.T, e *planEnv) {
	t.Helper()
	call[api.RoleOutput](t, e.testCatalogue, "create_role", `{"role_name":"boxed","assume_role_policy_document":`+ec2TrustDoc+`,"permissions_boundary":"`+readOnlyARN+`"}`)
	if _, err := e.clients.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("boxed"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
}

// tagsArgs is tag_user's arguments with n tags prefix0..prefixN-1.
func tagsArgs(user string, n int, prefix string) string {
	tags := map[string]string{}
	for i := 0; i < n; i++ {
		tags[fmt.Sprintf("%s%d", prefix, i)] = "v"
	}
	b, _ := json.Marshal(map[string]any{"user_name": user, "tags": tags})
	return string(b)
}

// TestPlansForceDeleteAllPages: a force delete plans the removal of every
// member and instance profile, beyond IAM's page of 100, before it removes
// any; the plan changes nothing, and Apply removes exactly those.
func TestPlansForceDeleteAllPages(t *testing.T) {
	e := newPlanEnvState(t, Options{}, false)
	cl := e.clients.IAM
	const members, profiles = 130, 110
	call[api.GroupOutput](t, e.testCatalogue, "create_group", `{"group_name":"big"}`)
	call[api.RoleOutput](t, e.testCatalogue, "create_role", `{"role_name":"wide","assume_role_policy_document":`+ec2TrustDoc+`}`)
	wantGroup, wantRole := []string{}, []string{}
	for i := 0; i < members; i++ {
		u := fmt.Sprintf("u%03d", i)
		if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("big"), UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		wantGroup = append(wantGroup, "RemoveUserFromGroup user/"+u)
	}
	for i := 0; i < profiles; i++ {
		p := fmt.Sprintf("p%03d", i)
		if _, err := cl.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(p)}); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(p), RoleName: aws.String("wide")}); err != nil {
			t.Fatal(err)
		}
		wantRole = append(wantRole, "RemoveRoleFromInstanceProfile instance-profile/"+p)
	}
	wantGroup = append(wantGroup, "DeleteGroup group/big")
	wantRole = append(wantRole, "DeleteRole role/wide")

	for _, tc := range []struct {
		op, args string
		want     []string
		read     [2]string
	}{
		{"delete_group", `{"group_name":"big","force":true}`, wantGroup, [2]string{"get_group", `{"group_name":"big","max_items":1000}`}},
		{"delete_role", `{"role_name":"wide","force":true}`, wantRole, [2]string{"get_role", `{"role_name":"wide"}`}},
	} {
		before := rawCall(t, e.testCatalogue, tc.read[0], tc.read[1])
		e.rec.take()
		plan, apply, err := e.prepare(t, tc.op, tc.args)
		if err != nil {
			t.Fatal(err)
		}
		// The lists were read across pages.
		if pages := countOf(e.rec.take(), map[string]string{"delete_group": "GetGroup", "delete_role": "ListInstanceProfilesForRole"}[tc.op]); pages < 2 {
			t.Errorf("%s: the plan read %d pages", tc.op, pages)
		}
		if got := stepsOf(plan); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: plan has %d steps, want %d:\n%q", tc.op, len(got), len(tc.want), got)
		}
		if len(plan.Affected) != len(tc.want) {
			t.Errorf("%s: %d affected, want %d", tc.op, len(plan.Affected), len(tc.want))
		}
		if after := rawCall(t, e.testCatalogue, tc.read[0], tc.read[1]); after != before {
			t.Fatalf("%s: prepare changed the state", tc.op)
		}
		e.rec.take()
		out, err := apply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		made := writes(e.rec.take())
		if len(made) != len(tc.want) {
			t.Fatalf("%s: apply made %d calls, the plan %d", tc.op, len(made), len(tc.want))
		}
		if d := out.(*api.DeleteOutput); len(d.Steps) != len(tc.want)-1 {
			t.Fatalf("%s: %d steps reported", tc.op, len(d.Steps))
		}
	}
	callFails(t, e.testCatalogue, "get_group", `{"group_name":"big"}`, api.NoSuchEntity)
	callFails(t, e.testCatalogue, "get_role", `{"role_name":"wide"}`, api.NoSuchEntity)
	// The members and the profiles themselves stay.
	call[api.GetUserOutput](t, e.testCatalogue, "get_user", `{"user_name":"u129"}`)
	call[api.DeleteOutput](t, e.testCatalogue, "delete_instance_profile", `{"instance_profile_name":"p109"}`)
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// TestPlansChangedBeforeApply: the state changes between plan and apply
// (the person took their time). A force delete then removes only what it
// planned and fails at the delete itself, saying what it had done; what
// appeared since stays. A profile filled or emptied meanwhile gets the
// same messages as at plan time.
func TestPlansChangedBeforeApply(t *testing.T) {
	e := newPlanEnv(t, Options{})
	planScene(t, e)

	plan, apply, err := e.prepare(t, "delete_group", `{"group_name":"eng","force":true}`)
	if err != nil {
		t.Fatal(err)
	}
	// Ben joins after the plan, and a policy is attached.
	call[api.Result](t, e.testCatalogue, "add_user_to_group", `{"group_name":"eng","user_name":"ben"}`)
	call[api.Result](t, e.testCatalogue, "attach_group_policy", `{"group_name":"eng","policy_arn":"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}`)
	e.rec.take()
	_, err = apply(ctx)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.DeleteConflict || !strings.Contains(ae.Message, "already done before this failed: RemoveUserFromGroup user/ana; DetachGroupPolicy "+readOnlyARN+"; DeleteGroupPolicy group/eng/policy/logs") {
		t.Fatalf("apply: %v", err)
	}
	want := []string{}
	for _, s := range plan.Steps {
		want = append(want, strings.TrimPrefix(s.Action, "iam:"))
	}
	if made := writes(e.rec.take()); !slices.Equal(made, want) {
		t.Fatalf("apply made %v, the plan %v", made, want)
	}
	g := call[api.GetGroupOutput](t, e.testCatalogue, "get_group", `{"group_name":"eng"}`)
	if len(g.Users) != 1 || g.Users[0].UserName != "ben" || len(g.AttachedPolicies) != 1 || g.AttachedPolicies[0].PolicyName != "AmazonS3ReadOnlyAccess" || len(g.InlinePolicies) != 0 {
		t.Fatalf("after the refused delete: %+v", g)
	}

	// The role: an inline policy put after the plan.
	plan, apply, err = e.prepare(t, "delete_role", `{"role_name":"app","force":true}`)
	if err != nil {
		t.Fatal(err)
	}
	call[api.Result](t, e.testCatalogue, "put_role_policy", `{"role_name":"app","policy_name":"late","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}}`)
	e.rec.take()
	if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.DeleteConflict {
		t.Fatalf("apply: %v", err)
	}
	if made := writes(e.rec.take()); len(made) != len(plan.Steps) || made[len(made)-1] != "DeleteRole" {
		t.Fatalf("apply made %v, the plan %v", made, stepsOf(plan))
	}
	if r := call[api.GetRoleOutput](t, e.testCatalogue, "get_role", `{"role_name":"app"}`); len(r.InlinePolicies) != 1 || r.InlinePolicies[0] != "late" || len(r.AttachedPolicies) != 0 || len(r.InstanceProfiles) != 0 {
		t.Fatalf("after the refused delete: %+v", r)
	}

	// Without force, a group that gained a member: IAM's conflict, nothing changed.
	_, apply, err = e.prepare(t, "delete_group", `{"group_name":"other"}`)
	if err != nil {
		t.Fatal(err)
	}
	call[api.Result](t, e.testCatalogue, "add_user_to_group", `{"group_name":"other","user_name":"ana"}`)
	if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.DeleteConflict || !strings.Contains(ae.Message, "Nothing was changed") {
		t.Fatalf("apply: %v", err)
	}

	// An empty profile planned to be deleted, and planned to take role
	// app (the failed role delete took it out of app-profile), is filled
	// by someone else before either plan is carried out.
	_, apply, err = e.prepare(t, "delete_instance_profile", `{"instance_profile_name":"spare"}`)
	if err != nil {
		t.Fatal(err)
	}
	_, fill, err := e.prepare(t, "add_role_to_instance_profile", `{"instance_profile_name":"spare","role_name":"app"}`)
	if err != nil {
		t.Fatal(err)
	}
	call[api.Result](t, e.testCatalogue, "add_role_to_instance_profile", `{"instance_profile_name":"spare","role_name":"bare"}`)
	if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.DeleteConflict || !strings.Contains(ae.Message, "still holds role bare") {
		t.Fatalf("delete of a profile filled since the plan: %v", err)
	}
	if _, err = fill(ctx); !errors.As(err, &ae) || ae.Code != api.LimitExceeded || !strings.Contains(ae.Message, "already holds role bare") {
		t.Fatalf("add to a profile filled since the plan: %v", err)
	}
}

// TestPlansUndoNamesTheOldValue: a replacement's undo carries the value it
// replaces; making the call the undo describes restores the state.
func TestPlansUndoNamesTheOldValue(t *testing.T) {
	e := newPlanEnvState(t, Options{}, false)
	planScene(t, e)
	role := func() api.Role {
		return call[api.GetRoleOutput](t, e.testCatalogue, "get_role", `{"role_name":"app"}`).Role
	}
	tags := func() string {
		return fmt.Sprint(call[api.UserTagsOutput](t, e.testCatalogue, "list_user_tags", `{"user_name":"ana"}`).Tags)
	}
	run := func(op, args string) *api.Plan {
		t.Helper()
		plan, apply, err := e.prepare(t, op, args)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := apply(ctx); err != nil {
			t.Fatal(err)
		}
		return plan
	}
	after := func(s, marker string) string {
		t.Helper()
		_, rest, ok := strings.Cut(s, marker)
		if !ok {
			t.Fatalf("%q does not say %q", s, marker)
		}
		return rest
	}

	orig := role()
	p := run("update_assume_role_policy", `{"role_name":"app","policy_document":`+sameAcctTrustDoc+`}`)
	run("update_assume_role_policy", `{"role_name":"app","policy_document":`+after(p.Undo, "it has now: ")+`}`)
	if got := role(); oneLine(got.AssumeRolePolicyDocument) != oneLine(orig.AssumeRolePolicyDocument) {
		t.Fatalf("trust after undo %s, was %s", got.AssumeRolePolicyDocument, orig.AssumeRolePolicyDocument)
	}

	p = run("put_role_permissions_boundary", `{"role_name":"app","permissions_boundary":"`+readOnlyARN+`"}`)
	old, _, _ := strings.Cut(after(p.Undo, "app with "), " ")
	run("put_role_permissions_boundary", `{"role_name":"app","permissions_boundary":"`+old+`"}`)
	if got := role(); got.PermissionsBoundary != orig.PermissionsBoundary {
		t.Fatalf("boundary after undo %s, was %s", got.PermissionsBoundary, orig.PermissionsBoundary)
	}

	p = run("update_role", `{"role_name":"app","description":"a \"quoted\" one"}`)
	desc := after(p.Undo, "with description ")
	run("update_role", `{"role_name":"app","description":`+desc+`}`)
	if got := role(); got.Description != orig.Description {
		t.Fatalf("description after undo %q, was %q", got.Description, orig.Description)
	}

	was := tags()
	p = run("tag_user", `{"user_name":"ana","tags":{"Team":"data","new":"1"}}`)
	keys := after(strings.Split(p.Undo, ", then ")[0], "tag_keys ")
	values := after(p.Undo, "values they have now, ")
	run("untag_user", `{"user_name":"ana","tag_keys":`+keys+`}`)
	run("tag_user", `{"user_name":"ana","tags":`+values+`}`)
	if got := tags(); got != was {
		t.Fatalf("tags after undo %s, were %s", got, was)
	}
	p = run("untag_user", `{"user_name":"ana","tag_keys":["team","owner"]}`)
	run("tag_user", `{"user_name":"ana","tags":`+after(p.Undo, "ana with ")+`}`)
	if got := tags(); got != was {
		t.Fatalf("tags after undo %s, were %s", got, was)
	}
}

// TestPlansFindings: with --allow-risky-policies, what the guardrails
// found is in the plan (the person sees it before saying yes) and in the
// result, as before.
func TestPlansFindings(t *testing.T) {
	const adminARN = "arn:aws:iam::aws:policy/AdministratorAccess"
	admin := []string{"ADMIN_EQUIVALENT", "PASS_ROLE"}
	for _, tc := range []struct {
		op, args string
		want     []string
		result   func(any) []string
	}{
		{"attach_group_policy", `{"group_name":"other","policy_arn":"` + adminARN + `"}`, []string{"administrator-equivalent", "iam:PassRole"}, resultWarnings},
		{"attach_role_policy", `{"role_name":"bare","policy_arn":"` + adminARN + `"}`, []string{"administrator-equivalent", "iam:PassRole"}, resultWarnings},
		{"create_role", `{"role_name":"new","assume_role_policy_document":` + openTrustDoc + `}`, []string{"anyone", "no permissions boundary"}, roleWarnings},
		{"update_assume_role_policy", `{"role_name":"bare","policy_document":` + openTrustDoc + `}`, []string{"anyone"}, roleWarnings},
		{"add_user_to_group", `{"group_name":"admins","user_name":"ana"}`, admin, resultWarnings},
		{"detach_group_policy", `{"group_name":"fenced","policy_arn":"arn:aws:iam::123456789012:policy/Fence"}`, admin, resultWarnings},
		{"put_role_permissions_boundary", `{"role_name":"boxed","permissions_boundary":"` + adminARN + `"}`, admin, roleWarnings},
		{"delete_role_permissions_boundary", `{"role_name":"boxed"}`, admin, roleWarnings},
		{"remove_user_from_group", `{"group_name":"fenced","user_name":"ben"}`, admin, resultWarnings},
		{"delete_group", `{"group_name":"fenced","force":true}`, admin, func(out any) []string { return out.(*api.DeleteOutput).Warnings }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			e := newPlanEnvState(t, Options{AllowRiskyPolicies: true}, false)
			planScene(t, e)
			fencedBen(t, e)
			boxedRole(t, e)
			call[api.GroupOutput](t, e.testCatalogue, "create_group", `{"group_name":"admins"}`)
			call[api.Result](t, e.testCatalogue, "attach_group_policy", `{"group_name":"admins","policy_arn":"`+adminARN+`"}`)
			plan, apply, err := e.prepare(t, tc.op, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			checkWarnings(t, plan.Findings, tc.want)
			out, err := apply(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.result(out); !slices.Equal(got, plan.Findings) {
				t.Fatalf("result warnings %q, plan findings %q", got, plan.Findings)
			}
		})
	}
}

func resultWarnings(out any) []string { return out.(*api.Result).Warnings }
func roleWarnings(out any) []string   { return out.(*api.RoleOutput).Warnings }

// TestPlansAttacks: what a careless or hostile caller, or a changing
// account, can throw at the planners.
func TestPlansAttacks(t *testing.T) {
	e := newPlanEnv(t, Options{})
	planScene(t, e)
	before := e.readAll(t)
	e.rec.take()

	// An ARN as long as the arguments allow, of IAM's shape but past its
	// 2048 characters: refused by the catalogue's own check, before any
	// request, with a bounded prefix of it quoted and its length said.
	long := "arn:aws:iam::123456789012:policy/" + strings.Repeat("p/", 60000) + "x"
	for _, tc := range []struct{ op, args string }{
		{"detach_group_policy", `{"group_name":"eng","policy_arn":"` + long + `"}`},
		{"detach_role_policy", `{"role_name":"app","policy_arn":"` + long + `"}`},
		{"put_role_permissions_boundary", `{"role_name":"app","permissions_boundary":"` + long + `"}`},
		{"create_role", `{"role_name":"new","assume_role_policy_document":` + ec2TrustDoc + `,"permissions_boundary":"` + long + `"}`},
	} {
		_, _, err := e.prepare(t, tc.op, tc.args)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.InvalidInput || len(ae.Message) > 1024 || !strings.Contains(ae.Message, "(120034 characters)") {
			t.Errorf("%s with a long ARN: %d bytes: %.300v", tc.op, len(fmt.Sprint(err)), err)
		}
		if sent := e.rec.take(); len(sent) != 0 {
			t.Errorf("%s with a long ARN reached IAM: %v", tc.op, sent)
		}
	}

	// A trust policy sent as a string of indented JSON: the person sees
	// it on one line, and it is the document IAM gets.
	doc, _ := json.Marshal(sameAcctTrustIndent)
	plan, apply, err := e.prepare(t, "update_assume_role_policy", `{"role_name":"bare","policy_document":`+string(doc)+`}`)
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Steps[0].Detail; d != "new trust policy "+sameAcctTrustCompact {
		t.Fatalf("detail %q", d)
	}

	// A cancelled request plans nothing and changes nothing.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	o, _ := api.Lookup("delete_group")
	in, _ := args.Decode(o, json.RawMessage(`{"group_name":"eng","force":true}`))
	if _, _, err := e.Prepare(cancelled, "delete_group", in); err == nil {
		t.Fatal("a cancelled plan succeeded")
	}
	if w := writes(e.rec.take()); len(w) != 0 {
		t.Fatalf("refused plans made changes: %v", w)
	}
	if after := e.readAll(t); after != before {
		t.Fatal("refused plans changed the state")
	}

	// The plan above is still good to apply.
	if _, err := apply(ctx); err != nil {
		t.Fatal(err)
	}
	if w := writes(e.rec.take()); !slices.Equal(w, []string{"UpdateAssumeRolePolicy"}) {
		t.Fatalf("apply made %v", w)
	}

	// A member who left between plan and apply: the force delete stops at
	// that step, saying what it did before, and does nothing unplanned.
	call[api.Result](t, e.testCatalogue, "add_user_to_group", `{"group_name":"eng","user_name":"ben"}`)
	plan, apply, err = e.prepare(t, "delete_group", `{"group_name":"eng","force":true}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := stepsOf(plan)[:2]; !slices.Equal(got, []string{"RemoveUserFromGroup user/ana", "RemoveUserFromGroup user/ben"}) {
		t.Fatalf("plan %q", stepsOf(plan))
	}
	call[api.Result](t, e.testCatalogue, "remove_user_from_group", `{"group_name":"eng","user_name":"ben"}`)
	e.rec.take()
	_, err = apply(ctx)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "already done before this failed: RemoveUserFromGroup user/ana") {
		t.Fatalf("apply after a member left: %v", err)
	}
	if w := writes(e.rec.take()); !slices.Equal(w, []string{"RemoveUserFromGroup", "RemoveUserFromGroup"}) {
		t.Fatalf("apply made %v", w)
	}
	if g := call[api.GetGroupOutput](t, e.testCatalogue, "get_group", `{"group_name":"eng"}`); len(g.AttachedPolicies) != 1 || len(g.InlinePolicies) != 1 {
		t.Fatalf("steps after the failure were made: %+v", g)
	}

	// A role deleted between plan and apply: IAM's answer, nothing else.
	_, apply, err = e.prepare(t, "update_role", `{"role_name":"bare","description":"x"}`)
	if err != nil {
		t.Fatal(err)
	}
	call[api.DeleteOutput](t, e.testCatalogue, "delete_role", `{"role_name":"bare"}`)
	e.rec.take()
	if _, err = apply(ctx); !errors.As(err, &ae) || ae.Code != api.NoSuchEntity {
		t.Fatalf("apply on a deleted role: %v", err)
	}
	if w := writes(e.rec.take()); !slices.Equal(w, []string{"UpdateRole"}) {
		t.Fatalf("apply made %v", w)
	}
}

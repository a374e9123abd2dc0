package review

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// Privilege escalation by target: each path of the issue planted on the
// sandbox, found with its severity and its path, and its near miss (the
// same method with no privileged target, or a boundary, Deny or trust in
// the way) not reported as a path. Then the plan: every step run through
// the server's real gate as a dry run (guardrails included), then for
// real, and the review run again: the path is gone, and every other
// principal's findings are what they were.

const (
	adminPolicy    = "arn:aws:iam::aws:policy/AdministratorAccess"
	acct           = "123456789012"
	lambdaTrustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

func serviceTrust(svc string) string {
	return trustOf(`{"Effect":"Allow","Principal":{"Service":"` + svc + `"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}}`)
}

type pathCase struct {
	name      string
	plant     func(s *testAccount)
	principal string   // the escalating principal (name)
	rule      string   // RuleEscalationConfirmed or RuleEscalationPotential
	kinds     []string // the path's step kinds, in order
	to        string   // a substring of the last step's target ARN
	nearMiss  func(s *testAccount)
	missRule  string // what the near miss gives instead ("" = no escalation finding at all)
}

func pathCases() []pathCase {
	return []pathCase{
		{name: "pass an admin role to Lambda and invoke it", principal: "dev", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/fn-admin",
			plant: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::`+acct+`:role/fn-*"}]}`)
			},
			nearMiss: func(s *testAccount) {
				s.role("fn-logs", "/", lambdaTrustDoc, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::`+acct+`:role/fn-logs"}]}`)
			}, missRule: RuleEscalationNoTarget},
		{name: "rewrite an admin role's trust and assume it", principal: "dev", rule: RuleEscalationConfirmed, kinds: []string{edgeTrust, "admin-equivalent"}, to: "role/ops",
			plant: func(s *testAccount) {
				s.role("ops", "/", serviceTrust("ec2.amazonaws.com"), adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "trust", allowDoc(`["iam:UpdateAssumeRolePolicy","sts:AssumeRole"]`, `"arn:aws:iam::`+acct+`:role/ops"`))
			},
			nearMiss: func(s *testAccount) {
				s.role("ops", "/", serviceTrust("ec2.amazonaws.com"), adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "trust", allowDoc(`["iam:UpdateAssumeRolePolicy"]`, `"arn:aws:iam::`+acct+`:role/ops"`))
			}},
		{name: "CloudFormation with an admin role", principal: "ci", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/cfn-admin",
			plant: func(s *testAccount) {
				s.role("cfn-admin", "/", serviceTrust("cloudformation.amazonaws.com"), adminPolicy)
				s.user("ci")
				s.inlineUser("ci", "deploy", allowDoc(`["cloudformation:CreateStack","iam:PassRole"]`, `"*"`))
			},
			nearMiss: func(s *testAccount) {
				// The admin role trusts EC2 only: CloudFormation cannot use it.
				s.role("cfn-admin", "/", serviceTrust("ec2.amazonaws.com"), adminPolicy)
				s.user("ci")
				s.inlineUser("ci", "deploy", allowDoc(`["cloudformation:CreateStack","iam:PassRole"]`, `"*"`))
			}, missRule: RuleEscalationNoTarget},
		{name: "Glue development endpoint with an admin role", principal: "etl", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/glue-admin",
			plant: func(s *testAccount) {
				s.role("glue-admin", "/", serviceTrust("glue.amazonaws.com"), adminPolicy)
				s.user("etl")
				s.inlineUser("etl", "glue", allowDoc(`["glue:CreateDevEndpoint","iam:PassRole"]`, `"*"`))
			}},
		{name: "CodeBuild with an admin service role", principal: "builder", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/build-admin",
			plant: func(s *testAccount) {
				s.role("build-admin", "/", serviceTrust("codebuild.amazonaws.com"), adminPolicy)
				s.user("builder")
				s.inlineUser("builder", "build", allowDoc(`["codebuild:CreateProject","codebuild:StartBuild","iam:PassRole"]`, `"*"`))
			}},
		{name: "EC2 instance profile with an admin role", principal: "ops", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/host-admin",
			plant: func(s *testAccount) {
				s.role("host-admin", "/", ec2Trust, adminPolicy)
				s.ok(s.c.CreateInstanceProfile(bg, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("host-admin")}))
				s.ok(s.c.AddRoleToInstanceProfile(bg, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("host-admin"), RoleName: aws.String("host-admin")}))
				s.user("ops")
				s.inlineUser("ops", "hosts", allowDoc(`["ec2:RunInstances","iam:PassRole"]`, `"*"`))
			},
			nearMiss: func(s *testAccount) {
				// No instance profile holds the role: RunInstances cannot use it.
				s.role("host-admin", "/", ec2Trust, adminPolicy)
				s.user("ops")
				s.inlineUser("ops", "hosts", allowDoc(`["ec2:RunInstances","iam:PassRole"]`, `"*"`))
			}, missRule: RuleEscalationNoTarget},
		{name: "add itself to the administrators' group", principal: "eve", rule: RuleEscalationConfirmed, kinds: []string{edgeJoin, "admin-equivalent"}, to: "group/Admins",
			plant: func(s *testAccount) {
				s.group("Admins", adminPolicy)
				s.user("eve")
				s.inlineUser("eve", "groups", allowDoc(`"iam:AddUserToGroup"`, `"arn:aws:iam::`+acct+`:group/*"`))
			},
			nearMiss: func(s *testAccount) {
				// A boundary keeps her from using what the group grants.
				s.group("Admins", adminPolicy)
				s.user("eve")
				s.inlineUser("eve", "groups", allowDoc(`"iam:AddUserToGroup"`, `"arn:aws:iam::`+acct+`:group/*"`))
				b := s.policy("OnlyGroups", allowDoc(`["iam:AddUserToGroup","s3:*"]`, `"*"`))
				s.ok(s.c.PutUserPermissionsBoundary(bg, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("eve"), PermissionsBoundary: aws.String(b)}))
			}},
		{name: "create an access key for an administrator", principal: "helpdesk", rule: RuleEscalationConfirmed, kinds: []string{edgeCreds, "admin-equivalent"}, to: "user/root-like",
			plant: func(s *testAccount) {
				s.user("root-like")
				s.attachUser("root-like", adminPolicy)
				s.user("helpdesk")
				s.inlineUser("helpdesk", "keys", allowDoc(`"iam:CreateAccessKey"`, `"arn:aws:iam::`+acct+`:user/*"`))
			},
			nearMiss: func(s *testAccount) {
				s.user("root-like")
				s.attachUser("root-like", adminPolicy)
				s.user("helpdesk")
				s.inlineUser("helpdesk", "keys", allowDoc(`"iam:CreateAccessKey"`, `"arn:aws:iam::`+acct+`:user/${aws:username}"`))
			}},
		{name: "write its own inline policy through ${aws:username}", principal: "self", rule: RuleEscalationConfirmed, kinds: []string{edgeSelf}, to: "administrator",
			plant: func(s *testAccount) {
				s.user("self")
				s.inlineUser("self", "own", allowDoc(`"iam:PutUserPolicy"`, `"arn:aws:iam::`+acct+`:user/${aws:username}"`))
			},
			nearMiss: func(s *testAccount) {
				s.user("self")
				s.inlineUser("self", "own", allowDoc(`"iam:PutUserPolicy"`, `"arn:aws:iam::`+acct+`:user/bots/${aws:username}"`))
			}},
		{name: "a chain: a role that may assume an admin role", principal: "analyst", rule: RuleEscalationConfirmed, kinds: []string{edgeAssume, edgeAssume, "admin-equivalent"}, to: "role/top",
			plant: func(s *testAccount) {
				s.role("top", "/", trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:role/middle"},"Action":"sts:AssumeRole"}`), adminPolicy)
				s.role("middle", "/", s.accountTrust(), s.policy("HopTop", allowDoc(`"sts:AssumeRole"`, `"arn:aws:iam::`+acct+`:role/top"`)))
				s.user("analyst")
				s.inlineUser("analyst", "hop", allowDoc(`"sts:AssumeRole"`, `"arn:aws:iam::`+acct+`:role/middle"`))
			},
			nearMiss: func(s *testAccount) {
				// The admin role trusts another role, not middle.
				s.role("top", "/", trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:role/breakglass"},"Action":"sts:AssumeRole"}`), adminPolicy)
				s.role("middle", "/", s.accountTrust(), s.policy("HopTop", allowDoc(`"sts:AssumeRole"`, `"arn:aws:iam::`+acct+`:role/top"`)))
				s.user("analyst")
				s.inlineUser("analyst", "hop", allowDoc(`"sts:AssumeRole"`, `"arn:aws:iam::`+acct+`:role/middle"`))
			}},
		{name: "PassRole with NotResource reaches the admin role", principal: "dev", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/fn-admin",
			plant: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","NotResource":"arn:aws:iam::`+acct+`:role/reader"}]}`)
			},
			nearMiss: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction","iam:PassRole"],"Resource":"*"},{"Effect":"Deny","Action":"iam:PassRole","Resource":"arn:aws:iam::`+acct+`:role/fn-admin"}]}`)
			}, missRule: RuleEscalationNoTarget},
		{name: "rewrite the policy of a role it can pass", principal: "liam", rule: RuleEscalationConfirmed, kinds: []string{edgeControl}, to: "role/app",
			plant: func(s *testAccount) {
				s.role("app", "/", ec2Trust, s.policy("AppData", allowDoc(`"s3:GetObject"`, `"arn:aws:s3:::app/*"`)))
				s.ok(s.c.CreateInstanceProfile(bg, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app")}))
				s.ok(s.c.AddRoleToInstanceProfile(bg, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app")}))
				s.user("liam")
				s.inlineUser("liam", "iam", allowDoc(`["iam:CreatePolicyVersion","iam:PassRole","ec2:RunInstances"]`, `"*"`))
			}},
		{name: "spelled otherwise: IAM:PASSROLE, lambda:Create*, a role ARN with wildcards", principal: "dev", rule: RuleEscalationConfirmed, kinds: []string{edgePass, "admin-equivalent"}, to: "role/fn-admin",
			plant: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["LAMBDA:Create*","lambda:invokefunction"],"Resource":"*"},{"Effect":"Allow","Action":"IAM:PASSROLE","Resource":"arn:aws:iam::*:role/fn-?dmin"}]}`)
			}},
		{name: "a trust policy that names the user, with no permission of its own", principal: "contractor", rule: RuleEscalationConfirmed, kinds: []string{edgeAssume, "admin-equivalent"}, to: "role/ops-admin",
			plant: func(s *testAccount) {
				s.user("contractor")
				s.role("ops-admin", "/", trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:user/contractor"},"Action":"sts:AssumeRole"}`), adminPolicy)
			},
			nearMiss: func(s *testAccount) {
				// Trusting the account delegates to its IAM: the user has no permission.
				s.user("contractor")
				s.role("ops-admin", "/", s.accountTrust(), adminPolicy)
			}},
		{name: "a conditional Deny leaves a conditional path", principal: "dev", rule: RuleEscalationPotential, kinds: []string{edgePass, "admin-equivalent"}, to: "role/fn-admin",
			plant: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "fn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction","iam:PassRole"],"Resource":"*"},{"Effect":"Deny","Action":"iam:PassRole","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`)
			}},
		{name: "assume an admin role whose trust asks for MFA (conditional)", principal: "bob", rule: RuleEscalationPotential, kinds: []string{edgeAssume, "admin-equivalent"}, to: "role/admin",
			plant: func(s *testAccount) {
				s.role("admin", "/", trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`), adminPolicy)
				s.user("bob")
				s.inlineUser("bob", "hop", allowDoc(`"sts:AssumeRole"`, `"arn:aws:iam::`+acct+`:role/admin"`))
			}},
		{name: "update the code of a function that may run with an admin role (conditional)", principal: "dev", rule: RuleEscalationPotential, kinds: []string{edgeExisting, "admin-equivalent"}, to: "role/fn-admin",
			plant: func(s *testAccount) {
				s.role("fn-admin", "/", lambdaTrustDoc, adminPolicy)
				s.user("dev")
				s.inlineUser("dev", "code", allowDoc(`"lambda:UpdateFunctionCode"`, `"*"`))
			},
			nearMiss: func(s *testAccount) {
				s.role("fn-logs", "/", lambdaTrustDoc, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
				s.user("dev")
				s.inlineUser("dev", "code", allowDoc(`"lambda:UpdateFunctionCode"`, `"*"`))
			}, missRule: RuleEscalationNoTarget},
	}
}

func TestEscalationPaths(t *testing.T) {
	for _, c := range pathCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, "", true)
			c.plant(s)
			rep, _ := s.review(Input{MinSeverity: "info"})
			f := mustFind(t, rep, c.rule, c.principal)
			wantSev := Critical
			if c.rule == RuleEscalationPotential {
				wantSev = High
			}
			if f.Severity != wantSev {
				t.Errorf("severity %s, want %s", f.Severity, wantSev)
			}
			var kinds []string
			for _, st := range f.Path {
				kinds = append(kinds, st.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(c.kinds, ",") {
				t.Errorf("path kinds %v, want %v: %s", kinds, c.kinds, pathJSON(f))
			}
			if last := f.Path[len(f.Path)-1]; !strings.Contains(last.To, c.to) {
				t.Errorf("path ends at %s, want %s", last.To, c.to)
			}
			if len(f.Evidence) == 0 {
				t.Errorf("no evidence")
			}
			checkPlans(t, rep)
			if c.rule == RuleEscalationConfirmed {
				runPlanAndReview(t, s, rep, f)
			}
			if c.nearMiss == nil {
				return
			}
			s = newSandbox(t, "", true)
			c.nearMiss(s)
			rep, _ = s.review(Input{MinSeverity: "info"})
			for _, rule := range []string{RuleEscalationConfirmed, RuleEscalationPotential} {
				if fs := find(rep, rule, c.principal); len(fs) != 0 {
					t.Errorf("near miss reported as %s: %s", rule, fs[0].Message)
				}
			}
			if c.missRule != "" {
				f := mustFind(t, rep, c.missRule, c.principal)
				if f.Severity != Low {
					t.Errorf("near miss severity %s", f.Severity)
				}
			}
		})
	}
}

func pathJSON(f Finding) string {
	b, _ := json.Marshal(f.Path)
	return string(b)
}

// runPlanAndReview runs a finding's plan as a person would on a server
// started with --allow-write: each call first as a dry run (which applies
// the guardrails and the catalogue's own checks), then for real; then
// reviews again. The finding is gone, and the other principals' findings
// are unchanged.
func runPlanAndReview(t *testing.T, s *testAccount, before *Report, f Finding) {
	t.Helper()
	if f.Remediation.Check == nil || f.Remediation.Check.Result != CheckPasses {
		t.Fatalf("plan check %+v", f.Remediation.Check)
	}
	w := hostiamtest.New(t, hostiamtest.Options{Sandbox: s.sb, Plugin: "person", Grants: api.Names(), Confirm: gate.ConfirmNone})
	for i, st := range f.Remediation.Steps {
		if st.Manual {
			t.Fatalf("step %d of a passing plan is manual: %s", i, st.Note)
		}
		args := map[string]any{}
		for k, v := range st.Args {
			args[k] = v
		}
		if op, _ := api.Lookup(st.Op); op.Mutates {
			args["dry_run"] = true
			var dry map[string]any
			if err := w.Call(st.Op, args, &dry); err != nil {
				t.Fatalf("dry run of step %d %s: %v", i, st.Op, err)
			}
			delete(args, "dry_run")
		}
		if err := w.Call(st.Op, args, nil); err != nil {
			t.Fatalf("step %d %s: %v", i, st.Op, err)
		}
	}
	after, _ := s.review(Input{MinSeverity: "info"})
	for _, rule := range []string{RuleEscalationConfirmed, RuleEscalationPotential} {
		if fs := find(after, rule, f.PrincipalName); len(fs) != 0 {
			t.Errorf("after the plan, %s still: %s", rule, fs[0].Message)
		}
	}
	others := func(r *Report) map[string]bool {
		m := map[string]bool{}
		for _, g := range r.Findings {
			if g.Principal != f.Principal && g.RuleID != RuleInlinePolicy {
				m[g.RuleID+" "+g.Principal] = true
			}
		}
		return m
	}
	b, a := others(before), others(after)
	for k := range b {
		if !a[k] {
			t.Errorf("after the plan, another finding is gone (something else changed): %s", k)
		}
	}
	for k := range a {
		if !b[k] {
			t.Errorf("after the plan, a new finding: %s", k)
		}
	}
}

// The account's own administrators are not escalation findings, and
// iam:* on the account's IAM resources is admin-equivalent for every rule
// that asks (the admin-without-MFA check missed it).
func TestIAMStarOnAccountIsAdmin(t *testing.T) {
	s := newSandbox(t, "", true)
	s.user("iamadmin")
	s.login("iamadmin")
	s.inlineUser("iamadmin", "iam", allowDoc(`"iam:*"`, `"arn:aws:iam::`+acct+`:*"`))
	rep, _ := s.review(Input{MinSeverity: "info"})
	mustFind(t, rep, RuleAdminNoMFA, "iamadmin")
	mustFind(t, rep, RuleInlineAdminPolicy, "iamadmin")
	if fs := find(rep, RuleEscalationConfirmed, "iamadmin"); len(fs) != 0 {
		t.Errorf("an administrator reported as escalating: %s", fs[0].Message)
	}
}

// A plan that would take away the last administrator says so instead of
// offering the calls; the first of two such plans passes.
func TestPlanKeepsTheLastAdministrator(t *testing.T) {
	s := newSandbox(t, "", true)
	s.group("Admins", adminPolicy)
	s.user("ann")
	s.join("ann", "Admins")
	s.user("breakglass")
	s.inlineUser("breakglass", "all", allowDoc(`"*"`, `"*"`))
	rep, _ := s.review(Input{MinSeverity: "info"})
	first := mustFind(t, rep, RuleAWSAdminAttached, "Admins")
	second := mustFind(t, rep, RuleInlineAdminPolicy, "breakglass")
	if first.Remediation.Check.Result == CheckRefused {
		t.Errorf("first admin removal refused: %+v", first.Remediation.Check)
	}
	if c := second.Remediation.Check; c.Result != CheckRefused || !strings.Contains(strings.Join(c.Problems, " "), "without any administrator") {
		t.Errorf("second admin removal: %+v", c)
	}
	for _, st := range second.Remediation.Steps {
		if !st.Manual {
			t.Errorf("a refused plan offers the call %s", st.Op)
		}
	}
	if !contains(first.Remediation.Check.Affects, "user ann") {
		t.Errorf("the group change does not name its member: %v", first.Remediation.Check.Affects)
	}
}

// A plan is checked against the server's guardrails as a dry run would:
// every plan of the demo organisation the review passes, in report order,
// passes the server's real dry run step by step and then runs; reviewed
// again, each finding whose plan changed something is gone.
func TestDemoPassingPlansRun(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, _ := s.review(Input{MinSeverity: "info", MaxFindingsPerRule: 100})
	w := hostiamtest.New(t, hostiamtest.Options{Sandbox: s.sb, Plugin: "person", Grants: api.Names(), Confirm: gate.ConfirmNone})
	passing, ran := 0, map[string]bool{}
	for _, f := range rep.Findings {
		if f.Remediation.Check == nil {
			t.Errorf("%s on %s: plan not checked", f.RuleID, f.PrincipalName)
			continue
		}
		if f.Remediation.Check.Result != CheckPasses {
			continue
		}
		passing++
		changed := false
		for i, st := range f.Remediation.Steps {
			if st.Manual {
				continue // "nothing more to do": an earlier plan made the change
			}
			op, _ := api.Lookup(st.Op)
			args := map[string]any{}
			for k, v := range st.Args {
				args[k] = v
			}
			if op.Mutates {
				args["dry_run"] = true
				err := w.Call(st.Op, args, nil)
				if err != nil && strings.Contains(err.Error(), "AWSSupportAccess does not exist") {
					changed = false
					break // an AWS managed policy the sandbox does not carry
				}
				if err != nil {
					t.Errorf("%s on %s step %d %s: the dry run refuses a plan the review passed: %v", f.RuleID, f.PrincipalName, i, st.Op, err)
					break
				}
				delete(args, "dry_run")
				changed = true
			}
			if err := w.Call(st.Op, args, nil); err != nil {
				t.Errorf("%s on %s step %d %s: %v", f.RuleID, f.PrincipalName, i, st.Op, err)
				break
			}
		}
		if changed {
			ran[f.RuleID+" "+f.Principal] = true
		}
	}
	s.advance(5 * time.Hour) // IAM serves the same credential report for four hours
	after, _ := s.review(Input{MinSeverity: "info", MaxFindingsPerRule: 100})
	for _, f := range after.Findings {
		if ran[f.RuleID+" "+f.Principal] {
			t.Errorf("%s on %s is still there after its plan ran", f.RuleID, f.PrincipalName)
		}
	}
	t.Logf("%d of %d plans pass; %d changed the account; %d findings before, %d after", passing, len(rep.Findings), len(ran), rep.Summary.Total, after.Summary.Total)
}

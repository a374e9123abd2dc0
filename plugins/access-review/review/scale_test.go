package review

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// Scale: an account of n principals in the proportions of a real one
// (60% users, 30% roles, 2% groups, 8% customer policies), with inline
// policies that differ per user, keys, trusts of every kind; reviewed with
// latency per IAM call. The test runs a small account; the benchmark the
// 10,000-principal one of the target (30 s, 200 calls).

// largeSandbox builds the account through the AWS SDK (no latency while
// building).
func largeSandbox(t testing.TB, n int) *sandbox.Server {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo", Quotas: sandbox.Quotas{Users: 2 * n, Roles: 2 * n, Groups: n, Policies: 2 * n}})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(bg, catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := clients.IAM
	check := func(_ any, err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	users, roles, groups, policies := n*60/100, n*30/100, max(n*2/100, 1), max(n*8/100, 1)
	var arns []string
	for i := 0; i < policies; i++ {
		doc := allowDoc(fmt.Sprintf(`["s3:GetObject","s3:PutObject","dynamodb:Query"]`), fmt.Sprintf(`["arn:aws:s3:::team-%d/*","arn:aws:dynamodb:*:*:table/team-%d"]`, i, i))
		if i%25 == 0 {
			doc = allowDoc(`["iam:PassRole","ec2:RunInstances"]`, `"*"`) // an escalation, shared
		}
		out, err := c.CreatePolicy(bg, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("team-%d", i)), Path: aws.String("/teams/"), PolicyDocument: aws.String(doc)})
		check(out, err)
		arns = append(arns, *out.Policy.Arn)
	}
	for i := 0; i < groups; i++ {
		g := fmt.Sprintf("group-%d", i)
		check(c.CreateGroup(bg, &iam.CreateGroupInput{GroupName: aws.String(g)}))
		check(c.AttachGroupPolicy(bg, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(arns[i%len(arns)])}))
	}
	for i := 0; i < users; i++ {
		u := fmt.Sprintf("user-%05d", i)
		check(c.CreateUser(bg, &iam.CreateUserInput{UserName: aws.String(u), Path: aws.String(fmt.Sprintf("/dept%d/", i%7))}))
		check(c.AddUserToGroup(bg, &iam.AddUserToGroupInput{UserName: aws.String(u), GroupName: aws.String(fmt.Sprintf("group-%d", i%groups))}))
		if i%10 == 0 {
			check(c.PutUserPolicy(bg, &iam.PutUserPolicyInput{UserName: aws.String(u), PolicyName: aws.String("home"),
				PolicyDocument: aws.String(allowDoc(`["s3:*"]`, fmt.Sprintf(`"arn:aws:s3:::home/%s/*"`, u)))}))
		}
		if i%3 == 0 {
			check(c.CreateAccessKey(bg, &iam.CreateAccessKeyInput{UserName: aws.String(u)}))
		}
		if i%5 == 0 {
			check(c.CreateLoginProfile(bg, &iam.CreateLoginProfileInput{UserName: aws.String(u), Password: aws.String("Correct-Horse-Battery-9")}))
		}
	}
	trusts := []string{ec2Trust,
		trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}`),
		trustOf(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}`),
		trustOf(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + sandbox.AccountID + `:root"},"Action":"sts:AssumeRole"}`)}
	for i := 0; i < roles; i++ {
		r := fmt.Sprintf("role-%05d", i)
		check(c.CreateRole(bg, &iam.CreateRoleInput{RoleName: aws.String(r), Path: aws.String("/apps/"), AssumeRolePolicyDocument: aws.String(trusts[i%len(trusts)])}))
		check(c.AttachRolePolicy(bg, &iam.AttachRolePolicyInput{RoleName: aws.String(r), PolicyArn: aws.String(arns[i%len(arns)])}))
	}
	return sb
}

func reviewLarge(t testing.TB, sb *sandbox.Server, latency time.Duration) (*Report, time.Duration) {
	h := hostiamtest.New(t, hostiamtest.Options{Sandbox: sb, Plugin: "access-review", Grants: Operations, ReadOnly: true, Latency: latency})
	start := time.Now()
	rep, err := Run(h, Input{}, Options{Sleep: func(time.Duration) {}})
	if err != nil {
		t.Fatal(err)
	}
	return rep, time.Since(start)
}

func TestScaleSmallAccount(t *testing.T) {
	const n = 2000
	sb := largeSandbox(t, n)
	rep, took := reviewLarge(t, sb, 20*time.Millisecond)
	if rep.Header.Reviewed.Users < n*60/100 || rep.Header.IAMCalls > 10 {
		t.Fatalf("%d users reviewed in %d calls", rep.Header.Reviewed.Users, rep.Header.IAMCalls)
	}
	if len(find(rep, RuleEscalationConfirmed, "")) == 0 || len(rep.Omitted) == 0 {
		t.Errorf("the shared escalation policy was not found, or nothing was capped: %v", rep.Summary.ByRule)
	}
	if len(rep.Markdown) > mdMaxBytes+64<<10 {
		t.Errorf("markdown of %d bytes", len(rep.Markdown))
	}
	t.Logf("%d principals, 20 ms per call: %v, %d IAM calls, %d distinct policy sets, %d findings, markdown %d KiB",
		n, took, rep.Header.IAMCalls, rep.Header.Reviewed.PolicySets, rep.Summary.Total, len(rep.Markdown)>>10)
}

// go test -run '^$' -bench Review10k ./plugins/access-review/review/
func BenchmarkReview10k(b *testing.B) {
	sb := largeSandbox(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, took := reviewLarge(b, sb, 20*time.Millisecond)
		b.ReportMetric(float64(rep.Header.IAMCalls), "iam-calls")
		b.ReportMetric(took.Seconds(), "s/review")
		b.ReportMetric(float64(rep.Header.Reviewed.PolicySets), "policy-sets")
	}
}

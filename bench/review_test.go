package bench

// The access review's benchmark (issue 6): on sandbox accounts of 1,000 and
// 10,000 principals (users, roles, groups and customer policies in
// proportion) with 20 ms of latency injected into every IAM request,
//
//   - "plugin": the shipped access-review plugin, built from source and run
//     by the plugin runtime through the plugins' gate, as an operator runs
//     it (bulk reads: authorization details, credential report, password
//     policy, account summary);
//   - "per-principal": the way prowler gathers, one call per entity and
//     per attached thing (ListUsers, then each user's attached and inline
//     policies, groups, keys and each key's last use, MFA devices, login
//     profile; the same for roles and groups; each customer policy's
//     default version), eight calls at a time like the plugin's batches,
//     and with no analysis at all, so it is a lower bound for that approach.
//
// Metrics: s/review (wall time), iam-calls (requests the sandbox served),
// MB-peak-rss (the process's peak resident memory during the run, reset
// before it). Targets: 10,000 principals in under 30 s with fewer than 200
// IAM calls.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
)

const reviewLatency = 20 * time.Millisecond

// countingTransport counts the requests that reach the sandbox.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// reviewAccount is a sandbox account of about n principals with 20 ms of
// latency per request, and a counter of the requests it serves.
type reviewAccount struct {
	sb      *sandbox.Server
	counter *countingTransport
}

var (
	accountsMu sync.Mutex
	accounts   = map[int]*reviewAccount{}
)

// bigReviewAccount builds (once per size) an account of n principals: 60%
// users, 25% roles, 3% groups, 12% customer policies. Users are in one or
// two groups, some with an attached policy, an inline policy or access
// keys; roles trust a service or another account and carry a policy;
// policies range from scoped to risky, so the review has work to do.
func bigReviewAccount(b *testing.B, n int) *reviewAccount {
	accountsMu.Lock()
	defer accountsMu.Unlock()
	if a := accounts[n]; a != nil {
		return a
	}
	sb, err := sandbox.New(sandbox.Options{
		Faults: sandbox.Faults{Latency: reviewLatency},
		Quotas: sandbox.Quotas{Users: 2 * n, Groups: n, Roles: n, Policies: n, InstanceProfiles: n},
	})
	if err != nil {
		b.Fatal(err)
	}
	a := &reviewAccount{sb: sb, counter: &countingTransport{next: sb.Transport()}}
	cl := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.local"),
		HTTPClient: &http.Client{Transport: sb.Transport()}, Credentials: aws.AnonymousCredentials{}})
	ctx := context.Background()
	users, roles, groups, policies := n*60/100, n*25/100, max(n*3/100, 1), n*12/100
	docs := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data-%d","arn:aws:s3:::data-%d/*"]}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:*","cloudwatch:Get*"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`,
	}
	var jobs []func() error
	add := func(f func() error) { jobs = append(jobs, f) }
	policyARN := func(i int) string { return fmt.Sprintf("arn:aws:iam::%s:policy/bench/p-%d", sandbox.AccountID, i) }
	for i := range policies {
		doc := docs[i%len(docs)]
		if i%len(docs) == 0 {
			doc = fmt.Sprintf(doc, i, i)
		}
		add(func() error {
			_, err := cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p-%d", i)), Path: aws.String("/bench/"), PolicyDocument: aws.String(doc)})
			return err
		})
	}
	for i := range groups {
		add(func() error {
			_, err := cl.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("g-%d", i))})
			return err
		})
	}
	run(b, jobs)
	jobs = nil
	for i := range groups {
		add(func() error {
			_, err := cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(fmt.Sprintf("g-%d", i)), PolicyArn: aws.String(policyARN(i % policies))})
			return err
		})
	}
	for i := range users {
		name := aws.String(fmt.Sprintf("u-%d", i))
		add(func() error {
			if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); err != nil {
				return err
			}
			if _, err := cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: name, GroupName: aws.String(fmt.Sprintf("g-%d", i%groups))}); err != nil {
				return err
			}
			if i%5 == 0 {
				if _, err := cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String(policyARN(i % policies))}); err != nil {
					return err
				}
			}
			if i%7 == 0 {
				if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String("inline"), PolicyDocument: aws.String(docs[1])}); err != nil {
					return err
				}
			}
			if i%3 == 0 {
				if _, err := cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	trusts := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::345678901234:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`,
	}
	for i := range roles {
		name := aws.String(fmt.Sprintf("r-%d", i))
		add(func() error {
			if _, err := cl.CreateRole(ctx, &iam.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: aws.String(trusts[i%len(trusts)])}); err != nil {
				return err
			}
			_, err := cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: aws.String(policyARN((i * 7) % policies))})
			return err
		})
	}
	run(b, jobs)
	accounts[n] = a
	return a
}

// run builds the account: jobs 256 at a time (each request sleeps the
// injected latency, so the account takes seconds, not minutes, to build).
func run(b *testing.B, jobs []func() error) {
	if err := runAll(jobs, 256); err != nil {
		b.Fatalf("building the account: %v", err)
	}
}

// runAll runs jobs, n at a time, and returns the first error.
func runAll(jobs []func() error, n int) error {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var first atomic.Value
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := j(); err != nil {
				first.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	err, _ := first.Load().(error)
	return err
}

var (
	reviewPluginOnce sync.Once
	reviewDir        string // the module and its plugins file, removed by TestMain
	reviewPluginYAML string
	reviewPluginErr  error
)

// reviewPlugin builds plugins/access-review and writes a plugins file
// granting it the read operations it declares, as plugins.yaml does.
func reviewPlugin(b *testing.B) string {
	reviewPluginOnce.Do(func() {
		if reviewDir, reviewPluginErr = os.MkdirTemp("", "iam-mcp-bench-review-"); reviewPluginErr != nil {
			return
		}
		wasm := filepath.Join(reviewDir, "access-review.wasm")
		if _, reviewPluginErr = testenv.BuildWasm("plugins/access-review", wasm); reviewPluginErr != nil {
			return
		}
		sha, desc, err := plugin.Inspect(context.Background(), wasm)
		if err != nil {
			reviewPluginErr = err
			return
		}
		ops := map[string]bool{}
		for _, t := range desc.Tools {
			for _, op := range t.Operations {
				ops[op] = true
			}
		}
		var grants []string
		for op := range ops {
			grants = append(grants, op)
		}
		reviewPluginYAML = filepath.Join(reviewDir, "plugins.yaml")
		reviewPluginErr = os.WriteFile(reviewPluginYAML, []byte(fmt.Sprintf(`plugins:
  - name: access-review
    path: access-review.wasm
    sha256: %s
    prefix: ""
    grants: [%s]
    limits:
      memory: 1GiB
      timeout: 10m
`, sha, strings.Join(grants, ", "))), 0o600)
	})
	if reviewPluginErr != nil {
		b.Fatal(reviewPluginErr)
	}
	return reviewPluginYAML
}

func BenchmarkAccessReview(b *testing.B) {
	if testing.Short() {
		b.Skip("builds accounts of 10,000 principals")
	}
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("principals=%d/plugin", n), func(b *testing.B) {
			a := bigReviewAccount(b, n)
			host := reviewHost(b, a)
			for i := 0; i < b.N; i++ {
				resetPeakRSS()
				before := a.counter.n.Load()
				t0 := time.Now()
				res, err := host.Call(context.Background(), "access_review", json.RawMessage(`{}`), nil)
				elapsed := time.Since(t0)
				if err != nil || res.IsError {
					b.Fatalf("access_review: %v %+v", err, res)
				}
				b.ReportMetric(elapsed.Seconds(), "s/review")
				b.ReportMetric(float64(a.counter.n.Load()-before), "iam-calls")
				b.ReportMetric(peakRSSMB(), "MB-peak-rss")
			}
		})
		b.Run(fmt.Sprintf("principals=%d/per-principal", n), func(b *testing.B) {
			a := bigReviewAccount(b, n)
			cl := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.local"),
				HTTPClient: &http.Client{Transport: a.counter}, Credentials: aws.AnonymousCredentials{}})
			for i := 0; i < b.N; i++ {
				resetPeakRSS()
				before := a.counter.n.Load()
				t0 := time.Now()
				if err := gatherPerPrincipal(context.Background(), cl); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(time.Since(t0).Seconds(), "s/review")
				b.ReportMetric(float64(a.counter.n.Load()-before), "iam-calls")
				b.ReportMetric(peakRSSMB(), "MB-peak-rss")
			}
		})
	}
}

// reviewHost loads the access-review plugin over a gate on the account's
// counting transport.
func reviewHost(b *testing.B, a *reviewAccount) *plugin.Runtime {
	file := reviewPlugin(b)
	clients, err := catalogue.NewClients(context.Background(), catalogue.ClientOptions{Sandbox: a.counter})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: filepath.Join(b.TempDir(), "secrets")}})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := plugin.LoadConfig(file)
	if err != nil {
		b.Fatal(err)
	}
	h, err := plugin.Load(context.Background(), cfg, plugin.Options{
		Gate: gate.New(cat, gate.Options{ReadOnly: true}), CacheDir: filepath.Join(filepath.Dir(file), "cache"), Concurrency: batchConcurrency,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// gatherPerPrincipal reads what an access review needs one entity at a
// time, batchConcurrency requests in flight: the baseline.
func gatherPerPrincipal(ctx context.Context, cl *iam.Client) error {
	var jobs []func() error
	users, err := allUsers(ctx, cl)
	if err != nil {
		return err
	}
	for _, u := range users {
		jobs = append(jobs, func() error {
			if _, err := cl.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u}); err != nil {
				return err
			}
			inline, err := cl.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: u})
			if err != nil {
				return err
			}
			for _, p := range inline.PolicyNames {
				if _, err := cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: u, PolicyName: aws.String(p)}); err != nil {
					return err
				}
			}
			if _, err := cl.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: u}); err != nil {
				return err
			}
			keys, err := cl.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u})
			if err != nil {
				return err
			}
			for _, k := range keys.AccessKeyMetadata {
				if _, err := cl.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}); err != nil {
					return err
				}
			}
			if _, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: u}); err != nil {
				return err
			}
			_, err = cl.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: u})
			if err != nil && !strings.Contains(err.Error(), "NoSuchEntity") {
				return err
			}
			return nil
		})
	}
	for p := iam.NewListRolesPaginator(cl, &iam.ListRolesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.Roles {
			name := r.RoleName
			jobs = append(jobs, func() error {
				if _, err := cl.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name}); err != nil {
					return err
				}
				_, err := cl.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
				return err
			})
		}
	}
	for p := iam.NewListGroupsPaginator(cl, &iam.ListGroupsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			name := g.GroupName
			jobs = append(jobs, func() error {
				if _, err := cl.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: name}); err != nil {
					return err
				}
				_, err := cl.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: name})
				return err
			})
		}
	}
	for p := iam.NewListPoliciesPaginator(cl, &iam.ListPoliciesInput{Scope: "Local"}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, pol := range page.Policies {
			arn, v := pol.Arn, pol.DefaultVersionId
			jobs = append(jobs, func() error {
				_, err := cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: v})
				return err
			})
		}
	}
	jobs = append(jobs,
		func() error { _, err := cl.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); return err },
		func() error {
			_, err := cl.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
			if err != nil && strings.Contains(err.Error(), "NoSuchEntity") {
				return nil
			}
			return err
		})
	return runAll(jobs, batchConcurrency)
}

func allUsers(ctx context.Context, cl *iam.Client) ([]*string, error) {
	var out []*string
	for p := iam.NewListUsersPaginator(cl, &iam.ListUsersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			out = append(out, u.UserName)
		}
	}
	return out, nil
}

// resetPeakRSS resets the process's peak resident set (Linux: writing 5
// to clear_refs), so peakRSSMB measures one run.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB is the process's peak resident set since the last reset, in
// MB (0 where /proc is missing).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

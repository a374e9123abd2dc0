package bench

// The access review's benchmark (issues 6 and 14): on sandbox accounts of
// 1,000 and 10,000 principals (users, roles, groups and customer policies
// in proportion) with 20 ms of latency injected into every IAM request,
//
//   - "plugin": the shipped access-review plugin, built from source and run
//     by the plugin runtime through the plugins' gate, as an operator runs
//     it (bulk reads: authorization details, credential report, password
//     policy, account summary);
//   - "native": the same workflow code (package review of
//     plugins/access-review) compiled into this test binary and driven
//     through the test kit's client (hostiamtest.New) over the same
//     sandbox, with the same grants, the same read-only gate and the same
//     injected latency: the cost of Wasm is plugin − native (issue 14's
//     target: within 2×). Its report must agree with the plugin's (same
//     findings, principals and IAM calls), or the benchmark fails;
//   - "per-principal": the way prowler gathers, one call per entity and
//     per attached thing (ListUsers, then each user's attached and inline
//     policies, groups, keys and each key's last use, MFA devices, login
//     profile; the same for roles and groups; each customer policy's
//     default version), eight calls at a time like the plugin's batches,
//     and with no analysis at all, so it is a lower bound for that approach.
//
// Metrics: s/review (wall time); s-cpu/review (the process's CPU time
// during the run, which a busy machine disturbs less than wall time);
// iam-calls (requests the sandbox served, retries included); and memory, measured the same way for
// every variant (see settle): MB-peak-rss, the process's peak resident
// memory during the run, which also holds the sandboxes' accounts, the
// compiled plugin and the test binary; MB-idle-rss, the process settled
// just before the run (account built, runtime or kit ready); MB-added-rss,
// peak − idle, what the review itself costs; and MB-account-rss, what
// building the account added to the settled process. Targets: 10,000
// principals in under 30 s with fewer than 200 IAM calls; Wasm within 2× of
// native and under 200 MB.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/testenv"
	"github.com/iammcp/iam-mcp-server/plugins/access-review/review"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
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
	rssMB   float64 // what building it added to the settled process's resident memory
}

var (
	builtMu sync.Mutex
	built   = map[int]*reviewAccount{}
)

// bigReviewAccount builds (once per size) an account of n principals
// (seedAccount).
func bigReviewAccount(b *testing.B, n int) *reviewAccount {
	builtMu.Lock()
	defer builtMu.Unlock()
	if a := built[n]; a != nil {
		return a
	}
	before := settle()
	sb, err := sandbox.New(sandbox.Options{
		Faults: sandbox.Faults{Latency: reviewLatency},
		Quotas: sandbox.Quotas{Users: 2 * n, Groups: n, Roles: n, Policies: n, InstanceProfiles: n},
	})
	if err != nil {
		b.Fatal(err)
	}
	a := &reviewAccount{sb: sb, counter: &countingTransport{next: sb.Transport()}}
	if err := seedAccount(sb.Transport(), sandbox.AccountID, n); err != nil {
		b.Fatalf("building the account: %v", err)
	}
	a.rssMB = max(settle()-before, 0)
	built[n] = a
	return a
}

// seedAccount fills the sandbox account that transport reaches (its id is
// accountID) with about n principals: 60% users, 25% roles, 3% groups, 12%
// customer policies. Users are in one or two groups, some with an attached
// policy, an inline policy or access keys; roles trust a service or
// another account and carry a policy; policies range from scoped to risky,
// so the review has work to do.
func seedAccount(transport http.RoundTripper, accountID string, n int) error {
	cl := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.local"),
		HTTPClient: &http.Client{Transport: transport}, Credentials: aws.AnonymousCredentials{}})
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
	policyARN := func(i int) string { return fmt.Sprintf("arn:aws:iam::%s:policy/bench/p-%d", accountID, i) }
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
	if err := runAll(jobs, 256); err != nil {
		return err
	}
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
	return runAll(jobs, 256)
}

// runAll runs jobs, n at a time, and returns the first error. Building an
// account runs 256 at a time: each request sleeps the injected latency, so
// the account takes seconds, not minutes, to build.
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
		var fromPlugin *review.Report // the plugin's report, checked against native's
		b.Run(fmt.Sprintf("principals=%d/plugin", n), func(b *testing.B) {
			a := bigReviewAccount(b, n)
			host := reviewHost(b, a)
			// One short review first, unmeasured: the plugin's first call
			// compiles it (through the warm compilation cache) and starts
			// its instance, the guest's runtime and its action reference,
			// once per server; the figure compared with the native run is
			// the steady one. Its cost is in BenchmarkStartup and the
			// access review's first-call row.
			t0 := time.Now()
			if res, err := host.Call(context.Background(), "access_review", json.RawMessage(`{"scope":"account"}`), nil); err != nil || res.IsError {
				b.Fatalf("access_review, warm-up: %v %+v", err, res)
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s/first-call")
			idle := settle()
			for i := 0; i < b.N; i++ {
				resetPeakRSS()
				before := a.counter.n.Load()
				t0, cpu0 := time.Now(), cpuSeconds()
				res, err := host.Call(context.Background(), "access_review", json.RawMessage(`{}`), nil)
				elapsed, cpu := time.Since(t0), cpuSeconds()-cpu0
				if err != nil || res.IsError {
					b.Fatalf("access_review: %v %+v", err, res)
				}
				peak := peakRSSMB()
				fromPlugin = &review.Report{}
				if err := json.Unmarshal(res.StructuredContent, fromPlugin); err != nil {
					b.Fatalf("the plugin's report: %v", err)
				}
				reportReview(b, a, elapsed, cpu, a.counter.n.Load()-before, idle, peak)
			}
		})
		b.Run(fmt.Sprintf("principals=%d/native", n), func(b *testing.B) {
			a := bigReviewAccount(b, n)
			// The plugin's grants (review.Operations is what it declares)
			// on a read-only gate, as reviewHost loads it; the sandbox's
			// own latency applies to the kit's requests as to the
			// runtime's (the kit's Latency option would add a second one).
			// The recorder counts the requests that reach the sandbox, as
			// the account's counter does for the plugin.
			rec := &hostiamtest.Recorder{}
			h := hostiamtest.New(b, hostiamtest.Options{Sandbox: a.sb, Plugin: "access-review", Grants: review.Operations, ReadOnly: true, Recorder: rec})
			idle := settle()
			for i := 0; i < b.N; i++ {
				h.NewToolCall()
				resetPeakRSS()
				before := rec.Requests()
				t0, cpu0 := time.Now(), cpuSeconds()
				rep, err := review.Run(h, review.Input{}, review.Options{})
				elapsed, cpu := time.Since(t0), cpuSeconds()-cpu0
				if err != nil {
					b.Fatalf("review.Run: %v", err)
				}
				peak := peakRSSMB()
				if fromPlugin != nil {
					if diff := sameReview(fromPlugin, rep); diff != "" {
						b.Fatalf("the native review differs from the plugin's on the same account: %s", diff)
					}
				}
				reportReview(b, a, elapsed, cpu, int64(rec.Requests()-before), idle, peak)
			}
		})
		b.Run(fmt.Sprintf("principals=%d/per-principal", n), func(b *testing.B) {
			a := bigReviewAccount(b, n)
			cl := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.local"),
				HTTPClient: &http.Client{Transport: a.counter}, Credentials: aws.AnonymousCredentials{}})
			idle := settle()
			for i := 0; i < b.N; i++ {
				resetPeakRSS()
				before := a.counter.n.Load()
				t0, cpu0 := time.Now(), cpuSeconds()
				if err := gatherPerPrincipal(context.Background(), cl); err != nil {
					b.Fatal(err)
				}
				reportReview(b, a, time.Since(t0), cpuSeconds()-cpu0, a.counter.n.Load()-before, idle, peakRSSMB())
			}
		})
	}
}

// reportReview reports one run's metrics (see the top of this file).
func reportReview(b *testing.B, a *reviewAccount, elapsed time.Duration, cpu float64, calls int64, idle, peak float64) {
	b.ReportMetric(elapsed.Seconds(), "s/review")
	b.ReportMetric(cpu, "s-cpu/review")
	b.ReportMetric(a.rssMB, "MB-account-rss")
	b.ReportMetric(float64(calls), "iam-calls")
	b.ReportMetric(peak, "MB-peak-rss")
	b.ReportMetric(idle, "MB-idle-rss")
	b.ReportMetric(max(peak-idle, 0), "MB-added-rss")
}

// sameReview says how two reviews of one account differ in what they
// found, read and cost ("" when they agree). Times are left out: the two
// runs are seconds apart.
func sameReview(plugin, native *review.Report) string {
	switch {
	case !reflect.DeepEqual(plugin.Summary, native.Summary):
		return fmt.Sprintf("summary %+v (plugin) against %+v (native)", plugin.Summary, native.Summary)
	case plugin.Header.Reviewed != native.Header.Reviewed:
		return fmt.Sprintf("reviewed %+v (plugin) against %+v (native)", plugin.Header.Reviewed, native.Header.Reviewed)
	case !reflect.DeepEqual(plugin.Header.IAMCallsByOp, native.Header.IAMCallsByOp):
		return fmt.Sprintf("IAM calls %v (plugin) against %v (native)", plugin.Header.IAMCallsByOp, native.Header.IAMCallsByOp)
	case len(plugin.Findings) != len(native.Findings):
		return fmt.Sprintf("%d findings listed (plugin) against %d (native)", len(plugin.Findings), len(native.Findings))
	}
	return ""
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

// settle brings the process to a repeatable idle state before a run and
// returns its resident memory then, in MB: the garbage of earlier runs
// collected and the freed heap returned to the OS, so that what a run adds
// (its peak less this) is its own and not what the previous sub-benchmark
// left behind or the Go runtime kept.
func settle() float64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatusMB("VmRSS:")
}

// cpuSeconds is the CPU time the process has used, user and system, in
// seconds: beside the wall time, a measure that other work on a busy
// machine disturbs less (it counts the sandbox, the gate and the runtime
// as much as the review; a run of the same code natively and as Wasm
// differs by what Wasm costs).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// resetPeakRSS resets the process's peak resident set (Linux: writing 5
// to clear_refs), so peakRSSMB measures one run.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB is the process's peak resident set since the last reset, in
// MB (0 where /proc is missing).
func peakRSSMB() float64 { return procStatusMB("VmHWM:") }

// procStatusMB reads one of /proc/self/status's sizes, in MB (0 where /proc
// is missing).
func procStatusMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

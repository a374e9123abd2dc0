package bench

// The organisation-wide access review's benchmark (issue 15): an AWS
// Organization in the sandbox of 50 member accounts of 1,000 principals
// each (seedAccount's mix), with 20 ms of latency injected into every
// request, reviewed by the shipped access-review plugin with
// {"accounts": ["*"]} through a read-only gate that reaches the members by
// discovery through OrganizationAccountAccessRole, as `--accounts` with a
// discovery section does. Targets: under 60 s, and under 10 IAM calls per
// account besides the AssumeRole that opens its session.
//
// Metrics: s/review; iam-calls/account (requests the sandbox served for
// the review, less the AssumeRole calls and the Organizations reads, per
// member); assume-role (AssumeRole requests: one per account, cached
// after); org-calls (Organizations requests: describe_organization's);
// accounts (members the report covers); MB-peak-rss and MB-added-rss as in
// review_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/accounts"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const (
	orgMembers    = 50
	orgPrincipals = 1000
)

// orgCounter counts what reaches the organisation's sandbox, by kind.
type orgCounter struct {
	next                      http.RoundTripper
	total, assumeRole, orgAPI atomic.Int64
}

func (c *orgCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.total.Add(1)
	switch {
	case strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AWSOrganizations"):
		c.orgAPI.Add(1)
	case r.Body != nil:
		// STS and IAM share the Query protocol: the action is in the form.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		if bytes.Contains(body, []byte("Action=AssumeRole&")) {
			c.assumeRole.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.next.RoundTrip(r)
}

// bigOrg builds the organisation: a management account and orgMembers
// members of orgPrincipals principals each, with the review's latency, and
// a management-account user whose key the server signs with (an
// account's root cannot assume roles).
func bigOrg(b *testing.B) (*sandbox.Server, string, float64) {
	before := settle()
	members := make([]sandbox.Member, orgMembers)
	for i := range members {
		members[i] = sandbox.Member{ID: fmt.Sprintf("5000000000%02d", i), Name: fmt.Sprintf("member-%02d", i), ParentOU: "Workloads"}
	}
	n := orgPrincipals
	sb, err := sandbox.New(sandbox.Options{
		Members: members,
		OUs:     []sandbox.OU{{Name: "Workloads"}},
		Faults:  sandbox.Faults{Latency: reviewLatency},
		Quotas:  sandbox.Quotas{Users: 2 * n, Groups: n, Roles: n, Policies: n, InstanceProfiles: n},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sb.Close() })
	var jobs []func() error
	for _, m := range members {
		jobs = append(jobs, func() error { return seedAccount(sb.MemberTransport(m.ID), m.ID, n) })
	}
	// Each account's seeding runs 256 requests at a time already.
	if err := runAll(jobs, 4); err != nil {
		b.Fatalf("building the organisation: %v", err)
	}
	ctx := context.Background()
	root := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://sandbox.local"),
		HTTPClient: &http.Client{Transport: sb.Transport()}, Credentials: aws.AnonymousCredentials{}})
	if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bench-operator")}); err != nil {
		b.Fatal(err)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bench-operator"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		b.Fatal(err)
	}
	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bench-operator")})
	if err != nil {
		b.Fatal(err)
	}
	return sb, aws.ToString(key.AccessKey.AccessKeyId), max(settle()-before, 0)
}

// orgReviewHost loads the access-review plugin over a read-only gate that
// reaches every member by discovery, on the counting transport.
func orgReviewHost(b *testing.B, counter *orgCounter, keyID string) *plugin.Runtime {
	ctx := context.Background()
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: counter, SandboxKeyID: keyID})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := accounts.New(ctx, &accounts.File{Discovery: &accounts.Discovery{RoleName: sandbox.OrgAccessRoleName}},
		accounts.Options{Clients: clients, Self: gate.Account{Self: true, ReadOnly: true}})
	if err != nil {
		b.Fatal(err)
	}
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: filepath.Join(b.TempDir(), "secrets")},
		Accounts: func() []api.ReachableAccount { return reg.Reachable(nil) }})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := plugin.LoadConfig(reviewPlugin(b))
	if err != nil {
		b.Fatal(err)
	}
	h, err := plugin.Load(ctx, cfg, plugin.Options{
		Gate:     gate.New(cat, gate.Options{ReadOnly: true, Accounts: reg}),
		CacheDir: filepath.Join(filepath.Dir(reviewPlugin(b)), "cache"), Concurrency: batchConcurrency,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(context.Background()) })
	return h
}

func BenchmarkOrgAccessReview(b *testing.B) {
	if testing.Short() {
		b.Skip("builds an organisation of 50 accounts of 1,000 principals")
	}
	sb, keyID, built := bigOrg(b)
	counter := &orgCounter{next: sb.Transport()}
	host := orgReviewHost(b, counter, keyID)
	// Unmeasured, as in BenchmarkAccessReview: the plugin's first call
	// compiles and starts it.
	if res, err := host.Call(context.Background(), "access_review", json.RawMessage(`{"scope":"account"}`), nil); err != nil || res.IsError {
		b.Fatalf("access_review, warm-up: %v %+v", err, res)
	}
	idle := settle()
	for i := 0; i < b.N; i++ {
		resetPeakRSS()
		total, assume, org := counter.total.Load(), counter.assumeRole.Load(), counter.orgAPI.Load()
		t0, cpu0 := time.Now(), cpuSeconds()
		res, err := host.Call(context.Background(), "access_review", json.RawMessage(`{"accounts":["*"]}`), nil)
		elapsed, cpu := time.Since(t0), cpuSeconds()-cpu0
		if err != nil || res.IsError {
			b.Fatalf("access_review over the organisation: %v %+v", err, res)
		}
		peak := peakRSSMB()
		var rep struct {
			Accounts []json.RawMessage `json:"accounts"`
		}
		if err := json.Unmarshal(res.StructuredContent, &rep); err != nil {
			b.Fatalf("the report: %v", err)
		}
		assumed, orgCalls := counter.assumeRole.Load()-assume, counter.orgAPI.Load()-org
		iamCalls := counter.total.Load() - total - assumed - orgCalls
		b.ReportMetric(elapsed.Seconds(), "s/review")
		b.ReportMetric(cpu, "s-cpu/review")
		b.ReportMetric(float64(iamCalls)/float64(orgMembers+1), "iam-calls/account")
		b.ReportMetric(float64(assumed), "assume-role")
		b.ReportMetric(float64(orgCalls), "org-calls")
		b.ReportMetric(float64(len(rep.Accounts)), "accounts")
		b.ReportMetric(built, "MB-org-rss")
		b.ReportMetric(peak, "MB-peak-rss")
		b.ReportMetric(max(peak-idle, 0), "MB-added-rss")
	}
}

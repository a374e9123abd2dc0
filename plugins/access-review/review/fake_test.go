package review

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// A fake host over constructed api values, for the tests of the pure parts
// (rules on crafted reports and documents, paging, retries, the report's
// shape and size) that need no sandbox.

const fxAccount = "123456789012"

var fxNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func daysBefore(d int) *time.Time {
	t := fxNow.Add(-time.Duration(d) * 24 * time.Hour)
	return &t
}

// fixture is an account as the bulk reads return it. newFixture is a clean
// one: strong password policy, root with MFA and no keys, a support role.
type fixture struct {
	auth    api.AuthorizationDetailsOutput
	report  api.CredentialReportOutput
	pwd     api.PasswordPolicyOutput
	summary map[string]int
}

func newFixture() *fixture {
	f := &fixture{
		report: api.CredentialReportOutput{GeneratedTime: fxNow, Rows: []api.CredentialReportRow{
			{User: rootRowName, Arn: "arn:aws:iam::" + fxAccount + ":root", UserCreationTime: daysBefore(1000), MFAActive: true},
		}},
		pwd: api.PasswordPolicyOutput{Present: true, PasswordPolicy: &api.PasswordPolicy{MinimumPasswordLength: 16, RequireSymbols: true, RequireNumbers: true,
			RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, AllowUsersToChangePassword: true, PasswordReusePrevention: 24}},
		summary: map[string]int{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0},
	}
	f.awsPolicy("AWSSupportAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*"],"Resource":"*"}]}`)
	f.awsPolicy("SecurityAudit", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","cloudtrail:DescribeTrails"],"Resource":"*"}]}`)
	f.role("support", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+fxAccount+`:root"},"Action":"sts:AssumeRole"}]}`,
		"arn:aws:iam::aws:policy/AWSSupportAccess", "arn:aws:iam::aws:policy/SecurityAudit")
	return f
}

func (f *fixture) policy(arn, name, path, doc string) *api.ManagedPolicyDetail {
	f.auth.Policies = append(f.auth.Policies, api.ManagedPolicyDetail{
		ManagedPolicy: api.ManagedPolicy{PolicyName: name, Arn: arn, Path: path, DefaultVersionID: "v1", IsAttachable: true, CreateDate: *daysBefore(500)},
		Versions:      []api.PolicyVersion{{VersionID: "v1", IsDefaultVersion: true, Document: api.PolicyDocument(doc)}},
	})
	return &f.auth.Policies[len(f.auth.Policies)-1]
}

func (f *fixture) awsPolicy(name, doc string) string {
	arn := "arn:aws:iam::aws:policy/" + name
	f.policy(arn, name, "/", doc)
	return arn
}

func (f *fixture) customerPolicy(name, doc string) string {
	arn := "arn:aws:iam::" + fxAccount + ":policy/" + name
	f.policy(arn, name, "/", doc)
	return arn
}

// attach counts attachments as IAM's AttachmentCount does.
func (f *fixture) attached(arns []string) []api.AttachedPolicy {
	var out []api.AttachedPolicy
	for _, a := range arns {
		for i := range f.auth.Policies {
			if f.auth.Policies[i].Arn == a {
				f.auth.Policies[i].AttachmentCount++
				out = append(out, api.AttachedPolicy{PolicyName: f.auth.Policies[i].PolicyName, PolicyArn: a})
			}
		}
	}
	return out
}

func (f *fixture) user(name, path string, groups []string, inline map[string]string, policies ...string) *api.UserDetail {
	u := api.UserDetail{User: api.User{UserName: name, Path: path, Arn: "arn:aws:iam::" + fxAccount + ":user" + path + name, CreateDate: *daysBefore(400)},
		Groups: groups, AttachedPolicies: f.attached(policies)}
	for _, k := range sortedKeys(inline) {
		u.InlinePolicies = append(u.InlinePolicies, api.InlinePolicy{PolicyName: k, PolicyDocument: api.PolicyDocument(inline[k])})
	}
	f.auth.Users = append(f.auth.Users, u)
	f.report.Rows = append(f.report.Rows, api.CredentialReportRow{User: name, Arn: u.Arn, UserCreationTime: daysBefore(400)})
	return &f.auth.Users[len(f.auth.Users)-1]
}

func (f *fixture) group(name string, inline map[string]string, policies ...string) {
	g := api.GroupDetail{Group: api.Group{GroupName: name, Path: "/", Arn: "arn:aws:iam::" + fxAccount + ":group/" + name, CreateDate: *daysBefore(400)},
		AttachedPolicies: f.attached(policies)}
	for _, k := range sortedKeys(inline) {
		g.InlinePolicies = append(g.InlinePolicies, api.InlinePolicy{PolicyName: k, PolicyDocument: api.PolicyDocument(inline[k])})
	}
	f.auth.Groups = append(f.auth.Groups, g)
}

func (f *fixture) role(name, path, trust string, policies ...string) *api.RoleDetail {
	last := daysBefore(1)
	r := api.RoleDetail{Role: api.Role{RoleName: name, Path: path, Arn: "arn:aws:iam::" + fxAccount + ":role" + path + name, CreateDate: *daysBefore(400),
		AssumeRolePolicyDocument: api.PolicyDocument(trust), LastUsedDate: last}, AttachedPolicies: f.attached(policies)}
	f.auth.Roles = append(f.auth.Roles, r)
	return &f.auth.Roles[len(f.auth.Roles)-1]
}

// row returns the report row of a user.
func (f *fixture) row(name string) *api.CredentialReportRow {
	for i := range f.report.Rows {
		if f.report.Rows[i].User == name {
			return &f.report.Rows[i]
		}
	}
	panic("no row " + name)
}

// fakeHost answers the review's operations from a fixture (or from
// handlers a test installs), counting calls.
type fakeHost struct {
	mu       sync.Mutex
	handlers map[string]func(in json.RawMessage) (any, error)
	calls    map[string]int
	progress []string
	readOnly bool
}

func (f *fixture) host(pageSize int) *fakeHost {
	h := &fakeHost{handlers: map[string]func(json.RawMessage) (any, error){}, calls: map[string]int{}}
	h.handlers[opAuthDetails] = func(in json.RawMessage) (any, error) {
		var req api.AuthorizationDetailsInput
		if err := json.Unmarshal(in, &req); err != nil {
			return nil, err
		}
		want := map[string]bool{}
		for _, k := range req.Filter {
			want[k] = true
		}
		all := len(req.Filter) == 0
		type entry struct {
			add func(*api.AuthorizationDetailsOutput)
		}
		var entries []entry
		if all || want["User"] {
			for _, u := range f.auth.Users {
				entries = append(entries, entry{func(o *api.AuthorizationDetailsOutput) { o.Users = append(o.Users, u) }})
			}
		}
		if all || want["Group"] {
			for _, g := range f.auth.Groups {
				entries = append(entries, entry{func(o *api.AuthorizationDetailsOutput) { o.Groups = append(o.Groups, g) }})
			}
		}
		if all || want["Role"] {
			for _, r := range f.auth.Roles {
				entries = append(entries, entry{func(o *api.AuthorizationDetailsOutput) { o.Roles = append(o.Roles, r) }})
			}
		}
		for _, p := range f.auth.Policies {
			aws := strings.HasPrefix(p.Arn, "arn:aws:iam::aws:")
			if (aws && (all || want["AWSManagedPolicy"])) || (!aws && (all || want["LocalManagedPolicy"])) {
				entries = append(entries, entry{func(o *api.AuthorizationDetailsOutput) { o.Policies = append(o.Policies, p) }})
			}
		}
		start := 0
		if req.Marker != "" {
			fmt.Sscanf(req.Marker, "%d", &start)
		}
		n := pageSize
		if req.MaxItems > 0 && req.MaxItems < n {
			n = req.MaxItems
		}
		out := &api.AuthorizationDetailsOutput{}
		end := min(start+n, len(entries))
		for _, e := range entries[start:end] {
			e.add(out)
		}
		if end < len(entries) {
			out.IsTruncated, out.Marker = true, fmt.Sprint(end)
		}
		return out, nil
	}
	h.handlers[opGenerateCredReport] = func(json.RawMessage) (any, error) { return api.GenerateCredentialReportOutput{State: "COMPLETE"}, nil }
	h.handlers[opGetCredReport] = func(json.RawMessage) (any, error) { return f.report, nil }
	h.handlers[opPasswordPolicy] = func(json.RawMessage) (any, error) { return f.pwd, nil }
	h.handlers[opAccountSummary] = func(json.RawMessage) (any, error) { return api.AccountSummaryOutput{Summary: f.summary}, nil }
	return h
}

func (h *fakeHost) Call(op string, in, out any) error {
	h.mu.Lock()
	h.calls[op]++
	fn := h.handlers[op]
	h.mu.Unlock()
	if fn == nil {
		return &api.Error{Code: api.NotGranted, Message: op + " is not granted"}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	res, err := fn(b)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

func (h *fakeHost) Batch(reqs []hostiam.Request) []error {
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = h.Call(r.Op, r.In, r.Out)
	}
	return errs
}

func (h *fakeHost) Progress(done, total float64, message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.progress = append(h.progress, message)
}

func (h *fakeHost) Info() (*api.HostInfo, error) {
	return &api.HostInfo{AccountID: fxAccount, Partition: "aws", ReadOnly: h.readOnly, Plugin: "access-review", Grants: Operations}, nil
}

func (h *fakeHost) total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.calls {
		n += c
	}
	return n
}

// run reviews a fixture at fxNow with instant sleeps.
func run(t testing.TB, h hostiam.Client, in Input) *Report {
	t.Helper()
	rep, err := Run(h, in, Options{Now: func() time.Time { return fxNow }, Sleep: func(time.Duration) {}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// reviewAll runs with a cap high enough that nothing is cut.
func reviewAll(t testing.TB, h hostiam.Client) *Report {
	return run(t, h, Input{MaxFindingsPerRule: maxMaxFindingsPerRule, MinSeverity: "info"})
}

// find returns the findings of a rule, optionally only those on principals
// whose ARN or name ends with suffix.
func find(rep *Report, rule, suffix string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.RuleID == rule && (suffix == "" || strings.HasSuffix(f.Principal, suffix) || f.PrincipalName == suffix) {
			out = append(out, f)
		}
	}
	return out
}

// mustFind fails unless exactly one finding of the rule is on the principal.
func mustFind(t *testing.T, rep *Report, rule, suffix string) Finding {
	t.Helper()
	fs := find(rep, rule, suffix)
	if len(fs) != 1 {
		t.Fatalf("%s on %s: want 1 finding, got %d; all: %v", rule, suffix, len(fs), ruleSummary(rep))
	}
	return fs[0]
}

// ruleSummary lists rule→principals, for failure messages.
func ruleSummary(rep *Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.RuleID+"@"+f.PrincipalName)
	}
	sort.Strings(out)
	return out
}

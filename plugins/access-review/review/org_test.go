package review

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// The organisation review on fixtures: four accounts as H1's `org` seed
// plants them (the management account, shared, dev and prod), each
// answered by the fixture host of fake_test.go, behind a Client that runs
// every request in the account it names, as the server does.

const (
	orgMgmt   = fxAccount
	orgShared = "222222222222"
	orgDev    = "333333333333"
	orgProd   = "444444444444"
	// orgSentinel stands for the management account in fixtures, which
	// are written in fxAccount (the management account's id too).
	orgSentinel = "000000000000"
)

const (
	docAdmin    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	docReadOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*"],"Resource":"*"}]}`
	docDeploy   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*","lambda:*"],"Resource":"*"}]}`
	docRewrite  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion"],"Resource":"*"}]}`
	docTeam     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::team/*"}]}`
	docDenyIAM  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion","iam:AttachUserPolicy","iam:PutUserPolicy"],"Resource":"*"}]}`
)

func trustAWS(who string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + who + `"},"Action":"sts:AssumeRole"}]}`
}

func assumeDoc(resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + resource + `"}]}`
}

// orgFixtures builds the four accounts. Fixtures are written in fxAccount
// and moved to their account by rewriting the id in every ARN.
func orgFixtures() map[string]*fixture {
	out := map[string]*fixture{}
	base := func() *fixture {
		f := newFixture()
		f.awsPolicy("AdministratorAccess", docAdmin)
		f.awsPolicy("ReadOnlyAccess", docReadOnly)
		return f
	}
	orgAccess := func(f *fixture) {
		// orgSentinel: the management account, written after the move.
		f.role(OrgAccessRoleName, "/", trustAWS("arn:aws:iam::"+orgSentinel+":root"), "arn:aws:iam::aws:policy/AdministratorAccess")
	}

	m := base()
	m.user("iam-mcp-operator", "/", nil, nil, "arn:aws:iam::aws:policy/AdministratorAccess")
	out[orgMgmt] = m

	s := base()
	orgAccess(s)
	s.role("shared-tooling", "/", trustAWS("arn:aws:iam::"+orgDev+":user/dev-engineer"))
	s.auth.Roles[len(s.auth.Roles)-1].InlinePolicies = []api.InlinePolicy{{PolicyName: "to-prod", PolicyDocument: api.PolicyDocument(assumeDoc("arn:aws:iam::" + orgProd + ":role/prod-admin"))}}
	team := s.customerPolicy("team", docTeam)
	s.user("shared-intern", "/", nil, map[string]string{"rewrite": docRewrite}, team)
	out[orgShared] = s

	d := base()
	orgAccess(d)
	d.user("dev-ci", "/", nil, map[string]string{"assume": assumeDoc("*")})
	d.user("dev-reader", "/", nil, nil, "arn:aws:iam::aws:policy/ReadOnlyAccess")
	d.user("dev-engineer", "/", nil, map[string]string{"assume": assumeDoc("arn:aws:iam::" + orgShared + ":role/shared-tooling")})
	dteam := d.customerPolicy("team", docTeam)
	d.user("dev-intern", "/", nil, map[string]string{"rewrite": docRewrite}, dteam)
	out[orgDev] = d

	p := base()
	orgAccess(p)
	deploy := p.customerPolicy("deploy", docDeploy)
	p.role("dev-deploy", "/", trustAWS("arn:aws:iam::"+orgDev+":root"), deploy)
	p.role("prod-admin", "/", trustAWS("arn:aws:iam::"+orgShared+":role/shared-tooling"), "arn:aws:iam::aws:policy/AdministratorAccess")
	out[orgProd] = p

	for id, f := range out {
		moveFixture(f, id)
	}
	return out
}

// moveFixture moves a fixture to its account: the ids in its own ARNs
// (the other accounts' ids in trust and resources stay), and orgSentinel
// to the management account.
func moveFixture(f *fixture, id string) {
	for _, v := range []any{&f.auth, &f.report} {
		b, _ := json.Marshal(v)
		b = []byte(strings.ReplaceAll(string(b), ":"+fxAccount+":", ":"+id+":"))
		b = []byte(strings.ReplaceAll(string(b), ":"+orgSentinel+":", ":"+orgMgmt+":"))
		if err := json.Unmarshal(b, v); err != nil {
			panic(err)
		}
	}
}

// orgOutput is the organisation as describe_organization answers it.
func orgOutput() api.OrganizationOutput {
	full := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	return api.OrganizationOutput{
		ID: "o-exampleorg", ManagementAccountID: orgMgmt, FeatureSet: "ALL", SCPsEnabled: true,
		Roots:               []api.OrgUnit{{ID: "r-root", Name: "Root"}},
		OrganizationalUnits: []api.OrgUnit{{ID: "ou-infra", Name: "Infrastructure", ParentID: "r-root"}, {ID: "ou-work", Name: "Workloads", ParentID: "r-root"}},
		Accounts: []api.OrgAccount{
			{ID: orgMgmt, Name: "management", Status: "ACTIVE", ParentID: "r-root"},
			{ID: orgShared, Name: "shared", Status: "ACTIVE", ParentID: "ou-infra"},
			{ID: orgDev, Name: "dev", Status: "ACTIVE", ParentID: "ou-work"},
			{ID: orgProd, Name: "prod", Status: "ACTIVE", ParentID: "ou-work"},
		},
		Policies: []api.SCP{
			{ID: "p-FullAWSAccess", Name: "FullAWSAccess", AWSManaged: true, Document: full,
				Targets: []string{"r-root", "ou-infra", "ou-work", orgMgmt, orgShared, orgDev, orgProd}},
			{ID: "p-denyiam", Name: "DenyIAMPolicyRewrites", Document: docDenyIAM, Targets: []string{orgDev}},
		},
	}
}

// orgHost is a server of several accounts over fixture hosts: a request
// runs in the account it names (id or alias), "" in the management one.
type orgHost struct {
	mu      sync.Mutex
	hosts   map[string]*fakeHost
	aliases map[string]string
	batches [][]string // the accounts of each batch's requests, in order
}

func newOrgHost(fs map[string]*fixture, org *api.OrganizationOutput) *orgHost {
	h := &orgHost{hosts: map[string]*fakeHost{}, aliases: map[string]string{
		"acme-management": orgMgmt, "acme-shared": orgShared, "acme-dev": orgDev, "acme-prod": orgProd}}
	for id, f := range fs {
		h.hosts[id] = f.host(1000)
	}
	mh := h.hosts[orgMgmt]
	if org != nil {
		mh.handlers[opDescribeOrganization] = func(json.RawMessage) (any, error) { return org, nil }
	}
	return h
}

func (h *orgHost) in(account string) (*fakeHost, error) {
	if account == "" {
		return h.hosts[orgMgmt], nil
	}
	if id, ok := h.aliases[account]; ok {
		account = id
	}
	if fh := h.hosts[account]; fh != nil {
		return fh, nil
	}
	return nil, &api.Error{Code: api.AccountNotAllowed, Message: account + " is not allowed"}
}

func (h *orgHost) Call(op string, in, out any) error {
	return h.Batch([]hostiam.Request{{Op: op, In: in, Out: out}})[0]
}

func (h *orgHost) Batch(reqs []hostiam.Request) []error {
	errs := make([]error, len(reqs))
	var accts []string
	for i, r := range reqs {
		accts = append(accts, r.Account)
		fh, err := h.in(r.Account)
		if err != nil {
			errs[i] = err
			continue
		}
		errs[i] = fh.Call(r.Op, r.In, r.Out)
	}
	h.mu.Lock()
	h.batches = append(h.batches, accts)
	h.mu.Unlock()
	return errs
}

func (h *orgHost) Progress(done, total float64, message string) {}

func (h *orgHost) Info() (*api.HostInfo, error) {
	return &api.HostInfo{AccountID: orgMgmt, Partition: "aws", ReadOnly: true, Plugin: "access-review", Grants: Operations,
		Accounts: []api.ReachableAccount{
			{ID: orgMgmt, Alias: "acme-management", Self: true, ReadOnly: true, Confirm: "destructive"},
			{ID: orgShared, Alias: "acme-shared", ReadOnly: true, Confirm: "destructive"},
			{ID: orgDev, Alias: "acme-dev", ReadOnly: true, Confirm: "destructive"},
			{ID: orgProd, Alias: "acme-prod", ReadOnly: true, Confirm: "destructive"},
		}}, nil
}

// account returns the account's part of an organisation review.
func orgAccountOf(t *testing.T, rep *Report, id string) *AccountReport {
	t.Helper()
	for i := range rep.Accounts {
		if rep.Accounts[i].AccountID == id {
			return &rep.Accounts[i]
		}
	}
	t.Fatalf("no account %s in the review", id)
	return nil
}

func findIn(fs []Finding, rule, name string) []Finding {
	return find(&Report{Findings: fs}, rule, name)
}

func TestOrgReviewFindsThePlantedProblems(t *testing.T) {
	org := orgOutput()
	h := newOrgHost(orgFixtures(), &org)
	rep := run(t, h, Input{Accounts: []string{"*"}, MinSeverity: "info", MaxFindingsPerRule: maxMaxFindingsPerRule})
	checkPlanted(t, rep)

	// Lockstep: the first batch holds the organisation's read and the
	// first read of every account.
	if len(h.batches) == 0 || len(h.batches[0]) != 5 {
		t.Errorf("first batch: %v, want describe_organization and one read of each of 4 accounts", h.batches)
	}
	// The cost: under 10 calls per account, describe_organization once.
	for _, a := range rep.Accounts {
		if a.Header.IAMCalls >= 10 || a.Header.IAMCalls == 0 {
			t.Errorf("account %s: %d IAM calls (%v)", a.AccountID, a.Header.IAMCalls, a.Header.IAMCallsByOp)
		}
	}
	if n := h.hosts[orgMgmt].calls[opDescribeOrganization]; n != 1 {
		t.Errorf("describe_organization called %d times", n)
	}
	if rep.Header.IAMCallsByOp[opDescribeOrganization] != 1 {
		t.Errorf("header: %v", rep.Header.IAMCallsByOp)
	}
	for _, want := range []string{"# IAM access review — organisation o-exampleorg, 4 accounts", "## Across accounts", "## IAM access review — account 333333333333 (acme-dev)", "DenyIAMPolicyRewrites", "dev-engineer"} {
		if !strings.Contains(rep.Markdown, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	// Structured: every part is JSON.
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// checkPlanted checks the org seed's planted problems in a review of all
// its accounts (shared with the sandbox tests).
func checkPlanted(t *testing.T, rep *Report) {
	t.Helper()
	if rep.Organization == nil || rep.Organization.Error != "" || !rep.Organization.SCPsEnabled {
		t.Fatalf("organisation: %+v", rep.Organization)
	}
	if len(rep.Accounts) != 4 {
		t.Fatalf("%d accounts reviewed", len(rep.Accounts))
	}
	// (a) prod's dev-deploy, trusted by all of dev: reached by dev-ci,
	// not by dev-reader.
	f := mustFind(t, rep, RuleXAccountAssume, "dev-deploy")
	if !strings.Contains(f.Message, "dev-ci") || strings.Contains(f.Message, "dev-reader") {
		t.Errorf("dev-deploy: %s", f.Message)
	}
	edge := func(from, to string) bool {
		for _, e := range rep.CrossAccount.Edges {
			if strings.HasSuffix(e.From, from) && strings.HasSuffix(e.To, to) {
				return true
			}
		}
		return false
	}
	if !edge(":user/dev-ci", ":role/dev-deploy") || edge(":user/dev-reader", ":role/dev-deploy") {
		t.Errorf("edges into dev-deploy: %+v", rep.CrossAccount.Edges)
	}
	// (b) dev-engineer → shared-tooling → prod-admin.
	c := mustFind(t, rep, RuleXAccountAdmin, "dev-engineer")
	var hops []string
	for _, s := range c.Path {
		hops = append(hops, s.To[strings.LastIndex(s.To, "/")+1:])
	}
	if got := strings.Join(hops, ","); got != "shared-tooling,prod-admin,prod-admin" || c.Status != StatusConfirmed {
		t.Errorf("chain: %s (%s): %s", got, c.Status, c.Message)
	}
	// (c) shared-intern's escalation confirmed; dev-intern's blocked by
	// the SCP, and said so.
	shared, dev := orgAccountOf(t, rep, orgShared), orgAccountOf(t, rep, orgDev)
	if len(findIn(shared.Findings, RuleEscalationConfirmed, "shared-intern")) != 1 {
		t.Errorf("shared-intern: no confirmed escalation: %v", ruleSummary(&Report{Findings: shared.Findings}))
	}
	for _, rule := range []string{RuleEscalationConfirmed, RuleEscalationPotential, RuleEscalationNoTarget} {
		if fs := findIn(dev.Findings, rule, "dev-intern"); len(fs) != 0 {
			t.Errorf("dev-intern: %s: %s", rule, fs[0].Message)
		}
	}
	blocked := false
	for _, b := range dev.BlockedBySCP {
		blocked = blocked || (strings.HasSuffix(b.Principal, "/dev-intern") && strings.Contains(b.By, "DenyIAMPolicyRewrites"))
	}
	if !blocked {
		t.Errorf("dev: blocked by SCP: %+v", dev.BlockedBySCP)
	}
	// The organisation's access role: once per member account, as info,
	// and not as a cross-account trust problem.
	for _, id := range []string{orgShared, orgDev, orgProd} {
		a := orgAccountOf(t, rep, id)
		if n := len(findIn(a.Findings, RuleTrustOrgAccess, OrgAccessRoleName)); n != 1 {
			t.Errorf("%s: %d org access findings", id, n)
		}
		if fs := findIn(a.Findings, RuleTrustCrossAccount, OrgAccessRoleName); len(fs) != 0 {
			t.Errorf("%s: org access role reported as %s", id, RuleTrustCrossAccount)
		}
	}
	// The management account's way into the members is not a chain.
	for _, f := range rep.Findings {
		if strings.Contains(f.Principal, ":"+orgMgmt+":") {
			t.Errorf("across accounts: %s from the management account: %s", f.RuleID, f.Message)
		}
	}
}

// Without the organisation (describe_organization refused) the review
// says so and runs without SCPs: dev-intern's escalation is confirmed.
func TestOrgReviewWithoutOrganisation(t *testing.T) {
	h := newOrgHost(orgFixtures(), nil)
	rep := run(t, h, Input{Accounts: []string{"acme-dev", orgShared}})
	if rep.Organization == nil || !strings.Contains(rep.Organization.Error, "NotGranted") {
		t.Fatalf("organisation: %+v", rep.Organization)
	}
	if len(rep.Header.Unreadable) != 1 || !strings.Contains(rep.Markdown, "without SCPs") {
		t.Errorf("header: %+v", rep.Header.Unreadable)
	}
	if len(rep.Accounts) != 2 || rep.Accounts[0].AccountID != orgDev {
		t.Fatalf("accounts: %+v", rep.Accounts)
	}
	if len(findIn(rep.Accounts[0].Findings, RuleEscalationConfirmed, "dev-intern")) != 1 {
		t.Errorf("dev-intern without SCPs: %v", ruleSummary(&Report{Findings: rep.Accounts[0].Findings}))
	}
}

func TestOrgReviewRefusesUnknownAccounts(t *testing.T) {
	h := newOrgHost(orgFixtures(), nil)
	for _, in := range [][]string{{"acme-staging"}, {"*", orgDev}, {""}} {
		_, err := Run(h, Input{Accounts: in}, Options{})
		if hostiam.Code(err) != api.InvalidInput || (in[0] == "acme-staging" && !strings.Contains(err.Error(), "444444444444 (acme-prod)")) {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// Without accounts the review is the one-account review, byte for byte:
// the organisation's parts stay out of the JSON.
func TestNoAccountsIsTheOneAccountReview(t *testing.T) {
	rep := reviewAll(t, newFixture().host(1000))
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"organization"`, `"accounts"`, `"cross_account"`} {
		if strings.Contains(string(b), k) {
			t.Errorf("one-account report has %s", k)
		}
	}
}

// A step that holds only under a condition (MFA) makes the chain
// conditional: high, not critical.
func TestOrgReviewConditionalChain(t *testing.T) {
	org := orgOutput()
	fs := orgFixtures()
	p := fs[orgProd]
	for i := range p.auth.Roles {
		if p.auth.Roles[i].RoleName == "prod-admin" {
			p.auth.Roles[i].AssumeRolePolicyDocument = api.PolicyDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + orgShared + `:role/shared-tooling"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)
		}
	}
	rep := run(t, newOrgHost(fs, &org), Input{Accounts: []string{"*"}, MinSeverity: "info"})
	if n := len(find(rep, RuleXAccountAdmin, "dev-engineer")); n != 0 {
		t.Errorf("a conditional chain reported confirmed")
	}
	f := mustFind(t, rep, RuleXAccountAdminCond, "dev-engineer")
	if f.Status != StatusPotential || !strings.Contains(f.Message, "under conditions") {
		t.Errorf("%s: %s", f.Status, f.Message)
	}
}

package review

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// The organisation review: Input.Accounts names several accounts (or "*"
// for every one the plugin may reach, as host_info lists them). Each is
// reviewed with the one-account rules, its SCPs applied to every decision
// (scp.go); the accounts are then looked at together for the roles one
// account's principals can assume in another (crossaccount.go).
//
// Go compiled to Wasm has one thread, so the accounts are gathered in
// lockstep: each round sends, in one iam_batch (chunked), the next read of
// every account still gathering, and the host runs them concurrently. A
// review of 50 accounts then takes the rounds of one account (pages of
// authorization details, the credential report, the password policy and
// the summary), not fifty times that.

// Organisation review bounds.
const (
	// maxAccounts bounds Input.Accounts (and what "*" may expand to).
	maxAccounts = 1000
	// orgBatchChunk is how many requests one iam_batch of a round holds:
	// the host runs a batch's requests concurrently, bounded, so a round
	// of 50 accounts goes as four batches of calls in flight together.
	orgBatchChunk = 16
	// orgMarkdownBudget is the Markdown the accounts share: each account's
	// part is cut at its share (and at least orgMarkdownMinPerAccount).
	orgMarkdownBudget        = 512 << 10
	orgMarkdownMinPerAccount = 12 << 10
	// OrgAccessRoleName is the role AWS Organizations creates in an
	// account it creates, trusting the management account: the
	// organisation's intended way in.
	OrgAccessRoleName = "OrganizationAccountAccessRole"
)

const opDescribeOrganization = "describe_organization"

// orgAccount is one account to review.
type orgAccount struct {
	ra   api.ReachableAccount
	name string // how requests name it: "" for the server's own account
}

// parseAccounts resolves Input.Accounts against the accounts host_info
// offers: exact ids or aliases, or "*" alone for all of them. An unknown
// name is refused with the list of what is offered.
func parseAccounts(names []string, offered []api.ReachableAccount) ([]orgAccount, error) {
	if len(names) > maxAccounts {
		return nil, fmt.Errorf("accounts: %d names; at most %d", len(names), maxAccounts)
	}
	var out []orgAccount
	seen := map[string]bool{}
	add := func(ra api.ReachableAccount) {
		if seen[ra.ID] {
			return
		}
		seen[ra.ID] = true
		name := ra.ID
		if ra.Self {
			name = ""
		}
		out = append(out, orgAccount{ra: ra, name: name})
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "*":
			if len(names) != 1 {
				return nil, fmt.Errorf(`accounts: "*" means every account the plugin may reach and cannot be combined with names`)
			}
			for _, ra := range offered {
				add(ra)
			}
			continue
		case n == "" || len(n) > 64:
			return nil, fmt.Errorf("accounts: %q is not an account id or alias (1 to 64 characters); %s", truncateName(n), offeredText(offered))
		}
		found := false
		for _, ra := range offered {
			if n == ra.ID || (ra.Alias != "" && n == ra.Alias) {
				add(ra)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("accounts: %q is not an account this plugin may reach; %s", truncateName(n), offeredText(offered))
		}
	}
	if len(out) > maxAccounts {
		return nil, fmt.Errorf("accounts: %d accounts; at most %d per review: name them in parts", len(out), maxAccounts)
	}
	return out, nil
}

func truncateName(s string) string {
	if len(s) > 70 {
		return s[:64] + "…"
	}
	return s
}

// offeredText lists what host_info offers, for a refusal.
func offeredText(offered []api.ReachableAccount) string {
	var list []string
	for _, ra := range offered {
		s := ra.ID
		if ra.Alias != "" {
			s += " (" + ra.Alias + ")"
		}
		list = append(list, s)
	}
	return `use ids or aliases host_info lists, or ["*"] for all: ` + capList(list, 50)
}

// reachable is what host_info offers; a server of one account offers its
// own.
func reachable(info *api.HostInfo) []api.ReachableAccount {
	if info == nil {
		return nil
	}
	if len(info.Accounts) > 0 {
		return info.Accounts
	}
	if info.AccountID == "" {
		return nil
	}
	return []api.ReachableAccount{{ID: info.AccountID, Self: true, ReadOnly: info.ReadOnly, Confirm: info.Confirm}}
}

// runOrg reviews several accounts: see the file comment.
func runOrg(h hostiam.Client, in Input, cfg *config, o Options) (*Report, error) {
	info, err := h.Info()
	if err != nil {
		return nil, fmt.Errorf("the organisation review needs host_info to know the accounts it may reach: %w", err)
	}
	accts, err := parseAccounts(in.Accounts, reachable(info))
	if err != nil {
		return nil, &api.Error{Code: api.InvalidInput, Message: err.Error()}
	}
	partition := "aws"
	if info.Partition != "" {
		partition = info.Partition
	}
	now := o.Now().UTC()
	step := 0
	progress := func(msg string) {
		step++
		h.Progress(float64(step), 0, msg)
	}
	shared := newEngine()

	// One review context per account; its IAM calls run in its account.
	rs := make([]*reviewCtx, len(accts))
	for i, a := range accts {
		ah := accountClient{Client: hostiam.In(h, a.name), progress: progress, label: accountLabel(a.ra)}
		rs[i] = &reviewCtx{cfg: cfg, now: now, h: ah, account: a.ra.ID, partition: partition,
			c: &counter{h: ah, byOp: map[string]int{}, sleep: o.Sleep}}
	}

	progress(fmt.Sprintf("reading %d accounts in lockstep, and the organisation", len(accts)))
	names := make([]string, len(accts))
	for i, a := range accts {
		names[i] = a.name
	}
	org, orgCalls, orgErr := gatherOrg(h, rs, names, cfg, o.Sleep, progress)

	orgInfo := &OrgInfo{}
	var orgNotes []string
	var orgUnreadable []Unreadable
	if orgErr != nil {
		u := Unreadable{What: "the organisation (its accounts, OUs and service control policies)", Op: opDescribeOrganization, Message: orgErr.Error(),
			Impact: "every account was reviewed without SCPs: an escalation an SCP blocks may be reported as confirmed, and accounts are not placed in the organisation"}
		if e, ok := orgErr.(*api.Error); ok {
			u.Code, u.Message = string(e.Code), e.Message
		}
		orgUnreadable = append(orgUnreadable, u)
		orgInfo.Error = u.Code + ": " + u.Message
	} else {
		orgInfo.ID, orgInfo.ManagementAccountID, orgInfo.SCPsEnabled, orgInfo.Accounts = org.ID, org.ManagementAccountID, org.SCPsEnabled, len(org.Accounts)
	}
	tree := newOrgTree(org)

	// Each account's review, its SCPs applied.
	var reports []AccountReport
	var reviewed []*reviewCtx
	for i, r := range rs {
		a := accts[i]
		ar := AccountReport{AccountID: a.ra.ID, Alias: a.ra.Alias, ReadOnly: a.ra.ReadOnly}
		levels, place, mgmt := tree.levels(a.ra.ID, shared)
		ar.Management, ar.OrgPath = mgmt, place
		for _, l := range levels {
			ar.SCPs = append(ar.SCPs, SCPLevel{Target: l.target, Policies: append([]string{}, l.names...)})
		}
		if name := tree.accountName(a.ra.ID); name != "" {
			ar.Name = name
		}
		r.e = shared.forAccount(newSCPGate(levels))
		if org != nil {
			r.org = &orgView{mgmt: org.ManagementAccountID, id: org.ID}
		}
		if r.g.auth == nil && r.g.report == nil && r.g.password == nil && r.g.summary == nil {
			ar.Error = "nothing could be read in this account: " + unreadableText(r.g.unreadable) + ". Check that the server reaches it (get_account_info) and that the plugin may act in it"
			ar.Header = Header{AccountID: a.ra.ID, Partition: partition, GeneratedAt: now, Scope: cfg.scopeText, MinSeverity: cfg.minSeverity,
				Include: append([]string{}, cfg.includeList...), ReadOnly: a.ra.ReadOnly, IAMCalls: r.c.total, IAMCallsByOp: r.c.byOp,
				Unreadable: append([]Unreadable{}, r.g.unreadable...)}
			ar.Summary = Summary{ByRule: []RuleCount{}}
			ar.Findings = []Finding{}
			reports = append(reports, ar)
			continue
		}
		rep := r.analyse(a.ra.ReadOnly)
		ar.Header, ar.Summary, ar.Findings, ar.Omitted = rep.Header, rep.Summary, rep.Findings, rep.Omitted
		ar.BlockedBySCP = r.blocked
		reports = append(reports, ar)
		reviewed = append(reviewed, r)
	}

	progress("following roles across accounts")
	x := crossAccount(reviewed, tree, cfg)
	sum, listed, omitted := assemble(x.findings, cfg)
	orgNotes = append(orgNotes, x.notes...)

	rep := &Report{
		Header: Header{
			AccountID: info.AccountID, Partition: partition, GeneratedAt: now,
			Scope: cfg.scopeText, MinSeverity: cfg.minSeverity, Include: append([]string{}, cfg.includeList...),
			ReadOnly: info.ReadOnly, IAMCallsByOp: map[string]int{}, Unreadable: orgUnreadable, Notes: orgNotes,
		},
		Findings: listed, Omitted: omitted,
		Organization: orgInfo, Accounts: reports,
		CrossAccount: &CrossAccount{Edges: x.edges, EdgesTotal: x.edgesTotal, Summary: sum},
	}
	rep.Header.IAMCalls += orgCalls
	if orgCalls > 0 {
		rep.Header.IAMCallsByOp[opDescribeOrganization] += orgCalls
	}
	all := []Summary{sum}
	for _, ar := range reports {
		rep.Header.IAMCalls += ar.Header.IAMCalls
		for op, n := range ar.Header.IAMCallsByOp {
			rep.Header.IAMCallsByOp[op] += n
		}
		rv := &rep.Header.Reviewed
		rv.Users += ar.Header.Reviewed.Users
		rv.Groups += ar.Header.Reviewed.Groups
		rv.Roles += ar.Header.Reviewed.Roles
		rv.Policies += ar.Header.Reviewed.Policies
		rv.InlinePolicies += ar.Header.Reviewed.InlinePolicies
		rv.PolicySets += ar.Header.Reviewed.PolicySets
		all = append(all, ar.Summary)
	}
	rep.Summary = mergeSummaries(all)
	fitOrgReport(rep, orgJSONBudget)
	rep.Markdown = orgMarkdown(rep)
	step++
	h.Progress(float64(step), float64(step), fmt.Sprintf("done: %d accounts, %d findings, %d IAM calls", len(reports), rep.Summary.Total, rep.Header.IAMCalls))
	return rep, nil
}

func unreadableText(us []Unreadable) string {
	var msgs []string
	for _, u := range us {
		code := ""
		if u.Code != "" {
			code = u.Code + ": "
		}
		msgs = append(msgs, u.Op+": "+code+u.Message)
	}
	return strings.Join(msgs, "; ")
}

func accountLabel(ra api.ReachableAccount) string {
	if ra.Alias != "" {
		return ra.ID + " (" + ra.Alias + ")"
	}
	return ra.ID
}

// accountClient is an account's view of the host: its calls run in the
// account (hostiam.In), and its progress is the organisation review's,
// which only ever increases.
type accountClient struct {
	hostiam.Client
	progress func(string)
	label    string
}

func (a accountClient) Progress(_, _ float64, message string) {
	a.progress("account " + a.label + ": " + message)
}

// mergeSummaries adds summaries up: per severity, and per rule in the
// order of Rules.
func mergeSummaries(all []Summary) Summary {
	var out Summary
	perSev := map[Severity]int{}
	perRule := map[string]*RuleCount{}
	for _, s := range all {
		out.Total += s.Total
		out.BelowMinSeverity += s.BelowMinSeverity
		for _, sc := range s.BySeverity {
			perSev[sc.Severity] += sc.Count
		}
		for _, rc := range s.ByRule {
			if x := perRule[rc.RuleID]; x != nil {
				x.Count += rc.Count
				x.Listed += rc.Listed
			} else {
				c := rc
				perRule[rc.RuleID] = &c
			}
		}
	}
	for s := Critical; s >= Info; s-- {
		out.BySeverity = append(out.BySeverity, SeverityCount{s, perSev[s]})
	}
	out.ByRule = []RuleCount{}
	for _, rc := range perRule {
		out.ByRule = append(out.ByRule, *rc)
	}
	sort.Slice(out.ByRule, func(i, j int) bool {
		a, b := out.ByRule[i], out.ByRule[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		return ruleOrder[a.RuleID] < ruleOrder[b.RuleID]
	})
	return out
}

// ---- the lockstep gather ----

// gatherOrg reads every account's bulk data in lockstep rounds, and the
// organisation (from the server's own account) in the first round. It
// returns the organisation (nil when unreadable), the calls that cost, and
// why it could not be read.
func gatherOrg(h hostiam.Client, rs []*reviewCtx, names []string, cfg *config, sleep func(time.Duration), progress func(string)) (*api.OrganizationOutput, int, error) {
	gs := make([]*accountGather, len(rs))
	for i, r := range rs {
		gs[i] = newAccountGather(cfg)
		r.g = gs[i].g
	}
	var org api.OrganizationOutput
	var orgErr error
	orgCalls := 0
	first := true
	for round := 1; ; round++ {
		var reqs []hostiam.Request
		var owners []int // index in rs of each request; -1 for the organisation's
		var wait time.Duration
		if first {
			reqs = append(reqs, hostiam.Request{Op: opDescribeOrganization, In: api.Empty{}, Out: &org})
			owners = append(owners, -1)
		}
		for i, g := range gs {
			if req, delay, ok := g.next(); ok {
				req.Account = names[i]
				reqs = append(reqs, req)
				owners = append(owners, i)
				wait = max(wait, delay)
			}
		}
		if len(reqs) == 0 {
			break
		}
		if wait > 0 {
			sleep(wait)
		}
		if !first {
			progress(fmt.Sprintf("reading the accounts: round %d, %d accounts still reading", round, len(reqs)))
		}
		errs := batchRetrying(h, reqs, orgBatchChunk, func(k int) {
			if owners[k] < 0 {
				orgCalls++
			} else {
				rs[owners[k]].c.count(reqs[k].Op, 1)
			}
		}, sleep)
		for k, err := range errs {
			if owners[k] < 0 {
				orgErr = err
				continue
			}
			gs[owners[k]].deliver(err)
		}
		first = false
	}
	if orgErr != nil {
		return nil, orgCalls, orgErr
	}
	return &org, orgCalls, nil
}

// Phases of an account's gather, in the order gather runs them.
const (
	phAuth = iota
	phGenerate
	phGetReport
	phPassword
	phSummary
	phDone
)

// accountGather is gather (gather.go) as a state machine: next gives the
// account's next read, deliver takes its outcome. The reads, their order,
// their retries and what a failure costs are gather's.
type accountGather struct {
	cfg   *config
	g     *gathered
	phase int
	// the request in flight and what it decodes into
	authIn  api.AuthorizationDetailsInput
	authRaw *rawAuthPage
	gen     *api.GenerateCredentialReportOutput
	rep     *api.CredentialReportOutput
	pp      *api.PasswordPolicyOutput
	sm      *api.AccountSummaryOutput
	// the credential report's waiting (credentialReport's loop)
	attempt int
	wait    time.Duration
	delay   time.Duration
	lastErr error
}

func newAccountGather(cfg *config) *accountGather {
	a := &accountGather{cfg: cfg, g: &gathered{auth: &api.AuthorizationDetailsOutput{}}, wait: firstBackoff, attempt: 1}
	a.authIn = api.AuthorizationDetailsInput{Filter: authFilter(cfg), PageInput: api.PageInput{MaxItems: authDetailsPageSize}}
	return a
}

const credImpact = "the credential checks (root user, MFA, access keys, console passwords) did not run"

// afterAuth is the phase after the authorization details.
func (a *accountGather) afterAuth() int {
	if a.cfg.wants(KindUser) || a.cfg.wants(KindAccount) {
		return phGenerate
	}
	return a.afterReport()
}

func (a *accountGather) afterReport() int {
	if a.cfg.wants(KindAccount) {
		return phPassword
	}
	return phDone
}

// next returns the account's next read, how long to wait before it, and
// false when the account has read everything.
func (a *accountGather) next() (hostiam.Request, time.Duration, bool) {
	delay := a.delay
	a.delay = 0
	switch a.phase {
	case phAuth:
		a.authRaw = &rawAuthPage{}
		return hostiam.Request{Op: opAuthDetails, In: a.authIn, Out: a.authRaw}, delay, true
	case phGenerate:
		a.gen = &api.GenerateCredentialReportOutput{}
		return hostiam.Request{Op: opGenerateCredReport, In: api.Empty{}, Out: a.gen}, delay, true
	case phGetReport:
		a.rep = &api.CredentialReportOutput{}
		return hostiam.Request{Op: opGetCredReport, In: api.Empty{}, Out: a.rep}, delay, true
	case phPassword:
		a.pp = &api.PasswordPolicyOutput{}
		return hostiam.Request{Op: opPasswordPolicy, In: api.Empty{}, Out: a.pp}, delay, true
	case phSummary:
		a.sm = &api.AccountSummaryOutput{}
		return hostiam.Request{Op: opAccountSummary, In: api.Empty{}, Out: a.sm}, delay, true
	}
	return hostiam.Request{}, 0, false
}

// deliver takes the outcome of the read next returned.
func (a *accountGather) deliver(err error) {
	g := a.g
	switch a.phase {
	case phAuth:
		if err != nil {
			g.fail("authorization details (users, groups, roles, managed policies)", opAuthDetails, err,
				"no permission, trust or structure check ran: they all read the authorization details")
			g.auth = nil
			a.phase = a.afterAuth()
			return
		}
		g.authPages++
		page := a.authRaw.convert()
		g.auth.Users = append(g.auth.Users, page.Users...)
		g.auth.Groups = append(g.auth.Groups, page.Groups...)
		g.auth.Roles = append(g.auth.Roles, page.Roles...)
		g.auth.Policies = append(g.auth.Policies, page.Policies...)
		a.authRaw = nil
		if !page.IsTruncated || page.Marker == "" {
			a.phase = a.afterAuth()
			return
		}
		a.authIn.Marker = page.Marker
	case phGenerate:
		if err != nil {
			g.fail("credential report", opGenerateCredReport, err, credImpact)
			a.phase = a.afterReport()
			return
		}
		if a.gen.State != "INPROGRESS" {
			a.phase = phGetReport
			return
		}
		a.retryReport()
	case phGetReport:
		if err == nil {
			g.report = a.rep
			a.phase = a.afterReport()
			return
		}
		// NoSuchEntity is IAM's "not built yet" (or expired): wait.
		if hostiam.Code(err) != api.NoSuchEntity {
			g.fail("credential report", opGetCredReport, err, credImpact)
			a.phase = a.afterReport()
			return
		}
		a.lastErr = err
		a.retryReport()
	case phPassword:
		if err != nil {
			g.fail("password policy", opPasswordPolicy, err, "the password policy checks did not run")
		} else {
			g.password = a.pp
		}
		a.phase = phSummary
	case phSummary:
		if err != nil {
			g.fail("account summary", opAccountSummary, err, "root user checks rely on the credential report alone")
		} else {
			g.summary = a.sm
		}
		a.phase = phDone
	}
}

// retryReport waits with back-off and asks for the report again, a
// bounded number of times (credentialReport's loop).
func (a *accountGather) retryReport() {
	if a.attempt >= credReportAttempts {
		err := a.lastErr
		if err == nil {
			err = fmt.Errorf("IAM was still building the report after %d attempts", credReportAttempts)
		}
		a.g.fail("credential report", opGetCredReport, err, credImpact+"; IAM was still building the report, run the review again in a minute")
		a.phase = a.afterReport()
		return
	}
	a.attempt++
	a.delay = a.wait
	a.wait = min(2*a.wait, maxBackoff)
	a.phase = phGenerate
}

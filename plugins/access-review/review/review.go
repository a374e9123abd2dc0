// Package review is the access-review plugin's workflow: it gathers an
// account's IAM state with a handful of bulk reads, runs every rule of
// Rules over it with the project's policy engine, and renders the report.
//
// It has no build tag and imports only the standard library, sdk/api,
// policy (with its action reference) and sdk/hostiam, so
// the same code runs inside the Wasm plugin (through hostiam.FromSDK) and
// in native tests against the embedded sandbox (hostiamtest), where every
// rule is planted and found.
//
// The cost model is the point: the default review makes one
// GetAccountAuthorizationDetails call per page of 1,000 entities, two for
// the credential report, one for the password policy and one for the
// account summary, whatever the number of principals. Only the optional
// deep checks (Input.Include) call IAM per principal, bounded and batched.
package review

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Options adapt the workflow to its caller; the zero value is what the
// plugin uses.
type Options struct {
	// Now is the clock ages are measured against (default time.Now).
	Now func() time.Time
	// Sleep waits between retries (default time.Sleep); tests make it
	// instant.
	Sleep func(time.Duration)
}

// reviewCtx is one review in progress.
type reviewCtx struct {
	cfg       *config
	now       time.Time
	account   string
	partition string
	c         *counter
	h         hostiam.Client
	g         *gathered
	m         *model
	e         *engine
	graph     *graph // the principal graph, built by checkEscalation
	findings  []Finding
	notes     []string
	keys      map[string]*userKeys // key_last_used results by user name
	step      int
	validated map[validation][]policy.Finding // see validate
	// org is the organisation the account is reviewed in (nil for a
	// one-account review); blocked the escalations its SCPs stop.
	org     *orgView
	blocked []BlockedEscalation
}

// orgView is what an account's review knows of its organisation.
type orgView struct {
	id, mgmt string
}

// Run reviews the account through the host and returns the report. It
// fails only on bad input or when nothing at all could be read; anything
// else unreadable is listed in the header with what it cost.
func Run(h hostiam.Client, in Input, o Options) (*Report, error) {
	cfg, err := parseInput(in)
	if err != nil {
		return nil, &api.Error{Code: api.InvalidInput, Message: err.Error()}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = time.Sleep
	}
	if len(in.Accounts) > 0 {
		return runOrg(h, in, cfg, o)
	}
	r := &reviewCtx{cfg: cfg, now: o.Now().UTC(), h: h, e: newEngine(),
		c: &counter{h: h, byOp: map[string]int{}, sleep: o.Sleep}}
	r.partition = "aws"
	info, infoErr := h.Info()
	readOnly := false
	if infoErr == nil && info != nil {
		r.account, readOnly = info.AccountID, info.ReadOnly
		if info.Partition != "" {
			r.partition = info.Partition
		}
	}

	r.g = gather(r.c, cfg, r.progress)
	if r.g.auth == nil && r.g.report == nil && r.g.password == nil && r.g.summary == nil {
		var msgs []string
		for _, u := range r.g.unreadable {
			code := ""
			if u.Code != "" {
				code = u.Code + ": "
			}
			msgs = append(msgs, u.Op+": "+code+u.Message)
		}
		return nil, errors.New("the access review could not read anything: " + strings.Join(msgs, "; ") +
			". Grant the plugin the read operations it declares (plugins inspect lists them) and check the server's AWS credentials")
	}
	if r.account == "" {
		r.account = r.accountFromData()
	}

	rep := r.analyse(readOnly)
	if infoErr != nil {
		rep.Header.Notes = append(rep.Header.Notes, "host_info failed ("+infoErr.Error()+"); the account id was read from the data")
	}
	rep.Markdown = Markdown(rep)
	sum := rep.Summary
	// Progress only ever increases (MCP requires it): the last report is
	// one past the phases, and the first with a total.
	r.step++
	h.Progress(float64(r.step), float64(r.step), fmt.Sprintf("done: %d findings, %d IAM calls", sum.Total, r.c.total))
	return rep, nil
}

// analyse runs every check over what was gathered and assembles the
// report of the account (all but its Markdown).
func (r *reviewCtx) analyse(readOnly bool) *Report {
	cfg := r.cfg
	r.progress("resolving principals and policies")
	r.m = buildModel(r.g.auth, r.e, cfg, r.partition)
	for _, arn := range r.m.missing {
		r.notes = append(r.notes, "policy "+arn+" is attached but was not in the authorization details; principals holding it were evaluated without it")
	}

	if cfg.include[IncludeKeyLastUsed] {
		r.progress("deep check: access key last use")
		r.keyLastUsed()
	}
	r.progress("checking credentials")
	r.checkCredentials()
	r.progress("evaluating policies")
	r.checkPolicies()
	r.progress("checking privilege escalation")
	r.checkEscalation()
	r.progress("checking trust policies")
	r.checkTrust()
	r.checkStructure()
	if cfg.include[IncludeServiceLastAccessed] {
		r.progress("deep check: service last accessed")
		r.serviceLastAccessed()
	}

	r.progress("writing the report")
	sum, listed, omitted := assemble(r.findings, cfg)
	r.progress("checking the fix plans")
	r.verifyPlans(listed)
	rep := &Report{
		Header: Header{
			AccountID: r.account, Partition: r.partition, GeneratedAt: r.now,
			Scope: cfg.scopeText, MinSeverity: cfg.minSeverity, Include: append([]string{}, cfg.includeList...),
			ReadOnly: readOnly, IAMCalls: r.c.total, IAMCallsByOp: r.c.byOp,
			Unreadable: append([]Unreadable{}, r.g.unreadable...), Notes: r.notes,
			Reviewed: Reviewed{Users: len(r.m.users), Groups: len(r.m.groups), Roles: len(r.m.roles),
				Policies: len(r.m.policies), InlinePolicies: r.m.inline, PolicySets: len(r.e.sets)},
		},
		Summary: sum, Findings: listed, Omitted: omitted,
	}
	if r.g.report != nil {
		t := r.g.report.GeneratedTime
		rep.Header.CredentialReportGeneratedAt = &t
	}
	return rep
}

// progress reports a phase; the total is unknown, so it counts phases.
func (r *reviewCtx) progress(msg string) {
	r.step++
	r.h.Progress(float64(r.step), 0, msg)
}

// accountFromData reads the account id from an ARN when host_info could
// not say.
func (r *reviewCtx) accountFromData() string {
	var arns []string
	if a := r.g.auth; a != nil {
		for _, u := range a.Users {
			arns = append(arns, u.Arn)
		}
		for _, ro := range a.Roles {
			arns = append(arns, ro.Arn)
		}
	}
	if r.g.report != nil {
		for _, row := range r.g.report.Rows {
			arns = append(arns, row.Arn)
		}
	}
	for _, a := range arns {
		if parts := strings.Split(a, ":"); len(parts) > 4 && parts[4] != "" {
			return parts[4]
		}
	}
	return ""
}

// rootARN is the root user's ARN.
func (r *reviewCtx) rootARN() string {
	return "arn:" + r.partition + ":iam::" + r.account + ":root"
}

// subject is what a finding is about.
type subject struct {
	arn, name string
	kind      Kind
}

func (p *principal) subject() subject { return subject{p.arn, p.name, p.kind} }

// emit records a finding of a rule, filling in what the rule table says.
// The plan is a function, run only for the findings the report lists: in a
// large account most findings are counted, not listed, and a plan (a
// rewritten trust policy, a copied document) is the costly part of one.
func (r *reviewCtx) emit(ruleID string, s subject, msg string, ev []Evidence, plan func() Remediation, extra ...func(*Finding)) {
	rule, ok := rulesByID[ruleID]
	if !ok {
		panic("review: unknown rule " + ruleID)
	}
	// The organisation's access role is reported once, as such
	// (RuleTrustOrgAccess): its AdministratorAccess is the point of it.
	if ruleID == RuleAWSAdminAttached && r.org != nil && s.kind == KindRole && s.name == OrgAccessRoleName && r.trustsOnlyManagement(r.m.byARN[s.arn]) {
		return
	}
	f := Finding{RuleID: rule.ID, Severity: rule.Severity, Title: rule.Title,
		Principal: s.arn, PrincipalType: s.kind, PrincipalName: s.name, Message: msg,
		Evidence: ev, References: rule.References, CIS: rule.CIS, plan: plan, order: ruleOrder[ruleID]}
	if f.Evidence == nil {
		f.Evidence = []Evidence{}
	}
	for _, x := range extra {
		x(&f)
	}
	r.findings = append(r.findings, f)
}

// days is a duration in whole days, for messages.
func days(d time.Duration) int { return int(d / (24 * time.Hour)) }

// ago says how long before now a time is, in days.
func (r *reviewCtx) ago(t time.Time) int { return days(r.now.Sub(t)) }

func fmtTime(t *time.Time) string {
	if t == nil {
		return "N/A"
	}
	return t.UTC().Format(time.RFC3339)
}

// capList shortens a list for messages: the first n, and how many more.
func capList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" and %d more", len(items)-n)
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func intp(i int) *int { return &i }

// fixed is a plan that costs nothing to build.
func fixed(r Remediation) func() Remediation { return func() Remediation { return r } }

// ruleOrder is each rule's position in Rules, for sorting.
var ruleOrder = func() map[string]int {
	m := map[string]int{}
	for i, r := range Rules {
		m[r.ID] = i
	}
	return m
}()

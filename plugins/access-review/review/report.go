package review

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Report is the review's result: what a program reads (every field) and
// what a person reads (Markdown, the same content top-down).
type Report struct {
	Header   Header    `json:"header"`
	Summary  Summary   `json:"summary"`
	Findings []Finding `json:"findings" desc:"most severe first; at most max_findings_per_rule per rule (see omitted)"`
	Omitted  []Omitted `json:"omitted,omitempty" desc:"per rule, the findings not listed because of max_findings_per_rule"`
	Markdown string    `json:"markdown" desc:"the report for a person: summary table first, then findings most severe first, each with its evidence and fix"`

	// An organisation review (Input.Accounts) fills these: the header and
	// summary above are then the whole organisation's, Findings are those
	// across accounts, and each account's own are in Accounts.
	Organization *OrgInfo        `json:"organization,omitempty" desc:"the organisation as describe_organization read it (organisation reviews)"`
	Accounts     []AccountReport `json:"accounts,omitempty" desc:"each account's review, with its own header, summary and findings (organisation reviews)"`
	CrossAccount *CrossAccount   `json:"cross_account,omitempty" desc:"sts:AssumeRole across the reviewed accounts (organisation reviews)"`
}

// OrgInfo is the organisation an organisation review ran in.
type OrgInfo struct {
	ID                  string `json:"id,omitempty"`
	ManagementAccountID string `json:"management_account_id,omitempty"`
	SCPsEnabled         bool   `json:"scps_enabled"`
	Accounts            int    `json:"accounts" desc:"accounts in the organisation (reviewed or not)"`
	// Error says why the organisation could not be read; every account
	// was then reviewed without SCPs.
	Error string `json:"error,omitempty"`
}

// AccountReport is one account's review within an organisation review.
type AccountReport struct {
	AccountID  string `json:"account_id"`
	Alias      string `json:"alias,omitempty"`
	Name       string `json:"name,omitempty" desc:"the account's name in the organisation"`
	Management bool   `json:"management,omitempty" desc:"the organisation's management account, which SCPs never limit"`
	ReadOnly   bool   `json:"read_only" desc:"the server may not change this account"`
	// OrgPath is the account's place: its root and OUs, top down.
	OrgPath []string   `json:"org_path,omitempty"`
	SCPs    []SCPLevel `json:"scps,omitempty" desc:"the service control policies that limit the account, per level (root, OUs, account): a request needs an Allow at every level, and a Deny at any level denies"`
	// Error says why the account was not reviewed (nothing could be read).
	Error        string              `json:"error,omitempty"`
	Header       Header              `json:"header"`
	Summary      Summary             `json:"summary"`
	Findings     []Finding           `json:"findings"`
	Omitted      []Omitted           `json:"omitted,omitempty"`
	BlockedBySCP []BlockedEscalation `json:"blocked_by_scp,omitempty" desc:"escalation methods the principals' own policies allow but the account's SCPs stop: not findings, listed so that removing the SCP is not a surprise"`
}

// SCPLevel is the SCPs attached at one level of an account's path.
type SCPLevel struct {
	Target   string   `json:"target" desc:"the root, OU or account, by name and id"`
	Policies []string `json:"policies"`
}

// BlockedEscalation is an escalation method an SCP stops.
type BlockedEscalation struct {
	Principal string `json:"principal"`
	Method    string `json:"method"`
	By        string `json:"blocked_by" desc:"the SCP that denies it, or the level none of whose SCPs allows it"`
}

// CrossAccount is what the review found across accounts: who can assume
// which role in another reviewed account, decided by evaluation.
type CrossAccount struct {
	Edges      []CrossEdge `json:"edges" desc:"principal → role in another account, each decided by evaluation (trust, identity policies and boundary, the caller's SCPs); at most 500, the rest counted"`
	EdgesTotal int         `json:"edges_total"`
	Summary    Summary     `json:"summary" desc:"the findings across accounts (listed in the report's findings)"`
}

// CrossEdge is one sts:AssumeRole a principal can make into another
// account.
type CrossEdge struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Conditional string `json:"conditional,omitempty" desc:"why it holds only under conditions; empty when it holds outright"`
	OrgAccess   bool   `json:"org_access,omitempty" desc:"the organisation's own access role (OrganizationAccountAccessRole) from the management account"`
}

// Header says what was reviewed, when, at what cost, and what could not be
// read: a review that silently skipped the credential report would look
// cleaner than the account is.
type Header struct {
	AccountID                   string         `json:"account_id"`
	Partition                   string         `json:"partition"`
	GeneratedAt                 time.Time      `json:"generated_at"`
	CredentialReportGeneratedAt *time.Time     `json:"credential_report_generated_at,omitempty" desc:"when IAM built the credential report the credential checks read (it can be up to 4 hours old)"`
	Scope                       string         `json:"scope"`
	MinSeverity                 Severity       `json:"min_severity"`
	Include                     []string       `json:"include"`
	ReadOnly                    bool           `json:"read_only" desc:"the server is read-only (no --allow-write, or --readonly); the review needs nothing else"`
	IAMCalls                    int            `json:"iam_calls" desc:"IAM operations this review ran, batched ones each counted"`
	IAMCallsByOp                map[string]int `json:"iam_calls_by_operation"`
	Reviewed                    Reviewed       `json:"reviewed"`
	Unreadable                  []Unreadable   `json:"unreadable" desc:"what could not be read, why, and which checks did not run because of it"`
	Notes                       []string       `json:"notes,omitempty"`
}

// Reviewed counts what the checks looked at.
type Reviewed struct {
	Users          int `json:"users"`
	Groups         int `json:"groups"`
	Roles          int `json:"roles"`
	Policies       int `json:"managed_policies"`
	InlinePolicies int `json:"inline_policies"`
	PolicySets     int `json:"distinct_policy_sets" desc:"distinct combinations of policies evaluated for escalation and admin rights"`
}

// Unreadable is one input the review could not read.
type Unreadable struct {
	What    string `json:"what"`
	Op      string `json:"operation"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Impact  string `json:"impact" desc:"which checks did not run or ran on partial data"`
}

// Summary counts findings per severity and per rule, before the per-rule
// cap, so that the numbers are true even when the list is cut.
type Summary struct {
	Total            int             `json:"total"`
	BySeverity       []SeverityCount `json:"by_severity"`
	ByRule           []RuleCount     `json:"by_rule"`
	BelowMinSeverity int             `json:"below_min_severity" desc:"findings left out by min_severity"`
}

// SeverityCount is one line of the severity summary.
type SeverityCount struct {
	Severity Severity `json:"severity"`
	Count    int      `json:"count"`
}

// RuleCount is one line of the rule summary.
type RuleCount struct {
	RuleID   string   `json:"rule_id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Count    int      `json:"count"`
	Listed   int      `json:"listed"`
}

// Omitted says what the per-rule cap cut.
type Omitted struct {
	RuleID     string   `json:"rule_id"`
	Count      int      `json:"count"`
	Principals []string `json:"principals" desc:"the first omitted principals' ARNs (at most 20)"`
}

// Finding is one problem on one principal.
type Finding struct {
	RuleID        string   `json:"rule_id"`
	Severity      Severity `json:"severity"`
	Title         string   `json:"title"`
	Principal     string   `json:"principal" desc:"ARN of the user, group, role, managed policy or root user concerned"`
	PrincipalType Kind     `json:"principal_type"`
	PrincipalName string   `json:"principal_name"`
	// Status is "confirmed" or "potential" for privilege escalation.
	Status      string      `json:"status,omitempty"`
	Message     string      `json:"message"`
	Evidence    []Evidence  `json:"evidence"`
	Methods     []MethodHit `json:"methods,omitempty" desc:"privilege escalation: the methods whose actions it holds (for a path, the methods its steps use)"`
	Path        []PathStep  `json:"path,omitempty" desc:"privilege escalation: the steps from the principal to an administrator, in order"`
	Remediation Remediation `json:"remediation"`
	References  []Reference `json:"references"`
	CIS         []string    `json:"cis,omitempty" desc:"CIS AWS Foundations Benchmark v3.0 controls"`

	order int                // the rule's position in Rules, for sorting
	rank  int                // within a rule, higher first: how much worse this one is
	plan  func() Remediation // builds Remediation, for listed findings only
}

// Evidence is one fact behind a finding, precise enough to find again: a
// statement of a version of a policy, or fields of the credential report.
type Evidence struct {
	Source     string            `json:"source" desc:"credential_report, password_policy, account_summary, policy, trust_policy, authorization_details, service_last_accessed, access_key_last_used"`
	Policy     string            `json:"policy,omitempty" desc:"managed policy ARN, or inline policy name"`
	PolicyType string            `json:"policy_type,omitempty" desc:"aws-managed, customer-managed, inline, permissions-boundary or trust"`
	Via        string            `json:"via,omitempty" desc:"how the principal has the policy, e.g. group Admins"`
	Version    string            `json:"version,omitempty"`
	Statement  *int              `json:"statement,omitempty" desc:"0-based index in the Statement list"`
	Sid        string            `json:"sid,omitempty"`
	Actions    []string          `json:"actions,omitempty"`
	Fields     map[string]string `json:"fields,omitempty" desc:"credential report or account fields, as IAM names them"`
	Detail     string            `json:"detail,omitempty"`
}

// MethodHit is one escalation method an identity has.
type MethodHit struct {
	ID      string   `json:"id"`
	Status  string   `json:"status" enum:"confirmed,potential"`
	Actions []string `json:"actions"`
	How     string   `json:"how"`
	Source  string   `json:"source"`
	// Limited names the actions granted only on some resources, under
	// conditions, or with a conditional Deny (potential only).
	Limited []string `json:"limited,omitempty"`
}

// PathStep is one edge of an escalation path: how one principal becomes,
// or acts as, the next.
type PathStep struct {
	From    string   `json:"from" desc:"ARN of the principal taking the step"`
	To      string   `json:"to" desc:"ARN of the principal it acts as after the step; \"administrator\" when it rewrites its own permissions"`
	Kind    string   `json:"kind" enum:"assume,pass-role,existing-resource,rewrite-trust,credentials,join-group,rewrite-own-permissions,admin-equivalent"`
	Method  string   `json:"method,omitempty" desc:"the escalation method the step uses"`
	How     string   `json:"how"`
	Actions []string `json:"actions,omitempty"`
	// Condition says why the step holds only conditionally; empty when it
	// holds whatever the request.
	Condition string `json:"condition,omitempty"`
}

// Remediation is a fix as an ordered plan of catalogue calls (with the
// manual steps no catalogue call can do, marked so), and what checking the
// plan before showing it found.
type Remediation struct {
	Summary string     `json:"summary"`
	Steps   []Step     `json:"steps"`
	Check   *PlanCheck `json:"check,omitempty"`
}

// PlanCheck is what the review found when it checked a plan against the
// account before showing it: the documents it writes against the server's
// guardrails, the account after the plan (the risk gone, and no
// administrator left without a path), and who else the change reaches.
type PlanCheck struct {
	// Result is "passes" (every check passed), "needs_input" (a person
	// must fill in values in angle brackets first; the checks that could
	// run passed) or "refused" (the plan as written would be refused or
	// would do harm; Problems says why and the steps say the manual choice).
	Result   string   `json:"result" enum:"passes,needs_input,refused"`
	Checks   []string `json:"checks" desc:"what was checked, each with its outcome"`
	Problems []string `json:"problems,omitempty"`
	Affects  []string `json:"affects,omitempty" desc:"every principal the change reaches (a shared policy, group or boundary), beyond the one the finding is about"`
}

// Plan check results.
const (
	CheckPasses     = "passes"
	CheckNeedsInput = "needs_input"
	CheckRefused    = "refused"
)

// Step is one call of the plan: a catalogue operation and its arguments,
// exactly as the built-in tool of that name takes them; or, when Manual, a
// thing a person does (root credentials, an MFA device, a CLI call the
// catalogue does not offer). Values in angle brackets are for the person
// to fill in.
type Step struct {
	Op     string         `json:"op,omitempty"`
	Args   map[string]any `json:"args,omitempty"`
	Note   string         `json:"note,omitempty"`
	Manual bool           `json:"manual,omitempty"`
}

// Status values of escalation findings.
const (
	StatusConfirmed = "confirmed"
	StatusPotential = "potential"
)

// maxOmittedNames bounds Omitted.Principals.
const maxOmittedNames = 20

// assemble filters by severity, sorts most severe first, caps each rule and
// counts what it cut.
//
// It sorts the positions of the findings, not the findings: a Finding is
// some 300 bytes holding pointers, and a stable sort of thousands of them
// moves each many times, with the garbage collector's write barrier on
// every pointer moved, which inside the Wasm plugin (where the collector
// runs on the one thread, so its barrier is on for much of a large review)
// was a tenth of the review's time. The position breaks the last tie, so
// the order is the stable sort's.
func assemble(all []Finding, cfg *config) (Summary, []Finding, []Omitted) {
	var sum Summary
	order := make([]int32, 0, len(all))
	for i := range all {
		if all[i].Severity < cfg.minSeverity {
			sum.BelowMinSeverity++
			continue
		}
		order = append(order, int32(i))
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &all[i], &all[j]
		switch {
		case a.Severity != b.Severity:
			return cmp.Compare(b.Severity, a.Severity)
		case a.order != b.order:
			return cmp.Compare(a.order, b.order)
		case a.Status != b.Status:
			// Confirmed first; two other statuses are a tie, as they
			// were for the stable sort.
			switch {
			case a.Status == StatusConfirmed:
				return -1
			case b.Status == StatusConfirmed:
				return 1
			}
			return cmp.Compare(i, j)
		case a.rank != b.rank:
			return cmp.Compare(b.rank, a.rank)
		case a.Principal != b.Principal:
			return strings.Compare(a.Principal, b.Principal)
		case a.Message != b.Message:
			return strings.Compare(a.Message, b.Message)
		}
		return cmp.Compare(i, j)
	})
	perRule := map[string]*RuleCount{}
	perSev := map[Severity]int{}
	omitted := map[string]*Omitted{}
	var listed []Finding
	var ruleOrder []string
	var omitOrder []string
	for _, i := range order {
		f := all[i]
		rc := perRule[f.RuleID]
		if rc == nil {
			rc = &RuleCount{RuleID: f.RuleID, Severity: f.Severity, Title: f.Title}
			perRule[f.RuleID] = rc
			ruleOrder = append(ruleOrder, f.RuleID)
		}
		rc.Count++
		perSev[f.Severity]++
		sum.Total++
		if rc.Listed < cfg.maxPerRule {
			rc.Listed++
			if f.plan != nil {
				f.Remediation = f.plan()
			}
			if f.Remediation.Steps == nil {
				f.Remediation.Steps = []Step{}
			}
			listed = append(listed, f)
			continue
		}
		o := omitted[f.RuleID]
		if o == nil {
			o = &Omitted{RuleID: f.RuleID}
			omitted[f.RuleID] = o
			omitOrder = append(omitOrder, f.RuleID)
		}
		o.Count++
		if len(o.Principals) < maxOmittedNames {
			o.Principals = append(o.Principals, f.Principal)
		}
	}
	for s := Critical; s >= Info; s-- {
		sum.BySeverity = append(sum.BySeverity, SeverityCount{s, perSev[s]})
	}
	sum.ByRule = []RuleCount{}
	for _, id := range ruleOrder {
		sum.ByRule = append(sum.ByRule, *perRule[id])
	}
	var oms []Omitted
	for _, id := range omitOrder {
		oms = append(oms, *omitted[id])
	}
	if listed == nil {
		listed = []Finding{}
	}
	return sum, listed, oms
}

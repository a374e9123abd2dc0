package policy

// Policy analysis: the questions the guardrails on writes and the plugins ask
// about a whole document, rather than about one request. Is this policy
// admin-equivalent? Which sensitive actions does it allow on "*"? Does this
// trust policy let anyone, or another account without a condition, assume
// the role?
//
// The answers are decided by the engine's own matching rules (actions match
// case-insensitively with * and ?), applied to AWS's catalogue of actions
// (package iamdata), not by a list of policy names: a customer policy that
// copies AdministratorAccess under another name is caught the same way, and
// a NotAction list is judged by what it actually leaves open.
//
// Conventions shared by the identity-policy questions:
//
//   - "On *" means the statement would match a request whose resource is the
//     literal "*": Resource contains a pattern matching "*" (in practice
//     "*"), or NotResource contains none. An Allow with NotResource thus
//     counts as on *, the conservative reading for a guardrail.
//   - Only statements without a Condition block grant: a conditioned grant
//     may never apply, and counting it would refuse the least-privilege
//     policies (iam:PassRole limited by iam:PassedToService) that guardrails
//     should encourage. AdminEquivalent says so in its reason when
//     conditioned statements are the only grant.
//   - Only unconditional Deny statements on * take actions away: a Deny whose
//     condition may not hold, or that names narrower resources, cannot be
//     relied on to close the grant.
//   - Principal and NotPrincipal are ignored (the document is read as an
//     identity policy).

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/policy/iamdata"
)

// aOnStar reports whether the statement matches the resource "*".
func aOnStar(st *Statement) bool {
	switch {
	case st.Resource != nil:
		for _, p := range st.Resource {
			if wildcardMatch(p, "*", false) {
				return true
			}
		}
		return false
	case st.NotResource != nil:
		for _, p := range st.NotResource {
			if wildcardMatch(p, "*", false) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// aPatternMatch matches an action pattern against a lower-case action name,
// case-insensitively, as the evaluator does.
func aPatternMatch(p, lowerName string) bool {
	if isASCII(p) && isASCII(lowerName) {
		return asciiGlob(p, lowerName, true)
	}
	return wildcardMatch(p, lowerName, true)
}

// aActionMatches reports whether the statement's Action or NotAction element
// matches the lower-case action name.
func aActionMatches(st *Statement, lowerName string) bool {
	switch {
	case len(st.Action) > 0:
		for _, p := range st.Action {
			if aPatternMatch(p, lowerName) {
				return true
			}
		}
		return false
	case len(st.NotAction) > 0:
		for _, p := range st.NotAction {
			if aPatternMatch(p, lowerName) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// aGrants is the set of statements that decide what a document allows on *.
type aGrants struct {
	allows []*Statement // Allow statements on * (conditioned ones only when asked)
	denies []*Statement // unconditional Deny statements on *
}

func aCollect(d *Document, withConditioned bool) aGrants {
	var g aGrants
	if d == nil {
		return g
	}
	for i := range d.Statements {
		st := &d.Statements[i]
		if !aOnStar(st) {
			continue
		}
		switch st.Effect {
		case "Allow":
			if len(st.Condition) == 0 || withConditioned {
				g.allows = append(g.allows, st)
			}
		case "Deny":
			if len(st.Condition) == 0 {
				g.denies = append(g.denies, st)
			}
		}
	}
	return g
}

// aDenied reports whether an unconditional Deny on * matches the action.
func (g *aGrants) aDenied(lowerName string) bool {
	for _, st := range g.denies {
		if aActionMatches(st, lowerName) {
			return true
		}
	}
	return false
}

// aAllowed reports whether the action is allowed on *, and by which
// statement (the first).
func (g *aGrants) aAllowed(lowerName string) (*Statement, bool) {
	if g.aDenied(lowerName) {
		return nil, false
	}
	for _, st := range g.allows {
		if aActionMatches(st, lowerName) {
			return st, true
		}
	}
	return nil, false
}

// aLowerFull is the action's full name in lower case ("iam:passrole").
func aLowerFull(a *iamdata.ActionInfo) string {
	return strings.ToLower(a.FullName())
}

// aStatementName names a statement in messages: "statement 1 (Sid \"X\")".
func aStatementName(st *Statement) string {
	if st.Sid != "" {
		return fmt.Sprintf("statement %d (Sid %q)", st.Index, st.Sid)
	}
	return fmt.Sprintf("statement %d", st.Index)
}

// aIAMEscalation reports whether an IAM action is one whose grant lets a
// principal change permissions: IAM's Write and Permissions management
// actions. Read, List and Tagging actions cannot raise privileges on their
// own.
func aIAMEscalation(a *iamdata.ActionInfo) bool {
	return a.AccessLevel == iamdata.AccessWrite || a.AccessLevel == iamdata.AccessPermissionsManagement
}

// AdminEquivalent reports whether the policy, read as an identity policy,
// gives administrator-equivalent power, and says why in words.
//
// A write guardrail needs this because the name of a policy proves nothing:
// what matters is what its statements allow. The policy is admin-equivalent
// when unconditional Allow statements on "*" (after unconditional Deny
// statements on "*" are taken away) allow:
//
//   - every action in AWS's catalogue ("*" on "*", AdministratorAccess);
//   - every IAM action ("iam:*" on "*", IAMFullAccess): IAM can grant any
//     other permission, so it is all permissions one step removed;
//   - through a NotAction statement, any IAM Write or Permissions management
//     action: NotAction ["s3:*"] on "*" looks narrow but leaves
//     iam:AttachUserPolicy open, with which the principal attaches
//     AdministratorAccess to itself.
//
// A NotAction that closes all of IAM's write actions (PowerUserAccess's
// NotAction ["iam:*", "organizations:*", "account:*"], or ["iam:*",
// "organizations:*"]) is not admin-equivalent by this test, even though it
// allows almost everything else: the test is about taking over the account's
// permissions, not about breadth. Such policies still allow sensitive actions
// (sts:AssumeRole, lambda:CreateFunction…), which SensitiveActionsOnStar
// reports. Likewise a statement naming single IAM actions (Action
// ["iam:AttachUserPolicy"]) is left to SensitiveActionsOnStar, so that the
// two findings stay distinct.
//
// Statements with a Condition do not count; when they are what would make the
// policy admin-equivalent, the result is false and the reason says so.
func AdminEquivalent(d *Document) (bool, string) {
	if ok, why := aAdminWith(aCollect(d, false)); ok {
		return true, why
	}
	if ok, why := aAdminWith(aCollect(d, true)); ok {
		var conds []string
		for i := range d.Statements {
			st := &d.Statements[i]
			if st.Effect == "Allow" && len(st.Condition) > 0 && aOnStar(st) {
				conds = append(conds, aStatementName(st))
			}
		}
		return false, "not counted as admin-equivalent, but only because of conditions: the policy " + why +
			", and the grant comes only from statements with conditions (" + strings.Join(conds, ", ") +
			"), which this check does not count because a condition may never hold; review those conditions"
	}
	return false, aNotAdminReason(d)
}

// aAdminWith applies the three tests to one set of grants and returns the
// reason (starting with a verb, so that callers can prefix it).
func aAdminWith(g aGrants) (bool, string) {
	if len(g.allows) == 0 {
		return false, ""
	}
	all := iamdata.MatchActions("*")
	var missing int
	var firstMissing string
	var by *Statement
	for _, a := range all {
		st, ok := g.aAllowed(aLowerFull(a))
		if !ok {
			missing++
			if firstMissing == "" {
				firstMissing = a.FullName()
			}
			continue
		}
		if by == nil {
			by = st
		}
	}
	if missing == 0 && len(all) > 0 {
		return true, fmt.Sprintf("allows every action (all %d in AWS's catalogue) on every resource, through %s", len(all), aStatementName(by))
	}
	iam := iamdata.MatchActions("iam:*")
	iamOpen := 0
	var iamBy *Statement
	for _, a := range iam {
		if st, ok := g.aAllowed(aLowerFull(a)); ok {
			iamOpen++
			if iamBy == nil {
				iamBy = st
			}
		}
	}
	if iamOpen == len(iam) && len(iam) > 0 {
		return true, fmt.Sprintf("allows every IAM action (iam:*) on every resource, through %s; with IAM a principal can grant itself any permission", aStatementName(iamBy))
	}
	// NotAction statements that leave IAM's write actions open.
	for _, st := range g.allows {
		if len(st.NotAction) == 0 {
			continue
		}
		var open []string
		for _, a := range iam {
			if !aIAMEscalation(a) {
				continue
			}
			n := aLowerFull(a)
			if aActionMatches(st, n) && !g.aDenied(n) {
				open = append(open, a.FullName())
			}
		}
		if len(open) > 0 {
			ex := open
			if len(ex) > 3 {
				ex = ex[:3]
			}
			more := ""
			if len(open) > len(ex) {
				more = fmt.Sprintf(" and %d more", len(open)-len(ex))
			}
			return true, fmt.Sprintf("allows, through the NotAction in %s, every action except %s on every resource, which leaves %d IAM write or permissions-management actions open (%s%s); with them a principal can grant itself any permission",
				aStatementName(st), strings.Join(st.NotAction, ", "), len(open), strings.Join(ex, ", "), more)
		}
	}
	return false, ""
}

// aNotAdminReason explains a negative answer with what the policy does
// allow, so that an engineer reading it can see the check looked.
func aNotAdminReason(d *Document) string {
	g := aCollect(d, false)
	if len(g.allows) == 0 {
		return "not admin-equivalent: no unconditional Allow statement applies to every resource (\"*\")"
	}
	for _, st := range g.allows {
		if len(st.NotAction) > 0 {
			return fmt.Sprintf("not admin-equivalent: %s allows every action except %s on every resource, but leaves no IAM write or permissions-management action open, so the principal cannot grant itself more permissions through IAM (it may still reach other roles; see the sensitive actions)",
				aStatementName(st), strings.Join(st.NotAction, ", "))
		}
	}
	return "not admin-equivalent: the policy allows neither every action nor every IAM action on every resource"
}

// aSensitive is the curated table of sensitive actions: those that let a
// principal raise its own privileges (escalation) or read protected data
// (exfiltration) when granted on every resource. Patterns are expanded
// through AWS's catalogue. It is the one place to add an action.
var aSensitive = []struct {
	pattern, why string
	// direct marks escalation that needs nothing else: granted on "*",
	// the action alone lets the principal raise its own privileges
	// (PrivilegeEscalationOnStar). The compute actions need a role to
	// pass or an instance to reach, and data actions raise nothing.
	direct bool
}{
	// Privilege escalation through IAM.
	{"iam:PassRole", "hands any role to a service the principal controls", true},
	{"iam:CreateAccessKey", "creates keys for any user", true},
	{"iam:CreateLoginProfile", "sets a console password for any user", true},
	{"iam:UpdateLoginProfile", "changes any user's console password", true},
	{"iam:AttachUserPolicy", "attaches any managed policy to a user", true},
	{"iam:AttachRolePolicy", "attaches any managed policy to a role", true},
	{"iam:AttachGroupPolicy", "attaches any managed policy to a group", true},
	{"iam:PutUserPolicy", "writes any inline policy on a user", true},
	{"iam:PutRolePolicy", "writes any inline policy on a role", true},
	{"iam:PutGroupPolicy", "writes any inline policy on a group", true},
	{"iam:CreatePolicyVersion", "rewrites a managed policy", true},
	{"iam:SetDefaultPolicyVersion", "activates an older, broader policy version", true},
	{"iam:UpdateAssumeRolePolicy", "lets the principal assume any role", true},
	{"iam:AddUserToGroup", "joins any group", true},
	{"iam:DeleteUserPermissionsBoundary", "removes a user's permissions boundary", true},
	{"iam:DeleteRolePermissionsBoundary", "removes a role's permissions boundary", true},
	{"iam:PutUserPermissionsBoundary", "replaces a user's permissions boundary", true},
	{"iam:PutRolePermissionsBoundary", "replaces a role's permissions boundary", true},
	{"sts:AssumeRole", "assumes any role that trusts the account", true},
	// Escalation through compute that runs with a role.
	{"lambda:CreateFunction", "runs code with a passed role", false},
	{"lambda:UpdateFunctionCode", "replaces the code of a function running with a role", false},
	{"ec2:RunInstances", "starts instances with a passed instance profile", false},
	{"glue:CreateDevEndpoint", "runs code with a passed role", false},
	{"cloudformation:CreateStack", "creates resources with a passed role", false},
	{"ssm:SendCommand", "runs commands on instances", false},
	{"ssm:StartSession", "opens shells on instances", false},
	// Data exfiltration.
	{"kms:Decrypt", "decrypts data under any key", false},
	{"secretsmanager:GetSecretValue", "reads every secret", false},
	{"ssm:GetParameter*", "reads every parameter, including SecureStrings", false},
	{"s3:GetObject", "reads every object", false},
	{"ec2:GetPasswordData", "reads Windows instance passwords", false},
	{"dynamodb:Scan", "reads whole tables", false},
}

// aSensitiveActions expands the table (only its direct rows when
// directOnly) into concrete actions, as AWS spells them. An exact name
// missing from the catalogue (data older than the action) is kept as
// written, so the check does not silently lose it.
func aSensitiveActions(directOnly bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range aSensitive {
		if directOnly && !s.direct {
			continue
		}
		ms := iamdata.MatchActions(s.pattern)
		if len(ms) == 0 && !strings.ContainsAny(s.pattern, "*?") {
			if !seen[strings.ToLower(s.pattern)] {
				seen[strings.ToLower(s.pattern)] = true
				out = append(out, s.pattern)
			}
			continue
		}
		for _, a := range ms {
			if n := a.FullName(); !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// SensitiveActionsOnStar returns the sensitive actions (privilege escalation
// such as iam:PassRole and iam:AttachUserPolicy, data exfiltration such as
// secretsmanager:GetSecretValue; the table aSensitive lists them) that the
// document allows on Resource "*", directly, through wildcards ("iam:*",
// "iam:Put*", "*") or through NotAction, sorted.
//
// Granted on "*", each of these reaches every resource of its kind in the
// account — every role to pass, every secret to read — which is why the
// guardrails list them; scoped to named resources they are ordinary. As in
// AdminEquivalent, conditioned Allow statements do not count (a condition such
// as iam:PassedToService is the recommended way to scope these actions) and
// unconditional Deny statements on "*" take actions away.
func SensitiveActionsOnStar(d *Document) []string {
	return aAllowedOnStar(d, aSensitiveActions(false))
}

// PrivilegeEscalationOnStar returns the actions of SensitiveActionsOnStar
// that raise the principal's privileges with nothing else needed: the IAM
// writes that change permissions or credentials (iam:AttachUserPolicy,
// iam:CreatePolicyVersion, iam:PassRole, …) and sts:AssumeRole, which on
// "*" reaches every role that trusts the account. It is what the write
// guardrails refuse, and so what makes PowerUserAccess (everything but IAM,
// Organizations and Account, sts:AssumeRole included) risky while
// AmazonS3FullAccess is not: the compute actions (lambda:CreateFunction,
// ec2:RunInstances) need a role to pass as well, and data actions raise
// nothing, so they are left to reviews.
func PrivilegeEscalationOnStar(d *Document) []string {
	return aAllowedOnStar(d, aSensitiveActions(true))
}

// aAllowedOnStar returns those of actions that the document allows
// unconditionally on "*", sorted.
func aAllowedOnStar(d *Document, actions []string) []string {
	g := aCollect(d, false)
	if len(g.allows) == 0 {
		return nil
	}
	var out []string
	for _, n := range actions {
		if _, ok := g.aAllowed(strings.ToLower(n)); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// TrustFinding is one risk in a role's trust policy.
type TrustFinding struct {
	Statement int    // 0-based index of the statement
	Sid       string // the statement's Sid, "" when absent
	// Kind is "anyone" (Principal "*", {"AWS": "*"} or an Allow with
	// NotPrincipal), "other-account-unconditioned" (a principal in another
	// account, with no Condition: the confused-deputy risk) or
	// "other-account" (another account, with conditions; informational).
	Kind      string
	Principal string // the principal as written ("*" for a wildcard)
	Message   string // the risk in words
}

// Trust finding kinds.
const (
	aKindAnyone       = "anyone"
	aKindOtherUncond  = "other-account-unconditioned"
	aKindOtherAccount = "other-account"
)

// TrustRisks reports who outside the role's account a trust policy lets
// assume the role. account is the role's own account id; when it is "" every
// principal named by account is reported, since none can be shown to be
// local.
//
// The guardrails refuse a trust policy open to "*", or to another account
// without a condition: with no condition (sts:ExternalId above all) any
// principal the other account's administrators allow can assume the role,
// including a third party's service acting for someone else (the confused
// deputy). Only Allow statements whose action can be an assume
// (sts:AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity) count.
// Service principals, federated principals and the role's own account are
// not findings. Deny statements are not credited with closing a grant.
func TrustRisks(d *Document, account string) []TrustFinding {
	if d == nil {
		return nil
	}
	var out []TrustFinding
	for i := range d.Statements {
		st := &d.Statements[i]
		if st.Effect != "Allow" || !aAssumes(st) {
			continue
		}
		conditioned := len(st.Condition) > 0
		add := func(kind, principal, msg string) {
			out = append(out, TrustFinding{Statement: st.Index, Sid: st.Sid, Kind: kind, Principal: principal, Message: aStatementName(st) + ": " + msg})
		}
		if st.NotPrincipal != nil {
			add(aKindAnyone, "*", "Allow with NotPrincipal lets every principal not listed, in any account, assume the role"+aCondSuffix(st))
		}
		p := st.Principal
		if p == nil {
			continue
		}
		if p.Wildcard {
			add(aKindAnyone, "*", `Principal "*" lets anyone, in any AWS account, assume the role`+aCondSuffix(st))
			continue
		}
		types := make([]string, 0, len(p.Values))
		for t := range p.Values {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			for _, v := range p.Values[t] {
				if v == "*" {
					add(aKindAnyone, v, fmt.Sprintf(`Principal {%q: "*"} lets anyone assume the role`, t)+aCondSuffix(st))
					continue
				}
				if t != "AWS" {
					continue
				}
				acct := v
				if !isAccountID(v) {
					acct = arnAccount(v)
				}
				if acct == "" || (account != "" && acct == account) {
					continue
				}
				who := fmt.Sprintf("%s in account %s", v, acct)
				if v == acct {
					who = "account " + acct
				}
				if conditioned {
					msg := fmt.Sprintf("%s can assume the role, limited by conditions on %s", who, strings.Join(st.ConditionKeys(), ", "))
					if !aHasExternalID(st) {
						msg += "; none of them is sts:ExternalId, the usual defence against the confused deputy when a third party assumes the role"
					}
					add(aKindOtherAccount, v, msg)
					continue
				}
				add(aKindOtherUncond, v, fmt.Sprintf("%s can assume the role without any condition; any principal that account allows (including a third party's service acting for another customer, the confused deputy) can assume it; require sts:ExternalId or aws:PrincipalOrgID/aws:PrincipalArn", who))
			}
		}
	}
	return out
}

// aAssumes reports whether the statement's actions include a way to assume
// the role.
func aAssumes(st *Statement) bool {
	for _, a := range []string{"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity"} {
		if aActionMatches(st, a) {
			return true
		}
	}
	return false
}

// aCondSuffix says whether a statement's conditions narrow an "anyone"
// grant.
func aCondSuffix(st *Statement) string {
	if len(st.Condition) == 0 {
		return ", with no condition"
	}
	return ", limited only by conditions on " + strings.Join(st.ConditionKeys(), ", ") + " (check that they pin the caller)"
}

// ConditionKeys lists the statement's condition keys, whatever their
// operator, sorted and de-duplicated case-insensitively (the first
// spelling is kept).
func (st *Statement) ConditionKeys() []string {
	seen := map[string]bool{}
	var out []string
	for _, keys := range st.Condition {
		for k := range keys {
			if !seen[strings.ToLower(k)] {
				seen[strings.ToLower(k)] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// aHasExternalID reports whether any condition tests sts:ExternalId.
func aHasExternalID(st *Statement) bool {
	for _, keys := range st.Condition {
		for k := range keys {
			if strings.EqualFold(k, "sts:ExternalId") {
				return true
			}
		}
	}
	return false
}

package policy

// Policy analysis: the questions the guardrails on writes and the plugins ask
// about a whole document, rather than about one request. Is this policy
// admin-equivalent? Which sensitive actions does it allow on "*"? Does this
// trust policy let anyone, or another account without a condition, assume
// the role?
//
// AdminEquivalent, Risks and TrustRisks are decided by the guardrail
// decision rule (doc.go; risk.go, riskcond.go, risktrust.go): by evaluating
// the requests that matter, with conditions read as an attacker meets them.
// That is what the write guardrails refuse on.
//
// SensitiveActionsOnStar and PrivilegeEscalationOnStar answer a narrower,
// cheaper question, for reviews and for validate_policy's list of
// sensitive actions: which actions does the document grant on the literal
// resource "*"? They follow these conventions:
//
//   - "On *" means the statement would match a request whose resource is the
//     literal "*": Resource contains a pattern matching "*" (in practice
//     "*"), or NotResource contains none. An Allow with NotResource thus
//     counts as on *, the conservative reading.
//   - Only statements without a Condition block grant, and only
//     unconditional Deny statements on * take actions away.
//   - Principal and NotPrincipal are ignored (the document is read as an
//     identity policy).
//
// All of them use the engine's own matching rules (actions match
// case-insensitively with * and ?) and AWS's action reference (package
// iamdata), not a list of policy names: a customer policy that copies
// AdministratorAccess under another name is caught the same way.

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/policy/iamdata"
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

// aReference is every action of the reference with its lower-case name,
// made once: the whole-reference tests walk it on every call.
var aReference = sync.OnceValue(func() []aNamed {
	all := iamdata.MatchActions("*")
	out := make([]aNamed, len(all))
	for i, a := range all {
		out[i] = aNamed{a, aLowerFull(a)}
	}
	return out
})

type aNamed struct {
	info  *iamdata.ActionInfo
	lower string
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
// what matters is what its statements allow. It is decided by the
// guardrail decision rule (risk.go), by evaluation: the policy is
// admin-equivalent when it allows every IAM action on every kind of IAM
// resource (IAM can grant any other permission, so that is all
// permissions one step removed; "*" on "*", "iam:*" on
// "arn:aws:iam::*:*" and "*" on "arn:aws:*:*:*:*" all do), or when a
// NotAction statement leaves an IAM write or permissions-management action
// open on every resource (NotAction ["s3:*"] looks narrow but leaves
// iam:AttachUserPolicy open). The reason says "every action" when the
// policy allows every action of AWS's action reference on "*" (AdministratorAccess).
// The account is not known here: accounts the policy names are tried, and a
// stand-in; Risks takes the account.
//
// A NotAction that closes all of IAM's write actions (PowerUserAccess's
// NotAction ["iam:*", "organizations:*", "account:*"], or ["iam:*",
// "organizations:*"]) is not admin-equivalent by this test, even though it
// allows almost everything else: the test is about taking over the account's
// permissions, not about breadth. Such policies still allow sensitive actions
// (sts:AssumeRole on every role…), which Risks reports as escalation.
//
// A statement with a Condition counts when the condition can always be met
// (aws:CurrentTime after 2000, aws:PrincipalArn like "*"); when conditions
// that can fail are what keep the policy from being admin-equivalent, the
// result is false and the reason says so.
func AdminEquivalent(d *Document) (bool, string) {
	if d == nil {
		return false, aNotAdminReason(d)
	}
	src := []Source{{Doc: d}}
	named := rNamedAccounts(src)
	seed := rSeedOf(d)
	accts, _ := rAccounts(RiskOptions{}, named, seed)
	for i, acct := range accts {
		c := newRCtx(acct, named, false, seed)
		c.standIn = i == len(accts)-1
		if res := c.rIdentity(src, nil, true); res.admin {
			return true, c.rAdminWording(src, res)
		}
	}
	c := newRCtx(accts[len(accts)-1], named, false, seed)
	c.ignoreConds, c.standIn = true, true
	if res := c.rIdentity(src, nil, true); res.admin {
		var conds []string
		for i := range d.Statements {
			st := &d.Statements[i]
			if st.Effect == "Allow" && len(st.Condition) > 0 {
				conds = append(conds, aStatementName(st))
			}
		}
		return false, "not counted as admin-equivalent, but only because of conditions: the policy " + c.rAdminWording(src, res) +
			", and the grant comes only from statements with conditions (" + strings.Join(conds, ", ") +
			"), which can fail for some requests; review those conditions"
	}
	return false, aNotAdminReason(d)
}

// aAdminWith applies the three tests to one set of grants and returns the
// reason (starting with a verb, so that callers can prefix it).
func aAdminWith(g aGrants) (bool, string) {
	if len(g.allows) == 0 {
		return false, ""
	}
	all := aReference()
	missing := 0
	var by *Statement
	for _, a := range all {
		st, ok := g.aAllowed(a.lower)
		if !ok {
			missing++
			break // one is enough to say not every action
		}
		if by == nil {
			by = st
		}
	}
	if missing == 0 && len(all) > 0 {
		return true, fmt.Sprintf("allows every action (all %d in AWS's action reference) on every resource, through %s", len(all), aStatementName(by))
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
// through AWS's action reference. It is the one place to add an action.
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
// missing from the reference (data older than the action) is kept as
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

package policy

import (
	"sort"
	"strconv"
	"strings"
)

// Source is one policy the evaluator considers, with how to name it in
// results (SimulatePrincipalPolicy's SourcePolicyId and SourcePolicyType).
type Source struct {
	ID   string // e.g. the policy name for inline policies or the ARN for managed policies; for SimulateCustomPolicy "PolicyInputList.1"
	Type string // IAM's SourcePolicyType values: "user", "group", "role", "aws-managed", "user-managed", "resource", "none"
	Doc  *Document
}

// Request is the request being decided: one action on one resource, with the
// request context that conditions and policy variables read.
type Request struct {
	Action   string              // "s3:GetObject"
	Resource string              // an ARN, or "*" (see Evaluate for what "*" matches)
	Context  map[string][]string // condition keys (case-insensitive names) → values

	// Principal is the ARN of the caller ("arn:aws:iam::111122223333:user/alice",
	// "arn:aws:sts::111122223333:assumed-role/Dev/alice"), or a service
	// principal ("s3.amazonaws.com"). Resource-based policies match their
	// Principal element against it; "" matches only "*" principals.
	Principal string
	// PrincipalAccount and ResourceAccount are the 12-digit accounts of the
	// caller and of the resource. When empty they are read from Principal and
	// Resource (the ARN's fifth field); a resource ARN without an account (S3
	// buckets) leaves ResourceAccount unknown, and an unknown account on
	// either side counts as the same account.
	PrincipalAccount, ResourceAccount string
}

// Input is the set of policies that apply to a request. Identity and
// Boundaries are what a principal carries; the others are optional layers.
type Input struct {
	Identity   []Source
	Boundaries []Source // nil/empty = no permissions boundary
	// Resource holds the resource-based policies of the requested resource
	// (bucket policy, key policy, a role's trust policy…). Their statements
	// apply only when their Principal (or NotPrincipal) matches
	// Request.Principal.
	Resource []Source
	// Session holds the session policies passed when the role session or
	// federated user session was created; nil/empty = none.
	Session []Source
	// SCPs holds the service control policies that apply to the principal's
	// account; nil/empty = none supplied (not evaluated). When supplied, an
	// action must be allowed by one of them. They are treated as one flat
	// set: callers modelling several OU levels evaluate each level or pass
	// only the level that decides.
	SCPs []Source
}

// Decision is an evaluation's outcome, spelled as IAM's EvalDecision.
type Decision string

// The three outcomes IAM's simulator reports.
const (
	Allowed      Decision = "allowed"
	ExplicitDeny Decision = "explicitDeny"
	ImplicitDeny Decision = "implicitDeny"
)

// Match is a statement that matched the request: its policy, its position in
// the Statement list and in the source text (IAM's MatchedStatements).
type Match struct {
	SourceID, SourceType string
	Index                int
	Sid, Effect          string
	Start, End           Position
}

// Result is what Evaluate decided and why.
type Result struct {
	Decision Decision
	// Matched lists the statements that matched the request (both Allow and
	// Deny), in the order SCPs, identity, boundary, session, resource, each
	// in input order. Without SCPs that is identity then boundary as before.
	Matched            []Match
	MissingContextKeys []string // condition keys referenced by relevant statements but absent from Context (sorted, de-duplicated)
	BoundaryAllowed    *bool    // nil when no boundary was supplied; otherwise whether the boundary allows
	// Reason says in words which statement or missing grant decided, e.g.
	// "explicitly denied by statement 'NoIAM' (index 1) of policy
	// DeveloperBoundary".
	Reason string
}

// layer is one kind of policy in AWS's evaluation.
type layer int

const (
	layerSCP layer = iota
	layerIdentity
	layerBoundary
	layerSession
	layerResource
)

// layerResult is what one layer's statements said about the request.
type layerResult struct {
	allow, deny bool
	allowBy     Match // the Allow named in the reason (valid when allow)
	denyBy      Match // first matching Deny (valid when deny)
	allowSrc    Source
	denySrc     Source
	// directAllow: a resource-policy Allow named the caller itself (a user
	// ARN or a role-session ARN), not its account, its role or everyone.
	directAllow bool
	// accountOnlyAllow: every resource-policy Allow matched only through the
	// caller's account (id or root ARN): a delegation to the account's IAM.
	delegatedAllow bool
	// strongAllow: a resource-policy Allow matched through "*", an exact ARN,
	// a role ARN or a service principal.
	strongAllow bool
}

// Evaluate decides a request with AWS's documented policy evaluation logic
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//
//  1. A matching Deny statement in any policy — SCP, identity, boundary,
//     session, or a resource policy whose Principal matches the caller — →
//     ExplicitDeny.
//  2. When SCPs are supplied, one of them must allow; otherwise ImplicitDeny.
//     SCPs limit every grant, resource-based ones included.
//  3. The grant. Identity-based permissions are an identity Allow intersected
//     with the boundary (if any) and the session policy (if any).
//     Same account (or an unknown account on either side):
//     - the identity-based permissions allow, or
//     - a resource-policy Allow matches the caller through "*", its exact
//     ARN, its role's ARN or a service principal. When that statement names
//     the caller itself — an IAM user ARN or a role-session ARN — it allows
//     on its own: AWS documents that an implicit deny in a permissions
//     boundary or session policy does not limit a resource policy that names
//     the user or session directly. Otherwise (a role ARN, "*") the boundary
//     and session policy, if present, must allow too. A resource-policy
//     Allow that names only the caller's account (its id or root ARN)
//     delegates to the account's IAM and grants nothing by itself.
//     Cross-account: both the identity-based permissions and a resource
//     policy Allow (any principal form, the account root included) are
//     required.
//     A role's trust policy (for the sts: actions on a role) and a KMS key's
//     key policy (for kms: actions on a key) are the exceptions AWS
//     documents: when one is supplied, it must allow the caller even in the
//     same account, so identity-based permissions count only together with
//     an Allow of the trust or key policy (its account suffices, as across
//     accounts). When the caller supplies no resource policy, identity-based
//     permissions decide as for any resource.
//  4. Otherwise ImplicitDeny.
//
// A resource-policy Deny with a NotPrincipal applies to every caller that
// has a permissions boundary, whatever the NotPrincipal names, as AWS
// documents for permissions boundaries
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
//
// A statement matches when its Action (or NotAction), its Resource (or
// NotResource) and every one of its conditions match. Actions match
// case-insensitively, resources case-sensitively, both with * and ?
// wildcards; a * spans ':' and '/'.
//
// Request.Resource "*" is what SimulatePrincipalPolicy uses when no resource
// ARN is given. Evaluate treats it as the literal resource "*", not as "every
// resource", which is how IAM's simulator behaves: a statement whose Resource
// is "arn:aws:s3:::bucket/*" does not match it (the simulator answers
// implicitDeny for such an action until ResourceArns names a resource), while
// a Resource of "*" does. Mechanically, the string "*" is matched against
// each pattern like any other resource, so only patterns made of wildcards
// match it.
//
// In documents of Version 2012-10-17, policy variables (${aws:username},
// ${aws:PrincipalTag/team}, ${aws:userid, 'default'}, the escapes ${*}, ${?},
// ${$}) in Resource, NotResource and in string and ARN condition values are
// replaced with the request's value for that key; a variable that cannot be
// resolved makes the pattern match nothing (and a NotResource or negated
// condition holding it makes the statement not apply), never more. In older
// documents the text is taken literally, as AWS does.
//
// Statements that carry a Principal or NotPrincipal apply only in Resource
// policies, and statements in Resource policies apply only when they carry
// one; so do statements without an action or resource element, or with an
// empty one (an empty NotAction would otherwise mean "every action").
// Skipping them keeps a policy that slipped past validation from granting
// more than it says. A resource statement without a Resource element
// (a trust policy) applies to any resource.
func Evaluate(in Input, req Request) Result {
	e := newEvaluator(req)
	e.hasBoundary = len(in.Boundaries) > 0
	var res Result

	var scp, id, bnd, ses, rsc layerResult
	hasSCP := len(in.SCPs) > 0
	if hasSCP {
		scp = e.evalSources(in.SCPs, layerSCP, &res)
	}
	id = e.evalSources(in.Identity, layerIdentity, &res)
	hasBoundary := len(in.Boundaries) > 0
	if hasBoundary {
		bnd = e.evalSources(in.Boundaries, layerBoundary, &res)
		allowed := bnd.allow && !bnd.deny
		res.BoundaryAllowed = &allowed
	}
	hasSession := len(in.Session) > 0
	if hasSession {
		ses = e.evalSources(in.Session, layerSession, &res)
	}
	if len(in.Resource) > 0 {
		rsc = e.evalSources(in.Resource, layerResource, &res)
	}
	res.MissingContextKeys = e.missing.sorted()

	// 1. Explicit deny anywhere.
	for ly, l := range [...]*layerResult{layerSCP: &scp, layerIdentity: &id, layerBoundary: &bnd, layerSession: &ses, layerResource: &rsc} {
		if l.deny {
			res.Decision = ExplicitDeny
			res.Reason = "explicitly denied by " + describe(&l.denyBy, l.denySrc, layer(ly))
			return res
		}
	}
	res.Decision = ImplicitDeny
	what := e.req.Action + " on " + e.req.Resource

	// 2. SCPs must allow.
	if hasSCP && !scp.allow {
		res.Reason = "implicitly denied: no service control policy allows " + what
		return res
	}

	// 3. The grant.
	boundaryOK := !hasBoundary || bnd.allow
	sessionOK := !hasSession || ses.allow
	identityOK := id.allow && boundaryOK && sessionOK
	pAcct, rAcct := e.accounts()
	sameAccount := pAcct == "" || rAcct == "" || pAcct == rAcct

	suffix := ""
	if hasBoundary {
		suffix += "; within the permissions boundary"
	}
	if hasSession {
		suffix += "; within the session policy"
	}
	if hasSCP {
		suffix += "; allowed by the service control policies"
	}

	// A trust or key policy that was supplied must allow the caller, or its
	// account, for identity-based permissions to count.
	mustTrust := len(in.Resource) > 0 && resourcePolicyRequired(e.req.Action, e.req.Resource)

	if sameAccount {
		if identityOK && (!mustTrust || rsc.allow) {
			res.Decision = Allowed
			res.Reason = "allowed by " + describe(&id.allowBy, id.allowSrc, layerIdentity) + suffix
			return res
		}
		if rsc.strongAllow && (rsc.directAllow || (boundaryOK && sessionOK)) {
			res.Decision = Allowed
			res.Reason = "allowed by " + describe(&rsc.allowBy, rsc.allowSrc, layerResource)
			if rsc.directAllow {
				res.Reason += ", which names the principal directly"
			} else {
				res.Reason += suffix
			}
			if hasSCP && rsc.directAllow {
				res.Reason += "; allowed by the service control policies"
			}
			return res
		}
		if identityOK && mustTrust {
			res.Reason = "implicitly denied: " + describe(&id.allowBy, id.allowSrc, layerIdentity) + " allows it, but the " +
				resourcePolicyName(e.req.Action) + " allows neither the principal nor its account to " + what +
				", and it must, even within the account"
			return res
		}
		res.Reason = implicitReason(id, bnd, ses, rsc, hasBoundary, hasSession, what)
		return res
	}

	// Cross-account: both sides.
	switch {
	case identityOK && rsc.allow:
		res.Decision = Allowed
		res.Reason = "allowed across accounts by " + describe(&id.allowBy, id.allowSrc, layerIdentity) +
			" and " + describe(&rsc.allowBy, rsc.allowSrc, layerResource) + suffix
	case identityOK:
		res.Reason = "implicitly denied: cross-account request (principal account " + pAcct + ", resource account " + rAcct +
			") needs a resource-based policy that allows " + what + ", and none does"
	default:
		why := trimImplicit(implicitReason(id, bnd, ses, layerResult{}, hasBoundary, hasSession, what))
		if rsc.allow && !id.allow {
			why = describe(&rsc.allowBy, rsc.allowSrc, layerResource) + " allows it, but no identity-based policy allows " + what
		}
		res.Reason = "implicitly denied: cross-account request (principal account " + pAcct + ", resource account " + rAcct +
			") needs an identity-based allow as well as a resource-based one; " + why
	}
	return res
}

func trimImplicit(s string) string { return strings.TrimPrefix(s, "implicitly denied: ") }

// resourcePolicyRequired reports whether the request is on a resource whose
// resource-based policy must allow even callers of its own account: an IAM
// role, whose trust policy governs the sts: actions on it (AssumeRole,
// TagSession…), and a KMS key, whose key policy governs the kms: actions on
// it. AWS's evaluation logic names these two as the exceptions to "an
// identity-based Allow suffices within an account"
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html,
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
func resourcePolicyRequired(action, resource string) bool {
	svc, _, _ := strings.Cut(action, ":")
	switch {
	case strings.EqualFold(svc, "sts"):
		return strings.HasPrefix(resource, "arn:") && strings.Contains(resource, ":iam::") && strings.Contains(resource, ":role/")
	case strings.EqualFold(svc, "kms"):
		return strings.HasPrefix(resource, "arn:") && strings.Contains(resource, ":kms:") && strings.Contains(resource, ":key/")
	}
	return false
}

// resourcePolicyName names the policy resourcePolicyRequired is about.
func resourcePolicyName(action string) string {
	if svc, _, _ := strings.Cut(action, ":"); strings.EqualFold(svc, "kms") {
		return "key policy"
	}
	return "role's trust policy"
}

// implicitReason says why nothing granted the request.
func implicitReason(id, bnd, ses, rsc layerResult, hasBoundary, hasSession bool, what string) string {
	switch {
	case id.allow && hasBoundary && !bnd.allow:
		return "implicitly denied: " + describe(&id.allowBy, id.allowSrc, layerIdentity) +
			" allows it, but the permissions boundary does not allow " + what
	case id.allow && hasSession && !ses.allow:
		return "implicitly denied: " + describe(&id.allowBy, id.allowSrc, layerIdentity) +
			" allows it, but the session policy does not allow " + what
	case rsc.strongAllow && hasBoundary && !bnd.allow:
		return "implicitly denied: " + describe(&rsc.allowBy, rsc.allowSrc, layerResource) +
			" allows it without naming the principal directly, but the permissions boundary does not allow " + what
	case rsc.strongAllow && hasSession && !ses.allow:
		return "implicitly denied: " + describe(&rsc.allowBy, rsc.allowSrc, layerResource) +
			" allows it without naming the principal directly, but the session policy does not allow " + what
	case rsc.delegatedAllow:
		return "implicitly denied: " + describe(&rsc.allowBy, rsc.allowSrc, layerResource) +
			" grants it only to the principal's account, and no identity-based policy allows " + what
	}
	return "implicitly denied: no identity-based or resource-based policy allows " + what
}

// describe names a statement and its policy for a Reason:
// "statement 'NoIAM' (index 1) of policy DeveloperBoundary",
// "statement 0 of inline policy read".
func describe(m *Match, src Source, ly layer) string {
	var s string
	if m.Sid != "" {
		s = "statement '" + m.Sid + "' (index " + strconv.Itoa(m.Index) + ")"
	} else {
		s = "statement " + strconv.Itoa(m.Index)
	}
	var kind string
	switch ly {
	case layerSCP:
		kind = "service control policy "
	case layerSession:
		kind = "session policy "
	case layerResource:
		kind = "resource-based policy "
	case layerBoundary:
		kind = "policy "
	default:
		switch src.Type {
		case "user", "group", "role":
			kind = "inline policy "
		default:
			kind = "policy "
		}
	}
	return s + " of " + kind + src.ID
}

type evaluator struct {
	req     Request
	action  string              // req.Action lower-cased once
	ctx     map[string][]string // lower-cased key → values
	missing keySet              // nil until a key is missing

	// actionASCII and resourceASCII allow byte-wise matching (see asciiGlob).
	actionASCII, resourceASCII bool

	// hasBoundary: the caller has a permissions boundary, which makes every
	// resource-policy Deny with a NotPrincipal apply to it.
	hasBoundary bool
}

func newEvaluator(req Request) *evaluator {
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		lk := lowerASCII(k)
		if old, ok := ctx[lk]; ok {
			ctx[lk] = append(old, v...)
		} else {
			ctx[lk] = v
		}
	}
	return &evaluator{req: req, action: lowerASCII(req.Action), ctx: ctx,
		actionASCII: isASCII(req.Action), resourceASCII: isASCII(req.Resource)}
}

// lowerASCII is strings.ToLower without an allocation when s has no upper
// case ASCII letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

func (e *evaluator) addMissing(k string) {
	if e.missing == nil {
		e.missing = keySet{}
	}
	e.missing.add(k)
}

// value returns a context key's values; present means at least one value.
func (e *evaluator) value(key string) ([]string, bool) {
	v := e.lookup(key)
	return v, len(v) > 0
}

// lookup finds a key case-insensitively. Short ASCII keys are lower-cased
// into a stack buffer; indexing a map with string(bytes) does not allocate.
func (e *evaluator) lookup(key string) []string {
	var buf [128]byte
	if len(key) > len(buf) {
		return e.ctx[strings.ToLower(key)]
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 0x80 {
			return e.ctx[strings.ToLower(key)]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return e.ctx[string(buf[:len(key)])]
}

// lookupVar resolves a policy variable. Only single-valued keys can be
// variables; AWS cannot substitute a multivalued key into one string.
func (e *evaluator) lookupVar(name string) (string, bool) {
	v := e.lookup(name)
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// accounts returns the caller's and the resource's account, from the
// request's fields or else from the ARNs.
func (e *evaluator) accounts() (principal, resource string) {
	principal, resource = e.req.PrincipalAccount, e.req.ResourceAccount
	if principal == "" {
		principal = arnAccount(e.req.Principal)
	}
	if resource == "" {
		resource = arnAccount(e.req.Resource)
	}
	return principal, resource
}

// arnAccount returns the account field of an ARN ("" when s is not an ARN or
// has none).
func arnAccount(s string) string {
	if !strings.HasPrefix(s, "arn:") {
		return ""
	}
	rest := s
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ""
		}
		rest = rest[j+1:]
	}
	if j := strings.IndexByte(rest, ':'); j >= 0 {
		return rest[:j]
	}
	return ""
}

func (e *evaluator) evalSources(srcs []Source, ly layer, res *Result) layerResult {
	var lr layerResult
	for _, src := range srcs {
		if src.Doc == nil {
			continue
		}
		vars := src.Doc.Version == "2012-10-17"
		for i := range src.Doc.Statements {
			st := &src.Doc.Statements[i]
			pm := e.statementMatches(st, vars, ly == layerResource)
			if pm == principalNone {
				continue
			}
			res.Matched = append(res.Matched, Match{
				SourceID: src.ID, SourceType: src.Type,
				Index: st.Index, Sid: st.Sid, Effect: st.Effect,
				Start: st.Start, End: st.End,
			})
			m := &res.Matched[len(res.Matched)-1]
			switch st.Effect {
			case "Deny":
				if !lr.deny {
					lr.deny, lr.denySrc = true, src
					lr.denyBy = *m
				}
			case "Allow":
				// Prefer, as the reason, the strongest kind of resource grant.
				better := !lr.allow ||
					(pm == principalDirect && !lr.directAllow) ||
					(pm == principalStrong && !lr.strongAllow)
				lr.allow = true
				if better {
					lr.allowSrc = src
					lr.allowBy = *m
				}
				switch pm {
				case principalDirect:
					lr.directAllow, lr.strongAllow = true, true
				case principalStrong:
					lr.strongAllow = true
				case principalAccount:
					lr.delegatedAllow = true
				}
			}
		}
	}
	return lr
}

// principalMatch says whether, and how, a statement applied to the caller.
type principalMatch int

const (
	principalNone    principalMatch = iota // the statement does not apply
	principalAny                           // identity-side statement (no Principal element)
	principalAccount                       // the caller's account, by id or root ARN
	principalStrong                        // "*", a role ARN, a service, a NotPrincipal
	principalDirect                        // the caller's own user or session ARN
)

// statementMatches decides one statement, and records the context keys the
// statement needs but the request lacks when the statement is relevant (its
// action applies and its resource applies or could apply once the missing
// keys are known). In resource policies (resource set) the statement must
// carry a Principal or NotPrincipal that matches the caller; elsewhere it
// must carry neither.
func (e *evaluator) statementMatches(st *Statement, vars, resource bool) principalMatch {
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return principalNone
	}
	pm := principalAny
	if resource {
		switch {
		case st.Principal != nil:
			pm = e.matchPrincipal(st.Principal)
		case st.NotPrincipal != nil:
			// AWS: a Deny with NotPrincipal always denies a principal that
			// has a permissions boundary, whatever NotPrincipal names.
			if !(e.hasBoundary && st.Effect == "Deny") && e.matchPrincipal(st.NotPrincipal) != principalNone {
				return principalNone
			}
			pm = principalStrong
		default:
			return principalNone
		}
		if pm == principalNone {
			return principalNone
		}
	} else if st.Principal != nil || st.NotPrincipal != nil {
		return principalNone
	}
	if !e.actionMatches(st) {
		return principalNone
	}
	var resMatch bool
	var resMissing []string
	if resource && st.Resource == nil && st.NotResource == nil {
		resMatch = true // a trust policy: the resource is the policy's owner
	} else {
		resMatch, resMissing = e.resourceMatches(st, vars)
	}
	if !resMatch && len(resMissing) == 0 {
		return principalNone
	}
	// Relevant: record what it is missing.
	for _, m := range resMissing {
		e.addMissing(m)
	}
	condMatch := e.conditionsMatch(st.Condition, vars)
	if resMatch && condMatch {
		return pm
	}
	return principalNone
}

// matchPrincipal matches a Principal element against the caller: "*" and
// {"AWS": "*"} match everyone; a 12-digit account id or an account's root
// ARN matches every principal of that account; an ARN matches itself, and a
// role's ARN also matches that role's sessions
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION); Service, Federated and
// CanonicalUser values match the caller string exactly.
func (e *evaluator) matchPrincipal(p *Principal) principalMatch {
	if p.Wildcard {
		return principalStrong
	}
	caller := e.req.Principal
	best := principalNone
	for typ, vals := range p.Values {
		for _, v := range vals {
			var m principalMatch
			switch typ {
			case "AWS":
				m = e.matchAWSPrincipal(v)
			default: // Service, Federated, CanonicalUser
				if v == "*" || (caller != "" && v == caller) {
					m = principalStrong
				}
			}
			if m > best {
				best = m
			}
		}
	}
	return best
}

func (e *evaluator) matchAWSPrincipal(v string) principalMatch {
	if v == "*" {
		return principalStrong
	}
	caller := e.req.Principal
	pAcct, _ := e.accounts()
	if isAccountID(v) {
		if pAcct != "" && v == pAcct {
			return principalAccount
		}
		return principalNone
	}
	if strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":root") && strings.Contains(v, ":iam::") {
		if pAcct != "" && arnAccount(v) == pAcct {
			return principalAccount
		}
		return principalNone
	}
	if caller == "" {
		return principalNone
	}
	if v == caller {
		if strings.Contains(caller, ":user/") || strings.Contains(caller, ":assumed-role/") || strings.Contains(caller, ":federated-user/") {
			return principalDirect
		}
		return principalStrong
	}
	// A role ARN names every session of the role.
	if i := strings.Index(caller, ":assumed-role/"); i >= 0 && strings.Contains(v, ":role/") {
		rest := caller[i+len(":assumed-role/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			roleName := rest[:j]
			if arnAccount(v) == arnAccount(caller) && strings.HasSuffix(v, "/"+roleName) {
				return principalStrong
			}
		}
	}
	return principalNone
}

func (e *evaluator) actionMatches(st *Statement) bool {
	switch {
	case len(st.Action) > 0:
		for _, p := range st.Action {
			if e.actionGlob(p) {
				return true
			}
		}
		return false
	case len(st.NotAction) > 0:
		for _, p := range st.NotAction {
			if e.actionGlob(p) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// actionGlob matches an action pattern case-insensitively against the
// request's action.
func (e *evaluator) actionGlob(p string) bool {
	if e.actionASCII && isASCII(p) {
		return asciiGlob(p, e.action, true)
	}
	return wildcardMatch(p, e.req.Action, true)
}

// resourceMatches reports whether the request's resource matches the
// statement, and which policy variables it could not resolve on the way.
func (e *evaluator) resourceMatches(st *Statement, vars bool) (bool, []string) {
	switch {
	case len(st.Resource) > 0:
		return e.anyResource(st.Resource, vars)
	case len(st.NotResource) > 0:
		excluded, missing := e.anyResource(st.NotResource, vars)
		// An exclusion list we cannot fully read cannot be applied safely.
		return !excluded && len(missing) == 0, missing
	default:
		return false, nil
	}
}

// anyResource reports whether a pattern of list matches the request's
// resource, ignoring the patterns with a variable it could not resolve,
// which it returns.
func (e *evaluator) anyResource(list []string, vars bool) (bool, []string) {
	var missing []string
	matched := false
	for _, raw := range list {
		ok, miss := e.resourcePattern(raw, vars)
		if len(miss) > 0 {
			missing = append(missing, miss...)
			continue
		}
		matched = matched || ok
	}
	return matched, missing
}

// resourcePattern matches one Resource/NotResource pattern. Patterns without
// a policy variable (the common case) are matched as strings, with no
// allocation.
func (e *evaluator) resourcePattern(raw string, vars bool) (bool, []string) {
	if !vars || !strings.Contains(raw, "${") {
		if e.resourceASCII {
			// Byte-wise matching equals rune-wise matching when the
			// resource is ASCII, whatever the pattern holds.
			return asciiGlob(raw, e.req.Resource, false), nil
		}
		return globMatch(literalPattern(raw), e.req.Resource), nil
	}
	pat, miss := expand(raw, vars, e.lookupVar)
	if len(miss) > 0 {
		return false, miss
	}
	return globMatch(pat, e.req.Resource), nil
}

// conditionsMatch ANDs every operator and every key; each key ORs its
// values (see operator.evalKey). An operator the package does not know makes
// the statement never match: guessing could only widen an Allow.
func (e *evaluator) conditionsMatch(c Conditions, vars bool) bool {
	ok := true
	// Visit every operator and key, even after a failure, so that
	// MissingContextKeys lists all of them.
	// Sorted, so that the spelling kept for a key written two ways is stable.
	for _, name := range sortedNames(c) {
		keys := c[name]
		op, known := parseOperator(name)
		if !known {
			ok = false
		}
		for _, key := range sortedNames(keys) {
			pols := keys[key]
			reqVals, present := e.value(key)
			if !present {
				e.addMissing(key)
			}
			if !known {
				continue
			}
			if !op.evalKey(reqVals, present, pols, vars, e.lookupVar, e.addMissing) {
				ok = false
			}
		}
	}
	return ok
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// keySet collects condition key names case-insensitively, keeping the first
// spelling seen.
type keySet map[string]string

func (s keySet) add(k string) {
	lk := strings.ToLower(k)
	if _, ok := s[lk]; !ok {
		s[lk] = k
	}
}

func (s keySet) sorted() []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, 0, len(s))
	for _, k := range s {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		li, lj := strings.ToLower(out[i]), strings.ToLower(out[j])
		if li != lj {
			return li < lj
		}
		return out[i] < out[j]
	})
	return out
}

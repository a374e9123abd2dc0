package policy

import (
	"sort"
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
}

// Input is the set of policies that apply to a principal: its identity-based
// policies and, when it has one, its permissions boundary.
type Input struct {
	Identity   []Source
	Boundaries []Source // nil/empty = no permissions boundary
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
	Decision           Decision
	Matched            []Match  // statements that matched the request (both Allow and Deny) from identity and boundary policies, in input order
	MissingContextKeys []string // condition keys referenced by relevant statements but absent from Context (sorted, de-duplicated)
	BoundaryAllowed    *bool    // nil when no boundary was supplied; otherwise whether the boundary allows
}

// Evaluate decides a request against a principal's identity-based policies
// and permissions boundary, following AWS's documented evaluation logic for a
// single account:
//
//  1. A matching Deny statement in any identity or boundary policy → ExplicitDeny.
//  2. Otherwise the request is Allowed when an identity-based Allow matches and,
//     if a boundary was supplied, a boundary Allow matches too (the effective
//     permissions are the intersection).
//  3. Otherwise ImplicitDeny.
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
// Statements that carry a Principal or NotPrincipal belong to resource-based
// policies and never match here; so do statements without an action or
// resource element, or with an empty one (an empty NotAction would otherwise
// mean "every action"). Both are rejected by CheckIAM for identity policies, and
// skipping them keeps a policy that slipped past validation from granting more
// than it says.
func Evaluate(in Input, req Request) Result {
	e := newEvaluator(req)
	var res Result

	identityAllow, identityDeny := e.evalSources(in.Identity, &res)
	boundaryAllow, boundaryDeny := false, false
	hasBoundary := len(in.Boundaries) > 0
	if hasBoundary {
		boundaryAllow, boundaryDeny = e.evalSources(in.Boundaries, &res)
		allowed := boundaryAllow && !boundaryDeny
		res.BoundaryAllowed = &allowed
	}

	switch {
	case identityDeny || boundaryDeny:
		res.Decision = ExplicitDeny
	case identityAllow && (!hasBoundary || boundaryAllow):
		res.Decision = Allowed
	default:
		res.Decision = ImplicitDeny
	}
	res.MissingContextKeys = e.missing.sorted()
	return res
}

type evaluator struct {
	req     Request
	ctx     map[string][]string // lower-cased key → values
	missing keySet
}

func newEvaluator(req Request) *evaluator {
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		lk := strings.ToLower(k)
		ctx[lk] = append(ctx[lk], v...)
	}
	return &evaluator{req: req, ctx: ctx, missing: keySet{}}
}

// value returns a context key's values; present means at least one value.
func (e *evaluator) value(key string) ([]string, bool) {
	v := e.ctx[strings.ToLower(key)]
	return v, len(v) > 0
}

// lookupVar resolves a policy variable. Only single-valued keys can be
// variables; AWS cannot substitute a multivalued key into one string.
func (e *evaluator) lookupVar(name string) (string, bool) {
	v := e.ctx[strings.ToLower(name)]
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}

func (e *evaluator) evalSources(srcs []Source, res *Result) (allow, deny bool) {
	for _, src := range srcs {
		if src.Doc == nil {
			continue
		}
		vars := src.Doc.Version == "2012-10-17"
		for i := range src.Doc.Statements {
			st := &src.Doc.Statements[i]
			if !e.statementMatches(st, vars) {
				continue
			}
			res.Matched = append(res.Matched, Match{
				SourceID: src.ID, SourceType: src.Type,
				Index: st.Index, Sid: st.Sid, Effect: st.Effect,
				Start: st.Start, End: st.End,
			})
			switch st.Effect {
			case "Deny":
				deny = true
			case "Allow":
				allow = true
			}
		}
	}
	return allow, deny
}

// statementMatches decides one statement, and records the context keys the
// statement needs but the request lacks when the statement is relevant (its
// action applies and its resource applies or could apply once the missing
// keys are known).
func (e *evaluator) statementMatches(st *Statement, vars bool) bool {
	if st.Principal != nil || st.NotPrincipal != nil {
		return false
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return false
	}
	if !actionMatches(st, e.req.Action) {
		return false
	}
	resMatch, resMissing := e.resourceMatches(st, vars)
	if !resMatch && len(resMissing) == 0 {
		return false
	}
	// Relevant: record what it is missing.
	for _, m := range resMissing {
		e.missing.add(m)
	}
	condMatch := e.conditionsMatch(st.Condition, vars)
	return resMatch && condMatch
}

func actionMatches(st *Statement, action string) bool {
	switch {
	case len(st.Action) > 0:
		for _, p := range st.Action {
			if wildcardMatch(p, action, true) {
				return true
			}
		}
		return false
	case len(st.NotAction) > 0:
		for _, p := range st.NotAction {
			if wildcardMatch(p, action, true) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// resourceMatches reports whether the request's resource matches the
// statement, and which policy variables it could not resolve on the way.
func (e *evaluator) resourceMatches(st *Statement, vars bool) (bool, []string) {
	var missing []string
	switch {
	case len(st.Resource) > 0:
		matched := false
		for _, raw := range st.Resource {
			pat, miss := expand(raw, vars, e.lookupVar)
			if len(miss) > 0 {
				missing = append(missing, miss...)
				continue
			}
			if globMatch(pat, e.req.Resource) {
				matched = true
			}
		}
		return matched, missing
	case len(st.NotResource) > 0:
		excluded := false
		for _, raw := range st.NotResource {
			pat, miss := expand(raw, vars, e.lookupVar)
			if len(miss) > 0 {
				missing = append(missing, miss...)
				continue
			}
			if globMatch(pat, e.req.Resource) {
				excluded = true
			}
		}
		// An exclusion list we cannot fully read cannot be applied safely.
		return !excluded && len(missing) == 0, missing
	default:
		return false, nil
	}
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
				e.missing.add(key)
			}
			if !known {
				continue
			}
			if !op.evalKey(reqVals, present, pols, vars, e.lookupVar, e.missing.add) {
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

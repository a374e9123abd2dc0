package sandbox

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// Policy simulation, evaluated by policy, and STS GetCallerIdentity.

var simulationActions = map[string]action{
	"SimulatePrincipalPolicy":          {run: simulatePrincipalPolicy},
	"SimulateCustomPolicy":             {run: simulateCustomPolicy},
	"GetContextKeysForPrincipalPolicy": {run: contextKeysForPrincipalPolicy},
	"GetContextKeysForCustomPolicy":    {run: contextKeysForCustomPolicy},
}

// stsGetCallerIdentity answers for the principal owning the signing access
// key: a user of the sandbox, or the account root for any other key id.
var stsGetCallerIdentity = action{run: func(s *Server, c *call) (any, *Error) {
	type result struct {
		Arn     string `xml:"Arn"`
		UserId  string `xml:"UserId"`
		Account string `xml:"Account"`
	}
	if ss := c.session; ss != nil {
		return result{ss.arn(), ss.userID(), s.id}, nil
	}
	if u := s.acct.userByAccessKey(c.accessKeyID); u != nil {
		return result{u.ARN(s.id), u.ID, s.id}, nil
	}
	return result{"arn:aws:iam::" + s.id + ":root", s.id, s.id}, nil
}}

// ---- the principal's policies ----

// subject is who a simulation runs as, as IAM's simulator models it.
type subject struct {
	// arn is what the Principal and NotPrincipal elements of a resource
	// policy are matched against (policy.Request.Principal): a user's or a
	// role's ARN. It is "" for a group: a group is never a principal in AWS
	// (a resource policy cannot name one), so a group is simulated as an
	// unnamed member of it, whom only "*" and account principals match.
	arn string
	// account is the caller's account (policy.Request.PrincipalAccount),
	// which decides whether a request is cross-account.
	account string
	// vars are the request-context keys IAM's simulator fills in for the
	// principal, for conditions and policy variables: aws:username,
	// aws:userid, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType
	// and aws:PrincipalTag/KEY. Context entries the caller passes win.
	vars map[string][]string
}

// userSubject is a sandbox user as a simulated caller.
func userSubject(u *User, account string) subject {
	vars := map[string][]string{
		"aws:username":      {u.Name},
		"aws:userid":        {u.ID},
		"aws:PrincipalType": {"User"},
	}
	return principalSubject(u.ARN(account), account, u.Tags, vars)
}

// roleSubject is a sandbox role as a simulated caller. The simulator runs
// as the role itself, not as one of its sessions: there is no session name
// to put in aws:userid (ROLEID:SESSION in a real request), and a resource
// policy naming the role matches either way.
func roleSubject(r *Role, account string) subject {
	vars := map[string][]string{
		"aws:userid":        {r.ID},
		"aws:PrincipalType": {"AssumedRole"},
	}
	return principalSubject(r.ARN(account), account, r.Tags, vars)
}

// principalSubject completes the variables every named principal has.
func principalSubject(arn, account string, tags []Tag, vars map[string][]string) subject {
	vars["aws:PrincipalArn"] = []string{arn}
	vars["aws:PrincipalAccount"] = []string{account}
	for _, t := range tags {
		vars["aws:PrincipalTag/"+t.Key] = []string{t.Value}
	}
	return subject{arn: arn, account: account, vars: vars}
}

// groupSubject is an unnamed member of a group in account: it has an
// account but no ARN, name or tags of its own (see subject.arn), so
// conditions on those are reported as missing context values, to be
// supplied as context entries or through CallerArn.
func groupSubject(account string) subject {
	return subject{account: account, vars: map[string][]string{"aws:PrincipalAccount": {account}}}
}

// principalPolicies gathers what AWS evaluates for a user, group or role
// named by ARN: its identity-based policies (a user's own and its groups')
// and its permissions boundary, and who the simulation runs as when no
// CallerArn says otherwise: the user, the role, or a group's unnamed member.
func (s *Server) principalPolicies(sourceARN string) (identity, boundary []policy.Source, who subject, err *Error) {
	kind, name, ok := parsePrincipalARN(sourceARN, s.id)
	if !ok {
		return nil, nil, subject{}, errInvalidInput("Invalid ARN %s: PolicySourceArn must be the ARN of an IAM user, group or role in account %s.", sourceARN, s.id)
	}
	a := s.acct
	var bARN string
	switch kind {
	case "user":
		u, e := a.user(name)
		if e != nil {
			return nil, nil, subject{}, e
		}
		identity = append(s.inlineSources(u.Inline, "user"), s.managedSources(u.Attached)...)
		for _, g := range a.groupsOf(u.Name) {
			identity = append(identity, s.inlineSources(g.Inline, "group")...)
			identity = append(identity, s.managedSources(g.Attached)...)
		}
		bARN = u.Boundary
		who = userSubject(u, s.id)
	case "group":
		g, e := a.group(name)
		if e != nil {
			return nil, nil, subject{}, e
		}
		identity = append(s.inlineSources(g.Inline, "group"), s.managedSources(g.Attached)...)
		who = groupSubject(s.id)
	case "role":
		r, e := a.role(name)
		if e != nil {
			return nil, nil, subject{}, e
		}
		identity = append(s.inlineSources(r.Inline, "role"), s.managedSources(r.Attached)...)
		bARN = r.Boundary
		who = roleSubject(r, s.id)
	}
	if bARN != "" {
		boundary = s.managedSources([]string{bARN})
	}
	return identity, boundary, who, nil
}

// parsePrincipalARN splits arn:aws:iam::ACCOUNT:user/path/name, for the
// given account only.
func parsePrincipalARN(a, account string) (kind, name string, ok bool) {
	rest, found := strings.CutPrefix(a, "arn:aws:iam::"+account+":")
	if !found {
		return "", "", false
	}
	kind, resource, found := strings.Cut(rest, "/")
	if !found || (kind != "user" && kind != "group" && kind != "role") {
		return "", "", false
	}
	name = resource[strings.LastIndex(resource, "/")+1:]
	return kind, name, name != ""
}

// inlineSources turns inline policies into evaluator sources. Stored
// documents were validated when written, so a parse failure cannot happen;
// one that did would be skipped rather than crash a simulation.
func (s *Server) inlineSources(list []InlinePolicy, typ string) []policy.Source {
	var out []policy.Source
	for _, ip := range list {
		if d, err := policy.Parse(ip.Document); err == nil {
			out = append(out, policy.Source{ID: ip.Name, Type: typ, Doc: d})
		}
	}
	return out
}

// managedSources turns attached managed policies (their default versions)
// into evaluator sources.
func (s *Server) managedSources(arns []string) []policy.Source {
	var out []policy.Source
	for _, arn := range arns {
		mp := s.acct.Policies[arn]
		if mp == nil {
			continue
		}
		typ := "user-managed"
		if mp.AWSManaged {
			typ = "aws-managed"
		}
		if d, err := policy.Parse(mp.defaultDocument()); err == nil {
			out = append(out, policy.Source{ID: mp.Name, Type: typ, Doc: d})
		}
	}
	return out
}

// defaultDocument is the document of a managed policy's default version.
func (mp *ManagedPolicy) defaultDocument() string {
	for _, v := range mp.Versions {
		if v.ID == mp.DefaultVersion {
			return v.Document
		}
	}
	return ""
}

// inputSources parses a list parameter of policy documents
// (PolicyInputList, PermissionsBoundaryPolicyInputList).
func inputSources(p params, param string) ([]policy.Source, *Error) {
	var out []policy.Source
	for i, doc := range p.list(param) {
		if e := policy.CheckIAM(doc, policy.Identity); e != nil {
			return nil, errMalformedPolicy("%s.%d: %s", param, i+1, e.Error())
		}
		d, err := policy.Parse(doc)
		if err != nil {
			return nil, errMalformedPolicy("%s.%d: %v", param, i+1, err)
		}
		out = append(out, policy.Source{ID: fmt.Sprintf("%s.%d", param, i+1), Type: "none", Doc: d})
	}
	return out, nil
}

// ---- simulation ----

type xmlPosition struct {
	Line   int `xml:"Line"`
	Column int `xml:"Column"`
}

type xmlStatement struct {
	SourcePolicyId   string      `xml:"SourcePolicyId"`
	SourcePolicyType string      `xml:"SourcePolicyType"`
	StartPosition    xmlPosition `xml:"StartPosition"`
	EndPosition      xmlPosition `xml:"EndPosition"`
}

type xmlBoundaryDetail struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

type xmlEvaluation struct {
	EvalActionName                    string                `xml:"EvalActionName"`
	EvalResourceName                  string                `xml:"EvalResourceName"`
	EvalDecision                      string                `xml:"EvalDecision"`
	MatchedStatements                 members[xmlStatement] `xml:"MatchedStatements"`
	MissingContextValues              members[string]       `xml:"MissingContextValues"`
	PermissionsBoundaryDecisionDetail *xmlBoundaryDetail    `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
	OrganizationsDecisionDetail       *xmlOrgDetail         `xml:"OrganizationsDecisionDetail,omitempty"`
}

type xmlOrgDetail struct {
	AllowedByOrganizations bool `xml:"AllowedByOrganizations"`
}

// target is what a simulation evaluates besides the policies: who asks, and
// who owns the resources.
type target struct {
	who subject
	// owner is the ResourceOwner account: the account of every resource
	// whose ARN names none (S3 buckets and objects, "*"). "" leaves such
	// resources in the caller's account, as IAM does without ResourceOwner.
	owner string
	// scps are the SCPs of the account, a set per level of its path in
	// the organisation (organization.scpLevels); nil outside one.
	scps [][]policy.Source
}

// simulate is what both simulate actions share once their policies are
// known: the requests to evaluate and the page to return.
func simulate(c *call, in policy.Input, t target) (any, *Error) {
	actionNames := c.list("ActionNames")
	if len(actionNames) == 0 {
		return nil, errValidation("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := c.list("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	reqCtx, err := contextEntries(c.params)
	if err != nil {
		return nil, err
	}
	for k, v := range t.who.vars {
		if _, given := lookupFold(reqCtx, k); !given {
			reqCtx[k] = v
		}
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	var results []xmlEvaluation
	for _, act := range actionNames {
		for _, res := range resources {
			req := policy.Request{Action: act, Resource: res, Context: reqCtx, Principal: t.who.arn, PrincipalAccount: t.who.account}
			// An account in the ARN is the resource's own; ResourceOwner
			// speaks only for resources whose ARN names none.
			if t.owner != "" && arnAccount(res) == "" {
				req.ResourceAccount = t.owner
			}
			r := evaluateWithSCPs(in, req, t.scps)
			ev := xmlEvaluation{EvalActionName: act, EvalResourceName: res, EvalDecision: string(r.Decision), MissingContextValues: r.MissingContextKeys}
			for _, m := range r.Matched {
				ev.MatchedStatements = append(ev.MatchedStatements, xmlStatement{
					SourcePolicyId: m.SourceID, SourcePolicyType: m.SourceType,
					StartPosition: xmlPosition{m.Start.Line, m.Start.Column},
					EndPosition:   xmlPosition{m.End.Line, m.End.Column},
				})
			}
			if r.BoundaryAllowed != nil {
				ev.PermissionsBoundaryDecisionDetail = &xmlBoundaryDetail{*r.BoundaryAllowed}
			}
			if t.scps != nil {
				ev.OrganizationsDecisionDetail = &xmlOrgDetail{scpsAllow(req, t.scps)}
			}
			results = append(results, ev)
		}
	}
	// Results keep request order; the marker is the position.
	order := make([]int, len(results))
	for i := range order {
		order[i] = i
	}
	position := func(i int) string { return fmt.Sprintf("%08d", i) }
	return listOf("EvaluationResults", order, position, pg, func(i int) xmlEvaluation { return results[i] })
}

// arnAccount is an ARN's account field ("" when s is not an ARN or names no
// account, as S3's arn:aws:s3:::bucket does).
func arnAccount(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// contextKeyTypes are IAM's ContextKeyTypeEnum values, in IAM's order (the
// order its validation message lists them in).
var contextKeyTypes = []string{"string", "stringList", "numeric", "numericList", "boolean", "booleanList", "ip", "ipList", "binary", "binaryList", "date", "dateList"}

// contextTypeCheck maps a context key type (without "List") to the
// condition operator that reads values of that type, and what a readable
// value looks like, for the error message.
var contextTypeCheck = map[string]struct{ operator, want string }{
	"numeric": {"NumericEquals", "a number, e.g. 10 or 2.5"},
	"boolean": {"Bool", "true or false"},
	"ip":      {"IpAddress", "an IPv4 or IPv6 address, e.g. 203.0.113.7"},
	"binary":  {"BinaryEquals", "base64, e.g. QmluYXJ5"},
	"date":    {"DateEquals", "an ISO 8601 date or date-time (2026-01-02, 2026-01-02T15:04:05Z) or seconds since the Unix epoch"},
}

// contextEntries reads ContextEntries.member.N.{ContextKeyName,
// ContextKeyValues.member.M, ContextKeyType}. Values stay strings (that is
// how the evaluator takes them), but each must be readable as its declared
// type: IAM refuses a date that is not a date rather than simulate a
// condition that could never match it. A missing type is string. Every
// value of a list type is checked; a single-valued type given several
// values is not refused, and the evaluator treats the key as multivalued.
func contextEntries(p params) (map[string][]string, *Error) {
	out := map[string][]string{}
	for i, prefix := range p.structs("ContextEntries") {
		name := p.str(prefix + ".ContextKeyName")
		if name == "" {
			return nil, errInvalidInput("%s.ContextKeyName is required.", prefix)
		}
		values := p.list(prefix + ".ContextKeyValues")
		if typ := p.str(prefix + ".ContextKeyType"); typ != "" {
			if !slices.Contains(contextKeyTypes, typ) {
				return nil, errValidation("1 validation error detected: Value '%s' at 'contextEntries.%d.member.contextKeyType' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
					typ, i+1, strings.Join(contextKeyTypes, ", "))
			}
			if check, typed := contextTypeCheck[strings.TrimSuffix(typ, "List")]; typed {
				for _, v := range values {
					if !readableAs(check.operator, v) {
						return nil, errInvalidInput("Invalid value '%s' for context key %s of type %s in %s: it must be %s.", v, name, typ, prefix, check.want)
					}
				}
			}
		}
		out[name] = values
	}
	return out, nil
}

// readableAs reports whether the evaluator can read v with a condition
// operator of v's type, by asking it to compare v with itself: whatever
// the sandbox accepts, its conditions can use, with one parser (the
// evaluator's) deciding both.
func readableAs(operator, v string) bool {
	doc := &policy.Document{Statements: []policy.Statement{{
		Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"},
		Condition: policy.Conditions{operator: {"k": {v}}},
	}}}
	r := policy.Evaluate(policy.Input{Identity: []policy.Source{{Doc: doc}}},
		policy.Request{Action: "x:Y", Resource: "*", Context: map[string][]string{"k": {v}}})
	return r.Decision == policy.Allowed
}

func lookupFold(m map[string][]string, k string) ([]string, bool) {
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v, true
		}
	}
	return nil, false
}

// resourcePolicy reads ResourcePolicy: one resource-based policy, treated
// as attached to every simulated resource. It is held to IAM's rules for
// resource policies (each statement names a Principal or NotPrincipal and a
// Resource), and reports its statements as SourcePolicyId "ResourcePolicy",
// SourcePolicyType "resource", as IAM does.
func resourcePolicy(p params) ([]policy.Source, *Error) {
	if !p.has("ResourcePolicy") {
		return nil, nil
	}
	doc := p.str("ResourcePolicy")
	if e := policy.CheckIAM(doc, policy.Resource); e != nil {
		return nil, errMalformedPolicy("ResourcePolicy: %s", e.Error())
	}
	d, err := policy.Parse(doc)
	if err != nil {
		return nil, errMalformedPolicy("ResourcePolicy: %v", err)
	}
	return []policy.Source{{ID: "ResourcePolicy", Type: "resource", Doc: d}}, nil
}

// resourceOwner reads ResourceOwner: a 12-digit account id, or the
// account's root ARN (arn:aws:iam::111122223333:root), which is the form
// IAM's reference for SimulateCustomPolicy names. "" when absent. The
// refusal starts with IAM's own sentence, odd grammar included, as reported
// in https://github.com/boto/botocore/issues/1346, so that clients matching
// on it see the same text; the second sentence says what would do.
func resourceOwner(p params) (string, *Error) {
	v := p.str("ResourceOwner")
	switch {
	case v == "":
		return "", nil
	case iamname.AccountID(v):
		return v, nil
	case iamname.RootARN(v):
		return arnAccount(v), nil
	}
	return "", errInvalidInput("'%s' is not a valid as a Resource Owner. ResourceOwner must be a 12-digit AWS account ID or the account's root ARN, e.g. 111122223333 or arn:aws:iam::111122223333:root.", v)
}

// callerSubject reads CallerArn: who to simulate as in place of the policy
// source ("as if Bob had David's policies", in IAM's words). IAM's current
// API reference accepts the ARN of an IAM user, group or role, and not an
// assumed-role session, a federated user or a service principal. The
// caller need not exist (IAM lets any well-formed ARN stand in, e.g. for a
// principal of another account); one that exists in the sandbox brings its
// id and tags into the policy variables, others only what their ARN says.
func (s *Server) callerSubject(callerARN string) (subject, *Error) {
	a, ok := iamname.ParseARN(callerARN)
	if !ok || a.Type == "policy" {
		return subject{}, errInvalidInput("Invalid caller - Caller must be an IAM user, group or role in this context: CallerArn %s is not the ARN of one. Pass an ARN such as arn:aws:iam::%s:user/Bob; assumed-role sessions, federated users, service principals and account roots cannot be simulated callers.", callerARN, s.id)
	}
	account, kind, name := a.Account, a.Type, a.Name
	switch kind {
	case "user":
		if u := s.acct.Users[key(name)]; account == s.id && u != nil && u.ARN(s.id) == callerARN {
			return userSubject(u, s.id), nil
		}
		return principalSubject(callerARN, account, nil, map[string][]string{"aws:username": {name}, "aws:PrincipalType": {"User"}}), nil
	case "role":
		if r := s.acct.Roles[key(name)]; account == s.id && r != nil && r.ARN(s.id) == callerARN {
			return roleSubject(r, s.id), nil
		}
		return principalSubject(callerARN, account, nil, map[string][]string{"aws:PrincipalType": {"AssumedRole"}}), nil
	default:
		return groupSubject(account), nil
	}
}

// simulatePrincipalPolicy serves SimulatePrincipalPolicy: it evaluates a
// user's, group's or role's policies with every layer IAM's simulator has: identity policies (the source's own
// and PolicyInputList), its permissions boundary (or the one passed in
// PermissionsBoundaryPolicyInputList, which replaces it), and ResourcePolicy
// matched against the caller, with ResourceOwner deciding whether the
// request crosses accounts.
//
// The caller is CallerArn when given, else the source: the user, the role,
// or for a group an unnamed member of it (see subject.arn).
//
// ResourceHandlingOption (the EC2 scenarios) is accepted and ignored: it
// makes IAM insist that certain resource ARNs are present, and the sandbox
// evaluates whatever resources it is given.
func simulatePrincipalPolicy(s *Server, c *call) (any, *Error) {
	src, err := c.required("PolicySourceArn")
	if err != nil {
		return nil, err
	}
	identity, boundary, who, err := s.principalPolicies(src)
	if err != nil {
		return nil, err
	}
	extra, err := inputSources(c.params, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	// A supplied boundary replaces the principal's own, as in IAM.
	if c.has("PermissionsBoundaryPolicyInputList.member.1") {
		if boundary, err = inputSources(c.params, "PermissionsBoundaryPolicyInputList"); err != nil {
			return nil, err
		}
	}
	caller, owner, resource, err := s.resourceSide(c)
	if err != nil {
		return nil, err
	}
	if caller != nil {
		who = *caller
	}
	// In a member account of an organisation, the SCPs that apply to it
	// take part, as in IAM's simulator (OrganizationsDecisionDetail).
	return simulate(c, policy.Input{Identity: append(identity, extra...), Boundaries: boundary, Resource: resource},
		target{who: who, owner: owner, scps: s.realm.org.scpLevels(s.id)})
}

// simulateCustomPolicy serves SimulateCustomPolicy: it evaluates the
// policies it is given, with the same resource side (CallerArn,
// ResourceOwner, ResourcePolicy) as simulatePrincipalPolicy. Without CallerArn
// there is no principal: no policy variables are filled in and the caller's
// account is the sandbox's. A ResourcePolicy needs a CallerArn, as IAM's
// reference says, for its Principal elements to have someone to match.
func simulateCustomPolicy(s *Server, c *call) (any, *Error) {
	identity, err := inputSources(c.params, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	if len(identity) == 0 {
		return nil, errValidation("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
	}
	boundary, err := inputSources(c.params, "PermissionsBoundaryPolicyInputList")
	if err != nil {
		return nil, err
	}
	caller, owner, resource, err := s.resourceSide(c)
	if err != nil {
		return nil, err
	}
	who := subject{account: s.id}
	switch {
	case caller != nil:
		who = *caller
	case len(resource) > 0:
		return nil, errInvalidInput("CallerArn is required when ResourcePolicy is given: the resource policy's Principal elements need a caller to match. Pass the ARN of an IAM user, group or role, e.g. arn:aws:iam::%s:user/Bob.", s.id)
	}
	return simulate(c, policy.Input{Identity: identity, Boundaries: boundary, Resource: resource}, target{who: who, owner: owner})
}

// resourceSide reads the parameters both simulate actions share about who
// asks and whose resource it is: CallerArn (nil when absent), ResourceOwner
// ("" when absent) and ResourcePolicy.
func (s *Server) resourceSide(c *call) (caller *subject, owner string, resource []policy.Source, err *Error) {
	if arn := c.str("CallerArn"); arn != "" {
		who, err := s.callerSubject(arn)
		if err != nil {
			return nil, "", nil, err
		}
		caller = &who
	}
	if owner, err = resourceOwner(c.params); err != nil {
		return nil, "", nil, err
	}
	if resource, err = resourcePolicy(c.params); err != nil {
		return nil, "", nil, err
	}
	return caller, owner, resource, nil
}

// contextKeys lists the condition keys the policies reference, sorted and
// unique, as GetContextKeysFor*Policy reports them.
func contextKeys(sources []policy.Source) any {
	seen := map[string]string{}
	for _, src := range sources {
		for _, st := range src.Doc.Statements {
			for _, byKey := range st.Condition {
				for k := range byKey {
					seen[strings.ToLower(k)] = k
				}
			}
		}
	}
	var names []string
	for _, k := range seen {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return struct {
		ContextKeyNames members[string] `xml:"ContextKeyNames"`
	}{names}
}

func contextKeysForPrincipalPolicy(s *Server, c *call) (any, *Error) {
	src, err := c.required("PolicySourceArn")
	if err != nil {
		return nil, err
	}
	identity, _, _, err := s.principalPolicies(src)
	if err != nil {
		return nil, err
	}
	extra, err := inputSources(c.params, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	return contextKeys(append(identity, extra...)), nil
}

func contextKeysForCustomPolicy(s *Server, c *call) (any, *Error) {
	sources, err := inputSources(c.params, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, errValidation("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null")
	}
	return contextKeys(sources), nil
}

// evaluateWithSCPs evaluates a request with the SCPs of the caller's
// account, one level of its path at a time (root, OUs, account): AWS
// requires an allow at every level and lets a deny at any level deny,
// which is "every level's evaluation allows" — the evaluator takes one
// flat set of SCPs, in which an allow at one level would stand in for a
// missing allow at another. The first refusal is the answer. Without
// levels (the management account, or no organisation) it is Evaluate.
func evaluateWithSCPs(in policy.Input, req policy.Request, levels [][]policy.Source) policy.Result {
	if len(levels) == 0 {
		return policy.Evaluate(in, req)
	}
	var res policy.Result
	for _, level := range levels {
		if len(level) == 0 {
			return policy.Result{Decision: policy.ImplicitDeny, Reason: "implicitly denied: a level of the account's path in the organisation has no SCP attached"}
		}
		in.SCPs = level
		if res = policy.Evaluate(in, req); res.Decision != policy.Allowed {
			return res
		}
	}
	return res
}

// scpsAllow reports whether the SCPs alone allow the request, at every
// level: IAM's AllowedByOrganizations.
func scpsAllow(req policy.Request, levels [][]policy.Source) bool {
	for _, level := range levels {
		if policy.Evaluate(policy.Input{Identity: level}, req).Decision != policy.Allowed {
			return false
		}
	}
	return true
}

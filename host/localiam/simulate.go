package localiam

import (
	"fmt"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/policy"
)

// Policy simulation, evaluated by host/policy, and STS GetCallerIdentity.

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
	if u := s.acct.userByAccessKey(c.accessKeyID); u != nil {
		return result{u.ARN(), u.ID, AccountID}, nil
	}
	return result{"arn:aws:iam::" + AccountID + ":root", AccountID, AccountID}, nil
}}

// ---- the principal's policies ----

// principalPolicies gathers what AWS evaluates for a user, group or role
// named by ARN: its identity-based policies (a user's own and its groups')
// and its permissions boundary. vars are the policy variables IAM's
// simulator fills in for that principal.
func (s *Server) principalPolicies(sourceARN string) (identity, boundary []policy.Source, vars map[string][]string, err *Error) {
	kind, name, ok := parsePrincipalARN(sourceARN)
	if !ok {
		return nil, nil, nil, errInvalidInput("Invalid ARN %s: PolicySourceArn must be the ARN of an IAM user, group or role in account %s.", sourceARN, AccountID)
	}
	a := s.acct
	vars = map[string][]string{}
	var bARN string
	switch kind {
	case "user":
		u, e := a.user(name)
		if e != nil {
			return nil, nil, nil, e
		}
		identity = append(s.inlineSources(u.Inline, "user"), s.managedSources(u.Attached)...)
		for _, g := range a.groupsOf(u.Name) {
			identity = append(identity, s.inlineSources(g.Inline, "group")...)
			identity = append(identity, s.managedSources(g.Attached)...)
		}
		bARN = u.Boundary
		vars["aws:username"] = []string{u.Name}
		vars["aws:userid"] = []string{u.ID}
		vars["aws:PrincipalType"] = []string{"User"}
	case "group":
		g, e := a.group(name)
		if e != nil {
			return nil, nil, nil, e
		}
		identity = append(s.inlineSources(g.Inline, "group"), s.managedSources(g.Attached)...)
	case "role":
		r, e := a.role(name)
		if e != nil {
			return nil, nil, nil, e
		}
		identity = append(s.inlineSources(r.Inline, "role"), s.managedSources(r.Attached)...)
		bARN = r.Boundary
		vars["aws:userid"] = []string{r.ID}
		vars["aws:PrincipalType"] = []string{"AssumedRole"}
	}
	vars["aws:PrincipalArn"] = []string{sourceARN}
	vars["aws:PrincipalAccount"] = []string{AccountID}
	if bARN != "" {
		boundary = s.managedSources([]string{bARN})
	}
	return identity, boundary, vars, nil
}

// parsePrincipalARN splits arn:aws:iam::ACCOUNT:user/path/name.
func parsePrincipalARN(a string) (kind, name string, ok bool) {
	rest, found := strings.CutPrefix(a, "arn:aws:iam::"+AccountID+":")
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
}

// simulation is what both simulate actions share once their policies are
// known: the requests to evaluate and the page to return.
func simulate(c *call, in policy.Input, vars map[string][]string) (any, *Error) {
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
	for k, v := range vars {
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
			r := policy.Evaluate(in, policy.Request{Action: act, Resource: res, Context: reqCtx})
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
			results = append(results, ev)
		}
	}
	// Results keep request order; the marker is the position.
	order := make([]int, len(results))
	for i := range order {
		order[i] = i
	}
	page, truncated, marker, err := paginate(order, func(i int) string { return fmt.Sprintf("%08d", i) }, pg)
	if err != nil {
		return nil, err
	}
	out := make(members[xmlEvaluation], len(page))
	for j, i := range page {
		out[j] = results[i]
	}
	return struct {
		EvaluationResults members[xmlEvaluation] `xml:"EvaluationResults"`
		IsTruncated       bool                   `xml:"IsTruncated"`
		Marker            string                 `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

// contextEntries reads ContextEntries.member.N.{ContextKeyName,
// ContextKeyValues.member.M, ContextKeyType}.
func contextEntries(p params) (map[string][]string, *Error) {
	out := map[string][]string{}
	for _, prefix := range p.structs("ContextEntries") {
		name := p.str(prefix + ".ContextKeyName")
		if name == "" {
			return nil, errInvalidInput("%s.ContextKeyName is required.", prefix)
		}
		out[name] = p.list(prefix + ".ContextKeyValues")
	}
	return out, nil
}

func lookupFold(m map[string][]string, k string) ([]string, bool) {
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v, true
		}
	}
	return nil, false
}

func simulatePrincipalPolicy(s *Server, c *call) (any, *Error) {
	src, err := c.required("PolicySourceArn")
	if err != nil {
		return nil, err
	}
	identity, boundary, vars, err := s.principalPolicies(src)
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
	return simulate(c, policy.Input{Identity: append(identity, extra...), Boundaries: boundary}, vars)
}

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
	vars := map[string][]string{}
	if caller := c.str("CallerArn"); caller != "" {
		vars["aws:PrincipalArn"] = []string{caller}
	}
	return simulate(c, policy.Input{Identity: identity, Boundaries: boundary}, vars)
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

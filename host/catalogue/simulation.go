package catalogue

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func init() {
	implement("simulate_principal_policy", simulatePrincipalPolicy)
}

func simulatePrincipalPolicy(ctx context.Context, c *Catalogue, in *api.SimulatePrincipalPolicyInput) (*api.SimulateOutput, error) {
	if err := checkSimulationTargets(in.ActionNames, in.ResourceArns); err != nil {
		return nil, err
	}
	// The resource side is checked here, where a slip can be named by its
	// argument; IAM would refuse the same values with less to go on.
	if in.CallerArn != "" && !principalARN.MatchString(in.CallerArn) {
		return nil, api.Errorf(api.InvalidInput, "caller_arn is %q: it must be the ARN of an IAM user (or group or role), e.g. arn:aws:iam::123456789012:user/bob; not an assumed-role session, a federated user or a service", in.CallerArn)
	}
	req := &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(in.PolicySourceArn), ActionNames: in.ActionNames, ResourceArns: in.ResourceArns,
		ContextEntries: contextEntriesOf(in.ContextEntries), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
		CallerArn: optStr(in.CallerArn), ResourceOwner: optStr(in.ResourceOwner),
	}
	if len(in.ResourcePolicy) > 0 {
		req.ResourcePolicy = aws.String(in.ResourcePolicy.String())
	}
	if len(in.PermissionsBoundaryPolicy) > 0 {
		req.PermissionsBoundaryPolicyInputList = []string{in.PermissionsBoundaryPolicy.String()}
	}
	out, err := c.clients.IAM.SimulatePrincipalPolicy(ctx, req)
	if err != nil {
		return nil, err
	}
	return &api.SimulateOutput{EvaluationResults: convertAll(out.EvaluationResults, evaluationOf), Page: page(out.IsTruncated, out.Marker)}, nil
}

// checkSimulationTargets catches the usual slips before IAM sees them: an
// action without its service prefix ("GetObject") is simply never allowed
// by IAM's simulator, which reads as a wrong answer rather than an error.
func checkSimulationTargets(actions, resources []string) error {
	for i, a := range actions {
		service, name, ok := strings.Cut(a, ":")
		if !ok || service == "" || name == "" || strings.ContainsAny(a, " \t\n") {
			return api.Errorf(api.InvalidInput, "action_names[%d] is %q: it must be service:Action, e.g. s3:GetObject or iam:CreateUser", i, a)
		}
	}
	for i, r := range resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return api.Errorf(api.InvalidInput, "resource_arns[%d] is %q: it must be an ARN such as arn:aws:s3:::my-bucket/*, or *", i, r)
		}
	}
	return nil
}

// contextEntriesOf maps the catalogue's context entries to the SDK's; the
// type names are IAM's own, and a missing type means string.
func contextEntriesOf(entries []api.ContextEntry) []types.ContextEntry {
	out := make([]types.ContextEntry, 0, len(entries))
	for _, e := range entries {
		typ := e.ContextKeyType
		if typ == "" {
			typ = string(types.ContextKeyTypeEnumString)
		}
		out = append(out, types.ContextEntry{ContextKeyName: aws.String(e.ContextKeyName), ContextKeyValues: e.ContextKeyValues, ContextKeyType: types.ContextKeyTypeEnum(typ)})
	}
	return out
}

func evaluationOf(r *types.EvaluationResult) api.EvaluationResult {
	out := api.EvaluationResult{
		ActionName: str(r.EvalActionName), ResourceName: str(r.EvalResourceName), Decision: string(r.EvalDecision),
		MatchedStatements: make([]api.MatchedStatement, 0, len(r.MatchedStatements)), MissingContextValues: make([]string, 0, len(r.MissingContextValues)),
	}
	for _, s := range r.MatchedStatements {
		m := api.MatchedStatement{SourcePolicyID: str(s.SourcePolicyId), SourcePolicyType: string(s.SourcePolicyType)}
		if p := s.StartPosition; p != nil {
			m.StartLine, m.StartColumn = int(p.Line), int(p.Column)
		}
		if p := s.EndPosition; p != nil {
			m.EndLine, m.EndColumn = int(p.Line), int(p.Column)
		}
		out.MatchedStatements = append(out.MatchedStatements, m)
	}
	out.MissingContextValues = append(out.MissingContextValues, r.MissingContextValues...)
	if d := r.PermissionsBoundaryDecisionDetail; d != nil {
		allowed := d.AllowedByPermissionsBoundary
		out.AllowedByPermissionsBoundary = &allowed
	}
	return out
}

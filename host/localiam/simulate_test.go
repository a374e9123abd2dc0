package localiam

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestSimulationPrincipalPolicy(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("sim")}))
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("simgroup")}))
	ok(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("simgroup"), UserName: aws.String("sim")})))

	// A pretty-printed inline policy, so that statement positions are
	// checked on more than one line.
	inline := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Read\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:Get*\",\n      \"Resource\": \"arn:aws:s3:::data/*\"\n    },\n    {\n      \"Effect\": \"Allow\",\n      \"NotAction\": \"iam:*\",\n      \"Resource\": \"arn:aws:sqs:*\"\n    }\n  ]\n}"
	ok(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sim"), PolicyName: aws.String("read"), PolicyDocument: aws.String(inline)})))
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"S3:DeleteObject","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	ok(t, second(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("simgroup"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(deny)})))
	arn := "arn:aws:iam::123456789012:user/sim"

	sim := func(actions []string, resources []string) []types.EvaluationResult {
		t.Helper()
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String(arn), ActionNames: actions, ResourceArns: resources}))
		return out.EvaluationResults
	}
	res := sim([]string{"s3:GetObject", "s3:DeleteObject", "iam:CreateUser", "sqs:SendMessage", "ec2:RunInstances"},
		[]string{"arn:aws:s3:::data/report.csv"})
	want := map[string]types.PolicyEvaluationDecisionType{
		"s3:GetObject":     types.PolicyEvaluationDecisionTypeAllowed,
		"s3:DeleteObject":  types.PolicyEvaluationDecisionTypeExplicitDeny, // group deny wins over group allow
		"iam:CreateUser":   types.PolicyEvaluationDecisionTypeImplicitDeny,
		"ec2:RunInstances": types.PolicyEvaluationDecisionTypeImplicitDeny,
		// On an S3 ARN, outside the NotAction statement's Resource.
		"sqs:SendMessage": types.PolicyEvaluationDecisionTypeImplicitDeny,
	}
	for _, r := range res {
		if r.EvalDecision != want[*r.EvalActionName] {
			t.Errorf("%s: got %s, want %s", *r.EvalActionName, r.EvalDecision, want[*r.EvalActionName])
		}
	}
	// NotAction allows a non-IAM action on a matching resource.
	res = sim([]string{"sqs:SendMessage", "iam:ListUsers"}, []string{"arn:aws:sqs:us-east-1:123456789012:q"})
	if res[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || res[1].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Fatalf("NotAction: %s %s", res[0].EvalDecision, res[1].EvalDecision)
	}

	// Matched statements name the policy and its position in the text.
	res = sim([]string{"s3:GetObject"}, []string{"arn:aws:s3:::data/x"})
	var found bool
	for _, m := range res[0].MatchedStatements {
		if *m.SourcePolicyId == "read" && m.SourcePolicyType == "user" {
			found = true
			if m.StartPosition.Line != 4 || m.StartPosition.Column != 5 || m.EndPosition.Line != 9 {
				t.Fatalf("positions %+v %+v", *m.StartPosition, *m.EndPosition)
			}
		}
	}
	if !found {
		t.Fatalf("inline statement not among matches: %+v", res[0].MatchedStatements)
	}

	// A permissions boundary intersects.
	boundary := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}`
	bp := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("b"), PolicyDocument: aws.String(boundary)}))
	ok(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("sim"), PermissionsBoundary: bp.Policy.Arn})))
	res = sim([]string{"s3:GetObject", "s3:ListBucket"}, []string{"arn:aws:s3:::data/x"})
	if res[0].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || res[0].PermissionsBoundaryDecisionDetail == nil || res[0].PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
		t.Fatalf("boundary should deny GetObject: %+v", res[0])
	}
	if res[1].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || !res[1].PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
		t.Fatalf("boundary should allow ListBucket: %+v", res[1])
	}

	// Unknown principal, malformed ARN.
	_, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/ghost"), ActionNames: []string{"s3:GetObject"}})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("not-an-arn"), ActionNames: []string{"s3:GetObject"}})
	wantCode(t, err, "InvalidInput")
}

func TestSimulationCustomPolicyAndPaging(t *testing.T) {
	sb := newSandbox(t, Options{})
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:username":"alice"}}}]}`
	in := &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}}
	out := must[*iam.SimulateCustomPolicyOutput](t)(sb.iam.SimulateCustomPolicy(ctx, in))
	r := out.EvaluationResults[0]
	if r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || len(r.MissingContextValues) != 1 || r.MissingContextValues[0] != "aws:username" {
		t.Fatalf("without context: %+v", r)
	}
	in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("aws:username"), ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: []string{"alice"}}}
	out = must[*iam.SimulateCustomPolicyOutput](t)(sb.iam.SimulateCustomPolicy(ctx, in))
	if out.EvaluationResults[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || *out.EvaluationResults[0].MatchedStatements[0].SourcePolicyId != "PolicyInputList.1" {
		t.Fatalf("with context: %+v", out.EvaluationResults[0])
	}

	keys := must[*iam.GetContextKeysForCustomPolicyOutput](t)(sb.iam.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{doc}}))
	if len(keys.ContextKeyNames) != 1 || keys.ContextKeyNames[0] != "aws:username" {
		t.Fatalf("context keys %v", keys.ContextKeyNames)
	}

	// Results page in request order.
	var actions []string
	for _, a := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		actions = append(actions, "s3:"+a)
	}
	p := iam.NewSimulateCustomPolicyPaginator(sb.iam, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: actions, MaxItems: aws.Int32(3)})
	var got []string
	for p.HasMorePages() {
		page := must[*iam.SimulateCustomPolicyOutput](t)(p.NextPage(ctx))
		for _, r := range page.EvaluationResults {
			got = append(got, *r.EvalActionName)
		}
	}
	if len(got) != 7 || got[0] != "s3:a" || got[6] != "s3:g" {
		t.Fatalf("paged results %v", got)
	}

	_, err := sb.iam.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{"{nope"}, ActionNames: []string{"s3:a"}})
	wantCode(t, err, "MalformedPolicyDocument")
}

func TestSimulationCallerIdentity(t *testing.T) {
	sb := newSandbox(t, Options{})
	id, err := sb.sts.GetCallerIdentity(ctx, nil)
	ok(t, err)
	if *id.Account != "123456789012" || *id.Arn != "arn:aws:iam::123456789012:root" {
		t.Fatalf("root identity %+v", id)
	}
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("who")}))
	key := must[*iam.CreateAccessKeyOutput](t)(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("who")}))
	id, err = stsClient(sb.url, *key.AccessKey.AccessKeyId).GetCallerIdentity(ctx, nil)
	ok(t, err)
	if *id.Arn != "arn:aws:iam::123456789012:user/who" {
		t.Fatalf("user identity %+v", id)
	}
	last := must[*iam.GetAccessKeyLastUsedOutput](t)(sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: key.AccessKey.AccessKeyId}))
	if *last.AccessKeyLastUsed.ServiceName != "sts" || *last.AccessKeyLastUsed.Region != "us-east-1" {
		t.Fatalf("last used %+v", last.AccessKeyLastUsed)
	}
}

package sandbox

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

// TestSimulationResourcePolicy drives every layer IAM's simulator has —
// identity, boundary, resource policy, caller, resource owner — through
// SimulatePrincipalPolicy and SimulateCustomPolicy.
func TestSimulationResourcePolicy(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	const (
		acct   = "arn:aws:iam::123456789012:"
		alice  = acct + "user/alice"
		bob    = acct + "user/bob"
		worker = acct + "role/worker"
		eve    = "arn:aws:iam::210987654321:user/eve"
		object = "arn:aws:s3:::data/report.csv"
	)
	for _, u := range []string{"alice", "bob"} {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(trust)}))
	readAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	ok(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(readAll)})))

	bucketPolicy := func(effect, principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"Bucket","Effect":"` + effect + `","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	}
	type sim struct {
		source, caller, owner, resourcePolicy, boundary string
	}
	run := func(t *testing.T, in sim) types.EvaluationResult {
		t.Helper()
		req := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(in.source), ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{object}}
		if in.caller != "" {
			req.CallerArn = aws.String(in.caller)
		}
		if in.owner != "" {
			req.ResourceOwner = aws.String(in.owner)
		}
		if in.resourcePolicy != "" {
			req.ResourcePolicy = aws.String(in.resourcePolicy)
		}
		if in.boundary != "" {
			req.PermissionsBoundaryPolicyInputList = []string{in.boundary}
		}
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(c.SimulatePrincipalPolicy(ctx, req))
		if len(out.EvaluationResults) != 1 {
			t.Fatalf("%d results", len(out.EvaluationResults))
		}
		return out.EvaluationResults[0]
	}
	const (
		allowed  = types.PolicyEvaluationDecisionTypeAllowed
		implicit = types.PolicyEvaluationDecisionTypeImplicitDeny
		explicit = types.PolicyEvaluationDecisionTypeExplicitDeny
	)
	listOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
	denyAllButBob := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"` + bob + `"},"Action":"s3:*","Resource":"*"}]}`
	cases := []struct {
		name string
		in   sim
		want types.PolicyEvaluationDecisionType
	}{
		// Same account: a bucket policy naming the user is enough.
		{"same account, resource policy only", sim{source: alice, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, allowed},
		{"no policy at all", sim{source: alice}, implicit},
		{"resource policy names someone else", sim{source: alice, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+bob+`"}`)}, implicit},
		// The account principal delegates to IAM: it grants nothing alone.
		{"account principal alone", sim{source: alice, resourcePolicy: bucketPolicy("Allow", `{"AWS":"123456789012"}`)}, implicit},
		{"account principal and identity grant", sim{source: bob, resourcePolicy: bucketPolicy("Allow", `{"AWS":"arn:aws:iam::123456789012:root"}`)}, allowed},
		// Cross-account: both sides must allow.
		{"cross account, resource policy only", sim{source: alice, owner: "210987654321", resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, implicit},
		{"cross account, identity only", sim{source: bob, owner: "210987654321"}, implicit},
		{"cross account, both", sim{source: bob, owner: "arn:aws:iam::210987654321:root", resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+bob+`"}`)}, allowed},
		{"owner is the caller's own account", sim{source: alice, owner: "123456789012", resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, allowed},
		// An explicit deny in the resource policy wins over an identity allow.
		{"resource policy deny", sim{source: bob, resourcePolicy: bucketPolicy("Deny", `"*"`)}, explicit},
		// NotPrincipal: a Deny for everyone but bob.
		{"NotPrincipal spares the named", sim{source: bob, resourcePolicy: denyAllButBob}, allowed},
		{"NotPrincipal denies the others", sim{source: alice, resourcePolicy: denyAllButBob}, explicit},
		// A role as the source: the role is the caller.
		{"role named by the resource policy", sim{source: worker, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+worker+`"}`)}, allowed},
		{"role not named", sim{source: worker, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, implicit},
		// A boundary does not limit a resource policy that names the user
		// itself, but does limit one that names the role (AWS's evaluation
		// logic for permissions boundaries).
		{"boundary, user named directly", sim{source: alice, boundary: listOnly, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, allowed},
		{"boundary, role named", sim{source: worker, boundary: listOnly, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+worker+`"}`)}, implicit},
		{"boundary, everyone named", sim{source: alice, boundary: listOnly, resourcePolicy: bucketPolicy("Allow", `"*"`)}, implicit},
		// CallerArn: alice's policies, called as bob.
		{"caller named by the resource policy", sim{source: alice, caller: bob, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+bob+`"}`)}, allowed},
		{"source named, caller not", sim{source: alice, caller: bob, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)}, implicit},
		// Without ResourceOwner the resource is in the caller's account.
		{"caller of another account", sim{source: alice, caller: eve, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+eve+`"}`)}, allowed},
		{"caller of another account, resource in ours", sim{source: alice, caller: eve, owner: "123456789012", resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+eve+`"}`)}, implicit},
		{"caller of another account, resource in ours, identity grant", sim{source: bob, caller: eve, owner: "123456789012", resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+eve+`"}`)}, allowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := run(t, tc.in); r.EvalDecision != tc.want {
				t.Fatalf("got %s, want %s: %+v", r.EvalDecision, tc.want, r.MatchedStatements)
			}
		})
	}

	// Matched resource-policy statements are reported as IAM reports them.
	r := run(t, sim{source: alice, resourcePolicy: bucketPolicy("Allow", `{"AWS":"`+alice+`"}`)})
	if len(r.MatchedStatements) != 1 {
		t.Fatalf("matched %+v", r.MatchedStatements)
	}
	m := r.MatchedStatements[0]
	if *m.SourcePolicyId != "ResourcePolicy" || m.SourcePolicyType != types.PolicySourceTypeResource || m.StartPosition.Column != 38 {
		t.Fatalf("matched statement %s %s %+v", *m.SourcePolicyId, m.SourcePolicyType, *m.StartPosition)
	}

	// SimulateCustomPolicy: the same layers, CallerArn required with a
	// resource policy.
	custom := &iam.SimulateCustomPolicyInput{PolicyInputList: []string{listOnly}, ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{object},
		ResourcePolicy: aws.String(bucketPolicy("Allow", `{"AWS":"`+bob+`"}`))}
	_, err := c.SimulateCustomPolicy(ctx, custom)
	wantCode(t, err, "InvalidInput")
	custom.CallerArn = aws.String(bob)
	if out := must[*iam.SimulateCustomPolicyOutput](t)(c.SimulateCustomPolicy(ctx, custom)); out.EvaluationResults[0].EvalDecision != allowed {
		t.Fatalf("custom, caller named: %+v", out.EvaluationResults[0])
	}
	custom.ResourceOwner = aws.String("210987654321")
	if out := must[*iam.SimulateCustomPolicyOutput](t)(c.SimulateCustomPolicy(ctx, custom)); out.EvaluationResults[0].EvalDecision != implicit {
		t.Fatalf("custom, cross-account without identity grant: %+v", out.EvaluationResults[0])
	}
	custom.PolicyInputList = []string{readAll}
	custom.PermissionsBoundaryPolicyInputList = []string{listOnly}
	if out := must[*iam.SimulateCustomPolicyOutput](t)(c.SimulateCustomPolicy(ctx, custom)); out.EvaluationResults[0].EvalDecision != implicit {
		t.Fatalf("custom, cross-account outside the boundary: %+v", out.EvaluationResults[0])
	}
	custom.PermissionsBoundaryPolicyInputList = nil
	if out := must[*iam.SimulateCustomPolicyOutput](t)(c.SimulateCustomPolicy(ctx, custom)); out.EvaluationResults[0].EvalDecision != allowed {
		t.Fatalf("custom, cross-account with both grants: %+v", out.EvaluationResults[0])
	}

	// ResourceHandlingOption is accepted and changes nothing.
	out := must[*iam.SimulatePrincipalPolicyOutput](t)(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(bob), ActionNames: []string{"s3:GetObject"}, ResourceHandlingOption: aws.String("EC2-VPC-EBS")}))
	if out.EvaluationResults[0].EvalDecision != allowed {
		t.Fatalf("with ResourceHandlingOption: %+v", out.EvaluationResults[0])
	}
}

// TestSimulationGroupSource checks that a group is simulated as an unnamed
// member: only "*" matches it in a resource policy.
func TestSimulationGroupSource(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("readers")}))
	group := "arn:aws:iam::123456789012:group/readers"
	sim := func(principal string, caller *string) types.PolicyEvaluationDecisionType {
		t.Helper()
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"*"}]}`
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String(group), CallerArn: caller, ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}, ResourcePolicy: aws.String(doc)}))
		return out.EvaluationResults[0].EvalDecision
	}
	if d := sim(`"*"`, nil); d != types.PolicyEvaluationDecisionTypeAllowed {
		t.Fatalf(`"*": %s`, d)
	}
	if d := sim(`{"AWS":"arn:aws:iam::123456789012:user/zed"}`, nil); d != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Fatalf("a named user: %s", d)
	}
	if d := sim(`{"AWS":"123456789012"}`, nil); d != types.PolicyEvaluationDecisionTypeImplicitDeny {
		t.Fatalf("the account: %s", d)
	}
	// A caller that does not exist stands in all the same.
	if d := sim(`{"AWS":"arn:aws:iam::123456789012:user/zed"}`, aws.String("arn:aws:iam::123456789012:user/zed")); d != types.PolicyEvaluationDecisionTypeAllowed {
		t.Fatalf("caller zed: %s", d)
	}
}

// TestSimulationPolicyVariables checks the variables filled in for the
// principal: from the source, from CallerArn, and the principal's tags.
func TestSimulationPolicyVariables(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	u := must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dana"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eli")}))
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"},
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"data","aws:PrincipalAccount":"123456789012","aws:userid":"${aws:userid}"}}},
		{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:user/eng/dana"}}}]}`
	ok(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dana"), PolicyName: aws.String("vars"), PolicyDocument: aws.String(doc)})))
	decide := func(caller *string, action, resource string) types.EvaluationResult {
		t.Helper()
		out := must[*iam.SimulatePrincipalPolicyOutput](t)(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: u.User.Arn, CallerArn: caller, ActionNames: []string{action}, ResourceArns: []string{resource}}))
		return out.EvaluationResults[0]
	}
	for _, tc := range []struct {
		caller           *string
		action, resource string
		want             types.PolicyEvaluationDecisionType
	}{
		{nil, "s3:GetObject", "arn:aws:s3:::home/dana/x", types.PolicyEvaluationDecisionTypeAllowed},
		{nil, "s3:GetObject", "arn:aws:s3:::home/eli/x", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{nil, "s3:PutObject", "*", types.PolicyEvaluationDecisionTypeAllowed},
		{nil, "s3:DeleteObject", "*", types.PolicyEvaluationDecisionTypeAllowed},
		// As eli: dana's policies, eli's name, no team tag, eli's ARN.
		{aws.String("arn:aws:iam::123456789012:user/eli"), "s3:GetObject", "arn:aws:s3:::home/eli/x", types.PolicyEvaluationDecisionTypeAllowed},
		{aws.String("arn:aws:iam::123456789012:user/eli"), "s3:PutObject", "*", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{aws.String("arn:aws:iam::123456789012:user/eli"), "s3:DeleteObject", "*", types.PolicyEvaluationDecisionTypeImplicitDeny},
	} {
		if r := decide(tc.caller, tc.action, tc.resource); r.EvalDecision != tc.want {
			t.Errorf("caller %v %s on %s: got %s, want %s (missing %v)", aws.ToString(tc.caller), tc.action, tc.resource, r.EvalDecision, tc.want, r.MissingContextValues)
		}
	}
}

// TestSimulationBadInput checks that every malformed parameter of the
// resource side is refused with IAM's error code, not simulated or panicked
// on.
func TestSimulationBadInput(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("fay")}))
	base := func() *iam.SimulatePrincipalPolicyInput {
		return &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/fay"), ActionNames: []string{"s3:GetObject"}}
	}
	good := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`
	for _, tc := range []struct {
		name string
		edit func(*iam.SimulatePrincipalPolicyInput)
		code string
	}{
		{"resource policy not JSON", func(in *iam.SimulatePrincipalPolicyInput) { in.ResourcePolicy = aws.String("{nope") }, "MalformedPolicyDocument"},
		{"resource policy without Principal", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ResourcePolicy = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
		}, "MalformedPolicyDocument"},
		{"resource policy with a bad principal", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ResourcePolicy = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"nobody"},"Action":"s3:GetObject","Resource":"*"}]}`)
		}, "MalformedPolicyDocument"},
		{"resource owner not an account", func(in *iam.SimulatePrincipalPolicyInput) { in.ResourceOwner = aws.String("12345") }, "InvalidInput"},
		{"resource owner a user ARN", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ResourceOwner = aws.String("arn:aws:iam::123456789012:user/fay")
		}, "InvalidInput"},
		{"caller an assumed role", func(in *iam.SimulatePrincipalPolicyInput) {
			in.CallerArn = aws.String("arn:aws:sts::123456789012:assumed-role/r/s")
			in.ResourcePolicy = aws.String(good)
		}, "InvalidInput"},
		{"caller a service", func(in *iam.SimulatePrincipalPolicyInput) { in.CallerArn = aws.String("s3.amazonaws.com") }, "InvalidInput"},
		{"caller the account root", func(in *iam.SimulatePrincipalPolicyInput) {
			in.CallerArn = aws.String("arn:aws:iam::123456789012:root")
		}, "InvalidInput"},
		{"unknown context type", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyType: "timestamp", ContextKeyValues: []string{"2026-01-01"}}}
		}, "ValidationError"},
		{"date that is not a date", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyType: types.ContextKeyTypeEnumDate, ContextKeyValues: []string{"tomorrow"}}}
		}, "InvalidInput"},
		{"boolean that is not a boolean", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("aws:SecureTransport"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{"yes"}}}
		}, "InvalidInput"},
		{"number list with a word", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("s3:max-keys"), ContextKeyType: types.ContextKeyTypeEnumNumericList, ContextKeyValues: []string{"1", "ten"}}}
		}, "InvalidInput"},
		{"ip that is not an address", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: types.ContextKeyTypeEnumIp, ContextKeyValues: []string{"10.0.0.300"}}}
		}, "InvalidInput"},
		{"binary that is not base64", func(in *iam.SimulatePrincipalPolicyInput) {
			in.ContextEntries = []types.ContextEntry{{ContextKeyName: aws.String("k:bin"), ContextKeyType: types.ContextKeyTypeEnumBinary, ContextKeyValues: []string{"%%%"}}}
		}, "InvalidInput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.edit(in)
			_, err := c.SimulatePrincipalPolicy(ctx, in)
			wantCode(t, err, tc.code)
			wantStatus(t, err, 400)
		})
	}
	_, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`},
		ActionNames: []string{"s3:GetObject"}, CallerArn: aws.String("arn:aws:iam::123456789012:user/fay"), ResourcePolicy: aws.String("[]")})
	wantCode(t, err, "MalformedPolicyDocument")
}

// TestSimulationTypedContext checks that typed context values IAM accepts
// are accepted and reach the conditions that read them.
func TestSimulationTypedContext(t *testing.T) {
	sb := newSandbox(t, Options{})
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{
		"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
		"Bool":{"aws:SecureTransport":"true"},
		"NumericLessThanEquals":{"s3:max-keys":"10"},
		"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
		"BinaryEquals":{"k:bin":"QmluYXJ5"}}}]}`
	entries := func(date, secure string) []types.ContextEntry {
		return []types.ContextEntry{
			{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyType: types.ContextKeyTypeEnumDate, ContextKeyValues: []string{date}},
			{ContextKeyName: aws.String("aws:SecureTransport"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{secure}},
			{ContextKeyName: aws.String("s3:max-keys"), ContextKeyType: types.ContextKeyTypeEnumNumericList, ContextKeyValues: []string{"5", "7.5"}},
			{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: types.ContextKeyTypeEnumIp, ContextKeyValues: []string{"10.1.2.3"}},
			{ContextKeyName: aws.String("k:bin"), ContextKeyType: types.ContextKeyTypeEnumBinary, ContextKeyValues: []string{"QmluYXJ5"}},
		}
	}
	for _, tc := range []struct {
		date, secure string
		want         types.PolicyEvaluationDecisionType
	}{
		{"2026-05-01T12:00:00Z", "true", types.PolicyEvaluationDecisionTypeAllowed},
		{"2026-05-01", "TRUE", types.PolicyEvaluationDecisionTypeAllowed},
		{"1778000000", "true", types.PolicyEvaluationDecisionTypeAllowed}, // epoch seconds (2026)
		{"2031-01-01T00:00:00+02:00", "true", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{"2026-05-01T12:00:00Z", "false", types.PolicyEvaluationDecisionTypeImplicitDeny},
	} {
		out := must[*iam.SimulateCustomPolicyOutput](t)(sb.iam.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{doc}, ActionNames: []string{"s3:GetObject"}, ContextEntries: entries(tc.date, tc.secure)}))
		if r := out.EvaluationResults[0]; r.EvalDecision != tc.want || len(r.MissingContextValues) != 0 {
			t.Errorf("date %s, secure %s: got %s (missing %v), want %s", tc.date, tc.secure, r.EvalDecision, r.MissingContextValues, tc.want)
		}
	}
}

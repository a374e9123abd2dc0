package catalogue

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func TestValidatePolicyTool(t *testing.T) {
	c := newTestCatalogue(t, "")
	// Findings come most severe first, with places and counts for every
	// severity.
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:GetObjekt","s3:GetObject"],"Resource":"*"},{"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}`
	out := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":`+doc+`}`)
	if !out.Valid || len(out.Findings) < 2 || out.Findings[0].Code != "PASS_ROLE_WITH_STAR" || out.Counts["SECURITY_WARNING"] != 1 || out.Counts["ERROR"] != 0 {
		t.Fatalf("validate_policy: %+v", out)
	}
	if f := out.Findings[0]; f.StatementIndex == nil || *f.StatementIndex != 1 || f.Sid != "Pass" || f.Field != "Resource" {
		t.Errorf("finding's place: %+v", f)
	}
	if !strings.Contains(out.ActionCatalogue, "iam-data") || len(out.SensitiveActionsOnStar) == 0 {
		t.Errorf("catalogue %q, sensitive %v", out.ActionCatalogue, out.SensitiveActionsOnStar)
	}
	// A broken document is a finding, not an argument error.
	broken := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":"{\"Version\": \"2012-10-17\", \"Statement\": ["}`)
	if broken.Valid || len(broken.Findings) != 1 || broken.Findings[0].Code != "MALFORMED_JSON" || broken.Findings[0].StatementIndex != nil {
		t.Fatalf("broken document: %+v", broken)
	}
	// stored_as sets the quota.
	big := bigDocument(2100)
	if r := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":`+big+`,"stored_as":"user_inline"}`); r.Valid || r.Counts["ERROR"] != 1 {
		t.Errorf("2,100 characters as a user inline policy: %+v", r.Counts)
	}
	if r := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":`+big+`,"stored_as":"role_inline"}`); !r.Valid {
		t.Errorf("2,100 characters as a role inline policy: %+v", r.Findings)
	}
	// Trust policies: the account comes from the argument.
	tr := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":`+partnerTrustDoc+`,"policy_type":"TRUST_POLICY"}`)
	if tr.Counts["SECURITY_WARNING"] != 1 || tr.Findings[0].Code != "TRUST_CROSS_ACCOUNT_NO_CONDITION" {
		t.Errorf("partner trust: %+v", tr.Findings)
	}
	// The role's own account is not another account.
	own := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if r := call[api.ValidatePolicyOutput](t, c, "validate_policy", `{"policy_document":`+own+`,"policy_type":"TRUST_POLICY","account_id":"123456789012"}`); r.Counts["SECURITY_WARNING"] != 0 || r.AccountID != "123456789012" {
		t.Errorf("own-account trust: %+v", r)
	}
	callFails(t, c, "validate_policy", `{"policy_document":`+own+`,"policy_type":"TRUST_POLICY","account_id":"1234"}`, api.InvalidInput)
	callFails(t, c, "validate_policy", `{"policy_document":`+doc+`,"policy_type":"TRUST_POLICY","stored_as":"user_inline"}`, api.InvalidInput)
	callFails(t, c, "validate_policy", `{"policy_document":`+doc+`,"policy_type":"SESSION"}`, api.InvalidInput)
	callFails(t, c, "validate_policy", `{}`, api.InvalidInput)
}

func TestSimulateCustomPolicyTool(t *testing.T) {
	c := newTestCatalogue(t, "")
	allowS3 := `{"Version":"2012-10-17","Statement":[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	denyDelete := `{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Action":"s3:Delete*","Resource":"*"}]}`
	boundary := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`
	out := call[api.SimulateOutput](t, c, "simulate_custom_policy", `{"policy_documents":[`+allowS3+`,`+docArg(denyDelete)+`],
		"action_names":["s3:GetObject","s3:DeleteObject","s3:PutObject","ec2:RunInstances"],"resource_arns":["arn:aws:s3:::b/k"],"permissions_boundary":`+boundary+`}`)
	want := map[string]string{"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny", "s3:PutObject": "implicitDeny", "ec2:RunInstances": "implicitDeny"}
	if len(out.EvaluationResults) != 4 {
		t.Fatalf("results: %+v", out.EvaluationResults)
	}
	for _, r := range out.EvaluationResults {
		if r.Decision != want[r.ActionName] || r.Reason == "" || r.ResourceName != "arn:aws:s3:::b/k" {
			t.Errorf("%s: %+v, want %s", r.ActionName, r, want[r.ActionName])
		}
		if r.ActionName == "s3:DeleteObject" && (len(r.MatchedStatements) != 2 || r.MatchedStatements[1].Sid != "NoDelete" || r.MatchedStatements[1].Effect != "Deny" || r.MatchedStatements[1].SourcePolicyID != "policy_documents[1]") {
			t.Errorf("deny not attributed: %+v", r.MatchedStatements)
		}
		if r.ActionName == "s3:PutObject" && (r.AllowedByPermissionsBoundary == nil || *r.AllowedByPermissionsBoundary) {
			t.Errorf("boundary detail: %+v", r)
		}
	}
	// A resource policy naming the caller allows without an identity grant;
	// conditions report the keys they lacked.
	bucket := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	mfa := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	out = call[api.SimulateOutput](t, c, "simulate_custom_policy", `{"policy_documents":[`+mfa+`],"action_names":["s3:GetObject","s3:ListBucket"],"resource_arns":["arn:aws:s3:::b/k"],
		"resource_policy":`+bucket+`,"caller_arn":"arn:aws:iam::123456789012:user/alice"}`)
	if out.EvaluationResults[0].Decision != "allowed" || out.EvaluationResults[0].MatchedStatements[0].SourcePolicyType != "resource" {
		t.Errorf("resource policy: %+v", out.EvaluationResults[0])
	}
	if r := out.EvaluationResults[1]; r.Decision != "implicitDeny" || len(r.MissingContextValues) != 1 || r.MissingContextValues[0] != "aws:MultiFactorAuthPresent" {
		t.Errorf("missing context: %+v", r)
	}
	out = call[api.SimulateOutput](t, c, "simulate_custom_policy", `{"policy_documents":[`+mfa+`],"action_names":["s3:ListBucket"],
		"context_entries":[{"context_key_name":"aws:MultiFactorAuthPresent","context_key_values":["true"],"context_key_type":"boolean"}]}`)
	if out.EvaluationResults[0].Decision != "allowed" || out.EvaluationResults[0].ResourceName != "*" {
		t.Errorf("with the context key: %+v", out.EvaluationResults[0])
	}

	for _, bad := range []string{
		`{"policy_documents":[{"Statement":"nope"}],"action_names":["s3:GetObject"]}`,
		`{"policy_documents":[` + allowS3 + `],"action_names":["GetObject"]}`,
		`{"policy_documents":[],"action_names":["s3:GetObject"]}`,
		`{"policy_documents":[` + allowS3 + `],"action_names":["s3:GetObject"],"caller_arn":"alice"}`,
		`{"policy_documents":[` + allowS3 + `],"action_names":["s3:GetObject"],"caller_arn":"arn:aws:iam::123456789012:group/devs"}`,
		`{"policy_documents":[` + allowS3 + `],"action_names":["s3:A","s3:B"],"resource_arns":[` + strings.TrimSuffix(strings.Repeat(`"arn:aws:s3:::b",`, 501), ",") + `]}`,
	} {
		if msg := callFails(t, c, "simulate_custom_policy", bad, api.InvalidInput); msg == "" {
			t.Errorf("%s: empty message", bad)
		}
	}
	if msg := callFails(t, c, "simulate_custom_policy", `{"policy_documents":[`+allowS3+`,{"Statement":"nope"}],"action_names":["s3:GetObject"]}`, api.InvalidInput); !strings.Contains(msg, "policy_documents[1]") {
		t.Errorf("the bad document is not named: %s", msg)
	}
}

func TestExplainAccessTool(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	user := func(n string) string { return "arn:aws:iam::123456789012:user/eng/" + n }
	explain := func(principal, action, resource string) api.ExplainAccessOutput {
		t.Helper()
		return call[api.ExplainAccessOutput](t, c, "explain_access", `{"principal_arn":"`+principal+`","action":"`+action+`","resource":"`+resource+`"}`)
	}
	// carol.diaz: Developers (PowerUserAccess) inside DeveloperBoundary,
	// which denies IAM writes.
	deny := explain(user("carol.diaz"), "iam:CreateUser", "*")
	if deny.Decision != "explicitDeny" || len(deny.DecidingStatements) == 0 || deny.DecidingStatements[0].Sid != "NoIAMChanges" ||
		!strings.Contains(deny.DecidingStatements[0].PolicyKind, "permissions boundary") || !strings.Contains(string(deny.DecidingStatements[0].Statement), "iam:Create*") {
		t.Fatalf("carol iam:CreateUser: %+v", deny)
	}
	if !strings.Contains(deny.Explanation, "user carol.diaz cannot iam:CreateUser") || !strings.Contains(deny.NextSteps[0], "explicit deny") {
		t.Errorf("explanation: %q %q", deny.Explanation, deny.NextSteps)
	}
	// Allowed by PowerUserAccess, but the boundary does not allow EC2.
	capped := explain(user("carol.diaz"), "ec2:RunInstances", "*")
	if capped.Decision != "implicitDeny" || capped.AllowedByBoundary == nil || *capped.AllowedByBoundary || !strings.Contains(strings.Join(capped.NextSteps, " "), "boundary") {
		t.Fatalf("carol ec2:RunInstances: %+v", capped)
	}
	// A group's customer policy decides, and the considered list shows
	// every policy once, however attached.
	lake := explain("arn:aws:iam::123456789012:user/data/grace.kim", "s3:GetObject", "arn:aws:s3:::acme-data-lake/2026/report.csv")
	if lake.Decision != "allowed" || !strings.Contains(lake.Explanation, "can") {
		t.Fatalf("grace data lake: %+v", lake)
	}
	var kinds []string
	for _, p := range lake.PoliciesConsidered {
		kinds = append(kinds, p.PolicyKind)
	}
	if len(lake.PoliciesConsidered) != 2 || !strings.Contains(strings.Join(kinds, ";"), "group DataScience") || lake.PoliciesConsidered[0].Version == "" {
		t.Errorf("considered: %+v", lake.PoliciesConsidered)
	}
	// No policy: the next step is the statement to add.
	none := explain(user("farid.haddad"), "dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:table/orders")
	if none.Decision != "allowed" {
		// farid is a Developer: PowerUserAccess allows it, without a boundary.
		t.Fatalf("farid dynamodb:Scan: %+v", none)
	}
	nothing := call[api.ExplainAccessOutput](t, c, "explain_access", `{"principal_arn":"arn:aws:iam::123456789012:user/eng/former.employee","action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}`)
	if nothing.Decision != "implicitDeny" || len(nothing.DecidingStatements) != 0 || !strings.Contains(nothing.NextSteps[0], `"Action":"s3:GetObject"`) || !strings.Contains(nothing.NextSteps[0], "put_user_policy") {
		t.Fatalf("former.employee: %+v", nothing)
	}
	// A role session acts with its role's policies; a resource policy can
	// deny it.
	session := "arn:aws:sts::123456789012:assumed-role/ec2-app-role/i-0abc"
	bucketDeny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoApp","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:role/service/ec2-app-role"},"Action":"s3:*","Resource":"arn:aws:s3:::acme-data-lake/*"}]}`
	if r := explain(session, "s3:GetObject", "arn:aws:s3:::acme-data-lake/x"); r.Decision != "allowed" {
		t.Fatalf("ec2-app-role session: %+v", r)
	}
	r := call[api.ExplainAccessOutput](t, c, "explain_access", `{"principal_arn":"`+session+`","action":"s3:GetObject","resource":"arn:aws:s3:::acme-data-lake/x","resource_policy":`+bucketDeny+`}`)
	if r.Decision != "explicitDeny" || r.DecidingStatements[0].Sid != "NoApp" || r.DecidingStatements[0].PolicyKind != "the resource's own policy" {
		t.Fatalf("bucket deny: %+v", r)
	}
	// Another account's principal cannot be read; a wrong path is not the user.
	if msg := callFails(t, c, "explain_access", `{"principal_arn":"arn:aws:iam::999988887777:user/eng/carol.diaz","action":"s3:GetObject"}`, api.InvalidInput); !strings.Contains(msg, "999988887777") {
		t.Errorf("other account: %s", msg)
	}
	if msg := callFails(t, c, "explain_access", `{"principal_arn":"arn:aws:iam::123456789012:user/ops/carol.diaz","action":"s3:GetObject"}`, api.NoSuchEntity); !strings.Contains(msg, "user/eng/carol.diaz") {
		t.Errorf("wrong path: %s", msg)
	}
	callFails(t, c, "explain_access", `{"principal_arn":"arn:aws:iam::123456789012:group/Admins","action":"s3:GetObject"}`, api.InvalidInput)
	callFails(t, c, "explain_access", `{"principal_arn":"alice","action":"s3:GetObject"}`, api.InvalidInput)
	callFails(t, c, "explain_access", `{"principal_arn":"arn:aws:iam::123456789012:user/nobody","action":"s3:GetObject"}`, api.NoSuchEntity)
	callFails(t, c, "explain_access", `{"principal_arn":"arn:aws:iam::123456789012:user/eng/carol.diaz","action":"GetObject"}`, api.InvalidInput)
}

package policy

import (
	"strconv"
	"testing"
)

// typicalPrincipal is a principal with 5 policies and 20 statements: three
// identity policies, one permissions boundary and one resource policy's worth
// of statements spread over them, with wildcards, NotAction, conditions and a
// policy variable, as a developer's user commonly has.
func typicalPrincipal(tb testing.TB) Input {
	docs := []string{
		pol(`[{"Sid":"S3Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::app-*","arn:aws:s3:::app-*/*"]},
			{"Sid":"S3Write","Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::app-data/${aws:username}/*"},
			{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::app-secrets/*"},
			{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:eu-west-1:111122223333:log-group:/app/*"}]`),
		pol(`[{"Sid":"EC2Describe","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
			{"Sid":"EC2Start","Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:*:111122223333:instance/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"dev"}}},
			{"Sid":"MFA","Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}},
			{"Sid":"Region","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]`),
		pol(`[{"Sid":"Dynamo","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/app-*"},
			{"Sid":"SQS","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:eu-west-1:111122223333:app-*"},
			{"Sid":"Lambda","Effect":"Allow","Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"arn:aws:lambda:eu-west-1:111122223333:function:app-*"},
			{"Sid":"KMS","Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}]`),
		pol(`[{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:GetUser"],"Resource":"arn:aws:iam::111122223333:user/${aws:username}"},
			{"Sid":"IPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}},
			{"Sid":"CW","Effect":"Allow","Action":["cloudwatch:Get*","cloudwatch:List*","cloudwatch:Describe*"],"Resource":"*"},
			{"Sid":"SSM","Effect":"Allow","Action":"ssm:GetParameter*","Resource":"arn:aws:ssm:eu-west-1:111122223333:parameter/app/*"}]`),
	}
	boundary := pol(`[{"Sid":"Services","Effect":"Allow","Action":["s3:*","ec2:*","logs:*","dynamodb:*","sqs:*","lambda:*","kms:*","cloudwatch:*","ssm:*","iam:GetUser","iam:*AccessKey*"],"Resource":"*"},
			{"Sid":"NoIAM","Effect":"Deny","Action":["iam:Create*","iam:Delete*","iam:Put*","iam:Attach*"],"Resource":"*"},
			{"Sid":"NoOrg","Effect":"Deny","Action":"organizations:*","Resource":"*"},
			{"Sid":"Tagged","Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:ResourceTag/env":"dev"}}}]`)
	var in Input
	for i, d := range docs {
		in.Identity = append(in.Identity, Source{ID: "policy" + strconv.Itoa(i), Type: "user-managed", Doc: mustParse(tb, d)})
	}
	in.Boundaries = []Source{{ID: "DeveloperBoundary", Type: "user-managed", Doc: mustParse(tb, boundary)}}
	return in
}

func typicalRequests() []Request {
	ctx := map[string][]string{
		"aws:username":               {"alice"},
		"aws:MultiFactorAuthPresent": {"true"},
		"aws:RequestedRegion":        {"eu-west-1"},
		"aws:SourceIp":               {"203.0.113.7"},
		"aws:ViaAWSService":          {"false"},
		"aws:ResourceTag/team":       {"dev"},
	}
	return []Request{
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::app-data/alice/report.csv", Context: ctx},
		{Action: "s3:PutObject", Resource: "arn:aws:s3:::app-data/alice/out.csv", Context: ctx},
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::app-secrets/db", Context: ctx},
		{Action: "ec2:StartInstances", Resource: "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc", Context: ctx},
		{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/alice", Context: ctx},
		{Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:eu-west-1:111122223333:table/app-orders", Context: ctx},
		{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:other", Context: ctx},
		{Action: "organizations:ListAccounts", Resource: "*", Context: ctx},
	}
}

// BenchmarkEvaluateTypical measures one evaluation for a typical principal
// (5 policies, 20 statements), cycling through several requests.
func BenchmarkEvaluateTypical(b *testing.B) {
	in := typicalPrincipal(b)
	reqs := typicalRequests()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(in, reqs[i%len(reqs)])
	}
}

// BenchmarkEvaluateLayers is the typical principal with an SCP, a session
// policy and a resource policy added: every layer Evaluate knows.
func BenchmarkEvaluateLayers(b *testing.B) {
	in := typicalPrincipal(b)
	in.SCPs = []Source{{ID: "FullAWSAccess", Type: "scp", Doc: mustParse(b, pol(`[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]`))}}
	in.Session = []Source{{ID: "session", Type: "session", Doc: mustParse(b, pol(`[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]`))}}
	in.Resource = []Source{{ID: "bucket", Type: "resource", Doc: mustParse(b, pol(`[{"Sid":"Team","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/Dev"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::app-data/*"},{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]`))}}
	reqs := typicalRequests()
	for i := range reqs {
		reqs[i].Principal = "arn:aws:sts::111122223333:assumed-role/Dev/alice"
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Evaluate(in, reqs[i%len(reqs)])
	}
}

// TestTypicalDecisions pins what the benchmark's requests decide, so that an
// optimisation that changes an answer fails here.
func TestTypicalDecisions(t *testing.T) {
	in := typicalPrincipal(t)
	want := []Decision{Allowed, Allowed, ExplicitDeny, Allowed, ExplicitDeny, Allowed, ImplicitDeny, ExplicitDeny}
	for i, req := range typicalRequests() {
		r := Evaluate(in, req)
		if r.Decision != want[i] {
			t.Errorf("%s on %s: %s (%s), want %s", req.Action, req.Resource, r.Decision, r.Reason, want[i])
		}
	}
}

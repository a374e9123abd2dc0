package policy_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/iammcp/iam-mcp-server/policy"
)

// benchPolicies is a typical principal: 5 policies of 20 statements in all
// (four identity policies and a permissions boundary), with wildcards,
// NotAction, a policy variable and the conditions developers' policies
// commonly carry. It is BenchmarkEvaluateTypical's principal, written out
// here as the JSON both engines read.
var benchPolicies = []string{
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"S3Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::app-*","arn:aws:s3:::app-*/*"]},
		{"Sid":"S3Write","Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::app-data/${aws:username}/*"},
		{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::app-secrets/*"},
		{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:eu-west-1:111122223333:log-group:/app/*"}]}`,
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"EC2Describe","Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
		{"Sid":"EC2Start","Effect":"Allow","Action":["ec2:StartInstances","ec2:StopInstances"],"Resource":"arn:aws:ec2:*:111122223333:instance/*","Condition":{"StringEquals":{"aws:ResourceTag/team":"dev"}}},
		{"Sid":"MFA","Effect":"Deny","NotAction":["iam:*","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}},
		{"Sid":"Region","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`,
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"Dynamo","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:eu-west-1:111122223333:table/app-*"},
		{"Sid":"SQS","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:eu-west-1:111122223333:app-*"},
		{"Sid":"Lambda","Effect":"Allow","Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"arn:aws:lambda:eu-west-1:111122223333:function:app-*"},
		{"Sid":"KMS","Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*","Condition":{"StringLike":{"kms:ViaService":"s3.*.amazonaws.com"}}}]}`,
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:GetUser"],"Resource":"arn:aws:iam::111122223333:user/${aws:username}"},
		{"Sid":"IPs","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}},
		{"Sid":"CW","Effect":"Allow","Action":["cloudwatch:Get*","cloudwatch:List*","cloudwatch:Describe*"],"Resource":"*"},
		{"Sid":"SSM","Effect":"Allow","Action":"ssm:GetParameter*","Resource":"arn:aws:ssm:eu-west-1:111122223333:parameter/app/*"}]}`,
	// The permissions boundary.
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"Services","Effect":"Allow","Action":["s3:*","ec2:*","logs:*","dynamodb:*","sqs:*","lambda:*","kms:*","cloudwatch:*","ssm:*","iam:GetUser","iam:*AccessKey*"],"Resource":"*"},
		{"Sid":"NoIAM","Effect":"Deny","Action":["iam:Create*","iam:Delete*","iam:Put*","iam:Attach*"],"Resource":"*"},
		{"Sid":"NoOrg","Effect":"Deny","Action":"organizations:*","Resource":"*"},
		{"Sid":"Tagged","Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:ResourceTag/env":"dev"}}}]}`,
}

// benchCases is the typical principal's requests, each with the request
// context an interactive call of the principal carries.
func benchCases(tb testing.TB) []*preparedCase {
	tb.Helper()
	ctx := map[string][]string{
		"aws:username":               {"alice"},
		"aws:MultiFactorAuthPresent": {"true"},
		"aws:RequestedRegion":        {"eu-west-1"},
		"aws:SourceIp":               {"203.0.113.7"},
		"aws:ViaAWSService":          {"false"},
		"aws:ResourceTag/team":       {"dev"},
	}
	reqs := []struct{ action, resource string }{
		{"s3:GetObject", "arn:aws:s3:::app-data/alice/report.csv"},
		{"s3:PutObject", "arn:aws:s3:::app-data/alice/out.csv"},
		{"s3:GetObject", "arn:aws:s3:::app-secrets/db"},
		{"ec2:StartInstances", "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"},
		{"iam:CreateAccessKey", "arn:aws:iam::111122223333:user/alice"},
		{"dynamodb:Query", "arn:aws:dynamodb:eu-west-1:111122223333:table/app-orders"},
		{"sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:other"},
		{"organizations:ListAccounts", "*"},
	}
	var raws []json.RawMessage
	var srcs []policy.Source
	for i, text := range benchPolicies {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(text)); err != nil {
			tb.Fatal(err)
		}
		doc, err := policy.Parse(compact.String())
		if err != nil {
			tb.Fatal(err)
		}
		raws = append(raws, compact.Bytes())
		srcs = append(srcs, policy.Source{ID: "policy" + strconv.Itoa(i), Type: "user-managed", Doc: doc})
	}
	// The last policy is the boundary.
	last := len(raws) - 1
	identity, boundary := raws[:last], raws[last:]
	in := policy.Input{Identity: srcs[:last], Boundaries: srcs[last:]}
	const principal, account = "arn:aws:iam::111122223333:user/alice", "111122223333"
	var out []*preparedCase
	for i, r := range reqs {
		w := wireCase{ID: i, Identity: identity, Boundary: boundary, Principal: principal, Action: r.action,
			Resource: r.resource, ResourceAccount: account, Context: ctx}
		wire, err := json.Marshal(w)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, &preparedCase{gen: &genCase{ID: i, Action: r.action, Resource: r.resource}, wire: wire, in: in,
			req: policy.Request{Action: r.action, Resource: r.resource, Context: ctx, Principal: principal, ResourceAccount: account}})
	}
	return out
}

// oracleBench is what driver.mjs --bench prints.
type oracleBench struct {
	Cases           int      `json:"cases"`
	Decisions       []string `json:"decisions"`
	Evaluations     int      `json:"evaluations"`
	NsPerEval       float64  `json:"nsPerEval"`
	UnsafeNsPerEval float64  `json:"unsafeNsPerEval"`
}

// BenchmarkEvaluateVsOracle measures Evaluate on the typical principal's
// requests and, in the same run and on the same cases, the oracle's own
// in-process evaluation (runSimulation, timed inside node so that starting
// the process and passing JSON are not counted), and reports both and their
// ratio: how many times slower the independent implementation is. Evaluate
// gets parsed policies, as the server keeps them; runSimulation takes policy
// JSON and validates it on every call, which is its API, so its figure
// includes that work (oracle-unsafe-ns/eval is runUnsafeSimulation, which
// skips validation). Before timing, the two must agree on every decision,
// so that both measure the same work.
func BenchmarkEvaluateVsOracle(b *testing.B) {
	node := requireOracle(b)
	cases := benchCases(b)
	var lines [][]byte
	for _, p := range cases {
		lines = append(lines, p.wire)
	}

	i := 0
	for b.Loop() {
		p := cases[i%len(cases)]
		policy.Evaluate(p.in, p.req)
		i++
	}
	ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)

	var ob oracleBench
	out := runOracle(b, node, []string{"--bench", "--min-ms", "1000"}, lines)
	if err := json.Unmarshal(out, &ob); err != nil {
		b.Fatalf("oracle driver printed %q: %v", out, err)
	}
	if len(ob.Decisions) != len(cases) {
		b.Fatalf("oracle decided %d cases of %d", len(ob.Decisions), len(cases))
	}
	for j, p := range cases {
		if got := policy.Evaluate(p.in, p.req).Decision; string(got) != ob.Decisions[j] {
			b.Fatalf("%s on %s: Evaluate says %s, the oracle %s; the benchmark needs cases both decide alike", p.req.Action, p.req.Resource, got, ob.Decisions[j])
		}
	}
	b.ReportMetric(ours, "ns/eval")
	b.ReportMetric(ob.NsPerEval, "oracle-ns/eval")
	b.ReportMetric(ob.UnsafeNsPerEval, "oracle-unsafe-ns/eval")
	b.ReportMetric(ob.NsPerEval/ours, "oracle/ours")
}

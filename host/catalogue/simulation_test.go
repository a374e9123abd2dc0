package catalogue

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

const demoARN = "arn:aws:iam::123456789012:"

// decisions indexes a simulation's results by action and resource.
func decisions(t *testing.T, out api.SimulateOutput) map[string]api.EvaluationResult {
	t.Helper()
	m := map[string]api.EvaluationResult{}
	for _, r := range out.EvaluationResults {
		if r.MatchedStatements == nil || r.MissingContextValues == nil {
			t.Fatalf("null lists in %+v", r)
		}
		m[r.ActionName+" "+r.ResourceName] = r
	}
	return m
}

func TestSimulationDemoPrincipals(t *testing.T) {
	c := newTestCatalogue(t, "demo")

	// carol.diaz is a Developer (PowerUserAccess) inside DeveloperBoundary.
	dev := decisions(t, call[api.SimulateOutput](t, c, "simulate_principal_policy", `{
		"policy_source_arn":"`+demoARN+`user/eng/carol.diaz",
		"action_names":["s3:GetObject","iam:CreateUser"],
		"resource_arns":["arn:aws:s3:::acme-data-lake/report.csv"]}`))
	get := dev["s3:GetObject arn:aws:s3:::acme-data-lake/report.csv"]
	if get.Decision != "allowed" || get.AllowedByPermissionsBoundary == nil || !*get.AllowedByPermissionsBoundary {
		t.Fatalf("s3:GetObject: %+v", get)
	}
	create := dev["iam:CreateUser arn:aws:s3:::acme-data-lake/report.csv"]
	if create.Decision != "explicitDeny" || create.AllowedByPermissionsBoundary == nil || *create.AllowedByPermissionsBoundary {
		t.Fatalf("iam:CreateUser: %+v", create)
	}
	var byBoundary bool
	for _, m := range create.MatchedStatements {
		byBoundary = byBoundary || m.SourcePolicyID == "DeveloperBoundary"
	}
	if !byBoundary {
		t.Fatalf("the deny is not attributed to DeveloperBoundary: %+v", create.MatchedStatements)
	}

	// alice.nguyen is an Admin: AdministratorAccess allows everything, on
	// the default resource *.
	admin := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{
		"policy_source_arn":"`+demoARN+`user/eng/alice.nguyen",
		"action_names":["iam:CreateUser","ec2:TerminateInstances","organizations:LeaveOrganization"]}`)
	if len(admin.EvaluationResults) != 3 || admin.IsTruncated {
		t.Fatalf("alice.nguyen: %+v", admin)
	}
	for _, r := range admin.EvaluationResults {
		if r.Decision != "allowed" || r.ResourceName != "*" || r.AllowedByPermissionsBoundary != nil {
			t.Fatalf("alice.nguyen %s: %+v", r.ActionName, r)
		}
		var found bool
		for _, m := range r.MatchedStatements {
			if m.SourcePolicyID == "AdministratorAccess" && m.SourcePolicyType == "aws-managed" && m.StartLine > 0 && m.StartColumn > 0 &&
				(m.EndLine > m.StartLine || m.EndLine == m.StartLine && m.EndColumn > m.StartColumn) {
				found = true
			}
		}
		if !found {
			t.Fatalf("alice.nguyen %s: no AdministratorAccess statement with positions: %+v", r.ActionName, r.MatchedStatements)
		}
	}

	// A group, and a role: the same evaluation on their own policies.
	grp := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{"policy_source_arn":"`+demoARN+`group/data/DataScience","action_names":["s3:GetObject","s3:PutObject"],"resource_arns":["arn:aws:s3:::acme-data-lake/x"]}`)
	if d := decisions(t, grp); d["s3:GetObject arn:aws:s3:::acme-data-lake/x"].Decision != "allowed" || d["s3:PutObject arn:aws:s3:::acme-data-lake/x"].Decision != "implicitDeny" {
		t.Fatalf("DataScience: %+v", grp)
	}
	role := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{"policy_source_arn":"`+demoARN+`role/service/ec2-app-role","action_names":["s3:ListBucket"],"resource_arns":["arn:aws:s3:::acme-data-lake"]}`)
	if len(role.EvaluationResults) != 1 || role.EvaluationResults[0].Decision != "allowed" || len(role.EvaluationResults[0].MatchedStatements) == 0 {
		t.Fatalf("ec2-app-role: %+v", role)
	}
	none := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{"policy_source_arn":"`+demoARN+`user/service/backup-agent","action_names":["s3:GetObject"]}`)
	if r := none.EvaluationResults[0]; r.Decision != "implicitDeny" || len(r.MatchedStatements) != 0 {
		t.Fatalf("backup-agent has no policies: %+v", r)
	}
}

func TestSimulationContextValues(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
		{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	if _, err := c.clients.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ana"), PolicyName: aws.String("conditional"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	const ana = `"policy_source_arn":"` + demoARN + `user/ana"`

	missing := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+ana+`,"action_names":["s3:GetObject"]}`).EvaluationResults[0]
	if missing.Decision != "implicitDeny" || len(missing.MissingContextValues) != 1 || missing.MissingContextValues[0] != "aws:SourceIp" {
		t.Fatalf("without aws:SourceIp: %+v", missing)
	}
	in := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+ana+`,"action_names":["s3:GetObject"],
		"context_entries":[{"context_key_name":"aws:SourceIp","context_key_values":["10.1.2.3"],"context_key_type":"ip"}]}`).EvaluationResults[0]
	if in.Decision != "allowed" || len(in.MissingContextValues) != 0 {
		t.Fatalf("from 10.1.2.3: %+v", in)
	}
	out := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+ana+`,"action_names":["s3:GetObject"],
		"context_entries":[{"context_key_name":"aws:SourceIp","context_key_values":["192.0.2.1"],"context_key_type":"ip"}]}`).EvaluationResults[0]
	if out.Decision != "implicitDeny" {
		t.Fatalf("from 192.0.2.1: %+v", out)
	}
	// No type: string, IAM's default.
	region := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+ana+`,"action_names":["ec2:StartInstances"],
		"context_entries":[{"context_key_name":"aws:RequestedRegion","context_key_values":["eu-west-1"]}]}`).EvaluationResults[0]
	if region.Decision != "allowed" {
		t.Fatalf("in eu-west-1: %+v", region)
	}
	if got := contextEntriesOf([]api.ContextEntry{{ContextKeyName: "k", ContextKeyValues: []string{"v"}}}); got[0].ContextKeyType != "string" {
		t.Fatalf("default type %q", got[0].ContextKeyType)
	}
}

func TestSimulationPaging(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	args := `"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject","s3:PutObject","iam:CreateUser"],"resource_arns":["arn:aws:s3:::a/1","arn:aws:s3:::b/2"],"max_items":4`
	p1 := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+args+`}`)
	if len(p1.EvaluationResults) != 4 || !p1.IsTruncated || p1.Marker == "" {
		t.Fatalf("page 1: %+v", p1.Page)
	}
	p2 := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{`+args+`,"marker":"`+p1.Marker+`"}`)
	if len(p2.EvaluationResults) != 2 || p2.IsTruncated || p2.Marker != "" {
		t.Fatalf("page 2: %+v", p2.Page)
	}
	seen := map[string]bool{}
	for _, r := range append(p1.EvaluationResults, p2.EvaluationResults...) {
		seen[r.ActionName+" "+r.ResourceName] = true
	}
	if len(seen) != 6 {
		t.Fatalf("the pages do not cover the 6 pairs once each: %v", seen)
	}
}

func TestSimulationErrors(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	callFails(t, c, "simulate_principal_policy", `{"policy_source_arn":"`+demoARN+`user/nobody","action_names":["s3:GetObject"]}`, api.NoSuchEntity)
	callFails(t, c, "simulate_principal_policy", `{"policy_source_arn":"`+demoARN+`role/nobody","action_names":["s3:GetObject"]}`, api.NoSuchEntity)
	cases := []struct{ args, want string }{
		{`{"action_names":["s3:GetObject"]}`, `"policy_source_arn" is required`},
		{`{"policy_source_arn":"alice","action_names":["s3:GetObject"]}`, "ARN of an IAM user, group or role"},
		{`{"policy_source_arn":"` + demoARN + `policy/x","action_names":["s3:GetObject"]}`, "ARN of an IAM user, group or role"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen"}`, `"action_names" is required`},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":[]}`, `"action_names" is required`},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":"s3:GetObject"}`, "wrong type"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["GetObject"]}`, "service:Action"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:"]}`, "service:Action"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"resource_arns":["my-bucket"]}`, "must be an ARN"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"context_entries":[{"context_key_name":"aws:SourceIp"}]}`, `"context_key_values" is required`},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"context_entries":[{"context_key_name":"aws:SourceIp","context_key_values":["10.0.0.1"],"context_key_type":"ipAddress"}]}`, "must be one of"},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"context_entries":[{"context_key_values":["x"]}]}`, `"context_key_name" is required`},
		{`{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"marker":"not a marker!"}`, "Invalid Marker"},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			if msg := callFails(t, c, "simulate_principal_policy", tc.args, api.InvalidInput); !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
		})
	}
}

// TestSimulationResourceSide drives the resource-side arguments of
// simulate_principal_policy through the catalogue, the SDK and the sandbox.
func TestSimulationResourceSide(t *testing.T) {
	c := newTestCatalogue(t, "")
	for _, u := range []string{"gus", "hal"} {
		call[api.UserOutput](t, c, "create_user", `{"user_name":"`+u+`"}`)
	}
	if _, err := c.clients.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("hal"), PolicyName: aws.String("s3"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	bucket := func(effect, who string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Principal":{"AWS":"` + demoARN + who + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	}
	decide := func(args string) api.EvaluationResult {
		t.Helper()
		out := call[api.SimulateOutput](t, c, "simulate_principal_policy", `{"action_names":["s3:GetObject"],"resource_arns":["arn:aws:s3:::data/k"],`+args+`}`)
		if len(out.EvaluationResults) != 1 {
			t.Fatalf("%s: %+v", args, out)
		}
		return out.EvaluationResults[0]
	}
	gus, hal := `"policy_source_arn":"`+demoARN+`user/gus"`, `"policy_source_arn":"`+demoARN+`user/hal"`

	// A bucket policy naming gus allows without an identity grant, and is
	// reported as IAM reports a resource policy. It may come as an object
	// or as a string.
	r := decide(gus + `,"resource_policy":` + bucket("Allow", "user/gus"))
	if r.Decision != "allowed" || len(r.MatchedStatements) != 1 || r.MatchedStatements[0].SourcePolicyID != "ResourcePolicy" || r.MatchedStatements[0].SourcePolicyType != "resource" {
		t.Fatalf("bucket policy naming gus: %+v", r)
	}
	quoted, _ := json.Marshal(bucket("Allow", "user/gus"))
	if r := decide(gus + `,"resource_policy":` + string(quoted)); r.Decision != "allowed" {
		t.Fatalf("bucket policy as a string: %+v", r)
	}
	for _, tc := range []struct{ name, args, want string }{
		{"no resource policy", gus, "implicitDeny"},
		{"cross-account, resource grant only", gus + `,"resource_owner":"210987654321","resource_policy":` + bucket("Allow", "user/gus"), "implicitDeny"},
		{"cross-account, both grants", hal + `,"resource_owner":"arn:aws:iam::210987654321:root","resource_policy":` + bucket("Allow", "user/hal"), "allowed"},
		{"resource policy deny", hal + `,"resource_policy":` + bucket("Deny", "user/hal"), "explicitDeny"},
		{"caller named", gus + `,"caller_arn":"` + demoARN + `user/hal","resource_policy":` + bucket("Allow", "user/hal"), "allowed"},
		{"caller not named", gus + `,"caller_arn":"` + demoARN + `user/hal","resource_policy":` + bucket("Allow", "user/gus"), "implicitDeny"},
		{"boundary limits identity", hal + `,"permissions_boundary_policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`, "implicitDeny"},
		{"boundary spares a resource policy naming the user", gus + `,"permissions_boundary_policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]},"resource_policy":` + bucket("Allow", "user/gus"), "allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := decide(tc.args); r.Decision != tc.want {
				t.Fatalf("got %s, want %s: %+v", r.Decision, tc.want, r)
			}
		})
	}

	// Slips are named by their argument.
	for _, tc := range []struct{ args, want string }{
		{gus + `,"caller_arn":"arn:aws:sts::123456789012:assumed-role/r/s"`, "caller_arn"},
		{gus + `,"caller_arn":"bob"`, "caller_arn"},
		{gus + `,"resource_owner":"12345"`, "resource_owner"},
		{gus + `,"resource_owner":"arn:aws:iam::123456789012:user/gus"`, "resource_owner"},
		{gus + `,"resource_policy":"not json"`, "resource_policy"},
	} {
		args := `{"action_names":["s3:GetObject"],` + tc.args + `}`
		if msg := callFails(t, c, "simulate_principal_policy", args, api.InvalidInput); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message %q does not name %s", tc.args, msg, tc.want)
		}
	}
	// IAM's own checks come back with IAM's codes.
	msg := callFails(t, c, "simulate_principal_policy", `{"action_names":["s3:GetObject"],`+gus+`,"resource_policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}}`, api.MalformedPolicyDocument)
	if !strings.Contains(msg, "Principal") {
		t.Errorf("resource policy without a principal: %q", msg)
	}
	msg = callFails(t, c, "simulate_principal_policy", `{"action_names":["s3:GetObject"],`+gus+`,"context_entries":[{"context_key_name":"aws:CurrentTime","context_key_values":["soon"],"context_key_type":"date"}]}`, api.InvalidInput)
	if !strings.Contains(msg, "soon") || !strings.Contains(msg, "date") {
		t.Errorf("a date that is not one: %q", msg)
	}
}

// ctxCondDoc allows two actions under conditions of the four kinds the
// object shape of context_entries maps to: string, numeric, boolean and a
// list of strings.
const ctxCondDoc = `{"Version":"2012-10-17","Statement":[
	{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{
		"NumericLessThanEquals":{"s3:max-keys":"10"},"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}},
	{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}]}`

// TestSimulationContextEntriesShapes: the object shape of context_entries
// (the upstream server's) simulates exactly as the list shape with IAM's
// types, and the values do decide (a different one, a different answer).
func TestSimulationContextEntriesShapes(t *testing.T) {
	c := newTestCatalogue(t, "")
	s := newSetup(t, c)
	s.user("ana")
	s.inline("user ana", "conditional", ctxCondDoc)
	const head = `{"policy_source_arn":"` + demoARN + `user/ana","action_names":["s3:ListBucket","ec2:CreateTags"],"context_entries":`
	simulate := func(entries string) (string, map[string]api.EvaluationResult) {
		t.Helper()
		out := call[api.SimulateOutput](t, c, "simulate_principal_policy", head+entries+`}`)
		b, _ := json.Marshal(out)
		return string(b), decisions(t, out)
	}
	for _, tc := range []struct {
		name, object, list string
		listBucket, tag    string
	}{
		{"all met", `{"s3:max-keys": 5, "aws:MultiFactorAuthPresent": true, "aws:RequestedRegion": "eu-west-1", "aws:TagKeys": ["team", "env"]}`,
			`[{"context_key_name":"s3:max-keys","context_key_values":["5"],"context_key_type":"numeric"},
			  {"context_key_name":"aws:MultiFactorAuthPresent","context_key_values":["true"],"context_key_type":"boolean"},
			  {"context_key_name":"aws:RequestedRegion","context_key_values":["eu-west-1"],"context_key_type":"string"},
			  {"context_key_name":"aws:TagKeys","context_key_values":["team","env"],"context_key_type":"stringList"}]`,
			"allowed", "allowed"},
		{"none met", `{"s3:max-keys": 50.5, "aws:MultiFactorAuthPresent": false, "aws:RequestedRegion": "us-east-1", "aws:TagKeys": ["team", "owner"]}`,
			`[{"context_key_name":"s3:max-keys","context_key_values":["50.5"],"context_key_type":"numeric"},
			  {"context_key_name":"aws:MultiFactorAuthPresent","context_key_values":["false"],"context_key_type":"boolean"},
			  {"context_key_name":"aws:RequestedRegion","context_key_values":["us-east-1"]},
			  {"context_key_name":"aws:TagKeys","context_key_values":["team","owner"],"context_key_type":"stringList"}]`,
			"implicitDeny", "implicitDeny"},
		{"empty", `{}`, `[]`, "implicitDeny", "allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fromObject, d := simulate(tc.object)
			fromList, _ := simulate(tc.list)
			if fromObject != fromList {
				t.Fatalf("the shapes simulate differently:\nobject %s\nlist   %s", fromObject, fromList)
			}
			if got := d["s3:ListBucket *"].Decision; got != tc.listBucket {
				t.Errorf("s3:ListBucket: %s, want %s", got, tc.listBucket)
			}
			if got := d["ec2:CreateTags *"].Decision; got != tc.tag {
				t.Errorf("ec2:CreateTags: %s, want %s", got, tc.tag)
			}
		})
	}

	// What the object shape becomes: IAM's types, in the order given.
	op, _ := api.Lookup("simulate_principal_policy")
	in, aerr := args.Decode(op, json.RawMessage(head+`{"b:n": -1.5e2, "a:s": "x", "c:l": ["1", "2"], "d:t": false}}`))
	if aerr != nil {
		t.Fatal(aerr)
	}
	got := in.(*api.SimulatePrincipalPolicyInput).ContextEntries
	want := api.ContextEntries{
		{ContextKeyName: "b:n", ContextKeyValues: []string{"-1.5e2"}, ContextKeyType: "numeric"},
		{ContextKeyName: "a:s", ContextKeyValues: []string{"x"}, ContextKeyType: "string"},
		{ContextKeyName: "c:l", ContextKeyValues: []string{"1", "2"}, ContextKeyType: "stringList"},
		{ContextKeyName: "d:t", ContextKeyValues: []string{"false"}, ContextKeyType: "boolean"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	// Written back (the audit record, a plugin's request), it is the list.
	b, _ := json.Marshal(got)
	if !strings.HasPrefix(string(b), `[{"context_key_name":"b:n"`) {
		t.Fatalf("encoded as %s", b)
	}
}

// TestSimulationContextEntriesRefused: anything but the two shapes is
// refused with a sentence that names context_entries and what it takes,
// quoting at most a short prefix of what was sent.
func TestSimulationContextEntriesRefused(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	long := "aws:" + strings.Repeat("K", 100000)
	cases := []struct{ entries, want string }{
		{`"aws:SourceIp=10.0.0.1"`, "must be a list of {context_key_name"},
		{`42`, "or an object of condition key"},
		{`true`, "must be a list"},
		{`{"aws:SourceIp": {"ip": "10.0.0.1"}}`, `gives "aws:SourceIp" an object`},
		{`{"aws:SourceIp": null}`, "null (leave a key out"},
		{`{"aws:SourceIp": []}`, "an empty list"},
		{`{"aws:SourceIp": [1]}`, "a list holding something other than strings"},
		{`{"aws:SourceIp": ["10.0.0.1", ["10.0.0.2"]]}`, "something other than strings"},
		{`{"aws:SourceIp": ["10.0.0.1", null]}`, "something other than strings"},
		{`{"aws:SourceIp": "10.0.0.1", "aws:SourceIp": "10.0.0.2"}`, `gives the key "aws:SourceIp" twice`},
		{`{"aws:SourceIp": "10.0.0.1", "AWS:sourceip": "10.0.0.2"}`, "without regard to case"},
		{`{"context_key_name": "aws:SourceIp", "context_key_values": ["10.0.0.1"]}`, "send a list of them"},
		{`{"SourceIp": "10.0.0.1"}`, "names its service first"},
		{`{"": "x"}`, "names its service first"},
		{`{":x": "x"}`, "names its service first"},
		{`{"aws:": "x"}`, "names its service first"},
		{`{"` + long + `": "x"}`, "at most 256 characters"},
		{`{"aws:SourceIp": "10.0.0.1", "` + long + `x": 1, "` + long + `X": 2}`, "bytes in all"},
		{`[{"Context_Key_Name": "aws:SourceIp", "context_key_values": ["10.0.0.1"]}]`, `[0] has the unknown key "Context_Key_Name"`},
		{`[{"context_key_name": "aws:SourceIp", "context_key_values": ["1"]}, {"context_key_name": "aws:SourceIp", "context_key_values": ["1"], "value": "x"}]`, `[1] has the unknown key "value"`},
		{`[{"context_key_name": "aws:SourceIp", "context_key_name": "aws:username", "context_key_values": ["1"]}]`, "gives context_key_name twice"},
		{`[{"context_key_name": "aws:SourceIp", "context_key_values": [1]}]`, `argument "context_key_values" has the wrong type`},
		{`[{"context_key_name": "aws:SourceIp", "context_key_values": "10.0.0.1"}]`, `argument "context_key_values" has the wrong type`},
		{`["aws:SourceIp"]`, `argument "context_entries" has the wrong type`},
		{`[{"context_key_name": "aws:SourceIp", "context_key_values": ["10.0.0.1"]}]]`, "not valid JSON"},
	}
	for _, tc := range cases {
		name := tc.entries
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			args := `{"policy_source_arn":"` + demoARN + `user/eng/alice.nguyen","action_names":["s3:GetObject"],"context_entries":` + tc.entries + `}`
			msg := callFails(t, c, "simulate_principal_policy", args, api.InvalidInput)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not say %q", msg, tc.want)
			}
			if len(msg) > 600 {
				t.Errorf("a message of %d bytes: %.200s…", len(msg), msg)
			}
		})
	}
}

// TestSimulationContextEntriesSchema: the input schema of
// simulate_principal_policy publishes both shapes, so that a client's
// validation lets the object through. It needs sdk/api/schema.go to ask a
// type for its own schema (a JSONSchema method); see this change's notes.
func TestSimulationContextEntriesSchema(t *testing.T) {
	op, _ := api.Lookup("simulate_principal_policy")
	props := api.InputSchema(op)["properties"].(map[string]any)
	s, _ := props["context_entries"].(api.Schema)
	typ, _ := s["type"].([]string)
	if !slices.Contains(typ, "array") || !slices.Contains(typ, "object") || s["items"] == nil || s["additionalProperties"] == nil {
		t.Fatalf("context_entries is published as %v: the object shape is missing (schema.go must use ContextEntries.JSONSchema)", s)
	}
}

// FuzzContextEntries: whatever context_entries holds, decoding answers
// without panicking, with a short message when it refuses; what it
// accepts re-encodes to a list that decodes to the same entries, and an
// object's keys are condition keys, each once whatever its case.
func FuzzContextEntries(f *testing.F) {
	for _, seed := range []string{
		`{"aws:SourceIp": "10.0.0.1", "s3:max-keys": 5, "aws:MultiFactorAuthPresent": true, "aws:TagKeys": ["a", "b"]}`,
		`[{"context_key_name": "aws:SourceIp", "context_key_values": ["10.0.0.1"], "context_key_type": "ip"}]`,
		`{"aws:SourceIp": "1", "AWS:SOURCEIP": "2"}`,
		`{"context_key_name": "x"}`,
		`[{"Context_Key_Name": "a:b"}]`,
		`{"a:b": [[]]}`,
		`null`, `[]`, `{}`, `"x"`, `[null]`,
	} {
		f.Add([]byte(seed))
	}
	op, _ := api.Lookup("simulate_principal_policy")
	head := `{"policy_source_arn":"` + demoARN + `user/ana","action_names":["s3:GetObject"],"context_entries":`
	f.Fuzz(func(t *testing.T, entries []byte) {
		raw := append(append([]byte(head), entries...), '}')
		in, aerr := args.Decode(op, raw)
		if aerr != nil {
			if aerr.Code != api.InvalidInput || len(aerr.Message) > 600 {
				t.Fatalf("refusal %s of %d bytes: %.300s", aerr.Code, len(aerr.Message), aerr.Message)
			}
			return
		}
		got := in.(*api.SimulatePrincipalPolicyInput).ContextEntries
		if trimmed := bytes.TrimSpace(entries); len(trimmed) > 0 && trimmed[0] == '{' {
			seen := map[string]bool{}
			for _, e := range got {
				service, name, ok := strings.Cut(e.ContextKeyName, ":")
				low := strings.ToLower(e.ContextKeyName)
				if !ok || service == "" || name == "" || seen[low] || len(e.ContextKeyValues) == 0 {
					t.Fatalf("object shape accepted %+v", got)
				}
				seen[low] = true
			}
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, aerr := args.Decode(op, append(append([]byte(head), b...), '}'))
		if aerr != nil {
			t.Fatalf("re-encoded %s refused: %v", b, aerr)
		}
		if back := again.(*api.SimulatePrincipalPolicyInput).ContextEntries; !reflect.DeepEqual(back, got) && !(len(back) == 0 && len(got) == 0) {
			t.Fatalf("round trip: %+v became %+v", got, back)
		}
	})
}

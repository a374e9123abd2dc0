package policy

import (
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, doc string) *Document {
	t.Helper()
	d, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

func src(t testing.TB, id, doc string) Source {
	return Source{ID: id, Type: "user", Doc: mustParse(t, doc)}
}

// pol makes a 2012-10-17 document from statement JSON.
func pol(statements string) string { return stmt(statements) }

func matchedIDs(r Result) []string {
	var out []string
	for _, m := range r.Matched {
		out = append(out, m.SourceID+"#"+m.Sid)
	}
	return out
}

func TestEvaluateDecisions(t *testing.T) {
	allowS3 := pol(`{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}`)
	denyDelete := pol(`{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}`)
	allowGet := pol(`{"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}`)
	boundaryS3Read := pol(`{"Sid":"BRead","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}`)
	boundaryDeny := pol(`{"Sid":"BDeny","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secret/*"}`)
	tru, fls := true, false

	tests := []struct {
		name        string
		identity    []string
		boundaries  []string
		action      string
		resource    string
		want        Decision
		wantMatched []string
		wantBound   *bool
	}{
		{"allow", []string{allowS3}, nil, "s3:GetObject", "arn:aws:s3:::b/k", Allowed, []string{"p0#S3"}, nil},
		{"no policies", nil, nil, "s3:GetObject", "*", ImplicitDeny, nil, nil},
		{"implicit deny: action not granted", []string{allowS3}, nil, "ec2:RunInstances", "*", ImplicitDeny, nil, nil},
		{"explicit deny wins over allow", []string{allowS3, denyDelete}, nil, "s3:DeleteObject", "arn:aws:s3:::b/k", ExplicitDeny, []string{"p0#S3", "p1#NoDelete"}, nil},
		{"explicit deny without any allow", []string{denyDelete}, nil, "s3:DeleteObject", "*", ExplicitDeny, []string{"p0#NoDelete"}, nil},
		{"deny not matching leaves the allow", []string{allowS3, denyDelete}, nil, "s3:GetObject", "*", Allowed, []string{"p0#S3"}, nil},
		{"boundary allows too", []string{allowS3}, []string{boundaryS3Read}, "s3:GetObject", "arn:aws:s3:::b/k", Allowed, []string{"p0#S3", "b0#BRead"}, &tru},
		{"allowed by identity but outside the boundary", []string{allowS3}, []string{boundaryS3Read}, "s3:PutObject", "arn:aws:s3:::b/k", ImplicitDeny, []string{"p0#S3"}, &fls},
		{"allowed by the boundary but not by identity", []string{allowGet}, []string{boundaryS3Read}, "s3:ListBucket", "arn:aws:s3:::b", ImplicitDeny, []string{"b0#BRead"}, &tru},
		{"deny in the boundary", []string{allowS3}, []string{boundaryS3Read, boundaryDeny}, "s3:GetObject", "arn:aws:s3:::secret/k", ExplicitDeny, []string{"p0#S3", "b0#BRead", "b1#BDeny"}, &fls},
		{"request resource * does not match a specific pattern", []string{allowGet}, nil, "s3:GetObject", "*", ImplicitDeny, nil, nil},
		{"request resource * matches Resource *", []string{allowS3}, nil, "s3:GetObject", "*", Allowed, []string{"p0#S3"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in Input
			for i, d := range tc.identity {
				in.Identity = append(in.Identity, src(t, "p"+string(rune('0'+i)), d))
			}
			for i, d := range tc.boundaries {
				in.Boundaries = append(in.Boundaries, src(t, "b"+string(rune('0'+i)), d))
			}
			r := Evaluate(in, Request{Action: tc.action, Resource: tc.resource})
			if r.Decision != tc.want {
				t.Errorf("Decision = %s, want %s", r.Decision, tc.want)
			}
			if got := matchedIDs(r); !reflect.DeepEqual(got, tc.wantMatched) {
				t.Errorf("Matched = %v, want %v", got, tc.wantMatched)
			}
			switch {
			case tc.wantBound == nil && r.BoundaryAllowed != nil:
				t.Errorf("BoundaryAllowed = %v, want nil", *r.BoundaryAllowed)
			case tc.wantBound != nil && (r.BoundaryAllowed == nil || *r.BoundaryAllowed != *tc.wantBound):
				t.Errorf("BoundaryAllowed = %v, want %v", r.BoundaryAllowed, *tc.wantBound)
			}
		})
	}
}

func TestEvaluateMatchDetails(t *testing.T) {
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    {
      "Effect": "Deny",
      "Action": "s3:*",
      "Resource": "*"
    }
  ]
}`
	in := Input{Identity: []Source{{ID: "arn:aws:iam::123456789012:policy/p", Type: "user-managed", Doc: mustParse(t, doc)}}}
	r := Evaluate(in, Request{Action: "s3:GetObject", Resource: "*"})
	want := []Match{
		{SourceID: "arn:aws:iam::123456789012:policy/p", SourceType: "user-managed", Index: 0, Sid: "A", Effect: "Allow",
			Start: Position{Line: 4, Column: 5}, End: Position{Line: 4, Column: 79}},
		{SourceID: "arn:aws:iam::123456789012:policy/p", SourceType: "user-managed", Index: 1, Sid: "", Effect: "Deny",
			Start: Position{Line: 5, Column: 5}, End: Position{Line: 9, Column: 6}},
	}
	if !reflect.DeepEqual(r.Matched, want) {
		t.Errorf("Matched =\n %+v\nwant\n %+v", r.Matched, want)
	}
	if r.Decision != ExplicitDeny {
		t.Errorf("Decision = %s", r.Decision)
	}
}

func TestEvaluateActionsAndResources(t *testing.T) {
	tests := []struct {
		name      string
		statement string
		action    string
		resource  string
		want      bool // the Allow statement matches
	}{
		// Actions: case-insensitive, * and ? wildcards.
		{"exact action", `"Action":"s3:GetObject","Resource":"*"`, "s3:GetObject", "*", true},
		{"action case-insensitive", `"Action":"S3:getobject","Resource":"*"`, "s3:GetObject", "*", true},
		{"request action case-insensitive", `"Action":"s3:Get*","Resource":"*"`, "S3:GETOBJECT", "*", true},
		{"action * wildcard", `"Action":"s3:*Object","Resource":"*"`, "s3:PutObject", "*", true},
		{"action ? wildcard", `"Action":"s3:?etObject","Resource":"*"`, "s3:GetObject", "*", true},
		{"action ? is one character", `"Action":"s3:?Object","Resource":"*"`, "s3:GetObject", "*", false},
		{"action * alone", `"Action":"*","Resource":"*"`, "iam:CreateUser", "*", true},
		{"action list", `"Action":["ec2:*","s3:List*"],"Resource":"*"`, "s3:ListBucket", "*", true},
		{"other service", `"Action":"s3:*","Resource":"*"`, "s3control:GetJob", "*", false},
		{"NotAction excludes", `"NotAction":"iam:*","Resource":"*"`, "iam:CreateUser", "*", false},
		{"NotAction includes the rest", `"NotAction":["iam:*","sts:*"],"Resource":"*"`, "s3:GetObject", "*", true},
		{"NotAction case-insensitive", `"NotAction":"IAM:*","Resource":"*"`, "iam:CreateUser", "*", false},

		// Resources: case-sensitive, wildcards span ':' and '/'.
		{"exact resource", `"Action":"s3:*","Resource":"arn:aws:s3:::b/k"`, "s3:GetObject", "arn:aws:s3:::b/k", true},
		{"resource case-sensitive", `"Action":"s3:*","Resource":"arn:aws:s3:::B/k"`, "s3:GetObject", "arn:aws:s3:::b/k", false},
		{"resource wildcard spans /", `"Action":"s3:*","Resource":"arn:aws:s3:::b/*"`, "s3:GetObject", "arn:aws:s3:::b/x/y/z", true},
		{"resource wildcard spans :", `"Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*"`, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t", true},
		{"resource wildcard is case-sensitive", `"Action":"s3:*","Resource":"arn:aws:s3:::b/A*"`, "s3:GetObject", "arn:aws:s3:::b/abc", false},
		{"resource ? wildcard", `"Action":"s3:*","Resource":"arn:aws:s3:::b?"`, "s3:ListBucket", "arn:aws:s3:::b1", true},
		{"bucket pattern does not match objects", `"Action":"s3:*","Resource":"arn:aws:s3:::b"`, "s3:GetObject", "arn:aws:s3:::b/k", false},
		{"resource list", `"Action":"s3:*","Resource":["arn:aws:s3:::a","arn:aws:s3:::b/*"]`, "s3:GetObject", "arn:aws:s3:::b/k", true},
		{"NotResource excludes", `"Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"`, "s3:GetObject", "arn:aws:s3:::secret/k", false},
		{"NotResource includes the rest", `"Action":"s3:*","NotResource":["arn:aws:s3:::secret/*","arn:aws:s3:::secret"]`, "s3:GetObject", "arn:aws:s3:::public/k", true},
		{"NotResource is case-sensitive", `"Action":"s3:*","NotResource":"arn:aws:s3:::Secret/*"`, "s3:GetObject", "arn:aws:s3:::secret/k", true},
		{"NotResource with request *", `"Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"`, "s3:GetObject", "*", true},
		{"request * and Resource arn:*", `"Action":"s3:*","Resource":"arn:*"`, "s3:GetObject", "*", false},

		// Statements that cannot apply to an identity-based request.
		{"no action element", `"Resource":"*"`, "s3:GetObject", "*", false},
		{"no resource element", `"Action":"s3:*"`, "s3:GetObject", "*", false},
		{"empty NotAction is not every action", `"NotAction":[],"Resource":"*"`, "s3:GetObject", "*", false},
		{"empty NotResource is not every resource", `"Action":"s3:*","NotResource":[]`, "s3:GetObject", "*", false},
		{"empty Action", `"Action":[],"Resource":"*"`, "s3:GetObject", "*", false},
		{"principal in an identity policy", `"Principal":"*","Action":"s3:*","Resource":"*"`, "s3:GetObject", "*", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, pol(`{"Effect":"Allow",`+tc.statement+`}`))
			r := Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: tc.action, Resource: tc.resource})
			if got := r.Decision == Allowed; got != tc.want {
				t.Errorf("allowed = %v, want %v (%+v)", got, tc.want, r)
			}
		})
	}
}

func TestEvaluateEffectCase(t *testing.T) {
	// Effect is exact: a lower-case "deny" is not a Deny (CheckIAM rejects
	// it), and not an Allow either.
	d := mustParse(t, pol(`[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"deny","Action":"*","Resource":"*"}]`))
	r := Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: "s3:GetObject", Resource: "*"})
	if r.Decision != Allowed || len(r.Matched) != 1 {
		t.Errorf("got %+v", r)
	}
	d = mustParse(t, pol(`{"Effect":"allow","Action":"*","Resource":"*"}`))
	r = Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: "s3:GetObject", Resource: "*"})
	if r.Decision != ImplicitDeny {
		t.Errorf("got %+v", r)
	}
}

func TestEvaluateNilDocument(t *testing.T) {
	r := Evaluate(Input{Identity: []Source{{ID: "nil"}}}, Request{Action: "s3:GetObject", Resource: "*"})
	if r.Decision != ImplicitDeny || r.Matched != nil {
		t.Errorf("got %+v", r)
	}
}

func TestEvaluatePolicyVariables(t *testing.T) {
	ctx := map[string][]string{
		"aws:username":          {"alice"},
		"AWS:UserId":            {"AIDAEXAMPLE"},
		"aws:PrincipalTag/team": {"blue"},
		"aws:TagKeys":           {"a", "b"}, // multivalued: not usable as a variable
		"aws:weird":             {"a*b"},
	}
	tests := []struct {
		name        string
		version     string
		statement   string
		resource    string
		ctx         map[string][]string
		want        bool
		wantMissing []string
	}{
		{"username in resource", "2012-10-17", `"Resource":"arn:aws:s3:::home/${aws:username}/*"`, "arn:aws:s3:::home/alice/doc", ctx, true, nil},
		{"other user's folder", "2012-10-17", `"Resource":"arn:aws:s3:::home/${aws:username}/*"`, "arn:aws:s3:::home/bob/doc", ctx, false, nil},
		{"variable names are case-insensitive", "2012-10-17", `"Resource":"arn:aws:s3:::home/${aws:userid}"`, "arn:aws:s3:::home/AIDAEXAMPLE", ctx, true, nil},
		{"principal tag", "2012-10-17", `"Resource":"arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"`, "arn:aws:s3:::teams/blue/x", ctx, true, nil},
		{"substituted value is literal", "2012-10-17", `"Resource":"arn:aws:s3:::x/${aws:weird}"`, "arn:aws:s3:::x/aXXb", ctx, false, nil},
		{"substituted value matches itself", "2012-10-17", `"Resource":"arn:aws:s3:::x/${aws:weird}"`, "arn:aws:s3:::x/a*b", ctx, true, nil},
		{"escape ${*} is a literal star", "2012-10-17", `"Resource":"arn:aws:s3:::x/${*}"`, "arn:aws:s3:::x/anything", ctx, false, nil},
		{"escape ${*} matches a star", "2012-10-17", `"Resource":"arn:aws:s3:::x/${*}"`, "arn:aws:s3:::x/*", ctx, true, nil},
		{"escape ${?} and ${$}", "2012-10-17", `"Resource":"arn:aws:s3:::x/${?}${$}"`, "arn:aws:s3:::x/?$", ctx, true, nil},
		{"unresolved variable never matches", "2012-10-17", `"Resource":"arn:aws:s3:::home/${aws:FederatedProvider}/*"`, "arn:aws:s3:::home/x/y", ctx, false, []string{"aws:FederatedProvider"}},
		{"unresolved variable with another pattern", "2012-10-17", `"Resource":["arn:aws:s3:::${aws:nothere}","arn:aws:s3:::open"]`, "arn:aws:s3:::open", ctx, true, []string{"aws:nothere"}},
		{"multivalued key is not a variable", "2012-10-17", `"Resource":"arn:aws:s3:::x/${aws:TagKeys}"`, "arn:aws:s3:::x/a", ctx, false, []string{"aws:TagKeys"}},
		{"default value", "2012-10-17", `"Resource":"arn:aws:s3:::x/${aws:PrincipalTag/dept, 'shared'}/*"`, "arn:aws:s3:::x/shared/f", ctx, true, nil},
		{"default unused when present", "2012-10-17", `"Resource":"arn:aws:s3:::x/${ aws:PrincipalTag/team , 'shared' }/*"`, "arn:aws:s3:::x/blue/f", ctx, true, nil},
		{"unresolved in NotResource: statement does not apply", "2012-10-17", `"NotResource":"arn:aws:s3:::home/${aws:nothere}/*"`, "arn:aws:s3:::elsewhere", ctx, false, []string{"aws:nothere"}},
		{"resolved in NotResource", "2012-10-17", `"NotResource":"arn:aws:s3:::home/${aws:username}/*"`, "arn:aws:s3:::home/bob/x", ctx, true, nil},
		{"2008-10-17: no substitution", "2008-10-17", `"Resource":"arn:aws:s3:::home/${aws:username}/*"`, "arn:aws:s3:::home/alice/doc", ctx, false, nil},
		{"2008-10-17: text is literal", "2008-10-17", `"Resource":"arn:aws:s3:::home/${aws:username}/*"`, "arn:aws:s3:::home/${aws:username}/doc", ctx, true, nil},
		{"unterminated ${ is text", "2012-10-17", `"Resource":"arn:aws:s3:::x/${aws:username"`, "arn:aws:s3:::x/${aws:username", ctx, true, nil},
		{"variable in a condition value", "2012-10-17", `"Resource":"*","Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, "*",
			map[string][]string{"aws:username": {"alice"}, "s3:prefix": {"home/alice/docs"}}, true, nil},
		{"variable in a condition value, other user", "2012-10-17", `"Resource":"*","Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}`, "*",
			map[string][]string{"aws:username": {"alice"}, "s3:prefix": {"home/bob/docs"}}, false, nil},
		{"unresolved variable in a positive condition", "2012-10-17", `"Resource":"*","Condition":{"StringEquals":{"s3:prefix":["${aws:nothere}","pub"]}}`, "*",
			map[string][]string{"s3:prefix": {"pub"}}, true, []string{"aws:nothere"}},
		{"unresolved variable in a negated condition", "2012-10-17", `"Resource":"*","Condition":{"StringNotEquals":{"s3:prefix":"${aws:nothere}"}}`, "*",
			map[string][]string{"s3:prefix": {"pub"}}, false, []string{"aws:nothere"}},
		{"variable in an ARN condition", "2012-10-17", `"Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:user/${aws:username}"}}`, "*",
			map[string][]string{"aws:username": {"alice"}, "aws:SourceArn": {"arn:aws:iam::123456789012:user/alice"}}, true, nil},
		{"no substitution in numeric conditions", "2012-10-17", `"Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"${aws:username}"}}`, "*",
			map[string][]string{"aws:username": {"10"}, "s3:max-keys": {"10"}}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustParse(t, `{"Version":"`+tc.version+`","Statement":{"Effect":"Allow","Action":"s3:*",`+tc.statement+`}}`)
			r := Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: "s3:GetObject", Resource: tc.resource, Context: tc.ctx})
			if got := r.Decision == Allowed; got != tc.want {
				t.Errorf("allowed = %v, want %v (%+v)", got, tc.want, r)
			}
			if !reflect.DeepEqual(r.MissingContextKeys, tc.wantMissing) {
				t.Errorf("MissingContextKeys = %v, want %v", r.MissingContextKeys, tc.wantMissing)
			}
		})
	}
}

func TestEvaluateMissingContextKeys(t *testing.T) {
	doc := pol(`[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{
			"StringEquals":{"aws:PrincipalTag/team":"blue","s3:ExistingObjectTag/x":"y"},
			"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
			"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringNotEquals":{"AWS:PRINCIPALTAG/TEAM":"blue"}}},
		{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"StringEquals":{"ec2:Region":"us-east-1"}}},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*","Condition":{"StringEquals":{"s3:other":"x"}}},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Frobnicate":{"x:unknownop":"1"}}}
	]`)
	in := Input{Identity: []Source{{ID: "p", Doc: mustParse(t, doc)}}}
	r := Evaluate(in, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: map[string][]string{"aws:SecureTransport": {"true"}}})
	// Keys of statements whose action and resource apply, absent from the
	// context, sorted, de-duplicated without regard to case. ec2:Region
	// (other action) and s3:other (other resource) are not relevant.
	want := []string{"aws:PrincipalTag/team", "aws:SourceIp", "s3:ExistingObjectTag/x", "x:unknownop"}
	if !reflect.DeepEqual(r.MissingContextKeys, want) {
		t.Errorf("MissingContextKeys = %v, want %v", r.MissingContextKeys, want)
	}
	// StringNotEquals with the key absent is true: the Deny applies.
	if r.Decision != ExplicitDeny {
		t.Errorf("Decision = %s, want explicitDeny", r.Decision)
	}

	r = Evaluate(in, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: map[string][]string{
		"aws:securetransport": {"true"}, "aws:principaltag/team": {"blue"}, "s3:ExistingObjectTag/x": {"y"}, "aws:SourceIp": {"10.1.2.3"}, "x:unknownop": {"1"},
	}})
	if r.Decision != Allowed || r.MissingContextKeys != nil {
		t.Errorf("with full context: %+v", r)
	}
	// The unknown operator's statement is not among the matches.
	if len(r.Matched) != 1 || r.Matched[0].Index != 0 {
		t.Errorf("Matched = %+v, want only statement 0", r.Matched)
	}
}

// TestEvaluateFoundByOracle pins the fixes the differential test against
// @cloud-copilot/iam-simulate led to (differential_test.go), each as AWS
// documents it.
func TestEvaluateFoundByOracle(t *testing.T) {
	const (
		alice   = "arn:aws:iam::111122223333:user/alice"
		carol   = "arn:aws:iam::111122223333:user/carol"
		role    = "arn:aws:iam::111122223333:role/Dev"
		key     = "arn:aws:kms:eu-west-1:111122223333:key/1234"
		object  = "arn:aws:s3:::data/k"
		session = "arn:aws:sts::111122223333:assumed-role/Ops/alice"
	)
	allowAll := pol(`{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}`)
	trust := func(principal string) string {
		return pol(`{"Sid":"T","Effect":"Allow","Principal":` + principal + `,"Action":["sts:AssumeRole","kms:Decrypt"]}`)
	}
	notPrincipalDeny := pol(`{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":["` + alice + `","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"*"}`)
	boundaryAll := pol(`{"Sid":"B","Effect":"Allow","Action":"*","Resource":"*"}`)

	tests := []struct {
		name                         string
		identity, boundary, resource []string
		principal, action, res       string
		want                         Decision
		reason                       string
	}{
		// A role's trust policy and a KMS key policy must allow even callers
		// of the same account once supplied.
		{name: "trust policy naming someone else", identity: []string{allowAll}, resource: []string{trust(`{"Service":"lambda.amazonaws.com"}`)},
			principal: alice, action: "sts:AssumeRole", res: role, want: ImplicitDeny, reason: "role's trust policy allows neither the principal nor its account"},
		{name: "trust policy naming the account", identity: []string{allowAll}, resource: []string{trust(`{"AWS":"arn:aws:iam::111122223333:root"}`)},
			principal: alice, action: "sts:AssumeRole", res: role, want: Allowed},
		{name: "trust policy naming the account, no identity allow", resource: []string{trust(`{"AWS":"111122223333"}`)},
			principal: alice, action: "sts:AssumeRole", res: role, want: ImplicitDeny},
		{name: "trust policy naming the user", resource: []string{trust(`{"AWS":"` + alice + `"}`)},
			principal: alice, action: "sts:AssumeRole", res: role, want: Allowed},
		{name: "no trust policy supplied: identity decides", identity: []string{allowAll},
			principal: alice, action: "sts:AssumeRole", res: role, want: Allowed},
		{name: "key policy naming someone else", identity: []string{allowAll}, resource: []string{trust(`{"AWS":"` + carol + `"}`)},
			principal: alice, action: "kms:Decrypt", res: key, want: ImplicitDeny, reason: "key policy allows neither"},
		{name: "key policy naming the account", identity: []string{allowAll}, resource: []string{trust(`{"AWS":"111122223333"}`)},
			principal: alice, action: "kms:Decrypt", res: key, want: Allowed},
		{name: "other resources: identity allow suffices", identity: []string{allowAll}, resource: []string{trust(`{"AWS":"` + carol + `"}`)},
			principal: alice, action: "s3:GetObject", res: object, want: Allowed},

		// A Deny with NotPrincipal denies every principal with a boundary.
		{name: "NotPrincipal excludes the named user without a boundary", identity: []string{allowAll}, resource: []string{notPrincipalDeny},
			principal: alice, action: "s3:GetObject", res: object, want: Allowed},
		{name: "NotPrincipal Deny applies to a user with a boundary", identity: []string{allowAll}, boundary: []string{boundaryAll}, resource: []string{notPrincipalDeny},
			principal: alice, action: "s3:GetObject", res: object, want: ExplicitDeny, reason: "statement 'NP'"},
		{name: "NotPrincipal Deny applies to a session with a boundary", identity: []string{allowAll}, boundary: []string{boundaryAll},
			resource:  []string{pol(`{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":["` + session + `"]},"Action":"s3:*","Resource":"*"}`)},
			principal: session, action: "s3:GetObject", res: object, want: ExplicitDeny},
		{name: "NotPrincipal Allow is not affected by a boundary", boundary: []string{boundaryAll},
			resource:  []string{pol(`{"Sid":"NPA","Effect":"Allow","NotPrincipal":{"AWS":"` + alice + `"},"Action":"s3:*","Resource":"*"}`)},
			principal: alice, action: "s3:GetObject", res: object, want: ImplicitDeny},
	}
	mk := func(t *testing.T, docs []string) []Source {
		var out []Source
		for i, d := range docs {
			out = append(out, Source{ID: "p" + string(rune('0'+i)), Type: "user-managed", Doc: mustParse(t, d)})
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Identity: mk(t, tc.identity), Boundaries: mk(t, tc.boundary), Resource: mk(t, tc.resource)}
			r := Evaluate(in, Request{Action: tc.action, Resource: tc.res, Principal: tc.principal})
			if r.Decision != tc.want {
				t.Errorf("Decision = %s (%s), want %s", r.Decision, r.Reason, tc.want)
			}
			if tc.reason != "" && !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", r.Reason, tc.reason)
			}
		})
	}
}

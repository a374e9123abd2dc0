package policy

import (
	"strings"
	"testing"
)

func TestEvaluateLayers(t *testing.T) {
	const (
		alice    = "arn:aws:iam::111122223333:user/alice"
		bob      = "arn:aws:iam::444455556666:user/bob"
		roleArn  = "arn:aws:iam::111122223333:role/Dev"
		session  = "arn:aws:sts::111122223333:assumed-role/Dev/alice"
		bucket   = "arn:aws:s3:::data/k"
		kmsKey   = "arn:aws:kms:eu-west-1:111122223333:key/1"
		otherKey = "arn:aws:kms:eu-west-1:444455556666:key/2"
	)
	allowS3 := pol(`[{"Sid":"S3","Effect":"Allow","Action":"s3:*","Resource":"*"}]`)
	allowKMS := pol(`[{"Sid":"KMS","Effect":"Allow","Action":"kms:*","Resource":"*"}]`)
	scpAll := pol(`[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]`)
	scpNoS3Delete := pol(`[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]`)
	scpOnlyEC2 := pol(`[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]`)
	res := func(principal string) string {
		return pol(`[{"Sid":"R","Effect":"Allow","Principal":` + principal + `,"Action":["s3:GetObject","kms:Decrypt"],"Resource":"*"}]`)
	}
	resDeny := pol(`[{"Sid":"R","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Sid":"NoAlice","Effect":"Deny","Principal":{"AWS":"` + alice + `"},"Action":"s3:*","Resource":"*"}]`)
	resNotPrincipal := pol(`[{"Sid":"NP","Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"s3:*","Resource":"*"}]`)
	sessionS3Read := pol(`[{"Sid":"SessRead","Effect":"Allow","Action":"s3:Get*","Resource":"*"}]`)
	boundaryEC2 := pol(`[{"Sid":"B","Effect":"Allow","Action":"ec2:*","Resource":"*"}]`)

	tests := []struct {
		name                           string
		identity, boundary, sess, scps []string
		resource                       []string
		principal, action, resourceARN string
		want                           Decision
		reason                         string // substring of Reason
	}{
		// SCPs.
		{name: "scp allows", identity: []string{allowS3}, scps: []string{scpAll}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed, reason: "allowed by the service control policies"},
		{name: "scp denies explicitly", identity: []string{allowS3}, scps: []string{scpNoS3Delete}, principal: alice, action: "s3:DeleteObject", resourceARN: bucket, want: ExplicitDeny, reason: "explicitly denied by statement 'NoDelete' (index 1) of service control policy p0"},
		{name: "scp does not allow", identity: []string{allowS3}, scps: []string{scpOnlyEC2}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny, reason: "no service control policy allows s3:GetObject on " + bucket},
		{name: "scp limits a resource policy", scps: []string{scpOnlyEC2}, resource: []string{res(`{"AWS":"` + alice + `"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny},
		// Same-account resource policies.
		{name: "same account: resource policy naming the user allows alone", resource: []string{res(`{"AWS":"` + alice + `"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed, reason: "allowed by statement 'R' (index 0) of resource-based policy p0, which names the principal directly"},
		{name: "same account: user named directly is not limited by the boundary", boundary: []string{boundaryEC2}, resource: []string{res(`{"AWS":["` + alice + `"]}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "same account: role ARN in resource policy is limited by the boundary", boundary: []string{boundaryEC2}, resource: []string{res(`{"AWS":"` + roleArn + `"}`)}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny, reason: "but the permissions boundary does not allow"},
		{name: "same account: role ARN in resource policy allows a session", resource: []string{res(`{"AWS":"` + roleArn + `"}`)}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "same account: session ARN named directly ignores session policy", sess: []string{pol(`[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]`)}, resource: []string{res(`{"AWS":"` + session + `"}`)}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "same account: account root delegates to IAM", resource: []string{res(`{"AWS":"arn:aws:iam::111122223333:root"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny, reason: "grants it only to the principal's account"},
		{name: "same account: account root plus identity allow", identity: []string{allowS3}, resource: []string{res(`{"AWS":"111122223333"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "explicit deny in a resource policy", identity: []string{allowS3}, resource: []string{resDeny}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ExplicitDeny, reason: "explicitly denied by statement 'NoAlice' (index 1) of resource-based policy p0"},
		{name: "resource deny for someone else does not apply", identity: []string{allowS3}, resource: []string{resDeny}, principal: "arn:aws:iam::111122223333:user/carol", action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "NotPrincipal excludes the named user", identity: []string{allowS3}, resource: []string{resNotPrincipal}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "NotPrincipal denies everyone else", identity: []string{allowS3}, resource: []string{resNotPrincipal}, principal: "arn:aws:iam::111122223333:user/carol", action: "s3:GetObject", resourceARN: bucket, want: ExplicitDeny},
		// Principal forms.
		{name: "principal *", resource: []string{res(`"*"`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "principal AWS *", resource: []string{res(`{"AWS":"*"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "principal other user", resource: []string{res(`{"AWS":"arn:aws:iam::111122223333:user/bob"}`)}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny, reason: "no identity-based or resource-based policy allows s3:GetObject on " + bucket},
		{name: "principal service", resource: []string{res(`{"Service":"cloudtrail.amazonaws.com"}`)}, principal: "cloudtrail.amazonaws.com", action: "s3:GetObject", resourceARN: bucket, want: Allowed},
		{name: "principal service mismatch", resource: []string{res(`{"Service":"cloudtrail.amazonaws.com"}`)}, principal: "config.amazonaws.com", action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny},
		{name: "statement without principal ignored in resource policy", resource: []string{allowS3}, principal: alice, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny},
		// Cross-account.
		{name: "cross account: resource policy alone is not enough", resource: []string{res(`{"AWS":"` + bob + `"}`)}, principal: bob, action: "kms:Decrypt", resourceARN: kmsKey, want: ImplicitDeny, reason: "cross-account request (principal account 444455556666, resource account 111122223333)"},
		{name: "cross account: identity alone is not enough", identity: []string{allowKMS}, principal: bob, action: "kms:Decrypt", resourceARN: kmsKey, want: ImplicitDeny, reason: "needs a resource-based policy"},
		{name: "cross account: both allow", identity: []string{allowKMS}, resource: []string{res(`{"AWS":"444455556666"}`)}, principal: bob, action: "kms:Decrypt", resourceARN: kmsKey, want: Allowed, reason: "allowed across accounts by statement 'KMS' (index 0) of policy p0 and statement 'R' (index 0) of resource-based policy p0"},
		{name: "cross account: root of another account does not match", identity: []string{allowKMS}, resource: []string{res(`{"AWS":"arn:aws:iam::999999999999:root"}`)}, principal: bob, action: "kms:Decrypt", resourceARN: kmsKey, want: ImplicitDeny},
		{name: "same account key of other account", identity: []string{allowKMS}, principal: alice, action: "kms:Decrypt", resourceARN: otherKey, want: ImplicitDeny},
		// Session policies.
		{name: "session policy intersects", identity: []string{allowS3}, sess: []string{sessionS3Read}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: Allowed, reason: "within the session policy"},
		{name: "session policy limits", identity: []string{allowS3}, sess: []string{sessionS3Read}, principal: session, action: "s3:PutObject", resourceARN: bucket, want: ImplicitDeny, reason: "but the session policy does not allow s3:PutObject"},
		{name: "session policy alone grants nothing", sess: []string{sessionS3Read}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: ImplicitDeny},
		{name: "session policy deny", identity: []string{allowS3}, sess: []string{pol(`[{"Sid":"SD","Effect":"Deny","Action":"s3:*","Resource":"*"}]`)}, principal: session, action: "s3:GetObject", resourceARN: bucket, want: ExplicitDeny, reason: "of session policy p0"},
	}
	mk := func(t *testing.T, typ string, docs []string) []Source {
		var out []Source
		for i, d := range docs {
			out = append(out, Source{ID: "p" + string(rune('0'+i)), Type: typ, Doc: mustParse(t, d)})
		}
		return out
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{
				Identity:   mk(t, "user-managed", tc.identity),
				Boundaries: mk(t, "user-managed", tc.boundary),
				Session:    mk(t, "session", tc.sess),
				SCPs:       mk(t, "scp", tc.scps),
				Resource:   mk(t, "resource", tc.resource),
			}
			r := Evaluate(in, Request{Action: tc.action, Resource: tc.resourceARN, Principal: tc.principal})
			if r.Decision != tc.want {
				t.Errorf("Decision = %s, want %s (reason %q)", r.Decision, tc.want, r.Reason)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", r.Reason, tc.reason)
			}
			if r.Reason == "" {
				t.Error("empty Reason")
			}
		})
	}
}

// TestEvaluateReasons pins the wording of the reasons for identity policies
// and boundaries, the forms an engineer reads most.
func TestEvaluateReasons(t *testing.T) {
	inline := Source{ID: "read", Type: "user", Doc: mustParse(t, pol(`[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]`))}
	boundary := Source{ID: "DeveloperBoundary", Type: "user-managed", Doc: mustParse(t, pol(`[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"NoIAM","Effect":"Deny","Action":"iam:*","Resource":"*"}]`))}
	admin := Source{ID: "admin", Type: "user", Doc: mustParse(t, pol(`[{"Effect":"Allow","Action":"*","Resource":"*"}]`))}
	tests := []struct {
		in     Input
		action string
		want   string
	}{
		{Input{Identity: []Source{admin}, Boundaries: []Source{boundary}}, "iam:CreateUser",
			"explicitly denied by statement 'NoIAM' (index 1) of policy DeveloperBoundary"},
		{Input{Identity: []Source{inline}, Boundaries: []Source{boundary}}, "s3:GetObject",
			"allowed by statement 0 of inline policy read; within the permissions boundary"},
		{Input{Identity: []Source{inline}, Boundaries: []Source{boundary}}, "s3:PutObject",
			"implicitly denied: no identity-based or resource-based policy allows s3:PutObject on arn:aws:s3:::b/k"},
		{Input{Identity: []Source{admin}, Boundaries: []Source{boundary}}, "ec2:RunInstances",
			"implicitly denied: statement 0 of inline policy admin allows it, but the permissions boundary does not allow ec2:RunInstances on arn:aws:s3:::b/k"},
		{Input{Identity: []Source{inline}}, "s3:GetObject", "allowed by statement 0 of inline policy read"},
	}
	for _, tc := range tests {
		r := Evaluate(tc.in, Request{Action: tc.action, Resource: "arn:aws:s3:::b/k"})
		if r.Reason != tc.want {
			t.Errorf("%s: Reason =\n %q\nwant\n %q", tc.action, r.Reason, tc.want)
		}
	}
}

func TestEvaluateMatchedAcrossLayers(t *testing.T) {
	in := Input{
		SCPs:     []Source{{ID: "FullAWSAccess", Type: "scp", Doc: mustParse(t, pol(`[{"Effect":"Allow","Action":"*","Resource":"*"}]`))}},
		Identity: []Source{{ID: "id", Type: "user", Doc: mustParse(t, pol(`[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"}]`))}},
		Resource: []Source{{ID: "bucket", Type: "resource", Doc: mustParse(t, pol(`[{"Sid":"R","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]`))}},
	}
	r := Evaluate(in, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: "arn:aws:iam::111122223333:user/a"})
	got := []string{}
	for _, m := range r.Matched {
		got = append(got, m.SourceType+":"+m.SourceID+"#"+m.Sid+":"+m.Effect)
	}
	want := "scp:FullAWSAccess#:Allow user:id#A:Allow resource:bucket#R:Allow"
	if strings.Join(got, " ") != want {
		t.Errorf("Matched = %v, want %s", got, want)
	}
	if r.Decision != Allowed {
		t.Errorf("Decision = %s", r.Decision)
	}
}

func TestArnAccount(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:iam::111122223333:user/a": "111122223333",
		"arn:aws:s3:::bucket/key":          "",
		"*":                                "",
		"arn:aws:kms:eu-west-1:1:key/x":    "1",
		"arn:aws":                          "",
	} {
		if got := arnAccount(in); got != want {
			t.Errorf("arnAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGlobFastPathAgrees(t *testing.T) {
	cases := []struct{ p, s string }{
		{"s3:Get*", "s3:getobject"}, {"S3:*Object", "s3:putobject"}, {"s3:?et*", "s3:getobject"},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k"}, {"arn:aws:s3:::b/*", "*"}, {"*", ""}, {"a*b*c", "aXbYc"},
		{"a*b*c", "aXbYd"}, {"a?c", "abbc"}, {"**", "x"}, {"é*", "éa"}, {"?", "é"},
	}
	for _, c := range cases {
		if got, want := stringGlob(c.p, c.s), globMatch(literalPattern(c.p), c.s); got != want {
			t.Errorf("stringGlob(%q, %q) = %v, want %v", c.p, c.s, got, want)
		}
		if got, want := newEvaluator(Request{Action: c.s}).actionGlob(c.p), wildcardMatch(c.p, c.s, true); got != want {
			t.Errorf("actionGlob(%q, %q) = %v, want %v", c.p, c.s, got, want)
		}
		e := newEvaluator(Request{Resource: c.s})
		if got, want := e.resourceMatches(&Statement{Resource: []string{c.p}}, true); got != globMatch(literalPattern(c.p), c.s) || want != nil {
			t.Errorf("resourceMatches(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

package policy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// pinProbe makes the rule's random names fixed for one test.
func pinProbe(t *testing.T, p rProbe) {
	t.Helper()
	old := rNewProbe
	rNewProbe = func(*rSeed) rProbe { return p }
	t.Cleanup(func() { rNewProbe = old })
}

var pinned = rProbe{self: "pinnedself", target: "pinnedtarget", path: "pinnedpath", att: "pinnedatt", session: "pinnedsession", repo: "pinnedrepo"}

// TestRisksHideTheirNames: no finding shows the names the rule asked
// about, so that no answer teaches a caller which Deny would hide a grant.
func TestRisksHideTheirNames(t *testing.T) {
	pinProbe(t, pinned)
	for _, c := range generateCorpus() {
		for _, f := range ValidateWithOptions(string(c.Doc), PolicyType(c.Type), ValidateOptions{Account: gAcct}) {
			if strings.Contains(f.Message+f.Value, "pinned") {
				t.Errorf("%s: %s shows a probe name: %s", c.Name, f.Code, f.Message)
			}
		}
	}
}

// TestRisksWhyTheNamesAreRandom: with names known in advance, a Deny naming
// exactly them would hide PassRole on every other role; drawn from the
// process's key, the same Deny hides nothing.
func TestRisksWhyTheNamesAreRandom(t *testing.T) {
	doc := vIdentity(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/*"}`,
		`{"Effect":"Deny","Action":"iam:PassRole","Resource":["arn:aws:iam::*:role/pinnedtarget","arn:aws:iam::*:role/pinnedpath/pinnedtarget"]}`)
	codes := func() []string {
		var out []string
		for _, f := range ValidateWithOptions(doc, IdentityPolicy, ValidateOptions{Account: gAcct}) {
			if f.Severity == SeveritySecurityWarning {
				out = append(out, f.Code)
			}
		}
		return out
	}
	if got := codes(); !reflect.DeepEqual(got, []string{CodePassRoleWithStar}) {
		t.Errorf("fresh names: %v", got)
	}
	pinProbe(t, pinned)
	if got := codes(); len(got) != 0 {
		t.Errorf("pinned names: the Deny should have hidden the grant, got %v", got)
	}
}

// TestRisksDeterministic: the drawn names never change an answer: every
// corpus document gets the same findings, places included, on every run.
func TestRisksDeterministic(t *testing.T) {
	for _, c := range generateCorpus() {
		a, _ := json.Marshal(ValidateWithOptions(string(c.Doc), PolicyType(c.Type), ValidateOptions{Account: gAcct}))
		b, _ := json.Marshal(ValidateWithOptions(string(c.Doc), PolicyType(c.Type), ValidateOptions{Account: gAcct}))
		if string(a) != string(b) {
			t.Errorf("%s: two runs differ:\n%s\n%s", c.Name, a, b)
		}
	}
}

// TestRisksWithinBoundary: a boundary holds back what it does not allow,
// and a boundary's conditions are read as the rule reads any.
func TestRisksWithinBoundary(t *testing.T) {
	power := aMustParse(t, powerUserAccess)
	codes := func(bnd string) map[string][]string {
		in := Input{Identity: []Source{{ID: "PowerUserAccess", Doc: power}}}
		if bnd != "" {
			in.Boundaries = []Source{{ID: "boundary", Doc: aMustParse(t, bnd)}}
		}
		out := map[string][]string{}
		for _, r := range Risks(in, RiskOptions{Account: gAcct}) {
			out[r.Code] = append(out[r.Code], r.Actions...)
		}
		return out
	}
	if got := codes(""); !reflect.DeepEqual(got, map[string][]string{CodePrivilegeEscalationOnStar: {"sts:AssumeRole"}}) {
		t.Errorf("no boundary: %v", got)
	}
	for name, b := range map[string]string{
		"services only":       vIdentity(`{"Effect":"Allow","Action":["s3:*","lambda:*"],"Resource":"*"}`),
		"only with MFA":       vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`),
		"denies sts":          vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"sts:*","Resource":"*"}`),
		"one role to assume":  vIdentity(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/deploy"}`),
		"empty of statements": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`,
	} {
		if got := codes(b); len(got) != 0 {
			t.Errorf("boundary %s: %v", name, got)
		}
	}
	for name, b := range map[string]string{
		"everything":                   vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`),
		"everything, always-true cond": vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}}`),
		"a Deny that never applies":    vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"sts:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`),
	} {
		if got := codes(b); len(got[CodePrivilegeEscalationOnStar]) == 0 {
			t.Errorf("boundary %s holds back nothing, got %v", name, got)
		}
	}
}

// TestRiskConditionKeys: how single conditions are read, for an Allow (can
// the attacker meet it?) and a Deny (does it always hold?).
func TestRiskConditionKeys(t *testing.T) {
	cases := []struct {
		name, cond    string
		allow, denies bool
	}{
		{"current time after 2000", `{"DateGreaterThan":{"aws:CurrentTime":"2000-01-01T00:00:00Z"}}`, true, true},
		{"current time before 2001", `{"DateLessThan":{"aws:CurrentTime":"2001-01-01T00:00:00Z"}}`, false, false},
		{"MFA true", `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, false, false},
		{"MFA true if it exists (long-term keys pass)", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`, true, false},
		{"deny without MFA, IfExists", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, true, true},
		{"organisation", `{"StringEquals":{"aws:PrincipalOrgID":"o-abc1234567"}}`, false, false},
		{"outside the organisation", `{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc1234567"}}`, true, true},
		{"office range", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, false, false},
		{"all IPv4", `{"IpAddress":{"aws:SourceIp":["0.0.0.0/1","128.0.0.0/1"]}}`, true, false},
		{"secure transport", `{"Bool":{"aws:SecureTransport":"true"}}`, true, false},
		{"a region", `{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`, true, false},
		{"an external id", `{"StringEquals":{"sts:ExternalId":"x-7f3a9c"}}`, false, false},
		{"any external id", `{"StringLike":{"sts:ExternalId":"*"}}`, true, false},
		{"resource tag", `{"StringEquals":{"aws:ResourceTag/team":"data"}}`, false, false},
		{"a service", `{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}`, false, false},
		{"unknown operator", `{"StringEqualz":{"aws:username":"a"}}`, false, false},
		{"a key no request carries, IfExists", `{"StringEqualsIfExists":{"aws:NoSuchKey":"x"}}`, true, true},
		{"the caller's User-Agent as a variable", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:UserAgent}"}}`, true, false},
	}
	c := newRCtx(gAcct, nil, false, rSeedOf("conditions"))
	h := c.identityHolders()[0]
	for _, tc := range cases {
		cond := aMustParse(t, vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tc.cond+`}`)).Statements[0].Condition
		if got, _ := c.rCondition(cond, h, true, false); got != tc.allow {
			t.Errorf("%s: an Allow can be met = %v, want %v", tc.name, got, tc.allow)
		}
		if got, _ := c.rCondition(cond, h, true, true); got != tc.denies {
			t.Errorf("%s: a Deny always holds = %v, want %v", tc.name, got, tc.denies)
		}
	}
}

// TestTrustRisksKinds: the finding kinds of federated trust.
func TestTrustRisksKinds(t *testing.T) {
	const gh = "token.actions.githubusercontent.com"
	p := `"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/` + gh + `"},"Action":"sts:AssumeRoleWithWebIdentity"`
	cases := []struct{ cond, kind string }{
		{`{"StringEquals":{"` + gh + `:aud":"sts.amazonaws.com"}}`, aKindFederatedOpen},
		{`{"StringLike":{"` + gh + `:sub":"repo:octo-org/*"}}`, aKindFederatedOwner},
		{`{"StringLike":{"` + gh + `:sub":"repo:octo-org/app:*"}}`, ""},
	}
	for _, tc := range cases {
		got := TrustRisks(aMustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+p+`,"Condition":`+tc.cond+`}]}`), gAcct)
		kind := ""
		if len(got) > 0 {
			kind = got[0].Kind
		}
		if kind != tc.kind || len(got) > 1 {
			t.Errorf("%s: %+v, want kind %q", tc.cond, got, tc.kind)
		}
	}
	// The account's own identity providers are not findings.
	if got := TrustRisks(aMustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`), gAcct); len(got) != 0 {
		t.Errorf("own cluster: %+v", got)
	}
}

package review

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/policy"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// Issue 12: trust judged with a concrete outsider, unused keys retired
// rather than rotated, and structural plans that neither contradict the
// other findings nor copy a grant the server refuses. Plans are checked
// the way a person would run them: through the real gate with dry_run,
// and with the policy engine asked again about the result.

// ---- trust ----

const partnerRoot = "arn:aws:iam::210987654321:root"

const githubProvider = "arn:aws:iam::" + sandbox.AccountID + ":oidc-provider/token.actions.githubusercontent.com"

func allowAssume(principal, cond string) string {
	st := `{"Effect":"Allow","Principal":{` + principal + `},"Action":"sts:AssumeRole"`
	if cond != "" {
		st += `,"Condition":` + cond
	}
	return st + `}`
}

func allowWeb(federated, cond string) string {
	st := `{"Effect":"Allow","Principal":{"Federated":"` + federated + `"},"Action":"sts:AssumeRoleWithWebIdentity"`
	if cond != "" {
		st += `,"Condition":` + cond
	}
	return st + `}`
}

// denyAssume denies sts:AssumeRole to every caller the condition matches.
func denyAssume(cond string) string {
	return `{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":` + cond + `}`
}

var (
	anyone  = `"AWS":"*"`
	partner = `"AWS":"` + partnerRoot + `"`
	// denyOutsiders stops every caller outside the role's own account.
	denyOutsiders = denyAssume(`{"StringNotEquals":{"aws:PrincipalAccount":"` + sandbox.AccountID + `"}}`)
)

// trustSeverity is what each trust rule must rate, written out here so
// that a change of the rule table is a change of this test too.
var trustSeverity = map[string]Severity{
	RuleTrustAnyone: Critical, RuleTrustAnyoneCond: Low, RuleTrustCrossAccount: High, RuleTrustCrossAccountCnd: Low,
	RuleTrustOIDCNoSub: Critical, RuleTrustOIDCBroad: Medium, RuleTrustServiceNoSource: Low,
}

type trustCase struct {
	role  string
	stmts string // the trust policy's statements
	want  string // the one trust rule it must give, "" for none
}

// trustCases are the examples and their near misses, each a role.
func trustCases() []trustCase {
	return []trustCase{
		// Anyone: Open decides, whatever conditions are written.
		{"any-none", allowAssume(anyone, ""), RuleTrustAnyone},
		{"any-tls", allowAssume(anyone, `{"Bool":{"aws:SecureTransport":"true"}}`), RuleTrustAnyone},
		{"any-account-star", allowAssume(anyone, `{"StringLike":{"aws:PrincipalAccount":"*"}}`), RuleTrustAnyone},
		{"any-arn-role-x", allowAssume(anyone, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}`), RuleTrustAnyone},
		{"any-mfa", allowAssume(anyone, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), RuleTrustAnyone},
		{"any-org", allowAssume(anyone, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), RuleTrustAnyoneCond},
		{"any-org-star", allowAssume(anyone, `{"StringLike":{"aws:PrincipalOrgID":"*"}}`), RuleTrustAnyone},
		{"any-external-id", allowAssume(anyone, `{"StringEquals":{"sts:ExternalId":"x-7f3a9c"}}`), RuleTrustAnyoneCond},
		{"any-deny-outsiders", allowAssume(anyone, "") + "," + denyOutsiders, RuleTrustAnyoneCond},
		{"any-tls-deny-outsiders", allowAssume(anyone, `{"Bool":{"aws:SecureTransport":"true"}}`) + "," + denyOutsiders, RuleTrustAnyoneCond},
		// Another account: Open is the confused deputy; refused but not
		// pinned is weak; pinned is right.
		{"x-none", allowAssume(partner, ""), RuleTrustCrossAccount},
		{"x-tls", allowAssume(partner, `{"Bool":{"aws:SecureTransport":"true"}}`), RuleTrustCrossAccount},
		{"x-account-star", allowAssume(partner, `{"StringLike":{"aws:PrincipalAccount":"*"}}`), RuleTrustCrossAccount},
		{"x-external-id-star", allowAssume(partner, `{"StringLike":{"sts:ExternalId":"*"}}`), RuleTrustCrossAccount},
		{"x-external-id-ifexists", allowAssume(partner, `{"StringEqualsIfExists":{"sts:ExternalId":"x-7f3a9c"}}`), RuleTrustCrossAccount},
		{"x-external-id", allowAssume(partner, `{"StringEquals":{"sts:ExternalId":"x-7f3a9c"}}`), ""},
		{"x-org", allowAssume(partner, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), ""},
		// The named account's role x only: pinned by the Principal.
		{"x-arn-role-x", allowAssume(partner, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}`), ""},
		{"x-mfa", allowAssume(partner, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), RuleTrustCrossAccountCnd},
		{"x-source-ip", allowAssume(partner, `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), RuleTrustCrossAccountCnd},
		{"x-deny-outsiders", allowAssume(partner, "") + "," + denyOutsiders, ""},
		{"x-deny-other-orgs", allowAssume(partner, "") + "," + denyAssume(`{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), ""},
		{"x-deny-without-mfa", allowAssume(partner, "") + "," + denyAssume(`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`), RuleTrustCrossAccountCnd},
		// Keys are case-insensitive in IAM, and so here.
		{"x-external-id-case", allowAssume(partner, `{"StringEquals":{"STS:EXTERNALID":"x-7f3a9c"}}`), ""},
		{"any-tls-case", allowAssume(anyone, `{"Bool":{"AWS:SECURETRANSPORT":"true"}}`), RuleTrustAnyone},
		// The open statement second: the plan edits that one.
		{"two-statements", allowAssume(partner, `{"StringEquals":{"sts:ExternalId":"x-7f3a9c"}}`) + "," + allowAssume(anyone, `{"StringLike":{"aws:PrincipalAccount":"*"}}`), RuleTrustAnyone},
		{"not-principal", `{"Effect":"Allow","NotPrincipal":{"AWS":"` + partnerRoot + `"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`, RuleTrustAnyone},
		{"principal-star-string", `{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`, RuleTrustAnyone},
		// A literal in angle brackets is the account's value, not a
		// placeholder of the plan.
		{"x-angle-literal", allowAssume(partner, `{"StringLike":{"aws:PrincipalTag/team":"<any>"}}`), RuleTrustCrossAccount},
		// Identity providers: the engine's attacker mints its own tokens.
		{"gh-aud-only", allowWeb(githubProvider, `{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`), RuleTrustOIDCNoSub},
		{"gh-any-owner", allowWeb(githubProvider, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*/app:*"}}`), RuleTrustOIDCNoSub},
		{"gh-org-wide", allowWeb(githubProvider, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}`), RuleTrustOIDCBroad},
		{"gh-pinned", allowWeb(githubProvider, `{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app:ref:refs/heads/main"},"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}`), ""},
		{"gitlab-open", allowWeb("arn:aws:iam::"+sandbox.AccountID+":oidc-provider/gitlab.com", ""), RuleTrustOIDCNoSub},
		{"cognito-guests", allowWeb("cognito-identity.amazonaws.com", `{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"}}`), RuleTrustOIDCNoSub},
		{"cognito-authenticated", allowWeb("cognito-identity.amazonaws.com", `{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}`), ""},
		{"google-any-app", allowWeb("accounts.google.com", ""), RuleTrustOIDCNoSub},
		// An app's users are its audience: a Google trust pinned to the
		// app's client id is how web identity federation is meant to work.
		{"google-app", allowWeb("accounts.google.com", `{"StringEquals":{"accounts.google.com:aud":"1234567890-abc.apps.googleusercontent.com"}}`), ""},
		// The account's own cluster: not anyone, but every service account.
		{"eks-any-subject", allowWeb("arn:aws:iam::"+sandbox.AccountID+":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF", ""), RuleTrustOIDCBroad},
		{"eks-pinned", allowWeb("arn:aws:iam::"+sandbox.AccountID+":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF",
			`{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF:sub":"system:serviceaccount:payments:api","oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF:aud":"sts.amazonaws.com"}}`), ""},
		// A service steered by another account's resource.
		{"config-open", `{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}`, RuleTrustServiceNoSource},
		{"config-any-source", `{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:SourceAccount":"*"}}}`, RuleTrustServiceNoSource},
	}
}

// trustFindings are the trust findings of a report, by role name.
func trustFindings(rep *Report) map[string][]Finding {
	out := map[string][]Finding{}
	for _, f := range rep.Findings {
		if rulesByID[f.RuleID].Category == "trust" {
			out[f.PrincipalName] = append(out[f.PrincipalName], f)
		}
	}
	return out
}

// gateHost is a host whose calls go through the real gate on the sandbox,
// granted ops, on a server that may write, with a person who accepts.
func gateHost(t *testing.T, s *testAccount, ops ...string) *hostiamtest.Client {
	t.Helper()
	return hostiamtest.New(t, hostiamtest.Options{Sandbox: s.sb, Plugin: "access-review", Grants: ops, Person: hostiamtest.Accepting()})
}

// dryRun runs one step with dry_run through the gate.
func dryRun(h *hostiamtest.Client, op string, args map[string]any) error {
	a := map[string]any{"dry_run": true}
	for k, v := range args {
		a[k] = v
	}
	var out api.DryRunOutput
	if err := h.Call(op, a, &out); err != nil {
		return err
	}
	if !out.DryRun {
		return errors.New("the gate did not answer with a dry run")
	}
	return nil
}

// fillTrust replaces the values in angle brackets of a proposed trust
// policy with what a person would write: a role of the account, an
// external id, a repository… A placeholder it does not know fails the test,
// so that no plan reaches the dry run half filled. Values of the original
// policy (orig) are the account's own, angle brackets or not.
func fillTrust(t *testing.T, doc any, principalARN, orig string) map[string]any {
	t.Helper()
	kept := func(v string) bool { return strings.Contains(orig, `"`+v+`"`) }
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil || d == nil {
		t.Fatalf("plan document %s: %v", b, err)
	}
	value := func(key, v string) string {
		if !strings.Contains(v, "<") || kept(v) {
			return v
		}
		k := strings.ToLower(key)
		switch {
		case k == "sts:externalid":
			return "partner-7f3a9c"
		case k == "token.actions.githubusercontent.com:sub":
			return "repo:acme/app:ref:refs/heads/main"
		case k == "gitlab.com:sub":
			return "project_path:acme/app:ref_type:branch:ref:main"
		case k == "cognito-identity.amazonaws.com:aud":
			return "us-east-1:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
		case k == "accounts.google.com:aud":
			return "1234567890-abc.apps.googleusercontent.com"
		case strings.Contains(k, "oidc.eks.") && strings.HasSuffix(k, ":sub"):
			return "system:serviceaccount:payments:api"
		}
		t.Fatalf("unhandled placeholder %s = %q", key, v)
		return v
	}
	var stmts []any
	switch s := d["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	for _, x := range stmts {
		st, _ := x.(map[string]any)
		if p, ok := st["Principal"].(map[string]any); ok {
			if v, ok := p["AWS"].(string); ok && strings.Contains(v, "<") {
				p["AWS"] = principalARN
			}
		}
		cond, _ := st["Condition"].(map[string]any)
		for _, keys := range cond {
			m, _ := keys.(map[string]any)
			for k, v := range m {
				switch x := v.(type) {
				case string:
					m[k] = value(k, x)
				case []any:
					for i, e := range x {
						if s, ok := e.(string); ok {
							x[i] = value(k, s)
						}
					}
				}
			}
		}
	}
	if out, _ := json.Marshal(d); strings.Contains(strings.ReplaceAll(string(out), `\u003c`, "<"), "<") && !strings.Contains(orig, "<") {
		t.Fatalf("placeholders left after filling: %s", out)
	}
	return d
}

// checkTrustFix runs a trust finding's plan as a person would: filled in,
// through the real gate with dry_run, which must accept it; then asks the
// policy engine, independently of the review, whether an outsider still
// gets in.
func checkTrustFix(t *testing.T, h *hostiamtest.Client, f Finding, principalARN, orig string) {
	t.Helper()
	if c := f.Remediation.Check; c == nil || c.Result == CheckRefused {
		t.Errorf("%s on %s: plan check %+v", f.RuleID, f.PrincipalName, c)
	}
	if len(f.Remediation.Steps) == 0 || f.Remediation.Steps[0].Op != "update_assume_role_policy" {
		t.Errorf("%s on %s: plan %+v", f.RuleID, f.PrincipalName, f.Remediation)
		return
	}
	st := f.Remediation.Steps[0]
	doc := fillTrust(t, st.Args["policy_document"], principalARN, orig)
	if err := dryRun(h, st.Op, map[string]any{"role_name": st.Args["role_name"], "policy_document": doc}); err != nil {
		t.Errorf("%s on %s: the gate refuses the plan's trust policy in a dry run: %v", f.RuleID, f.PrincipalName, err)
	}
	b, _ := json.Marshal(doc)
	d, err := policy.Parse(string(b))
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	for _, tf := range policy.TrustRisks(d, sandbox.AccountID) {
		if tf.Open || tf.Kind == trustKindFedOwner {
			t.Errorf("%s on %s: after the plan the engine still finds %s (%s): %s", f.RuleID, f.PrincipalName, tf.Kind, tf.Message, b)
		}
	}
}

// Each case planted on the sandbox (with the AWS SDK, which has no
// guardrails) gets exactly its rule, at its severity; each plan, filled in,
// passes the real gate's dry run and leaves no outsider in.
func TestTrustJudgedWithConcreteOutsider(t *testing.T) {
	s := newSandbox(t, "", true)
	deployer := s.role("deployer", "/", s.accountTrust())
	cases := trustCases()
	for _, c := range cases {
		s.role(c.role, "/", trustOf(c.stmts))
	}
	rep, _ := s.review(Input{MinSeverity: "info"})
	byRole := trustFindings(rep)
	for _, c := range cases {
		got := byRole[c.role]
		switch {
		case c.want == "" && len(got) != 0:
			t.Errorf("%s: want no trust finding, got %s (%s)", c.role, got[0].RuleID, got[0].Message)
		case c.want != "" && (len(got) != 1 || got[0].RuleID != c.want):
			var ids []string
			for _, f := range got {
				ids = append(ids, f.RuleID)
			}
			t.Errorf("%s: want %s, got %v", c.role, c.want, ids)
		case c.want != "" && got[0].Severity != trustSeverity[c.want]:
			t.Errorf("%s: %s rated %s, want %s", c.role, c.want, got[0].Severity, trustSeverity[c.want])
		}
	}
	// The messages say what restricts nothing.
	if f := byRole["x-tls"]; len(f) == 1 && !strings.Contains(f[0].Message, "aws:SecureTransport restrict nothing") {
		t.Errorf("x-tls message %q", f[0].Message)
	}
	if f := byRole["any-account-star"]; len(f) == 1 && !strings.Contains(f[0].Message, "aws:PrincipalAccount restrict nothing") {
		t.Errorf("any-account-star message %q", f[0].Message)
	}

	h := gateHost(t, s, "update_assume_role_policy")
	n := 0
	for _, c := range cases {
		for _, f := range byRole[c.role] {
			checkTrustFix(t, h, f, deployer, trustOf(c.stmts))
			n++
		}
	}
	if n < 25 {
		t.Errorf("only %d trust plans checked", n)
	}
	// The dry run is a real check: the trust policies as planted, where the
	// engine found an outsider Open, are refused by the same gate.
	refused := 0
	for _, c := range cases {
		if c.want != RuleTrustAnyone && c.want != RuleTrustCrossAccount && c.want != RuleTrustOIDCNoSub {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(trustOf(c.stmts)), &doc); err != nil {
			t.Fatal(err)
		}
		err := dryRun(h, "update_assume_role_policy", map[string]any{"role_name": c.role, "policy_document": doc})
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != api.RiskyPolicy {
			t.Errorf("%s: the gate accepted the open trust policy in a dry run (err %v)", c.role, err)
			continue
		}
		refused++
	}
	t.Logf("%d trust plans passed the gate's dry run; %d open trust policies refused by it", n, refused)
}

// A condition that pins nothing never rates a trust below the same trust
// with no condition; a condition that pins the caller does. Asked of the
// engine for every combination, without the sandbox.
func TestTrustConditionThatPinsNothingRatesAsNone(t *testing.T) {
	r := &reviewCtx{account: fxAccount, partition: "aws"}
	rate := func(stmt string) (Severity, string) {
		ta := r.analyseTrust(trustOf(stmt), map[string]bool{})
		if ta.err != nil {
			t.Fatal(ta.err)
		}
		best, rule := Severity(-1), ""
		for _, h := range ta.hits {
			if s := rulesByID[h.rule].Severity; s > best {
				best, rule = s, h.rule
			}
		}
		return best, rule
	}
	nothing := []string{
		`{"Bool":{"aws:SecureTransport":"true"}}`,
		`{"StringLike":{"aws:PrincipalAccount":"*"}}`,
		`{"ArnLike":{"aws:PrincipalArn":"*"}}`,
		`{"DateGreaterThan":{"aws:CurrentTime":"2001-01-01T00:00:00Z"}}`,
		`{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`,
		`{"StringLike":{"sts:ExternalId":"*"}}`,
		`{"StringEqualsIfExists":{"sts:ExternalId":"x-7f3a9c"}}`,
		`{"Null":{"sts:ExternalId":"false"}}`,
		`{"StringLike":{"aws:PrincipalOrgID":"*"}}`,
		`{"Bool":{"aws:SecureTransport":"true"},"StringLike":{"aws:PrincipalAccount":"*"}}`,
	}
	pins := []string{
		`{"StringEquals":{"sts:ExternalId":"x-7f3a9c"}}`,
		`{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`,
	}
	principals := map[string]struct {
		p           string
		nothing     []string // more conditions that pin nothing for this principal
		pins        []string
		want        string
		pinnedRates Severity // at most, once pinned
	}{
		"anyone": {p: anyone, want: RuleTrustAnyone, pinnedRates: Low,
			nothing: []string{`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/x"}}`, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, `{"StringLike":{"aws:username":"*admin"}}`},
			pins:    []string{`{"StringEquals":{"aws:PrincipalAccount":"` + fxAccount + `"}}`}},
		"account": {p: partner, want: RuleTrustCrossAccount, pinnedRates: -1,
			pins: []string{`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::210987654321:role/auditor"}}`}},
		"role": {p: `"AWS":"arn:aws:iam::210987654321:role/auditor"`, want: RuleTrustCrossAccount, pinnedRates: -1},
	}
	checked := 0
	for name, pc := range principals {
		base, rule := rate(allowAssume(pc.p, ""))
		if rule != pc.want {
			t.Fatalf("%s with no condition: %s, want %s", name, rule, pc.want)
		}
		for _, c := range append(append([]string{}, nothing...), pc.nothing...) {
			if sev, got := rate(allowAssume(pc.p, c)); sev < base {
				t.Errorf("%s with %s rates %s (%s), below %s with no condition", name, c, sev, got, base)
			}
			checked++
		}
		for _, c := range append(append([]string{}, pins...), pc.pins...) {
			if sev, got := rate(allowAssume(pc.p, c)); sev >= base || sev > pc.pinnedRates {
				t.Errorf("%s pinned by %s still rates %s (%s)", name, c, sev, got)
			}
			checked++
		}
	}
	t.Logf("%d conditions checked against the same trust without them", checked)
}

// The plugin decides OIDC as TrustRisks' federated kinds do: the public
// providers' Open grants are IAM.TRUST.OIDC_NO_SUBJECT, owner-wide ones
// IAM.TRUST.OIDC_SUBJECT_BROAD, and a provider the engine does not know to
// be public is never rated as if anyone could get its tokens.
func TestTrustOIDCAgreesWithTrustRisks(t *testing.T) {
	r := &reviewCtx{account: sandbox.AccountID, partition: "aws"}
	for _, c := range trustCases() {
		if !strings.Contains(c.stmts, "Federated") {
			continue
		}
		d, err := policy.Parse(trustOf(c.stmts))
		if err != nil {
			t.Fatal(err)
		}
		engine := ""
		for _, tf := range policy.TrustRisks(d, r.account) {
			switch tf.Kind {
			case trustKindFedOpen:
				engine = RuleTrustOIDCNoSub
			case trustKindFedOwner:
				engine = RuleTrustOIDCBroad
			}
		}
		plugin := ""
		for _, h := range r.analyseTrust(trustOf(c.stmts), map[string]bool{}).hits {
			plugin = h.rule
		}
		switch {
		case engine != "" && plugin != engine:
			t.Errorf("%s: TrustRisks says %s, the plugin %q", c.role, engine, plugin)
		case engine == "" && plugin == RuleTrustOIDCNoSub:
			t.Errorf("%s: rated %s although the engine finds no public provider's token gets in", c.role, plugin)
		}
	}
}

// setCondition replaces the key under every operator: a plan cannot leave
// the condition that restricted nothing beside the one it adds.
func TestSetConditionReplacesTheKey(t *testing.T) {
	st := map[string]any{"Condition": map[string]any{
		"StringLike":           map[string]any{"Token.Actions.GitHubUserContent.com:SUB": "repo:*"},
		"StringEqualsIfExists": map[string]any{"token.actions.githubusercontent.com:sub": "x", "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
	}}
	setCondition("StringLike", "token.actions.githubusercontent.com:sub", "repo:acme/app:*")(st)
	want := map[string]any{
		"StringLike":           map[string]any{"token.actions.githubusercontent.com:sub": "repo:acme/app:*"},
		"StringEqualsIfExists": map[string]any{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
	}
	if !reflect.DeepEqual(st["Condition"], want) {
		t.Errorf("condition %v", st["Condition"])
	}
}

// The demo's trust findings: each role where it belongs, at its severity,
// and every plan passes the gate's dry run.
func TestDemoTrustSeverities(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, _ := s.review(Input{MinSeverity: "info"})
	got := map[string]string{}
	for role, fs := range trustFindings(rep) {
		for _, f := range fs {
			got[role] += f.RuleID + "/" + f.Severity.String() + " "
		}
	}
	want := map[string]string{
		"open-trust-role": RuleTrustAnyone + "/critical ",
		"partner-audit":   RuleTrustCrossAccount + "/high ",
		"github-deploy":   RuleTrustOIDCNoSub + "/critical ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("demo trust findings %v, want %v", got, want)
	}
	h := gateHost(t, s, "update_assume_role_policy")
	for _, fs := range trustFindings(rep) {
		for _, f := range fs {
			checkTrustFix(t, h, f, "arn:aws:iam::"+sandbox.AccountID+":role/service/ec2-app-role", "")
		}
	}
}

// ---- keys ----

// keyPlanOf sums up a key plan: what it does ("retire", "rotate" or
// "finish" a rotation onto a newer key) and the key it deactivates.
func keyPlanOf(rem Remediation) (kind, key string) {
	kind = "finish"
	for _, s := range rem.Steps {
		switch s.Op {
		case "create_access_key":
			kind = "rotate"
		case "update_access_key":
			key, _ = s.Args["access_key_id"].(string)
		}
	}
	if kind == "finish" && strings.HasPrefix(rem.Summary, "Retire") {
		kind = "retire"
	}
	return kind, key
}

// keyFindings are the key findings on a user.
func keyFindings(rep *Report, user string) map[string]Finding {
	out := map[string]Finding{}
	for _, f := range rep.Findings {
		if f.PrincipalName == user && (f.RuleID == RuleKeyNotRotated || f.RuleID == RuleKeyUnused || f.RuleID == RuleTwoActiveKeys) {
			out[f.RuleID] = f
		}
	}
	return out
}

// checkKeyPlansAgree fails when two findings on one user deactivate the
// same key with different plans, or one rotates a key another retires.
func checkKeyPlansAgree(t *testing.T, rep *Report) int {
	t.Helper()
	type seen struct {
		rule string
		rem  Remediation
	}
	byKey := map[string]seen{}
	n := 0
	for _, f := range rep.Findings {
		if f.RuleID != RuleKeyNotRotated && f.RuleID != RuleKeyUnused && f.RuleID != RuleTwoActiveKeys {
			continue
		}
		_, key := keyPlanOf(f.Remediation)
		if key == "" {
			t.Errorf("%s on %s deactivates no key: %+v", f.RuleID, f.PrincipalName, f.Remediation)
			continue
		}
		id := f.PrincipalName + "/" + key
		if prev, ok := byKey[id]; ok {
			n++
			if !reflect.DeepEqual(prev.rem.Steps, f.Remediation.Steps) || prev.rem.Summary != f.Remediation.Summary {
				t.Errorf("%s and %s on %s plan key %s differently:\n%+v\n%+v", prev.rule, f.RuleID, f.PrincipalName, key, prev.rem, f.Remediation)
			}
			continue
		}
		byKey[id] = seen{f.RuleID, f.Remediation}
	}
	return n
}

// Keys unused for 45 days or more (or never used, and older than the
// grace) are retired by every finding on them, and the findings on one key
// give one plan; keys in use are rotated, or moved onto the newer key the
// user already has. Planted on the sandbox; the plans' key steps pass the
// gate's dry run with the real key ids.
func TestUnusedKeysAreRetiredNotRotated(t *testing.T) {
	s := newSandbox(t, "", true)
	plant := func(user string, keys ...[2]int) []string { // {created, last used} days ago; used -1 = never
		s.user(user)
		var ids []string
		for _, k := range keys {
			var id string
			s.at(k[0], func() { id = s.key(user) })
			if k[1] >= 0 {
				s.useKey(id, k[1])
			}
			ids = append(ids, id)
		}
		return ids
	}
	etl := plant("etl", [2]int{300, 200})
	never := plant("never-used", [2]int{100, -1})
	busy := plant("busy", [2]int{120, 1})
	plant("idle-44", [2]int{120, 44})
	idle45 := plant("idle-45", [2]int{120, 45})
	pairIdle := plant("pair-idle", [2]int{60, 1}, [2]int{30, -1})
	pairRot := plant("pair-rotating", [2]int{120, 2}, [2]int{10, 1})
	full := plant("full", [2]int{200, 150}, [2]int{120, 1})
	s.ok(s.c.UpdateAccessKey(bg, &iam.UpdateAccessKeyInput{UserName: aws.String("full"), AccessKeyId: aws.String(full[0]), Status: "Inactive"}))

	rep, _ := s.review(Input{MinSeverity: "info", Include: []string{IncludeKeyLastUsed}})
	want := []struct {
		user  string
		rules []string
		kind  string
		key   string
	}{
		{"etl", []string{RuleKeyNotRotated, RuleKeyUnused}, "retire", etl[0]},
		{"never-used", []string{RuleKeyNotRotated, RuleKeyUnused}, "retire", never[0]},
		{"busy", []string{RuleKeyNotRotated}, "rotate", busy[0]},
		{"idle-44", []string{RuleKeyNotRotated}, "rotate", ""},
		{"idle-45", []string{RuleKeyNotRotated, RuleKeyUnused}, "retire", idle45[0]},
		{"pair-idle", []string{RuleKeyUnused, RuleTwoActiveKeys}, "retire", pairIdle[1]},
		{"pair-rotating", []string{RuleKeyNotRotated, RuleTwoActiveKeys}, "finish", pairRot[0]},
		{"full", []string{RuleKeyNotRotated}, "rotate", full[1]},
	}
	for _, w := range want {
		fs := keyFindings(rep, w.user)
		var rules []string
		for _, r := range []string{RuleKeyNotRotated, RuleKeyUnused, RuleTwoActiveKeys} {
			if _, ok := fs[r]; ok {
				rules = append(rules, r)
			}
		}
		if !reflect.DeepEqual(rules, w.rules) {
			t.Errorf("%s: findings %v, want %v", w.user, rules, w.rules)
			continue
		}
		for _, r := range w.rules {
			kind, key := keyPlanOf(fs[r].Remediation)
			if kind != w.kind || (w.key != "" && key != w.key) {
				t.Errorf("%s %s: plan %s of key %s, want %s of %s: %+v", w.user, r, kind, key, w.kind, w.key, fs[r].Remediation)
			}
		}
	}
	if f := keyFindings(rep, "etl")[RuleKeyNotRotated]; !strings.Contains(f.Message, "retire it rather than rotate it") {
		t.Errorf("etl message %q", f.Message)
	}
	// A rotation with the user at IAM's two keys first retires the other.
	rot := keyFindings(rep, "full")[RuleKeyNotRotated].Remediation
	first := -1
	for i, st := range rot.Steps {
		if st.Manual && strings.Contains(st.Note, "two access keys") && strings.Contains(st.Note, full[0]) && first < 0 {
			first = i
		}
		if st.Op == "create_access_key" && (first < 0 || first > i) {
			t.Errorf("full: creates a key before the other is retired: %+v", rot.Steps)
		}
	}
	if n := checkKeyPlansAgree(t, rep); n < 5 {
		t.Errorf("only %d pairs of findings on one key compared", n)
	}
	checkPlans(t, rep)

	// The key steps pass the real gate's dry run.
	h := gateHost(t, s, "update_access_key", "delete_access_key", opAccessKeyLastUsed, opListAccessKeys)
	ran := 0
	for _, f := range rep.Findings {
		if rulesByID[f.RuleID].Category != "credentials" {
			continue
		}
		for _, st := range f.Remediation.Steps {
			if st.Op != "update_access_key" && st.Op != "delete_access_key" {
				continue
			}
			if err := dryRun(h, st.Op, st.Args); err != nil {
				t.Errorf("%s on %s: %s refused in a dry run: %v", f.RuleID, f.PrincipalName, st.Op, err)
			}
			ran++
		}
	}
	t.Logf("%d key steps passed the gate's dry run", ran)
}

// The same decisions on a crafted credential report (no key ids: the plans
// name keys by slot), at the edges of the thresholds.
func TestKeyPlansOnCraftedReport(t *testing.T) {
	f := newFixture()
	keys := map[string][]api.CredentialReportKey{
		"old-unused":   {{Slot: 1, Active: true, LastRotated: daysBefore(300), LastUsedDate: daysBefore(200)}},
		"old-never":    {{Slot: 1, Active: true, LastRotated: daysBefore(91)}},
		"old-busy":     {{Slot: 1, Active: true, LastRotated: daysBefore(91), LastUsedDate: daysBefore(44)}},
		"young-never":  {{Slot: 1, Active: true, LastRotated: daysBefore(6)}},
		"never-8-days": {{Slot: 1, Active: true, LastRotated: daysBefore(8)}},
		"two-both-idle": {{Slot: 1, Active: true, LastRotated: daysBefore(300), LastUsedDate: daysBefore(60)},
			{Slot: 2, Active: true, LastRotated: daysBefore(200), LastUsedDate: daysBefore(100)}},
	}
	for u, k := range keys {
		f.user(u, "/", nil, nil)
		f.row(u).AccessKeys = k
	}
	rep := reviewAll(t, f.host(1000))
	for u, want := range map[string]string{"old-unused": "retire", "old-never": "retire", "old-busy": "rotate", "never-8-days": "retire"} {
		for _, fd := range keyFindings(rep, u) {
			if kind, _ := keyPlanOf(fd.Remediation); kind != want {
				t.Errorf("%s %s: %s, want %s", u, fd.RuleID, kind, want)
			}
		}
	}
	if len(keyFindings(rep, "young-never")) != 0 {
		t.Error("a 6-day-old unused key is flagged")
	}
	// Both unused: the longer unused (slot 2) is the one retired, by every
	// finding on it.
	two := keyFindings(rep, "two-both-idle")[RuleTwoActiveKeys]
	if _, key := keyPlanOf(two.Remediation); !strings.Contains(key, "slot 2") {
		t.Errorf("two-both-idle retires %s", key)
	}
	checkKeyPlansAgree(t, rep)
	checkPlans(t, rep)
}

// The demo's credential findings, each at its severity, and the plans on
// one key agree (legacy-etl's old, unused key is retired by both rules).
func TestDemoCredentialSeverities(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, _ := s.review(Input{MinSeverity: "info"})
	got := map[string]string{}
	for _, f := range rep.Findings {
		if rulesByID[f.RuleID].Category == "credentials" {
			got[f.RuleID+"@"+f.PrincipalName] = f.Severity.String()
		}
	}
	want := map[string]string{
		RuleRootAccessKey + "@root": "critical", RuleRootNoMFA + "@root": "critical", RuleAdminNoMFA + "@alice.nguyen": "critical",
		RuleRootRecentlyUsed + "@root": "high", RuleConsoleNoMFA + "@alice.nguyen": "high", RuleConsoleNoMFA + "@jonas.berg": "high",
		RuleConsoleNoMFA + "@former.employee": "high", RuleKeyNotRotated + "@ci-deploy": "medium", RuleKeyNotRotated + "@legacy-etl": "medium",
		RuleKeyNotRotated + "@backup-agent": "medium", RuleKeyUnused + "@legacy-etl": "medium", RuleKeyUnused + "@carol.diaz": "medium",
		RuleTwoActiveKeys + "@isla.moreau": "medium", RuleConsoleUnused + "@former.employee": "medium", RulePasswordPolicyWeak + "@password policy": "medium",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("demo credential findings\n got %v\nwant %v", got, want)
	}
	for user, kind := range map[string]string{"legacy-etl": "retire", "carol.diaz": "retire", "ci-deploy": "rotate", "backup-agent": "rotate", "isla.moreau": "finish"} {
		for _, f := range keyFindings(rep, user) {
			if k, _ := keyPlanOf(f.Remediation); k != kind {
				t.Errorf("%s %s: %s, want %s", user, f.RuleID, k, kind)
			}
		}
	}
	if checkKeyPlansAgree(t, rep) != 1 {
		t.Error("legacy-etl's two findings are not compared")
	}
	// former.employee's unused password: removed by both findings, not
	// protected with MFA by one and removed by the other.
	a, b := find(rep, RuleConsoleNoMFA, "former.employee"), find(rep, RuleConsoleUnused, "former.employee")
	// The second plan does not repeat the call (it would fail once the
	// first has run): it points to the first.
	if len(a) != 1 || len(b) != 1 || len(a[0].Remediation.Steps) != 1 || a[0].Remediation.Steps[0].Op != "delete_login_profile" ||
		!strings.Contains(strings.Join(b[0].Remediation.Check.Checks, " "), "delete_login_profile is already in the plan of "+RuleConsoleNoMFA) {
		t.Errorf("former.employee's password plans disagree: %+v / %+v", a, b)
	}
}

// ---- structural plans ----

// structGrants are the operations the structural plans call.
var structGrants = []string{"create_group", "create_policy", "attach_group_policy", "attach_role_policy", "add_user_to_group",
	"delete_user_policy", "detach_user_policy", "delete_role_policy", "delete_group_policy"}

// runStructuralPlans runs every structural finding's plan on the sandbox
// (a copy of the account, the way a person would try it first): each
// document-writing step first as a dry run, then every step for real,
// through the gate, with the group placeholder named. A step the gate
// refuses fails the test. It returns the findings whose plans ran.
func runStructuralPlans(t *testing.T, s *testAccount, rep *Report) []Finding {
	t.Helper()
	h := gateHost(t, s, structGrants...)
	var ran []Finding
	for i, f := range rep.Findings {
		if f.RuleID != RuleUserAttachedPolicy && f.RuleID != RuleInlinePolicy {
			continue
		}
		if c := f.Remediation.Check; c != nil && c.Result == CheckRefused {
			t.Errorf("%s on %s: plan refused by the review's own check: %v", f.RuleID, f.PrincipalName, c.Problems)
			continue
		}
		group := fmt.Sprintf("job-%d", i)
		for _, st := range f.Remediation.Steps {
			if st.Manual {
				continue
			}
			args := map[string]any{}
			for k, v := range st.Args {
				if s, ok := v.(string); ok && strings.HasPrefix(s, "<group for ") {
					v = group
				}
				args[k] = v
			}
			if hasPlaceholder(args) {
				t.Fatalf("%s on %s: %s has a placeholder the test does not fill: %v", f.RuleID, f.PrincipalName, st.Op, args)
			}
			if doc, ok := args["policy_document"]; ok {
				b, _ := json.Marshal(doc)
				if d, err := policy.Parse(string(b)); err == nil {
					if admin, why := policy.AdminEquivalent(d); admin {
						t.Errorf("%s on %s: %s writes an admin-equivalent document (%s)", f.RuleID, f.PrincipalName, st.Op, why)
					}
				}
				if err := dryRun(h, st.Op, args); err != nil {
					t.Errorf("%s on %s: the gate refuses %s in a dry run: %v", f.RuleID, f.PrincipalName, st.Op, err)
				}
			}
			var out json.RawMessage
			if err := h.Call(st.Op, args, &out); err != nil {
				t.Errorf("%s on %s: %s %v: %v", f.RuleID, f.PrincipalName, st.Op, args, err)
			}
		}
		ran = append(ran, f)
	}
	return ran
}

// On the demo, no structural plan copies or re-grants quinn.taylor's
// break-glass *:* policy or liam.obrien's SelfServiceIAM (each says which
// finding to fix first); the others run through the real gate, and the
// review afterwards finds those users' own policies gone and nobody's
// permissions changed.
func TestStructuralPlansOnTheDemo(t *testing.T) {
	s := newSandbox(t, "demo", false)
	rep, _ := s.review(Input{MinSeverity: "info"})
	held := map[string]string{"quinn.taylor": RuleInlineAdminPolicy, "liam.obrien": ""}
	for user, rule := range held {
		f := mustFind(t, rep, RuleUserAttachedPolicy, user)
		text := f.Remediation.Summary
		for _, st := range f.Remediation.Steps {
			if !st.Manual {
				t.Errorf("%s: the plan still calls %s %v", user, st.Op, st.Args)
			}
			text += " " + st.Note
		}
		if !strings.Contains(text, "Left in place") || !strings.Contains(text, rule) || !strings.Contains(text, "first") {
			t.Errorf("%s: the plan does not say what to fix first: %s", user, text)
		}
	}
	if !strings.Contains(fmt.Sprint(mustFind(t, rep, RuleUserAttachedPolicy, "liam.obrien").Remediation.Steps), "IAM.ESC.") {
		t.Errorf("liam.obrien's plan does not name the escalation finding: %+v", mustFind(t, rep, RuleUserAttachedPolicy, "liam.obrien").Remediation)
	}
	before := map[string]bool{}
	for _, p := range []string{"ci-deploy", "legacy-etl", "monitoring-bot", "quinn.taylor", "liam.obrien"} {
		before[p] = true
	}
	ran := runStructuralPlans(t, s, rep)
	if len(ran) < 5 {
		t.Errorf("only %d structural plans ran", len(ran))
	}
	after, _ := s.review(Input{MinSeverity: "info"})
	var left []string
	for _, f := range find(after, RuleUserAttachedPolicy, "") {
		left = append(left, f.PrincipalName)
	}
	if !reflect.DeepEqual(left, []string{"liam.obrien", "quinn.taylor"}) && !reflect.DeepEqual(left, []string{"quinn.taylor", "liam.obrien"}) {
		t.Errorf("after the plans, users with policies of their own: %v", left)
	}
	// Moving is not changing: what each user may do is what it was.
	for _, name := range []string{"ci-deploy", "legacy-etl", "monitoring-bot"} {
		if a, b := findingSet(rep, name), findingSet(after, name); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: findings other than structure changed: %v → %v", name, a, b)
		}
	}
}

// findingSet lists a principal's findings outside the structure rules.
func findingSet(rep *Report, name string) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.PrincipalName == name && rulesByID[f.RuleID].Category != "structure" {
			out = append(out, f.RuleID)
		}
	}
	return out
}

// The class, planted: an admin inline policy, an inline escalation, a
// document the guardrails refuse, an inline policy too large for a managed
// one, one that relies on version 2008-10-17, a long name; on users, a
// group and a role. What may move moves (and runs through the gate); what
// may not is held with its reason.
func TestStructuralPlansHoldRiskyGrants(t *testing.T) {
	s := newSandbox(t, "", true)
	logs := s.policy("ReadLogs", allowDoc(`["logs:GetLogEvents","logs:DescribeLogGroups"]`, `"*"`))
	s.user("contractor")
	s.inlineUser("contractor", "break-glass", allowDoc(`"*"`, `"*"`))
	s.attachUser("contractor", logs)
	s.user("self-service")
	s.inlineUser("self-service", "policies", allowDoc(`["iam:CreatePolicyVersion","s3:ListAllMyBuckets"]`, `"*"`))
	s.user("plain")
	s.inlineUser("plain", "no-version", `{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`)
	s.user("home")
	s.inlineUser("home", "home-dir", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`)
	long := strings.Repeat("u", 64)
	s.user(long)
	s.inlineUser(long, strings.Repeat("p", 100), allowDoc(`"logs:PutLogEvents"`, `"*"`))
	s.role("app", "/", ec2Trust)
	var arns []string
	for i := 0; i < 90; i++ {
		arns = append(arns, fmt.Sprintf(`"arn:aws:s3:::application-data-bucket-number-%03d/some/long/prefix/*"`, i))
	}
	s.inlineRole("app", "large", allowDoc(`"s3:GetObject"`, "["+strings.Join(arns, ",")+"]"))
	s.inlineRole("app", "small", allowDoc(`"logs:PutLogEvents"`, `"*"`))
	s.role("ops-role", "/", ec2Trust)
	s.inlineRole("ops-role", "everything", allowDoc(`"*"`, `"*"`))
	s.ok(s.c.CreateGroup(bg, &iam.CreateGroupInput{GroupName: aws.String("Ops")}))
	s.ok(s.c.PutGroupPolicy(bg, &iam.PutGroupPolicyInput{GroupName: aws.String("Ops"), PolicyName: aws.String("pass-any"),
		PolicyDocument: aws.String(allowDoc(`["iam:PassRole","ec2:RunInstances"]`, `"*"`))}))

	// AdministratorAccess attached to a user directly.
	s.user("direct-admin")
	s.attachUser("direct-admin", "arn:aws:iam::aws:policy/AdministratorAccess")
	// A grant the guardrails accept (PassRole names one role), but that is
	// a path to an administrator role: held because the review reports the
	// escalation on the user.
	s.role("admin-fn", "/", trustOf(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}`), "arn:aws:iam::aws:policy/AdministratorAccess")
	s.user("fn-dev")
	s.inlineUser("fn-dev", "functions", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::`+sandbox.AccountID+`:role/admin-fn"}]}`)

	rep, _ := s.review(Input{MinSeverity: "info"})
	plan := func(rule, who string) string {
		f := mustFind(t, rep, rule, who)
		b, _ := json.Marshal(f.Remediation)
		return string(b)
	}
	for _, c := range []struct {
		rule, who string
		has, not  []string
	}{
		{RuleUserAttachedPolicy, "contractor", []string{"break-glass (it is admin-equivalent", RuleInlineAdminPolicy + " first", logs}, []string{`"policy_name":"contractor-break-glass"`}},
		{RuleUserAttachedPolicy, "self-service", []string{"policies (the server's guardrails", "first"}, []string{"create_policy"}},
		{RuleUserAttachedPolicy, "plain", []string{`"Version":"2012-10-17"`, "plain-no-version"}, []string{"Left in place"}},
		{RuleUserAttachedPolicy, "home", []string{"home-dir (it uses ${…} under policy version"}, []string{"create_policy"}},
		{RuleInlinePolicy, "app", []string{"large (the server's guardrails (or IAM's quota for a managed policy)", "app-small"}, []string{`"policy_name":"app-large"`}},
		{RuleInlinePolicy, "ops-role", []string{"everything (it is admin-equivalent", RuleInlineAdminPolicy}, []string{"create_policy"}},
		{RuleInlinePolicy, "group/Ops", []string{"pass-any (the server's guardrails"}, []string{"create_policy"}},
		{RuleUserAttachedPolicy, "direct-admin", []string{"AdministratorAccess (it is admin-equivalent", RuleAWSAdminAttached}, []string{"attach_group_policy"}},
		{RuleUserAttachedPolicy, "fn-dev", []string{"functions (it grants the actions of", "IAM.ESC."}, []string{"create_policy"}},
	} {
		p := plan(c.rule, c.who)
		for _, w := range c.has {
			if !strings.Contains(p, strings.ReplaceAll(w, "<", `\u003c`)) && !strings.Contains(p, w) {
				t.Errorf("%s on %s: plan lacks %q: %s", c.rule, c.who, w, p)
			}
		}
		for _, w := range c.not {
			if strings.Contains(p, w) {
				t.Errorf("%s on %s: plan has %q: %s", c.rule, c.who, w, p)
			}
		}
	}
	if n := mustFind(t, rep, RuleUserAttachedPolicy, long).Remediation.Steps[1].Args["policy_name"].(string); len(n) > 128 {
		t.Errorf("managed copy named with %d characters", len(n))
	}
	checkPlans(t, rep)
	runStructuralPlans(t, s, rep)
	after, _ := s.review(Input{MinSeverity: "info"})
	for _, who := range []string{"plain", long} {
		if len(find(after, RuleUserAttachedPolicy, who)) != 0 {
			t.Errorf("%s still has policies of its own after its plan ran", who)
		}
	}
	for _, who := range []string{"contractor", "self-service", "home"} {
		if len(find(after, RuleUserAttachedPolicy, who)) != 1 {
			t.Errorf("%s: its held policies are gone", who)
		}
	}
	if f := find(after, RuleInlinePolicy, "role/app"); len(f) != 1 || !strings.Contains(f[0].Message, "large") || strings.Contains(f[0].Message, "small") {
		t.Errorf("role app after its plan: %+v", f)
	}
}

// ---- fuzz ----

// maxFuzzTrust is IAM's largest trust policy (the quota can be raised to
// 4,096 characters); the review reads what IAM stored, so nothing larger
// reaches it.
const maxFuzzTrust = 4096

// A trust policy read from the account is outside input: whatever it
// holds, analysing it and building and checking every plan neither panics
// nor hangs, every plan is one update_assume_role_policy of a JSON object
// (or says it could not rewrite the policy), and building it twice gives
// the same plan.
func FuzzTrustPlan(f *testing.F) {
	for _, c := range trustCases() {
		f.Add(trustOf(c.stmts))
	}
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:*"}}`)
	f.Add(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"StringLike":{"<x>":"<y>"}}}]}`)
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > maxFuzzTrust {
			return
		}
		r := &reviewCtx{account: fxAccount, partition: "aws"}
		ta := r.analyseTrust(text, map[string]bool{})
		if ta.err != nil {
			return
		}
		p := &principal{kind: KindRole, name: "fuzzed", arn: "arn:aws:iam::" + fxAccount + ":role/fuzzed"}
		for _, h := range ta.hits {
			r.trustFinding(p, text, h)
		}
		for _, fd := range r.findings {
			a, b := fd.plan(), fd.plan()
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%s: two builds of the plan differ", fd.RuleID)
			}
			if a.Check == nil || len(a.Steps) != 1 || a.Steps[0].Op != "update_assume_role_policy" || a.Steps[0].Args["role_name"] != "fuzzed" {
				t.Fatalf("%s: plan %+v", fd.RuleID, a)
			}
			doc, _ := a.Steps[0].Args["policy_document"].(map[string]any)
			if doc == nil && a.Check.Result != CheckRefused {
				t.Fatalf("%s: no document, yet the check says %s", fd.RuleID, a.Check.Result)
			}
		}
	})
}

package policy

import (
	"fmt"
	"strings"
	"testing"
)

func vIdentity(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func TestValidateFindings(t *testing.T) {
	bigStmt := `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2100) + `/*"}`
	cases := []struct {
		name      string
		doc       string
		typ       PolicyType
		opts      ValidateOptions
		code      string
		severity  string
		statement int
		field     string
		value     string
	}{
		{"malformed json", `{"Version":`, IdentityPolicy, ValidateOptions{}, CodeMalformedJSON, SeverityError, -1, "", ""},
		{"wrong structure", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Actions":"s3:*","Resource":"*"}]}`, IdentityPolicy, ValidateOptions{}, CodeInvalidStructure, SeverityError, -1, "", ""},
		{"missing statement", `{"Version":"2012-10-17"}`, IdentityPolicy, ValidateOptions{}, CodeMissingStatement, SeverityError, -1, "Statement", ""},
		{"invalid version", `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, IdentityPolicy, ValidateOptions{}, CodeInvalidVersion, SeverityError, -1, "Version", "2012-10-18"},
		{"managed needs 2012", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, IdentityPolicy, ValidateOptions{}, CodeInvalidVersion, SeverityError, -1, "Version", "2008-10-17"},
		{"iam rejects", vIdentity(`{"Effect":"Allow","Action":"s3:GetObject"}`), IdentityPolicy, ValidateOptions{}, CodeIAMRejected, SeverityError, -1, "", ""},
		{"unknown operator", vIdentity(`{"Sid":"C","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}`), IdentityPolicy, ValidateOptions{}, CodeUnknownConditionOperator, SeverityError, 0, "Condition", "StringEqualz"},
		{"size user inline", vIdentity(bigStmt), IdentityPolicy, ValidateOptions{SizeLimit: UserInlineLimit}, CodePolicySizeExceeded, SeverityError, -1, "", ""},
		{"unknown service", vIdentity(`{"Effect":"Allow","Action":"nosuchsvc:Get","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodeUnknownService, SeverityWarning, 0, "Action", "nosuchsvc:Get"},
		{"unknown action", vIdentity(`{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjekt"],"Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodeUnknownAction, SeverityWarning, 0, "Action", "s3:GetObjekt"},
		{"unknown action wildcard", vIdentity(`{"Effect":"Deny","NotAction":"s3:Zzz*","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodeUnknownAction, SeverityWarning, 0, "NotAction", "s3:Zzz*"},
		{"action resource mismatch", vIdentity(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:iam::123456789012:role/x"}`), IdentityPolicy, ValidateOptions{}, CodeActionResourceMismatch, SeverityWarning, 0, "Action", "s3:GetObject"},
		{"allow not resource", vIdentity(`{"Sid":"NR","Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`), IdentityPolicy, ValidateOptions{}, CodeAllowWithNotResource, SeveritySecurityWarning, 0, "NotResource", "arn:aws:s3:::secret/*"},
		{"allow not principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, ResourcePolicy, ValidateOptions{}, CodeAllowWithNotPrincipal, SeveritySecurityWarning, 0, "NotPrincipal", ""},
		{"pass role star", vIdentity(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, `{"Sid":"P","Effect":"Allow","Action":"iam:Pass*","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodePassRoleWithStar, SeveritySecurityWarning, 1, "Resource", "*"},
		{"pass role via iam:*", vIdentity(`{"Effect":"Allow","Action":"iam:*","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodePassRoleWithStar, SeveritySecurityWarning, 0, "Resource", "*"},
		{"for all values single valued", vIdentity(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAllValues:IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`), IdentityPolicy, ValidateOptions{}, CodeForAllValuesSingleValued, SeverityWarning, 0, "Condition", "ForAllValues:IpAddress aws:SourceIp"},
		{"admin equivalent", vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodeAdminEquivalent, SeveritySecurityWarning, 0, "", ""},
		{"admin through NotAction", vIdentity(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodeAdminEquivalent, SeveritySecurityWarning, 0, "", ""},
		{"power user escalates through sts", vIdentity(`{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodePrivilegeEscalationOnStar, SeveritySecurityWarning, 0, "Action", "sts:AssumeRole"},
		{"escalation single action", vIdentity(`{"Effect":"Allow","Action":["s3:GetObject","iam:CreatePolicyVersion"],"Resource":"*"}`), IdentityPolicy, ValidateOptions{}, CodePrivilegeEscalationOnStar, SeveritySecurityWarning, 0, "Action", "iam:CreatePolicyVersion"},
		{"trust anyone", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, TrustPolicy, ValidateOptions{Account: "123456789012"}, CodeTrustOpenToAnyone, SeveritySecurityWarning, 0, "Principal", "*"},
		{"trust anyone conditioned", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`, TrustPolicy, ValidateOptions{Account: "123456789012"}, CodeTrustAnyoneConditioned, SeverityWarning, 0, "Principal", "*"},
		{"trust other account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"sts:AssumeRole"}]}`, TrustPolicy, ValidateOptions{Account: "123456789012"}, CodeTrustCrossAccountNoCondition, SeveritySecurityWarning, 0, "Principal", "999988887777"},
		{"trust other account without external id", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, TrustPolicy, ValidateOptions{Account: "123456789012"}, CodeTrustCrossAccountNoExternal, SeveritySuggestion, 0, "Condition", ""},
		{"redundant", vIdentity(`{"Sid":"All","Effect":"Allow","Action":"s3:*","Resource":"*"}`, `{"Sid":"Get","Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}`), IdentityPolicy, ValidateOptions{}, CodeRedundantStatement, SeveritySuggestion, 1, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := ValidateWithOptions(c.doc, c.typ, c.opts)
			for _, f := range fs {
				if f.Code != c.code {
					continue
				}
				if f.Severity != c.severity || f.Statement != c.statement || f.Field != c.field || (c.value != "" && f.Value != c.value) {
					t.Fatalf("finding %+v, want severity %s statement %d field %q value %q", f, c.severity, c.statement, c.field, c.value)
				}
				if f.Message == "" {
					t.Fatalf("finding %+v has no message", f)
				}
				return
			}
			t.Fatalf("no %s finding; got %+v", c.code, fs)
		})
	}
}

func TestValidateUnknownSaysDataDate(t *testing.T) {
	fs := Validate(vIdentity(`{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}`), IdentityPolicy)
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "as of ") {
		t.Fatalf("findings %+v: want one UNKNOWN_ACTION saying the data's date", fs)
	}
	for _, f := range fs {
		if f.Severity == SeverityError {
			t.Fatalf("unknown action must never be an error: %+v", f)
		}
	}
}

func TestValidateSid(t *testing.T) {
	fs := Validate(vIdentity(`{"Sid":"NR","Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::secret/*"}`), IdentityPolicy)
	if len(fs) == 0 || fs[0].Sid != "NR" {
		t.Fatalf("findings %+v: want Sid NR", fs)
	}
}

func TestValidateClean(t *testing.T) {
	clean := map[PolicyType]string{
		IdentityPolicy: vIdentity(
			`{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::my-bucket/${aws:username}/*"}`,
			`{"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::my-bucket","Condition":{"StringLike":{"s3:prefix":"${aws:username}/*"}}}`,
			`{"Sid":"Pass","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/app-*"}`,
			`{"Sid":"Tags","Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}`),
		TrustPolicy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		ResourcePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
	}
	for typ, doc := range clean {
		if fs := Validate(doc, typ); len(fs) != 0 {
			t.Errorf("%s: want no findings, got %+v", typ, fs)
		}
	}
}

func TestValidateInlineSizeLimits(t *testing.T) {
	// 3,000 characters: over the user inline quota, within the others.
	pad := strings.Repeat("x", 3000-len(vIdentity(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::/*"}`)))
	doc := vIdentity(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + pad + `/*"}`)
	if Size(doc) != 3000 {
		t.Fatalf("size %d", Size(doc))
	}
	for lim, want := range map[SizeLimit]bool{UserInlineLimit: true, GroupInlineLimit: false, RoleInlineLimit: false, ManagedPolicyLimit: false} {
		got := false
		for _, f := range ValidateWithOptions(doc, IdentityPolicy, ValidateOptions{SizeLimit: lim}) {
			got = got || f.Code == CodePolicySizeExceeded
		}
		if got != want {
			t.Errorf("limit %d: exceeded=%v, want %v", lim, got, want)
		}
	}
}

func vTwentyStatements() string {
	var stmts []string
	for i := 0; i < 20; i++ {
		stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"Allow","Action":["s3:GetObject","s3:PutObject","ec2:Describe*"],"Resource":["arn:aws:s3:::bucket-%d/*","arn:aws:s3:::bucket-%d"],"Condition":{"StringEquals":{"aws:PrincipalTag/team":"t%d"}}}`, i, i, i, i))
	}
	return vIdentity(stmts...)
}

func BenchmarkValidate20Statements(b *testing.B) {
	doc := vTwentyStatements()
	Validate(doc, IdentityPolicy) // load the reference first
	b.ReportAllocs()
	for b.Loop() {
		Validate(doc, IdentityPolicy)
	}
}

// TestValidateRiskChecksStayQuiet: the guardrail findings name risks, not
// breadth or ordinary shapes, so that refusals stay rare and meaningful.
func TestValidateRiskChecksStayQuiet(t *testing.T) {
	quiet := []struct {
		name string
		doc  string
		typ  PolicyType
	}{
		{"whole service data access", vIdentity(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), IdentityPolicy},
		{"escalation scoped to a resource", vIdentity(`{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}`), IdentityPolicy},
		{"escalation with a condition", vIdentity(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}}`), IdentityPolicy},
		{"pass role to one service", vIdentity(`{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}`), IdentityPolicy},
		{"boundary allowing everything", vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`), PermissionsBoundary},
		{"scp allowing everything", vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`), ServiceControlPolicy},
		{"trust own account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`, TrustPolicy},
		{"trust service", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, TrustPolicy},
		{"trust other account with external id", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, TrustPolicy},
	}
	for _, c := range quiet {
		for _, f := range ValidateWithOptions(c.doc, c.typ, ValidateOptions{Account: "123456789012"}) {
			switch f.Code {
			case CodeAdminEquivalent, CodePrivilegeEscalationOnStar, CodePassRoleWithStar, CodeTrustOpenToAnyone, CodeTrustAnyoneConditioned, CodeTrustCrossAccountNoCondition, CodeTrustCrossAccountNoExternal:
				t.Errorf("%s: unexpected %+v", c.name, f)
			}
		}
	}
}

// TestValidateSizeCap: a document over MaxDocumentSize is one ERROR, read
// no further, unless it was read from IAM (AWS's own policies may be
// larger).
func TestValidateSizeCap(t *testing.T) {
	doc := vIdentity(`{"Effect":"Allow","Action":"*","Resource":"*"}`)
	doc = doc[:len(doc)-1] + strings.Repeat(" ", MaxDocumentSize) + "}"
	fs := ValidateWithOptions(doc, IdentityPolicy, ValidateOptions{})
	if len(fs) != 1 || fs[0].Code != CodePolicyTooLarge || fs[0].Severity != SeverityError || len(fs[0].Message) > 300 {
		t.Fatalf("over the cap: %+v", fs)
	}
	stored := ValidateWithOptions(doc, IdentityPolicy, ValidateOptions{Stored: true, SizeLimit: -1})
	if len(stored) == 0 || stored[0].Code != CodeAdminEquivalent {
		t.Fatalf("stored: %+v", stored)
	}
}

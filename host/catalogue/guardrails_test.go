package catalogue

import (
	"strings"
	"testing"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestGuardrailsRefuseRiskyWrites: without --allow-risky-policies, every
// write of a risky policy is refused with RiskyPolicy, says why and how to
// proceed, and changes nothing.
func TestGuardrailsRefuseRiskyWrites(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	call[api.PolicyOutput](t, c, "create_policy", `{"policy_name":"Narrow","policy_document":`+readS3Doc+`}`)
	narrowARN := "arn:aws:iam::123456789012:policy/Narrow"
	escalate := `{"Version":"2012-10-17","Statement":[{"Sid":"Keys","Effect":"Allow","Action":["iam:CreateAccessKey","s3:GetObject"],"Resource":"*"}]}`
	cases := []struct {
		name, op, args string
		want           []string // in the message
	}{
		{"inline admin", "put_user_policy", `{"user_name":"farid.haddad","policy_name":"all","policy_document":` + adminDoc + `}`, []string{"ADMIN_EQUIVALENT", "user farid.haddad"}},
		{"inline escalation", "put_role_policy", `{"role_name":"lambda-exec","policy_name":"keys","policy_document":` + escalate + `}`, []string{"PRIVILEGE_ESCALATION_ON_STAR", "iam:CreateAccessKey"}},
		{"inline pass role", "put_group_policy", `{"group_name":"Finance","policy_name":"pass","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}}`, []string{"PASS_ROLE_WITH_STAR", "every member of group Finance"}},
		{"managed admin", "create_policy", `{"policy_name":"Everything","policy_document":` + adminDoc + `}`, []string{"ADMIN_EQUIVALENT"}},
		{"NotAction leaving IAM open", "create_policy", `{"policy_name":"AllButS3","policy_document":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}}`, []string{"ADMIN_EQUIVALENT", "every IAM action"}},
		// A version that is not made the default is one call from taking effect.
		{"version not default", "create_policy_version", `{"policy_arn":"` + narrowARN + `","policy_document":` + adminDoc + `}`, []string{"ADMIN_EQUIVALENT"}},
		{"trust anyone", "create_role", `{"role_name":"open","assume_role_policy_document":` + openTrustDoc + `}`, []string{"TRUST_OPEN_TO_ANYONE", "who may assume role open"}},
		{"trust partner", "update_assume_role_policy", `{"role_name":"lambda-exec","policy_document":` + partnerTrustDoc + `}`, []string{"TRUST_CROSS_ACCOUNT_NO_CONDITION", "210987654321"}},
		// Attaches are decided by the policy's document, not its name.
		{"attach AdministratorAccess", "attach_user_policy", `{"user_name":"farid.haddad","policy_arn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, []string{"ADMIN_EQUIVALENT"}},
		{"attach IAMFullAccess", "attach_role_policy", `{"role_name":"lambda-exec","policy_arn":"arn:aws:iam::aws:policy/IAMFullAccess"}`, []string{"ADMIN_EQUIVALENT", "IAM"}},
		{"attach PowerUserAccess", "attach_group_policy", `{"group_name":"Finance","policy_arn":"arn:aws:iam::aws:policy/PowerUserAccess"}`, []string{"PRIVILEGE_ESCALATION_ON_STAR", "sts:AssumeRole"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := callFails(t, c, tc.op, tc.args, api.RiskyPolicy)
			for _, w := range append(tc.want, "Nothing was written", "--allow-risky-policies") {
				if !strings.Contains(msg, w) {
					t.Errorf("refusal does not say %q: %s", w, msg)
				}
			}
		})
	}
	// Nothing was written.
	callFails(t, c, "get_user_policy", `{"user_name":"farid.haddad","policy_name":"all"}`, api.NoSuchEntity)
	callFails(t, c, "get_role_policy", `{"role_name":"lambda-exec","policy_name":"keys"}`, api.NoSuchEntity)
	callFails(t, c, "get_group_policy", `{"group_name":"Finance","policy_name":"pass"}`, api.NoSuchEntity)
	callFails(t, c, "get_policy", `{"policy_arn":"arn:aws:iam::123456789012:policy/Everything"}`, api.NoSuchEntity)
	callFails(t, c, "get_role", `{"role_name":"open"}`, api.NoSuchEntity)
	if v := call[api.ListPolicyVersionsOutput](t, c, "list_policy_versions", `{"policy_arn":"`+narrowARN+`"}`); len(v.Versions) != 1 {
		t.Errorf("a refused version was stored: %+v", v.Versions)
	}
	if r := call[api.GetRoleOutput](t, c, "get_role", `{"role_name":"lambda-exec"}`); !strings.Contains(string(r.Role.AssumeRolePolicyDocument), "lambda.amazonaws.com") || len(r.AttachedPolicies) != 1 {
		t.Errorf("a refused write changed lambda-exec: %+v", r)
	}
	if u := call[api.GetUserOutput](t, c, "get_user", `{"user_name":"farid.haddad"}`); len(u.AttachedPolicies) != 0 {
		t.Errorf("a refused attach happened: %+v", u.AttachedPolicies)
	}
}

// TestGuardrailsLetOrdinaryWritesThrough: broad but not escalating grants,
// scoped or conditioned escalation, and trust with a condition are written;
// unknown actions are warnings, folded when many.
func TestGuardrailsLetOrdinaryWritesThrough(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	for _, arn := range []string{"AmazonS3FullAccess", "ReadOnlyAccess", "SecurityAudit", "IAMReadOnlyAccess"} {
		if r := call[api.Result](t, c, "attach_user_policy", `{"user_name":"farid.haddad","policy_arn":"arn:aws:iam::aws:policy/`+arn+`"}`); len(r.Warnings) != 0 {
			t.Errorf("%s: warnings %q", arn, r.Warnings)
		}
	}
	scoped := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::123456789012:user/${aws:username}"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"data"}}}]}`
	if r := call[api.Result](t, c, "put_user_policy", `{"user_name":"farid.haddad","policy_name":"own-keys","policy_document":`+scoped+`}`); len(r.Warnings) != 0 {
		t.Errorf("scoped escalation: warnings %q", r.Warnings)
	}
	call[api.RoleOutput](t, c, "create_role", `{"role_name":"vendor","assume_role_policy_document":`+vendorTrustDoc+`}`)

	// Fifty actions unknown to the catalogue: one folded warning.
	r := call[api.Result](t, c, "put_role_policy", `{"role_name":"lambda-exec","policy_name":"new-api","policy_document":`+bigDocument(1500)+`}`)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "UNKNOWN_ACTION") || !strings.Contains(r.Warnings[0], "more") {
		t.Errorf("unknown actions: warnings %q", r.Warnings)
	}
}

// TestGuardrailsRefuseMalformed: ERROR findings refuse whatever the flag,
// with the place, before IAM is asked.
func TestGuardrailsRefuseMalformed(t *testing.T) {
	c := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	bad := `{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]}`
	msg := callFails(t, c, "put_user_policy", `{"user_name":"farid.haddad","policy_name":"bad","policy_document":`+bad+`}`, api.MalformedPolicyDocument)
	for _, w := range []string{"UNKNOWN_CONDITION_OPERATOR", `statement 0 (Sid "X")`, "StringEqualz", "nothing was written"} {
		if !strings.Contains(msg, w) {
			t.Errorf("refusal does not say %q: %s", w, msg)
		}
	}
	callFails(t, c, "get_user_policy", `{"user_name":"farid.haddad","policy_name":"bad"}`, api.NoSuchEntity)
}

// TestGuardrailsAllowRisky: with --allow-risky-policies the write is made
// and every risk is listed in the result.
func TestGuardrailsAllowRisky(t *testing.T) {
	c := newTestCatalogueWith(t, "demo", Options{AllowRiskyPolicies: true})
	r := call[api.Result](t, c, "attach_group_policy", `{"group_name":"Finance","policy_arn":"arn:aws:iam::aws:policy/PowerUserAccess"}`)
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "--allow-risky-policies") || !strings.Contains(r.Warnings[0], "sts:AssumeRole") {
		t.Fatalf("warnings %q", r.Warnings)
	}
	g := call[api.GetGroupOutput](t, c, "get_group", `{"group_name":"Finance"}`)
	if len(g.AttachedPolicies) != 2 {
		t.Fatalf("PowerUserAccess not attached: %+v", g.AttachedPolicies)
	}
}

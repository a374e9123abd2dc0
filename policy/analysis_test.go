package policy

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func aMustParse(t *testing.T, s string) *Document {
	t.Helper()
	d, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

// powerUserAccess is AWS's PowerUserAccess managed policy, as published.
const powerUserAccess = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["account:GetAccountInformation", "account:GetPrimaryEmail", "account:ListRegions",
      "iam:CreateServiceLinkedRole", "iam:DeleteServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"],
     "Resource": "*"}
  ]
}`

func TestAdminEquivalent(t *testing.T) {
	cases := []struct {
		name, doc string
		want      bool
		reason    string // substring of the reason
	}{
		{"AdministratorAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true, "every action"},
		{"star colon star, mixed case", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["*:*"],"Resource":["*"]}}`, true, "every action"},
		{"IAMFullAccess", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount"],"Resource":"*"}]}`, true, "every IAM action"},
		{"IAM upper case wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"IAM:*","Resource":"*"}]}`, true, "every IAM action"},
		{"NotAction s3 leaves IAM open", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, true, "every IAM action"},
		{"NotAction closes part of IAM", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:Delete*","iam:Create*"],"Resource":"*"}]}`, true, "NotAction"},
		{"NotAction closes IAM and organizations", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`, false, "leaves no IAM write"},
		{"PowerUserAccess", powerUserAccess, false, "leaves no IAM write"},
		{"conditioned admin", `{"Version":"2012-10-17","Statement":[{"Sid":"MFA","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, false, "only from statements with conditions (statement 0 (Sid \"MFA\"))"},
		{"admin on one bucket only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}]}`, false, "no unconditional Allow"},
		{"deny IAM takes it away", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, false, "not admin-equivalent"},
		{"conditioned deny does not", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, true, "every action"},
		{"NotResource counts as star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::secret"}]}`, true, "every action"},
		{"read only IAM", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`, false, "neither every action"},
		{"no statements", `{"Version":"2012-10-17","Statement":[]}`, false, "no unconditional Allow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := AdminEquivalent(aMustParse(t, c.doc))
			if got != c.want || !strings.Contains(why, c.reason) {
				t.Errorf("AdminEquivalent = %v, %q; want %v and a reason containing %q", got, why, c.want, c.reason)
			}
		})
	}
	if got, why := AdminEquivalent(nil); got || why == "" {
		t.Errorf("AdminEquivalent(nil) = %v, %q", got, why)
	}
}

func TestSensitiveActionsOnStar(t *testing.T) {
	cases := []struct {
		name, doc string
		has       []string // must be in the result
		hasNot    []string // must not be
		empty     bool
	}{
		{"PassRole on star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:passrole","Resource":"*"}]}`, []string{"iam:PassRole"}, []string{"iam:CreateAccessKey"}, false},
		{"PassRole on one role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app"}]}`, nil, nil, true},
		{"PassRole conditioned", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}]}`, nil, nil, true},
		{"iam Put wildcard", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:Put*","Resource":"*"}]}`, []string{"iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPolicy", "iam:PutRolePermissionsBoundary"}, []string{"iam:PassRole"}, false},
		{"ssm wildcard expands", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:Get*","Resource":"*"}]}`, []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"}, []string{"s3:GetObject"}, false},
		{"question mark", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjec?","Resource":"*"}]}`, []string{"s3:GetObject"}, nil, false},
		{"PowerUser via NotAction", powerUserAccess, []string{"sts:AssumeRole", "lambda:CreateFunction", "kms:Decrypt", "secretsmanager:GetSecretValue", "s3:GetObject", "ec2:RunInstances"}, []string{"iam:PassRole", "iam:AttachUserPolicy"}, false},
		{"deny subtracts", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["iam:*","kms:*"],"Resource":"*"}]}`, []string{"s3:GetObject"}, []string{"iam:PassRole", "kms:Decrypt"}, false},
		{"harmless", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets","ec2:Describe*"],"Resource":"*"}]}`, nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SensitiveActionsOnStar(aMustParse(t, c.doc))
			if c.empty && len(got) != 0 {
				t.Errorf("got %v, want none", got)
			}
			if !slices.IsSorted(got) {
				t.Errorf("not sorted: %v", got)
			}
			for _, a := range c.has {
				if !slices.Contains(got, a) {
					t.Errorf("missing %s in %v", a, got)
				}
			}
			for _, a := range c.hasNot {
				if slices.Contains(got, a) {
					t.Errorf("unexpected %s in %v", a, got)
				}
			}
		})
	}
	// Every table entry is reported for "*" on "*".
	all := SensitiveActionsOnStar(aMustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`))
	if want := aSensitiveActions(false); len(all) != len(want) {
		t.Errorf("admin policy: %d sensitive actions, table has %d", len(all), len(want))
	}
}

func TestTrustRisks(t *testing.T) {
	const acct = "111122223333"
	type f struct{ kind, principal string }
	cases := []struct {
		name, doc string
		account   string
		want      []f
		msg       string // substring of the first finding's message
	}{
		{"anyone", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, acct,
			[]f{{"anyone", "*"}}, "with no condition"},
		{"anyone AWS star with condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}`, acct,
			[]f{{"anyone", "*"}}, "limited only by conditions on aws:PrincipalOrgID"},
		{"other account root, no condition", `{"Version":"2012-10-17","Statement":[{"Sid":"X","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`, acct,
			[]f{{"other-account-unconditioned", "arn:aws:iam::444455556666:root"}}, "confused deputy"},
		{"other account id and role ARN", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::777788889999:role/ci"]},"Action":"sts:AssumeRole"}]}`, acct,
			[]f{{"other-account-unconditioned", "444455556666"}, {"other-account-unconditioned", "arn:aws:iam::777788889999:role/ci"}}, "account 444455556666"},
		{"other account with ExternalId", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc"}}}]}`, acct,
			[]f{{"other-account", "arn:aws:iam::444455556666:root"}}, "sts:ExternalId"},
		{"other account with a non-ExternalId condition", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, acct,
			[]f{{"other-account", "arn:aws:iam::444455556666:root"}}, "none of them is sts:ExternalId"},
		{"same account", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","111122223333","arn:aws:iam::111122223333:user/alice"]},"Action":"sts:AssumeRole"}]}`, acct,
			nil, ""},
		{"same account but account unknown", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`, "",
			[]f{{"other-account-unconditioned", "arn:aws:iam::111122223333:root"}}, ""},
		{"service principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`, acct,
			nil, ""},
		{"deny is not a risk", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}`, acct,
			nil, ""},
		{"TagSession only is not an assume", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}`, acct,
			nil, ""},
		{"wildcard action assumes", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:*"}]}`, acct,
			[]f{{"other-account-unconditioned", "444455556666"}}, ""},
		{"NotPrincipal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`, acct,
			[]f{{"anyone", "*"}}, "NotPrincipal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := TrustRisks(aMustParse(t, c.doc), c.account)
			var kinds []f
			for _, g := range got {
				kinds = append(kinds, f{g.Kind, g.Principal})
			}
			if !reflect.DeepEqual(kinds, c.want) {
				t.Fatalf("TrustRisks = %+v, want %v", got, c.want)
			}
			if c.msg != "" && !strings.Contains(got[0].Message, c.msg) {
				t.Errorf("message %q lacks %q", got[0].Message, c.msg)
			}
		})
	}
	got := TrustRisks(aMustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},{"Sid":"B","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]}`), acct)
	if len(got) != 2 || got[1].Statement != 1 || got[1].Sid != "B" {
		t.Errorf("statement/Sid not reported: %+v", got)
	}
}

package review

import (
	"testing"
)

// The principal graph reads policies an attacker may have written (an
// identity policy of its own, a role's trust policy). Whatever they hold,
// the whole review — the graph, every finding and every plan with its
// check — neither panics nor hangs, and an escalation finding always
// carries its path and a checked plan.
func FuzzEscalationGraph(f *testing.F) {
	f.Add(allowDoc(`["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"]`, `"*"`), lambdaTrustDoc)
	f.Add(allowDoc(`"iam:PutUserPolicy"`, `"arn:aws:iam::123456789012:user/${aws:username}"`), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","NotResource":"arn:aws:iam::*:role/x"},{"Effect":"Deny","Action":"iam:Pass*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/attacker"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"aws:PrincipalArn":"*"}}}]}`)
	f.Add(allowDoc(`["iam:AddUserToGroup","iam:CreateAccessKey","iam:UpdateAssumeRolePolicy","sts:AssumeRole","iam:CreatePolicyVersion"]`, `"*"`), `not json`)
	f.Fuzz(func(t *testing.T, identity, trust string) {
		if len(identity) > 4096 || len(trust) > 4096 {
			return
		}
		fx := newFixture()
		admin := fx.awsPolicy("AdministratorAccess", allowDoc(`"*"`, `"*"`))
		own := fx.customerPolicy("Own", identity)
		fx.group("Admins", nil, admin)
		fx.user("boss", "/", []string{"Admins"}, nil)
		fx.user("attacker", "/", nil, map[string]string{"inline": identity}, own)
		fx.role("target", "/", trust, admin)
		fx.role("fn", "/", lambdaTrustDoc, own)
		rep := reviewAll(t, fx.host(1000))
		for _, rule := range []string{RuleEscalationConfirmed, RuleEscalationPotential} {
			for _, fd := range find(rep, rule, "") {
				if len(fd.Path) == 0 || fd.Remediation.Check == nil || len(fd.Remediation.Steps) == 0 {
					t.Fatalf("%s on %s: path %v, plan %+v", rule, fd.PrincipalName, fd.Path, fd.Remediation)
				}
			}
		}
		for _, fd := range rep.Findings {
			if fd.Remediation.Check == nil {
				t.Fatalf("%s on %s: plan not checked", fd.RuleID, fd.PrincipalName)
			}
		}
	})
}

package sandbox

import "fmt"

// The org seed: Acme's AWS Organization, four accounts with cross-account
// problems planted for an organisation-wide access review to find.
//
//	123456789012 acme-management  management account (root of the org)
//	├── OU Infrastructure
//	│   └── 222222222222 acme-shared
//	└── OU Workloads
//	    ├── 333333333333 acme-dev     (SCP DenyIAMPolicyRewrites)
//	    └── 444444444444 acme-prod
//
// Planted (each marked "planted" below):
//
//  1. A prod role trusted by all of dev: prod's dev-deploy trusts
//     arn:aws:iam::333333333333:root with no condition, so every principal
//     of dev whose own policy allows sts:AssumeRole on it gets in. dev-ci
//     (sts:AssumeRole on *) reaches it; dev-reader (ReadOnlyAccess, no
//     sts:AssumeRole) does not.
//  2. A chain dev → shared → prod ending in admin: dev-engineer may assume
//     shared's shared-tooling (which trusts that user), and shared-tooling
//     may assume prod's prod-admin (which trusts shared-tooling and has
//     AdministratorAccess).
//  3. An escalation an SCP blocks: dev-intern may create and set the
//     default version of any managed policy — and has a customer managed
//     policy attached, so it could rewrite its own permissions — but the
//     SCP DenyIAMPolicyRewrites on the dev account denies those actions.
//     The same escalation is planted in shared (shared-intern), where no
//     SCP blocks it: a review must report shared's and not dev's.
//
// The management account holds the operator the MCP server signs as under
// --sandbox-seed org (a root cannot assume roles): iam-mcp-operator, with
// AdministratorAccess and the access key OrgOperatorKeyID. Every member has
// OrganizationAccountAccessRole, as AWS creates it.

// The org seed's account ids.
const (
	OrgManagementID = AccountID
	OrgSharedID     = "222222222222"
	OrgDevID        = "333333333333"
	OrgProdID       = "444444444444"
)

// The org seed's operator: an IAM user of the management account with
// AdministratorAccess, whose access key signs the MCP server's requests.
// The sandbox checks no signatures, so the secret is only what a client
// needs to have to sign at all.
const (
	OrgOperatorUser      = "iam-mcp-operator"
	OrgOperatorKeyID     = "AKIAORGOPERATOR0EXMPL"
	OrgOperatorSecretKey = "orgOperatorSecretNotCheckedBySandbox0000"
)

// orgDenyRewrites is the SCP on dev that blocks the policy-rewrite
// escalation (planted 3).
const orgDenyRewrites = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyIAMPolicyRewrites","Effect":"Deny","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion","iam:AttachUserPolicy","iam:PutUserPolicy"],"Resource":"*"}]}`

// orgSeedLayout gives opts the org seed's organisation.
func orgSeedLayout(opts Options) Options {
	opts.AccountID = OrgManagementID
	opts.AccountName = "acme-management"
	opts.OUs = []OU{{Name: "Infrastructure"}, {Name: "Workloads"}}
	opts.Members = []Member{
		{ID: OrgSharedID, Name: "acme-shared", Email: "aws-shared@acme.example", ParentOU: "Infrastructure"},
		{ID: OrgDevID, Name: "acme-dev", Email: "aws-dev@acme.example", ParentOU: "Workloads"},
		{ID: OrgProdID, Name: "acme-prod", Email: "aws-prod@acme.example", ParentOU: "Workloads"},
	}
	opts.SCPs = []SCP{{
		Name: "DenyIAMPolicyRewrites", Description: "No rewriting of IAM policies in dev",
		Document: orgDenyRewrites, Targets: []string{OrgDevID},
	}}
	return opts
}

// Documents of the org seed.
const (
	orgAssumeAny         = `{"Version":"2012-10-17","Statement":[{"Sid":"AssumeAnyRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	orgAssumeTooling     = `{"Version":"2012-10-17","Statement":[{"Sid":"SharedTooling","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::222222222222:role/shared-tooling"}]}`
	orgAssumeProdAdmin   = `{"Version":"2012-10-17","Statement":[{"Sid":"ProdAdmin","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::444444444444:role/prod-admin"}]}`
	orgTrustDevAccount   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:root"},"Action":"sts:AssumeRole"}]}`
	orgTrustDevEngineer  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:user/dev-engineer"},"Action":"sts:AssumeRole"}]}`
	orgTrustTooling      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/shared-tooling"},"Action":"sts:AssumeRole"}]}`
	orgDeployAccess      = `{"Version":"2012-10-17","Statement":[{"Sid":"Deploy","Effect":"Allow","Action":["ec2:*","s3:*","lambda:*"],"Resource":"*"}]}`
	orgPolicyRewrite     = `{"Version":"2012-10-17","Statement":[{"Sid":"ManagePolicies","Effect":"Allow","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion"],"Resource":"*"}]}`
	orgInternTools       = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadBuckets","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	orgEC2Trust          = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	orgLambdaTrustSource = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}]}`
)

// seedOrg fills the org seed's accounts that are new.
func seedOrg(s *Server, fresh map[string]bool) error {
	fills := []struct {
		id   string
		fill func(*seeder)
	}{
		{OrgManagementID, seedOrgManagement},
		{OrgSharedID, seedOrgShared},
		{OrgDevID, seedOrgDev},
		{OrgProdID, seedOrgProd},
	}
	for _, f := range fills {
		if !fresh[f.id] {
			continue
		}
		acct := s.realm.accounts[f.id]
		sd := &seeder{s: acct}
		f.fill(sd)
		if sd.err != nil {
			return fmt.Errorf("sandbox: org seed, account %s: %w", f.id, sd.err)
		}
	}
	return nil
}

const awsPolicy = "arn:aws:iam::aws:policy/"

// user creates a user with managed policies attached and an access key.
func (sd *seeder) user(name string, managed ...string) {
	sd.do("CreateUser", "UserName", name)
	for _, p := range managed {
		sd.do("AttachUserPolicy", "UserName", name, "PolicyArn", p)
	}
	sd.do("CreateAccessKey", "UserName", name)
}

func (sd *seeder) localPolicy(name string) string {
	return "arn:aws:iam::" + sd.s.id + ":policy/" + name
}

func seedOrgManagement(sd *seeder) {
	s := sd.s
	sd.do("CreateAccountAlias", "AccountAlias", "acme-management")
	sd.do("CreateUser", "UserName", OrgOperatorUser)
	sd.do("AttachUserPolicy", "UserName", OrgOperatorUser, "PolicyArn", awsPolicy+"AdministratorAccess")
	sd.do("CreateAccessKey", "UserName", OrgOperatorUser)
	if sd.err != nil {
		return
	}
	// The operator's key has a documented id, so that the MCP server (and
	// a person trying the sandbox) can sign as the operator with no setup.
	u := s.acct.Users[key(OrgOperatorUser)]
	k := u.AccessKeys[len(u.AccessKeys)-1]
	k.ID, k.Secret = OrgOperatorKeyID, OrgOperatorSecretKey
	s.keyAdded()
	sd.do("CreateGroup", "GroupName", "Billing")
	sd.do("AttachGroupPolicy", "GroupName", "Billing", "PolicyArn", awsPolicy+"job-function/ViewOnlyAccess")
	sd.do("CreateUser", "UserName", "finance.lead")
	sd.do("AddUserToGroup", "GroupName", "Billing", "UserName", "finance.lead")
	sd.do("CreateRole", "RoleName", "security-audit", "AssumeRolePolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+s.id+`:root"},"Action":"sts:AssumeRole"}]}`)
	sd.do("AttachRolePolicy", "RoleName", "security-audit", "PolicyArn", awsPolicy+"SecurityAudit")
}

func seedOrgShared(sd *seeder) {
	sd.do("CreateAccountAlias", "AccountAlias", "acme-shared")
	// Planted 2: the middle of the chain. It trusts dev's dev-engineer, and
	// may assume prod's prod-admin.
	sd.do("CreateRole", "RoleName", "shared-tooling", "AssumeRolePolicyDocument", orgTrustDevEngineer, "Description", "Tooling shared by the teams")
	sd.do("PutRolePolicy", "RoleName", "shared-tooling", "PolicyName", "reach-prod-admin", "PolicyDocument", orgAssumeProdAdmin)
	// Planted 3, unblocked: the same escalation as dev-intern's, with no
	// SCP on this account to stop it.
	sd.do("CreatePolicy", "PolicyName", "InternTools", "PolicyDocument", orgInternTools)
	sd.user("shared-intern", sd.localPolicy("InternTools"))
	sd.do("PutUserPolicy", "UserName", "shared-intern", "PolicyName", "policy-rewrite", "PolicyDocument", orgPolicyRewrite)
	sd.user("build-bot", awsPolicy+"ReadOnlyAccess")
	sd.do("CreateRole", "RoleName", "log-collector", "AssumeRolePolicyDocument", orgEC2Trust)
	sd.do("AttachRolePolicy", "RoleName", "log-collector", "PolicyArn", awsPolicy+"AmazonEC2ReadOnlyAccess")
}

func seedOrgDev(sd *seeder) {
	sd.do("CreateAccountAlias", "AccountAlias", "acme-dev")
	// Planted 1: dev-ci may assume any role, prod's dev-deploy included;
	// dev-reader may not (no sts:AssumeRole).
	sd.user("dev-ci")
	sd.do("PutUserPolicy", "UserName", "dev-ci", "PolicyName", "assume-any", "PolicyDocument", orgAssumeAny)
	sd.user("dev-reader", awsPolicy+"ReadOnlyAccess")
	// Planted 2: the start of the chain.
	sd.user("dev-engineer", awsPolicy+"PowerUserAccess")
	sd.do("PutUserPolicy", "UserName", "dev-engineer", "PolicyName", "shared-tooling", "PolicyDocument", orgAssumeTooling)
	// Planted 3, blocked by the SCP DenyIAMPolicyRewrites on this account.
	sd.do("CreatePolicy", "PolicyName", "InternTools", "PolicyDocument", orgInternTools)
	sd.user("dev-intern", sd.localPolicy("InternTools"))
	sd.do("PutUserPolicy", "UserName", "dev-intern", "PolicyName", "policy-rewrite", "PolicyDocument", orgPolicyRewrite)
	sd.do("CreateRole", "RoleName", "dev-app", "AssumeRolePolicyDocument", fmt.Sprintf(orgLambdaTrustSource, sd.s.id))
	sd.do("AttachRolePolicy", "RoleName", "dev-app", "PolicyArn", awsPolicy+"service-role/AWSLambdaBasicExecutionRole")
}

func seedOrgProd(sd *seeder) {
	sd.do("CreateAccountAlias", "AccountAlias", "acme-prod")
	// Planted 1: trusted by every principal of dev.
	sd.do("CreatePolicy", "PolicyName", "DeployAccess", "PolicyDocument", orgDeployAccess, "Description", "What deployments change")
	sd.do("CreateRole", "RoleName", "dev-deploy", "AssumeRolePolicyDocument", orgTrustDevAccount, "Description", "Deployments from dev")
	sd.do("AttachRolePolicy", "RoleName", "dev-deploy", "PolicyArn", sd.localPolicy("DeployAccess"))
	// Planted 2: the end of the chain.
	sd.do("CreateRole", "RoleName", "prod-admin", "AssumeRolePolicyDocument", orgTrustTooling, "Description", "Production administration")
	sd.do("AttachRolePolicy", "RoleName", "prod-admin", "PolicyArn", awsPolicy+"AdministratorAccess")
	sd.user("prod-oncall", awsPolicy+"ReadOnlyAccess")
	sd.do("CreateRole", "RoleName", "prod-app", "AssumeRolePolicyDocument", orgEC2Trust)
	sd.do("AttachRolePolicy", "RoleName", "prod-app", "PolicyArn", awsPolicy+"AmazonS3ReadOnlyAccess")
}

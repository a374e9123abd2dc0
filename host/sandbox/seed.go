package sandbox

import (
	"fmt"
	"net/url"
	"time"
)

// Seeds are named data sets new accounts start with. A seed is given the
// management account (the only one without an organisation) and the ids of
// the accounts that are new, which it fills; an account loaded from its
// state file is left as it is.
var seeds = map[string]func(s *Server, fresh map[string]bool) error{
	"":     func(*Server, map[string]bool) error { return nil },
	"demo": onlyFresh(seedDemo),
	"org":  seedOrg,
}

// SeedNames lists the seeds Options.Seed accepts, for flag help.
func SeedNames() []string { return []string{"demo", "org"} }

func (s *Server) applySeed(name string, fresh map[string]bool) error {
	apply, ok := seeds[name]
	if !ok {
		return fmt.Errorf("sandbox: unknown seed %q (known: %v)", name, SeedNames())
	}
	return apply(s, fresh)
}

// onlyFresh applies a one-account seed to the management account when it
// is new.
func onlyFresh(seed func(*Server) error) func(*Server, map[string]bool) error {
	return func(s *Server, fresh map[string]bool) error {
		if !fresh[s.id] {
			return nil
		}
		return seed(s)
	}
}

// seeder runs actions through the same handlers as requests, so seeded data
// obeys every rule a client would meet; the first failure sticks.
type seeder struct {
	s   *Server
	err error
}

func (sd *seeder) do(action string, kv ...string) any {
	if sd.err != nil {
		return nil
	}
	form := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Add(kv[i], kv[i+1])
	}
	out, err := sd.s.do(action, form)
	sd.err = err
	return out
}

// Documents the demo account uses.
const (
	ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// Planted: a service principal trusted without aws:SourceAccount or
	// aws:SourceArn, so that the service acting for another account's
	// resources could assume it (confused deputy).
	lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	// A service trust done right, for contrast: ECS tasks of this account
	// only.
	ecsTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:ecs:*:123456789012:*"},"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}`
	// Planted: GitHub's OIDC provider trusted with an audience check only,
	// no sub condition, so a workflow of any repository on GitHub can
	// assume the role.
	githubTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}]}`
	// The account's own principals, as their policies allow.
	accountTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	// Planted: anyone in any account may assume it.
	openTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	// Planted: another account, no sts:ExternalId condition (confused deputy).
	partnerTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"sts:AssumeRole"}]}`
	// The right way for a third party: an external id.
	vendorTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::345678901234:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"vendor-7f3a9c"}}}]}`

	dataLakeRead = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadDataLake","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-data-lake","arn:aws:s3:::acme-data-lake/*"]}]}`
	deployV1     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudformation:*","s3:PutObject"],"Resource":"*"}]}`
	deployV2     = `{"Version":"2012-10-17","Statement":[{"Sid":"Stacks","Effect":"Allow","Action":"cloudformation:*","Resource":"arn:aws:cloudformation:*:123456789012:stack/app-*/*"},{"Sid":"Artifacts","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-artifacts/*"},{"Sid":"PassAppRole","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::123456789012:role/service/ec2-app-role"}]}`
	devBoundary  = `{"Version":"2012-10-17","Statement":[{"Sid":"WorkloadServices","Effect":"Allow","Action":["s3:*","dynamodb:*","lambda:*","logs:*","cloudwatch:*","sqs:*"],"Resource":"*"},{"Sid":"NoIAMChanges","Effect":"Deny","Action":["iam:Create*","iam:Delete*","iam:Put*","iam:Attach*","iam:Detach*"],"Resource":"*"}]}`
	supportRead  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*","cloudwatch:Get*","cloudwatch:List*","logs:Get*"],"Resource":"*"}]}`
	// Planted: a user with full access through an inline policy.
	breakGlass = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	etlInline  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::acme-etl/*"}]}`
	// Planted: privilege escalation on every resource — a new default
	// version of any customer policy, and passing any role to an instance
	// launched on purpose.
	selfServiceIAM = `{"Version":"2012-10-17","Statement":[{"Sid":"ManageTeamPolicies","Effect":"Allow","Action":"iam:CreatePolicyVersion","Resource":"*"},{"Sid":"LaunchBuildHosts","Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}]}`
	// Planted: an administrator policy nobody uses, left to be attached.
	legacyAdmin = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	// Planted: a sensitive action (credentials exposure) on every resource.
	readAllSecrets = `{"Version":"2012-10-17","Statement":[{"Sid":"AppSecrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	// Planted: a chain to administrator. Support may assume the runbook
	// role; the runbook role may assume any role under /ops/, and one of
	// them is an administrator's.
	runbookAccess     = `{"Version":"2012-10-17","Statement":[{"Sid":"Runbooks","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/ops/support-automation"}]}`
	runbookRolePolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"OpsRoles","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/ops/*"}]}`
	opsAdminTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/ops/support-automation"},"Action":"sts:AssumeRole"}]}`
)

// demoUser is one person or service of the demo organisation.
type demoUser struct {
	name, path string
	groups     []string
	console    bool // has a login profile
	mfa        bool
}

// seedDemo builds Acme Corp: about 25 users across paths and groups,
// service and cross-account roles, customer policies, and the problems an
// access review should find (each marked "planted" below).
func seedDemo(s *Server) error {
	sd := &seeder{s: s}
	now := s.now().UTC()
	daysAgo := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	const aws = "arn:aws:iam::aws:policy/"
	local := func(path, name string) string { return "arn:aws:iam::" + s.id + ":policy" + path + name }

	// Customer managed policies.
	sd.do("CreatePolicy", "PolicyName", "DataLakeRead", "Path", "/data/", "PolicyDocument", dataLakeRead, "Description", "Read the analytics data lake")
	sd.do("CreatePolicy", "PolicyName", "DeployPipeline", "Path", "/ci/", "PolicyDocument", deployV1, "Description", "What the CI pipeline deploys with")
	sd.do("CreatePolicyVersion", "PolicyArn", local("/ci/", "DeployPipeline"), "PolicyDocument", deployV2, "SetAsDefault", "true")
	sd.do("CreatePolicy", "PolicyName", "DeveloperBoundary", "Path", "/boundaries/", "PolicyDocument", devBoundary, "Description", "Permissions boundary for developer-created identities")
	sd.do("CreatePolicy", "PolicyName", "SupportRead", "Path", "/ops/", "PolicyDocument", supportRead)
	sd.do("CreatePolicy", "PolicyName", "SelfServiceIAM", "Path", "/eng/", "PolicyDocument", selfServiceIAM, "Description", "Engineers update their team's policies and launch build hosts")
	sd.do("CreatePolicy", "PolicyName", "LegacyAdmin", "PolicyDocument", legacyAdmin, "Description", "Administrator access from before SSO; kept just in case")
	sd.do("CreatePolicy", "PolicyName", "ReadAllSecrets", "Path", "/service/", "PolicyDocument", readAllSecrets, "Description", "Application secrets")
	sd.do("CreatePolicy", "PolicyName", "RunbookAccess", "Path", "/ops/", "PolicyDocument", runbookAccess, "Description", "Support runs runbooks through the automation role")

	// Groups and what they grant.
	groups := []struct {
		name, path string
		policies   []string
	}{
		{"Admins", "/", []string{aws + "AdministratorAccess"}},
		{"Developers", "/eng/", []string{aws + "PowerUserAccess", aws + "IAMUserChangePassword"}},
		{"DataScience", "/data/", []string{local("/data/", "DataLakeRead"), aws + "AmazonS3ReadOnlyAccess"}},
		{"Support", "/ops/", []string{local("/ops/", "SupportRead"), aws + "ReadOnlyAccess", local("/ops/", "RunbookAccess")}},
		{"Auditors", "/security/", []string{aws + "SecurityAudit"}},
		{"Finance", "/finance/", []string{aws + "job-function/ViewOnlyAccess"}},
	}
	for _, g := range groups {
		sd.do("CreateGroup", "GroupName", g.name, "Path", g.path)
		for _, p := range g.policies {
			sd.do("AttachGroupPolicy", "GroupName", g.name, "PolicyArn", p)
		}
	}

	users := []demoUser{
		{"alice.nguyen", "/eng/", []string{"Admins", "Developers"}, true, false}, // planted: administrator without MFA
		{"bob.martin", "/eng/", []string{"Admins"}, true, true},
		{"carol.diaz", "/eng/", []string{"Developers"}, true, true},
		{"dan.okafor", "/eng/", []string{"Developers"}, true, true},
		{"erin.walsh", "/eng/", []string{"Developers"}, true, true},
		{"farid.haddad", "/eng/", []string{"Developers"}, false, false},
		{"grace.kim", "/data/", []string{"DataScience"}, true, true},
		{"hiro.tanaka", "/data/", []string{"DataScience"}, true, true},
		{"isla.moreau", "/data/", []string{"DataScience"}, false, false}, // planted: two active keys
		{"jonas.berg", "/ops/", []string{"Support"}, true, false},        // planted: console user without MFA
		{"kara.singh", "/ops/", []string{"Support"}, true, true},
		{"liam.obrien", "/ops/", []string{"Support", "Developers"}, true, true},
		{"maya.cohen", "/security/", []string{"Auditors"}, true, true},
		{"nico.rossi", "/security/", []string{"Auditors"}, true, true},
		{"olivia.chen", "/finance/", []string{"Finance"}, true, true},
		{"pablo.ruiz", "/finance/", []string{"Finance"}, true, true},
		{"quinn.taylor", "/contractors/", nil, false, false}, // planted: inline *:* policy
		{"rosa.silva", "/contractors/", []string{"Developers"}, true, true},
		{"sam.lee", "/eng/", []string{"Developers"}, true, true},
		{"tara.bose", "/eng/", []string{"Developers"}, true, true},
		{"ci-deploy", "/service/", nil, false, false},  // planted: key older than 400 days
		{"legacy-etl", "/service/", nil, false, false}, // planted: key unused for 200 days
		{"backup-agent", "/service/", nil, false, false},
		{"monitoring-bot", "/service/", nil, false, false},
		{"former.employee", "/eng/", nil, true, false}, // planted: console password unused for 150 days
	}
	for i, u := range users {
		sd.do("CreateUser", "UserName", u.name, "Path", u.path)
		for _, g := range u.groups {
			sd.do("AddUserToGroup", "GroupName", g, "UserName", u.name)
		}
		if u.console {
			sd.do("CreateLoginProfile", "UserName", u.name, "Password", "Demo-Passw0rd!"+u.name)
		}
		if sd.err != nil {
			return sd.err
		}
		usr := s.acct.Users[key(u.name)]
		usr.Created = daysAgo(700 - 20*i)
		if u.console {
			// The password was set with the profile and never changed.
			usr.LoginProfile.Created, usr.LoginProfile.PasswordSet = usr.Created, usr.Created
			used := daysAgo(1 + i%9)
			if u.name == "former.employee" {
				used = daysAgo(150) // planted: left, but can still sign in
			}
			usr.PasswordLastUsed = &used
		}
		if u.mfa {
			serial := arn(s.id, "mfa", "/", u.name)
			sd.do("CreateVirtualMFADevice", "VirtualMFADeviceName", u.name)
			if d := s.acct.MFADevices[serial]; d != nil {
				enabled := usr.Created.Add(time.Hour)
				d.User, d.Enabled = usr.Name, &enabled
			}
		}
	}
	// Developers work inside a boundary.
	for _, name := range []string{"carol.diaz", "dan.okafor", "erin.walsh", "sam.lee", "tara.bose"} {
		sd.do("PutUserPermissionsBoundary", "UserName", name, "PermissionsBoundary", local("/boundaries/", "DeveloperBoundary"))
	}
	sd.do("PutUserPolicy", "UserName", "quinn.taylor", "PolicyName", "break-glass", "PolicyDocument", breakGlass)
	sd.do("PutUserPolicy", "UserName", "legacy-etl", "PolicyName", "etl-bucket", "PolicyDocument", etlInline)
	sd.do("AttachUserPolicy", "UserName", "ci-deploy", "PolicyArn", local("/ci/", "DeployPipeline"))
	sd.do("AttachUserPolicy", "UserName", "monitoring-bot", "PolicyArn", aws+"ReadOnlyAccess")
	// Planted: privilege escalation (SelfServiceIAM) on a user outside the
	// developer boundary, which would deny iam:Create*.
	sd.do("AttachUserPolicy", "UserName", "liam.obrien", "PolicyArn", local("/eng/", "SelfServiceIAM"))

	// Access keys with their history.
	keys := []struct {
		user              string
		created, lastUsed int // days ago; -1 = never used
		service, region   string
	}{
		{"ci-deploy", 420, 1, "cloudformation", "eu-west-1"}, // planted: older than 400 days
		{"legacy-etl", 300, 200, "s3", "us-east-1"},          // planted: unused for 200 days
		{"isla.moreau", 90, 2, "s3", "us-west-2"},            // planted: two active keys…
		{"isla.moreau", 30, 3, "athena", "us-west-2"},        // …on one user
		{"backup-agent", 150, 0, "s3", "us-east-1"},          // planted: active, older than 90 days, in use today
		{"monitoring-bot", 45, 0, "logs", "us-east-1"},
		{"carol.diaz", 20, -1, "", ""}, // planted: never used
	}
	for _, k := range keys {
		out := sd.do("CreateAccessKey", "UserName", k.user)
		if sd.err != nil {
			return sd.err
		}
		u := s.acct.Users[key(k.user)]
		ak := u.AccessKeys[len(u.AccessKeys)-1]
		ak.Created = daysAgo(k.created)
		if k.lastUsed >= 0 {
			s.acct.KeyUse[ak.ID] = &KeyUse{When: daysAgo(k.lastUsed), Service: k.service, Region: k.region}
		}
		_ = out
	}

	// Roles.
	roles := []struct {
		name, path, trust, desc string
		policies                []string
	}{
		{"ec2-app-role", "/service/", ec2Trust, "Application servers", []string{local("/data/", "DataLakeRead")}},
		{"lambda-exec", "/service/", lambdaTrust, "Lambda functions", []string{aws + "service-role/AWSLambdaBasicExecutionRole"}}, // planted: service trust without a source condition (lambdaTrust)
		{"open-trust-role", "/", openTrust, "Left over from a proof of concept", []string{aws + "AmazonS3ReadOnlyAccess"}},        // planted: trust allows *
		{"partner-audit", "/partners/", partnerTrust, "Auditor in the partner account", []string{aws + "SecurityAudit"}},          // planted: cross-account, no external id
		{"vendor-integration", "/partners/", vendorTrust, "Monitoring vendor, with an external id", []string{aws + "ReadOnlyAccess"}},
		{"github-deploy", "/ci/", githubTrust, "GitHub Actions deployments", []string{local("/ci/", "DeployPipeline")}}, // planted: OIDC trust without sub
		{"orders-api", "/service/", ecsTrust, "Orders service tasks", []string{local("/service/", "ReadAllSecrets")}},   // planted: every secret readable
		// Planted: a chain to administrator (Support → support-automation → ops-admin).
		{"support-automation", "/ops/", accountTrust, "Runbook automation for the support team", nil},
		{"ops-admin", "/ops/", opsAdminTrust, "Operations administrator, for runbooks that change infrastructure", []string{aws + "AdministratorAccess"}},
	}
	for _, r := range roles {
		sd.do("CreateRole", "RoleName", r.name, "Path", r.path, "AssumeRolePolicyDocument", r.trust, "Description", r.desc)
		for _, p := range r.policies {
			sd.do("AttachRolePolicy", "RoleName", r.name, "PolicyArn", p)
		}
	}
	if sd.err != nil {
		return sd.err
	}
	// Dates, so that ages read like an account's history rather than all
	// "today": roles over the past two years, and customer policies (with
	// their versions) each when it was written.
	sd.do("PutRolePolicy", "RoleName", "support-automation", "PolicyName", "ops-roles", "PolicyDocument", runbookRolePolicy)
	for i, r := range roles {
		s.acct.Roles[key(r.name)].Created = daysAgo(650 - 70*i)
	}
	policyDates := map[string][]int{ // days ago of each version, v1 first
		local("/data/", "DataLakeRead"):            {640},
		local("/ci/", "DeployPipeline"):            {600, 300},
		local("/boundaries/", "DeveloperBoundary"): {560},
		local("/ops/", "SupportRead"):              {520},
		local("/eng/", "SelfServiceIAM"):           {60},
		local("/", "LegacyAdmin"):                  {900},
		local("/service/", "ReadAllSecrets"):       {120},
		local("/ops/", "RunbookAccess"):            {100},
	}
	for policyARN, days := range policyDates {
		p := s.acct.Policies[policyARN]
		for i, v := range p.Versions {
			v.Created = daysAgo(days[i])
		}
		p.Created, p.Updated = daysAgo(days[0]), daysAgo(days[len(days)-1])
	}
	sd.do("CreateInstanceProfile", "InstanceProfileName", "ec2-app", "Path", "/service/")
	sd.do("AddRoleToInstanceProfile", "InstanceProfileName", "ec2-app", "RoleName", "ec2-app-role")

	// Planted: a weak password policy.
	sd.do("UpdateAccountPasswordPolicy", "MinimumPasswordLength", "6", "AllowUsersToChangePassword", "true")
	sd.do("CreateAccountAlias", "AccountAlias", "acme-demo")
	if sd.err != nil {
		return sd.err
	}

	// Planted: a root user without MFA, with an active access key created
	// 400 days ago and used two days ago, and a recent console sign-in.
	rootSignIn := daysAgo(12)
	if err := s.setRoot(RootUser{PasswordLastUsed: &rootSignIn, AccessKeys: []*AccessKey{{Created: daysAgo(400)}}}); err != nil {
		return err
	}
	s.acct.KeyUse[s.acct.Root.AccessKeys[0].ID] = &KeyUse{When: daysAgo(2), Service: "s3", Region: "us-east-1"}

	// Service last accessed history: what each principal used and when.
	// Planted: services allowed but unused for 90 days or more (iam for
	// ci-deploy, rds for monitoring-bot, s3 for legacy-etl, the whole of
	// partner-audit), next to services in daily use.
	history := []struct {
		principal, action, region string
		daysAgo                   int
	}{
		{"user/service/ci-deploy", "cloudformation:UpdateStack", "eu-west-1", 1},
		{"user/service/ci-deploy", "s3:PutObject", "eu-west-1", 1},
		{"user/service/ci-deploy", "iam:GetRole", "eu-west-1", 210},
		{"user/service/legacy-etl", "s3:GetObject", "us-east-1", 200},
		{"user/service/monitoring-bot", "logs:FilterLogEvents", "us-east-1", 0},
		{"user/service/monitoring-bot", "ec2:DescribeInstances", "us-east-1", 2},
		{"user/service/monitoring-bot", "rds:DescribeDBInstances", "us-east-1", 130},
		{"user/data/isla.moreau", "s3:GetObject", "us-west-2", 2},
		{"user/eng/alice.nguyen", "iam:ListUsers", "us-east-1", 1},
		{"user/eng/alice.nguyen", "ec2:DescribeInstances", "eu-west-1", 4},
		{"user/eng/alice.nguyen", "s3:ListBucket", "eu-west-1", 10},
		{"user/eng/alice.nguyen", "organizations:DescribeOrganization", "us-east-1", 300},
		{"role/service/ec2-app-role", "s3:GetObject", "eu-west-1", 0},
		{"role/service/lambda-exec", "logs:PutLogEvents", "eu-west-1", 0},
		{"role/service/orders-api", "secretsmanager:GetSecretValue", "eu-west-1", 0},
		{"role/partners/partner-audit", "iam:GetAccountAuthorizationDetails", "us-east-1", 250},
		{"role/partners/vendor-integration", "ec2:DescribeInstances", "us-east-1", 1},
		{"role/ci/github-deploy", "cloudformation:UpdateStack", "eu-west-1", 3},
		{"role/ci/github-deploy", "s3:PutObject", "eu-west-1", 3},
		{"role/ops/support-automation", "sts:AssumeRole", "us-east-1", 5},
		{"role/ops/ops-admin", "ec2:DescribeInstances", "us-east-1", 5},
	}
	for _, h := range history {
		if err := s.recordHistory(arn(s.id, "", "", h.principal), h.action, h.region, daysAgo(h.daysAgo)); err != nil {
			return err
		}
	}
	return nil
}

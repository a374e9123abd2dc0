package sandbox

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// stateOf returns a state file's text with the account replaced by acct,
// a JSON object given as text.
func stateOf(acct string) string { return `{"format":1,"account":` + acct + `}` }

// exercise runs requests of every family against a loaded account, reads
// and changes, and fails on any answer that is a server failure: what a
// state the handlers cannot cope with turns into (a recovered panic, a
// nil map written, a save that fails).
func exercise(t *testing.T, sb *sandbox) {
	t.Helper()
	c := sb.iam
	serverFailure := func(what string, err error) {
		t.Helper()
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultServer {
			t.Fatalf("%s: %v", what, err)
		}
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	users := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{}))
	for _, u := range users.Users {
		n := u.UserName
		serverFailure("GetUser", second(c.GetUser(ctx, &iam.GetUserInput{UserName: n})))
		serverFailure("ListGroupsForUser", second(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: n})))
		serverFailure("ListAttachedUserPolicies", second(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: n})))
		serverFailure("ListUserPolicies", second(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: n})))
		serverFailure("ListAccessKeys", second(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: n})))
		serverFailure("ListMFADevices", second(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: n})))
		serverFailure("ListSigningCertificates", second(c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: n})))
		serverFailure("ListServiceSpecificCredentials", second(c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: n})))
		keys, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: n})
		serverFailure("ListSSHPublicKeys", err)
		if err == nil {
			for _, k := range keys.SSHPublicKeys {
				for _, enc := range []types.EncodingType{types.EncodingTypeSsh, types.EncodingTypePem} {
					serverFailure("GetSSHPublicKey", second(c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: n, SSHPublicKeyId: k.SSHPublicKeyId, Encoding: enc})))
				}
			}
		}
		serverFailure("SimulatePrincipalPolicy", second(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: u.Arn, ActionNames: []string{"iam:CreateUser", "s3:GetObject"}})))
		job, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: u.Arn, Granularity: types.AccessAdvisorUsageGranularityTypeActionLevel})
		serverFailure("GenerateServiceLastAccessedDetails", err)
		if err == nil {
			serverFailure("GetServiceLastAccessedDetails", second(c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId})))
		}
		serverFailure("DeleteUser", second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: n})))
	}
	groups := must[*iam.ListGroupsOutput](t)(c.ListGroups(ctx, &iam.ListGroupsInput{}))
	for _, g := range groups.Groups {
		serverFailure("GetGroup", second(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: g.GroupName})))
		serverFailure("SimulatePrincipalPolicy group", second(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: g.Arn, ActionNames: []string{"iam:CreateUser"}})))
	}
	roles := must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{}))
	for _, r := range roles.Roles {
		serverFailure("GetRole", second(c.GetRole(ctx, &iam.GetRoleInput{RoleName: r.RoleName})))
		serverFailure("ListInstanceProfilesForRole", second(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: r.RoleName})))
		serverFailure("SimulatePrincipalPolicy role", second(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: r.Arn, ActionNames: []string{"sts:AssumeRole"}})))
		serverFailure("DeleteRole", second(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: r.RoleName})))
	}
	policies := must[*iam.ListPoliciesOutput](t)(c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}))
	for _, p := range policies.Policies {
		serverFailure("GetPolicy", second(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})))
		serverFailure("GetPolicyVersion", second(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: p.DefaultVersionId})))
		serverFailure("ListPolicyVersions", second(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Arn})))
		serverFailure("ListEntitiesForPolicy", second(c.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{PolicyArn: p.Arn})))
		serverFailure("CreatePolicyVersion", second(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})))
		serverFailure("DeletePolicy", second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn})))
	}
	serverFailure("ListInstanceProfiles", second(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})))
	serverFailure("ListVirtualMFADevices", second(c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{})))
	serverFailure("GetAccountSummary", second(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})))
	serverFailure("GetAccountAuthorizationDetails", second(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})))
	serverFailure("GetAccountPasswordPolicy", second(c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})))
	serverFailure("ListAccountAliases", second(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})))
	serverFailure("GenerateCredentialReport", second(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})))
	serverFailure("GetCredentialReport", second(c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})))
	// Every family can still grow: each writes into one of the account's maps.
	doc := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`)
	trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	serverFailure("CreateUser", second(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("after-load")})))
	serverFailure("CreateAccessKey", second(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("after-load")})))
	serverFailure("CreateGroup", second(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("after-load")})))
	serverFailure("AddUserToGroup", second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("after-load"), UserName: aws.String("after-load")})))
	serverFailure("CreateRole", second(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("after-load"), AssumeRolePolicyDocument: trust})))
	serverFailure("CreatePolicy", second(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("after-load"), PolicyDocument: doc})))
	serverFailure("AttachUserPolicy", second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("after-load"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})))
	serverFailure("CreateInstanceProfile", second(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("after-load")})))
	serverFailure("CreateVirtualMFADevice", second(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("after-load")})))
	serverFailure("CreateAccountAlias", second(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("after-load")})))
	serverFailure("UpdateAccountPasswordPolicy", second(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(12)})))
	// The signing key's use is recorded for every request.
	serverFailure("GetAccessKeyLastUsed", second(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(testKeyID)})))
}

// loadState writes content as a state file and starts a sandbox on it.
func loadState(t *testing.T, content string) (*Server, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iam.json")
	ok(t, os.WriteFile(path, []byte(content), 0o600))
	srv, err := New(Options{StateFile: path})
	return srv, path, err
}

// TestStateFileLoads: hand-written state files load with what is missing
// made empty or derived, and the account then serves every family of
// request without a server failure.
func TestStateFileLoads(t *testing.T) {
	trust := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}`
	doc := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}`
	cases := map[string]string{
		"only Users (the issue's)": stateOf(`{"Users":{}}`),
		"empty account":            stateOf(`{}`),
		"null maps":                stateOf(`{"Users":null,"Groups":null,"Roles":null,"Policies":null,"InstanceProfiles":null,"MFADevices":null,"KeyUse":null,"ServiceUse":null,"AccessJobs":null,"Aliases":null,"PasswordPolicy":null,"CredentialReport":null}`),
		"a user by name only":      stateOf(`{"Users":{"Alice":{}}}`),
		"a user and a group": stateOf(`{"Users":{"alice":{"Name":"Alice","Path":"/eng/"}},
			"Groups":{"devs":{"Name":"Devs","Members":["ALICE"],"Attached":["arn:aws:iam::aws:policy/ReadOnlyAccess"]}}}`),
		"a role in a profile": stateOf(`{"Roles":{"app":{"Name":"app","TrustPolicy":"` + trust + `","Inline":[{"Name":"s3","Document":"` + doc + `"}]}},
			"InstanceProfiles":{"app":{"Name":"app","Roles":["APP"]}}}`),
		"a policy with wrong counts and next version": stateOf(`{"Users":{"bob":{"Name":"bob","Attached":["arn:aws:iam::123456789012:policy/p"],"Boundary":"arn:aws:iam::123456789012:policy/p"}},
			"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v2","NextVersion":1,"AttachmentCount":-5,"BoundaryCount":99,
				"Versions":[{"ID":"v1","Document":"` + doc + `"},{"ID":"v2","Document":"` + doc + `"}]}}}`),
		"an MFA device enabled for nobody": stateOf(`{"MFADevices":{"arn:aws:iam::123456789012:mfa/d":{"Name":"d","Seed":"JBSWY3DPEHPK3PXP","Enabled":"2024-01-01T00:00:00Z"}}}`),
		"history and jobs": stateOf(`{"KeyUse":{"AKIAIOSFODNN7EXAMPLE":{"When":"2024-01-01T00:00:00Z"}},"ServiceUse":{"AIDAXXXXXXXXXXXXXXXXX":null,"AIDAYYYYYYYYYYYYYYYYY":{"s3":{"When":"2024-01-01T00:00:00Z"}}},
			"AccessJobs":{"0f0e0d0c-0b0a-0908-0706-050403020100":{"ARN":"arn:aws:iam::123456789012:user/gone","Granularity":"SERVICE_LEVEL"}}}`),
		"a password policy without a length": stateOf(`{"PasswordPolicy":{"RequireSymbols":true}}`),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			srv, _, err := loadState(t, content)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			sb := serve(t, srv)
			exercise(t, sb)
		})
	}

	// What was derived is what the account says.
	srv, path, err := loadState(t, cases["a policy with wrong counts and next version"])
	ok(t, err)
	sb := serve(t, srv)
	p := must[*iam.GetPolicyOutput](t)(sb.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::123456789012:policy/p")}))
	if *p.Policy.AttachmentCount != 1 || *p.Policy.PermissionsBoundaryUsageCount != 1 {
		t.Errorf("counts after load: %d attached, %d boundary", *p.Policy.AttachmentCount, *p.Policy.PermissionsBoundaryUsageCount)
	}
	v := must[*iam.CreatePolicyVersionOutput](t)(sb.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(strings.ReplaceAll(doc, `\"`, `"`))}))
	if *v.PolicyVersion.VersionId != "v3" {
		t.Errorf("a new version after load is %s, want v3 (v1 and v2 exist)", *v.PolicyVersion.VersionId)
	}
	// The AWS managed policies a new account has are there.
	must[*iam.GetPolicyOutput](t)(sb.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	// The state saved after a change loads again as it was.
	again, err := New(Options{StateFile: path})
	ok(t, err)
	if n := len(again.acct.Policies["arn:aws:iam::123456789012:policy/p"].Versions); n != 3 {
		t.Errorf("versions after a reload: %d", n)
	}

	srv, _, err = loadState(t, cases["a user and a group"])
	ok(t, err)
	sb = serve(t, srv)
	g := must[*iam.GetGroupOutput](t)(sb.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs")}))
	if len(g.Users) != 1 || *g.Users[0].UserName != "Alice" || *g.Users[0].Path != "/eng/" || !strings.HasPrefix(*g.Users[0].UserId, "AIDA") {
		t.Errorf("group members after load: %+v", g.Users)
	}
}

// serve puts a loaded server behind loopback HTTP with SDK clients.
func serve(t *testing.T, srv *Server) *sandbox {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := awsConfig(testKeyID, 1)
	// A hang guard only: a state the handlers tripped over once left a
	// lock held, and every later request waited for ever.
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(2 * time.Minute)
	c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(hs.URL) })
	return &sandbox{srv: srv, url: hs.URL, iam: c, sts: stsClient(hs.URL, testKeyID)}
}

// TestStateFileRefused: state files that are not, or not consistently, a
// sandbox account are refused with an error that names the file and says
// what is wrong, never a panic, and the file is left as it was.
func TestStateFileRefused(t *testing.T) {
	doc := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}`
	trust := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}`
	pol := func(extra string) string {
		return `"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"` + doc + `"}]` + extra + `}}`
	}
	key := func(id string) string { return `{"ID":"` + id + `","Status":"Active"}` }
	cases := []struct{ name, content, want string }{
		{"account null (the issue's)", `{"format":1,"account":null}`, "has no account"},
		{"no account", `{"format":1}`, "has no account"},
		{"no format", `{"account":{}}`, "has format 0"},
		{"format 2", `{"format":2,"account":{}}`, "has format 2"},
		{"format as text", `{"format":"1","account":{}}`, "not a sandbox state file"},
		{"empty file", ``, "not a sandbox state file"},
		{"not JSON", `{not json`, "not a sandbox state file"},
		{"trailing data", stateOf(`{}`) + `{}`, "not a sandbox state file"},
		{"an array", `[]`, "not a sandbox state file"},
		{"key in another case", `{"format":1,"account":{"users":{}}}`, `unknown key "users"`},
		{"top key in another case", `{"Format":1,"account":{}}`, `unknown key "Format"`},
		{"key with Unicode folding", `{"format":1,"account":{"Users":{"a":{"Name":"a","Boundary":"","Tagſ":[]}}}}`, "unknown key"},
		{"unknown key", `{"format":1,"account":{"Users":{"a":{"Nmae":"a"}}}}`, `unknown key "Nmae"`},
		{"duplicate top key", `{"format":1,"format":1,"account":{}}`, "given twice"},
		{"duplicate map key", `{"format":1,"account":{"Users":{"a":{},"a":{}}}}`, "given twice"},
		{"duplicate key by escape", `{"format":1,"account":{"Users":{},"\u0055sers":{"a":{}}}}`, "given twice"},
		{"deep nesting", stateOf(`{"Users":{"a":{"Tags":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}}`), "not a sandbox state file"},
		{"duplicate account key", `{"format":1,"account":{"Users":{},"Users":{"a":{}}}}`, "given twice"},
		{"null user", stateOf(`{"Users":{"a":null}}`), `Users["a"]: is null`},
		{"key and name disagree", stateOf(`{"Users":{"bob":{"Name":"alice"}}}`), `Users["bob"]: holds the entity named "alice"`},
		{"two users of one name", stateOf(`{"Users":{"Alice":{},"alice":{}}}`), "twice"},
		{"bad user name", stateOf(`{"Users":{"a b":{}}}`), "not an IAM name"},
		{"long user name", stateOf(`{"Users":{"` + strings.Repeat("a", 65) + `":{}}}`), "not an IAM name"},
		{"bad path", stateOf(`{"Users":{"a":{"Path":"no-slash"}}}`), "not an IAM path"},
		{"bad user id", stateOf(`{"Users":{"a":{"ID":"AIDA!!"}}}`), "not an id IAM gives"},
		{"id of another kind", stateOf(`{"Users":{"a":{"ID":"AROAAAAAAAAAAAAAAAAAA"}}}`), "not an id IAM gives"},
		{"one id twice", stateOf(`{"Users":{"a":{"ID":"AIDAAAAAAAAAAAAAAAAAA"},"b":{"ID":"AIDAAAAAAAAAAAAAAAAAA"}}}`), "ids are unique"},
		{"member of no user", stateOf(`{"Groups":{"g":{"Members":["ghost"]}}}`), `user "ghost" does not exist`},
		{"member twice", stateOf(`{"Users":{"a":{}},"Groups":{"g":{"Members":["a","A"]}}}`), "member twice"},
		{"attached policy missing", stateOf(`{"Users":{"a":{"Attached":["arn:aws:iam::123456789012:policy/gone"]}}}`), "does not exist in the account"},
		{"attached twice", stateOf(`{"Users":{"a":{"Attached":["arn:aws:iam::aws:policy/ReadOnlyAccess","arn:aws:iam::aws:policy/ReadOnlyAccess"]}}}`), "attached twice"},
		{"boundary missing", stateOf(`{"Roles":{"r":{"TrustPolicy":"` + trust + `","Boundary":"arn:aws:iam::123456789012:policy/gone"}}}`), "permissions boundary"},
		{"null policy", stateOf(`{"Policies":{"arn:aws:iam::123456789012:policy/p":null}}`), "is null"},
		{"policy without versions", stateOf(`{"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v1"}}}`), "has 0 versions"},
		{"null version", stateOf(`{"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v1","Versions":[null]}}}`), "is null"},
		{"default version missing", stateOf(`{` + strings.Replace(pol(""), `"DefaultVersion":"v1"`, `"DefaultVersion":"v7"`, 1) + `}`), "DefaultVersion"},
		{"version id bad", stateOf(`{` + strings.Replace(pol(""), `"ID":"v1"`, `"ID":"v0"`, 1) + `}`), "not a version id"},
		{"policy ARN disagrees with key", stateOf(`{"Policies":{"arn:aws:iam::123456789012:policy/q":{"Name":"p","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"` + doc + `"}]}}}`), "not the ARN of its path and name"},
		{"AWS managed claim", stateOf(`{` + strings.Replace(pol(""), `"Name":"p"`, `"Name":"p","AWSManaged":true`, 1) + `}`), "not the ARN"},
		{"two policies of one name", stateOf(`{"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"` + doc + `"}]},"arn:aws:iam::123456789012:policy/x/P":{"Name":"P","Path":"/x/","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"` + doc + `"}]}}}`), "unique"},
		{"document that does not parse", stateOf(`{` + strings.Replace(pol(""), doc, `{\"Statement\":`, 1) + `}`), "does not parse"},
		{"role without trust policy", stateOf(`{"Roles":{"r":{}}}`), "document is missing"},
		{"session duration", stateOf(`{"Roles":{"r":{"TrustPolicy":"` + trust + `","MaxSessionDuration":99999}}}`), "MaxSessionDuration"},
		{"profile of a missing role", stateOf(`{"InstanceProfiles":{"p":{"Roles":["ghost"]}}}`), "does not exist"},
		{"profile with two roles", stateOf(`{"Roles":{"a":{"TrustPolicy":"` + trust + `"},"b":{"TrustPolicy":"` + trust + `"}},"InstanceProfiles":{"p":{"Roles":["a","b"]}}}`), "holds 2 roles"},
		{"null access key", stateOf(`{"Users":{"a":{"AccessKeys":[null]}}}`), "is null"},
		{"three access keys", stateOf(`{"Users":{"a":{"AccessKeys":[` + key("AKIAAAAAAAAAAAAAAAA1") + `,` + key("AKIAAAAAAAAAAAAAAAA2") + `,` + key("AKIAAAAAAAAAAAAAAAA3") + `]}}}`), "3 access keys"},
		{"access key status", stateOf(`{"Users":{"a":{"AccessKeys":[{"ID":"AKIAAAAAAAAAAAAAAAA1","Status":"Bogus"}]}}}`), "not Active or Inactive"},
		{"access key of two users", stateOf(`{"Users":{"a":{"AccessKeys":[` + key("AKIAAAAAAAAAAAAAAAA1") + `]},"b":{"AccessKeys":[` + key("AKIAAAAAAAAAAAAAAAA1") + `]}}}`), "ids are unique"},
		{"root key of a user", stateOf(`{"Users":{"a":{"AccessKeys":[` + key("AKIAAAAAAAAAAAAAAAA1") + `]}},"Root":{"AccessKeys":[` + key("AKIAAAAAAAAAAAAAAAA1") + `]}}`), "ids are unique"},
		{"password hash", stateOf(`{"Users":{"a":{"LoginProfile":{"PasswordHash":"AAAA"}}}}`), "SHA-256"},
		{"SSH key body", stateOf(`{"Users":{"a":{"SSHKeys":[{"ID":"APKAAAAAAAAAAAAAAAAA","Body":"ssh-rsa garbage"}]}}}`), "not an SSH public key"},
		{"certificate body", stateOf(`{"Users":{"a":{"Certificates":[{"ID":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","Body":"nope"}]}}}`), "not a PEM certificate"},
		{"service credential service", stateOf(`{"Users":{"a":{"ServiceCreds":[{"ID":"ACCAAAAAAAAAAAAAAAAAA","ServiceName":"s3.amazonaws.com"}]}}}`), "ServiceName"},
		{"MFA device of nobody", stateOf(`{"MFADevices":{"arn:aws:iam::123456789012:mfa/d":{"Name":"d","Seed":"JBSWY3DPEHPK3PXP","User":"ghost"}}}`), "does not exist"},
		{"MFA seed", stateOf(`{"MFADevices":{"arn:aws:iam::123456789012:mfa/d":{"Name":"d","Seed":"!!"}}}`), "Seed"},
		{"MFA serial and key", stateOf(`{"MFADevices":{"x":{"Name":"d","Seed":"JBSWY3DPEHPK3PXP"}}}`), "Serial"},
		{"null key use", stateOf(`{"KeyUse":{"AKIAIOSFODNN7EXAMPLE":null}}`), "is null"},
		{"null action use", stateOf(`{"ServiceUse":{"AIDAAAAAAAAAAAAAAAAAA":{"s3":{"When":"2024-01-01T00:00:00Z","Actions":{"GetObject":null}}}}}`), "is null"},
		{"job id", stateOf(`{"AccessJobs":{"short":{"Granularity":"SERVICE_LEVEL"}}}`), "job id"},
		{"job granularity", stateOf(`{"AccessJobs":{"0f0e0d0c-0b0a-0908-0706-050403020100":{"Granularity":"x"}}}`), "Granularity"},
		{"two aliases", stateOf(`{"Aliases":["abc","def"]}`), "aliases"},
		{"bad alias", stateOf(`{"Aliases":["A--B"]}`), "alias"},
		{"password length", stateOf(`{"PasswordPolicy":{"MinimumPasswordLength":3}}`), "MinimumPasswordLength"},
		{"eleven groups", stateOf(`{"Users":{"a":{}},"Groups":{` + elevenGroups() + `}}`), "more than 10 groups"},
		{"tags twice", stateOf(`{"Users":{"a":{"Tags":[{"Key":"k","Value":""},{"Key":"K","Value":""}]}}}`), "given twice"},
		{"time beyond 9999 in UTC", stateOf(`{"Users":{"a":{"Created":"9999-12-31T23:59:59-23:59"}}}`), "year 10000"},
		{"year 0", stateOf(`{"KeyUse":{"AKIAIOSFODNN7EXAMPLE":{"When":"0000-06-01T00:00:00Z"}}}`), "year 0"},
		{"long name is not echoed", stateOf(`{"Users":{"` + strings.Repeat("x", 100000) + `":{}}}`), "characters)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadState(t, tc.content)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not name the file or say %q", msg, tc.want)
			}
			if len(msg) > 1000 {
				t.Fatalf("the error is %d bytes long", len(msg))
			}
			if b, _ := os.ReadFile(path); string(b) != tc.content {
				t.Fatal("the refused state file was changed")
			}
		})
	}
}

func elevenGroups() string {
	var b []string
	for i := 0; i < 11; i++ {
		b = append(b, `"g`+string(rune('a'+i))+`":{"Members":["a"]}`)
	}
	return strings.Join(b, ",")
}

// TestStateFileKinds: what is not a regular file of bounded size is refused
// before it is read — a FIFO would block the start, /dev/zero never ends.
func TestStateFileKinds(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	ok(t, os.WriteFile(big, []byte(stateOf(`{}`)+strings.Repeat(" ", 100)), 0o600))
	old := maxStateBytes
	maxStateBytes = 64
	_, err := New(Options{StateFile: big})
	maxStateBytes = old
	if err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "more than the 64") {
		t.Errorf("oversized state file: %v", err)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fifo := filepath.Join(dir, "fifo.json")
	ok(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() { _, err := New(Options{StateFile: fifo}); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO state file: %v", err)
		}
	case <-time.After(2 * time.Minute): // a hang guard only
		t.Fatal("a FIFO state file blocked the start")
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := New(Options{StateFile: "/dev/zero"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("/dev/zero as state file: %v", err)
		}
	}
	// A link to a regular state file is followed.
	real := filepath.Join(dir, "real.json")
	ok(t, os.WriteFile(real, []byte(stateOf(`{"Users":{"linked":{}}}`)), 0o600))
	link := filepath.Join(dir, "link.json")
	ok(t, os.Symlink(real, link))
	srv, err := New(Options{StateFile: link})
	ok(t, err)
	if srv.acct.Users["linked"] == nil {
		t.Error("the linked state file was not loaded")
	}
}

// TestStateTempFilesRemoved: the temp files an interrupted save leaves are
// removed at the next start, and nothing else is.
func TestStateTempFilesRemoved(t *testing.T) {
	for _, exists := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "iam.json")
		if exists {
			_, err := New(Options{StateFile: path})
			ok(t, err)
		}
		outside := filepath.Join(t.TempDir(), "precious")
		ok(t, os.WriteFile(outside, []byte("keep"), 0o600))
		stale := []string{".iam.json.tmp1", ".iam.json.tmp4294967295"}
		kept := []string{".iam.json.tmp", ".iam.json.tmpx1", "iam.json.tmp1", ".other.json.tmp1", ".iam.json.tmp1.bak", ".iam.jsonXtmp1", "notes.txt"}
		for _, n := range append(append([]string{}, stale...), kept...) {
			ok(t, os.WriteFile(filepath.Join(dir, n), []byte("partial"), 0o600))
		}
		// A directory and a link of the pattern's name are not ours.
		ok(t, os.Mkdir(filepath.Join(dir, ".iam.json.tmp22"), 0o700))
		ok(t, os.Symlink(outside, filepath.Join(dir, ".iam.json.tmp33")))
		kept = append(kept, ".iam.json.tmp22", ".iam.json.tmp33")

		_, err := New(Options{StateFile: path})
		ok(t, err)
		for _, n := range stale {
			if _, err := os.Lstat(filepath.Join(dir, n)); !os.IsNotExist(err) {
				t.Errorf("state file exists=%v: stale temp file %s is still there", exists, n)
			}
		}
		for _, n := range kept {
			if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
				t.Errorf("state file exists=%v: %s was removed", exists, n)
			}
		}
		if b, err := os.ReadFile(outside); err != nil || string(b) != "keep" {
			t.Error("the file a link pointed to was touched")
		}
	}
	// What persist writes is what the cleanup removes.
	dir := t.TempDir()
	path := filepath.Join(dir, "iam.json")
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	ok(t, err)
	f.Close()
	if !tempPattern(path).MatchString(filepath.Base(f.Name())) {
		t.Fatalf("persist's temp name %s does not match the cleanup pattern", f.Name())
	}
}

// TestStateRoundTripExact: a state the sandbox saved loads again, and a
// re-save of the loaded account is byte for byte the same file.
func TestStateRoundTripExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iam.json")
	sb := newSandbox(t, Options{Seed: "demo", StateFile: path})
	exerciseWrites(t, sb)
	before, err := os.ReadFile(path)
	ok(t, err)
	srv, err := New(Options{StateFile: path})
	ok(t, err)
	after, err := json.Marshal(stateFile{Format: stateFormat, Account: srv.acct})
	ok(t, err)
	if string(after) != string(before) {
		t.Fatalf("a saved state changes when loaded (%d bytes before, %d after)", len(before), len(after))
	}
	// Keys in another case than the saved file's are refused.
	for _, k := range []string{`"Users"`, `"Name"`, `"Attached"`, `"DefaultVersion"`} {
		bad := strings.Replace(string(before), k, strings.ToUpper(k), 1)
		ok(t, os.WriteFile(path, []byte(bad), 0o600))
		if _, err := New(Options{StateFile: path}); err == nil || !strings.Contains(err.Error(), "unknown key") {
			t.Errorf("key %s in upper case: %v", k, err)
		}
	}
}

// exerciseWrites gives an account one of everything a state file holds.
func exerciseWrites(t *testing.T, sb *sandbox) {
	t.Helper()
	c := sb.iam
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("rt"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("rt")}))
	must[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("rt"), Password: aws.String("Sandbox-Pass-1234")}))
	must[*iam.CreateVirtualMFADeviceOutput](t)(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("rt")}))
	must[*iam.CreateServiceSpecificCredentialOutput](t)(c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("rt"), ServiceName: aws.String("codecommit.amazonaws.com")}))
	must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	must[*iam.CreateAccountAliasOutput](t)(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("round-trip")}))
	ok(t, second(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(10), MaxPasswordAge: aws.Int32(90)})))
	users := must[*iam.ListUsersOutput](t)(c.ListUsers(ctx, &iam.ListUsersInput{}))
	must[*iam.GenerateServiceLastAccessedDetailsOutput](t)(c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: users.Users[0].Arn}))
}

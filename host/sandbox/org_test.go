package sandbox

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// clock is a sandbox clock a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// creds signs with an access key (and a session token, for a session).
type creds struct{ id, secret, token string }

func keyCreds(id string) creds {
	return creds{id: id, secret: "secretsecretsecretsecretsecretsecret1234"}
}

func sessionCreds(t testing.TB, out *sts.AssumeRoleOutput) creds {
	t.Helper()
	c := out.Credentials
	return creds{id: aws.ToString(c.AccessKeyId), secret: aws.ToString(c.SecretAccessKey), token: aws.ToString(c.SessionToken)}
}

func (c creds) config() aws.Config {
	cfg := awsConfig(c.id, 1)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(c.id, c.secret, c.token)
	return cfg
}

func (sb *sandbox) iamAs(c creds) *iam.Client {
	return iam.NewFromConfig(c.config(), func(o *iam.Options) { o.BaseEndpoint = aws.String(sb.url) })
}

func (sb *sandbox) stsAs(c creds) *sts.Client {
	return sts.NewFromConfig(c.config(), func(o *sts.Options) { o.BaseEndpoint = aws.String(sb.url) })
}

func (sb *sandbox) orgAs(c creds) *organizations.Client {
	return organizations.NewFromConfig(c.config(), func(o *organizations.Options) { o.BaseEndpoint = aws.String(sb.url) })
}

// memberIAM is an IAM client acting as the root of a member account,
// through MemberTransport.
func (sb *sandbox) memberIAM(t testing.TB, id string) *iam.Client {
	t.Helper()
	rt := sb.srv.MemberTransport(id)
	if rt == nil {
		t.Fatalf("MemberTransport(%s) is nil", id)
	}
	cfg := awsConfig(testKeyID, 1)
	cfg.HTTPClient = &http.Client{Transport: rt}
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") })
}

// userKey gives a user of a member account (or of the management account,
// with member "") a new access key and returns its credentials.
func (sb *sandbox) userKey(t testing.TB, member, user string) creds {
	t.Helper()
	c := sb.iam
	if member != "" {
		c = sb.memberIAM(t, member)
	}
	out := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}))
	return keyCreds(aws.ToString(out.AccessKey.AccessKeyId))
}

func assume(t testing.TB, c *sts.Client, roleARN string) *sts.AssumeRoleOutput {
	t.Helper()
	return must[*sts.AssumeRoleOutput](t)(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test-session")}))
}

func wantMessage(t testing.TB, err error, code, message string) {
	t.Helper()
	wantCode(t, err, code)
	var ae smithy.APIError
	errors.As(err, &ae)
	if ae.ErrorMessage() != message {
		t.Fatalf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), message)
	}
}

func roleARN(account, name string) string { return "arn:aws:iam::" + account + ":role/" + name }

// smallOrg is a management account and two members, one in an OU whose SCP
// denies s3:* and sts:AssumeRole on roles named no-scp-*.
func smallOrg(t testing.TB, now func() time.Time) *sandbox {
	t.Helper()
	return newSandbox(t, Options{
		AccountID: "100000000001", Now: now,
		OUs: []OU{{Name: "Apps"}, {Name: "Locked", Parent: "Apps"}},
		Members: []Member{
			{ID: "200000000002", Name: "alpha", ParentOU: "Apps"},
			{ID: "300000000003", Name: "beta", ParentOU: "Locked"},
		},
		SCPs: []SCP{{Name: "NoS3", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:*"],"Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/no-scp-*"}]}`, Targets: []string{"Locked"}}},
	})
}

func TestAccountIDOption(t *testing.T) {
	sb := newSandbox(t, Options{AccountID: "210987654321"})
	u := must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann"), Path: aws.String("/x/")}))
	if got := aws.ToString(u.User.Arn); got != "arn:aws:iam::210987654321:user/x/ann" {
		t.Fatalf("user ARN %s", got)
	}
	p := must[*iam.CreatePolicyOutput](t)(sb.iam.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(orgInternTools)}))
	if got := aws.ToString(p.Policy.Arn); got != "arn:aws:iam::210987654321:policy/p" {
		t.Fatalf("policy ARN %s", got)
	}
	who := must[*sts.GetCallerIdentityOutput](t)(sb.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(who.Account) != "210987654321" || aws.ToString(who.Arn) != "arn:aws:iam::210987654321:root" {
		t.Fatalf("caller %s %s", aws.ToString(who.Account), aws.ToString(who.Arn))
	}
	_, err := sb.iam.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	wantMessage(t, err, "NoSuchEntity", "The Password Policy with domain name 210987654321 cannot be found.")
	if sb.srv.AccountID() != "210987654321" || len(sb.srv.Members()) != 0 {
		t.Fatalf("AccountID %s Members %v", sb.srv.AccountID(), sb.srv.Members())
	}
	// The state file keeps the id's ARNs; another id cannot load it.
	state := filepath.Join(t.TempDir(), "s.json")
	s1, err := New(Options{AccountID: "210987654321", StateFile: state})
	ok(t, err)
	_, err = s1.do("CreatePolicy", map[string][]string{"PolicyName": {"p"}, "PolicyDocument": {orgInternTools}})
	ok(t, err)
	ok(t, s1.persist())
	if _, err := New(Options{AccountID: "210987654321", StateFile: state}); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if _, err := New(Options{StateFile: state}); err == nil || !strings.Contains(err.Error(), "ARN") {
		t.Fatalf("loading another account's state: %v", err)
	}
	if _, err := New(Options{AccountID: "12345"}); err == nil {
		t.Fatal("a 5-digit account id was taken")
	}
}

func TestOrganizationOptionsRefused(t *testing.T) {
	for name, opts := range map[string]Options{
		"duplicate member":   {Members: []Member{{ID: "200000000002"}, {ID: "200000000002"}}},
		"member is mgmt":     {Members: []Member{{ID: AccountID}}},
		"bad member id":      {Members: []Member{{ID: "2000"}}},
		"unknown OU":         {Members: []Member{{ID: "200000000002", ParentOU: "Nope"}}},
		"OU cycle":           {OUs: []OU{{Name: "A", Parent: "B"}, {Name: "B", Parent: "A"}}, Members: []Member{{ID: "200000000002"}}},
		"OUs without org":    {OUs: []OU{{Name: "A"}}},
		"bad SCP":            {Members: []Member{{ID: "200000000002"}}, SCPs: []SCP{{Name: "x", Document: "{", Targets: []string{RootTarget}}}},
		"SCP unknown target": {Members: []Member{{ID: "200000000002"}}, SCPs: []SCP{{Name: "x", Document: orgDenyRewrites, Targets: []string{"999999999999"}}}},
		"org seed + members": {Seed: "org", Members: []Member{{ID: "200000000002"}}},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New took it", name)
		} else if !strings.HasPrefix(err.Error(), "sandbox: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAssumeRole(t *testing.T) {
	clk := newClock()
	sb := smallOrg(t, clk.now)
	const mgmt, alpha, beta = "100000000001", "200000000002", "300000000003"
	alphaIAM, betaIAM := sb.memberIAM(t, alpha), sb.memberIAM(t, beta)
	trust := func(principal string, cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"` + cond + `}]}`
	}
	mkRole := func(c *iam.Client, name, doc string, maxDur int32) {
		t.Helper()
		in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}
		if maxDur > 0 {
			in.MaxSessionDuration = aws.Int32(maxDur)
		}
		must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, in))
	}
	mkUser := func(c *iam.Client, name, inline string) {
		t.Helper()
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))
		if inline != "" {
			must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(inline)}))
		}
	}
	mkUser(alphaIAM, "named", "")
	mkUser(alphaIAM, "nobody", "")
	mkUser(alphaIAM, "allowed", orgAssumeAny)
	mkUser(betaIAM, "locked", orgAssumeAny)
	mkRole(alphaIAM, "by-arn", trust("arn:aws:iam::"+alpha+":user/named", ""), 0)
	mkRole(alphaIAM, "by-account", trust(alpha, ""), 7200)
	mkRole(alphaIAM, "from-beta", trust("arn:aws:iam::"+beta+":root", ""), 0)
	mkRole(alphaIAM, "no-scp-role", trust("arn:aws:iam::"+beta+":root", ""), 0)
	mkRole(alphaIAM, "vendor", trust("arn:aws:iam::"+alpha+":root", `,"Condition":{"StringEquals":{"sts:ExternalId":"ext-123"}}`), 0)
	named, nobody, allowed, locked := sb.userKey(t, alpha, "named"), sb.userKey(t, alpha, "nobody"), sb.userKey(t, alpha, "allowed"), sb.userKey(t, beta, "locked")
	denied := func(who, role string) string {
		return "User: " + who + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}

	// A member user's own key acts in the member account, as that user.
	me := must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(named).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if aws.ToString(me.Account) != alpha || aws.ToString(me.Arn) != "arn:aws:iam::"+alpha+":user/named" {
		t.Fatalf("member user's identity: %s %s", aws.ToString(me.Account), aws.ToString(me.Arn))
	}

	t.Run("root refused", func(t *testing.T) {
		_, err := sb.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, OrgAccessRoleName)), RoleSessionName: aws.String("root")})
		wantMessage(t, err, "AccessDenied", "Roles may not be assumed by root accounts.")
		wantStatus(t, err, 403)
	})
	t.Run("trust naming the user lets it in alone", func(t *testing.T) {
		out := assume(t, sb.stsAs(named), roleARN(alpha, "by-arn"))
		if id := aws.ToString(out.Credentials.AccessKeyId); len(id) != 20 || !strings.HasPrefix(id, "ASIA") {
			t.Fatalf("session key id %s", id)
		}
		if len(aws.ToString(out.Credentials.SessionToken)) < 100 || aws.ToString(out.Credentials.SecretAccessKey) == "" {
			t.Fatal("session token or secret missing")
		}
		if got, want := aws.ToTime(out.Credentials.Expiration), clk.now().Add(time.Hour); !got.Equal(want) {
			t.Fatalf("expiration %v, want %v", got, want)
		}
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+alpha+":assumed-role/by-arn/test-session" {
			t.Fatalf("assumed role ARN %s", got)
		}
		role := must[*iam.GetRoleOutput](t)(alphaIAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("by-arn")}))
		if !strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), aws.ToString(role.Role.RoleId)+":") {
			t.Fatalf("AssumedRoleId %s, role id %s", aws.ToString(out.AssumedRoleUser.AssumedRoleId), aws.ToString(role.Role.RoleId))
		}
		if lu := role.Role.RoleLastUsed; lu == nil || !aws.ToTime(lu.LastUsedDate).Equal(clk.now()) || aws.ToString(lu.Region) != "us-east-1" {
			t.Fatalf("RoleLastUsed %+v", lu)
		}
	})
	t.Run("trust naming the account needs an identity allow", func(t *testing.T) {
		_, err := sb.stsAs(nobody).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "by-account")), RoleSessionName: aws.String("s1")})
		wantMessage(t, err, "AccessDenied", denied("arn:aws:iam::"+alpha+":user/nobody", roleARN(alpha, "by-account")))
		wantStatus(t, err, 403)
		assume(t, sb.stsAs(allowed), roleARN(alpha, "by-account"))
		// The trust's exact ARN is someone else: the identity allow alone
		// does not do, even in the account.
		_, err = sb.stsAs(allowed).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "by-arn")), RoleSessionName: aws.String("s1")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("cross-account needs both sides", func(t *testing.T) {
		// beta's locked user is allowed by its policy; alpha's by-account
		// trusts only alpha.
		_, err := sb.stsAs(locked).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "by-account")), RoleSessionName: aws.String("s1")})
		wantCode(t, err, "AccessDenied")
		assume(t, sb.stsAs(locked), roleARN(alpha, "from-beta"))
		// nobody of alpha has no identity allow for beta's... a role
		// trusting beta from alpha: refused.
		_, err = sb.stsAs(nobody).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "from-beta")), RoleSessionName: aws.String("s1")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("SCP of the caller's OU denies", func(t *testing.T) {
		_, err := sb.stsAs(locked).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "no-scp-role")), RoleSessionName: aws.String("s1")})
		wantMessage(t, err, "AccessDenied", denied("arn:aws:iam::"+beta+":user/locked", roleARN(alpha, "no-scp-role")))
	})
	t.Run("missing role", func(t *testing.T) {
		for _, arn := range []string{roleARN(alpha, "ghost"), roleARN("999999999999", "x"), "arn:aws:iam::" + alpha + ":role/other/by-arn"} {
			_, err := sb.stsAs(named).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
			wantMessage(t, err, "AccessDenied", denied("arn:aws:iam::"+alpha+":user/named", arn))
		}
	})
	t.Run("external id", func(t *testing.T) {
		c := sb.stsAs(allowed)
		for _, ext := range []*string{nil, aws.String("wrong-id")} {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "vendor")), RoleSessionName: aws.String("s1"), ExternalId: ext})
			wantCode(t, err, "AccessDenied")
		}
		must[*sts.AssumeRoleOutput](t)(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "vendor")), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-123")}))
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "vendor")), RoleSessionName: aws.String("s1"), ExternalId: aws.String("bad id!")})
		wantCode(t, err, "ValidationError")
	})
	t.Run("parameters", func(t *testing.T) {
		c := sb.stsAs(allowed)
		arn := aws.String(roleARN(alpha, "by-account"))
		for name, in := range map[string]*sts.AssumeRoleInput{
			"short duration":   {RoleArn: arn, RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899)},
			"over the role":    {RoleArn: arn, RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7201)},
			"session name":     {RoleArn: arn, RoleSessionName: aws.String("a b")},
			"short name":       {RoleArn: arn, RoleSessionName: aws.String("a")},
			"session policy":   {RoleArn: arn, RoleSessionName: aws.String("s1"), Policy: aws.String(orgAssumeAny)},
			"not a role ARN":   {RoleArn: aws.String("arn:aws:iam::" + alpha + ":user/named"), RoleSessionName: aws.String("s1")},
			"source identity":  {RoleArn: arn, RoleSessionName: aws.String("s1"), SourceIdentity: aws.String("someone")},
			"session policy 2": {RoleArn: arn, RoleSessionName: aws.String("s1"), PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String(awsPolicy + "ReadOnlyAccess")}}},
		} {
			_, err := c.AssumeRole(ctx, in)
			if err == nil {
				t.Errorf("%s: taken", name)
				continue
			}
			wantCode(t, err, "ValidationError")
		}
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: arn, RoleSessionName: aws.String("s1"), Policy: aws.String(orgAssumeAny)})
		if !strings.Contains(err.Error(), "does not take session policies") {
			t.Fatalf("session policy refusal: %v", err)
		}
		out := must[*sts.AssumeRoleOutput](t)(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: arn, RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)}))
		if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(clk.now().Add(2 * time.Hour)) {
			t.Fatalf("expiration %v", got)
		}
	})
	t.Run("session acts in the role's account and expires", func(t *testing.T) {
		out := must[*sts.AssumeRoleOutput](t)(sb.stsAs(named).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "by-arn")), RoleSessionName: aws.String("worker"), DurationSeconds: aws.Int32(900)}))
		sc := sessionCreds(t, out)
		who := must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(sc).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
		if aws.ToString(who.Account) != alpha || aws.ToString(who.Arn) != "arn:aws:sts::"+alpha+":assumed-role/by-arn/worker" ||
			aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) || !strings.HasPrefix(aws.ToString(who.UserId), "AROA") {
			t.Fatalf("session identity %s %s %s", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
		}
		must[*iam.CreateUserOutput](t)(sb.iamAs(sc).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-session")}))
		// A role session is not a user: GetUser needs a name.
		_, err := sb.iamAs(sc).GetUser(ctx, &iam.GetUserInput{})
		wantMessage(t, err, "ValidationError", "Must specify userName when calling with non-User credentials")
		must[*iam.GetUserOutput](t)(alphaIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("made-by-session")}))
		if _, err := sb.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("made-by-session")}); err == nil {
			t.Fatal("the session's user landed in the management account")
		}
		// A wrong token, or none, is refused.
		for _, token := range []string{sc.token[:len(sc.token)-1] + "x", ""} {
			bad := sc
			bad.token = token
			_, err := sb.iamAs(bad).ListUsers(ctx, &iam.ListUsersInput{})
			wantMessage(t, err, "InvalidClientTokenId", "The security token included in the request is invalid.")
			wantStatus(t, err, 403)
		}
		// A temporary key the sandbox never issued is not the bootstrap.
		_, err = sb.iamAs(creds{id: "ASIAAAAAAAAAAAAAAAAA", secret: "x", token: "y"}).ListUsers(ctx, &iam.ListUsersInput{})
		wantCode(t, err, "InvalidClientTokenId")
		clk.add(900 * time.Second)
		_, err = sb.stsAs(sc).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantMessage(t, err, "ExpiredToken", "The security token included in the request is expired")
		wantStatus(t, err, 403)
	})
	t.Run("chaining caps the duration", func(t *testing.T) {
		mkRole(alphaIAM, "hop", trust("arn:aws:iam::"+alpha+":role/by-arn", ""), 14400)
		first := sessionCreds(t, assume(t, sb.stsAs(named), roleARN(alpha, "by-arn")))
		_, err := sb.stsAs(first).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "hop")), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(7200)})
		wantMessage(t, err, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		second := assume(t, sb.stsAs(first), roleARN(alpha, "hop"))
		if got := aws.ToString(second.AssumedRoleUser.Arn); got != "arn:aws:sts::"+alpha+":assumed-role/hop/test-session" {
			t.Fatalf("chained session %s", got)
		}
	})
	t.Run("organisation and principal conditions", func(t *testing.T) {
		org := must[*organizations.DescribeOrganizationOutput](t)(sb.orgAs(keyCreds(testKeyID)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}))
		mkRole(alphaIAM, "org-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"`+aws.ToString(org.Organization.Id)+`"}}}]}`, 0)
		mkRole(alphaIAM, "other-org", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-aaaaaaaaaa"}}}]}`, 0)
		mkRole(alphaIAM, "by-principal-arn", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::`+beta+`:user/locked"},"StringEquals":{"aws:username":"locked"}}}]}`, 0)
		assume(t, sb.stsAs(locked), roleARN(alpha, "org-only"))
		_, err := sb.stsAs(locked).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "other-org")), RoleSessionName: aws.String("s1")})
		wantCode(t, err, "AccessDenied")
		assume(t, sb.stsAs(locked), roleARN(alpha, "by-principal-arn"))
		_, err = sb.stsAs(allowed).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN(alpha, "by-principal-arn")), RoleSessionName: aws.String("s1")})
		wantCode(t, err, "AccessDenied")
	})
	t.Run("the management operator reaches members", func(t *testing.T) {
		mkUser(sb.iam, "ops", "")
		must[*iam.AttachUserPolicyOutput](t)(sb.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ops"), PolicyArn: aws.String(awsPolicy + "AdministratorAccess")}))
		ops := sb.userKey(t, "", "ops")
		for _, m := range []string{alpha, beta} {
			sc := sessionCreds(t, assume(t, sb.stsAs(ops), roleARN(m, OrgAccessRoleName)))
			who := must[*sts.GetCallerIdentityOutput](t)(sb.stsAs(sc).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
			if aws.ToString(who.Account) != m {
				t.Fatalf("operator's session in %s is in %s", m, aws.ToString(who.Account))
			}
		}
		_ = mgmt
	})
}

func TestOrganizations(t *testing.T) {
	sb := smallOrg(t, nil)
	const mgmt, alpha, beta = "100000000001", "200000000002", "300000000003"
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}))
	must[*iam.AttachUserPolicyOutput](t)(sb.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("ops"), PolicyArn: aws.String(awsPolicy + "AdministratorAccess")}))
	ops := sb.userKey(t, "", "ops")
	// Over loopback HTTP, signed by a management user; and in process.
	inProc := keyCreds(testKeyID).config()
	inProc.HTTPClient = sb.srv.Client()
	for name, c := range map[string]*organizations.Client{
		"http":       sb.orgAs(ops),
		"in-process": organizations.NewFromConfig(inProc, func(o *organizations.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") }),
	} {
		t.Run(name, func(t *testing.T) {
			org := must[*organizations.DescribeOrganizationOutput](t)(c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}))
			o := org.Organization
			if aws.ToString(o.MasterAccountId) != mgmt || o.FeatureSet != orgtypes.OrganizationFeatureSetAll || !strings.HasPrefix(aws.ToString(o.Id), "o-") ||
				len(o.AvailablePolicyTypes) != 1 || o.AvailablePolicyTypes[0].Type != orgtypes.PolicyTypeServiceControlPolicy {
				t.Fatalf("organization %+v", o)
			}
			// Paginated one at a time, as a paginator does.
			var ids []string
			p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
			pages := 0
			for p.HasMorePages() {
				out := must[*organizations.ListAccountsOutput](t)(p.NextPage(ctx))
				pages++
				for _, a := range out.Accounts {
					ids = append(ids, aws.ToString(a.Id))
					if a.Status != orgtypes.AccountStatusActive || a.State != orgtypes.AccountStateActive || aws.ToTime(a.JoinedTimestamp).IsZero() {
						t.Fatalf("account %+v", a)
					}
				}
			}
			if strings.Join(ids, ",") != mgmt+","+alpha+","+beta || pages != 3 {
				t.Fatalf("accounts %v in %d pages", ids, pages)
			}
			acct := must[*organizations.DescribeAccountOutput](t)(c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(beta)}))
			if aws.ToString(acct.Account.Name) != "beta" || aws.ToString(acct.Account.Email) != "beta@example.com" {
				t.Fatalf("account %+v", acct.Account)
			}
			_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			wantCode(t, err, "AccountNotFoundException")

			roots := must[*organizations.ListRootsOutput](t)(c.ListRoots(ctx, &organizations.ListRootsInput{}))
			root := aws.ToString(roots.Roots[0].Id)
			ous := must[*organizations.ListOrganizationalUnitsForParentOutput](t)(c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)}))
			if len(ous.OrganizationalUnits) != 1 || aws.ToString(ous.OrganizationalUnits[0].Name) != "Apps" {
				t.Fatalf("OUs under the root %+v", ous.OrganizationalUnits)
			}
			apps := aws.ToString(ous.OrganizationalUnits[0].Id)
			kids := must[*organizations.ListChildrenOutput](t)(c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(apps), ChildType: orgtypes.ChildTypeOrganizationalUnit}))
			if len(kids.Children) != 1 {
				t.Fatalf("children of Apps %+v", kids.Children)
			}
			locked := aws.ToString(kids.Children[0].Id)
			inLocked := must[*organizations.ListAccountsForParentOutput](t)(c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(locked)}))
			if len(inLocked.Accounts) != 1 || aws.ToString(inLocked.Accounts[0].Id) != beta {
				t.Fatalf("accounts in Locked %+v", inLocked.Accounts)
			}
			parents := must[*organizations.ListParentsOutput](t)(c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(beta)}))
			if aws.ToString(parents.Parents[0].Id) != locked || parents.Parents[0].Type != orgtypes.ParentTypeOrganizationalUnit {
				t.Fatalf("parents of beta %+v", parents.Parents)
			}
			parents = must[*organizations.ListParentsOutput](t)(c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(apps)}))
			if aws.ToString(parents.Parents[0].Id) != root || parents.Parents[0].Type != orgtypes.ParentTypeRoot {
				t.Fatalf("parents of Apps %+v", parents.Parents)
			}
			_, err = c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), ChildType: orgtypes.ChildTypeAccount})
			wantCode(t, err, "ParentNotFoundException")

			pols := must[*organizations.ListPoliciesOutput](t)(c.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy}))
			if len(pols.Policies) != 2 || aws.ToString(pols.Policies[0].Id) != "p-FullAWSAccess" || !pols.Policies[0].AwsManaged || aws.ToString(pols.Policies[1].Name) != "NoS3" {
				t.Fatalf("policies %+v", pols.Policies)
			}
			full := must[*organizations.DescribePolicyOutput](t)(c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-FullAWSAccess")}))
			if aws.ToString(full.Policy.Content) != fullAWSAccessDoc {
				t.Fatalf("FullAWSAccess %s", aws.ToString(full.Policy.Content))
			}
			targets := must[*organizations.ListTargetsForPolicyOutput](t)(c.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: pols.Policies[1].Id}))
			if len(targets.Targets) != 1 || aws.ToString(targets.Targets[0].TargetId) != locked || targets.Targets[0].Type != orgtypes.TargetTypeOrganizationalUnit {
				t.Fatalf("NoS3's targets %+v", targets.Targets)
			}
			all := must[*organizations.ListTargetsForPolicyOutput](t)(c.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-FullAWSAccess")}))
			if len(all.Targets) != 6 { // the root, two OUs, three accounts
				t.Fatalf("FullAWSAccess targets %+v", all.Targets)
			}
			forBeta := must[*organizations.ListPoliciesForTargetOutput](t)(c.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(locked), Filter: orgtypes.PolicyTypeServiceControlPolicy}))
			if len(forBeta.Policies) != 2 {
				t.Fatalf("policies on Locked %+v", forBeta.Policies)
			}
			tags := must[*organizations.ListPoliciesOutput](t)(c.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeTagPolicy}))
			if len(tags.Policies) != 0 {
				t.Fatalf("tag policies %+v", tags.Policies)
			}

			// MaxResults is 1 to 20; a token is good for its own operation.
			_, err = c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
			wantCode(t, err, "InvalidInputException")
			var iie *orgtypes.InvalidInputException
			if !errors.As(err, &iie) || iie.Reason != orgtypes.InvalidInputExceptionReasonMaxValueExceeded {
				t.Fatalf("MaxResults 21: %v", err)
			}
			_, err = c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(0)})
			wantCode(t, err, "InvalidInputException")
			page := must[*organizations.ListAccountsOutput](t)(c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)}))
			_, err = c.ListRoots(ctx, &organizations.ListRootsInput{NextToken: page.NextToken})
			if !errors.As(err, &iie) || iie.Reason != orgtypes.InvalidInputExceptionReasonInvalidPaginationToken {
				t.Fatalf("another operation's token: %v", err)
			}
		})
	}

	// A member's principals are refused, as in AWS.
	must[*iam.CreateUserOutput](t)(sb.memberIAM(t, alpha).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("m")}))
	_, err := sb.orgAs(sb.userKey(t, alpha, "m")).ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantMessage(t, err, "AccessDeniedException", "You don't have permissions to access this resource.")
	sc := sessionCreds(t, assume(t, sb.stsAs(ops), roleARN(alpha, OrgAccessRoleName)))
	_, err = sb.orgAs(sc).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantCode(t, err, "AccessDeniedException")

	// A lone account is no organisation.
	lone := newSandbox(t, Options{})
	_, err = lone.orgAs(keyCreds(testKeyID)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantMessage(t, err, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
}

// TestOrgFront checks that the front lets the SDK's JSON requests in and
// refuses what it refused before, now answering JSON requests in JSON.
func TestOrgFront(t *testing.T) {
	sb := smallOrg(t, nil)
	send := func(mod func(*http.Request)) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", sb.url+"/", strings.NewReader(`{}`))
		ok(t, err)
		req.Header.Set("Content-Type", jsonContentType)
		req.Header.Set("X-Amz-Target", orgTargetPrefix+"ListRoots")
		mod(req)
		resp, err := http.DefaultClient.Do(req)
		ok(t, err)
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, body := send(func(*http.Request) {}); code != 200 || !strings.Contains(body, `"Roots"`) {
		t.Fatalf("plain JSON request: %d %s", code, body)
	}
	for name, c := range map[string]struct {
		mod  func(*http.Request)
		code int
		want string
	}{
		"browser origin": {func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, 403, "BrowserRequestRefused"},
		"fetch metadata": {func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, 403, "BrowserRequestRefused"},
		"form type":      {func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }, 415, "UnsupportedMediaType"},
		"text/plain":     {func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, 415, "UnsupportedMediaType"},
		"two targets":    {func(r *http.Request) { r.Header.Add("X-Amz-Target", orgTargetPrefix+"ListAccounts") }, 415, "UnsupportedMediaType"},
		"other host":     {func(r *http.Request) { r.Host = "evil.example:80" }, 403, "InvalidHost"},
		"query string":   {func(r *http.Request) { r.URL.RawQuery = "Action=ListUsers" }, 400, "MalformedQueryString"},
		"unknown op":     {func(r *http.Request) { r.Header.Set("X-Amz-Target", orgTargetPrefix+"CreateAccount") }, 400, "UnknownOperationException"},
		"other service":  {func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables") }, 400, "UnknownOperationException"},
		"unknown member": {func(r *http.Request) {
			body := `{"maxResults":1}`
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		}, 400, "SerializationException"},
	} {
		code, body := send(c.mod)
		if code != c.code || !strings.Contains(body, `"__type":"`+c.want+`"`) {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	// A browser's form POST is still refused, JSON target or not.
	resp, err := http.Post(sb.url+"/", "text/plain", strings.NewReader("Action=CreateUser&Version=2010-05-08&UserName=x"))
	ok(t, err)
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Fatalf("text/plain form: %d", resp.StatusCode)
	}
}

func TestOrgStateFiles(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "org.json")
	s1, err := New(Options{Seed: "org", StateFile: state})
	ok(t, err)
	for _, id := range []string{OrgSharedID, OrgDevID, OrgProdID} {
		if _, err := os.Stat(state + "." + id); err != nil {
			t.Fatalf("member state file: %v", err)
		}
	}
	hs := httptest.NewServer(s1)
	sb := &sandbox{srv: s1, url: hs.URL, iam: iamClient(hs.URL, testKeyID, 1), sts: stsClient(hs.URL, testKeyID)}
	must[*iam.CreateUserOutput](t)(sb.memberIAM(t, OrgDevID).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("after-seed")}))
	hs.Close()
	ok(t, s1.Close())

	s2, err := New(Options{Seed: "org", StateFile: state})
	ok(t, err)
	hs2 := httptest.NewServer(s2)
	defer hs2.Close()
	sb2 := &sandbox{srv: s2, url: hs2.URL}
	must[*iam.GetUserOutput](t)(sb2.memberIAM(t, OrgDevID).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("after-seed")}))
	// The seed did not run again over the loaded accounts.
	users := must[*iam.ListUsersOutput](t)(sb2.memberIAM(t, OrgDevID).ListUsers(ctx, &iam.ListUsersInput{}))
	if len(users.Users) != 5 {
		t.Fatalf("dev users after reload: %d", len(users.Users))
	}
	// A corrupt member file is an error naming it, not a silent reset.
	ok(t, os.WriteFile(state+"."+OrgProdID, []byte("{"), 0o600))
	if _, err := New(Options{Seed: "org", StateFile: state}); err == nil || !strings.Contains(err.Error(), OrgProdID) {
		t.Fatalf("corrupt member state: %v", err)
	}
}

// TestOrgInProcess assumes a role and acts as the session through
// Transport, with no socket: how the MCP server uses the sandbox.
func TestOrgInProcess(t *testing.T) {
	srv, err := New(Options{Seed: "org"})
	ok(t, err)
	cfgFor := func(c creds) aws.Config {
		cfg := c.config()
		cfg.HTTPClient = &http.Client{Transport: srv.Transport()}
		return cfg
	}
	endpoint := func(o *sts.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") }
	out := must[*sts.AssumeRoleOutput](t)(sts.NewFromConfig(cfgFor(keyCreds(OrgOperatorKeyID)), endpoint).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN(OrgProdID, OrgAccessRoleName)), RoleSessionName: aws.String("in-process"),
	}))
	users := must[*iam.ListUsersOutput](t)(iam.NewFromConfig(cfgFor(sessionCreds(t, out)), func(o *iam.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") }).ListUsers(ctx, &iam.ListUsersInput{}))
	if len(users.Users) != 1 || aws.ToString(users.Users[0].Arn) != "arn:aws:iam::444444444444:user/prod-oncall" {
		t.Fatalf("prod's users in process: %+v", users.Users)
	}
	if srv.MemberTransport(OrgManagementID) != nil || srv.MemberTransport("999999999999") != nil {
		t.Fatal("MemberTransport of a non-member")
	}
}

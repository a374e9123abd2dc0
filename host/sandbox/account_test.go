package sandbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/binary"
	"encoding/csv"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// acctClock is a settable clock, so that dates in the credential report
// and its four-hour lifetime can be checked exactly.
type acctClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *acctClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *acctClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newAcctClock() *acctClock {
	return &acctClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// acctTOTP computes the RFC 6238 code (SHA-1, 30 s, 6 digits) of a Base32
// seed at a time step, as an authenticator app would.
func acctTOTP(t *testing.T, seed string, step int64) string {
	t.Helper()
	k, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(seed, "="))
	if err != nil {
		t.Fatalf("seed %q: %v", seed, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	h := hmac.New(sha1.New, k)
	h.Write(msg[:])
	sum := h.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1000000)
}

// acctCertificate returns a fresh self-signed X.509 certificate in PEM,
// valid from long before the tests' clocks to long after.
func acctCertificate(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// testDoc is a policy document with characters that URL encoding changes.
const testDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/a b+c&d=e/*"}]}`

const testTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func decodeDoc(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document not URL-encoded: %v", err)
	}
	return s
}

func TestAccountAlias(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	list := func() []string {
		return must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})).AccountAliases
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("new account has aliases %v", got)
	}
	for _, bad := range []string{"ab", strings.Repeat("a", 64), "Acme", "-acme", "acme-", "ac--me", "ac_me", ""} {
		_, err := c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(bad)})
		wantCode(t, err, "ValidationError")
		wantStatus(t, err, 400)
	}
	for _, good := range []string{"abc", strings.Repeat("a", 63), "a-b-c-1"} {
		ok(t, second(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String(good)})))
	}
	// An account has one alias; a new one overwrites it, as IAM documents.
	ok(t, second(c.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: aws.String("acme-prod")})))
	if got := list(); len(got) != 1 || got[0] != "acme-prod" {
		t.Fatalf("aliases %v", got)
	}
	out := must[*iam.ListAccountAliasesOutput](t)(c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(1)}))
	if len(out.AccountAliases) != 1 || out.IsTruncated || out.Marker != nil {
		t.Fatalf("one page: %+v", out)
	}
	_, err := c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(0)})
	wantCode(t, err, "ValidationError")

	_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("acme-dev")})
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, 404)
	_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("Bad_Alias")})
	wantCode(t, err, "ValidationError")
	ok(t, second(c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("acme-prod")})))
	if got := list(); len(got) != 0 {
		t.Fatalf("aliases after delete %v", got)
	}
	_, err = c.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: aws.String("acme-prod")})
	wantCode(t, err, "NoSuchEntity")
}

func TestAccountSummary(t *testing.T) {
	clock := newAcctClock()
	sb := newSandbox(t, Options{Quotas: Quotas{Users: 42}, Now: clock.now})
	c := sb.iam
	summary := func() map[string]int32 {
		return must[*iam.GetAccountSummaryOutput](t)(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})).SummaryMap
	}
	want := map[string]int32{
		"Users": 0, "Groups": 0, "Roles": 0, "Policies": 0, "InstanceProfiles": 0, "MFADevices": 0,
		"MFADevicesInUse": 0, "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0,
		"AccountSigningCertificatesPresent": 0, "PolicyVersionsInUse": 0, "Providers": 0, "ServerCertificates": 0,
		"UsersQuota": 42, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500, "InstanceProfilesQuota": 1000,
		"GroupsPerUserQuota": 10, "AttachedPoliciesPerUserQuota": 10, "AttachedPoliciesPerGroupQuota": 10,
		"AttachedPoliciesPerRoleQuota": 10, "AccessKeysPerUserQuota": 2, "SigningCertificatesPerUserQuota": 2,
		"UserPolicySizeQuota": 2048, "GroupPolicySizeQuota": 5120, "RolePolicySizeQuota": 10240,
		"PolicySizeQuota": 6144, "VersionsPerPolicyQuota": 5, "PolicyVersionsInUseQuota": 10000,
		"AssumeRolePolicySizeQuota": 2048, "ServerCertificatesQuota": 20, "GlobalEndpointTokenVersion": 1,
	}
	check := func(stage string) {
		t.Helper()
		got := summary()
		if len(got) != len(want) {
			t.Fatalf("%s: %d keys, want %d: %v", stage, len(got), len(want), got)
		}
		for k, v := range want {
			if g, present := got[k]; !present || g != v {
				t.Fatalf("%s: %s = %d (present %v), want %d", stage, k, g, present, v)
			}
		}
	}
	check("empty account")

	for i := 0; i < 3; i++ {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d", i))}))
	}
	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(testTrust)}))
	p := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(testDoc)}))
	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))
	dev := must[*iam.CreateVirtualMFADeviceOutput](t)(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("spare")}))
	want["Users"], want["Groups"], want["Roles"], want["Policies"], want["InstanceProfiles"], want["MFADevices"] = 3, 1, 1, 1, 1, 1
	check("after creating")

	// Each attachment of a managed policy (customer or AWS) puts a version in use.
	ok(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u0"), PolicyArn: p.Policy.Arn})))
	ok(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})))
	want["PolicyVersionsInUse"] = 2
	check("after attaching")

	// An assigned device is in use; the AWS managed policies are never counted.
	enableMFA(t, c, "u1", *dev.VirtualMFADevice.SerialNumber, string(dev.VirtualMFADevice.Base32StringSeed), clock.now())
	want["MFADevicesInUse"] = 1
	check("after enabling MFA")

	ok(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u2")})))
	want["Users"] = 2
	check("after deleting")
}

// enableMFA enables a virtual device for a user with two consecutive codes
// computed from its seed around the sandbox's current time.
func enableMFA(t *testing.T, c *iam.Client, user, serial, seed string, now time.Time) {
	t.Helper()
	step := now.Unix() / 30
	ok(t, second(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
		AuthenticationCode1: aws.String(acctTOTP(t, seed, step-1)), AuthenticationCode2: aws.String(acctTOTP(t, seed, step))})))
}

func TestAccountPasswordPolicy(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	_, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, 404)
	if !strings.Contains(err.Error(), "The Password Policy with domain name 123456789012 cannot be found.") {
		t.Fatalf("message: %v", err)
	}
	_, err = c.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})
	wantCode(t, err, "NoSuchEntity")

	ok(t, second(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(14), RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
		AllowUsersToChangePassword: true, MaxPasswordAge: aws.Int32(90), PasswordReusePrevention: aws.Int32(24),
		HardExpiry: aws.Bool(true),
	})))
	pp := must[*iam.GetAccountPasswordPolicyOutput](t)(c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 14 || !pp.RequireSymbols || !pp.RequireNumbers || !pp.RequireUppercaseCharacters ||
		!pp.RequireLowercaseCharacters || !pp.AllowUsersToChangePassword || !pp.ExpirePasswords ||
		aws.ToInt32(pp.MaxPasswordAge) != 90 || aws.ToInt32(pp.PasswordReusePrevention) != 24 || !aws.ToBool(pp.HardExpiry) {
		t.Fatalf("round trip: %+v", pp)
	}

	// No partial updates: what is omitted reverts to IAM's defaults.
	ok(t, second(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{RequireNumbers: true})))
	pp = must[*iam.GetAccountPasswordPolicyOutput](t)(c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 6 || !pp.RequireNumbers || pp.RequireSymbols || pp.AllowUsersToChangePassword ||
		pp.ExpirePasswords || pp.MaxPasswordAge != nil || pp.PasswordReusePrevention != nil || pp.HardExpiry != nil {
		t.Fatalf("defaults: %+v", pp)
	}

	for _, in := range []iam.UpdateAccountPasswordPolicyInput{
		{MinimumPasswordLength: aws.Int32(5)}, {MinimumPasswordLength: aws.Int32(129)},
		{MaxPasswordAge: aws.Int32(0)}, {MaxPasswordAge: aws.Int32(1096)},
		{PasswordReusePrevention: aws.Int32(0)}, {PasswordReusePrevention: aws.Int32(25)},
	} {
		_, err := c.UpdateAccountPasswordPolicy(ctx, &in)
		wantCode(t, err, "ValidationError")
		wantStatus(t, err, 400)
	}
	for _, in := range []iam.UpdateAccountPasswordPolicyInput{
		{MinimumPasswordLength: aws.Int32(128), MaxPasswordAge: aws.Int32(1095), PasswordReusePrevention: aws.Int32(1)},
		{MinimumPasswordLength: aws.Int32(6), MaxPasswordAge: aws.Int32(1)},
	} {
		ok(t, second(c.UpdateAccountPasswordPolicy(ctx, &in)))
	}

	ok(t, second(c.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})))
	_, err = c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	wantCode(t, err, "NoSuchEntity")
}

// credentialReport fetches and parses the report.
func credentialReport(t *testing.T, c *iam.Client) (*iam.GetCredentialReportOutput, map[string][]string, [][]string) {
	t.Helper()
	out := must[*iam.GetCredentialReportOutput](t)(c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))
	if out.ReportFormat != types.ReportFormatTypeTextCsv {
		t.Fatalf("format %q", out.ReportFormat)
	}
	rows, err := csv.NewReader(bytes.NewReader(out.Content)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, out.Content)
	}
	byUser := map[string][]string{}
	for _, r := range rows[1:] {
		byUser[r[0]] = r
	}
	return out, byUser, rows
}

func TestAccountCredentialReport(t *testing.T) {
	clock := newAcctClock()
	sb := newSandbox(t, Options{Now: clock.now})
	c := sb.iam

	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantCode(t, err, "ReportNotPresent")
	wantStatus(t, err, 410)

	// alice: console password, MFA, two keys (the second inactive), a
	// signing certificate; bob: nothing.
	created := clock.now()
	ok(t, second(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(90)})))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/")}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	must[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Str0ng!Passw0rd")}))
	dev := must[*iam.CreateVirtualMFADeviceOutput](t)(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")}))
	enableMFA(t, c, "alice", *dev.VirtualMFADevice.SerialNumber, string(dev.VirtualMFADevice.Base32StringSeed), clock.now())
	k1 := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	clock.advance(time.Hour)
	k2 := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).AccessKey
	ok(t, second(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKeyId, Status: types.StatusTypeInactive})))
	must[*iam.UploadSigningCertificateOutput](t)(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("alice"), CertificateBody: aws.String(acctCertificate(t))}))

	// No API records a console sign-in (the demo seed sets it directly), so
	// the test does the same to see the date in password_last_used.
	signedIn := created.Add(30 * time.Minute)
	sb.srv.mu.Lock()
	sb.srv.acct.Users["alice"].PasswordLastUsed = &signedIn
	sb.srv.mu.Unlock()

	// A request signed with alice's first key is its last use.
	clock.advance(time.Minute)
	used := clock.now()
	must[*iam.GetUserOutput](t)(sb.asUser(*k1.AccessKeyId).GetUser(ctx, &iam.GetUserInput{}))

	gen := must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	if gen.State != types.ReportStateTypeStarted {
		t.Fatalf("first generate: %s", gen.State)
	}
	generated := clock.now()
	clock.advance(time.Minute)
	gen = must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	if gen.State != types.ReportStateTypeComplete {
		t.Fatalf("second generate: %s", gen.State)
	}

	out, byUser, rows := credentialReport(t, c)
	if !out.GeneratedTime.Equal(generated) {
		t.Fatalf("GeneratedTime %v, want %v", out.GeneratedTime, generated)
	}
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	if got := strings.Join(rows[0], ","); got != header {
		t.Fatalf("header\n got %s\nwant %s", got, header)
	}
	if len(rows) != 4 || rows[1][0] != "<root_account>" {
		t.Fatalf("rows: %q", rows)
	}
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }
	cols := map[string]int{}
	for i, name := range rows[0] {
		cols[name] = i
	}
	wantRow := func(user string, want map[string]string) {
		t.Helper()
		row := byUser[user]
		if len(row) != 22 {
			t.Fatalf("%s: %d columns", user, len(row))
		}
		for col, v := range want {
			if got := row[cols[col]]; got != v {
				t.Errorf("%s %s = %q, want %q", user, col, got, v)
			}
		}
	}
	wantRow("<root_account>", map[string]string{
		"arn": "arn:aws:iam::123456789012:root", "password_enabled": "not_supported", "password_last_used": "no_information",
		"password_last_changed": "not_supported", "password_next_rotation": "not_supported", "mfa_active": "false",
		"access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_2_active": "false",
		"cert_1_active": "false", "cert_1_last_rotated": "N/A", "cert_2_active": "false", "cert_2_last_rotated": "N/A",
	})
	if _, err := time.Parse(time.RFC3339, byUser["<root_account>"][cols["user_creation_time"]]); err != nil {
		t.Errorf("root creation time: %v", err)
	}
	wantRow("alice", map[string]string{
		"arn": "arn:aws:iam::123456789012:user/eng/alice", "user_creation_time": iso(created),
		"password_enabled": "true", "password_last_used": iso(signedIn), "password_last_changed": iso(created),
		"password_next_rotation": iso(created.AddDate(0, 0, 90)), "mfa_active": "true",
		"access_key_1_active": "true", "access_key_1_last_rotated": iso(created), "access_key_1_last_used_date": iso(used),
		"access_key_1_last_used_region": "us-east-1", "access_key_1_last_used_service": "iam",
		"access_key_2_active": "false", "access_key_2_last_rotated": iso(created.Add(time.Hour)),
		"access_key_2_last_used_date": "N/A", "access_key_2_last_used_region": "N/A", "access_key_2_last_used_service": "N/A",
		"cert_1_active": "true", "cert_1_last_rotated": iso(created.Add(time.Hour)), "cert_2_active": "false", "cert_2_last_rotated": "N/A",
	})
	wantRow("bob", map[string]string{
		"arn": "arn:aws:iam::123456789012:user/bob", "password_enabled": "false", "password_last_used": "N/A",
		"password_last_changed": "N/A", "password_next_rotation": "N/A", "mfa_active": "false",
		"access_key_1_active": "false", "access_key_1_last_rotated": "N/A", "access_key_1_last_used_date": "N/A",
		"access_key_1_last_used_region": "N/A", "access_key_1_last_used_service": "N/A",
		"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "cert_1_active": "false", "cert_1_last_rotated": "N/A",
	})
	if strings.Contains(string(out.Content), *k1.AccessKeyId) {
		t.Fatal("report leaks an access key id")
	}

	// The report is a snapshot: a user created now appears only once a
	// report older than four hours has expired and a new one is generated.
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}))
	carolSet := clock.now()
	must[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("carol"), Password: aws.String("An0ther!Passw0rd")}))
	if _, byUser, _ := credentialReport(t, c); byUser["carol"] != nil {
		t.Fatal("report changed without a new generation")
	}
	clock.advance(4 * time.Hour)
	_, err = c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantCode(t, err, "ReportExpired")
	wantStatus(t, err, 410)
	gen = must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	if gen.State != types.ReportStateTypeStarted {
		t.Fatalf("generate after expiry: %s", gen.State)
	}
	out, byUser, _ = credentialReport(t, c)
	if byUser["carol"] == nil || !out.GeneratedTime.Equal(clock.now()) {
		t.Fatalf("regenerated report: carol %v, generated %v", byUser["carol"], out.GeneratedTime)
	}
	// A password never used is no_information, not N/A.
	wantRow("carol", map[string]string{"password_enabled": "true", "password_last_used": "no_information",
		"password_last_changed": iso(carolSet), "password_next_rotation": iso(carolSet.AddDate(0, 0, 90))})
}

// authFixture builds an account with something of every kind that
// GetAccountAuthorizationDetails reports, and returns the customer
// policy's ARN.
func authFixture(t *testing.T, c *iam.Client) string {
	t.Helper()
	pol := must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Local"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(testDoc), Description: aws.String("a local policy")})).Policy
	doc2 := strings.Replace(testDoc, "s3:GetObject", "s3:PutObject", 1)
	must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: pol.Arn, PolicyDocument: aws.String(doc2), SetAsDefault: true}))
	must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Unused"), PolicyDocument: aws.String(testDoc)}))

	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}}))
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	ok(t, second(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(testDoc)})))
	ok(t, second(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: pol.Arn})))
	ok(t, second(c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("alice"),
		PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")})))

	must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	ok(t, second(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")})))
	ok(t, second(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("g-inline"), PolicyDocument: aws.String(testDoc)})))
	ok(t, second(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})))

	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(testTrust),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	ok(t, second(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("r-inline"), PolicyDocument: aws.String(testDoc)})))
	ok(t, second(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: pol.Arn})))
	must[*iam.CreateInstanceProfileOutput](t)(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app-profile")}))
	ok(t, second(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: aws.String("app")})))
	return *pol.Arn
}

func TestAccountAuthorizationDetails(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	localARN := authFixture(t, c)
	details := func(filter ...types.EntityType) *iam.GetAccountAuthorizationDetailsOutput {
		t.Helper()
		return must[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: filter}))
	}

	all := details()
	if all.IsTruncated || len(all.UserDetailList) != 2 || len(all.GroupDetailList) != 1 || len(all.RoleDetailList) != 1 {
		t.Fatalf("unfiltered: %d users %d groups %d roles truncated=%v",
			len(all.UserDetailList), len(all.GroupDetailList), len(all.RoleDetailList), all.IsTruncated)
	}

	// Users: inline documents URL-encoded, groups, attachments, boundary, tags.
	u := all.UserDetailList[0]
	if *u.UserName != "alice" || *u.Arn != "arn:aws:iam::123456789012:user/alice" || u.CreateDate == nil || *u.Path != "/" {
		t.Fatalf("user %+v", u)
	}
	if len(u.UserPolicyList) != 1 || *u.UserPolicyList[0].PolicyName != "inline" || decodeDoc(t, u.UserPolicyList[0].PolicyDocument) != testDoc {
		t.Fatalf("user inline %+v", u.UserPolicyList)
	}
	if strings.Contains(*u.UserPolicyList[0].PolicyDocument, "{") {
		t.Fatal("user inline document is not URL-encoded")
	}
	if len(u.GroupList) != 1 || u.GroupList[0] != "devs" || len(u.AttachedManagedPolicies) != 1 || *u.AttachedManagedPolicies[0].PolicyArn != localARN ||
		*u.AttachedManagedPolicies[0].PolicyName != "Local" {
		t.Fatalf("user relations %+v %+v", u.GroupList, u.AttachedManagedPolicies)
	}
	if u.PermissionsBoundary == nil || *u.PermissionsBoundary.PermissionsBoundaryArn != "arn:aws:iam::aws:policy/PowerUserAccess" ||
		len(u.Tags) != 1 || *u.Tags[0].Key != "team" {
		t.Fatalf("user boundary/tags %+v %+v", u.PermissionsBoundary, u.Tags)
	}
	if b := all.UserDetailList[1]; *b.UserName != "bob" || len(b.GroupList) != 0 || len(b.UserPolicyList) != 0 || b.PermissionsBoundary != nil {
		t.Fatalf("bob %+v", b)
	}

	g := all.GroupDetailList[0]
	if *g.GroupName != "devs" || len(g.GroupPolicyList) != 1 || decodeDoc(t, g.GroupPolicyList[0].PolicyDocument) != testDoc ||
		len(g.AttachedManagedPolicies) != 1 || *g.AttachedManagedPolicies[0].PolicyName != "ReadOnlyAccess" {
		t.Fatalf("group %+v", g)
	}

	r := all.RoleDetailList[0]
	if *r.RoleName != "app" || decodeDoc(t, r.AssumeRolePolicyDocument) != testTrust || len(r.RolePolicyList) != 1 ||
		decodeDoc(t, r.RolePolicyList[0].PolicyDocument) != testDoc || len(r.AttachedManagedPolicies) != 1 ||
		len(r.Tags) != 1 || r.RoleLastUsed == nil {
		t.Fatalf("role %+v", r)
	}
	if len(r.InstanceProfileList) != 1 || *r.InstanceProfileList[0].InstanceProfileName != "app-profile" ||
		len(r.InstanceProfileList[0].Roles) != 1 || *r.InstanceProfileList[0].Roles[0].RoleName != "app" {
		t.Fatalf("role instance profiles %+v", r.InstanceProfileList)
	}

	// Policies: every customer managed policy, and the AWS managed ones in
	// use (attached or a boundary), each with all its versions.
	pols := map[string]types.ManagedPolicyDetail{}
	for _, p := range all.Policies {
		pols[*p.PolicyName] = p
	}
	for _, name := range []string{"Local", "Unused", "ReadOnlyAccess", "PowerUserAccess"} {
		if _, found := pols[name]; !found {
			t.Fatalf("policy %s missing from %d policies", name, len(all.Policies))
		}
	}
	if len(pols) != 4 {
		t.Fatalf("policies: %v", pols)
	}
	local := pols["Local"]
	if *local.Arn != localARN || *local.Path != "/team/" || *local.DefaultVersionId != "v2" || aws.ToInt32(local.AttachmentCount) != 2 ||
		aws.ToInt32(local.PermissionsBoundaryUsageCount) != 0 || !local.IsAttachable || aws.ToString(local.Description) != "a local policy" ||
		local.CreateDate == nil || local.UpdateDate == nil || local.PolicyId == nil || len(local.PolicyVersionList) != 2 {
		t.Fatalf("local policy %+v", local)
	}
	for _, v := range local.PolicyVersionList {
		doc := decodeDoc(t, v.Document)
		switch *v.VersionId {
		case "v1":
			if v.IsDefaultVersion || doc != testDoc {
				t.Fatalf("v1 %+v %s", v, doc)
			}
		case "v2":
			if !v.IsDefaultVersion || !strings.Contains(doc, "s3:PutObject") {
				t.Fatalf("v2 %+v %s", v, doc)
			}
		}
	}
	if pu := pols["PowerUserAccess"]; aws.ToInt32(pu.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(pu.AttachmentCount) != 0 {
		t.Fatalf("boundary policy counts %+v", pu)
	}

	// Each filter selects its kind only.
	counts := func(o *iam.GetAccountAuthorizationDetailsOutput) [4]int {
		return [4]int{len(o.UserDetailList), len(o.GroupDetailList), len(o.RoleDetailList), len(o.Policies)}
	}
	for _, tc := range []struct {
		filter []types.EntityType
		want   [4]int
	}{
		{[]types.EntityType{types.EntityTypeUser}, [4]int{2, 0, 0, 0}},
		{[]types.EntityType{types.EntityTypeGroup}, [4]int{0, 1, 0, 0}},
		{[]types.EntityType{types.EntityTypeRole}, [4]int{0, 0, 1, 0}},
		{[]types.EntityType{types.EntityTypeLocalManagedPolicy}, [4]int{0, 0, 0, 2}},
		{[]types.EntityType{types.EntityTypeAWSManagedPolicy}, [4]int{0, 0, 0, 2}},
		{[]types.EntityType{types.EntityTypeUser, types.EntityTypeRole}, [4]int{2, 0, 1, 0}},
	} {
		o := details(tc.filter...)
		if got := counts(o); got != tc.want {
			t.Fatalf("filter %v: %v, want %v", tc.filter, got, tc.want)
		}
		for _, p := range o.Policies {
			isAWS := strings.HasPrefix(*p.Arn, "arn:aws:iam::aws:")
			if isAWS != (tc.filter[0] == types.EntityTypeAWSManagedPolicy) {
				t.Fatalf("filter %v returned %s", tc.filter, *p.Arn)
			}
		}
	}
	_, err := c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{"Bogus"}})
	wantCode(t, err, "ValidationError")
	wantStatus(t, err, 400)
	_, err = c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Marker: aws.String("!!")})
	wantCode(t, err, "InvalidInput")
	_, err = c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1001)})
	wantCode(t, err, "ValidationError")
}

// authNames lists the entities of one page as kind:name.
func authNames(o *iam.GetAccountAuthorizationDetailsOutput) []string {
	var out []string
	for _, u := range o.UserDetailList {
		out = append(out, "user:"+*u.UserName)
	}
	for _, g := range o.GroupDetailList {
		out = append(out, "group:"+*g.GroupName)
	}
	for _, r := range o.RoleDetailList {
		out = append(out, "role:"+*r.RoleName)
	}
	for _, p := range o.Policies {
		out = append(out, "policy:"+*p.Arn)
	}
	return out
}

func TestAccountAuthorizationDetailsPaging(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	authFixture(t, c)
	for i := 0; i < 7; i++ {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%02d", i))}))
		must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(fmt.Sprintf("group%02d", i))}))
		must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("role%02d", i)), AssumeRolePolicyDocument: aws.String(testTrust)}))
		must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("pol%02d", i)), PolicyDocument: aws.String(testDoc)}))
	}
	everything := authNames(must[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1000)})))
	// 9 users, 8 groups, 8 roles, 9 customer policies and the 2 AWS
	// managed ones in use.
	if len(everything) != 9+8+8+11 {
		t.Fatalf("%d entities: %v", len(everything), everything)
	}

	for _, size := range []int32{1, 3, 5, 10} {
		seen := map[string]int{}
		var order []string
		pages := 0
		p := iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(size)})
		for p.HasMorePages() {
			out := must[*iam.GetAccountAuthorizationDetailsOutput](t)(p.NextPage(ctx))
			pages++
			names := authNames(out)
			if len(names) > int(size) || (out.IsTruncated && len(names) != int(size)) {
				t.Fatalf("MaxItems %d: page of %d (truncated %v)", size, len(names), out.IsTruncated)
			}
			for _, n := range names {
				seen[n]++
				order = append(order, n)
			}
		}
		if strings.Join(order, " ") != strings.Join(everything, " ") {
			t.Fatalf("MaxItems %d: paged sequence differs\n got %v\nwant %v", size, order, everything)
		}
		for n, k := range seen {
			if k != 1 {
				t.Fatalf("MaxItems %d: %s seen %d times", size, n, k)
			}
		}
		if want := (len(everything) + int(size) - 1) / int(size); pages != want {
			t.Fatalf("MaxItems %d: %d pages, want %d", size, pages, want)
		}
	}

	// A marker survives changes between calls: entities created before the
	// marker's position are not returned again, nothing after it is skipped,
	// and deleting the entity the marker names does not lose the rest.
	first := must[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(10)}))
	got := authNames(first)
	if got[len(got)-1] != "group:devs" {
		t.Fatalf("first page ends at %s", got[len(got)-1])
	}
	must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("aaron")}))
	ok(t, second(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("group00")})))
	must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("role99"), AssumeRolePolicyDocument: aws.String(testTrust)}))
	marker := first.Marker
	for marker != nil {
		out := must[*iam.GetAccountAuthorizationDetailsOutput](t)(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(10), Marker: marker}))
		got = append(got, authNames(out)...)
		marker = out.Marker
	}
	want := []string{}
	for _, n := range everything {
		if n != "group:group00" {
			want = append(want, n)
		}
		if n == "role:role06" {
			want = append(want, "role:role99")
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("paging across changes\n got %v\nwant %v", got, want)
	}
}

package sandbox

import (
	"crypto/sha256"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// credsClock is a settable clock, so that creation and last-use dates and
// TOTP time steps are exact.
type credsClock struct {
	mu sync.Mutex
	t  time.Time
}

func newCredsClock() *credsClock {
	return &credsClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *credsClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *credsClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// credsSandbox is a sandbox on a fixed clock with the named users.
func credsSandbox(t *testing.T, users ...string) (*sandbox, *credsClock) {
	t.Helper()
	clk := newCredsClock()
	sb := newSandbox(t, Options{Now: clk.now})
	for _, u := range users {
		must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
	}
	return sb, clk
}

// credsKey creates an access key for a user and returns its id.
func credsKey(t *testing.T, sb *sandbox, user string) string {
	t.Helper()
	out := must[*iam.CreateAccessKeyOutput](t)(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}))
	return *out.AccessKey.AccessKeyId
}

// credsWantMessage fails unless err has the code and its message contains want.
func credsWantMessage(t *testing.T, err error, code, want string) {
	t.Helper()
	wantCode(t, err, code)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s message should contain %q: %v", code, want, err)
	}
}

var credsKeyID = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)

func TestCredentialsAccessKeys(t *testing.T) {
	sb, clk := credsSandbox(t, "alice", "bob")
	c := sb.iam
	t0 := clk.now()
	out := must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	k := out.AccessKey
	if !credsKeyID.MatchString(*k.AccessKeyId) || len(*k.SecretAccessKey) != 40 || k.Status != types.StatusTypeActive ||
		*k.UserName != "alice" || !k.CreateDate.Equal(t0) {
		t.Fatalf("new key %+v", k)
	}
	first := *k.AccessKeyId
	clk.advance(time.Hour)
	newer := credsKey(t, sb, "alice")
	if newer == first {
		t.Fatal("duplicate key id")
	}

	// Two keys per user.
	_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	credsWantMessage(t, err, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	wantStatus(t, err, 409)
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity")

	// Paging across two pages, oldest first; secrets are never listed.
	p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(1)})
	var ids []string
	for p.HasMorePages() {
		page := must[*iam.ListAccessKeysOutput](t)(p.NextPage(ctx))
		if len(page.AccessKeyMetadata) != 1 {
			t.Fatalf("page of %d", len(page.AccessKeyMetadata))
		}
		m := page.AccessKeyMetadata[0]
		if *m.UserName != "alice" || m.Status != types.StatusTypeActive || m.CreateDate == nil {
			t.Fatalf("metadata %+v", m)
		}
		ids = append(ids, *m.AccessKeyId)
	}
	if len(ids) != 2 || ids[0] != first || ids[1] != newer {
		t.Fatalf("listed %v, want [%s %s]", ids, first, newer)
	}
	empty := must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")}))
	if len(empty.AccessKeyMetadata) != 0 || empty.IsTruncated {
		t.Fatalf("bob's keys %+v", empty.AccessKeyMetadata)
	}

	// Status changes, validated.
	ok(t, second(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(first), Status: types.StatusTypeInactive})))
	list := must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}))
	if list.AccessKeyMetadata[0].Status != types.StatusTypeInactive || list.AccessKeyMetadata[1].Status != types.StatusTypeActive {
		t.Fatalf("statuses %+v", list.AccessKeyMetadata)
	}
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(first), Status: "Expired"})
	wantCode(t, err, "ValidationError")
	wantStatus(t, err, 400)
	// A key is found only on its own user.
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(first), Status: types.StatusTypeActive})
	credsWantMessage(t, err, "NoSuchEntity", "The Access Key with id "+first+" cannot be found.")
	wantStatus(t, err, 404)
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String("AKIA")})
	wantCode(t, err, "ValidationError")

	// A user with keys cannot be deleted.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	credsWantMessage(t, err, "DeleteConflict", "delete access keys")
	for _, id := range ids {
		ok(t, second(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(id)})))
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(first)})
	credsWantMessage(t, err, "NoSuchEntity", "The Access Key with id "+first+" cannot be found.")
	// The quota counts current keys only.
	credsKey(t, sb, "alice")
	ok(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})))
}

func TestCredentialsCallerDefaults(t *testing.T) {
	sb, _ := credsSandbox(t, "alice")
	key := credsKey(t, sb, "alice")
	me := sb.asUser(key)

	// Without UserName the caller's own user is meant.
	out := must[*iam.CreateAccessKeyOutput](t)(me.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))
	if *out.AccessKey.UserName != "alice" {
		t.Fatalf("key created for %s", *out.AccessKey.UserName)
	}
	own := *out.AccessKey.AccessKeyId
	list := must[*iam.ListAccessKeysOutput](t)(me.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(list.AccessKeyMetadata) != 2 {
		t.Fatalf("own keys %+v", list.AccessKeyMetadata)
	}
	ok(t, second(me.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(own), Status: types.StatusTypeInactive})))
	ok(t, second(me.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(own)})))
	lp := must[*iam.CreateLoginProfileOutput](t)(me.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("Correct-Horse-1")}))
	if *lp.LoginProfile.UserName != "alice" {
		t.Fatalf("login profile for %s", *lp.LoginProfile.UserName)
	}
	ok(t, second(me.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})))
	ok(t, second(me.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{})))

	// The test key is no user's: IAM's answer for non-user credentials.
	calls := map[string]error{
		"CreateAccessKey":    second(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})),
		"ListAccessKeys":     second(sb.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})),
		"DeleteAccessKey":    second(sb.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(key)})),
		"CreateLoginProfile": second(sb.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{Password: aws.String("Correct-Horse-1")})),
		"GetLoginProfile":    second(sb.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{})),
	}
	for name, err := range calls {
		t.Run(name, func(t *testing.T) {
			credsWantMessage(t, err, "ValidationError", "Must specify userName when calling with non-User credentials")
			wantStatus(t, err, 400)
		})
	}
}

func TestCredentialsAccessKeyLastUsed(t *testing.T) {
	sb, clk := credsSandbox(t, "alice")
	key := credsKey(t, sb, "alice")
	lastUsed := func() *iam.GetAccessKeyLastUsedOutput {
		t.Helper()
		return must[*iam.GetAccessKeyLastUsedOutput](t)(sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)}))
	}

	// Never used: no date, "N/A" as IAM says.
	got := lastUsed()
	if *got.UserName != "alice" || got.AccessKeyLastUsed.LastUsedDate != nil ||
		*got.AccessKeyLastUsed.ServiceName != "N/A" || *got.AccessKeyLastUsed.Region != "N/A" {
		t.Fatalf("unused key: %+v %+v", got, got.AccessKeyLastUsed)
	}

	// A request signed with the key is recorded with its service and region.
	clk.advance(time.Hour)
	usedAt := clk.now()
	who := must[*iam.GetUserOutput](t)(sb.asUser(key).GetUser(ctx, &iam.GetUserInput{}))
	if *who.User.UserName != "alice" {
		t.Fatalf("caller %s", *who.User.UserName)
	}
	clk.advance(time.Hour) // looking it up signs with another key and must not count
	got = lastUsed()
	if l := got.AccessKeyLastUsed; l.LastUsedDate == nil || !l.LastUsedDate.Equal(usedAt) || *l.ServiceName != "iam" || *l.Region != "us-east-1" {
		t.Fatalf("after IAM use: %+v", l)
	}

	// So is a request to STS.
	stsAt := clk.now()
	id := must[*sts.GetCallerIdentityOutput](t)(stsClient(sb.url, key).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))
	if id.Arn == nil || *id.Arn != "arn:aws:iam::123456789012:user/alice" {
		t.Fatalf("caller identity %+v", id)
	}
	if l := lastUsed().AccessKeyLastUsed; !l.LastUsedDate.Equal(stsAt) || *l.ServiceName != "sts" || *l.Region != "us-east-1" {
		t.Fatalf("after STS use: %+v", l)
	}

	// Keys that are no user's of the account: IAM denies rather than say
	// whether they exist, even for a key id that signs requests.
	for _, other := range []string{"AKIAZZZZZZZZZZZZZZZZ", testKeyID} {
		_, err := sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(other)})
		credsWantMessage(t, err, "AccessDenied", "User: arn:aws:iam::123456789012:root is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key "+other)
		wantStatus(t, err, 403)
	}
	ok(t, second(sb.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(key)})))
	_, err := sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
	wantCode(t, err, "AccessDenied")
	_, err = sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIA-not-an-id!!")})
	wantCode(t, err, "ValidationError")
}

func TestCredentialsLoginProfile(t *testing.T) {
	sb, clk := credsSandbox(t, "alice", "bob")
	c := sb.iam
	const pw = "Correct-Horse-1"
	out := must[*iam.CreateLoginProfileOutput](t)(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
		UserName: aws.String("alice"), Password: aws.String(pw), PasswordResetRequired: true}))
	if lp := out.LoginProfile; *lp.UserName != "alice" || !lp.PasswordResetRequired || !lp.CreateDate.Equal(clk.now()) {
		t.Fatalf("created %+v", lp)
	}
	_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(pw)})
	credsWantMessage(t, err, "EntityAlreadyExists", "Login Profile for user alice already exists.")
	wantStatus(t, err, 409)
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob")})
	wantCode(t, err, "ValidationError")
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String(pw)})
	wantCode(t, err, "NoSuchEntity")

	// Only a SHA-256 of the password is kept, never the password.
	hashOf := func(p string) []byte { h := sha256.Sum256([]byte(p)); return h[:] }
	u := sb.srv.acct.Users["alice"]
	if string(u.LoginProfile.PasswordHash) != string(hashOf(pw)) {
		t.Fatal("stored hash is not the password's SHA-256")
	}
	state, _ := json.Marshal(sb.srv.acct)
	if strings.Contains(string(state), pw) {
		t.Fatal("the password itself is in the account state")
	}

	got := must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}))
	if !got.LoginProfile.PasswordResetRequired || *got.LoginProfile.UserName != "alice" {
		t.Fatalf("got %+v", got.LoginProfile)
	}
	for name, err := range map[string]error{
		"Get":    second(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})),
		"Update": second(c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), PasswordResetRequired: aws.Bool(true)})),
		"Delete": second(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")})),
	} {
		t.Run(name, func(t *testing.T) {
			credsWantMessage(t, err, "NoSuchEntity", "Login Profile for User bob cannot be found.")
			wantStatus(t, err, 404)
		})
	}

	// Update changes only what is sent.
	ok(t, second(c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(false)})))
	got = must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}))
	if got.LoginProfile.PasswordResetRequired || string(u.LoginProfile.PasswordHash) != string(hashOf(pw)) {
		t.Fatal("reset flag not cleared, or password changed without being sent")
	}
	clk.advance(time.Hour)
	ok(t, second(c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Battery-Staple-2")})))
	if string(u.LoginProfile.PasswordHash) != string(hashOf("Battery-Staple-2")) || !u.LoginProfile.PasswordSet.Equal(clk.now()) ||
		u.LoginProfile.ResetRequired {
		t.Fatalf("after password update %+v", u.LoginProfile)
	}
	_, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("weak")})
	wantCode(t, err, "PasswordPolicyViolation")

	// A user with a login profile cannot be deleted.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	credsWantMessage(t, err, "DeleteConflict", "delete login profile")
	ok(t, second(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})))
	_, err = c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	wantCode(t, err, "NoSuchEntity")
	ok(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})))
}

func TestCredentialsPasswordPolicyViolation(t *testing.T) {
	strict := &PasswordPolicy{MinimumPasswordLength: 12, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true}
	cases := []struct {
		pp   *PasswordPolicy
		pw   string
		want string
	}{
		{nil, "Ab1!xyz", "minimum length of 8"},
		{nil, "lowercaseonly", "at least three"},
		{nil, "lowercase1234", "at least three"},
		{nil, "Lowercase1234", ""},
		{nil, "lower-case!1", ""},
		{strict, "Aa1!short", "minimum length of 12"},
		{strict, "Abcdefghijk1", "at least one symbol"},
		{strict, "Abcdefghijk!", "at least one number"},
		{strict, "abcdefghij1!", "at least one uppercase letter"},
		{strict, "ABCDEFGHIJ1!", "at least one lowercase letter"},
		{strict, "Abcdefghij1'", ""},
		{&PasswordPolicy{MinimumPasswordLength: 6}, "abcdef", ""},
	}
	for _, tc := range cases {
		got := passwordPolicyViolation(tc.pp, tc.pw)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("passwordPolicyViolation(%+v, %q) = %q, want %q", tc.pp, tc.pw, got, tc.want)
		}
	}
}

func TestCredentialsPasswordPolicy(t *testing.T) {
	sb, _ := credsSandbox(t, "alice")
	create := func(pw string) error {
		return second(sb.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(pw)}))
	}
	// IAM's default policy with none set.
	err := create("Ab1!xyz")
	credsWantMessage(t, err, "PasswordPolicyViolation", "Password should have a minimum length of 8")
	wantStatus(t, err, 400)
	wantCode(t, create("onlylowercase"), "PasswordPolicyViolation")
	// Not IAM's password characters, or too long.
	wantCode(t, create("Pass\x01word-123"), "ValidationError")
	wantCode(t, create("Pass€word-123"), "ValidationError")
	wantCode(t, create("Aa1!"+strings.Repeat("x", 125)), "ValidationError")

	// The account policy, set directly (nothing else runs on this sandbox).
	sb.srv.acct.PasswordPolicy = &PasswordPolicy{MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true}
	for pw, want := range map[string]string{
		"Aa1!Aa1!":         "minimum length of 14",
		"Abcdefghijklmn1":  "at least one symbol",
		"Abcdefghijklmn!":  "at least one number",
		"abcdefghijklm1!":  "at least one uppercase letter",
		"ABCDEFGHIJKLM1!":  "at least one lowercase letter",
		"lowercase-only!1": "at least one uppercase letter",
	} {
		credsWantMessage(t, create(pw), "PasswordPolicyViolation", want)
	}
	ok(t, create("Abcdefghijklm1!"))
}

func TestCredentialsChangePassword(t *testing.T) {
	sb, clk := credsSandbox(t, "alice", "bob")
	c := sb.iam
	const oldPw, newPw = "Correct-Horse-1", "Battery-Staple-2"
	ok(t, second(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(oldPw), PasswordResetRequired: true})))
	alice := sb.asUser(credsKey(t, sb, "alice"))
	change := func(cl *iam.Client, old, nw string) error {
		return second(cl.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String(old), NewPassword: aws.String(nw)}))
	}

	err := change(alice, "Wrong-Password-9", newPw)
	wantCode(t, err, "AccessDenied")
	wantStatus(t, err, 403)
	wantCode(t, change(alice, oldPw, "weak"), "PasswordPolicyViolation")
	clk.advance(time.Hour)
	ok(t, change(alice, oldPw, newPw))
	lp := sb.srv.acct.Users["alice"].LoginProfile
	if h := sha256.Sum256([]byte(newPw)); string(lp.PasswordHash) != string(h[:]) || !lp.PasswordSet.Equal(clk.now()) {
		t.Fatal("new password not stored")
	}
	got := must[*iam.GetLoginProfileOutput](t)(c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}))
	if got.LoginProfile.PasswordResetRequired {
		t.Fatal("a changed password still requires a reset")
	}
	wantCode(t, change(alice, oldPw, "Another-Pass-3"), "AccessDenied")

	// Reuse prevention refuses the current password.
	sb.srv.acct.PasswordPolicy = &PasswordPolicy{MinimumPasswordLength: 8, PasswordReusePrevention: 3}
	credsWantMessage(t, change(alice, newPw, newPw), "PasswordPolicyViolation", "last 3 passwords")

	// Only a user can change their own password, and only one they have.
	err = change(c, oldPw, newPw)
	wantCode(t, err, "InvalidUserType")
	wantStatus(t, err, 400)
	bob := sb.asUser(credsKey(t, sb, "bob"))
	credsWantMessage(t, change(bob, oldPw, newPw), "NoSuchEntity", "Login Profile for User bob cannot be found.")
}

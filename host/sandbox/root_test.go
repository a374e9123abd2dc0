package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestRootUser checks that the root's state set with SetRoot is what
// GetAccountSummary and the credential report say, through the SDK, and
// that a request signed with a root key is the root's and its key's use.
func TestRootUser(t *testing.T) {
	clock := newAcctClock()
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{Now: clock.now, StateFile: path})
	c := sb.iam
	summary := func(c *iam.Client) map[string]int32 {
		return must[*iam.GetAccountSummaryOutput](t)(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})).SummaryMap
	}
	if s := summary(c); s["AccountMFAEnabled"] != 0 || s["AccountAccessKeysPresent"] != 0 {
		t.Fatalf("a new account's root: %v", s)
	}

	signedIn := clock.now().Add(-72 * time.Hour)
	created := clock.now().Add(-500 * 24 * time.Hour)
	ok(t, sb.srv.SetRoot(RootUser{MFAEnabled: true, PasswordLastUsed: &signedIn, AccessKeys: []*AccessKey{
		{ID: "AKIAROOTKEY000000001", Created: created},
		{Status: "Inactive"},
	}}))
	root := sb.srv.Root()
	if len(root.AccessKeys) != 2 || root.AccessKeys[0].Status != "Active" || root.AccessKeys[1].ID == "" || !root.AccessKeys[1].Created.Equal(clock.now()) {
		t.Fatalf("defaults not filled: %+v %+v", root.AccessKeys[0], root.AccessKeys[1])
	}
	root.AccessKeys[0].Status = "changed" // a copy: the server's state is untouched
	if sb.srv.Root().AccessKeys[0].Status != "Active" {
		t.Fatal("Root returned the server's own keys")
	}

	// The root key signs a request: the caller is the root, and the key's
	// use lands in the report.
	clock.advance(time.Minute)
	id, err := callerIdentity(sb, "AKIAROOTKEY000000001")
	ok(t, err)
	if id != "arn:aws:iam::123456789012:root" {
		t.Fatalf("caller with the root key: %s", id)
	}
	usedAt := clock.now()
	must[*iam.ListUsersOutput](t)(sb.asUser("AKIAROOTKEY000000001").ListUsers(ctx, &iam.ListUsersInput{}))

	if s := summary(c); s["AccountMFAEnabled"] != 1 || s["AccountAccessKeysPresent"] != 1 {
		t.Fatalf("summary: %v", s)
	}
	must[*iam.GenerateCredentialReportOutput](t)(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))
	_, byUser, rows := credentialReport(t, c)
	cols := map[string]int{}
	for i, name := range rows[0] {
		cols[name] = i
	}
	iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }
	row := byUser["<root_account>"]
	want := map[string]string{
		"password_enabled": "not_supported", "password_last_used": iso(signedIn), "password_last_changed": "not_supported",
		"mfa_active": "true", "user_creation_time": iso(created),
		"access_key_1_active": "true", "access_key_1_last_rotated": iso(created), "access_key_1_last_used_date": iso(usedAt),
		"access_key_1_last_used_service": "iam", "access_key_1_last_used_region": "us-east-1",
		"access_key_2_active": "false", "access_key_2_last_rotated": iso(usedAt.Add(-time.Minute)), "access_key_2_last_used_date": "N/A",
	}
	for col, v := range want {
		if got := row[cols[col]]; got != v {
			t.Errorf("root %s = %q, want %q", col, got, v)
		}
	}

	// The root's state persists with the account.
	again := newSandbox(t, Options{Now: clock.now, StateFile: path})
	if r := again.srv.Root(); !r.MFAEnabled || len(r.AccessKeys) != 2 || r.PasswordLastUsed == nil || !r.PasswordLastUsed.Equal(signedIn) {
		t.Fatalf("root after reload: %+v", r)
	}
	if s := summary(again.iam); s["AccountMFAEnabled"] != 1 || s["AccountAccessKeysPresent"] != 1 {
		t.Fatalf("summary after reload: %v", s)
	}

	// Removing the keys and MFA shows in the summary at once.
	ok(t, sb.srv.SetRoot(RootUser{}))
	if s := summary(c); s["AccountMFAEnabled"] != 0 || s["AccountAccessKeysPresent"] != 0 {
		t.Fatalf("summary after clearing: %v", s)
	}
}

// callerIdentity is the caller's ARN as STS reports it for a key id.
func callerIdentity(sb *sandbox, keyID string) (string, error) {
	out, err := stsClient(sb.url, keyID).GetCallerIdentity(ctx, nil)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

func TestSetRootErrors(t *testing.T) {
	sb := newSandbox(t, Options{})
	if err := sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{}, {}, {}}}); err == nil || !strings.Contains(err.Error(), "at most 2") {
		t.Fatalf("three keys: %v", err)
	}
	if err := sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{Status: "Revoked"}}}); err == nil || !strings.Contains(err.Error(), "Active or Inactive") {
		t.Fatalf("bad status: %v", err)
	}
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ana")}))
	k := must[*iam.CreateAccessKeyOutput](t)(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ana")})).AccessKey
	if err := sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{ID: *k.AccessKeyId}}}); err == nil || !strings.Contains(err.Error(), "ana") {
		t.Fatalf("a user's key: %v", err)
	}
	if r := sb.srv.Root(); len(r.AccessKeys) != 0 {
		t.Fatalf("a refused SetRoot changed the root: %+v", r)
	}
}

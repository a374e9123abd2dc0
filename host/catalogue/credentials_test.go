package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// newCatalogueWith is a test catalogue over a new sandbox whose catalogue
// options (where secrets go) are the test's own.
func newCatalogueWith(t *testing.T, seed string, opts Options) *testCatalogue {
	t.Helper()
	tc := newTestCatalogue(t, seed)
	c, err := New(tc.clients, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &testCatalogue{Catalogue: c, sandbox: tc.sandbox}
}

// clientsSignedBy are SDK clients over the sandbox that sign with the given
// access key, as a program holding that key would.
func clientsSignedBy(sb *sandbox.Server, keyID, secret string) *Clients {
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:  &http.Client{Transport: sb.Transport()},
	}
	endpoint := aws.String("http://sandbox.invalid")
	return &Clients{
		IAM: iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = endpoint }),
		STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint }),
	}
}

// secretFile is what SecretFiles writes.
type secretFile struct {
	UserName        string `json:"user_name"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	CreateDate      string `json:"create_date"`
}

func readSecretFile(t *testing.T, path string) secretFile {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file %s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f secretFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("secret file %s: %v", path, err)
	}
	return f
}

func keyCount(t *testing.T, c *testCatalogue, user string) int {
	t.Helper()
	return len(call[api.ListAccessKeysOutput](t, c, "list_access_keys", `{"user_name":"`+user+`"}`).AccessKeys)
}

func TestCredentialsAccessKeySecretGoesToFile(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	out, err := c.Call(ctx, "create_access_key", json.RawMessage(`{"user_name":"ana"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := out.(*api.CreateAccessKeyOutput)
	if res.SecretAccessKey != "" || res.AccessKey.Status != "Active" || res.AccessKey.UserName != "ana" {
		t.Fatalf("create_access_key: %+v", res)
	}
	if filepath.Dir(res.SecretFile) != c.secretsDir || filepath.Base(res.SecretFile) != res.AccessKey.AccessKeyID+".json" {
		t.Fatalf("secret file %q is not DIR/<key id>.json under %s", res.SecretFile, c.secretsDir)
	}
	if !strings.Contains(res.Message, res.SecretFile) || !strings.Contains(res.Message, "readable only by the server's user") {
		t.Fatalf("message does not say where the secret is: %q", res.Message)
	}
	f := readSecretFile(t, res.SecretFile)
	if f.AccessKeyID != res.AccessKey.AccessKeyID || f.UserName != "ana" || len(f.SecretAccessKey) != 40 {
		t.Fatalf("secret file: key %q user %q secret of %d characters", f.AccessKeyID, f.UserName, len(f.SecretAccessKey))
	}
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), f.SecretAccessKey) || strings.Contains(string(b), "secret_access_key") {
		t.Fatalf("the result carries the secret: %s", b)
	}
	if strings.Contains(rawCall(t, c, "get_user", `{"user_name":"ana"}`), f.SecretAccessKey) ||
		strings.Contains(rawCall(t, c, "list_access_keys", `{"user_name":"ana"}`), f.SecretAccessKey) {
		t.Fatal("a read shows the secret")
	}

	// IAM's quota: two keys per user. The refused third leaves no file.
	call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	callFails(t, c, "create_access_key", `{"user_name":"ana"}`, api.LimitExceeded)
	if files, _ := os.ReadDir(c.secretsDir); len(files) != 2 {
		t.Fatalf("%d secret files, want 2", len(files))
	}
	if st, _ := os.Stat(c.secretsDir); st.Mode().Perm() != 0o700 {
		t.Fatalf("secrets directory mode %v, want 0700", st.Mode().Perm())
	}
	callFails(t, c, "create_access_key", `{"user_name":"nobody"}`, api.NoSuchEntity)
}

func TestCredentialsReturnSecretsInline(t *testing.T) {
	c := newCatalogueWith(t, "", Options{ReturnSecrets: true})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	res := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	if len(res.SecretAccessKey) != 40 || res.SecretFile != "" {
		t.Fatalf("create_access_key with ReturnSecrets: %+v", res)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "shown this once") || !strings.Contains(res.Warnings[0], "conversation") {
		t.Fatalf("warnings: %q", res.Warnings)
	}
}

func TestCredentialsNoSecretsDirCreatesNothing(t *testing.T) {
	c := newCatalogueWith(t, "", Options{})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	msg := callFails(t, c, "create_access_key", `{"user_name":"ana"}`, api.InvalidInput)
	if !strings.Contains(msg, "no secrets directory") || !strings.Contains(msg, "--secrets-dir") {
		t.Fatalf("message: %s", msg)
	}
	if n := keyCount(t, c, "ana"); n != 0 {
		t.Fatalf("%d keys left behind", n)
	}
}

// leakySink fails with the secret in its error, as a careless sink might.
type leakySink struct{ got string }

func (s *leakySink) StoreAccessKey(_ context.Context, _, _, secret string, _ time.Time) (string, error) {
	s.got = secret
	return "", fmt.Errorf("vault refused %s", secret)
}

func TestCredentialsSecretNotStoredDeletesKey(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCatalogueWith(t, "", Options{Secrets: SecretFiles{Dir: filepath.Join(blocker, "secrets")}})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	msg := callFails(t, c, "create_access_key", `{"user_name":"ana"}`, api.ServiceFailure)
	if !strings.Contains(msg, "could not be stored") || !strings.Contains(msg, "deleted again") || !strings.Contains(msg, "nothing changed") {
		t.Fatalf("message: %s", msg)
	}
	if n := keyCount(t, c, "ana"); n != 0 {
		t.Fatalf("%d keys left behind", n)
	}

	sink := &leakySink{}
	c = newCatalogueWith(t, "", Options{Secrets: sink})
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	msg = callFails(t, c, "create_access_key", `{"user_name":"ana"}`, api.ServiceFailure)
	if len(sink.got) != 40 || strings.Contains(msg, sink.got) || !strings.Contains(msg, "withheld") {
		t.Fatalf("message %q (secret of %d characters)", msg, len(sink.got))
	}
	if n := keyCount(t, c, "ana"); n != 0 {
		t.Fatalf("%d keys left behind", n)
	}
}

func TestCredentialsAccessKeyLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	first := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	second := call[api.CreateAccessKeyOutput](t, c, "create_access_key", `{"user_name":"ana"}`)
	id := first.AccessKey.AccessKeyID

	// One key per page.
	p1 := call[api.ListAccessKeysOutput](t, c, "list_access_keys", `{"user_name":"ana","max_items":1}`)
	if len(p1.AccessKeys) != 1 || !p1.IsTruncated || p1.Marker == "" {
		t.Fatalf("page 1: %+v", p1)
	}
	p2 := call[api.ListAccessKeysOutput](t, c, "list_access_keys", `{"user_name":"ana","max_items":1,"marker":"`+p1.Marker+`"}`)
	if len(p2.AccessKeys) != 1 || p2.IsTruncated || p2.AccessKeys[0].AccessKeyID == p1.AccessKeys[0].AccessKeyID {
		t.Fatalf("page 2: %+v", p2)
	}

	// Last used: never, then after a request signed with the key.
	never := call[api.AccessKeyLastUsedOutput](t, c, "get_access_key_last_used", `{"access_key_id":"`+id+`"}`)
	if never.UserName != "ana" || never.AccessKeyID != id || never.LastUsedDate != nil || never.ServiceName != "N/A" || never.Region != "N/A" {
		t.Fatalf("never used: %+v", never)
	}
	secret := readSecretFile(t, first.SecretFile).SecretAccessKey
	before := time.Now().Add(-time.Minute)
	if _, err := clientsSignedBy(c.sandbox, id, secret).IAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	used := call[api.AccessKeyLastUsedOutput](t, c, "get_access_key_last_used", `{"access_key_id":"`+id+`"}`)
	if used.LastUsedDate == nil || used.LastUsedDate.Before(before) || used.ServiceName != "iam" || used.Region == "N/A" || used.Region == "" {
		t.Fatalf("after use: %+v", used)
	}
	if other := call[api.AccessKeyLastUsedOutput](t, c, "get_access_key_last_used", `{"access_key_id":"`+second.AccessKey.AccessKeyID+`"}`); other.LastUsedDate != nil {
		t.Fatalf("the other key was not used: %+v", other)
	}
	callFails(t, c, "get_access_key_last_used", `{"access_key_id":"AKIAIOSFODNN7NOSUCH"}`, api.AccessDenied)

	// Inactive, then Active again.
	r := call[api.Result](t, c, "update_access_key", `{"user_name":"ana","access_key_id":"`+id+`","status":"Inactive"}`)
	if !strings.Contains(r.Message, "stops working") {
		t.Fatalf("update_access_key Inactive: %q", r.Message)
	}
	if k := call[api.ListAccessKeysOutput](t, c, "list_access_keys", `{"user_name":"ana"}`).AccessKeys; k[0].Status != "Inactive" && k[1].Status != "Inactive" {
		t.Fatalf("no key is Inactive: %+v", k)
	}
	r = call[api.Result](t, c, "update_access_key", `{"user_name":"ana","access_key_id":"`+id+`","status":"Active"}`)
	if !strings.Contains(r.Message, "Active") {
		t.Fatalf("update_access_key Active: %q", r.Message)
	}
	callFails(t, c, "update_access_key", `{"user_name":"ana","access_key_id":"AKIAIOSFODNN7NOSUCH","status":"Active"}`, api.NoSuchEntity)

	r = call[api.Result](t, c, "delete_access_key", `{"user_name":"ana","access_key_id":"`+id+`"}`)
	if !strings.Contains(r.Message, id) {
		t.Fatalf("delete_access_key: %q", r.Message)
	}
	callFails(t, c, "delete_access_key", `{"user_name":"ana","access_key_id":"`+id+`"}`, api.NoSuchEntity)
	if n := keyCount(t, c, "ana"); n != 1 {
		t.Fatalf("%d keys after deleting one of two", n)
	}
	callFails(t, c, "list_access_keys", `{"user_name":"nobody"}`, api.NoSuchEntity)
	if keys := rawCall(t, c, "list_access_keys", `{"user_name":"ana","max_items":1,"marker":"`+p1.Marker+`"}`); !strings.Contains(keys, `"access_keys":[`) {
		t.Fatalf("list_access_keys: %s", keys)
	}
}

func TestCredentialsLoginProfileLifecycle(t *testing.T) {
	c := newTestCatalogue(t, "")
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	msg := callFails(t, c, "get_login_profile", `{"user_name":"ana"}`, api.NoSuchEntity)
	if !strings.Contains(msg, "no console password") {
		t.Fatalf("get_login_profile without one: %s", msg)
	}

	const pw = "Correct-Horse-9!"
	out := rawCall(t, c, "create_login_profile", `{"user_name":"ana","password":"`+pw+`","password_reset_required":true}`)
	if strings.Contains(out, pw) || strings.Contains(out, "warnings") {
		t.Fatalf("create_login_profile: %s", out)
	}
	msg = callFails(t, c, "create_login_profile", `{"user_name":"ana","password":"`+pw+`"}`, api.EntityAlreadyExists)
	if strings.Contains(msg, pw) {
		t.Fatalf("an error repeats the password: %s", msg)
	}
	got := call[api.LoginProfileOutput](t, c, "get_login_profile", `{"user_name":"ana"}`)
	if got.LoginProfile.UserName != "ana" || !got.LoginProfile.PasswordResetRequired || got.LoginProfile.CreateDate.IsZero() {
		t.Fatalf("get_login_profile: %+v", got)
	}
	r := call[api.Result](t, c, "delete_login_profile", `{"user_name":"ana"}`)
	if !strings.Contains(r.Message, "can no longer sign in") {
		t.Fatalf("delete_login_profile: %q", r.Message)
	}
	callFails(t, c, "delete_login_profile", `{"user_name":"ana"}`, api.NoSuchEntity)
	callFails(t, c, "get_login_profile", `{"user_name":"ana"}`, api.NoSuchEntity)

	// Without a reset the password stays known to the conversation: warned.
	lp := call[api.LoginProfileOutput](t, c, "create_login_profile", `{"user_name":"ana","password":"`+pw+`"}`)
	if lp.LoginProfile.PasswordResetRequired || len(lp.Warnings) != 1 || !strings.Contains(lp.Warnings[0], "password_reset_required") {
		t.Fatalf("create_login_profile without reset: %+v", lp)
	}
	callFails(t, c, "create_login_profile", `{"user_name":"nobody","password":"`+pw+`"}`, api.NoSuchEntity)
}

func TestCredentialsPasswordPolicy(t *testing.T) {
	// A fresh account applies IAM's default policy: 8 characters of three kinds.
	c := newTestCatalogue(t, "")
	call[api.UserOutput](t, c, "create_user", `{"user_name":"ana"}`)
	for _, pw := range []string{"Ab1!", "abcdefghij"} {
		msg := callFails(t, c, "create_login_profile", `{"user_name":"ana","password":"`+pw+`"}`, api.InvalidInput)
		if strings.Contains(msg, pw) || !strings.Contains(msg, "PasswordPolicyViolation") || !strings.Contains(msg, "password policy") {
			t.Fatalf("password %q refused with %q", pw, msg)
		}
	}
	// IAM's answer here ("Password should have…") contains this password:
	// it is withheld rather than repeated.
	msg := callFails(t, c, "create_login_profile", `{"user_name":"ana","password":"Password"}`, api.InvalidInput)
	if strings.Contains(msg, "Password") || !strings.Contains(msg, "withheld") {
		t.Fatalf("message repeats the password: %q", msg)
	}
	callFails(t, c, "get_login_profile", `{"user_name":"ana"}`, api.NoSuchEntity)

	// The demo's planted weak policy: six characters of anything.
	d := newTestCatalogue(t, "demo")
	call[api.LoginProfileOutput](t, d, "create_login_profile", `{"user_name":"farid.haddad","password":"abcdef"}`)
	msg = callFails(t, d, "create_login_profile", `{"user_name":"isla.moreau","password":"abcde"}`, api.InvalidInput)
	if !strings.Contains(msg, "minimum length of 6") || strings.Contains(msg, "abcde") {
		t.Fatalf("demo policy: %q", msg)
	}
}

func TestCredentialsMFADevices(t *testing.T) {
	c := newTestCatalogue(t, "demo")
	const serial = "arn:aws:iam::123456789012:mfa/bob.martin"
	list := call[api.ListMFADevicesOutput](t, c, "list_mfa_devices", `{"user_name":"bob.martin"}`)
	if len(list.MFADevices) != 1 || list.MFADevices[0].SerialNumber != serial || list.MFADevices[0].UserName != "bob.martin" || list.MFADevices[0].EnableDate.IsZero() || list.IsTruncated {
		t.Fatalf("list_mfa_devices: %+v", list)
	}
	if none := rawCall(t, c, "list_mfa_devices", `{"user_name":"alice.nguyen"}`); !strings.Contains(none, `"mfa_devices":[]`) {
		t.Fatalf("alice.nguyen has no MFA: %s", none)
	}
	callFails(t, c, "deactivate_mfa_device", `{"user_name":"alice.nguyen","serial_number":"`+serial+`"}`, api.NoSuchEntity)
	r := call[api.Result](t, c, "deactivate_mfa_device", `{"user_name":"bob.martin","serial_number":"`+serial+`"}`)
	if !strings.Contains(r.Message, serial) || !strings.Contains(r.Message, "without MFA") {
		t.Fatalf("deactivate_mfa_device: %q", r.Message)
	}
	if list = call[api.ListMFADevicesOutput](t, c, "list_mfa_devices", `{"user_name":"bob.martin"}`); len(list.MFADevices) != 0 {
		t.Fatalf("still listed: %+v", list)
	}
	callFails(t, c, "deactivate_mfa_device", `{"user_name":"bob.martin","serial_number":"`+serial+`"}`, api.NoSuchEntity)
	callFails(t, c, "list_mfa_devices", `{"user_name":"nobody"}`, api.NoSuchEntity)
}

func TestCredentialsBadInput(t *testing.T) {
	c := newTestCatalogue(t, "")
	cases := []struct{ op, args, want string }{
		{"create_access_key", `{}`, `"user_name" is required`},
		{"create_access_key", `{"user_name":"a b"}`, "letters, digits"},
		{"delete_access_key", `{"user_name":"ana"}`, `"access_key_id" is required`},
		{"delete_access_key", `{"user_name":"ana","access_key_id":"AKIA-short"}`, "access key id"},
		{"list_access_keys", `{"user_name":"ana","max_items":0.5}`, "wrong type"},
		{"list_access_keys", `{"user_name":"ana","max_items":1001}`, "between 1 and 1000"},
		{"update_access_key", `{"user_name":"ana","access_key_id":"AKIAIOSFODNN7EXAMPLE","status":"Disabled"}`, "Active, Inactive"},
		{"update_access_key", `{"user_name":"ana","access_key_id":"AKIAIOSFODNN7EXAMPLE"}`, `"status" is required`},
		{"get_access_key_last_used", `{"access_key_id":5}`, "wrong type"},
		{"get_login_profile", `{"user":"ana"}`, "unknown argument"},
		{"create_login_profile", `{"user_name":"ana"}`, `"password" is required`},
		{"create_login_profile", `{"user_name":"ana","password":123456789}`, "wrong type"},
		{"create_login_profile", `{"user_name":"ana","password":"Correct-Horse-9!","password_reset_required":"yes"}`, "true or false"},
		{"delete_login_profile", `{"user_name":""}`, `"user_name" is required`},
		{"list_mfa_devices", `{"user_name":"ana","marker":7}`, "wrong type"},
		{"deactivate_mfa_device", `{"user_name":"ana","serial_number":"short"}`, "serial number"},
		{"deactivate_mfa_device", `{"user_name":"ana"}`, `"serial_number" is required`},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.args, func(t *testing.T) {
			msg := callFails(t, c, tc.op, tc.args, api.InvalidInput)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q does not say %q", msg, tc.want)
			}
			if strings.Contains(msg, "Correct-Horse-9!") {
				t.Fatalf("message repeats the password: %q", msg)
			}
		})
	}
}

package sandbox

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// wantInvalidToken fails unless err is IAM's answer to a request signed by
// a key it does not accept: HTTP 403, InvalidClientTokenId, IAM's words.
func wantInvalidToken(t *testing.T, err error) {
	t.Helper()
	credsWantMessage(t, err, "InvalidClientTokenId", "The security token included in the request is invalid.")
	wantStatus(t, err, 403)
}

// lastUseOf returns what GetAccessKeyLastUsed says of a key, asked by the
// bootstrap key (whose own requests record nothing on the key).
func lastUseOf(t *testing.T, c *iam.Client, keyID string) *types.AccessKeyLastUsed {
	t.Helper()
	return must[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})).AccessKeyLastUsed
}

// TestInactiveKeyRefused: a request signed by an Inactive key is refused as
// IAM refuses it — reads, writes, STS, and the key reactivating itself —,
// does nothing, and records no use; set Active again, the key works.
func TestInactiveKeyRefused(t *testing.T) {
	sb, clk := credsSandbox(t, "alice")
	key := credsKey(t, sb, "alice")
	alice := sb.asUser(key)
	aliceID := sb.srv.acct.Users["alice"].ID

	must[*iam.GetUserOutput](t)(alice.GetUser(ctx, &iam.GetUserInput{}))
	usedAt := clk.now()
	ok(t, second(sb.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(key), Status: types.StatusTypeInactive})))

	clk.advance(time.Hour)
	attempts := map[string]error{
		"GetUser":              second(alice.GetUser(ctx, &iam.GetUserInput{})),
		"ListUsers":            second(alice.ListUsers(ctx, &iam.ListUsersInput{})),
		"GetAccessKeyLastUsed": second(alice.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})),
		"CreateUser":           second(alice.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})),
		// The key cannot turn itself back on.
		"UpdateAccessKey":   second(alice.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(key), Status: types.StatusTypeActive})),
		"GetCallerIdentity": func() error { _, err := callerIdentity(sb, key); return err }(),
	}
	for name, err := range attempts {
		t.Run(name, func(t *testing.T) { wantInvalidToken(t, err) })
	}
	_, err := sb.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("mallory")})
	wantCode(t, err, "NoSuchEntity")
	if k := sb.srv.acct.Users["alice"].AccessKeys[0]; k.Status != "Inactive" {
		t.Fatalf("the inactive key changed its own status to %s", k.Status)
	}
	if l := lastUseOf(t, sb.iam, key); l.LastUsedDate == nil || !l.LastUsedDate.Equal(usedAt) {
		t.Fatalf("a refused request was recorded as the key's last use: %v, want %v", l.LastUsedDate, usedAt)
	}
	if u := sb.srv.acct.ServiceUse[aliceID]; len(u) != 1 || u["iam"] == nil || !u["iam"].When.Equal(usedAt) || len(u["iam"].Actions) != 1 {
		t.Fatalf("a refused request was recorded as service use: %+v", u["iam"])
	}

	// Active again: the key works, and its use is recorded again.
	ok(t, second(sb.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: aws.String(key), Status: types.StatusTypeActive})))
	clk.advance(time.Hour)
	if who := must[*iam.GetUserOutput](t)(alice.GetUser(ctx, &iam.GetUserInput{})); *who.User.UserName != "alice" {
		t.Fatalf("reactivated key signs as %s", *who.User.UserName)
	}
	if l := lastUseOf(t, sb.iam, key); l.LastUsedDate == nil || !l.LastUsedDate.Equal(clk.now()) {
		t.Fatalf("reactivated key's use: %v, want %v", l.LastUsedDate, clk.now())
	}
	if id, err := callerIdentity(sb, key); err != nil || id != "arn:aws:iam::123456789012:user/alice" {
		t.Fatalf("reactivated key's identity: %s %v", id, err)
	}
}

// TestDeletedKeyRefused: a deleted key is refused like an inactive one. It
// must not become a key of no user, which the sandbox takes as the root's
// (its bootstrap credentials): that would give a deleted user's key the
// whole account. The refusal survives a restart from the state file.
func TestDeletedKeyRefused(t *testing.T) {
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{StateFile: path})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	key := credsKey(t, sb, "bob")
	bob := sb.asUser(key)
	must[*iam.ListUsersOutput](t)(bob.ListUsers(ctx, &iam.ListUsersInput{}))
	ok(t, second(sb.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(key)})))

	for name, err := range map[string]error{
		"ListUsers":  second(bob.ListUsers(ctx, &iam.ListUsersInput{})),
		"CreateUser": second(bob.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})),
		"GetCallerIdentity": func() error {
			_, err := callerIdentity(sb, key)
			return err
		}(),
	} {
		t.Run(name, func(t *testing.T) { wantInvalidToken(t, err) })
	}
	// Neither does deleting the user turn the key into the root's.
	ok(t, second(sb.iam.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})))
	wantInvalidToken(t, second(bob.ListUsers(ctx, &iam.ListUsersInput{})))

	again := newSandbox(t, Options{StateFile: path})
	wantInvalidToken(t, second(again.asUser(key).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})))
	if _, err := again.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("mallory")}); err == nil {
		t.Fatal("a deleted key created a user")
	}
	// The sandbox's bootstrap credentials, and any other key id it never
	// issued, go on acting as the root.
	for _, id := range []string{testKeyID, "AKIAZZZZZZZZZZZZZZZZ"} {
		if who, err := callerIdentity(again, id); err != nil || who != "arn:aws:iam::123456789012:root" {
			t.Fatalf("key %s: %s %v", id, who, err)
		}
	}
}

// TestRootKeyStatus: the root's keys follow the same rule: an Inactive one
// is refused, an Active one signs as the root, and one SetRoot removed is
// refused like a deleted user's key.
func TestRootKeyStatus(t *testing.T) {
	sb := newSandbox(t, Options{})
	ok(t, sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{
		{ID: "AKIAROOTKEY000000001"},
		{ID: "AKIAROOTKEY000000002", Status: "Inactive"},
	}}))
	if who, err := callerIdentity(sb, "AKIAROOTKEY000000001"); err != nil || who != "arn:aws:iam::123456789012:root" {
		t.Fatalf("active root key: %s %v", who, err)
	}
	_, err := callerIdentity(sb, "AKIAROOTKEY000000002")
	wantInvalidToken(t, err)
	wantInvalidToken(t, second(sb.asUser("AKIAROOTKEY000000002").ListUsers(ctx, &iam.ListUsersInput{})))
	if k := sb.srv.keyUse("AKIAROOTKEY000000002"); k != nil {
		t.Fatalf("the inactive root key's refused use was recorded: %+v", k)
	}

	// The first key is removed: it is a deleted key now.
	ok(t, sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{ID: "AKIAROOTKEY000000002"}}}))
	wantInvalidToken(t, second(sb.asUser("AKIAROOTKEY000000001").ListUsers(ctx, &iam.ListUsersInput{})))
	must[*iam.ListUsersOutput](t)(sb.asUser("AKIAROOTKEY000000002").ListUsers(ctx, &iam.ListUsersInput{}))
	// A deleted key's id cannot be given to the root again: IAM never
	// issues an id twice.
	if err := sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{ID: "AKIAROOTKEY000000001"}}}); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("SetRoot with a deleted key's id: %v", err)
	}
}

// TestKeyStatusAttacks are attempts to get a request of a refused key
// served, or its use recorded, some other way.
func TestKeyStatusAttacks(t *testing.T) {
	sb, clk := credsSandbox(t, "carol")
	key := credsKey(t, sb, "carol")
	ok(t, second(sb.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String(key), Status: types.StatusTypeInactive})))
	addr := strings.TrimPrefix(sb.url, "http://")
	host := "Host: " + addr
	scope := "/20250301/us-east-1/iam/aws4_request"
	auth := func(ids ...string) string {
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = "Credential=" + id + scope
		}
		return "Authorization: AWS4-HMAC-SHA256 " + strings.Join(parts, ", ") + ", SignedHeaders=host, Signature=00"
	}
	create := func(name string) string { return createUserBody(name) }
	cases := []struct {
		name, request string
	}{
		// A presigned-looking GET (query credential) of a read.
		{"query credential", formRequest("GET", "/?Action=ListUsers&Version=2010-05-08&X-Amz-Credential="+key+"%2F20250301%2Fus-east-1%2Fiam%2Faws4_request", []string{host}, "")},
		// The header names the key; a query credential names another.
		{"header and query", formRequest("GET", "/?Action=ListUsers&Version=2010-05-08&X-Amz-Credential="+testKeyID+"%2F20250301%2Fus-east-1%2Fiam%2Faws4_request", []string{host, auth(key)}, "")},
		// Two credentials in one header: the first is the one that counts,
		// for the check and for the record alike.
		{"two credentials", formRequest("POST", "/", []string{host, formCT, auth(key, testKeyID)}, create("m1"))},
		// Two Authorization headers.
		{"two headers", formRequest("POST", "/", []string{host, formCT, auth(key), auth(testKeyID)}, create("m2"))},
		// A mutation signed by the key over STS's scope.
		{"sts scope", formRequest("POST", "/", []string{host, formCT, strings.Replace(auth(key), "/iam/", "/sts/", 1)}, create("m3"))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk.advance(time.Minute)
			r := rawHTTP(t, addr, tc.request)
			if r.status != 403 || r.code != "InvalidClientTokenId" {
				t.Fatalf("%d %s: %s", r.status, r.code, r.body)
			}
		})
	}
	for _, name := range []string{"m1", "m2", "m3"} {
		if _, err := sb.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err == nil {
			t.Errorf("user %s was created by a refused key", name)
		}
	}
	if l := lastUseOf(t, sb.iam, key); l.LastUsedDate != nil {
		t.Fatalf("a refused key's use was recorded: %v", l.LastUsedDate)
	}
	if u := sb.srv.acct.ServiceUse[sb.srv.acct.Users["carol"].ID]; len(u) != 0 {
		t.Fatalf("a refused key's service use was recorded: %+v", u)
	}

	// In process (the transport the MCP server uses) the rule is the same.
	c := iam.NewFromConfig(awsConfig(key, 1), func(o *iam.Options) {
		o.BaseEndpoint = aws.String("http://sandbox.invalid")
		o.HTTPClient = sb.srv.Client()
	})
	wantInvalidToken(t, second(c.ListUsers(ctx, &iam.ListUsersInput{})))

	// A key id in another case is another id: it is unknown, not carol's.
	lower := strings.ToLower(key)
	form := url.Values{"Action": {"GetUser"}, "Version": {iamVersion}}.Encode()
	r := rawHTTP(t, addr, formRequest("POST", "/", []string{host, formCT, auth(lower)}, form))
	if strings.Contains(r.body, "<UserName>carol</UserName>") {
		t.Fatalf("a lower-cased id of the inactive key signed as its user: %s", r.body)
	}
}

// TestDeletedKeysInStateFile: a state file's DeletedKeys are held to what
// the sandbox writes — access key ids, each once, none the id of a key the
// account holds — and a list longer than the bound is cut to its newest.
func TestDeletedKeysInStateFile(t *testing.T) {
	live := `{"ID":"AKIAAAAAAAAAAAAAAAA1","Status":"Active"}`
	for _, tc := range []struct{ name, content, want string }{
		{"not a key id", stateOf(`{"DeletedKeys":["AKIA-no!"]}`), "not an access key id"},
		{"listed twice", stateOf(`{"DeletedKeys":["AKIAAAAAAAAAAAAAAAA2","AKIAAAAAAAAAAAAAAAA2"]}`), "ids are unique"},
		{"a live user's key", stateOf(`{"Users":{"a":{"AccessKeys":[` + live + `]}},"DeletedKeys":["AKIAAAAAAAAAAAAAAAA1"]}`), "ids are unique"},
		{"a live root key", stateOf(`{"Root":{"AccessKeys":[` + live + `]},"DeletedKeys":["AKIAAAAAAAAAAAAAAAA1"]}`), "ids are unique"},
		{"null list entry", stateOf(`{"DeletedKeys":[null]}`), "not an access key id"},
		{"key spelt in another case", stateOf(`{"deletedKeys":[]}`), "deletedKeys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadState(t, tc.content)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not name the file or say %q", err, tc.want)
			}
		})
	}

	defer func(n int) { maxDeletedKeys = n }(maxDeletedKeys)
	maxDeletedKeys = 2
	srv, _, err := loadState(t, stateOf(`{"DeletedKeys":["AKIAAAAAAAAAAAAAAAA1","AKIAAAAAAAAAAAAAAAA2","AKIAAAAAAAAAAAAAAAA3"]}`))
	ok(t, err)
	if got := strings.Join(srv.acct.DeletedKeys, ","); got != "AKIAAAAAAAAAAAAAAAA2,AKIAAAAAAAAAAAAAAAA3" || len(srv.acct.deleted) != 2 {
		t.Fatalf("after load with a bound of 2: %s (index %d)", got, len(srv.acct.deleted))
	}
	sb := serve(t, srv)
	wantInvalidToken(t, second(sb.asUser("AKIAAAAAAAAAAAAAAAA3").ListUsers(ctx, &iam.ListUsersInput{})))
}

// TestDeletedKeysBounded: deletions beyond maxDeletedKeys forget the oldest
// deleted ids (the cost the bound accepts: such an id is a key of no user
// again) and keep refusing the newest; the file keeps the bound.
func TestDeletedKeysBounded(t *testing.T) {
	defer func(n int) { maxDeletedKeys = n }(maxDeletedKeys)
	maxDeletedKeys = 3
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{StateFile: path})
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("hal")}))
	var ids []string
	for range 5 {
		id := credsKey(t, sb, "hal")
		must[*iam.GetUserOutput](t)(sb.asUser(id).GetUser(ctx, &iam.GetUserInput{}))
		ok(t, second(sb.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("hal"), AccessKeyId: aws.String(id)})))
		ids = append(ids, id)
	}
	if got := sb.srv.acct.DeletedKeys; strings.Join(got, ",") != strings.Join(ids[2:], ",") {
		t.Fatalf("deleted keys kept: %v, want the newest three of %v", got, ids)
	}
	if len(sb.srv.acct.KeyUse) != 0 {
		t.Fatalf("deleted keys' last use kept: %v", sb.srv.acct.KeyUse)
	}
	again := newSandbox(t, Options{StateFile: path})
	for _, id := range ids[2:] {
		wantInvalidToken(t, second(again.asUser(id).ListUsers(ctx, &iam.ListUsersInput{})))
	}
	if who, err := callerIdentity(again, ids[0]); err != nil || who != "arn:aws:iam::123456789012:root" {
		t.Fatalf("the oldest deleted id, forgotten: %s %v", who, err)
	}
}

// TestRefusedKeyOfAnyShape: a key id of any shape IAM allows ([\w]+, lower
// case and _ included) is read as itself, so an Inactive key with such an
// id is refused rather than taken for an unsigned request; and a
// credential whose scope is not SigV4's (SigV4a has no region) still names
// its key.
func TestRefusedKeyOfAnyShape(t *testing.T) {
	sb := newSandbox(t, Options{})
	const odd = "akia_root_Key_0001"
	ok(t, sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{ID: odd, Status: "Inactive"}, {ID: "AKIAROOTKEY000000009"}}}))
	wantInvalidToken(t, second(sb.asUser(odd).ListUsers(ctx, &iam.ListUsersInput{})))

	addr := strings.TrimPrefix(sb.url, "http://")
	body := url.Values{"Action": {"ListUsers"}, "Version": {iamVersion}}.Encode()
	for name, auth := range map[string]string{
		"SigV4a scope":   "Authorization: AWS4-ECDSA-P256-SHA256 Credential=" + odd + "/20250301/iam/aws4_request, SignedHeaders=host, Signature=00",
		"truncated":      "Authorization: AWS4-HMAC-SHA256 Credential=" + odd + "/",
		"first of two":   "Authorization: AWS4-HMAC-SHA256 Credential=" + odd + "/x, Credential=" + testKeyID + "/20250301/us-east-1/iam/aws4_request",
		"in a parameter": "Authorization: AWS4-HMAC-SHA256 SignedHeaders=host;Credential=" + odd + "/20250301/us-east-1/iam/aws4_request",
	} {
		t.Run(name, func(t *testing.T) {
			r := rawHTTP(t, addr, formRequest("POST", "/", []string{"Host: " + addr, formCT, auth}, body))
			if r.status != 403 || r.code != "InvalidClientTokenId" {
				t.Fatalf("%d %s: %s", r.status, r.code, r.body)
			}
		})
	}
	// The active root key, in an odd shape too, signs and is recorded.
	r := rawHTTP(t, addr, formRequest("POST", "/", []string{"Host: " + addr, formCT,
		"Authorization: AWS4-ECDSA-P256-SHA256 Credential=AKIAROOTKEY000000009/20250301/iam/aws4_request, SignedHeaders=host, Signature=00"}, body))
	if r.status != 200 || sb.srv.keyUse("AKIAROOTKEY000000009") == nil {
		t.Fatalf("an active key with a SigV4a scope: %d %s", r.status, r.body)
	}
}

// TestSetRootKeyIDs: SetRoot takes only ids a state file may hold, each
// once, so that what it saves loads again.
func TestSetRootKeyIDs(t *testing.T) {
	path := t.TempDir() + "/s.json"
	sb := newSandbox(t, Options{StateFile: path})
	for _, keys := range [][]*AccessKey{
		{{ID: "short"}},
		{{ID: "AKIA-with-dashes-0001"}},
		{{ID: strings.Repeat("A", 129)}},
		{{ID: "AKIAROOTKEY000000001"}, {ID: "AKIAROOTKEY000000001"}},
	} {
		if err := sb.srv.SetRoot(RootUser{AccessKeys: keys}); err == nil {
			t.Errorf("SetRoot with key %q: accepted", keys[0].ID)
		}
	}
	ok(t, sb.srv.SetRoot(RootUser{AccessKeys: []*AccessKey{{ID: "akia_root_Key_0001"}}}))
	if _, err := New(Options{StateFile: path}); err != nil {
		t.Fatalf("the state SetRoot saved does not load: %v", err)
	}
}

package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/internal/syncio"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// keyEnv is a sandbox whose keys are created with their secrets in a
// secrets directory, and used by signing requests with them.
type keyEnv struct {
	sb      *sandbox.Server
	cat     *catalogue.Catalogue
	admin   *gate.Gate // creates keys, whatever the plugins' gate allows
	secrets string
}

func newKeyEnv(t *testing.T) *keyEnv {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := catalogue.NewClients(ctx, catalogue.ClientOptions{Sandbox: sb.Transport(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(t.TempDir(), "secrets")
	cat, err := catalogue.New(clients, catalogue.Options{Secrets: catalogue.SecretFiles{Dir: secrets}})
	if err != nil {
		t.Fatal(err)
	}
	return &keyEnv{sb: sb, cat: cat, admin: gate.New(cat, gate.Options{}), secrets: secrets}
}

// newKey creates a key for a new user, its secret written to a file.
func (k *keyEnv) newKey(t *testing.T, user string) (id, file string) {
	t.Helper()
	if _, err := k.admin.Call(ctx, gate.Caller{Kind: gate.CLI}, "create_user", json.RawMessage(`{"user_name":"`+user+`"}`)); err != nil {
		t.Fatal(err)
	}
	out, err := k.admin.Call(ctx, gate.Caller{Kind: gate.CLI}, "create_access_key", json.RawMessage(`{"user_name":"`+user+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := out.(*api.CreateAccessKeyOutput)
	if c.SecretFile == "" || c.SecretAccessKey != "" {
		t.Fatalf("create_access_key: %+v", c)
	}
	return c.AccessKey.AccessKeyID, c.SecretFile
}

// use signs a request with the key, as a program holding it would: the
// sandbox records its last use, as IAM does.
func (k *keyEnv) use(t *testing.T, id string) {
	t.Helper()
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(id, "the-sandbox-does-not-check", ""),
		HTTPClient: &http.Client{Transport: k.sb.Transport()}}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") })
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("signing with %s: %v", id, err)
	}
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// TestRemoveSecretFile: the secret file of a new key is removed only for a
// plugin granted create_access_key, on a server that allows writes, for a
// key id and nothing else, and only once IAM shows the key used — asked
// through the gate as the plugin, audited. No file is no error; a link or
// a directory where the file should be is left alone.
func TestRemoveSecretFile(t *testing.T) {
	k := newKeyEnv(t)
	audit := &syncio.Buffer{}
	g := gate.New(k.cat, gate.Options{Audit: audit})
	files := catalogue.SecretFiles{Dir: k.secrets}
	granted := gate.Caller{Kind: gate.Plugin, Plugin: "rot", Tool: "rot_t", Grants: map[string]bool{"create_access_key": true, "get_access_key_last_used": true}}
	logs := &syncio.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	remove := func(g *gate.Gate, c gate.Caller, id string) api.SecretFileRemoveAnswer {
		t.Helper()
		return RemoveSecretFile(ctx, g, c, files, id, logger, nil)
	}
	id, file := k.newKey(t, "rot-user")

	// Not used yet: refused, the file stays.
	a := remove(g, granted, id)
	if a.Error == nil || a.Error.Code != api.InvalidInput || !strings.Contains(a.Error.Message, "not been used yet") || !exists(t, file) {
		t.Fatalf("an unused key: %+v", a)
	}
	k.use(t, id)
	// Not granted create_access_key (though get_access_key_last_used is):
	// refused, naming the grant, audited.
	narrow := granted
	narrow.Grants = map[string]bool{"get_access_key_last_used": true}
	if a = remove(g, narrow, id); a.Error == nil || a.Error.Code != api.NotGranted || !strings.Contains(a.Error.Message, "create_access_key") || !exists(t, file) {
		t.Fatalf("not granted: %+v", a)
	}
	if !strings.Contains(audit.String(), `"operation":"secret_file_remove"`) || !strings.Contains(audit.String(), `"NotGranted"`) {
		t.Errorf("the refusal is not audited: %s", audit.String())
	}
	// Granted create_access_key but not the read that proves the use: the
	// gate refuses the read, and nothing is removed.
	blind := granted
	blind.Grants = map[string]bool{"create_access_key": true}
	if a = remove(g, blind, id); a.Error == nil || a.Error.Code != api.NotGranted || !strings.Contains(a.Error.Message, "get_access_key_last_used") || !exists(t, file) {
		t.Fatalf("without get_access_key_last_used: %+v", a)
	}
	// A read-only server removes nothing.
	ro := gate.New(k.cat, gate.Options{ReadOnly: true})
	if a = remove(ro, granted, id); a.Error == nil || a.Error.Code != api.ReadOnly || !exists(t, file) {
		t.Fatalf("read-only: %+v", a)
	}
	// Used, granted, writable: removed, logged, and the read audited.
	if a = remove(g, granted, id); a.Error != nil || a.Removed != file || exists(t, file) || !strings.Contains(a.Note, "was removed") {
		t.Fatalf("a used key: %+v", a)
	}
	for _, want := range []string{`"msg":"removed the secret file of a used access key"`, `"plugin":"rot"`, `"access_key_id":"` + id + `"`, `"path":"` + file + `"`, `"level":"INFO"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s: %s", want, logs.String())
		}
	}
	if !strings.Contains(audit.String(), `"operation":"get_access_key_last_used"`) {
		t.Errorf("the last-used check is not audited: %s", audit.String())
	}
	// Again: no file, no error.
	if a = remove(g, granted, id); a.Error != nil || a.Removed != "" || !strings.Contains(a.Note, "no secret file") {
		t.Errorf("again: %+v", a)
	}
	// No secrets directory: nothing was ever written, nothing to remove.
	if a = RemoveSecretFile(ctx, g, granted, nil, id, logger, nil); a.Error != nil || a.Removed != "" || !strings.Contains(a.Note, "no secrets directory") {
		t.Errorf("no secrets directory: %+v", a)
	}
	// A key IAM does not know, with a file planted for it: the check
	// fails, the file stays.
	ghost := "AKIA" + strings.Repeat("Z", 16)
	planted := filepath.Join(k.secrets, ghost+".json")
	write(t, planted, []byte("{}"), 0o600)
	// (IAM, and the sandbox, answer AccessDenied for a key id they do not
	// know.)
	if a = remove(g, granted, ghost); a.Error == nil || a.Error.Code != api.AccessDenied || !exists(t, planted) {
		t.Errorf("an unknown key: %+v", a)
	}
	// The runtime's caps refuse the read first: nothing removed.
	id2, file2 := k.newKey(t, "rot-user2")
	k.use(t, id2)
	capped := RemoveSecretFile(ctx, g, granted, files, id2, logger, func(op string) *api.Error {
		return api.Errorf(api.LimitExceeded, "over the cap at %s", op)
	})
	if capped.Error == nil || capped.Error.Code != api.LimitExceeded || !exists(t, file2) {
		t.Errorf("over the cap: %+v", capped)
	}
}

// TestRemoveSecretFileAttacks: a key id is the only thing a plugin names,
// and it never becomes anything but <dir>/<AKIA…>.json: ids that climb,
// name other files, differ in case or carry bytes beyond the pattern are
// refused before any look at the disk; a link or a directory where the
// file should be is left as it is, and so is what a link points to.
func TestRemoveSecretFileAttacks(t *testing.T) {
	k := newKeyEnv(t)
	g := gate.New(k.cat, gate.Options{})
	files := catalogue.SecretFiles{Dir: k.secrets}
	granted := gate.Caller{Kind: gate.Plugin, Plugin: "rot", Tool: "rot_t", Grants: map[string]bool{"create_access_key": true, "get_access_key_last_used": true}}
	id, file := k.newKey(t, "victim-user")
	k.use(t, id)
	outside := filepath.Join(t.TempDir(), "precious")
	write(t, outside, []byte("do not remove"), 0o600)
	sealKey := filepath.Join(k.secrets, SealKeyFile)
	write(t, sealKey, make([]byte, 32), 0o600)
	for _, bad := range []string{
		"", "../precious", "../../" + filepath.Base(outside), "AKIA/../../precious", id + "/../" + id, id + ".json",
		strings.ToLower(id), "akia" + id[4:], id[:15], "AKIA" + strings.Repeat("A", 125), id + "\x00", id + "\n", " " + id,
		"state-seal", "STATE-SEAL.KEY", "ＡＫＩＡ" + id[4:], id[:19] + "é", "AKIA_" + id[5:], filepath.Join(k.secrets, id), "*", id[:16] + "?",
		strings.Repeat("A", 10000),
	} {
		a := RemoveSecretFile(ctx, g, granted, files, bad, nil, nil)
		if a.Error == nil || a.Error.Code != api.InvalidInput || a.Removed != "" {
			t.Errorf("%.40q: %+v", bad, a)
		}
		if a.Error != nil && len(a.Error.Message) > 400 {
			t.Errorf("%.40q: a %d-byte refusal", bad, len(a.Error.Message))
		}
	}
	for _, p := range []string{file, outside, sealKey} {
		if !exists(t, p) {
			t.Fatalf("%s was removed", p)
		}
	}

	// A symbolic link named as the key's file, to a file outside: refused,
	// the link and its target left.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, file); err != nil {
		t.Fatal(err)
	}
	if a := RemoveSecretFile(ctx, g, granted, files, id, nil, nil); a.Error == nil || a.Error.Code != api.Unavailable || !strings.Contains(a.Error.Message, "symbolic link") {
		t.Errorf("a link: %+v", a)
	}
	if !exists(t, file) || !exists(t, outside) {
		t.Fatal("the link or its target was removed")
	}
	// A directory in its place: refused too.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	mkdir(t, file)
	if a := RemoveSecretFile(ctx, g, granted, files, id, nil, nil); a.Error == nil || !strings.Contains(a.Error.Message, "not a regular file") || !exists(t, file) {
		t.Errorf("a directory: %+v", a)
	}
	// A secrets directory others may write in: refused (never chmodded).
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	write(t, file, []byte("{}"), 0o600)
	if err := os.Chmod(k.secrets, 0o777); err != nil {
		t.Fatal(err)
	}
	if a := RemoveSecretFile(ctx, g, granted, files, id, nil, nil); a.Error == nil || !strings.Contains(a.Error.Message, "writable by other users") || !exists(t, file) {
		t.Errorf("a shared secrets directory: %+v", a)
	}
}

// TestSecretFileRemoveWasm: through the runtime, from a plugin built from
// source: a tool that declares create_access_key removes a used key's
// file; one that does not is refused though the plugin is granted it; the
// read counts against max_iam_calls; a read-only server refuses; raw
// inputs are decoded strictly.
func TestSecretFileRemoveWasm(t *testing.T) {
	k := newKeyEnv(t)
	load := func(ro bool, maxCalls int, grants ...string) (*Runtime, *syncio.Buffer) {
		t.Helper()
		s := spec("seal")
		s.Grants, s.Limits.MaxIAMCalls = grants, maxCalls
		logs := &syncio.Buffer{}
		h, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{
			Gate: gate.New(k.cat, gate.Options{ReadOnly: ro}), CacheDir: cacheDir, Secrets: catalogue.SecretFiles{Dir: k.secrets}, SecretsDir: k.secrets,
			Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
			Account: func(context.Context) (string, string, error) { return testAccount, "aws", nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close(ctx) })
		return h, logs
	}
	call := func(h *Runtime, tool, args string) sealResult {
		t.Helper()
		res, err := h.Call(ctx, tool, json.RawMessage(args), nil)
		if err != nil || res.IsError {
			t.Fatalf("%s %s: %+v, %v", tool, args, res, err)
		}
		var r sealResult
		if err := json.Unmarshal(res.StructuredContent, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	both := []string{"create_access_key", "get_access_key_last_used"}
	h, logs := load(false, 0, both...)
	id, file := k.newKey(t, "wasm-user")
	arg := `{"access_key_id":"` + id + `"}`
	if r := call(h, "seal_remove", arg); r.Code != string(api.InvalidInput) || !exists(t, file) {
		t.Fatalf("an unused key: %+v", r)
	}
	k.use(t, id)
	if r := call(h, "seal_narrow", arg); r.Code != string(api.NotGranted) || !strings.Contains(r.Message, "does not declare") || !exists(t, file) {
		t.Fatalf("a tool that does not declare create_access_key: %+v", r)
	}
	ro, _ := load(true, 0, both...)
	if r := call(ro, "seal_remove", arg); r.Code != string(api.ReadOnly) || !exists(t, file) {
		t.Fatalf("read-only: %+v", r)
	}
	ng, _ := load(false, 0, "get_access_key_last_used")
	if r := call(ng, "seal_remove", arg); r.Code != string(api.NotGranted) || !strings.Contains(r.Message, "create_access_key") || !exists(t, file) {
		t.Fatalf("not granted: %+v", r)
	}
	capped, cappedLogs := load(false, 2, both...)
	rawRemove := func(h *Runtime, input string) api.SecretFileRemoveAnswer {
		t.Helper()
		args, _ := json.Marshal(map[string]string{"fn": api.HostSecretFileRemove, "input": input})
		r := call(h, "seal_raw", string(args))
		var a api.SecretFileRemoveAnswer
		if err := json.Unmarshal([]byte(r.Output), &a); err != nil {
			t.Fatalf("secret_file_remove %q answered %q", input, r.Output)
		}
		return a
	}
	// A removal counts twice against max_iam_calls (the request, and its
	// read); each tool call here has room for one.
	for _, bad := range []string{`{"access_key_id":"` + id + `","Access_Key_Id":"AKIAOTHER0000000000"}`, `{"ACCESS_KEY_ID":"` + id + `"}`,
		`{"access_key_id":"` + id + `","access_key_id":"` + id + `"}`, `{"access_key_id":"` + id + `","path":"/etc/passwd"}`, `null`, `["` + id + `"]`,
		`{"access_key_id":"../` + id + `"}`, strings.Repeat(" ", MaxSecretFileRemoveInputBytes+1)} {
		if a := rawRemove(capped, bad); a.Error == nil || a.Error.Code != api.InvalidInput || a.Removed != "" || !exists(t, file) {
			t.Errorf("raw %.50q: %+v", bad, a)
		}
	}
	if a := rawRemove(capped, arg); a.Error != nil || a.Removed != file || exists(t, file) {
		t.Fatalf("removed through the raw call: %+v", a)
	}
	if r := call(h, "seal_remove", arg); r.Code != "" || r.Removed != "" || !strings.Contains(r.Note, "no secret file") {
		t.Errorf("again: %+v", r)
	}
	for _, want := range []string{`"msg":"removed the secret file of a used access key"`, `"plugin":"seal"`, `"tool":"seal_raw"`, `"access_key_id":"` + id + `"`, `"path":"` + file + `"`} {
		if !strings.Contains(cappedLogs.String(), want) {
			t.Errorf("the runtime's log lacks %s: %s", want, cappedLogs.String())
		}
	}
	if strings.Contains(logs.String(), "removed the secret file") {
		t.Errorf("a call that removed nothing logged a removal: %s", logs.String())
	}
	// The cap: a tool call with room for the request but not its read
	// cannot check the key, so its file stays; nor can one with no room
	// left, refused or not, so that refusals cannot flood the audit log.
	id2, file2 := k.newKey(t, "wasm-user2")
	k.use(t, id2)
	two, _ := load(false, 2, both...)
	p := two.plugins[0]
	for _, spent := range []int64{1, 2} {
		st := &callState{tool: "seal_raw"}
		st.calls.Add(spent)
		for _, in := range []string{`{"access_key_id":"` + id2 + `"}`, `{"access_key_id":"../x"}`} {
			a := p.secretFileRemove(ctx, st, []byte(in))
			if a.Error == nil || a.Error.Code != api.LimitExceeded || !exists(t, file2) {
				t.Errorf("%d of 2 IAM calls spent, %s: %+v", spent, in, a)
			}
		}
	}
}

// FuzzSecretFileRemoveInput: whatever bytes a plugin hands
// secret_file_remove, the host never panics, answers one answer in a few
// hundred bytes, and never removes the file of a key that was not used
// (this gate's catalogue reads no last use), nor anything outside the
// secrets directory.
func FuzzSecretFileRemoveInput(f *testing.F) {
	for _, s := range []string{
		`{"access_key_id":"AKIAFUZZ000000000001"}`,
		`{"access_key_id":"AKIAFUZZ000000000001","Access_key_id":"x"}`,
		`{"access_key_id":"../outside"}`,
		`{"access_key_id":"AKIAFUZZ000000000001/../../outside"}`,
		`{"access_key_id":"akiafuzz000000000001"}`,
		`{"access_key_id":null}`,
		`null`,
		`{"access_key_id":"` + strings.Repeat("A", 129) + `"}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		f.Fatal(err)
	}
	keep := []string{filepath.Join(secrets, "AKIAFUZZ000000000001.json"), filepath.Join(dir, "outside")}
	for _, p := range keep {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	p, err := newLoaded(Spec{Name: "fuzz", Path: "fuzz.wasm", SHA256: strings.Repeat("0", 64), Limits: Limits{MaxIAMCalls: 50},
		Grants: []string{"create_access_key", "get_access_key_last_used"}}, discardLogger())
	if err != nil {
		f.Fatal(err)
	}
	p.toolGrants = map[string]map[string]bool{"fuzz_t": p.grants}
	p.gate = gate.New(refusingRunner{}, gate.Options{})
	p.secrets = catalogue.SecretFiles{Dir: secrets}
	f.Fuzz(func(t *testing.T, in []byte) {
		st := &callState{tool: "fuzz_t"}
		out := p.secretFileRemoveFunc(ctx, st, in)
		var a api.SecretFileRemoveAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("secret_file_remove %q answered %q", in, out)
		}
		if len(out) > 1024 {
			t.Fatalf("secret_file_remove %q answered %d bytes", in, len(out))
		}
		if a.Removed != "" {
			t.Fatalf("secret_file_remove %q removed %s, though no key was used", in, a.Removed)
		}
		for _, k := range keep {
			if _, err := os.Lstat(k); err != nil {
				t.Fatalf("secret_file_remove %q: %s is gone: %v", in, k, err)
			}
		}
	})
}

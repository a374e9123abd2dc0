package rotation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// env is a sandbox with its clock, and the workflow's options on it.
type env struct {
	t     *testing.T
	sb    *sandbox.Server
	clock *hostiamtest.Clock
	opts  Options
	admin *hostiamtest.Client // a caller with every operation, to set up and inspect
}

func newEnv(t *testing.T, seed string) *env {
	t.Helper()
	c := hostiamtest.NewClock(t0)
	sb, err := sandbox.New(sandbox.Options{Seed: seed, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t: t, sb: sb, clock: c,
		opts:  Options{Now: c.Now, Sleep: func(time.Duration) {}},
		admin: hostiamtest.New(t, hostiamtest.Options{Sandbox: sb, Plugin: "test-admin", Grants: api.Names(), Person: hostiamtest.Accepting()}),
	}
}

// allGrants is what plugins.yaml grants the key-rotation plugin.
var allGrants = append(RotateOps(), PlanOps()...)

// host is the plugin's host on the env's sandbox, with the plugin's
// grants, the default --confirm (destructive) and a person who says yes.
func (e *env) host(o ...func(*hostiamtest.Options)) *hostiamtest.Client {
	opts := hostiamtest.Options{Sandbox: e.sb, Plugin: "key-rotation", Grants: allGrants, Person: hostiamtest.Accepting()}
	for _, f := range o {
		f(&opts)
	}
	return hostiamtest.New(e.t, opts)
}

// newToolCall starts a tool call on a test host: the approvals of the
// last one are gone, as in the runtime.
func newToolCall(h hostiam.Client) {
	if tc, ok := h.(interface{ NewToolCall() }); ok {
		tc.NewToolCall()
	}
}

// rotate runs one step, as one tool call, and fails the test on an error.
func (e *env) rotate(h hostiam.Client, user, key, step string) *RotateResult {
	e.t.Helper()
	newToolCall(h)
	res, err := Rotate(h, RotateInput{UserName: user, AccessKeyID: key, Step: step}, e.opts)
	if err != nil {
		e.t.Fatalf("rotate %s %s step %q: %v", user, key, step, err)
	}
	checkAnswer(e.t, res)
	return res
}

// rotateErr runs one step that must fail, and returns its error.
func (e *env) rotateErr(h hostiam.Client, in RotateInput) *api.Error {
	e.t.Helper()
	newToolCall(h)
	res, err := Rotate(h, in, e.opts)
	if err == nil {
		e.t.Fatalf("rotate %+v: want an error, got outcome %s: %s", in, res.Outcome, res.Happened)
	}
	var ae *api.Error
	if !errors.As(err, &ae) {
		e.t.Fatalf("rotate %+v: the error %v is not an *api.Error", in, err)
	}
	return ae
}

// checkAnswer checks what every answer must carry: what happened, where the
// rotation stands, and (but when a person must act) the next call.
func checkAnswer(t *testing.T, res *RotateResult) {
	t.Helper()
	if res.Happened == "" || res.Phase == "" || res.CurrentStep == "" || res.Outcome == "" {
		t.Errorf("an answer without what happened, phase, current step or outcome: %+v", res)
	}
	if res.Next == nil && len(res.Choices) == 0 && len(res.ConsoleSteps) == 0 {
		t.Errorf("answer %s (%s) gives no next call, choices or console steps", res.Outcome, res.Happened)
	}
	if res.Next != nil && (res.Next.Tool == "" || res.Next.Args == nil) {
		t.Errorf("a next call without a tool or arguments: %+v", res.Next)
	}
	md := res.Markdown()
	if !strings.Contains(md, res.Happened) {
		t.Errorf("the summary does not say what happened:\n%s", md)
	}
	if _, err := res.PluginResult(); err != nil {
		t.Errorf("PluginResult: %v", err)
	}
}

// keys lists a user's keys through the admin caller.
func (e *env) keys(user string) []api.AccessKey {
	e.t.Helper()
	var out api.ListAccessKeysOutput
	if err := e.admin.Call("list_access_keys", api.UserPageInput{UserName: user}, &out); err != nil {
		e.t.Fatal(err)
	}
	return out.AccessKeys
}

func (e *env) key(user, id string) *api.AccessKey {
	for _, k := range e.keys(user) {
		if k.AccessKeyID == id {
			return &k
		}
	}
	return nil
}

// onlyKey is the id of a user's single key.
func (e *env) onlyKey(user string) string {
	e.t.Helper()
	ks := e.keys(user)
	if len(ks) != 1 {
		e.t.Fatalf("%s holds %d keys, want 1: %+v", user, len(ks), ks)
	}
	return ks[0].AccessKeyID
}

// tags lists a user's tags through the admin caller.
func (e *env) tags(user string) map[string]string {
	e.t.Helper()
	var out api.UserTagsOutput
	if err := e.admin.Call("list_user_tags", api.UserPageInput{UserName: user}, &out); err != nil {
		e.t.Fatal(err)
	}
	return out.Tags
}

// state reads the rotation state tag of a key.
func (e *env) state(user, key string) (State, bool) {
	e.t.Helper()
	v, ok := e.tags(user)[TagKey(key)]
	if !ok {
		return State{}, false
	}
	st, err := ParseState(v)
	if err != nil {
		e.t.Fatalf("the state tag of %s: %v", key, err)
	}
	return st, true
}

// createUser makes a user with n keys, through the admin caller.
func (e *env) createUser(name string, n int) []string {
	e.t.Helper()
	if err := e.admin.Call("create_user", api.CreateUserInput{UserName: name}, &api.UserOutput{}); err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for range n {
		var out api.CreateAccessKeyOutput
		if err := e.admin.Call("create_access_key", api.UserNameInput{UserName: name}, &out); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, out.AccessKey.AccessKeyID)
		e.clock.Advance(time.Minute)
	}
	return ids
}

// use signs a request with a key, as a program holding it would: the
// sandbox records the key's last use at the current time, as IAM does. The
// sandbox does not check signatures, so a key whose secret the test does
// not hold can sign too.
func (e *env) use(keyID, secret string) {
	e.t.Helper()
	if secret == "" {
		secret = "not-the-secret-but-the-sandbox-does-not-check"
	}
	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		HTTPClient:  &http.Client{Transport: e.sb.Transport()},
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String("http://sandbox.invalid") })
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		e.t.Fatalf("signing a request with %s: %v", keyID, err)
	}
}

// useFor signs a request with a key for a service and region, as a
// program using the key with that service there would: the sandbox records
// the service and region the signature names as the key's last use, as IAM
// reports them. The request is STS's GetCallerIdentity, which the sandbox
// answers whatever service the signature names; the signature is made by
// the AWS SDK's own SigV4 signer.
func (e *env) useFor(keyID, service, region string) {
	e.t.Helper()
	const body = "Action=GetCallerIdentity&Version=2011-06-15"
	req, err := http.NewRequest(http.MethodPost, "http://sandbox.invalid/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: "not-the-secret-but-the-sandbox-does-not-check"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.sb.Transport().RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		e.t.Fatalf("signing a request with %s for %s in %s: HTTP %d: %s", keyID, service, region, resp.StatusCode, b)
	}
}

// toCutOverAt brings a rotation from phase created to the cut-over: the new
// key used by each pair given, then the old key quiet for hours, and the
// cut-over checked. It fails the test unless the cut-over is proven.
func (e *env) toCutOverAt(h hostiam.Client, user, old, n string, hours int, pairs ...Pair) *RotateResult {
	e.t.Helper()
	e.clock.Advance(time.Minute)
	for _, p := range pairs {
		e.useFor(n, p.Service, p.Region)
		e.clock.Advance(time.Minute)
	}
	if len(pairs) == 0 {
		e.use(n, "")
	}
	e.clock.Advance(time.Duration(hours) * time.Hour)
	res := e.rotate(h, user, old, StepCutover)
	if res.Phase != string(PhaseCutOver) {
		e.t.Fatalf("the cut-over of %s after %d quiet hours: %s", old, hours, res.Happened)
	}
	return res
}

// secretOf reads the secret file create_access_key wrote, checking its mode.
func secretOf(t *testing.T, path, keyID string) string {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the secret file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("the secret file %s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		AccessKeyID     string `json:"access_key_id"`
		SecretAccessKey string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.AccessKeyID != keyID || len(f.SecretAccessKey) < 20 {
		t.Fatalf("the secret file holds key %q and a %d-character secret", f.AccessKeyID, len(f.SecretAccessKey))
	}
	return f.SecretAccessKey
}

// mutations are the mutating operations a host ran (or tried to).
func mutations(h *hostiamtest.Client) map[string]int {
	out := map[string]int{}
	for op, n := range h.Ops() {
		if o, ok := api.Lookup(op); ok && o.Mutates {
			out[op] = n
		}
	}
	return out
}

// configHost adds the plugin's config (plugins.yaml's config:) to a test
// host's Info.
type configHost struct {
	*hostiamtest.Client
	config map[string]string
}

func (c configHost) Info() (*api.HostInfo, error) {
	info, err := c.Client.Info()
	if err != nil {
		return nil, err
	}
	info.Config = c.config
	return info, nil
}

// setTag writes a rotation state value as is, as anyone allowed
// iam:TagUser can: the seal tag beside it, if any, is left as it was.
func (e *env) setTag(user, key, v string) {
	e.t.Helper()
	if err := e.admin.Call("tag_user", api.TagUserInput{UserName: user, Tags: map[string]string{TagKey(key): v}}, &api.Result{}); err != nil {
		e.t.Fatal(err)
	}
}

// setSealedTag writes a value with the server's own seal of it, which
// only the plugin can have made: how the tests reach the checks against
// IAM behind the seal, as if the seal key had leaked (defence in depth).
func (e *env) setSealedTag(user, key, v string) {
	e.t.Helper()
	mac, err := e.host().Seal(sealData(user, key, v))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.admin.Call("tag_user", api.TagUserInput{UserName: user, Tags: map[string]string{TagKey(key): v, SealKey(key): mac}}, &api.Result{}); err != nil {
		e.t.Fatal(err)
	}
}

// fileExists reports whether path exists.
func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

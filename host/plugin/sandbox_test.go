package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/secretlink"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The sandbox must hold: each test here drives the hostile test plugin
// (testdata/hostile), built from source by TestMain.

// code returns the *api.Error code of err, or "".
func code(err error) api.ErrorCode {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// mustFail checks that err is an error naming the plugin and saying want.
func mustFail(t *testing.T, err error, c api.ErrorCode, plugin string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if c != "" && code(err) != c {
		t.Errorf("code %q, want %q: %v", code(err), c, err)
	}
	if !strings.Contains(err.Error(), "plugin "+plugin) {
		t.Errorf("error %q does not name plugin %s", err, plugin)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}

func TestNoFilesystem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, spec("hostile"))
	secret := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(secret, []byte("TOP-SECRET"), 0o644)
	for _, path := range []string{secret, "/etc/passwd", "/proc/self/environ", os.Getenv("HOME") + "/.aws/credentials", "secret.txt", "."} {
		args, _ := json.Marshal(map[string]string{"path": path})
		s := structured(t, e.call(t, "hostile_readfile", string(args)))
		if s["data"] != "" || s["err"] == "<nil>" {
			t.Errorf("%s: the plugin read %q (err %v)", path, s["data"], s["err"])
		}
		if s["root_entries"] != float64(0) || s["root_err"] == "<nil>" {
			t.Errorf("the plugin listed / (%v entries, err %v)", s["root_entries"], s["root_err"])
		}
	}
}

func TestNoEnvironmentNoCredentials(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
	t.Setenv("IAM_MCP_TEST_SECRET", "hunter2")
	e := newEnv(t, gate.Options{}, spec("hostile"))
	s := structured(t, e.call(t, "hostile_env", `{}`))
	if env, _ := s["environ"].([]any); len(env) != 0 {
		t.Errorf("the plugin sees an environment: %v", env)
	}
	if s["aws"] != "" {
		t.Errorf("the plugin read AWS_SECRET_ACCESS_KEY: %v", s["aws"])
	}
}

func TestNoNetwork(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	e := newEnv(t, gate.Options{}, spec("hostile"))

	// Extism's HTTP: refused before any request is made.
	for _, url := range []string{srv.URL, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", "https://iam.amazonaws.com/"} {
		args, _ := json.Marshal(map[string]string{"url": url})
		_, err := e.h.Call(ctx, "hostile_http", args, nil)
		mustFail(t, err, api.Internal, "hostile", "is not allowed", "plugins have no network")
	}
	// WASI sockets: none.
	args, _ := json.Marshal(map[string]string{"addr": srv.Listener.Addr().String()})
	s := structured(t, e.call(t, "hostile_dial", string(args)))
	if s["err"] == "<nil>" {
		t.Error("the plugin opened a TCP connection")
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server got %d requests from the plugin", n)
	}
	e.call(t, "hostile_ok", `{}`) // the instance that trapped was replaced
}

// TestStdoutNeverReachesTheProcess runs a plugin that prints, with
// EXTISM_ENABLE_WASI_OUTPUT set (under which the Extism SDK would connect
// the plugin's stdout to the process's, the MCP stream): Load unsets it,
// and the lines land in the log, tagged, instead.
func TestStdoutNeverReachesTheProcess(t *testing.T) {
	t.Setenv("EXTISM_ENABLE_WASI_OUTPUT", "1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	captured := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); captured <- b }()
	func() {
		defer func() { os.Stdout, os.Stderr = stdout, stderr }()
		e := newEnv(t, gate.Options{}, spec("hostile"))
		if _, set := os.LookupEnv("EXTISM_ENABLE_WASI_OUTPUT"); set {
			t.Error("Load left EXTISM_ENABLE_WASI_OUTPUT set")
		}
		e.call(t, "hostile_stdout", `{}`)
		e.h.Close(ctx)
		if !strings.Contains(e.logs.String(), `"plugin":"hostile","stream":"stdout","line":"LEAK-STDOUT from hostile plugin"`) {
			t.Errorf("the plugin's stdout is not in the log, tagged:\n%s", e.logs)
		}
	}()
	w.Close()
	if out := <-captured; bytes.Contains(out, []byte("LEAK")) {
		t.Errorf("plugin output reached the process's stdout or stderr: %q", out)
	}
}

func TestEndlessLoopStoppedAtTimeout(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Limits.Timeout = 300 * time.Millisecond
	e := newEnv(t, gate.Options{}, s, spec("good"))
	p := e.h.plugins[0]
	startPlugin(t, p) // one warm instance, whether Load made it or found the describe cached
	made := p.instances.Load()
	_, err := e.h.Call(ctx, "hostile_loop", []byte(`{}`), nil)
	mustFail(t, err, api.LimitExceeded, "hostile", "time limit", "300ms", "hostile_loop")
	// A sleep is cut short too (wazero's own sleep cannot be interrupted).
	_, err = e.h.Call(ctx, "hostile_sleep", []byte(`{"ms":600000}`), nil)
	mustFail(t, err, api.LimitExceeded, "hostile", "time limit")
	// What follows checks that the plugin still serves, not how fast a busy
	// machine runs a call: its limit becomes one that only guards against
	// a hang.
	p.limits.Timeout = 10 * time.Minute
	e.call(t, "hostile_ok", `{}`)
	e.call(t, "good_echo", `{}`)
	// The loop ran in the warm instance the start left; the sleep and ok
	// each needed a new one, since the one before was stopped (each new
	// one started under the start-up limit, not the 300ms).
	if got := p.instances.Load() - made; got != 2 {
		t.Errorf("%d instances made for the calls after two timeouts, want 2 (each stopped one replaced)", got)
	}
}

func TestCancellationStopsThePlugin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, spec("hostile")) // default timeout: 30s
	for _, tc := range []struct{ tool, args string }{{"hostile_loop", `{}`}, {"hostile_sleep", `{"ms":600000}`}} {
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(200*time.Millisecond, cancel)
		done := make(chan error, 1)
		go func() { _, err := e.h.Call(cctx, tc.tool, []byte(tc.args), nil); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "plugin hostile") {
				t.Errorf("%s: %v, want a cancellation naming the plugin", tc.tool, err)
			}
		case <-time.After(3 * time.Minute):
			// Only a guard against a hang: a call the cancellation missed
			// ends at its 30s limit with LimitExceeded, not Canceled.
			t.Fatalf("%s: a cancelled call still runs", tc.tool)
		}
	}
	e.call(t, "hostile_ok", `{}`)
}

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Limits.Memory = "32MiB"
	e := newEnv(t, gate.Options{}, s)
	e.call(t, "hostile_alloc", `{"mb":4}`)
	_, err := e.h.Call(ctx, "hostile_alloc", []byte(`{"mb":64}`), nil)
	mustFail(t, err, api.LimitExceeded, "hostile", "out of memory", "32MiB")
	e.call(t, "hostile_ok", `{}`)
}

func TestCrashesAndGarbageAreToolErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, spec("hostile"), spec("good"))
	p := e.h.plugins[0]
	for _, tc := range []struct {
		tool string
		code api.ErrorCode
		want []string
	}{
		{"hostile_panic", api.Internal, []string{"crashed in hostile_panic", "panic: hostile panic on purpose"}},
		{"hostile_garbage", api.Internal, []string{"not a JSON result", "<html>"}},
		{"hostile_huge", api.LimitExceeded, []string{fmt.Sprint(MaxResultBytes)}},
	} {
		made := p.instances.Load()
		_, err := e.h.Call(ctx, tc.tool, []byte(`{}`), nil)
		mustFail(t, err, tc.code, "hostile", tc.want...)
		e.call(t, "hostile_ok", `{}`) // the next call of the same plugin works
		e.call(t, "good_echo", `{}`)  // and so do the others
		if tc.tool == "hostile_panic" && p.instances.Load() == made {
			t.Error("the instance that panicked was reused")
		}
	}
	// An error the plugin reports is not a crash: its instance is kept.
	made := p.instances.Load()
	_, err := e.h.Call(ctx, "hostile_exterr", []byte(`{}`), nil)
	mustFail(t, err, api.Internal, "hostile", "reported an error", "hostile reports a failure")
	e.call(t, "hostile_ok", `{}`)
	if p.instances.Load() != made {
		t.Error("an instance was replaced after a reported error")
	}
}

func TestOversizeInputRefusedBeforeTheCall(t *testing.T) {
	t.Parallel()
	small := spec("good")
	small.Name, small.Limits.Memory = "small", "8MiB" // takes up to 4MiB
	e := newEnv(t, gate.Options{}, spec("good"), small)
	big := func(n int) []byte { return []byte(`{"x":"` + strings.Repeat("a", n) + `"}`) }

	// Under the cap, the input arrives whole (not silently empty).
	for _, tool := range []string{"good_echo", "small_echo"} {
		res := e.call(t, tool, string(big(512<<10)))
		if s := structured(t, res); s["bytes"] != float64(len(big(512<<10))) {
			t.Errorf("%s saw %v bytes of %d", tool, s["bytes"], len(big(512<<10)))
		}
	}

	for tool, n := range map[string]int{"good_echo": 9 << 20, "small_echo": 5 << 20} {
		p := e.h.byTool[tool].p
		made := p.instances.Load()
		idle := p.pool.idleCount()
		_, err := e.h.Call(ctx, tool, big(n), nil)
		mustFail(t, err, api.InvalidInput, p.name, "accepts at most", "nothing was run")
		if p.instances.Load() != made || p.pool.idleCount() != idle {
			t.Errorf("%s: an instance was used for a refused input", tool)
		}
	}
	_, err := e.h.Call(ctx, "good_echo", []byte(`{"x":`), nil)
	if code(err) != api.InvalidInput {
		t.Errorf("invalid JSON arguments: %v", err)
	}
}

func TestUngrantedAndReadOnlyNeverReachTheSandbox(t *testing.T) {
	t.Parallel()
	create := `{"requests":[{"op":"create_user","args":{"user_name":"intruder"}}]}`
	deleteU := `{"requests":[{"op":"delete_user","args":{"user_name":"alice.nguyen","force":true}}]}`

	// Asked for in describe, not granted: the plugin loads, its calls fail.
	e := newEnv(t, gate.Options{}, spec("hostile"))
	before := readState(t, e.state)
	for _, args := range []string{create, deleteU, strings.Replace(create, `"requests"`, `"batch":true,"requests"`, 1)} {
		answers := iamAnswers(t, e.call(t, "hostile_iam", args))
		if answers[0].Error == nil || answers[0].Error.Code != api.NotGranted {
			t.Errorf("ungranted: %+v", answers[0])
		}
	}
	if !bytes.Equal(before, readState(t, e.state)) {
		t.Error("an ungranted call changed the sandbox")
	}

	// Granted, but the server runs read-only.
	s := spec("hostile")
	s.Grants = []string{"read", "create_user", "delete_user"}
	ro := newEnv(t, gate.Options{ReadOnly: true}, s)
	before = readState(t, ro.state)
	for _, args := range []string{create, deleteU} {
		answers := iamAnswers(t, ro.call(t, "hostile_iam", args))
		if answers[0].Error == nil || answers[0].Error.Code != api.ReadOnly {
			t.Errorf("read-only: %+v", answers[0])
		}
	}
	reads := iamAnswers(t, ro.call(t, "hostile_iam", `{"requests":[{"op":"list_users"}]}`))
	if reads[0].Error != nil {
		t.Errorf("a read in read-only mode: %+v", reads[0].Error)
	}
	if !bytes.Equal(before, readState(t, ro.state)) {
		t.Error("a mutation in read-only mode changed the sandbox")
	}
	if !ro.h.Tools()[0].Mutates {
		t.Error("a plugin granted mutations has read-only tools")
	}
	// Every request is audited, refused or not, with the plugin and tool.
	recs := ro.auditRecords(t)
	if len(recs) != 3 || recs[0].Outcome != "refused" || recs[0].Code != api.ReadOnly || recs[0].Plugin != "hostile" || recs[0].Tool != "hostile_iam" || recs[2].Outcome != "ok" {
		t.Errorf("audit: %+v", recs)
	}
}

func TestCapsRefuseWithoutReachingTheGate(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"read", "create_user", "delete_user"}
	s.Limits.MaxIAMCalls, s.Limits.MaxMutations = 4, 1
	e := newEnv(t, gate.Options{}, s)

	twoCreates := `{"requests":[{"op":"create_user","args":{"user_name":"first.user"}},{"op":"create_user","args":{"user_name":"second.user"}}]}`
	for _, batch := range []bool{false, true} {
		args := twoCreates
		if batch {
			args = strings.NewReplacer("first", "third", "second", "fourth", `"requests"`, `"batch":true,"requests"`).Replace(twoCreates)
		}
		answers := iamAnswers(t, e.call(t, "hostile_iam", args))
		if len(answers) != 2 || answers[0].Error != nil {
			t.Fatalf("batch=%v: the first change must run: %+v", batch, answers)
		}
		if answers[1].Error == nil || answers[1].Error.Code != api.LimitExceeded || !strings.Contains(answers[1].Error.Message, "max_mutations") {
			t.Errorf("batch=%v: the second change: %+v", batch, answers[1])
		}
	}
	state := string(readState(t, e.state))
	if !strings.Contains(state, "first.user") || strings.Contains(state, "second.user") || !strings.Contains(state, "third.user") || strings.Contains(state, "fourth.user") {
		t.Error("the sandbox does not hold exactly the changes within the cap")
	}

	five := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"op":"list_users","args":{"max_items":1}},`, 5), ",") + `]}`
	answers := iamAnswers(t, e.call(t, "hostile_iam", five))
	for i, a := range answers {
		if refused := a.Error != nil && a.Error.Code == api.LimitExceeded; refused != (i == 4) {
			t.Errorf("read %d of 5 with max_iam_calls 4: %+v", i+1, a)
		}
	}
	var capped int
	for _, r := range e.auditRecords(t) {
		if r.Code == api.LimitExceeded {
			capped++
			if r.Outcome != "refused" || r.Plugin != "hostile" || r.Tool != "hostile_iam" {
				t.Errorf("audit of a capped call: %+v", r)
			}
		}
	}
	if capped != 3 {
		t.Errorf("%d capped calls audited, want 3", capped)
	}
}

func TestSecretKeyNeverHandedToThePlugin(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"create_access_key"}
	args := `{"requests":[{"op":"create_access_key","args":{"user_name":"sam.lee"}}]}`
	check := func(t *testing.T, e *env) api.CreateAccessKeyOutput {
		t.Helper()
		res := e.call(t, "hostile_iam", args)
		if bytes.Contains(res.StructuredContent, []byte("secret_access_key")) {
			t.Fatalf("the plugin saw the secret: %s", res.StructuredContent)
		}
		a := iamAnswers(t, res)[0]
		if a.Error != nil {
			t.Fatal(a.Error)
		}
		var out api.CreateAccessKeyOutput
		json.Unmarshal(a.Result, &out)
		if out.AccessKey.AccessKeyID == "" {
			t.Fatalf("no key: %s", a.Result)
		}
		return out
	}

	// As wired: the plugins' catalogue writes secrets to its directory.
	e := newEnv(t, gate.Options{}, s)
	out := check(t, e)
	if b, err := os.ReadFile(out.SecretFile); err != nil || !bytes.Contains(b, []byte(`"secret_access_key"`)) || filepath.Dir(out.SecretFile) != e.secrets {
		t.Errorf("the secret is not in the secrets directory: %s, %v", out.SecretFile, err)
	}

	// Miswired (a catalogue that returns secrets): stripped, and kept in
	// Options.Secrets.
	dir := t.TempDir()
	mis := newEnvWith(t, envConfig{returnSecrets: true, opts: func(o *Options) { o.Secrets = catalogue.SecretFiles{Dir: dir} }}, s)
	out = check(t, mis)
	if b, err := os.ReadFile(out.SecretFile); err != nil || !strings.HasPrefix(out.SecretFile, dir) || !bytes.Contains(b, []byte(`"secret_access_key"`)) {
		t.Errorf("the withheld secret was not kept: %s, %v", out.SecretFile, err)
	}
	// Miswired over HTTP (Options.Secrets a link store): stripped, and
	// kept behind a one-time link for the caller, which the plugin sees.
	links := secretlink.New(secretlink.Options{BaseURL: "https://iam.example.com"})
	linked := newEnvWith(t, envConfig{returnSecrets: true, opts: func(o *Options) { o.Secrets = links }}, s)
	alice := gate.WithPrincipal(ctx, &gate.Principal{Subject: "alice", Via: "token"})
	res, err := linked.h.Call(alice, "hostile_iam", json.RawMessage(args), nil)
	if err != nil || bytes.Contains(res.StructuredContent, []byte("secret_access_key")) {
		t.Fatalf("over links: %v %s", err, res.StructuredContent)
	}
	var viaLink api.CreateAccessKeyOutput
	json.Unmarshal(iamAnswers(t, res)[0].Result, &viaLink)
	if !strings.HasPrefix(viaLink.SecretLink, "https://iam.example.com/secrets/") || viaLink.SecretFile != "" || links.Pending() != 1 {
		t.Errorf("the withheld secret was not kept behind a link: %+v", viaLink)
	}
	// Miswired, with nowhere to keep it: stripped, and the plugin told.
	lost := newEnvWith(t, envConfig{returnSecrets: true}, s)
	out = check(t, lost)
	if !strings.Contains(out.Message, "lost") {
		t.Errorf("message %q", out.Message)
	}
}

// iamAnswers decodes the hostile plugin's "iam" result: the host's answers
// in order (a batch's answer is flattened).
func iamAnswers(t *testing.T, res *api.PluginResult) []api.IAMResponse {
	t.Helper()
	var s struct {
		Answers []json.RawMessage `json:"answers"`
	}
	if err := json.Unmarshal(res.StructuredContent, &s); err != nil {
		t.Fatal(err)
	}
	var out []api.IAMResponse
	for _, a := range s.Answers {
		if bytes.HasPrefix(bytes.TrimSpace(a), []byte("[")) {
			var batch []api.IAMResponse
			if err := json.Unmarshal(a, &batch); err != nil {
				t.Fatal(err)
			}
			out = append(out, batch...)
			continue
		}
		var r api.IAMResponse
		if err := json.Unmarshal(a, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestToolsCallOnlyWhatTheyDeclare: a tool may call the operations its
// describe lists that the plugins file grants, nothing more; so a tool that
// declares only reads is read-only even when its plugin holds mutating
// grants for another tool.
func TestToolsCallOnlyWhatTheyDeclare(t *testing.T) {
	t.Parallel()
	// hostile's tools declare list_users, create_user, delete_user and
	// create_access_key; get_user is granted but declared by none.
	s := spec("hostile")
	s.Grants = []string{"list_users", "get_user"}
	e := newEnv(t, gate.Options{}, s)
	answers := iamAnswers(t, e.call(t, "hostile_iam", `{"requests":[{"op":"get_user","args":{"user_name":"alice.nguyen"}},{"op":"list_users"}]}`))
	if answers[0].Error == nil || answers[0].Error.Code != api.NotGranted || !strings.Contains(answers[0].Error.Message, "does not declare") {
		t.Errorf("undeclared but granted: %+v", answers[0])
	}
	if answers[1].Error != nil {
		t.Errorf("declared and granted: %+v", answers[1].Error)
	}
	for _, tool := range e.h.Tools() {
		if tool.Mutates {
			t.Errorf("%s: only reads are both declared and granted, but it is not read-only", tool.Name)
		}
	}
	// good_users declares list_users only: read-only beside a mutating grant.
	g := spec("good")
	g.Grants = []string{"list_users", "create_user"}
	ge := newEnv(t, gate.Options{}, g)
	for _, tool := range ge.h.Tools() {
		if tool.Name == "good_users" && tool.Mutates {
			t.Errorf("good_users declares only list_users: %+v", tool)
		}
	}
}

// TestStartUpHasItsOwnLimit: a tool's limits.timeout does not bound the
// plugin's start-up (describe), which has StartupTimeout, so a short call
// limit cannot make the server fail to start on a busy machine; calls are
// still held to their own limit.
func TestStartUpHasItsOwnLimit(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Limits.Timeout = 100 * time.Millisecond
	s.Config = map[string]string{"describe_sleep_ms": "500"}
	e := newEnv(t, gate.Options{}, s)
	_, err := e.h.Call(ctx, "hostile_sleep", []byte(`{"ms":500}`), nil)
	mustFail(t, err, api.LimitExceeded, "hostile", "time limit", "100ms", "limits.timeout")
	// The plugin still serves calls after one was stopped. 100ms is short
	// for a busy machine (the race detector, other test binaries): a call
	// over it fails with the same clear limit, which is not what this
	// checks; any other failure is.
	if _, err := e.h.Call(ctx, "hostile_ok", []byte(`{}`), nil); err != nil {
		mustFail(t, err, api.LimitExceeded, "hostile", "hostile_ok", "time limit", "100ms")
	}
}

// TestNewInstanceStartsUnderTheStartUpLimit: an instance made for a tool
// call (after one was stopped, or when calls run at once) starts — the
// guest's runtime and init functions, which Extism runs at an instance's
// first export — under the start-up limit, not the call's limits.timeout.
// The start-up limit is cut to a nanosecond here, so that the test sees
// which limit the start-up ran under without depending on how fast it runs.
func TestNewInstanceStartsUnderTheStartUpLimit(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Limits.Timeout = 10 * time.Minute // only guards against a hang
	e := newEnv(t, gate.Options{}, s)
	p := e.h.plugins[0]
	startPlugin(t, p) // one instance, started under the usual limit
	normal := p.startup
	p.startup = time.Nanosecond
	// That instance has started: a call in it is held to its own limit only.
	e.call(t, "hostile_ok", `{}`)
	_, err := e.h.Call(ctx, "hostile_panic", []byte(`{}`), nil) // its instance is closed
	mustFail(t, err, api.Internal, "hostile", "crashed in hostile_panic")
	_, err = e.h.Call(ctx, "hostile_ok", []byte(`{}`), nil)
	mustFail(t, err, api.LimitExceeded, "hostile", "hostile_ok", "(1ns, the start-up limit)")
	// With its usual start-up limit, the next new instance serves the call.
	p.startup = normal
	e.call(t, "hostile_ok", `{}`)
}

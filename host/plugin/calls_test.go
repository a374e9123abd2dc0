package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

func goodWithReads() Spec {
	s := spec("good")
	s.Grants = []string{"read"}
	s.Config = map[string]string{"greeting": "hi"}
	return s
}

func TestIAMCallProgressLogsAndAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, goodWithReads())
	var reports []api.ProgressReport
	// The plugin's log lines carry the call's context: a client on the
	// 2026-07-28 protocol gets a request's log records only through it.
	callCtx := context.WithValue(ctx, requestKey{}, "call-1")
	res, err := e.h.Call(callCtx, "good_users", json.RawMessage(`{"path_prefix":"/"}`), func(r api.ProgressReport) { reports = append(reports, r) })
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || structured(t, res)["count"].(float64) < 5 || !strings.HasSuffix(res.Content[0].Text, "users") {
		t.Errorf("result %+v %s", res, res.StructuredContent)
	}
	want := []api.ProgressReport{{Progress: 1, Total: 2, Message: "listing"}, {Progress: 2, Total: 2, Message: "done"}}
	if !reflect.DeepEqual(reports, want) {
		t.Errorf("progress %+v, want %+v, delivered before Call returned", reports, want)
	}
	if !strings.Contains(e.logs.String(), `"level":"INFO","msg":"good: listing users","plugin":"good","request":"call-1"`) {
		t.Errorf("the plugin's log line is not in the host's log, tagged:\n%s", e.logs)
	}
	recs := e.auditRecords(t)
	if len(recs) != 1 || recs[0].Operation != "list_users" || recs[0].Caller != gate.Plugin || recs[0].Plugin != "good" || recs[0].Tool != "good_users" || recs[0].Outcome != "ok" {
		t.Errorf("audit %+v", recs)
	}
	// No progress callback: reports are dropped, the call works.
	e.call(t, "good_users", `{}`)
}

func TestHostInfoConfigClocksAndVars(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{ReadOnly: true}, goodWithReads())
	start := time.Now()
	s := structured(t, e.call(t, "good_probe", `{}`))
	elapsed := time.Since(start)

	var info api.HostInfo
	b, _ := json.Marshal(s["host_info"])
	json.Unmarshal(b, &info)
	reads, _ := expandGrants([]string{"read"})
	if !info.ReadOnly || info.AccountID != "123456789012" || info.Partition != "aws" || info.Plugin != "good" ||
		!reflect.DeepEqual(info.Grants, sortedKeys(reads)) || !reflect.DeepEqual(info.Config, map[string]string{"greeting": "hi"}) {
		t.Errorf("host_info %+v", info)
	}
	if s["greeting"] != "hi" {
		t.Errorf("Extism config: %v", s["greeting"])
	}
	// Extism variables work: MaxVarBytes is not left at 0.
	if s["var"] != "kept" {
		t.Errorf("Extism var: %v", s["var"])
	}
	// Real clocks: the wall clock is today's, and a 20ms sleep sleeps (with
	// wazero's defaults it returns at once, on a clock that starts in 2022).
	// The plugin read its clock during the call, however long that took (a
	// second either side for the milliseconds cut and a clock being set).
	if got := time.UnixMilli(int64(s["unix_ms"].(float64))); got.Before(start.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("the plugin's wall clock says %v, outside the call (%v to now)", got, start)
	}
	if slept := time.Duration(s["slept_ns"].(float64)); slept < 20*time.Millisecond || elapsed < 20*time.Millisecond {
		t.Errorf("a 20ms sleep took %v in the plugin and %v outside", slept, elapsed)
	}

	// Without Options.Account: empty account, no failure.
	g, _, _ := sandboxGate(t, gate.Options{})
	h, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	res, err := h.Call(ctx, "good_probe", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s = structured(t, res)
	b, _ = json.Marshal(s["host_info"])
	info = api.HostInfo{}
	json.Unmarshal(b, &info)
	if info.AccountID != "" || info.ReadOnly || len(info.Grants) != 0 || info.Grants == nil {
		t.Errorf("host_info without account or grants: %+v", info)
	}
}

// concurrencyRunner stands for the catalogue and records how many calls
// run at once.
type concurrencyRunner struct {
	now, max atomic.Int64
	// two is closed once two calls run at once. Each call waits for it, so
	// that whether they overlap does not depend on how fast a busy machine
	// starts them; guard only guards against a hang (calls run one at a
	// time would wait for ever).
	two   chan struct{}
	once  sync.Once
	guard context.Context
}

func (r *concurrencyRunner) Run(ctx context.Context, op string, in any) (any, error) {
	n := r.now.Add(1)
	defer r.now.Add(-1)
	for {
		m := r.max.Load()
		if n <= m || r.max.CompareAndSwap(m, n) {
			break
		}
	}
	if n >= 2 {
		r.once.Do(func() { close(r.two) })
	}
	select {
	case <-r.two:
	case <-r.guard.Done():
	}
	time.Sleep(20 * time.Millisecond) // gives a third call the chance to overlap too
	// The gate hands over the input it decoded: a *api.UserNameInput for
	// get_user.
	user := in.(*api.UserNameInput).UserName
	if user == "nobody" {
		return nil, api.Errorf(api.NoSuchEntity, "no user nobody")
	}
	return &api.GetUserOutput{User: api.User{UserName: user}}, nil
}

func (r *concurrencyRunner) Account(context.Context) (string, error) { return "123456789012", nil }

// Prepare is never reached: the test makes only reads.
func (r *concurrencyRunner) Prepare(context.Context, string, any) (*api.Plan, func(context.Context) (any, error), error) {
	return nil, nil, api.Errorf(api.Internal, "concurrencyRunner plans no change")
}

func TestBatchRunsConcurrentlyAndAnswersInOrder(t *testing.T) {
	t.Parallel()
	guard, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	runner := &concurrencyRunner{two: make(chan struct{}), guard: guard}
	g := gate.New(runner, gate.Options{})
	h, err := Load(ctx, &Config{Plugins: []Spec{goodWithReads()}}, Options{Gate: g, CacheDir: cacheDir, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	users := []string{"u0", "u1", "nobody", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}
	args, _ := json.Marshal(map[string]any{"users": users})
	res, err := h.Call(ctx, "good_groups_of", args, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Responses []api.IAMResponse `json:"responses"`
	}
	json.Unmarshal(res.StructuredContent, &out)
	if len(out.Responses) != len(users) {
		t.Fatalf("%d answers for %d requests", len(out.Responses), len(users))
	}
	for i, r := range out.Responses {
		if users[i] == "nobody" {
			if r.Error == nil || r.Error.Code != api.NoSuchEntity {
				t.Errorf("answer %d: %+v", i, r)
			}
			continue
		}
		var u api.GetUserOutput
		json.Unmarshal(r.Result, &u)
		if u.User.UserName != users[i] {
			t.Errorf("answer %d is for %q, want %q: answers must keep the requests' order", i, u.User.UserName, users[i])
		}
	}
	if m := runner.max.Load(); m > 3 || m < 2 {
		t.Errorf("%d requests ran at once, want 2 or 3 (Concurrency 3)", m)
	}
}

func TestFiftyConcurrentCalls(t *testing.T) {
	t.Parallel()
	// Waiting for one of the 8 instances counts against a call's limit: on a
	// busy machine the last of 50 calls may wait long, so the limit only
	// guards against a hang.
	good := goodWithReads()
	good.Limits.Timeout = 10 * time.Minute
	e := newEnv(t, gate.Options{}, good, spec("hostile"))
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var progress atomic.Int64
			res, err := e.h.Call(ctx, "good_users", json.RawMessage(`{}`), func(api.ProgressReport) { progress.Add(1) })
			switch {
			case err != nil:
				errs <- err
			case res.IsError || progress.Load() != 2:
				errs <- errors.New("call " + string(rune('0'+i%10)) + ": " + res.Content[0].Text)
			}
		}()
	}
	// Meanwhile another plugin fails, and nothing else notices.
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.h.Call(ctx, "hostile_panic", nil, nil); err == nil {
				errs <- errors.New("hostile_panic succeeded")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p := e.h.plugins[0]
	if n := p.instances.Load(); n > defaultMaxInstances {
		t.Errorf("%d instances of good, more than the bound %d", n, defaultMaxInstances)
	}
	if n := len(e.auditRecords(t)); n != 50 {
		t.Errorf("%d audit lines for 50 calls", n)
	}
}

func TestWaitingForAnInstanceHonoursTheContext(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envConfig{opts: func(o *Options) { o.MaxInstances = 1 }}, slowSpec())
	startPlugin(t, e.h.plugins[0]) // its pool exists, with the one instance idle
	// The one instance sleeps (ten minutes, as long as its limit) until the
	// test cancels it, whatever the machine's speed.
	bctx, bcancel := context.WithCancel(ctx)
	busy := make(chan error, 1)
	go func() {
		_, err := e.h.Call(bctx, "hostile_sleep", []byte(`{"ms":600000}`), nil)
		busy <- err
	}()
	for e.h.plugins[0].pool.idleCount() != 0 {
		time.Sleep(time.Millisecond) // the guard is the test's own timeout
	}
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := e.h.Call(cctx, "hostile_ok", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "plugin hostile") || !strings.Contains(err.Error(), "before it started") {
		t.Errorf("waiting past the caller's deadline: %v", err)
	}
	bcancel()
	if err := <-busy; !errors.Is(err, context.Canceled) {
		t.Errorf("the busy call, cancelled: %v", err)
	}
	e.call(t, "hostile_ok", `{}`)
}

func TestUnknownToolAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, spec("good"))
	if _, err := e.h.Call(ctx, "good_nothing", nil, nil); code(err) != api.InvalidInput {
		t.Errorf("unknown tool: %v", err)
	}
	if err := e.h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.h.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.h.Call(ctx, "good_echo", nil, nil); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a call after Close: %v", err)
	}
	// An empty plugins file loads nothing, and works.
	h, err := Load(ctx, nil, Options{Gate: e.gate})
	if err != nil || len(h.Tools()) != 0 || len(h.Plugins()) != 0 {
		t.Errorf("no plugins: %v", err)
	}
	h.Close(ctx)
}

// TestSDKBatchIsSplitAtTheCap: the SDK sends a batch longer than
// api.MaxBatchRequests in chunks the host takes, so a plugin author never
// meets the cap; every request still counts and is answered in order.
func TestSDKBatchIsSplitAtTheCap(t *testing.T) {
	t.Parallel()
	s := spec("sdkbatch")
	// Not granted: each request is refused by the gate, cheaply, which is
	// all this test needs to count answers.
	e := newEnv(t, gate.Options{}, s)
	n := api.MaxBatchRequests + 1
	res, err := e.h.Call(ctx, "sdkbatch_many", json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Answers int            `json:"answers"`
		Codes   map[string]int `json:"codes"`
	}
	if err := json.Unmarshal(res.StructuredContent, &out); err != nil {
		t.Fatalf("%v: %s", err, res.StructuredContent)
	}
	if out.Answers != n || out.Codes[string(api.NotGranted)] != n {
		t.Fatalf("a batch of %d through the SDK: %+v (want every request refused one by one as NotGranted, none refused whole)", n, out)
	}
}

// TestHostInfoReadOnlyForAReadOnlyPrincipal: on a server that allows
// writes, a tool call made for a person who may only read (serve --http
// rules, X-MCP-Readonly) tells its plugin it is read-only, so a workflow
// plans instead of attempting changes the gate would refuse.
func TestHostInfoReadOnlyForAReadOnlyPrincipal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, gate.Options{}, goodWithReads())
	info := func(ctx context.Context) api.HostInfo {
		t.Helper()
		res, err := e.h.Call(ctx, "good_probe", json.RawMessage(`{}`), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out api.HostInfo
		b, _ := json.Marshal(structured(t, res)["host_info"])
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if info(ctx).ReadOnly {
		t.Fatal("host_info says read-only on a writable server without a principal")
	}
	ro := gate.WithPrincipal(ctx, &gate.Principal{Subject: "alice", Via: "token", ReadOnly: true, ReadOnlyWhy: "the operator's rule"})
	if !info(ro).ReadOnly {
		t.Fatal("host_info says writable for a read-only principal")
	}
	rw := gate.WithPrincipal(ctx, &gate.Principal{Subject: "bob", Via: "token"})
	if info(rw).ReadOnly {
		t.Fatal("host_info says read-only for a principal that may write")
	}
	// Each host_info line names the person it was asked for.
	var subjects []string
	for _, r := range e.auditRecords(t) {
		if r.Operation == gate.HostInfoOperation {
			subjects = append(subjects, r.Subject)
		}
	}
	if !reflect.DeepEqual(subjects, []string{"", "alice", "bob"}) {
		t.Errorf("host_info audit subjects %q", subjects)
	}
}

package plugin

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Attacks on the host through the plugin contract, by the hostile test
// plugin: names that shadow catalogue operations, envelopes spelt to be
// read two ways, giant batches and inputs, floods of progress and logs,
// host_info on the wrong account.

// slowSpec is the hostile plugin with a time limit that only guards
// against a hang: the floods here take seconds, and many more under the
// race detector on a busy machine; no test may depend on that.
func slowSpec() Spec {
	s := spec("hostile")
	s.Limits.Timeout = 10 * time.Minute
	return s
}

// TestToolNamedLikeACatalogueOperationIsRefused: a plugin tool may not take
// the name of any catalogue operation, exposed as a tool or not, in any
// letter case, nor a name starting with '_' (the server's hidden tools),
// nor collide in letter case with a built-in tool or another plugin's tool.
func TestToolNamedLikeACatalogueOperationIsRefused(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	load := func(opts Options, specs ...Spec) error {
		opts.Gate, opts.CacheDir = g, cacheDir
		h, err := Load(ctx, &Config{Plugins: specs}, opts)
		if err == nil {
			h.Close(ctx)
		}
		return err
	}
	hostileNamed := func(name string) Spec {
		s := spec("hostile")
		s.Prefix = strp("")
		s.Config = map[string]string{"extra_tool": name}
		return s
	}
	for name, want := range map[string]string{
		"delete_role":                       "is the name of the catalogue operation delete_role (whether it is exposed as a tool or not)",
		"get_account_authorization_details": "is the name of the catalogue operation get_account_authorization_details",
		"list_users":                        "is the name of the catalogue operation list_users",
		"Delete_Role":                       "differs only in letter case from the catalogue operation delete_role",
		"DELETE_USER":                       "differs only in letter case from the catalogue operation delete_user",
		"_unknown_tool":                     "starts with '_'",
		"_anything":                         "starts with '_'",
		"delete_rolе":                       "must be 1 to 64 letters", // a Cyrillic е: no look-alikes
		"Key":                               "must be 1 to 64 letters", // the Kelvin sign, which folds to k
	} {
		err := load(Options{}, hostileNamed(name))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "plugin hostile") {
			t.Errorf("a tool named %s: %v, want %q", name, err, want)
		}
	}
	// A prefix and a tool name that together spell an operation.
	good := spec("good")
	good.Prefix = strp("list")
	if err := load(Options{}, good); err == nil || !strings.Contains(err.Error(), "list_users") || !strings.Contains(err.Error(), "catalogue operation") {
		t.Errorf("prefix list + tool users: %v", err)
	}
	// Letter case against a built-in tool and between plugins.
	if err := load(Options{Builtins: []string{"GOOD_Echo"}}, spec("good")); err == nil || !strings.Contains(err.Error(), "built-in tool GOOD_Echo") {
		t.Errorf("good_echo beside a built-in GOOD_Echo: %v", err)
	}
	a, b := spec("good"), spec("good")
	b.Name = "other"
	a.Prefix, b.Prefix = strp("x"), strp("X")
	if err := load(Options{}, a, b); err == nil || !strings.Contains(err.Error(), "in some letter case") || !strings.Contains(err.Error(), "plugin good's tool x_users") {
		t.Errorf("x_users beside X_users: %v", err)
	}
	// Names that only resemble an operation are fine.
	if err := load(Options{}, hostileNamed("delete_roles"), spec("good")); err != nil {
		t.Errorf("delete_roles: %v", err)
	}
}

// TestStrictEnvelopes: iam_call's and iam_batch's requests are decoded
// with exactly the keys "op" and "args", each once. encoding/json would
// take "OP" for "op" (the last one winning): {"op":"list_users","OP":
// "create_user"} created a user while its bytes read as a list.
func TestStrictEnvelopes(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"read", "create_user"}
	e := newEnv(t, gate.Options{}, s)
	for _, req := range []string{
		`{"op":"list_users","OP":"create_user","args":{"user_name":"sneaky.one"}}`,
		`{"op":"list_users","Op":"create_user","args":{"user_name":"sneaky.two"}}`,
		`{"op":"list_users","op":"create_user","args":{"user_name":"sneaky.three"}}`,
		`{"op":"create_user","args":{"user_name":"sneaky.four"},"Args":{"user_name":"x"}}`,
		`{"op":"create_user","args":{"user_name":"sneaky.five"},"extra":1}`,
		`{"op":"create_user","args":{"user_name":"sneaky.six"}} trailing`,
		`["create_user"]`,
	} {
		for _, batch := range []bool{false, true} {
			args, _ := json.Marshal(map[string]any{"batch": batch, "requests": []json.RawMessage{json.RawMessage(req)}})
			if !json.Valid([]byte(req)) {
				// Not JSON: the plugin's own encoder would refuse it, so
				// send it through the raw tool.
				fn := "iam_call"
				payload := req
				if batch {
					fn, payload = "iam_batch", "["+req+"]"
				}
				args, _ = json.Marshal(map[string]any{"fn": fn, "payload": payload})
				answer := structured(t, e.call(t, "hostile_raw", string(args)))["answer"].(string)
				var r api.IAMResponse
				if err := json.Unmarshal([]byte(answer), &r); err != nil || r.Error == nil || r.Error.Code != api.InvalidInput {
					t.Errorf("%s (batch %v): %s", req, batch, answer)
				}
				continue
			}
			res := e.call(t, "hostile_iam", string(args))
			var out struct {
				Answers []json.RawMessage `json:"answers"`
			}
			json.Unmarshal(res.StructuredContent, &out)
			var r api.IAMResponse
			// A batch that does not decode is refused as a whole: one
			// object, not an array.
			if err := json.Unmarshal(out.Answers[0], &r); err != nil || r.Error == nil || r.Error.Code != api.InvalidInput {
				t.Errorf("%s (batch %v): %s", req, batch, out.Answers[0])
			}
		}
	}
	if state := string(readState(t, e.state)); strings.Contains(state, "sneaky") {
		t.Error("a request spelt two ways ran")
	}
	// Each was audited as a refusal of iam_call or iam_batch, with its
	// size, never its bytes.
	n := 0
	for _, r := range e.auditRecords(t) {
		if r.Operation != api.HostIAMCall && r.Operation != api.HostIAMBatch {
			t.Errorf("audit: %+v", r)
			continue
		}
		n++
		if r.Outcome != "refused" || r.Code != api.InvalidInput || !strings.HasPrefix(string(r.Arguments), `{"undecoded_bytes":`) || strings.Contains(string(r.Arguments), "sneaky") {
			t.Errorf("audit of an envelope that does not decode: %+v", r)
		}
	}
	if n != 14 {
		t.Errorf("%d audit lines for 14 refused envelopes", n)
	}
}

// TestStrictDescribeAndResults: describe's answer and call's result are
// decoded with the contract's exact keys, each once: a describe listing
// "tools" and "Tools", or "tools" twice, could show an operator one set of
// tools while another is served.
func TestStrictDescribeAndResults(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	for mode, want := range map[string]string{
		"dup-tools-key":   `unknown key "Tools"`,
		"tools-twice":     `key "tools" given twice`,
		"schema-dup-type": `key "type" given twice`,
	} {
		s := spec("hostile")
		s.Config = map[string]string{"describe": mode}
		_, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g, CacheDir: cacheDir})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "plugin hostile") {
			t.Errorf("describe %s: %v, want %q", mode, err, want)
		}
	}

	e := newEnv(t, gate.Options{}, spec("hostile"))
	for mode, want := range map[string]string{
		"is_error-twice": `key "is_error" given twice`,
		"Is_Error":       `unknown key "Is_Error"`,
		"unknown-key":    `unknown key "isError"`,
	} {
		args, _ := json.Marshal(map[string]string{"mode": mode})
		mustFail(t, e.callErr(t, "hostile_result", string(args)), api.Internal, "hostile", "not a JSON result", want)
	}
	if res := e.call(t, "hostile_result", `{}`); res.IsError || res.Content[0].Text != "all good" {
		t.Errorf("a result spelt right: %+v", res)
	}
}

// bigBatch runs the hostile plugin's bigbatch tool: n requests for op in
// one iam_batch (with dry, all but the host call).
func bigBatch(t *testing.T, e *env, n int, op string, dry bool) (answer string, sentBytes int) {
	t.Helper()
	args, _ := json.Marshal(map[string]any{"n": n, "op": op, "dry": dry})
	s := structured(t, e.call(t, "hostile_bigbatch", string(args)))
	return s["answer_start"].(string), int(s["sent_bytes"].(float64))
}

// hostCost measures what the host allocated for a plugin's host call:
// the bytes allocated while run(false) ran, less those allocated while
// run(true) — the same call without the host call — ran. The plugin's
// memory is on the Go heap too (wazero's), so the dry run is the
// baseline; both run once first, so that the instance's memory has
// already grown. Measured, logged, and checked only against caps far above
// what the host may take, never against time.
func hostCost(run func(dry bool)) (allocated int64, peakHeap uint64) {
	run(true)
	run(false)
	dry, _ := allocatedDuring(func() { run(true) })
	real, peak := allocatedDuring(func() { run(false) })
	return int64(real) - int64(dry), peak
}

// allocatedDuring returns the bytes allocated on the Go heap while f ran,
// and the growth of the heap in use at its peak (sampled meanwhile).
func allocatedDuring(f func()) (allocated, peakHeap uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, peak.Load() - min(peak.Load(), before.HeapInuse)
}

// TestGiantBatchIsRefusedWhole: an iam_batch of more than
// MaxBatchRequests is refused as a whole, without decoding it, with one
// error the plugin reads; its requests count against max_iam_calls; one
// audit line records it (with its size). A batch over MaxHostInputBytes is
// not even copied into the host. (4 million such requests used to grow
// the host from 66 MB to 3.8 GB.)
func TestGiantBatchIsRefusedWhole(t *testing.T) {
	s := slowSpec()
	s.Grants = []string{"read"} // delete_user is not granted
	s.Limits.Memory = "256MiB"  // room for the plugin to build its batch
	s.Limits.MaxIAMCalls = 100
	e := newEnv(t, gate.Options{}, s)

	// Over the count cap, under the byte cap: counted, refused whole.
	var answer string
	var sent int
	alloc, peak := hostCost(func(dry bool) { answer, sent = bigBatch(t, e, 100_000, "delete_user", dry) })
	t.Logf("a batch of 100,000 requests (%d bytes): the host allocated %d KiB for it (heap peak +%d KiB)", sent, alloc>>10, peak>>10)
	var r api.IAMResponse
	if err := json.Unmarshal([]byte(answer), &r); err != nil || r.Error == nil || r.Error.Code != api.LimitExceeded ||
		!strings.Contains(r.Error.Message, "iam_batch of 100000 requests refused: at most 10000 per batch") {
		t.Errorf("a batch of 100,000: %.300s", answer)
	}
	if alloc > 4*int64(sent) {
		t.Errorf("the host allocated %d bytes for a batch of %d bytes it only counts", alloc, sent)
	}
	// Over the byte cap: refused unread.
	alloc, peak = hostCost(func(dry bool) { answer, sent = bigBatch(t, e, 450_000, "delete_user", dry) })
	t.Logf("a batch of 450,000 requests (%d bytes): the host allocated %d KiB for it (heap peak +%d KiB)", sent, alloc>>10, peak>>10)
	r = api.IAMResponse{}
	if err := json.Unmarshal([]byte(answer), &r); err != nil || r.Error == nil || r.Error.Code != api.LimitExceeded ||
		!strings.Contains(r.Error.Message, fmt.Sprintf("iam_batch of %d bytes refused: at most %d", sent, MaxHostInputBytes)) {
		t.Errorf("a batch of 450,000: %.300s", answer)
	}
	if alloc > 1<<20 {
		t.Errorf("the host allocated %d bytes for a batch it must not read", alloc)
	}
	recs := e.auditRecords(t)
	if len(recs) != 4 { // each batch was sent twice (see hostCost)
		t.Fatalf("%d audit lines for four batches refused whole: %+v", len(recs), recs)
	}
	if r := recs[0]; r.Operation != api.HostIAMBatch || r.Outcome != "refused" || r.Code != api.LimitExceeded || string(r.Arguments) != fmt.Sprintf(`{"undecoded_bytes":%d}`, 100_000*21+1) {
		t.Errorf("audit of the batch refused for its count: %+v %s", r, r.Arguments)
	}
	if r := recs[2]; r.Operation != api.HostIAMBatch || r.Outcome != "refused" || string(r.Arguments) != `{}` {
		t.Errorf("audit of the batch refused unread: %+v %s", r, r.Arguments)
	}
}

// TestRefusedRequestsCountAndAreAuditedThroughTheGate: requests the gate
// refuses (not granted) count against max_iam_calls like any other; so do
// requests that do not decode, and the requests of a batch refused whole.
// Past the cap, the runtime refuses, and the gate writes those audit lines
// from the decoded arguments: never the bytes as sent, so a misspelt
// secret's value never reaches the audit log.
func TestRefusedRequestsCountAndAreAuditedThroughTheGate(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"list_users"}
	s.Limits.MaxIAMCalls = 3
	e := newEnv(t, gate.Options{}, s)
	req := func(r string) json.RawMessage { return json.RawMessage(r) }
	args, _ := json.Marshal(map[string]any{"batch": true, "requests": []json.RawMessage{
		req(`{"op":"delete_user","args":{"user_name":"rosa.silva"}}`), // not granted: the gate refuses, counted
		req(`{"op":"delete_user","args":{"user_name":"rosa.silva"}}`), // likewise
		req(`{"op":"list_users","args":{"path_prefix":"/eng/"}}`),     // the third: runs
		req(`{"op":"list_users","args":{"path_prefix":"/eng/"}}`),     // past the cap
		req(`{"op":"list_users","args":{"PATH_PREFIX":"/ops/"}}`),     // past the cap, args that do not decode
		req(`{"op":"create_login_profile","args":{"user_name":"sam.lee","paſſword":"hunter2-secret"}}`),
		req(`{"op":"create_login_profile","args":{"user_name":"sam.lee","password":"hunter3-secret"}}`),
	}})
	answers := iamAnswers(t, e.call(t, "hostile_iam", string(args)))
	codes := make([]api.ErrorCode, len(answers))
	for i, a := range answers {
		if a.Error != nil {
			codes[i] = a.Error.Code
		}
	}
	want := []api.ErrorCode{api.NotGranted, api.NotGranted, "", api.LimitExceeded, api.LimitExceeded, api.LimitExceeded, api.LimitExceeded}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
	audit := e.audit.String()
	if strings.Contains(audit, "hunter") || strings.Contains(audit, "PATH_PREFIX") {
		t.Errorf("the audit log holds bytes as sent:\n%s", audit)
	}
	var refused []string
	for _, r := range e.auditRecords(t) {
		if r.Code == api.LimitExceeded {
			if r.Outcome != "refused" || r.Tool != "hostile_iam" || r.Plugin != "hostile" {
				t.Errorf("audit of a capped request: %+v", r)
			}
			refused = append(refused, r.Operation+" "+string(r.Arguments))
		}
	}
	wantRefused := []string{
		`list_users {"path_prefix":"/eng/"}`,
		`list_users {"undecoded_bytes":23}`,
		`create_login_profile {"undecoded_bytes":53}`,
		`create_login_profile {"password":"[redacted]","user_name":"sam.lee"}`,
	}
	if fmt.Sprint(refused) != fmt.Sprint(wantRefused) {
		t.Errorf("audit of the capped requests:\n%s\nwant\n%s", strings.Join(refused, "\n"), strings.Join(wantRefused, "\n"))
	}

	// A fresh call: an iam_call that does not decode counts too (three of
	// them use up the cap), as does a batch refused whole.
	args, _ = json.Marshal(map[string]any{"requests": []json.RawMessage{
		req(`{"op":"list_users","OP":"x"}`), req(`{"op":"list_users","OP":"x"}`), req(`{"op":"list_users","OP":"x"}`), req(`{"op":"list_users"}`),
	}})
	answers = iamAnswers(t, e.call(t, "hostile_iam", string(args)))
	if a := answers[3]; a.Error == nil || a.Error.Code != api.LimitExceeded {
		t.Errorf("after three requests that did not decode, with max_iam_calls 3: %+v", a)
	}
}

// TestUndeclaredOperationRefusalIsAudited: a tool calling an operation its
// plugin is granted but it did not declare is refused by the runtime, and
// that refusal is in the audit log like the gate's.
func TestUndeclaredOperationRefusalIsAudited(t *testing.T) {
	t.Parallel()
	s := spec("hostile")
	s.Grants = []string{"list_users", "get_user"} // get_user: declared by no tool
	e := newEnv(t, gate.Options{}, s)
	answers := iamAnswers(t, e.call(t, "hostile_iam", `{"requests":[{"op":"get_user","args":{"user_name":"alice.nguyen","USER_NAME":"x"}}]}`))
	if a := answers[0]; a.Error == nil || a.Error.Code != api.NotGranted {
		t.Fatalf("undeclared: %+v", a)
	}
	recs := e.auditRecords(t)
	if len(recs) != 1 || recs[0].Operation != "get_user" || recs[0].Outcome != "refused" || recs[0].Code != api.NotGranted || string(recs[0].Arguments) != `{"undecoded_bytes":44}` {
		t.Errorf("audit: %+v", recs)
	}
}

// TestOversizeHostInputIsNotRead: an iam_call or progress input over its
// cap is refused by its length, which the Extism kernel knows, before a
// byte of it is copied into the host.
func TestOversizeHostInputIsNotRead(t *testing.T) {
	s := slowSpec()
	s.Limits.Memory = "128MiB"
	e := newEnv(t, gate.Options{}, s)
	var answer string
	alloc, _ := hostCost(func(dry bool) {
		args, _ := json.Marshal(map[string]any{"fn": "iam_call", "bytes": 12 << 20, "dry": dry})
		answer = structured(t, e.call(t, "hostile_raw", string(args)))["answer"].(string)
	})
	t.Logf("a 12 MiB iam_call input: the host allocated %d KiB", alloc>>10)
	var r api.IAMResponse
	if err := json.Unmarshal([]byte(answer), &r); err != nil || r.Error == nil || r.Error.Code != api.InvalidInput ||
		!strings.Contains(r.Error.Message, fmt.Sprintf("the iam_call request is %d bytes, more than the %d a host function reads", 12<<20, MaxHostInputBytes)) {
		t.Errorf("a 12 MiB iam_call: %.300s", answer)
	}
	if alloc > 1<<20 {
		t.Errorf("the host allocated %d bytes for an input it must not read", alloc)
	}
	// host_info reads no input at all, and progress drops an oversize one.
	for _, fn := range []string{"host_info", "progress"} {
		alloc, _ := hostCost(func(dry bool) {
			args, _ := json.Marshal(map[string]any{"fn": fn, "bytes": 12 << 20, "dry": dry})
			e.call(t, "hostile_raw", string(args))
		})
		t.Logf("a 12 MiB %s input: the host allocated %d KiB", fn, alloc>>10)
		if alloc > 1<<20 {
			t.Errorf("%s: the host allocated %d bytes for an input it must not read", fn, alloc)
		}
	}
}

// TestAnswersAreBounded: the results one iam_batch hands back are capped
// at MaxHostAnswerBytes; past it, results are replaced by an error saying
// the request ran but its result was withheld.
func TestAnswersAreBounded(t *testing.T) {
	s := slowSpec()
	s.Grants = []string{"read"}
	s.Limits.Memory = "256MiB"
	e := newEnv(t, gate.Options{}, s)
	// One list_users answer of the demo account (25 users) is ~5.5 KB:
	// two thousand of them pass the cap.
	args, _ := json.Marshal(map[string]any{"n": 2000, "op": "list_users"})
	out := structured(t, e.call(t, "hostile_bigbatch", string(args)))
	kept, size := int(out["results"].(float64)), int(out["result_bytes"].(float64))
	errs := out["errors"].(map[string]any)
	withheld, _ := errs[string(api.LimitExceeded)].(float64)
	t.Logf("%d results kept (%d bytes), %v withheld; the answer was %v bytes", kept, size, withheld, out["answer_bytes"])
	if len(errs) != 1 || kept == 0 || kept+int(withheld) != 2000 || size > MaxHostAnswerBytes ||
		!strings.Contains(out["last_error"].(string), "it ran (any change it made stands), but its result was withheld") {
		t.Errorf("%d results kept (%d bytes), errors %v (%v): the answer must stop at %d bytes", kept, size, errs, out["last_error"], MaxHostAnswerBytes)
	}
	if n := int(out["answer_bytes"].(float64)); n > MaxHostAnswerBytes+2000*200 {
		t.Errorf("the answer is %d bytes", n)
	}
}

// stepClock is a clock that advances by step at each reading.
type stepClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

// TestProgressFloodIsBounded: 5,000 reports as fast as a plugin can make
// them reach the caller as ProgressBurst, then ProgressPerSecond, plus the
// last one; each message cut to MaxProgressMessageBytes. (20,000
// notifications in 3 s used to go through.) The clock is the test's: with
// it stopped, exactly the burst and the last report pass; with it
// advancing 10 ms a report, one in ten more.
func TestProgressFloodIsBounded(t *testing.T) {
	t.Parallel()
	for _, step := range []time.Duration{0, 10 * time.Millisecond} {
		clock := &stepClock{t: time.Unix(1_700_000_000, 0), step: step}
		e := newEnvWith(t, envConfig{opts: func(o *Options) { o.Now = clock.now }}, slowSpec())
		var got []api.ProgressReport
		_, err := e.h.Call(ctx, "hostile_progress", json.RawMessage(`{"n":5000,"bytes":600}`), func(r api.ProgressReport) { got = append(got, r) })
		if err != nil {
			t.Fatal(err)
		}
		want := ProgressBurst + 1
		if step > 0 {
			want = ProgressBurst + (5000-ProgressBurst)/10 + 1
		}
		if len(got) < want-2 || len(got) > want+2 {
			t.Errorf("step %v: %d reports delivered of 5,000, want %d", step, len(got), want)
		}
		if last := got[len(got)-1]; last.Progress != 5000 {
			t.Errorf("step %v: the last report delivered is %v, want the call's last (5000)", step, last.Progress)
		}
		for _, r := range got {
			if len(r.Message) > MaxProgressMessageBytes || !strings.HasSuffix(r.Message, "… [cut: 600 bytes in all]") {
				t.Fatalf("a 600-byte message delivered as %d bytes: %.40q…", len(r.Message), r.Message)
			}
		}
	}
	// No listener: nothing is decoded or counted, and the call works.
	e := newEnv(t, gate.Options{}, spec("hostile"))
	e.call(t, "hostile_progress", `{"n":1000}`)
}

// TestLogFloodIsBounded: a plugin logging as fast as it can (through
// Extism or its stdout) gets its lines into the host's log within its
// budget, each cut to MaxLogLineBytes, and one line saying how many were
// dropped. (22 MB of log lines used to go through.)
func TestLogFloodIsBounded(t *testing.T) {
	t.Parallel()
	for _, stdout := range []bool{false, true} {
		clock := &stepClock{t: time.Unix(1_700_000_000, 0)} // stopped
		e := newEnvWith(t, envConfig{opts: func(o *Options) { o.Now = clock.now }}, slowSpec())
		args, _ := json.Marshal(map[string]any{"n": 5000, "bytes": 10000, "stdout": stdout})
		e.call(t, "hostile_log", string(args))
		logged, dropped := 0, ""
		for _, line := range strings.Split(e.logs.String(), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line %.100q: %v", line, err)
			}
			text, _ := rec["msg"].(string)
			if stdout {
				text, _ = rec["line"].(string)
			}
			switch {
			case strings.HasPrefix(text, "LLLL"):
				logged++
				if len(text) > MaxLogLineBytes || !strings.HasSuffix(text, "… [cut: 10000 bytes in all]") {
					t.Fatalf("a 10,000-byte line logged as %d bytes: %.40q…", len(text), text)
				}
			case strings.HasPrefix(rec["msg"].(string), "plugin log lines dropped"):
				dropped = line
			}
		}
		// Stopped clock: the byte burst admits exactly this many cut lines.
		want := LogBytesBurst / MaxLogLineBytes
		if logged != want {
			t.Errorf("stdout %v: %d of 5,000 lines logged, want %d", stdout, logged, want)
		}
		if !strings.Contains(dropped, fmt.Sprintf(`"lines":%d`, 5000-want)) || !strings.Contains(dropped, `"call":"hostile_log"`) {
			t.Errorf("stdout %v: the line about dropped lines: %s", stdout, dropped)
		}
		if n := len(e.logs.String()); n > 2*LogBytesBurst {
			t.Errorf("stdout %v: %d bytes of log for a budget of %d", stdout, n, LogBytesBurst)
		}
	}
}

// TestHostInfoPassesTheAccountCheck: under a wrong expected account,
// host_info answers the gate's WrongAccount error and no account, and is
// audited; asked again in the same call it answers the same without a
// second audit line. Under the right account it answers and is audited.
func TestHostInfoPassesTheAccountCheck(t *testing.T) {
	t.Parallel()
	for _, acct := range []string{"999999999999", sandbox.AccountID} {
		e := newEnv(t, gate.Options{ExpectAccount: acct}, spec("hostile"))
		s := structured(t, e.call(t, "hostile_raw", `{"fn":"host_info","n":3}`))
		var info api.HostInfo
		if err := json.Unmarshal([]byte(s["answer"].(string)), &info); err != nil {
			t.Fatal(err)
		}
		again := s["again"].([]any)
		if len(again) != 2 || again[0] != s["answer"] || again[1] != s["answer"] {
			t.Errorf("expect %s: host_info asked again answered differently: %v", acct, again)
		}
		recs := e.auditRecords(t)
		if len(recs) != 1 || recs[0].Operation != gate.HostInfoOperation || recs[0].Plugin != "hostile" || recs[0].Tool != "hostile_raw" {
			t.Fatalf("expect %s: audit %+v", acct, recs)
		}
		if acct == sandbox.AccountID {
			if info.Error != nil || info.AccountID != "123456789012" || recs[0].Outcome != "ok" {
				t.Errorf("the right account: %+v, audit %+v", info, recs[0])
			}
			continue
		}
		if info.Error == nil || info.Error.Code != api.WrongAccount || info.AccountID != "" || info.Partition != "" || len(info.Config) != 0 {
			t.Errorf("a wrong account: %s", s["answer"])
		}
		if recs[0].Outcome != "refused" || recs[0].Code != api.WrongAccount {
			t.Errorf("a wrong account: audit %+v", recs[0])
		}
	}
}

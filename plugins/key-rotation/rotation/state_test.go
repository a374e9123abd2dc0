package rotation

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestStateRoundTrip(t *testing.T) {
	seen := []SeenPair{{Pair{"cloudformation", "eu-west-1"}, true}, {Pair{"s3", "us-east-1"}, false}}
	full := State{
		Phase: PhaseDeactivated, NewKeyID: "AKIANEWKEY0000000001",
		NewCreated: t0.Add(time.Second), FirstUse: t0.Add(time.Hour), Restarted: t0.Add(26 * time.Hour),
		CutOver: t0.Add(51 * time.Hour), Deactivated: t0.Add(52 * time.Hour), GraceDays: 7, QuietHours: 25, Seen: seen,
	}
	for _, st := range []State{
		{Phase: PhaseCreating, Began: t0, QuietHours: 24},
		{Phase: PhaseCreating, Began: t0, QuietHours: 24, Seen: seen[1:]},
		{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", NewCreated: t0, QuietHours: 30},
		{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", NewCreated: t0, FirstUse: t0.Add(time.Minute), QuietHours: 720, Seen: seen},
		{Phase: PhaseCutOver, NewKeyID: "AKIANEWKEY0000000001", NewCreated: t0, FirstUse: t0, CutOver: t0.Add(24 * time.Hour), QuietHours: 24},
		full,
		{Phase: PhaseRetiring, Deactivated: t0, GraceDays: 30},
	} {
		v, err := st.Encode()
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		got, err := ParseState(v)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if !reflect.DeepEqual(got, st) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", v, got, st)
		}
	}
	v, err := full.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "v=2/s=deactivated/n=AKIANEWKEY0000000001/c=20250601T120001Z/f=20250601T130000Z/r=20250602T140000Z/u=20250603T150000Z/d=20250603T160000Z/g=7/q=25/o=cloudformation:eu-west-1@n+s3:us-east-1"
	if v != want {
		t.Errorf("encoding:\n got %s\nwant %s", v, want)
	}
	if len(v) > MaxTagValue || !tagValueChars.MatchString(v) {
		t.Errorf("%q: %d characters, or characters IAM refuses in a tag value", v, len(v))
	}
	// A field a phase does not carry is not written (the start time once
	// the key exists; the grace period before the deactivation).
	st := State{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", NewCreated: t0, Began: t0, GraceDays: 9, QuietHours: 24}
	if v, _ := st.Encode(); strings.Contains(v, "b=") || strings.Contains(v, "g=") {
		t.Errorf("phase created wrote %q", v)
	}
}

// The longest state, with the longest key id IAM allows, still fits or is
// refused before it reaches IAM.
func TestStateLimits(t *testing.T) {
	long := strings.Repeat("A", 128)
	st := State{Phase: PhaseDeactivated, NewKeyID: long, NewCreated: t0, FirstUse: t0, CutOver: t0, Deactivated: t0, GraceDays: 365, QuietHours: 720}
	if v, err := st.Encode(); err != nil || len(v) > MaxTagValue {
		t.Errorf("a 128-character key id: %d characters, %v", len(v), err)
	}
	// Too many uses to fit are refused, not cut.
	for i := range 20 {
		st.Seen = append(st.Seen, SeenPair{Pair: Pair{fmt.Sprintf("service%02d", i), "ap-southeast-2"}})
	}
	if v, err := st.Encode(); err == nil {
		t.Errorf("a %d-character value was encoded", len(v))
	}
	st.Seen = nil
	// "/" is allowed in tag values but would break the format; so would
	// ":", "+", "@" and "=" in a service or region.
	st.NewKeyID = "AKIA/../x/0000000000"
	if v, err := st.Encode(); err == nil {
		t.Errorf("a key id with slashes was encoded: %q", v)
	}
	st.NewKeyID = "AKIANEWKEY0000000001"
	for _, p := range []Pair{{"s3/x", "us-east-1"}, {"s3", "us:east"}, {"s3+", "a"}, {"s3", "a@n"}, {"S3", "us-east-1"}, {"", "us-east-1"}, {"s3", "x=1"}} {
		st.Seen = []SeenPair{{Pair: p}}
		if v, err := st.Encode(); err == nil {
			t.Errorf("the pair %+v was encoded: %q", p, v)
		}
	}
	if _, err := (State{Phase: PhaseNone}).Encode(); err == nil {
		t.Error("phase none was encoded")
	}
	if _, err := (State{Phase: PhaseCreated, Began: t0}).Encode(); err == nil {
		t.Error("phase created without its new key was encoded")
	}
	if _, err := (State{Phase: PhaseRetiring, GraceDays: 7}).Encode(); err == nil {
		t.Error("phase retiring without its deactivation time was encoded")
	}
}

// TestParseStateRefuses: a tag this plugin did not write as it is — another
// version, a missing field (a grace period left out meant none), a field
// twice or of another phase, a spelling it never writes — is refused.
func TestParseStateRefuses(t *testing.T) {
	const n, at = "AKIANEWKEY0000000001", "20250601T120000Z"
	dea := "v=2/s=deactivated/n=" + n + "/c=" + at + "/f=" + at + "/u=20250602T120000Z/d=20250602T130000Z/q=24"
	if _, err := ParseState(dea + "/g=7"); err != nil {
		t.Fatalf("the well-formed base of the cases: %v", err)
	}
	for _, v := range []string{
		"",
		"v=1/s=created/n=" + n + "/c=" + at, // the previous format
		"v=2",                               // no phase
		"s=created/v=2/n=" + n + "/c=" + at + "/q=24",         // version not first
		"V=2/s=creating/b=" + at + "/q=24",                    // spelling
		"v=2/S=creating/b=" + at + "/q=24",                    // spelling
		"v=2/s=Creating/b=" + at + "/q=24",                    // spelling
		"v=2/s=finished",                                      // unknown phase
		"v=2/s=created/n=" + n + "/q=24",                      // no creation date
		"v=2/s=created/n=" + n + "/c=" + at,                   // no interval
		"v=2/s=creating/q=24",                                 // no start
		dea,                                                   // no grace period: it is not 0
		"v=2/s=retiring/d=" + at,                              // no grace period
		"v=2/s=retiring/g=7",                                  // no deactivation time
		"v=2/s=created/n=" + n + "/c=yesterday/q=24",          // bad time
		"v=2/s=created/n=" + n + "/c=20250601T120000+01/q=24", // bad time
		"v=2/s=creating/b=00010101T000000Z/q=24",              // the zero time
		dea + "/g=-1",                                         // bad grace
		dea + "/g=9999",                                       // bad grace
		dea + "/g=07",                                         // not as written
		dea + "/g=+7",                                         // not as written
		dea + "/g= 7",                                         // not as written
		dea + "/g=7/g=8",                                      // twice
		"v=2/s=creating/b=" + at + "/b=" + at + "/q=24",       // twice
		"v=2/s=creating/b=" + at + "/q=24/junk",               // no =
		"v=2/s=creating/b=" + at + "/q=24/x=later",            // unknown field
		"v=2/s=creating/b=" + at + "/q=24/g=7",                // a field of another phase
		"v=2/s=creating/b=" + at + "/q=24/n=" + n,             // a field of another phase
		"v=2/s=created/n=short/c=" + at + "/q=24",             // not a key id
		"v=2/s=created/n=" + n + "/c=" + at + "/q=721",        // interval out of range
		"v=2/s=created/n=" + n + "/c=" + at + "/q=24/o=",      // empty
		"v=2/s=created/n=" + n + "/c=" + at + "/q=24/o=s3",    // no region
		"v=2/s=created/n=" + n + "/c=" + at + "/q=24/o=s3:us-east-1+s3:us-east-1", // twice
		"v=2/s=created/n=" + n + "/c=" + at + "/q=24/o=s3:us-east-1@y",            // bad mark
		"v=2/s=created/n=" + n + "/c=" + at + "/q=24/o=s3:us-east-1@n@n",          // bad mark
		"v=2/s=creating/b=" + at + "/q=24/" + strings.Repeat("x", 300),            // too long
	} {
		if st, err := ParseState(v); err == nil {
			t.Errorf("ParseState(%q) = %+v, want an error", v, st)
		}
	}
	// A refusal quotes a short prefix of the value, not all of it.
	_, err := ParseState("v=2/s=creating/b=" + at + "/q=24/z=" + strings.Repeat("y", 200))
	if err == nil || strings.Count(err.Error(), "y") > 100 {
		t.Errorf("the refusal of a long value: %v", err)
	}
}

func TestResolve(t *testing.T) {
	type want struct {
		act action
		ok  bool
	}
	cases := []struct {
		step  string
		phase Phase
		want  want
	}{
		{"", PhaseNone, want{actReport, true}},
		{StepNext, PhaseNone, want{actReport, true}},
		{StepNext, PhaseCreating, want{actCreate, true}},
		{StepNext, PhaseCreated, want{actCutover, true}},
		{StepNext, PhaseCutOver, want{actDeactivate, true}},
		{StepNext, PhaseDeactivated, want{actDelete, true}},
		{StepPlan, PhaseDeactivated, want{actReport, true}},
		{StepStatus, PhaseCreated, want{actReport, true}},
		{StepMakeRoom, PhaseNone, want{actMakeRoom, true}},
		{StepMakeRoom, PhaseCreated, want{0, false}},
		{StepCreate, PhaseNone, want{actCreate, true}},
		{StepCreate, PhaseCreating, want{actCreate, true}},
		{StepCreate, PhaseCreated, want{actAlready, true}},
		{StepCreate, PhaseCutOver, want{0, false}},
		{StepCutover, PhaseNone, want{0, false}},
		{StepCutover, PhaseCreated, want{actCutover, true}},
		{StepCutover, PhaseCutOver, want{actAlready, true}},
		{StepCutover, PhaseDeactivated, want{0, false}},
		{StepDeactivate, PhaseNone, want{0, false}},
		{StepDeactivate, PhaseCreated, want{0, false}},
		{StepDeactivate, PhaseCutOver, want{actDeactivate, true}},
		{StepDeactivate, PhaseDeactivated, want{actAlready, true}},
		{StepDelete, PhaseNone, want{0, false}},
		{StepDelete, PhaseCreated, want{0, false}},
		{StepDelete, PhaseCutOver, want{0, false}},
		{StepDelete, PhaseDeactivated, want{actDelete, true}},
		{StepRollback, PhaseNone, want{0, false}},
		{StepRollback, PhaseCreating, want{actRollback, true}},
		{StepRollback, PhaseDeactivated, want{actRollback, true}},
		{StepRollback, PhaseRetiring, want{actRollback, true}},
		{StepRetire, PhaseNone, want{actRetire, true}},
		{StepRetire, PhaseRetiring, want{actAlready, true}},
		{StepRetire, PhaseCreated, want{0, false}},
		{StepRetire, PhaseDeactivated, want{0, false}},
		{StepNext, PhaseRetiring, want{actDelete, true}},
		{StepDelete, PhaseRetiring, want{actDelete, true}},
		{StepCreate, PhaseRetiring, want{0, false}},
		{StepCutover, PhaseRetiring, want{0, false}},
		{StepDeactivate, PhaseRetiring, want{0, false}},
		{StepMakeRoom, PhaseRetiring, want{0, false}},
		{"jump", PhaseNone, want{0, false}},
	}
	for _, c := range cases {
		act, err := resolve(c.step, c.phase)
		if (err == nil) != c.want.ok || (err == nil && act != c.want.act) {
			t.Errorf("resolve(%q, %q) = %v, %v; want %v, ok=%v", c.step, c.phase, act, err, c.want.act, c.want.ok)
		}
		if err != nil && c.step != "jump" && !strings.Contains(err.Error(), "next step is "+c.phase.Next()) {
			t.Errorf("resolve(%q, %q): the refusal %q does not name the next step", c.step, c.phase, err)
		}
	}
}

// TestJudge: the cut-over proof, check by check. One use of the new key
// proves nothing until it covers every service and region the old key was
// seen using and the old key stayed quiet for its usual interval.
func TestJudge(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	cf, s3 := Pair{"cloudformation", "eu-west-1"}, Pair{"s3", "us-east-1"}
	use := func(d time.Duration, p Pair) keyUse { return keyUse{At: at(d), Pair: p} }
	never := keyUse{}
	h := time.Hour

	// At create, the old key was last used 30 hours before: its interval
	// is at least that, and cloudformation in eu-west-1 is recorded.
	st := State{Phase: PhaseCreating, QuietHours: MinQuietHours}
	seeOld(&st, t0, use(-30*h, cf), true)
	if st.QuietHours != 30 || len(st.Seen) != 1 || st.Seen[0].Pair != cf {
		t.Fatalf("at create: %+v", st)
	}
	st.Phase = PhaseCreated
	// Nothing uses the new key yet; the old key is seen quiet for 40 hours
	// and used by s3 before that: both count.
	v, changed := judge(&st, t0.Add(10*h), use(-30*h, s3), never)
	if !v.NewUnused || v.Confirmed || !changed || st.QuietHours != 40 || len(st.Seen) != 2 {
		t.Fatalf("new key unused: %+v, changed %v, state %+v", v, changed, st)
	}
	// One test call with the new key (sts in eu-west-1): not a cut-over.
	v, _ = judge(&st, t0.Add(11*h), use(-30*h, s3), use(11*h, Pair{"sts", "eu-west-1"}))
	if v.Confirmed || len(v.Missing) != 2 || !st.FirstUse.Equal(t0.Add(11*h)) {
		t.Fatalf("one test call: %+v %+v", v, st)
	}
	// A day and a half later the new key is seen used by cloudformation:
	// s3 is still missing, and the interval (40 hours) is not over.
	v, _ = judge(&st, t0.Add(35*h), use(-30*h, s3), use(34*h, cf))
	if v.Confirmed || len(v.Missing) != 1 || v.Missing[0] != s3 || !v.QuietUntil.Equal(t0.Add(51*h)) {
		t.Fatalf("one of two covered: %+v", v)
	}
	// s3 too, but before the old key's interval is over: waits until then.
	v, _ = judge(&st, t0.Add(50*h), use(-30*h, s3), use(49*h, s3))
	if v.Confirmed || len(v.Missing) != 0 {
		t.Fatalf("covered, 39 hours quiet: %+v", v)
	}
	// The interval does not grow once the new key is used: waiting makes
	// the old key quiet because things switched, not because it is rare.
	if st.QuietHours != 40 {
		t.Fatalf("the interval moved after the switch: %d", st.QuietHours)
	}
	v, _ = judge(&st, t0.Add(51*h), use(-30*h, s3), use(49*h, s3))
	if !v.Confirmed {
		t.Fatalf("covered, 40 hours quiet: %+v %+v", v, st)
	}

	// A straggler: the old key used after the new key's first use. The
	// reference moves to the new key's latest use.
	st = State{Phase: PhaseCreated, QuietHours: 24, FirstUse: t0, Seen: []SeenPair{{cf, true}}}
	v, _ = judge(&st, t0.Add(20*h), use(2*h, cf), use(5*h, cf))
	if v.Confirmed || v.OldSince || !st.FirstUse.Equal(t0.Add(5*h)) || !v.QuietUntil.Equal(t0.Add(29*h)) {
		t.Fatalf("straggler, then the new key: %+v %+v", v, st)
	}
	if v, _ = judge(&st, t0.Add(29*h), use(2*h, cf), use(5*h, cf)); !v.Confirmed {
		t.Fatalf("straggler, a quiet day after the new key: %+v %+v", v, st)
	}
	// The straggler after the new key's latest use: both in use.
	st = State{Phase: PhaseCreated, QuietHours: 24, FirstUse: t0, Seen: []SeenPair{{cf, true}}}
	v, _ = judge(&st, t0.Add(30*h), use(5*h, cf), use(2*h, cf))
	if v.Confirmed || !v.OldSince || !st.FirstUse.Equal(t0.Add(2*h)) {
		t.Fatalf("straggler: %+v %+v", v, st)
	}
	// The same second is not before.
	st = State{Phase: PhaseCreated, QuietHours: 24}
	v, _ = judge(&st, t0.Add(30*h), use(h, cf), use(h, cf))
	if v.Confirmed || !v.OldSince {
		t.Fatalf("same second: %+v", v)
	}
	// An old key never used: only the quiet day after the first use.
	st = State{Phase: PhaseCreated, QuietHours: 0}
	if v, _ = judge(&st, t0.Add(23*h), never, use(0, cf)); v.Confirmed {
		t.Fatalf("a never-used old key, 23 hours: %+v", v)
	}
	if v, _ = judge(&st, t0.Add(24*h), never, use(0, cf)); !v.Confirmed {
		t.Fatalf("a never-used old key, 24 hours: %+v", v)
	}
	// A restart after a rollback: the quiet period runs from it.
	st = State{Phase: PhaseCreated, QuietHours: 24, Restarted: t0.Add(100 * h)}
	if v, _ = judge(&st, t0.Add(110*h), never, use(0, cf)); v.Confirmed || !v.QuietUntil.Equal(t0.Add(124*h)) {
		t.Fatalf("after a restart: %+v", v)
	}
	// A pair the tag cannot hold blocks the confirmation, with a warning.
	st = State{Phase: PhaseCreated, QuietHours: 24}
	if v, _ = judge(&st, t0.Add(100*h), use(-h, Pair{"S3/x", "us-east-1"}), use(0, cf)); v.Confirmed || v.Unrecordable == "" {
		t.Fatalf("an unrecordable pair: %+v", v)
	}
	// The interval is capped at MaxQuietHours.
	st = State{Phase: PhaseCreating}
	seeOld(&st, t0, use(-400*24*h, cf), true)
	if st.QuietHours != MaxQuietHours {
		t.Fatalf("a key quiet for 400 days: interval %d", st.QuietHours)
	}
}

// TestFitState: when the uses seen do not fit the tag, those the new key
// covered go first; uncovered ones are never dropped.
func TestFitState(t *testing.T) {
	st := State{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", NewCreated: t0, QuietHours: 24}
	for i := range 8 {
		st.Seen = append(st.Seen, SeenPair{Pair: Pair{fmt.Sprintf("marketplacecommerceanalytics%d", i), "ap-southeast-2"}, ByNew: i%2 == 0})
	}
	dropped, err := fitState(&st)
	if err != nil || len(dropped) != 4 || len(st.Seen) != 4 || len(st.Missing()) != 4 {
		t.Fatalf("dropped %v, kept %+v, %v", dropped, st.Seen, err)
	}
	for i := range 8 {
		st.Seen = append(st.Seen, SeenPair{Pair: Pair{fmt.Sprintf("elasticloadbalancing%d", i), "ap-northeast-3"}})
	}
	if _, err := fitState(&st); err == nil {
		t.Fatalf("uncovered uses were dropped to fit: %+v", st.Seen)
	}
}

func TestBuildPlan(t *testing.T) {
	in := planInput{user: "alice", oldKey: "AKIAOLDKEY0000000001", graceDays: 7, graceSource: "the default"}
	status := func(steps []PlanStep) string {
		var s []string
		for _, p := range steps {
			s = append(s, p.Step+"="+p.Status)
		}
		return strings.Join(s, " ")
	}
	if got := status(buildPlan(in)); got != "create=current cutover=pending deactivate=pending delete=pending" {
		t.Errorf("not started: %s", got)
	}
	other := in
	other.other = &api.AccessKey{AccessKeyID: "AKIAOTHERKEY00000001", Status: "Inactive"}
	if got := status(buildPlan(other)); got != "make_room=current create=pending cutover=pending deactivate=pending delete=pending" {
		t.Errorf("two keys: %s", got)
	}
	dea := in
	dea.state = &State{Phase: PhaseDeactivated, NewKeyID: "AKIANEWKEY0000000001", Deactivated: t0, GraceDays: 10}
	// A grace period below the minimum, as a hand-edited tag may say, is
	// planned at the minimum.
	low := in
	low.state = &State{Phase: PhaseDeactivated, NewKeyID: "AKIANEWKEY0000000001", Deactivated: t0, GraceDays: 0}
	if last := buildPlan(low)[3]; last.NotBefore == nil || !last.NotBefore.Equal(t0.Add(MinGraceDays*24*time.Hour)) {
		t.Errorf("g=0 plans the delete for %v", last.NotBefore)
	}
	steps := buildPlan(dea)
	if got := status(steps); got != "create=done cutover=done deactivate=done delete=current" {
		t.Errorf("deactivated: %s", got)
	}
	last := steps[len(steps)-1]
	if last.NotBefore == nil || !last.NotBefore.Equal(t0.Add(240*time.Hour)) {
		t.Errorf("the delete step is not held until the grace period ends: %v", last.NotBefore)
	}
	for _, s := range steps {
		if len(s.Calls) == 0 || len(s.Preconditions) == 0 || s.Rollback == "" {
			t.Errorf("step %s lacks calls, preconditions or rollback: %+v", s.Step, s)
		}
		for _, c := range s.Calls {
			if _, ok := api.Lookup(c.Op); !ok {
				t.Errorf("step %s calls %q, which is not a catalogue operation", s.Step, c.Op)
			}
		}
		if strings.Contains(compactJSON(s), "<new key id>") {
			t.Errorf("step %s still has a placeholder though the new key is known", s.Step)
		}
	}
	done := in
	done.state = &State{Phase: PhaseDone}
	if got := status(buildPlan(done)); got != "create=done cutover=done deactivate=done delete=done" {
		t.Errorf("done: %s", got)
	}
	ret := in
	ret.retire = true
	if got := status(buildPlan(ret)); got != "retire=current delete=pending" {
		t.Errorf("retirement: %s", got)
	}
	ret.state = &State{Phase: PhaseRetiring, Deactivated: t0, GraceDays: 9}
	steps = buildPlan(ret)
	if got := status(steps); got != "retire=done delete=current" || steps[1].NotBefore == nil || !steps[1].NotBefore.Equal(t0.Add(9*24*time.Hour)) {
		t.Errorf("retiring: %s, not before %v", got, steps[1].NotBefore)
	}
}

// TestShort: what a message quotes of a value stays short whatever the
// value holds: printable text, control characters (which %q writes as
// four characters each) or invalid bytes.
func TestShort(t *testing.T) {
	for _, v := range []string{strings.Repeat("a", 300), strings.Repeat("\x01", 300), strings.Repeat("\xf7", 300), "v=2/" + strings.Repeat("\xf7", 69), strings.Repeat("é\x00", 100), "ok"} {
		if q := fmt.Sprintf("%q", short(v)); len(q) > 90 {
			t.Errorf("short(%.20q) quotes as %d characters: %s", v, len(q), q)
		}
	}
	if short("ok") != "ok" || short(strings.Repeat("a", 80)) != strings.Repeat("a", 80) {
		t.Error("a short value was changed")
	}
}

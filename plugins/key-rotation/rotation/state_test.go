package rotation

import (
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func TestStateRoundTrip(t *testing.T) {
	full := State{
		Phase: PhaseDeactivated, NewKeyID: "AKIANEWKEY0000000001",
		Began: t0, NewCreated: t0.Add(time.Second), FirstUse: t0.Add(time.Hour),
		CutOver: t0.Add(2 * time.Hour), Deactivated: t0.Add(3 * time.Hour), GraceDays: 7,
	}
	for _, st := range []State{
		{Phase: PhaseCreating, Began: t0},
		{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", Began: t0, NewCreated: t0},
		{Phase: PhaseCreated, NewKeyID: "AKIANEWKEY0000000001", Began: t0, NewCreated: t0, FirstUse: t0.Add(time.Minute)},
		{Phase: PhaseCutOver, NewKeyID: "AKIANEWKEY0000000001", Began: t0, NewCreated: t0, FirstUse: t0, CutOver: t0},
		full,
		{Phase: PhaseDeactivated, NewKeyID: "AKIANEWKEY0000000001", Deactivated: t0, GraceDays: 0},
	} {
		v, err := st.Encode()
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		got, err := ParseState(v)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if got != st {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", v, got, st)
		}
	}
	v, err := full.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := "v=1/s=deactivated/n=AKIANEWKEY0000000001/b=20250601T120000Z/c=20250601T120001Z/f=20250601T130000Z/u=20250601T140000Z/d=20250601T150000Z/g=7"
	if v != want {
		t.Errorf("encoding:\n got %s\nwant %s", v, want)
	}
	if len(v) > 160 || !tagValueChars.MatchString(v) {
		t.Errorf("%q: %d characters, or characters IAM refuses in a tag value", v, len(v))
	}
}

// The longest state, with the longest key id IAM allows, still fits or is
// refused before it reaches IAM.
func TestStateLimits(t *testing.T) {
	long := strings.Repeat("A", 128)
	st := State{Phase: PhaseDeactivated, NewKeyID: long, Began: t0, NewCreated: t0, FirstUse: t0, CutOver: t0, Deactivated: t0, GraceDays: 365}
	if v, err := st.Encode(); err != nil || len(v) > MaxTagValue {
		t.Errorf("a 128-character key id: %d characters, %v", len(v), err)
	}
	// "/" is allowed in tag values but would break the format.
	st.NewKeyID = "AKIA/../x/0000000000"
	if v, err := st.Encode(); err == nil {
		t.Errorf("a key id with slashes was encoded: %q", v)
	}
	if _, err := (State{Phase: PhaseNone}).Encode(); err == nil {
		t.Error("phase none was encoded")
	}
	if _, err := (State{Phase: PhaseCreated, Began: t0}).Encode(); err == nil {
		t.Error("phase created without its new key was encoded")
	}
}

func TestParseStateRefuses(t *testing.T) {
	for _, v := range []string{
		"",
		"v=2/s=created/n=AKIANEWKEY0000000001/c=20250601T120000Z",
		"s=created/n=AKIANEWKEY0000000001",
		"v=1/s=finished",
		"v=1/s=created/n=AKIANEWKEY0000000001",                               // no creation date
		"v=1/s=creating",                                                     // no start
		"v=1/s=created/n=AKIANEWKEY0000000001/c=yesterday",                   // bad time
		"v=1/s=deactivated/n=AKIANEWKEY0000000001/d=20250601T120000Z/g=-1",   // bad grace
		"v=1/s=deactivated/n=AKIANEWKEY0000000001/d=20250601T120000Z/g=9999", // bad grace
		"v=1/s=creating/b=20250601T120000Z/b=20250601T120000Z",               // twice
		"v=1/s=creating/b=20250601T120000Z/junk",                             // no =
		"v=1/s=created/n=short/c=20250601T120000Z",                           // not a key id
	} {
		if st, err := ParseState(v); err == nil {
			t.Errorf("ParseState(%q) = %+v, want an error", v, st)
		}
	}
	// A later version's extra field is ignored.
	if _, err := ParseState("v=1/s=creating/b=20250601T120000Z/x=later"); err != nil {
		t.Errorf("an unknown field: %v", err)
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

func TestJudgeCutOver(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	cases := []struct {
		name             string
		firstUse         time.Time
		oldLast, newLast *time.Time
		confirmed        bool
		unused           bool
		ref              time.Time
	}{
		{"new key unused", time.Time{}, at(-time.Hour), nil, false, true, time.Time{}},
		{"clean switch", time.Time{}, at(-time.Hour), at(time.Hour), true, false, t0.Add(time.Hour)},
		{"old never used", time.Time{}, nil, at(time.Hour), true, false, t0.Add(time.Hour)},
		{"both in use", time.Time{}, at(2 * time.Hour), at(time.Hour), false, false, t0.Add(time.Hour)},
		{"same second is not before", time.Time{}, at(time.Hour), at(time.Hour), false, false, t0.Add(time.Hour)},
		// The first use seen stays the reference while the old key is quiet.
		{"recorded first use", t0, at(-time.Minute), at(5 * time.Hour), true, false, t0},
		// The old key used after the recorded first use: the reference moves
		// to the new key's latest use.
		{"straggler", t0, at(time.Hour), at(5 * time.Hour), false, false, t0.Add(5 * time.Hour)},
	}
	for _, c := range cases {
		v := judgeCutOver(c.firstUse, c.oldLast, c.newLast)
		if v.confirmed != c.confirmed || v.newUnused != c.unused || !v.firstUse.Equal(c.ref) {
			t.Errorf("%s: got %+v, want confirmed=%v unused=%v ref=%v", c.name, v, c.confirmed, c.unused, c.ref)
		}
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
}

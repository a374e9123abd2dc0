package rotation

import (
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// TestCutOverProof plants the cut-over's cases on the sandbox, each with
// its near miss: the new key must be seen used by every service and region
// the old key was seen using, and the old key must stay unused after the
// new key's first use for its usual interval (at least 24 hours).
func TestCutOverProof(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	s3 := Pair{"s3", "us-east-1"}
	start := func(user string, oldUses ...Pair) (old, n string) {
		t.Helper()
		old = e.createUser(user, 1)[0]
		for _, p := range oldUses {
			e.useFor(old, p.Service, p.Region)
			e.clock.Advance(time.Minute)
		}
		return old, e.rotate(h, user, old, StepCreate).NewAccessKeyID
	}
	check := func(user, old string, want Phase, missing ...Pair) *RotateResult {
		t.Helper()
		res := e.rotate(h, user, old, StepCutover)
		if res.Phase != string(want) {
			t.Fatalf("%s: phase %s, want %s: %s", user, res.Phase, want, res.Happened)
		}
		var got []Pair
		for _, m := range res.CutOver.Missing {
			got = append(got, Pair{m.Service, m.Region})
		}
		if pairList(got) != pairList(missing) {
			t.Fatalf("%s: missing %v, want %v", user, got, missing)
		}
		for _, m := range missing {
			if !strings.Contains(res.Happened, m.String()) || !strings.Contains(res.Markdown(), m.String()+" (not yet seen with the new key)") {
				t.Errorf("%s: the answer does not say that %s is missing: %s", user, m, res.Happened)
			}
		}
		if want == PhaseCreated && (res.Next == nil || res.Next.NotBefore == nil) {
			t.Errorf("%s: a waiting answer without when to check again: %+v", user, res.Next)
		}
		return res
	}

	// The right service in another region: not the same use.
	old, n := start("reg", s3)
	e.useFor(n, "s3", "eu-west-1")
	e.clock.Advance(48 * time.Hour)
	check("reg", old, PhaseCreated, s3)
	e.useFor(n, "s3", "us-east-1")
	e.clock.Advance(time.Minute)
	check("reg", old, PhaseCutOver)

	// Another service in the right region: not the same use either.
	old, n = start("svc", s3)
	e.useFor(n, "dynamodb", "us-east-1")
	e.clock.Advance(48 * time.Hour)
	check("svc", old, PhaseCreated, s3)

	// A job that runs every three days: at the create the old key had been
	// quiet for 72 hours, so 48 quiet hours after the switch prove nothing;
	// 72 do.
	old = e.createUser("slow", 1)[0]
	e.useFor(old, "s3", "us-east-1")
	e.clock.Advance(72 * time.Hour)
	n = e.rotate(h, "slow", old, StepCreate).NewAccessKeyID
	if st, _ := e.state("slow", old); st.QuietHours != 72 {
		t.Fatalf("the interval of a key quiet for 72 hours: %d", st.QuietHours)
	}
	e.useFor(n, "s3", "us-east-1")
	switched := e.clock.Now()
	e.clock.Advance(48 * time.Hour)
	res := check("slow", old, PhaseCreated)
	if want := switched.Add(72 * time.Hour); !res.Next.NotBefore.Equal(want) || !res.CutOver.QuietUntil.Equal(want) {
		t.Errorf("slow: check again at %v (proof: %v), want %v", res.Next.NotBefore, res.CutOver.QuietUntil, want)
	}
	e.clock.Advance(24 * time.Hour)
	check("slow", old, PhaseCutOver)

	// A use of the old key seen during the rotation, by another service,
	// is required of the new key too.
	old, n = start("two", s3)
	e.clock.Advance(time.Hour)
	e.useFor(old, "sqs", "us-east-1")
	e.clock.Advance(time.Minute)
	check("two", old, PhaseCreated, s3, Pair{"sqs", "us-east-1"})
	e.useFor(n, "s3", "us-east-1")
	e.clock.Advance(25 * time.Hour)
	check("two", old, PhaseCreated, Pair{"sqs", "us-east-1"})
	e.useFor(n, "sqs", "us-east-1")
	e.clock.Advance(time.Minute)
	check("two", old, PhaseCutOver)

	// The minimum: switched at once, quiet for a day less a minute is not
	// enough; a day is.
	old, n = start("quick", s3)
	e.useFor(n, "s3", "us-east-1")
	e.clock.Advance(MinQuietHours*time.Hour - time.Minute)
	check("quick", old, PhaseCreated)
	e.clock.Advance(time.Minute)
	check("quick", old, PhaseCutOver)

	// Deactivating with a cut-over recorded re-checks the old key's quiet
	// (IAM's data, not the tag): used since, it stays Active.
	e.clock.Advance(time.Minute)
	e.useFor(old, "s3", "us-east-1")
	if res = e.rotate(h, "quick", old, StepDeactivate); res.Outcome != OutcomeStopped || e.key("quick", old).Status != "Active" {
		t.Errorf("deactivate after the old key was used: %s %s", res.Outcome, res.Happened)
	}
	if m := mutations(h); m["update_access_key"] != 0 || m["delete_access_key"] != 0 {
		t.Errorf("the cut-over checks changed keys: %v", m)
	}
}

// TestStateTagEdits: the rotation state is a tag anyone allowed
// iam:TagUser can rewrite. Each edit below is what an attacker (or a
// careless person) would try to shorten the wait for the old key's delete;
// each is refused or has no effect, and the old key survives. Before,
// g=0 in a hand-edited tag deleted the old key at once.
func TestStateTagEdits(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	setTag := func(user, key, v string) {
		t.Helper()
		if err := e.admin.Call("tag_user", api.TagUserInput{UserName: user, Tags: map[string]string{TagKey(key): v}}, &api.Result{}); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(user, key string, f func(*State)) {
		t.Helper()
		st, ok := e.state(user, key)
		if !ok {
			t.Fatalf("%s has no rotation tag", user)
		}
		f(&st)
		v, err := st.Encode()
		if err != nil {
			t.Fatalf("the edit does not encode: %v", err)
		}
		setTag(user, key, v)
	}
	deactivated := func(user string) (old, n string) {
		t.Helper()
		old = e.createUser(user, 1)[0]
		e.useFor(old, "s3", "us-east-1")
		e.clock.Advance(time.Minute)
		n = e.rotate(h, user, old, StepCreate).NewAccessKeyID
		e.toCutOverAt(h, user, old, n, MinQuietHours, Pair{"s3", "us-east-1"})
		if res := e.rotate(h, user, old, StepDeactivate); res.Phase != string(PhaseDeactivated) {
			t.Fatalf("deactivate: %s", res.Happened)
		}
		return old, n
	}
	alive := func(user, key string) {
		t.Helper()
		if e.key(user, key) == nil {
			t.Fatalf("%s's old key %s was deleted", user, key)
		}
	}
	refused := func(user, key, want string) {
		t.Helper()
		ae := e.rotateErr(h, RotateInput{UserName: user, AccessKeyID: key})
		if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, want) || !strings.Contains(ae.Message, "untag_user") {
			t.Errorf("%s: %v, want a refusal with %q and the untag_user call", user, ae, want)
		}
		alive(user, key)
	}

	// g=0: the minimum grace period applies, with a warning.
	old, _ := deactivated("g0")
	edit("g0", old, func(st *State) { st.GraceDays = 0 })
	res := e.rotate(h, "g0", old, "")
	if res.Outcome != OutcomeWaiting || !strings.Contains(strings.Join(res.Warnings, " "), "below the minimum") {
		t.Fatalf("g=0: %s %s, warnings %v", res.Outcome, res.Happened, res.Warnings)
	}
	alive("g0", old)
	if ae := e.rotateErr(h, RotateInput{UserName: "g0", AccessKeyID: old, Step: StepDelete}); !strings.Contains(ae.Message, "grace period of 7 days") {
		t.Errorf("delete with g=0: %v", ae)
	}
	e.clock.Advance(MinGraceDays*24*time.Hour - time.Hour)
	e.rotate(h, "g0", old, "")
	alive("g0", old)
	// A grace period missing from the tag is not zero: the tag is refused.
	tags := e.tags("g0")
	setTag("g0", old, strings.Replace(tags[TagKey(old)], "/g=0", "", 1))
	refused("g0", old, "needs the grace period (g)")

	// The deactivation time moved into the past, before the new key could
	// have taken over: refused.
	old, n := deactivated("dpast")
	nk := e.key("dpast", n)
	edit("dpast", old, func(st *State) { st.Deactivated = nk.CreateDate.Add(time.Hour) })
	refused("dpast", old, "disagrees with IAM")
	// Moved back as far as the new key's creation allows, f, u and d
	// together, consistently: the old key's last use (IAM's) is after the
	// forged deactivation, so the delete stops.
	old = e.createUser("dback", 1)[0]
	n = e.rotate(h, "dback", old, StepCreate).NewAccessKeyID
	c := e.key("dback", n).CreateDate
	e.clock.Advance(time.Minute)
	e.useFor(n, "sts", "eu-west-1")
	e.rotate(h, "dback", old, StepCutover)
	e.clock.Advance(30 * time.Hour)
	e.useFor(old, "sts", "eu-west-1") // a straggler, a day later
	e.clock.Advance(time.Hour)
	e.toCutOverAt(h, "dback", old, n, MinQuietHours, Pair{"sts", "eu-west-1"})
	e.rotate(h, "dback", old, StepDeactivate)
	edit("dback", old, func(st *State) {
		st.FirstUse = c.Add(time.Minute)
		st.CutOver = st.FirstUse.Add(MinQuietHours * time.Hour)
		st.Deactivated = st.CutOver
	})
	e.clock.Advance(MinGraceDays * 24 * time.Hour)
	if res = e.rotate(h, "dback", old, ""); res.Outcome != OutcomeStopped || !strings.Contains(res.Happened, "NOT deleted") {
		t.Errorf("a deactivation moved before the old key's last use: %s %s", res.Outcome, res.Happened)
	}
	alive("dback", old)
	// A deactivation time in the future: refused.
	old, _ = deactivated("dfuture")
	edit("dfuture", old, func(st *State) { st.Deactivated = e.clock.Now().Add(48 * time.Hour) })
	refused("dfuture", old, "in the future")

	// A cut-over forged on a rotation that has not proven it (phase
	// created → cutover, with u right after f): refused, nothing deactivated.
	old = e.createUser("forge", 1)[0]
	e.useFor(old, "s3", "us-east-1")
	n = e.rotate(h, "forge", old, StepCreate).NewAccessKeyID
	e.clock.Advance(time.Minute)
	e.useFor(n, "sts", "eu-west-1")
	e.clock.Advance(time.Minute)
	e.rotate(h, "forge", old, StepCutover)
	edit("forge", old, func(st *State) { st.Phase, st.CutOver = PhaseCutOver, e.clock.Now().Truncate(time.Minute) })
	refused("forge", old, "cannot have been proven")
	// With a day waited, but the old key's service never seen with the new
	// key: still refused.
	e.clock.Advance(MinQuietHours * time.Hour)
	edit("forge", old, func(st *State) { st.CutOver = e.clock.Now().Truncate(time.Minute) })
	refused("forge", old, "never seen used by s3 in us-east-1")
	// The coverage forged too: the deactivate step still reads the old
	// key's last use from IAM — used since the new key's first use, it
	// stays Active.
	e.useFor(old, "s3", "us-east-1")
	edit("forge", old, func(st *State) { st.Seen[0].ByNew = true })
	if res = e.rotate(h, "forge", old, StepDeactivate); res.Outcome != OutcomeStopped || e.key("forge", old).Status != "Active" {
		t.Errorf("a forged cut-over with the old key in use: %s %s", res.Outcome, res.Happened)
	}

	// The new key's creation date, or another key, named in the tag.
	old, n = deactivated("cdate")
	edit("cdate", old, func(st *State) { st.NewCreated = st.NewCreated.Add(-time.Hour) })
	refused("cdate", old, "but IAM says")
	old, _ = deactivated("nkey")
	edit("nkey", old, func(st *State) { st.NewKeyID = old })
	refused("nkey", old, "names the old key itself")
	// The new key's first use before it existed, or never seen by IAM.
	old, n = deactivated("first")
	nk = e.key("first", n)
	edit("first", old, func(st *State) { st.FirstUse = nk.CreateDate.Add(-time.Hour) })
	refused("first", old, "before "+n+" was created")

	// A retirement whose deactivation is dated before the key existed.
	old = e.createUser("ret", 1)[0]
	e.clock.Advance(StaleDays * 24 * time.Hour)
	e.rotate(h, "ret", old, StepRetire)
	edit("ret", old, func(st *State) { st.Deactivated = e.key("ret", old).CreateDate.Add(-48 * time.Hour) })
	refused("ret", old, "before "+old+" was created")
	// And a retirement with g=0, a minute after it began: it waits.
	edit("ret", old, func(st *State) { st.Deactivated, st.GraceDays = e.clock.Now().Truncate(time.Minute), 0 })
	e.clock.Advance(time.Minute)
	if res = e.rotate(h, "ret", old, ""); res.Outcome != OutcomeWaiting {
		t.Errorf("a retirement with g=0: %s %s", res.Outcome, res.Happened)
	}
	alive("ret", old)

	// Nonsense, the previous format, a phase that does not exist: refused
	// with the untag call.
	for i, v := range []string{"v=1/s=deactivated/n=AKIANEWKEY0000000001/d=20250601T120000Z/g=0", "v=2/s=done", "g=0", strings.Repeat("a", 256)} {
		user := "junk" + string(rune('a'+i))
		k := e.createUser(user, 1)[0]
		setTag(user, k, v)
		if ae := e.rotateErr(h, RotateInput{UserName: user, AccessKeyID: k}); !strings.Contains(ae.Message, "untag_user") {
			t.Errorf("the tag %.30q: %v", v, ae)
		}
		alive(user, k)
	}
	if m := mutations(h); m["delete_access_key"] != 0 {
		t.Errorf("an edited tag led to %d deletes", m["delete_access_key"])
	}
}

// TestRetire: legacy-etl's key in the demo account is unused for 200
// days: it is retired (deactivated, then deleted after the grace period),
// not rotated, and no new key is ever made. A key used 44 days ago is
// rotated (the near miss); one never used and 45 days old is retired.
func TestRetire(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host()
	const u = "legacy-etl"
	old := e.onlyKey(u)
	res := e.rotate(h, u, old, "")
	if res.Outcome != OutcomePlanned || res.CurrentStep != StepRetire || res.Next.Args["step"] != StepRetire || !strings.Contains(res.Happened, "unused for 200 days") {
		t.Fatalf("plan of a key unused for 200 days: %s %s, next %+v", res.Outcome, res.Happened, res.Next)
	}
	if len(res.Plan) != 2 || res.Plan[0].Step != StepRetire || res.Plan[1].Step != StepDelete {
		t.Errorf("the retirement plan: %+v", res.Plan)
	}
	ae := e.rotateErr(h, RotateInput{UserName: u, AccessKeyID: old, Step: StepCreate})
	if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, `"step":"retire"`) || len(e.keys(u)) != 1 {
		t.Fatalf("create for a stale key: %v", ae)
	}
	res = e.rotate(h, u, old, StepRetire)
	if res.Outcome != OutcomeAdvanced || res.Phase != string(PhaseRetiring) || e.key(u, old).Status != "Inactive" || res.Next.NotBefore == nil {
		t.Fatalf("retire: %s %s", res.Outcome, res.Happened)
	}
	st, _ := e.state(u, old)
	if st.Phase != PhaseRetiring || st.GraceDays != DefaultGraceDays || st.NewKeyID != "" {
		t.Errorf("the retirement's state: %+v", st)
	}
	// A retry is answered; create and cutover are refused; the delete waits.
	if res = e.rotate(h, u, old, StepRetire); res.Outcome != OutcomeStatus || len(res.Changes) != 0 {
		t.Errorf("retire again: %s", res.Outcome)
	}
	for _, step := range []string{StepCreate, StepCutover, StepDeactivate, StepDelete} {
		if ae = e.rotateErr(h, RotateInput{UserName: u, AccessKeyID: old, Step: step}); e.key(u, old) == nil {
			t.Fatalf("step %s during the retirement's grace period deleted the key: %v", step, ae)
		}
	}
	e.clock.Advance(MinGraceDays*24*time.Hour - time.Minute)
	if res = e.rotate(h, u, old, ""); res.Outcome != OutcomeWaiting {
		t.Errorf("a minute before the grace period ends: %s", res.Outcome)
	}
	e.clock.Advance(time.Minute)
	res = e.rotate(h, u, old, "")
	if res.Outcome != OutcomeCompleted || len(e.keys(u)) != 0 || !strings.Contains(res.Happened, "retirement is complete") {
		t.Fatalf("delete after the grace period: %s %s, keys %v", res.Outcome, res.Happened, e.keys(u))
	}
	if _, ok := e.state(u, old); ok {
		t.Error("the state tag outlived the retirement")
	}
	if m := mutations(h); m["create_access_key"] != 0 {
		t.Errorf("a retirement created %d keys", m["create_access_key"])
	}

	// Rollback of a retirement: the key is back on and the tag gone.
	idle := e.createUser("idle", 1)[0]
	e.clock.Advance(StaleDays * 24 * time.Hour)
	e.rotate(h, "idle", idle, StepRetire)
	if res = e.rotate(h, "idle", idle, StepRollback); res.Outcome != OutcomeRolledBack || e.key("idle", idle).Status != "Active" {
		t.Errorf("rollback of a retirement: %s %s", res.Outcome, res.Happened)
	}
	if _, ok := e.state("idle", idle); ok {
		t.Error("the tag outlived the retirement's rollback")
	}

	// The near misses: used 44 days ago, rotated; used 45 days ago, retired.
	for _, c := range []struct {
		days   int
		retire bool
	}{{44, false}, {45, true}} {
		user := "used" + string(rune('0'+c.days%10))
		k := e.createUser(user, 1)[0]
		e.useFor(k, "s3", "us-east-1")
		e.clock.Advance(time.Duration(c.days) * 24 * time.Hour)
		res = e.rotate(h, user, k, StepPlan)
		if (res.CurrentStep == StepRetire) != c.retire {
			t.Errorf("a key used %d days ago: current step %s", c.days, res.CurrentStep)
		}
		if !c.retire {
			// Retiring a key in use, its user's only one, is refused.
			if ae = e.rotateErr(h, RotateInput{UserName: user, AccessKeyID: k, Step: StepRetire}); !strings.Contains(ae.Message, "rotate it instead") || e.key(user, k).Status != "Active" {
				t.Errorf("retire a key used %d days ago: %v", c.days, ae)
			}
		}
		e.clock.Advance(-time.Duration(c.days) * 24 * time.Hour)
	}

	// One of two active keys, a person's choice: retired on request.
	ids := e.createUser("pair", 2)
	for _, k := range ids {
		e.useFor(k, "s3", "us-east-1")
	}
	res = e.rotate(h, "pair", ids[0], StepPlan)
	if len(res.Choices) != 2 || res.Choices[0].Start == nil || res.Choices[0].Start.Args["step"] != StepRetire {
		t.Fatalf("the choices of two active keys: %+v", res.Choices)
	}
	if res = e.rotate(h, "pair", ids[1], StepRetire); res.Phase != string(PhaseRetiring) || e.key("pair", ids[1]).Status != "Inactive" {
		t.Errorf("retire one of two active keys: %s", res.Happened)
	}
}

// TestSecretNote: until the new key has been used, every answer says where
// its secret is; once it has been, every answer says to delete that file.
func TestSecretNote(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	old := e.createUser("sam", 1)[0]
	res := e.rotate(h, "sam", old, StepCreate)
	n, file := res.NewAccessKeyID, res.SecretFile
	if file == "" || !strings.Contains(res.SecretNote, file) {
		t.Fatalf("create: %q", res.SecretNote)
	}
	for _, step := range []string{StepStatus, "", StepCutover} {
		res = e.rotate(h, "sam", old, step)
		if !strings.Contains(res.SecretNote, "only in "+n+".json") || !strings.Contains(res.Markdown(), res.SecretNote) {
			t.Errorf("step %q before the new key is used: %q", step, res.SecretNote)
		}
	}
	e.toCutOverAt(h, "sam", old, n, MinQuietHours)
	for _, step := range []string{StepStatus, StepDeactivate} {
		res = e.rotate(h, "sam", old, step)
		if !strings.Contains(res.SecretNote, "delete its secret file") || !strings.Contains(res.SecretNote, n+".json") {
			t.Errorf("step %q after the new key is used: %q", step, res.SecretNote)
		}
	}
}

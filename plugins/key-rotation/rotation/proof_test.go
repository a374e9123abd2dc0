package rotation

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
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
//
// The seal refuses every one of these edits first (TestStateTagSeal).
// Here each edit carries the server's own seal, as if its key had leaked,
// so that the checks against IAM behind the seal are tested too.
func TestStateTagEdits(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	setTag := e.setSealedTag
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

// TestSecretNote: until the new key has been used, every answer says
// where its secret is, and the file stays; the first cut-over check that
// sees the new key used has the server remove the file, and says so; later
// answers say it is gone, or to delete it if it is still there.
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
		if res.SecretFileRemoved != "" || !fileExists(t, file) {
			t.Fatalf("step %q removed the secret file before the new key was used", step)
		}
	}
	// The new key used: the status step (which changes nothing) leaves
	// the file; the cut-over check removes it.
	e.clock.Advance(time.Minute)
	e.use(n, "")
	if res = e.rotate(h, "sam", old, StepStatus); !fileExists(t, file) || !strings.Contains(res.SecretNote, "delete it now: "+n+".json") {
		t.Fatalf("status after the new key's use: %q, the file exists %v", res.SecretNote, fileExists(t, file))
	}
	res = e.rotate(h, "sam", old, StepCutover)
	if res.SecretFileRemoved != file || fileExists(t, file) || !strings.Contains(res.SecretNote, file+" was removed") || !strings.Contains(res.Markdown(), "was removed from the server") {
		t.Fatalf("the first cut-over check after the new key's use: removed %q, note %q", res.SecretFileRemoved, res.SecretNote)
	}
	if got := h.Ops()["get_access_key_last_used"]; got == 0 {
		t.Error("the removal's check of the new key's use was not made through the host")
	}
	res = e.rotate(h, "sam", old, StepCutover)
	if res.SecretFileRemoved != "" || !strings.Contains(res.SecretNote, "no secret file of "+n) {
		t.Errorf("a second check: removed %q, note %q", res.SecretFileRemoved, res.SecretNote)
	}
	e.clock.Advance(MinQuietHours * time.Hour)
	e.rotate(h, "sam", old, StepCutover)
	for _, step := range []string{StepStatus, StepDeactivate} {
		res = e.rotate(h, "sam", old, step)
		if !strings.Contains(res.SecretNote, "if it is still there, delete it now") || !strings.Contains(res.SecretNote, n+".json") {
			t.Errorf("step %q after the new key is used: %q", step, res.SecretNote)
		}
	}
}

// TestSecretFileKept: the file stays, and the answer says why and where it
// is, when the server will not remove it: the plugin not granted
// create_access_key (a host that lost the grant after the create).
func TestSecretFileKept(t *testing.T) {
	e := newEnv(t, "")
	old := e.createUser("kim", 1)[0]
	res := e.rotate(e.host(), "kim", old, StepCreate)
	n, file := res.NewAccessKeyID, res.SecretFile
	e.clock.Advance(time.Minute)
	e.use(n, "")
	var grants []string
	for _, g := range allGrants {
		if g != "create_access_key" {
			grants = append(grants, g)
		}
	}
	h := e.host(func(o *hostiamtest.Options) { o.Grants = grants })
	res = e.rotate(h, "kim", old, StepCutover)
	if res.SecretFileRemoved != "" || !fileExists(t, file) {
		t.Fatalf("removed without create_access_key: %q", res.SecretFileRemoved)
	}
	if !strings.Contains(res.SecretNote, "did not remove") || !strings.Contains(res.SecretNote, "NotGranted") || !strings.Contains(res.SecretNote, n+".json") ||
		!strings.Contains(strings.Join(res.Warnings, " "), "create_access_key") {
		t.Errorf("the answer when the file stays: %q, warnings %q", res.SecretNote, res.Warnings)
	}
	if res.Outcome != OutcomeWaiting {
		t.Errorf("a refused removal changed the check's outcome: %s %s", res.Outcome, res.Happened)
	}
}

// TestStateTagSeal: every value the plugin writes is sealed by the server,
// and a value whose seal does not verify is refused, with the call that
// clears the tags, before anything is read from it. Each attack edit of
// TestStateTagEdits — g=0, the times moved, a forged cut-over — is
// refused by the seal; and one that the checks against IAM let through
// (the deactivation moved back, consistently, to the proven cut-over: the
// delete five days early) is refused now.
func TestStateTagSeal(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	sealed := func(user, key string) {
		t.Helper()
		tags := e.tags(user)
		v, mac := tags[TagKey(key)], tags[SealKey(key)]
		want, err := h.Seal(sealData(user, key, v))
		if err != nil || v == "" || mac != want {
			t.Fatalf("the state of %s is not sealed: %q, seal %q (want %q, %v)", key, v, mac, want, err)
		}
	}
	refused := func(h hostiam.Client, user, key, want string) {
		t.Helper()
		ae := e.rotateErr(h, RotateInput{UserName: user, AccessKeyID: key})
		if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, want) || !strings.Contains(ae.Message, `"tag_keys":["`+TagKey(key)+`","`+SealKey(key)+`"]`) {
			t.Errorf("%s: %v, want a refusal with %q and the untag_user call of both tags", user, ae, want)
		}
		if e.key(user, key) == nil {
			t.Fatalf("%s's old key was deleted", user)
		}
	}
	edit := func(user, key string, f func(*State)) {
		t.Helper()
		st, _ := e.state(user, key)
		f(&st)
		v, err := st.Encode()
		if err != nil {
			t.Fatal(err)
		}
		e.setTag(user, key, v) // the seal tag stays the old value's
	}

	// Each step writes a sealed value.
	old := e.createUser("sid", 1)[0]
	e.useFor(old, "s3", "us-east-1")
	e.clock.Advance(time.Minute)
	n := e.rotate(h, "sid", old, StepCreate).NewAccessKeyID
	sealed("sid", old)
	if st := e.rotate(h, "sid", old, StepStatus).StateTag; st == nil || st.SealKey != SealKey(old) || st.Seal != e.tags("sid")[SealKey(old)] {
		t.Errorf("the answer's state tag: %+v", st)
	}
	e.toCutOverAt(h, "sid", old, n, MinQuietHours, Pair{"s3", "us-east-1"})
	sealed("sid", old)
	e.rotate(h, "sid", old, StepDeactivate)
	sealed("sid", old)
	good := e.tags("sid")

	// The attacks of TestStateTagEdits, without the server's seal.
	notSealed := "does not carry the server's seal"
	edit("sid", old, func(st *State) { st.GraceDays = 0 })
	refused(h, "sid", old, notSealed)
	edit("sid", old, func(st *State) { st.GraceDays = 7; st.Deactivated = st.Deactivated.Add(-48 * time.Hour) })
	refused(h, "sid", old, notSealed)
	edit("sid", old, func(st *State) { st.Deactivated = e.clock.Now().Add(48 * time.Hour) })
	refused(h, "sid", old, notSealed)
	// Even a read-only server refuses to plan from it.
	refused(e.host(func(o *hostiamtest.Options) { o.ReadOnly = true }), "sid", old, notSealed)
	// The value put back as it was verifies again.
	e.setTag("sid", old, good[TagKey(old)])
	if res := e.rotate(h, "sid", old, StepStatus); res.Phase != string(PhaseDeactivated) {
		t.Fatalf("the genuine value: %s", res.Happened)
	}
	// A forged cut-over on a rotation that has not proven it.
	f := e.createUser("fay", 1)[0]
	e.useFor(f, "s3", "us-east-1")
	fn := e.rotate(h, "fay", f, StepCreate).NewAccessKeyID
	e.clock.Advance(time.Minute)
	e.useFor(fn, "s3", "us-east-1")
	e.clock.Advance(MinQuietHours * time.Hour)
	edit("fay", f, func(st *State) {
		st.Phase, st.FirstUse, st.CutOver = PhaseCutOver, e.clock.Now().Add(-MinQuietHours*time.Hour), e.clock.Now().Truncate(time.Minute)
		st.Seen[0].ByNew = true
	})
	refused(h, "fay", f, notSealed)
	if e.key("fay", f).Status != "Active" {
		t.Fatal("a forged cut-over deactivated the old key")
	}

	// The seal tag gone (the previous format, v=2 without a seal), or
	// another rotation's seal (another user's, or another key's): refused.
	if err := e.admin.Call("untag_user", api.UntagUserInput{UserName: "sid", TagKeys: []string{SealKey(old)}}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	refused(h, "sid", old, "has no seal")
	fayTags := e.tags("fay")
	if err := e.admin.Call("tag_user", api.TagUserInput{UserName: "sid", Tags: map[string]string{SealKey(old): fayTags[SealKey(f)]}}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	refused(h, "sid", old, notSealed)
	// The same value and its seal, moved to another user's key: the seal
	// binds the user and the key.
	other := e.createUser("sly", 1)[0]
	if err := e.admin.Call("tag_user", api.TagUserInput{UserName: "sly", Tags: map[string]string{TagKey(other): good[TagKey(old)], SealKey(other): good[SealKey(old)]}}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	refused(h, "sly", other, notSealed)
	// A server with another secrets directory (another seal key) does not
	// take this one's seals.
	e.setSealedTag("sid", old, good[TagKey(old)])
	elsewhere := e.host(func(o *hostiamtest.Options) { o.SecretsDir = filepath.Join(t.TempDir(), "elsewhere") })
	refused(elsewhere, "sid", old, notSealed)
	// The user's name in another letter case is the same user: the seal
	// holds.
	if res := e.rotate(h, "SID", old, StepStatus); res.Phase != string(PhaseDeactivated) {
		t.Errorf("the user named in upper case: %s", res.Happened)
	}

	// The edit the checks against IAM let through: the operator waited five
	// days after the cut-over to deactivate; the tag then moves the
	// deactivation back to the cut-over — consistent with every date IAM
	// has (after the new key's creation and the old key's last use, the
	// cut-over's interval after the first use). Sealed with the server's
	// key (as if it leaked, which is what the plugin had before seals),
	// the old key is deleted five days early; without it, refused.
	var users [2]string
	var keys [2]string
	for i, u := range []string{"early-forged", "early-plain"} {
		users[i] = u
		keys[i] = e.createUser(u, 1)[0]
		e.useFor(keys[i], "s3", "us-east-1")
	}
	e.clock.Advance(time.Minute)
	var news [2]string
	for i := range users {
		news[i] = e.rotate(h, users[i], keys[i], StepCreate).NewAccessKeyID
	}
	e.clock.Advance(time.Minute)
	for i := range users {
		e.useFor(news[i], "s3", "us-east-1")
	}
	e.clock.Advance(MinQuietHours * time.Hour)
	for i := range users {
		if res := e.rotate(h, users[i], keys[i], StepCutover); res.Phase != string(PhaseCutOver) {
			t.Fatalf("%s: the cut-over: %s", users[i], res.Happened)
		}
	}
	e.clock.Advance(5 * 24 * time.Hour)
	for i := range users {
		e.rotate(h, users[i], keys[i], StepDeactivate)
	}
	honest := e.clock.Now().Add(MinGraceDays * 24 * time.Hour)
	for i := range users {
		st, _ := e.state(users[i], keys[i])
		st.Deactivated = st.CutOver
		v, _ := st.Encode()
		if i == 0 {
			e.setSealedTag(users[i], keys[i], v)
		} else {
			e.setTag(users[i], keys[i], v)
		}
	}
	e.clock.Advance(2*24*time.Hour + time.Minute)
	if !e.clock.Now().Before(honest) {
		t.Fatal("the test's clock is past the honest grace period")
	}
	if res := e.rotate(h, users[0], keys[0], ""); res.Outcome != OutcomeCompleted || e.key(users[0], keys[0]) != nil {
		t.Fatalf("with the checks against IAM alone the edit is not let through (the test no longer shows the gap): %s %s", res.Outcome, res.Happened)
	}
	refused(h, users[1], keys[1], notSealed)
}

// TestSealUnavailable: a host that cannot seal (no secrets directory, or
// no state_seal) stops a rotation before its first change: a state that
// cannot be sealed is not written, and one that cannot be checked is not
// acted on.
func TestSealUnavailable(t *testing.T) {
	e := newEnv(t, "")
	old := e.createUser("una", 1)[0]
	blind := struct{ hostiam.Client }{e.host()} // hides Seal (and Consent)
	ae := e.rotateErr(blind, RotateInput{UserName: "una", AccessKeyID: old, Step: StepCreate})
	if ae.Code != api.Unavailable || !strings.Contains(ae.Message, "nothing was changed") || len(e.keys("una")) != 1 || len(e.tags("una")) != 0 {
		t.Fatalf("create without seals: %v; keys %d, tags %v", ae, len(e.keys("una")), e.tags("una"))
	}
	e.rotate(e.host(), "una", old, StepCreate)
	if ae = e.rotateErr(blind, RotateInput{UserName: "una", AccessKeyID: old}); ae.Code != api.Unavailable || !strings.Contains(ae.Message, "cannot be checked") {
		t.Errorf("a sealed state read without seals: %v", ae)
	}
}

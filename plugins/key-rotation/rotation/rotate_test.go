package rotation

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// TestFullRotation walks ci-deploy's 420-day-old key of the demo account
// (last used a day ago by cloudformation in eu-west-1) through every step:
// plan, create, cut-over, deactivate, delete. One test call with the new
// key does not prove the cut-over (it did, before): the new key must be
// seen used by cloudformation in eu-west-1, and the old key must stay
// unused for its usual interval after the new key's first use.
func TestFullRotation(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host()
	const u = "ci-deploy"
	old := e.onlyKey(u)

	// plan (what next does before anything started): nothing changes.
	res := e.rotate(h, u, old, "")
	if res.Outcome != OutcomePlanned || res.CurrentStep != StepCreate || res.Next.Args["step"] != StepCreate {
		t.Fatalf("plan: outcome %s, current step %s, next %v", res.Outcome, res.CurrentStep, res.Next)
	}
	if len(res.Plan) != 4 || res.Plan[0].Status != "current" {
		t.Errorf("plan: %+v", res.Plan)
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("the plan changed something: %v", m)
	}

	// create: the new key, its secret in a 0600 file, never in the answer.
	res = e.rotate(h, u, old, StepCreate)
	n := res.NewAccessKeyID
	if res.Outcome != OutcomeAdvanced || n == "" || n == old || res.CurrentStep != StepCutover {
		t.Fatalf("create: outcome %s, new key %q, current step %s", res.Outcome, n, res.CurrentStep)
	}
	if res.SecretFile == "" {
		t.Fatal("create: no secret file in the answer")
	}
	secret := secretOf(t, res.SecretFile, n)
	secretFile := res.SecretFile
	pr, err := res.PluginResult()
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(pr)
	if strings.Contains(string(whole), secret) || strings.Contains(res.Markdown(), secret) {
		t.Fatal("the secret access key is in the answer")
	}
	if !strings.Contains(string(pr.StructuredContent), res.SecretFile) || !strings.Contains(pr.Content[0].Text, res.SecretFile) {
		t.Error("the answer does not give the secret file's path")
	}
	st, ok := e.state(u, old)
	cf := Pair{"cloudformation", "eu-west-1"}
	if !ok || st.Phase != PhaseCreated || st.NewKeyID != n || st.NewCreated.IsZero() || st.QuietHours != 24 || len(st.Seen) != 1 || st.Seen[0].Pair != cf {
		t.Fatalf("after create, the state tag says %+v (present %v)", st, ok)
	}
	if !strings.Contains(res.SecretNote, res.SecretFile) || !strings.Contains(res.Markdown(), res.SecretNote) {
		t.Errorf("the create answer does not say where the secret is: %q", res.SecretNote)
	}
	if got := strings.Join(opsOf(res.Changes), ","); got != "tag_user,create_access_key,tag_user" {
		t.Errorf("create made %s", got)
	}

	// cut-over: nothing uses the new key yet, so it waits, and records
	// that the old key has now been seen quiet for 24.5 hours.
	e.clock.Advance(30 * time.Minute)
	res = e.rotate(h, u, old, "")
	if res.Outcome != OutcomeWaiting || res.CurrentStep != StepCutover || res.Next.NotBefore == nil || !strings.Contains(res.Happened, "nothing has used") {
		t.Fatalf("cut-over before any use: %s %s, next %+v", res.Outcome, res.Happened, res.Next)
	}
	if st, _ = e.state(u, old); st.QuietHours != 25 {
		t.Errorf("the old key's interval after 24.5 quiet hours: %d", st.QuietHours)
	}
	if !strings.Contains(res.SecretNote, "only in") {
		t.Errorf("before the new key is used, the answer does not say where its secret is: %q", res.SecretNote)
	}
	// One test call with the new key (sts in eu-west-1), a minute later:
	// not the cut-over, and the answer says what is missing.
	e.clock.Advance(30 * time.Minute)
	e.use(n, secret)
	e.clock.Advance(time.Minute)
	res = e.rotate(h, u, old, StepCutover)
	if res.Outcome != OutcomeWaiting || res.Phase != string(PhaseCreated) || !strings.Contains(res.Happened, "cloudformation in eu-west-1") {
		t.Fatalf("a test call confirmed the cut-over: %s %s", res.Outcome, res.Happened)
	}
	if res.CutOver == nil || len(res.CutOver.Missing) != 1 || res.CutOver.Missing[0].Service != "cloudformation" || res.Next.NotBefore == nil {
		t.Errorf("the proof after a test call: %+v, next %+v", res.CutOver, res.Next)
	}
	// The first check that sees the new key used has its secret file
	// removed from the server, and says so.
	if res.SecretFileRemoved != secretFile || fileExists(t, secretFile) || !strings.Contains(res.SecretNote, "was removed from the server") {
		t.Errorf("once the new key is used, its secret file %s is not removed (removed %q): %q", secretFile, res.SecretFileRemoved, res.SecretNote)
	}
	// The deploy pipeline switches: cloudformation in eu-west-1 with the
	// new key. Covered, but the old key must stay quiet for 25 hours after
	// the new key's first use (an hour in).
	e.clock.Advance(time.Hour)
	e.useFor(n, "cloudformation", "eu-west-1")
	e.clock.Advance(time.Minute)
	res = e.rotate(h, u, old, StepCutover)
	quietUntil := t0.Add(26 * time.Hour)
	if res.Outcome != OutcomeWaiting || len(res.CutOver.Missing) != 0 || res.Next.NotBefore == nil || !res.Next.NotBefore.Equal(quietUntil) {
		t.Fatalf("covered but not quiet long enough: %s %s, next %+v", res.Outcome, res.Happened, res.Next)
	}
	if ae := e.rotateErr(h, RotateInput{UserName: u, AccessKeyID: old, Step: StepDeactivate}); !strings.Contains(ae.Message, "not confirmed") {
		t.Errorf("deactivate before the cut-over is proven: %v", ae)
	}
	e.clock.Advance(quietUntil.Sub(e.clock.Now()) - time.Minute)
	if res = e.rotate(h, u, old, StepCutover); res.Outcome != OutcomeWaiting {
		t.Fatalf("a minute before the old key's interval is over: %s %s", res.Outcome, res.Happened)
	}
	e.clock.Advance(time.Minute)
	res = e.rotate(h, u, old, StepCutover)
	if res.Outcome != OutcomeAdvanced || res.Phase != string(PhaseCutOver) || res.Next.Args["step"] != StepDeactivate || !res.CutOver.Confirmed {
		t.Fatalf("cut-over after the switch and a quiet interval: %s %s", res.Outcome, res.Happened)
	}
	st, _ = e.state(u, old)
	if !st.FirstUse.Equal(t0.Add(time.Hour)) || !st.CutOver.Equal(quietUntil) || len(st.Missing()) != 0 {
		t.Errorf("the cut-over state: %+v", st)
	}

	// deactivate: reversible, with the default grace period.
	res = e.rotate(h, u, old, "")
	if res.Outcome != OutcomeAdvanced || res.Phase != string(PhaseDeactivated) {
		t.Fatalf("deactivate: %s %s", res.Outcome, res.Happened)
	}
	if k := e.key(u, old); k == nil || k.Status != "Inactive" {
		t.Fatalf("after deactivate, the old key is %+v", k)
	}
	if res.Next.NotBefore == nil || !res.Next.NotBefore.Equal(e.clock.Now().Truncate(time.Minute).Add(7*24*time.Hour)) {
		t.Errorf("deactivate: the delete step is not held for the default 7 days: %+v", res.Next)
	}
	// A retry of the same step is answered, not refused, and changes nothing.
	res = e.rotate(h, u, old, StepDeactivate)
	if res.Outcome != OutcomeStatus || len(res.Changes) != 0 {
		t.Errorf("deactivate again: %s, changes %v", res.Outcome, res.Changes)
	}

	// delete: refused during the grace period; next waits.
	ae := e.rotateErr(h, RotateInput{UserName: u, AccessKeyID: old, Step: StepDelete})
	if !strings.Contains(ae.Message, "grace period") || e.key(u, old) == nil {
		t.Errorf("delete during the grace period: %v", ae)
	}
	e.clock.Advance(6 * 24 * time.Hour)
	if res = e.rotate(h, u, old, ""); res.Outcome != OutcomeWaiting || res.Next.NotBefore == nil {
		t.Errorf("next during the grace period: %s %s", res.Outcome, res.Happened)
	}
	e.clock.Advance(24 * time.Hour)
	res = e.rotate(h, u, old, "")
	if res.Outcome != OutcomeCompleted || res.Phase != string(PhaseDone) || res.NewAccessKeyID != n {
		t.Fatalf("delete after the grace period: %s %s", res.Outcome, res.Happened)
	}
	if ks := e.keys(u); len(ks) != 1 || ks[0].AccessKeyID != n || ks[0].Status != "Active" {
		t.Errorf("after the rotation %s holds %+v", u, ks)
	}
	if _, ok := e.state(u, old); ok {
		t.Error("the state tag outlived the rotation")
	}
	for _, s := range res.Plan {
		if s.Status != "done" {
			t.Errorf("after completion, step %s is %s", s.Step, s.Status)
		}
	}
	// The key is gone: a later call says so and lists the user's keys.
	ae = e.rotateErr(h, RotateInput{UserName: u, AccessKeyID: old})
	if ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, n) {
		t.Errorf("after completion: %v", ae)
	}
}

func opsOf(calls []Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}

// TestResume: a new host — a restarted server, a new conversation —
// continues from the state tag, and a create step interrupted between
// creating the key and recording it adopts the key.
func TestResume(t *testing.T) {
	e := newEnv(t, "demo")
	const u = "ci-deploy"
	old := e.onlyKey(u)
	res := e.rotate(e.host(), u, old, StepCreate)
	n := res.NewAccessKeyID

	again := e.host() // nothing shared with the first but the sandbox
	res = e.rotate(again, u, old, "")
	if res.Phase != string(PhaseCreated) || res.NewAccessKeyID != n || res.Outcome != OutcomeWaiting {
		t.Fatalf("resumed: phase %s, new key %s, outcome %s", res.Phase, res.NewAccessKeyID, res.Outcome)
	}
	// Asking for create again is a retry: answered with the status.
	if res = e.rotate(again, u, old, StepCreate); res.Outcome != OutcomeStatus || len(e.keys(u)) != 2 {
		t.Errorf("create again: %s, %d keys", res.Outcome, len(e.keys(u)))
	}
	// A step out of order is refused with where the rotation stands and the
	// exact next call.
	ae := e.rotateErr(again, RotateInput{UserName: u, AccessKeyID: old, Step: StepDelete})
	if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, "out of order") || !strings.Contains(ae.Message, `"step":"cutover"`) {
		t.Errorf("delete out of order: %v", ae)
	}
	if ae = e.rotateErr(again, RotateInput{UserName: u, AccessKeyID: old, Step: StepDeactivate}); !strings.Contains(ae.Message, "cut-over is not confirmed") {
		t.Errorf("deactivate before the cut-over: %v", ae)
	}
	// The new key's id is not the rotation's name.
	if ae = e.rotateErr(again, RotateInput{UserName: u, AccessKeyID: n}); !strings.Contains(ae.Message, "is the new key of the rotation of "+old) {
		t.Errorf("the new key's id: %v", ae)
	}

	// Interrupted create: the tag says creating, and IAM has the key.
	e2 := newEnv(t, "demo")
	const v = "backup-agent"
	old2 := e2.onlyKey(v)
	began := State{Phase: PhaseCreating, Began: e2.clock.Now()}
	val, _ := began.Encode()
	e2.setSealedTag(v, old2, val) // as the create step wrote it
	e2.clock.Advance(time.Second)
	var created api.CreateAccessKeyOutput
	if err := e2.admin.Call("create_access_key", api.UserNameInput{UserName: v}, &created); err != nil {
		t.Fatal(err)
	}
	h := e2.host()
	res = e2.rotate(h, v, old2, "")
	if res.NewAccessKeyID != created.AccessKey.AccessKeyID || res.Phase != string(PhaseCreated) || !strings.Contains(res.Happened, "adopted") {
		t.Fatalf("interrupted create: new key %s (want %s), phase %s: %s", res.NewAccessKeyID, created.AccessKey.AccessKeyID, res.Phase, res.Happened)
	}
	if n := h.Ops()["create_access_key"]; n != 0 {
		t.Errorf("the resumed create made %d keys", n)
	}
	if len(e2.keys(v)) != 2 {
		t.Errorf("%s holds %d keys", v, len(e2.keys(v)))
	}
}

// TestTwoKeyLimitInactiveKey: the user's other key is inactive, so the plan
// proposes deleting it first, and create refuses until it is gone. The
// inactive key is deleted only once it has been unused for the grace
// period: IAM does not record when it was deactivated, so its last use is
// the evidence (before, make_room deleted a key used 3 days earlier,
// seconds after someone deactivated it).
func TestTwoKeyLimitInactiveKey(t *testing.T) {
	e := newEnv(t, "")
	ids := e.createUser("dana", 2)
	old, spare := ids[0], ids[1]
	// The spare was in use until 3 days ago; someone deactivates it now.
	e.useFor(spare, "s3", "us-east-1")
	used := e.clock.Now()
	e.clock.Advance(3 * 24 * time.Hour)
	if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: "dana", AccessKeyID: spare, Status: "Inactive"}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	h := e.host()
	res := e.rotate(h, "dana", old, StepPlan)
	deleteAt := used.Add(MinGraceDays * 24 * time.Hour)
	if res.CurrentStep != StepMakeRoom || res.Next.Args["step"] != StepMakeRoom || res.Plan[0].Step != StepMakeRoom {
		t.Fatalf("plan with an inactive spare: current %s, next %v", res.CurrentStep, res.Next)
	}
	if res.Next.NotBefore == nil || !res.Next.NotBefore.Equal(deleteAt) || res.Plan[0].NotBefore == nil || !res.Plan[0].NotBefore.Equal(deleteAt) {
		t.Errorf("the plan does not hold make_room until the spare is unused for the grace period (%s): next %+v, plan %v", deleteAt, res.Next, res.Plan[0].NotBefore)
	}
	if !strings.Contains(compactJSON(res.Plan[0]), spare) {
		t.Errorf("the make_room step does not name %s: %+v", spare, res.Plan[0])
	}
	ae := e.rotateErr(h, RotateInput{UserName: "dana", AccessKeyID: old, Step: StepCreate})
	if !strings.Contains(ae.Message, "free a slot") || len(e.keys("dana")) != 2 {
		t.Errorf("create at the limit: %v", ae)
	}
	// Seconds after the deactivation, and a minute before the grace period
	// since its last use is over: refused, with when.
	for _, wait := range []time.Duration{0, deleteAt.Sub(e.clock.Now()) - time.Minute} {
		e.clock.Advance(wait)
		ae = e.rotateErr(h, RotateInput{UserName: "dana", AccessKeyID: old, Step: StepMakeRoom})
		if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, deleteAt.Format(time.RFC3339)) || e.key("dana", spare) == nil {
			t.Fatalf("make_room %s before the spare is unused for the grace period: %v", deleteAt.Sub(e.clock.Now()), ae)
		}
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("the refused make_room changed %v", m)
	}
	// A longer grace period asked for holds it longer.
	e.clock.Advance(time.Minute)
	if _, err := Rotate(h, RotateInput{UserName: "dana", AccessKeyID: old, Step: StepMakeRoom, GraceDays: ptr(10)}, e.opts); err == nil || e.key("dana", spare) == nil {
		t.Errorf("make_room with grace_days 10, 7 days after the spare's last use: %v", err)
	}
	res = e.rotate(h, "dana", old, StepMakeRoom)
	if res.Outcome != OutcomeAdvanced || e.key("dana", spare) != nil || res.Next.Args["step"] != StepCreate {
		t.Fatalf("make_room: %s %s", res.Outcome, res.Happened)
	}
	if res = e.rotate(h, "dana", old, StepCreate); res.Outcome != OutcomeAdvanced {
		t.Errorf("create after make_room: %s", res.Happened)
	}
	// make_room is only for a rotation not started.
	if ae := e.rotateErr(h, RotateInput{UserName: "dana", AccessKeyID: old, Step: StepMakeRoom}); !strings.Contains(ae.Message, "out of order") {
		t.Errorf("make_room during a rotation: %v", ae)
	}

	// A spare never used: the grace period runs from its creation.
	ids = e.createUser("dora", 2)
	if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: "dora", AccessKeyID: ids[1], Status: "Inactive"}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	e.useFor(ids[0], "s3", "us-east-1")
	if ae = e.rotateErr(h, RotateInput{UserName: "dora", AccessKeyID: ids[0], Step: StepMakeRoom}); ae.Code != api.InvalidInput || e.key("dora", ids[1]) == nil {
		t.Errorf("make_room of a spare created a minute ago: %v", ae)
	}
	e.clock.Advance(MinGraceDays * 24 * time.Hour)
	e.useFor(ids[0], "s3", "us-east-1")
	if res = e.rotate(h, "dora", ids[0], StepMakeRoom); res.Outcome != OutcomeAdvanced || e.key("dora", ids[1]) != nil {
		t.Errorf("make_room of a spare never used in the grace period: %s %s", res.Outcome, res.Happened)
	}
}

// TestTwoActiveKeys: isla.moreau of the demo account holds two active keys;
// the rotation stops with the evidence and asks which to retire.
func TestTwoActiveKeys(t *testing.T) {
	e := newEnv(t, "demo")
	ks := e.keys("isla.moreau")
	if len(ks) != 2 || ks[0].Status != "Active" || ks[1].Status != "Active" {
		t.Fatalf("the demo seed changed: isla.moreau holds %+v, the test needs two active keys", ks)
	}
	h := e.host()
	for _, step := range []string{"", StepCreate, StepMakeRoom} {
		res := e.rotate(h, "isla.moreau", ks[0].AccessKeyID, step)
		if res.Outcome != OutcomeBlocked || res.Next != nil || len(res.Choices) != 2 || res.CurrentStep != StepChoose || res.Plan[0].Status != "blocked" {
			t.Fatalf("step %q: outcome %s, next %v, %d choices", step, res.Outcome, res.Next, len(res.Choices))
		}
		if len(res.Keys) != 2 {
			t.Fatalf("evidence: %+v", res.Keys)
		}
		for _, k := range res.Keys {
			if k.CreateDate == nil || k.LastUsedDate == nil || k.LastUsedService == "" {
				t.Errorf("the evidence of %s lacks its creation or last use: %+v", k.AccessKeyID, k)
			}
		}
		if res.Choices[0].Retire != ks[1].AccessKeyID || res.Choices[1].Retire != ks[0].AccessKeyID {
			t.Errorf("choices: %+v", res.Choices)
		}
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("with two active keys the rotation changed %v", m)
	}
}

// TestRootKey: a root key is never rotated; the answer is the plan to
// delete it from the console — once IAM's data show the key is the root's:
// no IAM user holds it, and the credential report shows the root holding a
// key. Before, user_name <root_account> was taken at its word, with no IAM
// call at all.
func TestRootKey(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host()
	rootKey := e.sb.Root().AccessKeys[0].ID
	res := e.rotate(h, RootUser, rootKey, "")
	if res.CurrentStep != "root" || len(res.ConsoleSteps) < 4 || len(res.Plan) != 1 || res.Plan[0].Step != "root" {
		t.Fatalf("root key: %+v", res)
	}
	if !strings.Contains(res.Happened, "never rotated") || !strings.Contains(strings.Join(res.ConsoleSteps, " "), "Delete") {
		t.Errorf("root key: %s / %v", res.Happened, res.ConsoleSteps)
	}
	ev := strings.Join(res.Evidence, "\n")
	if !strings.Contains(ev, "no IAM user") || !strings.Contains(ev, "root user holds 1 access key") || !strings.Contains(res.Markdown(), "**Evidence:**") {
		t.Errorf("the root answer's evidence: %q", res.Evidence)
	}
	if ops := h.Ops(); ops["get_access_key_last_used"] == 0 || ops["get_credential_report"] == 0 || len(mutations(h)) != 0 {
		t.Errorf("the root check's IAM calls: %v", ops)
	}

	// An IAM user's key claimed to be the root's: refused, naming the user.
	ci := e.onlyKey("ci-deploy")
	ae := e.rotateErr(h, RotateInput{UserName: RootUser, AccessKeyID: ci})
	if ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "belongs to the IAM user ci-deploy") {
		t.Errorf("an IAM user's key as the root's: %v", ae)
	}
	// An IAM user named "root" holding it: still an IAM user's key.
	rootUserKey := e.createUser("root", 1)[0]
	if ae = e.rotateErr(h, RotateInput{UserName: RootUser, AccessKeyID: rootUserKey}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "IAM user root") {
		t.Errorf("the key of the IAM user named root, as the root's: %v", ae)
	}
	// "root" is a possible IAM user name, so it is not taken for the root.
	if ae = e.rotateErr(h, RotateInput{UserName: "root", AccessKeyID: rootKey}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, RootUser) {
		t.Errorf("user root: %v", ae)
	}
	if len(mutations(h)) != 0 {
		t.Errorf("the root checks changed %v", mutations(h))
	}

	// An account whose root holds no key: no key is the root's.
	bare := newEnv(t, "")
	bare.createUser("alice", 1)
	if ae = bare.rotateErr(bare.host(), RotateInput{UserName: RootUser, AccessKeyID: "AKIAROOTKEY000000001"}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "holds no access key") {
		t.Errorf("a root without keys: %v", ae)
	}
	// The same account once its root has a key (the near miss): the plan.
	if err := bare.sb.SetRoot(rootWithKey(bare.clock.Now())); err != nil {
		t.Fatal(err)
	}
	bare.clock.Advance(5 * time.Hour) // IAM regenerates the report at most every 4 hours
	if res = bare.rotate(bare.host(), RootUser, bare.sb.Root().AccessKeys[0].ID, ""); res.CurrentStep != "root" {
		t.Errorf("a root with a key: %+v", res)
	}
	// Without the report's grants the check cannot be made, and says so.
	noReport := e.host(func(o *hostiamtest.Options) { o.Grants = append([]string(nil), rotationOps...) })
	if ae = e.rotateErr(noReport, RotateInput{UserName: RootUser, AccessKeyID: rootKey}); ae.Code != api.NotGranted {
		t.Errorf("the root check without the report's grants: %v", ae)
	}
}

// TestKeyUsedAfterCutOver: the old key used after the cut-over stops the
// deactivation; used after its deactivation (IAM refuses an inactive key,
// so: reactivated, used and deactivated again by someone), it stops the
// delete, and the rollback reactivates it and restarts the quiet period.
func TestKeyUsedAfterCutOver(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host()
	const u = "monitoring-bot"
	logs := Pair{"logs", "us-east-1"}
	old := e.onlyKey(u)
	res := e.rotate(h, u, old, StepCreate)
	n := res.NewAccessKeyID
	e.toCutOverAt(h, u, old, n, MinQuietHours, logs)

	// Something still holding the old key uses it, with STS in eu-west-1.
	e.clock.Advance(time.Hour)
	e.use(old, "")
	res = e.rotate(h, u, old, StepDeactivate)
	if res.Outcome != OutcomeStopped || res.Phase != string(PhaseCreated) || res.Next.Args["step"] != StepCutover {
		t.Fatalf("deactivate after a use of the old key: %s, phase %s: %s", res.Outcome, res.Phase, res.Happened)
	}
	if k := e.key(u, old); k.Status != "Active" {
		t.Error("the old key was deactivated though it was used after the cut-over")
	}
	if st, _ := e.state(u, old); len(st.Missing()) != 1 || st.Missing()[0] != (Pair{"sts", "eu-west-1"}) {
		t.Errorf("the straggler's service and region are not required of the new key: %+v", st.Seen)
	}
	// Still both in use: the cut-over waits.
	if res = e.rotate(h, u, old, StepCutover); res.Outcome != OutcomeWaiting {
		t.Fatalf("cut-over with the old key in use: %s", res.Happened)
	}
	// The straggler switches; the new key is used by it. The check that
	// first sees that moves the reference there; the cut-over is proven
	// once the old key has been quiet for its interval after it.
	e.clock.Advance(time.Hour)
	e.use(n, "")
	if res = e.rotate(h, u, old, StepCutover); res.Outcome != OutcomeWaiting || res.Next.NotBefore == nil {
		t.Fatalf("cut-over just after the straggler switched: %s", res.Happened)
	}
	e.clock.Advance(MinQuietHours * time.Hour)
	if res = e.rotate(h, u, old, StepCutover); res.Phase != string(PhaseCutOver) {
		t.Fatalf("cut-over a day after the straggler switched: %s", res.Happened)
	}
	if res = e.rotate(h, u, old, StepDeactivate); res.Phase != string(PhaseDeactivated) {
		t.Fatalf("deactivate: %s", res.Happened)
	}

	// Someone turns the old key back on, something uses it, and it is
	// turned off again: the delete sees the use and stops.
	adminSet := func(status string) {
		t.Helper()
		if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: u, AccessKeyID: old, Status: status}, &api.Result{}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Hour)
	adminSet("Active")
	e.useFor(old, "logs", "us-east-1")
	adminSet("Inactive")
	e.clock.Advance(time.Minute)
	e.useFor(n, "logs", "us-east-1")
	e.clock.Advance(8 * 24 * time.Hour)
	res = e.rotate(h, u, old, "")
	if res.Outcome != OutcomeStopped || res.Next.Args["step"] != StepRollback || e.key(u, old) == nil {
		t.Fatalf("delete after a use of the key since its deactivation: %s: %s", res.Outcome, res.Happened)
	}
	res = e.rotate(h, u, old, StepRollback)
	if res.Outcome != OutcomeRolledBack || res.Phase != string(PhaseCreated) || res.Next.Args["step"] != StepCutover {
		t.Fatalf("rollback: %s, phase %s: %s", res.Outcome, res.Phase, res.Happened)
	}
	if k := e.key(u, old); k.Status != "Active" {
		t.Error("the rollback did not reactivate the old key")
	}
	if k := e.key(u, n); k == nil || k.Status != "Active" {
		t.Error("the rollback touched the new key")
	}
	// Whatever failed may not have run since: the old key's quiet period
	// restarts at the rollback, so a check right after it proves nothing
	// (the new key's use eight days ago would have, without the restart).
	st, _ := e.state(u, old)
	if st.Restarted.IsZero() || len(st.Seen) != 2 {
		t.Errorf("after the rollback the state is %+v", st)
	}
	e.clock.Advance(time.Hour)
	if res = e.rotate(h, u, old, StepCutover); res.Outcome != OutcomeWaiting || res.Next.NotBefore == nil || !res.Next.NotBefore.Equal(st.Restarted.Add(MinQuietHours*time.Hour)) {
		t.Fatalf("cut-over an hour after the rollback: %s %s, next %+v", res.Outcome, res.Happened, res.Next)
	}
}

// TestRollbackBeforeDeactivation: before the old key is deactivated, a
// rollback deletes the new key only if nothing has used it.
func TestRollbackBeforeDeactivation(t *testing.T) {
	e := newEnv(t, "")
	old := e.createUser("erin", 1)[0]
	h := e.host()
	res := e.rotate(h, "erin", old, StepCreate)
	n := res.NewAccessKeyID
	res = e.rotate(h, "erin", old, StepRollback)
	if res.Outcome != OutcomeRolledBack || e.key("erin", n) != nil || res.Phase != PhaseNone.String() {
		t.Fatalf("rollback of an unused new key: %s %s", res.Outcome, res.Happened)
	}
	if _, ok := e.state("erin", old); ok {
		t.Error("the state tag outlived the rollback")
	}
	if ae := e.rotateErr(h, RotateInput{UserName: "erin", AccessKeyID: old, Step: StepRollback}); !strings.Contains(ae.Message, "nothing to roll back") {
		t.Errorf("rollback with no rotation: %v", ae)
	}

	res = e.rotate(h, "erin", old, StepCreate)
	n = res.NewAccessKeyID
	e.clock.Advance(time.Minute)
	e.use(n, "")
	ae := e.rotateErr(h, RotateInput{UserName: "erin", AccessKeyID: old, Step: StepRollback})
	if !strings.Contains(ae.Message, "could break what uses it") || e.key("erin", n) == nil {
		t.Errorf("rollback of a used new key: %v", ae)
	}
}

// TestReadOnly: in --readonly the answer is the full plan, whatever step is
// asked, and no mutating call is even tried.
func TestReadOnly(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host(func(o *hostiamtest.Options) { o.ReadOnly = true })
	old := e.onlyKey("ci-deploy")
	for _, step := range Steps {
		res := e.rotate(h, "ci-deploy", old, step)
		if res.Outcome != OutcomeReadOnly || !res.ReadOnly || len(res.Changes) != 0 {
			t.Fatalf("step %s: outcome %s, changes %v", step, res.Outcome, res.Changes)
		}
		if len(res.Plan) != 4 {
			t.Fatalf("step %s: the plan has %d steps", step, len(res.Plan))
		}
		var ops []string
		for _, s := range res.Plan {
			if len(s.Preconditions) == 0 || s.Rollback == "" {
				t.Errorf("step %s of the plan has no preconditions or rollback", s.Step)
			}
			ops = append(ops, opsOf(s.Calls)...)
		}
		want := "list_access_keys,get_access_key_last_used,tag_user,create_access_key,tag_user,get_access_key_last_used,get_access_key_last_used,tag_user," +
			"list_access_keys,get_access_key_last_used,update_access_key,tag_user,list_access_keys,get_access_key_last_used,delete_access_key,untag_user"
		if got := strings.Join(ops, ","); got != want {
			t.Errorf("the plan's calls:\n got %s\nwant %s", got, want)
		}
		if !strings.Contains(res.Markdown(), "read-only") || !strings.Contains(res.Markdown(), "update_access_key") {
			t.Errorf("the read-only summary lacks the calls:\n%s", res.Markdown())
		}
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("read-only mode tried %v", m)
	}
	if len(e.keys("ci-deploy")) != 1 || len(e.tags("ci-deploy")) != 0 {
		t.Error("read-only mode changed ci-deploy")
	}
	// The root plan too (its check only reads).
	if res := e.rotate(h, RootUser, e.sb.Root().AccessKeys[0].ID, StepDelete); res.Outcome != OutcomeReadOnly {
		t.Errorf("root in read-only: %s", res.Outcome)
	}
}

// TestNotGranted: deny by default. Without tag_user the create step fails
// before creating anything, naming what to grant; without list_user_tags
// nothing can even be read.
func TestNotGranted(t *testing.T) {
	e := newEnv(t, "demo")
	old := e.onlyKey("ci-deploy")
	var grants []string
	for _, g := range allGrants {
		if g != "tag_user" {
			grants = append(grants, g)
		}
	}
	h := e.host(func(o *hostiamtest.Options) { o.Grants = grants })
	res := e.rotate(h, "ci-deploy", old, StepPlan)
	if !strings.Contains(strings.Join(res.Warnings, " "), "tag_user") {
		t.Errorf("the plan does not warn that tag_user is not granted: %v", res.Warnings)
	}
	ae := e.rotateErr(h, RotateInput{UserName: "ci-deploy", AccessKeyID: old, Step: StepCreate})
	if ae.Code != api.NotGranted || !strings.Contains(ae.Message, "tag_user") || !strings.Contains(ae.Message, "nothing was changed") {
		t.Errorf("create without tag_user: %v", ae)
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("create without tag_user tried %v", m)
	}
	if len(e.keys("ci-deploy")) != 1 {
		t.Error("a key was created")
	}

	// The gate's own refusal reaches the caller as NotGranted, too.
	h = e.host(func(o *hostiamtest.Options) { o.Grants = []string{"list_access_keys", "get_access_key_last_used"} })
	ae = e.rotateErr(h, RotateInput{UserName: "ci-deploy", AccessKeyID: old})
	if ae.Code != api.NotGranted || !strings.Contains(ae.Message, "list_user_tags") {
		t.Errorf("without list_user_tags: %v", ae)
	}
	// Nothing granted at all.
	h = e.host(func(o *hostiamtest.Options) { o.Grants = nil })
	if ae = e.rotateErr(h, RotateInput{UserName: "ci-deploy", AccessKeyID: old}); ae.Code != api.NotGranted {
		t.Errorf("with no grants: %v", ae)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, "demo")
	h := e.host()
	old := e.onlyKey("ci-deploy")
	neg, big, zero, six := -1, 400, 0, MinGraceDays-1
	for _, c := range []struct {
		in   RotateInput
		want string
	}{
		{RotateInput{AccessKeyID: old}, "user_name is required"},
		{RotateInput{UserName: "ci-deploy"}, "access_key_id is required"},
		{RotateInput{UserName: "bad name!", AccessKeyID: old}, "not an IAM user name"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: "AKIA123"}, "not an access key id"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: "AKIA-1234567890123456"}, "not an access key id"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: "ASIAEXAMPLE000000001"}, "temporary key"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: old, Step: "skip"}, "unknown step"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: old, GraceDays: &neg}, "grace_days"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: old, GraceDays: &big}, "grace_days"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: old, GraceDays: &zero}, "at least 7 days"},
		{RotateInput{UserName: "ci-deploy", AccessKeyID: old, GraceDays: &six}, "at least 7 days"},
		{RotateInput{UserName: strings.Repeat("u", 500), AccessKeyID: old}, "not an IAM user name"},
	} {
		ae := e.rotateErr(h, c.in)
		if ae.Code != api.InvalidInput || !strings.Contains(ae.Message, c.want) {
			t.Errorf("%+v: %v, want InvalidInput with %q", c.in, ae, c.want)
		}
		if len(ae.Message) > 600 {
			t.Errorf("a %d-character refusal echoes too much of the input: %.100s…", len(ae.Message), ae.Message)
		}
	}
	if len(h.Ops()) != 0 {
		t.Errorf("bad input reached IAM: %v", h.Ops())
	}

	// Unknown user, unknown key, another user's key.
	if ae := e.rotateErr(h, RotateInput{UserName: "nobody", AccessKeyID: old}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "no IAM user nobody") {
		t.Errorf("unknown user: %v", ae)
	}
	if ae := e.rotateErr(h, RotateInput{UserName: "ci-deploy", AccessKeyID: "AKIANOSUCHKEY0000001"}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, old) {
		t.Errorf("unknown key: %v", ae)
	}
	if ae := e.rotateErr(h, RotateInput{UserName: "legacy-etl", AccessKeyID: old}); ae.Code != api.NoSuchEntity || !strings.Contains(ae.Message, "belongs to user ci-deploy") {
		t.Errorf("another user's key: %v", ae)
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("bad input changed %v", m)
	}
}

// TestGracePeriod: grace_days, then the plugin's config, then the default;
// fixed at deactivation, and never less than MinGraceDays from any source.
func TestGracePeriod(t *testing.T) {
	for _, c := range []struct {
		name   string
		input  *int
		config string
		want   int
	}{
		{"default", nil, "", DefaultGraceDays},
		{"config", nil, "14", 14},
		{"input over config", ptr(10), "14", 10},
		{"the minimum", ptr(MinGraceDays), "", MinGraceDays},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, "")
			old := e.createUser("gus", 1)[0]
			h := configHost{Client: e.host(), config: map[string]string{}}
			if c.config != "" {
				h.config[ConfigGraceDays] = c.config
			}
			res := e.rotate(h, "gus", old, StepCreate)
			e.toCutOverAt(h, "gus", old, res.NewAccessKeyID, MinQuietHours)
			res, err := Rotate(h, RotateInput{UserName: "gus", AccessKeyID: old, Step: StepDeactivate, GraceDays: c.input}, e.opts)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := e.state("gus", old)
			if st.GraceDays != c.want {
				t.Fatalf("grace %d days, want %d (%s)", st.GraceDays, c.want, res.Happened)
			}
			// A later grace_days does not shorten it.
			e.clock.Advance(time.Duration(c.want)*24*time.Hour - time.Hour)
			if _, err := Rotate(h, RotateInput{UserName: "gus", AccessKeyID: old, Step: StepDelete, GraceDays: ptr(MinGraceDays)}, e.opts); err == nil || e.key("gus", old) == nil {
				t.Errorf("grace_days %d at the delete step shortened the grace period", MinGraceDays)
			}
			e.clock.Advance(time.Hour)
			if res = e.rotate(h, "gus", old, StepDelete); res.Outcome != OutcomeCompleted {
				t.Errorf("after %d days: %s", c.want, res.Happened)
			}
		})
	}
	// A config below the minimum, or not a number, is refused before
	// anything changes.
	for _, bad := range []string{"a week", "0", "3", "-7", "366", strings.Repeat("9", 300)} {
		e := newEnv(t, "")
		old := e.createUser("hal", 1)[0]
		h := configHost{Client: e.host(), config: map[string]string{ConfigGraceDays: bad}}
		res := e.rotate(h, "hal", old, StepCreate)
		e.toCutOverAt(h, "hal", old, res.NewAccessKeyID, MinQuietHours)
		ae := e.rotateErr(h, RotateInput{UserName: "hal", AccessKeyID: old, Step: StepDeactivate})
		if !strings.Contains(ae.Message, "grace_days") || len(ae.Message) > 400 {
			t.Errorf("config %.20q: %v", bad, ae)
		}
		if k := e.key("hal", old); k.Status != "Active" {
			t.Errorf("deactivated with the grace period config %.20q", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestOutsideChanges: what others do to the keys between two steps is seen
// and answered, never acted on blindly.
func TestOutsideChanges(t *testing.T) {
	e := newEnv(t, "")
	h := e.host()
	adminSet := func(user, key, status string) {
		t.Helper()
		if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: user, AccessKeyID: key, Status: status}, &api.Result{}); err != nil {
			t.Fatal(err)
		}
	}
	adminDelete := func(user, key string) {
		t.Helper()
		if err := e.admin.Call("delete_access_key", api.AccessKeyInput{UserName: user, AccessKeyID: key}, &api.Result{}); err != nil {
			t.Fatal(err)
		}
	}
	toDeactivated := func(user, old string) string {
		t.Helper()
		n := e.rotate(h, user, old, StepCreate).NewAccessKeyID
		e.toCutOverAt(h, user, old, n, MinQuietHours)
		e.rotate(h, user, old, StepDeactivate)
		return n
	}

	// An inactive key: nothing to rotate; retiring it is proposed (not an
	// immediate delete: IAM does not say when it was deactivated).
	ina := e.createUser("ina", 1)[0]
	adminSet("ina", ina, "Inactive")
	res := e.rotate(h, "ina", ina, StepCreate)
	if res.Outcome != OutcomeBlocked || res.CurrentStep != StepRetire || res.Next.Args["step"] != StepRetire || len(mutations(h)) != 0 {
		t.Errorf("an inactive key: %s, %s, next %+v", res.Outcome, res.CurrentStep, res.Next)
	}

	// The old key deleted by someone else during its grace period: the
	// rotation completes and tidies its tag.
	old := e.createUser("olga", 1)[0]
	n := toDeactivated("olga", old)
	adminDelete("olga", old)
	res = e.rotate(h, "olga", old, "")
	if res.Outcome != OutcomeCompleted || res.NewAccessKeyID != n {
		t.Errorf("old key deleted outside: %s %s", res.Outcome, res.Happened)
	}
	if _, ok := e.state("olga", old); ok {
		t.Error("the state tag outlived the old key")
	}

	// The old key reactivated by someone else: delete stops; rollback
	// records it and goes back to the cut-over.
	old = e.createUser("otto", 1)[0]
	toDeactivated("otto", old)
	adminSet("otto", old, "Active")
	e.clock.Advance(8 * 24 * time.Hour)
	res = e.rotate(h, "otto", old, StepDelete)
	if res.Outcome != OutcomeStopped || res.Next.Args["step"] != StepRollback || e.key("otto", old) == nil {
		t.Fatalf("delete of a reactivated key: %s %s", res.Outcome, res.Happened)
	}
	if res = e.rotate(h, "otto", old, StepRollback); res.Phase != string(PhaseCreated) {
		t.Errorf("rollback of a reactivated key: %s", res.Happened)
	}

	// The new key deleted by someone else: the rotation stops before the
	// old key is touched, and a rollback ends it.
	old = e.createUser("nell", 1)[0]
	n = e.rotate(h, "nell", old, StepCreate).NewAccessKeyID
	adminDelete("nell", n)
	res = e.rotate(h, "nell", old, "")
	if res.Outcome != OutcomeStopped || res.Next.Args["step"] != StepRollback {
		t.Fatalf("new key gone: %s %s", res.Outcome, res.Happened)
	}
	if res = e.rotate(h, "nell", old, StepRollback); res.Outcome != OutcomeRolledBack || e.key("nell", old).Status != "Active" {
		t.Errorf("rollback without a new key: %s", res.Happened)
	}
	if _, ok := e.state("nell", old); ok {
		t.Error("the state tag outlived the rollback")
	}

	// A state tag edited into nonsense stops everything with what to do.
	old = e.createUser("tess", 1)[0]
	if err := e.admin.Call("tag_user", api.TagUserInput{UserName: "tess", Tags: map[string]string{TagKey(old): "v=1/s=sideways"}}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	if ae := e.rotateErr(h, RotateInput{UserName: "tess", AccessKeyID: old}); !strings.Contains(ae.Message, "untag_user") {
		t.Errorf("an unreadable state tag: %v", ae)
	}
}

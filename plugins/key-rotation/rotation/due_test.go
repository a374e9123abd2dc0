package rotation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

func (e *env) plan(h hostiam.Client, maxAge int) *PlanResult {
	e.t.Helper()
	res, err := PlanDue(h, PlanInput{MaxAgeDays: maxAge}, e.opts)
	if err != nil {
		e.t.Fatalf("plan_key_rotation %d: %v", maxAge, err)
	}
	if _, err := res.PluginResult(); err != nil {
		e.t.Fatal(err)
	}
	return res
}

func dueFor(res *PlanResult, user string) []DueKey {
	var out []DueKey
	for _, d := range res.Due {
		if d.UserName == user {
			out = append(out, d)
		}
	}
	return out
}

// TestPlanDemo plans the demo account. What it relies on from the seed
// (which grows) is asserted first, so that a seed change fails here with a
// clear message rather than somewhere below.
func TestPlanDemo(t *testing.T) {
	e := newEnv(t, "demo")
	var rep api.CredentialReportOutput
	for _, op := range []string{"generate_credential_report", "get_credential_report"} {
		var out any = &api.GenerateCredentialReportOutput{}
		if op == "get_credential_report" {
			out = &rep
		}
		if err := e.admin.Call(op, api.Empty{}, out); err != nil {
			t.Fatal(err)
		}
	}
	ageOf := map[string][]int{}
	rootKeys := 0
	for _, row := range rep.Rows {
		for _, k := range row.AccessKeys {
			if row.User == RootUser {
				rootKeys++
				continue
			}
			if k.Active && k.LastRotated != nil {
				ageOf[row.User] = append(ageOf[row.User], ageDays(*k.LastRotated, t0))
			}
		}
	}
	for user, want := range map[string]string{"ci-deploy": "[420]", "legacy-etl": "[300]", "isla.moreau": "[90 30]", "carol.diaz": "[20]"} {
		if got := fmt.Sprint(ageOf[user]); got != want {
			t.Fatalf("the demo seed changed: %s's active keys are %v days old, the test needs %s", user, ageOf[user], want)
		}
	}

	h := e.host()
	res := e.plan(h, 0)
	if res.MaxAgeDays != DefaultMaxAgeDays {
		t.Errorf("the default age is %d", res.MaxAgeDays)
	}
	ci, etl := dueFor(res, "ci-deploy"), dueFor(res, "legacy-etl")
	if len(ci) != 1 || ci[0].AgeDays != 420 || ci[0].Case != CaseRotate || ci[0].AccessKeyID != e.onlyKey("ci-deploy") {
		t.Fatalf("ci-deploy: %+v", ci)
	}
	// legacy-etl's key is unused for 200 days: retired, not rotated.
	if len(etl) != 1 || etl[0].AgeDays != 300 || etl[0].Case != CaseRetire || etl[0].Plan[0].Step != StepRetire || etl[0].Next.Args["step"] != StepPlan {
		t.Fatalf("legacy-etl: %+v", etl)
	}
	if res.Counts.Retire != 1 || !strings.Contains(res.Markdown(), "retire") {
		t.Errorf("the demo's keys to retire: %+v", res.Counts)
	}
	if len(dueFor(res, "isla.moreau")) != 0 {
		t.Error("isla.moreau's 90-day-old key is due at 90 days; due means older than 90 whole days")
	}
	// Oldest first, every one with a plan and a first call (or console steps).
	for i, d := range res.Due {
		if i > 0 && d.CreateDate != nil && res.Due[i-1].CreateDate != nil && d.CreateDate.Before(*res.Due[i-1].CreateDate) {
			t.Errorf("not oldest first: %s (%s) after %s (%s)", d.UserName, d.CreateDate, res.Due[i-1].UserName, res.Due[i-1].CreateDate)
		}
		if len(d.Plan) == 0 || (d.Next == nil && len(d.ConsoleSteps) == 0 && len(d.Choices) == 0) {
			t.Errorf("%s %s has no plan or first step: %+v", d.UserName, d.AccessKeyID, d)
		}
		if d.UserName != RootUser && d.AgeDays <= DefaultMaxAgeDays && d.Case != CaseRetire {
			t.Errorf("%s's key is %d days old, not due", d.UserName, d.AgeDays)
		}
		if d.Next != nil && (d.Next.Tool != ToolRotate || d.Next.Args["access_key_id"] != d.AccessKeyID) {
			t.Errorf("%s's first call: %+v", d.UserName, d.Next)
		}
	}
	// A root key, if the seed plants one (it does as of this writing), is
	// due whatever its age, with the console steps.
	root := dueFor(res, RootUser)
	if len(root) != rootKeys {
		t.Errorf("the report shows %d root keys, the plan %d", rootKeys, len(root))
	}
	for _, d := range root {
		if d.Case != CaseRoot || len(d.ConsoleSteps) == 0 || d.AccessKeyID != "" || d.Plan[0].Step != "root" {
			t.Errorf("root key: %+v", d)
		}
	}
	// IAM calls grow with the users due, not with the account: the report
	// (generated, then read), and one batch of two reads per user due.
	users := map[string]bool{}
	for _, d := range res.Due {
		if d.UserName != RootUser {
			users[d.UserName] = true
		}
	}
	if res.IAMCalls != h.Calls() || res.IAMCalls > 3+2*len(users) {
		t.Errorf("%d IAM calls (host: %d) for %d users due", res.IAMCalls, h.Calls(), len(users))
	}
	if m := mutations(h); len(m) != 0 {
		t.Errorf("the plan changed %v", m)
	}
	md := res.Markdown()
	if !strings.Contains(md, "ci-deploy") || strings.Index(md, "ci-deploy") > strings.Index(md, "legacy-etl") {
		t.Errorf("the summary is not oldest first:\n%s", md)
	}

	// At 80 days, isla.moreau's older key is due, and her two active keys
	// make a person choose.
	isla := dueFor(e.plan(h, 80), "isla.moreau")
	if len(isla) != 1 || isla[0].Case != CaseChoose || len(isla[0].Choices) != 2 || isla[0].OtherKey == nil || isla[0].OtherKey.Status != "Active" || isla[0].Next != nil {
		t.Fatalf("isla.moreau at 80 days: %+v", isla)
	}
	if isla[0].OtherKey.LastUsedDate == nil || isla[0].LastUsedDate == nil {
		t.Errorf("the evidence of isla.moreau's keys lacks their last use: %+v", isla[0])
	}
}

// TestPlanCases: the make_room, in-progress and retire cases, and the
// root. A key unused for 45 days or more is due for retirement whatever
// its age; one unused for 44 days is not (the near miss).
func TestPlanCases(t *testing.T) {
	e := newEnv(t, "")
	spare := e.createUser("dana", 2)
	if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: "dana", AccessKeyID: spare[1], Status: "Inactive"}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	busy := e.createUser("eve", 1)[0]
	fresh := e.createUser("fresh", 1)[0]
	idle := e.createUser("idle", 1)[0]   // never used: retired at 45 days
	e.createUser("almost", 1)            // used 44 days before the plan: rotated (it is 100 days old), not retired
	stale := e.createUser("stale", 1)[0] // used 45 days before the plan: retired
	if err := e.sb.SetRoot(rootWithKey(e.clock.Now().Add(-10 * 24 * time.Hour))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(55 * 24 * time.Hour)
	e.useFor(stale, "s3", "us-east-1")
	e.clock.Advance(24 * time.Hour)
	e.useFor(e.onlyKey("almost"), "s3", "us-east-1")
	e.clock.Advance(44 * 24 * time.Hour)
	for _, k := range []string{spare[0], busy, fresh} {
		e.useFor(k, "s3", "us-east-1")
	}
	h := e.host()
	e.rotate(h, "eve", busy, StepCreate)
	e.createUser("newcomer", 1)

	res := e.plan(h, 90)
	got := map[string]string{}
	for _, d := range res.Due {
		got[d.UserName] = d.Case
	}
	want := map[string]string{"dana": CaseMakeRoom, "eve": CaseInProgress, "fresh": CaseRotate, "almost": CaseRotate, "idle": CaseRetire, "stale": CaseRetire, RootUser: CaseRoot}
	if compactJSON(got) != compactJSON(want) {
		t.Fatalf("cases: %v, want %v", got, want)
	}
	for _, d := range res.Due {
		switch d.UserName {
		case "dana":
			if d.Plan[0].Step != StepMakeRoom || !strings.Contains(d.Reason, spare[1]) {
				t.Errorf("dana: %+v", d)
			}
		case "eve":
			if d.Phase != string(PhaseCreated) || d.Next.Args["step"] != StepNext {
				t.Errorf("eve: %+v", d)
			}
		case "idle", "stale":
			if d.Plan[0].Step != StepRetire || len(d.Plan) != 2 || d.AccessKeyID == "" {
				t.Errorf("%s: %+v", d.UserName, d)
			}
			if d.UserName == "idle" && d.AccessKeyID != idle {
				t.Errorf("idle: %+v", d)
			}
		}
	}
	if res.Counts != (Counts{Rotate: 2, Retire: 2, MakeRoom: 1, Root: 1, InProgress: 1}) {
		t.Errorf("counts: %+v", res.Counts)
	}
	// With a year as the age limit only the retirements (and the root)
	// are due: a key unused for 44 days is not.
	got = map[string]string{}
	for _, d := range e.plan(h, 365).Due {
		got[d.UserName] = d.Case
	}
	if want := (map[string]string{"idle": CaseRetire, "stale": CaseRetire, RootUser: CaseRoot}); compactJSON(got) != compactJSON(want) {
		t.Errorf("cases at 365 days: %v, want %v", got, want)
	}
	// Read-only: the same plans, said to be plans.
	ro := e.plan(e.host(func(o *hostiamtest.Options) { o.ReadOnly = true }), 90)
	if !ro.ReadOnly || len(ro.Due) != len(res.Due) || !strings.Contains(ro.Markdown(), "read-only") {
		t.Errorf("read-only plan: %+v", ro)
	}
}

func TestPlanRefuses(t *testing.T) {
	e := newEnv(t, "demo")
	if _, err := PlanDue(e.host(), PlanInput{MaxAgeDays: -3}, e.opts); hostiam.Code(err) != api.InvalidInput {
		t.Errorf("negative age: %v", err)
	}
	h := e.host(func(o *hostiamtest.Options) { o.Grants = []string{"generate_credential_report"} })
	if _, err := PlanDue(h, PlanInput{}, e.opts); hostiam.Code(err) != api.NotGranted || !strings.Contains(err.Error(), "get_credential_report") {
		t.Errorf("without get_credential_report: %v", err)
	}
}

// TestReportWaitIsBounded: while IAM builds the report, generate is asked
// again with waits in between, a bounded number of times.
func TestReportWaitIsBounded(t *testing.T) {
	var waited time.Duration
	opts := Options{Now: func() time.Time { return t0 }, Sleep: func(d time.Duration) { waited += d }}
	h := &fakeHost{state: "INPROGRESS"}
	_, err := PlanDue(h, PlanInput{}, opts)
	if hostiam.Code(err) != api.ServiceFailure || h.generated != len(reportDelays)+1 {
		t.Fatalf("after %d tries: %v", h.generated, err)
	}
	if waited > 30*time.Second {
		t.Errorf("waited %v for the report, more than a plugin call's time", waited)
	}
	h = &fakeHost{state: "INPROGRESS", completeAfter: 3}
	if _, err := PlanDue(h, PlanInput{}, opts); err != nil || h.generated != 3 {
		t.Errorf("a report complete at the third try: %d tries, %v", h.generated, err)
	}
}

// fakeHost answers the credential report calls only.
type fakeHost struct {
	state         string
	completeAfter int
	generated     int
}

func (f *fakeHost) Call(op string, in, out any) error {
	switch op {
	case "generate_credential_report":
		f.generated++
		st := f.state
		if f.completeAfter > 0 && f.generated >= f.completeAfter {
			st = "COMPLETE"
		}
		*out.(*api.GenerateCredentialReportOutput) = api.GenerateCredentialReportOutput{State: st}
		return nil
	case "get_credential_report":
		b, _ := json.Marshal(api.CredentialReportOutput{GeneratedTime: t0, Rows: []api.CredentialReportRow{}})
		return json.Unmarshal(b, out)
	}
	return &api.Error{Code: api.NotGranted, Message: op}
}
func (f *fakeHost) Batch(reqs []hostiam.Request) []error {
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		errs[i] = f.Call(r.Op, r.In, r.Out)
	}
	return errs
}
func (f *fakeHost) Progress(float64, float64, string) {}
func (f *fakeHost) Info() (*api.HostInfo, error)      { return &api.HostInfo{}, nil }

func rootWithKey(created time.Time) sandbox.RootUser {
	return sandbox.RootUser{AccessKeys: []*sandbox.AccessKey{{Created: created}}}
}

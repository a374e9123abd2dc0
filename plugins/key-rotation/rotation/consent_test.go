package rotation

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam/hostiamtest"
)

// withPerson gives a test host a person (nil: nobody can be asked) and a
// --confirm level.
func withPerson(p gate.Consent, c gate.Confirm) func(*hostiamtest.Options) {
	return func(o *hostiamtest.Options) { o.Person, o.Confirm = p, c }
}

// toCutOver creates a user with one key and rotates it to the cut-over,
// through the admin's accepting host.
func (e *env) toCutOver(user string) (old, n string) {
	e.t.Helper()
	old = e.createUser(user, 1)[0]
	h := e.host()
	n = e.rotate(h, user, old, StepCreate).NewAccessKeyID
	e.toCutOverAt(h, user, old, n, MinQuietHours)
	return old, n
}

// TestConsentOneYesPerStep: under the default --confirm (destructive),
// each step that makes a destructive change asks once, for exactly the
// step's calls, and the steps that make none ask nothing.
func TestConsentOneYesPerStep(t *testing.T) {
	e := newEnv(t, "")
	p := hostiamtest.Accepting()
	h := e.host(withPerson(p, ""))
	old := e.createUser("una", 1)[0]
	asked := func(step string, want ...string) {
		t.Helper()
		if got := p.Asked(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("after step %s the person was asked\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	n := e.rotate(h, "una", old, StepCreate).NewAccessKeyID
	asked("create") // create_access_key and tag_user are not destructive
	e.toCutOverAt(h, "una", old, n, MinQuietHours)
	asked("cutover")
	deactivate := `update_access_key {"user_name":"una","access_key_id":"` + old + `","status":"Inactive"}`
	e.rotate(h, "una", old, StepDeactivate)
	asked("deactivate", deactivate)
	q := p.Questions()[0]
	if !strings.Contains(q.Summary, "step deactivate") || !strings.Contains(q.Summary, "Inactive") || q.Changes[0].Plan == nil || q.Caller.Plugin != "key-rotation" {
		t.Errorf("the deactivate question: %+v", q)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	res := e.rotate(h, "una", old, StepDelete)
	if res.Outcome != OutcomeCompleted {
		t.Fatalf("delete: %s", res.Happened)
	}
	asked("delete", deactivate, `delete_access_key {"user_name":"una","access_key_id":"`+old+`"}; untag_user {"user_name":"una","tag_keys":["`+TagKey(old)+`","`+SealKey(old)+`"]}`)
}

// TestConsentEveryChangeUnderConfirmWrites: --confirm writes asks for
// every step that changes anything, each for the whole step — except the
// tag that records the new key's id after create_access_key, which cannot
// be stated before the key exists and so is asked about on its own.
func TestConsentEveryChangeUnderConfirmWrites(t *testing.T) {
	e := newEnv(t, "")
	p := hostiamtest.Accepting()
	h := e.host(withPerson(p, gate.ConfirmWrites))
	old := e.createUser("val", 1)[0]
	res := e.rotate(h, "val", old, StepCreate)
	n := res.NewAccessKeyID
	got := p.Asked()
	if len(got) != 2 || !strings.HasPrefix(got[0], `tag_user {"user_name":"val","tags":{"`+TagKey(old)+`":"v=2/s=creating/b=`) ||
		!strings.HasSuffix(got[0], `; create_access_key {"user_name":"val"}`) || !strings.Contains(got[1], "s=created/n="+n) {
		t.Fatalf("create under --confirm writes asked %q", got)
	}
	e.toCutOverAt(h, "val", old, n, MinQuietHours)
	e.rotate(h, "val", old, StepDeactivate)
	got = p.Asked()[2:]
	if len(got) != 2 || !strings.Contains(got[0], "s=cutover") || !strings.HasPrefix(got[1], "update_access_key") || !strings.Contains(got[1], "; tag_user") {
		t.Fatalf("cutover and deactivate under --confirm writes asked %q", got)
	}
}

// TestConsentDeclined: a no at any step changes nothing, and the answer
// says so with the same step to ask again.
func TestConsentDeclined(t *testing.T) {
	e := newEnv(t, "")
	no := e.host(withPerson(hostiamtest.Declining(), ""))

	old, _ := e.toCutOver("wes")
	before := e.tags("wes")
	res := e.rotate(no, "wes", old, StepDeactivate)
	if res.Outcome != OutcomeDeclined || !strings.HasPrefix(res.Happened, "declined, nothing changed") || res.Next.Args["step"] != StepDeactivate || len(res.Changes) != 0 {
		t.Fatalf("declined deactivate: %s %s next %+v", res.Outcome, res.Happened, res.Next)
	}
	if !strings.Contains(res.Markdown(), "declined, nothing changed") {
		t.Errorf("the summary does not say it was declined:\n%s", res.Markdown())
	}
	if k := e.key("wes", old); k.Status != "Active" || !reflect.DeepEqual(e.tags("wes"), before) {
		t.Errorf("a declined deactivate changed something: %+v %v", k, e.tags("wes"))
	}
	// Declined at rollback before the deactivation: the unused new key
	// and the state tag stay.
	w := e.createUser("wyn", 1)[0]
	wn := e.rotate(e.host(), "wyn", w, StepCreate).NewAccessKeyID
	if res = e.rotate(no, "wyn", w, StepRollback); res.Outcome != OutcomeDeclined || e.key("wyn", wn) == nil {
		t.Errorf("declined rollback: %s %s", res.Outcome, res.Happened)
	}
	if _, ok := e.state("wyn", w); !ok {
		t.Error("a declined rollback removed the state tag")
	}

	// Declined at delete: the old key stays, inactive.
	yes := e.host()
	e.rotate(yes, "wes", old, StepDeactivate)
	e.clock.Advance(8 * 24 * time.Hour)
	if res = e.rotate(no, "wes", old, StepDelete); res.Outcome != OutcomeDeclined || e.key("wes", old) == nil {
		t.Errorf("declined delete: %s %s", res.Outcome, res.Happened)
	}
	if st, _ := e.state("wes", old); st.Phase != PhaseDeactivated {
		t.Errorf("after a declined delete the phase is %s", st.Phase)
	}

	// Declined at make_room: the inactive key stays.
	ids := e.createUser("xia", 2)
	if err := e.admin.Call("update_access_key", api.UpdateAccessKeyInput{UserName: "xia", AccessKeyID: ids[1], Status: "Inactive"}, &api.Result{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(MinGraceDays * 24 * time.Hour) // the inactive key unused for the grace period
	if res = e.rotate(no, "xia", ids[0], StepMakeRoom); res.Outcome != OutcomeDeclined || len(e.keys("xia")) != 2 {
		t.Errorf("declined make_room: %s %s", res.Outcome, res.Happened)
	}
}

// TestConsentNobodyToAsk: with nobody to ask (a client that cannot
// elicit), a step that needs a yes is refused before any change.
func TestConsentNobodyToAsk(t *testing.T) {
	e := newEnv(t, "")
	old, _ := e.toCutOver("yan")
	h := e.host(withPerson(nil, ""))
	ae := e.rotateErr(h, RotateInput{UserName: "yan", AccessKeyID: old, Step: StepDeactivate})
	if ae.Code != api.ConsentRequired || !strings.Contains(ae.Message, "nothing was changed") {
		t.Errorf("deactivate with nobody to ask: %v", ae)
	}
	if k := e.key("yan", old); k.Status != "Active" || len(mutations(h)) != 0 {
		t.Errorf("deactivate with nobody to ask changed %v", mutations(h))
	}
	// A step with nothing destructive goes ahead.
	z := e.createUser("zed", 1)[0]
	if res := e.rotate(h, "zed", z, StepCreate); res.Outcome != OutcomeAdvanced {
		t.Errorf("create with nobody to ask: %s", res.Happened)
	}
}

// TestConsentOutsideThePlanAskedAgain: the test host decides approvals as
// the runtime does: a change outside the stated plan, or the same one
// twice, is put to the person again.
func TestConsentOutsideThePlanAskedAgain(t *testing.T) {
	e := newEnv(t, "")
	old, n := e.toCutOver("abe")
	p := hostiamtest.NewPerson(gate.Answer{Decision: gate.Accept}, gate.Answer{Decision: gate.Decline})
	h := e.host(withPerson(p, ""))
	h.NewToolCall()
	planned := api.UpdateAccessKeyInput{UserName: "abe", AccessKeyID: old, Status: "Inactive"}
	if err := h.Consent("deactivate the old key", []hostiam.Request{{Op: "update_access_key", In: planned}}); err != nil {
		t.Fatal(err)
	}
	other := api.UpdateAccessKeyInput{UserName: "abe", AccessKeyID: n, Status: "Inactive"}
	if err := h.Call("update_access_key", other, nil); hostiam.Code(err) != api.Declined {
		t.Errorf("a change outside the plan: %v", err)
	}
	if err := h.Call("update_access_key", planned, nil); err != nil {
		t.Errorf("the planned change: %v", err)
	}
	if err := h.Call("update_access_key", planned, nil); hostiam.Code(err) != api.Declined {
		t.Errorf("the planned change a second time: %v", err)
	}
	if got := p.Asked(); len(got) != 3 || !strings.Contains(got[1], n) || !strings.Contains(got[2], old) {
		t.Errorf("questions: %q", got)
	}
	if e.key("abe", n).Status != "Active" {
		t.Error("the change outside the plan ran")
	}
}

// TestConsentPendingThenRerun: with a client that answers in a later
// request, the first run stops at the question, changing nothing; the
// whole tool call runs again once the person has answered, and states the
// same question — so the answer applies — even though the clock moved.
func TestConsentPendingThenRerun(t *testing.T) {
	for _, confirm := range []gate.Confirm{gate.ConfirmDestructive, gate.ConfirmWrites} {
		e := newEnv(t, "")
		old, _ := e.toCutOver("bea")
		p := hostiamtest.NewPerson(gate.Answer{Pending: true}, gate.Answer{Decision: gate.Accept, Via: "test"})
		h := e.host(withPerson(p, confirm))
		ae := e.rotateErr(h, RotateInput{UserName: "bea", AccessKeyID: old, Step: StepDeactivate})
		if ae.Code != api.ConsentRequired || len(mutations(h)) != 0 || e.key("bea", old).Status != "Active" {
			t.Fatalf("%s: the pending run: %v, changes %v", confirm, ae, mutations(h))
		}
		e.clock.Advance(20 * time.Second) // the person reads and answers
		res := e.rotate(h, "bea", old, StepDeactivate)
		if res.Outcome != OutcomeAdvanced || e.key("bea", old).Status != "Inactive" {
			t.Fatalf("%s: the run after the answer: %s %s", confirm, res.Outcome, res.Happened)
		}
		qs := p.Questions()
		if len(qs) != 2 {
			t.Fatalf("%s: %d questions", confirm, len(qs))
		}
		first, second := questionJSON(t, qs[0]), questionJSON(t, qs[1])
		if first != second {
			t.Errorf("%s: the run after the answer asked another question:\n%s\n%s", confirm, first, second)
		}
	}
}

// questionJSON is what a client would compare of two questions: summary,
// operations, decoded inputs and plans.
func questionJSON(t *testing.T, q gate.Question) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Summary string
		Changes []gate.Proposed
	}{q.Summary, q.Changes})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

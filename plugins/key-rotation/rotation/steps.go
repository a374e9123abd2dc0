package rotation

import (
	"fmt"
	"strings"
)

// The steps rotate_access_key takes, in AWS's safe order: plan, make room
// (only when the user already holds two keys), create the new key, wait for
// the cut-over, deactivate the old key, and delete it after a grace period.
// next continues from the state tag; status and plan only read; rollback
// undoes the last reversible step. retire is the other way: a key nothing
// needs (unused for StaleDays, or one of two active keys a person chose)
// is deactivated and deleted after the grace period, with no replacement.
const (
	StepNext       = "next"
	StepStatus     = "status"
	StepPlan       = "plan"
	StepMakeRoom   = "make_room"
	StepCreate     = "create"
	StepCutover    = "cutover"
	StepDeactivate = "deactivate"
	StepDelete     = "delete"
	StepRollback   = "rollback"
	StepRetire     = "retire"
	// StepDone, StepChoose and StepBlocked are where a rotation can stand
	// but not steps one can ask for: finished; waiting for a person to
	// choose which of two active keys to retire; unable to start for
	// another reason (the key is inactive already, another rotation of the
	// user's keys is in progress), which the answer explains.
	StepDone    = "done"
	StepChoose  = "choose"
	StepBlocked = "blocked"
)

// Steps lists the steps a caller may name, for the input schema's enum.
var Steps = []string{StepNext, StepStatus, StepPlan, StepMakeRoom, StepCreate, StepCutover, StepDeactivate, StepDelete, StepRollback, StepRetire}

// action is what a call does once the step it names is checked against
// the rotation's phase.
type action int

const (
	actReport     action = iota // read only: plan or status
	actMakeRoom                 // delete the user's other, inactive key
	actCreate                   // create the new key (or adopt one after an interruption)
	actCutover                  // check the cut-over
	actDeactivate               // make the old key Inactive
	actDelete                   // delete the old key once the grace period is over
	actRollback                 // undo the last reversible step
	actAlready                  // the step asked for is the one that led to this phase: a retry, answered as status
	actRetire                   // deactivate a key nothing needs, to delete it after the grace period
)

// resolve decides what a requested step does in phase p. A step out of
// order is refused with an error that says where the rotation stands and
// which step comes next, so that an assistant that lost track (or a person
// who skips ahead) is put back on the sequence instead of, say, deleting a
// key that something still uses. Repeating the step that produced the
// current phase is not an error: it is what a retry after a timeout looks
// like, and it gets the status.
func resolve(step string, p Phase) (action, error) {
	if step == "" {
		step = StepNext
	}
	refuse := func(why string) (action, error) {
		return 0, fmt.Errorf("step %s is out of order: the rotation is at phase %s (%s); %s. The next step is %s",
			step, p, describePhase(p), why, p.Next())
	}
	switch step {
	case StepPlan, StepStatus:
		return actReport, nil
	case StepNext:
		switch p {
		case PhaseNone:
			// Creating a key is the first change and deserves to be asked
			// for by name: next on a rotation not started only plans.
			return actReport, nil
		case PhaseCreating:
			return actCreate, nil
		case PhaseCreated:
			return actCutover, nil
		case PhaseCutOver:
			return actDeactivate, nil
		case PhaseDeactivated, PhaseRetiring:
			return actDelete, nil
		}
	case StepMakeRoom:
		if p == PhaseNone {
			return actMakeRoom, nil
		}
		return refuse("make_room only frees a slot before the new key is created")
	case StepCreate:
		switch p {
		case PhaseNone, PhaseCreating:
			return actCreate, nil
		case PhaseCreated:
			return actAlready, nil
		case PhaseRetiring:
			return refuse("the key is being retired without a replacement; to rotate it instead, roll back first")
		}
		return refuse("the new key was created already")
	case StepCutover:
		switch p {
		case PhaseCreated:
			return actCutover, nil
		case PhaseCutOver:
			return actAlready, nil
		case PhaseNone, PhaseCreating, PhaseRetiring:
			return refuse("there is no new key to cut over to")
		}
		return refuse("the old key is already deactivated")
	case StepDeactivate:
		switch p {
		case PhaseCutOver:
			return actDeactivate, nil
		case PhaseDeactivated:
			return actAlready, nil
		case PhaseCreated:
			return refuse("the cut-over is not confirmed: something may still use the old key")
		}
		return refuse("there is no new key to take over yet")
	case StepDelete:
		if p == PhaseDeactivated || p == PhaseRetiring {
			return actDelete, nil
		}
		return refuse("the old key is deleted only after it has been Inactive for the grace period")
	case StepRollback:
		if p == PhaseNone {
			return refuse("there is nothing to roll back")
		}
		return actRollback, nil
	case StepRetire:
		switch p {
		case PhaseNone:
			return actRetire, nil
		case PhaseRetiring:
			return actAlready, nil
		}
		return refuse("a rotation of the key is in progress; to retire the key instead, roll the rotation back first")
	default:
		return 0, fmt.Errorf("unknown step %q: the steps are %s", step, strings.Join(Steps, ", "))
	}
	return 0, fmt.Errorf("unknown phase %q", p)
}

// describePhase says in a few words what a phase means.
func describePhase(p Phase) string {
	switch p {
	case PhaseNone:
		return "no change made yet"
	case PhaseCreating:
		return "the new key was being created when the last call stopped"
	case PhaseCreated:
		return "new key created, waiting for the cut-over"
	case PhaseCutOver:
		return "cut-over confirmed, old key still active"
	case PhaseDeactivated:
		return "old key inactive, in its grace period"
	case PhaseRetiring:
		return "key inactive, retired without a replacement, in its grace period"
	case PhaseDone:
		return "old key deleted"
	}
	return "unknown"
}

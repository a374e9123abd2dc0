package rotation

import (
	"fmt"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// A plan is the rotation written out as the catalogue calls each step
// makes, with their arguments, what must hold before each, and how to undo
// it. It is what read-only mode returns instead of acting, what every other
// answer carries for the steps still ahead, and what plan_key_rotation
// gives for every key due — so that a person can review exactly what will
// happen, or do it by hand with the built-in tools.

// Call is one catalogue operation with its arguments, as a person or the
// assistant would make it with the built-in tool of the same name.
type Call struct {
	Op   string         `json:"op" desc:"catalogue operation (also a built-in tool)"`
	Args map[string]any `json:"args"`
	Note string         `json:"note,omitempty" desc:"why this call, or what it checks"`
}

// PlanStep is one step of a rotation.
type PlanStep struct {
	Step          string     `json:"step" desc:"the rotate_access_key step that performs it"`
	Title         string     `json:"title"`
	Status        string     `json:"status" desc:"done, current (the next to perform), pending, or blocked (the next, but a person must act first)" enum:"done,current,pending,blocked"`
	Calls         []Call     `json:"calls" desc:"the catalogue calls the step makes, in order"`
	Preconditions []string   `json:"preconditions" desc:"what the step checks before changing anything"`
	Rollback      string     `json:"rollback" desc:"how to undo the step"`
	RollbackCalls []Call     `json:"rollback_calls,omitempty"`
	NotBefore     *time.Time `json:"not_before,omitempty" desc:"the step cannot run before this time"`
}

// NextCall is the exact call to make next.
type NextCall struct {
	Tool      string         `json:"tool" desc:"a tool name: rotate_access_key, or a built-in catalogue tool"`
	Args      map[string]any `json:"args"`
	NotBefore *time.Time     `json:"not_before,omitempty" desc:"not before this time"`
	Why       string         `json:"why"`
}

// ToolRotate is the name of the rotation tool. The repository's plugins.yaml
// serves the plugin's tools without a prefix; an operator who sets one
// must add it to the names in NextCall.
const ToolRotate = "rotate_access_key"

// rotateCall is the next call of a rotation at the given step.
func rotateCall(user, key, step, why string) *NextCall {
	args := map[string]any{"user_name": user, "access_key_id": key}
	if step != "" {
		args["step"] = step
	}
	return &NextCall{Tool: ToolRotate, Args: args, Why: why}
}

// catalogueCall is a next call to a built-in tool.
func catalogueCall(c Call, why string) *NextCall {
	return &NextCall{Tool: c.Op, Args: c.Args, Why: why}
}

// The catalogue calls a rotation makes.

func callListKeys(user string) Call {
	return Call{Op: "list_access_keys", Args: map[string]any{"user_name": user}}
}
func callLastUsed(key string) Call {
	return Call{Op: "get_access_key_last_used", Args: map[string]any{"access_key_id": key}}
}
func callCreate(user string) Call {
	return Call{Op: "create_access_key", Args: map[string]any{"user_name": user}}
}
func callUpdate(user, key, status string) Call {
	return Call{Op: "update_access_key", Args: map[string]any{"user_name": user, "access_key_id": key, "status": status}}
}
func callDelete(user, key string) Call {
	return Call{Op: "delete_access_key", Args: map[string]any{"user_name": user, "access_key_id": key}}
}

// callTag writes a state value (of a plan: the seal is the server's, made
// when the value is).
func callTag(user, key, value string) Call {
	return Call{Op: "tag_user", Args: map[string]any{"user_name": user, "tags": map[string]string{TagKey(key): value, SealKey(key): sealPlaceholder}}}
}

// callUntag removes the state tag and its seal.
func callUntag(user, key string) Call {
	return Call{Op: "untag_user", Args: map[string]any{"user_name": user, "tag_keys": stateTagKeys(key)}}
}

// stateTagKeys are the tags of key's rotation: its state and its seal.
func stateTagKeys(key string) []string { return []string{TagKey(key), SealKey(key)} }

func note(c Call, n string) Call { c.Note = n; return c }

// planInput is what a plan is built from: the rotation's phase and what
// is known of the keys.
type planInput struct {
	user, oldKey string
	state        *State         // nil: no rotation started
	other        *api.AccessKey // the user's other key when it blocks creation (PhaseNone only)
	makeRoomAt   *time.Time     // when the other key may be deleted (unused for the grace period)
	retire       bool           // the key is retired without a replacement
	oldUse       keyUse         // the old key's last use, before the rotation starts
	graceDays    int
	graceSource  string
}

// The sequences of steps: a rotation (make_room appears only when needed),
// and a retirement.
var (
	stepOrder   = []string{StepMakeRoom, StepCreate, StepCutover, StepDeactivate, StepDelete}
	retireOrder = []string{StepRetire, StepDelete}
)

// currentStep is the step a rotation stands at.
func (in planInput) currentStep() string {
	if in.state == nil {
		switch {
		case in.retire:
			return StepRetire
		case in.other != nil:
			return StepMakeRoom
		}
		return StepCreate
	}
	return in.state.Phase.Next()
}

// grace describes the grace period for the plan.
func (in planInput) grace() string {
	if st := in.state; st != nil && (st.Phase == PhaseDeactivated || st.Phase == PhaseRetiring) {
		return fmt.Sprintf("%d days (fixed when %s was deactivated)", max(st.GraceDays, MinGraceDays), in.oldKey)
	}
	return fmt.Sprintf("%d days (%s)", in.graceDays, in.graceSource)
}

// buildPlan writes out every step of the rotation, marking those done, the
// current one and those still pending.
func buildPlan(in planInput) []PlanStep {
	if in.retire {
		return mark(retirePlan(in), retireOrder, in.currentStep())
	}
	u, k := in.user, in.oldKey
	n := "<new key id>"
	if in.state != nil && in.state.NewKeyID != "" {
		n = in.state.NewKeyID
	}
	grace := in.grace()
	var steps []PlanStep
	if in.state == nil && in.other != nil {
		o := in.other.AccessKeyID
		steps = append(steps, PlanStep{
			Step:  StepMakeRoom,
			Title: fmt.Sprintf("Free a slot: delete %s's other key %s, which is Inactive (IAM allows two keys per user), once it has been unused for the grace period", u, o),
			Calls: []Call{
				note(callListKeys(u), o+" is still Inactive and "+k+" Active"),
				note(callLastUsed(o), "evidence: when "+o+" was last used; IAM does not record when it was deactivated"),
				callDelete(u, o),
			},
			Preconditions: []string{
				o + " is Inactive, so nothing can authenticate with it",
				o + " has been unused for the grace period of " + grace + " (since its last use, or its creation if never used)",
				"no rotation of " + u + "'s keys is in progress",
			},
			Rollback:  "none: a deleted key cannot be restored. It was Inactive and unused for the grace period; if it is needed after all, create a new key",
			NotBefore: in.makeRoomAt,
		})
	}
	needs := "every service and region the old key is seen using during the rotation"
	if p := in.oldUse.Pair; in.state == nil && p.Service != "" && p.Region != "" {
		needs = p.String() + " (" + k + "'s last use) and " + needs
	}
	steps = append(steps,
		PlanStep{
			Step:  StepCreate,
			Title: "Create the new key and record the rotation in a tag on " + u,
			Calls: []Call{
				note(callListKeys(u), k+" is Active and the only key of "+u),
				note(callLastUsed(k), "what "+k+" is used by, and how long it has been quiet: what the cut-over will require"),
				note(callTag(u, k, "v=2/s=creating/b=<now>/q=<hours>/o=<service:region>"), "recorded first, so that a key created by a call that dies is found and adopted"),
				note(callCreate(u), "the secret is written to a file (mode 0600) on the server; the answer gives its path, never the secret"),
				note(callTag(u, k, "v=2/s=created/n="+n+"/c=<its creation date>/q=<hours>/o=<service:region>"), ""),
			},
			Preconditions: []string{
				k + " is Active, and not unused for " + fmt.Sprint(StaleDays) + " days or more (such a key is retired, not rotated)",
				u + " holds no other key (a free slot)",
				"the operator granted every operation the rotation needs: " + joinOps(rotationOps),
			},
			Rollback:      "while nothing uses " + n + ": rotate_access_key step rollback deletes it and removes the state tag; " + k + " was never touched",
			RollbackCalls: []Call{callDelete(u, n), callUntag(u, k)},
		},
		PlanStep{
			Step:  StepCutover,
			Title: "Prove the hand-over: whatever used " + k + " now uses " + n,
			Calls: []Call{
				callLastUsed(k), callLastUsed(n),
				note(callTag(u, k, "v=2/s=cutover/n="+n+"/…/f=<first use of the new key>/u=<now>"), "when the cut-over is proven (or to record what this check saw)"),
			},
			Preconditions: []string{
				n + " is Active and has been used by " + needs,
				k + " has not been used since " + n + " was first seen in use, for at least its usual interval (the longest it was seen unused before the switch, at least " + fmt.Sprint(MinQuietHours) + " hours)",
			},
			Rollback:      "nothing changes in IAM; to abandon the rotation, rotate_access_key step rollback deletes " + n + " if nothing has used it",
			RollbackCalls: []Call{callDelete(u, n), callUntag(u, k)},
		},
		PlanStep{
			Step:  StepDeactivate,
			Title: "Deactivate the old key " + k + " (reversible)",
			Calls: []Call{
				note(callListKeys(u), n+" is still Active"),
				note(callLastUsed(k), k+" has not been used since the cut-over"),
				callUpdate(u, k, "Inactive"),
				note(callTag(u, k, "v=2/s=deactivated/n="+n+"/…/d=<now>/g=<grace days>"), "the grace period: "+grace),
			},
			Preconditions: []string{
				"the cut-over is proven, and the state tag agrees with IAM",
				k + " has not been used since " + n + " was first seen in use",
				n + " exists and is Active",
			},
			Rollback:      "set " + k + " Active again: rotate_access_key step rollback does it and goes back to waiting for the cut-over",
			RollbackCalls: []Call{callUpdate(u, k, "Active")},
		},
		deleteStep(u, k, "Delete the old key "+k+" after a grace period of "+grace, n+" is still Active", "rotation", n+" exists and is Active"),
	)
	if in.state != nil && in.state.Phase == PhaseDeactivated {
		t := in.state.GraceEnds()
		steps[len(steps)-1].NotBefore = &t
	}
	return mark(steps, stepOrder, in.currentStep())
}

// deleteStep is the last step of a rotation or a retirement: the old key
// deleted once its grace period is over and nothing used it since.
func deleteStep(u, k, title, listNote, what string, more ...string) PlanStep {
	return PlanStep{
		Step:  StepDelete,
		Title: title,
		Calls: []Call{
			note(callListKeys(u), listNote),
			note(callLastUsed(k), "nothing used "+k+" after it was deactivated"),
			callDelete(u, k),
			note(callUntag(u, k), "the "+what+" is complete: its state tag goes"),
		},
		Preconditions: append([]string{
			k + " has been Inactive for the whole grace period (at least " + fmt.Sprint(MinGraceDays) + " days, whatever the tag says)",
			"nothing used " + k + " since it was deactivated",
		}, more...),
		Rollback:      "before the delete: rotate_access_key step rollback reactivates " + k + ". After it: none, a deleted key is gone for good",
		RollbackCalls: []Call{callUpdate(u, k, "Active")},
	}
}

// retirePlan is the plan of a key retired without a replacement.
func retirePlan(in planInput) []PlanStep {
	u, k := in.user, in.oldKey
	grace := in.grace()
	steps := []PlanStep{
		{
			Step:  StepRetire,
			Title: "Deactivate " + k + ", which nothing needs, and record its retirement in a tag on " + u,
			Calls: []Call{
				note(callListKeys(u), k+"'s status"),
				note(callLastUsed(k), "evidence: "+k+" is unused for "+fmt.Sprint(StaleDays)+" days or more, or never used"),
				callUpdate(u, k, "Inactive"),
				note(callTag(u, k, "v=2/s=retiring/d=<now>/g=<grace days>"), "the grace period: "+grace),
			},
			Preconditions: []string{
				k + " is unused for " + fmt.Sprint(StaleDays) + " days or more (or never used, or already Inactive, or " + u + " holds another active key and a person chose to retire this one)",
				"no rotation of " + k + " is in progress",
			},
			Rollback:      "rotate_access_key step rollback sets " + k + " Active again and removes the tag",
			RollbackCalls: []Call{callUpdate(u, k, "Active"), callUntag(u, k)},
		},
		deleteStep(u, k, "Delete "+k+" after a grace period of "+grace, k+" is still Inactive", "retirement"),
	}
	if in.state != nil && in.state.Phase == PhaseRetiring {
		t := in.state.GraceEnds()
		steps[1].NotBefore = &t
	}
	return steps
}

// mark sets each step's status from where the rotation stands.
func mark(steps []PlanStep, order []string, current string) []PlanStep {
	pos := indexOf(order, current)
	for i := range steps {
		switch at := indexOf(order, steps[i].Step); {
		case at < pos:
			steps[i].Status = "done"
		case at == pos:
			steps[i].Status = "current"
		default:
			steps[i].Status = "pending"
		}
	}
	return steps
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return len(list)
}

// RootUser is the name the credential report gives the account's root
// user; it cannot be an IAM user's name (IAM names have no '<'), so it
// names the root unambiguously in rotate_access_key's user_name.
const RootUser = "<root_account>"

// rootConsoleSteps are how a person removes the root user's access keys:
// the IAM API cannot list, deactivate or delete them (they belong to the
// root user, not to an IAM user).
var rootConsoleSteps = []string{
	"Find what uses the root key first: the key's \"Last used\" (service and region) on the root user's Security credentials page, and CloudTrail events whose userIdentity.type is Root and accessKeyId is the key.",
	"Give each such workload its own least-privilege credentials instead: an IAM role (best) or an IAM user, and switch it over.",
	"Sign in to the AWS Management Console as the root user (email and password, with MFA).",
	"Open the account menu (top right) → Security credentials → Access keys.",
	"For the key: Actions → Deactivate. Watch for failures for a while (the same grace period as for other keys); Activate it again if something breaks.",
	"Then Actions → Delete, and confirm with the key id. Do not create a new root access key.",
	"While signed in: make sure the root user has MFA enabled.",
}

// rootPlan is the plan for a root access key: never rotated, deleted.
func rootPlan(key string) []PlanStep {
	return []PlanStep{{
		Step:   "root",
		Title:  "Delete the root user's access key " + key + " (do not rotate it): no workload should hold the root user's credentials",
		Status: "current",
		Calls:  []Call{},
		Preconditions: []string{
			"nothing still uses the key (its last use, and CloudTrail, show none since its workloads moved to IAM roles or users)",
			"the person doing it can sign in as the root user, with MFA",
		},
		Rollback: "until deleted, Activate the key again on the same page; a deleted root key cannot be restored",
	}}
}

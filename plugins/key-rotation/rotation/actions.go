package rotation

import (
	"fmt"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The steps that change IAM, each checking its preconditions against what
// the call read (keys, last uses, the state tag) before its first change,
// and recording every change in the answer.

// needGrants refuses to change anything unless the whole rotation is
// granted: a rotation that stops halfway leaves two keys live.
func (r *run) needGrants() error {
	if missing := missingGrants(r.info, rotationOps); len(missing) > 0 {
		return &api.Error{Code: api.NotGranted, Message: fmt.Sprintf("nothing was changed: the operator has not granted this plugin %s, which the rotation needs before it ends (it checks before creating anything, so that it never stops halfway). Grant them in the plugins file: %s",
			joinOps(missing), joinOps(rotationOps))}
	}
	return nil
}

// makeRoom deletes the user's other key, which must be Inactive and unused
// for the grace period, so that the new key has a slot. IAM does not record
// when a key was deactivated, so "inactive for the grace period" rests on
// what IAM does record: the key's last use (its creation, if never used)
// is at least a grace period ago — a key deactivated minutes ago but used
// days ago may still have a job that runs weekly.
func (r *run) makeRoom() (*RotateResult, error) {
	if res := r.blocked(); res != nil {
		return res, nil
	}
	u, k := r.in.UserName, r.in.AccessKeyID
	if stale, why := r.stale(); stale {
		return nil, invalid("step make_room is not needed: %s is %s, so it is retired, not rotated, and needs no free slot: %s", k, why, r.nextFor(PhaseNone).String())
	}
	o := r.other()
	if o == nil {
		return nil, invalid("step make_room is not needed: %s holds only %s, so the new key has a slot: %s", u, k, r.nextFor(PhaseNone).String())
	}
	if err := r.needGrants(); err != nil {
		return nil, err
	}
	id, evidence := o.AccessKeyID, r.usedText(o.AccessKeyID)
	at := r.makeRoomAt(o)
	if at == nil {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing changed: the last use of " + id + " could not be read, and it is deleted only once it has been unused for the grace period; try again later"}
	}
	if r.now.Before(*at) {
		days, _, _ := r.grace()
		return nil, invalid("nothing deleted: %s is Inactive but %s, and IAM does not record when a key was deactivated, so it is deleted only once it has been unused for the grace period of %d days: not before %s. Until then anything that still needs it fails visibly, and %s turns it back on. %s",
			id, evidence, days, at.Format(time.RFC3339), callUpdate(u, id, "Active").Markdown(), r.nextFor(PhaseNone).String())
	}
	if res, err := r.ask(StepMakeRoom, fmt.Sprintf("delete %s's inactive key %s (%s, unused for the grace period) to free a slot for the new key; a deleted key cannot be restored", u, id, evidence),
		r.deleteChange(id)); res != nil || err != nil {
		return res, err
	}
	if err := r.deleteKey(id); err != nil {
		return nil, wrap(err, "nothing was changed: deleting the inactive key %s failed", id)
	}
	return r.finish(OutcomeAdvanced, fmt.Sprintf("deleted %s's inactive key %s (%s) to free a slot for the new key", u, id, evidence),
		r.nextFor(PhaseNone)), nil
}

// retire deactivates a key nothing needs — unused for StaleDays, never
// used, already Inactive, or one of two active keys a person chose — and
// records the retirement, so that the delete step removes it after the
// grace period, with no replacement.
func (r *run) retire() (*RotateResult, error) {
	u, k := r.in.UserName, r.in.AccessKeyID
	stale, why := r.stale()
	last, ok := r.lastUse(k)
	if !ok {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing changed: the last use of " + k + " could not be read; try again later"}
	}
	o := r.other()
	otherActive := o != nil && o.Status == "Active"
	if r.old.Status == "Active" && !stale && last != nil && !otherActive {
		return nil, invalid("step retire refused: %s is %s, within the last %d days, and it is %s's only active key, so something still needs it: rotate it instead (%s). A key is retired without a replacement when it is unused for %d days, never used, already Inactive, or one of two active keys",
			k, r.usedText(k), StaleDays, u, rotateCall(u, k, StepCreate, "").String(), StaleDays)
	}
	if err := r.needGrants(); err != nil {
		return nil, err
	}
	days, source, err := r.grace()
	if err != nil {
		return nil, err
	}
	st := State{Phase: PhaseRetiring, Deactivated: r.stamp(), GraceDays: days}
	var changes []change
	what := "record that it was found Inactive now"
	if r.old.Status == "Active" {
		changes = append(changes, r.statusChange(k, "Inactive"))
		what = "make it Inactive (anything still using it fails at once; step rollback turns it back on)"
	}
	c, err := r.tagChange(st)
	if err != nil {
		return nil, err
	}
	reason := "the person's choice between two active keys"
	switch {
	case stale:
		reason = why
	case last == nil:
		reason = "never used"
	case r.old.Status != "Active":
		reason = "Inactive already, " + r.usedText(k)
	}
	if res, err := r.ask(StepRetire, fmt.Sprintf("retire %s without a replacement (%s): %s, and record a grace period of %d days (%s) before it may be deleted", k, reason, what, days, source),
		append(changes, c)...); res != nil || err != nil {
		return res, err
	}
	if err := r.deactivateAndRecord(st, StepRetire, "its retirement"); err != nil {
		return nil, err
	}
	return r.finish(OutcomeAdvanced, fmt.Sprintf("retiring %s (%s): it is Inactive, so anything still using it now fails, and step rollback turns it back on. It may be deleted after a grace period of %d days (%s), at %s, if nothing has failed",
		k, reason, days, source, st.GraceEnds().Format(time.RFC3339)), r.nextFor(PhaseRetiring)), nil
}

// createdKey is create_access_key's output without the secret: the
// plugin never decodes a secret, whatever the host sends.
type createdKey struct {
	AccessKey  api.AccessKey `json:"access_key"`
	SecretFile string        `json:"secret_file"`
	// Over HTTP the server keeps the secret behind a one-time link for
	// the caller instead of a file.
	SecretLink        string `json:"secret_link"`
	SecretLinkExpires string `json:"secret_link_expires"`
}

// create creates the new key: the state tag first (phase creating, with
// what the old key was last used by and how long it had been quiet), then
// the key, then the tag again with the key's id. A call that dies between
// the two tag writes leaves phase creating, and the next call adopts the
// key it finds.
func (r *run) create() (*RotateResult, error) {
	u, k := r.in.UserName, r.in.AccessKeyID
	if r.state != nil && r.state.Phase == PhaseCreating {
		if res, err, done := r.adopt(); done {
			return res, err
		}
	} else {
		if res := r.blocked(); res != nil {
			return res, nil
		}
		if stale, why := r.stale(); stale {
			return nil, invalid("step create refused: %s is %s. A key unused for %d days or more is retired (deactivated, then deleted after the grace period), not rotated: nothing needs a replacement. %s",
				k, why, StaleDays, rotateCall(u, k, StepRetire, "").String())
		}
		if o := r.other(); o != nil {
			return nil, invalid("step create is out of order: %s holds two keys (%s and the inactive %s), and IAM allows two; free a slot first: %s",
				u, k, o.AccessKeyID, r.nextFor(PhaseNone).String())
		}
	}
	if err := r.needGrants(); err != nil {
		return nil, err
	}
	var changes []change
	st := State{}
	if r.state != nil {
		st = *r.state
	} else {
		if _, ok := r.lastUse(k); !ok {
			return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing was created: the last use of " + k + " could not be read, and the cut-over proof starts from it; try again later"}
		}
		st = State{Phase: PhaseCreating, Began: r.stamp(), QuietHours: MinQuietHours}
		if w := seeOld(&st, r.now, useOf(r.used[k]), true); w != "" {
			r.res.Warnings = append(r.res.Warnings, w)
		}
		c, err := r.tagChange(st)
		if err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	changes = append(changes, r.createChange())
	if res, err := r.ask(StepCreate, "record the rotation in a tag on "+u+", then create "+u+"'s new access key (its secret goes to a file on the server, never to the conversation); until something uses it, step rollback deletes it",
		changes...); res != nil || err != nil {
		return res, err
	}
	if r.state == nil {
		if err := r.writeState(st); err != nil {
			return nil, wrap(err, "nothing was created: recording the rotation's state on %s failed (tag_user)", u)
		}
	}
	var out createdKey
	if err := r.mutate(r.createChange(), &out); err != nil {
		msg := "the state tag was removed again"
		if uerr := r.removeState(); uerr != nil {
			msg = "and removing the state tag failed too (" + uerr.Error() + "): remove it with " + callUntag(u, k).Markdown()
		}
		return nil, wrap(err, "no new key was created for %s (create_access_key failed; %s)", u, msg)
	}
	return r.recordCreated(st, out.AccessKey, secretAt{file: out.SecretFile, link: out.SecretLink, expires: out.SecretLinkExpires},
		fmt.Sprintf("created the new key %s for %s", out.AccessKey.AccessKeyID, u))
}

// adopt finishes a create step that was interrupted: the key it finds
// created after the rotation began is the new key. done is false when no
// key was created, and the create step goes ahead.
func (r *run) adopt() (res *RotateResult, err error, done bool) {
	u := r.in.UserName
	o := r.other()
	if o == nil {
		return nil, nil, false
	}
	// The user held only the old key when the rotation began (create
	// requires it), so another key created since is the interrupted
	// call's. A few minutes of slack absorb clock differences.
	if o.CreateDate.Before(r.state.Began.Add(-clockSlack)) {
		return nil, invalid("the rotation of %s was interrupted while creating its new key, and %s now holds %s, created %s, before the rotation began (%s): it is not the rotation's key. Decide what it is for, then start again: %s",
			r.in.AccessKeyID, u, o.AccessKeyID, o.CreateDate.UTC().Format(time.RFC3339), r.state.Began.Format(time.RFC3339),
			rotateCall(u, r.in.AccessKeyID, StepRollback, "").String()), true
	}
	c, err := r.tagChange(r.createdState(*r.state, *o))
	if err != nil {
		return nil, err, true
	}
	if res, err := r.ask(StepCreate, fmt.Sprintf("record %s, created by the create step that was interrupted, as the rotation's new key in its tag", o.AccessKeyID), c); res != nil || err != nil {
		return res, err, true
	}
	res, err = r.recordCreated(*r.state, *o, secretAt{},
		fmt.Sprintf("the last create step was interrupted after IAM created %s (at %s); adopted it as the new key", o.AccessKeyID, o.CreateDate.UTC().Format(time.RFC3339)))
	if err == nil {
		res.Warnings = append(res.Warnings, "the secret of "+o.AccessKeyID+" was written when the key was created, to the server's secrets directory (with the default file sink, as "+o.AccessKeyID+".json); this call cannot tell the path. If it cannot be found, roll back (rotate_access_key step rollback deletes the unused key) and create again")
	}
	return res, err, true
}

// secretAt is where create_access_key said the new secret is: a file on
// the server, or (over HTTP) a one-time link for the caller.
type secretAt struct{ file, link, expires string }

// recordCreated moves the state to phase created with the new key.
func (r *run) recordCreated(st State, key api.AccessKey, at secretAt, happened string) (*RotateResult, error) {
	secretFile := at.file
	u := r.in.UserName
	st = r.createdState(st, key)
	if r.key(key.AccessKeyID) == nil {
		r.keys = append(r.keys, key)
		r.old = r.key(r.in.AccessKeyID)
		r.used[key.AccessKeyID] = &api.AccessKeyLastUsedOutput{AccessKeyID: key.AccessKeyID} // brand new: never used
	}
	if err := r.writeState(st); err != nil {
		where := ""
		if secretFile != "" {
			where = " (its secret is in " + secretFile + ")"
		}
		if at.link != "" {
			where = " (its secret waits behind the one-time link " + at.link + ", until " + at.expires + ")"
		}
		return nil, wrap(err, "the new key %s was created%s, but recording it in the state tag failed; call %s again to record it (the rotation adopts the key)",
			key.AccessKeyID, where, rotateCall(u, r.in.AccessKeyID, StepCreate, "").String())
	}
	res := r.finish(OutcomeAdvanced, happened+". Give it to whatever uses "+r.in.AccessKeyID+" ("+r.usedText(r.in.AccessKeyID)+"), switch that over, then check the cut-over",
		r.nextFor(PhaseCreated))
	res.SecretFile = secretFile
	res.SecretLink, res.SecretLinkExpires = at.link, at.expires
	res.SecretNote = r.secretNote(secretFile, at)
	if at.link != "" {
		res.Happened += ". Its secret waits on the server behind a one-time link, " + at.link + ", until " + at.expires + ": fetch it once with the same credentials as this MCP connection (curl -H \"Authorization: Bearer $TOKEN\" " + at.link + ") and put it where it is used"
	} else if secretFile != "" {
		res.Happened += ". Its secret is in " + secretFile + " on the server (mode 0600, readable only by the server's user): hand the file over, and delete it once the secret is stored where it is used"
	} else if happened != "" && !strings.Contains(happened, "adopted") {
		res.Warnings = append(res.Warnings, "the server gave no secret file for "+key.AccessKeyID+": a plugin is never handed secrets; ask the operator where the server put it (--secrets-dir)")
	}
	return res, nil
}

// createdState is st moved to phase created with the new key.
func (r *run) createdState(st State, key api.AccessKey) State {
	st.Phase, st.NewKeyID, st.Began = PhaseCreated, key.AccessKeyID, time.Time{}
	st.NewCreated = key.CreateDate.UTC().Truncate(time.Second)
	if st.NewCreated.IsZero() {
		st.NewCreated = r.stamp()
	}
	return st
}

// newKeyUsable stops the rotation when its new key is gone or inactive:
// retiring the old key then would leave the user without a working key.
func (r *run) newKeyUsable() *RotateResult {
	u, k, n := r.in.UserName, r.in.AccessKeyID, r.state.NewKeyID
	nk := r.key(n)
	switch {
	case nk == nil:
		return r.finish(OutcomeStopped, fmt.Sprintf("nothing changed: the new key %s no longer exists (deleted outside this rotation), so %s must not be retired. Roll back (which removes the state tag and leaves %s as it is), then start again", n, k, k),
			rotateCall(u, k, StepRollback, "end this rotation; then plan a new one"))
	case nk.Status != "Active":
		return r.finish(OutcomeStopped, fmt.Sprintf("nothing changed: the new key %s is Inactive, so nothing can use it and %s must not be retired. If it was deactivated by mistake, set it Active again and repeat this step", n, k),
			catalogueCall(callUpdate(u, n, "Active"), "only if "+n+" was deactivated by mistake; otherwise roll back"))
	}
	return nil
}

// cutover checks whether whatever used the old key now uses the new one:
// it records what this check sees (proof.go) and confirms the cut-over
// once the proof holds; otherwise it says what is missing and when to
// check again.
func (r *run) cutover() (*RotateResult, error) {
	k := r.in.AccessKeyID
	if res := r.newKeyUsable(); res != nil {
		return res, nil
	}
	st := cloneState(*r.state)
	n := st.NewKeyID
	if _, ok := r.lastUse(k); !ok {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing changed: the last use of " + k + " could not be read (see the warnings of the status step); try again later"}
	}
	if t, ok := r.lastUse(n); !ok {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing changed: the last use of " + n + " could not be read (see the warnings of the status step); try again later"}
	} else if t != nil {
		// The new key has been used: its secret has reached what uses it,
		// and the copy on the server goes (the server checks the use
		// again). Harmless to repeat, so made before the step's plan: a
		// check run again finds no file, and says so.
		r.removeSecretFile(n)
	}
	v, changed := judge(&st, r.now, useOf(r.used[k]), useOf(r.used[n]))
	if v.Unrecordable != "" {
		r.res.Warnings = append(r.res.Warnings, v.Unrecordable)
	}
	if v.Confirmed {
		st.Phase, st.CutOver = PhaseCutOver, r.stamp()
		if _, err := fitState(&st); err != nil {
			return nil, &api.Error{Code: api.Internal, Message: err.Error()}
		}
		if res, err := r.tagAsk(StepCutover, fmt.Sprintf("record in the rotation's tag that the cut-over to %s is proven", n), st); res != nil || err != nil {
			return res, err
		}
		if err := r.writeState(st); err != nil {
			return nil, wrap(err, "nothing changed in the keys: the cut-over is proven but recording it in the state tag failed; check again")
		}
		covered := "the old key was not seen used by any service during the rotation"
		if len(st.Seen) > 0 {
			var ps []Pair
			for _, p := range st.Seen {
				ps = append(ps, p.Pair)
			}
			covered = n + " was seen used by " + pairList(ps) + ", as " + k + " was"
		}
		return r.finish(OutcomeAdvanced, fmt.Sprintf("the cut-over is proven: %s; and %s (%s) has not been used since %s was first seen in use (%s), for %d hours, its usual interval",
			covered, k, r.usedText(k), n, st.FirstUse.Format(time.RFC3339), max(st.QuietHours, MinQuietHours)),
			r.nextFor(PhaseCutOver)), nil
	}
	var dropped []Pair
	if changed {
		var err error
		if dropped, err = fitState(&st); err != nil {
			return r.finish(OutcomeStopped, fmt.Sprintf("stopped: %s was seen used by more services and regions (%s) than the rotation's state tag can hold, so the hand-over cannot be proven from IAM's data. Find every user of %s (CloudTrail events with accessKeyId %s), switch them to %s, then roll back and rotate again, or retire %s once nothing uses it",
				k, pairList(st.Missing()), k, k, n, k), rotateCall(r.in.UserName, k, StepRollback, "abandon this rotation")), nil
		}
		if res, err := r.tagAsk(StepCutover, "record in the rotation's tag what this cut-over check saw of "+k+" and "+n, st); res != nil || err != nil {
			return res, err
		}
		if err := r.writeState(st); err != nil {
			return nil, wrap(err, "nothing changed in the keys: recording what the check saw in the state tag failed")
		}
	}
	if len(dropped) > 0 {
		r.res.Warnings = append(r.res.Warnings, "to fit the state tag, the services and regions the new key has already covered were dropped from it ("+pairList(dropped)+"); if the old key is seen there again, the new key must be seen there again too")
	}
	var missing []string
	next := r.nextFor(PhaseCreated)
	later := r.now.Add(time.Hour)
	switch {
	case v.NewUnused:
		missing = append(missing, "nothing has used "+n+" yet: switch whatever uses "+k+" ("+r.usedText(k)+") to it")
		next.NotBefore = &later
	case v.OldSince:
		missing = append(missing, fmt.Sprintf("%s is %s, not before %s's first use seen (%s): something still uses the old key. Find it (the service and region, or CloudTrail events with accessKeyId %s) and switch it to %s",
			k, r.usedText(k), n, st.FirstUse.Format(time.RFC3339), k, n))
		next.NotBefore = &later
	}
	if len(v.Missing) > 0 {
		missing = append(missing, fmt.Sprintf("%s has not been seen used by %s, as %s was; IAM shows only a key's latest use, so check again after those jobs have run with %s", n, pairList(v.Missing), k, n))
		next.NotBefore = &later
	}
	if v.Unrecordable != "" {
		missing = append(missing, "the old key's latest use cannot be recorded (see the warnings)")
		next.NotBefore = &later
	}
	if !v.NewUnused && !v.OldSince && r.now.Before(v.QuietUntil) {
		missing = append(missing, fmt.Sprintf("%s must stay unused until %s: %d hours after %s was first seen in use, its usual interval (the longest it was seen unused before the switch, at least %d hours)",
			k, v.QuietUntil.Format(time.RFC3339), max(st.QuietHours, MinQuietHours), n, MinQuietHours))
		if next.NotBefore == nil || next.NotBefore.Before(v.QuietUntil) {
			q := v.QuietUntil
			next.NotBefore = &q
		}
	}
	what := "nothing changed"
	if changed {
		what = "recorded what this check saw"
	}
	return r.finish(OutcomeWaiting, fmt.Sprintf("checked, %s; the cut-over is not proven yet: %s", what, strings.Join(missing, "; ")), next), nil
}

// deactivate makes the old key Inactive, after checking once more that
// nothing used it since the new key's first use; the proof itself was
// checked against IAM when the call read the state (checkState).
func (r *run) deactivate() (*RotateResult, error) {
	k := r.in.AccessKeyID
	if res := r.newKeyUsable(); res != nil {
		return res, nil
	}
	st := cloneState(*r.state)
	ref := st.FirstUse
	oldLast, ok := r.lastUse(k)
	if !ok {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing changed: the last use of " + k + " could not be read; try again later"}
	}
	if oldLast != nil && !oldLast.Before(ref) {
		// Used after the cut-over: back to waiting, and the next check
		// needs the old key unused after the new key's latest use.
		st.Phase, st.CutOver = PhaseCreated, time.Time{}
		if newLast, _ := r.lastUse(st.NewKeyID); newLast != nil && newLast.After(st.FirstUse) {
			st.FirstUse = *newLast
		}
		seeOld(&st, r.now, useOf(r.used[k]), false)
		if _, err := fitState(&st); err != nil {
			return nil, &api.Error{Code: api.Internal, Message: err.Error()}
		}
		if res, err := r.tagAsk(StepDeactivate, fmt.Sprintf("%s was used after the cut-over, so it stays Active: record in the rotation's tag that it waits for the cut-over again", k), st); res != nil || err != nil {
			return res, err
		}
		if err := r.writeState(st); err != nil {
			return nil, wrap(err, "nothing changed in the keys: %s was used after the cut-over, and recording that in the state tag failed", k)
		}
		return r.finish(OutcomeStopped, fmt.Sprintf("stopped, %s was NOT deactivated: it was %s, after the cut-over (the new key's use at %s), so something still depends on it. Find it (the service and region, or CloudTrail events with accessKeyId %s), switch it to %s, then check the cut-over again",
			k, r.usedText(k), ref.Format(time.RFC3339), k, st.NewKeyID), r.nextFor(PhaseCreated)), nil
	}
	days, source, err := r.grace()
	if err != nil {
		return nil, err
	}
	st.Phase, st.Deactivated, st.GraceDays = PhaseDeactivated, r.stamp(), days
	var changes []change
	if r.old.Status == "Active" {
		changes = append(changes, r.statusChange(k, "Inactive"))
	}
	c, err := r.tagChange(st)
	if err != nil {
		return nil, err
	}
	if res, err := r.ask(StepDeactivate, fmt.Sprintf("make the old key %s Inactive (anything still using it fails at once; step rollback turns it back on), and record in the rotation's tag a grace period of %d days (%s) before it may be deleted", k, days, source),
		append(changes, c)...); res != nil || err != nil {
		return res, err
	}
	if err := r.deactivateAndRecord(st, StepDeactivate, "it"); err != nil {
		return nil, err
	}
	return r.finish(OutcomeAdvanced, fmt.Sprintf("deactivated %s: anything still using it now fails, and step rollback turns it back on. It may be deleted after a grace period of %d days (%s), at %s, if nothing has failed",
		k, days, source, st.GraceEnds().Format(time.RFC3339)), r.nextFor(PhaseDeactivated)), nil
}

// deactivateAndRecord makes the old key Inactive (unless it already is)
// and then writes the state tag; a failure of the tag after the key
// changed says how to undo it and how to record it again.
func (r *run) deactivateAndRecord(st State, step, what string) error {
	u, k := r.in.UserName, r.in.AccessKeyID
	if r.old.Status == "Active" {
		if err := r.setStatus(k, "Inactive"); err != nil {
			return wrap(err, "nothing changed: deactivating %s failed", k)
		}
	}
	if err := r.writeState(st); err != nil {
		return wrap(err, "%s is Inactive (undo: %s), but recording %s in the state tag failed; call %s again to record it",
			k, callUpdate(u, k, "Active").Markdown(), what, rotateCall(u, k, step, "").String())
	}
	return nil
}

// delete deletes the old key once its grace period is over, if nothing
// used it since it was deactivated; for a rotation, only while the new key
// is Active. explicit is false when the step came from next: before the
// grace period ends, next waits; delete refuses.
//
// The grace period that applies is never less than MinGraceDays, whatever
// the tag says, and the deactivation time it runs from was checked against
// IAM (checkState): not in the future, not before the keys existed, and —
// below — after the old key's last use. So the old key is deleted only
// once IAM shows it unused for at least MinGraceDays.
func (r *run) delete(explicit bool) (*RotateResult, error) {
	u, k := r.in.UserName, r.in.AccessKeyID
	st := *r.state
	if r.in.GraceDays != nil && *r.in.GraceDays != st.GraceDays {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("grace_days is ignored after %s was deactivated: the grace period was fixed at %d days then", k, max(st.GraceDays, MinGraceDays)))
	}
	if st.GraceDays < MinGraceDays {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("the state tag says g=%d, below the minimum grace period of %d days, which applies instead: the tag was edited outside this tool", st.GraceDays, MinGraceDays))
	}
	if r.old.Status == "Active" {
		return r.finish(OutcomeStopped, fmt.Sprintf("nothing deleted: %s is Active again (someone reactivated it after it was deactivated, perhaps because something failed). Roll back to record that", k),
			rotateCall(u, k, StepRollback, "records that "+k+" is active again")), nil
	}
	oldLast, ok := r.lastUse(k)
	if !ok {
		return nil, &api.Error{Code: api.ServiceFailure, Message: "nothing deleted: the last use of " + k + " could not be read; try again later"}
	}
	if oldLast != nil && !oldLast.Before(st.Deactivated) {
		then := "go through the cut-over again"
		if st.NewKeyID != "" {
			then = "switch it to " + st.NewKeyID + ", and go through the cut-over again"
		}
		return r.finish(OutcomeStopped, fmt.Sprintf("stopped, %s was NOT deleted: it was %s, after it was deactivated at %s (reactivated and used meanwhile, or the state tag's deactivation time is wrong). Roll back to reactivate %s if something needs it, then find it (CloudTrail events with accessKeyId %s), %s",
			k, r.usedText(k), st.Deactivated.Format(time.RFC3339), k, k, then),
			rotateCall(u, k, StepRollback, "reactivates "+k)), nil
	}
	ends := st.GraceEnds()
	if r.now.Before(ends) {
		if explicit {
			return nil, invalid("nothing deleted: %s's grace period of %d days runs until %s (it was deactivated %s); delete it after that: %s",
				k, max(st.GraceDays, MinGraceDays), ends.Format(time.RFC3339), st.Deactivated.Format(time.RFC3339), r.nextFor(st.Phase).String())
		}
		return r.finish(OutcomeWaiting, fmt.Sprintf("nothing changed: %s is in its grace period until %s; if something fails meanwhile, roll back (step rollback reactivates it)", k, ends.Format(time.RFC3339)),
			r.nextFor(st.Phase)), nil
	}
	replaced := "it is retired without a replacement"
	if st.Phase == PhaseDeactivated {
		if res := r.newKeyUsable(); res != nil {
			return res, nil
		}
		replaced = st.NewKeyID + " replaces it"
	}
	if res, err := r.ask(StepDelete, fmt.Sprintf("delete the old key %s, Inactive since %s with nothing failing (this cannot be undone), and remove the rotation's state tag: %s", k, st.Deactivated.Format(time.RFC3339), replaced),
		r.deleteChange(k), r.untagChange()); res != nil || err != nil {
		return res, err
	}
	if err := r.deleteKey(k); err != nil {
		return nil, wrap(err, "nothing changed: deleting %s failed", k)
	}
	r.done = true
	what := "the rotation is complete, and " + replaced
	next := catalogueCall(callListKeys(u), "optional: check that "+u+" holds only "+st.NewKeyID)
	if st.Phase == PhaseRetiring {
		what = "the retirement is complete"
		next = catalogueCall(callListKeys(u), "optional: check "+u+"'s keys")
	}
	res := r.finish(OutcomeCompleted, fmt.Sprintf("deleted %s after its grace period: %s", k, what), next)
	if err := r.removeState(); err != nil {
		res.Warnings = append(res.Warnings, "the rotation's state tag could not be removed ("+err.Error()+"): remove it with "+callUntag(u, k).Markdown())
	}
	return res, nil
}

// rollback undoes the last reversible step: before the old key is
// deactivated, it deletes the new key if nothing has used it and ends the
// rotation; after, it reactivates the old key and goes back to waiting for
// the cut-over. A retirement is undone by reactivating the key and
// removing the tag.
func (r *run) rollback() (*RotateResult, error) {
	u, k := r.in.UserName, r.in.AccessKeyID
	st := cloneState(*r.state)
	if st.Phase == PhaseDeactivated {
		// What was seen of the old key's uses and interval stays: the
		// next cut-over must prove at least as much.
		back := State{Phase: PhaseCreated, NewKeyID: st.NewKeyID, NewCreated: st.NewCreated, QuietHours: st.QuietHours, Seen: st.Seen, Restarted: r.stamp()}
		var changes []change
		if r.old.Status != "Active" {
			changes = append(changes, r.statusChange(k, "Active"))
		}
		c, err := r.tagChange(back)
		if err != nil {
			return nil, err
		}
		if res, err := r.ask(StepRollback, fmt.Sprintf("turn the old key %s back on (Active), and record in the rotation's tag that it waits for the cut-over to %s again", k, st.NewKeyID),
			append(changes, c)...); res != nil || err != nil {
			return res, err
		}
		if r.old.Status != "Active" {
			if err := r.setStatus(k, "Active"); err != nil {
				return nil, wrap(err, "nothing changed: reactivating %s failed; try %s", k, callUpdate(u, k, "Active").Markdown())
			}
		}
		st = back
		if err := r.writeState(st); err != nil {
			return nil, wrap(err, "%s is Active again, but recording the rollback in the state tag failed; call %s again", k, rotateCall(u, k, StepRollback, "").String())
		}
		return r.finish(OutcomeRolledBack, fmt.Sprintf("reactivated %s: whatever failed without it works again. The rotation is back to waiting for the cut-over: find what still uses %s (%s), switch it to %s, then check the cut-over",
			k, k, r.usedText(k), st.NewKeyID), r.nextFor(PhaseCreated)), nil
	}
	// Before deactivation the old key still works: undoing means removing
	// the new key, which is safe only while nothing uses it. A retirement
	// has no new key: undoing it turns the key back on.
	var what, plan []string
	var changes []change
	n := st.NewKeyID
	deleteNew := n != "" && r.key(n) != nil
	if deleteNew {
		if t, ok := r.lastUse(n); !ok || t != nil {
			return nil, &api.Error{Code: api.InvalidInput, Message: fmt.Sprintf("nothing changed: the new key %s is %s, so deleting it could break what uses it; %s still works. To abandon the rotation anyway, switch those back to %s, then: %s, %s, %s",
				n, r.usedText(n), k, k, callUpdate(u, n, "Inactive").Markdown(), callDelete(u, n).Markdown(), callUntag(u, k).Markdown())}
		}
		changes, plan = append(changes, r.deleteChange(n)), append(plan, "delete the unused new key "+n)
	}
	if r.old.Status != "Active" {
		changes, plan = append(changes, r.statusChange(k, "Active")), append(plan, "turn "+k+" back on")
	}
	changes, plan = append(changes, r.untagChange()), append(plan, "remove the rotation's state tag")
	abandon := "abandon the rotation"
	if st.Phase == PhaseRetiring {
		abandon = "abandon the retirement"
	}
	if res, err := r.ask(StepRollback, abandon+": "+strings.Join(plan, ", ")+"; "+k+" stays", changes...); res != nil || err != nil {
		return res, err
	}
	if deleteNew {
		if err := r.deleteKey(n); err != nil {
			return nil, wrap(err, "nothing changed: deleting the unused new key %s failed", n)
		}
		what = append(what, "deleted the unused new key "+n)
	}
	if r.old.Status != "Active" {
		if err := r.setStatus(k, "Active"); err != nil {
			return nil, wrap(err, "reactivating %s failed", k)
		}
		what = append(what, "reactivated "+k)
	}
	if err := r.removeState(); err != nil {
		return nil, wrap(err, "%s, but removing the state tag failed; remove it with %s", strings.Join(append(what, "nothing else"), ", "), callUntag(u, k).Markdown())
	}
	what = append(what, "removed the rotation's state tag")
	r.state = nil
	res := r.finish(OutcomeRolledBack, strings.Join(what, ", ")+": the "+strings.TrimPrefix(abandon, "abandon the ")+" is abandoned and "+k+" is Active",
		rotateCall(u, k, StepPlan, "to start again"))
	if st.Phase == PhaseCreating {
		if o := r.other(); o != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s also holds %s (created %s), which the interrupted create step may have made; delete it with %s if nothing needs it",
				u, o.AccessKeyID, o.CreateDate.UTC().Format(time.RFC3339), callDelete(u, o.AccessKeyID).Markdown()))
		}
	}
	return res, nil
}

// tagAsk states a step whose only change is writing st to the state tag.
func (r *run) tagAsk(step, summary string, st State) (*RotateResult, error) {
	c, err := r.tagChange(st)
	if err != nil {
		return nil, err
	}
	return r.ask(step, summary, c)
}

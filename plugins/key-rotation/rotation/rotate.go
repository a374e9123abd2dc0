// Package rotation is the key-rotation plugin's workflow: rotating an IAM
// user's access key in AWS's safe order (create the new key, wait until
// whatever used the old key uses the new one, deactivate the old key,
// delete it after a grace period), one resumable step per call, and
// planning which keys are due.
//
// It talks to IAM only through hostiam.Host — the SDK's host functions
// inside the Wasm plugin, the real gate and catalogue on the embedded
// sandbox in tests — and imports nothing else but the standard library and
// sdk/api, so it builds natively (where its tests run) and for wasip1
// (where the plugin runs). docs/key-rotation.md describes it for people.
package rotation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// Options are what the workflow takes from its surroundings rather than
// from the host: the clock and a way to wait. Inside the plugin they are
// WASI's; tests move a fake clock shared with the sandbox. The zero value
// uses the real ones.
type Options struct {
	Now   func() time.Time
	Sleep func(time.Duration)
}

func (o Options) now() time.Time {
	t := time.Now()
	if o.Now != nil {
		t = o.Now()
	}
	// IAM reports times to the second; so does the state tag.
	return t.UTC().Truncate(time.Second)
}

func (o Options) sleep(d time.Duration) {
	if o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}

// The grace period between deactivating the old key and deleting it: long
// enough for a weekly job to run and fail visibly, which is when a forgotten
// user of the old key shows up. It comes from rotate_access_key's
// grace_days, else the plugin's grace_days config (plugins.yaml), else
// DefaultGraceDays; it is fixed in the state tag when the old key is
// deactivated, so that a later call cannot shorten it by accident. It is
// never less than MinGraceDays, whatever the argument, the config or the
// state tag says: the tag can be rewritten by anyone allowed iam:TagUser,
// and a key deleted is gone for good. Deleting sooner is a person's
// decision, made with delete_access_key directly.
const (
	DefaultGraceDays = 7
	MinGraceDays     = 7
	MaxGraceDays     = 365
	// ConfigGraceDays is the plugin config key that sets the default.
	ConfigGraceDays = "grace_days"
)

// StaleDays: a key unused for this many days (or never used and this old)
// is retired — deactivated, then deleted after the grace period — and not
// rotated: nothing needs it, so it needs no replacement. 45 days, as the
// CIS AWS Foundations Benchmark (1.12, "credentials unused for 45 days or
// greater are disabled") and AWS Config's iam-user-unused-credentials-check
// use.
const StaleDays = 45

// rotationOps are the operations a rotation needs from start to end. The
// create step refuses to start unless all are granted, so that a rotation
// never stops halfway for lack of a grant, with two keys live.
var rotationOps = []string{
	"list_access_keys", "get_access_key_last_used", "create_access_key", "update_access_key",
	"delete_access_key", "list_user_tags", "tag_user", "untag_user",
}

// rootOps are the reads that prove a key is the root user's: the credential
// report's root row (the IAM API lists no root key).
var rootOps = []string{"generate_credential_report", "get_credential_report"}

// RotateOps are the operations rotate_access_key declares: the rotation's,
// and the reads of the root key check.
func RotateOps() []string { return append(append([]string(nil), rotationOps...), rootOps...) }

// RotateInput is rotate_access_key's input.
type RotateInput struct {
	UserName    string `json:"user_name" desc:"the IAM user who owns the key; <root_account> for a key of the root user (never rotated: you get the steps to delete it)"`
	AccessKeyID string `json:"access_key_id" desc:"the key to retire and replace, e.g. AKIA…; keep passing the old key's id at every step" pattern:"^[A-Za-z0-9_]{16,128}$"`
	Step        string `json:"step,omitempty" desc:"next (default: continue from the rotation's state tag), status or plan (read only), make_room, create, cutover, deactivate, delete, rollback (undo the last reversible step), or retire (deactivate a key unused for 45+ days, or one of two active keys, and delete it after the grace period, with no replacement)" enum:"next,status,plan,make_room,create,cutover,deactivate,delete,rollback,retire"`
	GraceDays   *int   `json:"grace_days,omitempty" desc:"days the old key stays Inactive before it may be deleted, at least 7; fixed at the deactivate or retire step (default: the plugin's grace_days config, else 7)" minimum:"7" maximum:"365"`
}

func invalid(format string, args ...any) error {
	return &api.Error{Code: api.InvalidInput, Message: fmt.Sprintf(format, args...)}
}

func (in RotateInput) validate() error {
	switch {
	case in.UserName == "":
		return invalid("user_name is required: the IAM user who owns the key (%s for the root user)", RootUser)
	case in.UserName != RootUser && !iamname.Name(in.UserName, iamname.UserNameMax):
		return invalid("user_name %q is not an IAM user name (1-64 letters, digits and +=,.@_-); use %s for the root user", short(in.UserName), RootUser)
	case in.AccessKeyID == "":
		return invalid("access_key_id is required: the key to retire (AKIA…)")
	case !iamname.AccessKeyID(in.AccessKeyID):
		return invalid("access_key_id %q is not an access key id (16-128 letters and digits, e.g. AKIA…)", short(in.AccessKeyID))
	case strings.HasPrefix(in.AccessKeyID, "ASIA"):
		return invalid("%s is a temporary key from STS (ASIA…): it expires by itself and cannot be rotated; rotate the long-term key (AKIA…) it was issued from, if any", in.AccessKeyID)
	case len(TagKey(in.AccessKeyID)) > 128 || len(SealKey(in.AccessKeyID)) > 128:
		return invalid("access_key_id %q is too long to name the state tags (IAM tag keys have at most 128 characters)", in.AccessKeyID)
	case in.GraceDays != nil && (*in.GraceDays < MinGraceDays || *in.GraceDays > MaxGraceDays):
		return invalid("grace_days %d is outside %d-%d: the grace period is at least %d days (to delete an inactive key sooner, a person calls delete_access_key directly)", *in.GraceDays, MinGraceDays, MaxGraceDays, MinGraceDays)
	}
	if in.Step != "" && indexOf(Steps, in.Step) == len(Steps) {
		return invalid("unknown step %q: the steps are %s", short(in.Step), strings.Join(Steps, ", "))
	}
	return nil
}

// run is one rotate_access_key call: its input, what it read, what it did.
type run struct {
	h    hostiam.Client
	opts Options
	info *api.HostInfo
	in   RotateInput
	now  time.Time
	res  *RotateResult

	keys  []api.AccessKey
	tags  map[string]string
	used  map[string]*api.AccessKeyLastUsedOutput
	old   *api.AccessKey
	state *State // nil: no rotation of this key started
	done  bool   // the rotation completed in this call

	seals   map[string]string // the server's seal of each state value, asked once
	removal *secretRemoval    // this call's removal of the new key's secret file, if asked
}

// Rotate runs one step of the rotation of in.AccessKeyID. It returns an
// error (an *api.Error) when the input is bad, the user or key does not
// exist, the step is out of order, or IAM fails; every other situation,
// including those where it stops for safety, is a result that says why and
// what to do.
func Rotate(h hostiam.Client, in RotateInput, opts Options) (*RotateResult, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	info, err := h.Info()
	if err != nil {
		return nil, err
	}
	step := in.Step
	if step == "" {
		step = StepNext
	}
	r := &run{h: h, opts: opts, info: info, in: in, now: opts.now(), res: &RotateResult{
		UserName: in.UserName, AccessKeyID: in.AccessKeyID, Step: step, ReadOnly: info.ReadOnly,
		Keys: []KeyEvidence{}, Changes: []Call{}, Plan: []PlanStep{},
	}}
	if in.UserName == RootUser {
		return r.root()
	}
	if err := r.gather(); err != nil {
		return nil, err
	}
	if r.old == nil {
		return r.oldMissing()
	}
	if r.state == nil {
		if err := r.isNewKey(); err != nil {
			return nil, err
		}
	} else if err := r.checkState(); err != nil {
		return nil, err
	}
	phase := PhaseNone
	if r.state != nil {
		phase = r.state.Phase
	}
	if info.ReadOnly {
		if _, err := resolve(step, phase); err != nil {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("on a server that allows writes this call would be refused: %v", err))
		}
		return r.report(OutcomeReadOnly, "nothing changed: the server runs read-only (started without --allow-write, or with --readonly), so this is the full plan from where the rotation stands, with every call it would make; the operator restarts it with --allow-write (and without --readonly) to carry it out"), nil
	}
	act, err := resolve(step, phase)
	if err != nil {
		return nil, invalid("%v: %s", err, r.nextFor(phase).String())
	}
	switch act {
	case actReport:
		return r.report("", ""), nil
	case actAlready:
		return r.report(OutcomeStatus, fmt.Sprintf("nothing changed: step %s was done already (the rotation is at phase %s)", step, phase)), nil
	case actMakeRoom:
		return r.makeRoom()
	case actCreate:
		return r.create()
	case actCutover:
		return r.cutover()
	case actDeactivate:
		return r.deactivate()
	case actDelete:
		return r.delete(step == StepDelete)
	case actRollback:
		return r.rollback()
	case actRetire:
		return r.retire()
	}
	return nil, &api.Error{Code: api.Internal, Message: fmt.Sprintf("step %s resolved to no action; report this bug", step)}
}

// ---- reading ----

// wrap keeps an IAM error's code and says what was being done.
func wrap(err error, format string, args ...any) error {
	code := hostiam.Code(err)
	if code == "" {
		code = api.Internal
	}
	msg := err.Error()
	var ae *api.Error
	if errors.As(err, &ae) {
		msg = ae.Message
	}
	return &api.Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + string(code) + ": " + msg}
}

// gather reads the user's keys, tags and the keys' last use: a batch of
// two, then one of at most two.
func (r *run) gather() error {
	u := r.in.UserName
	var keys api.ListAccessKeysOutput
	var tags api.UserTagsOutput
	errs := r.h.Batch([]hostiam.Request{
		{Op: "list_access_keys", In: api.UserPageInput{UserName: u, PageInput: api.PageInput{MaxItems: 100}}, Out: &keys},
		{Op: "list_user_tags", In: api.UserPageInput{UserName: u, PageInput: api.PageInput{MaxItems: 100}}, Out: &tags},
	})
	if hostiam.Code(errs[0]) == api.NoSuchEntity {
		return &api.Error{Code: api.NoSuchEntity, Message: fmt.Sprintf("there is no IAM user %s; check the name (IAM user names are case-insensitive but exact). For a key of the root user, pass user_name %s", u, RootUser)}
	}
	for i, what := range []string{"the access keys of " + u + " (list_access_keys)", "the tags of " + u + " (list_user_tags)"} {
		if errs[i] != nil {
			return wrap(errs[i], "cannot read %s", what)
		}
	}
	r.keys = keys.AccessKeys
	r.tags = map[string]string{}
	for {
		for k, v := range tags.Tags {
			r.tags[k] = v
		}
		if !tags.IsTruncated {
			break
		}
		in := api.UserPageInput{UserName: u, PageInput: api.PageInput{MaxItems: 100, Marker: tags.Marker}}
		tags = api.UserTagsOutput{}
		if err := r.h.Call("list_user_tags", in, &tags); err != nil {
			return wrap(err, "cannot read the tags of %s (list_user_tags)", u)
		}
	}
	for i := range r.keys {
		if r.keys[i].AccessKeyID == r.in.AccessKeyID {
			r.old = &r.keys[i]
		}
	}
	if v, ok := r.tag(TagKey(r.in.AccessKeyID)); ok {
		st, err := ParseState(v)
		if err != nil {
			return invalid("%v. The rotation does not act on a state it cannot read: check the keys with list_access_keys, then remove the tags with %s and start again with step plan", err, callUntag(u, r.in.AccessKeyID).Markdown())
		}
		if err := r.checkSeal(v); err != nil {
			return err
		}
		r.state = &st
	}
	return r.readLastUsed()
}

// readLastUsed asks when each of the user's keys was last used. A key whose
// last use cannot be read has none in r.used; the steps that decide on it
// refuse to go on.
func (r *run) readLastUsed() error {
	r.used = map[string]*api.AccessKeyLastUsedOutput{}
	reqs := make([]hostiam.Request, len(r.keys))
	outs := make([]api.AccessKeyLastUsedOutput, len(r.keys))
	for i, k := range r.keys {
		reqs[i] = hostiam.Request{Op: "get_access_key_last_used", In: api.AccessKeyIDInput{AccessKeyID: k.AccessKeyID}, Out: &outs[i]}
	}
	for i, err := range r.h.Batch(reqs) {
		if err != nil {
			if hostiam.Code(err) == api.NotGranted {
				return wrap(err, "cannot tell when %s was last used (get_access_key_last_used)", r.keys[i].AccessKeyID)
			}
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("the last use of %s could not be read: %v", r.keys[i].AccessKeyID, err))
			continue
		}
		r.used[r.keys[i].AccessKeyID] = &outs[i]
	}
	return nil
}

// tag finds a tag by key, case-insensitively as IAM compares tag keys.
func (r *run) tag(key string) (string, bool) {
	if v, ok := r.tags[key]; ok {
		return v, true
	}
	for k, v := range r.tags {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// key returns the user's key with that id, or nil.
func (r *run) key(id string) *api.AccessKey {
	for i := range r.keys {
		if r.keys[i].AccessKeyID == id {
			return &r.keys[i]
		}
	}
	return nil
}

// lastUse is a key's last use to the second, nil when never used; ok is
// false when it could not be read.
func (r *run) lastUse(id string) (t *time.Time, ok bool) {
	u := r.used[id]
	if u == nil {
		return nil, false
	}
	if u.LastUsedDate == nil {
		return nil, true
	}
	v := u.LastUsedDate.UTC().Truncate(time.Second)
	return &v, true
}

// other is the user's key that is neither the old key nor this rotation's
// new key.
func (r *run) other() *api.AccessKey {
	for i := range r.keys {
		id := r.keys[i].AccessKeyID
		if id != r.in.AccessKeyID && (r.state == nil || id != r.state.NewKeyID) {
			return &r.keys[i]
		}
	}
	return nil
}

// missingGrants are the operations of ops the operator did not grant.
// "read" grants every operation that does not mutate, as in plugins.yaml.
func missingGrants(info *api.HostInfo, ops []string) []string {
	granted := map[string]bool{}
	for _, g := range info.Grants {
		granted[g] = true
	}
	var missing []string
	for _, op := range ops {
		if granted[op] {
			continue
		}
		if o, ok := api.Lookup(op); ok && granted["read"] && !o.Mutates {
			continue
		}
		missing = append(missing, op)
	}
	return missing
}

// grace is the grace period for this call and where it comes from: at
// least MinGraceDays, whatever the source.
func (r *run) grace() (int, string, error) {
	if r.in.GraceDays != nil {
		return *r.in.GraceDays, "grace_days given", nil
	}
	if v := strings.TrimSpace(r.info.Config[ConfigGraceDays]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < MinGraceDays || n > MaxGraceDays {
			return 0, "", invalid("the plugin's config %s=%q is not a number of days from %d to %d; fix it in the plugins file, or pass grace_days", ConfigGraceDays, short(v), MinGraceDays, MaxGraceDays)
		}
		return n, "the plugin's " + ConfigGraceDays + " config", nil
	}
	return DefaultGraceDays, "the default", nil
}

// stale says whether the old key is unused for StaleDays or more (never
// used: created that long ago), with the evidence; unknown last use is not
// stale.
func (r *run) stale() (bool, string) {
	return staleKey(*r.old, r.used[r.old.AccessKeyID], r.now)
}

func staleKey(k api.AccessKey, used *api.AccessKeyLastUsedOutput, now time.Time) (bool, string) {
	switch {
	case used == nil:
		return false, ""
	case used.LastUsedDate != nil:
		days := ageDays(used.LastUsedDate.UTC(), now)
		return days >= StaleDays, fmt.Sprintf("unused for %d days (last used %s)", days, used.LastUsedDate.UTC().Format(time.RFC3339))
	case !k.CreateDate.IsZero():
		days := ageDays(k.CreateDate.UTC(), now)
		return days >= StaleDays, fmt.Sprintf("never used in the %d days since it was created", days)
	}
	return false, ""
}

// ---- changing ----

// A step that changes IAM first states every change it will make, with
// exactly the inputs it will make them with, through the host's consent
// (ask): the person is asked once for the step, about the changes the
// operator's --confirm level covers, and the host then lets run exactly
// those calls. The changes below are built once, from the same values, for
// the statement and for the calls, so the two cannot differ.

// change is one change a step makes: the call as the answer records it,
// and the input the host is sent.
type change struct {
	call Call
	in   any
}

func (r *run) tagChange(st State) (change, error) {
	v, err := st.Encode()
	if err != nil {
		return change{}, &api.Error{Code: api.Internal, Message: err.Error()}
	}
	tags, err := r.sealedTags(v)
	if err != nil {
		return change{}, err
	}
	u := r.in.UserName
	return change{Call{Op: "tag_user", Args: map[string]any{"user_name": u, "tags": tags}}, api.TagUserInput{UserName: u, Tags: tags}}, nil
}

func (r *run) untagChange() change {
	u, k := r.in.UserName, r.in.AccessKeyID
	return change{callUntag(u, k), api.UntagUserInput{UserName: u, TagKeys: stateTagKeys(k)}}
}

func (r *run) statusChange(id, status string) change {
	u := r.in.UserName
	return change{callUpdate(u, id, status), api.UpdateAccessKeyInput{UserName: u, AccessKeyID: id, Status: status}}
}

func (r *run) deleteChange(id string) change {
	u := r.in.UserName
	return change{callDelete(u, id), api.AccessKeyInput{UserName: u, AccessKeyID: id}}
}

func (r *run) createChange() change {
	u := r.in.UserName
	return change{callCreate(u), api.UserNameInput{UserName: u}}
}

// stamp is the time a state tag records for a change made now, to the
// minute. A tool call whose question is answered in a later request runs
// again from the start and must state the same changes, tag values
// included (or the person is asked again): kept to the minute, the value
// is the same unless the answer took the clock past a minute's end. The
// rotation needs no finer time: the grace period is in days, and the
// checks against a key's last use are made before the change.
func (r *run) stamp() time.Time { return r.now.Truncate(time.Minute) }

// ask states a step's changes before the first of them. It returns nil,
// nil to go ahead; a result when the person said no (nothing changed, and
// again is the call to make once they agree); an error when nobody could
// be asked or a change would be refused.
func (r *run) ask(step, summary string, changes ...change) (*RotateResult, error) {
	reqs := make([]hostiam.Request, len(changes))
	for i, c := range changes {
		reqs[i] = hostiam.Request{Op: c.call.Op, In: c.in}
	}
	err := hostiam.Consent(r.h, fmt.Sprintf("Rotation of %s (user %s), step %s: %s", r.in.AccessKeyID, r.in.UserName, step, summary), reqs)
	switch hostiam.Code(err) {
	case "":
		if err != nil {
			return nil, wrap(err, "nothing was changed: stating the changes of step %s failed", step)
		}
		return nil, nil
	case api.Declined:
		r.res.Warnings = append(r.res.Warnings, err.Error())
		return r.finish(OutcomeDeclined, "declined, nothing changed: the person said no to step "+step+" ("+summary+")",
			rotateCall(r.in.UserName, r.in.AccessKeyID, step, "only once the person agrees to this step")), nil
	}
	return nil, wrap(err, "nothing was changed: step %s was not approved", step)
}

// mutate runs a changing operation and records it in the answer.
func (r *run) mutate(c change, out any) error {
	if err := r.h.Call(c.call.Op, c.in, out); err != nil {
		return err
	}
	r.res.Changes = append(r.res.Changes, c.call)
	return nil
}

// writeState stores st in the old key's tag.
func (r *run) writeState(st State) error {
	c, err := r.tagChange(st)
	if err != nil {
		return err
	}
	if err := r.mutate(c, &api.Result{}); err != nil {
		return err
	}
	r.state = &st
	for k, v := range c.in.(api.TagUserInput).Tags {
		r.tags[k] = v
	}
	return nil
}

// removeState deletes the old key's tag.
func (r *run) removeState() error {
	if err := r.mutate(r.untagChange(), &api.Result{}); err != nil {
		return err
	}
	for tk := range r.tags {
		for _, gone := range stateTagKeys(r.in.AccessKeyID) {
			if strings.EqualFold(tk, gone) {
				delete(r.tags, tk)
			}
		}
	}
	return nil
}

// setStatus changes a key's status and keeps r.keys current.
func (r *run) setStatus(id, status string) error {
	if err := r.mutate(r.statusChange(id, status), &api.Result{}); err != nil {
		return err
	}
	if k := r.key(id); k != nil {
		k.Status = status
	}
	return nil
}

// deleteKey deletes a key and keeps r.keys current.
func (r *run) deleteKey(id string) error {
	if err := r.mutate(r.deleteChange(id), &api.Result{}); err != nil {
		return err
	}
	for i := range r.keys {
		if r.keys[i].AccessKeyID == id {
			r.keys = append(r.keys[:i:i], r.keys[i+1:]...)
			break
		}
	}
	r.old = r.key(r.in.AccessKeyID)
	return nil
}

// ---- answering ----

// nextFor is the call that moves a rotation on from phase p.
func (r *run) nextFor(p Phase) *NextCall {
	u, k := r.in.UserName, r.in.AccessKeyID
	switch p {
	case PhaseNone:
		if r.retiring() {
			return rotateCall(u, k, StepRetire, "retire "+k+" without a replacement: deactivate it now, delete it after the grace period")
		}
		if o := r.other(); o != nil && o.Status == "Inactive" {
			n := rotateCall(u, k, StepMakeRoom, "free a slot by deleting the inactive key "+o.AccessKeyID)
			if at := r.makeRoomAt(o); at != nil && at.After(r.now) {
				n.NotBefore = at
				n.Why += ", once it has been unused for the grace period"
			}
			return n
		}
		return rotateCall(u, k, StepCreate, "create the new key")
	case PhaseCreating:
		return rotateCall(u, k, StepCreate, "finish creating the new key (a key created by an interrupted call is adopted)")
	case PhaseCreated:
		n := rotateCall(u, k, StepCutover, "once whatever used "+k+" has been switched to the new key: check the cut-over")
		if st := r.state; st != nil && !st.FirstUse.IsZero() && len(st.Missing()) == 0 {
			if t := st.QuietFrom().Add(st.Quiet()); t.After(r.now) {
				n.NotBefore = &t
			}
		}
		return n
	case PhaseCutOver:
		return rotateCall(u, k, StepDeactivate, "deactivate "+k+" (reversible)")
	case PhaseDeactivated, PhaseRetiring:
		n := rotateCall(u, k, StepDelete, "delete "+k+" once its grace period is over and nothing has failed")
		if r.state != nil {
			t := r.state.GraceEnds()
			n.NotBefore = &t
		}
		return n
	}
	return nil
}

// retiring says whether a rotation not started is a retirement: the key is
// unused for StaleDays, or Inactive already.
func (r *run) retiring() bool {
	if r.state != nil {
		return r.state.Phase == PhaseRetiring
	}
	if r.old == nil {
		return false
	}
	stale, _ := r.stale()
	return stale || r.old.Status != "Active"
}

// makeRoomAt is when the user's other, inactive key may be deleted: once it
// has been unused for the grace period. IAM does not record when a key was
// deactivated, so its last use (never used: its creation) is the only
// evidence of how long nothing has needed it. nil when its last use is
// unknown.
func (r *run) makeRoomAt(o *api.AccessKey) *time.Time {
	u := r.used[o.AccessKeyID]
	if u == nil {
		return nil
	}
	days, _, err := r.grace()
	if err != nil {
		days = DefaultGraceDays
	}
	from := o.CreateDate.UTC()
	if u.LastUsedDate != nil {
		from = u.LastUsedDate.UTC().Truncate(time.Second)
	}
	t := from.Add(time.Duration(days) * 24 * time.Hour)
	return &t
}

// finish completes the answer: the phase, the current step, the evidence,
// the cut-over proof so far, where the new secret is, and the plan.
func (r *run) finish(outcome, happened string, next *NextCall) *RotateResult {
	res := r.res
	res.Outcome, res.Happened, res.Next = outcome, happened, next
	in := planInput{user: r.in.UserName, oldKey: r.in.AccessKeyID, state: r.state}
	in.graceDays, in.graceSource, _ = r.grace()
	if in.graceSource == "" {
		in.graceDays, in.graceSource = DefaultGraceDays, "the default (the configured value is invalid)"
	}
	switch {
	case r.done:
		in.state = &State{Phase: PhaseDone}
		in.retire = r.state != nil && r.state.Phase == PhaseRetiring
		res.Phase, res.CurrentStep = string(PhaseDone), StepDone
		res.StateTag = nil
	case r.state == nil:
		in.retire = r.retiring()
		if o := r.other(); o != nil && o.Status == "Inactive" && !in.retire {
			in.other = o
			in.makeRoomAt = r.makeRoomAt(o)
		}
		if r.old != nil {
			in.oldUse = useOf(r.used[r.old.AccessKeyID])
		}
		res.Phase, res.CurrentStep = PhaseNone.String(), in.currentStep()
	default:
		in.retire = r.state.Phase == PhaseRetiring
		res.Phase, res.CurrentStep = string(r.state.Phase), r.state.Phase.Next()
		v, _ := r.tag(TagKey(r.in.AccessKeyID))
		seal, _ := r.tag(SealKey(r.in.AccessKeyID))
		res.StateTag = &StateTag{Key: TagKey(r.in.AccessKeyID), Value: v, SealKey: SealKey(r.in.AccessKeyID), Seal: seal}
		res.NewAccessKeyID = r.state.NewKeyID
	}
	if r.done && r.state != nil {
		res.NewAccessKeyID = r.state.NewKeyID
	}
	res.CutOver = r.proofView()
	res.SecretNote = r.secretNote(res.SecretFile, secretAt{link: res.SecretLink, expires: res.SecretLinkExpires})
	res.Plan = buildPlan(in)
	res.Keys = r.evidence()
	return res
}

// proofView is the cut-over proof as it stands, for the answer: what the
// new key must still show, and until when the old key must stay quiet.
func (r *run) proofView() *CutOverProof {
	st := r.state
	if st == nil || st.NewKeyID == "" || r.done {
		return nil
	}
	p := &CutOverProof{Needs: []UsePair{}, Missing: []UsePair{}, QuietHours: max(st.QuietHours, MinQuietHours),
		Confirmed: st.Phase == PhaseCutOver || st.Phase == PhaseDeactivated}
	for _, s := range st.Seen {
		p.Needs = append(p.Needs, UsePair{Service: s.Service, Region: s.Region, SeenWithNewKey: s.ByNew})
		if !s.ByNew {
			p.Missing = append(p.Missing, UsePair{Service: s.Service, Region: s.Region})
		}
	}
	if !st.FirstUse.IsZero() {
		f, q := st.FirstUse, st.QuietFrom().Add(st.Quiet())
		p.NewKeyFirstUse, p.QuietUntil = &f, &q
	}
	if t, ok := r.lastUse(r.in.AccessKeyID); ok && t != nil {
		p.OldKeyLastUse = t
	}
	return p
}

// secretNote says where the new key's secret is, until the new key has been
// used; then what became of its file: the cut-over check that sees the new
// key used asks the server to remove it (secret_file_remove), and says what
// came of that; later answers remind to delete it if it is still there.
func (r *run) secretNote(secretFile string, at secretAt) string {
	st := r.state
	if st == nil || st.NewKeyID == "" {
		return ""
	}
	n := st.NewKeyID
	where := n + ".json in the server's secrets directory (--secrets-dir), or, over HTTP, behind the one-time link the create step gave, as the create step said"
	if secretFile != "" {
		where = secretFile
	}
	t, ok := r.lastUse(n)
	if at.link != "" && (!ok || t == nil) {
		return fmt.Sprintf("the secret of %s waits only behind the one-time link %s (until %s; it works once, with your credentials only): fetch it and hand it to whatever uses %s; once %s has been used, the cut-over check withdraws the link if it was not fetched", n, at.link, at.expires, r.in.AccessKeyID, n)
	}
	if !ok || t == nil {
		return fmt.Sprintf("the secret of %s is only in %s (mode 0600, on the server): hand it to whatever uses %s; once %s has been used, the cut-over check removes the file", n, where, r.in.AccessKeyID, n)
	}
	used := fmt.Sprintf("%s has been used (%s), so its secret has reached what uses it", n, t.Format(time.RFC3339))
	rm := r.removal
	switch {
	case rm == nil:
		return used + ": the cut-over check removes its secret file from the server when the server allows it; if it is still there, delete it now: " + where
	case rm.removed != "" && strings.HasPrefix(rm.removed, "/"):
		return used + ": its secret file " + rm.removed + " was removed from the server by this check"
	case rm.removed != "":
		return used + ": " + rm.removed + " was withdrawn from the server by this check"
	case rm.err == nil:
		return used + ": " + rm.note
	}
	return fmt.Sprintf("%s, but the server did not remove its secret file (%v): delete it now, if it is still there: %s", used, rm.err, where)
}

// evidence describes the user's keys.
func (r *run) evidence() []KeyEvidence {
	out := []KeyEvidence{}
	for _, k := range r.keys {
		role := "other"
		switch {
		case k.AccessKeyID == r.in.AccessKeyID:
			role = "old"
		case r.state != nil && k.AccessKeyID == r.state.NewKeyID:
			role = "new"
		}
		out = append(out, keyEvidence(k, role, r.used[k.AccessKeyID], r.now))
	}
	return out
}

func keyEvidence(k api.AccessKey, role string, used *api.AccessKeyLastUsedOutput, now time.Time) KeyEvidence {
	e := KeyEvidence{AccessKeyID: k.AccessKeyID, Role: role, Status: k.Status}
	if !k.CreateDate.IsZero() {
		c := k.CreateDate.UTC()
		e.CreateDate = &c
		e.AgeDays = ageDays(c, now)
	}
	if used != nil && used.LastUsedDate != nil {
		t := used.LastUsedDate.UTC()
		e.LastUsedDate = &t
		e.LastUsedService, e.LastUsedRegion = naEmpty(used.ServiceName), naEmpty(used.Region)
	}
	return e
}

func naEmpty(s string) string {
	if s == "N/A" {
		return ""
	}
	return s
}

// ageDays is whole days between t and now.
func ageDays(t, now time.Time) int {
	if now.Before(t) {
		return 0
	}
	return int(now.Sub(t) / (24 * time.Hour))
}

// usedText says when a key was last used, for messages.
func (r *run) usedText(id string) string {
	u := r.used[id]
	switch {
	case u == nil:
		return "its last use is unknown"
	case u.LastUsedDate == nil:
		return "never used"
	}
	s := "last used " + u.LastUsedDate.UTC().Format(time.RFC3339)
	if svc := naEmpty(u.ServiceName); svc != "" {
		s += " by " + svc
	}
	if reg := naEmpty(u.Region); reg != "" {
		s += " in " + reg
	}
	return s
}

// report answers without changing anything: the plan of a rotation not
// started (or why it cannot start), or where one in progress stands.
func (r *run) report(outcome, happened string) *RotateResult {
	if r.state == nil {
		if res := r.blocked(); res != nil {
			if outcome == OutcomeReadOnly {
				res.Outcome = OutcomeReadOnly
				res.Happened = happened + ". " + res.Happened
			}
			return res
		}
	}
	if outcome == "" {
		outcome, happened = OutcomeStatus, "nothing changed: this is where the rotation stands"
		if r.state == nil {
			outcome, happened = OutcomePlanned, "nothing changed: this is the plan. "+r.in.AccessKeyID+" is Active and "+r.usedText(r.in.AccessKeyID)
		}
	}
	if r.state == nil {
		if stale, why := r.stale(); stale {
			happened += fmt.Sprintf(". %s is %s: a key unused for %d days or more is retired (deactivated, then deleted after the grace period), not rotated — nothing needs a replacement", r.in.AccessKeyID, why, StaleDays)
		}
		r.startWarnings()
	}
	next := r.nextFor(PhaseNone)
	if r.state != nil {
		next = r.nextFor(r.state.Phase)
		happened += "; " + describePhase(r.state.Phase)
	}
	if outcome == OutcomeReadOnly && next != nil {
		next.Why += " (needs a server started with --allow-write)"
	}
	return r.finish(outcome, happened, next)
}

// startWarnings are the plan's cautions before anything is changed.
func (r *run) startWarnings() {
	if missing := missingGrants(r.info, rotationOps); len(missing) > 0 {
		r.res.Warnings = append(r.res.Warnings, "the operator has not granted this plugin "+joinOps(missing)+
			": the create step will refuse to start until they are granted in the plugins file, so that a rotation never stops halfway")
	}
	if stale, _ := r.stale(); !stale {
		if t, ok := r.lastUse(r.in.AccessKeyID); ok && t == nil {
			r.res.Warnings = append(r.res.Warnings, r.in.AccessKeyID+" has never been used: rather than rotating it, consider retiring it (step retire: deactivated now, deleted after the grace period). A rotation's cut-over needs the new key to be used")
		}
	}
}

// blocked is the answer when a rotation cannot start without a person:
// the old key is already inactive, another rotation is in progress, or the
// user holds two active keys. nil when it can start (a key to retire needs
// no free slot).
func (r *run) blocked() *RotateResult {
	u, k := r.in.UserName, r.in.AccessKeyID
	if r.old.Status != "Active" {
		res := r.finish(OutcomeBlocked,
			"nothing changed: "+k+" is Inactive already, so nothing can authenticate with it and there is nothing to rotate. If nothing needs it, retire it: step retire records that it was found Inactive now and deletes it once the grace period has passed (IAM does not record when a key was deactivated, so the period runs from now). To rotate it instead, set it Active first",
			rotateCall(u, k, StepRetire, "only if nothing needs "+k+" (it is Inactive, "+r.usedText(k)+")"))
		res.CurrentStep = StepRetire
		return res
	}
	if stale, _ := r.stale(); stale {
		return nil
	}
	o := r.other()
	if o == nil {
		return nil
	}
	if v, ok := r.tag(TagKey(o.AccessKeyID)); ok {
		if st, err := ParseState(v); err == nil {
			return r.finishBlocked(StepBlocked,
				fmt.Sprintf("nothing changed: the rotation of %s's other key %s is in progress (phase %s), and a user holds at most two keys; finish it first", u, o.AccessKeyID, st.Phase),
				rotateCall(u, o.AccessKeyID, StepNext, "continue the rotation in progress"))
		}
	}
	if o.Status == "Inactive" {
		return nil // make_room proposes deleting it
	}
	r.res.Choices = twoActiveChoices(u, k, o.AccessKeyID, r.usedText(k), r.usedText(o.AccessKeyID))
	return r.finishBlocked(StepChoose,
		fmt.Sprintf("nothing changed: %s already holds two active keys, %s (%s) and %s (%s), and IAM allows two per user, so the new key has no slot. Ask the person which key to retire: see the choices and the keys' evidence",
			u, k, r.usedText(k), o.AccessKeyID, r.usedText(o.AccessKeyID)), nil)
}

// finishBlocked is finish for a rotation that cannot start: no step of
// the plan is current, and the current step says what is in the way.
func (r *run) finishBlocked(current, happened string, next *NextCall) *RotateResult {
	res := r.finish(OutcomeBlocked, happened, next)
	res.CurrentStep = current
	for i := range res.Plan {
		if res.Plan[i].Status == "current" {
			res.Plan[i].Status = "blocked"
		}
	}
	return res
}

// twoActiveChoices are the ways out when a user's two keys are both active:
// either key can be retired (step retire: deactivated, deleted after the
// grace period, with no replacement).
func twoActiveChoices(u, k, o, kUsed, oUsed string) []Choice {
	return []Choice{
		{
			Retire:  o,
			Summary: fmt.Sprintf("if %s (%s) is the one to go: retire it (deactivated now, deleted after the grace period if nothing fails), then rotate %s", o, oUsed, k),
			Calls:   []Call{callLastUsed(o), callUpdate(u, o, "Inactive"), note(callTag(u, o, "v=2/s=retiring/d=<now>/g=<grace days>"), "records the retirement"), note(callDelete(u, o), "after the grace period with nothing failing; step rollback undoes the deactivation until then")},
			Start:   rotateCall(u, o, StepRetire, "retire "+o),
			Then:    rotateCall(u, k, StepPlan, "plan the rotation of "+k+" again once "+o+" is deleted: the slot is free"),
		},
		{
			Retire:  k,
			Summary: fmt.Sprintf("if whatever uses %s (%s) can use %s instead, no new key is needed: switch it, then retire %s (deactivated now, deleted after the grace period)", k, kUsed, o, k),
			Calls:   []Call{callLastUsed(k), callUpdate(u, k, "Inactive"), note(callTag(u, k, "v=2/s=retiring/d=<now>/g=<grace days>"), "records the retirement"), note(callDelete(u, k), "after the grace period with nothing failing")},
			Start:   rotateCall(u, k, StepRetire, "retire "+k),
		},
	}
}

// oldMissing answers when the user has no key with the given id.
func (r *run) oldMissing() (*RotateResult, error) {
	u, k := r.in.UserName, r.in.AccessKeyID
	if r.state != nil {
		// The rotation's tag outlived its key: deleted outside this tool.
		inGrace := r.state.Phase == PhaseDeactivated || r.state.Phase == PhaseRetiring
		if inGrace && !r.info.ReadOnly && (r.in.Step == "" || r.in.Step == StepNext || r.in.Step == StepDelete) {
			if res, err := r.ask(StepDelete, k+" was deleted outside this tool during its grace period: remove the completed rotation's state tag", r.untagChange()); res != nil || err != nil {
				return res, err
			}
			if err := r.removeState(); err != nil {
				return nil, wrap(err, "%s no longer exists, but its rotation's state tag could not be removed", k)
			}
			r.done = true
			if n := r.state.NewKeyID; n != "" {
				return r.finish(OutcomeCompleted, k+" was deleted already (outside this tool) while in its grace period: the rotation is complete, and its state tag is removed. "+n+" replaces it",
					catalogueCall(callListKeys(u), "optional: check that "+u+" holds only "+n)), nil
			}
			return r.finish(OutcomeCompleted, k+" was deleted already (outside this tool) while in its grace period: the retirement is complete, and its state tag is removed",
				catalogueCall(callListKeys(u), "optional: check "+u+"'s keys")), nil
		}
		next := catalogueCall(callUntag(u, k), "remove the stale state tag")
		if inGrace {
			next = rotateCall(u, k, StepDelete, "records the rotation as complete and removes its state tag")
		}
		return r.finish(OutcomeStopped, fmt.Sprintf("nothing changed: %s no longer exists, though its rotation was at phase %s (%s). It was deleted outside this tool; %s holds: %s",
			k, r.state.Phase, describePhase(r.state.Phase), u, r.keyList()), next), nil
	}
	if err := r.isNewKey(); err != nil {
		return nil, err
	}
	var lu api.AccessKeyLastUsedOutput
	if err := r.h.Call("get_access_key_last_used", api.AccessKeyIDInput{AccessKeyID: k}, &lu); err == nil && lu.UserName != "" && !strings.EqualFold(lu.UserName, u) {
		return nil, &api.Error{Code: api.NoSuchEntity, Message: fmt.Sprintf("%s belongs to user %s, not %s: call rotate_access_key with user_name %q", k, lu.UserName, u, lu.UserName)}
	}
	return nil, &api.Error{Code: api.NoSuchEntity, Message: fmt.Sprintf("%s has no access key %s (its keys: %s). Check the id with list_access_keys; if it was just rotated, it is deleted; if it is the root user's key, pass user_name %s", u, k, r.keyList(), RootUser)}
}

// isNewKey refuses a key that is the new key of another rotation: a
// rotation is named by the key it retires, and rotating the replacement
// before its predecessor is gone would leave the user with two keys in
// flight.
func (r *run) isNewKey() error {
	u, k := r.in.UserName, r.in.AccessKeyID
	for tk, v := range r.tags {
		if len(tk) <= len(TagPrefix) || !strings.EqualFold(tk[:len(TagPrefix)], TagPrefix) {
			continue
		}
		if st, err := ParseState(v); err == nil && st.NewKeyID == k {
			oldID := tk[len(TagPrefix):]
			return invalid("%s is the new key of the rotation of %s (phase %s); a rotation is always named by the key it retires: %s",
				k, oldID, st.Phase, rotateCall(u, oldID, StepNext, "").String())
		}
	}
	return nil
}

// keyList names the user's keys for messages.
func (r *run) keyList() string {
	if len(r.keys) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range r.keys {
		parts = append(parts, fmt.Sprintf("%s (%s, created %s)", k.AccessKeyID, k.Status, k.CreateDate.UTC().Format("2006-01-02")))
	}
	return strings.Join(parts, ", ")
}

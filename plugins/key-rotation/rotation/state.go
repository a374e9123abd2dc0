package rotation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The state of a rotation lives in a tag on the user who owns the key, so
// that an interrupted rotation — a timeout, a restarted server, a new
// conversation — resumes where it stopped, and so that anyone reading the
// user in the console sees a rotation is under way. A plugin keeps nothing
// between calls, and the tag needs no storage the operator has to provide.
//
// The tag's key names the old key ("iam-mcp:rotation:AKIA…"), so a user can
// have one rotation per key and a rotation is found from the key alone. Its
// value is a compact list of fields (see State.Encode), inside IAM's limits
// for tag values: at most 256 characters, drawn from letters, digits,
// spaces and _ . : / = + - @.

// TagPrefix starts the key of every rotation state tag.
const TagPrefix = "iam-mcp:rotation:"

// TagKey is the key of the tag holding the rotation state of keyID.
func TagKey(keyID string) string { return TagPrefix + keyID }

// Phase is how far a rotation has gone, as its state tag records it. Each
// phase is the outcome of one step; the step that follows is the phase's
// Next.
type Phase string

// The phases, in order. A rotation with no tag has not started (PhaseNone);
// a completed rotation removes its tag, so "done" is never stored.
const (
	// PhaseNone: nothing done yet; the next step is create (after
	// make_room when the user holds two keys).
	PhaseNone Phase = ""
	// PhaseCreating: the tag was written just before create_access_key, so
	// that a key created by a call that died before recording it is found
	// and adopted instead of leaking.
	PhaseCreating Phase = "creating"
	// PhaseCreated: the new key exists; waiting for the cut-over.
	PhaseCreated Phase = "created"
	// PhaseCutOver: the old key's last use predates the new key's first use.
	PhaseCutOver Phase = "cutover"
	// PhaseDeactivated: the old key is Inactive; it is deleted once the
	// grace period has passed with nothing failing.
	PhaseDeactivated Phase = "deactivated"
	// PhaseDone: the old key is deleted and the tag removed. Never stored.
	PhaseDone Phase = "done"
)

// Next is the step that moves a rotation on from phase p.
func (p Phase) Next() string {
	switch p {
	case PhaseNone, PhaseCreating:
		return StepCreate
	case PhaseCreated:
		return StepCutover
	case PhaseCutOver:
		return StepDeactivate
	case PhaseDeactivated:
		return StepDelete
	}
	return StepDone
}

// String names the phase for people: "not started" rather than "".
func (p Phase) String() string {
	if p == PhaseNone {
		return "not started"
	}
	return string(p)
}

// State is a rotation's progress, as its tag stores it. Times are UTC and
// kept to the second, as IAM reports them.
type State struct {
	Phase Phase
	// NewKeyID is the key that replaces the old one (from PhaseCreated).
	NewKeyID string
	// Began is when the create step started (written with PhaseCreating):
	// a key created after it, while the tag says creating, is the new key.
	Began time.Time
	// NewCreated is the new key's creation date, as IAM gave it.
	NewCreated time.Time
	// FirstUse is the earliest use of the new key this rotation has seen
	// (its last-used date at the first check that found it used). IAM only
	// reports a key's last use, so this is the best available upper bound
	// of its first use; see cutOver.
	FirstUse time.Time
	// CutOver is when the cut-over was confirmed.
	CutOver time.Time
	// Deactivated is when the old key was made Inactive; the grace period
	// runs from here.
	Deactivated time.Time
	// GraceDays is the grace period fixed when the old key was deactivated.
	GraceDays int
}

// GraceEnds is when the old key may be deleted.
func (s State) GraceEnds() time.Time {
	return s.Deactivated.Add(time.Duration(s.GraceDays) * 24 * time.Hour)
}

// stateVersion is the first field of every value: a later plugin that
// changes the format can still read (or at least recognise) older tags.
const stateVersion = "1"

// stamp is the time format in the tag: ISO 8601 basic, 16 characters, and
// only characters IAM allows in tag values.
const stamp = "20060102T150405Z"

// MaxTagValue is IAM's limit on a tag value's length.
const MaxTagValue = 256

// tagValueChars are the characters IAM accepts in tag keys and values
// (ASCII subset of [\p{L}\p{Z}\p{N}_.:/=+\-@]).
var tagValueChars = regexp.MustCompile(`^[A-Za-z0-9 _.:/=+\-@]*$`)

// Encode writes the state as "v=1/s=PHASE/n=NEWKEY/b=…/c=…/f=…/u=…/d=…/g=DAYS":
// slash-separated key=value fields, times as 20060102T150405Z, empty fields
// left out. The short field names keep a value well under IAM's 256
// characters (about 150 at most for a 20-character key id).
func (s State) Encode() (string, error) {
	switch s.Phase {
	case PhaseCreating, PhaseCreated, PhaseCutOver, PhaseDeactivated:
	default:
		return "", fmt.Errorf("rotation state: phase %q cannot be stored", s.Phase)
	}
	if s.NewKeyID != "" && !keyIDPattern.MatchString(s.NewKeyID) {
		return "", fmt.Errorf("rotation state: %q is not an access key id", s.NewKeyID)
	}
	fields := []string{"v=" + stateVersion, "s=" + string(s.Phase)}
	if s.NewKeyID != "" {
		fields = append(fields, "n="+s.NewKeyID)
	}
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"b", s.Began}, {"c", s.NewCreated}, {"f", s.FirstUse}, {"u", s.CutOver}, {"d", s.Deactivated}} {
		if !t.at.IsZero() {
			fields = append(fields, t.name+"="+t.at.UTC().Format(stamp))
		}
	}
	if s.Phase == PhaseDeactivated {
		fields = append(fields, "g="+strconv.Itoa(s.GraceDays))
	}
	v := strings.Join(fields, "/")
	if len(v) > MaxTagValue {
		return "", fmt.Errorf("rotation state: the tag value would be %d characters, more than IAM's %d", len(v), MaxTagValue)
	}
	if !tagValueChars.MatchString(v) {
		return "", fmt.Errorf("rotation state: the tag value %q has characters IAM does not allow in tags", v)
	}
	if err := s.check(); err != nil {
		return "", err
	}
	return v, nil
}

// ParseState reads a tag value written by Encode. Unknown fields are
// ignored, so that a later version can add some; a missing field the phase
// needs, or another version, is an error, and the rotation stops rather
// than act on a state it does not understand.
func ParseState(v string) (State, error) {
	var s State
	fields := strings.Split(v, "/")
	if len(fields) == 0 || fields[0] != "v="+stateVersion {
		return s, fmt.Errorf("the rotation state %q is not of format version %s", v, stateVersion)
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		name, val, ok := strings.Cut(f, "=")
		if !ok || name == "" {
			return s, fmt.Errorf("the rotation state %q has a malformed field %q", v, f)
		}
		if seen[name] {
			return s, fmt.Errorf("the rotation state %q has the field %q twice", v, name)
		}
		seen[name] = true
		var err error
		switch name {
		case "s":
			s.Phase = Phase(val)
		case "n":
			if !keyIDPattern.MatchString(val) {
				err = fmt.Errorf("%q is not an access key id", val)
			}
			s.NewKeyID = val
		case "b":
			s.Began, err = time.Parse(stamp, val)
		case "c":
			s.NewCreated, err = time.Parse(stamp, val)
		case "f":
			s.FirstUse, err = time.Parse(stamp, val)
		case "u":
			s.CutOver, err = time.Parse(stamp, val)
		case "d":
			s.Deactivated, err = time.Parse(stamp, val)
		case "g":
			s.GraceDays, err = strconv.Atoi(val)
			if err == nil && (s.GraceDays < 0 || s.GraceDays > MaxGraceDays) {
				err = fmt.Errorf("%d days is outside 0-%d", s.GraceDays, MaxGraceDays)
			}
		}
		if err != nil {
			return State{}, fmt.Errorf("the rotation state %q has a bad field %s: %v", v, name, err)
		}
	}
	if err := s.check(); err != nil {
		return State{}, fmt.Errorf("the rotation state %q is incomplete: %v", v, err)
	}
	return s, nil
}

// check says whether the state has what its phase needs.
func (s State) check() error {
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("phase %s needs %s", s.Phase, what)
		}
		return nil
	}
	var errs []error
	switch s.Phase {
	case PhaseCreating:
		errs = append(errs, need(!s.Began.IsZero(), "the start time (b)"))
	case PhaseCreated:
		errs = append(errs, need(s.NewKeyID != "", "the new key (n)"), need(!s.NewCreated.IsZero(), "the new key's creation date (c)"))
	case PhaseCutOver:
		errs = append(errs, need(s.NewKeyID != "", "the new key (n)"), need(!s.FirstUse.IsZero(), "the new key's first use (f)"),
			need(!s.CutOver.IsZero(), "the cut-over time (u)"))
	case PhaseDeactivated:
		errs = append(errs, need(s.NewKeyID != "", "the new key (n)"), need(!s.Deactivated.IsZero(), "the deactivation time (d)"))
	default:
		return fmt.Errorf("unknown phase %q", s.Phase)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

package rotation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
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
//
// Anyone allowed iam:TagUser can rewrite the tag, so nothing in it is
// trusted on its own: every value carries the server's seal in a second
// tag (seal.go), checked before anything is read from it; every time it
// holds is checked against what IAM itself records as well (the keys'
// creation dates, status and last use; see checkState), and the waits it
// records can only be lengthened by an edit, never shortened
// (MinGraceDays, MinQuietHours).

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
	// make_room when the user holds two keys), or retire for a key unused
	// for StaleDays.
	PhaseNone Phase = ""
	// PhaseCreating: the tag was written just before create_access_key, so
	// that a key created by a call that dies before recording it is found
	// and adopted instead of leaking.
	PhaseCreating Phase = "creating"
	// PhaseCreated: the new key exists; waiting for the cut-over.
	PhaseCreated Phase = "created"
	// PhaseCutOver: the hand-over is proven (see proof.go): the new key
	// was seen used by every service and region the old key was seen
	// using, and the old key stayed unused for its usual interval after
	// the new key's first use.
	PhaseCutOver Phase = "cutover"
	// PhaseDeactivated: the old key is Inactive; it is deleted once the
	// grace period has passed with nothing failing.
	PhaseDeactivated Phase = "deactivated"
	// PhaseRetiring: a key retired without a replacement (unused for
	// StaleDays, or a person's choice between two active keys) is
	// Inactive; it is deleted after the grace period.
	PhaseRetiring Phase = "retiring"
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
	case PhaseDeactivated, PhaseRetiring:
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

// Pair is a service and a region a key was used in, as IAM's
// GetAccessKeyLastUsed reports its last use.
type Pair struct {
	Service string `json:"service"`
	Region  string `json:"region"`
}

func (p Pair) String() string { return p.Service + " in " + p.Region }

// SeenPair is a service and region the old key was seen using, and whether
// the new key has been seen using them too.
type SeenPair struct {
	Pair
	ByNew bool
}

// State is a rotation's progress, as its tag stores it. Times are UTC and
// kept to the second, as IAM reports them.
type State struct {
	Phase Phase
	// NewKeyID is the key that replaces the old one (from PhaseCreated).
	NewKeyID string
	// Began is when the create step started (phase creating only): a key
	// created after it, while the tag says creating, is the new key.
	Began time.Time
	// NewCreated is the new key's creation date, as IAM gave it; checked
	// against IAM at every call.
	NewCreated time.Time
	// FirstUse is the earliest use of the new key this rotation has seen
	// (its last-used date at the first check that found it used). IAM only
	// reports a key's last use, so this is the best available upper bound
	// of its first use; see proof.go.
	FirstUse time.Time
	// Restarted is when the rotation went back to waiting for the cut-over
	// after the old key had been deactivated (a rollback): whatever failed
	// without the old key may not have run since, so the old key's quiet
	// period runs from no earlier than this.
	Restarted time.Time
	// CutOver is when the cut-over was confirmed.
	CutOver time.Time
	// Deactivated is when the old key was made Inactive; the grace period
	// runs from here.
	Deactivated time.Time
	// GraceDays is the grace period fixed when the old key was
	// deactivated. What applies is never less than MinGraceDays.
	GraceDays int
	// QuietHours is the old key's usual interval between uses, as far as
	// the rotation has observed it: how long the old key must stay unused
	// after the new key's first use. What applies is never less than
	// MinQuietHours.
	QuietHours int
	// Seen are the services and regions the old key was seen using during
	// the rotation, each marked once the new key was seen using it too.
	Seen []SeenPair
}

// Grace is the grace period that applies: the recorded one, never less
// than the minimum, whatever the tag says.
func (s State) Grace() time.Duration {
	return time.Duration(max(s.GraceDays, MinGraceDays)) * 24 * time.Hour
}

// GraceEnds is when the old key may be deleted.
func (s State) GraceEnds() time.Time { return s.Deactivated.Add(s.Grace()) }

// Quiet is how long the old key must stay unused after the new key's
// first use: the recorded interval, never less than the minimum.
func (s State) Quiet() time.Duration {
	return time.Duration(max(s.QuietHours, MinQuietHours)) * time.Hour
}

// QuietFrom is when the old key's quiet period starts: the new key's first
// use, or the restart after a rollback if later.
func (s State) QuietFrom() time.Time {
	if s.Restarted.After(s.FirstUse) {
		return s.Restarted
	}
	return s.FirstUse
}

// Missing are the services and regions the old key was seen using that the
// new key has not been seen using.
func (s State) Missing() []Pair {
	var out []Pair
	for _, p := range s.Seen {
		if !p.ByNew {
			out = append(out, p.Pair)
		}
	}
	return out
}

// stateVersion is the first field of every value. Version 1 (the plugin
// before the cut-over proof) recorded neither the old key's uses nor its
// interval; its tags are refused, with the untag_user call that clears
// them.
const stateVersion = "2"

// stamp is the time format in the tag: ISO 8601 basic, 16 characters, and
// only characters IAM allows in tag values.
const stamp = "20060102T150405Z"

// MaxTagValue is IAM's limit on a tag value's length.
const MaxTagValue = 256

// tagValueChars are the characters IAM accepts in tag keys and values
// (ASCII subset of [\p{L}\p{Z}\p{N}_.:/=+\-@]).
var tagValueChars = regexp.MustCompile(`^[A-Za-z0-9 _.:/=+\-@]*$`)

// pairPart is what a service name or region may be in the tag: what IAM
// reports (service namespaces and region names are lower-case letters,
// digits and hyphens), without the characters the format uses as
// separators (/ = + : @).
var pairPart = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// fieldsOf lists, per phase, the fields a tag must have and those it may
// have. Any other field is refused: a later format changes the version.
var fieldsOf = map[Phase]struct{ need, may string }{
	PhaseCreating:    {need: "bq", may: "o"},
	PhaseCreated:     {need: "ncq", may: "fro"},
	PhaseCutOver:     {need: "ncqfu", may: "ro"},
	PhaseDeactivated: {need: "ncqfudg", may: "ro"},
	PhaseRetiring:    {need: "dg"},
}

var fieldNames = map[byte]string{
	'n': "the new key (n)", 'b': "the start time (b)", 'c': "the new key's creation date (c)",
	'f': "the new key's first use (f)", 'u': "the cut-over time (u)", 'd': "the deactivation time (d)",
	'g': "the grace period (g)", 'q': "the old key's usual interval (q)", 'o': "the old key's uses (o)",
	'r': "the restart time (r)",
}

// Encode writes the state as "v=2/s=PHASE/n=NEWKEY/b=…/c=…/f=…/r=…/u=…/d=…/g=DAYS/q=HOURS/o=PAIRS":
// slash-separated key=value fields, times as 20060102T150405Z, fields the
// phase does not carry left out. PAIRS is "service:region" items joined by
// "+", each ending in "@n" once the new key was seen using it.
func (s State) Encode() (string, error) {
	f, ok := fieldsOf[s.Phase]
	if !ok {
		return "", fmt.Errorf("rotation state: phase %q cannot be stored", s.Phase)
	}
	if s.NewKeyID != "" && !iamname.AccessKeyID(s.NewKeyID) {
		return "", fmt.Errorf("rotation state: %q is not an access key id", short(s.NewKeyID))
	}
	carries := func(name byte) bool { return strings.IndexByte(f.need+f.may, name) >= 0 }
	fields := []string{"v=" + stateVersion, "s=" + string(s.Phase)}
	if carries('n') && s.NewKeyID != "" {
		fields = append(fields, "n="+s.NewKeyID)
	}
	for _, t := range []struct {
		name byte
		at   time.Time
	}{{'b', s.Began}, {'c', s.NewCreated}, {'f', s.FirstUse}, {'r', s.Restarted}, {'u', s.CutOver}, {'d', s.Deactivated}} {
		if carries(t.name) && !t.at.IsZero() {
			fields = append(fields, string(t.name)+"="+t.at.UTC().Format(stamp))
		}
	}
	if carries('g') {
		fields = append(fields, "g="+strconv.Itoa(s.GraceDays))
	}
	if carries('q') {
		fields = append(fields, "q="+strconv.Itoa(s.QuietHours))
	}
	if carries('o') && len(s.Seen) > 0 {
		items := make([]string, len(s.Seen))
		for i, p := range s.Seen {
			if !pairPart.MatchString(p.Service) || !pairPart.MatchString(p.Region) {
				return "", fmt.Errorf("rotation state: %q in %q cannot be recorded (service and region names are lower-case letters, digits, '.', '_' and '-')", short(p.Service), short(p.Region))
			}
			items[i] = p.Service + ":" + p.Region
			if p.ByNew {
				items[i] += "@n"
			}
		}
		fields = append(fields, "o="+strings.Join(items, "+"))
	}
	v := strings.Join(fields, "/")
	if len(v) > MaxTagValue {
		return "", fmt.Errorf("rotation state: the tag value would be %d characters, more than IAM's %d", len(v), MaxTagValue)
	}
	if !tagValueChars.MatchString(v) {
		return "", fmt.Errorf("rotation state: the tag value %q has characters IAM does not allow in tags", short(v))
	}
	if err := s.check(); err != nil {
		return "", err
	}
	return v, nil
}

// ParseState reads a tag value written by Encode, strictly: another
// version, a field the phase does not carry, a field twice, a missing
// field the phase needs, or a malformed one is an error, and the rotation
// stops rather than act on a state it does not understand. It reads what
// the tag says; whether that agrees with IAM is checkState's question.
func ParseState(v string) (State, error) {
	var s State
	if len(v) > MaxTagValue {
		return s, fmt.Errorf("the rotation state is %d characters long, more than a tag value can be: it was not written by this plugin", len(v))
	}
	fields := strings.Split(v, "/")
	if fields[0] != "v="+stateVersion {
		return s, fmt.Errorf("the rotation state %q is not of format version %s (version 1 was written by an earlier version of this plugin, which did not record what the cut-over proof needs)", short(v), stateVersion)
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		name, val, ok := strings.Cut(f, "=")
		if !ok || len(name) != 1 || val == "" {
			return State{}, fmt.Errorf("the rotation state %q has a malformed field %q", short(v), short(f))
		}
		if seen[name] {
			return State{}, fmt.Errorf("the rotation state %q has the field %q twice", short(v), name)
		}
		seen[name] = true
		var err error
		switch name {
		case "s":
			s.Phase = Phase(val)
		case "n":
			if !iamname.AccessKeyID(val) {
				err = fmt.Errorf("%q is not an access key id", short(val))
			}
			s.NewKeyID = val
		case "b":
			s.Began, err = parseStamp(val)
		case "c":
			s.NewCreated, err = parseStamp(val)
		case "f":
			s.FirstUse, err = parseStamp(val)
		case "r":
			s.Restarted, err = parseStamp(val)
		case "u":
			s.CutOver, err = parseStamp(val)
		case "d":
			s.Deactivated, err = parseStamp(val)
		case "g":
			s.GraceDays, err = parseCount(val, MaxGraceDays)
		case "q":
			s.QuietHours, err = parseCount(val, MaxQuietHours)
		case "o":
			s.Seen, err = parsePairs(val)
		default:
			err = fmt.Errorf("no such field in format version %s", stateVersion)
		}
		if err != nil {
			return State{}, fmt.Errorf("the rotation state %q has a bad field %s: %v", short(v), name, err)
		}
	}
	f, ok := fieldsOf[s.Phase]
	if !ok {
		return State{}, fmt.Errorf("the rotation state %q has no known phase (s)", short(v))
	}
	for name := range seen {
		if name != "s" && strings.Index(f.need+f.may, name) < 0 {
			return State{}, fmt.Errorf("the rotation state %q has field %s, which phase %s does not carry", short(v), name, s.Phase)
		}
	}
	for i := 0; i < len(f.need); i++ {
		if !seen[string(f.need[i])] {
			return State{}, fmt.Errorf("the rotation state %q is incomplete: phase %s needs %s", short(v), s.Phase, fieldNames[f.need[i]])
		}
	}
	if err := s.check(); err != nil {
		return State{}, fmt.Errorf("the rotation state %q is incomplete: %v", short(v), err)
	}
	return s, nil
}

// parseStamp reads a time of the tag: exactly the stamp format, and not the
// zero time (which Encode never writes).
func parseStamp(v string) (time.Time, error) {
	// time.Parse's own error quotes the value whole (twice), so it is not
	// passed on: the message quotes it cut, as every refusal here does.
	t, err := time.Parse(stamp, v)
	if err != nil || t.IsZero() || t.Format(stamp) != v {
		return time.Time{}, fmt.Errorf("%q is not a time this plugin writes (like 20250601T120000Z)", short(v))
	}
	return t, nil
}

// parseCount reads a whole number from 0 to most, digits only (no sign,
// no leading zero), as Encode writes it.
func parseCount(v string, most int) (int, error) {
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || strconv.Itoa(n) != v:
		return 0, fmt.Errorf("%q is not a whole number", short(v))
	case n < 0 || n > most:
		return 0, fmt.Errorf("%d is outside 0-%d", n, most)
	}
	return n, nil
}

// parsePairs reads the old key's uses: "service:region[@n]+…".
func parsePairs(v string) ([]SeenPair, error) {
	var out []SeenPair
	have := map[Pair]bool{}
	for _, item := range strings.Split(v, "+") {
		sp := SeenPair{}
		item, sp.ByNew = strings.CutSuffix(item, "@n")
		svc, reg, ok := strings.Cut(item, ":")
		if !ok || !pairPart.MatchString(svc) || !pairPart.MatchString(reg) {
			return nil, fmt.Errorf("%q is not service:region", short(item))
		}
		sp.Pair = Pair{svc, reg}
		if have[sp.Pair] {
			return nil, fmt.Errorf("%s is listed twice", sp.Pair)
		}
		have[sp.Pair] = true
		out = append(out, sp)
	}
	return out, nil
}

// check says whether the state has what its phase needs, in the values
// Encode would write.
func (s State) check() error {
	f, ok := fieldsOf[s.Phase]
	if !ok {
		return fmt.Errorf("unknown phase %q", s.Phase)
	}
	has := map[byte]bool{
		'n': s.NewKeyID != "", 'b': !s.Began.IsZero(), 'c': !s.NewCreated.IsZero(), 'f': !s.FirstUse.IsZero(),
		'u': !s.CutOver.IsZero(), 'd': !s.Deactivated.IsZero(), 'g': true, 'q': true, 'o': true, 'r': true,
	}
	for i := 0; i < len(f.need); i++ {
		if !has[f.need[i]] {
			return fmt.Errorf("phase %s needs %s", s.Phase, fieldNames[f.need[i]])
		}
	}
	if s.GraceDays < 0 || s.GraceDays > MaxGraceDays || s.QuietHours < 0 || s.QuietHours > MaxQuietHours {
		return fmt.Errorf("grace period %d days or interval %d hours out of range", s.GraceDays, s.QuietHours)
	}
	return nil
}

// short cuts a value echoed in a message: enough to recognise it, never a
// page of whatever someone wrote into a tag or an argument. Messages quote
// it (%q), which writes a byte that is not printable text as four
// characters, so what is bounded is the quoted form: at most 80
// characters between the quotes, and a run of invalid bytes shows as one
// U+FFFD.
func short(v string) string {
	const most = 80
	cut := len(v) > most
	if cut {
		n := most
		for n > 0 && !utf8.RuneStart(v[n]) {
			n-- // not in the middle of a character
		}
		v = v[:n]
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	for len(strconv.Quote(v)) > most+2 {
		_, size := utf8.DecodeLastRuneInString(v)
		v, cut = v[:len(v)-size], true
	}
	if cut {
		v += "…"
	}
	return v
}

package rotation

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The cut-over proof: when may the old key be deactivated?
//
// IAM reports, for each key, only its last use: when, by which service and
// in which region (GetAccessKeyLastUsed). One test call with the new key
// proves nothing about the jobs that hold the old one, so the rotation
// accumulates what it sees, in the state tag, at the create step and at
// every cut-over check:
//
//   - Seen: every service and region the old key's last use showed. The new
//     key must be seen used by each of them (a check that finds the new
//     key's last use in one of them marks it).
//   - QuietHours: the old key's usual interval. The longest time the old
//     key was seen unused while nothing used the new key yet (at a check,
//     now minus its last use): a job that runs every three days leaves the
//     key quiet for three days, so a quiet day after the switch proves
//     nothing about it. Never less than MinQuietHours, at most
//     MaxQuietHours (a monthly job), and frozen once the new key is used
//     (after that the old key is quiet because things switched).
//   - FirstUse: the new key's last use at the first check that found it
//     used — an upper bound of its first use.
//
// The cut-over is confirmed when the new key covers every pair seen, and
// the old key has not been used since FirstUse, for at least QuietHours.
// When the old key is used at or after FirstUse (a straggler), the
// reference moves to the new key's latest use.

// The bounds of the old key's usual interval, in hours.
const (
	MinQuietHours = 24
	MaxQuietHours = 30 * 24
)

// clockSlack absorbs the difference between IAM's clock and the server's,
// and the minute to which the plugin stamps the changes it records, when
// times of the tag are compared with IAM's.
const clockSlack = 5 * time.Minute

// keyUse is a key's last use as the proof reads it.
type keyUse struct {
	At   *time.Time // nil: never used
	Pair Pair       // empty parts when IAM names no service or region
}

func useOf(u *api.AccessKeyLastUsedOutput) keyUse {
	if u == nil || u.LastUsedDate == nil {
		return keyUse{}
	}
	t := u.LastUsedDate.UTC().Truncate(time.Second)
	return keyUse{At: &t, Pair: Pair{naEmpty(u.ServiceName), naEmpty(u.Region)}}
}

// recordable says whether the pair can be kept in the tag; ok is false for
// a pair IAM did not name (nothing to record).
func (p Pair) recordable() (ok bool, named bool) {
	if p.Service == "" || p.Region == "" {
		return false, false
	}
	return pairPart.MatchString(p.Service) && pairPart.MatchString(p.Region), true
}

// hoursUp is d in whole hours, rounded up, within the interval's bounds.
func hoursUp(d time.Duration) int {
	h := int((d + time.Hour - 1) / time.Hour)
	return min(max(h, MinQuietHours), MaxQuietHours)
}

// seeOld records the old key's last use: its pair among those the new key
// must cover, and, while nothing uses the new key, how long it has been
// quiet. It returns a warning when the pair cannot be recorded.
func seeOld(st *State, now time.Time, old keyUse, newUnused bool) string {
	if old.At == nil {
		return ""
	}
	if newUnused {
		st.QuietHours = max(st.QuietHours, hoursUp(now.Sub(*old.At)))
	}
	ok, named := old.Pair.recordable()
	switch {
	case !named:
		return ""
	case !ok:
		return fmt.Sprintf("the old key's last use names service %q and region %q, which the rotation's state cannot record: the cut-over cannot be confirmed while that is its latest use; check CloudTrail for what it is", short(old.Pair.Service), short(old.Pair.Region))
	}
	for _, p := range st.Seen {
		if p.Pair == old.Pair {
			return ""
		}
	}
	st.Seen = append(st.Seen, SeenPair{Pair: old.Pair})
	return ""
}

// verdict is what a cut-over check found.
type verdict struct {
	NewUnused    bool      // nothing has used the new key yet
	OldSince     bool      // the old key was used at or after the new key's first use
	Missing      []Pair    // pairs the old key was seen using and the new key not yet
	QuietUntil   time.Time // when the old key will have been quiet long enough (zero: the new key unused)
	Unrecordable string    // the old key's latest pair cannot be recorded
	Confirmed    bool
}

// judge updates st with what a check observes — the old key's and the new
// key's last use, now — and says whether the hand-over is proven. changed
// says whether st must be written back.
func judge(st *State, now time.Time, old, nw keyUse) (v verdict, changed bool) {
	was := cloneState(*st)
	v.NewUnused = nw.At == nil
	v.Unrecordable = seeOld(st, now, old, v.NewUnused)
	if v.NewUnused {
		v.Missing = st.Missing()
		return v, !reflect.DeepEqual(was, *st)
	}
	if st.FirstUse.IsZero() {
		st.FirstUse = *nw.At
	}
	if old.At != nil && !old.At.Before(st.FirstUse) && nw.At.After(st.FirstUse) {
		// Both keys were in use: the reference moves to the new key's
		// latest use, and the old key must be quiet for its interval after
		// that.
		st.FirstUse = *nw.At
	}
	v.OldSince = old.At != nil && !old.At.Before(st.FirstUse)
	for i := range st.Seen {
		if st.Seen[i].Pair == nw.Pair {
			st.Seen[i].ByNew = true
		}
	}
	v.Missing = st.Missing()
	v.QuietUntil = st.QuietFrom().Add(st.Quiet())
	v.Confirmed = !v.OldSince && len(v.Missing) == 0 && v.Unrecordable == "" && !now.Before(v.QuietUntil)
	return v, !reflect.DeepEqual(was, *st)
}

func cloneState(s State) State {
	s.Seen = append([]SeenPair(nil), s.Seen...)
	return s
}

// fitState makes st fit in a tag value: when the pairs the old key was
// seen using are too many, those the new key has covered go first (the
// requirement they stood for is met; if the old key shows one again, the
// new key must be seen there again). It fails when the uncovered pairs
// alone do not fit.
func fitState(st *State) (dropped []Pair, err error) {
	if _, err = st.Encode(); err == nil || len(st.Seen) == 0 {
		return nil, err
	}
	var keep []SeenPair
	for _, p := range st.Seen {
		if p.ByNew {
			dropped = append(dropped, p.Pair)
		} else {
			keep = append(keep, p)
		}
	}
	st.Seen = keep
	if _, err = st.Encode(); err != nil {
		return nil, err
	}
	return dropped, nil
}

func pairList(ps []Pair) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// checkState compares the state tag with what IAM records, so that a tag
// edited by hand (anyone with iam:TagUser can) cannot move a rotation on:
// its times must fall between the keys' creation dates (from
// list_access_keys) and now, the new key must be the one IAM shows with
// the creation date recorded, its first use must be one IAM's last-used
// date allows, and a confirmed cut-over must be one the proof could have
// confirmed. The old key's status and last use are always read from IAM,
// never from the tag. It runs when both the old key and the tag exist.
func (r *run) checkState() error {
	st, k := r.state, r.in.AccessKeyID
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	late := r.now.Add(clockSlack)
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"b", st.Began}, {"c", st.NewCreated}, {"f", st.FirstUse}, {"r", st.Restarted}, {"u", st.CutOver}, {"d", st.Deactivated}} {
		if !t.at.IsZero() && t.at.After(late) {
			bad("%s=%s is in the future", t.name, at(t.at))
		}
	}
	if oc := r.old.CreateDate.UTC(); !oc.IsZero() {
		for _, t := range []struct {
			name string
			at   time.Time
		}{{"b", st.Began}, {"d", st.Deactivated}} {
			if !t.at.IsZero() && t.at.Before(oc.Add(-clockSlack)) {
				bad("%s=%s is before %s was created (%s)", t.name, at(t.at), k, at(oc))
			}
		}
	}
	if n := st.NewKeyID; n != "" {
		if n == k {
			bad("n names the old key itself")
		}
		if nk := r.key(n); nk != nil {
			nc := nk.CreateDate.UTC().Truncate(time.Second)
			if !st.NewCreated.Equal(nc) {
				bad("c=%s, but IAM says %s was created %s", at(st.NewCreated), n, at(nc))
			}
			if !st.FirstUse.IsZero() {
				if st.FirstUse.Before(nc.Add(-clockSlack)) {
					bad("f=%s is before %s was created (%s)", at(st.FirstUse), n, at(nc))
				}
				if last, ok := r.lastUse(n); ok && (last == nil || st.FirstUse.After(last.Add(clockSlack))) {
					bad("f=%s, but IAM's last use of %s is %s", at(st.FirstUse), n, r.usedText(n))
				}
			}
			if !st.Restarted.IsZero() && st.Restarted.Before(nc.Add(MinQuietHours*time.Hour-clockSlack)) {
				bad("r=%s is less than %d hours after %s was created (%s), before it could have been deactivated", at(st.Restarted), MinQuietHours, n, at(nc))
			}
			if !st.Deactivated.IsZero() && st.Deactivated.Before(nc.Add(MinQuietHours*time.Hour-clockSlack)) {
				bad("d=%s is less than %d hours after %s was created (%s), before any cut-over could have been proven", at(st.Deactivated), MinQuietHours, n, at(nc))
			}
		}
	}
	if st.Phase == PhaseCutOver || st.Phase == PhaseDeactivated {
		if st.CutOver.Before(st.QuietFrom().Add(st.Quiet() - clockSlack)) {
			bad("u=%s is less than %d hours (q, the old key's usual interval, at least %d) after f=%s (or r, a restart), so the cut-over cannot have been proven then",
				at(st.CutOver), max(st.QuietHours, MinQuietHours), MinQuietHours, at(st.QuietFrom()))
		}
		if m := st.Missing(); len(m) > 0 {
			bad("the cut-over is recorded, but the new key was never seen used by %s, as the old key was", pairList(m))
		}
	}
	if st.Phase == PhaseDeactivated && st.Deactivated.Before(st.CutOver) {
		bad("d=%s is before the cut-over u=%s", at(st.Deactivated), at(st.CutOver))
	}
	if len(problems) == 0 {
		return nil
	}
	u := r.in.UserName
	return invalid("the rotation state tag of %s disagrees with IAM: %s. It was edited outside this tool (or IAM changed under it), and the rotation does not act on it. Check the keys with list_access_keys and get_access_key_last_used, then remove the tag with %s and start again with step plan",
		k, strings.Join(problems, "; "), callUntag(u, k).Markdown())
}

package rotation

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// plan_key_rotation finds the keys due from the credential report — one
// report for the whole account instead of a list_access_keys per user —
// then reads the current keys and tags of only the users with a key due
// (one batch), so that its IAM calls grow with the keys due, not with the
// users, and each plan rests on the keys as they are now rather than as
// the report (up to four hours old) saw them.

// DefaultMaxAgeDays is the age past which a key is due: 90 days, as the CIS
// AWS Foundations Benchmark, AWS Config's access-keys-rotated rule and
// prowler's iam_rotate_access_key_90_days use.
const DefaultMaxAgeDays = 90

// PlanOps are the operations plan_key_rotation declares.
func PlanOps() []string {
	return []string{"generate_credential_report", "get_credential_report", "list_access_keys", "list_user_tags"}
}

// PlanInput is plan_key_rotation's input.
type PlanInput struct {
	MaxAgeDays int `json:"max_age_days,omitempty" desc:"active keys older than this many whole days are due for rotation (default 90); active keys unused for 45 days or more are due for retirement whatever their age" minimum:"1" maximum:"3650"`
}

// The cases a due key falls in.
const (
	CaseRotate     = "rotate"      // the user holds only this key: the rotation can start
	CaseRetire     = "retire"      // unused for StaleDays (or never used and that old): deactivated, then deleted, not rotated
	CaseMakeRoom   = "make_room"   // the user's other key is inactive: delete it first
	CaseChoose     = "choose"      // the user's two keys are active: a person picks which to retire
	CaseRoot       = "root"        // a root user's key: never rotated, deleted from the console
	CaseInProgress = "in_progress" // a rotation of it has started
)

// DueKey is one key due, with its plan.
type DueKey struct {
	UserName        string       `json:"user_name" desc:"<root_account> for the root user"`
	Arn             string       `json:"arn"`
	AccessKeyID     string       `json:"access_key_id,omitempty" desc:"absent for a root key: IAM's API does not list them (the console shows them)"`
	Slot            int          `json:"slot" desc:"the credential report's key column, 1 or 2"`
	Status          string       `json:"status"`
	CreateDate      *time.Time   `json:"create_date,omitempty"`
	AgeDays         int          `json:"age_days"`
	LastUsedDate    *time.Time   `json:"last_used_date,omitempty" desc:"as the credential report saw it"`
	LastUsedService string       `json:"last_used_service,omitempty"`
	LastUsedRegion  string       `json:"last_used_region,omitempty"`
	Case            string       `json:"case" enum:"rotate,retire,make_room,choose,root,in_progress"`
	Reason          string       `json:"reason"`
	OtherKey        *KeyEvidence `json:"other_key,omitempty" desc:"the user's other key, when it has one"`
	Phase           string       `json:"phase,omitempty" desc:"for a rotation in progress: its phase"`
	Plan            []PlanStep   `json:"plan"`
	Next            *NextCall    `json:"next,omitempty" desc:"the exact call to make first; absent when a person must choose or act"`
	Choices         []Choice     `json:"choices,omitempty"`
	ConsoleSteps    []string     `json:"console_steps,omitempty"`
}

// PlanResult is plan_key_rotation's answer.
type PlanResult struct {
	MaxAgeDays      int       `json:"max_age_days"`
	AsOf            time.Time `json:"as_of"`
	ReportGenerated time.Time `json:"report_generated" desc:"when IAM generated the credential report the plan starts from"`
	Users           int       `json:"users" desc:"IAM users in the report"`
	ActiveKeys      int       `json:"active_keys" desc:"active access keys in the report"`
	Due             []DueKey  `json:"due" desc:"every key due, oldest first"`
	Counts          Counts    `json:"counts"`
	IAMCalls        int       `json:"iam_calls" desc:"catalogue calls this plan made"`
	Notes           []string  `json:"notes,omitempty"`
	ReadOnly        bool      `json:"read_only" desc:"the server is read-only (no --allow-write, or --readonly): the rotations can be planned here but not carried out"`
}

// Counts are the due keys by case.
type Counts struct {
	Rotate     int `json:"rotate"`
	Retire     int `json:"retire"`
	MakeRoom   int `json:"make_room"`
	Choose     int `json:"choose"`
	Root       int `json:"root"`
	InProgress int `json:"in_progress"`
}

// counting wraps a Host to count the calls a tool makes, for the answer.
type counting struct {
	hostiam.Client
	n int
}

func (c *counting) Call(op string, in, out any) error { c.n++; return c.Client.Call(op, in, out) }
func (c *counting) Batch(reqs []hostiam.Request) []error {
	c.n += len(reqs)
	return c.Client.Batch(reqs)
}

// reportDelays are the waits between generate_credential_report calls
// while IAM builds the report (about 20 s in all): IAM usually needs a few
// seconds, and a plugin call has a time limit.
var reportDelays = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}

// credentialReport asks IAM for a fresh enough report and reads it.
func credentialReport(h hostiam.Client, opts Options) (*api.CredentialReportOutput, error) {
	for attempt := 0; ; attempt++ {
		var g api.GenerateCredentialReportOutput
		if err := h.Call("generate_credential_report", api.Empty{}, &g); err != nil {
			return nil, wrap(err, "cannot generate the credential report")
		}
		if g.State == "COMPLETE" {
			break
		}
		if attempt == len(reportDelays) {
			return nil, &api.Error{Code: api.ServiceFailure, Message: fmt.Sprintf("IAM is still generating the credential report (state %s) after %d tries; call plan_key_rotation again in a minute", g.State, attempt+1)}
		}
		h.Progress(float64(attempt+1), 0, "waiting for IAM to generate the credential report")
		opts.sleep(reportDelays[attempt])
	}
	var rep api.CredentialReportOutput
	if err := h.Call("get_credential_report", api.Empty{}, &rep); err != nil {
		return nil, wrap(err, "cannot read the credential report")
	}
	return &rep, nil
}

// candidate is a key the report shows as due.
type candidate struct {
	row  *api.CredentialReportRow
	key  api.CredentialReportKey
	age  int
	root bool
}

// PlanDue lists every key due and the plan for each.
func PlanDue(host hostiam.Client, in PlanInput, opts Options) (*PlanResult, error) {
	switch {
	case in.MaxAgeDays < 0 || in.MaxAgeDays > 3650:
		return nil, invalid("max_age_days %d is outside 1-3650", in.MaxAgeDays)
	case in.MaxAgeDays == 0:
		in.MaxAgeDays = DefaultMaxAgeDays
	}
	info, err := host.Info()
	if err != nil {
		return nil, err
	}
	h := &counting{Client: host}
	now := opts.now()
	rep, err := credentialReport(h, opts)
	if err != nil {
		return nil, err
	}
	res := &PlanResult{MaxAgeDays: in.MaxAgeDays, AsOf: now, ReportGenerated: rep.GeneratedTime.UTC(), Due: []DueKey{}, ReadOnly: info.ReadOnly}
	if age := now.Sub(rep.GeneratedTime); age > time.Hour {
		res.Notes = append(res.Notes, fmt.Sprintf("the credential report is %s old (IAM regenerates it at most every 4 hours): keys created since are not in it; each plan below was checked against the user's keys as they are now", age.Round(time.Minute)))
	}

	var cands []candidate
	for i := range rep.Rows {
		row := &rep.Rows[i]
		root := row.User == RootUser
		if !root {
			res.Users++
		}
		for _, k := range row.AccessKeys {
			if k.Active {
				res.ActiveKeys++
			}
			age := 0
			if k.LastRotated != nil {
				age = ageDays(k.LastRotated.UTC(), now)
			}
			// A root key is due whatever its age and status: it should not
			// exist. A user's key is due when active and older than the
			// limit ("older than 90 days": more than 90 whole days), or
			// active and unused for StaleDays (to be retired).
			if root || (k.Active && (age > in.MaxAgeDays || reportStale(k, now))) {
				cands = append(cands, candidate{row: row, key: k, age: age, root: root})
			}
		}
	}

	// One batch for the current keys and tags of every user with a key due.
	var users []string
	seen := map[string]bool{}
	for _, c := range cands {
		if !c.root && !seen[c.row.User] {
			seen[c.row.User] = true
			users = append(users, c.row.User)
		}
	}
	keys := make([]api.ListAccessKeysOutput, len(users))
	tags := make([]api.UserTagsOutput, len(users))
	reqs := make([]hostiam.Request, 0, 2*len(users))
	for i, u := range users {
		page := api.UserPageInput{UserName: u, PageInput: api.PageInput{MaxItems: 100}}
		reqs = append(reqs, hostiam.Request{Op: "list_access_keys", In: page, Out: &keys[i]}, hostiam.Request{Op: "list_user_tags", In: page, Out: &tags[i]})
	}
	if len(reqs) > 0 {
		h.Progress(0, float64(len(users)), fmt.Sprintf("reading the keys of %d users with a key due", len(users)))
	}
	errs := h.Batch(reqs)
	gone := map[string]bool{}
	for i, u := range users {
		for j, err := range errs[2*i : 2*i+2] {
			switch {
			case err == nil:
			case hostiam.Code(err) == api.NoSuchEntity:
				if !gone[u] {
					res.Notes = append(res.Notes, "user "+u+" was deleted since the credential report was generated")
				}
				gone[u] = true
			default:
				return nil, wrap(err, "cannot read the %s of %s", []string{"access keys", "tags"}[j], u)
			}
		}
	}
	byUser := map[string]int{}
	for i, u := range users {
		byUser[u] = i
	}

	for _, c := range cands {
		d := DueKey{UserName: c.row.User, Arn: c.row.Arn, Slot: c.key.Slot, AgeDays: c.age, Status: status(c.key.Active)}
		if c.key.LastRotated != nil {
			t := c.key.LastRotated.UTC()
			d.CreateDate = &t
		}
		if c.key.LastUsedDate != nil {
			t := c.key.LastUsedDate.UTC()
			d.LastUsedDate = &t
			d.LastUsedService, d.LastUsedRegion = naEmpty(c.key.LastUsedService), naEmpty(c.key.LastUsedRegion)
		}
		if c.root {
			d.Case = CaseRoot
			d.Reason = fmt.Sprintf("the root user has an access key (slot %d, %s, %d days old): root keys are never rotated, they are deleted", c.key.Slot, strings.ToLower(d.Status), c.age)
			d.Plan = rootPlan(fmt.Sprintf("in slot %d", c.key.Slot))
			d.ConsoleSteps = rootConsoleSteps
			res.Due = append(res.Due, d)
			continue
		}
		if gone[c.row.User] {
			continue
		}
		i := byUser[c.row.User]
		cur := matchKey(keys[i].AccessKeys, c.key)
		if cur == nil {
			res.Notes = append(res.Notes, fmt.Sprintf("%s's key in slot %d (created %s) no longer exists: deleted or rotated since the credential report", c.row.User, c.key.Slot, fmtDate(d.CreateDate)))
			continue
		}
		if cur.Status != "Active" {
			res.Notes = append(res.Notes, fmt.Sprintf("%s's key %s was deactivated since the credential report", c.row.User, cur.AccessKeyID))
			continue
		}
		d.AccessKeyID, d.Status = cur.AccessKeyID, cur.Status
		planDueKey(&d, keys[i].AccessKeys, tags[i].Tags, c.row, now)
		res.Due = append(res.Due, d)
	}
	sort.SliceStable(res.Due, func(i, j int) bool {
		a, b := res.Due[i].CreateDate, res.Due[j].CreateDate
		switch {
		case a == nil || b == nil:
			return a != nil
		case !a.Equal(*b):
			return a.Before(*b)
		}
		return res.Due[i].UserName < res.Due[j].UserName
	})
	for _, d := range res.Due {
		switch d.Case {
		case CaseRotate:
			res.Counts.Rotate++
		case CaseRetire:
			res.Counts.Retire++
		case CaseMakeRoom:
			res.Counts.MakeRoom++
		case CaseChoose:
			res.Counts.Choose++
		case CaseRoot:
			res.Counts.Root++
		case CaseInProgress:
			res.Counts.InProgress++
		}
	}
	res.IAMCalls = h.n
	return res, nil
}

// reportStale says whether the report shows a key unused for StaleDays
// or more (never used: created that long ago).
func reportStale(k api.CredentialReportKey, now time.Time) bool {
	switch {
	case k.LastUsedDate != nil:
		return ageDays(k.LastUsedDate.UTC(), now) >= StaleDays
	case k.LastRotated != nil:
		return ageDays(k.LastRotated.UTC(), now) >= StaleDays
	}
	return false
}

func status(active bool) string {
	if active {
		return "Active"
	}
	return "Inactive"
}

func fmtDate(t *time.Time) string {
	if t == nil {
		return "?"
	}
	return t.UTC().Format("2006-01-02")
}

// matchKey finds the current key the report's slot describes: the report
// names no key ids, so by creation date (to the second, as both give it).
func matchKey(keys []api.AccessKey, k api.CredentialReportKey) *api.AccessKey {
	if k.LastRotated == nil {
		return nil
	}
	for i := range keys {
		if keys[i].CreateDate.UTC().Truncate(time.Second).Equal(k.LastRotated.UTC().Truncate(time.Second)) {
			return &keys[i]
		}
	}
	return nil
}

// planDueKey fills a due key's case, plan and first call from the user's
// current keys and tags.
func planDueKey(d *DueKey, keys []api.AccessKey, tags map[string]string, row *api.CredentialReportRow, now time.Time) {
	u, k := d.UserName, d.AccessKeyID
	var other *api.AccessKey
	for i := range keys {
		if keys[i].AccessKeyID != k {
			other = &keys[i]
		}
	}
	if other != nil {
		e := KeyEvidence{AccessKeyID: other.AccessKeyID, Role: "other", Status: other.Status}
		c := other.CreateDate.UTC()
		e.CreateDate, e.AgeDays = &c, ageDays(c, now)
		// The report's other slot has its last use.
		for _, rk := range row.AccessKeys {
			if rk.LastRotated != nil && rk.LastRotated.UTC().Truncate(time.Second).Equal(c.Truncate(time.Second)) && rk.LastUsedDate != nil {
				t := rk.LastUsedDate.UTC()
				e.LastUsedDate, e.LastUsedService, e.LastUsedRegion = &t, naEmpty(rk.LastUsedService), naEmpty(rk.LastUsedRegion)
			}
		}
		d.OtherKey = &e
	}
	in := planInput{user: u, oldKey: k, graceDays: DefaultGraceDays, graceSource: "the default, unless grace_days or the plugin's config says otherwise"}
	if v, ok := lookupTag(tags, TagKey(k)); ok {
		if st, err := ParseState(v); err == nil {
			in.state, in.retire = &st, st.Phase == PhaseRetiring
			d.Case, d.Phase = CaseInProgress, string(st.Phase)
			d.Reason = fmt.Sprintf("a rotation of %s is in progress: %s", k, describePhase(st.Phase))
			d.Plan = buildPlan(in)
			d.Next = rotateCall(u, k, StepNext, "continue the rotation")
			return
		}
		d.Reason = "its rotation's state tag is unreadable; "
	}
	used := "never used"
	if d.LastUsedDate != nil {
		used = "last used " + d.LastUsedDate.Format("2006-01-02")
	}
	age := fmt.Sprintf("%d days old, %s", d.AgeDays, used)
	switch {
	case reportStale(api.CredentialReportKey{LastUsedDate: d.LastUsedDate, LastRotated: d.CreateDate}, now):
		d.Case = CaseRetire
		d.Reason += fmt.Sprintf("%s: unused for %d days or more, so it is retired (deactivated, then deleted after the grace period), not rotated", age, StaleDays)
		in.retire = true
	case other != nil && other.Status == "Active":
		d.Case = CaseChoose
		d.Reason += fmt.Sprintf("%s; %s also holds the active key %s, and IAM allows two keys per user: a person must choose which to retire", age, u, other.AccessKeyID)
		d.Choices = twoActiveChoices(u, k, other.AccessKeyID, used, evidenceUsed(d.OtherKey))
		d.Plan = buildPlan(in)
		return
	case other != nil:
		d.Case = CaseMakeRoom
		d.Reason += fmt.Sprintf("%s; %s's other key %s is inactive and is deleted first to free a slot, once it has been unused for the grace period", age, u, other.AccessKeyID)
		in.other = other
		// IAM does not record when a key was deactivated: the other key
		// may go once its last use (its creation, if never used) is a
		// grace period ago.
		from := other.CreateDate.UTC()
		if e := d.OtherKey; e != nil && e.LastUsedDate != nil {
			from = *e.LastUsedDate
		}
		if at := from.Add(DefaultGraceDays * 24 * time.Hour); at.After(now) {
			in.makeRoomAt = &at
		}
	default:
		d.Case = CaseRotate
		d.Reason += age
	}
	d.Plan = buildPlan(in)
	d.Next = rotateCall(u, k, StepPlan, "check the keys as they are now and get the rotation's plan")
}

func lookupTag(tags map[string]string, key string) (string, bool) {
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func evidenceUsed(e *KeyEvidence) string {
	if e == nil || e.LastUsedDate == nil {
		return "never used"
	}
	return "last used " + e.LastUsedDate.Format("2006-01-02")
}

// PluginResult is the MCP result: the Markdown summary and the structured
// plan.
func (p *PlanResult) PluginResult() (*api.PluginResult, error) {
	return pluginResult(p, p.Markdown())
}

// Markdown is the plan for a person: a table of the keys due, oldest first,
// and the first call for each.
func (p *PlanResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Access keys due for rotation (older than %d days) or retirement (unused for %d days)\n\n", p.MaxAgeDays, StaleDays)
	fmt.Fprintf(&b, "%d keys due out of %d active keys of %d users (credential report of %s; %d IAM calls).",
		len(p.Due), p.ActiveKeys, p.Users, p.ReportGenerated.Format(time.RFC3339), p.IAMCalls)
	if p.ReadOnly {
		b.WriteString(" The server runs read-only: these are plans; carrying them out needs a server started with --allow-write.")
	}
	b.WriteString("\n\n")
	if len(p.Due) > 0 {
		b.WriteString("| # | user | key | age (days) | last used | case | first step |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for i, d := range p.Due {
			key := d.AccessKeyID
			if key == "" {
				key = fmt.Sprintf("slot %d", d.Slot)
			}
			used := "never"
			if d.LastUsedDate != nil {
				used = d.LastUsedDate.Format("2006-01-02") + " " + strings.TrimSpace(d.LastUsedService+" "+d.LastUsedRegion)
			}
			first := "a person decides: see choices"
			switch {
			case d.Next != nil:
				first = "`" + d.Next.String() + "`"
			case d.Case == CaseRoot:
				first = "delete it from the console (see console_steps)"
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %s | %s |\n", i+1, d.UserName, key, d.AgeDays, used, d.Case, first)
		}
		b.WriteString("\n")
		for _, d := range p.Due {
			if d.Case == CaseChoose || d.Case == CaseRoot || d.Case == CaseMakeRoom || d.Case == CaseRetire {
				fmt.Fprintf(&b, "- **%s %s:** %s\n", d.UserName, orSlot(d), d.Reason)
			}
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "> %s\n", n)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func orSlot(d DueKey) string {
	if d.AccessKeyID != "" {
		return d.AccessKeyID
	}
	return fmt.Sprintf("(slot %d)", d.Slot)
}

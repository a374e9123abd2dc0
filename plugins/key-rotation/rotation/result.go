package rotation

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// What rotate_access_key answers. Every answer, whatever happened, says
// what this call did (Happened), where the rotation stands (Phase and
// CurrentStep) and the exact call to make next (Next), so that an assistant
// can carry a rotation across days and conversations without remembering
// anything, and a person can read the same answer top-down.

// The outcomes of a rotate_access_key call.
const (
	OutcomePlanned    = "planned"     // nothing changed: the plan, ready to start
	OutcomeStatus     = "status"      // nothing changed: where a rotation in progress stands
	OutcomeAdvanced   = "advanced"    // a step was performed
	OutcomeWaiting    = "waiting"     // the step's condition does not hold yet (cut-over, grace period); nothing unsafe done
	OutcomeBlocked    = "blocked"     // a person must decide (two active keys, an inactive or root key)
	OutcomeStopped    = "stopped"     // a safety check failed (a key used after the cut-over, the new key gone)
	OutcomeRolledBack = "rolled_back" // the last reversible step was undone
	OutcomeCompleted  = "completed"   // the old key is deleted; nothing left to do
	OutcomeReadOnly   = "read_only"   // the server is read-only: the full plan, nothing changed
	OutcomeDeclined   = "declined"    // the person said no to the step's changes: nothing changed
)

// KeyEvidence is what is known of one access key: enough for a person to
// tell which key is which and whether something still uses it.
type KeyEvidence struct {
	AccessKeyID     string     `json:"access_key_id"`
	Role            string     `json:"role" desc:"old (being retired), new (its replacement) or other" enum:"old,new,other"`
	Status          string     `json:"status" enum:"Active,Inactive"`
	CreateDate      *time.Time `json:"create_date,omitempty"`
	AgeDays         int        `json:"age_days"`
	LastUsedDate    *time.Time `json:"last_used_date,omitempty" desc:"absent when never used (or unknown)"`
	LastUsedService string     `json:"last_used_service,omitempty"`
	LastUsedRegion  string     `json:"last_used_region,omitempty"`
}

// Choice is one way out of a decision the rotation cannot make alone (which
// of two active keys to retire).
type Choice struct {
	Retire  string    `json:"retire" desc:"the key this choice retires"`
	Summary string    `json:"summary"`
	Calls   []Call    `json:"calls" desc:"the catalogue calls, in order"`
	Start   *NextCall `json:"start,omitempty" desc:"the call that carries the choice out, step by step"`
	Then    *NextCall `json:"then,omitempty" desc:"what to call once they are done"`
}

// UsePair is a service and region the old key was seen using.
type UsePair struct {
	Service        string `json:"service"`
	Region         string `json:"region"`
	SeenWithNewKey bool   `json:"seen_with_new_key,omitempty"`
}

// CutOverProof is what the cut-over needs and what it has seen: the new key
// used by every service and region the old key was seen using, and the old
// key unused since the new key's first use for its usual interval.
type CutOverProof struct {
	Needs          []UsePair  `json:"needs" desc:"the services and regions the old key was seen using during the rotation; the new key must be seen used by each"`
	Missing        []UsePair  `json:"missing" desc:"those the new key has not been seen using yet"`
	NewKeyFirstUse *time.Time `json:"new_key_first_use,omitempty" desc:"the first use of the new key the rotation saw (the reference)"`
	OldKeyLastUse  *time.Time `json:"old_key_last_use,omitempty"`
	QuietHours     int        `json:"quiet_hours" desc:"how long the old key must stay unused after the new key's first use: its usual interval as observed, at least 24 hours"`
	QuietUntil     *time.Time `json:"quiet_until,omitempty" desc:"the old key must not be used before this time for the cut-over to be confirmed"`
	Confirmed      bool       `json:"confirmed"`
}

// StateTag is the rotation's state as stored on the user.
type StateTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// SealKey is the tag beside it that holds the server's seal of the
	// value, checked at every call.
	SealKey string `json:"seal_key"`
	Seal    string `json:"seal"`
}

// RotateResult is rotate_access_key's answer.
type RotateResult struct {
	UserName       string `json:"user_name"`
	AccessKeyID    string `json:"access_key_id" desc:"the key being retired"`
	Step           string `json:"step" desc:"the step this call was asked for"`
	Outcome        string `json:"outcome" enum:"planned,status,advanced,waiting,blocked,stopped,rolled_back,completed,read_only,declined"`
	Happened       string `json:"happened" desc:"what this call did"`
	Phase          string `json:"phase" desc:"what the state tag records: not started, creating, created, cutover, deactivated, retiring, done"`
	CurrentStep    string `json:"current_step" desc:"the step the rotation stands at: the next one to perform"`
	NewAccessKeyID string `json:"new_access_key_id,omitempty"`
	SecretFile     string `json:"secret_file,omitempty" desc:"where the server wrote the new key's secret (mode 0600); the secret itself is never in this answer"`
	// SecretLink is, over HTTP, the one-time link on the server to the
	// new key's secret: it works once, only with the credentials of the
	// caller of this tool, until SecretLinkExpires.
	SecretLink        string `json:"secret_link,omitempty" desc:"over HTTP: the one-time link to the new key's secret, for the caller's credentials only; the secret itself is never in this answer"`
	SecretLinkExpires string `json:"secret_link_expires,omitempty" desc:"when the secret link stops working (RFC 3339)"`
	SecretNote        string `json:"secret_note,omitempty" desc:"where the new key's secret is until the new key has been used; then what became of its file (removed by the cut-over check, or why not)"`
	// SecretFileRemoved is the new key's secret file, when this call had
	// the server remove it.
	SecretFileRemoved string        `json:"secret_file_removed,omitempty" desc:"the new key's secret file, removed from the server by this call (the new key has been used)"`
	CutOver           *CutOverProof `json:"cutover,omitempty" desc:"the cut-over proof: what the new key must still show, and until when the old key must stay unused"`
	Evidence          []string      `json:"evidence,omitempty" desc:"what IAM showed that the answer rests on (the root key check)"`
	Next              *NextCall     `json:"next,omitempty" desc:"the exact call to make next; absent when a person must decide or act (see choices, console_steps)"`
	Choices           []Choice      `json:"choices,omitempty"`
	ConsoleSteps      []string      `json:"console_steps,omitempty" desc:"what a person does in the AWS console (root keys)"`
	Keys              []KeyEvidence `json:"keys" desc:"the user's keys, with their last use"`
	StateTag          *StateTag     `json:"state_tag,omitempty"`
	Changes           []Call        `json:"changes" desc:"the changes this call made, in order"`
	Plan              []PlanStep    `json:"plan" desc:"every step of the rotation: calls, preconditions, rollback"`
	Warnings          []string      `json:"warnings,omitempty"`
	ReadOnly          bool          `json:"read_only" desc:"the server is read-only (no --allow-write, or --readonly): nothing can change"`
}

// PluginResult is the MCP result: the Markdown summary for a person as
// text, and the whole answer as structured content.
func (r *RotateResult) PluginResult() (*api.PluginResult, error) {
	return pluginResult(r, r.Markdown())
}

func pluginResult(v any, text string) (*api.PluginResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &api.PluginResult{Content: []api.PluginContent{{Type: "text", Text: text}}, StructuredContent: b}, nil
}

// Markdown is the answer for a person: a few lines, top-down.
func (r *RotateResult) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Rotation of %s (%s): %s\n\n", r.AccessKeyID, r.UserName, strings.ReplaceAll(r.Outcome, "_", " "))
	if r.ReadOnly {
		b.WriteString("_The server runs read-only: nothing was changed._\n\n")
	}
	fmt.Fprintf(&b, "**What happened:** %s\n\n", r.Happened)
	fmt.Fprintf(&b, "**Where it stands:** phase %s; current step: %s\n\n", r.Phase, r.CurrentStep)
	if r.NewAccessKeyID != "" {
		fmt.Fprintf(&b, "**New key:** %s", r.NewAccessKeyID)
		if r.SecretFile != "" {
			fmt.Fprintf(&b, " (its secret is in `%s`, mode 0600, on the server; it is never shown here)", r.SecretFile)
		}
		if r.SecretLink != "" {
			fmt.Fprintf(&b, " (its secret waits behind the one-time link %s until %s, for your credentials only; it is never shown here)", r.SecretLink, r.SecretLinkExpires)
		}
		b.WriteString("\n\n")
	}
	if r.SecretNote != "" {
		fmt.Fprintf(&b, "**The new secret:** %s\n\n", r.SecretNote)
	}
	if p := r.CutOver; p != nil {
		b.WriteString(p.Markdown())
	}
	if len(r.Evidence) > 0 {
		b.WriteString("**Evidence:**\n")
		for _, e := range r.Evidence {
			fmt.Fprintf(&b, "- %s\n", e)
		}
		b.WriteString("\n")
	}
	if r.Next != nil {
		fmt.Fprintf(&b, "**Next:** %s\n\n", r.Next.Markdown())
	}
	for i, c := range r.Choices {
		fmt.Fprintf(&b, "**Choice %d: retire %s.** %s\n", i+1, c.Retire, c.Summary)
		if c.Start != nil {
			fmt.Fprintf(&b, "  - %s\n", c.Start.Markdown())
		}
		for _, call := range c.Calls {
			fmt.Fprintf(&b, "  - %s\n", call.Markdown())
		}
		if c.Then != nil {
			fmt.Fprintf(&b, "  - then %s\n", c.Then.Markdown())
		}
		b.WriteString("\n")
	}
	if len(r.ConsoleSteps) > 0 {
		b.WriteString("**In the console:**\n")
		for i, s := range r.ConsoleSteps {
			fmt.Fprintf(&b, "%d. %s\n", i+1, s)
		}
		b.WriteString("\n")
	}
	if len(r.Keys) > 0 {
		b.WriteString(keysTable(r.Keys))
		b.WriteString("\n")
	}
	if len(r.Changes) > 0 {
		b.WriteString("**Changes made:**\n")
		for _, c := range r.Changes {
			fmt.Fprintf(&b, "- %s\n", c.Markdown())
		}
		b.WriteString("\n")
	}
	if len(r.Plan) > 0 {
		b.WriteString("**Plan:**\n")
		for i, s := range r.Plan {
			fmt.Fprintf(&b, "%d. [%s] `%s`: %s", i+1, s.Status, s.Step, s.Title)
			if s.NotBefore != nil {
				fmt.Fprintf(&b, " (not before %s)", s.NotBefore.UTC().Format(time.RFC3339))
			}
			b.WriteString("\n")
			if r.ReadOnly && s.Status != "done" {
				for _, c := range s.Calls {
					fmt.Fprintf(&b, "   - %s\n", c.Markdown())
				}
				fmt.Fprintf(&b, "   - rollback: %s\n", s.Rollback)
			}
		}
		b.WriteString("\n")
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "> **Warning:** %s\n", w)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// Markdown says what the cut-over has and lacks, in a few lines.
func (p *CutOverProof) Markdown() string {
	var b strings.Builder
	state := "not yet proven"
	if p.Confirmed {
		state = "proven"
	}
	fmt.Fprintf(&b, "**Cut-over (%s):** ", state)
	if len(p.Needs) == 0 {
		b.WriteString("the old key was not seen used by any service during the rotation")
	} else {
		var parts []string
		for _, n := range p.Needs {
			mark := "not yet seen with the new key"
			if n.SeenWithNewKey {
				mark = "seen with the new key"
			}
			parts = append(parts, fmt.Sprintf("%s in %s (%s)", n.Service, n.Region, mark))
		}
		b.WriteString("the old key was seen used by " + strings.Join(parts, ", "))
	}
	switch {
	case p.NewKeyFirstUse == nil:
		fmt.Fprintf(&b, "; the new key has not been seen in use; then the old key must stay unused for %d hours", p.QuietHours)
	default:
		fmt.Fprintf(&b, "; the new key was first seen in use %s, and the old key must stay unused for %d hours after it, until %s",
			p.NewKeyFirstUse.UTC().Format(time.RFC3339), p.QuietHours, p.QuietUntil.UTC().Format(time.RFC3339))
	}
	if p.OldKeyLastUse != nil {
		fmt.Fprintf(&b, " (its last use: %s)", p.OldKeyLastUse.UTC().Format(time.RFC3339))
	}
	b.WriteString(".\n\n")
	return b.String()
}

// keysTable renders key evidence as a Markdown table.
func keysTable(keys []KeyEvidence) string {
	var b strings.Builder
	b.WriteString("| key | role | status | created | last used |\n| --- | --- | --- | --- | --- |\n")
	for _, k := range keys {
		created := "?"
		if k.CreateDate != nil {
			created = fmt.Sprintf("%s (%d days)", k.CreateDate.UTC().Format("2006-01-02"), k.AgeDays)
		}
		used := "never"
		if k.LastUsedDate != nil {
			used = k.LastUsedDate.UTC().Format("2006-01-02 15:04") + " " + strings.TrimSpace(k.LastUsedService+" "+k.LastUsedRegion)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", k.AccessKeyID, k.Role, k.Status, created, used)
	}
	return b.String()
}

// Markdown renders a call as `op {"arg": …}`.
func (c Call) Markdown() string {
	s := "`" + c.Op + " " + compactJSON(c.Args) + "`"
	if c.Note != "" {
		s += " — " + c.Note
	}
	return s
}

// Markdown renders the next call with its reason.
func (n *NextCall) Markdown() string {
	s := "`" + n.Tool + " " + compactJSON(n.Args) + "`"
	if n.NotBefore != nil {
		s += " not before " + n.NotBefore.UTC().Format(time.RFC3339)
	}
	if n.Why != "" {
		s += " — " + n.Why
	}
	return s
}

// String is the call as one line, for error messages.
func (n *NextCall) String() string {
	return n.Tool + " " + compactJSON(n.Args)
}

// compactJSON writes v on one line, without escaping <, > and & (the
// placeholders in plans are for people to read).
func compactJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// joinOps lists operation names, sorted, for messages.
func joinOps(ops []string) string {
	s := append([]string(nil), ops...)
	sort.Strings(s)
	return strings.Join(s, ", ")
}

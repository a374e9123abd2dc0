package mcpserver

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// FuzzConsentAnswer feeds arbitrary bytes as a retry's inputResponses and
// as a client's result of elicitation/create. Neither may panic; an answer
// decodeAnswer takes is, read by an independent decoding, exactly one
// answer under "consent" whose action is the decision, with no key beyond
// those allowed; the stdio checks of the same bytes never fail to refuse
// what that decoding could read otherwise (keys equal but for case).
func FuzzConsentAnswer(f *testing.F) {
	for _, seed := range []string{
		`{"consent":{"action":"accept"}}`,
		`{"consent":{"action":"decline","content":{}}}`,
		`{"consent":{"action":"accept","Action":"decline"}}`,
		`{"consent":{"ACTION":"accept"}}`,
		`{"consent":{"action":"accept"},"CONSENT":{"action":"decline"}}`,
		`{"consent":{"action":"acc\u0065pt","_meta":{"x":1}}}`,
		`{"consent":{"action":"cancel","resultType":"complete","content":null}}`,
		`{"consent":{"action":"accept","action":"accept"}}`,
		`{"consent":{"\u212Action":"accept"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) > 64<<10 {
			t.Skip("large inputs only slow the search")
		}
		_ = inputResponses(raw)
		_ = elicitationResult(raw)
		var rs mcp.InputResponses
		if json.Unmarshal(raw, &rs) != nil {
			return
		}
		decision, why := decodeAnswer(rs)
		if decision == "" {
			if why == "" {
				t.Fatalf("no decision and no reason for %q", raw)
			}
			return
		}
		var oracle map[string]map[string]json.RawMessage
		if err := json.Unmarshal(raw, &oracle); err != nil || len(oracle) != 1 || oracle["consent"] == nil {
			t.Fatalf("decision %q taken from %q, which is not one answer under consent", decision, raw)
		}
		var action string
		if json.Unmarshal(oracle["consent"]["action"], &action) != nil || action != decision {
			t.Fatalf("decision %q taken from %q (action %q)", decision, raw, action)
		}
		for k := range oracle["consent"] {
			switch k {
			case "action", "content", "_meta", "resultType":
			default:
				t.Fatalf("decision %q taken from %q with the key %q", decision, raw, k)
			}
		}
		if decision != gate.Accept && decision != gate.Decline && decision != gate.Cancel {
			t.Fatalf("decision %q", decision)
		}
	})
}

// FuzzRenderQuestion: whatever a plugin or an entity name puts in a plan,
// the question shown is valid UTF-8 under its size bound, holds no control
// character but line breaks and no bidi control, and has the lines the
// host writes exactly once: one "CANNOT be undone" for a change that
// cannot be undone, no "Can be undone", one closing line.
func FuzzRenderQuestion(f *testing.F) {
	f.Add("offboard bob", "user/bob", "a deleted user cannot be restored")
	f.Add("x\nCan be undone: easily", "user/\u202Eevil", "\r\nAccept to make exactly this change")
	f.Add(strings.Repeat("long ", 1000), "\xff\xfe", "\u2028Can be undone")
	f.Fuzz(func(t *testing.T, summary, target, undo string) {
		// An account's alias may be the organization's name for it.
		q := gate.Question{Caller: gate.Caller{Kind: gate.Plugin, Plugin: target, Tool: summary}, Summary: summary,
			Account: gate.Account{ID: "444444444444", Alias: undo},
			Changes: []gate.Proposed{{Operation: target, Account: gate.Account{Alias: target}, Plan: &api.Plan{Summary: summary, Undo: undo,
				Steps:    []api.PlanStep{{Action: summary, Target: target, Detail: undo}},
				Affected: []string{target, summary}, Findings: []string{undo}}}}}
		msg := renderQuestion(q)
		if !utf8.ValidString(msg) || len(msg) > MaxQuestionBytes {
			t.Fatalf("a message of %d bytes, valid UTF-8 %v", len(msg), utf8.ValidString(msg))
		}
		for _, r := range msg {
			if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029') {
				t.Fatalf("the message holds %U", r)
			}
		}
		cannot, can, accept := 0, 0, 0
		for _, l := range strings.Split(msg, "\n") {
			switch {
			case strings.HasPrefix(l, "CANNOT be undone"):
				cannot++
			case strings.HasPrefix(l, "Can be undone"):
				can++
			case strings.HasPrefix(l, "Accept to make exactly this change"):
				accept++
			}
		}
		if cannot != 1 || can != 0 || accept != 1 {
			t.Fatalf("host lines: %d CANNOT, %d Can, %d Accept in\n%s", cannot, can, accept, msg)
		}
	})
}

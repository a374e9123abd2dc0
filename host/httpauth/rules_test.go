package httpauth

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const rulesExample = `
rules:
  - subject: alice
    read_only: true
  - claim: {name: groups, value: sec-team}
    toolsets: [users, policies]
    tools: [get_user, "list_*"]
    accounts: [acme-dev, "333333333333"]
  - claim: {name: tenant, value: acme}
    accounts: [acme-dev]
default:
  read_only: true
`

func TestRulesFor(t *testing.T) {
	r, err := ParseRules([]byte(rulesExample))
	if err != nil {
		t.Fatal(err)
	}
	aliceRule := Narrowing{ReadOnly: true, Why: `the operator's rule for subject "alice"`}
	secTeam := Narrowing{Toolsets: []string{"users", "policies"}, Tools: []string{"get_user", "list_*"}, Accounts: []string{"acme-dev", "333333333333"}, Why: `the operator's rule for claim groups="sec-team"`}
	tenant := Narrowing{Accounts: []string{"acme-dev"}, Why: `the operator's rule for claim tenant="acme"`}
	def := Narrowing{ReadOnly: true, Why: "the operator's default rule"}
	for _, c := range []struct {
		name string
		id   Identity
		want []Narrowing
	}{
		{"subject", Identity{Subject: "alice", Via: "token"}, []Narrowing{aliceRule}},
		{"subject and claims, all apply", Identity{Subject: "alice", Via: "oauth", Claims: map[string]any{"groups": []any{"x", "sec-team"}, "tenant": "acme"}}, []Narrowing{aliceRule, secTeam, tenant}},
		{"string claim", Identity{Subject: "bob", Claims: map[string]any{"groups": "sec-team"}}, []Narrowing{secTeam}},
		{"claim of another value", Identity{Subject: "bob", Claims: map[string]any{"groups": []any{"sec"}, "tenant": "acme-other"}}, []Narrowing{def}},
		{"non-string claim", Identity{Subject: "bob", Claims: map[string]any{"groups": map[string]any{"sec-team": true}}}, []Narrowing{def}},
		{"case matters", Identity{Subject: "Alice"}, []Narrowing{def}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ref := r.For(&c.id)
			if ref != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v %+v\nwant %+v", got, ref, c.want)
			}
		})
	}
	if all := r.All(); !reflect.DeepEqual(all, []Narrowing{aliceRule, secTeam, tenant, def}) {
		t.Fatalf("All: %+v", all)
	}
	var none *Rules
	if got, ref := none.For(&Identity{Subject: "x"}); got != nil || ref != nil || none.All() != nil {
		t.Fatal("a nil *Rules narrows")
	}
}

func TestRulesUnmatched(t *testing.T) {
	deny, err := ParseRules([]byte("rules:\n  - subject: alice\n    tools: [get_user]\nunmatched: deny\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ref := deny.For(&Identity{Subject: "alice"}); ref != nil || len(got) != 1 {
		t.Fatalf("%+v %+v", got, ref)
	}
	_, ref := deny.For(&Identity{Subject: "mallory\x1b"})
	if ref == nil || ref.Status != http.StatusForbidden || ref.Code != "" || !strings.Contains(ref.Message, `subject "mallory\x1b"`) {
		t.Fatalf("%+v", ref)
	}
	open, err := ParseRules([]byte("rules:\n  - subject: alice\n    tools: [get_user]\nunmatched: default\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ref := open.For(&Identity{Subject: "bob"}); got != nil || ref != nil {
		t.Fatalf("no rule and no default narrows: %+v %+v", got, ref)
	}
}

func TestRulesRefusals(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"unknown key", "rules:\n  - subject: a\n    readonly: true\n", `unknown key "readonly" (known: subject, claim, read_only, toolsets, tools, accounts)`},
		{"unknown top key", "rule:\n  - subject: a\n", `unknown key "rule"`},
		{"both", "rules:\n  - subject: a\n    claim: {name: g, value: v}\n    read_only: true\n", "not both"},
		{"neither", "rules:\n  - read_only: true\n", "give subject: NAME or claim"},
		{"narrows nothing", "rules:\n  - subject: a\n", "narrows nothing"},
		{"read_only false only", "rules:\n  - subject: a\n    read_only: false\n", "narrows nothing"},
		{"empty list", "rules:\n  - subject: a\n    toolsets: []\n", "to allow no tool at all, deny the subject"},
		{"no value", "rules:\n  - subject: a\n    tools:\n", `line 3: "tools" has no value`},
		{"claim without value", "rules:\n  - claim: {name: groups}\n    read_only: true\n", "claim needs a name and a value"},
		{"nested claim", "rules:\n  - claim: {name: realm_access.roles, value: x}\n    read_only: true\n", "only top-level claims"},
		{"bad tool", "rules:\n  - subject: a\n    tools: [\"*_user\"]\n", "and * at the end"},
		{"bad account", "rules:\n  - subject: a\n    accounts: [\"a b\"]\n", "accounts:"},
		{"duplicate", "rules:\n  - subject: a\n    tools: [x, x]\n", "given twice"},
		{"unmatched", "rules:\n  - subject: a\n    read_only: true\nunmatched: allow\n", "write deny or default"},
		{"default and deny", "rules:\n  - subject: a\n    read_only: true\ndefault:\n  read_only: true\nunmatched: deny\n", "keep one of the two"},
		{"default narrows nothing", "default:\n  read_only: false\n", "default: the rule narrows nothing"},
		{"empty", "# nothing\n", "no rules and no default"},
		{"two documents", "rules:\n  - subject: a\n    read_only: true\n---\nrules: []\n", "one YAML document"},
		{"bad subject", "rules:\n  - subject: \"a\\x01\"\n    read_only: true\n", "not a subject"},
		{"too big", strings.Repeat("#", MaxRulesFileBytes+1), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRules([]byte(c.file))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestLoadRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(rulesExample), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := LoadRules(path)
	if err != nil || len(r.All()) != 4 {
		t.Fatal(r, err)
	}
	if err := os.WriteFile(path, []byte("rules: [{subject: a}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRules(path); err == nil || !strings.HasPrefix(err.Error(), path+": rules[0]") {
		t.Fatal(err)
	}
}

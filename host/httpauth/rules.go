package httpauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/internal/readfile"
	"github.com/iammcp/iam-mcp-server/internal/strictyaml"
)

// MaxRulesFileBytes bounds the rules file.
const MaxRulesFileBytes = 1 << 20

const (
	maxRules     = 1000 // rules in a file
	maxListItems = 1000 // entries in one toolsets/tools/accounts list
	maxNameLen   = 128  // a tool, toolset, account or claim name or value
)

// Rules is the operator's rules file, parsed: see ParseRules. A nil
// *Rules narrows nobody.
type Rules struct {
	rules       []rule
	def         *Narrowing
	denyUnknown bool
}

// rule is one parsed rule: whom it matches, and how it narrows them.
type rule struct {
	subject    string // exactly one of subject and claim
	claim      string
	claimValue string
	narrowing  Narrowing
}

// The file's YAML shape.
type rulesFile struct {
	Rules     []ruleYAML     `yaml:"rules"`
	Default   *narrowingYAML `yaml:"default"`
	Unmatched string         `yaml:"unmatched"`
}

type ruleYAML struct {
	Subject       *string    `yaml:"subject"`
	Claim         *claimYAML `yaml:"claim"`
	narrowingYAML `yaml:",inline"`
}

type claimYAML struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type narrowingYAML struct {
	ReadOnly bool     `yaml:"read_only"`
	Toolsets []string `yaml:"toolsets"`
	Tools    []string `yaml:"tools"`
	Accounts []string `yaml:"accounts"`
}

var rulesKnownKeys = map[string]string{
	"rulesFile":     "rules, default, unmatched",
	"ruleYAML":      "subject, claim, read_only, toolsets, tools, accounts",
	"claimYAML":     "name, value",
	"narrowingYAML": "read_only, toolsets, tools, accounts",
}

// LoadRules reads the rules file at path (a regular file of at most
// MaxRulesFileBytes) and parses it.
func LoadRules(path string) (*Rules, error) {
	data, err := readfile.Regular(path, "rules file", MaxRulesFileBytes)
	if err != nil {
		return nil, err
	}
	r, err := ParseRules(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ParseRules reads a rules file strictly (one YAML document, every key
// known) and checks every rule:
//
//	rules:
//	  - subject: alice
//	    read_only: true
//	  - claim: {name: groups, value: sec-team}
//	    toolsets: [users, policies]
//	    tools: [get_user, "list_*"]
//	    accounts: [acme-dev, "333333333333"]
//	default:
//	  read_only: true
//	unmatched: deny
//
// Each rule names exactly one of subject and claim, and narrows
// something; a list, when given, names at least one entry. Names of
// toolsets, tools and accounts are the server's to check (All).
func ParseRules(data []byte) (*Rules, error) {
	if len(data) > MaxRulesFileBytes {
		return nil, fmt.Errorf("the rules file is larger than %d bytes; it cannot be one", MaxRulesFileBytes)
	}
	var f rulesFile
	if err := strictyaml.Decode(data, &f, "rules file", func(t string) string { return rulesKnownKeys[t] }); err != nil {
		return nil, err
	}
	if len(f.Rules) == 0 && f.Default == nil {
		return nil, errors.New("the rules file has no rules and no default; add rules:, or leave out the rules file to narrow no one")
	}
	if len(f.Rules) > maxRules {
		return nil, fmt.Errorf("the rules file has %d rules, more than %d", len(f.Rules), maxRules)
	}
	out := &Rules{}
	switch f.Unmatched {
	case "", "default":
	case "deny":
		out.denyUnknown = true
	default:
		return nil, fmt.Errorf("unmatched is %s; write deny or default", quote.Short(f.Unmatched, 32))
	}
	for i, ry := range f.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		var r rule
		switch {
		case ry.Subject != nil && ry.Claim != nil:
			return nil, fmt.Errorf("%s: give subject or claim, not both; write two rules to match both", where)
		case ry.Subject != nil:
			if !validSubject(*ry.Subject) && !validSub(*ry.Subject) {
				return nil, fmt.Errorf("%s: subject %s is not a subject a token or a JWT can have", where, quote.Short(*ry.Subject, 64))
			}
			r.subject = *ry.Subject
			where = fmt.Sprintf("%s (subject %s)", where, quote.Short(r.subject, 64))
			r.narrowing.Why = fmt.Sprintf("the operator's rule for subject %q", r.subject)
		case ry.Claim != nil:
			c := ry.Claim
			if c.Name == "" || len(c.Name) > maxNameLen || c.Value == "" || len(c.Value) > maxNameLen {
				return nil, fmt.Errorf("%s: claim needs a name and a value, each of 1 to %d characters", where, maxNameLen)
			}
			if strings.ContainsAny(c.Name, ".[/") {
				return nil, fmt.Errorf("%s: claim name %s: only top-level claims are matched; name one of the token's own claims", where, quote.Short(c.Name, 64))
			}
			r.claim, r.claimValue = c.Name, c.Value
			where = fmt.Sprintf("%s (claim %s)", where, quote.Short(c.Name, 64))
			r.narrowing.Why = fmt.Sprintf("the operator's rule for claim %s=%q", r.claim, r.claimValue)
		default:
			return nil, fmt.Errorf("%s: give subject: NAME or claim: {name: CLAIM, value: VALUE}", where)
		}
		if err := ry.narrowingYAML.into(&r.narrowing); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out.rules = append(out.rules, r)
	}
	if f.Default != nil {
		d := &Narrowing{Why: "the operator's default rule"}
		if err := f.Default.into(d); err != nil {
			return nil, fmt.Errorf("default: %w", err)
		}
		out.def = d
		if out.denyUnknown {
			return nil, errors.New("default applies to identities no rule matches, which unmatched: deny refuses; keep one of the two")
		}
	}
	return out, nil
}

// validSub: a JWT's sub as checkClaims accepts it.
func validSub(s string) bool {
	if s == "" || len(s) > maxSubLen {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return false
		}
	}
	return true
}

// into checks y and sets n's narrowing from it.
func (y *narrowingYAML) into(n *Narrowing) error {
	if !y.ReadOnly && y.Toolsets == nil && y.Tools == nil && y.Accounts == nil {
		return errors.New("the rule narrows nothing; give read_only: true, toolsets, tools or accounts (rules only narrow what the server allows)")
	}
	n.ReadOnly = y.ReadOnly
	for _, l := range []struct {
		name string
		in   []string
		out  *[]string
		tool bool
	}{{"toolsets", y.Toolsets, &n.Toolsets, false}, {"tools", y.Tools, &n.Tools, true}, {"accounts", y.Accounts, &n.Accounts, false}} {
		if l.in == nil {
			continue
		}
		if len(l.in) == 0 {
			return fmt.Errorf("%s is an empty list; to allow no tool at all, deny the subject (unmatched: deny, and no rule for it)", l.name)
		}
		if len(l.in) > maxListItems {
			return fmt.Errorf("%s has %d entries, more than %d", l.name, len(l.in), maxListItems)
		}
		seen := map[string]bool{}
		for _, s := range l.in {
			if err := checkName(s, l.tool); err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
			if seen[s] {
				return fmt.Errorf("%s: %s is given twice", l.name, quote.Short(s, 64))
			}
			seen[s] = true
		}
		*l.out = append([]string{}, l.in...)
	}
	return nil
}

// checkName checks the shape of a toolset, tool or account name (whether
// it exists is the server's to check): letters, digits, '_', '-', and for
// a tool a '*' at the end.
func checkName(s string, tool bool) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("a name must have 1 to %d characters", maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		if tool && c == '*' && i == len(s)-1 {
			ok = true
		}
		if !ok {
			what := "letters, digits, _ - ."
			if tool {
				what += ", and * at the end"
			}
			return fmt.Errorf("%s has a character other than %s", quote.Short(s, 64), what)
		}
	}
	return nil
}

// For returns every narrowing that applies to id: those of the rules
// that match it (the server applies them all, each narrowing further), or
// the default when none matches (nil when there is none), or a Refusal
// (403) when none matches and the file says unmatched: deny.
func (r *Rules) For(id *Identity) ([]Narrowing, *Refusal) {
	if r == nil || id == nil {
		return nil, nil
	}
	var out []Narrowing
	for _, rl := range r.rules {
		if rl.matches(id) {
			out = append(out, rl.narrowing)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if r.denyUnknown {
		// No error code: a 403 with insufficient_scope would send an MCP
		// client to ask for more scopes, and no scope helps here.
		return nil, &Refusal{Status: http.StatusForbidden, Message: fmt.Sprintf("the operator's rules admit no one as subject %s; ask the server's operator for access", quote.Short(id.Subject, 80))}
	}
	if r.def != nil {
		return []Narrowing{*r.def}, nil
	}
	return nil, nil
}

func (rl *rule) matches(id *Identity) bool {
	if rl.subject != "" {
		return id.Subject == rl.subject
	}
	switch v := id.Claims[rl.claim].(type) {
	case string:
		return v == rl.claimValue
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok && s == rl.claimValue {
				return true
			}
		}
	}
	return false
}

// All returns every narrowing of the file, the default's last, so that
// the server can check at start that every toolset, tool and account
// named exists.
func (r *Rules) All() []Narrowing {
	if r == nil {
		return nil
	}
	out := make([]Narrowing, 0, len(r.rules)+1)
	for _, rl := range r.rules {
		out = append(out, rl.narrowing)
	}
	if r.def != nil {
		out = append(out, *r.def)
	}
	return out
}

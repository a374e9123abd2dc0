package accounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

const goodFile = `
self_alias: mgmt
accounts:
  - id: "444444444444"
    alias: prod
    role_arn: arn:aws:iam::444444444444:role/IAMMCPServer
    external_id: abc-123
    session_duration: 1h
    mode: read-write
    confirm: writes
  - id: "333333333333"
    profile: dev-admin
discovery:
  role_name: OrganizationAccountAccessRole
  include: [dev, "222222222222"]
  exclude: ["555555555555"]
  mode: read-only
  confirm: destructive
`

func TestParseGood(t *testing.T) {
	f, err := Parse([]byte(goodFile), "accounts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.SelfAlias != "mgmt" || len(f.Accounts) != 2 || f.Discovery == nil {
		t.Fatalf("parsed %+v", f)
	}
	e := f.Accounts[0]
	if e.ID != "444444444444" || e.Alias != "prod" || e.ExternalID != "abc-123" || e.Mode != ModeReadWrite || e.Confirm != "writes" {
		t.Errorf("entry %+v", e)
	}
	if d, _ := sessionDuration(e.SessionDuration); d != time.Hour {
		t.Errorf("session_duration %v", d)
	}
	if f.Accounts[1].Profile != "dev-admin" {
		t.Errorf("profile entry %+v", f.Accounts[1])
	}
	if got := f.Discovery.Include; len(got) != 2 || got[0] != "dev" {
		t.Errorf("include %v", got)
	}
	if c, _ := confirm(f.Discovery.Confirm); c != gate.ConfirmDestructive {
		t.Errorf("confirm %q", c)
	}
	// The default mode is read-only: an account the operator gave no mode
	// cannot be changed.
	if ro, _ := readOnly(f.Accounts[1].Mode); !ro {
		t.Error("an entry without mode is not read-only")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "accounts.yaml")
	if err := os.WriteFile(p, []byte(goodFile), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "accounts file") {
		t.Errorf("a directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file was read")
	}
}

// TestParseRefusals: every mistake is refused with words that name the
// entry and say what to write.
func TestParseRefusals(t *testing.T) {
	role := func(id string) string { return "arn:aws:iam::" + id + ":role/R" }
	entry := func(lines ...string) string {
		return "accounts:\n  - " + strings.Join(lines, "\n    ") + "\n"
	}
	cases := map[string]struct{ yaml, want string }{
		"empty":               {"", "names no account and no discovery"},
		"empty lists":         {"accounts: []\n", "names no account and no discovery"},
		"unknown top key":     {"acounts: []\n", `unknown key "acounts" (known: self_alias, accounts, discovery)`},
		"unknown entry key":   {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "mod: read-write"), `unknown key "mod" (known: id, alias, role_arn`},
		"unknown discovery":   {"discovery:\n  role_name: R\n  exlude: [a]\n", `unknown key "exlude" (known: role_name`},
		"include empty":       {"discovery:\n  role_name: R\n  include: []\n", "include lists no account"},
		"include commented":   {"discovery:\n  role_name: R\n  include:\n  #  - dev\n", `line 3: "include" has no value`},
		"discovery no value":  {"discovery:\n", `line 1: "discovery" has no value`},
		"mode no value":       {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "mode:"), `"mode" has no value`},
		"two documents":       {entry(`id: "444444444444"`, "role_arn: "+role("444444444444")) + "---\naccounts: []\n", "one YAML document"},
		"duplicate key":       {entry(`id: "444444444444"`, `id: "444444444445"`), "already"},
		"not a mapping":       {"- a\n- b\n", "cannot unmarshal"},
		"no id":               {entry("role_arn: " + role("444444444444")), "id is missing"},
		"short id":            {entry(`id: "4444"`, "role_arn: "+role("444444444444")), `id "4444" is not a 12-digit account id`},
		"11 digits":           {entry(`id: 44444444444`, "role_arn: "+role("044444444444")), `id "44444444444" is not a 12-digit`},
		"no way in":           {entry(`id: "444444444444"`), "say how to reach the account: role_arn"},
		"both ways in":        {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "profile: p"), "keep one of them"},
		"not a role":          {entry(`id: "444444444444"`, "role_arn: arn:aws:iam::444444444444:user/u"), "is not a role's ARN"},
		"garbage arn":         {entry(`id: "444444444444"`, "role_arn: nope"), "is not a role's ARN"},
		"role elsewhere":      {entry(`id: "444444444444"`, "role_arn: "+role("555555555555")), "is a role of account 555555555555, not of 444444444444"},
		"bad external id":     {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "external_id: a b"), "external_id must be 2 to 1224"},
		"short external id":   {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "external_id: a"), "external_id must be 2 to 1224"},
		"bad duration":        {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "session_duration: forever"), "not a duration such as 1h"},
		"short duration":      {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "session_duration: 5m"), "outside the 15m to 12h"},
		"long duration":       {entry(`id: "444444444444"`, "role_arn: "+role("444444444444"), "session_duration: 13h"), "outside the 15m to 12h"},
		"external on profile": {entry(`id: "444444444444"`, "profile: p", "external_id: abc"), "go with role_arn only"},
		"bad profile":         {entry(`id: "444444444444"`, "profile: \"a b\""), "is not a profile name"},
		"bad mode":            {entry(`id: "444444444444"`, "profile: p", "mode: rw"), `mode "rw" is not read-only (the default) or read-write`},
		"bad confirm":         {entry(`id: "444444444444"`, "profile: p", "confirm: always"), "confirm: \"always\" is not a confirmation level"},
		"alias digits":        {entry(`id: "444444444444"`, "profile: p", `alias: "555555555555"`), "reads as an account id"},
		"alias shape":         {entry(`id: "444444444444"`, "profile: p", "alias: Prod_1"), "is not an account alias"},
		"alias hyphens":       {entry(`id: "444444444444"`, "profile: p", "alias: a--b"), "is not an account alias"},
		"self alias":          {"self_alias: \"-x\"\n" + entry(`id: "444444444444"`, "profile: p"), "self_alias: alias \"-x\""},
		"duplicate id": {"accounts:\n  - id: \"444444444444\"\n    profile: p\n  - id: \"444444444444\"\n    profile: q\n",
			"accounts[0] and accounts[1] are both account 444444444444"},
		"duplicate alias": {"accounts:\n  - id: \"444444444444\"\n    alias: prod\n    profile: p\n  - id: \"555555555555\"\n    alias: prod\n    profile: q\n",
			`account 555555555555: the alias "prod" is given to account 444444444444 already`},
		"alias of self":  {"self_alias: prod\naccounts:\n  - id: \"444444444444\"\n    alias: prod\n    profile: p\n", "given to self_alias already"},
		"no role name":   {"discovery:\n  include: [a]\n", "role_name is missing"},
		"role arn name":  {"discovery:\n  role_name: arn:aws:iam::1:role/R\n", "is not a role name"},
		"empty include":  {"discovery:\n  role_name: R\n  include: [\"\"]\n", "include[0] is empty"},
		"twice include":  {"discovery:\n  role_name: R\n  include: [a, a]\n", `include names "a" twice`},
		"in and out":     {"discovery:\n  role_name: R\n  include: [a]\n  exclude: [a]\n", "both included and excluded"},
		"long name":      {"discovery:\n  role_name: R\n  exclude: [" + strings.Repeat("x", 51) + "]\n", "exclude[0]"},
		"discovery mode": {"discovery:\n  role_name: R\n  mode: write\n", "discovery: mode \"write\""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "a.yaml")
			if err == nil {
				t.Fatalf("accepted:\n%s", c.yaml)
			}
			if !strings.HasPrefix(err.Error(), "a.yaml: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse(make([]byte, MaxFileBytes+1), "big.yaml")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v", err)
	}
}

func TestSessionName(t *testing.T) {
	long := strings.Repeat("t", 100)
	cases := []struct {
		caller gate.Caller
		want   string
	}{
		{gate.Caller{Kind: gate.BuiltIn, Tool: "list_users"}, "iam-mcp.list_users"},
		{gate.Caller{Kind: gate.CLI, Tool: "list_users"}, "iam-mcp.cli.list_users"},
		{gate.Caller{Kind: gate.CLI}, "iam-mcp.cli"},
		{gate.Caller{Kind: gate.Plugin, Plugin: "review", Tool: "review_access_review"}, "iam-mcp.review_access_review"},
		{gate.Caller{Kind: gate.Plugin, Plugin: "review"}, "iam-mcp.review"},
		{gate.Caller{Kind: gate.BuiltIn}, "iam-mcp"},
		{gate.Caller{Kind: gate.BuiltIn, Tool: "a b/c*d"}, "iam-mcp.a-b-c-d"},
		{gate.Caller{Kind: gate.BuiltIn, Tool: long}, ("iam-mcp." + long)[:64]},
	}
	for _, c := range cases {
		got := SessionName(c.caller)
		if got != c.want {
			t.Errorf("SessionName(%+v) = %q, want %q", c.caller, got, c.want)
		}
		if len(got) < 2 || len(got) > 64 || sessionNameBad.MatchString(got) {
			t.Errorf("%q is not a name STS takes", got)
		}
	}
}

func TestTrustPrincipal(t *testing.T) {
	cases := map[string]string{
		"arn:aws:sts::111111111111:assumed-role/Operator/sess": "arn:aws:iam::111111111111:role/Operator",
		"arn:aws-cn:sts::111111111111:assumed-role/R/s":        "arn:aws-cn:iam::111111111111:role/R",
		"arn:aws:iam::111111111111:user/alice":                 "arn:aws:iam::111111111111:user/alice",
		"arn:aws:iam::111111111111:root":                       "arn:aws:iam::111111111111:root",
	}
	for in, want := range cases {
		if got := trustPrincipal(in); got != want {
			t.Errorf("trustPrincipal(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSessionCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newSessionCache(3)
	made := 0
	get := func(k string) *session {
		return c.get(k, func() *session { made++; return &session{key: k} })
	}
	a := get("a")
	get("b")
	get("c")
	if get("a") != a { // a is now the most recent
		t.Fatal("a was not cached")
	}
	get("d") // evicts b, the least recently used
	if c.len() != 3 {
		t.Fatalf("%d sessions kept, want 3", c.len())
	}
	before := made
	get("a")
	get("c")
	if made != before {
		t.Error("a or c was evicted instead of b")
	}
	get("b")
	if made != before+1 {
		t.Error("b was not evicted")
	}
}

// FuzzParse: no input makes Parse panic, and whatever it accepts is a
// file Validate accepts with modes that read.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("accounts:\n  - id: \"444444444444\"\n    profile: p\n"))
	f.Add([]byte("discovery:\n  role_name: R\n"))
	f.Add([]byte("accounts: [{id: 1}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if len(err.Error()) > 4096 {
				t.Errorf("a %d-byte error", len(err.Error()))
			}
			return
		}
		if err := file.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		for _, e := range file.Accounts {
			if _, err := readOnly(e.Mode); err != nil {
				t.Fatal(err)
			}
			if (e.RoleARN == "") == (e.Profile == "") {
				t.Fatalf("entry %s has not exactly one way in", e.ID)
			}
		}
	})
}

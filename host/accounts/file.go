package accounts

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/internal/readfile"
	"github.com/iammcp/iam-mcp-server/internal/strictyaml"
)

// MaxFileBytes caps the accounts file. A thousand entries take about
// 300 KiB; anything larger is not an accounts file.
const MaxFileBytes = 1 << 20

// The modes an account can be given.
const (
	ModeReadOnly  = "read-only"
	ModeReadWrite = "read-write"
)

// STS's bounds on a role session (AssumeRole's DurationSeconds); a role's
// own MaxSessionDuration may be lower, and STS says so when it is.
const (
	MinSessionDuration = 15 * time.Minute
	MaxSessionDuration = 12 * time.Hour
)

// File is the operator's accounts file (--accounts): the accounts the
// server may act in besides its own, and how it reaches each.
type File struct {
	// SelfAlias names the server's own account, so that a call can say
	// account: mgmt as it says account: prod. Optional.
	SelfAlias string `yaml:"self_alias"`
	// Accounts are the accounts named one by one.
	Accounts []Entry `yaml:"accounts"`
	// Discovery adds every active account of the organization.
	Discovery *Discovery `yaml:"discovery"`
}

// Entry is one account of the accounts file.
type Entry struct {
	ID    string `yaml:"id"`    // 12 digits
	Alias string `yaml:"alias"` // optional; an IAM account alias's shape, never 12 digits
	// RoleARN is the role the server assumes in the account with its own
	// credentials; Profile a named profile of the shared AWS configuration
	// whose credentials are the account's. Exactly one of the two.
	RoleARN string `yaml:"role_arn"`
	Profile string `yaml:"profile"`
	// ExternalID and SessionDuration go with RoleARN only.
	ExternalID      string `yaml:"external_id"`
	SessionDuration string `yaml:"session_duration"` // a Go duration, 15m..12h; default 15m (renewed as it nears its end)
	Mode            string `yaml:"mode"`             // read-only (default) or read-write
	Confirm         string `yaml:"confirm"`          // destructive, writes or none; "" for the server's --confirm
}

// Discovery reaches every ACTIVE account of the server's organization
// through one role name.
type Discovery struct {
	RoleName        string   `yaml:"role_name"`
	ExternalID      string   `yaml:"external_id"`
	SessionDuration string   `yaml:"session_duration"`
	Include         []string `yaml:"include"` // account ids or names; empty: every account
	Exclude         []string `yaml:"exclude"` // account ids or names
	Mode            string   `yaml:"mode"`
	Confirm         string   `yaml:"confirm"`
}

// The keys each mapping accepts, for the refusal of an unknown one.
var knownKeys = map[string]string{
	"File":      "self_alias, accounts, discovery",
	"Entry":     "id, alias, role_arn, profile, external_id, session_duration, mode, confirm",
	"Discovery": "role_name, external_id, session_duration, include, exclude, mode, confirm",
}

// Load reads and checks an accounts file: Parse on its bytes, read as a
// regular file of at most MaxFileBytes.
func Load(path string) (*File, error) {
	data, err := readfile.Regular(path, "accounts file", MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse reads an accounts file strictly — one YAML document, every key
// known (a misspelt "mode" must not silently leave an account writable
// nor a misspelt "exclude" silently reach an account) — and validates
// every entry; errors start with name and say which entry is wrong and
// what to write.
func Parse(data []byte, name string) (*File, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: the accounts file is larger than %d bytes; it cannot be one", name, MaxFileBytes)
	}
	var f File
	if err := strictyaml.Decode(data, &f, "accounts file", func(t string) string { return knownKeys[t] }); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}

// Validate checks the file as Parse does.
func (f *File) Validate() error {
	if len(f.Accounts) == 0 && f.Discovery == nil {
		return errors.New("the file names no account and no discovery; list accounts under accounts:, add discovery:, or leave out --accounts to act in the server's own account only")
	}
	aliases := map[string]string{} // alias -> where it was given
	if f.SelfAlias != "" {
		if err := checkAlias(f.SelfAlias); err != nil {
			return fmt.Errorf("self_alias: %w", err)
		}
		aliases[f.SelfAlias] = "self_alias"
	}
	ids := map[string]int{}
	for i, e := range f.Accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		if iamname.AccountID(e.ID) {
			where = fmt.Sprintf("account %s", e.ID)
		}
		if err := e.validate(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := ids[e.ID]; dup {
			return fmt.Errorf("accounts[%d] and accounts[%d] are both account %s; give each account one entry", j, i, e.ID)
		}
		ids[e.ID] = i
		if e.Alias != "" {
			if other, dup := aliases[e.Alias]; dup {
				return fmt.Errorf("%s: the alias %s is given to %s already; each alias names one account", where, args.Quote(e.Alias), other)
			}
			aliases[e.Alias] = where
		}
	}
	if f.Discovery != nil {
		if err := f.Discovery.validate(); err != nil {
			return fmt.Errorf("discovery: %w", err)
		}
	}
	return nil
}

func (e Entry) validate() error {
	if e.ID == "" {
		return errors.New("id is missing; write the account's 12-digit id in quotes (id: \"444444444444\")")
	}
	if !iamname.AccountID(e.ID) {
		return fmt.Errorf("id %s is not a 12-digit account id; write it in quotes (id: \"044444444444\") so that YAML keeps its leading zeros", args.Quote(e.ID))
	}
	if e.Alias != "" {
		if err := checkAlias(e.Alias); err != nil {
			return err
		}
	}
	switch {
	case e.RoleARN == "" && e.Profile == "":
		return errors.New("say how to reach the account: role_arn (a role the server assumes there) or profile (a named AWS profile whose credentials are the account's)")
	case e.RoleARN != "" && e.Profile != "":
		return errors.New("role_arn and profile are both given; keep one of them")
	case e.RoleARN != "":
		a, ok := iamname.ParseARN(e.RoleARN)
		if !ok || a.Type != "role" {
			return fmt.Errorf("role_arn %s is not a role's ARN such as arn:aws:iam::%s:role/IAMMCPServer", args.Quote(e.RoleARN), e.ID)
		}
		if a.Account != e.ID {
			return fmt.Errorf("role_arn %s is a role of account %s, not of %s; a role is assumed in its own account", args.Quote(e.RoleARN), a.Account, e.ID)
		}
		if err := checkExternalID(e.ExternalID); err != nil {
			return err
		}
		if _, err := sessionDuration(e.SessionDuration); err != nil {
			return err
		}
	default:
		if err := checkProfile(e.Profile); err != nil {
			return err
		}
		if e.ExternalID != "" || e.SessionDuration != "" {
			return errors.New("external_id and session_duration go with role_arn only; a profile's own configuration says how its credentials are made")
		}
	}
	if _, err := readOnly(e.Mode); err != nil {
		return err
	}
	_, err := confirm(e.Confirm)
	return err
}

func (d *Discovery) validate() error {
	if d.RoleName == "" {
		return errors.New("role_name is missing; write the role every account has for the server, e.g. OrganizationAccountAccessRole")
	}
	if !iamname.Name(d.RoleName, iamname.RoleNameMax) {
		return fmt.Errorf("role_name %s is not a role name (1 to 64 letters, digits and +=,.@_-; a name, not an ARN)", args.Quote(d.RoleName))
	}
	if err := checkExternalID(d.ExternalID); err != nil {
		return err
	}
	if _, err := sessionDuration(d.SessionDuration); err != nil {
		return err
	}
	// An include that lists nothing would reach every account, the
	// opposite of what a list of accounts to include says.
	if d.Include != nil && len(d.Include) == 0 {
		return errors.New("include lists no account; list at least one account id or name, or leave the key out to reach every account")
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"include", d.Include}, {"exclude", d.Exclude}} {
		seen := map[string]bool{}
		for i, n := range l.names {
			switch {
			case n == "":
				return fmt.Errorf("%s[%d] is empty; write an account id or the organization's name for it", l.key, i)
			case len(n) > maxOrgName || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r > '~' }):
				return fmt.Errorf("%s[%d] %s is neither an account id nor an organization's account name (at most %d printable characters)", l.key, i, args.Quote(n), maxOrgName)
			case seen[n]:
				return fmt.Errorf("%s names %s twice", l.key, args.Quote(n))
			}
			seen[n] = true
		}
	}
	for _, n := range d.Include {
		for _, x := range d.Exclude {
			if n == x {
				return fmt.Errorf("%s is both included and excluded; keep it in one list", args.Quote(n))
			}
		}
	}
	if _, err := readOnly(d.Mode); err != nil {
		return err
	}
	_, err := confirm(d.Confirm)
	return err
}

// maxOrgName is the longest account name Organizations takes.
const maxOrgName = 50

// aliasPattern is IAM's account alias (CreateAccountAlias): 3 to 63
// lower-case letters, digits and single hyphens, starting and ending with
// a letter or digit.
var aliasPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// validAlias reports whether s has an account alias's shape and cannot be
// taken for an account id.
func validAlias(s string) bool {
	return len(s) >= 3 && len(s) <= 63 && aliasPattern.MatchString(s) && !iamname.AccountID(s)
}

func checkAlias(s string) error {
	if iamname.AccountID(s) {
		return fmt.Errorf("alias %s is 12 digits, which reads as an account id; choose a name with a letter in it", args.Quote(s))
	}
	if !validAlias(s) {
		return fmt.Errorf("alias %s is not an account alias: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit (e.g. prod, team-dev)", args.Quote(s))
	}
	return nil
}

// externalIDPattern and its bounds are STS's (AssumeRole's ExternalId).
var externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)

func checkExternalID(s string) error {
	if s != "" && (len(s) < 2 || len(s) > 1224 || !externalIDPattern.MatchString(s)) {
		return fmt.Errorf("external_id must be 2 to 1224 letters, digits and +=,.@:/-_ as STS takes it, not %s", args.Quote(s))
	}
	return nil
}

// profilePattern is what a profile name can be in the shared
// configuration's [profile NAME] header: no space, bracket or control
// character.
var profilePattern = regexp.MustCompile(`^[A-Za-z0-9_.@+=,:/-]{1,128}$`)

func checkProfile(s string) error {
	if !profilePattern.MatchString(s) {
		return fmt.Errorf("profile %s is not a profile name of the shared AWS configuration (letters, digits and _.@+=,:/-, up to 128)", args.Quote(s))
	}
	return nil
}

// sessionDuration reads session_duration; 0 means STS's default (1h).
func sessionDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("session_duration %s is not a duration such as 1h or 90m", args.Quote(s))
	}
	if d < MinSessionDuration || d > MaxSessionDuration {
		return 0, fmt.Errorf("session_duration %v is outside the 15m to 12h STS allows", d)
	}
	return d, nil
}

// readOnly reads mode; the default is read-only, so that an account the
// operator forgot to give a mode cannot be changed.
func readOnly(mode string) (bool, error) {
	switch mode {
	case "", ModeReadOnly:
		return true, nil
	case ModeReadWrite:
		return false, nil
	}
	return false, fmt.Errorf("mode %s is not read-only (the default) or read-write", args.Quote(mode))
}

// confirm reads confirm; "" keeps the server's --confirm.
func confirm(s string) (gate.Confirm, error) {
	if s == "" {
		return "", nil
	}
	c, err := gate.ParseConfirm(s)
	if err != nil {
		return "", fmt.Errorf("confirm: %w", err)
	}
	return c, nil
}

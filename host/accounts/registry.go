package accounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/catalogue"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// MaxAccounts bounds the accounts one server reaches (the file's and
// discovery's together): beyond it an organization-wide review would not
// finish in a session anyway, and the list would not fit an answer.
const MaxAccounts = 1000

// Options configures a Registry.
type Options struct {
	// Clients are the server's own: discovery lists the organization
	// through them, roles are assumed with their STS client, and every
	// account's clients are derived from their configuration.
	Clients *catalogue.Clients
	// Self is the server's own account: ID its credentials' account (from
	// GetCallerIdentity; "" asks STS), ReadOnly and Confirm the server's
	// flags, Alias "" or the file's self_alias.
	Self gate.Account
	// CallerARN is who the server's credentials are (GetCallerIdentity's
	// Arn): the partition of the roles discovery builds, and the principal
	// a refused AssumeRole names. "" asks STS.
	CallerARN string
	// Logger receives the warnings about the file (an account made
	// read-only by the server's mode); nil discards.
	Logger *slog.Logger
}

// target is one account other than the server's, and how to reach it.
type target struct {
	acct       gate.Account
	roleARN    string // "" for a profile
	roleName   string
	externalID string
	duration   time.Duration // 0: the SDK's default, 15 minutes
	profile    string

	// A profile's clients, made and checked once (profileClients).
	profileMu      sync.Mutex
	profileClients *catalogue.Clients
}

// Registry is the accounts the server may act in: its own, and the
// others the accounts file names or discovery found. It implements
// gate.Accounts. Safe for concurrent use.
type Registry struct {
	self      gate.Account
	targets   []*target          // sorted by alias, then id
	byName    map[string]*target // id and alias of every target
	clients   *catalogue.Clients
	callerARN string
	partition string
	log       *slog.Logger

	sessions *sessionCache
}

var _ gate.Accounts = (*Registry)(nil)

// New builds the registry from the accounts file f (nil: the server's own
// account only), running discovery when the file asks for it.
func New(ctx context.Context, f *File, o Options) (*Registry, error) {
	if o.Clients == nil || o.Clients.STS == nil {
		return nil, errors.New("accounts: New needs the server's clients")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Self.ID == "" || o.CallerARN == "" {
		id, err := o.Clients.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("accounts: cannot learn the server's own account from STS: %w", err)
		}
		if o.Self.ID != "" && o.Self.ID != deref(id.Account) {
			return nil, fmt.Errorf("accounts: the server's own account is given as %s, but its credentials are account %s", o.Self.ID, deref(id.Account))
		}
		o.Self.ID, o.CallerARN = deref(id.Account), deref(id.Arn)
	}
	if !iamname.AccountID(o.Self.ID) {
		return nil, fmt.Errorf("accounts: the server's own account %s is not a 12-digit id", args.Quote(o.Self.ID))
	}
	o.Self.Self, o.Self.Via = true, ""
	r := &Registry{
		self:      o.Self,
		byName:    map[string]*target{},
		clients:   o.Clients,
		callerARN: o.CallerARN,
		partition: partitionOf(o.CallerARN),
		log:       log,
		sessions:  newSessionCache(maxSessions),
	}
	if f == nil {
		return r, nil
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.SelfAlias != "" {
		r.self.Alias = f.SelfAlias
	}
	for i, e := range f.Accounts {
		if e.ID == r.self.ID {
			return nil, fmt.Errorf("accounts[%d]: account %s is the server's own account, which needs no entry; its mode is the server's flags (--read-only, --confirm)%s", i, e.ID, selfAliasHint(e.Alias))
		}
		t, err := r.fromEntry(e)
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", e.ID, err)
		}
		r.add(t)
	}
	if f.Discovery != nil {
		if err := r.discover(ctx, f.Discovery); err != nil {
			return nil, err
		}
	}
	if len(r.targets)+1 > MaxAccounts {
		return nil, fmt.Errorf("accounts: %d accounts, more than the %d one server reaches; narrow discovery with include or exclude", len(r.targets)+1, MaxAccounts)
	}
	slices.SortFunc(r.targets, func(a, b *target) int {
		return cmp.Or(cmp.Compare(sortKey(a.acct), sortKey(b.acct)), cmp.Compare(a.acct.ID, b.acct.ID))
	})
	return r, nil
}

func selfAliasHint(alias string) string {
	if alias == "" {
		return ""
	}
	return fmt.Sprintf("; to name it %s, write self_alias: %s at the top of the file", args.Quote(alias), alias)
}

// sortKey orders accounts for people: by alias, and those without one
// after, by id.
func sortKey(a gate.Account) string {
	if a.Alias != "" {
		return "0" + a.Alias
	}
	return "1" + a.ID
}

// fromEntry makes the target of an entry of the file, its mode bounded by
// the server's.
func (r *Registry) fromEntry(e Entry) (*target, error) {
	ro, _ := readOnly(e.Mode)
	c, _ := confirm(e.Confirm)
	t := &target{acct: gate.Account{ID: e.ID, Alias: e.Alias}, externalID: e.ExternalID, profile: e.Profile}
	if e.RoleARN != "" {
		a, _ := iamname.ParseARN(e.RoleARN)
		t.roleARN, t.roleName = e.RoleARN, a.Name
		t.duration, _ = sessionDuration(e.SessionDuration)
		t.acct.Via = e.RoleARN
	} else {
		t.acct.Via = "profile " + e.Profile
	}
	r.mode(t, ro, c)
	return t, nil
}

// mode sets t's mode: the file's, except that read-only wins, and the
// server's --confirm where the file gives none.
func (r *Registry) mode(t *target, readOnly bool, c gate.Confirm) {
	if !readOnly && r.self.ReadOnly {
		r.log.Warn("the accounts file makes this account read-write, but the server is read-only, so it is read-only too",
			"account", t.acct.ID, "alias", t.acct.Alias)
		readOnly = true
	}
	if c == "" {
		c = r.self.Confirm
	}
	t.acct.ReadOnly, t.acct.Confirm = readOnly, c
}

func (r *Registry) add(t *target) {
	r.targets = append(r.targets, t)
	r.byName[t.acct.ID] = t
	if t.acct.Alias != "" {
		r.byName[t.acct.Alias] = t
	}
}

// discover adds every ACTIVE account of the organization that d's include
// and exclude let through, reached through d.RoleName; the accounts the
// file names already keep their entries.
func (r *Registry) discover(ctx context.Context, d *Discovery) error {
	if r.clients.Organizations == nil {
		return errors.New("discovery: the server has no Organizations client; please report this")
	}
	ro, _ := readOnly(d.Mode)
	c, _ := confirm(d.Confirm)
	dur, _ := sessionDuration(d.SessionDuration)
	included := map[string]bool{}
	var found []orgtypes.Account
	pages := organizations.NewListAccountsPaginator(r.clients.Organizations, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return discoveryError(err)
		}
		for _, a := range page.Accounts {
			if len(found) >= 10*MaxAccounts {
				return fmt.Errorf("discovery: the organization has more than %d accounts; name the accounts to reach with include", 10*MaxAccounts)
			}
			found = append(found, a)
		}
	}
	for _, a := range found {
		id, name := deref(a.Id), deref(a.Name)
		for _, n := range d.Include {
			if n == id || n == name {
				included[n] = true
			}
		}
		if id == r.self.ID && r.self.Alias == "" && validAlias(name) {
			if _, taken := r.byName[name]; !taken {
				r.self.Alias = name // the organization's name for the server's own account
			}
		}
		if !active(a) || id == r.self.ID || !iamname.AccountID(id) {
			continue
		}
		if len(d.Include) > 0 && !slices.Contains(d.Include, id) && !slices.Contains(d.Include, name) {
			continue
		}
		if slices.Contains(d.Exclude, id) || slices.Contains(d.Exclude, name) {
			continue
		}
		if _, named := r.byName[id]; named {
			continue // the file's entry wins
		}
		roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", r.partition, id, d.RoleName)
		t := &target{acct: gate.Account{ID: id, Via: roleARN}, roleARN: roleARN, roleName: d.RoleName, externalID: d.ExternalID, duration: dur}
		// The organization's name becomes the alias when it can be one and
		// names no other account: account: prod then works with no file.
		if validAlias(name) && name != r.self.Alias {
			if _, taken := r.byName[name]; !taken {
				t.acct.Alias = name
			}
		}
		r.mode(t, ro, c)
		r.add(t)
	}
	for _, n := range d.Include {
		if !included[n] {
			return fmt.Errorf("discovery: include names %s, which is no account of the organization (neither an id nor an account's name); check the spelling", args.Quote(n))
		}
	}
	return nil
}

// active: the account can be used. Status is being replaced by State in
// the API; either says so.
func active(a orgtypes.Account) bool {
	return a.Status == orgtypes.AccountStatusActive || a.Status == "" && a.State == orgtypes.AccountStateActive
}

func discoveryError(err error) error {
	var se smithy.APIError
	if errors.As(err, &se) {
		switch se.ErrorCode() {
		case "AWSOrganizationsNotInUseException":
			return errors.New("discovery: the server's account is in no AWS Organization, so there is nothing to discover; name the accounts under accounts: instead")
		case "AccessDeniedException", "AccessDenied":
			return fmt.Errorf("discovery: Organizations refused to list the accounts (%s). Discovery runs with the server's own credentials, which must be the organization's management account or a delegated administrator and allow organizations:ListAccounts; or name the accounts under accounts: instead", se.ErrorMessage())
		}
	}
	return fmt.Errorf("discovery: cannot list the organization's accounts: %w", err)
}

// List returns every account, the server's own first, then by alias and
// id.
func (r *Registry) List() []gate.Account {
	out := make([]gate.Account, 0, len(r.targets)+1)
	out = append(out, r.self)
	for _, t := range r.targets {
		out = append(out, t.acct)
	}
	return out
}

// Lookup finds an account by its exact id or alias.
func (r *Registry) Lookup(name string) (gate.Account, bool) {
	if name == "" {
		return gate.Account{}, false
	}
	if name == r.self.ID || name == r.self.Alias {
		return r.self, true
	}
	t, ok := r.byName[name]
	if !ok {
		return gate.Account{}, false
	}
	return t.acct, true
}

// Reachable lists the accounts for get_account_info and host_info, in
// List's order: all of them when allowed is nil, else those whose id
// allowed holds (a plugin restricted to some accounts).
func (r *Registry) Reachable(allowed map[string]bool) []api.ReachableAccount {
	var out []api.ReachableAccount
	for _, a := range r.List() {
		if allowed != nil && !allowed[a.ID] {
			continue
		}
		c := a.Confirm
		if c == "" {
			c = gate.ConfirmDestructive
		}
		out = append(out, api.ReachableAccount{ID: a.ID, Alias: a.Alias, Self: a.Self, ReadOnly: a.ReadOnly, Confirm: string(c), Via: a.Via})
	}
	return out
}

// partitionOf reads the partition from an ARN; "aws" when there is none.
func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

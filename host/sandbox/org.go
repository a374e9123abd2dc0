package sandbox

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// Many accounts in one sandbox: an AWS Organization.
//
// A sandbox with Options.Members (or the org seed) is an organisation's
// management account, and each member is a full IAM account of its own: a
// *Server inside, with its own id, state and handlers, sharing the
// management account's clock, quotas and logger. What binds them is a
// realm: the accounts by id, the STS sessions (sts.go), and the
// organisation's structure (OUs, SCPs and where they are attached), which
// Organizations serves (organizations.go) and AssumeRole evaluates.
//
// A request is served in the account that holds its signing key (route):
// a user's or root's access key of any account acts in that account, a
// session key in the session's account as the role session, and any other
// key (the bootstrap credentials) as the management account's root. The
// structure is fixed by the options at start and rebuilt at each start; a
// member's IAM state is kept beside the management account's state file as
// <StateFile>.<account-id>.

// OrgAccessRoleName is the role AWS creates in every account made in an
// organisation: it trusts the management account and has
// AdministratorAccess attached. Every member of the sandbox has it.
const OrgAccessRoleName = "OrganizationAccountAccessRole"

// Member is an account of the organisation besides the management account.
type Member struct {
	// ID is its 12-digit account id, unique in the organisation.
	ID string
	// Name and Email are what Organizations reports; "" gives
	// "account-<id>" and "<name>@example.com".
	Name, Email string
	// ParentOU is the name of the OU (Options.OUs) the account is in, or ""
	// for the organisation's root.
	ParentOU string
}

// OU is an organisational unit, named uniquely in the organisation.
type OU struct {
	// Name is what Organizations reports, and what Member.ParentOU,
	// OU.Parent and SCP.Targets refer to it by.
	Name string
	// Parent is the name of the OU it is in, or "" for the root.
	Parent string
}

// SCP is a service control policy of the organisation, besides
// FullAWSAccess (which AWS attaches to the root, every OU and every
// account, and so does the sandbox).
type SCP struct {
	Name, Description string
	// Document is the policy, as an IAM identity policy document.
	Document string
	// Targets are where it is attached: RootTarget, an OU's name, or an
	// account id (a member's or the management account's).
	Targets []string
}

// RootTarget names the organisation's root in SCP.Targets.
const RootTarget = "Root"

// fullAWSAccessDoc is the AWS managed SCP FullAWSAccess, word for word.
const fullAWSAccessDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// realm is what the accounts of one sandbox share.
type realm struct {
	mgmt     *Server
	accounts map[string]*Server // by id, the management account's included
	members  []string           // member ids, in Options.Members order
	org      *organization      // nil: a lone account, not an organisation
	// created is when the organisation's accounts are reported joined
	// (Unix seconds, as Organizations' JSON has it): when New ran.
	created float64

	sessions sessions
}

// organization is the structure Organizations reports and SCPs are
// evaluated by. It never changes after New, so it is read without a lock.
type organization struct {
	id, rootID, mgmtID string
	mgmtName           string
	accounts           []orgAccount // the management account first
	ous                []*orgOU
	policies           []*orgPolicy // FullAWSAccess first
}

type orgAccount struct {
	id, name, email string
	parent          string // the id of the root or of an OU
}

type orgOU struct {
	id, name string
	parent   string // the id of the root or of an OU
}

type orgPolicy struct {
	id, name, description string
	awsManaged            bool
	document              string
	doc                   *policy.Document
	targets               []string // ids of the root, OUs and accounts, sorted
}

// arn of an Organizations entity of this organisation.
func (o *organization) arn(kind, rest string) string {
	return "arn:aws:organizations::" + o.mgmtID + ":" + kind + "/" + o.id + "/" + rest
}

func (o *organization) arnOrg() string {
	return "arn:aws:organizations::" + o.mgmtID + ":organization/" + o.id
}

func (p *orgPolicy) arn(o *organization) string {
	if p.awsManaged {
		return "arn:aws:organizations::aws:policy/service_control_policy/" + p.id
	}
	return o.arn("policy", "service_control_policy/"+p.id)
}

// account returns the organisation's account of id, or nil.
func (o *organization) account(id string) *orgAccount {
	for i := range o.accounts {
		if o.accounts[i].id == id {
			return &o.accounts[i]
		}
	}
	return nil
}

func (o *organization) ou(id string) *orgOU {
	for _, u := range o.ous {
		if u.id == id {
			return u
		}
	}
	return nil
}

// stableID derives an Organizations id from the management account and a
// name: the structure is rebuilt at each start, and its ids must not
// change between starts (a client may keep them).
func stableID(mgmt, what string, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	sum := sha256.Sum256([]byte(mgmt + "\x00" + what))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// newOrganization checks the organisation's options and builds its
// structure. The errors name the option and what to change.
func newOrganization(mgmtID, mgmtName string, members []Member, ous []OU, scps []SCP) (*organization, error) {
	o := &organization{mgmtID: mgmtID, mgmtName: mgmtName}
	o.id = "o-" + stableID(mgmtID, "organization", 10)
	o.rootID = "r-" + stableID(mgmtID, "root", 4)
	if o.mgmtName == "" {
		o.mgmtName = "management"
	}
	ouByName := map[string]*orgOU{}
	for _, u := range ous {
		if u.Name == "" || len(u.Name) > 128 {
			return nil, errors.New("sandbox: an OU needs a name of 1 to 128 characters")
		}
		if ouByName[strings.ToLower(u.Name)] != nil {
			return nil, fmt.Errorf("sandbox: OU %s is given twice; OU names must be unique", short(u.Name))
		}
		ou := &orgOU{id: "ou-" + o.rootID[2:] + "-" + stableID(mgmtID, "ou\x00"+u.Name, 8), name: u.Name}
		ouByName[strings.ToLower(u.Name)] = ou
		o.ous = append(o.ous, ou)
	}
	parentOf := func(name, of string) (string, error) {
		if name == "" {
			return o.rootID, nil
		}
		if ou := ouByName[strings.ToLower(name)]; ou != nil {
			return ou.id, nil
		}
		return "", fmt.Errorf("sandbox: %s names parent OU %s, which is not in Options.OUs", of, short(name))
	}
	for i, u := range ous {
		p, err := parentOf(u.Parent, "OU "+short(u.Name))
		if err != nil {
			return nil, err
		}
		o.ous[i].parent = p
	}
	// Every OU must reach the root: a cycle would make its path endless.
	for _, u := range o.ous {
		seen := map[string]bool{}
		for at := u; at != nil; at = o.ou(at.parent) {
			if seen[at.id] {
				return nil, fmt.Errorf("sandbox: OU %s is its own ancestor; OU parents must lead to the root", short(u.name))
			}
			seen[at.id] = true
		}
	}
	o.accounts = append(o.accounts, orgAccount{id: mgmtID, name: o.mgmtName, email: o.mgmtName + "@example.com", parent: o.rootID})
	for _, m := range members {
		if !iamname.AccountID(m.ID) {
			return nil, fmt.Errorf("sandbox: member account id %s is not 12 digits", short(m.ID))
		}
		if o.account(m.ID) != nil {
			return nil, fmt.Errorf("sandbox: account %s is in the organisation twice (a member's id must differ from the management account's and every other member's)", m.ID)
		}
		p, err := parentOf(m.ParentOU, "member "+m.ID)
		if err != nil {
			return nil, err
		}
		a := orgAccount{id: m.ID, name: m.Name, email: m.Email, parent: p}
		if a.name == "" {
			a.name = "account-" + m.ID
		}
		if a.email == "" {
			a.email = a.name + "@example.com"
		}
		o.accounts = append(o.accounts, a)
	}
	// FullAWSAccess everywhere, as AWS attaches it.
	full := &orgPolicy{id: "p-FullAWSAccess", name: "FullAWSAccess", awsManaged: true, document: fullAWSAccessDoc,
		description: "Allows access to every operation"}
	full.targets = append(full.targets, o.rootID)
	for _, u := range o.ous {
		full.targets = append(full.targets, u.id)
	}
	for _, a := range o.accounts {
		full.targets = append(full.targets, a.id)
	}
	o.policies = append(o.policies, full)
	for _, sp := range scps {
		if sp.Name == "" || len(sp.Name) > 128 {
			return nil, errors.New("sandbox: an SCP needs a name of 1 to 128 characters")
		}
		for _, other := range o.policies {
			if strings.EqualFold(other.name, sp.Name) {
				return nil, fmt.Errorf("sandbox: SCP %s is given twice (or is named as the AWS managed FullAWSAccess)", short(sp.Name))
			}
		}
		if err := policy.CheckIAM(sp.Document, policy.Identity); err != nil {
			return nil, fmt.Errorf("sandbox: SCP %s is not a valid policy document: %v", short(sp.Name), err)
		}
		doc, err := policy.Parse(sp.Document)
		if err != nil {
			return nil, fmt.Errorf("sandbox: SCP %s: %v", short(sp.Name), err)
		}
		p := &orgPolicy{id: "p-" + stableID(mgmtID, "scp\x00"+sp.Name, 8), name: sp.Name, description: sp.Description, document: sp.Document, doc: doc}
		for _, t := range sp.Targets {
			id := ""
			switch {
			case t == RootTarget:
				id = o.rootID
			case iamname.AccountID(t) && o.account(t) != nil:
				id = t
			case ouByName[strings.ToLower(t)] != nil:
				id = ouByName[strings.ToLower(t)].id
			default:
				return nil, fmt.Errorf("sandbox: SCP %s targets %s, which is neither %q, an OU's name nor an account of the organisation", short(sp.Name), short(t), RootTarget)
			}
			if !contains(p.targets, id) {
				p.targets = append(p.targets, id)
			}
		}
		o.policies = append(o.policies, p)
	}
	for _, p := range o.policies {
		if p.doc == nil {
			p.doc, _ = policy.Parse(p.document)
		}
		sort.Strings(p.targets)
	}
	return o, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// scpLevels are the SCPs that apply to a principal of account id, one set
// per level of its path: the root, each OU from the root down, and the
// account itself. AWS requires an allow at every level and lets any deny
// deny, so each level is evaluated on its own (sts.go). The management
// account is not subject to SCPs: nil.
func (o *organization) scpLevels(id string) [][]policy.Source {
	if o == nil || id == o.mgmtID {
		return nil
	}
	a := o.account(id)
	if a == nil {
		return nil
	}
	path := []string{id}
	for at := a.parent; at != o.rootID; {
		u := o.ou(at)
		if u == nil {
			break
		}
		path = append(path, u.id)
		at = u.parent
	}
	path = append(path, o.rootID)
	var levels [][]policy.Source
	for i := len(path) - 1; i >= 0; i-- {
		var level []policy.Source
		for _, p := range o.policies {
			if contains(p.targets, path[i]) {
				level = append(level, policy.Source{ID: p.name, Type: "scp", Doc: p.doc})
			}
		}
		levels = append(levels, level)
	}
	return levels
}

// setupOrganization builds the realm of a new server: itself alone, or
// with Options.Members, the organisation and its member accounts. fresh
// lists the accounts that were made new (not loaded from a state file),
// which the seed fills.
func (s *Server) setupOrganization(opts Options, mgmtFresh bool) (fresh map[string]bool, err error) {
	s.realm = &realm{mgmt: s, accounts: map[string]*Server{s.id: s}}
	fresh = map[string]bool{}
	if mgmtFresh {
		fresh[s.id] = true
	}
	if len(opts.Members) == 0 {
		if len(opts.OUs) > 0 || len(opts.SCPs) > 0 {
			return nil, errors.New("sandbox: Options.OUs and Options.SCPs need Options.Members: an organisation has member accounts")
		}
		return fresh, nil
	}
	o, err := newOrganization(s.id, opts.AccountName, opts.Members, opts.OUs, opts.SCPs)
	if err != nil {
		return nil, err
	}
	s.realm.org = o
	s.realm.created = float64(s.now().Unix())
	for _, m := range opts.Members {
		mo := Options{AccountID: m.ID, Quotas: opts.Quotas, Now: opts.Now, Logger: opts.Logger}
		if opts.StateFile != "" {
			mo.StateFile = opts.StateFile + "." + m.ID
		}
		ms, loaded, err := newAccountServer(mo)
		if err != nil {
			return nil, fmt.Errorf("sandbox: member account %s: %w", m.ID, err)
		}
		ms.realm = s.realm
		if !loaded {
			fresh[m.ID] = true
			if err := ms.createOrgAccessRole(s.id); err != nil {
				return nil, fmt.Errorf("sandbox: member account %s: %w", m.ID, err)
			}
		}
		s.realm.accounts[m.ID] = ms
		s.realm.members = append(s.realm.members, m.ID)
	}
	return fresh, nil
}

// createOrgAccessRole gives a new member account the role AWS creates in
// an account made in an organisation.
func (s *Server) createOrgAccessRole(mgmtID string) error {
	sd := &seeder{s: s}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + mgmtID + `:root"},"Action":"sts:AssumeRole"}]}`
	sd.do("CreateRole", "RoleName", OrgAccessRoleName, "AssumeRolePolicyDocument", trust)
	sd.do("AttachRolePolicy", "RoleName", OrgAccessRoleName, "PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess")
	return sd.err
}

// AccountID is the id of the sandbox's account (the management account's
// in an organisation).
func (s *Server) AccountID() string { return s.id }

// Members lists the member accounts' ids, in Options.Members order; none
// for a sandbox that is not an organisation.
func (s *Server) Members() []string { return append([]string(nil), s.realm.members...) }

// MemberTransport returns an http.RoundTripper that serves in-process
// requests as the root of member account id, whatever key signs them: for
// tests and benchmarks that fill a member account quickly. It is not a way
// in for clients (the network serves by signing key only); nil when id is
// not a member.
func (s *Server) MemberTransport(id string) http.RoundTripper {
	m := s.realm.accounts[id]
	if m == nil || m == s.realm.mgmt {
		return nil
	}
	return inProcess{s: s.realm.mgmt, as: m}
}

// closeMembers runs Close on every member account.
func (r *realm) closeMembers() error {
	var errs []error
	for _, id := range r.members {
		if err := r.accounts[id].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

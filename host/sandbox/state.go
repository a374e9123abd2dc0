package sandbox

import (
	"crypto/rand"
	"sort"
	"strings"
	"time"
)

// AccountID is the default account id of a sandbox (Options.AccountID),
// and the management account's of the org seed.
const AccountID = "123456789012"

// account is everything the sandbox holds. It is a plain value so that it
// persists as JSON as is; maps are keyed by the lower-cased name because IAM
// names are unique case-insensitively while keeping the case they were
// created with.
type account struct {
	Users            map[string]*User
	Groups           map[string]*Group
	Roles            map[string]*Role
	Policies         map[string]*ManagedPolicy // by ARN (AWS managed and customer managed)
	InstanceProfiles map[string]*InstanceProfile
	MFADevices       map[string]*MFADevice // virtual MFA devices, by serial number (ARN)
	Aliases          []string
	PasswordPolicy   *PasswordPolicy
	CredentialReport *CredentialReport
	// KeyUse records the last use of the account's access keys (users' and
	// the root's) by the requests they signed. Keys of no user sign as the
	// root but leave no record (keyauth.go); a state file written before
	// may still hold some, which are kept and reported nowhere.
	KeyUse map[string]*KeyUse
	// Root is the root user's credentials, which IAM reports (account
	// summary, credential report) but no IAM action changes.
	Root RootUser
	// ServiceUse records, per principal ARN (user or role), its last use
	// of each service namespace: what service last accessed reports.
	ServiceUse map[string]map[string]*ServiceUse
	// AccessJobs are the service-last-accessed report jobs, by job id.
	AccessJobs map[string]*AccessJob
	// DeletedKeys are the ids of the access keys the account deleted
	// (users' and the root's), oldest first, at most maxDeletedKeys: a
	// request signed by one is refused as IAM refuses it, instead of being
	// taken for a key of no user (keyauth.go). Left out of the file while
	// empty, so that a state without deletions reads as before.
	DeletedKeys []string `json:",omitempty"`
	// deleted indexes DeletedKeys; it is not saved, and is rebuilt when a
	// state file is loaded (statecheck.go).
	deleted map[string]bool
}

func newAccount() *account {
	return &account{
		Users:            map[string]*User{},
		Groups:           map[string]*Group{},
		Roles:            map[string]*Role{},
		Policies:         map[string]*ManagedPolicy{},
		InstanceProfiles: map[string]*InstanceProfile{},
		MFADevices:       map[string]*MFADevice{},
		KeyUse:           map[string]*KeyUse{},
		ServiceUse:       map[string]map[string]*ServiceUse{},
		AccessJobs:       map[string]*AccessJob{},
		deleted:          map[string]bool{},
	}
}

// Tag is an IAM tag.
type Tag struct{ Key, Value string }

// InlinePolicy is a policy embedded in a user, group or role. Document is the
// JSON exactly as written (IAM returns what was put, URL-encoded).
type InlinePolicy struct {
	Name     string
	Document string
}

// User is an IAM user and everything IAM keeps on it.
type User struct {
	Name, Path, ID   string
	Created          time.Time
	PasswordLastUsed *time.Time
	Boundary         string // permissions boundary policy ARN, "" for none
	Tags             []Tag
	Inline           []InlinePolicy
	Attached         []string // managed policy ARNs in attach order
	AccessKeys       []*AccessKey
	LoginProfile     *LoginProfile
	SSHKeys          []*SSHKey
	Certificates     []*SigningCertificate
	ServiceCreds     []*ServiceCredential
}

// Group is an IAM group; Members holds user names in the case they have.
type Group struct {
	Name, Path, ID string
	Created        time.Time
	Members        []string
	Inline         []InlinePolicy
	Attached       []string
}

// Role is an IAM role.
type Role struct {
	Name, Path, ID     string
	Created            time.Time
	TrustPolicy        string
	Description        string
	MaxSessionDuration int
	Boundary           string
	Tags               []Tag
	Inline             []InlinePolicy
	Attached           []string
	LastUsed           *time.Time
	LastUsedRegion     string
}

// ManagedPolicy is an AWS managed or customer managed policy with its
// versions. AttachmentCount and BoundaryCount are kept up to date by every
// attach, detach, put and delete of a boundary, so listing thousands of
// policies never scans every principal.
type ManagedPolicy struct {
	ARN, Name, Path, ID string
	Description         string
	AWSManaged          bool
	Created, Updated    time.Time
	DefaultVersion      string
	Versions            []*PolicyVersion // newest last
	NextVersion         int
	AttachmentCount     int
	BoundaryCount       int
	Tags                []Tag
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID       string // "v1", "v2", …
	Document string
	Created  time.Time
}

// InstanceProfile holds at most one role (IAM's limit), by role name.
type InstanceProfile struct {
	Name, Path, ID string
	Created        time.Time
	Roles          []string
	Tags           []Tag
}

// AccessKey is a user's access key. The secret is kept so that a state file
// round-trips; it is returned by CreateAccessKey only, as IAM does.
type AccessKey struct {
	ID, Secret string
	Status     string // Active | Inactive
	Created    time.Time
}

// KeyUse is what GetAccessKeyLastUsed reports.
type KeyUse struct {
	When            time.Time
	Service, Region string
}

// LoginProfile is a user's console password.
type LoginProfile struct {
	Created       time.Time
	ResetRequired bool
	PasswordHash  []byte // sha256; the password itself is never kept
	PasswordSet   time.Time
}

// MFADevice is a virtual MFA device. User is the name of the user it is
// enabled for, "" while unassigned.
type MFADevice struct {
	Serial, Path, Name string
	Seed               string // Base32 secret
	User               string
	Enabled            *time.Time
	Created            time.Time
	Tags               []Tag
	// LastCounter is the last TOTP time step accepted, so that a code is
	// never accepted twice (IAM refuses reused codes too).
	LastCounter int64
}

// SSHKey is an SSH public key for CodeCommit.
type SSHKey struct {
	ID, Body, Fingerprint string
	Status                string
	Uploaded              time.Time
}

// SigningCertificate is an X.509 signing certificate.
type SigningCertificate struct {
	ID, Body string
	Status   string
	Uploaded time.Time
}

// ServiceCredential is a service-specific credential (CodeCommit, Keyspaces…).
type ServiceCredential struct {
	ID, ServiceName, ServiceUserName, Password string
	Status                                     string
	Created                                    time.Time
}

// PasswordPolicy is the account password policy.
type PasswordPolicy struct {
	MinimumPasswordLength      int
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	AllowUsersToChangePassword bool
	MaxPasswordAge             int
	PasswordReusePrevention    int
	HardExpiry                 bool
}

// CredentialReport is the last generated credential report.
type CredentialReport struct {
	Generated time.Time
	CSV       []byte
}

// ---- identifiers and ARNs ----

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID mints an IAM-style unique id: a four-letter prefix that says what it
// identifies (AIDA user, AGPA group, AROA role, ANPA policy, AIPA instance
// profile, AKIA access key, APKA SSH key, ACCA service credential) and random
// upper-case Base32 characters, 21 in all (20 for access keys).
func newID(prefix string) string {
	n := 21
	if prefix == "AKIA" {
		n = 20
	}
	b := make([]byte, n-len(prefix))
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// newSecret returns a 40-character secret access key.
func newSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// arn is the ARN of an IAM entity of account. An entity does not hold its
// account's id: the id is the server's (Options.AccountID), and one account
// value never moves between ids, so each ARN is built from the id of the
// server asking.
func arn(account, kind, path, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + path + name
}

// ARN is the user's ARN in account (the id of the server holding it).
func (u *User) ARN(account string) string { return arn(account, "user", u.Path, u.Name) }

// ARN is the group's ARN in account.
func (g *Group) ARN(account string) string { return arn(account, "group", g.Path, g.Name) }

// ARN is the role's ARN in account.
func (r *Role) ARN(account string) string { return arn(account, "role", r.Path, r.Name) }

// ARN is the instance profile's ARN in account.
func (p *InstanceProfile) ARN(account string) string {
	return arn(account, "instance-profile", p.Path, p.Name)
}

func key(name string) string { return strings.ToLower(name) }

// ---- lookups with IAM's not-found messages ----

func (a *account) user(name string) (*User, *Error) {
	return find(a.Users, key(name), "The user with name %s cannot be found.", name)
}

func (a *account) group(name string) (*Group, *Error) {
	return find(a.Groups, key(name), "The group with name %s cannot be found.", name)
}

func (a *account) role(name string) (*Role, *Error) {
	return find(a.Roles, key(name), "The role with name %s cannot be found.", name)
}

func (a *account) policy(policyARN string) (*ManagedPolicy, *Error) {
	return find(a.Policies, policyARN, "Policy %s does not exist or is not attachable.", policyARN)
}

func (a *account) instanceProfile(name string) (*InstanceProfile, *Error) {
	return find(a.InstanceProfiles, key(name), "Instance Profile %s cannot be found.", name)
}

// groupsOf returns the groups a user belongs to, sorted by name.
func (a *account) groupsOf(userName string) []*Group {
	var out []*Group
	for _, g := range a.Groups {
		for _, m := range g.Members {
			if strings.EqualFold(m, userName) {
				out = append(out, g)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i].Name) < key(out[j].Name) })
	return out
}

// findInline returns the index of the named inline policy, or -1. Inline
// policy names are unique case-insensitively within their principal.
func findInline(list []InlinePolicy, name string) int {
	for i, p := range list {
		if strings.EqualFold(p.Name, name) {
			return i
		}
	}
	return -1
}

// sortedValues returns a map's values ordered by key, the order every IAM
// list in the sandbox is returned in.
func sortedValues[T any](m map[string]T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// sortByKey sorts items by a string key, the order pagination relies on.
func sortByKey[T any](items []T, k func(T) string) {
	sort.SliceStable(items, func(i, j int) bool { return k(items[i]) < k(items[j]) })
}

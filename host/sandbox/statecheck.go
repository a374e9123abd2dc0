package sandbox

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/policy"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// checkAccount holds an account decoded from a state file to everything
// the handlers rely on, so that no request can later trip over what a
// hand-edited (or damaged) file holds. What has an obvious value is
// restored: a missing map is empty, a missing path is "/", a missing id is
// minted, a missing name is the key it is stored under, a missing status
// is Active, and what the sandbox derives (attachment and boundary counts,
// SSH fingerprints, the next policy version number, the names members are
// listed by) is derived again. What is wrong is refused, with where it is:
// a null entry, a key that disagrees with the name stored under it, two
// entities of one name (IAM names compare case-insensitively), an id used
// twice, a reference to a user, role or policy that does not exist, a
// value IAM would never have accepted, a limit IAM enforces exceeded.
//
// The AWS managed policies this build knows and the file lacks are added,
// as a new account has them.
func checkAccount(a *account, accountID string) error {
	c := &stateChecker{a: a, account: accountID, ids: map[string]string{}}
	return c.run()
}

type stateChecker struct {
	a *account
	// account is the id of the server loading the file: the account of
	// the ARNs it holds.
	account string
	// ids maps every unique id (entities, keys, credentials) to where it
	// was seen: IAM's ids are unique, and service history is kept by id.
	ids map[string]string
}

// Patterns of what IAM mints. Entity ids are a four-letter prefix and
// upper-case letters and digits; credential ids are IAM's [\w]+ with the
// lengths its API accepts.
var (
	storedVersionID = regexp.MustCompile(`^v[1-9][0-9]{0,8}$`)
	storedEntityID  = regexp.MustCompile(`^[A-Z]{4}[A-Z0-9]{12,124}$`)
	storedJobID     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func stateAt(where string, format string, args ...any) error {
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

func stateEntry(m, k string) string { return m + "[" + short(k) + "]" }

func stateItem(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }

func (c *stateChecker) run() error {
	a := c.a
	if a.Users == nil {
		a.Users = map[string]*User{}
	}
	if a.Groups == nil {
		a.Groups = map[string]*Group{}
	}
	if a.Roles == nil {
		a.Roles = map[string]*Role{}
	}
	if a.Policies == nil {
		a.Policies = map[string]*ManagedPolicy{}
	}
	if a.InstanceProfiles == nil {
		a.InstanceProfiles = map[string]*InstanceProfile{}
	}
	if a.MFADevices == nil {
		a.MFADevices = map[string]*MFADevice{}
	}
	if a.KeyUse == nil {
		a.KeyUse = map[string]*KeyUse{}
	}
	if a.ServiceUse == nil {
		a.ServiceUse = map[string]map[string]*ServiceUse{}
	}
	if a.AccessJobs == nil {
		a.AccessJobs = map[string]*AccessJob{}
	}
	fresh := &Server{acct: newAccount()}
	fresh.installAWSManagedPolicies()
	for arn, p := range fresh.acct.Policies {
		if _, ok := a.Policies[arn]; !ok {
			a.Policies[arn] = p
		}
	}
	for _, step := range []func() error{
		c.policies, c.users, c.groups, c.roles, c.instanceProfiles, c.mfaDevices,
		c.root, c.accountSettings, c.history, c.deletedKeys,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	c.countPolicyUse()
	if err := storedTimes("", reflect.ValueOf(a)); err != nil {
		return err
	}
	// Every value must also save again: json.Marshal refuses what a load
	// accepts in one case, times beyond year 9999 once in UTC, and a state
	// that cannot be saved would fail every later change.
	if _, err := json.Marshal(stateFile{Format: stateFormat, Account: a}); err != nil {
		return fmt.Errorf("cannot be saved again: %s", shortErr(err))
	}
	return nil
}

// ---- shared checks ----

var timeType = reflect.TypeFor[time.Time]()

// storedTimes checks every time in v: responses write times in UTC as
// four-digit years, which clients parse, so a time whose UTC year is
// outside 1 to 9999 ("9999-12-31T23:59:59-23:59") would make every
// answer naming it unreadable.
func storedTimes(where string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return storedTimes(where, v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if y := v.Interface().(time.Time).UTC().Year(); y < 1 || y > 9999 {
				return stateAt(where, "a time falls in the year %d in UTC; times are years 1 to 9999", y)
			}
			return nil
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				w := f.Name
				if where != "" {
					w = where + "." + f.Name
				}
				if err := storedTimes(w, v.Field(i)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if err := storedTimes(stateItem(where, i), v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := storedTimes(stateEntry(where, it.Key().String()), it.Value()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *stateChecker) claimID(where, id string) error {
	if prev, dup := c.ids[id]; dup {
		return stateAt(where, "id %s is also the id of %s; ids are unique", short(id), prev)
	}
	c.ids[id] = where
	return nil
}

// entityID checks (or mints, when missing) the unique id of a user, group,
// role, policy or instance profile.
func (c *stateChecker) entityID(where string, id *string, prefix string) error {
	if *id == "" {
		*id = newID(prefix)
	}
	if !storedEntityID.MatchString(*id) || !strings.HasPrefix(*id, prefix) {
		return stateAt(where, "ID %s is not an id IAM gives (%s and 12 or more upper-case letters and digits)", short(*id), prefix)
	}
	return c.claimID(where, *id)
}

func storedName(where, field, v string, max int) error {
	if v == "" {
		return stateAt(where, "%s is missing", field)
	}
	if !iamname.Name(v, max) {
		return stateAt(where, "%s %s is not an IAM name (1 to %d of the characters [\\w+=,.@-])", field, short(v), max)
	}
	return nil
}

// storedPath checks an entity's path; a missing one is "/".
func storedPath(where string, path *string) error {
	if *path == "" {
		*path = "/"
	}
	if !iamname.Path(*path) {
		return stateAt(where, "Path %s is not an IAM path (\"/\", or \"/\" and printable ASCII ending in \"/\")", short(*path))
	}
	return nil
}

// storedStatus checks a credential's status; a missing one is Active.
func storedStatus(where string, status *string) error {
	if *status == "" {
		*status = "Active"
	}
	if *status != "Active" && *status != "Inactive" {
		return stateAt(where, "Status %s is not Active or Inactive", short(*status))
	}
	return nil
}

// storedDocument checks a policy document: what every evaluation of it
// parses must parse.
func storedDocument(where, doc string) error {
	if doc == "" {
		return stateAt(where, "the policy document is missing")
	}
	if len(doc) > 131072 {
		return stateAt(where, "the policy document is longer than IAM's 131072 characters")
	}
	if _, err := policy.Parse(doc); err != nil {
		return stateAt(where, "the policy document does not parse: %s", shortErr(err))
	}
	return nil
}

func storedTags(where string, tags []Tag) error {
	if len(tags) > 50 {
		return stateAt(where, "has %d tags; IAM allows 50", len(tags))
	}
	seen := map[string]bool{}
	for i, t := range tags {
		w := stateItem(where+".Tags", i)
		if n := utf8.RuneCountInString(t.Key); n == 0 || n > 128 || !tagChars.MatchString(t.Key) {
			return stateAt(w, "Key %s is not a tag key (1 to 128 letters, digits, spaces and _.:/=+-@)", short(t.Key))
		}
		if utf8.RuneCountInString(t.Value) > 256 || !tagChars.MatchString(t.Value) {
			return stateAt(w, "the value of tag %s is not a tag value (up to 256 letters, digits, spaces and _.:/=+-@)", short(t.Key))
		}
		if seen[key(t.Key)] {
			return stateAt(w, "tag key %s is given twice (tag keys compare case-insensitively)", short(t.Key))
		}
		seen[key(t.Key)] = true
	}
	return nil
}

func storedInline(where string, list []InlinePolicy) error {
	seen := map[string]bool{}
	for i, p := range list {
		w := stateItem(where+".Inline", i)
		if err := storedName(w, "Name", p.Name, iamname.PolicyNameMax); err != nil {
			return err
		}
		if seen[key(p.Name)] {
			return stateAt(w, "inline policy %s is given twice (names compare case-insensitively)", short(p.Name))
		}
		seen[key(p.Name)] = true
		if err := storedDocument(w, p.Document); err != nil {
			return err
		}
	}
	return nil
}

// storedAttached checks a principal's attached managed policies: each
// exists, once, and no more than IAM's ten.
func (c *stateChecker) storedAttached(where string, list []string) error {
	if len(list) > maxManagedPerIdentity {
		return stateAt(where, "has %d attached managed policies; IAM allows %d", len(list), maxManagedPerIdentity)
	}
	seen := map[string]bool{}
	for i, arn := range list {
		w := stateItem(where+".Attached", i)
		if c.a.Policies[arn] == nil {
			return stateAt(w, "policy %s does not exist in the account", short(arn))
		}
		if seen[arn] {
			return stateAt(w, "policy %s is attached twice", short(arn))
		}
		seen[arn] = true
	}
	return nil
}

func (c *stateChecker) storedBoundary(where, arn string) error {
	if arn == "" {
		return nil
	}
	if !iamname.PolicyARN(arn) || c.a.Policies[arn] == nil {
		return stateAt(where, "permissions boundary %s is not a managed policy of the account", short(arn))
	}
	return nil
}

// storedKeys checks access keys (a user's or the root's).
func (c *stateChecker) storedKeys(where string, keys []*AccessKey) error {
	if len(keys) > maxAccessKeysPerUser {
		return stateAt(where, "has %d access keys; IAM allows %d", len(keys), maxAccessKeysPerUser)
	}
	for i, k := range keys {
		w := stateItem(where+".AccessKeys", i)
		if k == nil {
			return stateAt(w, "is null")
		}
		if !iamname.AccessKeyID(k.ID) {
			return stateAt(w, "ID %s is not an access key id (16 to 128 letters, digits and _)", short(k.ID))
		}
		if err := c.claimID(w, k.ID); err != nil {
			return err
		}
		if err := storedStatus(w, &k.Status); err != nil {
			return err
		}
	}
	return nil
}

// rekey checks that every entry of a map of named entities is stored under
// its lower-cased name, and returns the map keyed so. A missing name is the
// key's; a key that differs from the name in more than case is refused,
// since one of the two is a mistake; two entries of one name are refused.
func rekey[T any](m map[string]*T, kind string, name func(*T) *string, max int) (map[string]*T, error) {
	out := make(map[string]*T, len(m))
	for k, v := range m {
		where := stateEntry(kind, k)
		if v == nil {
			return nil, stateAt(where, "is null")
		}
		n := name(v)
		if *n == "" {
			*n = k
		}
		field := "Name"
		if err := storedName(where, field, *n, max); err != nil {
			return nil, err
		}
		if !strings.EqualFold(k, *n) {
			return nil, stateAt(where, "holds the entity named %s; an entity is stored under its name", short(*n))
		}
		if _, dup := out[key(*n)]; dup {
			return nil, stateAt(where, "%s is there twice (IAM names compare case-insensitively)", short(*n))
		}
		out[key(*n)] = v
	}
	return out, nil
}

// ---- the entities ----

func (c *stateChecker) policies() error {
	names := map[string]string{} // customer policy name, lower-cased → ARN
	for k, p := range c.a.Policies {
		where := stateEntry("Policies", k)
		if p == nil {
			return stateAt(where, "is null")
		}
		if err := storedName(where, "Name", p.Name, iamname.PolicyNameMax); err != nil {
			return err
		}
		if err := storedPath(where, &p.Path); err != nil {
			return err
		}
		want := arn(c.account, "policy", p.Path, p.Name)
		if p.AWSManaged {
			want = "arn:aws:iam::aws:policy" + p.Path + p.Name
		}
		if p.ARN == "" {
			p.ARN = want
		}
		if p.ARN != want || k != p.ARN {
			return stateAt(where, "ARN %s is not the ARN of its path and name (%s), or not the key it is stored under", short(p.ARN), short(want))
		}
		if err := c.entityID(where, &p.ID, "ANPA"); err != nil {
			return err
		}
		if utf8.RuneCountInString(p.Description) > maxPolicyDescription {
			return stateAt(where, "Description is longer than IAM's %d characters", maxPolicyDescription)
		}
		if err := storedTags(where, p.Tags); err != nil {
			return err
		}
		if !p.AWSManaged {
			if other, dup := names[key(p.Name)]; dup {
				return stateAt(where, "has the name of policy %s; customer managed policy names are unique (case-insensitively)", short(other))
			}
			names[key(p.Name)] = p.ARN
		}
		if n := len(p.Versions); n == 0 || n > maxPolicyVersions {
			return stateAt(where, "has %d versions; a policy has 1 to %d", n, maxPolicyVersions)
		}
		seen := map[string]bool{}
		highest := 0
		for i, v := range p.Versions {
			w := stateItem(where+".Versions", i)
			if v == nil {
				return stateAt(w, "is null")
			}
			if !storedVersionID.MatchString(v.ID) {
				return stateAt(w, "ID %s is not a version id (v1, v2, …)", short(v.ID))
			}
			if seen[v.ID] {
				return stateAt(w, "version %s is there twice", v.ID)
			}
			seen[v.ID] = true
			n, _ := strconv.Atoi(v.ID[1:])
			highest = max(highest, n)
			if err := storedDocument(w, v.Document); err != nil {
				return err
			}
		}
		if !seen[p.DefaultVersion] {
			return stateAt(where, "DefaultVersion %s is not one of its versions", short(p.DefaultVersion))
		}
		// New versions are numbered from NextVersion and must never take
		// an id in use (IAM never reuses one).
		if !p.AWSManaged && p.NextVersion <= highest {
			p.NextVersion = highest + 1
		}
	}
	return nil
}

func (c *stateChecker) users() error {
	users, err := rekey(c.a.Users, "Users", func(u *User) *string { return &u.Name }, iamname.UserNameMax)
	if err != nil {
		return err
	}
	c.a.Users = users
	certs := map[string]string{} // DER → where: a certificate belongs to one user
	for k, u := range users {
		where := stateEntry("Users", k)
		if err := storedPath(where, &u.Path); err != nil {
			return err
		}
		if err := c.entityID(where, &u.ID, "AIDA"); err != nil {
			return err
		}
		if err := c.storedBoundary(where, u.Boundary); err != nil {
			return err
		}
		if err := storedTags(where, u.Tags); err != nil {
			return err
		}
		if err := storedInline(where, u.Inline); err != nil {
			return err
		}
		if err := c.storedAttached(where, u.Attached); err != nil {
			return err
		}
		if err := c.storedKeys(where, u.AccessKeys); err != nil {
			return err
		}
		if lp := u.LoginProfile; lp != nil && len(lp.PasswordHash) != 32 {
			return stateAt(where, "LoginProfile.PasswordHash is %d bytes, not a SHA-256 hash (32 bytes)", len(lp.PasswordHash))
		}
		if err := c.sshKeys(where, u); err != nil {
			return err
		}
		if err := c.certificates(where, u, certs); err != nil {
			return err
		}
		if err := c.serviceCreds(where, u); err != nil {
			return err
		}
	}
	return nil
}

func (c *stateChecker) sshKeys(where string, u *User) error {
	if len(u.SSHKeys) > maxSSHKeysPerUser {
		return stateAt(where, "has %d SSH public keys; IAM allows %d", len(u.SSHKeys), maxSSHKeysPerUser)
	}
	fingerprints := map[string]bool{}
	for i, k := range u.SSHKeys {
		w := stateItem(where+".SSHKeys", i)
		if k == nil {
			return stateAt(w, "is null")
		}
		if n := len(k.ID); n < 20 || n > 128 || !idPattern.MatchString(k.ID) {
			return stateAt(w, "ID %s is not an SSH public key id", short(k.ID))
		}
		if err := c.claimID(w, k.ID); err != nil {
			return err
		}
		if err := storedStatus(w, &k.Status); err != nil {
			return err
		}
		// GetSSHPublicKey re-encodes the body: it must be a key IAM took.
		pub, perr := parseSSHPublicKey(k.Body)
		if perr != nil {
			return stateAt(w, "Body is not an SSH public key IAM accepts: %s", perr.Message)
		}
		k.Fingerprint = sshFingerprint(pub)
		if fingerprints[k.Fingerprint] {
			return stateAt(w, "the user has this SSH public key twice")
		}
		fingerprints[k.Fingerprint] = true
	}
	return nil
}

func (c *stateChecker) certificates(where string, u *User, seen map[string]string) error {
	if len(u.Certificates) > maxCertificatesPerUser {
		return stateAt(where, "has %d signing certificates; IAM allows %d", len(u.Certificates), maxCertificatesPerUser)
	}
	for i, x := range u.Certificates {
		w := stateItem(where+".Certificates", i)
		if x == nil {
			return stateAt(w, "is null")
		}
		if n := len(x.ID); n < 24 || n > 128 || !idPattern.MatchString(x.ID) {
			return stateAt(w, "ID %s is not a signing certificate id", short(x.ID))
		}
		if err := c.claimID(w, x.ID); err != nil {
			return err
		}
		if err := storedStatus(w, &x.Status); err != nil {
			return err
		}
		block, _ := pem.Decode([]byte(strings.TrimSpace(x.Body)))
		if block == nil || block.Type != "CERTIFICATE" {
			return stateAt(w, "Body is not a PEM certificate")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return stateAt(w, "Body is not an X.509 certificate: %s", shortErr(err))
		}
		der := string(block.Bytes)
		if prev, dup := seen[der]; dup {
			return stateAt(w, "the certificate is also %s; a certificate belongs to one user", prev)
		}
		seen[der] = w
	}
	return nil
}

func (c *stateChecker) serviceCreds(where string, u *User) error {
	perService := map[string]int{}
	for i, x := range u.ServiceCreds {
		w := stateItem(where+".ServiceCreds", i)
		if x == nil {
			return stateAt(w, "is null")
		}
		if n := len(x.ID); n < 20 || n > 128 || !idPattern.MatchString(x.ID) {
			return stateAt(w, "ID %s is not a service-specific credential id", short(x.ID))
		}
		if err := c.claimID(w, x.ID); err != nil {
			return err
		}
		if err := storedStatus(w, &x.Status); err != nil {
			return err
		}
		if !credentialServices[x.ServiceName] {
			return stateAt(w, "ServiceName %s is not a service of service-specific credentials", short(x.ServiceName))
		}
		if perService[x.ServiceName]++; perService[x.ServiceName] > maxServiceCredsPerService {
			return stateAt(w, "the user has more than %d credentials for %s", maxServiceCredsPerService, x.ServiceName)
		}
	}
	return nil
}

func (c *stateChecker) groups() error {
	groups, err := rekey(c.a.Groups, "Groups", func(g *Group) *string { return &g.Name }, iamname.GroupNameMax)
	if err != nil {
		return err
	}
	c.a.Groups = groups
	perUser := map[string]int{}
	for k, g := range groups {
		where := stateEntry("Groups", k)
		if err := storedPath(where, &g.Path); err != nil {
			return err
		}
		if err := c.entityID(where, &g.ID, "AGPA"); err != nil {
			return err
		}
		if err := storedInline(where, g.Inline); err != nil {
			return err
		}
		if err := c.storedAttached(where, g.Attached); err != nil {
			return err
		}
		seen := map[string]bool{}
		for i, m := range g.Members {
			w := stateItem(where+".Members", i)
			u := c.a.Users[key(m)]
			if u == nil {
				return stateAt(w, "user %s does not exist in the account", short(m))
			}
			if seen[key(m)] {
				return stateAt(w, "user %s is a member twice", short(m))
			}
			seen[key(m)] = true
			// Members are listed by the user's name as it is spelt.
			g.Members[i] = u.Name
			if perUser[key(m)]++; perUser[key(m)] > maxGroupsPerUser {
				return stateAt(w, "user %s is in more than %d groups; IAM allows %d", short(u.Name), maxGroupsPerUser, maxGroupsPerUser)
			}
		}
	}
	return nil
}

func (c *stateChecker) roles() error {
	roles, err := rekey(c.a.Roles, "Roles", func(r *Role) *string { return &r.Name }, iamname.RoleNameMax)
	if err != nil {
		return err
	}
	c.a.Roles = roles
	for k, r := range roles {
		where := stateEntry("Roles", k)
		if err := storedPath(where, &r.Path); err != nil {
			return err
		}
		if err := c.entityID(where, &r.ID, "AROA"); err != nil {
			return err
		}
		if err := storedDocument(where+".TrustPolicy", r.TrustPolicy); err != nil {
			return err
		}
		if utf8.RuneCountInString(r.Description) > 1000 || !descriptionPattern.MatchString(r.Description) {
			return stateAt(where, "Description is not a role description IAM accepts (up to 1000 characters of its set)")
		}
		if r.MaxSessionDuration == 0 {
			r.MaxSessionDuration = minSessionDuration
		}
		if r.MaxSessionDuration < minSessionDuration || r.MaxSessionDuration > maxSessionDuration {
			return stateAt(where, "MaxSessionDuration %d is outside IAM's %d to %d seconds", r.MaxSessionDuration, minSessionDuration, maxSessionDuration)
		}
		if err := c.storedBoundary(where, r.Boundary); err != nil {
			return err
		}
		if err := storedTags(where, r.Tags); err != nil {
			return err
		}
		if err := storedInline(where, r.Inline); err != nil {
			return err
		}
		if err := c.storedAttached(where, r.Attached); err != nil {
			return err
		}
	}
	return nil
}

func (c *stateChecker) instanceProfiles() error {
	profiles, err := rekey(c.a.InstanceProfiles, "InstanceProfiles", func(p *InstanceProfile) *string { return &p.Name }, iamname.InstanceProfileNameMax)
	if err != nil {
		return err
	}
	c.a.InstanceProfiles = profiles
	for k, p := range profiles {
		where := stateEntry("InstanceProfiles", k)
		if err := storedPath(where, &p.Path); err != nil {
			return err
		}
		if err := c.entityID(where, &p.ID, "AIPA"); err != nil {
			return err
		}
		if err := storedTags(where, p.Tags); err != nil {
			return err
		}
		if len(p.Roles) > maxRolesPerProfile {
			return stateAt(where, "holds %d roles; IAM allows %d", len(p.Roles), maxRolesPerProfile)
		}
		for i, name := range p.Roles {
			r := c.a.Roles[key(name)]
			if r == nil {
				return stateAt(stateItem(where+".Roles", i), "role %s does not exist in the account", short(name))
			}
			p.Roles[i] = r.Name
		}
	}
	return nil
}

func (c *stateChecker) mfaDevices() error {
	serials := map[string]string{} // lower-cased serial → key: serials compare case-insensitively
	perUser := map[string]int{}
	for k, d := range c.a.MFADevices {
		where := stateEntry("MFADevices", k)
		if d == nil {
			return stateAt(where, "is null")
		}
		if err := storedName(where, "Name", d.Name, iamname.MFADeviceNameMax); err != nil {
			return err
		}
		if err := storedPath(where, &d.Path); err != nil {
			return err
		}
		want := arn(c.account, "mfa", d.Path, d.Name)
		if d.Serial == "" {
			d.Serial = want
		}
		if d.Serial != want || k != d.Serial {
			return stateAt(where, "Serial %s is not the serial of its path and name (%s), or not the key it is stored under", short(d.Serial), short(want))
		}
		if prev, dup := serials[key(d.Serial)]; dup {
			return stateAt(where, "has the serial of %s (serials compare case-insensitively)", short(prev))
		}
		serials[key(d.Serial)] = k
		if _, err := totp(d.Seed, 0); d.Seed == "" || err != nil {
			return stateAt(where, "Seed is not a Base32 TOTP seed")
		}
		if err := storedTags(where, d.Tags); err != nil {
			return err
		}
		if d.User == "" {
			d.Enabled = nil
			continue
		}
		u := c.a.Users[key(d.User)]
		if u == nil {
			return stateAt(where, "is enabled for user %s, who does not exist in the account", short(d.User))
		}
		d.User = u.Name
		if perUser[key(u.Name)]++; perUser[key(u.Name)] > maxMFADevicesPerUser {
			return stateAt(where, "user %s has more than %d MFA devices; IAM allows %d", short(u.Name), maxMFADevicesPerUser, maxMFADevicesPerUser)
		}
	}
	return nil
}

func (c *stateChecker) root() error {
	return c.storedKeys("Root", c.a.Root.AccessKeys)
}

func (c *stateChecker) accountSettings() error {
	a := c.a
	if len(a.Aliases) > 1 {
		return stateAt("Aliases", "has %d aliases; an account has at most one", len(a.Aliases))
	}
	for _, alias := range a.Aliases {
		if !aliasChars.MatchString(alias) || strings.Contains(alias, "--") {
			return stateAt("Aliases", "%s is not an account alias IAM accepts", short(alias))
		}
	}
	if pp := a.PasswordPolicy; pp != nil {
		if pp.MinimumPasswordLength == 0 {
			pp.MinimumPasswordLength = 6 // IAM's default when none is given
		}
		switch {
		case pp.MinimumPasswordLength < 6 || pp.MinimumPasswordLength > 128:
			return stateAt("PasswordPolicy", "MinimumPasswordLength %d is outside IAM's 6 to 128", pp.MinimumPasswordLength)
		case pp.MaxPasswordAge < 0 || pp.MaxPasswordAge > 1095:
			return stateAt("PasswordPolicy", "MaxPasswordAge %d is outside IAM's 0 (none) to 1095 days", pp.MaxPasswordAge)
		case pp.PasswordReusePrevention < 0 || pp.PasswordReusePrevention > 24:
			return stateAt("PasswordPolicy", "PasswordReusePrevention %d is outside IAM's 0 (none) to 24", pp.PasswordReusePrevention)
		}
	}
	return nil
}

// history checks what requests record: key use, service use, report jobs.
func (c *stateChecker) history() error {
	a := c.a
	for id, u := range a.KeyUse {
		if u == nil {
			return stateAt(stateEntry("KeyUse", id), "is null")
		}
	}
	for id, byService := range a.ServiceUse {
		if byService == nil {
			a.ServiceUse[id] = map[string]*ServiceUse{}
			continue
		}
		for ns, u := range byService {
			where := stateEntry("ServiceUse", id) + "[" + short(ns) + "]"
			if u == nil {
				return stateAt(where, "is null")
			}
			for name, au := range u.Actions {
				if au == nil {
					return stateAt(where+".Actions["+short(name)+"]", "is null")
				}
			}
		}
	}
	for id, job := range a.AccessJobs {
		where := stateEntry("AccessJobs", id)
		if job == nil {
			return stateAt(where, "is null")
		}
		if !storedJobID.MatchString(id) {
			return stateAt(where, "is not a job id (a UUID)")
		}
		if job.Granularity != "SERVICE_LEVEL" && job.Granularity != "ACTION_LEVEL" {
			return stateAt(where, "Granularity %s is not SERVICE_LEVEL or ACTION_LEVEL", short(job.Granularity))
		}
	}
	pruneAccessJobs(a.AccessJobs)
	return nil
}

// countPolicyUse derives every policy's AttachmentCount and BoundaryCount
// from the principals, which the handlers keep in step from then on.
func (c *stateChecker) countPolicyUse() {
	a := c.a
	for _, p := range a.Policies {
		p.AttachmentCount, p.BoundaryCount = 0, 0
	}
	attach := func(list []string) {
		for _, arn := range list {
			a.Policies[arn].AttachmentCount++
		}
	}
	boundary := func(arn string) {
		if arn != "" {
			a.Policies[arn].BoundaryCount++
		}
	}
	for _, u := range a.Users {
		attach(u.Attached)
		boundary(u.Boundary)
	}
	for _, g := range a.Groups {
		attach(g.Attached)
	}
	for _, r := range a.Roles {
		attach(r.Attached)
		boundary(r.Boundary)
	}
}

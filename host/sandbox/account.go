package sandbox

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Account-level operations: the alias, the summary with its quotas, the
// password policy, the credential report, and (in authdetails.go)
// GetAccountAuthorizationDetails.
var accountActions = map[string]action{
	"CreateAccountAlias":             {mutates: true, run: createAccountAlias},
	"DeleteAccountAlias":             {mutates: true, run: deleteAccountAlias},
	"ListAccountAliases":             {run: listAccountAliases},
	"GetAccountSummary":              {run: getAccountSummary},
	"UpdateAccountPasswordPolicy":    {mutates: true, run: updateAccountPasswordPolicy},
	"GetAccountPasswordPolicy":       {run: getAccountPasswordPolicy},
	"DeleteAccountPasswordPolicy":    {mutates: true, run: deleteAccountPasswordPolicy},
	"GenerateCredentialReport":       {derived: true, run: generateCredentialReport},
	"GetCredentialReport":            {run: getCredentialReport},
	"GetAccountAuthorizationDetails": {run: getAccountAuthorizationDetails},
}

// ---- account alias ----

// aliasChars is IAM's alias pattern ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$
// without the lookahead Go's regexp lacks; "--" is refused separately.
var aliasChars = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func aliasParam(c *call) (string, *Error) {
	alias, err := c.required("AccountAlias")
	if err != nil {
		return "", err
	}
	if n := len(alias); n < 3 || n > 63 {
		return "", errValidation("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must have length between 3 and 63", alias)
	}
	if !aliasChars.MatchString(alias) || strings.Contains(alias, "--") {
		return "", errValidation("1 validation error detected: Value '%s' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$", alias)
	}
	return alias, nil
}

// createAccountAlias sets the account's one alias. IAM documents that a new
// alias overwrites the previous one; its EntityAlreadyExists is for an alias
// another account holds, which a one-account sandbox cannot have.
func createAccountAlias(s *Server, c *call) (any, *Error) {
	alias, err := aliasParam(c)
	if err != nil {
		return nil, err
	}
	s.acct.Aliases = []string{alias}
	return nil, nil
}

func deleteAccountAlias(s *Server, c *call) (any, *Error) {
	alias, err := aliasParam(c)
	if err != nil {
		return nil, err
	}
	if len(s.acct.Aliases) == 0 || s.acct.Aliases[0] != alias {
		return nil, errNoSuchEntity("The account alias %s cannot be found.", alias)
	}
	s.acct.Aliases = nil
	return nil, nil
}

func listAccountAliases(s *Server, c *call) (any, *Error) {
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	return listOf("AccountAliases", s.acct.Aliases, same[string], pg, same[string])
}

// ---- account summary ----

// summaryMap marshals as IAM's SummaryMap: <entry><key>K</key><value>V</value></entry>…
// It keeps insertion order so that the response reads like IAM's.
type summaryMap []summaryEntry

type summaryEntry struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

func (m summaryMap) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return e.EncodeElement(struct {
		Entries []summaryEntry `xml:"entry"`
	}{m}, start)
}

const (
	// credentialReportTTL is how long IAM serves a report before a
	// GenerateCredentialReport builds a new one.
	credentialReportTTL = 4 * time.Hour
)

func getAccountSummary(s *Server, _ *call) (any, *Error) {
	a := s.acct
	customer, versionsInUse := 0, 0
	for _, p := range a.Policies {
		if !p.AWSManaged {
			customer++
		}
		// Every attachment puts the policy's default version in use.
		versionsInUse += p.AttachmentCount
	}
	mfaInUse := 0
	for _, d := range a.MFADevices {
		if d.User != "" {
			mfaInUse++
		}
	}
	q := s.quotas
	// The Account* flags are the root user's (see root.go); the sandbox
	// holds no signing certificates of the root, no identity providers and
	// no server certificates.
	root := a.Root
	return struct {
		SummaryMap summaryMap `xml:"SummaryMap"`
	}{summaryMap{
		{"Users", len(a.Users)}, {"UsersQuota", q.Users},
		{"Groups", len(a.Groups)}, {"GroupsQuota", q.Groups},
		{"Roles", len(a.Roles)}, {"RolesQuota", q.Roles},
		{"Policies", customer}, {"PoliciesQuota", q.Policies},
		{"InstanceProfiles", len(a.InstanceProfiles)}, {"InstanceProfilesQuota", q.InstanceProfiles},
		{"MFADevices", len(a.MFADevices)}, {"MFADevicesInUse", mfaInUse},
		{"AccountMFAEnabled", boolInt(root.MFAEnabled)}, {"AccountAccessKeysPresent", boolInt(len(root.AccessKeys) > 0)}, {"AccountSigningCertificatesPresent", 0},
		{"PolicyVersionsInUse", versionsInUse}, {"PolicyVersionsInUseQuota", 10000},
		{"Providers", 0}, {"ServerCertificates", 0}, {"ServerCertificatesQuota", 20},
		{"GroupsPerUserQuota", maxGroupsPerUser},
		{"AttachedPoliciesPerUserQuota", maxManagedPerIdentity},
		{"AttachedPoliciesPerGroupQuota", maxManagedPerIdentity},
		{"AttachedPoliciesPerRoleQuota", maxManagedPerIdentity},
		{"AccessKeysPerUserQuota", 2},
		{"SigningCertificatesPerUserQuota", 2},
		{"UserPolicySizeQuota", userInlineLimit},
		{"GroupPolicySizeQuota", groupInlineLimit},
		{"RolePolicySizeQuota", roleInlineLimit},
		{"PolicySizeQuota", managedPolicyLimit},
		{"VersionsPerPolicyQuota", 5},
		{"AssumeRolePolicySizeQuota", trustPolicyLimit},
		{"GlobalEndpointTokenVersion", 1},
	}}, nil
}

// ---- password policy ----

// updateAccountPasswordPolicy replaces the whole policy: IAM does not
// support partial updates, so an omitted field reverts to its default
// (booleans false, minimum length 6, no expiry, no reuse prevention).
func updateAccountPasswordPolicy(s *Server, c *call) (any, *Error) {
	var pp PasswordPolicy
	var err *Error
	ints := []struct {
		name          string
		dst           *int
		def, min, max int
	}{
		{"MinimumPasswordLength", &pp.MinimumPasswordLength, 6, 6, 128},
		{"MaxPasswordAge", &pp.MaxPasswordAge, 0, 1, 1095},
		{"PasswordReusePrevention", &pp.PasswordReusePrevention, 0, 1, 24},
	}
	for _, f := range ints {
		if *f.dst, err = c.integer(f.name, f.def, f.min, f.max); err != nil {
			return nil, err
		}
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{"RequireSymbols", &pp.RequireSymbols},
		{"RequireNumbers", &pp.RequireNumbers},
		{"RequireUppercaseCharacters", &pp.RequireUppercaseCharacters},
		{"RequireLowercaseCharacters", &pp.RequireLowercaseCharacters},
		{"AllowUsersToChangePassword", &pp.AllowUsersToChangePassword},
		{"HardExpiry", &pp.HardExpiry},
	}
	for _, f := range bools {
		if *f.dst, err = c.boolean(f.name, false); err != nil {
			return nil, err
		}
	}
	s.acct.PasswordPolicy = &pp
	return nil, nil
}

func (s *Server) noPasswordPolicy() *Error {
	return errNoSuchEntity("The Password Policy with domain name %s cannot be found.", s.id)
}

func getAccountPasswordPolicy(s *Server, _ *call) (any, *Error) {
	pp := s.acct.PasswordPolicy
	if pp == nil {
		return nil, s.noPasswordPolicy()
	}
	type xmlPasswordPolicy struct {
		MinimumPasswordLength      int   `xml:"MinimumPasswordLength"`
		RequireSymbols             bool  `xml:"RequireSymbols"`
		RequireNumbers             bool  `xml:"RequireNumbers"`
		RequireUppercaseCharacters bool  `xml:"RequireUppercaseCharacters"`
		RequireLowercaseCharacters bool  `xml:"RequireLowercaseCharacters"`
		AllowUsersToChangePassword bool  `xml:"AllowUsersToChangePassword"`
		ExpirePasswords            bool  `xml:"ExpirePasswords"`
		MaxPasswordAge             int   `xml:"MaxPasswordAge,omitempty"`
		PasswordReusePrevention    int   `xml:"PasswordReusePrevention,omitempty"`
		HardExpiry                 *bool `xml:"HardExpiry,omitempty"`
	}
	x := xmlPasswordPolicy{
		MinimumPasswordLength: pp.MinimumPasswordLength, RequireSymbols: pp.RequireSymbols,
		RequireNumbers: pp.RequireNumbers, RequireUppercaseCharacters: pp.RequireUppercaseCharacters,
		RequireLowercaseCharacters: pp.RequireLowercaseCharacters, AllowUsersToChangePassword: pp.AllowUsersToChangePassword,
		ExpirePasswords: pp.MaxPasswordAge > 0, MaxPasswordAge: pp.MaxPasswordAge, PasswordReusePrevention: pp.PasswordReusePrevention,
	}
	// IAM leaves HardExpiry out of a policy that neither expires passwords
	// nor sets it.
	if pp.HardExpiry || pp.MaxPasswordAge > 0 {
		x.HardExpiry = &pp.HardExpiry
	}
	return struct {
		PasswordPolicy xmlPasswordPolicy `xml:"PasswordPolicy"`
	}{x}, nil
}

func deleteAccountPasswordPolicy(s *Server, _ *call) (any, *Error) {
	if s.acct.PasswordPolicy == nil {
		return nil, s.noPasswordPolicy()
	}
	s.acct.PasswordPolicy = nil
	return nil, nil
}

// ---- credential report ----

// generateCredentialReport builds the report at once (the sandbox has no
// background work), but answers as IAM does: STARTED when it had to build
// one (none yet, or the last is older than four hours), COMPLETE otherwise.
func generateCredentialReport(s *Server, c *call) (any, *Error) {
	type result struct {
		State       string `xml:"State"`
		Description string `xml:"Description,omitempty"`
	}
	if r := s.acct.CredentialReport; r != nil && c.now.Sub(r.Generated) < credentialReportTTL {
		return result{State: "COMPLETE"}, nil
	}
	s.acct.CredentialReport = &CredentialReport{Generated: c.now, CSV: s.credentialReportCSV(c.now)}
	s.derivedUnsaved.Store(true) // kept for four hours as IAM keeps it, restarts included (persist.go)
	return result{"STARTED", "No report exists. Starting a new report generation task"}, nil
}

func getCredentialReport(s *Server, c *call) (any, *Error) {
	r := s.acct.CredentialReport
	if r == nil {
		return nil, apiErr("ReportNotPresent", 410, "Credential report not present. Use GenerateCredentialReport to generate a credential report.")
	}
	if c.now.Sub(r.Generated) >= credentialReportTTL {
		return nil, apiErr("ReportExpired", 410, "The credential report has expired. Use GenerateCredentialReport to generate a new credential report.")
	}
	// Content is a blob: base64 in the XML, bytes to the SDK's caller.
	return struct {
		Content       string  `xml:"Content"`
		ReportFormat  string  `xml:"ReportFormat"`
		GeneratedTime isoTime `xml:"GeneratedTime"`
	}{base64.StdEncoding.EncodeToString(r.CSV), "text/csv", isoTime(r.Generated)}, nil
}

// credentialReportColumns are IAM's 22 columns, in IAM's order.
var credentialReportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date",
	"access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// reportTime is how the credential report writes dates: ISO 8601 with an
// explicit +00:00 offset (not the Z of the XML API).
func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

// credentialReportCSV writes the report with IAM's conventions: true/false,
// N/A where a credential is absent or unused, no_information for a password
// never used, not_supported for what the root row cannot have.
func (s *Server) credentialReportCSV(now time.Time) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(credentialReportColumns)
	// The root row as IAM writes it: IAM does not say whether the root has
	// a password (not_supported), only when it was last used; MFA and keys
	// are the root's own (root.go); the sandbox gives the root no signing
	// certificates.
	r := s.acct.Root
	rootUsed := "no_information"
	if r.PasswordLastUsed != nil {
		rootUsed = reportTime(*r.PasswordLastUsed)
	}
	root := []string{"<root_account>", "arn:aws:iam::" + s.id + ":root", reportTime(s.rootCreated()),
		"not_supported", rootUsed, "not_supported", "not_supported", strconv.FormatBool(r.MFAEnabled)}
	root = append(root, keyColumns(s, r.AccessKeys)...)
	root = append(root, "false", "N/A", "false", "N/A")
	_ = w.Write(root)
	for _, u := range sorted(s, s.acct.Users) {
		_ = w.Write(s.credentialReportRow(u))
	}
	w.Flush()
	return buf.Bytes()
}

func (s *Server) credentialReportRow(u *User) []string {
	row := []string{u.Name, u.ARN(s.id), reportTime(u.Created)}
	if lp := u.LoginProfile; lp != nil {
		set := lp.PasswordSet
		if set.IsZero() {
			set = lp.Created
		}
		lastUsed, next := "no_information", "N/A"
		if u.PasswordLastUsed != nil {
			lastUsed = reportTime(*u.PasswordLastUsed)
		}
		if pp := s.acct.PasswordPolicy; pp != nil && pp.MaxPasswordAge > 0 {
			next = reportTime(set.AddDate(0, 0, pp.MaxPasswordAge))
		}
		row = append(row, "true", lastUsed, reportTime(set), next)
	} else {
		row = append(row, "false", "N/A", "N/A", "N/A")
	}
	row = append(row, strconv.FormatBool(len(s.acct.mfaDevicesOf(u.Name)) > 0))
	row = append(row, keyColumns(s, u.AccessKeys)...)
	for i := 0; i < 2; i++ {
		if i < len(u.Certificates) {
			row = append(row, strconv.FormatBool(u.Certificates[i].Status == "Active"), reportTime(u.Certificates[i].Uploaded))
		} else {
			row = append(row, "false", "N/A")
		}
	}
	return row
}

// keyColumns are the five columns of each of a user's first two keys.
func keyColumns(s *Server, keys []*AccessKey) []string {
	var out []string
	for i := 0; i < 2; i++ {
		if i >= len(keys) {
			out = append(out, "false", "N/A", "N/A", "N/A", "N/A")
			continue
		}
		k := keys[i]
		used, region, service := "N/A", "N/A", "N/A"
		if use := s.keyUse(k.ID); use != nil {
			used = reportTime(use.When)
			region, service = orNA(use.Region), orNA(use.Service)
		}
		out = append(out, strconv.FormatBool(k.Status == "Active"), reportTime(k.Created), used, region, service)
	}
	return out
}

func orNA(v string) string {
	if v == "" {
		return "N/A"
	}
	return v
}

package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Access keys and login profiles (console passwords) of users.
var credentialActions = map[string]action{
	"CreateAccessKey":      {mutates: true, run: createAccessKey},
	"ListAccessKeys":       {run: listAccessKeys},
	"UpdateAccessKey":      {mutates: true, run: updateAccessKey},
	"DeleteAccessKey":      {mutates: true, run: deleteAccessKey},
	"GetAccessKeyLastUsed": {run: getAccessKeyLastUsed},
	"CreateLoginProfile":   {mutates: true, run: createLoginProfile},
	"GetLoginProfile":      {run: getLoginProfile},
	"UpdateLoginProfile":   {mutates: true, run: updateLoginProfile},
	"DeleteLoginProfile":   {mutates: true, run: deleteLoginProfile},
	"ChangePassword":       {mutates: true, run: changePassword},
}

// maxAccessKeysPerUser is IAM's AccessKeysPerUser quota.
const maxAccessKeysPerUser = 2

// callerARN is the ARN of the principal that signed the request: a user of
// the sandbox, or the account root for any other key id.
func (s *Server) callerARN(c *call) string {
	if c.session != nil {
		return c.session.arn()
	}
	if u := s.acct.userByAccessKey(c.accessKeyID); u != nil {
		return u.ARN(s.id)
	}
	return "arn:aws:iam::" + s.id + ":root"
}

// targetUser resolves the optional UserName of the credential operations.
// Without it IAM acts on the caller, which must then be a user: the root's
// keys (root.go) are reported by IAM but not managed through these actions
// in the sandbox, so any other caller gets the error IAM gives non-user
// credentials.
func targetUser(s *Server, c *call) (*User, *Error) {
	if c.has("UserName") {
		return userParam(s, c)
	}
	if u := s.acct.userByAccessKey(c.accessKeyID); u != nil {
		return u, nil
	}
	return nil, errValidation("Must specify userName when calling with non-User credentials")
}

// ---- access keys ----

// accessKeyIDParam reads a required AccessKeyId with IAM's constraints.
func accessKeyIDParam(c *call) (string, *Error) {
	id, err := c.required("AccessKeyId")
	if err != nil {
		return "", err
	}
	if n := len(id); n < iamname.AccessKeyIDMin || n > iamname.AccessKeyIDMax {
		return "", errValidation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length between %d and %d", id, iamname.AccessKeyIDMin, iamname.AccessKeyIDMax)
	}
	if !iamname.AccessKeyID(id) {
		return "", errValidation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", id, iamname.AccessKeyIDPattern)
	}
	return id, nil
}

// userKey resolves the target user and one of its keys, by index so that
// DeleteAccessKey can cut it out.
func userKey(s *Server, c *call) (*User, int, *Error) {
	id, err := accessKeyIDParam(c)
	if err != nil {
		return nil, 0, err
	}
	u, err := targetUser(s, c)
	if err != nil {
		return nil, 0, err
	}
	for i, k := range u.AccessKeys {
		if k.ID == id {
			return u, i, nil
		}
	}
	return nil, 0, errNoSuchEntity("The Access Key with id %s cannot be found.", id)
}

type xmlAccessKeyMetadata struct {
	UserName    string  `xml:"UserName"`
	AccessKeyId string  `xml:"AccessKeyId"`
	Status      string  `xml:"Status"`
	CreateDate  isoTime `xml:"CreateDate"`
}

func createAccessKey(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	if len(u.AccessKeys) >= maxAccessKeysPerUser {
		return nil, errLimitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxAccessKeysPerUser)
	}
	k := &AccessKey{ID: newID("AKIA"), Secret: newSecret(), Status: "Active", Created: c.now}
	u.AccessKeys = append(u.AccessKeys, k)
	s.keyAdded()
	// The secret is in this response only, as IAM returns it once.
	type xmlAccessKey struct {
		UserName        string  `xml:"UserName"`
		AccessKeyId     string  `xml:"AccessKeyId"`
		Status          string  `xml:"Status"`
		SecretAccessKey string  `xml:"SecretAccessKey"`
		CreateDate      isoTime `xml:"CreateDate"`
	}
	return struct {
		AccessKey xmlAccessKey `xml:"AccessKey"`
	}{xmlAccessKey{u.Name, k.ID, k.Status, k.Secret, isoTime(k.Created)}}, nil
}

// listAccessKeys lists in creation order (then id, for keys created in the
// same instant), which a key rotation reads as oldest first.
func listAccessKeys(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	pg, err := readPage(c.params)
	if err != nil {
		return nil, err
	}
	order := func(k *AccessKey) string { return k.Created.UTC().Format("20060102150405.000000000") + k.ID }
	all := append([]*AccessKey(nil), u.AccessKeys...)
	sortByKey(all, order)
	return listOf("AccessKeyMetadata", all, order, pg, func(k *AccessKey) xmlAccessKeyMetadata {
		return xmlAccessKeyMetadata{u.Name, k.ID, k.Status, isoTime(k.Created)}
	})
}

func updateAccessKey(s *Server, c *call) (any, *Error) {
	status, err := c.required("Status")
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, i, err := userKey(s, c)
	if err != nil {
		return nil, err
	}
	u.AccessKeys[i].Status = status
	return nil, nil
}

func deleteAccessKey(s *Server, c *call) (any, *Error) {
	u, i, err := userKey(s, c)
	if err != nil {
		return nil, err
	}
	id := u.AccessKeys[i].ID
	u.AccessKeys = append(u.AccessKeys[:i:i], u.AccessKeys[i+1:]...)
	s.forgetKey(id)
	return nil, nil
}

// getAccessKeyLastUsed reports the last request the key signed, recorded by
// the server for every request. A key id that is no user's of this account
// gets AccessDenied, as IAM answers for keys it cannot attribute to the
// caller's account (it never says whether a key exists elsewhere).
func getAccessKeyLastUsed(s *Server, c *call) (any, *Error) {
	id, err := accessKeyIDParam(c)
	if err != nil {
		return nil, err
	}
	u := s.acct.userByAccessKey(id)
	if u == nil {
		return nil, apiErr("AccessDenied", 403, "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", s.callerARN(c), id)
	}
	type xmlLastUsed struct {
		LastUsedDate *isoTime `xml:"LastUsedDate,omitempty"`
		ServiceName  string   `xml:"ServiceName"`
		Region       string   `xml:"Region"`
	}
	// IAM says "N/A" for a key never used, and leaves the date out.
	last := xmlLastUsed{ServiceName: "N/A", Region: "N/A"}
	if use := s.keyUse(id); use != nil {
		last = xmlLastUsed{optTime(&use.When), orNA(use.Service), orNA(use.Region)}
	}
	return struct {
		UserName          string      `xml:"UserName"`
		AccessKeyLastUsed xmlLastUsed `xml:"AccessKeyLastUsed"`
	}{u.Name, last}, nil
}

// ---- login profiles and passwords ----

// passwordSymbols are the characters IAM counts as symbols in a password.
const passwordSymbols = "!@#$%^&*()_+-=[]{}|'"

// passwordPolicyViolation returns the first rule of the account password
// policy that pw breaks, in IAM's words, or "" when it complies. With no
// policy IAM's default applies: at least 8 characters of at least three of
// the four kinds (upper case, lower case, numbers, symbols).
func passwordPolicyViolation(pp *PasswordPolicy, pw string) string {
	var upper, lower, number, symbol bool
	for _, r := range pw {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			number = true
		case strings.ContainsRune(passwordSymbols, r):
			symbol = true
		}
	}
	n := utf8.RuneCountInString(pw)
	if pp == nil {
		kinds := 0
		for _, has := range []bool{upper, lower, number, symbol} {
			if has {
				kinds++
			}
		}
		switch {
		case n < 8:
			return "Password should have a minimum length of 8"
		case kinds < 3:
			return "Password should have at least three of the following: uppercase letters, lowercase letters, numbers and symbols"
		}
		return ""
	}
	rules := []struct {
		broken bool
		msg    string
	}{
		{n < pp.MinimumPasswordLength, fmt.Sprintf("Password should have a minimum length of %d", pp.MinimumPasswordLength)},
		{pp.RequireSymbols && !symbol, "Password should have at least one symbol"},
		{pp.RequireNumbers && !number, "Password should have at least one number"},
		{pp.RequireUppercaseCharacters && !upper, "Password should have at least one uppercase letter"},
		{pp.RequireLowercaseCharacters && !lower, "Password should have at least one lowercase letter"},
	}
	for _, r := range rules {
		if r.broken {
			return r.msg
		}
	}
	return ""
}

// passwordParam reads a password parameter: 1 to 128 characters from tab,
// line feed, carriage return and U+0020–U+00FF, as IAM's pattern allows.
func passwordParam(c *call, name string) (string, *Error) {
	pw, err := c.required(name)
	if err != nil {
		return "", err
	}
	// Passwords are never echoed back, not even in an error.
	if n := utf8.RuneCountInString(pw); n > 128 {
		return "", errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 128", lowerFirst(name))
	}
	for _, r := range pw {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xFF)) {
			return "", errValidation(`1 validation error detected: Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`, lowerFirst(name))
		}
	}
	return pw, nil
}

// policyPassword reads a password parameter that must also satisfy the
// account password policy.
func policyPassword(s *Server, c *call, name string) (string, *Error) {
	pw, err := passwordParam(c, name)
	if err != nil {
		return "", err
	}
	if msg := passwordPolicyViolation(s.acct.PasswordPolicy, pw); msg != "" {
		return "", apiErr("PasswordPolicyViolation", 400, "%s", msg)
	}
	return pw, nil
}

func hashPassword(pw string) []byte {
	h := sha256.Sum256([]byte(pw))
	return h[:]
}

func errNoLoginProfile(u *User) *Error {
	return errNoSuchEntity("Login Profile for User %s cannot be found.", u.Name)
}

// loginProfileResult is the result of CreateLoginProfile and GetLoginProfile.
func loginProfileResult(u *User) any {
	type xmlLoginProfile struct {
		UserName              string  `xml:"UserName"`
		CreateDate            isoTime `xml:"CreateDate"`
		PasswordResetRequired bool    `xml:"PasswordResetRequired"`
	}
	lp := u.LoginProfile
	return struct {
		LoginProfile xmlLoginProfile `xml:"LoginProfile"`
	}{xmlLoginProfile{u.Name, isoTime(lp.Created), lp.ResetRequired}}
}

func createLoginProfile(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	reset, err := c.boolean("PasswordResetRequired", false)
	if err != nil {
		return nil, err
	}
	pw, err := policyPassword(s, c, "Password")
	if err != nil {
		return nil, err
	}
	if u.LoginProfile != nil {
		return nil, errAlreadyExists("Login Profile for user %s already exists.", u.Name)
	}
	u.LoginProfile = &LoginProfile{Created: c.now, ResetRequired: reset, PasswordHash: hashPassword(pw), PasswordSet: c.now}
	return loginProfileResult(u), nil
}

func getLoginProfile(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	if u.LoginProfile == nil {
		return nil, errNoLoginProfile(u)
	}
	return loginProfileResult(u), nil
}

// updateLoginProfile is the administrator's password reset: the password
// and the reset flag each change only when sent.
func updateLoginProfile(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	reset, err := c.boolean("PasswordResetRequired", false)
	if err != nil {
		return nil, err
	}
	var pw string
	if c.has("Password") {
		if pw, err = policyPassword(s, c, "Password"); err != nil {
			return nil, err
		}
	}
	lp := u.LoginProfile
	if lp == nil {
		return nil, errNoLoginProfile(u)
	}
	if c.has("Password") {
		lp.PasswordHash, lp.PasswordSet = hashPassword(pw), c.now
	}
	if c.has("PasswordResetRequired") {
		lp.ResetRequired = reset
	}
	return nil, nil
}

func deleteLoginProfile(s *Server, c *call) (any, *Error) {
	u, err := targetUser(s, c)
	if err != nil {
		return nil, err
	}
	if u.LoginProfile == nil {
		return nil, errNoLoginProfile(u)
	}
	u.LoginProfile = nil
	return nil, nil
}

// changePassword is a user changing their own password: the caller must be
// a user (IAM's InvalidUserType otherwise, e.g. for the root) who knows the
// current password. IAM documents no error code for a wrong old password;
// the sandbox answers AccessDenied, the code IAM uses when a caller may not
// act. With a reuse-prevention policy the current password cannot be reused
// (the sandbox keeps no older hashes to check further back).
func changePassword(s *Server, c *call) (any, *Error) {
	oldPw, err := passwordParam(c, "OldPassword")
	if err != nil {
		return nil, err
	}
	newPw, err := policyPassword(s, c, "NewPassword")
	if err != nil {
		return nil, err
	}
	u := s.acct.userByAccessKey(c.accessKeyID)
	if u == nil {
		return nil, apiErr("InvalidUserType", 400, "Only IAM users can change their own password; use UpdateLoginProfile for other users.")
	}
	lp := u.LoginProfile
	if lp == nil {
		return nil, errNoLoginProfile(u)
	}
	if subtle.ConstantTimeCompare(lp.PasswordHash, hashPassword(oldPw)) != 1 {
		return nil, apiErr("AccessDenied", 403, "The old password for user %s is incorrect.", u.Name)
	}
	if pp := s.acct.PasswordPolicy; pp != nil && pp.PasswordReusePrevention > 0 && newPw == oldPw {
		return nil, apiErr("PasswordPolicyViolation", 400, "Password should not be one of your last %d passwords", pp.PasswordReusePrevention)
	}
	lp.PasswordHash, lp.PasswordSet, lp.ResetRequired = hashPassword(newPw), c.now, false
	return nil, nil
}

// Package iamname holds IAM's rules for the names it gives things: the
// names of users, groups, roles, policies, instance profiles and MFA
// devices, paths and path prefixes, ARNs, and the identifiers IAM hands out
// (policy version ids, MFA serial numbers, access key ids), with their
// length limits.
//
// It is the one source of those rules. The operation catalogue checks
// arguments with it before any AWS call, and the embedded sandbox checks
// requests with it as IAM would; when each side had its own copy the two
// drifted apart, and one of them then refused what the other let through.
// Each pattern is kept as IAM's API reference prints it (the sandbox quotes
// it in IAM's ValidationError wording) and compiled from that text, so the
// quoted pattern and the one applied cannot differ either.
//
// Standard library only, with nothing from the host or AWS, so that policy/
// and plugins may use it too.
package iamname

import (
	"regexp"
	"unicode/utf8"
)

// IAM's patterns, as its API reference prints them.
const (
	// NamePattern is every entity name's: user, group, role, policy,
	// inline policy, instance profile, virtual MFA device.
	NamePattern = `[\w+=,.@-]+`
	// PathPattern is pathType's: "/" alone, or "/" and printable ASCII
	// (no space) ending in "/".
	PathPattern = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	// PathPrefixPattern is pathPrefixType's: "/" and then printable ASCII;
	// it also takes DEL (\u007F), as IAM's reference says.
	PathPrefixPattern = `\u002F[\u0021-\u007F]*`
	// VersionIDPattern is policyVersionIdType's (v1, v2, …).
	VersionIDPattern = `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`
	// SerialNumberPattern is serialNumberType's: an MFA device's serial
	// number, which for a virtual device is its ARN.
	SerialNumberPattern = `[\w+=/:,.@-]+`
	// AccessKeyIDPattern is accessKeyIdType's.
	AccessKeyIDPattern = `[\w]+`
)

// IAM's length limits, in characters.
const (
	UserNameMax            = 64
	GroupNameMax           = 128
	RoleNameMax            = 64
	PolicyNameMax          = 128 // managed and inline policies alike
	InstanceProfileNameMax = 128
	MFADeviceNameMax       = 226
	PathMax                = 512 // paths and path prefixes
	ARNMin, ARNMax         = 20, 2048
	SerialNumberMin        = 9
	SerialNumberMax        = 256
	AccessKeyIDMin         = 16
	AccessKeyIDMax         = 128
)

var (
	nameRE       = compile(NamePattern)
	pathRE       = compile(PathPattern)
	pathPrefixRE = compile(PathPrefixPattern)
	versionIDRE  = compile(VersionIDPattern)
	serialRE     = compile(SerialNumberPattern)
	accessKeyRE  = compile(AccessKeyIDPattern)
	// arnRE is an entity's ARN: its type, then its path and name exactly
	// as PathPattern and NamePattern take them, since IAM builds the ARN
	// by concatenating the three: the path runs to the last "/", the name
	// is what follows it.
	arnRE = regexp.MustCompile(`^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>aws|\d{12}):(?P<type>user|group|role|policy)` +
		`(?P<path>` + goSyntax(PathPattern) + `)(?P<name>` + goSyntax(NamePattern) + `)$`)
	rootARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:root$`)
)

// compile anchors one of IAM's patterns: the whole value must match.
func compile(pattern string) *regexp.Regexp {
	return regexp.MustCompile(`^(?:` + goSyntax(pattern) + `)$`)
}

// goSyntax turns the \uXXXX escapes of IAM's (Java) patterns into Go's
// \x{XXXX}; the rest of their syntax is the same in Go.
func goSyntax(pattern string) string { return javaEscape.ReplaceAllString(pattern, `\x{$1}`) }

var javaEscape = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// Name reports whether s is a name of 1 to max characters of NamePattern.
func Name(s string, max int) bool {
	return utf8.RuneCountInString(s) <= max && nameRE.MatchString(s)
}

// Path reports whether s is an IAM path of at most PathMax characters.
func Path(s string) bool { return len(s) <= PathMax && pathRE.MatchString(s) }

// PathPrefix reports whether s is a path prefix of at most PathMax
// characters.
func PathPrefix(s string) bool { return len(s) <= PathMax && pathPrefixRE.MatchString(s) }

// VersionID reports whether s is a managed policy's version id.
func VersionID(s string) bool { return versionIDRE.MatchString(s) }

// SerialNumber reports whether s is an MFA device's serial number.
func SerialNumber(s string) bool {
	return len(s) >= SerialNumberMin && len(s) <= SerialNumberMax && serialRE.MatchString(s)
}

// AccessKeyID reports whether s is an access key id.
func AccessKeyID(s string) bool {
	return len(s) >= AccessKeyIDMin && len(s) <= AccessKeyIDMax && accessKeyRE.MatchString(s)
}

// AccountID reports whether s is a 12-digit AWS account id.
func AccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ARN is the ARN of an IAM user, group, role or managed policy, in parts:
// arn:Partition:iam::Account:Type Path Name.
type ARN struct {
	Partition string // aws, aws-cn, aws-us-gov, …
	Account   string // 12 digits, or "aws" for an AWS managed policy
	Type      string // user, group, role or policy
	Path      string // "/" or "/division/", as Path takes it
	Name      string // as NamePattern takes it
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":iam::" + a.Account + ":" + a.Type + a.Path + a.Name
}

// ParseARN splits the ARN of an IAM user, group, role or managed policy.
// It refuses what no such entity can have as its ARN: a length outside
// ARNMin..ARNMax, a path or name IAM would not take (their lengths
// included), or an account of "aws" for anything but a policy (AWS's own
// managed policies).
func ParseARN(s string) (ARN, bool) {
	if len(s) < ARNMin || len(s) > ARNMax {
		return ARN{}, false
	}
	m := arnRE.FindStringSubmatch(s)
	if m == nil {
		return ARN{}, false
	}
	part := func(name string) string { return m[arnRE.SubexpIndex(name)] }
	a := ARN{Partition: part("partition"), Account: part("account"), Type: part("type"), Path: part("path"), Name: part("name")}
	if a.Account == "aws" && a.Type != "policy" || !Path(a.Path) || !Name(a.Name, nameMax[a.Type]) {
		return ARN{}, false
	}
	return a, true
}

// nameMax is the longest name of each type ParseARN takes.
var nameMax = map[string]int{"user": UserNameMax, "group": GroupNameMax, "role": RoleNameMax, "policy": PolicyNameMax}

// PolicyARN reports whether s is a managed policy's ARN: a customer
// managed one (a 12-digit account) or an AWS managed one (account "aws").
func PolicyARN(s string) bool {
	a, ok := ParseARN(s)
	return ok && a.Type == "policy"
}

// PrincipalARN reports whether s is an IAM user's, group's or role's ARN.
func PrincipalARN(s string) bool {
	a, ok := ParseARN(s)
	return ok && a.Type != "policy"
}

// RootARN reports whether s is an account root's ARN
// (arn:aws:iam::111122223333:root).
func RootARN(s string) bool { return rootARNRE.MatchString(s) }

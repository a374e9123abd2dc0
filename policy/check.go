package policy

import (
	"fmt"
	"strings"
	"unicode"
)

// Kind says which rules a document must satisfy.
type Kind int

// The kinds of policy document IAM stores, each with its own rules.
const (
	// Identity: a policy attached to a user, group or role (inline or
	// managed). No Principal; every statement needs a Resource or NotResource.
	Identity Kind = iota
	// Trust: a role's trust (assume-role) policy. Every statement needs a
	// Principal or NotPrincipal; Resource is prohibited; actions are STS's.
	Trust
	// Boundary: a permissions boundary. The same rules as Identity.
	Boundary
	// Resource: a resource-based policy (bucket, key, topic …). Principal and
	// Resource are both required.
	Resource
)

// String names the kind, for messages and test output.
func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Trust:
		return "trust"
	case Boundary:
		return "boundary"
	case Resource:
		return "resource"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MalformedError is IAM's MalformedPolicyDocument: Message is phrased as IAM
// phrases it, so the embedded IAM sandbox can return it unchanged and clients
// see the same text from the sandbox as from AWS.
type MalformedError struct{ Message string }

// Error returns Message.
func (e *MalformedError) Error() string { return e.Message }

// IAM's messages. They are IAM's exact wording (including its inconsistent
// punctuation), as observed from the service.
const (
	msgSyntax             = "Syntax errors in policy."
	msgVersion2012        = "Policy document must be version 2012-10-17 or greater."
	msgLegacy             = "The policy failed legacy parsing"
	msgSidUnique          = "Statement IDs (SID) in a single policy must be unique."
	msgNoActions          = "Policy statement must contain actions."
	msgNoResources        = "Policy statement must contain resources."
	msgNoPrincipalHere    = "Policy document should not specify a principal."
	msgMissingPrincipal   = "Missing required field Principal"
	msgNoVendor           = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon           = "Actions/Condition can contain only one colon."
	msgTrustActions       = "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
	msgProhibitedResource = "Has prohibited field Resource."
	msgNoPrincipals       = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
)

func malformed(format string, args ...any) *MalformedError {
	if len(args) == 0 {
		return &MalformedError{Message: format}
	}
	return &MalformedError{Message: fmt.Sprintf(format, args...)}
}

// CheckIAM applies the checks IAM itself applies when a policy is written and
// returns a *MalformedError whose Message is IAM's, or nil.
//
// The checks run in IAM's order, and the first failure is the answer, so a
// document with several problems gets the message IAM would give:
//
//  1. "Syntax errors in policy." — not JSON, not an object, an unknown or
//     duplicate element, a wrong shape, no or an empty Statement, a Version
//     other than "2012-10-17"/"2008-10-17", an Effect other than Allow/Deny in
//     any letter case, Action with NotAction, Resource with NotResource,
//     Principal with NotPrincipal, an unknown condition operator with keys.
//  2. "The policy failed legacy parsing" — an Effect in the wrong letter case
//     ("allow"), a date condition value IAM cannot read, a resource whose ARN
//     parts are malformed ("arn:aws:s3::bucket").
//  3. "Statement IDs (SID) in a single policy must be unique."
//  4. "Policy statement must contain actions."
//  5. Resource ARN format: `Resource x must be in ARN format or "*".`,
//     `Partition "p" is not valid for resource "…".`, region information in
//     IAM and S3 ARNs, IAM resource paths.
//  6. Action format: "Actions/Conditions must be prefaced by a vendor, …",
//     "Actions/Condition can contain only one colon.", "Vendor x is not
//     valid".
//  7. The rules of the kind. Identity and Boundary: "Policy statement must
//     contain resources.", then "Policy document should not specify a
//     principal.". Trust: "Trust Policy statement actions can only be …",
//     "Has prohibited field Resource.", "Missing required field Principal".
//     Resource: resources, then the principal.
//  8. Principal values (Trust, Resource): `Invalid principal in policy:
//     "AWS":"x"`. Whether a named principal exists is the caller's business.
//
// Not checked here: the size quota (see Size), and whether principals exist.
// The messages and their order follow what IAM answers, as recorded by
// projects that test their IAM emulations against AWS.
func CheckIAM(doc string, kind Kind) error {
	if err := check(doc, kind, false); err != nil {
		return err
	}
	return nil
}

// CheckManagedPolicy is CheckIAM for a managed policy (CreatePolicy,
// CreatePolicyVersion, and so a permissions boundary). It exists because IAM
// holds managed policies to one more rule than inline ones: their Version
// must be "2012-10-17" ("Policy document must be version 2012-10-17 or
// greater."), checked right after the syntax checks. Inline policies without
// a Version (the 2008 language) are still accepted.
func CheckManagedPolicy(doc string, kind Kind) error {
	if err := check(doc, kind, true); err != nil {
		return err
	}
	return nil
}

func check(doc string, kind Kind, managed bool) *MalformedError {
	d, err := Parse(doc)
	if err != nil {
		return malformed(msgSyntax)
	}
	if e := checkSyntax(d); e != nil {
		return e
	}
	if managed && d.Version != "2012-10-17" {
		return malformed(msgVersion2012)
	}

	// Legacy parsing, and the first resource format error found on the way
	// (which IAM reports later, after the Sid and action checks).
	if e := checkLegacy(d); e != nil {
		return e
	}
	var resourceErr *MalformedError
	for i := range d.Statements {
		st := &d.Statements[i]
		for _, list := range [][]string{st.Resource, st.NotResource} {
			for _, r := range list {
				if e := resourceFormat(r); e != nil {
					if resourceErr == nil {
						resourceErr = e
					}
					continue
				}
				if !legacyResourceOK(r) {
					return malformed(msgLegacy)
				}
			}
		}
	}

	seen := map[string]bool{}
	for _, st := range d.Statements {
		if st.Sid == "" {
			continue
		}
		if seen[st.Sid] {
			return malformed(msgSidUnique)
		}
		seen[st.Sid] = true
	}
	for _, st := range d.Statements {
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return malformed(msgNoActions)
		}
	}
	if resourceErr != nil {
		return resourceErr
	}
	for _, st := range d.Statements {
		for _, list := range [][]string{st.Action, st.NotAction} {
			for _, a := range list {
				if e := actionFormat(a); e != nil {
					return e
				}
			}
		}
	}
	if e := checkKind(d, kind); e != nil {
		return e
	}
	if kind == Trust || kind == Resource {
		for _, st := range d.Statements {
			for _, p := range []*Principal{st.Principal, st.NotPrincipal} {
				if e := principalValues(p); e != nil {
					return e
				}
			}
		}
	}
	return nil
}

func checkSyntax(d *Document) *MalformedError {
	if d.versionSet && d.Version != "2012-10-17" && d.Version != "2008-10-17" {
		return malformed(msgSyntax)
	}
	if len(d.Statements) == 0 {
		return malformed(msgSyntax)
	}
	for _, st := range d.Statements {
		if !strings.EqualFold(st.Effect, "Allow") && !strings.EqualFold(st.Effect, "Deny") {
			return malformed(msgSyntax)
		}
		if (st.Action != nil && st.NotAction != nil) ||
			(st.Resource != nil && st.NotResource != nil) ||
			(st.Principal != nil && st.NotPrincipal != nil) {
			return malformed(msgSyntax)
		}
		for op, keys := range st.Condition {
			// IAM tolerates an unknown operator only with nothing under it.
			if len(keys) > 0 && !IsConditionOperator(op) {
				return malformed(msgSyntax)
			}
		}
	}
	return nil
}

// trustActions are the actions a trust policy may name.
var trustActions = map[string]bool{
	"sts:AssumeRole": true, "sts:AssumeRoleWithSAML": true, "sts:AssumeRoleWithWebIdentity": true,
	"sts:DecodeAuthorizationMessage": true, "sts:GetAccessKeyInfo": true, "sts:GetCallerIdentity": true,
	"sts:GetFederationToken": true, "sts:GetServiceBearerToken": true, "sts:GetSessionToken": true,
	"sts:SetSourceIdentity": true, "sts:TagSession": true,
}

func checkKind(d *Document, kind Kind) *MalformedError {
	switch kind {
	case Identity, Boundary:
		for _, st := range d.Statements {
			if len(st.Resource) == 0 && len(st.NotResource) == 0 {
				return malformed(msgNoResources)
			}
		}
		for _, st := range d.Statements {
			if st.Principal != nil || st.NotPrincipal != nil {
				return malformed(msgNoPrincipalHere)
			}
		}
	case Trust:
		for _, st := range d.Statements {
			// A trust statement must name its actions (NotAction will not do),
			// and they must be STS's.
			if st.Action == nil {
				return malformed(msgTrustActions)
			}
			for _, a := range st.Action {
				if !trustActions[a] {
					return malformed(msgTrustActions)
				}
			}
		}
		for _, st := range d.Statements {
			if st.Resource != nil || st.NotResource != nil {
				return malformed(msgProhibitedResource)
			}
		}
		for _, st := range d.Statements {
			if st.Principal == nil && st.NotPrincipal == nil {
				return malformed(msgMissingPrincipal)
			}
		}
	case Resource:
		for _, st := range d.Statements {
			if len(st.Resource) == 0 && len(st.NotResource) == 0 {
				return malformed(msgNoResources)
			}
		}
		for _, st := range d.Statements {
			if st.Principal == nil && st.NotPrincipal == nil {
				return malformed(msgMissingPrincipal)
			}
		}
	}
	return nil
}

func checkLegacy(d *Document) *MalformedError {
	for _, st := range d.Statements {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return malformed(msgLegacy)
		}
		for op, keys := range st.Condition {
			if !isDateOperator(op) || !IsConditionOperator(op) {
				continue
			}
			for _, vals := range keys {
				for _, v := range vals {
					if _, ok := parseDate(v); !ok {
						return malformed(msgLegacy)
					}
				}
			}
		}
	}
	return nil
}

func isDateOperator(op string) bool {
	op = strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
	return strings.HasPrefix(op, "Date")
}

// legacyResourceOK is IAM's older ARN reader: an ARN that uses "::" must have
// all six parts, and the service part must not be empty.
func legacyResourceOK(r string) bool {
	if r == "*" {
		return true
	}
	if strings.Contains(r, "::") && strings.Count(r, ":") < 5 {
		return false
	}
	parts := strings.Split(r, ":")
	return len(parts) < 3 || parts[2] != ""
}

// partitions IAM accepts in a resource ARN.
var partitions = map[string]bool{
	"*": true, "aws": true, "aws-cn": true, "aws-us-gov": true,
	"aws-iso": true, "aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true,
}

// iamResourcePrefixes are the resource types an IAM ARN may name.
var iamResourcePrefixes = []string{
	"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
	"server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/",
	"report/", "access-report/",
}

// resourceFormat checks a Resource/NotResource value the way IAM does.
func resourceFormat(r string) *MalformedError {
	if r == "*" {
		return nil
	}
	_, rest, ok := strings.Cut(r, ":")
	if !ok {
		return malformed(`Resource %s must be in ARN format or "*".`, r)
	}
	partition, rest, hasService := strings.Cut(rest, ":")
	if !partitions[partition] {
		return malformed(`Partition "%s" is not valid for resource "%s".`, partition, normalisedARN(partition, rest))
	}
	if !hasService {
		return malformed("Resource vendor must be fully qualified and cannot contain regexes.")
	}
	service, rest, _ := strings.Cut(rest, ":")
	region, rest, _ := strings.Cut(rest, ":")
	_, resource, _ := strings.Cut(rest, ":")
	switch service {
	case "iam":
		if region != "" {
			return malformed("IAM resource %s cannot contain region information.", r)
		}
		if resource != "*" && resource != "root" && !hasAnyPrefix(resource, iamResourcePrefixes) {
			return malformed(`IAM resource path must either be "*", root, or start with %s.`, strings.Join(iamResourcePrefixes, ", "))
		}
	case "s3":
		// Access points are regional; buckets and objects are not.
		if region != "" && !strings.HasPrefix(resource, "accesspoint/") {
			return malformed("Resource %s can not contain region information.", r)
		}
	}
	return nil
}

// normalisedARN rebuilds the ARN IAM quotes in its partition message: the
// parts after the partition, missing ones shown as "*".
func normalisedARN(partition, rest string) string {
	parts := strings.Split(rest, ":")
	get := func(i string, ok bool) string {
		if !ok {
			return "*"
		}
		return i
	}
	p1 := get(parts[0], parts[0] != "" || len(parts) > 1)
	p2 := get(at(parts, 1), len(parts) > 1)
	p3 := get(at(parts, 2), len(parts) > 2)
	p4 := get(strings.Join(tail(parts, 3), ":"), len(parts) > 3)
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", partition, p1, p2, p3, p4)
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func tail(s []string, i int) []string {
	if i < len(s) {
		return s[i:]
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// actionFormat checks an Action/NotAction value: "*" or vendor:name, the
// vendor made of letters, digits, '-' and '.'. IAM does not check the name
// part beyond the colon rule.
func actionFormat(a string) *MalformedError {
	if a == "*" {
		return nil
	}
	vendor, _, ok := strings.Cut(a, ":")
	if !ok || vendor == "" {
		return malformed(msgNoVendor)
	}
	if strings.Count(a, ":") > 1 {
		return malformed(msgOneColon)
	}
	for _, r := range vendor {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return malformed("Vendor %s is not valid", vendor)
		}
	}
	return nil
}

// principalValues checks the values of a Principal or NotPrincipal element
// in a trust or resource policy.
func principalValues(p *Principal) *MalformedError {
	if p == nil || p.Wildcard {
		return nil
	}
	if len(p.Values) == 0 {
		return malformed(msgNoPrincipals)
	}
	for _, typ := range sortedNames(p.Values) {
		vals := p.Values[typ]
		if len(vals) == 0 {
			return malformed(msgNoPrincipals)
		}
		for _, v := range vals {
			if !validPrincipal(typ, v) {
				return malformed(`Invalid principal in policy: "%s":"%s"`, typ, v)
			}
		}
	}
	return nil
}

func validPrincipal(typ, v string) bool {
	switch typ {
	case "AWS":
		if v == "*" || isAccountID(v) {
			return true
		}
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || !partitions[parts[1]] || parts[1] == "*" {
			return false
		}
		if (parts[2] != "iam" && parts[2] != "sts") || parts[3] != "" || !isAccountID(parts[4]) {
			return false
		}
		// Principals name one entity: no wildcards inside an ARN.
		return parts[5] != "" && !strings.ContainsAny(parts[5], "*?")
	case "Service":
		return isDNSName(v)
	case "Federated":
		if strings.HasPrefix(v, "arn:") {
			parts := strings.SplitN(v, ":", 6)
			return len(parts) == 6 && parts[2] == "iam" && isAccountID(parts[4]) &&
				(strings.HasPrefix(parts[5], "saml-provider/") || strings.HasPrefix(parts[5], "oidc-provider/"))
		}
		return isDNSName(v)
	case "CanonicalUser":
		if len(v) != 64 {
			return false
		}
		for _, r := range v {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
		return true
	}
	return false
}

func isAccountID(s string) bool {
	return len(s) == 12 && allDigits(s)
}

// isDNSName: a service or identity-provider host name such as
// "ec2.amazonaws.com" or "accounts.google.com".
func isDNSName(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Size counts a document's length the way IAM does for its quotas:
// characters excluding whitespace. IAM ignores whitespace everywhere, inside
// strings as well as between tokens, so Size counts the runes that are not
// Unicode white space.
//
// IAM's quotas (2,048 characters for a user's inline policies, 6,144 for a
// managed policy, and so on) are stated in these characters, so
// pretty-printing a policy never pushes it over a limit.
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

package sandbox

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/policy"
)

// IAM's documented patterns for names and paths.
var (
	namePattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern       = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	pathPrefixPattern = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	policyARNPattern  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/(.+/)?[\w+=,.@-]+$`)
)

// checkName validates a required name parameter: present, within maxLen
// characters, and matching IAM's name pattern.
func checkName(p params, param string, maxLen int) (string, *Error) {
	v, err := p.required(param)
	if err != nil {
		return "", err
	}
	return v, validateName(param, v, maxLen)
}

func validateName(param, v string, maxLen int) *Error {
	if n := utf8.RuneCountInString(v); n > maxLen {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, lowerFirst(param), maxLen)
	}
	if !namePattern.MatchString(v) {
		return errValidation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`, v, lowerFirst(param))
	}
	return nil
}

// checkPath reads an optional path parameter (default "/").
func checkPath(p params, param string) (string, *Error) {
	v := p.str(param)
	if !p.has(param) {
		return "/", nil
	}
	if len(v) < 1 || len(v) > 512 {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and 512", v, lowerFirst(param))
	}
	if !pathPattern.MatchString(v) {
		return "", errValidation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, v, lowerFirst(param))
	}
	return v, nil
}

// checkPathPrefix reads an optional PathPrefix (default "/").
func checkPathPrefix(p params) (string, *Error) {
	if !p.has("PathPrefix") {
		return "/", nil
	}
	v := p.str("PathPrefix")
	if len(v) > 512 || !pathPrefixPattern.MatchString(v) {
		return "", errValidation(`1 validation error detected: Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`, v)
	}
	return v, nil
}

// checkPolicyARN reads a required policy ARN parameter and checks its shape.
func checkPolicyARN(p params, param string) (string, *Error) {
	v, err := p.required(param)
	if err != nil {
		return "", err
	}
	if len(v) < 20 || len(v) > 2048 || !policyARNPattern.MatchString(v) {
		return "", errInvalidInput("ARN %s is not valid.", v)
	}
	return v, nil
}

// Size limits IAM applies to policy documents, whitespace not counted.
const (
	managedPolicyLimit    = 6144
	userInlineLimit       = 2048
	groupInlineLimit      = 5120
	roleInlineLimit       = 10240
	trustPolicyLimit      = 2048
	maxManagedPerIdentity = 10
)

// checkDocument validates a policy document parameter as IAM does when it is
// written: its JSON and grammar (MalformedPolicyDocument) and its size
// (LimitExceeded). kindName names the limit in the message.
func checkDocument(p params, param string, kind policy.Kind, limit int, kindName string) (string, *Error) {
	doc, err := p.required(param)
	if err != nil {
		return "", err
	}
	if len(doc) > 131072 {
		return "", errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 131072", lowerFirst(param))
	}
	if e := policy.CheckIAM(doc, kind); e != nil {
		return "", errMalformedPolicy("%s", e.Error())
	}
	if n := policy.Size(doc); n > limit {
		return "", errLimitExceeded("Cannot exceed quota for %s: %d", kindName, limit)
	}
	return doc, nil
}

// inPath reports whether an entity path falls under a PathPrefix.
func inPath(path, prefix string) bool { return strings.HasPrefix(path, prefix) }

package sandbox

import (
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/policy"
)

// IAM's patterns and limits for names, paths and ARNs are iamname's, shared
// with the catalogue; what is here is IAM's wording when one is not met.

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
	if !iamname.Name(v, maxLen) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", v, lowerFirst(param), iamname.NamePattern)
	}
	return nil
}

// checkPath reads an optional path parameter (default "/").
func checkPath(p params, param string) (string, *Error) {
	v := p.str(param)
	if !p.has(param) {
		return "/", nil
	}
	if len(v) < 1 || len(v) > iamname.PathMax {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 1 and %d", v, lowerFirst(param), iamname.PathMax)
	}
	if !iamname.Path(v) {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", v, lowerFirst(param), iamname.PathPattern)
	}
	return v, nil
}

// nameAndPath reads what every Create action starts with: the new entity's
// name (param, at most max characters) and its Path.
func nameAndPath(p params, param string, max int) (name, path string, err *Error) {
	if name, err = checkName(p, param, max); err != nil {
		return "", "", err
	}
	if path, err = checkPath(p, "Path"); err != nil {
		return "", "", err
	}
	return name, path, nil
}

// taggedNameAndPath is nameAndPath and then the Tags, for the kinds that
// are created with nothing else to check first.
func taggedNameAndPath(c *call, param string, max int) (name, path string, tags []Tag, err *Error) {
	if name, path, err = nameAndPath(c.params, param, max); err != nil {
		return "", "", nil, err
	}
	if tags, err = c.tags(); err != nil {
		return "", "", nil, err
	}
	return name, path, tags, nil
}

// checkPathPrefix reads an optional PathPrefix (default "/").
func checkPathPrefix(p params) (string, *Error) {
	if !p.has("PathPrefix") {
		return "/", nil
	}
	v := p.str("PathPrefix")
	if !iamname.PathPrefix(v) {
		return "", errValidation("1 validation error detected: Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", v, iamname.PathPrefixPattern)
	}
	return v, nil
}

// checkPolicyARN reads a required policy ARN parameter and checks its shape.
func checkPolicyARN(p params, param string) (string, *Error) {
	v, err := p.required(param)
	if err != nil {
		return "", err
	}
	if err := validPolicyARN(v); err != nil {
		return "", err
	}
	return v, nil
}

// validPolicyARN answers an ARN no managed policy can have as IAM does.
func validPolicyARN(v string) *Error {
	if !iamname.PolicyARN(v) {
		return errInvalidInput("ARN %s is not valid.", v)
	}
	return nil
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

package catalogue

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// IAM's documented patterns, checked before any AWS call so that a bad
// argument costs nothing and gets a sentence saying what IAM accepts. The
// patterns and limits of names, paths, ARNs and IAM's ids are iamname's,
// shared with the sandbox so that the two accept the same; the wording is
// this package's.
var (
	// jobIDPattern is IAM's jobIDType: exactly 36 characters (a UUID).
	jobIDPattern = regexp.MustCompile(`^[\x21-\x7E]{36}$`)
	// principalARN is a user's, group's or role's ARN (simulation.go
	// checks CallerArn with it).
	principalARN = matcher(iamname.PrincipalARN)
)

// matcher is a predicate of iamname where a *regexp.Regexp's MatchString
// is expected.
type matcher func(string) bool

func (m matcher) MatchString(s string) bool { return m(s) }

const nameChars = "letters, digits and +=,.@_-"

// rule checks one argument's value, returning what is wrong or "".
type rule func(v string) string

func nameRule(max int) rule {
	return func(v string) string {
		if !iamname.Name(v, max) {
			return fmt.Sprintf("must be 1-%d characters of %s", max, nameChars)
		}
		return ""
	}
}

// patternRule refuses what ok refuses, saying what the argument must be.
func patternRule(ok func(string) bool, what string) rule {
	return func(v string) string {
		if !ok(v) {
			return "must be " + what
		}
		return ""
	}
}

func maxLenRule(max int) rule {
	return func(v string) string {
		if utf8.RuneCountInString(v) > max {
			return fmt.Sprintf("must be at most %d characters", max)
		}
		return ""
	}
}

var pathWords = fmt.Sprintf("a path that starts and ends with / (e.g. /engineering/), of printable ASCII without spaces, at most %d characters", iamname.PathMax)

// entityARN is what service last accessed reports on: a user, group, role
// or managed policy (AWS's own included).
func entityARN(s string) bool { _, ok := iamname.ParseARN(s); return ok }

// accountOrRoot is SimulatePrincipalPolicy's ResourceOwner: an account id
// or that account's root ARN.
func accountOrRoot(s string) bool { return iamname.AccountID(s) || iamname.RootARN(s) }

// rules apply by argument name, so that every operation taking a user_name
// checks it the same way.
var rules = map[string]rule{
	"user_name":             nameRule(iamname.UserNameMax),
	"new_user_name":         nameRule(iamname.UserNameMax),
	"group_name":            nameRule(iamname.GroupNameMax),
	"role_name":             nameRule(iamname.RoleNameMax),
	"policy_name":           nameRule(iamname.PolicyNameMax),
	"instance_profile_name": nameRule(iamname.InstanceProfileNameMax),
	"path":                  patternRule(iamname.Path, pathWords),
	"new_path":              patternRule(iamname.Path, pathWords),
	"path_prefix":           patternRule(iamname.PathPrefix, fmt.Sprintf("a path prefix starting with / (e.g. /engineering/), at most %d characters", iamname.PathMax)),
	"policy_arn":            patternRule(iamname.PolicyARN, "a managed policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/MyPolicy"),
	"permissions_boundary":  patternRule(iamname.PolicyARN, "the ARN of a managed policy, e.g. arn:aws:iam::123456789012:policy/Boundary"),
	"policy_source_arn":     patternRule(iamname.PrincipalARN, "the ARN of an IAM user, group or role, e.g. arn:aws:iam::123456789012:user/alice"),
	"access_key_id":         patternRule(iamname.AccessKeyID, "an access key id such as AKIAIOSFODNN7EXAMPLE"),
	"version_id":            patternRule(iamname.VersionID, "a policy version id such as v2"),
	"serial_number":         patternRule(iamname.SerialNumber, "an MFA device serial number or ARN"),
	"description":           maxLenRule(1000),
	"account_id":            patternRule(iamname.AccountID, "a 12-digit AWS account id"),
	"resource_owner":        patternRule(accountOrRoot, "a 12-digit account ID or that account's root ARN, e.g. 111122223333 or arn:aws:iam::111122223333:root"),
	"arn":                   patternRule(entityARN, "the ARN of an IAM user, group, role or managed policy, e.g. arn:aws:iam::123456789012:role/deploy or arn:aws:iam::aws:policy/ReadOnlyAccess"),
	"job_id":                patternRule(jobIDPattern.MatchString, "the 36-character job_id that generate_service_last_accessed_details returned"),
	// IAM's maximum lengths for the remaining strings (passwordType,
	// ContextKeyNameType, ResourceNameType, ActionNameType, arnType), so
	// that no argument is longer than IAM would take. A marker is opaque:
	// IAM's are at most 320 characters, but a marker this server or the
	// sandbox composes (a sort key with a 512-character path) may be
	// longer, so it gets the ARN's bound.
	"marker":           maxLenRule(2048),
	"password":         maxLenRule(128),
	"context_key_name": maxLenRule(256),
	"caller_arn":       maxLenRule(2048),
	"principal_arn":    maxLenRule(2048),
	"resource":         maxLenRule(2048),
	"action":           maxLenRule(128),
}

// ranges bound integer arguments when they are given (0 means "default").
var ranges = map[string][2]int{
	"max_items":            {1, 1000},
	"max_session_duration": {3600, 43200},
}

// validate checks the decoded arguments of an operation: required
// arguments present, each argument matching IAM's rule for it, enums
// respected, nested lists checked the same way.
func validate(v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := validate(fv); err != nil {
				return err
			}
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		required := !strings.Contains(opts, "omitempty")
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		switch fv.Kind() {
		case reflect.String:
			s := fv.String()
			if s == "" {
				if required {
					return api.Errorf(api.InvalidInput, "argument %q is required", name)
				}
				continue
			}
			if r := rules[name]; r != nil {
				if msg := r(s); msg != "" {
					return api.Errorf(api.InvalidInput, "argument %q is %s: it %s", name, args.Quote(s), msg)
				}
			}
			if enum := f.Tag.Get("enum"); enum != "" && !contains(strings.Split(enum, ","), s) {
				return api.Errorf(api.InvalidInput, "argument %q is %s: it must be one of %s", name, args.Quote(s), strings.ReplaceAll(enum, ",", ", "))
			}
		case reflect.Int:
			n := int(fv.Int())
			if r, ok := ranges[name]; ok && n != 0 && (n < r[0] || n > r[1]) {
				return api.Errorf(api.InvalidInput, "argument %q is %d: it must be between %d and %d", name, n, r[0], r[1])
			}
		case reflect.Slice:
			if fv.Len() == 0 && required {
				return api.Errorf(api.InvalidInput, "argument %q is required and must not be empty", name)
			}
			if fv.Type().Elem().Kind() == reflect.Struct {
				for j := 0; j < fv.Len(); j++ {
					if err := validate(fv.Index(j)); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

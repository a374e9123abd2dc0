package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// PolicyDocument is an IAM policy document. Callers may send it as a JSON
// object or as a string holding JSON (assistants produce both); it is kept
// as the JSON text and always returned as an object.
type PolicyDocument json.RawMessage

// UnmarshalJSON accepts an object, or a string containing one. null
// leaves the document absent, as encoding/json does for other types (a
// required document is then reported missing, by name).
func (d *PolicyDocument) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	var probe map[string]any
	if err := json.Unmarshal(b, &probe); err != nil || probe == nil {
		return &json.UnmarshalTypeError{Value: PolicyDocumentValue, Type: reflect.TypeOf(probe)}
	}
	*d = append((*d)[:0], b...)
	return nil
}

// PolicyText is a policy document as the caller wrote it, right or wrong: a
// JSON object, or a string that may not even be JSON. validate_policy takes
// it, so that a broken document is answered with findings that say where
// it is broken rather than refused before it is looked at.
type PolicyText string

// UnmarshalJSON accepts a string as its text, or any other JSON value as
// the value's own text.
func (p *PolicyText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = PolicyText(s)
		return nil
	}
	// Invalid UTF-8 inside the value becomes U+FFFD, as encoding/json reads
	// it in a string: the text is then the same however often it is
	// encoded and read again (the audit record is its encoding).
	*p = PolicyText(strings.ToValidUTF8(string(b), "\uFFFD"))
	return nil
}

// PolicyDocumentValue marks the decoding error of a value that is not a
// policy document, so that callers can say so in plain words.
const PolicyDocumentValue = "policy document"

// MarshalJSON writes the document as the JSON object it is.
func (d PolicyDocument) MarshalJSON() ([]byte, error) {
	if len(d) == 0 {
		return []byte("null"), nil
	}
	return []byte(d), nil
}

// String is the document's JSON text, as IAM takes it.
func (d PolicyDocument) String() string { return string(d) }

// Page is the paging state every list returns: pass Marker back to go on.
type Page struct {
	IsTruncated bool   `json:"is_truncated" desc:"true when more items follow; call again with marker"`
	Marker      string `json:"marker,omitempty" desc:"pass as marker to get the next page"`
}

// PageInput is what every list accepts.
type PageInput struct {
	MaxItems int    `json:"max_items,omitempty" desc:"items per page, 1-1000 (default 100)" minimum:"1" maximum:"1000"`
	Marker   string `json:"marker,omitempty" desc:"the marker of the previous page, to continue"`
}

// Result is what every mutation returns besides its own fields.
type Result struct {
	Message  string   `json:"message,omitempty" desc:"what was done"`
	Warnings []string `json:"warnings,omitempty" desc:"risks worth telling the user about"`
}

// AddWarning appends a warning; every output that embeds Result has it.
func (r *Result) AddWarning(w string) { r.Warnings = append(r.Warnings, w) }

// User is an IAM user.
type User struct {
	UserName            string            `json:"user_name"`
	UserID              string            `json:"user_id"`
	Arn                 string            `json:"arn"`
	Path                string            `json:"path"`
	CreateDate          time.Time         `json:"create_date"`
	PasswordLastUsed    *time.Time        `json:"password_last_used,omitempty"`
	PermissionsBoundary string            `json:"permissions_boundary,omitempty" desc:"ARN of the permissions boundary policy"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// Group is an IAM group.
type Group struct {
	GroupName  string    `json:"group_name"`
	GroupID    string    `json:"group_id"`
	Arn        string    `json:"arn"`
	Path       string    `json:"path"`
	CreateDate time.Time `json:"create_date"`
}

// Role is an IAM role.
type Role struct {
	RoleName                 string            `json:"role_name"`
	RoleID                   string            `json:"role_id"`
	Arn                      string            `json:"arn"`
	Path                     string            `json:"path"`
	CreateDate               time.Time         `json:"create_date"`
	Description              string            `json:"description,omitempty"`
	MaxSessionDuration       int               `json:"max_session_duration,omitempty" desc:"seconds"`
	AssumeRolePolicyDocument PolicyDocument    `json:"assume_role_policy_document,omitempty" desc:"the trust policy"`
	PermissionsBoundary      string            `json:"permissions_boundary,omitempty"`
	Tags                     map[string]string `json:"tags,omitempty"`
	LastUsedDate             *time.Time        `json:"last_used_date,omitempty"`
	LastUsedRegion           string            `json:"last_used_region,omitempty"`
}

// ManagedPolicy is an AWS managed or customer managed policy.
type ManagedPolicy struct {
	PolicyName                    string     `json:"policy_name"`
	PolicyID                      string     `json:"policy_id"`
	Arn                           string     `json:"arn"`
	Path                          string     `json:"path"`
	DefaultVersionID              string     `json:"default_version_id"`
	AttachmentCount               int        `json:"attachment_count"`
	PermissionsBoundaryUsageCount int        `json:"permissions_boundary_usage_count"`
	IsAttachable                  bool       `json:"is_attachable"`
	Description                   string     `json:"description,omitempty"`
	CreateDate                    time.Time  `json:"create_date"`
	UpdateDate                    *time.Time `json:"update_date,omitempty"`
}

// AttachedPolicy names a managed policy attached to a principal.
type AttachedPolicy struct {
	PolicyName string `json:"policy_name"`
	PolicyArn  string `json:"policy_arn"`
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID        string         `json:"version_id"`
	IsDefaultVersion bool           `json:"is_default_version"`
	CreateDate       time.Time      `json:"create_date"`
	Document         PolicyDocument `json:"document,omitempty"`
}

// AccessKey describes an access key; the secret is never part of it.
type AccessKey struct {
	UserName    string    `json:"user_name"`
	AccessKeyID string    `json:"access_key_id"`
	Status      string    `json:"status" enum:"Active,Inactive"`
	CreateDate  time.Time `json:"create_date"`
}

// InstanceProfile is an EC2 instance profile and its role.
type InstanceProfile struct {
	InstanceProfileName string    `json:"instance_profile_name"`
	InstanceProfileID   string    `json:"instance_profile_id"`
	Arn                 string    `json:"arn"`
	Path                string    `json:"path"`
	CreateDate          time.Time `json:"create_date"`
	Roles               []string  `json:"roles" desc:"names of the roles in the profile (at most one)"`
}

// MFADevice is an MFA device enabled for a user.
type MFADevice struct {
	UserName     string    `json:"user_name"`
	SerialNumber string    `json:"serial_number"`
	EnableDate   time.Time `json:"enable_date"`
}

// LoginProfile is a user's console password setting (never the password).
type LoginProfile struct {
	UserName              string    `json:"user_name"`
	CreateDate            time.Time `json:"create_date"`
	PasswordResetRequired bool      `json:"password_reset_required"`
}

// ContextEntry is a condition key and its values for simulation.
type ContextEntry struct {
	ContextKeyName   string   `json:"context_key_name" desc:"e.g. aws:SourceIp"`
	ContextKeyValues []string `json:"context_key_values"`
	ContextKeyType   string   `json:"context_key_type,omitempty" desc:"IAM's type name; default string" enum:"string,stringList,numeric,numericList,boolean,booleanList,ip,ipList,binary,binaryList,date,dateList"`
}

// ContextEntries are the condition keys and values of a simulation, in
// either of two shapes on input:
//
//   - IAM's own: a list of ContextEntry, as always;
//   - the upstream server's: an object of condition key → value, where a
//     value is a string (IAM type string), a number (numeric), true or
//     false (boolean), or a list of strings (stringList).
//
// The object shape is read as strictly as the rest of the arguments:
// keys spelled as given and given once (condition keys are
// case-insensitive in IAM, so "aws:SourceIp" and "aws:sourceip" together
// are one key given twice), each a condition key with its service prefix
// — which also catches a single ContextEntry sent without its list, whose
// keys would otherwise be read as condition keys. Either shape becomes the
// list; it is always written as the list.
type ContextEntries []ContextEntry

// UnmarshalJSON reads either shape (see ContextEntries). Each list entry's
// keys are checked here — a type that decodes itself is not walked by the
// host's strict decoder — and its values are then read by encoding/json,
// as before there were two shapes.
func (e *ContextEntries) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case nil:
		*e = nil
		return nil
	case json.Delim('['):
		if err := checkEntryKeys(dec); err != nil {
			return err
		}
		var list []ContextEntry
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&list); err != nil {
			return err
		}
		*e = list
		return nil
	case json.Delim('{'):
		list, err := readContextObject(dec)
		if err != nil {
			return err
		}
		*e = list
		return nil
	}
	return contextError(" must be a list of {context_key_name, context_key_values, context_key_type} or an object of condition key → value, e.g. {\"aws:SourceIp\": \"203.0.113.7\"}")
}

// contextKeys are ContextEntry's JSON names, the only keys of an entry.
var contextKeys = map[string]bool{"context_key_name": true, "context_key_values": true, "context_key_type": true}

// checkEntryKeys walks the list shape after its '[': every entry that is
// an object has only ContextEntry's keys, spelled exactly, each once.
// Values, and entries that are not objects, are left to encoding/json,
// whose type errors name the argument.
func checkEntryKeys(dec *json.Decoder) error {
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok != json.Delim('{') {
			if err := skipOpened(dec, tok); err != nil {
				return err
			}
			continue
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			switch {
			case !contextKeys[key]:
				return contextError(fmt.Sprintf("[%d] has the unknown key %s; an entry has context_key_name, context_key_values and context_key_type, spelled exactly so", i, quoteShort(key)))
			case seen[key]:
				return contextError(fmt.Sprintf("[%d] gives %s twice; give each key once", i, key))
			}
			seen[key] = true
			if err := skipValue(dec); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return err
		}
	}
	_, err := dec.Token() // ']'
	return err
}

// readContextObject reads the object shape after its '{'.
func readContextObject(dec *json.Decoder) ([]ContextEntry, error) {
	out := []ContextEntry{}
	seen := map[string]string{} // lower case → as given
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		service, name, ok := strings.Cut(key, ":")
		switch {
		case contextKeys[key]:
			return nil, contextError(fmt.Sprintf(" has the key %s, which is not a condition key: to give entries with context_key_name, context_key_values and context_key_type, send a list of them", key))
		case !ok || service == "" || name == "":
			return nil, contextError(fmt.Sprintf(" has the key %s, which is not a condition key: a key names its service first, e.g. aws:SourceIp or s3:prefix", quoteShort(key)))
		}
		low := strings.ToLower(key)
		if prev, dup := seen[low]; dup {
			if prev == key {
				return nil, contextError(fmt.Sprintf(" gives the key %s twice; give each condition key once", quoteShort(key)))
			}
			return nil, contextError(fmt.Sprintf(" gives the condition key %s twice, also as %s (IAM reads condition keys without regard to case); give it once", quoteShort(prev), quoteShort(key)))
		}
		seen[low] = key
		entry, err := readContextValue(dec, key)
		if err != nil {
			return nil, err
		}
		out = append(out, entry)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, err
	}
	return out, nil
}

// readContextValue reads one value of the object shape as an entry of
// IAM's type for it.
func readContextValue(dec *json.Decoder, key string) (ContextEntry, error) {
	e := ContextEntry{ContextKeyName: key}
	bad := func(what string) (ContextEntry, error) {
		return e, contextError(fmt.Sprintf(" gives %s %s; a value is a string, a number, true or false, or a list of strings", quoteShort(key), what))
	}
	tok, err := dec.Token()
	if err != nil {
		return e, err
	}
	switch v := tok.(type) {
	case string:
		e.ContextKeyType, e.ContextKeyValues = "string", []string{v}
	case json.Number:
		e.ContextKeyType, e.ContextKeyValues = "numeric", []string{v.String()}
	case bool:
		e.ContextKeyType, e.ContextKeyValues = "boolean", []string{strconv.FormatBool(v)}
	case nil:
		return bad("null (leave a key out to give it no value)")
	case json.Delim:
		if v != '[' {
			return bad("an object")
		}
		e.ContextKeyType, e.ContextKeyValues = "stringList", []string{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return e, err
			}
			s, ok := t.(string)
			if !ok {
				return bad("a list holding something other than strings")
			}
			e.ContextKeyValues = append(e.ContextKeyValues, s)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return e, err
		}
		if len(e.ContextKeyValues) == 0 {
			return bad("an empty list (leave a key out to give it no value)")
		}
	}
	return e, nil
}

// skipValue reads one whole value; skipOpened finishes one whose first
// token was tok. The host has bounded the nesting before this runs.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	return skipOpened(dec, tok)
}

func skipOpened(dec *json.Decoder, tok json.Token) error {
	if d, ok := tok.(json.Delim); !ok || (d != '[' && d != '{') {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
	return nil
}

// contextError is a refusal of context_entries, named so ("context_entries"
// + what, which starts with a space or an index): the host words it after
// "the arguments could not be read: ".
func contextError(what string) error { return errors.New("context_entries" + what) }

// quoteShort quotes a key from outside for a message, showing at most
// about 40 characters of it: a message must not echo a megabyte back.
func quoteShort(s string) string {
	const max = 40
	var b strings.Builder
	n := 0
	for _, r := range s {
		q := strconv.Quote(string(r))
		q = q[1 : len(q)-1]
		if n+len(q) > max {
			return `"` + b.String() + fmt.Sprintf(`"… (%d bytes in all)`, len(s))
		}
		b.WriteString(q)
		n += len(q)
	}
	return `"` + b.String() + `"`
}

// JSONSchema publishes both shapes of ContextEntries: a list of entries,
// or an object of condition key → value.
func (ContextEntries) JSONSchema() Schema {
	return Schema{
		"type":          []string{"array", "object"},
		"items":         SchemaOf(ContextEntry{}),
		"propertyNames": Schema{"pattern": "^[^:]+:.+$", "maxLength": 256},
		"additionalProperties": Schema{
			"type":     []string{"string", "number", "boolean", "array"},
			"items":    Schema{"type": "string"},
			"minItems": 1,
		},
		"description": "a list of {context_key_name, context_key_values, context_key_type}, or an object of condition key → value: a string, a number, true or false, or a list of strings, e.g. {\"aws:SourceIp\": \"203.0.113.7\", \"aws:MultiFactorAuthPresent\": true}",
	}
}

// MatchedStatement is a statement that decided a simulation.
type MatchedStatement struct {
	SourcePolicyID   string `json:"source_policy_id"`
	SourcePolicyType string `json:"source_policy_type"`
	// Effect and Sid come from local evaluation (simulate_custom_policy);
	// IAM's simulator does not report them.
	Effect      string `json:"effect,omitempty" enum:"Allow,Deny"`
	Sid         string `json:"sid,omitempty"`
	StartLine   int    `json:"start_line"`
	StartColumn int    `json:"start_column"`
	EndLine     int    `json:"end_line"`
	EndColumn   int    `json:"end_column"`
}

// EvaluationResult is the decision for one action on one resource.
type EvaluationResult struct {
	ActionName                   string             `json:"action_name"`
	ResourceName                 string             `json:"resource_name"`
	Decision                     string             `json:"decision" enum:"allowed,explicitDeny,implicitDeny"`
	MatchedStatements            []MatchedStatement `json:"matched_statements"`
	MissingContextValues         []string           `json:"missing_context_values"`
	AllowedByPermissionsBoundary *bool              `json:"allowed_by_permissions_boundary,omitempty"`
	// Reason comes from local evaluation: which statement or missing grant
	// decided, in words. IAM's simulator does not report one.
	Reason string `json:"reason,omitempty"`
}

// DeleteStep is one thing a force delete removed, in order.
type DeleteStep struct {
	Action string `json:"action" desc:"the IAM action run, e.g. DeleteAccessKey"`
	Target string `json:"target" desc:"what it removed"`
}

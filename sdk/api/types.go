package api

import (
	"bytes"
	"encoding/json"
	"reflect"
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

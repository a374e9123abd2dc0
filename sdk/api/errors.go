package api

import "fmt"

// ErrorCode is a stable, machine-readable error class. Codes never change
// meaning; new ones may be added.
type ErrorCode string

// The error codes every caller (assistant, plugin, command line) may see.
const (
	// InvalidInput: an argument is missing, of the wrong type, or does not
	// match IAM's rules (name and path patterns, ARNs, ranges).
	InvalidInput ErrorCode = "InvalidInput"
	// NoSuchEntity: the user, group, role, policy or key does not exist.
	NoSuchEntity ErrorCode = "NoSuchEntity"
	// EntityAlreadyExists: a name is taken (IAM names are case-insensitive).
	EntityAlreadyExists ErrorCode = "EntityAlreadyExists"
	// DeleteConflict: something still depends on the entity.
	DeleteConflict ErrorCode = "DeleteConflict"
	// LimitExceeded: an IAM quota would be exceeded.
	LimitExceeded ErrorCode = "LimitExceeded"
	// MalformedPolicyDocument: IAM refused a policy document's grammar.
	MalformedPolicyDocument ErrorCode = "MalformedPolicyDocument"
	// RiskyPolicy: the write guardrails refused a policy that is
	// admin-equivalent, escalates privileges on every resource, or lets
	// anyone (or another account, unconditionally) assume a role. Nothing
	// was written. The operator can allow such writes with
	// --allow-risky-policies.
	RiskyPolicy ErrorCode = "RiskyPolicy"
	// AccessDenied: the server's AWS credentials lack a permission.
	AccessDenied ErrorCode = "AccessDenied"
	// Throttled: IAM kept throttling after the SDK's retries.
	Throttled ErrorCode = "Throttled"
	// CredentialsError: no usable AWS credentials were found.
	CredentialsError ErrorCode = "CredentialsError"
	// ServiceFailure: IAM failed or could not be reached.
	ServiceFailure ErrorCode = "ServiceFailure"
	// ReadOnly: the server runs with --readonly and the operation mutates.
	ReadOnly ErrorCode = "ReadOnly"
	// NotGranted: a plugin called an operation its operator did not grant.
	NotGranted ErrorCode = "NotGranted"
	// Excluded: the operator took the operation out of this server
	// (--exclude-tools), for every caller, plugins included.
	Excluded ErrorCode = "Excluded"
	// Declined: the person asked to approve a change said no, or closed the
	// question without answering. Nothing was changed.
	Declined ErrorCode = "Declined"
	// ConsentRequired: the change needs a person's yes (--confirm) and
	// nobody can be asked: the client cannot elicit, or the command line
	// has no terminal. Nothing was changed; the message names the flag
	// that lets it run without asking.
	ConsentRequired ErrorCode = "ConsentRequired"
	// WrongAccount: the credentials belong to another account than
	// --expect-account names.
	WrongAccount ErrorCode = "WrongAccount"
	// AccountNotAllowed: the call names an account the operator did not
	// list (the accounts file), or one the plugin was not allowed; nothing
	// was called. get_account_info lists the accounts this server reaches.
	AccountNotAllowed ErrorCode = "AccountNotAllowed"
	// Unavailable: the server lacks what the request needs — no secrets
	// directory, or a key file there it refuses to use — and retrying as
	// is fails again; the message says what the operator must fix.
	Unavailable ErrorCode = "Unavailable"
	// Internal: a bug; the message says what to report.
	Internal ErrorCode = "Internal"
)

// Error is an operation's failure as every caller sees it: a code and a
// sentence saying what went wrong and what to do.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an *Error.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Package policy is the project's IAM policy engine: it reads IAM policy
// documents, checks them the way IAM does when a policy is written, and
// evaluates them the way AWS decides a request.
//
// It has three jobs, one per caller:
//
//   - Parse turns policy JSON into a Document, normalising every shape IAM
//     accepts and recording where each statement sits in the text
//     (SimulatePrincipalPolicy reports StartPosition/EndPosition).
//   - CheckIAM (and CheckManagedPolicy) answer what IAM answers when a policy
//     is written: nil, or a *MalformedError carrying IAM's own
//     MalformedPolicyDocument message. Size counts characters the way IAM's
//     quotas do. The embedded IAM sandbox (host/localiam) returns these
//     unchanged, so a client cannot tell the sandbox's refusals from AWS's.
//   - Evaluate decides a request (principal, action, resource, context)
//     against the policies AWS evaluates for it — identity-based policies,
//     permissions boundary, session policies, service control policies and
//     the resource's own policy — and says which statements matched, which
//     context keys were missing, and in words why it decided as it did: the
//     answer of SimulatePrincipalPolicy and SimulateCustomPolicy, and of
//     explaining access.
//
// The package uses only the standard library and imports nothing from the
// host or the AWS SDK, so it also builds for GOOS=wasip1 GOARCH=wasm and can
// be shared with plugins.
//
// # Condition operators
//
// Evaluate supports these operators, each also with the IfExists suffix and
// the ForAnyValue: and ForAllValues: set prefixes:
//
//   - String: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
//     StringNotEqualsIgnoreCase, StringLike, StringNotLike (* and ? wildcards).
//   - Numeric: NumericEquals, NumericNotEquals, NumericLessThan,
//     NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals.
//   - Date: DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals,
//     DateGreaterThan, DateGreaterThanEquals (ISO 8601 / RFC 3339 dates and
//     date-times, or epoch seconds).
//   - Bool, BinaryEquals (base64), IpAddress and NotIpAddress (CIDR blocks or
//     single addresses, IPv4 and IPv6).
//   - ArnEquals, ArnLike, ArnNotEquals, ArnNotLike (each of the six ARN parts
//     matched on its own, with wildcards).
//   - Null (tests whether a key is present).
//
// Semantics, as AWS documents them: all operators of a statement, and all
// keys under an operator, must match (AND); the values listed for one key are
// alternatives (OR). Condition key names are case-insensitive. When the
// request lacks a key, a positive operator is false and a negated one
// (StringNotEquals, NotIpAddress, …) is true; …IfExists is true; ForAllValues
// is true and ForAnyValue false, even with …IfExists (ForAnyValue asks for at
// least one value, and an absent key has none). A value of the wrong type (a date operator
// given "tomorrow") makes the condition false.
//
// An operator not in that list makes its statement never match. That is a
// security property, not a gap: guessing what an unknown operator means could
// only widen an Allow. The operators live in one table (conditionOperators);
// adding one is one entry there.
//
// # What is not here yet
//
// Validate reports findings modelled on Access Analyzer's (ERROR,
// SECURITY_WARNING, WARNING, SUGGESTION) against AWS's action catalogue in
// iamdata; AdminEquivalent, SensitiveActionsOnStar and TrustRisks answer the
// questions guardrails ask. None is wired into the server's writes yet. In
// evaluation, SCPs are one flat set (not one per OU level), resource
// control policies and VPC endpoint policies are not modelled, and a
// resource policy's "*" principal is treated like a role ARN (limited by the
// boundary and session policy), the conservative reading where AWS's
// documentation is silent.
package policy

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
//     quotas do. The embedded IAM sandbox (host/sandbox) returns these
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
// host or the AWS SDK, so it also builds for GOOS=wasip1 GOARCH=wasm: the
// server (host/catalogue's guardrails and offline tools, the sandbox's
// simulation) and the plugins (the access review's escalation graph) share
// one engine, which is why it lives at the top of the module and not under
// host/. internal/layers' test holds it to that.
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
// # The guardrail decision rule
//
// The write guardrails, validate_policy and the access review ask one
// question of a policy: what does it let a principal do that a guardrail
// exists to stop? Risks, AdminEquivalent and TrustRisks answer it by
// evaluation, with Evaluate (the engine simulate_custom_policy uses), never
// by how the policy is spelled:
//
//  1. Requests that matter. A policy is asked about concrete requests: every
//     IAM action on a resource of each of its resource types, and the
//     escalation actions (iam:PassRole, iam:AttachUserPolicy,
//     iam:CreatePolicyVersion, sts:AssumeRole … the table rEscalations) on
//     an arbitrary user, role, group or policy of the account, with and
//     without an IAM path, and, for the actions that change the caller's own
//     permissions, on the caller's own user or role (so user/${aws:username}
//     counts). The principal making them is a user or a role session of the
//     account, with and without a path; for a trust policy, a principal of
//     another account or a token of a public identity provider minted by
//     someone else. Their names are drawn from a secret made when the
//     process starts and from the documents judged, and never shown, so
//     that a Deny naming exactly them cannot be written in advance, while
//     the same documents always get the same answer. A
//     wildcard or pattern ("arn:aws:iam::*:*", "role/*", "arn:aws:*:*:*:*",
//     NotResource, "IAM:Put*Policy", NotAction) counts exactly as far as it
//     matches those requests; a policy variable the requester writes itself
//     (${aws:UserAgent}) matches whatever the attacker wants.
//  2. Conditions. A Condition block restricts a grant only when a request
//     the attacker can make makes it false: aws:CurrentTime is now,
//     aws:PrincipalArn is the attacker's, aws:SourceIp is any address,
//     values the requester sets itself are what it likes, keys the request
//     cannot carry are absent; an external id, an organisation, tags and MFA
//     are what it does not have (riskcond.go says it key by key). An Allow
//     whose condition can be met is read as unconditional, one whose
//     condition can fail is left out; a Deny counts only when its condition
//     always holds.
//  3. Decision. The policies (within the principal's permissions boundary,
//     when one is given) are evaluated for those requests.
//     Admin-equivalent: every IAM action is allowed on every kind of IAM
//     resource, or a NotAction leaves an IAM write open on every resource.
//     Escalation: an escalation action is allowed on an arbitrary target,
//     or on the principal itself. Trust exposure: a principal of another
//     account, a principal of any account ("*"), or a token of a public
//     identity provider that anyone can obtain (GitHub Actions, GitLab,
//     Terraform Cloud, Cognito, Google, Facebook, Amazon) may assume the
//     role.
//
// What the rule leaves alone, on purpose: grants on named resources or
// prefixes (PassRole to one role, CreateAccessKey on the caller's own user,
// policies under one path), grants whose conditions name what the attacker
// lacks (iam:PassedToService, iam:PolicyARN, aws:PrincipalOrgID,
// sts:ExternalId, aws:MultiFactorAuthPresent true, aws:SourceIp in a
// range), read-only and data actions (they raise nothing;
// SensitiveActionsOnStar lists them), and the compute actions that need a
// role to pass.
//
// # What is not here yet
//
// Validate reports findings modelled on Access Analyzer's (ERROR,
// SECURITY_WARNING, WARNING, SUGGESTION) against AWS's action reference in
// iamdata, the guardrail decision rule's among them; the server's writes
// refuse on them (host/catalogue/guardrails.go). In evaluation, SCPs are
// one flat set (not one per OU level), resource control policies and VPC endpoint policies are not modelled, and a
// resource policy's "*" principal is treated like a role ARN (limited by the
// boundary and session policy), the conservative reading where AWS's
// documentation is silent.
package policy

// Package sandbox is an embedded AWS IAM service: an in-memory account that
// speaks the IAM Query protocol over HTTP exactly as IAM does, so that the real
// AWS SDK client (or the AWS CLI) talks to it with nothing but an endpoint
// override. It may also be an AWS Organization (org.go): a management
// account and member accounts, each a full IAM account with its own id,
// with STS AssumeRole between them (sts.go) and the read side of AWS
// Organizations (organizations.go), so that a cross-account workflow runs
// against it as against AWS.
//
// It exists so that the whole product — the MCP server, the plugins, their tests
// and benchmarks — runs without an AWS account, while every code path that
// matters against real IAM (request signing, form serialisation, XML decoding,
// pagination markers, error codes and HTTP statuses) is still exercised for
// real. Fidelity to IAM is the point: validation rules, quotas, name
// uniqueness, DeleteConflict rules and document encodings follow IAM's
// documented behaviour.
//
// Lifecycle of a request:
//
//  1. ServeHTTP caps the body, parses the form and picks the action
//     (Action=…, Version=2010-05-08; STS GetCallerIdentity and AssumeRole
//     with 2011-06-15). A POST with X-Amz-Target is an Organizations
//     request instead (JSON, organizations.go).
//  2. The signing access key id is read from the SigV4 Authorization header
//     (the signature is not checked).
//  3. Injected faults (latency, throttling, 500s) are applied, if configured.
//     The request is routed to the account holding its key (org.go): a
//     user's or root's key to its account, a role session's key to the
//     session's account (its X-Amz-Security-Token must match, and it must
//     not have expired on the sandbox's clock), any other key to the
//     management account's root. Sessions live in memory only: after a
//     restart their keys are refused, as AWS refuses keys it does not know.
//  4. Under the account lock — a read lock for reads, the write lock for
//     mutations and for the reads that generate reports (credential report,
//     service last accessed) — a request signed by an Inactive or deleted
//     key of the account is refused as IAM refuses it (keyauth.go); for one
//     of the account's keys, the key's last use and the service and action
//     its user used (for service last accessed) are recorded; the action's
//     handler runs.
//  5. After a successful mutation the account is persisted, if a state file
//     is configured (temp file + rename, so a crash never leaves half a file).
//     What reads record is saved too (persist.go): keys' last use at most
//     once a second while requests come, generated reports with the next
//     write, and all of it by Close.
//  6. The result is written as IAM's XML, or an ErrorResponse with IAM's code
//     and HTTP status.
package sandbox

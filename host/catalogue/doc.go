// Package catalogue is the operation catalogue: every IAM operation the server
// offers, implemented once on the AWS SDK for Go v2 against the definitions
// in sdk/api (name, types, Mutates, Destructive).
//
// One implementation serves every caller — the MCP tool of the same name,
// the iam_call host function plugins use, and `iam-mcp-server call` — and
// every caller reaches it through host/gate, never directly. The catalogue
// does not know who calls it or in which mode the server runs; it decodes
// and validates arguments, calls IAM, and answers with api types or an
// *api.Error whose message says what went wrong and what to do.
//
// Lifecycle of a call:
//
//  1. Call looks the operation up; an unknown name is InvalidInput.
//  2. The JSON arguments are decoded strictly into the operation's input
//     type (unknown fields, wrong types and missing required fields are
//     InvalidInput) and checked against IAM's name, path and ARN patterns
//     before any AWS call.
//  3. The implementation calls IAM through the SDK client.
//  4. AWS errors become *api.Error with a stable code and a sentence.
package catalogue

// Package api is the contract shared by the host and by plugins: the names
// of the catalogue's operations, their metadata (toolset, IAM actions,
// Mutates, Destructive), their input and output types, and the error codes
// every caller sees.
//
// It has no build tag and imports nothing from AWS or the host, so that the
// server (host/catalogue, host/gate, host/mcpserver) and the guest-side plugin SDK
// (sdk/, built for GOOS=wasip1) compile the very same definitions and can
// never drift. It is the wazero `api` package's pattern: a small,
// dependency-free vocabulary both sides import.
//
// JSON field names are snake_case throughout; dates are RFC 3339; policy
// documents travel as JSON objects (see PolicyDocument).
package api

// Package api is the contract shared by the host and by plugins: the names
// of the catalogue's operations, whether each mutates, is destructive, is
// idempotent or runs offline, their input and output types, the error
// codes every caller sees, and the host functions and exports of a plugin.
//
// It holds nothing else, since all of it is compiled into every plugin: the
// descriptions written for the assistant, the IAM actions the server needs
// and the toolsets are the server's (host/catalogue), so that rewording a
// tool changes no plugin's bytes and no sha256 an operator pinned. Nor does
// it export a variable: the catalogue is read through All, Lookup and Names,
// which no importer can change.
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

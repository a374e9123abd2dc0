// Package hostiamtest runs a plugin's workflow in an ordinary `go test`,
// against the real server: the way net/http/httptest sits beside net/http,
// it sits beside package hostiam for plugin authors, in this repository or
// in a module of their own.
//
// Natively, New gives a workflow a hostiam.Client over the server's real
// gate and catalogue on the embedded IAM sandbox (package host/sandbox,
// which speaks IAM's wire protocol to the real AWS SDK): the plugin's
// grants (deny by default), the server's read-only mode and --confirm
// level, a person who answers the questions (Person), injected latency and
// IAM's throttling (Options.Latency, Options.Throttle), and call counts per
// operation (Client.Ops, Recorder). Plans stated through Consent are
// approved, matched and refused by the runtime's own code (plugin.Consent).
//
// As Wasm, BuildWasm builds the plugin's main package exactly as `make
// plugins` (and the Makefile `iam-mcp-server plugins new` writes) builds
// it, so the sha256 it returns is the one an operator pins, and LoadWasm
// loads it into the server's real plugin runtime (plugin.Runtime) over the
// same kind of gate; CallTool runs one of its tools as an MCP client would
// and decodes the structured result. The same workflow, the same sandbox,
// the same counts: a test can hold the Wasm build to the native answer.
//
// On an AWS Organization — Options.Seed "org" (sandbox's org seed: the
// management account 123456789012, the server's own, and the members
// shared 222222222222, dev 333333333333 and prod 444444444444, with
// cross-account problems planted), or an existing Sandbox with members —
// the host is the server under --sandbox --sandbox-seed org: its clients
// sign as the management account's operator (sandbox.OrgOperatorKeyID),
// and the gate reaches every member by discovery through its
// sandbox.OrgAccessRoleName role (host/accounts, a real STS AssumeRole on
// the sandbox), each with the server's mode. Info lists the accounts
// (HostInfo.Accounts); a request runs in the account it names
// (hostiam.Request.Account, hostiam.In), through a role session that the
// audit record (Recorder) names; Options.Accounts restricts the plugin as
// the plugins file's accounts key does. LoadWasm on such a sandbox does
// the same for the Wasm build (plugin.Spec.Accounts restricts it):
//
//	h := hostiamtest.New(t, hostiamtest.Options{Seed: "org", Plugin: "review", Grants: workflow.Operations()})
//	res, err := workflow.Run(hostiam.In(h, sandbox.OrgDevID), workflow.Input{})
//
// A typical workflow test (see the package example):
//
//	h := hostiamtest.New(t, hostiamtest.Options{Seed: "demo", Plugin: "my-plugin", Grants: workflow.Operations()})
//	res, err := workflow.Run(h, workflow.Input{})
//	// check res; h.Ops()["list_users"] is how many list_users it made
//
// This is the one package under sdk/ that imports the server (host/...):
// import it from tests only, never from a plugin's code, which builds for
// wasip1.
package hostiamtest

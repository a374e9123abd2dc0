//go:build wasip1

// Package sdk is the guest-side Go SDK for iam-mcp-server plugins: a plugin
// author writes ordinary Go — tools with typed inputs, typed IAM calls — and
// the SDK speaks the plugin contract (docs/plugins.md) on its behalf.
//
// A plugin is a Go main package built as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o my-plugin.wasm .
//
// Every file of a plugin, like every file of this package, carries
// //go:build wasip1: the SDK imports the Extism PDK, which exists only for
// Wasm, and the build tag keeps `go vet ./...` and `go test ./...` on the
// host's platform from tripping over it.
//
// # Lifecycle
//
// The host (host/plugin) drives a plugin through these steps, and the SDK
// answers each one:
//
//  1. Instantiation. The host instantiates the module and calls the WASI
//     reactor's _initialize, which runs the Go runtime's start-up and every
//     package's init functions. The plugin's init calls [Plugin] once and
//     [Tool] (or [TypedTool]) once per tool; that fills the SDK's table of
//     tools. main is never called in a reactor, so it stays empty. Host
//     functions are not available yet: do not call IAM, [Log], [Config] or
//     [HostInfo] from init.
//  2. describe. The SDK owns the `describe` export. It returns the plugin's
//     name, version, description and tools — each with the JSON Schema
//     derived from its input type and the catalogue operations it declared —
//     or fails with the first mistake made while registering (a duplicate
//     tool, an unknown operation, an input type that is not a struct), so that
//     a broken plugin is refused at load time, naming the mistake.
//  3. call. The SDK owns the `call` export. It finds the tool by its
//     unprefixed name, decodes and checks the arguments against the input
//     type, runs the handler, and turns what the handler returns into an MCP
//     result: a JSON object becomes structured content and the same JSON as
//     text; an error becomes a result with is_error set and the error's
//     message, which the assistant reads. A handler that panics fails the
//     call with an Extism error naming the tool, and the host replaces the
//     instance.
//  4. Host functions, during a call. The handler calls IAM through [Call],
//     the generated wrappers ([ListUsers], [GetUser], …) and [Batch] /
//     [BatchOf]; reports progress through [Context.Progress]; logs through
//     [Log]; reads its configuration with [Config] and the server's state with
//     [HostInfo]. Each is one host function call over Extism memory; the host
//     runs every IAM request through the same gate as the built-in tools, so
//     a request the operator did not grant fails with api.NotGranted and a
//     mutation on a read-only server with api.ReadOnly. A step that
//     changes IAM states its changes first with [Consent], so that the
//     person is asked once for the whole step (for the changes the
//     operator's --confirm level covers) and the host then lets run exactly
//     the calls approved; a tool call may be run again from the start after
//     the person answers, so a step states the same plan each time. State
//     the plugin keeps outside the server (a tag) carries the server's
//     [Seal], checked when read back; the secret file of a key created on
//     the plugin's behalf goes with [RemoveSecretFile] once the key has
//     been used.
//
// An instance serves one call at a time and may serve many calls over its
// life, so package-level state survives from one call to the next; do not
// rely on it, because the host may replace an instance at any time.
//
// # Errors
//
// Every error the SDK returns from an IAM call is an *api.Error, so that a
// plugin can act on its code:
//
//	var apiErr *api.Error
//	if errors.As(err, &apiErr) && apiErr.Code == api.NoSuchEntity { … }
//
// # What a plugin cannot do
//
// A plugin has no files, no environment variables, no network and no AWS
// credentials; its memory and its time per call are capped, and so are the
// IAM calls and mutations it makes per tool call. Only the operator's plugins
// file decides which operations it may call. See docs/plugins.md.
package sdk

//go:generate env GOOS= GOARCH= go run ./internal/gen -o ops_gen.go

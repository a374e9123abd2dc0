// Package plugin is the WebAssembly plugin runtime: it loads the plugins
// the operator's plugins file lists, verifies each module's sha256, lists
// its tools from the cached answer of its describe (describecache.go; on a
// cold cache it compiles and asks), and on first use makes the module
// interruptible (host/plugin/interrupt), compiles it once (wazero, through
// Extism, with an on-disk compilation cache) and runs its calls in pooled,
// sandboxed instances.
//
// The contract with plugins (sdk/api/plugin.go, docs/plugins.md): a
// plugin exports describe and call, and imports from api.HostModule the
// host functions iam_call, iam_batch, progress, host_info, consent,
// state_seal and secret_file_remove; iam_call and iam_batch also from
// api.HostDirectModule, straight into the plugin's memory (direct.go).
// Every IAM call a plugin makes goes through the gate (host/gate) as a
// plugin caller with the operator's grants and allowed accounts (the
// plugins file's accounts, resolved to ids at Load: accounts.go), in the
// account the request names, which the gate resolves and checks; the
// runtime adds the per-call caps of the plugins file, and never hands a
// plugin a secret. A plugin
// states the changes of a step before it makes them (consent, see
// consent.go): the person is asked once, and only the exact calls approved
// (operation, account and input) then run without another question. State a plugin keeps outside the
// server is sealed with a key of the server's it never sees (state_seal,
// seal.go), and the secret file of a key created on its behalf is removed
// once IAM shows the key used (secret_file_remove, secretfile.go). What a
// plugin hands
// the host is bounded before it costs the host anything: inputs by their
// length before they are read, batches by their count before they are
// decoded, answers as they are made, progress reports and log lines by
// token buckets; every input is decoded with the contract's exact keys
// (internal/strictjson), and every refusal the runtime decides itself is
// audited through the gate (gate.RefusedIn, naming the account asked).
//
// The sandbox: no filesystem, no environment, no arguments, no network
// (no allowed hosts, so Extism refuses every HTTP request), stdout and
// stderr to the host's log only; real clocks and a real sleep that the
// call's end interrupts; memory capped in pages (mapped outside the Go
// heap on Linux, memory_linux.go); each call bounded by its timeout and the
// caller's context, loops included (the checks interrupt adds). A call that traps,
// panics, loops, runs out of memory or answers garbage fails with an error
// naming the plugin, and its instance is replaced.
//
// See Runtime for a plugin's lifecycle.
package plugin

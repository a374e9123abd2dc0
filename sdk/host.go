//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/extism/go-pdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// The host functions of the plugin contract, imported from api.HostModule.
// Each has the Wasm signature (i64) -> i64: its argument is the offset of an
// Extism memory block holding JSON input, and its result the offset of a
// block holding JSON output (0 when there is none). The guest allocates the
// input and frees it after the call; the host allocates the output and the
// guest frees it once read. The names must match the constants in
// sdk/api/plugin.go; sdk/internal/gen's test checks that they do. iam_call
// and iam_batch are imported from api.HostDirectModule instead (direct.go).

//go:wasmimport iam_mcp progress
func hostProgress(input uint64) uint64

//go:wasmimport iam_mcp host_info
func hostHostInfo(input uint64) uint64

// invoke runs one host function: it copies in to Extism memory (nil input
// passes offset 0), calls fn, and returns a copy of the output block.
func invoke(fn func(uint64) uint64, in []byte) []byte {
	var off uint64
	if len(in) > 0 {
		mem := pdk.AllocateBytes(in)
		defer mem.Free()
		off = mem.Offset()
	}
	out := fn(off)
	if out == 0 {
		return nil
	}
	mem := pdk.FindMemory(out)
	if mem.Length() == 0 {
		return nil
	}
	b := mem.ReadBytes()
	mem.Free()
	return b
}

// hostError is what a host function's broken answer becomes: a bug in the
// host (or a mismatched contract), never the plugin's fault.
func hostError(fn string, format string, args ...any) *api.Error {
	return &api.Error{Code: api.Internal, Message: "host function " + fn + ": " + fmt.Sprintf(format, args...) +
		"; the plugin and the server may disagree on the plugin contract (rebuild the plugin with this server's SDK)"}
}

// HostInfo returns what the server tells a plugin about itself: whether it
// runs read-only (so a plugin can say up front that it will only report, not
// change), the account id and partition (to build ARNs), the operations the
// operator granted this plugin (to skip work that would fail with
// NotGranted) and its configuration. It is read from the host once per tool
// call and cached for the rest of that call. Call it from a handler, not
// from init. When the server refuses to say (its credentials are not for
// the account it expects), the error is an *api.Error (WrongAccount), as
// every IAM call would be.
func HostInfo() (*api.HostInfo, error) {
	if cachedHostInfo != nil {
		return cachedHostInfo, nil
	}
	out := invoke(hostHostInfo, nil)
	var info api.HostInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return nil, hostError(api.HostInfoFunc, "returned %q, not host info JSON: %v", truncate(out), err)
	}
	if info.Error != nil {
		return nil, info.Error // refused (e.g. WrongAccount): the host decides once per call
	}
	cachedHostInfo = &info
	return cachedHostInfo, nil
}

// cachedHostInfo is reset at the start of every call: the server's state is
// stable within one call, and a fresh read per call costs one host call.
var cachedHostInfo *api.HostInfo

// Config returns the value the operator set for key in the plugin's config
// (the `config` map of its entry in the plugins file), and whether it is set.
// Configuration is how an operator tailors a plugin (a path to review, a
// threshold) without rebuilding it; it is always a string. The value is
// looked up in Extism's plugin configuration first, then in host_info's
// config. Call it from a handler, not from init.
func Config(key string) (string, bool) {
	if v, ok := pdk.GetConfig(key); ok {
		return v, true
	}
	info, err := HostInfo()
	if err != nil {
		return "", false
	}
	v, ok := info.Config[key]
	return v, ok
}

// Level is the severity of a log message.
type Level int

// The log levels, as the host's log has them. Messages below the host's log
// level are dropped in the plugin, before they cross into the host.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
)

// Log writes a message to the server's log (stderr), tagged by the host with
// the plugin's name. It goes through Extism's own log functions, which is the
// only output a plugin has besides its results: WASI stdout and stderr never
// reach the MCP stream. Never log secrets.
func Log(level Level, msg string) {
	switch level {
	case LevelDebug:
		pdk.Log(pdk.LogDebug, msg)
	case LevelInfo:
		pdk.Log(pdk.LogInfo, msg)
	case LevelWarn:
		pdk.Log(pdk.LogWarn, msg)
	default:
		pdk.Log(pdk.LogError, msg)
	}
}

// Logf is Log with fmt.Sprintf formatting.
func Logf(level Level, format string, args ...any) {
	Log(level, fmt.Sprintf(format, args...))
}

// truncate shortens a host answer for an error message.
func truncate(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

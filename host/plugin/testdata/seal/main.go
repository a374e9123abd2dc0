//go:build wasip1

// Command seal is a test plugin written with the project's SDK for the
// state_seal and secret_file_remove host functions: typed calls through
// the SDK (sdk.Seal, sdk.RemoveSecretFile), and raw ones that hand the
// host whatever bytes the test gives, as a plugin written without the SDK
// (or a hostile one) would.
package main

import (
	"github.com/extism/go-pdk"

	"github.com/iammcp/iam-mcp-server/sdk"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

//go:wasmimport iam_mcp state_seal
func rawStateSeal(input uint64) uint64

//go:wasmimport iam_mcp secret_file_remove
func rawSecretFileRemove(input uint64) uint64

// SealArgs drive the seal tool.
type SealArgs struct {
	Data string `json:"data"`
}

// RemoveArgs drive the remove tools.
type RemoveArgs struct {
	AccessKeyID string `json:"access_key_id"`
}

// RawArgs drive the raw tool: the host function to call and its input,
// as is.
type RawArgs struct {
	Fn    string `json:"fn" enum:"state_seal,secret_file_remove"`
	Input string `json:"input"`
}

// Result is what every tool answers: the outcome, or the error's code and
// message.
type Result struct {
	MAC     string `json:"mac,omitempty"`
	Removed string `json:"removed,omitempty"`
	Note    string `json:"note,omitempty"`
	Output  string `json:"output,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

func init() {
	sdk.Plugin("seal", "0.1.0", "Seals data and removes secret files, as it is told")
	sdk.TypedTool("seal", "Seals data with the server's key.", seal)
	sdk.TypedTool("remove", "Removes a used key's secret file.", remove, sdk.OpCreateAccessKey, sdk.OpGetAccessKeyLastUsed)
	// narrow does not declare create_access_key: its removals are refused
	// even when the plugin is granted it.
	sdk.TypedTool("narrow", "Removes a secret file without declaring create_access_key.", remove, sdk.OpGetAccessKeyLastUsed)
	sdk.TypedTool("raw", "Calls a host function with the given bytes.", raw, sdk.OpCreateAccessKey, sdk.OpGetAccessKeyLastUsed)
}

func main() {}

func seal(_ *sdk.Context, in SealArgs) (Result, error) {
	mac, err := sdk.Seal(in.Data)
	if err != nil {
		return failed(err), nil
	}
	return Result{MAC: mac}, nil
}

func remove(_ *sdk.Context, in RemoveArgs) (Result, error) {
	a, err := sdk.RemoveSecretFile(in.AccessKeyID)
	if err != nil {
		return failed(err), nil
	}
	return Result{Removed: a.Removed, Note: a.Note}, nil
}

func raw(_ *sdk.Context, in RawArgs) (Result, error) {
	fn := rawStateSeal
	if in.Fn == api.HostSecretFileRemove {
		fn = rawSecretFileRemove
	}
	mem := pdk.AllocateString(in.Input)
	defer mem.Free()
	off := fn(mem.Offset())
	if off == 0 {
		return Result{}, nil
	}
	out := pdk.FindMemory(off)
	defer out.Free()
	return Result{Output: string(out.ReadBytes())}, nil
}

func failed(err error) Result {
	if e, ok := err.(*api.Error); ok {
		return Result{Code: string(e.Code), Message: e.Message}
	}
	return Result{Code: "not-an-api-error", Message: err.Error()}
}

//go:build wasip1

package sdk

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

//go:wasmimport iam_mcp state_seal
func hostStateSeal(input uint64) uint64

//go:wasmimport iam_mcp secret_file_remove
func hostSecretFileRemove(input uint64) uint64

// Seal returns the server's seal of data: an HMAC with a key of the
// server's that this plugin never sees, bound to the plugin's name (in the
// operator's plugins file) and to the account, as 22 characters of
// unpadded base64url. A plugin keeps nothing between calls, so state that
// must outlive a call lives where others may write it (a tag); sealed
// there beside the data, it can be checked when read back: seal what was
// read again and compare (crypto/subtle.ConstantTimeCompare). Only this
// plugin, on a server with the same secrets directory, in the same
// account, makes the same seal.
//
// A seal proves who wrote the data, not that it is the latest the plugin
// wrote: put in the data what ties it to its place (the user, the key),
// and keep checking it against what it describes.
//
// data is text of at most api.MaxSealData bytes. The error is an
// *api.Error: api.InvalidInput for data too long or not UTF-8,
// api.Unavailable when the server cannot seal (no secrets directory, a
// seal key it refuses to use).
func Seal(data string) (string, error) {
	if len(data) > api.MaxSealData {
		return "", &api.Error{Code: api.InvalidInput, Message: fmt.Sprintf("sdk.Seal: %d bytes of data; at most %d", len(data), api.MaxSealData)}
	}
	if !utf8.ValidString(data) {
		// JSON would carry it as U+FFFD, and seal other text than data.
		return "", &api.Error{Code: api.InvalidInput, Message: "sdk.Seal: the data is not UTF-8 text"}
	}
	b, err := json.Marshal(api.SealRequest{Data: data})
	if err != nil {
		return "", &api.Error{Code: api.Internal, Message: err.Error()}
	}
	out := invoke(hostStateSeal, b)
	var a api.SealAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		return "", hostError(api.HostStateSeal, "answered %q, not a seal: %v", truncate(out), err)
	}
	if a.Error != nil {
		return "", a.Error
	}
	if a.MAC == "" {
		return "", hostError(api.HostStateSeal, "answered neither a seal nor an error")
	}
	return a.MAC, nil
}

// RemoveSecretFile asks the server to remove the secret file it wrote
// when create_access_key made accessKeyID on this plugin's behalf, now
// that the key has been used (the server checks, with
// get_access_key_last_used as this plugin: granted, audited and counted
// like any call). The tool must be granted, and declare,
// create_access_key, and the server must allow writes.
//
// The answer's Removed is the path removed, or "" with a Note when there
// was no file (removed already, or the secret was not written by this
// server) — not an error. The error is an *api.Error: api.NotGranted,
// api.ReadOnly, api.InvalidInput (not a key id, or the key not used
// yet: the file stays), or the IAM call's own.
func RemoveSecretFile(accessKeyID string) (*api.SecretFileRemoveAnswer, error) {
	b, err := json.Marshal(api.SecretFileRemoveRequest{AccessKeyID: accessKeyID})
	if err != nil {
		return nil, &api.Error{Code: api.Internal, Message: err.Error()}
	}
	out := invoke(hostSecretFileRemove, b)
	var a api.SecretFileRemoveAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		return nil, hostError(api.HostSecretFileRemove, "answered %q, not a removal: %v", truncate(out), err)
	}
	if a.Error != nil {
		return &a, a.Error
	}
	return &a, nil
}

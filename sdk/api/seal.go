package api

// The wire format of state_seal and secret_file_remove (HostStateSeal,
// HostSecretFileRemove).

// MaxSealData caps the data one state_seal signs, in bytes: enough for a
// state kept in a tag (IAM tag values hold 256 characters) and its
// context, and small enough that sealing costs the host nothing.
const MaxSealData = 1024

// SealMACBytes is the length of a seal before its encoding: 16 bytes of
// HMAC-SHA256 (128 bits, as a forger must guess them all), 22 characters
// of unpadded base64url, which fit in a tag value.
const SealMACBytes = 16

// SealRequest is state_seal's input: the plugin's data, text of at most
// MaxSealData bytes of UTF-8 (a replacement character U+FFFD is refused:
// invalid bytes and lone surrogates decode to it, so two different
// byte strings would otherwise carry the same seal).
type SealRequest struct {
	Data string `json:"data"`
}

// SealAnswer is state_seal's answer: the seal of the data as unpadded
// base64url (SealMACBytes bytes), or an error. The same data sealed for
// the same plugin in the same account gives the same seal, on every
// server that shares the secrets directory, across restarts; a plugin
// checks data it reads back by sealing it again and comparing.
type SealAnswer struct {
	MAC   string `json:"mac,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// SecretFileRemoveRequest is secret_file_remove's input: the new key
// whose secret file goes, an access key id (16 to 128 upper-case letters
// and digits).
type SecretFileRemoveRequest struct {
	AccessKeyID string `json:"access_key_id"`
}

// SecretFileRemoveAnswer is secret_file_remove's answer. Removed is the
// path of the file removed, or "" when there was none (removed already, or
// the key's secret was never written here), with Note saying which; Error
// says why the file stays (not granted, read-only, the key not used yet).
type SecretFileRemoveAnswer struct {
	Removed string `json:"removed"`
	Note    string `json:"note,omitempty"`
	Error   *Error `json:"error,omitempty"`
}

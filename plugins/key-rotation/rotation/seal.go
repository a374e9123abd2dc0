package rotation

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/iammcp/iam-mcp-server/sdk/api"
	"github.com/iammcp/iam-mcp-server/sdk/hostiam"
)

// The state tag's seal.
//
// Anyone allowed iam:TagUser can rewrite the state tag. Strict parsing and
// the checks against IAM (checkState) refuse a tag that disagrees with
// what IAM records, but a consistent edit — the deactivation moved back to
// a week after the old key's last use, say — passes them. So every value
// the plugin writes is sealed by the server (the state_seal host
// function: an HMAC with a key of the server's the plugin never sees,
// bound to this plugin and the account), over the user, the key and the
// value, and the seal is written beside it in a second tag, SealKey, in
// the same tag_user call. Every read checks it: a value whose seal does
// not verify — edited, written by an earlier version of the plugin, or by
// a server with another secrets directory — is refused, with the call
// that clears the tags.
//
// A seal proves the plugin wrote the value for this user and key; it does
// not prove the value is the latest it wrote. An earlier value of the same
// rotation, put back with its own seal, verifies; the checks against IAM
// and the minimum grace period still apply to it.

// SealPrefix starts the key of the tag holding the seal of a rotation's
// state tag.
const SealPrefix = "iam-mcp:seal:rotation:"

// SealKey is the key of the tag holding the seal of keyID's state tag.
func SealKey(keyID string) string { return SealPrefix + keyID }

// sealPlaceholder stands for a seal in a plan written before the value
// exists.
const sealPlaceholder = "<the server's seal of the value>"

// sealData is what a state tag's seal covers: the user (in lower case, as
// IAM compares user names), the old key, and the value. Neither a user
// name nor a key id holds a line break.
func sealData(user, keyID, value string) string {
	return "key-rotation state v1\n" + strings.ToLower(user) + "\n" + keyID + "\n" + value
}

// sealOf is the server's seal of a state value of this rotation, asked
// once per value and call.
func (r *run) sealOf(value string) (string, error) {
	if mac, ok := r.seals[value]; ok {
		return mac, nil
	}
	mac, err := hostiam.Seal(r.h, sealData(r.in.UserName, r.in.AccessKeyID, value))
	if err != nil {
		return "", err
	}
	if r.seals == nil {
		r.seals = map[string]string{}
	}
	r.seals[value] = mac
	return mac, nil
}

// checkSeal refuses a state value whose seal tag is missing or is not the
// server's seal of it.
func (r *run) checkSeal(value string) error {
	u, k := r.in.UserName, r.in.AccessKeyID
	want, err := r.sealOf(value)
	if err != nil {
		return wrap(err, "the rotation state tag of %s cannot be checked against the server's seal, and the rotation does not act on a state it cannot check", k)
	}
	fix := fmt.Sprintf("Check the keys with list_access_keys and get_access_key_last_used, then remove the tags with %s and start again with step plan", callUntag(u, k).Markdown())
	got, ok := r.tag(SealKey(k))
	if !ok {
		return invalid("the rotation state tag of %s has no seal (no tag %s): it was written by an earlier version of this plugin, before seals (a rotation in flight then starts again), or by hand, and the rotation does not act on a state the server did not seal. %s",
			k, SealKey(k), fix)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return invalid("the rotation state tag of %s does not carry the server's seal: it was edited outside this tool (anyone allowed iam:TagUser can), or written by a server with another secrets directory (another seal key) or in another account, and the rotation does not act on it. %s",
			k, fix)
	}
	return nil
}

// sealedTags are the tags that store value: the state and its seal.
func (r *run) sealedTags(value string) (map[string]string, error) {
	mac, err := r.sealOf(value)
	if err != nil {
		return nil, wrap(err, "nothing was changed: the rotation's state cannot be sealed")
	}
	k := r.in.AccessKeyID
	return map[string]string{TagKey(k): value, SealKey(k): mac}, nil
}

// secretRemoval is what this call's request to remove the new key's
// secret file came to.
type secretRemoval struct {
	removed, note string
	err           error
}

// removeSecretFile asks the server to remove the new key's secret file,
// now that IAM shows the key used; the answer says what came of it (the
// file stays when the server refuses: not granted, read-only).
func (r *run) removeSecretFile(n string) {
	removed, note, err := hostiam.RemoveSecretFile(r.h, n)
	r.removal = &secretRemoval{removed: removed, note: note, err: err}
	r.res.SecretFileRemoved = removed
	if err != nil {
		msg := err.Error()
		if ae, ok := err.(*api.Error); ok {
			msg = string(ae.Code) + ": " + ae.Message
		}
		r.res.Warnings = append(r.res.Warnings, "the server did not remove the secret file of "+n+": "+msg)
	}
}

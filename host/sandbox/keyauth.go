package sandbox

import (
	"fmt"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// Which access keys a request may be signed with.
//
// The sandbox checks no signatures (server.go says why), but it does check
// the key id a request names, as IAM does before anything else:
//
//   - A key of the account — a user's, or the root's (root.go) — signs only
//     while it is Active. A request signed by an Inactive key is refused
//     with IAM's 403 InvalidClientTokenId, does nothing, and is recorded
//     nowhere: not as the key's last use, not as service use. A workflow
//     that deactivates a key (a rotation's cut-over) sees at once what its
//     remaining users would see in AWS.
//   - A deleted key is refused the same way. The sandbox remembers the ids
//     it deleted (account.DeletedKeys) because without them a deleted key
//     would look like a key of no user, which the next rule lets in.
//   - Any other key id — the sandbox's bootstrap credentials
//     (AKIAIOSFODNN7EXAMPLE in the docs and the MCP server's --sandbox), or
//     whatever an SDK is configured with — acts as the account root. Like
//     the unchecked signature, this departs from IAM, which refuses every
//     key it does not know, on purpose: it is what lets a newcomer, a test
//     or a benchmark use the sandbox with no credential setup at all. Such ids
//     leave no record: their use is reported nowhere, and recording it
//     would let any client grow the state file with ids it makes up.
//
// An unsigned request (no Credential= in an Authorization header or the
// query) names no key and is served as the root too.

// maxDeletedKeys bounds account.DeletedKeys, so that a state file does not
// grow with every key ever deleted: about 25 bytes each, so at most ~250 KB.
// Beyond it the oldest deleted id is forgotten, and a request signed by it
// is taken as one of a key of no user again: ten thousand deletions later,
// a fidelity loss the sandbox accepts. A variable so that a test can lower it.
var maxDeletedKeys = 10000

// errInvalidToken is IAM's answer to a request signed by a key it does not
// accept (inactive, deleted): IAM's own words, which SDKs and scripts match.
func errInvalidToken() *Error {
	return apiErr("InvalidClientTokenId", 403, "The security token included in the request is invalid.")
}

// authenticate decides whether a request signed by keyID is served. held
// says the key is one of the account's (a user's or the root's), whose use
// is recorded; it is false for a request that names no key or a key of no
// user. Called with s.mu held, read or write.
func (s *Server) authenticate(keyID string) (held bool, _ *Error) {
	if keyID == "" {
		return false, nil
	}
	var k *AccessKey
	if u := s.keyOwner(keyID); u != nil {
		k = findKey(u.AccessKeys, keyID)
	} else {
		k = findKey(s.acct.Root.AccessKeys, keyID)
	}
	switch {
	case k != nil && k.Status == "Active":
		return true, nil
	case k != nil:
		return false, errInvalidToken()
	case s.acct.deleted[keyID]:
		return false, errInvalidToken()
	}
	return false, nil
}

// findKey returns the key of id in keys, or nil.
func findKey(keys []*AccessKey, id string) *AccessKey {
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// forgetKey records that the account deleted a key: requests it signs are
// refused from now on, and its last use goes (IAM answers nothing for a
// deleted key). Called under the write lock (or before the server is
// shared, for the seed).
func (s *Server) forgetKey(id string) {
	a := s.acct
	if a.deleted == nil { // an account built by hand, not by newAccount or a load
		a.deleted = map[string]bool{}
	}
	if !a.deleted[id] {
		a.deleted[id] = true
		a.DeletedKeys = append(a.DeletedKeys, id)
		pruneDeletedKeys(a)
	}
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	delete(a.KeyUse, id)
}

// pruneDeletedKeys drops the oldest deleted ids beyond maxDeletedKeys.
func pruneDeletedKeys(a *account) {
	over := len(a.DeletedKeys) - maxDeletedKeys
	if over <= 0 {
		return
	}
	for _, id := range a.DeletedKeys[:over] {
		delete(a.deleted, id)
	}
	a.DeletedKeys = append([]string(nil), a.DeletedKeys[over:]...)
}

// deletedKeys checks DeletedKeys of a state file and builds their index:
// each an access key id, listed once, and no id the account holds
// (claimID). What exceeds maxDeletedKeys is pruned, oldest first.
func (c *stateChecker) deletedKeys() error {
	a := c.a
	a.deleted = make(map[string]bool, len(a.DeletedKeys))
	for i, id := range a.DeletedKeys {
		w := stateItem("DeletedKeys", i)
		if !iamname.AccessKeyID(id) {
			return stateAt(w, "%s is not an access key id (16 to 128 letters, digits and _)", short(id))
		}
		if err := c.claimID(w, id); err != nil {
			return fmt.Errorf("%w (a deleted key's id is never the id of anything else)", err)
		}
		a.deleted[id] = true
	}
	pruneDeletedKeys(a)
	return nil
}

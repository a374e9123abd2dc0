package sandbox

import (
	"fmt"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// The root user. Its MFA device, access keys and password are managed by
// the account owner signed in as root, not through IAM's API, so no action
// of the sandbox changes them; IAM only reports them — GetAccountSummary's
// AccountMFAEnabled and AccountAccessKeysPresent, and the <root_account>
// row of the credential report — and an access review reads them there.
// Seeds and tests set them with SetRoot; they persist with the account.

// RootUser is the root user's state as IAM reports it. The zero value is a
// root without MFA, keys or recorded sign-in: a new AWS account's root.
type RootUser struct {
	// MFAEnabled says the root user has an MFA device.
	MFAEnabled bool
	// PasswordLastUsed is the root's last console sign-in; nil reports
	// no_information, as IAM does for a password it has not seen used.
	PasswordLastUsed *time.Time
	// AccessKeys are the root's access keys, at most two as for any user.
	// A request signed with an Active one acts as the root, and its use is
	// recorded like a user's key's; one signed with an Inactive one is
	// refused (keyauth.go).
	AccessKeys []*AccessKey
}

// SetRoot replaces the root user's state. A key without an id gets one,
// without a status is Active, without a creation date is created now;
// a key id a user already holds is refused, since it would sign as both,
// and so is the id of a deleted key. A key of the root's left out is
// deleted: requests it signs are refused from then on, as IAM refuses
// them.
func (s *Server) SetRoot(r RootUser) error {
	if len(r.AccessKeys) > maxAccessKeysPerUser {
		return fmt.Errorf("sandbox: the root user can have at most %d access keys, not %d", maxAccessKeysPerUser, len(r.AccessKeys))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.setRoot(r); err != nil {
		return err
	}
	s.changed()
	return s.persist()
}

// setRoot is SetRoot under the lock the caller holds (or before the server
// is shared, for the seed).
func (s *Server) setRoot(r RootUser) error {
	now := s.now().UTC()
	keys := make([]*AccessKey, 0, len(r.AccessKeys))
	for _, k := range r.AccessKeys {
		c := *k
		if c.ID == "" {
			c.ID = newID("AKIA")
		}
		if c.Secret == "" {
			c.Secret = newSecret()
		}
		if c.Status == "" {
			c.Status = "Active"
		}
		// What a state file may hold (statecheck.go), or the state saved
		// now would not load again.
		if !iamname.AccessKeyID(c.ID) {
			return fmt.Errorf("sandbox: root access key id %s is not an access key id (16 to 128 letters, digits and _)", short(c.ID))
		}
		if findKey(keys, c.ID) != nil {
			return fmt.Errorf("sandbox: the root is given access key %s twice", c.ID)
		}
		if c.Status != "Active" && c.Status != "Inactive" {
			return fmt.Errorf("sandbox: root access key %s has status %q; it must be Active or Inactive", c.ID, c.Status)
		}
		if c.Created.IsZero() {
			c.Created = now
		}
		if u := s.acct.userByAccessKey(c.ID); u != nil {
			return fmt.Errorf("sandbox: access key %s belongs to user %s; the root needs its own", c.ID, u.Name)
		}
		if s.acct.deleted[c.ID] {
			return fmt.Errorf("sandbox: access key %s was deleted, and IAM never issues a key id twice; give the root a new one", c.ID)
		}
		keys = append(keys, &c)
	}
	// A root key left out is deleted: requests it signs are refused from
	// now on (keyauth.go).
	for _, old := range s.acct.Root.AccessKeys {
		if findKey(keys, old.ID) == nil {
			s.forgetKey(old.ID)
		}
	}
	r.AccessKeys = keys
	if r.PasswordLastUsed != nil {
		t := r.PasswordLastUsed.UTC()
		r.PasswordLastUsed = &t
	}
	s.acct.Root = r
	return nil
}

// Root returns a copy of the root user's state.
func (s *Server) Root() RootUser {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.acct.Root
	keys := make([]*AccessKey, len(r.AccessKeys))
	for i, k := range r.AccessKeys {
		c := *k
		keys[i] = &c
	}
	r.AccessKeys = keys
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

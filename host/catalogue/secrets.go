package catalogue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
	"github.com/iammcp/iam-mcp-server/internal/private"
)

// SecretSink receives a new secret access key so that it never has to pass
// through the assistant's context or a log. It returns where the secret went.
// ctx is the request's: it carries the authenticated principal, if any
// (gate.PrincipalFrom), for a sink that hands the secret only to them.
type SecretSink interface {
	StoreAccessKey(ctx context.Context, userName, keyID, secret string, created time.Time) (location string, err error)
}

// A SecretLinker is a SecretSink whose locations are one-time links for
// the caller (host/secretlink, MCP over HTTP) rather than files on the
// server: create_access_key's result names the link and when it stops
// working, and says how to fetch it.
type SecretLinker interface {
	SecretSink
	StoreAccessKeyLink(ctx context.Context, userName, keyID, secret string, created time.Time) (link string, expires time.Time, err error)
}

// SecretFiles writes each new secret to its own file in Dir, readable only
// by the server's user (0600, in a 0700 directory). A Dir that exists and is
// shared (another user's, or open to group or others) is refused, never
// chmodded: see internal/private.
type SecretFiles struct{ Dir string }

// Check refuses a Dir that exists and is shared, so that the server stops
// at start rather than at its first new key.
func (s SecretFiles) Check() error {
	if err := private.CheckDir(s.Dir); err != nil {
		return fmt.Errorf("--secrets-dir: %w", err)
	}
	return nil
}

// DefaultSecretsDir is where secrets go unless --secrets-dir says otherwise:
// the user's configuration directory, never the working directory.
func DefaultSecretsDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user configuration directory for secrets (%v); pass --secrets-dir", err)
	}
	return filepath.Join(base, "iam-mcp-server", "secrets"), nil
}

// StoreAccessKey writes {"user_name", "access_key_id", "secret_access_key",
// "create_date"} to DIR/<key id>.json and returns the path.
func (s SecretFiles) StoreAccessKey(_ context.Context, userName, keyID, secret string, created time.Time) (string, error) {
	// Checked again at each write, not only at start: a secret must not
	// land somewhere others can list, and the directory may have changed.
	if err := private.MkdirAll(s.Dir); err != nil {
		return "", fmt.Errorf("the secrets directory cannot be used: %w", err)
	}
	data, err := json.MarshalIndent(map[string]string{
		"user_name":         userName,
		"access_key_id":     keyID,
		"secret_access_key": secret,
		"create_date":       created.UTC().Format(time.RFC3339),
	}, "", "  ")
	if err != nil {
		return "", err
	}
	if !iamname.AccessKeyID(keyID) {
		// The id comes from IAM's answer and names a file: never a path.
		return "", fmt.Errorf("the access key id %.40q is not one IAM issues (16-128 letters, digits and _), so its secret was not written", keyID)
	}
	path := s.file(keyID)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("cannot create the secret file %s: %w", path, err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("cannot write the secret file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("cannot write the secret file %s: %w", path, err)
	}
	return path, nil
}

// AccessKeyIDPattern is what AccessKeyFile and RemoveAccessKey accept as
// a key id: AWS's access key ids, upper-case letters and digits (AKIA…).
// These take the id from a caller (a plugin), not from IAM, so they take
// exactly what IAM issues, nothing that could be a path.
var AccessKeyIDPattern = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// file is where keyID's secret is written: DIR/<key id>.json.
func (s SecretFiles) file(keyID string) string { return filepath.Join(s.Dir, keyID+".json") }

// AccessKeyFile returns the path StoreAccessKey writes keyID's secret to,
// for a key id of AccessKeyIDPattern (an error otherwise, quoting at most
// a short prefix of it).
func (s SecretFiles) AccessKeyFile(keyID string) (string, error) {
	if !AccessKeyIDPattern.MatchString(keyID) {
		return "", fmt.Errorf("%.40q is not an access key id (16-128 upper-case letters and digits, AKIA…)", keyID)
	}
	if s.Dir == "" {
		return "", errors.New("there is no secrets directory")
	}
	return s.file(keyID), nil
}

// HeldAccessKey returns the path of keyID's secret file when there is one,
// "" when there is none; an error for a keyID not of AccessKeyIDPattern
// (before any look at the disk), or for something at that name that is
// not a regular file (RemoveAccessKey would refuse it too). It lets a
// caller check before asking IAM whether the key has been used.
func (s SecretFiles) HeldAccessKey(_ context.Context, keyID string) (string, error) {
	path, err := s.AccessKeyFile(keyID)
	if err != nil {
		return "", err
	}
	if found, err := secretFileAt(path); !found || err != nil {
		return "", err
	}
	return path, nil
}

// secretFileAt reports whether path is a regular file (nothing there is no
// error), and refuses anything else at that name: a symbolic link, a
// directory or a device is not a secret file this server wrote.
func secretFileAt(path string) (bool, error) {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cannot look at the secret file %s: %w", path, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return false, fmt.Errorf("%s is a symbolic link, not a secret file this server wrote; it was left as it is (whoever runs the server should look at it)", path)
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("%s is not a regular file (%s), not a secret file this server wrote; it was left as it is", path, fi.Mode().Type())
	}
	return true, nil
}

// RemoveAccessKey removes the file StoreAccessKey wrote for keyID and
// returns its path, or "" when there is none. Only a regular file is
// removed: a symbolic link, a directory or anything else at that name is
// not one this server wrote, and is refused (left as it is). The
// directory itself must still be one the server may keep secrets in (see
// Check). Deciding whether the secret may go — the key has been used — is
// the caller's.
func (s SecretFiles) RemoveAccessKey(_ context.Context, keyID string) (string, error) {
	path, err := s.AccessKeyFile(keyID)
	if err != nil {
		return "", err
	}
	if err := s.Check(); err != nil {
		return "", err
	}
	if found, err := secretFileAt(path); !found || err != nil {
		return "", err
	}
	// Remove unlinks the name: were it swapped for a link since, the link
	// would go, never what it points to.
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil // removed meanwhile
		}
		return "", fmt.Errorf("cannot remove the secret file %s: %w", path, err)
	}
	return path, nil
}

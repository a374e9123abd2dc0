package iam

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/private"
)

// SecretSink receives a new secret access key so that it never has to pass
// through the assistant's context or a log. It returns where the secret went.
type SecretSink interface {
	StoreAccessKey(userName, keyID, secret string, created time.Time) (location string, err error)
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
func (s SecretFiles) StoreAccessKey(userName, keyID, secret string, created time.Time) (string, error) {
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
	path := filepath.Join(s.Dir, keyID+".json")
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

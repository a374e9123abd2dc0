package iam

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// SecretSink receives a new secret access key so that it never has to pass
// through the assistant's context or a log. It returns where the secret went.
type SecretSink interface {
	StoreAccessKey(userName, keyID, secret string, created time.Time) (location string, err error)
}

// SecretFiles writes each new secret to its own file in Dir, readable only
// by the server's user (0600, in a 0700 directory).
type SecretFiles struct{ Dir string }

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
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot create the secrets directory %s: %w", s.Dir, err)
	}
	// MkdirAll leaves an existing directory's mode alone; a secret must not
	// land somewhere others can list.
	if err := os.Chmod(s.Dir, 0o700); err != nil {
		return "", fmt.Errorf("cannot restrict the secrets directory %s: %w", s.Dir, err)
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

package pluginreg

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// Cache layout, under Options.CacheDir/oci (0700):
//
//	sha256/<manifest-hex>/manifest.json   the manifest's exact bytes (hash = the pinned digest)
//	sha256/<manifest-hex>/config.json     the config blob (Info)
//	sha256/<manifest-hex>/module.wasm     the module (0600; hash = the layer digest)
//	sha256/<manifest-hex>/signatures/     verified signatures (sigcache.go)
//
// Every file is written to a temporary name and renamed, and re-hashed on
// every read: the cache is a convenience, never trusted on its own.
const (
	cacheManifest = "manifest.json"
	cacheConfig   = "config.json"
	cacheModule   = "module.wasm"
	cacheSigs     = "signatures"
)

// manifestDir is the cache directory of the manifest with digest d
// ("sha256:<hex>", already validated by ParseRef or the registry).
func (c *Client) manifestDir(d string) string {
	return filepath.Join(c.cacheDir, "sha256", digest.Digest(d).Encoded())
}

// signatureDir is where verified signatures of manifest d are kept.
func (c *Client) signatureDir(d string) string {
	return filepath.Join(c.manifestDir(d), cacheSigs)
}

// writeCacheFile writes r to path atomically, checking that it is exactly
// size bytes hashing to want (hex sha256) before the rename makes it visible.
func writeCacheFile(path string, r io.Reader, size int64, want string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("plugin cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("plugin cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, size+1))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("plugin cache: write %s: %w", filepath.Base(path), err)
	}
	if n != size {
		return fmt.Errorf("%s is %d bytes, the manifest says %d", filepath.Base(path), n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s has sha256 %s, the manifest says %s", filepath.Base(path), got, want)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("plugin cache: %w", err)
	}
	return nil
}

// hashFile hashes a cached regular file of at most limit bytes.
func hashFile(path string, limit int64) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !st.Mode().IsRegular() || st.Size() > limit {
		return "", 0, fmt.Errorf("%s is not a regular file of at most %d bytes", path, limit)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit+1))
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

package plugin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// moduleFormat numbers how the runtime turns a plugin's module into what
// it runs: the host functions it links and any rewriting of the module
// before it is compiled. Bump it with any such change: it is part of every
// describe cache key, so the next start describes every plugin afresh
// instead of listing tools that an older runtime's instance described.
const moduleFormat = 1

// describeCacheSubdir is the describe cache's directory inside the
// compilation cache directory (wazero keeps its own machine code in a
// wazero-<version>-… directory beside it).
const describeCacheSubdir = "describe"

// entryMagic opens every describe cache entry: the format's name and
// version, so that anything else found under the name is no entry.
const entryMagic = "iam-mcp-server describe cache entry v1\n"

// entryHeaderLen is the fixed length of an entry's header: the magic line,
// "key <64 hex>\n" and "sha256 <64 hex>\n". The describe answer follows.
const entryHeaderLen = len(entryMagic) + len("key \n") + 64 + len("sha256 \n") + 64

// maxEntryBytes caps what is read of an entry: its header and the largest
// describe answer the runtime accepts.
const maxEntryBytes = entryHeaderLen + MaxResultBytes

// describeCache keeps each plugin's describe answer, its exact bytes, in
// the compilation cache directory, so that a start whose machine code is
// cached anyway lists the plugin's tools without compiling or
// instantiating it (see Runtime). An entry's name is its key (see
// describeKey): everything the answer may depend on. It holds no machine
// code, but what it says becomes the tools the assistant sees, so it lives
// under the directory openCache checked (owned by this user, writable by
// no one else), in a subdirectory of its own made 0700, its files 0600,
// each written whole (a temporary file renamed over it).
type describeCache struct {
	dir    string
	logger *slog.Logger
}

// openDescribeCache creates (0700) or checks the describe cache's directory
// in cacheDir, which openCache has already created and checked.
func openDescribeCache(cacheDir string, logger *slog.Logger) (*describeCache, error) {
	dir, err := filepath.Abs(filepath.Join(cacheDir, describeCacheSubdir))
	if err != nil {
		return nil, fmt.Errorf("the describe cache directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("cannot create the describe cache directory %s: %w", dir, err)
	}
	// Lstat, not Stat: a symbolic link put here would send the entries
	// (which become the tools the assistant sees) somewhere else.
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, fmt.Errorf("the describe cache directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("the describe cache %s is not a directory (%v); remove it, and it is made again at the next start", dir, fi.Mode().Type())
	}
	if err := checkCacheOwner(dir, fi); err != nil {
		return nil, err
	}
	return &describeCache{dir: dir, logger: logger}, nil
}

// describeKey is everything a plugin's describe answer may depend on: the
// module (its sha256), the contract it was described under
// (api.ContractVersion) and the runtime that ran it (moduleFormat), and
// what the plugin can read while describing — its config values
// (config_get, host_info), its memory limit (a describe may size itself
// by it), and host_info's plugin name, grants, read-only mode, consent
// level and the accounts it may reach (a server of one account lists
// none, so its keys are as they were before accounts). The account
// host_info gives is not in it (knowing it takes a
// request to AWS, which a start must not wait for): a describe that
// depends on it is caught when the plugin's first instance starts (see
// checkDescribe).
//
// The key is the hex sha256 of these, encoded as JSON (whose map keys are
// sorted, so the encoding is canonical).
func (p *loaded) describeKey() string {
	k := struct {
		Contract int                    `json:"contract"`
		Format   int                    `json:"format"`
		Module   string                 `json:"module"`
		Pages    uint32                 `json:"pages"`
		Name     string                 `json:"name"`
		Config   map[string]string      `json:"config"`
		Grants   []string               `json:"grants"`
		ReadOnly bool                   `json:"read_only"`
		Confirm  string                 `json:"confirm"`
		Accounts []api.ReachableAccount `json:"accounts,omitempty"`
	}{
		Contract: api.ContractVersion, Format: moduleFormat, Module: p.sha, Pages: p.pages,
		Name: p.name, Config: p.spec.Config, Grants: p.granted,
	}
	if k.Config == nil {
		k.Config = map[string]string{}
	}
	if k.Grants == nil {
		k.Grants = []string{}
	}
	if p.gate != nil {
		k.ReadOnly, k.Confirm = p.gate.ReadOnly(), string(p.gate.Confirm())
		k.Accounts = p.reachable()
	}
	b, err := json.Marshal(k)
	if err != nil {
		// Strings, numbers and a map of strings always encode.
		panic(fmt.Errorf("encoding a describe cache key: %w", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// path is the entry of key.
func (c *describeCache) path(key string) string {
	return filepath.Join(c.dir, key+".describe")
}

// load returns the entry of key: the description checked as a fresh
// describe is (parseDescription) and the exact bytes it was read from.
// ok is false when there is none, or when it cannot be used (unreadable,
// not an entry, for another key, its bytes not those it was written with,
// or a description a fresh describe would fail with): then the plugin is
// described afresh and the entry written again, and the reason is logged
// at debug level only, since a cache losing an entry is no one's problem.
func (c *describeCache) load(name, key string) (desc *api.PluginDescription, raw []byte, ok bool) {
	path := c.path(key)
	b, err := readfile.Regular(path, "describe cache entry", int64(maxEntryBytes))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false
	}
	if err == nil {
		desc, raw, err = decodeEntry(name, key, b)
	}
	if err != nil {
		c.logger.Debug("describe cache entry ignored; the plugin is described afresh and the entry rewritten", "entry", path, "err", err)
		return nil, nil, false
	}
	return desc, raw, true
}

// store writes the entry of key for the describe answer raw: to a
// temporary file in the same directory (0600), then renamed over the
// entry, so that a reader sees the old entry or the new one, never part
// of one. It is not synced to the disk: an entry a crash cuts short fails
// its checksum at the next start and is written again.
func (c *describeCache) store(key string, raw []byte) error {
	f, err := os.CreateTemp(c.dir, "."+key+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(encodeEntry(key, raw))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// CreateTemp makes files 0600; said again so that no umask or
		// platform default can widen it.
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, c.path(key))
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// remove deletes the entry of key, if there is one.
func (c *describeCache) remove(key string) error {
	if err := os.Remove(c.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// encodeEntry is an entry's bytes: the magic line, the key, the sha256 of
// the describe answer, then the answer as the plugin gave it.
func encodeEntry(key string, raw []byte) []byte {
	sum := sha256.Sum256(raw)
	var b bytes.Buffer
	b.Grow(entryHeaderLen + len(raw))
	b.WriteString(entryMagic)
	b.WriteString("key " + key + "\n")
	b.WriteString("sha256 " + hex.EncodeToString(sum[:]) + "\n")
	b.Write(raw)
	return b.Bytes()
}

// decodeEntry reads an entry of key strictly: exactly the header
// encodeEntry writes (the magic line, this key, a lowercase hex sha256),
// an answer of at most MaxResultBytes with that sha256, and a description
// parseDescription accepts, as it would a fresh describe's. The checksum
// turns a damaged entry (a crash, a bad disk) into a miss rather than a
// plugin whose first call is refused: an answer that differs from what
// the module says is refused then (see checkDescribe), whatever the
// header says.
func decodeEntry(name, key string, b []byte) (*api.PluginDescription, []byte, error) {
	if len(b) > maxEntryBytes {
		return nil, nil, fmt.Errorf("the entry is %d bytes, more than the %d an entry may have", len(b), maxEntryBytes)
	}
	if len(b) < entryHeaderLen || !bytes.HasPrefix(b, []byte(entryMagic)) {
		return nil, nil, errors.New("not a describe cache entry (no header)")
	}
	h := string(b[len(entryMagic):entryHeaderLen])
	k, ok := strings.CutPrefix(h, "key ")
	if !ok || len(k) < 65 || k[64] != '\n' {
		return nil, nil, errors.New("the entry's header has no key line")
	}
	if k[:64] != key {
		return nil, nil, errors.New("the entry was written for another key")
	}
	s, ok := strings.CutPrefix(k[65:], "sha256 ")
	if !ok || len(s) != 65 || s[64] != '\n' || !isLowerHex(s[:64]) {
		return nil, nil, errors.New("the entry's header has no sha256 line")
	}
	raw := b[entryHeaderLen:]
	sum := sha256.Sum256(raw)
	if s[:64] != hex.EncodeToString(sum[:]) {
		return nil, nil, errors.New("the entry's describe answer does not have the sha256 its header gives (a damaged entry)")
	}
	desc, err := parseDescription(name, raw)
	if err != nil {
		return nil, nil, err
	}
	return desc, raw, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

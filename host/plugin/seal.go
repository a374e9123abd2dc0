package plugin

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/internal/private"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// state_seal: a MAC by the server over a plugin's own data.
//
// A plugin keeps nothing between calls, so state that must outlive a call
// (a key rotation lasts days) lives where others can write it: a tag on
// the user, which anyone allowed iam:TagUser can rewrite. The plugin can
// check such state against IAM, but not tell its own writing from an
// edit. state_seal lets it: the host signs the data with a key the plugin
// never sees, and the plugin checks what it reads back by sealing it again
// and comparing.
//
// The key: 32 random bytes in SealKeyFile, in the server's secrets
// directory (created on first use, 0600, atomically), so seals survive
// restarts and every server sharing the directory agrees. Each seal is
//
//	HMAC-SHA256(K_plugin, len‖account ‖ len‖data), cut to 16 bytes,
//	K_plugin = HMAC-SHA256(K, len‖"iam-mcp-server state_seal v1" ‖ len‖plugin)
//
// with the plugin's name from the plugins file (so that plugin A cannot
// make plugin B's seals: it never names another plugin) and the account
// the server works in (so that a seal is not replayed in another
// account). Fields are length-prefixed, so no two inputs run together.
//
// It is not an IAM call: no grant, no audit line, not counted against
// max_iam_calls; the input is capped (MaxSealInputBytes, api.MaxSealData).

// SealKeyFile is the file, in the secrets directory, holding the server's
// seal key.
const SealKeyFile = "state-seal.key"

// sealKeyBytes is the seal key's size.
const sealKeyBytes = 32

// MaxSealInputBytes caps state_seal's JSON input, read unread past it:
// api.MaxSealData bytes of data, each escaped (\u00XX) at worst, and the
// object around them.
const MaxSealInputBytes = 6*api.MaxSealData + 64

// sealDomain names the derivation, so that a later one never collides.
const sealDomain = "iam-mcp-server state_seal v1"

// StateSealer makes the seals of state_seal, with the key kept in a
// secrets directory. The runtime makes one per Runtime; a test kit that runs
// a plugin's workflow natively (hostiamtest) makes one over the same
// directory, so that the seals are the runtime's own. It is safe for
// concurrent use.
type StateSealer struct {
	dir string
	mu  sync.Mutex
	key []byte // loaded once; nil until then
}

// NewStateSealer returns the sealer whose key is SealKeyFile in dir ("":
// the server has no secrets directory, and every Seal answers so).
func NewStateSealer(secretsDir string) *StateSealer { return &StateSealer{dir: secretsDir} }

// Seal seals data for plugin in account: the answer holds the seal, or an
// error (api.InvalidInput for data that is too long or not text,
// api.Unavailable when the key cannot be had).
func (s *StateSealer) Seal(plugin, account, data string) api.SealAnswer {
	if why := badSealData(data); why != "" {
		return api.SealAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s: state_seal's data %s; nothing was sealed", plugin, why)}
	}
	if plugin == "" || account == "" {
		return api.SealAnswer{Error: api.Errorf(api.Unavailable, "plugin %s: state_seal binds each seal to the account, and this server cannot tell its account id; nothing was sealed", plugin)}
	}
	key, err := s.masterKey()
	if err != nil {
		return api.SealAnswer{Error: api.Errorf(api.Unavailable, "plugin %s: state_seal cannot seal: %v", plugin, err)}
	}
	pk := macOf(key, sealDomain, plugin)
	mac := macOf(pk, account, data)[:api.SealMACBytes]
	return api.SealAnswer{MAC: base64.RawURLEncoding.EncodeToString(mac)}
}

// badSealData says what is wrong with data to seal, or "".
func badSealData(data string) string {
	switch {
	case len(data) > api.MaxSealData:
		return fmt.Sprintf("is %d bytes; at most %d", len(data), api.MaxSealData)
	case !utf8.ValidString(data):
		return "is not UTF-8 text"
	case strings.ContainsRune(data, utf8.RuneError):
		// Invalid bytes and lone surrogates decode to U+FFFD: two
		// different byte strings would carry one seal.
		return "holds the replacement character U+FFFD (what invalid bytes decode to)"
	}
	return ""
}

// macOf is HMAC-SHA256 under key over the parts, each prefixed with its
// length.
func macOf(key []byte, parts ...string) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// masterKey is the seal key, read (or created) once.
func (s *StateSealer) masterKey() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	if s.dir == "" {
		return nil, errors.New("this server has no secrets directory, where the seal key is kept; the operator starts it with --secrets-dir")
	}
	key, err := loadSealKey(s.dir)
	if err != nil {
		return nil, err
	}
	s.key = key
	return key, nil
}

// loadSealKey reads dir's seal key, creating it first when there is none.
// A key file that is not a regular file of mode 0600 and exactly
// sealKeyBytes bytes is refused, never repaired: it is not what this
// server wrote, and seals made with it would prove nothing.
func loadSealKey(dir string) ([]byte, error) {
	if err := private.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("the secrets directory cannot hold the seal key: %w", err)
	}
	path := filepath.Join(dir, SealKeyFile)
	key, err := readSealKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createSealKey(dir, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	// Ours, or another server's that won the race: read what is there.
	return readSealKey(path)
}

// readSealKey reads the key file at path; an error wrapping
// fs.ErrNotExist when there is none.
func readSealKey(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the seal key %s: %w", path, err)
	}
	fix := "remove it to have a new key made (seals made with the old one then no longer verify: state they sealed, such as key rotations in progress, starts again)"
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("the seal key %s is a symbolic link, not the file this server writes; %s", path, fix)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("the seal key %s is not a regular file (%s); %s", path, fi.Mode().Type(), fix)
	case fi.Mode().Perm() != 0o600:
		return nil, fmt.Errorf("the seal key %s has mode %04o, not 0600: others may have read it. If nobody did, chmod 600 it; otherwise %s", path, fi.Mode().Perm(), fix)
	case fi.Size() != sealKeyBytes:
		return nil, fmt.Errorf("the seal key %s is %d bytes, not %d; %s", path, fi.Size(), sealKeyBytes, fix)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the seal key %s: %w", path, err)
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil || !os.SameFile(fi, opened) {
		return nil, fmt.Errorf("the seal key %s changed while it was read; try again", path)
	}
	key := make([]byte, sealKeyBytes+1)
	n, err := io.ReadFull(f, key)
	if n != sealKeyBytes || !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("the seal key %s is not %d bytes; %s", path, sealKeyBytes, fix)
	}
	if bytes.Count(key[:n], []byte{0}) == n {
		return nil, fmt.Errorf("the seal key %s is all zeros, not a key this server made; %s", path, fix)
	}
	return key[:n], nil
}

// createSealKey writes a new random key to path, atomically and without
// replacing one that is there: the key goes to a temporary file (0600) in
// the same directory, which is then linked to path — a link fails if path
// exists (another server made its key first: fs.ErrExist), and a crash
// leaves either no key or a whole one, never half of one.
func createSealKey(dir, path string) error {
	key := make([]byte, sealKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("cannot make a seal key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+SealKeyFile+".*")
	if err != nil {
		return fmt.Errorf("cannot create the seal key in %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600) // whatever the umask
	if err == nil {
		_, err = tmp.Write(key)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot write the seal key in %s: %w", dir, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("cannot create the seal key %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the new name, on disk; best effort
		d.Close()
	}
	return nil
}

// stateSealFunc is state_seal: SealRequest → SealAnswer.
func (p *loaded) stateSealFunc(ctx context.Context, st *callState, in []byte) []byte {
	return mustJSON(p.stateSeal(ctx, st, in))
}

func (p *loaded) stateSeal(ctx context.Context, st *callState, in []byte) api.SealAnswer {
	if st.tool == "" {
		return api.SealAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s called state_seal outside a tool call (in describe); seal while serving a tool", p.name)}
	}
	var req api.SealRequest
	if err := decodeObject(in, &req); err != nil {
		return api.SealAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s: state_seal takes one JSON object {\"data\": TEXT}, with exactly that key, once: %v; nothing was sealed", p.name, err)}
	}
	if p.account == nil {
		return api.SealAnswer{Error: api.Errorf(api.Unavailable, "plugin %s: state_seal binds each seal to the account, and this server cannot tell its account id; nothing was sealed", p.name)}
	}
	acct, _, err := p.account(ctx)
	if err != nil {
		ae := gate.AsAPIError(err)
		return api.SealAnswer{Error: &api.Error{Code: ae.Code, Message: "plugin " + p.name + ": state_seal binds each seal to the account, which could not be read (" + ae.Message + "); nothing was sealed"}}
	}
	return p.sealer.Seal(p.name, acct, req.Data)
}

// stateSealTooBig answers a state_seal input over MaxSealInputBytes,
// unread.
func (p *loaded) stateSealTooBig(_ context.Context, _ *callState, size uint64) []byte {
	return mustJSON(api.SealAnswer{Error: api.Errorf(api.InvalidInput, "plugin %s: the state_seal input is %d bytes; at most %d are read (data of at most %d bytes); nothing was sealed", p.name, size, MaxSealInputBytes, api.MaxSealData)})
}

// decodeObject decodes in, which must be one JSON object (not null, not
// another value), strictly into v.
func decodeObject(in []byte, v any) error {
	if i := skipSpace(in, 0); i >= len(in) || in[i] != '{' {
		return errors.New("the input is not a JSON object")
	}
	return strictjson.Unmarshal(in, v)
}

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
)

// stateFormat versions the state file so that a future change of layout is
// refused clearly instead of misread.
const stateFormat = 1

// maxStateBytes caps the state file read at start, before any of it is
// read: an account at IAM's default quotas, every entity carrying what IAM
// allows it, is well under 100 MB. A variable so that a test can lower it.
var maxStateBytes int64 = 256 << 20

type stateFile struct {
	Format  int      `json:"format"`
	Account *account `json:"account"`
}

// load reads the state file into s.acct. It reports false, nil when there is
// no state file or it does not exist yet (a new account); any other problem
// is an error naming the file, so a damaged file is never silently replaced.
// It first removes the temporary files an interrupted save left behind.
func (s *Server) load() (bool, error) {
	path := s.opts.StateFile
	if path == "" {
		return false, nil
	}
	s.removeStaleTemps(path)
	data, err := readfile.Regular(path, "state file", maxStateBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sandbox: %w", err)
	}
	a, err := decodeState(data, s.id)
	if err != nil {
		return false, fmt.Errorf("sandbox: state file %s %w; fix it, restore it from a copy, or move it away to start a new account", path, err)
	}
	s.acct = a
	return true, nil
}

// decodeState decodes and checks a state file's bytes. Keys are matched
// exactly and once (encoding/json alone would take "USERS" for "Users" and
// the last of two "Users"), unknown keys are refused, and the account is
// then held to every invariant the handlers rely on (checkAccount). The
// error says what is wrong and where, without the file's name, which the
// caller adds.
func decodeState(data []byte, accountID string) (*account, error) {
	var st stateFile
	if err := strictjson.Unmarshal(data, &st); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("is not a sandbox state file: %s (at byte %d)", shortErr(err), syntax.Offset)
		}
		return nil, fmt.Errorf("is not a sandbox state file: %s", shortErr(err))
	}
	switch {
	case st.Format != stateFormat:
		return nil, fmt.Errorf("has format %d, and this build reads format %d only", st.Format, stateFormat)
	case st.Account == nil:
		return nil, errors.New(`has no account (its "account" is missing or null)`)
	}
	if err := checkAccount(st.Account, accountID); err != nil {
		return nil, fmt.Errorf("is inconsistent: %w", err)
	}
	return st.Account, nil
}

// shortErr cuts an error's text to a short prefix: decoding errors may
// quote the input.
func shortErr(err error) string {
	msg := err.Error()
	if r := []rune(msg); len(r) > 300 {
		return string(r[:300]) + "…"
	}
	return msg
}

// tempPattern names the temporary files persist writes beside the state
// file: "." + the state file's name + ".tmp" + the digits os.CreateTemp
// puts in place of its "*".
func tempPattern(path string) *regexp.Regexp {
	return regexp.MustCompile(`^\.` + regexp.QuoteMeta(filepath.Base(path)) + `\.tmp[0-9]+$`)
}

// removeStaleTemps deletes what an interrupted save left beside the state
// file: regular files of persist's naming pattern, and nothing else (not a
// directory or a link of that name, nor any other file). One sandbox owns a
// state file; a second one running on the same file would lose its
// changes anyway.
func (s *Server) removeStaleTemps(path string) {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // the state file's own read reports a directory problem
	}
	pat := tempPattern(path)
	for _, e := range entries {
		if !pat.MatchString(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err != nil {
			s.log.Warn("sandbox: cannot remove a temporary file of an interrupted save", "file", p, "err", err)
			continue
		}
		s.log.Info("sandbox: removed the temporary file of an interrupted save", "file", p)
	}
}

// When the state file is written.
//
// A change of the account (a mutation, SetRoot, RecordServiceUse) is
// written before its answer, as it always was. Reads change bookkeeping
// only, which IAM keeps and so the sandbox keeps over a restart too; it is
// of two kinds, saved differently:
//
//   - Use: a key's last use, a user's service use. It is evidence that
//     nothing can rebuild — a key rotation's cut-over and an access review
//     decide on it —, so reads write it promptly. But a write (marshal the
//     whole account, fsync, rename) per read would make every read cost as
//     much as a change, and a review of a large account reads thousands of
//     times: so a read that leaves use unsaved writes the file itself only
//     when the last write is bookkeepingSaveInterval old or more (or this
//     server has not written it yet). That is at most one write a second
//     whatever the rate of reads, and a lone read after a quiet spell is
//     saved at once; what the reads of the last second recorded is written
//     by the next write, or by Close.
//   - Derived data: a generated credential report, a service-last-accessed
//     job. It is rebuilt from the account by one more Generate call, so it
//     is not worth a write of its own: it is saved with the next write of
//     the file, whatever causes it, or by Close. Reads signed by the
//     sandbox's bootstrap credentials (the MCP server's own, with --sandbox)
//     record no use, so a read-only session writes nothing before Close.
//
// Close is called by the programs that own a sandbox when they stop. Only a
// process killed without it loses bookkeeping: at most a second of use,
// and the reports generated since the last write, never a change of the
// account. There is no timer: nothing is written after Close, or after a
// test has removed the directory of its state file, that no request or
// Close asked for.

// bookkeepingSaveInterval is how often reads' recorded use is written at
// most while requests come.
const bookkeepingSaveInterval = time.Second

// saveBookkeeping writes the state file if reads recorded use since the
// last write and the interval has passed. A failure is logged, not
// returned: the read it follows succeeded, and IAM never fails a read for
// its bookkeeping; the next read after the interval, or Close, tries
// again. Called with s.mu held, read or write.
func (s *Server) saveBookkeeping() {
	if s.opts.StateFile == "" || !s.useUnsaved.Load() {
		return
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if !s.useUnsaved.Load() || (!s.lastSave.IsZero() && time.Since(s.lastSave) < time.Duration(s.saveEvery.Load())) {
		return
	}
	if err := s.persistLocked(); err != nil {
		s.log.Warn("sandbox: cannot save the keys' last use to the state file; will try again", "file", s.opts.StateFile, "err", err)
	}
}

// Close writes what requests recorded since the state file was last
// written (see above): keys' last use, service use, generated reports. Call
// it once the server takes no more requests, so that nothing is lost when
// the program stops; it does not stop a listener, and a server used after
// Close goes on working and saving as before. Without a state file, or
// with nothing unsaved, it does nothing. It may be called more than once.
//
// The management account of an organisation closes its members too.
func (s *Server) Close() error {
	err := s.closeAccount()
	if s.realm != nil && s.realm.mgmt == s {
		err = errors.Join(err, s.realm.closeMembers())
	}
	return err
}

// closeAccount is Close for this account alone.
func (s *Server) closeAccount() error {
	if s.opts.StateFile == "" {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	if !s.useUnsaved.Load() && !s.derivedUnsaved.Load() {
		return nil
	}
	if err := s.persistLocked(); err != nil {
		return fmt.Errorf("sandbox: cannot save the keys' last use and the reports to the state file %s: %w", s.opts.StateFile, err)
	}
	return nil
}

// persist writes the account to the state file atomically: a temp file in
// the same directory, synced, then renamed over the old one. Called with
// s.mu held (or before the server is shared): for writing after a change,
// for reading at least to save bookkeeping, which keyMu guards.
func (s *Server) persist() error {
	if s.opts.StateFile == "" {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	return s.persistLocked()
}

// persistLocked is persist with s.saveMu held: one write at a time, so
// that two savers under the read lock never race to rename, each file
// they write holds everything recorded before it, and the last rename
// is the newest state.
func (s *Server) persistLocked() error {
	path := s.opts.StateFile
	if path == "" {
		return nil
	}
	s.lastSave = time.Now()
	s.keyMu.Lock()
	// Cleared with what they cover marshalled: what is recorded after
	// this sets them again. A failed write sets them back.
	hadUse, hadDerived := s.useUnsaved.Swap(false), s.derivedUnsaved.Swap(false)
	data, err := json.Marshal(stateFile{Format: stateFormat, Account: s.acct})
	s.keyMu.Unlock()
	if err == nil {
		err = s.writeState(path, data)
	}
	if err != nil {
		if hadUse {
			s.useUnsaved.Store(true)
		}
		if hadDerived {
			s.derivedUnsaved.Store(true)
		}
		return err
	}
	return nil
}

// writeState replaces the state file with data.
func (s *Server) writeState(path string, data []byte) error {
	// The name must match tempPattern, so that a save interrupted here is
	// cleaned up at the next start.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if !tempPattern(path).MatchString(filepath.Base(tmp.Name())) {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("sandbox: temporary file %s is not named as expected", tmp.Name())
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

package localiam

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

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
		return false, fmt.Errorf("localiam: %w", err)
	}
	a, err := decodeState(data)
	if err != nil {
		return false, fmt.Errorf("localiam: state file %s %w; fix it, restore it from a copy, or move it away to start a new account", path, err)
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
func decodeState(data []byte) (*account, error) {
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
	if err := checkAccount(st.Account); err != nil {
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
			s.log.Warn("localiam: cannot remove a temporary file of an interrupted save", "file", p, "err", err)
			continue
		}
		s.log.Info("localiam: removed the temporary file of an interrupted save", "file", p)
	}
}

// persist writes the account to the state file atomically: a temp file in
// the same directory, synced, then renamed over the old one. Called with
// s.mu held for writing (or before the server is shared).
func (s *Server) persist() error {
	path := s.opts.StateFile
	if path == "" {
		return nil
	}
	s.keyMu.Lock()
	data, err := json.Marshal(stateFile{Format: stateFormat, Account: s.acct})
	s.keyMu.Unlock()
	if err != nil {
		return err
	}
	// The name must match tempPattern, so that a save interrupted here is
	// cleaned up at the next start.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if !tempPattern(path).MatchString(filepath.Base(tmp.Name())) {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("localiam: temporary file %s is not named as expected", tmp.Name())
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

package localiam

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFormat versions the state file so that a future change of layout is
// refused clearly instead of misread.
const stateFormat = 1

type stateFile struct {
	Format  int      `json:"format"`
	Account *account `json:"account"`
}

// load reads the state file into s.acct. It reports false, nil when there is
// no state file or it does not exist yet (a new account); any other problem
// is an error naming the file, so a damaged file is never silently replaced.
func (s *Server) load() (bool, error) {
	path := s.opts.StateFile
	if path == "" {
		return false, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("localiam: cannot read state file %s: %w", path, err)
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return false, fmt.Errorf("localiam: state file %s is corrupt (%v); restore it from a copy or move it away to start a new account", path, err)
	}
	if st.Format != stateFormat || st.Account == nil {
		return false, fmt.Errorf("localiam: state file %s has format %d, this build reads format %d; move it away to start a new account", path, st.Format, stateFormat)
	}
	a := newAccount()
	// Unmarshal over a fresh account so that maps absent from the file
	// (an empty account, say) are empty rather than nil.
	if err := json.Unmarshal(mustMarshal(st.Account), a); err != nil {
		return false, fmt.Errorf("localiam: state file %s is corrupt: %w", path, err)
	}
	s.acct = a
	return true, nil
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
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
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
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

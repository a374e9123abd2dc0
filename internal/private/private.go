// Package private opens the files and directories the server keeps for its
// user alone — the audit log, the directory of new secret access keys —
// and refuses, rather than quietly repairs, a place that others share.
//
// The rule: a directory for secrets must be the user's own, and no one
// else may write in it (a directory others can write in lets them
// replace, swap or watch for files). It is never chmodded into shape: a
// shared directory such as /tmp (1777) is refused, since loosening was
// someone's choice. Others may be able to list it (mkdir's usual 0755):
// the files in it are 0600, and their names, access key ids, are not
// secret. A directory the server creates is 0700. The audit log, a file the server appends to, is repaired: if
// it is the user's own regular file with group or other bits, those are
// removed and the caller is told, so that a log created by hand with a
// umask of 022 does not stop the server.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// CheckDir reports whether dir may hold secrets: absent (the caller
// creates it 0700), or a directory owned by this user that no group or
// other may write in.
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot check %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if !ownedByMe(fi) {
		return fmt.Errorf("%s belongs to another user; choose a directory of your own", dir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by other users (mode %s); choose a directory only you can write in, or restrict it yourself with chmod 700", dir, modeString(fi.Mode()))
	}
	return nil
}

// MkdirAll creates dir 0700 if it is absent, then checks it with CheckDir.
func MkdirAll(dir string) error {
	if err := CheckDir(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return CheckDir(dir) // another process may have made it first
}

// OpenAppend opens path for appending, creating it 0600. An existing file
// must be a regular file of this user's; if others may read or write it,
// their permissions are removed and fixed says so (the caller logs it).
// A FIFO or device is refused without blocking on it.
func OpenAppend(path string) (f *os.File, fixed string, err error) {
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return nil, "", err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err == nil && !ownedByMe(fi) {
		err = fmt.Errorf("%s belongs to another user; choose a file of your own", path)
	}
	if err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err = f.Chmod(0o600); err == nil {
			fixed = fmt.Sprintf("%s was open to other users (mode %s); it is now 0600", path, modeString(fi.Mode()))
		}
	}
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, fixed, nil
}

func modeString(m fs.FileMode) string {
	s := fmt.Sprintf("%04o", m.Perm())
	if m&fs.ModeSticky != 0 {
		s = fmt.Sprintf("1%03o", m.Perm())
	}
	return s
}

//go:build unix

package plugin

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkCacheOwner refuses a compilation cache directory that another user
// owns or that others may write: it holds machine code that runs without
// the sha256 check, so whoever can write there can run code in the server.
func checkCacheOwner(dir string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("the compilation cache directory %s belongs to user id %d, not to this user (%d); it holds machine code that runs unchecked, so use a directory of your own (--cache-dir)", dir, st.Uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the compilation cache directory %s has mode %v, writable by others; it holds machine code that runs unchecked: chmod 700 it, or use another directory (--cache-dir)", dir, fi.Mode().Perm())
	}
	return nil
}

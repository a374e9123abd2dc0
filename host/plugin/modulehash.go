package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// hashModule returns the sha256 of the module at path, read in small
// pieces and never held whole: a start that finds a plugin's tools in the
// describe cache needs only the module's hash (to check the pin and find
// the entry), and holding the three shipped modules (17 MB) at once would
// cost that much memory, and the time to allocate and clear it, for
// nothing.
//
// It refuses what readfile.Regular refuses, the same way: the file is
// opened without blocking, its type and size are taken from the open
// descriptor, and at most MaxModuleBytes+1 bytes are read. For anything it
// refuses, readfile.Regular itself is asked, so that the message is its
// message (the file changing in between only changes which refusal is
// given, or, were it now acceptable, hashes what Regular read).
func hashModule(path string) (string, error) {
	f, err := openModuleFile(path)
	if err != nil {
		return hashRegular(path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > MaxModuleBytes {
		return hashRegular(path)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, MaxModuleBytes+1))
	if err != nil || n > MaxModuleBytes {
		return hashRegular(path)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashRegular reads and hashes the module with readfile.Regular, for its
// refusal or, if the file changed to one it accepts, its bytes.
func hashRegular(path string) (string, error) {
	wasm, err := readfile.Regular(path, "module", MaxModuleBytes)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:]), nil
}

// checkPin refuses a module whose sha256 is not the one the plugins file
// pins, saying what to do.
func (p *loaded) checkPin(sha string) error {
	if want := p.pinned(); sha != want {
		return fmt.Errorf("plugin %s: %s has sha256 %s, but the plugins file pins %s; the module was refused. If the new module is trusted, put its hash in the plugins file",
			p.name, p.path, sha, want)
	}
	return nil
}

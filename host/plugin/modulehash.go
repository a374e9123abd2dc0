package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// hashModule returns the sha256 of the module at path, read in pieces and
// never held whole (readfile.Copy: what readfile.Regular refuses, refused
// the same way): a start that finds a plugin's tools in the describe cache
// needs only the module's hash (to check the pin and find the entry), and
// holding the shipped modules (17 MB) at once would cost that much memory,
// and the time to allocate and clear it, for nothing.
func hashModule(path string) (string, error) {
	h := sha256.New()
	if err := readfile.Copy(h, path, "module", MaxModuleBytes); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readModuleFile reads the module at path whole (to compile it) and
// returns it with its sha256.
func readModuleFile(path string) ([]byte, string, error) {
	wasm, err := readfile.Regular(path, "module", MaxModuleBytes)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(wasm)
	return wasm, hex.EncodeToString(sum[:]), nil
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

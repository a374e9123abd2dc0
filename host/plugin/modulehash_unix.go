//go:build unix

package plugin

import (
	"os"
	"syscall"
)

// openModuleFile opens path for reading without blocking, as
// readfile.Regular does: a FIFO with no writer opens at once (and is then
// refused as not a regular file) instead of hanging the start-up.
func openModuleFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

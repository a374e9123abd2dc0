//go:build unix

package readfile

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading without blocking: a FIFO with no
// writer opens at once (and is then refused as not a regular file) instead
// of hanging the start-up. For a regular file the flag changes nothing.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

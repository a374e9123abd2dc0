//go:build !unix

package plugin

import "os"

// openModuleFile opens path for reading; without Unix's O_NONBLOCK the
// type and size checks that follow still refuse anything but a regular
// file of bounded size.
func openModuleFile(path string) (*os.File, error) {
	return os.Open(path)
}

//go:build !unix

package plugin

import "io/fs"

// checkCacheOwner has no owner or mode to check where Unix permissions do
// not apply; the directory is still created 0700.
func checkCacheOwner(dir string, fi fs.FileInfo) error { return nil }

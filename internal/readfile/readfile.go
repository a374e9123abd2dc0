// Package readfile reads a file named by outside configuration — a
// plugin's module, the plugins file, the sandbox's state file — refusing
// anything but a regular file of bounded size, without ever blocking on it.
package readfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Regular reads the file at path, which must be a regular file of
// at most max bytes (a symbolic link is followed to what it names, which
// must be one too).
//
// A path from the operator's file can name anything: a directory, a device
// (/dev/zero never ends), a FIFO (opening one for reading blocks until a
// writer comes, and a process blocked in open(2) does not even see
// SIGTERM). So the file is opened without blocking (O_NONBLOCK, where the
// system has it), its type and size are taken from the open descriptor
// (not from the path, which could be swapped in between), and at most
// max+1 bytes are read, so that a file that grows while it is read is
// refused too, rather than read without end. what names the file in
// errors ("module", "plugins file").
func Regular(path, what string, max int64) ([]byte, error) {
	var b bytes.Buffer
	if err := Copy(&b, path, what, max); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Copy writes the file at path to w, refusing what Regular refuses, the
// same way; for a reader that needs the bytes only once (a hash), so that
// they are never held whole.
func Copy(w io.Writer, path, what string, max int64) error {
	f, err := openNonBlocking(path)
	if err != nil {
		return fmt.Errorf("cannot open the %s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read the %s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the %s %s is %s, not a regular file; name the file itself", what, path, fileKind(fi.Mode()))
	}
	if fi.Size() > max {
		return fmt.Errorf("the %s %s is %d bytes, more than the %d this server reads; is it the right file?", what, path, fi.Size(), max)
	}
	n, err := io.Copy(w, io.LimitReader(f, max+1))
	if err != nil {
		return fmt.Errorf("cannot read the %s: %w", what, err)
	}
	if n > max {
		return fmt.Errorf("the %s %s grew past %d bytes while it was read; is something writing it?", what, path, max)
	}
	return nil
}

// fileKind names what a non-regular file is, for an error.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

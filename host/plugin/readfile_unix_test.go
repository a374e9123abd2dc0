//go:build unix

package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
)

// noHang runs f and fails the test if it has not returned within two
// minutes. The deadline only guards against a hang (a FIFO used to block
// start-up for ever); it measures nothing.
func noHang(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // a guard against a hang: the read must not block at all
		t.Fatalf("%s did not return: it blocks", what)
	}
}

// TestModulePathMustBeARegularFileOfBoundedSize: a plugin's path (and the
// plugins file, and `plugins inspect`'s module) that names a FIFO, a
// device that never ends, a directory, a symbolic link to one of those, or
// a file over the cap is refused at load with an error saying what it is,
// without blocking and without reading it.
func TestModulePathMustBeARegularFileOfBoundedSize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.wasm")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.wasm")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: it takes no disk, and reads as MaxModuleBytes+1 zero bytes.
	if err := f.Truncate(MaxModuleBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		fifo:                                  "a named pipe (FIFO), not a regular file",
		link("fifo-link.wasm", fifo):          "a named pipe (FIFO), not a regular file",
		"/dev/zero":                           "a character device, not a regular file",
		link("zero-link.wasm", "/dev/zero"):   "a character device, not a regular file",
		dir:                                   "a directory, not a regular file",
		link("dir-link.wasm", dir):            "a directory, not a regular file",
		big:                                   "more than the 67108864 this server reads",
		link("big-link.wasm", big):            "more than the 67108864 this server reads",
		filepath.Join(dir, "missing.wasm"):    "no such file",
		link("dangling.wasm", "/nonexistent"): "no such file",
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero here")
	}
	g, _, _ := sandboxGate(t, gate.Options{})
	for path, want := range cases {
		s := spec("good")
		s.Path = path
		noHang(t, "Load of "+path, func() {
			_, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g, CacheDir: cacheDir})
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "plugin good") {
				t.Errorf("Load of %s: %v, want %q", path, err, want)
			}
		})
		noHang(t, "Inspect of "+path, func() {
			if _, _, err := Inspect(ctx, path); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Inspect of %s: %v, want %q", path, err, want)
			}
		})
		wantFile := strings.Replace(want, "67108864", "1048576", 1)
		noHang(t, "LoadConfig of "+path, func() {
			if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), wantFile) || !strings.Contains(err.Error(), "plugins file") {
				t.Errorf("LoadConfig of %s: %v, want %q", path, err, wantFile)
			}
		})
	}
	// The real module through a symbolic link loads: a link is followed to
	// what it names, and only that is judged.
	s := spec("good")
	s.Path = link("good-link.wasm", wasmPath["good"])
	h, err := Load(ctx, &Config{Plugins: []Spec{s}}, Options{Gate: g, CacheDir: cacheDir})
	if err != nil {
		t.Fatalf("a link to a real module: %v", err)
	}
	h.Close(ctx)
}

package plugin

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// startPlugin compiles p if Load did not and starts one instance with a
// describe, as a Load that finds no describe cache entry does: for tests
// that count instances or change limits from there.
func startPlugin(t testing.TB, p *loaded) {
	t.Helper()
	if _, err := p.invoke(ctx, api.ExportDescribe, nil, &callState{}, "describe", p.startupLimit()); err != nil {
		t.Fatal(err)
	}
}

// fresh is the good plugin with a config value of its own, so that its
// describe cache key is the test's alone (tests share cacheDir, whose
// machine code makes the compiles fast, and run in parallel).
func fresh(t testing.TB) Spec {
	t.Helper()
	s := spec("good")
	s.Config = map[string]string{"test": t.Name() + "-" + rand.Text()}
	return s
}

// entryPath is the describe cache entry of the first plugin of e.
func entryPath(e *env) string {
	p := e.h.plugins[0]
	return p.dcache.path(p.dkey)
}

// TestDescribeCacheListsToolsWithoutInstantiating: the first Load with a
// module compiles it, describes it, says so at Info level, and keeps the
// answer; the next Load lists the same tools with nothing compiled or
// instantiated; the first call then compiles the plugin, starts it, and
// works.
func TestDescribeCacheListsToolsWithoutInstantiating(t *testing.T) {
	t.Parallel()
	s := fresh(t)
	cold := newEnv(t, gate.Options{}, s)
	cp := cold.h.plugins[0]
	if cp.compiles.Load() != 1 || cp.instances.Load() != 1 {
		t.Errorf("cold load: %d compiles, %d instances; want 1 and 1", cp.compiles.Load(), cp.instances.Load())
	}
	if !strings.Contains(cold.logs.String(), `"level":"INFO","msg":"compiling the plugin: the first start with this module or its settings; later starts use the cache"`) {
		t.Errorf("a cold load does not say at Info level what it compiles:\n%s", cold.logs)
	}
	fi, err := os.Stat(entryPath(cold))
	if err != nil {
		t.Fatalf("no describe cache entry after a cold load: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("entry mode %v, want 0600", fi.Mode().Perm())
	}
	if di, err := os.Stat(filepath.Dir(entryPath(cold))); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("describe cache directory: %v, %v; want mode 0700", di, err)
	}

	warm := newEnv(t, gate.Options{}, s)
	p := warm.h.plugins[0]
	if p.compiles.Load() != 0 || p.instances.Load() != 0 || p.compiled != nil || p.pool != nil {
		t.Errorf("warm load: %d compiles, %d instances (compiled %v); want nothing compiled or instantiated", p.compiles.Load(), p.instances.Load(), p.compiled != nil)
	}
	if strings.Contains(warm.logs.String(), "compiling the plugin") {
		t.Errorf("a warm load says it compiles:\n%s", warm.logs)
	}
	if !reflect.DeepEqual(warm.h.Tools(), cold.h.Tools()) || !reflect.DeepEqual(warm.h.Plugins(), cold.h.Plugins()) {
		t.Errorf("tools from the cache differ from a fresh describe's:\n%+v\n%+v", warm.h.Tools(), cold.h.Tools())
	}

	res := warm.call(t, "good_echo", `{"a":1}`)
	if s := structured(t, res); s["bytes"] != float64(len(`{"a":1}`)) {
		t.Errorf("first call after a warm load: %+v", s)
	}
	if p.compiles.Load() != 1 || p.instances.Load() != 1 {
		t.Errorf("after the first call: %d compiles, %d instances; want 1 and 1", p.compiles.Load(), p.instances.Load())
	}
	warm.call(t, "good_echo", `{}`)
	if p.compiles.Load() != 1 || p.instances.Load() != 1 {
		t.Errorf("after the second call: %d compiles, %d instances; want the same 1 and 1", p.compiles.Load(), p.instances.Load())
	}
}

// TestConcurrentFirstCallsCompileOnce: calls that arrive together at a
// plugin listed from the describe cache compile it once, and all work.
func TestConcurrentFirstCallsCompileOnce(t *testing.T) {
	t.Parallel()
	s := fresh(t)
	s.Limits.Timeout = 10 * time.Minute // only guards against a hang: 16 calls share 8 instances
	newEnv(t, gate.Options{}, s)        // writes the entry
	e := newEnv(t, gate.Options{}, s)
	p := e.h.plugins[0]
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := e.h.Call(ctx, "good_echo", json.RawMessage(`{}`), nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.compiles.Load(); n != 1 {
		t.Errorf("%d compiles for 16 concurrent first calls, want 1", n)
	}
	if n := p.instances.Load(); n < 1 || n > defaultMaxInstances {
		t.Errorf("%d instances, want 1 to %d", n, defaultMaxInstances)
	}
}

// TestTamperedDescribeCacheRefusesCalls: an entry that passes every check
// (a valid entry of the right key, a valid description) but is not what
// the module answers lists its tools; the plugin's first instance then
// answers differently, so every call is refused with an error that says
// why and what to do, the entry is removed, and the next start describes
// the plugin afresh.
func TestTamperedDescribeCacheRefusesCalls(t *testing.T) {
	t.Parallel()
	s := fresh(t)
	cold := newEnv(t, gate.Options{}, s)
	cp := cold.h.plugins[0]
	tampered := bytes.Replace(cp.described, []byte(`"name":"echo"`), []byte(`"name":"echo2"`), 1)
	if bytes.Equal(tampered, cp.described) {
		t.Fatalf("good's describe has no echo tool: %s", cp.described)
	}
	if err := cp.dcache.store(cp.dkey, tampered); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t, gate.Options{}, s)
	if _, ok := e.h.byTool["good_echo2"]; !ok {
		t.Fatalf("the tampered entry was not used: %v", e.h.Tools())
	}
	for _, tool := range []string{"good_echo2", "good_probe", "good_echo2"} {
		_, err := e.h.Call(ctx, tool, json.RawMessage(`{}`), nil)
		mustFail(t, err, api.Internal, "good", "describe now answers differently", "restarted")
	}
	if _, err := os.Stat(entryPath(e)); !os.IsNotExist(err) {
		t.Errorf("the entry is still there after the plugin answered differently: %v", err)
	}
	if n := strings.Count(e.logs.String(), "plugin refused: describe answered differently"); n != 1 {
		t.Errorf("the refusal is logged %d times, want once:\n%s", n, e.logs)
	}

	again := newEnv(t, gate.Options{}, s)
	if _, ok := again.h.byTool["good_echo"]; !ok || !strings.Contains(again.logs.String(), "compiling the plugin") {
		t.Errorf("the start after a refusal does not describe the plugin afresh: %v\n%s", again.h.Tools(), again.logs)
	}
	again.call(t, "good_echo", `{}`)
}

// TestCorruptDescribeCacheEntryIsRebuilt: an entry that is damaged,
// foreign or unreadable is ignored (said at debug level), the plugin is
// compiled and described as on a first start, and the entry is written
// again.
func TestCorruptDescribeCacheEntryIsRebuilt(t *testing.T) {
	t.Parallel()
	s := fresh(t)
	cold := newEnv(t, gate.Options{}, s)
	good, err := os.ReadFile(entryPath(cold))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x01 // inside the answer: the checksum no longer holds
	otherKey := encodeEntry(strings.Repeat("0", 64), cold.h.plugins[0].described)
	for name, b := range map[string][]byte{
		"empty":     {},
		"garbage":   []byte("not an entry"),
		"truncated": good[:len(good)-10],
		"flipped":   flipped,
		"other key": otherKey,
		"no JSON":   encodeEntry(cold.h.plugins[0].dkey, []byte("<html>")),
	} {
		if err := os.WriteFile(entryPath(cold), b, 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, gate.Options{}, s)
		p := e.h.plugins[0]
		if p.compiles.Load() != 1 || !strings.Contains(e.logs.String(), "describe cache entry ignored") || !strings.Contains(e.logs.String(), "compiling the plugin") {
			t.Errorf("%s entry: %d compiles; want it ignored and the plugin compiled:\n%s", name, p.compiles.Load(), e.logs)
		}
		if !reflect.DeepEqual(e.h.Tools(), cold.h.Tools()) {
			t.Errorf("%s entry: tools %v", name, e.h.Tools())
		}
		if b, err := os.ReadFile(entryPath(cold)); err != nil || !bytes.Equal(b, good) {
			t.Errorf("%s entry: not rewritten (%v)", name, err)
		}
		e.h.Close(ctx)
	}
}

// TestDescribeCacheKey: the key changes with everything describe may
// depend on, and with nothing else.
func TestDescribeCacheKey(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	ro, _, _ := sandboxGate(t, gate.Options{ReadOnly: true})
	key := func(s Spec, g *gate.Gate) string {
		t.Helper()
		p, err := newLoaded(s, discardLogger())
		if err != nil {
			t.Fatal(err)
		}
		p.gate, p.sha = g, s.SHA256
		return p.describeKey()
	}
	base := Spec{Name: "p", Path: "p.wasm", SHA256: strings.Repeat("a", 64), Config: map[string]string{"a": "1", "b": "2"}, Grants: []string{"list_users"}}
	k := key(base, g)
	if len(k) != 64 || !isLowerHex(k) {
		t.Fatalf("key %q is not a hex sha256", k)
	}
	same := base
	same.Config = map[string]string{"b": "2", "a": "1"}
	same.Path, same.Prefix, same.Limits.Timeout, same.Limits.MaxIAMCalls = "elsewhere.wasm", strp("x"), time.Hour, 5
	if key(same, g) != k {
		t.Error("the key changed with what describe cannot see (path, prefix, timeout, IAM caps) or with the config's order")
	}
	for what, change := range map[string]func(*Spec) (*gate.Gate, Spec){
		"config value": func(s *Spec) (*gate.Gate, Spec) { s.Config = map[string]string{"a": "1", "b": "3"}; return g, *s },
		"config key":   func(s *Spec) (*gate.Gate, Spec) { s.Config = map[string]string{"a": "1", "c": "2"}; return g, *s },
		"no config":    func(s *Spec) (*gate.Gate, Spec) { s.Config = nil; return g, *s },
		"module":       func(s *Spec) (*gate.Gate, Spec) { s.SHA256 = strings.Repeat("b", 64); return g, *s },
		"memory limit": func(s *Spec) (*gate.Gate, Spec) { s.Limits.Memory = "128MiB"; return g, *s },
		"name":         func(s *Spec) (*gate.Gate, Spec) { s.Name = "q"; return g, *s },
		"grants":       func(s *Spec) (*gate.Gate, Spec) { s.Grants = []string{"read"}; return g, *s },
		"read-only":    func(s *Spec) (*gate.Gate, Spec) { return ro, *s },
	} {
		s := base
		s.Config = map[string]string{"a": "1", "b": "2"}
		gg, s := change(&s)
		if key(s, gg) == k {
			t.Errorf("the key does not change with the %s", what)
		}
	}
}

// TestChangedModuleRefusedAtFirstUse: a plugin listed from the describe
// cache keeps no module; its first call reads the file again, refuses it
// when its sha256 is no longer the pinned one (with Load's message), and
// the next call, once the file is right again, works.
func TestChangedModuleRefusedAtFirstUse(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile(wasmPath["good"])
	if err != nil {
		t.Fatal(err)
	}
	s := fresh(t)
	s.Path = filepath.Join(t.TempDir(), "good.wasm")
	if err := os.WriteFile(s.Path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	newEnv(t, gate.Options{}, s)
	e := newEnv(t, gate.Options{}, s)
	if err := os.WriteFile(s.Path, append(bytes.Clone(orig), 0), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = e.h.Call(ctx, "good_echo", json.RawMessage(`{}`), nil)
	mustFail(t, err, api.Internal, "good", "but the plugins file pins "+s.SHA256, "the module was refused", "nothing was run")
	if err := os.WriteFile(s.Path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	e.call(t, "good_echo", `{}`)
	if n := e.h.plugins[0].compiles.Load(); n != 1 {
		t.Errorf("%d compiles, want 1 (the refused module is not compiled)", n)
	}
}

// TestCloseBeforeFirstUse: a runtime closed before a plugin listed from
// the describe cache was used closes without compiling it, and a call
// after Close compiles nothing.
func TestCloseBeforeFirstUse(t *testing.T) {
	t.Parallel()
	s := fresh(t)
	newEnv(t, gate.Options{}, s)
	e := newEnv(t, gate.Options{}, s)
	p := e.h.plugins[0]
	if err := e.h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Call(ctx, "good_echo", nil, nil); err == nil {
		t.Error("a call after Close worked")
	}
	if err := p.ensureCompiled(ctx, "a test"); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("compiling after Close: %v", err)
	}
	if p.compiles.Load() != 0 {
		t.Errorf("%d compiles after Close", p.compiles.Load())
	}
}

// TestDescribeCacheDirectoryRefusedWhenNotADirectory: the describe cache's
// place taken by a file or a symbolic link is refused at Load, saying
// what to do.
func TestDescribeCacheDirectoryRefusedWhenNotADirectory(t *testing.T) {
	t.Parallel()
	g, _, _ := sandboxGate(t, gate.Options{})
	for name, mk := range map[string]func(string) error{
		"file":    func(p string) error { return os.WriteFile(p, nil, 0o600) },
		"symlink": func(p string) error { return os.Symlink(t.TempDir(), p) },
	} {
		dir := t.TempDir()
		if err := mk(filepath.Join(dir, describeCacheSubdir)); err != nil {
			t.Fatal(err)
		}
		_, err := Load(ctx, &Config{Plugins: []Spec{spec("good")}}, Options{Gate: g, CacheDir: dir})
		if err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Errorf("%s in the describe cache's place: %v", name, err)
		}
	}
}

// TestDescribeCacheEntryRoundTrip: what store writes, load reads back
// exactly; decodeEntry refuses every way an entry can be wrong.
func TestDescribeCacheEntryRoundTrip(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"name":"p","version":"1","description":"d","tools":[{"name":"t","description":"x","input_schema":{"type":"object"},"operations":["list_users"]}]}`)
	key := strings.Repeat("ab", 32)
	c, err := openDescribeCache(t.TempDir(), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.store(key, raw); err != nil {
		t.Fatal(err)
	}
	d, got, ok := c.load("p", key)
	if !ok || !bytes.Equal(got, raw) || len(d.Tools) != 1 || d.Tools[0].Name != "t" {
		t.Fatalf("load after store: %v %s %+v", ok, got, d)
	}
	if _, _, ok := c.load("p", strings.Repeat("cd", 32)); ok {
		t.Error("an entry found under a key never stored")
	}
	if err := c.remove(key); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.load("p", key); ok {
		t.Error("an entry found after remove")
	}
	if err := c.remove(key); err != nil {
		t.Errorf("removing a missing entry: %v", err)
	}
	entries, _ := os.ReadDir(c.dir)
	if len(entries) != 0 {
		t.Errorf("left in the directory: %v", entries)
	}

	entry := encodeEntry(key, raw)
	sum := entry[len(entryMagic)+len("key ")+64+len("\nsha256 ") : entryHeaderLen-1]
	upper := bytes.Replace(entry, sum, bytes.ToUpper(sum), 1)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"empty":           {nil, "no header"},
		"other magic":     {append([]byte("iam-mcp-server describe cache entry v2\n"), entry[len(entryMagic):]...), "no header"},
		"other key":       {encodeEntry(strings.Repeat("0", 64), raw), "another key"},
		"uppercase sum":   {upper, "no sha256 line"},
		"answer changed":  {append(bytes.Clone(entry), ' '), "does not have the sha256"},
		"answer cut":      {entry[:len(entry)-1], "does not have the sha256"},
		"not a describe":  {encodeEntry(key, []byte(`{"tools":[],"Tools":[]}`)), "not a plugin description"},
		"a duplicate":     {encodeEntry(key, []byte(`{"tools":[{"name":"t"},{"name":"t"}]}`)), "twice"},
		"too big":         {make([]byte, maxEntryBytes+1), "more than"},
		"empty answer":    {encodeEntry(key, nil), "describe did not return a JSON object"},
		"header cut":      {entry[:entryHeaderLen-1], "no header"},
		"no key line":     {bytes.Replace(entry, []byte("key "), []byte("kez "), 1), "no key line"},
		"no sha256 line":  {bytes.Replace(entry, []byte("sha256 "), []byte("sha257 "), 1), "no sha256 line"},
		"sha256 line cut": {bytes.Replace(entry, []byte("\nsha256 "), []byte("\nsha256\n"), 1), "no sha256 line"},
	} {
		if _, _, err := decodeEntry("p", key, tc.b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// FuzzDescribeCacheEntry: whatever bytes an entry holds, decodeEntry never
// panics, and accepts only what encodeEntry writes for the key: an
// accepted entry re-encodes to the same bytes, and its answer is one a
// fresh describe could have given.
func FuzzDescribeCacheEntry(f *testing.F) {
	key := strings.Repeat("5a", 32)
	for _, raw := range []string{
		`{"name":"p","version":"1","description":"d","tools":[{"name":"t","input_schema":{"type":"object"},"operations":["list_users"]}]}`,
		`{"tools":[]}`,
		`{}`,
		`{"tools":[],"Tools":[{"name":"delete_user"}]}`,
		`[]`,
		``,
		`{"` + strings.Repeat("k", 5000) + `":1}`,
		`{"tools":[{"name":"` + strings.Repeat("x", 5000) + `"}]}`,
		`{"tools":[{"name":"t","input_schema":{"type":"` + strings.Repeat("s", 5000) + `"}}]}`,
	} {
		f.Add(encodeEntry(key, []byte(raw)))
	}
	f.Add([]byte(entryMagic))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, raw, err := decodeEntry("p", key, b)
		if err != nil {
			if d != nil || raw != nil {
				t.Errorf("an error (%v) with a description", err)
			}
			if len(err.Error()) > 400 {
				t.Errorf("an error of %d bytes: it echoes too much of the entry", len(err.Error()))
			}
			return
		}
		if !bytes.Equal(encodeEntry(key, raw), b) {
			t.Errorf("accepted %q, which is not what encodeEntry writes for its answer", b)
		}
		if _, err := parseDescription("p", raw); err != nil {
			t.Errorf("accepted an answer a fresh describe would fail with: %v", err)
		}
		if _, _, err := decodeEntry("p", hex.EncodeToString(make([]byte, 32)), b); err == nil {
			t.Error("the entry is accepted under another key too")
		}
	})
}

package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/template"

	"github.com/iammcp/iam-mcp-server/internal/readfile"
)

// `iam-mcp-server plugins new NAME` writes the starting point of a plugin
// in a module of its own: the module (go.mod, and with --sdk the server's
// go.sum), the plugin's main package with one tool, the tag-free workflow
// package with that tool's logic, its native test with the test kit
// (sdk/hostiam/hostiamtest) and its Wasm test, a Makefile that builds the
// module as `make plugins` does and pins its sha256, the plugins-file
// entry and a README. What it writes builds and passes its own tests
// unchanged (TestPluginsNew runs them).

// scaffoldFiles are the templates, each named as the file it becomes plus
// ".tmpl" ("gitignore" becomes ".gitignore": go:embed leaves out names
// starting with a dot). Their placeholders are <%.Field%> of scaffold, a
// delimiter neither Go, YAML nor make uses.
//
//go:embed scaffold
var scaffoldFiles embed.FS

// serverModule is this module's path: what a plugin's module requires.
const serverModule = "github.com/iammcp/iam-mcp-server"

// scaffoldTool is the tool the new plugin offers.
const scaffoldTool = "users_without_mfa"

// localVersion is the version a plugin's module requires of the server
// module when a replace directive points at a checkout (--sdk): Go's
// conventional placeholder for a module that is only ever replaced.
const localVersion = "v0.0.0-00010101000000-000000000000"

// maxGoModBytes bounds the checkout's go.mod that --sdk reads, and
// maxGoSumBytes its go.sum: far above this module's (a few KiB), far below
// anything that would hurt.
const (
	maxGoModBytes = 1 << 20
	maxGoSumBytes = 16 << 20
)

// scaffold is what the templates are filled with.
type scaffold struct {
	Name     string // the plugin's name, as in the plugins file
	Module   string // the new module's path
	Tool     string // the tool's name, unprefixed
	FullTool string // the tool as the server serves it: <Name>_<Tool>
	server   *serverCheckout
}

// serverCheckout is what --sdk DIR gives the new module: DIR's go.mod read
// by parseServerGoMod, and its go.sum.
type serverCheckout struct {
	dir string // absolute
	mod *serverGoMod
	sum []byte
}

// runPluginsNew is `iam-mcp-server plugins new NAME [--dir DIR] [--module
// PATH] [--sdk DIR]`: usage errors exit 2, a refusal to write (an existing
// non-empty directory, an unreadable --sdk) exits 1.
func runPluginsNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plugins new", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "")
	module := fs.String("module", "", "")
	sdk := fs.String("sdk", "", "")
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage["plugins new"])
		return 0
	case err != nil:
		return usageFailure(stderr, "plugins new", &usageError{flagMessage(err)})
	case len(pos) == 0:
		return usageFailure(stderr, "plugins new", usagef("which plugin? Name it, e.g. plugins new mfa-report"))
	case len(pos) > 1:
		return usageFailure(stderr, "plugins new", usagef("unexpected argument %s: give one name (and --dir for where it goes)", quoted(pos[1])))
	}
	s, err := newScaffold(pos[0], *module)
	if err != nil {
		return usageFailure(stderr, "plugins new", err)
	}
	if *dir == "" {
		*dir = s.Name
	}
	if *sdk != "" {
		if s.server, err = readServerCheckout(*sdk); err != nil {
			fmt.Fprintf(stderr, "iam-mcp-server plugins new: %v\n", err)
			return 1
		}
	}
	files, err := s.files()
	if err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server plugins new: %v\n", err)
		return 1
	}
	if err := writeNewDir(*dir, files); err != nil {
		fmt.Fprintf(stderr, "iam-mcp-server plugins new: %v\n", err)
		return 1
	}
	s.printNext(stdout, *dir)
	return 0
}

// pluginName is what the plugins file accepts as a name (host/plugin's
// rule), less a leading '-', which the command line would read as a flag
// and Go refuses at the start of a module path's element.
var pluginName = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_-]{0,63}$`)

// modulePath is a Go module path this command writes: a domain name
// first (letters, digits, '-', and at least one dot), then elements of
// letters, digits and '-', '.', '_', '~', none empty or starting or ending
// with a dot.
var (
	moduleDomain  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	moduleElement = regexp.MustCompile(`^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$`)
)

// maxModulePath bounds --module, as Go's own checks do in effect.
const maxModulePath = 300

// newScaffold checks the plugin's name and module path: usage errors,
// saying what a valid one looks like.
func newScaffold(name, module string) (*scaffold, error) {
	if !pluginName.MatchString(name) {
		return nil, usagef("the name %s must be 1 to 64 letters, digits, '_' or '-', not starting with '-', as the plugins file accepts", quoted(name))
	}
	full := name + "_" + scaffoldTool
	if len(full) > 64 {
		return nil, usagef("the name %s is too long: its tool would be served as %s, %d characters, and MCP allows 64; use at most %d characters",
			quoted(name), quoted(full), len(full), 64-1-len(scaffoldTool))
	}
	if module == "" {
		module = "example.com/" + name
	}
	if err := checkModulePath(module); err != nil {
		return nil, err
	}
	return &scaffold{Name: name, Module: module, Tool: scaffoldTool, FullTool: full}, nil
}

func checkModulePath(module string) error {
	if len(module) > maxModulePath {
		return usagef("the module path is %d characters; give one of at most %d", len(module), maxModulePath)
	}
	elems := strings.Split(module, "/")
	if !moduleDomain.MatchString(elems[0]) {
		return usagef("the module path %s must start with a domain name in lower case, e.g. example.com/NAME or github.com/you/NAME", quoted(module))
	}
	for _, e := range elems[1:] {
		if !moduleElement.MatchString(e) {
			return usagef("the module path %s has the element %s: each element is letters, digits, '-', '.', '_' or '~', not empty and not starting or ending with a dot", quoted(module), quoted(e))
		}
	}
	if module == serverModule || strings.HasPrefix(module, serverModule+"/") {
		return usagef("the module path %s is the server's own; give the plugin's module a path of its own", quoted(module))
	}
	return nil
}

// readServerCheckout reads --sdk DIR: a checkout of this module.
func readServerCheckout(dir string) (*serverCheckout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b, err := readfile.Regular(filepath.Join(abs, "go.mod"), "--sdk directory's go.mod", maxGoModBytes)
	if err != nil {
		return nil, fmt.Errorf("%w; --sdk names a checkout of %s, the directory holding its go.mod", err, serverModule)
	}
	mod, err := parseServerGoMod(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(abs, "go.mod"), err)
	}
	sum, err := readfile.Regular(filepath.Join(abs, "go.sum"), "--sdk directory's go.sum", maxGoSumBytes)
	if err != nil {
		return nil, fmt.Errorf("%w; the plugin's module needs the checkout's go.sum to build from the module cache", err)
	}
	return &serverCheckout{dir: abs, mod: mod, sum: sum}, nil
}

// serverGoMod is what the new module takes from the server's go.mod.
type serverGoMod struct {
	goVersion string
	toolchain string // "" for none
	requires  []requirement
}

type requirement struct{ path, version string }

// The shapes go.mod's fields take, checked strictly: what is written into
// the new go.mod must be exactly one field each.
var (
	goVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?$`)
	toolchainPattern = regexp.MustCompile(`^(default|go[0-9]+\.[0-9]+(\.[0-9]+)?((rc|beta)[0-9]+)?(\+[A-Za-z0-9._-]+)?)$`)
	reqPathPattern   = regexp.MustCompile(`^[A-Za-z0-9._~+-]+(/[A-Za-z0-9._~+-]+)*$`)
	versionPattern   = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

// maxRequirements bounds the requirements read from the checkout's go.mod.
const maxRequirements = 2000

// parseServerGoMod reads the server checkout's go.mod: its module must be
// serverModule; its go and toolchain lines and its requirements are kept,
// so that the plugin's module builds with the versions the server is
// tested with. A replace or exclude directive is refused: a module that
// requires the server does not inherit them, so the build would differ.
// Retract, godebug, tool and ignore directives concern the server's own
// module and are skipped.
func parseServerGoMod(b []byte) (*serverGoMod, error) {
	m := &serverGoMod{}
	module := ""
	block := "" // the verb of the block being read, "" outside one
	for i, line := range strings.Split(string(b), "\n") {
		at := fmt.Sprintf("line %d", i+1)
		if c := strings.Index(line, "//"); c >= 0 {
			line = line[:c]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		verb, rest := block, f
		switch {
		case block != "" && len(f) == 1 && f[0] == ")":
			block = ""
			continue
		case block != "":
		case len(f) == 2 && f[1] == "(":
			block = f[0]
			if !knownDirective(block) {
				return nil, fmt.Errorf("%s: unknown directive %s", at, quoted(block))
			}
			continue
		default:
			verb, rest = f[0], f[1:]
		}
		switch verb {
		case "module":
			if module != "" || len(rest) != 1 {
				return nil, fmt.Errorf("%s: a go.mod names one module, once", at)
			}
			module = rest[0]
		case "go":
			if len(rest) != 1 || !goVersionPattern.MatchString(rest[0]) {
				return nil, fmt.Errorf("%s: the go directive is not a Go version", at)
			}
			m.goVersion = rest[0]
		case "toolchain":
			if len(rest) != 1 || !toolchainPattern.MatchString(rest[0]) {
				return nil, fmt.Errorf("%s: the toolchain directive is not a Go toolchain", at)
			}
			m.toolchain = rest[0]
		case "require":
			if len(rest) != 2 || !reqPathPattern.MatchString(rest[0]) || !versionPattern.MatchString(rest[1]) || len(rest[0]) > maxModulePath {
				return nil, fmt.Errorf("%s: a requirement is a module path and a version", at)
			}
			if len(m.requires) == maxRequirements {
				return nil, fmt.Errorf("%s: more than %d requirements; is this the server's go.mod?", at, maxRequirements)
			}
			m.requires = append(m.requires, requirement{rest[0], rest[1]})
		case "replace", "exclude":
			return nil, fmt.Errorf("%s: the checkout's go.mod has a %s directive, which a module requiring the server does not inherit; build the plugin against a checkout without one", at, verb)
		case "retract", "godebug", "tool", "ignore":
		default:
			return nil, fmt.Errorf("%s: unknown directive %s", at, quoted(verb))
		}
	}
	switch {
	case block != "":
		return nil, fmt.Errorf("the %s block is not closed", block)
	case module != serverModule:
		return nil, fmt.Errorf("the module is %s, not %s: --sdk names a checkout of the server", quoted(module), serverModule)
	case m.goVersion == "":
		return nil, errors.New("there is no go directive")
	}
	return m, nil
}

func knownDirective(verb string) bool {
	switch verb {
	case "require", "replace", "exclude", "retract", "godebug", "tool", "ignore":
		return true
	}
	return false
}

// goMod is the new module's go.mod. With a checkout, it requires the
// server at localVersion, replaced by the checkout, and every module the
// server requires (so that the plugin's tests, which import the server's
// host packages through the test kit, build with -mod=readonly from the
// module cache, with the versions the server is tested with; `go mod tidy`
// later trims what the plugin does not use). Without one, it requires the
// server at this binary's version when that is a release, and otherwise
// nothing yet (printNext says to `go get` it).
func (s *scaffold) goMod() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "module %s\n\n", s.Module)
	if s.server == nil {
		fmt.Fprintf(&b, "go %s\n", goVersionOfBuild())
		if v := releaseVersion(); v != "" {
			fmt.Fprintf(&b, "\nrequire %s %s\n", serverModule, v)
		}
		return b.Bytes()
	}
	m := s.server.mod
	fmt.Fprintf(&b, "go %s\n", m.goVersion)
	if m.toolchain != "" {
		fmt.Fprintf(&b, "\ntoolchain %s\n", m.toolchain)
	}
	fmt.Fprintf(&b, "\nrequire %s %s\n", serverModule, localVersion)
	if len(m.requires) > 0 {
		b.WriteString("\n// The server module's own requirements, from the checkout's go.mod, so\n" +
			"// that this module builds offline from the module cache, with the versions\n" +
			"// the server is tested with. `go mod tidy` trims those it does not need.\n" +
			"require (\n")
		for _, r := range m.requires {
			fmt.Fprintf(&b, "\t%s %s // indirect\n", r.path, r.version)
		}
		b.WriteString(")\n")
	}
	fmt.Fprintf(&b, "\n// A local checkout of the server module (iam-mcp-server plugins new --sdk),\n"+
		"// until the plugin builds against a published release.\nreplace %s => %s\n", serverModule, goModPath(s.server.dir))
	return b.Bytes()
}

// goModPath writes a directory as a go.mod token: quoted (Go's quoting,
// which go.mod reads) when it holds a space or a character a bare token
// cannot.
func goModPath(dir string) string {
	dir = filepath.ToSlash(dir)
	if strings.ContainsAny(dir, " \t\"'`\\()") || !strconv.CanBackquote(dir) {
		return strconv.Quote(dir)
	}
	return dir
}

// goVersionOfBuild is the language version of the Go that built this
// binary ("1.26" of go1.26.1), for a module written without a checkout;
// the server's own directive when the build's version does not say.
func goVersionOfBuild() string {
	if m := regexp.MustCompile(`^go([0-9]+\.[0-9]+)`).FindStringSubmatch(runtime.Version()); m != nil {
		return m[1]
	}
	return "1.26"
}

// releaseVersion is the server module's version in this binary's build
// information when it is a release (built with `go install …@v1.2.3`),
// or "".
func releaseVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Path != serverModule || !versionPattern.MatchString(bi.Main.Version) || strings.Contains(bi.Main.Version, "-") {
		return ""
	}
	return bi.Main.Version
}

// scaffoldFile is one file to write: its path relative to the new
// directory, with slashes.
type scaffoldFile struct {
	path string
	data []byte
}

// files renders every template, then go.mod and go.sum.
func (s *scaffold) files() ([]scaffoldFile, error) {
	var out []scaffoldFile
	err := fs.WalkDir(scaffoldFiles, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := scaffoldFiles.ReadFile(p)
		if err != nil {
			return err
		}
		t, err := template.New(p).Delims("<%", "%>").Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("the template %s: %w", p, err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, s); err != nil {
			return fmt.Errorf("the template %s: %w", p, err)
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(p, "scaffold/"), ".tmpl")
		if path.Base(rel) == "gitignore" {
			rel = path.Join(path.Dir(rel), ".gitignore")
		}
		out = append(out, scaffoldFile{rel, b.Bytes()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, scaffoldFile{"go.mod", s.goMod()})
	if s.server != nil {
		out = append(out, scaffoldFile{"go.sum", s.server.sum})
	}
	return out, nil
}

// writeNewDir writes files into dir, which must not exist or be an empty
// directory: nothing is ever overwritten. Each file is created exclusively;
// when one cannot be, what this call created is removed again.
func writeNewDir(dir string, files []scaffoldFile) (err error) {
	switch entries, rerr := os.ReadDir(dir); {
	case rerr == nil && len(entries) > 0:
		return fmt.Errorf("%s already exists and is not empty; nothing was written: give a new directory with --dir", dir)
	case rerr != nil && !errors.Is(rerr, fs.ErrNotExist):
		return fmt.Errorf("%s cannot be used: %w", dir, rerr)
	}
	var created []string // in creation order, removed in reverse on failure
	defer func() {
		if err != nil {
			for i := len(created) - 1; i >= 0; i-- {
				os.Remove(created[i])
			}
		}
	}()
	mkdir := func(d string) error {
		if err := os.Mkdir(d, 0o755); err == nil {
			created = append(created, d)
		} else if !errors.Is(err, fs.ErrExist) {
			return err
		}
		return nil
	}
	// The directory's missing parents are the caller's to keep.
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return err
	}
	if err := mkdir(dir); err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := mkdir(filepath.Dir(p)); err != nil {
			return err
		}
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("%w; nothing was written", err)
		}
		created = append(created, p)
		_, werr := w.Write(f.data)
		if cerr := w.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("writing %s: %w; nothing was written", p, werr)
		}
	}
	return nil
}

// printNext says what was written and what to do next.
func (s *scaffold) printNext(w io.Writer, dir string) {
	fmt.Fprintf(w, "Wrote the plugin %s (module %s) in %s:\n", s.Name, s.Module, dir)
	fmt.Fprintf(w, "  main.go            the plugin: registers the tool %s (built for wasip1)\n", s.Tool)
	fmt.Fprintf(w, "  workflow/          the tool's logic, its native test with the test kit and its Wasm test\n")
	fmt.Fprintf(w, "  plugins.yaml       its plugins-file entry: prefix, grants, limits; make pin fills in its sha256\n")
	fmt.Fprintf(w, "  Makefile           make test, make wasm (as make plugins builds), make pin\n\nNext:\n  cd %s\n", dir)
	if s.server == nil {
		fmt.Fprintf(w, "  go get %s@latest && go mod tidy   # fetch the server module (or run plugins new with --sdk CHECKOUT)\n", serverModule)
	}
	fmt.Fprintf(w, "  go test ./...      # the workflow on the sandbox, natively and as Wasm\n")
	fmt.Fprintf(w, "  make pin           # build %s.wasm and pin its sha256 in plugins.yaml\n", s.Name)
	fmt.Fprintf(w, "  iam-mcp-server call %s --sandbox --sandbox-seed demo --plugins plugins.yaml\n", s.FullTool)
}

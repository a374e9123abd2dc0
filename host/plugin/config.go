package plugin

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/internal/readfile"
	"github.com/iammcp/iam-mcp-server/internal/strictyaml"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Defaults and bounds of a plugin's limits.
const (
	// DefaultMemory is a plugin's memory limit when the plugins file names
	// none: enough for a Go-runtime module and a few megabytes of JSON.
	DefaultMemory = "64MiB"
	// DefaultTimeout bounds one tool call when the plugins file names no
	// timeout.
	DefaultTimeout = 30 * time.Second
	// MinPages is the smallest memory limit a plugin can start with: with
	// fewer than 16 Wasm pages (1 MiB) not even the Extism kernel
	// instantiates, so a smaller limit is refused when the file is read
	// rather than when the plugin fails to start.
	MinPages = 16
	// MaxPages is the most memory a 32-bit Wasm module can address (4 GiB).
	MaxPages = 65536
	// pageSize is the size of a Wasm page.
	pageSize = 64 << 10
)

// ReadGrant in a plugin's grants stands for every operation that does not
// mutate (api.Operation.Mutates false), now and as the catalogue grows.
const ReadGrant = "read"

// namePattern is MCP's rule for tool names, which plugin names and full
// tool names follow too.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// hexPattern is a sha256 in hex.
var hexPattern = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// Config is the operator's plugins file: which plugins to load and, for
// each, what it may do. Only this file decides names and grants; a
// plugin's describe can only ask.
type Config struct {
	// Publishers are whom the operator trusts to have built a plugin: an
	// entry's publisher names one, and its module then loads only with a
	// valid signature by one of the publisher's certificates.
	Publishers map[string]PublisherSpec `yaml:"publishers"`
	Plugins    []Spec                   `yaml:"plugins"`
}

// PublisherSpec is one publisher in the plugins file.
type PublisherSpec struct {
	// Certificates are PEM files (LoadConfig resolves a relative path
	// against the plugins file's directory): the publisher's signing
	// certificates, the trust anchors of its signatures.
	Certificates []string `yaml:"certificates"`
}

// OCIScheme starts an entry's source: a plugin published to an OCI
// registry, oci://REGISTRY/REPOSITORY[:TAG]@sha256:HEX.
const OCIScheme = "oci://"

// Spec is one plugin in the plugins file.
type Spec struct {
	// Name identifies the plugin in tool names (by default), host_info,
	// logs and the audit record. It matches ^[a-zA-Z0-9_-]{1,64}$.
	Name string `yaml:"name"`
	// Path is the .wasm file. LoadConfig resolves a relative path against
	// the plugins file's directory (and stores the result here).
	Path string `yaml:"path"`
	// Source is, instead of Path, where the plugin is published: an
	// oci:// reference pinned to its manifest's digest. The command
	// resolves it to a verified module in the cache (setting Path and
	// SHA256) before the runtime loads it; the runtime never reads a
	// registry.
	Source string `yaml:"source"`
	// Publisher names an entry of the file's publishers: the module then
	// loads only with a valid signature by one of its certificates. Only
	// with Source.
	Publisher string `yaml:"publisher"`
	// SignedBy are certificate files (PEM, relative to the plugins file)
	// of which one must have signed the module: a per-entry alternative,
	// or addition, to Publisher. Only with Source.
	SignedBy []string `yaml:"signed_by"`
	// SHA256 is the hex sha256 the file must have: a mismatch refuses the
	// plugin, naming the file and both hashes. Required with Path;
	// optional with Source, where the pinned digest already fixes the
	// module (if given, it must be the module's).
	SHA256 string `yaml:"sha256"`
	// Prefix goes before each of the plugin's tool names, with an
	// underscore: nil means the plugin's name, "" means no prefix.
	Prefix *string `yaml:"prefix"`
	// Grants are the catalogue operations the plugin may call (deny by
	// default); ReadGrant ("read") stands for every non-mutating one.
	Grants []string `yaml:"grants"`
	// Config values the plugin reads through host_info (and Extism's
	// config_get).
	Config map[string]string `yaml:"config"`
	// Limits bound the plugin's memory, time and IAM calls.
	Limits Limits `yaml:"limits"`
	// Accounts are the accounts the plugin may act in, each an account id
	// or alias the server reaches (its own, the accounts file's, or
	// discovered ones); Load resolves them to ids against the gate's
	// accounts and refuses a name it does not know. nil means every
	// account the server reaches; an empty list is refused (a list whose
	// entries were all removed must not silently become "every account").
	Accounts []string `yaml:"accounts"`
}

// Limits bound what one plugin may use. The zero value means the defaults:
// DefaultMemory, DefaultTimeout, and no caps on IAM calls.
type Limits struct {
	// Memory is the most linear memory the plugin's module (and, separately,
	// the Extism kernel that holds its input and output) may grow to, e.g.
	// "64MiB". Units: B, KiB, MiB, GiB (K/Ki/KB, M/Mi/MB and G/Gi/GB are
	// read as the same binary multiples); a bare number is bytes. Rounded
	// down to whole 64 KiB pages; at least 1 MiB (MinPages). Default
	// DefaultMemory.
	Memory string `yaml:"memory"`
	// Timeout bounds one tool call, from the moment it is asked until the
	// plugin answers, e.g. "30s". Default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// MaxIAMCalls caps the operations (iam_call, and each request of an
	// iam_batch) one tool call may ask for; further ones are answered
	// LimitExceeded without reaching the gate. 0 means no cap.
	MaxIAMCalls int `yaml:"max_iam_calls"`
	// MaxMutations caps, likewise, the mutating operations one tool call
	// may ask for, so that a runaway or hostile plugin asked to delete one
	// user cannot delete a hundred. 0 means no cap.
	MaxMutations int `yaml:"max_mutations"`
}

// limitKeys are the keys Limits accepts, in the order messages list them.
var limitKeys = []string{"memory", "timeout", "max_iam_calls", "max_mutations"}

// UnmarshalYAML reads limits strictly: unknown keys are errors naming them,
// and timeout is a Go duration ("30s", "1m30s").
func (l *Limits) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			*l = Limits{}
			return nil
		}
		return fmt.Errorf("line %d: limits must be a mapping with the keys %s", n.Line, strings.Join(limitKeys, ", "))
	}
	var out Limits
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return fmt.Errorf("line %d: limits: %q is given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "memory":
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: limits.memory must be a size such as \"64MiB\"", v.Line)
			}
			out.Memory = v.Value
		case "timeout":
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: limits.timeout must be a duration such as \"30s\"", v.Line)
			}
			d, err := time.ParseDuration(v.Value)
			if err != nil {
				return fmt.Errorf("line %d: limits.timeout %q is not a duration such as \"30s\" or \"2m\"", v.Line, v.Value)
			}
			out.Timeout = d
		case "max_iam_calls", "max_mutations":
			var x int
			if err := v.Decode(&x); err != nil || v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: limits.%s must be a whole number (0 for no cap)", v.Line, k.Value)
			}
			if k.Value == "max_iam_calls" {
				out.MaxIAMCalls = x
			} else {
				out.MaxMutations = x
			}
		default:
			return fmt.Errorf("line %d: unknown key %q in limits (known: %s)", k.Line, k.Value, strings.Join(limitKeys, ", "))
		}
	}
	*l = out
	return nil
}

// Pages returns the memory limit in Wasm pages (64 KiB), with the default
// applied, or an error saying what is wrong with it.
func (l Limits) Pages() (uint32, error) {
	s := strings.TrimSpace(l.Memory)
	if s == "" {
		s = DefaultMemory
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	pages := n / pageSize
	if pages < MinPages {
		return 0, fmt.Errorf("memory %q is less than the 1MiB (16 pages of 64KiB) a plugin needs to start", l.Memory)
	}
	if pages > MaxPages {
		return 0, fmt.Errorf("memory %q is more than the 4GiB a Wasm module can address", l.Memory)
	}
	return uint32(pages), nil
}

// withDefaults returns l with the defaults in place of zero values.
func (l Limits) withDefaults() Limits {
	if strings.TrimSpace(l.Memory) == "" {
		l.Memory = DefaultMemory
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

var sizePattern = regexp.MustCompile(`^([0-9]+)\s*([A-Za-z]*)$`)

// parseSize reads "64MiB", "512 KiB", "1GiB", "1048576".
func parseSize(s string) (uint64, error) {
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("memory %q is not a size such as \"64MiB\"", s)
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory %q is not a size such as \"64MiB\"", s)
	}
	var mult uint64
	switch strings.ToLower(m[2]) {
	case "", "b":
		mult = 1
	case "k", "ki", "kb", "kib":
		mult = 1 << 10
	case "m", "mi", "mb", "mib":
		mult = 1 << 20
	case "g", "gi", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, fmt.Errorf("memory %q has an unknown unit %q; use B, KiB, MiB or GiB", s, m[2])
	}
	if n > (1<<40)/mult {
		return 0, fmt.Errorf("memory %q is more than the 4GiB a Wasm module can address", s)
	}
	return n * mult, nil
}

// specKeys are the keys a plugin entry accepts.
var specKeys = "name, path, source, publisher, signed_by, sha256, prefix, grants, config, limits, accounts"

// LoadConfig reads and checks a plugins file. It is strict: an unknown key
// is an error naming it (a misspelt "grant" must not silently grant
// nothing, nor a misspelt "max_mutations" silently lift a cap), and every
// entry is validated as Validate does. Relative paths are resolved against
// the file's directory.
func LoadConfig(path string) (*Config, error) {
	data, err := readfile.Regular(path, "plugins file", MaxConfigFileBytes)
	if err != nil {
		return nil, err
	}
	return parseConfig(data, path)
}

// parseConfig is LoadConfig on the file's bytes; path names the file in
// errors, and its directory is where relative plugin paths start.
func parseConfig(data []byte, path string) (*Config, error) {
	var cfg Config
	known := func(t string) string {
		switch t {
		case "Config":
			return "publishers, plugins"
		case "PublisherSpec":
			return "certificates"
		}
		return specKeys
	}
	if err := strictyaml.Decode(data, &cfg, "plugins file", known); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	rel := func(f string) string {
		if f != "" && !filepath.IsAbs(f) {
			return filepath.Join(dir, f)
		}
		return f
	}
	for i := range cfg.Plugins {
		p := &cfg.Plugins[i]
		if p.Path != "" && p.Source != "" {
			// Checked here, not in Validate: once the command has resolved
			// a source, the entry holds both (Path is the verified module
			// in the cache) and Load validates it again.
			return nil, fmt.Errorf("%s: plugin %q has both path and source; give one: path for a local .wasm file, source for a published one", path, p.Name)
		}
		p.Path = rel(p.Path)
		for j := range p.SignedBy {
			p.SignedBy[j] = rel(p.SignedBy[j])
		}
	}
	for name, pub := range cfg.Publishers {
		for j := range pub.Certificates {
			pub.Certificates[j] = rel(pub.Certificates[j])
		}
		cfg.Publishers[name] = pub
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &cfg, nil
}

// emptyAccountsAdvice is the refusal of an accounts key with no account.
const emptyAccountsAdvice = "accounts lists no account; list at least one account id or alias, or leave the key out to allow every account the server reaches"

// Validate checks every entry: a valid and unique name, a path, a sha256,
// a valid prefix, grants that name operations that exist, and limits that
// parse. Errors name the entry and say what to write instead.
func (c *Config) Validate() error {
	for _, name := range sortedPublisherNames(c.Publishers) {
		if !namePattern.MatchString(name) {
			return fmt.Errorf("publisher %s: a publisher's name must be 1 to 64 letters, digits, '_' or '-'", args.Quote(name))
		}
		if len(c.Publishers[name].Certificates) == 0 {
			return fmt.Errorf("publisher %q: certificates is missing; list the publisher's signing certificate files (PEM)", name)
		}
		for j, f := range c.Publishers[name].Certificates {
			if f == "" {
				return fmt.Errorf("publisher %q: certificates[%d] is empty; write a certificate file (PEM)", name, j)
			}
		}
	}
	seen := map[string]int{}
	for i, s := range c.Plugins {
		where := fmt.Sprintf("plugins[%d]", i)
		if s.Name != "" {
			where = fmt.Sprintf("plugin %q", s.Name)
		}
		if err := s.validate(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if s.Publisher != "" {
			if _, ok := c.Publishers[s.Publisher]; !ok {
				known := "the file has none"
				if len(c.Publishers) > 0 {
					known = "known: " + strings.Join(sortedPublisherNames(c.Publishers), ", ")
				}
				return fmt.Errorf("%s: publisher %s is not in the file's publishers (%s); add it under publishers: with its certificates", where, args.Quote(s.Publisher), known)
			}
		}
		if j, dup := seen[s.Name]; dup {
			return fmt.Errorf("plugins[%d] and plugins[%d] are both named %q; each plugin needs its own name", j, i, s.Name)
		}
		seen[s.Name] = i
	}
	return nil
}

func (s Spec) validate() error {
	if s.Name == "" {
		return errors.New("name is missing")
	}
	if !namePattern.MatchString(s.Name) {
		return fmt.Errorf("name %q must be 1 to 64 letters, digits, '_' or '-'", s.Name)
	}
	switch {
	case s.Path == "" && s.Source == "":
		return errors.New("path (the .wasm file) or source (oci://REGISTRY/REPOSITORY:TAG@sha256:DIGEST) is missing")
	case s.Source != "":
		if err := validSource(s.Source); err != nil {
			return err
		}
		for j, f := range s.SignedBy {
			if f == "" {
				return fmt.Errorf("signed_by[%d] is empty; write a certificate file (PEM)", j)
			}
		}
		if s.SignedBy != nil && len(s.SignedBy) == 0 {
			return errors.New("signed_by lists no certificate; list at least one, or leave the key out")
		}
		if s.SHA256 != "" && !hexPattern.MatchString(s.SHA256) {
			return fmt.Errorf("sha256 %q is not 64 hex digits (or leave it out: the source's digest pins the module)", s.SHA256)
		}
	default:
		if s.Publisher != "" || s.SignedBy != nil {
			return errors.New("publisher and signed_by apply only to a plugin with a source (oci://…): a local path has no signature to check")
		}
		if s.SHA256 == "" {
			return fmt.Errorf("sha256 is missing; `iam-mcp-server plugins inspect %s` prints it", s.Path)
		}
		if !hexPattern.MatchString(s.SHA256) {
			return fmt.Errorf("sha256 %q is not 64 hex digits; `iam-mcp-server plugins inspect %s` prints it", s.SHA256, s.Path)
		}
	}
	if s.Prefix != nil && *s.Prefix != "" && !namePattern.MatchString(*s.Prefix) {
		return fmt.Errorf("prefix %q must be letters, digits, '_' or '-' (or \"\" for none)", *s.Prefix)
	}
	if _, err := expandGrants(s.Grants); err != nil {
		return err
	}
	if _, err := s.Limits.Pages(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if s.Limits.Timeout < 0 {
		return fmt.Errorf("limits: timeout %v must be positive", s.Limits.Timeout)
	}
	if s.Limits.MaxIAMCalls < 0 || s.Limits.MaxMutations < 0 {
		return errors.New("limits: max_iam_calls and max_mutations must be 0 (no cap) or more")
	}
	return validAccountNames(s.Accounts)
}

// ociSourcePattern is the shape of a pinned oci:// source; the registry
// client parses it fully (host/pluginreg.ParseRef) when the command
// resolves it, this only refuses what cannot be one when the file is read.
var ociSourcePattern = regexp.MustCompile(`^oci://[^\s/@]+/[^\s@]+@sha256:[0-9a-f]{64}$`)

// validSource checks an entry's source: an oci:// reference pinned to a
// digest, so that what loads is what the operator reviewed, whatever the
// tag points at later.
func validSource(src string) error {
	if !strings.HasPrefix(src, OCIScheme) {
		return fmt.Errorf("source %s is not an oci:// reference; write oci://REGISTRY/REPOSITORY:TAG@sha256:DIGEST (or use path for a local file)", args.Quote(src))
	}
	if !strings.Contains(src, "@sha256:") {
		return fmt.Errorf("source %s is not pinned to a digest; run `iam-mcp-server plugins add %s` to pin it (it writes source with @sha256:…)", args.Quote(src), args.Quote(src))
	}
	if len(src) > 1024 || !ociSourcePattern.MatchString(src) {
		return fmt.Errorf("source %s is not a reference such as oci://registry.example.com/acme/reviewer:1.2.0@sha256:<64 lowercase hex digits>", args.Quote(src))
	}
	return nil
}

// sortedPublisherNames returns the publishers' names, sorted, for
// messages and a stable order of checks.
func sortedPublisherNames(m map[string]PublisherSpec) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// maxAccountName bounds one name in a plugin's accounts: an account id is
// 12 digits and an alias at most 63 characters.
const maxAccountName = 64

// validAccountNames checks the shape of a plugin's accounts list; which
// accounts exist is known only to the gate, and Load checks that.
func validAccountNames(names []string) error {
	if names == nil {
		return nil
	}
	if len(names) == 0 {
		return errors.New(emptyAccountsAdvice)
	}
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case n == "":
			return fmt.Errorf("accounts[%d] is empty; write an account id (12 digits) or alias", i)
		case len(n) > maxAccountName || strings.ContainsFunc(n, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }):
			return fmt.Errorf("accounts[%d] %s is not an account id (12 digits) or alias (letters, digits and '-')", i, args.Quote(n))
		case seen[n]:
			return fmt.Errorf("accounts names %s twice", args.Quote(n))
		}
		seen[n] = true
	}
	return nil
}

// expandGrants turns the grants of the plugins file into the set of
// operations: ReadGrant becomes every non-mutating operation. Unknown names
// are an error naming them all.
func expandGrants(grants []string) (map[string]bool, error) {
	out := map[string]bool{}
	var unknown []string
	for _, g := range grants {
		if g == ReadGrant {
			for _, op := range api.All() {
				if !op.Mutates {
					out[op.Name] = true
				}
			}
			continue
		}
		if _, ok := api.Lookup(g); !ok {
			unknown = append(unknown, strconv.Quote(g))
			continue
		}
		out[g] = true
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("grants name operations that do not exist: %s (grant catalogue operation names, such as list_users, or %q for every read-only one; `iam-mcp-server tools` lists them)", strings.Join(unknown, ", "), ReadGrant)
	}
	return out, nil
}

// sortedKeys returns the keys of a set, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

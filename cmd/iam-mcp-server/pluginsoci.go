package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/iammcp/iam-mcp-server/host/plugin"
	"github.com/iammcp/iam-mcp-server/host/pluginreg"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// registryTimeout bounds one command's registry traffic: it guards a hung
// registry, not a slow one (a module is a few megabytes).
const registryTimeout = 5 * time.Minute

// resolvePluginSources turns every oci:// entry of the plugins file into
// a verified module in the cache, before the runtime (which never reads a
// registry) loads it: it pulls the pinned digest (a warm cache needs no
// network), checks the signature the entry requires (publisher, signed_by)
// and sets Path and SHA256 to the cached module. An entry that requires a
// signature does not load without a valid one.
func resolvePluginSources(ctx context.Context, pcfg *plugin.Config, cacheDir string, logger *slog.Logger) error {
	var client *pluginreg.Client
	for i := range pcfg.Plugins {
		s := &pcfg.Plugins[i]
		if s.Source == "" {
			continue
		}
		if client == nil {
			var err error
			if client, err = pluginreg.New(pluginreg.Options{CacheDir: cacheDir, Logger: logger}); err != nil {
				return fmt.Errorf("plugin %q: %w", s.Name, err)
			}
		}
		mod, err := pullTrusted(ctx, client, pcfg, *s)
		if err != nil {
			return err
		}
		if s.SHA256 != "" && !strings.EqualFold(s.SHA256, mod.Info.SHA256) {
			return fmt.Errorf("plugin %q: %s is the module with sha256 %s, but the entry's sha256 is %s; remove sha256 from the entry (the digest pins the module) or correct it", s.Name, s.Source, mod.Info.SHA256, s.SHA256)
		}
		s.Path, s.SHA256 = mod.Path, mod.Info.SHA256
	}
	return nil
}

// pullTrusted pulls the entry's pinned source and verifies the signature
// it requires. Errors name the entry and say what to do.
func pullTrusted(ctx context.Context, client *pluginreg.Client, pcfg *plugin.Config, s plugin.Spec) (*pluginreg.Module, error) {
	ref, err := pluginreg.ParseRef(s.Source)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", s.Name, err)
	}
	return pullRef(ctx, client, pcfg, s, ref)
}

// pullRef pulls ref (pinned) and verifies it against the trust of entry
// s: the source's own digest, or a newer one for plugins update.
func pullRef(ctx context.Context, client *pluginreg.Client, pcfg *plugin.Config, s plugin.Spec, ref pluginreg.Ref) (*pluginreg.Module, error) {
	trusted, err := entryTrust(pcfg, s)
	if err != nil {
		return nil, err
	}
	mod, err := client.Pull(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("plugin %q: cannot get %s: %w", s.Name, ref, err)
	}
	if len(trusted) > 0 {
		if _, err := client.Verify(ctx, ref, trusted); err != nil {
			return nil, fmt.Errorf("plugin %q: %s is not signed as the entry requires, so it is not loaded: %w", s.Name, ref, err)
		}
	}
	return mod, nil
}

// entryTrust is whom entry s trusts: its publisher's certificates and its
// own signed_by ones; none means the entry requires no signature.
func entryTrust(pcfg *plugin.Config, s plugin.Spec) ([]pluginreg.Publisher, error) {
	var out []pluginreg.Publisher
	if s.Publisher != "" {
		pub, ok := pcfg.Publishers[s.Publisher]
		if !ok {
			return nil, fmt.Errorf("plugin %q: publisher %q is not in the plugins file's publishers", s.Name, s.Publisher)
		}
		certs, err := pluginreg.LoadCertificates(pub.Certificates...)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: publisher %q: %w", s.Name, s.Publisher, err)
		}
		out = append(out, pluginreg.Publisher{Name: s.Publisher, Certificates: certs})
	}
	if len(s.SignedBy) > 0 {
		certs, err := pluginreg.LoadCertificates(s.SignedBy...)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: signed_by: %w", s.Name, err)
		}
		out = append(out, pluginreg.Publisher{Name: "signed_by", Certificates: certs})
	}
	return out, nil
}

// ociLogger is the registry client's logger for the commands: warnings
// only, on stderr.
func ociLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ociClient opens the registry client with the cache the server uses, so
// that what add and update pull is what serve finds warm.
func ociClient(cacheDir string, stderr io.Writer) (*pluginreg.Client, error) {
	dir, err := config{cacheDir: cacheDir}.cacheDirectory()
	if err != nil {
		return nil, err
	}
	return pluginreg.New(pluginreg.Options{CacheDir: dir, Logger: ociLogger(stderr)})
}

// failf prints a command's failure and returns its exit code.
func failf(stderr io.Writer, command, format string, args ...any) int {
	fmt.Fprintf(stderr, "iam-mcp-server %s: %s\n", command, fmt.Sprintf(format, args...))
	return 1
}

// parseCommand parses a subcommand's flags strictly: help, unknown flags
// and the number of positional arguments, each with its own message.
func parseCommand(fs *flag.FlagSet, command string, args []string, stdout, stderr io.Writer, want int, what string) ([]string, int, bool) {
	fs.SetOutput(io.Discard)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, commandUsage[command])
		return nil, 0, false
	case err != nil:
		return nil, usageFailure(stderr, command, &usageError{flagMessage(err)}), false
	case len(pos) < want:
		return nil, usageFailure(stderr, command, usagef("%s", what)), false
	case len(pos) > want:
		return nil, usageFailure(stderr, command, usagef("unexpected argument %s", quoted(pos[want]))), false
	}
	return pos, 0, true
}

// runPluginsPublish is `plugins publish FILE.wasm oci://REG/REPO:TAG`.
func runPluginsPublish(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "plugins publish"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	signKey := fs.String("sign-key", "", "")
	signCert := fs.String("sign-cert", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 2, "publish what, where? plugins publish FILE.wasm oci://REGISTRY/REPOSITORY:TAG")
	if !ok {
		return code
	}
	if (*signKey == "") != (*signCert == "") {
		return usageFailure(stderr, cmd, usagef("--sign-key and --sign-cert go together (plugins keygen writes both)"))
	}
	ref, err := pluginreg.ParseRef(pos[1])
	if err != nil {
		return usageFailure(stderr, cmd, usagef("%v", err))
	}
	if ref.Pinned() || ref.Tag == "" {
		return usageFailure(stderr, cmd, usagef("publish to a tag, such as %s:1.0.0, not a digest: the registry gives the digest", strings.SplitN(pos[1], "@", 2)[0]))
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	// What the plugin asks for is learnt as plugins inspect does: its
	// describe export alone, in the sandboxed runtime, with no IAM access.
	sha, desc, err := plugin.Inspect(ctx, pos[0])
	if err != nil {
		return failf(stderr, cmd, "%s: %v", pos[0], err)
	}
	info := pluginreg.Info{Name: desc.Name, Version: desc.Version, Description: desc.Description, SHA256: sha}
	for _, t := range desc.Tools {
		info.Tools = append(info.Tools, pluginreg.ToolInfo{Name: t.Name, Description: t.Description, Operations: t.Operations})
	}
	var key any
	if *signKey != "" {
		// The key and certificate are read before anything is pushed, so
		// that a wrong path does not leave an unsigned version behind.
		k, err := pluginreg.LoadKey(*signKey)
		if err != nil {
			return failf(stderr, cmd, "%v", err)
		}
		key = k
	}
	// The user's cache, as for serve: a published module is then warm
	// for the author's own server.
	client, err := ociClient(*cacheDir, stderr)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	pinned, err := client.Publish(ctx, pos[0], ref, info)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, "published %s %s (sha256 %s)\n  %s\n", info.Name, info.Version, sha, pinned)
	if key != nil {
		if code := signRef(ctx, client, pinned, *signKey, *signCert, stdout, stderr, cmd); code != 0 {
			return code
		}
	}
	return 0
}

// signRef signs pinned with the key and certificate files.
func signRef(ctx context.Context, client *pluginreg.Client, pinned pluginreg.Ref, keyPath, certPath string, stdout, stderr io.Writer, cmd string) int {
	key, err := pluginreg.LoadKey(keyPath)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	chain, err := pluginreg.LoadCertificates(certPath)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	if err := client.Sign(ctx, pinned, key, chain); err != nil {
		return failf(stderr, cmd, "cannot sign %s: %v", pinned, err)
	}
	fmt.Fprintf(stdout, "signed %s\n  as %s\n", pinned, chain[0].Subject)
	return 0
}

// runPluginsSign is `plugins sign oci://… --key K --cert C`.
func runPluginsSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "plugins sign"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	key := fs.String("key", "", "")
	cert := fs.String("cert", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 1, "sign what? plugins sign oci://REGISTRY/REPOSITORY:TAG --key KEY --cert CERT")
	if !ok {
		return code
	}
	if *key == "" || *cert == "" {
		return usageFailure(stderr, cmd, usagef("--key and --cert are required (plugins keygen writes both)"))
	}
	ref, err := pluginreg.ParseRef(pos[0])
	if err != nil {
		return usageFailure(stderr, cmd, usagef("%v", err))
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	// The user's cache, as for serve: a published module is then warm
	// for the author's own server.
	client, err := ociClient(*cacheDir, stderr)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	// What is signed is the digest, never the tag: a tag that moves
	// later does not carry the signature along.
	if ref, err = client.Resolve(ctx, ref); err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	return signRef(ctx, client, ref, *key, *cert, stdout, stderr, cmd)
}

// runPluginsKeygen is `plugins keygen NAME [--dir D]`.
func runPluginsKeygen(args []string, stdout, stderr io.Writer) int {
	const cmd = "plugins keygen"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dir := fs.String("dir", ".", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 1, "whose key? Name the publisher, e.g. plugins keygen acme")
	if !ok {
		return code
	}
	keyPath, certPath, err := pluginreg.GenerateKey(*dir, pos[0])
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, `signing key:  %s (keep it secret; plugins publish --sign-key and plugins sign --key read it)
certificate:  %s
Give the certificate to the operators who install your plugins; they trust it in their plugins file:

publishers:
  %s:
    certificates: [%s]
`, keyPath, certPath, pos[0], filepath.Base(certPath))
	return 0
}

// ociInspected is what `plugins inspect oci://…` prints.
type ociInspected struct {
	Reference   string               `json:"reference"`
	Name        string               `json:"name"`
	Version     string               `json:"version"`
	Description string               `json:"description"`
	SHA256      string               `json:"sha256"`
	Tools       []pluginreg.ToolInfo `json:"tools"`
	Asked       []string             `json:"operations_asked"`
	Writes      []string             `json:"writes_asked"`
	Signature   *pluginreg.Verified  `json:"signature,omitempty"`
}

// runInspectOCI is `plugins inspect oci://…`: the manifest only, never
// the module; with --publisher or --cert, the signature's verification.
func runInspectOCI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "plugins inspect"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	publisher := fs.String("publisher", "", "")
	cert := fs.String("cert", "", "")
	pluginsFile := fs.String("plugins", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 1, "which plugin? Name a .wasm file or an oci:// reference")
	if !ok {
		return code
	}
	ref, err := pluginreg.ParseRef(pos[0])
	if err != nil {
		return usageFailure(stderr, cmd, usagef("%v", err))
	}
	spec, pcfg, err := trustFlags(*pluginsFile, *publisher, *cert)
	if err != nil {
		return usageFailure(stderr, cmd, err)
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	client, err := ociClient(*cacheDir, stderr)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	pinned, info, err := client.Inspect(ctx, ref)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	out := ociInspected{Reference: pinned.String(), Name: info.Name, Version: info.Version, Description: info.Description,
		SHA256: info.SHA256, Tools: info.Tools, Asked: info.Asked(), Writes: writesOf(info.Asked())}
	if spec.Publisher != "" || len(spec.SignedBy) > 0 {
		trusted, err := entryTrust(pcfg, spec)
		if err != nil {
			return failf(stderr, cmd, "%v", err)
		}
		v, err := client.Verify(ctx, pinned, trusted)
		if err != nil {
			return failf(stderr, cmd, "%s: %v", pinned, err)
		}
		out.Signature = v
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return 0
}

// trustFlags turns --publisher (a publisher of the plugins file) and
// --cert (a certificate file) into the trust of an entry.
func trustFlags(pluginsFile, publisher, cert string) (plugin.Spec, *plugin.Config, error) {
	pcfg := &plugin.Config{}
	var spec plugin.Spec
	if publisher != "" {
		if pluginsFile == "" {
			return spec, nil, usagef("--publisher names a publisher of the plugins file: pass --plugins FILE too")
		}
		c, err := plugin.LoadConfig(pluginsFile)
		if err != nil {
			return spec, nil, err
		}
		if _, ok := c.Publishers[publisher]; !ok {
			return spec, nil, usagef("%s names no publisher %s; add it under publishers: with its certificates, or pass --cert FILE", pluginsFile, quoted(publisher))
		}
		pcfg, spec.Publisher = c, publisher
	}
	if cert != "" {
		abs, err := filepath.Abs(cert)
		if err != nil {
			return spec, nil, err
		}
		spec.SignedBy = []string{abs}
	}
	return spec, pcfg, nil
}

// writesOf returns the operations of ops that mutate.
func writesOf(ops []string) []string {
	out := []string{}
	for _, o := range ops {
		if op, ok := api.Lookup(o); ok && op.Mutates {
			out = append(out, o)
		}
	}
	return out
}

// granted reports whether grants (as the plugins file writes them)
// grant op: named, or read for a non-mutating one.
func granted(grants []string, op string) bool {
	if slices.Contains(grants, op) {
		return true
	}
	o, ok := api.Lookup(op)
	return ok && !o.Mutates && slices.Contains(grants, plugin.ReadGrant)
}

// writeTools prints a plugin's tools and the operations each asks for,
// marking the writes.
func writeTools(w io.Writer, info pluginreg.Info) {
	for _, t := range info.Tools {
		fmt.Fprintf(w, "  tool %s: %s\n", t.Name, t.Description)
		for _, o := range t.Operations {
			mark := ""
			if op, ok := api.Lookup(o); ok && op.Mutates {
				mark = "  (WRITE)"
			}
			fmt.Fprintf(w, "    asks for %s%s\n", o, mark)
		}
	}
}

// confirm asks the operator yes or no on the terminal; with --yes it is
// yes, and with no terminal it refuses, saying so.
func confirm(stdin io.Reader, stderr io.Writer, yes bool, question string) (bool, error) {
	if yes {
		return true, nil
	}
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f.Fd()) {
		return false, errors.New("no terminal to ask on: review the above and pass --yes to write it")
	}
	fmt.Fprintf(stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(io.LimitReader(stdin, 256)).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

// runPluginsAdd is `plugins add oci://REG/REPO:TAG --plugins FILE`.
func runPluginsAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "plugins add"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	name := fs.String("name", "", "")
	publisher := fs.String("publisher", "", "")
	cert := fs.String("cert", "", "")
	grantsFlag := fs.String("grants", "", "")
	yes := fs.Bool("yes", false, "")
	pluginsFile := fs.String("plugins", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 1, "add what? plugins add oci://REGISTRY/REPOSITORY:TAG --plugins FILE --publisher NAME")
	if !ok {
		return code
	}
	if *pluginsFile == "" {
		return usageFailure(stderr, cmd, usagef("--plugins FILE is required: the plugins file to add the entry to"))
	}
	if *publisher == "" && *cert == "" {
		return usageFailure(stderr, cmd, usagef("whose signature? pass --publisher NAME (a publisher of the plugins file) or --cert FILE (the publisher's certificate): a plugin from a registry is added only signed"))
	}
	ref, err := pluginreg.ParseRef(pos[0])
	if err != nil {
		return usageFailure(stderr, cmd, usagef("%v", err))
	}
	pcfg, err := plugin.LoadConfig(*pluginsFile)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	spec, _, err := trustFlags(*pluginsFile, *publisher, *cert)
	if err != nil {
		return usageFailure(stderr, cmd, err)
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	client, err := ociClient(*cacheDir, stderr)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	pinned, err := client.Resolve(ctx, ref)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	spec.Name, spec.Source = *name, pinned.String()
	if spec.Name == "" {
		spec.Name = "(new)"
	}
	mod, err := pullRef(ctx, client, pcfg, spec, pinned)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	if *name == "" {
		spec.Name = mod.Info.Name
	}
	for _, p := range pcfg.Plugins {
		if p.Name == spec.Name {
			return failf(stderr, cmd, "%s already has a plugin named %q; pass --name for another name, or plugins update %s", *pluginsFile, spec.Name, spec.Name)
		}
	}
	asked := mod.Info.Asked()
	spec.Grants = asked
	if *grantsFlag != "" {
		spec.Grants = nil
		for _, g := range strings.Split(*grantsFlag, ",") {
			g = strings.TrimSpace(g)
			if !slices.Contains(asked, g) {
				return usageFailure(stderr, cmd, usagef("--grants names %s, which the plugin does not ask for; grant only what it asks (%s)", quoted(g), strings.Join(asked, ", ")))
			}
			spec.Grants = append(spec.Grants, g)
		}
	}
	fmt.Fprintf(stdout, "%s %s — %s\n  %s\n  sha256 %s\n", mod.Info.Name, mod.Info.Version, mod.Info.Description, pinned, mod.Info.SHA256)
	writeTools(stdout, mod.Info)
	fmt.Fprintf(stdout, "grants: %s\n", listOrNone(spec.Grants))
	if w := writesOf(spec.Grants); len(w) > 0 {
		fmt.Fprintf(stdout, "of which writes: %s\n", strings.Join(w, ", "))
	}
	entry := entryYAML(spec)
	yesAnswer, err := confirm(stdin, stderr, *yes, fmt.Sprintf("Add %s to %s?", spec.Name, *pluginsFile))
	if err != nil {
		return failf(stderr, cmd, "%v; nothing written", err)
	}
	if !yesAnswer {
		fmt.Fprintln(stdout, "Nothing written.")
		return 1
	}
	if err := appendEntry(*pluginsFile, entry); err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, "Added to %s:\n%s", *pluginsFile, entry)
	return 0
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ", ")
}

// yamlString writes s as a YAML double-quoted scalar (a JSON string is
// one), so that no path or name is read back as something else.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// entryYAML is the text of a new entry, at the file's usual indentation
// (a list item under plugins:, two spaces), with the default limits
// written out so the operator sees them.
func entryYAML(s plugin.Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    source: %s\n", yamlString(s.Name), yamlString(s.Source))
	if s.Publisher != "" {
		fmt.Fprintf(&b, "    publisher: %s\n", yamlString(s.Publisher))
	}
	if len(s.SignedBy) > 0 {
		q := make([]string, len(s.SignedBy))
		for i, f := range s.SignedBy {
			q[i] = yamlString(f)
		}
		fmt.Fprintf(&b, "    signed_by: [%s]\n", strings.Join(q, ", "))
	}
	q := make([]string, len(s.Grants))
	for i, g := range s.Grants {
		q[i] = yamlString(g)
	}
	fmt.Fprintf(&b, "    grants: [%s]\n    limits: {memory: %s, timeout: %s}\n", strings.Join(q, ", "), plugin.DefaultMemory, plugin.DefaultTimeout)
	return b.String()
}

// appendEntry adds entry (a list item under plugins:) to the end of the
// plugins file, keeping its text and comments as they are. It writes a
// temporary file beside it, checks that it reads as a plugins file, and
// renames it over the old one (with its mode), so that a failure leaves
// the old file.
func appendEntry(path, entry string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	text := string(data)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	root := (*yaml.Node)(nil)
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		root = doc.Content[0]
	}
	switch {
	case root == nil || len(root.Content) == 0:
		text += "plugins:\n" + entry
	case root.Content[len(root.Content)-2].Value != "plugins":
		if seq := pluginsSeq(root); seq != nil {
			return fmt.Errorf("%s: plugins: is not the file's last key, so an entry cannot be appended to it safely; move plugins: to the end of the file, or add this entry yourself:\n%s", path, entry)
		}
		text += "plugins:\n" + entry
	default:
		seq := root.Content[len(root.Content)-1]
		if seq.Kind != yaml.SequenceNode || seq.Style&yaml.FlowStyle != 0 {
			return fmt.Errorf("%s: plugins: is not a block list (one \"- name:\" item per line), so an entry cannot be appended to it; add this entry yourself:\n%s", path, entry)
		}
		if len(seq.Content) > 0 {
			// Follow the file's own indentation of the list.
			if indent := seq.Content[0].Column - 3; indent != 2 && indent >= 0 {
				entry = reindent(entry, indent)
			}
		}
		text += entry
	}
	return replaceFile(path, []byte(text))
}

// pluginsSeq is the value of plugins: in the file's root mapping.
func pluginsSeq(root *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "plugins" {
			return root.Content[i+1]
		}
	}
	return nil
}

// reindent moves an entry written with its dash at two spaces to indent.
func reindent(entry string, indent int) string {
	lines := strings.SplitAfter(entry, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  ") {
			lines[i] = strings.Repeat(" ", indent) + l[2:]
		}
	}
	return strings.Join(lines, "")
}

// replaceFile writes data over path safely: a temporary file in the same
// directory, checked with plugin.LoadConfig, renamed over path with
// path's mode.
func replaceFile(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if _, err := plugin.LoadConfig(tmp.Name()); err != nil {
		return fmt.Errorf("the plugins file with the change would not read (%v); %s is unchanged", err, path)
	}
	return os.Rename(tmp.Name(), path)
}

// runPluginsUpdate is `plugins update NAME --plugins FILE [--yes]`.
func runPluginsUpdate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "plugins update"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	yes := fs.Bool("yes", false, "")
	pluginsFile := fs.String("plugins", "", "")
	cacheDir := fs.String("cache-dir", "", "")
	pos, code, ok := parseCommand(fs, cmd, args, stdout, stderr, 1, "update which plugin? Name its entry in the plugins file")
	if !ok {
		return code
	}
	if *pluginsFile == "" {
		return usageFailure(stderr, cmd, usagef("--plugins FILE is required: the plugins file whose entry to update"))
	}
	pcfg, err := plugin.LoadConfig(*pluginsFile)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	i := slices.IndexFunc(pcfg.Plugins, func(s plugin.Spec) bool { return s.Name == pos[0] })
	if i < 0 {
		return failf(stderr, cmd, "%s has no plugin named %s", *pluginsFile, quoted(pos[0]))
	}
	spec := pcfg.Plugins[i]
	if spec.Source == "" {
		return failf(stderr, cmd, "plugin %q is a local file (path), not published (source: oci://…): there is nothing to update from", spec.Name)
	}
	old, err := pluginreg.ParseRef(spec.Source)
	if err != nil {
		return failf(stderr, cmd, "plugin %q: %v", spec.Name, err)
	}
	if old.Tag == "" {
		return failf(stderr, cmd, "plugin %q: %s is pinned by digest with no tag, so there is no newer version to follow; plugins add the new one", spec.Name, spec.Source)
	}
	ctx, cancel := context.WithTimeout(ctx, registryTimeout)
	defer cancel()
	client, err := ociClient(*cacheDir, stderr)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	latest := old
	latest.Digest = ""
	if latest, err = client.Resolve(ctx, latest); err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	if latest.Digest == old.Digest {
		fmt.Fprintf(stdout, "%s is already current: %s\n", spec.Name, spec.Source)
		return 0
	}
	before, err := pullRef(ctx, client, pcfg, spec, old)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	after, err := pullRef(ctx, client, pcfg, spec, latest)
	if err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, "%s: %s %s → %s\n  was %s\n  now %s\n", spec.Name, before.Info.Name, before.Info.Version, after.Info.Version, old, latest)
	writeChanges(stdout, spec.Grants, before.Info, after.Info)
	answer, err := confirm(stdin, stderr, *yes, fmt.Sprintf("Pin %s to the new version in %s?", spec.Name, *pluginsFile))
	if err != nil {
		return failf(stderr, cmd, "%v; nothing written", err)
	}
	if !answer {
		fmt.Fprintln(stdout, "Nothing written.")
		return 1
	}
	if err := repinEntry(*pluginsFile, spec.Name, latest.String()); err != nil {
		return failf(stderr, cmd, "%v", err)
	}
	fmt.Fprintf(stdout, "Updated %s: %s source is now %s (grants unchanged)\n", *pluginsFile, spec.Name, latest)
	return 0
}

// writeChanges prints what changed between two versions of a plugin:
// tools new and removed, and, loudly, the operations newly asked for,
// which an update never grants.
func writeChanges(w io.Writer, grants []string, before, after pluginreg.Info) {
	tools := func(i pluginreg.Info) []string {
		out := make([]string, len(i.Tools))
		for k, t := range i.Tools {
			out[k] = t.Name
		}
		return out
	}
	bt, at := tools(before), tools(after)
	for _, t := range at {
		if !slices.Contains(bt, t) {
			fmt.Fprintf(w, "  new tool: %s\n", t)
		}
	}
	for _, t := range bt {
		if !slices.Contains(at, t) {
			fmt.Fprintf(w, "  removed tool: %s\n", t)
		}
	}
	ba := before.Asked()
	var fresh []string
	for _, o := range after.Asked() {
		if !slices.Contains(ba, o) {
			fresh = append(fresh, o)
		}
	}
	if len(fresh) == 0 {
		fmt.Fprintln(w, "  asks for no new operation")
		return
	}
	fmt.Fprintln(w, "  NEW OPERATIONS ASKED FOR (the update does NOT grant them; the grants stay what the plugins file says):")
	for _, o := range fresh {
		state := "NOT GRANTED"
		if granted(grants, o) {
			state = "already granted by the file's grants"
		}
		kind := "read"
		if op, ok := api.Lookup(o); ok && op.Mutates {
			kind = "WRITE"
		}
		fmt.Fprintf(w, "    %s (%s): %s\n", o, kind, state)
	}
}

// repinEntry replaces the source of the entry named name with source in
// the plugins file, in place in its text (comments and layout kept); a
// sha256 the entry gives is removed with it, since it would name the old
// module.
func repinEntry(path, name, source string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return fmt.Errorf("%s: cannot read it to update it: %v", path, err)
	}
	seq := pluginsSeq(doc.Content[0])
	if seq == nil {
		return fmt.Errorf("%s has no plugins", path)
	}
	lines := strings.SplitAfter(string(data), "\n")
	for _, item := range seq.Content {
		if item.Kind != yaml.MappingNode {
			continue
		}
		if n := valueOf(item, "name"); n == nil || n.Value != name {
			continue
		}
		src := valueOf(item, "source")
		if src == nil || src.Line < 1 || src.Line > len(lines) {
			return fmt.Errorf("%s: plugin %q has no source to update", path, name)
		}
		l := lines[src.Line-1]
		col := src.Column - 1
		if col < 0 || col > len(l) {
			return fmt.Errorf("%s: plugin %q: cannot find its source in the text", path, name)
		}
		rest := l[col:]
		if !strings.Contains(rest, src.Value) {
			return fmt.Errorf("%s: plugin %q: its source is written across lines; update it yourself to %s", path, name, source)
		}
		lines[src.Line-1] = l[:col] + strings.Replace(rest, src.Value, source, 1)
		if sha := valueOf(item, "sha256"); sha != nil && sha.Line >= 1 && sha.Line <= len(lines) && sha.Line != src.Line {
			lines[sha.Line-1] = ""
		}
		return replaceFile(path, []byte(strings.Join(lines, "")))
	}
	return fmt.Errorf("%s has no plugin named %q", path, name)
}

// valueOf is the value of key in mapping n, or nil.
func valueOf(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// isOCIArg reports whether the command's arguments name an oci://
// reference, for plugins inspect to read a registry instead of a file.
func isOCIArg(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, plugin.OCIScheme) })
}

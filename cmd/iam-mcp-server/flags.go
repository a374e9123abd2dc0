package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/iammcp/iam-mcp-server/host/args"
	"github.com/iammcp/iam-mcp-server/host/gate"
	"github.com/iammcp/iam-mcp-server/host/mcpserver"
)

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// maxMessage bounds a usage error's message, in characters.
const maxMessage = 600

// usageFailure reports a bad command line in one line, then the command's
// synopsis, and returns exit status 2.
func usageFailure(stderr io.Writer, command string, err error) int {
	synopsis, _, _ := strings.Cut(commandUsage[command], "\n")
	// Escaped and bounded whatever built it: the flag package quotes a bad
	// value whole and names an unknown flag raw, and a flag carries
	// whatever a script passes it.
	msg := printableN(err.Error(), maxMessage)
	fmt.Fprintf(stderr, "iam-mcp-server %s: %s\n%s\nRun \"iam-mcp-server %s --help\" for the flags.\n", command, msg, synopsis, command)
	return 2
}

// parseConfig parses a command's flags, wherever they appear among its
// arguments, and the IAM_MCP_* environment variables (through lookupEnv,
// nil for none) into a validated config. It returns the positional
// arguments. flag.ErrHelp means -h or --help was asked for.
func parseConfig(command string, args []string, lookupEnv func(string) (string, bool)) (config, []string, error) {
	c := config{command: command}
	fs, logLevel, confirm := c.flagSet()
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, nil, err
		}
		return c, nil, &usageError{flagMessage(err) + sandboxHint(err)}
	}
	if c.version {
		return c, pos, nil
	}
	c.from = map[string]string{}
	fs.Visit(func(f *flag.Flag) { c.from[f.Name] = "--" + f.Name })
	if err := c.fromOldSpellings(); err != nil {
		return c, nil, err
	}
	if err := c.fromEnvironment(fs, lookupEnv); err != nil {
		return c, nil, err
	}
	if err := c.validate(*logLevel, *confirm); err != nil {
		return c, nil, err
	}
	return c, pos, nil
}

// flagSet declares the flags of c.command, bound to c; the log level and
// the confirmation level are returned to be parsed by validate.
func (c *config) flagSet() (fs *flag.FlagSet, logLevel, confirm *string) {
	fs = flag.NewFlagSet(c.command, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by the caller, in one line
	fs.BoolVar(&c.allowWrite, "allow-write", false, "")
	fs.BoolVar(&c.readOnlyFlag, "readonly", false, "")
	confirm = fs.String("confirm", string(gate.ConfirmDestructive), "")
	fs.BoolVar(&c.noConfirmation, "no-confirmation", false, "")
	fs.StringVar(&c.toolsets, "toolsets", mcpserver.ToolsetDefault, "")
	fs.StringVar(&c.include, "tools", "", "")
	fs.StringVar(&c.exclude, "exclude-tools", "", "")
	fs.StringVar(&c.region, "region", "", "")
	fs.StringVar(&c.profile, "profile", "", "")
	fs.StringVar(&c.endpointURL, "endpoint-url", "", "")
	fs.StringVar(&c.expectAccount, "expect-account", "", "")
	fs.StringVar(&c.accounts, "accounts", "", "")
	fs.BoolVar(&c.sandbox, "sandbox", false, "")
	fs.StringVar(&c.sandboxSeed, "sandbox-seed", "none", "")
	fs.StringVar(&c.sandboxState, "sandbox-state", "", "")
	fs.StringVar(&c.secretsDir, "secrets-dir", "", "")
	fs.BoolVar(&c.returnSecrets, "return-secrets", false, "")
	fs.BoolVar(&c.allowRisky, "allow-risky-policies", false, "")
	fs.StringVar(&c.auditLog, "audit-log", "", "")
	fs.StringVar(&c.plugins, "plugins", "", "")
	fs.StringVar(&c.cacheDir, "cache-dir", "", "")
	logLevel = fs.String("log-level", "warn", "")
	fs.BoolVar(&c.version, "version", false, "")
	if c.command == "serve" {
		c.http.flags(fs)
		fs.BoolVar(&c.watch, "watch", false, "")
	}
	if c.command == "call" {
		fs.StringVar(&c.args, "args", "", "")
		fs.BoolVar(&c.yes, "yes", false, "")
	}
	for old, name := range oldSpellings {
		// The same Value under the old name: one setting, and a boolean
		// stays one (--local takes no value).
		fs.Var(fs.Lookup(name).Value, old, "")
	}
	return fs, logLevel, confirm
}

// oldSpellings are the flags that were renamed, each old name to its new
// one. Operators' MCP client configurations say --local: the old names
// (and their variables, IAM_MCP_LOCAL...) keep working, with one warning
// naming the new, and the help shows only the new. A flag has one name in
// the config (c.from, c.source), the new, whichever spelling set it.
var oldSpellings = map[string]string{
	"local":       "sandbox",
	"local-seed":  "sandbox-seed",
	"local-state": "sandbox-state",
}

// oldSpelling is the old name of a renamed flag, or "".
func oldSpelling(name string) string {
	for old, n := range oldSpellings {
		if n == name {
			return old
		}
	}
	return ""
}

// fromOldSpellings files each flag the command line set by its old name
// under its new one, and refuses both names of one flag at once (the
// later would silently win).
func (c *config) fromOldSpellings() error {
	for old, name := range oldSpellings {
		if !c.set(old) {
			continue
		}
		if c.set(name) {
			return usagef("--%s and --%s are one flag (--%s is its old name): give --%s only", name, old, old, name)
		}
		c.from[name] = c.from[old]
		delete(c.from, old)
		c.renamed = append(c.renamed, fmt.Sprintf("--%s is now --%s", old, name))
	}
	return nil
}

// sayRenamed warns, once, of the old spellings the command used, naming
// the new ones. It goes straight to stderr whatever --log-level says: it
// is about the command line itself, and an operator who never reads it
// loses the command when the old names go.
func (c *config) sayRenamed(stderr io.Writer) {
	if len(c.renamed) == 0 {
		return
	}
	slices.Sort(c.renamed)
	fmt.Fprintf(stderr, "iam-mcp-server: warning: %s; the old names still work but are deprecated: change them where this command is configured (the MCP client's \"args\" or \"env\", a script)\n",
		strings.Join(c.renamed, ", "))
}

// sandboxHint adds to the refusal of an unknown flag that looks like one
// of the sandbox's the names it may have meant: a typo in an old spelling
// must not read as "the sandbox flags are gone".
func sandboxHint(err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok || !(strings.HasPrefix(name, "local") || strings.HasPrefix(name, "sandbox")) {
		return ""
	}
	return "; the embedded sandbox's flags are --sandbox, --sandbox-seed NAME and --sandbox-state FILE"
}

// notFromEnvironment are the flags no variable sets. --version and --args
// are one command line's business. --yes is a person's approval of the
// change in front of them: a variable would outlive that one command and
// approve every later one run from the same shell or script.
var notFromEnvironment = map[string]bool{"version": true, "args": true, "yes": true}

// envName is the variable of a flag: IAM_MCP_ and the flag's name in upper
// case, dashes as underscores. It is derived, never listed, so the
// variables cannot drift from the flags.
func envName(flagName string) string {
	return "IAM_MCP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fromEnvironment sets each flag the command line did not set from its
// variable, when that is set and not empty. --confirm and
// --no-confirmation are one setting: either on the command line makes the
// command line decide it, so that a flag always wins over a variable.
func (c *config) fromEnvironment(fs *flag.FlagSet, lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		return nil
	}
	cmdline := func(name string) bool { return strings.HasPrefix(c.from[name], "--") }
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if _, old := oldSpellings[f.Name]; old || err != nil || notFromEnvironment[f.Name] || cmdline(f.Name) {
			return // an old name's variable is read with its new name's
		}
		if (f.Name == "confirm" || f.Name == "no-confirmation") && (cmdline("confirm") || cmdline("no-confirmation")) {
			return
		}
		name := envName(f.Name)
		v, ok := lookupEnv(name)
		if old := oldSpelling(f.Name); old != "" {
			if ov, set := lookupEnv(envName(old)); set && ov != "" {
				if ok && v != "" {
					err = usagef("%s and %s are one setting (%s is its old name): unset %s", name, envName(old), envName(old), envName(old))
					return
				}
				c.renamed = append(c.renamed, envName(old)+" is now "+name)
				name, v, ok = envName(old), ov, true
			}
		}
		switch {
		case !ok:
			return
		case v == "" && f.Name == "expect-account":
			// As for the empty flag: whoever set the variable meant to pin
			// an account, and a template that failed to fill it in must
			// not run against whatever the credentials reach.
			err = usagef("%s is set but empty: set it to the 12-digit account id the credentials must belong to, or unset it to not pin an account", name)
			return
		case v == "":
			return // an empty variable counts as unset
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			// Exactly these four: the flag package would also take "t",
			// "T" or "TRUE", and a client config's "yes" or "on" must not
			// be read as anything.
			if v != "true" && v != "false" && v != "1" && v != "0" {
				err = usagef("%s=%s: use true, false, 1 or 0", name, quoted(v))
				return
			}
		}
		if serr := f.Value.Set(v); serr != nil {
			err = usagef("%s=%s: %v", name, quoted(v), serr)
			return
		}
		c.from[f.Name] = name
	})
	return err
}

// set reports whether a flag was set, on the command line or by its
// variable.
func (c *config) set(name string) bool { return c.from[name] != "" }

// source names where a flag's value came from, for a message: "--name",
// or "IAM_MCP_NAME" when its variable set it.
func (c *config) source(name string) string {
	if s := c.from[name]; s != "" {
		return s
	}
	return "--" + name
}

// parseInterspersed lets flags follow positional arguments ("call list_users
// --sandbox"), which the flag package alone stops at. Everything after "--" is
// positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagMessage rewords the flag package's errors with the double dash the
// usage text shows: "flag provided but not defined: -x" becomes
// "unknown flag --x".
func flagMessage(err error) string {
	msg := strings.Replace(err.Error(), "flag provided but not defined: ", "unknown flag ", 1)
	return singleDash.ReplaceAllString(msg, "$1--$2")
}

var singleDash = regexp.MustCompile(`(^|[\s:])-([a-z])`)

// quoted quotes a value from outside for a message: escaped, and no more
// than a short prefix of it (args.Quote, under a name no parameter called
// args shadows).
func quoted(s string) string { return args.Quote(s) }

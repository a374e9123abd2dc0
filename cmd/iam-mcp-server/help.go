package main

// The help text: the overview, the shared flags and each command's
// synopsis. Parsing is in flags.go; what is documented here is what it
// declares (TestUsageListsEveryFlag), but the old spellings it still
// accepts (oldSpellings), which are for old configurations, not new ones.

// usage is the overview, for "iam-mcp-server --help" and an unknown command.
const usage = `iam-mcp-server — AWS IAM for AI assistants, over MCP

Usage:
  iam-mcp-server [serve] [flags]          serve the IAM tools over MCP on stdio (what an MCP client runs)
  iam-mcp-server call TOOL [--args JSON|@FILE|-] [flags]
                                          run one operation and print its result as JSON
  iam-mcp-server tools [flags]            list the exposed tools: name, toolset, read or write
  iam-mcp-server policy [flags]           print the least-privilege IAM policy the server needs
  iam-mcp-server plugins list --plugins FILE [flags]
                                          load the plugins FILE lists and print each: hash, tools, grants, limits
  iam-mcp-server plugins inspect FILE.wasm
                                          print a plugin module's sha256 and describe output, to write its grant
  iam-mcp-server plugins new NAME [--dir DIR] [--module PATH] [--sdk DIR]
                                          write a new plugin in a module of its own: one tool, its tests, its entry
  iam-mcp-server plugins keygen|publish|sign ...
                                          a publisher's key; push a module to an OCI registry; sign it
  iam-mcp-server plugins add oci://REGISTRY/REPOSITORY:TAG --plugins FILE --publisher NAME
                                          verify a published plugin, show what it asks, pin it in FILE
  iam-mcp-server plugins update NAME --plugins FILE
                                          follow its tag to a new version; show what changed; repin it
  iam-mcp-server sandbox [flags]          serve the embedded IAM sandbox over HTTP (for the AWS CLI and SDKs)
  iam-mcp-server version                  print the version

Run "iam-mcp-server COMMAND --help" for a command's details, and
"iam-mcp-server sandbox --help" for the sandbox's flags.

`

// The shared flags, documented once for every command's usage.
const flagsHelp = `Flags (for serve, call, tools, policy and plugins list; they may also follow the arguments):
  --allow-write          allow the operations that change IAM; without it the server is read-only:
                         mutating tools stay listed, marked disabled, and answer dry_run: true
  --readonly             refuse every change, whoever asks, even with --allow-write (it wins)
  --confirm LEVEL        which changes need a person's yes before they run, asked through the MCP client
                         (by call, on the terminal): destructive (delete, overwrite, cut off access),
                         writes (every change) or none (default "destructive")
  --no-confirmation      the same as --confirm none (the AWS Labs server's spelling)
  --toolsets LIST        the tools to expose: default, all, or a comma-separated list of users, groups,
                         roles, policies, inline, credentials, simulation, policy, account (may include
                         default)
                         (default "default")
  --tools LIST           expose only the tools matching these comma-separated names or globs (list_*,
                         *_policy): built-in tools picked from --toolsets, and plugin tools
  --exclude-tools LIST   hide the tools matching these names or globs, built-in or plugin; an excluded
                         operation is refused to every caller, plugins included; exclusion wins over
                         --tools. A pattern of either list that matches no tool stops the start
  --region REGION        AWS region for STS and request signing (default: the AWS configuration, else
                         us-east-1)
  --profile NAME         profile of the shared AWS configuration (default: AWS_PROFILE, else "default")
  --endpoint-url URL     send IAM and STS requests to URL (a proxy, or "iam-mcp-server sandbox")
  --expect-account ID    refuse every call in the server's own account unless the credentials belong
                         to this 12-digit account
  --accounts FILE        also act in the accounts FILE lists (YAML: id, alias, role_arn or profile,
                         mode, confirm; or discovery of the organization's accounts through one role
                         name): every tool that calls AWS then takes an account argument (id or alias),
                         and get_account_info lists them with their modes. Each account is read-only
                         unless FILE says read-write, and always when the server is
  --sandbox              use the embedded IAM sandbox, in process: no AWS account, configuration or
                         credentials are read (account 123456789012)
  --sandbox-seed NAME    with --sandbox: seed a new sandbox account, "none", "demo" or "org" (an AWS
                         Organization of several accounts, reached by discovery without --accounts)
                         (default "none")
  --sandbox-state FILE   with --sandbox: keep the sandbox account in FILE, loaded at start and saved
                         after every change (default: in memory, lost at exit)
  --secrets-dir DIR      where new secret access keys are written, one 0600 file each, and the key
                         that seals plugins' state (state-seal.key) is kept (default: the user config
                         dir's iam-mcp-server/secrets; with --sandbox, the user cache dir's
                         iam-mcp-server/local-secrets)
  --return-secrets       return new secret access keys inline, once, instead of writing a file
  --allow-risky-policies write policies the guardrails call risky (admin-equivalent, privilege
                         escalation on *, trust open to anyone or to another account without a
                         condition), listing the risks as warnings; refused otherwise
  --audit-log FILE       append one JSON line per decided call to FILE (created 0600); off by default
  --plugins FILE         load the Wasm plugins FILE lists (YAML: path, sha256, prefix, grants, config,
                         limits; see docs/plugins.md) and serve their tools next to the built-in ones; a
                         plugin that cannot load stops the start
  --cache-dir DIR        with --plugins: keep compiled plugins in DIR, created 0700 (default: the user
                         cache dir's iam-mcp-server/wasm-cache)
  --log-level LEVEL      debug, info, warn or error; logs go to stderr (default "warn")
  --version              print the version and exit

Each flag but --version (and call's --args and --yes) can also come from the environment, as
IAM_MCP_ and its name in upper case, dashes as underscores: IAM_MCP_ALLOW_WRITE=true,
IAM_MCP_TOOLSETS=all, IAM_MCP_EXCLUDE_TOOLS=delete_*. A flag on the command line wins over its
variable; an empty variable counts as unset (but an empty IAM_MCP_EXPECT_ACCOUNT is refused);
booleans take true, false, 1 or 0.

The AWS environment variables (AWS_PROFILE, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, ...) and the shared config and credentials files work as in every AWS tool.
`

// serveHTTPHelp documents serve's HTTP flags (httpconfig.go).
const serveHTTPHelp = `
HTTP flags (serve only; each but --http needs --http):
  --http ADDR            serve MCP over Streamable HTTP on ADDR (host:port; port 0 picks one) instead of
                         stdio; an address beyond loopback needs --http-token-file or --oauth-issuer
  --tls-cert FILE        serve HTTPS with this PEM certificate (with --tls-key); without both, plain
                         HTTP (behind a TLS proxy, or on loopback)
  --tls-key FILE         the certificate's PEM private key
  --http-token-file FILE accept the bearer tokens FILE lists, each naming its subject (never a token as
                         a flag value)
  --oauth-issuer URL     accept OAuth 2.1 access tokens (JWTs) from this issuer, checked against its
                         JWKS; the protected-resource metadata document names it to clients
  --oauth-audience LIST  the audiences a token must carry, comma-separated (default: the public URL
                         + /mcp)
  --oauth-jwks-url URL   the issuer's JWKS (default: discovered from the issuer's metadata)
  --http-rules FILE      narrow the server per subject or claim value: read-only, toolsets, tools,
                         accounts (YAML)
  --http-allowed-hosts LIST
                         Host header values accepted besides loopback and the public URL's host,
                         comma-separated (DNS-rebinding protection)
  --http-allowed-origins LIST
                         Origin values accepted besides loopback and the public URL's,
                         comma-separated (scheme://host[:port])
  --public-url URL       the server's base URL as clients reach it (https://iam.example.com): the
                         metadata document's resource and the secret links' base (default:
                         http(s)://the address listened on)
  --secret-link-ttl DURATION
                         how long a one-time secret link lives, at most 1h (default 10m)
  --shutdown-timeout DURATION
                         on SIGTERM, how long calls in flight may finish while new ones are refused
                         (default 30s)

A client narrows, never widens, what the flags and rules allow it with the request headers
X-MCP-Readonly, X-MCP-Toolsets, X-MCP-Tools and X-MCP-Accounts. With --http and
authentication, a new secret is given as a one-time link on this server instead of a file in
--secrets-dir (which keeps the plugins' seal key); --return-secrets is refused with --http.
`

// commandUsage is each command's synopsis.
var commandUsage = map[string]string{
	"serve": `Usage: iam-mcp-server [serve] [--http ADDR [HTTP flags]] [flags]

Serves the IAM tools over MCP on stdin and stdout, for an MCP client (Claude Desktop, Cursor,
Amazon Q CLI, VS Code, Cline) to start. Read-only unless --allow-write; a change that --confirm
covers runs only after the person says yes through the client. Logs go to stderr.

With --http ADDR it serves MCP over Streamable HTTP instead, at /mcp, for a team: one server
holds the AWS credentials and each person's client connects to it. It listens on loopback
unless authentication is on; Host and Origin are checked; /healthz answers a load balancer;
SIGTERM lets calls in flight finish. A new secret access key is given as a one-time link on
this server, for the same subject, instead of a file or the result.

With --plugins, SIGHUP reloads the plugins file without a restart (so does a change to the file,
with --watch): the new set is loaded, verified and compiled first, then swapped in at once;
calls running finish on the old set; clients are sent notifications/tools/list_changed. A
reload that fails keeps the old set and logs why.

  --watch                with --plugins: reload when the plugins file changes (checked every
                         second; a change is taken once it has stayed the same for a second)
` + serveHTTPHelp,
	"call": `Usage: iam-mcp-server call TOOL [--args JSON|@FILE|-] [--yes] [flags]

Runs one operation through the same checks as the MCP server (--allow-write, --readonly,
--confirm, --exclude-tools, --expect-account, the audit log) and prints its result as JSON.
Every operation can be called, whatever --toolsets and --tools expose; with --plugins, so can
every plugin tool (its progress is logged at --log-level info). A change that --confirm covers
is shown on the terminal (its IAM calls, what it affects, the guardrails' findings, whether it
can be undone) and runs only on "y"; without a terminal it is refused unless --yes is given.
Exit status: 0 on success, 1 when the operation fails or is declined (the error is printed on
stderr as "<Code>: <message>"), 2 for a usage error.

  --args JSON|@FILE|-    the operation's arguments: a JSON object, @FILE to read it from FILE,
                         or - to read it from stdin (default {}); the question is then asked on
                         the controlling terminal
  --yes                  approve the change without asking, for scripts (--allow-write is still
                         needed to change anything)
`,
	"tools": `Usage: iam-mcp-server tools [flags]

Lists the tools the server exposes with these flags (--toolsets, --tools, --exclude-tools), one
per line: name, toolset, and read or write, in catalogue order; with --plugins, the plugins'
tools follow, their toolset "plugin:<name>".
`,
	"policy": `Usage: iam-mcp-server policy [--allow-write] [--readonly] [--toolsets LIST] [--tools LIST]
                            [--exclude-tools LIST] [--plugins FILE] [--accounts FILE]

Prints the least-privilege IAM policy the server's credentials need for the tools exposed with
these flags: only the actions of tools that change nothing, unless --allow-write (without
--readonly) lets them write. With --plugins, the operations granted to the plugins count too,
but no excluded one; the plugins are not loaded, so a --tools or --exclude-tools pattern that
no built-in tool matches is taken to name a plugin tool. With --accounts, statements follow for
reaching the accounts: sts:AssumeRole on each role the file names and, with discovery,
organizations:ListAccounts and the role in every account; each of those roles needs this
command's policy for that account's mode.
`,
	"plugins": `Usage: iam-mcp-server plugins list --plugins FILE [flags]
       iam-mcp-server plugins inspect FILE.wasm
       iam-mcp-server plugins inspect oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]
       iam-mcp-server plugins new NAME [--dir DIR] [--module PATH] [--sdk DIR]
       iam-mcp-server plugins keygen NAME [--dir DIR]
       iam-mcp-server plugins publish FILE.wasm oci://REGISTRY/REPOSITORY:TAG [--sign-key KEY --sign-cert CERT]
       iam-mcp-server plugins sign oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] --key KEY --cert CERT
       iam-mcp-server plugins add oci://REGISTRY/REPOSITORY:TAG --plugins FILE (--publisher NAME | --cert CERT) [--yes]
       iam-mcp-server plugins update NAME --plugins FILE [--yes]

  list      loads the plugins FILE lists, as the server would, and prints each: its path and
            sha256, its tools (full names), the operations it asks for and those granted, and
            its limits. A plugin that cannot load is an error naming it (exit status 1).
  inspect   prints a module's sha256 and what its describe export returns, as indented JSON,
            so that an operator can write its entry (hash and grants) in the plugins file.
  new       writes the starting point of a plugin in a Go module of its own: one tool, its
            tests (natively with the test kit, and as Wasm), a Makefile and its plugins-file entry.
  keygen    writes a publisher's signing key and certificate (the certificate goes to operators).
  publish   pushes a module to an OCI registry with what it asks for, and signs it with a key.
  sign      signs a published module (its digest) with a publisher's key.
  add       verifies a published, signed plugin, shows what it asks for and, on yes, adds its
            entry, pinned to the digest, to the plugins file.
  update    follows an entry's tag to a newer version, shows what changed (new operations asked
            for are never granted by an update) and, on yes, pins the entry to it.
`,
	"plugins keygen": `Usage: iam-mcp-server plugins keygen NAME [--dir DIR]

Writes a publisher's signing key (NAME.key, mode 0600: keep it secret) and its self-signed
code-signing certificate (NAME.crt) in DIR (default: the current directory); nothing is
overwritten. plugins publish --sign-key and plugins sign --key use the key; operators trust
the certificate under publishers: in their plugins file.
`,
	"plugins publish": `Usage: iam-mcp-server plugins publish FILE.wasm oci://REGISTRY/REPOSITORY:TAG [--sign-key KEY --sign-cert CERT] [--cache-dir DIR]

Runs the module's describe export (sandboxed, with no IAM access, as plugins inspect does),
pushes the module to the registry under TAG with its name, version, tools and the operations
each asks for as annotations, and prints the reference pinned to the digest. With --sign-key
and --sign-cert (from plugins keygen) it signs that digest too. Credentials come from the
Docker config (docker login) and its credential helpers; a registry on loopback is reached
over plain HTTP, any other over TLS. --cache-dir is the cache serve uses (default: the user
cache).
`,
	"plugins sign": `Usage: iam-mcp-server plugins sign oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] --key KEY --cert CERT [--cache-dir DIR]

Signs a published module: resolves the tag to its digest, and stores a Notary Project signature
of that digest in the registry, next to it (an OCI referrer). What is signed is the digest, never
the tag: a tag moved later does not carry the signature.
`,
	"plugins add": `Usage: iam-mcp-server plugins add oci://REGISTRY/REPOSITORY:TAG --plugins FILE (--publisher NAME | --cert CERT)
                                  [--name NAME] [--grants OP,OP] [--cache-dir DIR] [--yes]

Resolves the tag to its digest, verifies the signature (by a publisher of the plugins file,
or by the certificate CERT, which the entry then names as signed_by), pulls and checks the
module, shows its tools and every operation they ask for (writes marked), and on yes appends
its entry to FILE: source pinned to the digest, the trust, grants (what it asks for, or the
subset --grants names; a grant not asked for is refused) and the default limits. The file's
comments and layout are kept; it is written to a temporary file, checked, and renamed. With no
terminal to ask on, --yes is needed.

  --name NAME       the entry's name (default: the plugin's own)
  --grants OP,OP    grant only these of the operations it asks for
  --cache-dir DIR   where pulled modules are kept, as for serve (default: the user cache)
  --yes             write without asking
`,
	"plugins update": `Usage: iam-mcp-server plugins update NAME --plugins FILE [--cache-dir DIR] [--yes]

Follows the tag of entry NAME's source to the version it points at now, pulls and verifies it
with the entry's trust, and shows what changed: new and removed tools, and the operations the
new version asks for that the old did not — these are NOT granted by the update (the grants stay
what the file says) and each is listed as granted or not. On yes it pins the entry's source to
the new digest, changing nothing else. "already current" when the digest is the same.
`,
	"plugins list": `Usage: iam-mcp-server plugins list --plugins FILE [flags]

Loads the plugins FILE lists, as the server would with these flags, and prints each: its path
and sha256, its tools (full names), the operations it asks for and those granted, and its
limits. A plugin that cannot load is an error naming it (exit status 1).
`,
	"plugins new": `Usage: iam-mcp-server plugins new NAME [--dir DIR] [--module PATH] [--sdk DIR]

Writes the starting point of a plugin named NAME (what the plugins file accepts: letters, digits,
'_' and '-') in a Go module of its own, in the directory DIR (default NAME), which must not exist
or be empty: nothing is overwritten. It holds the plugin's main package with one read-only tool
(console users without MFA), the tool's logic in package workflow with its tests (natively on
the server's gate over the embedded sandbox with the test kit sdk/hostiam/hostiamtest, and built
and run as Wasm), a Makefile (make test, make wasm as make plugins builds, make pin to write the
module's sha256 into plugins.yaml), the plugins-file entry and a README. See docs/plugins.md,
"Write a plugin in your own module".

  --dir DIR       where to write it (default: NAME, in the current directory)
  --module PATH   the module path (default: example.com/NAME)
  --sdk DIR       a checkout of the server module: the module then replaces
                  github.com/iammcp/iam-mcp-server by DIR and takes its go.sum and requirements,
                  so that it builds offline from the module cache (needed until a release is
                  published; without it, go get the server module)
`,
	"plugins inspect": `Usage: iam-mcp-server plugins inspect FILE.wasm
       iam-mcp-server plugins inspect oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]
                      [--publisher NAME --plugins FILE | --cert CERT]

Prints a module's sha256 and what its describe export returns (name, version, tools, and the
operations each tool asks for), as indented JSON, so that an operator can write its entry in
the plugins file. The module runs only its describe export, with no IAM access.

For an oci:// reference it reads only the registry's manifest (the module is neither pulled nor
run): the pinned reference, the tools, the operations asked for and the writes among them; with
--publisher (a publisher of the plugins file) or --cert, also who signed it, or an error if no
valid signature is there.
`,
}

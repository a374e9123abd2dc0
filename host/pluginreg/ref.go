package pluginreg

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Ref names a plugin in an OCI registry: oci://REGISTRY/REPO[:TAG][@sha256:HEX].
// The digest is what pins it; the tag is for people.
type Ref struct {
	Registry   string // host[:port], lower case, no scheme
	Repository string // path within the registry, per the distribution spec
	Tag        string // optional
	Digest     string // optional: "sha256:" + 64 lower-case hex digits
}

const (
	refScheme = "oci://"
	// maxRef bounds a reference before any parsing: the distribution spec
	// caps a repository name at 255 characters in practice.
	maxRef = 512
)

var (
	// refRegistry: a DNS name or IPv4 address, or a bracketed IPv6
	// address, with an optional port; lower case as host names compare.
	refRegistry = regexp.MustCompile(`^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$`)
	// refRepository is the OCI distribution spec's name grammar.
	refRepository = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	refTag        = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	refDigest     = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// refShape is what every ParseRef error ends with.
const refShape = "a plugin reference looks like oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], e.g. oci://ghcr.io/acme/audit-plugin:1.2.0@sha256:<64 hex digits>"

// ParseRef parses an oci:// reference strictly.
func ParseRef(s string) (Ref, error) {
	if len(s) > maxRef {
		return Ref{}, fmt.Errorf("plugin reference is %d characters, more than %d: %s", len(s), maxRef, refShape)
	}
	bad := func(what string) (Ref, error) {
		return Ref{}, fmt.Errorf("plugin reference %q: %s; %s", shorten(s, 120), what, refShape)
	}
	rest, ok := strings.CutPrefix(s, refScheme)
	if !ok {
		return bad("it does not start with oci://")
	}
	var r Ref
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.Digest = rest[i+1:]
		rest = rest[:i]
		if !refDigest.MatchString(r.Digest) {
			return bad("the digest after @ must be sha256: and 64 lower-case hex digits")
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return bad("it names no repository after the registry")
	}
	r.Registry, rest = rest[:slash], rest[slash+1:]
	if !refRegistry.MatchString(r.Registry) {
		return bad("the registry must be a lower-case host name or address with an optional :port, without scheme or path")
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		r.Tag = rest[i+1:]
		rest = rest[:i]
		if !refTag.MatchString(r.Tag) {
			return bad("the tag must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
		}
	}
	r.Repository = rest
	if len(r.Repository) > 255 || !refRepository.MatchString(r.Repository) {
		return bad("the repository must be lower-case path components of letters and digits separated by '.', '_', '__' or '-'")
	}
	if r.Tag == "" && r.Digest == "" {
		return bad("it has neither a tag nor a digest")
	}
	return r, nil
}

// String formats r as ParseRef reads it.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString(refScheme)
	b.WriteString(r.Registry)
	b.WriteByte('/')
	b.WriteString(r.Repository)
	if r.Tag != "" {
		b.WriteByte(':')
		b.WriteString(r.Tag)
	}
	if r.Digest != "" {
		b.WriteByte('@')
		b.WriteString(r.Digest)
	}
	return b.String()
}

// Pinned reports whether r names a digest.
func (r Ref) Pinned() bool { return r.Digest != "" }

// reference is what oras-go resolves: the digest when pinned, else the tag.
func (r Ref) reference() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

var errNotPinned = errors.New("the plugin reference has no @sha256: digest: resolve it first (plugins add pins the digest in the plugins file)")

package pluginreg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/iammcp/iam-mcp-server/internal/private"
)

// Options configure a Client.
type Options struct {
	CacheDir     string       // pulled modules and signatures live under CacheDir/oci (0700)
	DockerConfig string       // Docker config with auths and credential helpers; "" = $DOCKER_CONFIG/config.json or ~/.docker/config.json
	HTTPClient   *http.Client // nil: a default with timeouts
	Logger       *slog.Logger
}

// Client talks to OCI registries and keeps the plugin cache.
type Client struct {
	cacheDir string // CacheDir/oci
	creds    credentials.Store
	http     *http.Client
	log      *slog.Logger
}

// New checks the cache directory (created 0700; one that others can
// write in is refused, since they could swap a verified module) and
// reads the Docker credential configuration.
func New(opts Options) (*Client, error) {
	if opts.CacheDir == "" {
		return nil, errors.New("pluginreg: no cache directory given")
	}
	dir := filepath.Join(opts.CacheDir, "oci")
	for _, d := range []string{opts.CacheDir, dir} {
		if err := private.MkdirAll(d); err != nil {
			return nil, fmt.Errorf("plugin cache: %w", err)
		}
	}
	sopts := credentials.StoreOptions{}
	var store credentials.Store
	var err error
	if opts.DockerConfig == "" {
		store, err = credentials.NewStoreFromDocker(sopts)
	} else {
		store, err = credentials.NewStore(opts.DockerConfig, sopts)
	}
	if err != nil {
		return nil, fmt.Errorf("read Docker credentials (%s): %w", dockerConfigName(opts.DockerConfig), err)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cacheDir: dir, creds: store, http: hc, log: log}, nil
}

func dockerConfigName(p string) string {
	if p != "" {
		return p
	}
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	return "~/.docker/config.json"
}

// defaultHTTPClient: timeouts on every phase but the body, so a stalled
// registry fails the call instead of hanging the server's start; a body
// (a module) is bounded in size by the reader, and in time by ctx.
func defaultHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: retry.NewTransport(tr), Timeout: 5 * time.Minute}
}

// loopback says whether a registry host is on this machine: those are
// reached over plain HTTP, as Docker does for localhost; any other needs TLS.
func loopback(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Repository is the oras-go client for ref's repository, authenticated
// from the Docker configuration (auths and credential helpers).
func (c *Client) Repository(ref Ref) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return nil, fmt.Errorf("registry reference %s: %w", ref, err)
	}
	repo.PlainHTTP = loopback(ref.Registry)
	repo.Client = &auth.Client{
		Client:     c.http,
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(c.creds),
		Header:     http.Header{"User-Agent": {"iam-mcp-server"}},
	}
	return repo, nil
}

// Resolve pins a tag: it returns ref with Digest set to the manifest's.
// A ref already pinned is checked to exist in the registry.
func (c *Client) Resolve(ctx context.Context, ref Ref) (Ref, error) {
	repo, err := c.Repository(ref)
	if err != nil {
		return Ref{}, err
	}
	desc, err := repo.Resolve(ctx, ref.reference())
	if err != nil {
		return Ref{}, registryError(ref, "resolve", err)
	}
	if ref.Digest != "" && desc.Digest.String() != ref.Digest {
		return Ref{}, fmt.Errorf("%s: the registry answered manifest %s for digest %s", ref, desc.Digest, ref.Digest)
	}
	ref.Digest = desc.Digest.String()
	return ref, nil
}

// registryError words an error from the registry: what failed and where,
// with oras-go's own message (it carries the HTTP status, e.g. 401).
func registryError(ref Ref, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", what, ref, err)
	}
	var er *errcode.ErrorResponse
	if errors.Is(err, auth.ErrBasicCredentialNotFound) || errors.As(err, &er) && er.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("%s %s: registry %s answered 401 Unauthorized: log in with `docker login %s` (or a credential helper in the Docker config) so that its credentials are found: %w", what, ref, ref.Registry, ref.Registry, err)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("%s %s: registry %s is unreachable: %w", what, ref, ref.Registry, err)
	}
	return fmt.Errorf("%s %s at registry %s: %w", what, ref, ref.Registry, err)
}

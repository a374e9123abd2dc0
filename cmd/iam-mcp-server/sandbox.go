package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/iammcp/iam-mcp-server/host/sandbox"
)

// serveSandbox is the sandbox command: it serves the embedded IAM sandbox
// until ctx ends (a signal: SIGINT, SIGTERM); ready, if set, learns the URL once
// the port is open (tests use it with --listen 127.0.0.1:0).
func serveSandbox(ctx context.Context, args []string, stderr io.Writer, ready func(url string)) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:4599", "`address` to serve on; loopback unless --allow-remote")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback --listen address (the sandbox has no authentication)")
	var allowHosts []string
	fs.Func("allow-host", "also answer requests addressed to this host `name` (or name:port, or IP); repeatable or comma-separated.\nWithout it the sandbox answers only requests addressed to the IP address they arrived on, localhost on a loopback address, and the --listen host name", func(v string) error {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h == "" {
				return errors.New("an empty host name")
			}
			allowHosts = append(allowHosts, h)
		}
		return nil
	})
	seed := fs.String("seed", "", "seed a new account: \"demo\" for a small company's account with planted security problems,\n\"org\" for an AWS Organization of four accounts with cross-account problems planted")
	state := fs.String("state", "", "persist the account to this JSON `file` (loaded at start, rewritten after every change);\nwith --seed org each member account's is kept beside it as FILE.<account-id>")
	latency := fs.Duration("latency", 0, "injected latency per request, e.g. 20ms")
	throttle := fs.Float64("throttle-rate", 0, "fraction of requests answered with Throttling (0..1)")
	errRate := fs.Float64("error-rate", 0, "fraction of requests answered with HTTP 500 (0..1)")
	faultSeed := fs.Int64("fault-seed", 1, "seed for the injected faults, for reproducible runs")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: iam-mcp-server sandbox [flags]\n\nServes an in-memory IAM account (123456789012) over the IAM Query protocol.\nAny access key signs requests; signatures are not checked. Requests a web page can\nsend are refused: any carrying Origin or Sec-Fetch-* headers, any addressed to a\nhost other than the listener (see --allow-host), and changes by any method but POST.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sandbox: unexpected argument %s\n", quoted(fs.Arg(0)))
		return 2
	}
	for name, rate := range map[string]float64{"--throttle-rate": *throttle, "--error-rate": *errRate} {
		if rate < 0 || rate > 1 {
			fmt.Fprintf(stderr, "sandbox: %s must be between 0 and 1, got %v\n", name, rate)
			return 2
		}
	}
	level, err := parseLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if err := checkListen(*listen, *allowRemote); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 2
	}
	// A --listen host name is one the operator chose to reach the sandbox
	// by; IP addresses need no entry (a connection's own address always
	// passes), nor does localhost on a loopback address.
	if host, _, _ := net.SplitHostPort(*listen); host != "" && net.ParseIP(host) == nil && !strings.EqualFold(host, "localhost") {
		allowHosts = append(allowHosts, host)
	}
	srv, err := sandbox.New(sandbox.Options{
		Seed:         *seed,
		StateFile:    *state,
		Faults:       sandbox.Faults{Latency: *latency, ThrottleRate: *throttle, ErrorRate: *errRate, Seed: *faultSeed},
		Logger:       logger,
		AllowedHosts: allowHosts,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: cannot listen on %s: %v\n", *listen, err)
		return 1
	}
	url := "http://" + ln.Addr().String()
	logger.Info("IAM sandbox listening", "url", url, "account", srv.AccountID(), "members", srv.Members(), "seed", *seed, "state", *state, "allowed_hosts", allowHosts)
	printTry(stderr, srv, url)

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	if ready != nil {
		ready(url)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		if cerr := srv.Close(); cerr != nil {
			fmt.Fprintf(stderr, "sandbox: %v\n", cerr)
		}
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	// What reads recorded since the last save (keys' last use, reports)
	// is written now.
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	logger.Info("IAM sandbox stopped")
	return 0
}

// checkListen refuses a non-loopback address unless allowed: the sandbox
// accepts any signature, so anyone who reaches it can change it.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %s is not host:port: %v", quoted(addr), err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %s is not a loopback address; the sandbox checks no signatures, so pass --allow-remote to expose it anyway", addr)
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %s: use debug, info, warn or error", quoted(s))
	}
	return l, nil
}

// printTry tells how to reach the sandbox: with the bootstrap key (the
// account's root), and for an organisation with the operator's key, which
// (unlike a root) may assume roles into the member accounts.
func printTry(w io.Writer, srv *sandbox.Server, url string) {
	members := srv.Members()
	if len(members) == 0 {
		fmt.Fprintf(w, "Try: AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=sandbox aws iam list-users --endpoint-url %s --region us-east-1\n", url)
		return
	}
	fmt.Fprintf(w, "Organization: management account %s; member accounts %s (each with role %s).\n",
		srv.AccountID(), strings.Join(members, ", "), sandbox.OrgAccessRoleName)
	fmt.Fprintf(w, "Try: AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws sts assume-role --role-arn arn:aws:iam::%s:role/%s --role-session-name try --endpoint-url %s --region us-east-1\n",
		sandbox.OrgOperatorKeyID, sandbox.OrgOperatorSecretKey, members[0], sandbox.OrgAccessRoleName, url)
}

package sandbox

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The HTTP front: which requests the sandbox takes at all.
//
// The sandbox checks no signatures, so whatever reaches its port can change
// the account and its state file. On a developer's machine that includes
// every web page the developer has open: a page cannot read the sandbox's
// answers (it sends no CORS headers), but it can send requests — a form
// POST, an <img> GET, a no-cors fetch — and through DNS rebinding a page of
// evil.example can have its requests to evil.example:4599 land on
// 127.0.0.1:4599. The AWS SDKs and CLIs send nothing a browser must send,
// so the front refuses what only browsers and rebinding produce:
//
//  1. Host must name the listener (network requests only; the in-process
//     transport carries whatever host the SDK's endpoint has): the IP
//     address the connection arrived on, "localhost" when that address is
//     a loopback one, or a name the operator allowed (Options.AllowedHosts),
//     each with the port the connection arrived on. A rebinding page's
//     requests carry its own name, so they stop here.
//  2. No Origin header and no Sec-Fetch-* header: browsers send them on
//     cross-site requests (Origin on every cross-origin POST, Sec-Fetch-Site
//     on every request of current browsers); no AWS client does.
//  3. Only POST changes the account. A POST carries its parameters in an
//     application/x-www-form-urlencoded body (what the SDKs and the CLI
//     send) and nothing in the query string; a GET carries them in the
//     query, has no body, and may run only actions that change nothing
//     (IAM's Query API takes GET too, and read-only tools may use it). Any
//     other method is 405.
//  4. Each parameter once: a form with Action or UserName twice is
//     refused, so that no reader of the request can see one value while
//     the handler acts on another.
//
// Every refusal is an IAM-shaped XML error, so SDKs report it as an API
// error with a code and a message saying what to do.

// hostRule is the set of Host values the network front accepts besides
// the listener's own address (and "localhost" on a loopback listener).
type hostRule struct {
	// names are allowed host names and IP literals (lower-cased, IPs in
	// netip's canonical text) that must come with the listener's port.
	names map[string]bool
	// withPort are allowed "host:port" pairs, for a sandbox reached
	// through a port mapping (a container's -p 8080:4599).
	withPort map[string]bool
}

// newHostRule checks and normalises Options.AllowedHosts.
func newHostRule(allowed []string) (hostRule, error) {
	r := hostRule{names: map[string]bool{}, withPort: map[string]bool{}}
	for _, entry := range allowed {
		host, port, hasPort, ok := splitHost(entry)
		if !ok {
			return hostRule{}, fmt.Errorf("sandbox: allowed host %s is not a host name or IP address with an optional :port", short(entry))
		}
		host, ok = normalHost(host)
		if !ok {
			return hostRule{}, fmt.Errorf("sandbox: allowed host %s is not a host name or IP address (no wildcards, no scheme, no path)", short(entry))
		}
		if hasPort {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
				return hostRule{}, fmt.Errorf("sandbox: allowed host %s has a port that is not a number from 1 to 65535", short(entry))
			}
			r.withPort[joinHostPort(host, port)] = true
		} else {
			r.names[host] = true
		}
	}
	return r, nil
}

// splitHost splits "host", "host:port", "[v6]" or "[v6]:port". ok is false
// for what is none of those (an unbracketed IPv6 address, an empty host or
// port).
func splitHost(h string) (host, port string, hasPort, ok bool) {
	if h == "" {
		return "", "", false, false
	}
	if hh, p, err := net.SplitHostPort(h); err == nil {
		return hh, p, true, hh != "" && p != ""
	}
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
		if _, err := netip.ParseAddr(h); err != nil {
			return "", "", false, false
		}
		return h, "", false, true
	}
	if strings.ContainsAny(h, ":[]") {
		return "", "", false, false
	}
	return h, "", false, true
}

// normalHost lower-cases a host name, or canonicalises an IP literal; ok is
// false for anything else (a wildcard, a scheme, a path, spaces).
func normalHost(h string) (string, bool) {
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.WithZone("").Unmap().String(), true
	}
	h = strings.ToLower(h)
	if len(h) > 253 {
		return "", false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return "", false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
	}
	return h, true
}

func joinHostPort(host, port string) string { return net.JoinHostPort(host, port) }

// hostAllowed reports whether a network request's Host names this sandbox,
// by the rule of the file comment. local is the address the connection
// arrived on (net/http puts it in the request's context); when it is
// unknown — the handler mounted behind something that does not say — only
// loopback names and allowed names pass, on any port.
func (rule hostRule) hostAllowed(reqHost string, local net.Addr) bool {
	host, port, hasPort, ok := splitHost(reqHost)
	if !ok {
		return false
	}
	if !hasPort {
		port = "80" // HTTP's default, which a client leaves out of Host
	}
	var localIP netip.Addr
	localPort := ""
	if tcp, isTCP := local.(*net.TCPAddr); isTCP && tcp != nil {
		ap := tcp.AddrPort()
		localIP, localPort = ap.Addr().WithZone("").Unmap(), strconv.Itoa(int(ap.Port()))
	}
	known := localIP.IsValid()
	name, ok := normalHost(host)
	if !ok {
		return false
	}
	if rule.withPort[joinHostPort(name, port)] {
		return true
	}
	if known && port != localPort {
		return false
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		switch {
		case known && ip == localIP, !known && ip.IsLoopback():
			return true
		}
		return rule.names[name]
	}
	if name == "localhost" && (!known || localIP.IsLoopback()) {
		return true
	}
	return rule.names[name]
}

// browserHeaders are the request headers only browsers send; any of them
// on a request means a web page sent it.
var browserHeaders = []string{"Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User"}

// checkFront applies rules 1 and 2 and the method half of rule 3, before
// anything of the request is read. network is false for the in-process
// transport, whose Host is whatever the SDK's endpoint says.
func (s *Server) checkFront(r *http.Request, network bool) *Error {
	if network {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if !s.hosts.hostAllowed(r.Host, local) {
			listen := "the address it listens on"
			if local != nil {
				listen = local.String()
			}
			return apiErr("InvalidHost", 403, "The sandbox answers only requests addressed to %s (or localhost on a loopback address), not to Host %s; a web page reaching it through DNS rebinding looks like this. If you reach the sandbox by another name, allow it: iam-mcp-server sandbox --allow-host NAME.",
				listen, short(r.Host))
		}
	}
	// Matched without regard to case: net/http canonicalises the names it
	// reads off the wire, but an in-process caller's map may hold any.
	for name, v := range r.Header {
		for _, h := range browserHeaders {
			if strings.EqualFold(name, h) {
				val := ""
				if len(v) > 0 {
					val = v[0]
				}
				return apiErr("BrowserRequestRefused", 403, "The sandbox refuses requests sent by a web browser (this one has the header %s: %s): a web page must not be able to change it. Use an AWS SDK or the AWS CLI.", h, short(val))
			}
		}
	}
	switch r.Method {
	case http.MethodPost:
		if r.URL.RawQuery != "" {
			return apiErr("MalformedQueryString", 400, "A POST carries its parameters in the form body; this one also has a query string. Send Action, Version and the rest in the body only.")
		}
		if e := checkContentType(r.Header); e != nil {
			return e
		}
	case http.MethodGet:
		if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
			return apiErr("MalformedQueryString", 400, "A GET carries its parameters in the query string and has no body; send a POST with a form body instead.")
		}
	default:
		return errMethod("The sandbox takes POST (any action) and GET (actions that change nothing), not %s.", short(r.Method))
	}
	return nil
}

// errMethod is the 405 of rule 3.
func errMethod(format string, args ...any) *Error {
	return apiErr("MethodNotAllowed", 405, format, args...)
}

// checkContentType accepts what the AWS SDKs and CLIs send on a POST:
// application/x-www-form-urlencoded (the Query protocol of IAM and STS),
// or with an X-Amz-Target header application/x-amz-json-1.1 (the JSON
// protocol of Organizations), optionally with charset=utf-8, and no
// content encoding. A browser's form can send neither the header nor the
// JSON type without a CORS preflight, which the sandbox never answers.
func checkContentType(h http.Header) *Error {
	want := "application/x-www-form-urlencoded"
	if len(h.Values("X-Amz-Target")) > 0 {
		want = jsonContentType
	}
	// Given twice, a reader taking the first and one taking the last
	// would disagree on what the body is.
	for _, name := range []string{"Content-Type", "Content-Encoding", "X-Amz-Target"} {
		if n := len(h.Values(name)); n > 1 {
			return apiErr("UnsupportedMediaType", 415, "The request has %d %s headers; send one.", n, name)
		}
	}
	if enc := h.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return apiErr("UnsupportedMediaType", 415, "The sandbox reads request bodies without Content-Encoding, not %s.", short(enc))
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		return apiErr("UnsupportedMediaType", 415, "A POST needs Content-Type: %s; this one has none.", want)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == want {
		for k, v := range params {
			if k != "charset" || !strings.EqualFold(v, "utf-8") {
				err = errors.New("parameter")
			}
		}
	}
	if err != nil || mt != want {
		return apiErr("UnsupportedMediaType", 415, "A POST needs Content-Type: %s (optionally ; charset=utf-8), not %s.", want, short(ct))
	}
	return nil
}

// readForm reads the request's parameters: a POST's body (capped at
// maxBodyBytes) or a GET's query, each parameter once (rule 4).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	raw := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, apiErr("RequestEntityTooLarge", 413, "The request body exceeds %d bytes.", maxBodyBytes)
			}
			return nil, apiErr("MalformedQueryString", 400, "The request body could not be read: %v", err)
		}
		raw = string(body)
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		return nil, apiErr("MalformedQueryString", 400, "The request could not be parsed as a form: %s", short(err.Error()))
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, apiErr("MalformedQueryString", 400, "The parameter %s is given %d times; send each parameter once.", short(k), len(v))
		}
	}
	return form, nil
}

// short quotes an outside value for a message, cut to a short prefix: a
// message never echoes more than that of what a client sent.
func short(v string) string {
	const max = 64
	if utf8.RuneCountInString(v) <= max {
		return strconv.Quote(v)
	}
	r := []rune(v)
	return strconv.Quote(string(r[:max])) + fmt.Sprintf("… (%d characters)", len(r))
}

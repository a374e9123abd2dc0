package sandbox

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// rawResponse is what a hand-written HTTP exchange returned.
type rawResponse struct {
	status int
	header http.Header
	code   string // the IAM error code, "" on success
	body   string
}

// rawHTTP sends bytes as they are to a listener and reads one response:
// the only way to send a Host, method or header line that Go's client
// would not send, as an attacker's tool would.
func rawHTTP(t *testing.T, addr, request string) rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	ok(t, err)
	defer conn.Close()
	// Guards against a hang only; every exchange here takes milliseconds.
	ok(t, conn.SetDeadline(time.Now().Add(2*time.Minute)))
	_, err = io.WriteString(conn, request)
	ok(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	ok(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ok(t, err)
	var e struct {
		Code string `xml:"Error>Code"`
	}
	_ = xml.Unmarshal(b, &e)
	return rawResponse{resp.StatusCode, resp.Header, e.Code, string(b)}
}

// formRequest writes an HTTP/1.1 request with a form body; headers are
// "Name: value" lines, Host among them when the test sets one.
func formRequest(method, target string, headers []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" || method == "POST" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.WriteString(body)
	return b.String()
}

const formCT = "Content-Type: application/x-www-form-urlencoded; charset=utf-8"

func createUserBody(name string) string {
	return url.Values{"Action": {"CreateUser"}, "Version": {iamVersion}, "UserName": {name}}.Encode()
}

// userNames lists the account's users through the SDK.
func userNames(t *testing.T, sb *sandbox) []string {
	t.Helper()
	out := must[*iam.ListUsersOutput](t)(sb.iam.ListUsers(ctx, &iam.ListUsersInput{}))
	var names []string
	for _, u := range out.Users {
		names = append(names, *u.UserName)
	}
	return names
}

// TestFrontRefusesForeignHost: requests whose Host does not name the
// listener are refused before anything runs — what a DNS-rebinding page
// sends — while the names of the listener itself pass.
func TestFrontRefusesForeignHost(t *testing.T) {
	sb := newSandbox(t, Options{})
	addr := strings.TrimPrefix(sb.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	refused := []string{
		"evil.example:" + port,
		"evil.example",
		"localhost.evil.example:" + port,
		"127.0.0.1.nip.io:" + port,
		"localhost.:" + port,         // a trailing dot is another name to a browser
		"127.0.0.1:1" + port,         // another port
		"127.0.0.1:0" + port,         // the port spelt with a leading zero
		"127.0.0.1",                  // no port means port 80
		"[::1]:" + port,              // loopback, but not the address the connection arrived on
		"127.1:" + port,              // inet_aton shorthand, a name to us
		"2130706433:" + port,         // 127.0.0.1 as a decimal number
		"0x7f000001:" + port,         // and in hex
		"127.0.0.2:" + port,          // another loopback address
		"[::ffff:127.0.0.2]:" + port, // mapped, other address
		"localhost:" + port + ":" + port,
		"sandbox:" + port, // a name nobody allowed
	}
	for i, host := range refused {
		t.Run(host, func(t *testing.T) {
			name := fmt.Sprintf("rebound%d", i)
			r := rawHTTP(t, addr, formRequest("POST", "/", []string{"Host: " + host, formCT}, createUserBody(name)))
			if r.status != 403 || r.code != "InvalidHost" || !strings.Contains(r.body, "<ErrorResponse") {
				t.Fatalf("Host %q: got %d %q: %s", host, r.status, r.code, r.body)
			}
		})
	}
	// Go's server itself answers 400 to a request without Host, or with
	// one it cannot parse; either way nothing runs.
	for _, req := range []string{
		"POST / HTTP/1.1\r\n" + formCT + "\r\nContent-Length: " + fmt.Sprint(len(createUserBody("nohost"))) + "\r\nConnection: close\r\n\r\n" + createUserBody("nohost"),
		"POST / HTTP/1.0\r\n" + formCT + "\r\nContent-Length: " + fmt.Sprint(len(createUserBody("http10"))) + "\r\n\r\n" + createUserBody("http10"),
		formRequest("POST", "/", []string{"Host: a b", formCT}, createUserBody("space")),
	} {
		if r := rawHTTP(t, addr, req); r.status != 400 && r.status != 403 {
			t.Errorf("request without a usable Host: %d %s", r.status, r.body)
		}
	}
	if names := userNames(t, sb); len(names) != 0 {
		t.Fatalf("requests with a foreign Host created users: %v", names)
	}

	accepted := []string{"127.0.0.1:" + port, "localhost:" + port, "LocalHost:" + port, "[::ffff:127.0.0.1]:" + port}
	for i, host := range accepted {
		r := rawHTTP(t, addr, formRequest("POST", "/", []string{"Host: " + host, formCT}, createUserBody(fmt.Sprintf("ok%d", i))))
		if r.status != 200 {
			t.Errorf("Host %q: got %d %s", host, r.status, r.body)
		}
	}
	if names := userNames(t, sb); len(names) != len(accepted) {
		t.Fatalf("users %v, want %d", names, len(accepted))
	}
}

// TestFrontAllowedHosts: names the operator allows pass, with the
// listener's port or exactly the port given.
func TestFrontAllowedHosts(t *testing.T) {
	sb := newSandbox(t, Options{AllowedHosts: []string{"Sandbox.Test", "mapped.test:8080", "10.1.2.3"}})
	addr := strings.TrimPrefix(sb.url, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for host, want := range map[string]int{
		"sandbox.test:" + port:   200,
		"SANDBOX.test:" + port:   200,
		"mapped.test:8080":       200,
		"10.1.2.3:" + port:       200,
		"sandbox.test:8080":      403,
		"mapped.test:" + port:    403,
		"x.sandbox.test:" + port: 403,
		"10.1.2.4:" + port:       403,
	} {
		r := rawHTTP(t, addr, formRequest("POST", "/", []string{"Host: " + host, formCT}, "Action=ListUsers&Version=2010-05-08"))
		if r.status != want {
			t.Errorf("Host %q: got %d, want %d: %s", host, r.status, want, r.body)
		}
	}
	for _, bad := range []string{"", "*", "*.example.com", "http://x.test", "x.test/path", "a b", "[::1", "::1", "x.test:0", "x.test:99999", "x.test:abc", "x.test:", "..", strings.Repeat("a", 64) + ".test"} {
		if _, err := New(Options{AllowedHosts: []string{bad}}); err == nil {
			t.Errorf("AllowedHosts %q accepted", bad)
		}
	}
}

// TestHostRule checks the rule on addresses a test machine may not have:
// wildcard listeners reached on a LAN address, IPv6, an unknown listener.
func TestHostRule(t *testing.T) {
	rule, err := newHostRule([]string{"devbox.lan", "[fe80::1]", "proxy.test:443"})
	ok(t, err)
	lan := &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 4599}
	lo6 := &net.TCPAddr{IP: net.ParseIP("::1"), Port: 4599}
	lo4 := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 4599}
	cases := []struct {
		host  string
		local net.Addr
		want  bool
	}{
		{"192.168.1.5:4599", lan, true},
		{"localhost:4599", lan, false}, // not a loopback connection: localhost is elsewhere
		{"127.0.0.1:4599", lan, false},
		{"devbox.lan:4599", lan, true},
		{"DEVBOX.LAN:4599", lan, true},
		{"devbox.lan:4600", lan, false},
		{"devbox.lan.:4599", lan, false},
		{"evil.example:4599", lan, false},
		{"proxy.test:443", lan, true},
		{"proxy.test:4599", lan, false},
		{"[fe80::1]:4599", lan, true},
		{"[fe80::1%25eth0]:4599", lan, true},
		{"[::1]:4599", lo6, true},
		{"localhost:4599", lo6, true},
		{"127.0.0.1:4599", lo6, false},
		{"[::1]:4599", lo4, false},
		{"[0:0:0:0:0:0:0:1]:4599", lo6, true},
		{"[::ffff:127.0.0.1]:4599", lo4, true},
		{"localhost", lo4, false},
		// No local address known: loopback names and allowed names only.
		{"localhost:1234", nil, true},
		{"127.0.0.1:1", nil, true},
		{"[::1]:1", nil, true},
		{"devbox.lan:9", nil, true},
		{"192.168.1.5:4599", nil, false},
		{"evil.example:4599", nil, false},
		{"", nil, false},
		{":4599", lo4, false},
		{"[]:4599", lo4, false},
		{"127.0.0.1:", lo4, false},
	}
	for _, tc := range cases {
		if got := rule.hostAllowed(tc.host, tc.local); got != tc.want {
			t.Errorf("hostAllowed(%q, %v) = %v, want %v", tc.host, tc.local, got, tc.want)
		}
	}
}

// TestFrontRefusesBrowsers: what a web page sends — a cross-site form,
// a no-cors fetch, a rebinding page's same-origin fetch — is refused by
// its browser headers, whatever its Host.
func TestFrontRefusesBrowsers(t *testing.T) {
	sb := newSandbox(t, Options{})
	addr := strings.TrimPrefix(sb.url, "http://")
	host := "Host: " + addr
	attacks := map[string][]string{
		"cross-site form POST":        {host, formCT, "Origin: http://evil.example", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Mode: navigate", "Sec-Fetch-Dest: document"},
		"text/plain no-cors fetch":    {host, "Content-Type: text/plain", "Origin: http://evil.example"},
		"origin only":                 {host, formCT, "Origin: http://evil.example"},
		"origin null (sandboxed)":     {host, formCT, "Origin: null"},
		"empty origin":                {host, formCT, "Origin: "},
		"same-origin looking":         {host, formCT, "Origin: http://" + addr},
		"lower-case header name":      {host, formCT, "origin: http://evil.example"},
		"sec-fetch-site only":         {host, formCT, "Sec-Fetch-Site: same-site"},
		"sec-fetch-mode only":         {host, formCT, "Sec-Fetch-Mode: no-cors"},
		"sec-fetch-user only":         {host, formCT, "Sec-Fetch-User: ?1"},
		"sec-fetch-dest only":         {host, formCT, "Sec-Fetch-Dest: empty"},
		"rebinding with origin":       {"Host: evil.example:" + strings.Split(addr, ":")[1], formCT, "Origin: http://evil.example:" + strings.Split(addr, ":")[1]},
		"long origin is not echoed":   {host, formCT, "Origin: http://" + strings.Repeat("e", 5000) + ".example"},
		"origin twice":                {host, formCT, "Origin: http://a.example", "Origin: http://b.example"},
		"sec-fetch-site none (typed)": {host, formCT, "Sec-Fetch-Site: none"},
	}
	i := 0
	for name, headers := range attacks {
		t.Run(name, func(t *testing.T) {
			i++
			body := createUserBody(fmt.Sprintf("web%d", i))
			if strings.Contains(strings.Join(headers, "\n"), "text/plain") {
				body = "Action=CreateUser&Version=2010-05-08&UserName=plain"
			}
			r := rawHTTP(t, addr, formRequest("POST", "/", headers, body))
			if r.status != 403 || (r.code != "BrowserRequestRefused" && r.code != "InvalidHost") {
				t.Fatalf("got %d %q: %s", r.status, r.code, r.body)
			}
			if len(r.body) > 2000 {
				t.Fatalf("the refusal echoes %d bytes", len(r.body))
			}
		})
	}
	if names := userNames(t, sb); len(names) != 0 {
		t.Fatalf("browser requests created users: %v", names)
	}
}

// TestFrontMethods: only POST changes the account. A GET may read; a GET
// of a changing action, and every other method, is 405.
func TestFrontMethods(t *testing.T) {
	sb := newSandbox(t, Options{})
	addr := strings.TrimPrefix(sb.url, "http://")
	host := "Host: " + addr
	create := createUserBody("viaget")
	for _, tc := range []struct {
		name, method, target string
		headers              []string
		body                 string
		status               int
		code                 string
	}{
		{"GET of a mutation", "GET", "/?" + create, []string{host}, "", 405, "MethodNotAllowed"},
		{"GET of a derived report", "GET", "/?Action=GenerateCredentialReport&Version=2010-05-08", []string{host}, "", 405, "MethodNotAllowed"},
		{"GET of a service-last-accessed job", "GET", "/?Action=GenerateServiceLastAccessedDetails&Version=2010-05-08&Arn=arn:aws:iam::123456789012:user/x", []string{host}, "", 405, "MethodNotAllowed"},
		{"GET with a body", "GET", "/", []string{host, formCT}, create, 400, "MalformedQueryString"},
		{"PUT", "PUT", "/?" + create, []string{host, formCT}, create, 405, "MethodNotAllowed"},
		{"DELETE", "DELETE", "/?" + create, []string{host}, "", 405, "MethodNotAllowed"},
		{"PATCH", "PATCH", "/", []string{host, formCT}, create, 405, "MethodNotAllowed"},
		{"OPTIONS preflight", "OPTIONS", "/", []string{host, "Access-Control-Request-Method: POST"}, "", 405, "MethodNotAllowed"},
		{"odd method", "CREATEUSER", "/?" + create, []string{host}, "", 405, "MethodNotAllowed"},
		{"POST with a query", "POST", "/?" + create, []string{host, formCT}, "Action=ListUsers&Version=2010-05-08", 400, "MalformedQueryString"},
		{"POST of text/plain", "POST", "/", []string{host, "Content-Type: text/plain"}, create, 415, "UnsupportedMediaType"},
		{"POST of multipart", "POST", "/", []string{host, "Content-Type: multipart/form-data; boundary=x"}, "--x\r\nContent-Disposition: form-data; name=\"Action\"\r\n\r\nCreateUser\r\n--x--\r\n", 415, "UnsupportedMediaType"},
		{"POST of JSON", "POST", "/", []string{host, "Content-Type: application/json"}, `{"Action":"CreateUser"}`, 415, "UnsupportedMediaType"},
		{"POST without Content-Type", "POST", "/", []string{host}, create, 415, "UnsupportedMediaType"},
		{"POST in another charset", "POST", "/", []string{host, "Content-Type: application/x-www-form-urlencoded; charset=iso-8859-1"}, create, 415, "UnsupportedMediaType"},
		{"POST with another parameter", "POST", "/", []string{host, "Content-Type: application/x-www-form-urlencoded; boundary=x"}, create, 415, "UnsupportedMediaType"},
		{"POST gzipped", "POST", "/", []string{host, formCT, "Content-Encoding: gzip"}, create, 415, "UnsupportedMediaType"},
		{"POST with Action twice", "POST", "/", []string{host, formCT}, "Action=ListUsers&Action=CreateUser&Version=2010-05-08&UserName=twice", 400, "MalformedQueryString"},
		{"POST with UserName twice", "POST", "/", []string{host, formCT}, "Action=CreateUser&Version=2010-05-08&UserName=a1&UserName=a2", 400, "MalformedQueryString"},
		{"POST with semicolons", "POST", "/", []string{host, formCT}, "Action=CreateUser;Version=2010-05-08;UserName=semi", 400, "MalformedQueryString"},
		{"POST with a lower-case key", "POST", "/", []string{host, formCT}, "action=CreateUser&Version=2010-05-08&UserName=lower", 400, "MissingAction"},
		{"GET with Action twice", "GET", "/?Action=ListUsers&Action=CreateUser&Version=2010-05-08&UserName=g2", []string{host}, "", 400, "MalformedQueryString"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawHTTP(t, addr, formRequest(tc.method, tc.target, tc.headers, tc.body))
			if r.status != tc.status || r.code != tc.code {
				t.Fatalf("got %d %q, want %d %s: %s", r.status, r.code, tc.status, tc.code, r.body)
			}
			if r.status == 405 && r.header.Get("Allow") == "" {
				t.Error("a 405 without Allow")
			}
		})
	}
	if names := userNames(t, sb); len(names) != 0 {
		t.Fatalf("refused requests created users: %v", names)
	}
	// What the SDKs and CLIs send, and a GET of a read, still pass.
	for _, ct := range []string{"application/x-www-form-urlencoded", formCT[len("Content-Type: "):], "Application/X-WWW-Form-URLEncoded; Charset=UTF-8"} {
		r := rawHTTP(t, addr, formRequest("POST", "/", []string{host, "Content-Type: " + ct}, "Action=ListUsers&Version=2010-05-08"))
		if r.status != 200 {
			t.Errorf("Content-Type %q: %d %s", ct, r.status, r.body)
		}
	}
	for _, q := range []string{"Action=ListUsers&Version=2010-05-08", "Action=GetCallerIdentity&Version=2011-06-15", "Action=GetAccountSummary&Version=2010-05-08"} {
		r := rawHTTP(t, addr, formRequest("GET", "/?"+q, []string{host}, ""))
		if r.status != 200 {
			t.Errorf("GET %s: %d %s", q, r.status, r.body)
		}
	}
}

// TestFrontInProcess: the in-process transport carries whatever Host the
// SDK's endpoint names and still works; the other rules hold for it too.
func TestFrontInProcess(t *testing.T) {
	srv, err := New(Options{})
	ok(t, err)
	for _, endpoint := range []string{"http://sandbox.invalid", "https://iam.amazonaws.com", "http://evil.example:4599"} {
		cfg := awsConfig(testKeyID, 1)
		cfg.HTTPClient = srv.Client()
		c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) })
		name := strings.NewReplacer(":", "-", "/", "-", ".", "-").Replace(endpoint)
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name[:min(len(name), 60)])}))
	}
	send := func(method, target, ct, origin, body string) *http.Response {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Host = "evil.example"
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := srv.Transport().RoundTrip(req)
		ok(t, err)
		return resp
	}
	if r := send("POST", "http://evil.example/", "application/x-www-form-urlencoded", "http://evil.example", createUserBody("o")); r.StatusCode != 403 {
		t.Errorf("in-process request with Origin: %d", r.StatusCode)
	}
	req := httptest.NewRequest("POST", "http://evil.example/", strings.NewReader(createUserBody("lc")))
	req.Header = http.Header{"content-type": {"application/x-www-form-urlencoded"}, "origin": {"http://evil.example"}}
	if r, err := srv.Transport().RoundTrip(req); err != nil || r.StatusCode != 403 {
		t.Errorf("in-process request with a lower-case origin key: %v %v", r, err)
	}
	if r := send("GET", "http://evil.example/?"+createUserBody("g"), "", "", ""); r.StatusCode != 405 {
		t.Errorf("in-process GET of a mutation: %d", r.StatusCode)
	}
	if r := send("POST", "http://evil.example/", "text/plain", "", createUserBody("p")); r.StatusCode != 415 {
		t.Errorf("in-process text/plain: %d", r.StatusCode)
	}
	// A handler mounted behind something that does not say which address
	// a connection arrived on (no LocalAddrContextKey) takes loopback
	// names only.
	for host, want := range map[string]int{"localhost:9": 200, "127.0.0.1": 200, "evil.example": 403} {
		req := httptest.NewRequest("POST", "/", strings.NewReader("Action=ListUsers&Version=2010-05-08"))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("ServeHTTP without a local address, Host %q: %d, want %d", host, rec.Code, want)
		}
	}
}

// TestFrontAttacks are attempts on the front's own rules.
func TestFrontAttacks(t *testing.T) {
	sb := newSandbox(t, Options{})
	addr := strings.TrimPrefix(sb.url, "http://")
	host := "Host: " + addr
	must[*iam.CreateUserOutput](t)(sb.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("victim")}))
	key := must[*iam.CreateAccessKeyOutput](t)(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("victim")}))
	keyID := *key.AccessKey.AccessKeyId

	// An <img> GET with a key id in its query (a presigned-looking
	// request) reads, but plants no "last used" for the key.
	r := rawHTTP(t, addr, formRequest("GET", "/?Action=ListUsers&Version=2010-05-08&X-Amz-Credential="+keyID+"%2F20240101%2Fus-east-1%2Fiam%2Faws4_request", []string{host}, ""))
	if r.status != 200 {
		t.Fatalf("GET of a read: %d %s", r.status, r.body)
	}
	used := must[*iam.GetAccessKeyLastUsedOutput](t)(sb.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)}))
	if used.AccessKeyLastUsed.LastUsedDate != nil {
		t.Errorf("a GET recorded the key's use: %v", used.AccessKeyLastUsed.LastUsedDate)
	}

	for _, tc := range []struct {
		name, request string
		status        int
	}{
		// The request target's host wins over Host in Go's server, so an
		// absolute-form target is judged by its own host.
		{"absolute-form foreign target", formRequest("POST", "http://evil.example:1/", []string{host, formCT}, createUserBody("abs1")), 403},
		{"Host twice", formRequest("POST", "/", []string{host, "Host: evil.example", formCT}, createUserBody("twohosts")), 400},
		{"Content-Type twice", formRequest("POST", "/", []string{host, formCT, "Content-Type: text/plain"}, createUserBody("twocts")), 415},
		{"chunked body with Origin", "POST / HTTP/1.1\r\n" + host + "\r\n" + formCT + "\r\nOrigin: http://evil.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(createUserBody("chunked")), createUserBody("chunked")), 403},
		{"HEAD", formRequest("HEAD", "/?"+createUserBody("head"), []string{host}, ""), 405},
		{"oversized parameter is not echoed", formRequest("POST", "/", []string{host, formCT}, createUserBody(strings.Repeat("n", 200000))), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			ok(t, err)
			defer conn.Close()
			ok(t, conn.SetDeadline(time.Now().Add(2*time.Minute))) // a hang guard only
			_, err = io.WriteString(conn, tc.request)
			ok(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: strings.Fields(tc.request)[0]})
			ok(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if len(body) > 4096 {
				t.Fatalf("an answer of %d bytes", len(body))
			}
		})
	}
	if names := userNames(t, sb); len(names) != 1 {
		t.Fatalf("attacks created users: %v", names)
	}
}

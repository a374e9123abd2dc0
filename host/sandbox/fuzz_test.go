package sandbox

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/iammcp/iam-mcp-server/internal/iamname"
)

// fuzzListener is the address fuzzed requests claim to arrive on.
var fuzzListener = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4599}

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
)

// FuzzRequestDecoder drives the whole front and decoder — method, Host,
// Content-Type, query string and body in, action and parameters out —
// through the real handler, as a request over the network. It holds the
// front's promises: no panic (a recovered one is a 500), an IAM XML
// answer, nothing changed by any method but POST, no foreign Host or
// browser header served, no parameter taken twice, no answer echoing
// much of what was sent.
func FuzzRequestDecoder(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, s := range [][5]string{
		{"POST", "127.0.0.1:4599", form, "", "Action=ListUsers&Version=2010-05-08"},
		{"POST", "localhost:4599", form + "; charset=utf-8", "", "Action=CreateUser&Version=2010-05-08&UserName=fz&Tags.member.1.Key=k&Tags.member.1.Value=v"},
		{"GET", "127.0.0.1:4599", "", "Action=GetUser&Version=2010-05-08&UserName=rosa.silva", ""},
		{"GET", "127.0.0.1:4599", "", "Action=DeleteUser&Version=2010-05-08&UserName=rosa.silva", ""},
		{"POST", "evil.example:4599", form, "", "Action=DeleteUser&Version=2010-05-08&UserName=rosa.silva"},
		{"POST", "127.0.0.1:4599", "text/plain", "", "Action=CreateUser&Version=2010-05-08&UserName=x"},
		{"PUT", "127.0.0.1:4599", form, "Action=CreateUser&Version=2010-05-08&UserName=x", "Action=CreateUser&Version=2010-05-08&UserName=x"},
		{"POST", "127.0.0.1:4599", form, "", "Action=ListUsers&Action=CreateUser&Version=2010-05-08&UserName=x"},
		{"POST", "127.0.0.1:4599", form, "", "Action=SimulateCustomPolicy&Version=2010-05-08&PolicyInputList.member.1=%7B%7D&ActionNames.member.1=s3%3AGetObject"},
		{"POST", "127.0.0.1:4599", form, "", "Action=GetCallerIdentity&Version=2011-06-15"},
		{"POST", "127.0.0.1:4599", form, "", "%zz=%%%"},
		{"POST", "[::1]:4599", form, "", "Action=ListUsers;Version=2010-05-08"},
		{"POST", "127.0.0.1:4599", form, "", "Action=ListPolicies&Version=2010-05-08&MaxItems=1&Marker=%%%"},
		{"POST", "127.0.0.1:4599", form, "", "Action=CreateUser&Version=2010-05-08&UserName=" + strings.Repeat("n", 3000)},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, method, host, contentType, query, body string) {
		fuzzOnce.Do(func() {
			var err error
			if fuzzSrv, err = New(Options{Seed: "demo"}); err != nil {
				panic(err)
			}
		})
		s := fuzzSrv
		req := &http.Request{
			Method: method, Host: host, URL: &url.URL{Path: "/", RawQuery: query},
			Header:        http.Header{},
			Body:          http.NoBody,
			ContentLength: int64(len(body)),
			RemoteAddr:    "127.0.0.1:50000",
		}
		if body != "" {
			req.Body = io.NopCloser(strings.NewReader(body))
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req = req.WithContext(context.WithValue(context.Background(), http.LocalAddrContextKey, net.Addr(fuzzListener)))
		before := s.gen.Load()
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)

		if rec.Code == 500 {
			t.Fatalf("server failure: %s", rec.Body)
		}
		var root struct {
			XMLName xml.Name
			Code    string `xml:"Error>Code"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &root); err != nil {
			t.Fatalf("the answer is not XML: %v: %q", err, rec.Body)
		}
		served := rec.Code == 200
		if !strings.HasSuffix(root.XMLName.Local, "Response") || served == (root.XMLName.Local == "ErrorResponse") {
			t.Fatalf("status %d with %s", rec.Code, root.XMLName.Local)
		}
		if method != http.MethodPost && s.gen.Load() != before {
			t.Fatalf("a %s changed the account", method)
		}
		if served && !fuzzListenerHost(host) {
			t.Fatalf("served Host %q", host)
		}
		if !served && rec.Body.Len() > 4096 {
			t.Fatalf("an error answer of %d bytes", rec.Body.Len())
		}
		if served {
			params := query
			if method == http.MethodPost {
				params = body
			}
			vals, err := url.ParseQuery(params)
			if err != nil {
				t.Fatalf("served parameters that do not parse: %v", err)
			}
			for k, v := range vals {
				if len(v) > 1 {
					t.Fatalf("served parameter %q given %d times", k, len(v))
				}
			}
			if method == http.MethodGet {
				if a := actions[vals.Get("Action")]; a.mutates || a.derived {
					t.Fatalf("GET ran %s", vals.Get("Action"))
				}
			}
		}
	})
}

// fuzzListenerHost says, independently of the front's code, whether h
// names fuzzListener: port 4599 and localhost or 127.0.0.1 in any of its
// spellings as an IP address.
func fuzzListenerHost(h string) bool {
	host, port, err := net.SplitHostPort(h)
	if err != nil || port != "4599" {
		return false
	}
	return strings.EqualFold(host, "localhost") || net.ParseIP(host).Equal(net.IPv4(127, 0, 0, 1))
}

// FuzzStateLoad loads state files and then sends a load of requests of
// every family against the account loaded, so that what slips through
// the loader and trips a handler later is found too. A file is refused
// with an error naming it, or loaded and served without a server failure.
func FuzzStateLoad(f *testing.F) {
	for _, s := range []string{
		`{"format":1,"account":{"Users":{}}}`,
		`{"format":1,"account":null}`,
		`{"format":1,"account":{"Users":{"Alice":{}},"Groups":{"g":{"Members":["alice"]}}}}`,
		`{"format":1,"account":{"users":{}}}`,
		`{"format":1,"format":1,"account":{}}`,
		stateOf(`{"Users":{"bob":{"Attached":["arn:aws:iam::123456789012:policy/p"],"SSHKeys":[{"ID":"APKAAAAAAAAAAAAAAAAA","Body":"ssh-rsa AAAA"}]}},"Policies":{"arn:aws:iam::123456789012:policy/p":{"Name":"p","DefaultVersion":"v1","Versions":[{"ID":"v1","Document":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"}]}}}`),
		stateOf(`{"MFADevices":{"arn:aws:iam::123456789012:mfa/d":{"Name":"d","Seed":"JBSWY3DPEHPK3PXP","User":"x"}},"Users":{"x":{}}}`),
		stateOf(`{"ServiceUse":{"AIDAAAAAAAAAAAAAAAAAA":{"s3":{"When":"2024-01-01T00:00:00Z","Actions":{"GetObject":{}}}}},"Users":{"u":{"ID":"AIDAAAAAAAAAAAAAAAAAA"}}}`),
		stateOf(`{"Users":{"u":{"AccessKeys":[{"ID":"AKIAAAAAAAAAAAAAAAA1","Status":"Inactive"}]}},"Root":{"AccessKeys":[{"ID":"AKIAAAAAAAAAAAAAAAA2","Status":"Inactive"}]},"DeletedKeys":["AKIAAAAAAAAAAAAAAAA3","AKIAAAAAAAAAAAAAAAA4"]}`),
		stateOf(`{"DeletedKeys":["AKIAIOSFODNN7EXAMPLE"]}`),
	} {
		f.Add([]byte(s))
	}
	// And a state the sandbox itself wrote, with one of everything.
	path := filepath.Join(f.TempDir(), "seed.json")
	seedSrv, err := New(Options{StateFile: path})
	if err != nil {
		f.Fatal(err)
	}
	for _, form := range []url.Values{
		{"Action": {"CreateUser"}, "UserName": {"u"}},
		{"Action": {"CreateGroup"}, "GroupName": {"g"}},
		{"Action": {"AddUserToGroup"}, "GroupName": {"g"}, "UserName": {"u"}},
		{"Action": {"CreateAccessKey"}, "UserName": {"u"}},
		{"Action": {"AttachUserPolicy"}, "UserName": {"u"}, "PolicyArn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		{"Action": {"CreateRole"}, "RoleName": {"r"}, "AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`}},
		{"Action": {"CreateInstanceProfile"}, "InstanceProfileName": {"r"}},
		{"Action": {"AddRoleToInstanceProfile"}, "InstanceProfileName": {"r"}, "RoleName": {"r"}},
		{"Action": {"CreateVirtualMFADevice"}, "VirtualMFADeviceName": {"m"}},
	} {
		form.Set("Version", iamVersion)
		if code, body := fuzzCall(seedSrv, form); code != 200 {
			f.Fatalf("%s: %d %s", form.Get("Action"), code, body)
		}
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(saved)

	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "iam.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		srv, err := New(Options{StateFile: path})
		if err != nil {
			if !strings.Contains(err.Error(), path) || len(err.Error()) > 4096 {
				t.Fatalf("error does not name the file, or is long: %.500s", err)
			}
			return
		}
		// Saved once at the end rather than after every change: a save
		// per change costs the fuzzer most of its speed and tests nothing
		// the one save does not.
		srv.opts.StateFile = ""
		// No key the file holds Inactive, or lists as deleted, signs a
		// request that is served.
		for _, id := range refusedKeys(srv) {
			form := url.Values{"Action": {"CreateUser"}, "Version": {iamVersion}, "UserName": {"fuzz-refused"}}
			if code, body := fuzzCallAs(srv, id, form); code != 403 || !strings.Contains(body, "InvalidClientTokenId") {
				t.Fatalf("a request signed by refused key %s: %d %s", id, code, body)
			}
		}
		for _, form := range fuzzRequests(srv) {
			form.Set("Version", iamVersion)
			if code, body := fuzzCall(srv, form); code >= 500 {
				t.Fatalf("%v: %d %s", form, code, body)
			}
		}
		// What was loaded and then changed saves, and loads again.
		srv.opts.StateFile = path
		srv.mu.Lock()
		err = srv.persist()
		srv.mu.Unlock()
		if err != nil {
			t.Fatalf("saving the changed account: %v", err)
		}
		if _, err := New(Options{StateFile: path}); err != nil {
			t.Fatalf("a state the sandbox saved does not load: %v", err)
		}
	})
}

// fuzzCall sends one request in process, signed by the bootstrap key,
// and returns its status and body.
func fuzzCall(s *Server, form url.Values) (int, string) { return fuzzCallAs(s, testKeyID, form) }

// fuzzCallAs is fuzzCall signed by keyID.
func fuzzCallAs(s *Server, keyID string, form url.Values) (int, string) {
	req := httptest.NewRequest("POST", "http://sandbox.invalid/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/20240101/us-east-1/iam/aws4_request")
	rec := httptest.NewRecorder()
	s.serve(rec, req, false, nil)
	return rec.Code, rec.Body.String()
}

// refusedKeys lists (a few of) the key ids a loaded account must refuse:
// its users' and root's Inactive keys and its deleted keys (every id a
// state file may hold is one a credential can name).
func refusedKeys(s *Server) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	add := func(id string) {
		if len(out) < 8 && iamname.AccessKeyID(id) {
			out = append(out, id)
		}
	}
	keys := append([]*AccessKey(nil), s.acct.Root.AccessKeys...)
	for _, u := range sortedValues(s.acct.Users) {
		keys = append(keys, u.AccessKeys...)
	}
	for _, k := range keys {
		if k.Status != "Active" {
			add(k.ID)
		}
	}
	for _, id := range s.acct.DeletedKeys {
		add(id)
	}
	return out
}

// fuzzRequests are requests touching every entity of a loaded account (a
// few of each kind) and every family of action, reads and changes.
func fuzzRequests(s *Server) []url.Values {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []url.Values
	add := func(kv ...string) {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		out = append(out, v)
	}
	const each = 4
	for i, u := range sortedValues(s.acct.Users) {
		if i == each {
			break
		}
		n := u.Name
		for _, a := range []string{"GetUser", "ListGroupsForUser", "ListAttachedUserPolicies", "ListUserPolicies", "ListAccessKeys",
			"ListSSHPublicKeys", "ListSigningCertificates", "ListServiceSpecificCredentials", "ListMFADevices", "GetLoginProfile", "ListUserTags"} {
			add("Action", a, "UserName", n)
		}
		for _, p := range u.Inline {
			add("Action", "GetUserPolicy", "UserName", n, "PolicyName", p.Name)
		}
		for _, k := range u.SSHKeys {
			add("Action", "GetSSHPublicKey", "UserName", n, "SSHPublicKeyId", k.ID, "Encoding", "PEM")
			add("Action", "GetSSHPublicKey", "UserName", n, "SSHPublicKeyId", k.ID, "Encoding", "SSH")
		}
		for _, k := range u.AccessKeys {
			add("Action", "GetAccessKeyLastUsed", "AccessKeyId", k.ID)
		}
		add("Action", "SimulatePrincipalPolicy", "PolicySourceArn", u.ARN(s.id), "ActionNames.member.1", "iam:CreateUser")
		add("Action", "GenerateServiceLastAccessedDetails", "Arn", u.ARN(s.id), "Granularity", "ACTION_LEVEL")
		add("Action", "TagUser", "UserName", n, "Tags.member.1.Key", "fuzz", "Tags.member.1.Value", "x")
		add("Action", "UpdateUser", "UserName", n, "NewUserName", n+"-renamed")
		add("Action", "DeleteUser", "UserName", n+"-renamed")
	}
	for i, g := range sortedValues(s.acct.Groups) {
		if i == each {
			break
		}
		add("Action", "GetGroup", "GroupName", g.Name)
		add("Action", "ListAttachedGroupPolicies", "GroupName", g.Name)
		add("Action", "SimulatePrincipalPolicy", "PolicySourceArn", g.ARN(s.id), "ActionNames.member.1", "s3:GetObject")
		add("Action", "GenerateServiceLastAccessedDetails", "Arn", g.ARN(s.id))
		add("Action", "UpdateGroup", "GroupName", g.Name, "NewGroupName", g.Name+"-x")
		add("Action", "DeleteGroup", "GroupName", g.Name+"-x")
	}
	for i, r := range sortedValues(s.acct.Roles) {
		if i == each {
			break
		}
		add("Action", "GetRole", "RoleName", r.Name)
		add("Action", "ListInstanceProfilesForRole", "RoleName", r.Name)
		add("Action", "ListAttachedRolePolicies", "RoleName", r.Name)
		add("Action", "SimulatePrincipalPolicy", "PolicySourceArn", r.ARN(s.id), "ActionNames.member.1", "sts:AssumeRole")
		add("Action", "DeleteRole", "RoleName", r.Name)
	}
	n := 0
	for _, p := range sortedValues(s.acct.Policies) {
		if p.AWSManaged || n == each {
			continue
		}
		n++
		add("Action", "GetPolicy", "PolicyArn", p.ARN)
		add("Action", "GetPolicyVersion", "PolicyArn", p.ARN, "VersionId", p.DefaultVersion)
		add("Action", "ListPolicyVersions", "PolicyArn", p.ARN)
		add("Action", "ListEntitiesForPolicy", "PolicyArn", p.ARN)
		add("Action", "GenerateServiceLastAccessedDetails", "Arn", p.ARN)
		add("Action", "CreatePolicyVersion", "PolicyArn", p.ARN, "SetAsDefault", "true", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
		add("Action", "DeletePolicy", "PolicyArn", p.ARN)
	}
	for i, p := range sortedValues(s.acct.InstanceProfiles) {
		if i == each {
			break
		}
		add("Action", "GetInstanceProfile", "InstanceProfileName", p.Name)
		for _, r := range p.Roles {
			add("Action", "RemoveRoleFromInstanceProfile", "InstanceProfileName", p.Name, "RoleName", r)
		}
	}
	for i, d := range sortedValues(s.acct.MFADevices) {
		if i == each {
			break
		}
		add("Action", "ListMFADeviceTags", "SerialNumber", d.Serial)
		if d.User != "" {
			add("Action", "DeactivateMFADevice", "UserName", d.User, "SerialNumber", d.Serial)
		}
		add("Action", "DeleteVirtualMFADevice", "SerialNumber", d.Serial)
	}
	for id := range s.acct.AccessJobs {
		add("Action", "GetServiceLastAccessedDetails", "JobId", id)
	}
	for _, a := range []string{"ListUsers", "ListGroups", "ListRoles", "ListPolicies", "ListInstanceProfiles", "ListVirtualMFADevices",
		"GetAccountSummary", "GetAccountAuthorizationDetails", "GenerateCredentialReport", "GetCredentialReport",
		"GetAccountPasswordPolicy", "ListAccountAliases", "ListServiceSpecificCredentials"} {
		add("Action", a)
	}
	add("Action", "ListServiceSpecificCredentials", "AllUsers", "true")
	add("Action", "CreateUser", "UserName", "fuzz-new")
	add("Action", "CreateAccessKey", "UserName", "fuzz-new")
	add("Action", "CreateGroup", "GroupName", "fuzz-new")
	add("Action", "AddUserToGroup", "GroupName", "fuzz-new", "UserName", "fuzz-new")
	add("Action", "CreateRole", "RoleName", "fuzz-new", "AssumeRolePolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	add("Action", "CreatePolicy", "PolicyName", "fuzz-new", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	add("Action", "CreateInstanceProfile", "InstanceProfileName", "fuzz-new")
	add("Action", "CreateVirtualMFADevice", "VirtualMFADeviceName", "fuzz-new")
	add("Action", "CreateAccountAlias", "AccountAlias", "fuzz-new")
	add("Action", "UpdateAccountPasswordPolicy", "MinimumPasswordLength", "12")
	add("Action", "GetAccountAuthorizationDetails")
	return out
}

var (
	fuzzOrgOnce sync.Once
	fuzzOrgSrv  *Server
)

// FuzzOrgRequest drives the Organizations decoder and handlers — the
// X-Amz-Target operation and the JSON body in, an answer out — through
// the real handler, as the SDK's requests arrive. It holds their promises:
// no panic, a JSON answer (the operation's output or {"__type","Message"}),
// a body taken only when every member is one the operation names, spelled
// as the API spells it, and no message echoing much of what was sent.
func FuzzOrgRequest(f *testing.F) {
	for _, seed := range []struct{ op, body string }{
		{"ListAccounts", `{}`},
		{"ListAccounts", `{"MaxResults":1}`},
		{"ListAccounts", `{"MaxResults":21}`},
		{"ListAccounts", `{"maxResults":1}`},
		{"ListAccounts", `{"MaxResults":1,"MaxResults":2}`},
		{"ListAccounts", `{"NextToken":"TGlzdEFjY291bnRzOjE"}`},
		{"ListRoots", `{"NextToken":"TGlzdEFjY291bnRzOjE"}`},
		{"DescribeOrganization", ``},
		{"DescribeAccount", `{"AccountId":"333333333333"}`},
		{"ListChildren", `{"ParentId":"r-0000","ChildType":"ACCOUNT"}`},
		{"ListParents", `{"ChildId":"444444444444"}`},
		{"ListPolicies", `{"Filter":"SERVICE_CONTROL_POLICY"}`},
		{"DescribePolicy", `{"PolicyId":"p-FullAWSAccess"}`},
		{"ListTargetsForPolicy", `{"PolicyId":"p-FullAWSAccess","MaxResults":2}`},
		{"ListPoliciesForTarget", `{"TargetId":"333333333333","Filter":"SERVICE_CONTROL_POLICY"}`},
		{"CreateAccount", `{"AccountName":"x"}`},
		{"ListAccounts", `[1,2]`},
		{"ListAccounts", `{"MaxResults":"1"}`},
	} {
		f.Add(seed.op, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		fuzzOrgOnce.Do(func() {
			var err error
			if fuzzOrgSrv, err = New(Options{Seed: "org"}); err != nil {
				t.Fatal(err)
			}
		})
		in, derr := decodeOrgRequest(op, body)
		if derr == nil {
			// What was taken names only members of the operation's input.
			var raw map[string]any
			if len(strings.TrimSpace(string(body))) > 0 {
				if err := json.Unmarshal(body, &raw); err != nil {
					t.Fatalf("%s: taken, but not a JSON object: %q", op, body)
				}
			}
			want := map[string]bool{}
			addJSONNames(reflect.TypeOf(in).Elem(), want)
			for k := range raw {
				if !want[k] {
					t.Fatalf("%s: taken with member %q, which %T does not name", op, k, in)
				}
			}
		} else if len(derr.Message) > 2*maxMessage {
			t.Fatalf("decoder message of %d bytes", len(derr.Message))
		}
		req := httptest.NewRequest("POST", "http://sandbox.invalid/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", jsonContentType)
		req.Header.Set("X-Amz-Target", orgTargetPrefix+op)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+OrgOperatorKeyID+"/20240101/us-east-1/organizations/aws4_request")
		rec := httptest.NewRecorder()
		fuzzOrgSrv.serve(rec, req, false, nil)
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("%s: answer is not JSON (%d): %q", op, rec.Code, rec.Body.String())
		}
		if rec.Code != 200 {
			if _, ok := answer["__type"].(string); !ok {
				t.Fatalf("%s: error without __type: %s", op, rec.Body.String())
			}
			if m, _ := answer["Message"].(string); len(m) > 4*maxMessage {
				t.Fatalf("%s: message of %d bytes", op, len(m))
			}
		} else if derr != nil {
			t.Fatalf("%s: decoder refused (%s) but the handler answered 200", op, derr.Message)
		}
	})
}

// addJSONNames collects the JSON member names of a struct type, embedded
// structs' included.
func addJSONNames(t reflect.Type, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			addJSONNames(f.Type, out)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
}

// FuzzAssumeRole sends STS AssumeRole requests, form-encoded as the SDK
// sends them, to the org seed, signed by the operator, by a member user's
// key or by no key, and then, when a session was issued, a
// GetCallerIdentity signed by it with the token given (or a changed one).
// Its promises: no server failure; an XML answer; a session only for a
// role that exists, of the account the ARN names, answering as that
// role's session; a session key taken only with its own token.
func FuzzAssumeRole(f *testing.F) {
	dev := "arn:aws:iam::" + OrgDevID + ":role/" + OrgAccessRoleName
	for _, s := range []struct {
		role, name, duration, externalID string
		signer                           uint8
		token                            string
	}{
		{dev, "s1", "", "", 0, ""},
		{dev, "s1", "900", "", 0, "x"},
		{dev, "s", "", "", 0, ""},
		{dev, "s1", "43201", "", 0, ""},
		{"arn:aws:iam::" + OrgProdID + ":role/prod-admin", "s1", "", "", 1, ""},
		{"arn:aws:iam::" + OrgProdID + ":role/dev-deploy", "s1", "", "ext", 2, ""},
		{"arn:aws:iam::999999999999:role/nope", "s1", "", "", 0, ""},
		{"arn:aws:iam::" + OrgDevID + ":role/../" + OrgAccessRoleName, "s%1", "-1", "\x00", 0, ""},
	} {
		f.Add(s.role, s.name, s.duration, s.externalID, s.signer, s.token)
	}
	f.Fuzz(func(t *testing.T, role, name, duration, externalID string, signer uint8, token string) {
		fuzzOrgOnce.Do(func() {
			var err error
			if fuzzOrgSrv, err = New(Options{Seed: "org"}); err != nil {
				t.Fatal(err)
			}
		})
		form := url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}, "RoleArn": {role}, "RoleSessionName": {name}}
		if duration != "" {
			form.Set("DurationSeconds", duration)
		}
		if externalID != "" {
			form.Set("ExternalId", externalID)
		}
		keys := []string{OrgOperatorKeyID, "AKIAIOSFODNN7EXAMPLE", ""}
		answer := fuzzSTS(t, form, keys[int(signer)%len(keys)], "")
		var ok struct {
			Creds struct {
				KeyID string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
				Token string `xml:"AssumeRoleResult>Credentials>SessionToken"`
			}
			ARN string `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
		}
		if err := xml.Unmarshal(answer, &ok.Creds); err != nil {
			t.Fatalf("not XML: %q", answer)
		}
		_ = xml.Unmarshal(answer, &ok)
		if ok.Creds.KeyID == "" {
			if role == dev && name == "s1" && duration == "" && externalID == "" && signer%3 == 0 {
				t.Fatalf("the operator could not assume dev's access role: %q", answer)
			}
			return
		}
		// Issued: for a role of the ARN's account, as its session.
		parts := strings.SplitN(role, ":", 6)
		if len(parts) != 6 || !strings.HasPrefix(ok.ARN, "arn:aws:sts::"+parts[4]+":assumed-role/") || !strings.HasSuffix(ok.ARN, "/"+name) {
			t.Fatalf("assumed %q as %q", role, ok.ARN)
		}
		ident := url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}
		who := fuzzSTS(t, ident, ok.Creds.KeyID, ok.Creds.Token)
		if !strings.Contains(string(who), "<Arn>"+ok.ARN+"</Arn>") {
			t.Fatalf("the session answers as %q, not %s", who, ok.ARN)
		}
		if token != "" && token != ok.Creds.Token {
			if who := fuzzSTS(t, ident, ok.Creds.KeyID, token); !strings.Contains(string(who), "InvalidClientTokenId") {
				t.Fatalf("a session key taken with another token: %q", who)
			}
		}
	})
}

// fuzzSTS serves one STS request on the org seed, signed by keyID (with
// token as its session token), and checks it is XML and no failure.
func fuzzSTS(t *testing.T, form url.Values, keyID, token string) []byte {
	req := httptest.NewRequest("POST", "http://sandbox.invalid/", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if keyID != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/20240101/us-east-1/sts/aws4_request")
	}
	if token != "" {
		req.Header.Set("X-Amz-Security-Token", token)
	}
	rec := httptest.NewRecorder()
	fuzzOrgSrv.serve(rec, req, false, nil)
	if rec.Code >= 500 {
		t.Fatalf("server failure %d: %s", rec.Code, rec.Body)
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(rec.Body.Bytes(), &root); err != nil {
		t.Fatalf("the answer is not XML: %v: %q", err, rec.Body)
	}
	return rec.Body.Bytes()
}

package sandbox

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

var (
	sshKeysOnce sync.Once
	sshKeyPool  []*rsa.PrivateKey
)

// sshTestKeys returns n distinct 2048-bit RSA keys. They are generated once
// per test binary, in parallel: key generation is the slow part of these tests.
func sshTestKeys(t *testing.T, n int) []*rsa.PrivateKey {
	t.Helper()
	sshKeysOnce.Do(func() {
		sshKeyPool = make([]*rsa.PrivateKey, 7)
		var wg sync.WaitGroup
		for i := range sshKeyPool {
			wg.Go(func() { sshKeyPool[i], _ = rsa.GenerateKey(rand.Reader, 2048) })
		}
		wg.Wait()
	})
	for _, k := range sshKeyPool[:n] {
		if k == nil {
			t.Fatal("RSA key generation failed")
		}
	}
	return sshKeyPool[:n]
}

// sshWireBlob builds an SSH wire-format blob from its strings, written here
// independently of the sandbox's encoder.
func sshWireBlob(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(p)))
		b.Write(p)
	}
	return b.Bytes()
}

// sshLine is a key as an OpenSSH authorized_keys line, with the fingerprint
// IAM reports for it: MD5 of the wire blob as colon-separated hex.
func sshLine(pub *rsa.PublicKey, comment string) (line, fingerprint string) {
	n := pub.N.Bytes()
	if n[0]&0x80 != 0 {
		n = append([]byte{0}, n...)
	}
	blob := sshWireBlob([]byte("ssh-rsa"), big.NewInt(int64(pub.E)).Bytes(), n)
	sum := md5.Sum(blob)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	line = "ssh-rsa " + base64.StdEncoding.EncodeToString(blob)
	if comment != "" {
		line += " " + comment
	}
	return line, strings.Join(hexes, ":")
}

func sshPEM(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	ok(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sshSelfSigned is a self-signed PEM certificate valid from notBefore to
// notAfter; serial makes certificates of one key distinct.
func sshSelfSigned(t *testing.T, key *rsa.PrivateKey, serial int64, notBefore, notAfter time.Time) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: fmt.Sprintf("signing-%d", serial)},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ok(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func sshMkUsers(t *testing.T, c *iam.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}))
	}
}

// sshUserClient returns a client signing with a new access key of user, so
// that calls without UserName act on that user.
func sshUserClient(t *testing.T, sb *sandbox, user string) *iam.Client {
	t.Helper()
	k := must[*iam.CreateAccessKeyOutput](t)(sb.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}))
	return sb.asUser(*k.AccessKey.AccessKeyId)
}

func sshWantErr(t *testing.T, err error, code string, status int) {
	t.Helper()
	wantCode(t, err, code)
	wantStatus(t, err, status)
}

func TestSSHCertsSSHKeyLifecycle(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	sshMkUsers(t, c, "alice", "bob")
	keys := sshTestKeys(t, 2)
	line, fp := sshLine(&keys[0].PublicKey, "alice@laptop")

	k := must[*iam.UploadSSHPublicKeyOutput](t)(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{
		UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(line)})).SSHPublicKey
	if *k.UserName != "alice" || !regexp.MustCompile(`^APKA[A-Z2-7]{16}$`).MatchString(*k.SSHPublicKeyId) ||
		*k.Fingerprint != fp || k.Status != types.StatusTypeActive || *k.SSHPublicKeyBody != line || k.UploadDate == nil {
		t.Fatalf("uploaded key %+v (want fingerprint %s)", k, fp)
	}
	get := func(user, id string, enc types.EncodingType) (*types.SSHPublicKey, error) {
		out, err := c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String(user), SSHPublicKeyId: aws.String(id), Encoding: enc})
		if err != nil {
			return nil, err
		}
		return out.SSHPublicKey, nil
	}
	// SSH encoding gives the line as uploaded; PEM gives the same key as PKIX.
	if g := must[*types.SSHPublicKey](t)(get("alice", *k.SSHPublicKeyId, types.EncodingTypeSsh)); *g.SSHPublicKeyBody != line || *g.Fingerprint != fp {
		t.Fatalf("GetSSHPublicKey SSH: %+v", g)
	}
	g := must[*types.SSHPublicKey](t)(get("alice", *k.SSHPublicKeyId, types.EncodingTypePem))
	block, _ := pem.Decode([]byte(*g.SSHPublicKeyBody))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("PEM body %q", *g.SSHPublicKeyBody)
	}
	parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
	ok(t, err)
	if !keys[0].PublicKey.Equal(parsed) {
		t.Fatal("PEM encoding is not the uploaded key")
	}

	// A key uploaded as PEM has the same fingerprint as its OpenSSH form,
	// which its SSH encoding returns.
	line1, fp1 := sshLine(&keys[1].PublicKey, "")
	k1 := must[*iam.UploadSSHPublicKeyOutput](t)(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{
		UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(sshPEM(t, &keys[1].PublicKey))})).SSHPublicKey
	if *k1.Fingerprint != fp1 {
		t.Fatalf("PEM upload fingerprint %s, want %s", *k1.Fingerprint, fp1)
	}
	if g := must[*types.SSHPublicKey](t)(get("alice", *k1.SSHPublicKeyId, types.EncodingTypeSsh)); *g.SSHPublicKeyBody != line1 {
		t.Fatalf("SSH encoding of a PEM upload: %q", *g.SSHPublicKeyBody)
	}
	// The same key in the other encoding is a duplicate for alice, not for bob.
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(line1)})
	sshWantErr(t, err, "DuplicateSSHPublicKey", 400)
	ok(t, second(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyBody: aws.String(line1)})))
	// Ids are per user: alice's key is not bob's.
	_, err = get("bob", *k1.SSHPublicKeyId, types.EncodingTypeSsh)
	sshWantErr(t, err, "NoSuchEntity", 404)

	ok(t, second(c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: k.SSHPublicKeyId, Status: types.StatusTypeInactive})))
	list := must[*iam.ListSSHPublicKeysOutput](t)(c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("alice")}))
	if len(list.SSHPublicKeys) != 2 || list.IsTruncated {
		t.Fatalf("list %+v", list.SSHPublicKeys)
	}
	for _, m := range list.SSHPublicKeys {
		want := types.StatusTypeActive
		if *m.SSHPublicKeyId == *k.SSHPublicKeyId {
			want = types.StatusTypeInactive
		}
		if m.Status != want || *m.UserName != "alice" || m.UploadDate == nil {
			t.Fatalf("listed %+v", m)
		}
	}

	del := &iam.DeleteSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: k.SSHPublicKeyId}
	ok(t, second(c.DeleteSSHPublicKey(ctx, del)))
	sshWantErr(t, second(c.DeleteSSHPublicKey(ctx, del)), "NoSuchEntity", 404)
	_, err = get("alice", *k.SSHPublicKeyId, types.EncodingTypeSsh)
	sshWantErr(t, err, "NoSuchEntity", 404)
	_, err = c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: k.SSHPublicKeyId, Status: types.StatusTypeActive})
	sshWantErr(t, err, "NoSuchEntity", 404)
}

func TestSSHCertsSSHKeyErrors(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	sshMkUsers(t, c, "alice")
	keys := sshTestKeys(t, 6)
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	ok(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ok(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	ok(t, err)
	shortLine, _ := sshLine(&short.PublicKey, "")
	goodLine, _ := sshLine(&keys[0].PublicKey, "")
	goodBlob, _ := base64.StdEncoding.DecodeString(strings.Fields(goodLine)[1])
	privDER, err := x509.MarshalPKCS8PrivateKey(keys[0])
	ok(t, err)

	cases := []struct{ name, body, code string }{
		{"not a key", "hello", "UnrecognizedPublicKeyEncoding"},
		{"bad base64", "ssh-rsa !!!not-base64!!!", "UnrecognizedPublicKeyEncoding"},
		{"type disagrees with blob", "ssh-dss " + strings.Fields(goodLine)[1], "UnrecognizedPublicKeyEncoding"},
		{"truncated blob", "ssh-rsa " + base64.StdEncoding.EncodeToString(goodBlob[:40]), "UnrecognizedPublicKeyEncoding"},
		{"trailing bytes in blob", "ssh-rsa " + base64.StdEncoding.EncodeToString(append(goodBlob, 0)), "UnrecognizedPublicKeyEncoding"},
		{"PEM garbage", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "UnrecognizedPublicKeyEncoding"},
		{"PEM private key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), "UnrecognizedPublicKeyEncoding"},
		{"1024-bit RSA", shortLine, "InvalidPublicKey"},
		{"1024-bit RSA as PEM", sshPEM(t, &short.PublicKey), "InvalidPublicKey"},
		{"ed25519", "ssh-ed25519 " + base64.StdEncoding.EncodeToString(sshWireBlob([]byte("ssh-ed25519"), edPub)), "InvalidPublicKey"},
		{"ECDSA as PEM", sshPEM(t, &ec.PublicKey), "InvalidPublicKey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(tc.body)})
			sshWantErr(t, err, tc.code, 400)
		})
	}

	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("nobody"), SSHPublicKeyBody: aws.String(goodLine)})
	sshWantErr(t, err, "NoSuchEntity", 404)
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(goodLine + " " + strings.Repeat("x", 16384))})
	sshWantErr(t, err, "ValidationError", 400)
	id := aws.String("APKA" + strings.Repeat("A", 16))
	_, err = c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: id, Encoding: "XML"})
	sshWantErr(t, err, "ValidationError", 400)
	_, err = c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: aws.String("APKA-short"), Encoding: types.EncodingTypeSsh})
	sshWantErr(t, err, "ValidationError", 400)
	_, err = c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: id, Encoding: types.EncodingTypeSsh})
	sshWantErr(t, err, "NoSuchEntity", 404)
	_, err = c.UpdateSSHPublicKey(ctx, &iam.UpdateSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyId: id, Status: "Disabled"})
	sshWantErr(t, err, "ValidationError", 400)

	// Five keys per user.
	for i := 0; i < maxSSHKeysPerUser; i++ {
		line, _ := sshLine(&keys[i].PublicKey, "")
		ok(t, second(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(line)})))
	}
	sixth, _ := sshLine(&keys[5].PublicKey, "")
	_, err = c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(sixth)})
	sshWantErr(t, err, "LimitExceeded", 409)
}

func TestSSHCertsSSHKeyPagingAndCaller(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	sshMkUsers(t, c, "alice", "bob")
	uploaded := map[string]bool{}
	for _, k := range sshTestKeys(t, 5) {
		line, _ := sshLine(&k.PublicKey, "")
		out := must[*iam.UploadSSHPublicKeyOutput](t)(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("alice"), SSHPublicKeyBody: aws.String(line)}))
		uploaded[*out.SSHPublicKey.SSHPublicKeyId] = true
	}
	p := iam.NewListSSHPublicKeysPaginator(c, &iam.ListSSHPublicKeysInput{UserName: aws.String("alice"), MaxItems: aws.Int32(2)})
	seen, pages := map[string]bool{}, 0
	for p.HasMorePages() {
		out := must[*iam.ListSSHPublicKeysOutput](t)(p.NextPage(ctx))
		pages++
		for _, m := range out.SSHPublicKeys {
			if seen[*m.SSHPublicKeyId] || !uploaded[*m.SSHPublicKeyId] {
				t.Fatalf("page %d: unexpected or repeated %s", pages, *m.SSHPublicKeyId)
			}
			seen[*m.SSHPublicKeyId] = true
		}
	}
	if pages != 3 || len(seen) != 5 {
		t.Fatalf("%d keys in %d pages", len(seen), pages)
	}

	// Without UserName the caller's own keys are listed: none for the
	// account root, alice's for a key of alice.
	root := must[*iam.ListSSHPublicKeysOutput](t)(c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{}))
	if len(root.SSHPublicKeys) != 0 {
		t.Fatalf("root has keys: %+v", root.SSHPublicKeys)
	}
	mine := must[*iam.ListSSHPublicKeysOutput](t)(sshUserClient(t, sb, "alice").ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{}))
	if len(mine.SSHPublicKeys) != 5 {
		t.Fatalf("caller's keys: %d", len(mine.SSHPublicKeys))
	}
	_, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("nobody")})
	sshWantErr(t, err, "NoSuchEntity", 404)
}

func TestSSHCertsSigningCertificates(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	sshMkUsers(t, c, "alice", "bob")
	key := sshTestKeys(t, 1)[0]
	now := time.Now()
	valid := func(serial int64) string {
		return sshSelfSigned(t, key, serial, now.Add(-time.Hour), now.Add(24*time.Hour))
	}
	upload := func(cl *iam.Client, user *string, body string) (*types.SigningCertificate, error) {
		out, err := cl.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: user, CertificateBody: aws.String(body)})
		if err != nil {
			return nil, err
		}
		return out.Certificate, nil
	}
	alice := aws.String("alice")

	body1 := valid(1)
	c1 := must[*types.SigningCertificate](t)(upload(c, alice, body1))
	if !regexp.MustCompile(`^[A-Z0-9]{32}$`).MatchString(*c1.CertificateId) || *c1.UserName != "alice" ||
		c1.Status != types.StatusTypeActive || *c1.CertificateBody != body1 || c1.UploadDate == nil {
		t.Fatalf("uploaded %+v", c1)
	}
	// A certificate belongs to one user of the account only.
	_, err := upload(c, alice, body1)
	sshWantErr(t, err, "DuplicateCertificate", 409)
	_, err = upload(c, aws.String("bob"), body1)
	sshWantErr(t, err, "DuplicateCertificate", 409)
	c2 := must[*types.SigningCertificate](t)(upload(c, alice, valid(2)))
	_, err = upload(c, alice, valid(3))
	sshWantErr(t, err, "LimitExceeded", 409)
	_, err = upload(c, aws.String("nobody"), valid(3))
	sshWantErr(t, err, "NoSuchEntity", 404)

	junk := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	cases := []struct{ name, body, code string }{
		{"not PEM", "hello", "MalformedCertificate"},
		{"a public key, not a certificate", sshPEM(t, &key.PublicKey), "MalformedCertificate"},
		{"junk DER", junk, "MalformedCertificate"},
		{"expired", sshSelfSigned(t, key, 4, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), "MalformedCertificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := upload(c, aws.String("bob"), tc.body)
			sshWantErr(t, err, tc.code, 400)
		})
	}

	// Paging: one certificate per page.
	p := iam.NewListSigningCertificatesPaginator(c, &iam.ListSigningCertificatesInput{UserName: alice, MaxItems: aws.Int32(1)})
	var ids []string
	for p.HasMorePages() {
		for _, x := range must[*iam.ListSigningCertificatesOutput](t)(p.NextPage(ctx)).Certificates {
			ids = append(ids, *x.CertificateId)
		}
	}
	if len(ids) != 2 || ids[0] != *c1.CertificateId || ids[1] != *c2.CertificateId {
		t.Fatalf("listed %v, want upload order %s %s", ids, *c1.CertificateId, *c2.CertificateId)
	}

	ok(t, second(c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: alice, CertificateId: c1.CertificateId, Status: types.StatusTypeInactive})))
	list := must[*iam.ListSigningCertificatesOutput](t)(c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: alice}))
	if list.Certificates[0].Status != types.StatusTypeInactive || list.Certificates[1].Status != types.StatusTypeActive {
		t.Fatalf("statuses %+v", list.Certificates)
	}
	_, err = c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: alice, CertificateId: c1.CertificateId, Status: "Disabled"})
	sshWantErr(t, err, "ValidationError", 400)
	del := &iam.DeleteSigningCertificateInput{UserName: alice, CertificateId: c1.CertificateId}
	ok(t, second(c.DeleteSigningCertificate(ctx, del)))
	sshWantErr(t, second(c.DeleteSigningCertificate(ctx, del)), "NoSuchEntity", 404)
	_, err = c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: alice, CertificateId: c1.CertificateId, Status: types.StatusTypeActive})
	sshWantErr(t, err, "NoSuchEntity", 404)

	// Without UserName the caller's certificates: the root's are outside the
	// sandbox (none listed, none uploaded); bob's key acts on bob.
	root := must[*iam.ListSigningCertificatesOutput](t)(c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}))
	if len(root.Certificates) != 0 {
		t.Fatalf("root certificates %+v", root.Certificates)
	}
	_, err = upload(c, nil, valid(6))
	sshWantErr(t, err, "ValidationError", 400)
	bc := sshUserClient(t, sb, "bob")
	mine := must[*types.SigningCertificate](t)(upload(bc, nil, valid(7)))
	if *mine.UserName != "bob" {
		t.Fatalf("caller's certificate went to %s", *mine.UserName)
	}
	if l := must[*iam.ListSigningCertificatesOutput](t)(bc.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{})); len(l.Certificates) != 1 {
		t.Fatalf("caller's list %+v", l.Certificates)
	}
	ok(t, second(bc.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{CertificateId: mine.CertificateId, Status: types.StatusTypeInactive})))
	ok(t, second(bc.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: mine.CertificateId})))
}

func TestSSHCertsServiceCredentials(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	sshMkUsers(t, c, "alice", "bob")
	const codecommit, keyspaces = "codecommit.amazonaws.com", "cassandra.amazonaws.com"
	create := func(user, service string) (*types.ServiceSpecificCredential, error) {
		out, err := c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String(user), ServiceName: aws.String(service)})
		if err != nil {
			return nil, err
		}
		return out.ServiceSpecificCredential, nil
	}
	password := regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`)

	cc := must[*types.ServiceSpecificCredential](t)(create("alice", codecommit))
	if *cc.ServiceUserName != "alice-at-123456789012" || !password.MatchString(*cc.ServicePassword) ||
		!regexp.MustCompile(`^ACCA[A-Z2-7]{17}$`).MatchString(*cc.ServiceSpecificCredentialId) ||
		*cc.ServiceName != codecommit || *cc.UserName != "alice" || cc.Status != types.StatusTypeActive || cc.CreateDate == nil {
		t.Fatalf("created %+v", cc)
	}
	must[*types.ServiceSpecificCredential](t)(create("alice", codecommit))
	_, err := create("alice", codecommit)
	sshWantErr(t, err, "LimitExceeded", 409)
	// The limit is per service.
	ks := must[*types.ServiceSpecificCredential](t)(create("alice", keyspaces))
	_, err = create("alice", "s3.amazonaws.com")
	sshWantErr(t, err, "NotSupportedService", 404)
	_, err = create("nobody", codecommit)
	sshWantErr(t, err, "NoSuchEntity", 404)
	_, err = c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceName: aws.String(keyspaces), CredentialAgeDays: aws.Int32(30)})
	sshWantErr(t, err, "InvalidInput", 400)

	list := func(cl *iam.Client, in *iam.ListServiceSpecificCredentialsInput) []types.ServiceSpecificCredentialMetadata {
		t.Helper()
		return must[*iam.ListServiceSpecificCredentialsOutput](t)(cl.ListServiceSpecificCredentials(ctx, in)).ServiceSpecificCredentials
	}
	if l := list(c, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice")}); len(l) != 3 {
		t.Fatalf("listed %d", len(l))
	}
	if l := list(c, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), ServiceName: aws.String(keyspaces)}); len(l) != 1 || *l[0].ServiceSpecificCredentialId != *ks.ServiceSpecificCredentialId {
		t.Fatalf("filtered %+v", l)
	}
	_, err = c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice"), ServiceName: aws.String("s3.amazonaws.com")})
	sshWantErr(t, err, "NotSupportedService", 404)
	// The SDK's metadata type has no password field, so look at the wire:
	// a list never carries one.
	status, body := post(t, sb.url, url.Values{"Action": {"ListServiceSpecificCredentials"}, "Version": {iamVersion}, "UserName": {"alice"}})
	if status != 200 || strings.Contains(body, "ServicePassword") || strings.Contains(body, *cc.ServicePassword) || !strings.Contains(body, *cc.ServiceSpecificCredentialId) {
		t.Fatalf("list on the wire (%d): %s", status, body)
	}

	reset := must[*iam.ResetServiceSpecificCredentialOutput](t)(c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: cc.ServiceSpecificCredentialId})).ServiceSpecificCredential
	if !password.MatchString(*reset.ServicePassword) || *reset.ServicePassword == *cc.ServicePassword || *reset.ServiceUserName != *cc.ServiceUserName {
		t.Fatalf("reset %+v", reset)
	}
	ok(t, second(c.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: cc.ServiceSpecificCredentialId, Status: types.StatusTypeInactive})))
	for _, m := range list(c, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("alice")}) {
		if (*m.ServiceSpecificCredentialId == *cc.ServiceSpecificCredentialId) != (m.Status == types.StatusTypeInactive) {
			t.Fatalf("status after update: %+v", m)
		}
	}
	_, err = c.UpdateServiceSpecificCredential(ctx, &iam.UpdateServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: cc.ServiceSpecificCredentialId, Status: "Disabled"})
	sshWantErr(t, err, "ValidationError", 400)

	// AllUsers lists every user's credentials, user by user, in pages.
	b := must[*types.ServiceSpecificCredential](t)(create("bob", codecommit))
	if *b.ServiceUserName != "bob-at-123456789012" {
		t.Fatalf("bob's service user %s", *b.ServiceUserName)
	}
	first := must[*iam.ListServiceSpecificCredentialsOutput](t)(c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true), MaxItems: aws.Int32(3)}))
	if len(first.ServiceSpecificCredentials) != 3 || !first.IsTruncated || first.Marker == nil {
		t.Fatalf("first page %+v", first)
	}
	rest := list(c, &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true), MaxItems: aws.Int32(3), Marker: first.Marker})
	if len(rest) != 1 || *rest[0].UserName != "bob" {
		t.Fatalf("second page %+v", rest)
	}
	_, err = c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{AllUsers: aws.Bool(true), UserName: aws.String("alice")})
	sshWantErr(t, err, "InvalidInput", 400)

	// Without UserName the caller's own: none for the root, bob's for bob.
	if l := list(c, &iam.ListServiceSpecificCredentialsInput{}); len(l) != 0 {
		t.Fatalf("root's credentials %+v", l)
	}
	bc := sshUserClient(t, sb, "bob")
	if l := list(bc, &iam.ListServiceSpecificCredentialsInput{}); len(l) != 1 || *l[0].UserName != "bob" {
		t.Fatalf("caller's credentials %+v", l)
	}
	ok(t, second(bc.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{ServiceSpecificCredentialId: b.ServiceSpecificCredentialId})))
	_, err = c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{ServiceSpecificCredentialId: b.ServiceSpecificCredentialId})
	sshWantErr(t, err, "ValidationError", 400)

	del := &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: cc.ServiceSpecificCredentialId}
	ok(t, second(c.DeleteServiceSpecificCredential(ctx, del)))
	sshWantErr(t, second(c.DeleteServiceSpecificCredential(ctx, del)), "NoSuchEntity", 404)
	_, err = c.ResetServiceSpecificCredential(ctx, &iam.ResetServiceSpecificCredentialInput{UserName: aws.String("alice"), ServiceSpecificCredentialId: cc.ServiceSpecificCredentialId})
	sshWantErr(t, err, "NoSuchEntity", 404)
}

// TestSSHCertsDeleteUserConflicts: each kind of credential blocks DeleteUser
// until it is deleted.
func TestSSHCertsDeleteUserConflicts(t *testing.T) {
	sb := newSandbox(t, Options{})
	c := sb.iam
	key := sshTestKeys(t, 1)[0]
	line, _ := sshLine(&key.PublicKey, "")
	now := time.Now()
	kinds := []struct {
		name string
		add  func(t *testing.T, user *string) (remove func() error)
	}{
		{"SSH public key", func(t *testing.T, user *string) func() error {
			k := must[*iam.UploadSSHPublicKeyOutput](t)(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: user, SSHPublicKeyBody: aws.String(line)}))
			return func() error {
				return second(c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: user, SSHPublicKeyId: k.SSHPublicKey.SSHPublicKeyId}))
			}
		}},
		{"signing certificate", func(t *testing.T, user *string) func() error {
			body := sshSelfSigned(t, key, 1, now.Add(-time.Hour), now.Add(time.Hour))
			x := must[*iam.UploadSigningCertificateOutput](t)(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: user, CertificateBody: aws.String(body)}))
			return func() error {
				return second(c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: user, CertificateId: x.Certificate.CertificateId}))
			}
		}},
		{"service-specific credential", func(t *testing.T, user *string) func() error {
			x := must[*iam.CreateServiceSpecificCredentialOutput](t)(c.CreateServiceSpecificCredential(ctx, &iam.CreateServiceSpecificCredentialInput{UserName: user, ServiceName: aws.String("codecommit.amazonaws.com")}))
			return func() error {
				return second(c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: user, ServiceSpecificCredentialId: x.ServiceSpecificCredential.ServiceSpecificCredentialId}))
			}
		}},
	}
	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			user := aws.String(fmt.Sprintf("holder%d", i))
			sshMkUsers(t, c, *user)
			remove := k.add(t, user)
			sshWantErr(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})), "DeleteConflict", 409)
			ok(t, remove())
			ok(t, second(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user})))
		})
	}
}

// TestSSHCertsCertificateClock: expiry is judged by the sandbox's clock, and
// a certificate not valid yet by that clock still uploads.
func TestSSHCertsCertificateClock(t *testing.T) {
	later := time.Now().Add(48 * time.Hour)
	sb := newSandbox(t, Options{Now: func() time.Time { return later }})
	sshMkUsers(t, sb.iam, "alice")
	key := sshTestKeys(t, 1)[0]
	upload := func(body string) error {
		return second(sb.iam.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("alice"), CertificateBody: aws.String(body)}))
	}
	now := time.Now()
	sshWantErr(t, upload(sshSelfSigned(t, key, 1, now.Add(-time.Hour), now.Add(24*time.Hour))), "MalformedCertificate", 400)
	ok(t, upload(sshSelfSigned(t, key, 2, later.Add(time.Hour), later.Add(24*time.Hour))))
}

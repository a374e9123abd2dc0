package sandbox

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A user's credentials besides access keys and a password: SSH public keys
// (for CodeCommit), X.509 signing certificates and service-specific
// credentials (servicecreds.go). All three share one life cycle — upload or
// create, list, set Active or Inactive, delete — so the shared steps live in
// credKind, and each kind adds only what it alone does.
var sshCertActions = map[string]action{
	"UploadSSHPublicKey":              {mutates: true, run: uploadSSHPublicKey},
	"GetSSHPublicKey":                 {run: getSSHPublicKey},
	"ListSSHPublicKeys":               {run: listSSHPublicKeys},
	"UpdateSSHPublicKey":              {mutates: true, run: sshKeys.update},
	"DeleteSSHPublicKey":              {mutates: true, run: sshKeys.remove},
	"UploadSigningCertificate":        {mutates: true, run: uploadSigningCertificate},
	"ListSigningCertificates":         {run: listSigningCertificates},
	"UpdateSigningCertificate":        {mutates: true, run: signingCerts.update},
	"DeleteSigningCertificate":        {mutates: true, run: signingCerts.remove},
	"CreateServiceSpecificCredential": {mutates: true, run: createServiceCredential},
	"ListServiceSpecificCredentials":  {run: listServiceCredentials},
	"UpdateServiceSpecificCredential": {mutates: true, run: serviceCreds.update},
	"ResetServiceSpecificCredential":  {mutates: true, run: resetServiceCredential},
	"DeleteServiceSpecificCredential": {mutates: true, run: serviceCreds.remove},
}

// ---- what the three kinds share ----

// credKind describes one kind of user credential for the steps every kind
// has: finding one by id, changing its status, deleting it, listing.
type credKind[T any] struct {
	idParam  string // the request parameter naming one, e.g. "SSHPublicKeyId"
	idMin    int    // IAM's minimum length for that id
	notFound string // IAM's NoSuchEntity message, with %s for the id
	// userRequired is true for SSH keys, whose operations all name the
	// user; the others default to the user owning the signing key.
	userRequired bool
	list         func(*User) *[]*T
	id           func(*T) string
	status       func(*T) *string
	created      func(*T) time.Time
}

var idPattern = regexp.MustCompile(`^\w+$`)

// find resolves the owner and the credential a request names.
func (k credKind[T]) find(s *Server, c *call) (*User, int, *Error) {
	id, err := c.required(k.idParam)
	if err != nil {
		return nil, 0, err
	}
	if len(id) < k.idMin || len(id) > 128 {
		return nil, 0, errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between %d and 128", id, lowerFirst(k.idParam), k.idMin)
	}
	if !idPattern.MatchString(id) {
		return nil, 0, errValidation(`1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w]+`, id, lowerFirst(k.idParam))
	}
	u, err := ownerForChange(s, c, k.userRequired)
	if err != nil {
		return nil, 0, err
	}
	for i, x := range *k.list(u) {
		if k.id(x) == id {
			return u, i, nil
		}
	}
	return nil, 0, errNoSuchEntity(k.notFound, id)
}

// update sets a credential Active or Inactive.
func (k credKind[T]) update(s *Server, c *call) (any, *Error) {
	status, err := c.required("Status")
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	u, i, err := k.find(s, c)
	if err != nil {
		return nil, err
	}
	*k.status((*k.list(u))[i]) = status
	return nil, nil
}

// remove deletes a credential.
func (k credKind[T]) remove(s *Server, c *call) (any, *Error) {
	u, i, err := k.find(s, c)
	if err != nil {
		return nil, err
	}
	*k.list(u) = slices.Delete(*k.list(u), i, i+1)
	return nil, nil
}

// owned is a credential with the user holding it, as lists render both.
type owned[T any] struct {
	user *User
	item *T
}

// page lists the credentials of users that keep accepts, one page at a time,
// ordered by user then upload order (the order IAM returns them in).
func (k credKind[T]) page(c *call, users []*User, keep func(*T) bool) ([]owned[T], bool, string, *Error) {
	pg, err := readPage(c.params)
	if err != nil {
		return nil, false, "", err
	}
	var all []owned[T]
	for _, u := range users {
		for _, x := range *k.list(u) {
			if keep == nil || keep(x) {
				all = append(all, owned[T]{u, x})
			}
		}
	}
	sortKey := func(o owned[T]) string {
		return key(o.user.Name) + "\x00" + o.user.ID + k.created(o.item).UTC().Format("20060102150405.000000000") + k.id(o.item)
	}
	sortByKey(all, sortKey)
	return paginate(all, sortKey, pg)
}

// credentialOwner resolves whose credentials a request is about: UserName
// when given (or required), else the user owning the signing access key. A
// nil user without error means the caller is the account root.
func credentialOwner(s *Server, c *call, required bool) (*User, *Error) {
	if required || c.str("UserName") != "" {
		return userParam(s, c)
	}
	return s.acct.userByAccessKey(c.accessKeyID), nil
}

// ownerForChange is credentialOwner for requests that add or change a
// credential. The root user's own certificates are outside the sandbox (as
// GetAccountSummary's AccountSigningCertificatesPresent says), so the caller
// must be, or name, a user.
func ownerForChange(s *Server, c *call, required bool) (*User, *Error) {
	u, err := credentialOwner(s, c, required)
	if err == nil && u == nil {
		err = errValidation("Must specify userName when calling with non-User credentials")
	}
	return u, err
}

// owners is the one-user list for page, empty for the root caller.
func owners(u *User) []*User {
	if u == nil {
		return nil
	}
	return []*User{u}
}

// bodyParam reads a required key or certificate body (at most 16 KB, IAM's
// limit for both).
func bodyParam(p params, param string) (string, *Error) {
	v, err := p.required(param)
	if err == nil && len(v) > 16384 {
		err = errValidation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to 16384", lowerFirst(param))
	}
	return v, err
}

// ---- SSH public keys ----

// IAM allows five SSH public keys per user.
const maxSSHKeysPerUser = 5

var sshKeys = credKind[SSHKey]{
	idParam: "SSHPublicKeyId", idMin: 20, userRequired: true,
	notFound: "The Public Key with id %s cannot be found.",
	list:     func(u *User) *[]*SSHKey { return &u.SSHKeys },
	id:       func(k *SSHKey) string { return k.ID },
	status:   func(k *SSHKey) *string { return &k.Status },
	created:  func(k *SSHKey) time.Time { return k.Uploaded },
}

type xmlSSHKey struct {
	UserName         string  `xml:"UserName"`
	SSHPublicKeyId   string  `xml:"SSHPublicKeyId"`
	Fingerprint      string  `xml:"Fingerprint"`
	SSHPublicKeyBody string  `xml:"SSHPublicKeyBody"`
	Status           string  `xml:"Status"`
	UploadDate       isoTime `xml:"UploadDate"`
}

type xmlSSHKeyMetadata struct {
	UserName       string  `xml:"UserName"`
	SSHPublicKeyId string  `xml:"SSHPublicKeyId"`
	Status         string  `xml:"Status"`
	UploadDate     isoTime `xml:"UploadDate"`
}

func sshKeyResult(u *User, k *SSHKey, body string) any {
	return struct {
		SSHPublicKey xmlSSHKey `xml:"SSHPublicKey"`
	}{xmlSSHKey{u.Name, k.ID, k.Fingerprint, body, k.Status, isoTime(k.Uploaded)}}
}

func uploadSSHPublicKey(s *Server, c *call) (any, *Error) {
	u, err := userParam(s, c)
	if err != nil {
		return nil, err
	}
	body, err := bodyParam(c.params, "SSHPublicKeyBody")
	if err != nil {
		return nil, err
	}
	pub, err := parseSSHPublicKey(body)
	if err != nil {
		return nil, err
	}
	fp := sshFingerprint(pub)
	for _, k := range u.SSHKeys {
		if k.Fingerprint == fp {
			return nil, apiErr("DuplicateSSHPublicKey", 400, "The SSH public key is already associated with the user %s.", u.Name)
		}
	}
	if len(u.SSHKeys) >= maxSSHKeysPerUser {
		return nil, errLimitExceeded("Cannot exceed quota for PublicKeysPerUser: %d", maxSSHKeysPerUser)
	}
	// SSH key ids are as long as access key ids: APKA and 16 characters.
	k := &SSHKey{ID: newID("APKA")[:20], Body: body, Fingerprint: fp, Status: "Active", Uploaded: c.now}
	u.SSHKeys = append(u.SSHKeys, k)
	return sshKeyResult(u, k, body), nil
}

// getSSHPublicKey returns a key in the encoding asked for: the OpenSSH line
// (as uploaded, when it was uploaded so) or a PEM "PUBLIC KEY" (PKIX).
func getSSHPublicKey(s *Server, c *call) (any, *Error) {
	enc, err := c.required("Encoding")
	if err != nil {
		return nil, err
	}
	if enc != "SSH" && enc != "PEM" {
		return nil, errValidation("1 validation error detected: Value '%s' at 'encoding' failed to satisfy constraint: Member must satisfy enum value set: [SSH, PEM]", enc)
	}
	u, i, err := sshKeys.find(s, c)
	if err != nil {
		return nil, err
	}
	k := u.SSHKeys[i]
	pub, _ := parseSSHPublicKey(k.Body) // accepted at upload, so it parses
	body := strings.TrimSpace(k.Body)
	switch {
	case enc == "PEM":
		der, _ := x509.MarshalPKIXPublicKey(pub)
		body = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	case strings.HasPrefix(body, "-----"):
		body = "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSABlob(pub))
	}
	return sshKeyResult(u, k, body), nil
}

func listSSHPublicKeys(s *Server, c *call) (any, *Error) {
	u, err := credentialOwner(s, c, false)
	if err != nil {
		return nil, err
	}
	keys, truncated, marker, err := sshKeys.page(c, owners(u), nil)
	if err != nil {
		return nil, err
	}
	return pageOf("SSHPublicKeys", keys, truncated, marker, func(k owned[SSHKey]) xmlSSHKeyMetadata {
		return xmlSSHKeyMetadata{k.user.Name, k.item.ID, k.item.Status, isoTime(k.item.Uploaded)}
	}), nil
}

func errKeyEncoding() *Error {
	return apiErr("UnrecognizedPublicKeyEncoding", 400, "The public key encoding format is unsupported or unrecognized: use an ssh-rsa key in OpenSSH format or a PEM-encoded RSA public key.")
}

// parseSSHPublicKey reads an OpenSSH "ssh-rsa AAAA… [comment]" line or a PEM
// public key (PKIX "PUBLIC KEY" or PKCS #1 "RSA PUBLIC KEY"). What cannot be
// decoded is UnrecognizedPublicKeyEncoding; a well-formed key that is not RSA
// of at least 2048 bits (IAM's rule) is InvalidPublicKey.
func parseSSHPublicKey(body string) (*rsa.PublicKey, *Error) {
	text := strings.TrimSpace(body)
	if strings.HasPrefix(text, "-----BEGIN") {
		block, _ := pem.Decode([]byte(text))
		if block == nil {
			return nil, errKeyEncoding()
		}
		var key any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, errKeyEncoding()
		}
		if err != nil {
			return nil, errKeyEncoding()
		}
		pub, ok := key.(*rsa.PublicKey)
		if !ok {
			return nil, apiErr("InvalidPublicKey", 400, "The public key is not an RSA key; IAM accepts only RSA keys.")
		}
		return checkRSAKey(pub)
	}
	// The OpenSSH line's blob is the SSH wire format (RFC 4253 §6.6): the
	// strings "ssh-rsa", e and n, each prefixed with its 32-bit length.
	fields := strings.Fields(text)
	if len(fields) < 2 {
		return nil, errKeyEncoding()
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return nil, errKeyEncoding()
	}
	w := sshWire(blob)
	algo, ok := w.next()
	if !ok || string(algo) != fields[0] {
		return nil, errKeyEncoding()
	}
	if fields[0] != "ssh-rsa" {
		return nil, apiErr("InvalidPublicKey", 400, "The public key type %s is not supported; IAM accepts only ssh-rsa keys.", fields[0])
	}
	e, okE := w.next()
	n, okN := w.next()
	if !okE || !okN || len(w) != 0 || negativeMPInt(e) || negativeMPInt(n) {
		return nil, errKeyEncoding()
	}
	exp := new(big.Int).SetBytes(e)
	if exp.BitLen() > 31 {
		return nil, apiErr("InvalidPublicKey", 400, "The public key's RSA exponent is invalid.")
	}
	return checkRSAKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())})
}

func checkRSAKey(pub *rsa.PublicKey) (*rsa.PublicKey, *Error) {
	if pub.N.BitLen() < 2048 {
		return nil, apiErr("InvalidPublicKey", 400, "The public key is %d bits; the minimum bit-length of the public key is 2048 bits.", pub.N.BitLen())
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return nil, apiErr("InvalidPublicKey", 400, "The public key's RSA exponent is invalid.")
	}
	return pub, nil
}

// sshWire reads SSH wire-format strings: a 32-bit big-endian length, then
// that many bytes.
type sshWire []byte

func (w *sshWire) next() ([]byte, bool) {
	if len(*w) < 4 {
		return nil, false
	}
	n := binary.BigEndian.Uint32(*w)
	if uint64(n) > uint64(len(*w)-4) {
		return nil, false
	}
	v := (*w)[4 : 4+n]
	*w = (*w)[4+n:]
	return v, true
}

func negativeMPInt(b []byte) bool { return len(b) > 0 && b[0]&0x80 != 0 }

// sshRSABlob is an RSA key's SSH wire encoding, the bytes the OpenSSH line
// carries in base64 and IAM's fingerprint digests.
func sshRSABlob(pub *rsa.PublicKey) []byte {
	var b []byte
	for _, v := range [][]byte{[]byte("ssh-rsa"), mpint(big.NewInt(int64(pub.E))), mpint(pub.N)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

// mpint is a non-negative integer as SSH encodes it: big-endian, with a
// leading zero byte when the high bit would otherwise read as a sign.
func mpint(v *big.Int) []byte {
	b := v.Bytes()
	if negativeMPInt(b) {
		b = append([]byte{0}, b...)
	}
	return b
}

// sshFingerprint is the fingerprint IAM reports: the MD5 of the key's wire
// encoding as colon-separated hex pairs. It does not depend on whether the
// key was uploaded as OpenSSH or PEM, so it also detects duplicates.
func sshFingerprint(pub *rsa.PublicKey) string {
	sum := md5.Sum(sshRSABlob(pub))
	h := hex.EncodeToString(sum[:])
	pairs := make([]string, len(sum))
	for i := range pairs {
		pairs[i] = h[2*i : 2*i+2]
	}
	return strings.Join(pairs, ":")
}

// ---- signing certificates ----

// IAM allows two signing certificates per user.
const maxCertificatesPerUser = 2

var signingCerts = credKind[SigningCertificate]{
	idParam: "CertificateId", idMin: 24,
	notFound: "The Certificate with id %s cannot be found.",
	list:     func(u *User) *[]*SigningCertificate { return &u.Certificates },
	id:       func(x *SigningCertificate) string { return x.ID },
	status:   func(x *SigningCertificate) *string { return &x.Status },
	created:  func(x *SigningCertificate) time.Time { return x.Uploaded },
}

type xmlCertificate struct {
	UserName        string  `xml:"UserName"`
	CertificateId   string  `xml:"CertificateId"`
	CertificateBody string  `xml:"CertificateBody"`
	Status          string  `xml:"Status"`
	UploadDate      isoTime `xml:"UploadDate"`
}

func certificateXML(u *User, x *SigningCertificate) xmlCertificate {
	return xmlCertificate{u.Name, x.ID, x.Body, x.Status, isoTime(x.Uploaded)}
}

func uploadSigningCertificate(s *Server, c *call) (any, *Error) {
	body, err := bodyParam(c.params, "CertificateBody")
	if err != nil {
		return nil, err
	}
	der, err := parseSigningCertificate(body, c.now)
	if err != nil {
		return nil, err
	}
	u, err := ownerForChange(s, c, false)
	if err != nil {
		return nil, err
	}
	// A certificate may belong to one user of the account only.
	for _, other := range s.acct.Users {
		for _, x := range other.Certificates {
			if block, _ := pem.Decode([]byte(strings.TrimSpace(x.Body))); block != nil && bytes.Equal(block.Bytes, der) {
				return nil, apiErr("DuplicateCertificate", 409, "The Certificate with id %s already exists.", x.ID)
			}
		}
	}
	if len(u.Certificates) >= maxCertificatesPerUser {
		return nil, errLimitExceeded("Cannot exceed quota for SigningCertificatesPerUser: %d", maxCertificatesPerUser)
	}
	x := &SigningCertificate{ID: newCertificateID(), Body: body, Status: "Active", Uploaded: c.now}
	u.Certificates = append(u.Certificates, x)
	return struct {
		Certificate xmlCertificate `xml:"Certificate"`
	}{certificateXML(u, x)}, nil
}

func listSigningCertificates(s *Server, c *call) (any, *Error) {
	u, err := credentialOwner(s, c, false)
	if err != nil {
		return nil, err
	}
	certs, truncated, marker, err := signingCerts.page(c, owners(u), nil)
	if err != nil {
		return nil, err
	}
	return pageOf("Certificates", certs, truncated, marker, func(x owned[SigningCertificate]) xmlCertificate {
		return certificateXML(x.user, x.item)
	}), nil
}

// parseSigningCertificate checks a PEM X.509 certificate and returns its DER
// bytes. IAM refuses what does not parse, and an expired certificate, as
// MalformedCertificate. A certificate not valid yet is accepted: tests move
// the sandbox's clock (Options.Now) back, and certificates made at wall-clock
// time must still upload.
func parseSigningCertificate(body string, now time.Time) ([]byte, *Error) {
	malformed := apiErr("MalformedCertificate", 400, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	block, _ := pem.Decode([]byte(strings.TrimSpace(body)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, malformed
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, malformed
	}
	if now.After(cert.NotAfter) {
		return nil, apiErr("MalformedCertificate", 400, "Certificate is no longer valid. The 'Not After' date restriction on the certificate has passed.")
	}
	return block.Bytes, nil
}

// newCertificateID mints a signing certificate id: 32 upper-case letters and
// digits, the shape of IAM's (which carry no type prefix).
func newCertificateID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Helpers of the planners of managed policies, inline policies and
// credentials (policies.go, inline.go, credentials.go).

// shownDocument is a policy document as a plan shows it: the very text
// that will be sent (or that is stored), made compact. json.Compact only
// drops whitespace — every key stays, duplicates and order included — so
// the person approves exactly the document IAM gets, not a re-encoding
// that could hide a second "Effect". Then every character a screen would
// not show as itself is written as its JSON escape, which is the same JSON
// value: a right-to-left override or a zero-width character inside a
// string (JSON allows them raw) could otherwise make the one line the
// person reads differ from what it says, and a line or paragraph
// separator could break it in two.
func shownDocument(doc api.PolicyDocument) string {
	var b bytes.Buffer
	if err := json.Compact(&b, doc); err != nil {
		// Not JSON (never for a decoded input, whose type checks it): shown
		// as a JSON string, every control character escaped.
		q, _ := json.Marshal(string(doc))
		return escapeHidden(q)
	}
	return escapeHidden(b.Bytes())
}

// escapeHidden writes the characters of compact JSON text that do not show
// as themselves — format characters (bidi controls, zero-width ones),
// other non-graphic ones, line and paragraph separators — as \uXXXX
// escapes, and bytes that are not UTF-8 as \ufffd (which is how JSON
// readers read them). Outside strings valid JSON holds none of these, so
// the text stays JSON, of the same value.
func escapeHidden(text []byte) string {
	var out strings.Builder
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRune(text[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out.WriteString(`\ufffd`)
		case (r >= utf8.RuneSelf || r == 0x7f) && (unicode.Is(unicode.Cf, r) || !unicode.IsGraphic(r)):
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&out, `\u%04x`, u)
			}
		default:
			out.Write(text[i : i+size])
		}
		i += size
	}
	return out.String()
}

// awsManagedARN matches the ARN of a policy AWS owns (the account field is
// "aws"); IAM refuses every change to one.
var awsManagedARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::aws:policy/`)

// refuseAWSManaged refuses at plan time, as IAM would refuse at run time
// (AccessDenied: the policy is another account's), a change to a policy
// AWS owns, so that nobody is asked to approve a change that cannot run.
func refuseAWSManaged(arn, doing string) error {
	if !awsManagedARN.MatchString(arn) {
		return nil
	}
	return api.Errorf(api.AccessDenied, "%s is an AWS managed policy: AWS owns it and IAM refuses to %s it, so nothing was changed. To change what it grants, make your own policy from its document (get_managed_policy_document, then create_policy) and attach that instead", arn, doing)
}

// newPolicyTarget is the ARN a policy created with path and name will
// have, once the account is known (the guardrails have asked STS by the
// time a planner calls this); "policy/PATH/NAME" without it.
func (c *Catalogue) newPolicyTarget(path, name string) string {
	if path == "" {
		path = "/"
	}
	c.accountMu.Lock()
	account, caller := c.account, c.callerARN
	c.accountMu.Unlock()
	if account == "" {
		return "policy" + path + name
	}
	return "arn:" + partitionOf(caller) + ":iam::" + account + ":policy" + path + name
}

// versionEntity names one version of a managed policy in a plan (IAM
// gives versions no ARN of their own).
func versionEntity(arn, versionID string) string { return arn + " version " + versionID }

// storedVersion reads a version of a managed policy for a plan's detail:
// its document, compact. A read that fails leaves the detail without it
// (the change itself does not need it).
func (c *Catalogue) storedVersion(ctx context.Context, arn, versionID string) string {
	v, err := c.policyVersion(ctx, arn, versionID)
	if err != nil {
		return "(its document could not be read: " + asAPIError(err).Message + ")"
	}
	return shownDocument(decodeDocument(v.Document))
}

// credentialEntity names a user's credential in a plan:
// user/NAME/access-key/ID, user/NAME/login-profile.
func credentialEntity(user string, parts ...string) string {
	return strings.Join(append([]string{userEntity(user)}, parts...), "/")
}

// accessKeysOf lists every access key of a user, across all pages; a
// missing user is IAM's NoSuchEntity.
func (c *Catalogue) accessKeysOf(ctx context.Context, user string) ([]types.AccessKeyMetadata, error) {
	return allPages(ctx, iam.NewListAccessKeysPaginator(c.clients.IAM, &iam.ListAccessKeysInput{UserName: aws.String(user)}),
		func(o *iam.ListAccessKeysOutput) []types.AccessKeyMetadata { return o.AccessKeyMetadata })
}

// accessKeyOfUser finds one of a user's access keys, or says, as IAM
// would, that the user has no such key; when the keys cannot be read, it
// returns planRead's note instead. Ids are compared without regard to
// case: a plan that wrongly refused would be worse than IAM's own answer
// to a call that then fails.
func (c *Catalogue) accessKeyOfUser(ctx context.Context, user, id string) (*types.AccessKeyMetadata, string, error) {
	keys, err := c.accessKeysOf(ctx, user)
	if note, err := planRead(err, "the access keys of user "+user); err != nil || note != "" {
		return nil, note, err
	}
	for i := range keys {
		if strings.EqualFold(str(keys[i].AccessKeyId), id) {
			return &keys[i], "", nil
		}
	}
	return nil, "", api.Errorf(api.NoSuchEntity, "user %s has no access key %s, so nothing was changed; list_access_keys shows its keys", user, id)
}

// describeKey says what a plan's person should know of an access key
// before it changes: its status, its age and, when IAM tells, its last use.
func (c *Catalogue) describeKey(ctx context.Context, k *types.AccessKeyMetadata) string {
	if k == nil {
		return "its status is unknown"
	}
	s := "status " + string(k.Status) + ", created " + date(k.CreateDate).Format("2006-01-02")
	used, err := c.clients.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
	switch {
	case err != nil:
		// Only informative: the change does not depend on it.
	case used.AccessKeyLastUsed == nil || used.AccessKeyLastUsed.LastUsedDate == nil:
		s += ", never used"
	default:
		u := used.AccessKeyLastUsed
		s += ", last used " + date(u.LastUsedDate).Format("2006-01-02 15:04 UTC")
		if svc := str(u.ServiceName); svc != "" && svc != "N/A" {
			s += " with " + svc
		}
		if r := str(u.Region); r != "" && r != "N/A" {
			s += " in " + r
		}
	}
	return s
}

// planRead judges a read that a plan wants and the change does not need:
// that the entity exists, what it holds now (for the detail and the
// undo). IAM's NoSuchEntity refuses the plan — the call would fail the
// same way, and nobody should be asked to approve it. Any other failure (a
// read permission the operator did not grant, say) leaves the plan
// without what the read would have told, with a note saying so, so that
// credentials holding only the write still make the change; the
// guardrails' own reads are not of this kind and fail closed.
func planRead(err error, what string) (note string, refuse error) {
	switch {
	case err == nil:
		return "", nil
	case isCode(err, "NoSuchEntity"):
		return "", err
	}
	return "could not read " + what + " (" + asAPIError(err).Message + ")", nil
}

// withNote adds a planRead note to a step's detail.
func withNote(detail, note string) string {
	if note == "" {
		return detail
	}
	return detail + "; " + note
}

package catalogue

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Conversions from the SDK's types to the catalogue's: one place, so every
// operation returns the same shape for the same thing.

// convertAll converts a list of SDK items with one of the conversions
// below. The result is never nil: a list in a result is [] when empty, so
// that a plugin can range over it without checking for null.
func convertAll[T, R any](items []T, convert func(*T) R) []R {
	out := make([]R, 0, len(items))
	for i := range items {
		out = append(out, convert(&items[i]))
	}
	return out
}

func str(p *string) string { return aws.ToString(p) }

func date(p *time.Time) time.Time { return aws.ToTime(p).UTC() }

func optDate(p *time.Time) *time.Time {
	if p == nil || p.IsZero() {
		return nil
	}
	t := p.UTC()
	return &t
}

// optStr turns "" into nil for optional SDK inputs.
func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optInt32 turns 0 into nil for optional SDK inputs.
func optInt32(n int) *int32 {
	if n == 0 {
		return nil
	}
	v := int32(n)
	return &v
}

// decodeDocument turns IAM's URL-encoded policy document into the JSON
// object the catalogue returns. A document that does not decode is returned
// as IAM sent it, as a JSON string, rather than lost.
func decodeDocument(p *string) api.PolicyDocument {
	s := aws.ToString(p)
	if s == "" {
		return nil
	}
	if dec, err := url.PathUnescape(s); err == nil {
		s = dec
	}
	var d api.PolicyDocument
	if err := d.UnmarshalJSON([]byte(s)); err != nil {
		quoted, _ := jsonString(s)
		return api.PolicyDocument(quoted)
	}
	return d
}

func tagMap(tags []types.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[str(t.Key)] = str(t.Value)
	}
	return m
}

func boundaryARN(b *types.AttachedPermissionsBoundary) string {
	if b == nil {
		return ""
	}
	return str(b.PermissionsBoundaryArn)
}

func userOf(u *types.User) api.User {
	return api.User{
		UserName: str(u.UserName), UserID: str(u.UserId), Arn: str(u.Arn), Path: str(u.Path),
		CreateDate: date(u.CreateDate), PasswordLastUsed: optDate(u.PasswordLastUsed),
		PermissionsBoundary: boundaryARN(u.PermissionsBoundary), Tags: tagMap(u.Tags),
	}
}

func groupOf(g *types.Group) api.Group {
	return api.Group{GroupName: str(g.GroupName), GroupID: str(g.GroupId), Arn: str(g.Arn), Path: str(g.Path), CreateDate: date(g.CreateDate)}
}

func roleOf(r *types.Role) api.Role {
	out := api.Role{
		RoleName: str(r.RoleName), RoleID: str(r.RoleId), Arn: str(r.Arn), Path: str(r.Path),
		CreateDate: date(r.CreateDate), Description: str(r.Description),
		MaxSessionDuration:       int(aws.ToInt32(r.MaxSessionDuration)),
		AssumeRolePolicyDocument: decodeDocument(r.AssumeRolePolicyDocument),
		PermissionsBoundary:      boundaryARN(r.PermissionsBoundary), Tags: tagMap(r.Tags),
	}
	if r.RoleLastUsed != nil {
		out.LastUsedDate = optDate(r.RoleLastUsed.LastUsedDate)
		out.LastUsedRegion = str(r.RoleLastUsed.Region)
	}
	return out
}

func policyOf(p *types.Policy) api.ManagedPolicy {
	return api.ManagedPolicy{
		PolicyName: str(p.PolicyName), PolicyID: str(p.PolicyId), Arn: str(p.Arn), Path: str(p.Path),
		DefaultVersionID: str(p.DefaultVersionId), AttachmentCount: int(aws.ToInt32(p.AttachmentCount)),
		PermissionsBoundaryUsageCount: int(aws.ToInt32(p.PermissionsBoundaryUsageCount)),
		IsAttachable:                  p.IsAttachable, Description: str(p.Description),
		CreateDate: date(p.CreateDate), UpdateDate: optDate(p.UpdateDate),
	}
}

func attachedOf(list []types.AttachedPolicy) []api.AttachedPolicy {
	return convertAll(list, func(p *types.AttachedPolicy) api.AttachedPolicy {
		return api.AttachedPolicy{PolicyName: str(p.PolicyName), PolicyArn: str(p.PolicyArn)}
	})
}

func accessKeyOf(k *types.AccessKeyMetadata) api.AccessKey {
	return api.AccessKey{UserName: str(k.UserName), AccessKeyID: str(k.AccessKeyId), Status: string(k.Status), CreateDate: date(k.CreateDate)}
}

func mfaDeviceOf(d *types.MFADevice) api.MFADevice {
	return api.MFADevice{UserName: str(d.UserName), SerialNumber: str(d.SerialNumber), EnableDate: date(d.EnableDate)}
}

func instanceProfileOf(p *types.InstanceProfile) api.InstanceProfile {
	return api.InstanceProfile{
		InstanceProfileName: str(p.InstanceProfileName), InstanceProfileID: str(p.InstanceProfileId),
		Arn: str(p.Arn), Path: str(p.Path), CreateDate: date(p.CreateDate),
		Roles: convertAll(p.Roles, func(r *types.Role) string { return str(r.RoleName) }),
	}
}

func versionOf(v *types.PolicyVersion) api.PolicyVersion {
	return api.PolicyVersion{VersionID: str(v.VersionId), IsDefaultVersion: v.IsDefaultVersion, CreateDate: date(v.CreateDate), Document: decodeDocument(v.Document)}
}

// page builds the catalogue's paging state from IAM's.
func page(truncated bool, marker *string) api.Page {
	if !truncated {
		return api.Page{}
	}
	return api.Page{IsTruncated: true, Marker: str(marker)}
}

func jsonString(s string) ([]byte, error) { return json.Marshal(s) }

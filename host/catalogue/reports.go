package catalogue

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// Account reports: the bulk reads an access review is built on, so that its
// IAM calls grow with result pages rather than with principals — the whole
// account's authorization details, the credential report, the password
// policy, the account summary and service last accessed — and the policy
// reads its evidence needs (one version of a policy, who a policy is
// attached to).

func init() {
	implement("get_account_authorization_details", getAccountAuthorizationDetails)
	implement("generate_credential_report", generateCredentialReport)
	implement("get_credential_report", getCredentialReport)
	implement("get_account_password_policy", getAccountPasswordPolicy)
	implement("get_account_summary", getAccountSummary)
	implement("generate_service_last_accessed_details", generateServiceLastAccessedDetails)
	implement("get_service_last_accessed_details", getServiceLastAccessedDetails)
	implement("list_entities_for_policy", listEntitiesForPolicy)
	implement("get_policy_version", getPolicyVersion)
}

// ---- authorization details ----

// entityTypes are IAM's EntityType values, which filter both
// GetAccountAuthorizationDetails and ListEntitiesForPolicy.
var entityTypes = []string{"User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"}

func getAccountAuthorizationDetails(ctx context.Context, c *Catalogue, in *api.AuthorizationDetailsInput) (*api.AuthorizationDetailsOutput, error) {
	// validate does not look inside lists of strings, and IAM's own answer
	// to a bad value is an enum dump that does not say which value was bad.
	filter := make([]types.EntityType, 0, len(in.Filter))
	for _, f := range in.Filter {
		if !contains(entityTypes, f) {
			return nil, api.Errorf(api.InvalidInput, "argument \"filter\" contains %q: each value must be one of %s (they are case-sensitive)", f, strings.Join(entityTypes, ", "))
		}
		filter = append(filter, types.EntityType(f))
	}
	out, err := c.clients.IAM.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{
		Filter: filter, MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
	})
	if err != nil {
		return nil, err
	}
	// Every list is present even when empty, so that a plugin can range
	// over each without checking for null.
	return &api.AuthorizationDetailsOutput{
		Users:    convertAll(out.UserDetailList, userDetailOf),
		Groups:   convertAll(out.GroupDetailList, groupDetailOf),
		Roles:    convertAll(out.RoleDetailList, roleDetailOf),
		Policies: convertAll(out.Policies, managedPolicyDetailOf),
		Page:     page(out.IsTruncated, out.Marker),
	}, nil
}

// The details below are converted by the conversions of the entities they
// carry (convert.go), given the fields the details have, so that a user in
// a report has the shape of a user from get_user.

func inlinePolicyOf(p *types.PolicyDetail) api.InlinePolicy {
	return api.InlinePolicy{PolicyName: str(p.PolicyName), PolicyDocument: decodeDocument(p.PolicyDocument)}
}

func userDetailOf(u *types.UserDetail) api.UserDetail {
	groups := u.GroupList
	if groups == nil {
		groups = []string{}
	}
	return api.UserDetail{
		User: userOf(&types.User{
			UserName: u.UserName, UserId: u.UserId, Arn: u.Arn, Path: u.Path, CreateDate: u.CreateDate,
			PermissionsBoundary: u.PermissionsBoundary, Tags: u.Tags,
		}),
		Groups:           groups,
		AttachedPolicies: attachedOf(u.AttachedManagedPolicies),
		InlinePolicies:   convertAll(u.UserPolicyList, inlinePolicyOf),
	}
}

func groupDetailOf(g *types.GroupDetail) api.GroupDetail {
	return api.GroupDetail{
		Group:            groupOf(&types.Group{GroupName: g.GroupName, GroupId: g.GroupId, Arn: g.Arn, Path: g.Path, CreateDate: g.CreateDate}),
		AttachedPolicies: attachedOf(g.AttachedManagedPolicies),
		InlinePolicies:   convertAll(g.GroupPolicyList, inlinePolicyOf),
	}
}

func roleDetailOf(r *types.RoleDetail) api.RoleDetail {
	return api.RoleDetail{
		Role: roleOf(&types.Role{
			RoleName: r.RoleName, RoleId: r.RoleId, Arn: r.Arn, Path: r.Path, CreateDate: r.CreateDate,
			AssumeRolePolicyDocument: r.AssumeRolePolicyDocument, PermissionsBoundary: r.PermissionsBoundary,
			RoleLastUsed: r.RoleLastUsed, Tags: r.Tags,
		}),
		AttachedPolicies: attachedOf(r.AttachedManagedPolicies),
		InlinePolicies:   convertAll(r.RolePolicyList, inlinePolicyOf),
		InstanceProfiles: convertAll(r.InstanceProfileList, func(p *types.InstanceProfile) string { return str(p.InstanceProfileName) }),
	}
}

func managedPolicyDetailOf(p *types.ManagedPolicyDetail) api.ManagedPolicyDetail {
	return api.ManagedPolicyDetail{
		ManagedPolicy: policyOf(&types.Policy{
			PolicyName: p.PolicyName, PolicyId: p.PolicyId, Arn: p.Arn, Path: p.Path, DefaultVersionId: p.DefaultVersionId,
			AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount,
			IsAttachable: p.IsAttachable, Description: p.Description, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
		}),
		Versions: convertAll(p.PolicyVersionList, versionOf),
	}
}

// ---- credential report ----

// generateCredentialReport is not a mutation, whatever its verb: IAM rates
// GenerateCredentialReport a read (it only refreshes a report of what is
// already there), so the review may run it under --readonly.
func generateCredentialReport(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.GenerateCredentialReportOutput, error) {
	out, err := c.clients.IAM.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
	if err != nil {
		return nil, err
	}
	return &api.GenerateCredentialReportOutput{State: string(out.State), Description: str(out.Description)}, nil
}

// reportErrors are IAM's three answers for a report that cannot be read
// yet, each turned into what to do about it. They are NoSuchEntity: in every
// case there is no report to read now, and the remedy is the same call.
var reportErrors = map[string]string{
	"ReportNotPresent": "no credential report exists yet: call generate_credential_report, then get_credential_report again",
	"ReportExpired":    "the credential report is more than 4 hours old and IAM no longer serves it: call generate_credential_report to build a fresh one, then get_credential_report again",
	"ReportInProgress": "IAM is still building the credential report: call generate_credential_report again until its state is COMPLETE, then get_credential_report",
}

func getCredentialReport(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.CredentialReportOutput, error) {
	out, err := c.clients.IAM.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	if err != nil {
		for code, msg := range reportErrors {
			if isCode(err, code) {
				return nil, api.Errorf(api.NoSuchEntity, "%s (IAM answered %s)", msg, code)
			}
		}
		return nil, err
	}
	rows, err := parseCredentialReport(out.Content)
	if err != nil {
		return nil, api.Errorf(api.ServiceFailure, "IAM's credential report could not be read: %v; generate it again with generate_credential_report", err)
	}
	return &api.CredentialReportOutput{GeneratedTime: date(out.GeneratedTime), Rows: rows}, nil
}

// parseCredentialReport reads IAM's CSV by column name, not position, so
// that a column IAM adds one day shifts nothing.
func parseCredentialReport(content []byte) ([]api.CredentialReportRow, error) {
	r := csv.NewReader(bytes.NewReader(content))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return []api.CredentialReportRow{}, nil
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.TrimSpace(name)] = i
	}
	for _, need := range []string{"user", "arn"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("it has no %q column (columns: %s)", need, strings.Join(header, ","))
		}
	}
	rows := []api.CredentialReportRow{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, credentialReportRow(func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}))
	}
}

func credentialReportRow(field func(string) string) api.CredentialReportRow {
	row := api.CredentialReportRow{
		User: field("user"), Arn: field("arn"),
		UserCreationTime:     reportTime(field("user_creation_time")),
		PasswordEnabled:      reportBool(field("password_enabled")),
		PasswordLastUsed:     reportTime(field("password_last_used")),
		PasswordLastChanged:  reportTime(field("password_last_changed")),
		PasswordNextRotation: reportTime(field("password_next_rotation")),
		MFAActive:            reportBool(field("mfa_active")),
		AccessKeys:           []api.CredentialReportKey{},
		Certificates:         []api.CredentialReportCert{},
	}
	// A slot exists when it has a rotation date: IAM writes false and N/A
	// in every column of a slot without a key or certificate.
	for slot := 1; slot <= 2; slot++ {
		p := "access_key_" + strconv.Itoa(slot) + "_"
		if rotated := reportTime(field(p + "last_rotated")); rotated != nil {
			row.AccessKeys = append(row.AccessKeys, api.CredentialReportKey{
				Slot: slot, Active: reportBool(field(p + "active")), LastRotated: rotated,
				LastUsedDate:    reportTime(field(p + "last_used_date")),
				LastUsedRegion:  reportText(field(p + "last_used_region")),
				LastUsedService: reportText(field(p + "last_used_service")),
			})
		}
	}
	for slot := 1; slot <= 2; slot++ {
		p := "cert_" + strconv.Itoa(slot) + "_"
		if rotated := reportTime(field(p + "last_rotated")); rotated != nil {
			row.Certificates = append(row.Certificates, api.CredentialReportCert{Slot: slot, Active: reportBool(field(p + "active")), LastRotated: rotated})
		}
	}
	return row
}

// reportTime reads a report date. IAM writes N/A (no such credential),
// no_information (a password never used, or used before IAM tracked it) and
// not_supported (what the root row cannot have) instead of a date; those,
// and anything else that is not a date, are absent rather than a zero time
// that a reader would take for a real one.
func reportTime(v string) *time.Time {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(v))
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

// reportBool reads true/false; not_supported (the root's password_enabled)
// and anything else read as false.
func reportBool(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// reportText drops IAM's N/A, which the catalogue's omitted field says.
func reportText(v string) string {
	switch v = strings.TrimSpace(v); v {
	case "N/A", "no_information", "not_supported":
		return ""
	}
	return v
}

// ---- password policy and summary ----

// getAccountPasswordPolicy answers "none" as a result, not an error: an
// account without a password policy is a finding for a review, and IAM's
// NoSuchEntity for it is indistinguishable from a failure to a caller that
// only sees an error code.
func getAccountPasswordPolicy(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.PasswordPolicyOutput, error) {
	out, err := c.clients.IAM.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return &api.PasswordPolicyOutput{Present: false}, nil
		}
		return nil, err
	}
	p := out.PasswordPolicy
	return &api.PasswordPolicyOutput{Present: true, PasswordPolicy: &api.PasswordPolicy{
		MinimumPasswordLength:      int(aws.ToInt32(p.MinimumPasswordLength)),
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		ExpirePasswords:            p.ExpirePasswords,
		MaxPasswordAge:             int(aws.ToInt32(p.MaxPasswordAge)),
		PasswordReusePrevention:    int(aws.ToInt32(p.PasswordReusePrevention)),
		HardExpiry:                 aws.ToBool(p.HardExpiry),
	}}, nil
}

func getAccountSummary(ctx context.Context, c *Catalogue, _ *api.Empty) (*api.AccountSummaryOutput, error) {
	out, err := c.clients.IAM.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(out.SummaryMap))
	for k, v := range out.SummaryMap {
		m[k] = int(v)
	}
	return &api.AccountSummaryOutput{Summary: m}, nil
}

// ---- service last accessed ----

// generateServiceLastAccessedDetails is a read like generate_credential_report:
// IAM rates it so, and it changes nothing but starts a report job.
func generateServiceLastAccessedDetails(ctx context.Context, c *Catalogue, in *api.GenerateServiceLastAccessedInput) (*api.GenerateServiceLastAccessedOutput, error) {
	out, err := c.clients.IAM.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String(in.Arn), Granularity: types.AccessAdvisorUsageGranularityType(in.Granularity),
	})
	if err != nil {
		return nil, err
	}
	return &api.GenerateServiceLastAccessedOutput{JobID: str(out.JobId)}, nil
}

func getServiceLastAccessedDetails(ctx context.Context, c *Catalogue, in *api.GetServiceLastAccessedInput) (*api.ServiceLastAccessedOutput, error) {
	out, err := c.clients.IAM.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{
		JobId: aws.String(in.JobID), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
	})
	if err != nil {
		if isCode(err, "NoSuchEntity") {
			return nil, api.Errorf(api.NoSuchEntity, "%s Job ids are valid only for a while and only for the credentials that started the job; start a new one with generate_service_last_accessed_details.", asAPIError(err).Message)
		}
		return nil, err
	}
	res := &api.ServiceLastAccessedOutput{
		JobStatus:            string(out.JobStatus),
		JobCompletionDate:    optDate(out.JobCompletionDate),
		ServicesLastAccessed: convertAll(out.ServicesLastAccessed, serviceLastAccessedOf),
		Page:                 page(out.IsTruncated, out.Marker),
	}
	if e := out.Error; e != nil {
		res.Error = str(e.Code) + ": " + str(e.Message)
	}
	return res, nil
}

func serviceLastAccessedOf(s *types.ServiceLastAccessed) api.ServiceLastAccessed {
	return api.ServiceLastAccessed{
		ServiceName: str(s.ServiceName), ServiceNamespace: str(s.ServiceNamespace),
		LastAuthenticated:          optDate(s.LastAuthenticated),
		LastAuthenticatedEntity:    str(s.LastAuthenticatedEntity),
		LastAuthenticatedRegion:    str(s.LastAuthenticatedRegion),
		TotalAuthenticatedEntities: int(aws.ToInt32(s.TotalAuthenticatedEntities)),
	}
}

// ---- a policy's users and versions ----

func listEntitiesForPolicy(ctx context.Context, c *Catalogue, in *api.ListEntitiesForPolicyInput) (*api.EntitiesForPolicyOutput, error) {
	out, err := c.clients.IAM.ListEntitiesForPolicy(ctx, &iam.ListEntitiesForPolicyInput{
		PolicyArn: aws.String(in.PolicyArn), EntityFilter: types.EntityType(in.EntityFilter), PathPrefix: optStr(in.PathPrefix),
		PolicyUsageFilter: types.PolicyUsageType(in.PolicyUsageFilter), MaxItems: optInt32(in.MaxItems), Marker: optStr(in.Marker),
	})
	if err != nil {
		return nil, err
	}
	return &api.EntitiesForPolicyOutput{
		Users:  convertAll(out.PolicyUsers, func(u *types.PolicyUser) string { return str(u.UserName) }),
		Groups: convertAll(out.PolicyGroups, func(g *types.PolicyGroup) string { return str(g.GroupName) }),
		Roles:  convertAll(out.PolicyRoles, func(r *types.PolicyRole) string { return str(r.RoleName) }),
		Page:   page(out.IsTruncated, out.Marker),
	}, nil
}

func getPolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*api.PolicyVersionOutput, error) {
	out, err := c.clients.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)})
	if err != nil {
		return nil, err
	}
	return &api.PolicyVersionOutput{PolicyArn: in.PolicyArn, Version: versionOf(out.PolicyVersion)}, nil
}

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
	res := &api.AuthorizationDetailsOutput{
		Users:    make([]api.UserDetail, 0, len(out.UserDetailList)),
		Groups:   make([]api.GroupDetail, 0, len(out.GroupDetailList)),
		Roles:    make([]api.RoleDetail, 0, len(out.RoleDetailList)),
		Policies: make([]api.ManagedPolicyDetail, 0, len(out.Policies)),
		Page:     page(out.IsTruncated, out.Marker),
	}
	for i := range out.UserDetailList {
		res.Users = append(res.Users, userDetailOf(&out.UserDetailList[i]))
	}
	for i := range out.GroupDetailList {
		res.Groups = append(res.Groups, groupDetailOf(&out.GroupDetailList[i]))
	}
	for i := range out.RoleDetailList {
		res.Roles = append(res.Roles, roleDetailOf(&out.RoleDetailList[i]))
	}
	for i := range out.Policies {
		res.Policies = append(res.Policies, managedPolicyDetailOf(&out.Policies[i]))
	}
	return res, nil
}

func inlinePoliciesOf(list []types.PolicyDetail) []api.InlinePolicy {
	out := make([]api.InlinePolicy, 0, len(list))
	for _, p := range list {
		out = append(out, api.InlinePolicy{PolicyName: str(p.PolicyName), PolicyDocument: decodeDocument(p.PolicyDocument)})
	}
	return out
}

func userDetailOf(u *types.UserDetail) api.UserDetail {
	groups := u.GroupList
	if groups == nil {
		groups = []string{}
	}
	return api.UserDetail{
		User: api.User{
			UserName: str(u.UserName), UserID: str(u.UserId), Arn: str(u.Arn), Path: str(u.Path),
			CreateDate: date(u.CreateDate), PermissionsBoundary: boundaryARN(u.PermissionsBoundary), Tags: tagMap(u.Tags),
		},
		Groups:           groups,
		AttachedPolicies: attachedOf(u.AttachedManagedPolicies),
		InlinePolicies:   inlinePoliciesOf(u.UserPolicyList),
	}
}

func groupDetailOf(g *types.GroupDetail) api.GroupDetail {
	return api.GroupDetail{
		Group:            api.Group{GroupName: str(g.GroupName), GroupID: str(g.GroupId), Arn: str(g.Arn), Path: str(g.Path), CreateDate: date(g.CreateDate)},
		AttachedPolicies: attachedOf(g.AttachedManagedPolicies),
		InlinePolicies:   inlinePoliciesOf(g.GroupPolicyList),
	}
}

func roleDetailOf(r *types.RoleDetail) api.RoleDetail {
	role := api.Role{
		RoleName: str(r.RoleName), RoleID: str(r.RoleId), Arn: str(r.Arn), Path: str(r.Path), CreateDate: date(r.CreateDate),
		AssumeRolePolicyDocument: decodeDocument(r.AssumeRolePolicyDocument),
		PermissionsBoundary:      boundaryARN(r.PermissionsBoundary), Tags: tagMap(r.Tags),
	}
	if r.RoleLastUsed != nil {
		role.LastUsedDate = optDate(r.RoleLastUsed.LastUsedDate)
		role.LastUsedRegion = str(r.RoleLastUsed.Region)
	}
	profiles := make([]string, 0, len(r.InstanceProfileList))
	for _, p := range r.InstanceProfileList {
		profiles = append(profiles, str(p.InstanceProfileName))
	}
	return api.RoleDetail{
		Role:             role,
		AttachedPolicies: attachedOf(r.AttachedManagedPolicies),
		InlinePolicies:   inlinePoliciesOf(r.RolePolicyList),
		InstanceProfiles: profiles,
	}
}

func managedPolicyDetailOf(p *types.ManagedPolicyDetail) api.ManagedPolicyDetail {
	versions := make([]api.PolicyVersion, 0, len(p.PolicyVersionList))
	for i := range p.PolicyVersionList {
		versions = append(versions, versionOf(&p.PolicyVersionList[i]))
	}
	return api.ManagedPolicyDetail{
		ManagedPolicy: api.ManagedPolicy{
			PolicyName: str(p.PolicyName), PolicyID: str(p.PolicyId), Arn: str(p.Arn), Path: str(p.Path),
			DefaultVersionID: str(p.DefaultVersionId), AttachmentCount: int(aws.ToInt32(p.AttachmentCount)),
			PermissionsBoundaryUsageCount: int(aws.ToInt32(p.PermissionsBoundaryUsageCount)),
			IsAttachable:                  p.IsAttachable, Description: str(p.Description),
			CreateDate: date(p.CreateDate), UpdateDate: optDate(p.UpdateDate),
		},
		Versions: versions,
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
		ServicesLastAccessed: make([]api.ServiceLastAccessed, 0, len(out.ServicesLastAccessed)),
		Page:                 page(out.IsTruncated, out.Marker),
	}
	if e := out.Error; e != nil {
		res.Error = str(e.Code) + ": " + str(e.Message)
	}
	for _, s := range out.ServicesLastAccessed {
		res.ServicesLastAccessed = append(res.ServicesLastAccessed, api.ServiceLastAccessed{
			ServiceName: str(s.ServiceName), ServiceNamespace: str(s.ServiceNamespace),
			LastAuthenticated:          optDate(s.LastAuthenticated),
			LastAuthenticatedEntity:    str(s.LastAuthenticatedEntity),
			LastAuthenticatedRegion:    str(s.LastAuthenticatedRegion),
			TotalAuthenticatedEntities: int(aws.ToInt32(s.TotalAuthenticatedEntities)),
		})
	}
	return res, nil
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
	res := &api.EntitiesForPolicyOutput{
		Users:  make([]string, 0, len(out.PolicyUsers)),
		Groups: make([]string, 0, len(out.PolicyGroups)),
		Roles:  make([]string, 0, len(out.PolicyRoles)),
		Page:   page(out.IsTruncated, out.Marker),
	}
	for _, u := range out.PolicyUsers {
		res.Users = append(res.Users, str(u.UserName))
	}
	for _, g := range out.PolicyGroups {
		res.Groups = append(res.Groups, str(g.GroupName))
	}
	for _, r := range out.PolicyRoles {
		res.Roles = append(res.Roles, str(r.RoleName))
	}
	return res, nil
}

func getPolicyVersion(ctx context.Context, c *Catalogue, in *api.PolicyVersionInput) (*api.PolicyVersionOutput, error) {
	out, err := c.clients.IAM.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(in.PolicyArn), VersionId: aws.String(in.VersionID)})
	if err != nil {
		return nil, err
	}
	return &api.PolicyVersionOutput{PolicyArn: in.PolicyArn, Version: versionOf(out.PolicyVersion)}, nil
}

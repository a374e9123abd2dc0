package catalogue

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// awsCodes maps IAM's (and STS's) error codes to the catalogue's, with what
// the caller can do about each.
var awsCodes = map[string]struct {
	code api.ErrorCode
	hint string
}{
	"NoSuchEntity":                  {api.NoSuchEntity, "Check the name or ARN (list the entities to see what exists)."},
	"EntityAlreadyExists":           {api.EntityAlreadyExists, "Choose another name (IAM names are case-insensitive) or use the existing entity."},
	"DeleteConflict":                {api.DeleteConflict, "Remove what depends on it first, or use force=true where the tool offers it."},
	"LimitExceeded":                 {api.LimitExceeded, "Remove something first (an old key, version or attachment), or ask AWS for a higher quota."},
	"MalformedPolicyDocument":       {api.MalformedPolicyDocument, "Fix the policy document: it needs Version 2012-10-17 and Statement entries with Effect, Action and Resource (and Principal for trust policies)."},
	"AccessDenied":                  {api.AccessDenied, "The server's AWS credentials lack this permission; run `iam-mcp-server policy` for the policy it needs."},
	"AccessDeniedException":         {api.AccessDenied, "The server's AWS credentials lack this permission; run `iam-mcp-server policy` for the policy it needs."},
	"Throttling":                    {api.Throttled, "IAM is rate-limiting this account; wait a little and try again."},
	"ThrottlingException":           {api.Throttled, "IAM is rate-limiting this account; wait a little and try again."},
	"ValidationError":               {api.InvalidInput, "Fix the argument IAM names."},
	"InvalidInput":                  {api.InvalidInput, "Fix the argument IAM names."},
	"PasswordPolicyViolation":       {api.InvalidInput, "Choose a password that satisfies the account password policy."},
	"InvalidAuthenticationCode":     {api.InvalidInput, "Use two consecutive codes from the MFA device."},
	"UnmodifiableEntity":            {api.InvalidInput, "Service-linked entities can only be changed by their service."},
	"EntityTemporarilyUnmodifiable": {api.ServiceFailure, "IAM is still applying a change to it; try again in a few seconds."},
	"ConcurrentModification":        {api.ServiceFailure, "Someone changed it at the same time; read it again and retry."},
	"ServiceFailure":                {api.ServiceFailure, "IAM failed; try again, and check the AWS Health Dashboard if it persists."},
	"InternalFailure":               {api.ServiceFailure, "IAM failed; try again, and check the AWS Health Dashboard if it persists."},
	"InvalidClientTokenId":          {api.CredentialsError, "The AWS access key is not valid; check the profile or environment the server uses."},
	"UnrecognizedClientException":   {api.CredentialsError, "The AWS access key is not valid; check the profile or environment the server uses."},
	"SignatureDoesNotMatch":         {api.CredentialsError, "The AWS secret key does not match the key id; check the server's credentials."},
	"ExpiredToken":                  {api.CredentialsError, "The AWS session has expired; refresh the credentials (e.g. aws sso login) and restart the server."},
	"ExpiredTokenException":         {api.CredentialsError, "The AWS session has expired; refresh the credentials (e.g. aws sso login) and restart the server."},
}

// asAPIError turns any error from an implementation into an *api.Error.
// Errors that already are one pass through; AWS errors keep IAM's message
// and gain the catalogue's code and a hint; anything else is a failure to
// reach IAM or to find credentials.
func asAPIError(err error) *api.Error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	var se smithy.APIError
	if errors.As(err, &se) {
		m, ok := awsCodes[se.ErrorCode()]
		if !ok {
			code := api.InvalidInput
			if se.ErrorFault() == smithy.FaultServer {
				code = api.ServiceFailure
			}
			return api.Errorf(code, "IAM answered %s: %s", se.ErrorCode(), se.ErrorMessage())
		}
		return api.Errorf(m.code, "IAM answered %s: %s. %s", se.ErrorCode(), strings.TrimSuffix(se.ErrorMessage(), "."), m.hint)
	}
	if errors.Is(err, context.Canceled) {
		return api.Errorf(api.ServiceFailure, "the call was cancelled before IAM answered")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return api.Errorf(api.ServiceFailure, "IAM did not answer in time; try again")
	}
	msg := err.Error()
	if strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "credentials") && strings.Contains(msg, "not found") {
		return api.Errorf(api.CredentialsError, "no usable AWS credentials: %v. Set AWS_PROFILE (or --profile), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run on an instance with a role; or use --sandbox for the embedded sandbox", err)
	}
	return api.Errorf(api.ServiceFailure, "could not reach IAM: %v", err)
}

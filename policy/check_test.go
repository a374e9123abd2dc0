package policy

import (
	"errors"
	"strings"
	"testing"
)

// stmt wraps statement JSON in a 2012-10-17 document.
func stmt(statements string) string {
	return `{"Version":"2012-10-17","Statement":` + statements + `}`
}

const (
	okRes   = `"Resource":"arn:aws:s3:::example_bucket"`
	okAllow = `"Effect":"Allow","Action":"s3:ListBucket",` + okRes
)

func TestCheckIAM(t *testing.T) {
	const (
		partitionMsg = `Partition "%s" is not valid for resource "%s".`
		iamPathMsg   = `IAM resource path must either be "*", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.`
	)
	trustOK := `"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"`
	tests := []struct {
		name string
		kind Kind
		doc  string
		want string // "" = valid
	}{
		// Valid documents.
		{"minimal identity policy", Identity, stmt(`{` + okAllow + `}`), ""},
		{"statement list", Identity, stmt(`[{` + okAllow + `},{"Effect":"Deny","NotAction":"s3:Delete*","NotResource":"*"}]`), ""},
		{"no Version (inline policies may omit it)", Identity, `{"Statement":{` + okAllow + `}}`, ""},
		{"Version 2008-10-17", Identity, `{"Version":"2008-10-17","Statement":{` + okAllow + `}}`, ""},
		{"Id", Identity, `{"Version":"2012-10-17","Id":"x","Statement":{` + okAllow + `}}`, ""},
		{"action name is not checked beyond the colon", Identity, stmt(`{"Effect":"Allow","Action":"iam: asdf safdsf af ",` + okRes + `}`), ""},
		{"vendors with - and .", Identity, stmt(`{"Effect":"Allow","Action":["s3-s:ListBucket","s3.s:ListBucket","*"],` + okRes + `}`), ""},
		{"policy variables", Identity, stmt(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::*:user/${aws:username}"}`), ""},
		{"IAM root", Identity, stmt(`{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::123456789012:root"}`), ""},
		{"regional ARN of another service", Identity, stmt(`{"Effect":"Allow","Action":"ec2:*","Resource":"arn:aws:ec2:us-east-1::x"}`), ""},
		{"S3 access point may carry a region", Identity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:us-east-1:123456789012:accesspoint/ap"}`), ""},
		{"short ARN without ::", Identity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:fdsasf"}`), ""},
		{"empty Condition", Identity, stmt(`{` + okAllow + `,"Condition":{}}`), ""},
		{"unknown operator with nothing under it", Identity, stmt(`{` + okAllow + `,"Condition":{"x":{},"y":{}}}`), ""},
		{"known operators with qualifiers", Identity, stmt(`{` + okAllow + `,"Condition":{"ForAnyValue:StringEqualsIfExists":{"a":"asf"},"ForAllValues:StringEquals":{"aws:TagKeys":"Department"},"BoolIfExists":{"aws:MultiFactorAuthPresent":false}}}`), ""},
		{"valid dates", Identity, stmt(`{` + okAllow + `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":["2017-07-01T00:00:00Z","01T","2016-12-13t2:00:00.593194+23","2016-12-13T21:20:37.593194+00:00","-292275054","1500000000"]}}}`), ""},
		{"empty date list", Identity, stmt(`{` + okAllow + `,"Condition":{"DateGreaterThan":{"a":[]}}}`), ""},
		{"empty Sids are not duplicates", Identity, stmt(`[{"Sid":"",` + okAllow + `},{"Sid":"",` + okAllow + `}]`), ""},
		{"boundary", Boundary, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), ""},
		{"trust policy", Trust, stmt(`{` + trustOK + `}`), ""},
		{"trust policy with AWS, Federated and wildcard principals", Trust, stmt(`[
			{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","123456789012","arn:aws:iam::123456789012:role/x/y"]},"Action":["sts:AssumeRole","sts:TagSession"]},
			{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"},
			{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"},
			{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]`), ""},
		{"resource policy", Resource, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), ""},

		// 1. Syntax errors.
		{"not JSON", Identity, `This is not a json document`, msgSyntax},
		{"JSON but not an object", Identity, `[]`, msgSyntax},
		{"no Statement", Identity, `{"Version":"2012-10-17"}`, msgSyntax},
		{"empty Statement", Identity, stmt(`[]`), msgSyntax},
		{"statement not an object", Identity, stmt(`["afd"]`), msgSyntax},
		{"unknown top-level element", Identity, `{"Version":"2012-10-17","Statement":{` + okAllow + `},"Extra field":"value"}`, msgSyntax},
		{"unknown statement element", Identity, stmt(`{` + okAllow + `,"Extra field":"value"}`), msgSyntax},
		{"Id a list", Identity, `{"Version":"2012-10-17","Id":["x"],"Statement":{` + okAllow + `}}`, msgSyntax},
		{"unknown Version", Identity, `{"Version":"2013-10-17","Statement":{` + okAllow + `}}`, msgSyntax},
		{"empty Version", Identity, `{"Version":"","Statement":{` + okAllow + `}}`, msgSyntax},
		{"Effect missing", Identity, stmt(`{"Action":"s3:ListBucket",` + okRes + `}`), msgSyntax},
		{"Effect invalid", Identity, stmt(`{"Effect":"invalid","Action":"s3:ListBucket",` + okRes + `}`), msgSyntax},
		{"Action and NotAction", Identity, stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Action":"iam:dsf",` + okRes + `}`), msgSyntax},
		{"Resource and NotResource", Identity, stmt(`{` + okAllow + `,"NotResource":"*"}`), msgSyntax},
		{"Principal and NotPrincipal", Resource, stmt(`{` + okAllow + `,"Principal":"*","NotPrincipal":"*"}`), msgSyntax},
		{"Action an object", Identity, stmt(`{"Effect":"Allow","Action":{},` + okRes + `}`), msgSyntax},
		{"Resource with an object", Identity, stmt(`{"Effect":"Deny","Action":"s3:ListBucket","Resource":["adfdf",{}]}`), msgSyntax},
		{"Sid an object", Identity, stmt(`{"Sid":{},` + okAllow + `}`), msgSyntax},
		{"Condition a list", Identity, stmt(`{` + okAllow + `,"Condition":[]}`), msgSyntax},
		{"Condition operator a string", Identity, stmt(`{` + okAllow + `,"Condition":{"DateGreaterThan":"b"}}`), msgSyntax},
		{"Condition value an object", Identity, stmt(`{` + okAllow + `,"Condition":{"DateGreaterThan":{"a":{}}}}`), msgSyntax},
		{"unknown operator with keys", Identity, stmt(`{` + okAllow + `,"Condition":{"x":{"a":"1"}}}`), msgSyntax},
		{"malformed qualifier", Identity, stmt(`{` + okAllow + `,"Condition":{"ForAnyValue::StringEqualsIfExists":{"a":"asf"}}}`), msgSyntax},
		{"duplicate JSON key", Identity, stmt(`{"Effect":"Allow","Effect":"Deny","Action":"s3:*",` + okRes + `}`), msgSyntax},

		// Version rule: managed policies only (see TestCheckManagedPolicy).

		// 2. Legacy parsing.
		{"Effect in the wrong case", Identity, stmt(`{"Effect":"denY","Action":"s3:ListBucket",` + okRes + `}`), msgLegacy},
		{"Effect lower case even with other errors", Identity, stmt(`{"Effect":"allow","Resource":"arn:aws:s3:us-east-1::example_bucket"}`), msgLegacy},
		{"unreadable date", Identity, stmt(`{` + okAllow + `,"Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), msgLegacy},
		{"month out of range", Identity, stmt(`{` + okAllow + `,"Condition":{"DateLessThanEquals":{"a":"234-13"}}}`), msgLegacy},
		{"one-digit zone", Identity, stmt(`{` + okAllow + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.593194+1"}}}`), msgLegacy},
		{"too many fraction digits", Identity, stmt(`{` + okAllow + `,"Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.1999999999+10:59"}}}`), msgLegacy},
		{"epoch out of range", Identity, stmt(`{` + okAllow + `,"Condition":{"DateLessThan":{"a":"9223372036854775808"}}}`), msgLegacy},
		{"date under IfExists and a set qualifier", Identity, stmt(`{` + okAllow + `,"Condition":{"ForAnyValue:DateLessThanIfExists":{"a":"soon"}}}`), msgLegacy},
		{"ARN with :: but too few parts", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"}`), msgLegacy},
		{"empty service", Identity, stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"}`), msgLegacy},
		{"legacy NotResource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","NotResource":"arn:aws:s3::example_bucket"}`), msgLegacy},
		{"legacy before missing action", Identity, stmt(`{"Effect":"Allow","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), msgLegacy},

		// 3. Sid uniqueness (before missing actions in a later statement).
		{"duplicate Sid", Identity, stmt(`[{"Sid":"sdf",` + okAllow + `},{"Sid":"sdf","Effect":"Allow"}]`), msgSidUnique},

		// 4. Actions.
		{"no action", Identity, stmt(`{"Effect":"Allow",` + okRes + `}`), msgNoActions},
		{"empty Action list", Identity, stmt(`{"Effect":"Allow","Action":[],` + okRes + `}`), msgNoActions},
		{"only Effect", Identity, stmt(`{"Effect":"Allow"}`), msgNoActions},
		{"first statement without actions", Identity, stmt(`[{"Effect":"Deny"},{` + okAllow + `}]`), msgNoActions},

		// 5. Resource format.
		{"not an ARN", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"}`), `Resource invalid resource must be in ARN format or "*".`},
		{"empty resource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":""}`), `Resource  must be in ARN format or "*".`},
		{"not an ARN in a list", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["adf"]}`), `Resource adf must be in ARN format or "*".`},
		{"resource error before action error", Identity, stmt(`{"Effect":"Allow","Action":"s:3:ListBucket","Resource":"sdfsadf"}`), `Resource sdfsadf must be in ARN format or "*".`},
		{"bad partition, short", Identity, stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:bsdfdsafsad"}`), strings.Replace(strings.Replace(partitionMsg, "%s", "bsdfdsafsad", 1), "%s", "arn:bsdfdsafsad:*:*:*:*", 1)},
		{"bad partition, three parts", Identity, stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:cadfsdf"}`), `Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*".`},
		{"bad partition, many parts", Identity, stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"}`), `Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".`},
		{"missing arn: prefix", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"}`), `Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`},
		{"first bad resource is reported", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]}`), `Partition "error" is not valid for resource "arn:error:s3:::example_bucket".`},
		{"no vendor", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"}`), "Resource vendor must be fully qualified and cannot contain regexes."},
		{"IAM ARN with a region", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"}`), "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."},
		{"S3 ARN with a region", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"}`), "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."},
		{"IAM path", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::example_bucket"}`), iamPathMsg},
		{"resource format after missing actions", Identity, stmt(`[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"adf"},{"Effect":"Allow","Resource":"*"}]`), msgNoActions},

		// 6. Action format.
		{"action without vendor", Identity, stmt(`{"Effect":"Allow","Action":"invalid",` + okRes + `}`), msgNoVendor},
		{"empty NotAction", Identity, stmt(`{"Effect":"Allow","NotAction":"",` + okRes + `}`), msgNoVendor},
		{"two colons", Identity, stmt(`{"Effect":"Allow","Action":"s3:List:Bucket",` + okRes + `}`), msgOneColon},
		{"two colons in a later statement", Identity, stmt(`[{"Effect":"Allow","Action":"s3s:ListBucket",` + okRes + `},{"Effect":"Allow","Action":"s:3s:ListBucket",` + okRes + `}]`), msgOneColon},
		{"vendor with a space", Identity, stmt(`{"Effect":"Allow","Action":"a a:ListBucket",` + okRes + `}`), "Vendor a a is not valid"},
		{"vendor with a wildcard", Identity, stmt(`{"Effect":"Allow","Action":"*:Untag*",` + okRes + `}`), "Vendor * is not valid"},
		{"action format before missing resources", Identity, stmt(`{"Effect":"Allow","Action":"invalid"}`), msgNoVendor},

		// 7. Identity and boundary rules.
		{"no resource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket"}`), msgNoResources},
		{"empty Resource list", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":[]}`), msgNoResources},
		{"principal in an identity policy", Identity, stmt(`{` + okAllow + `,"Principal":{"AWS":"123456789012"}}`), msgNoPrincipalHere},
		{"NotPrincipal in a boundary", Boundary, stmt(`{` + okAllow + `,"NotPrincipal":"*"}`), msgNoPrincipalHere},
		{"boundary needs resources", Boundary, stmt(`{"Effect":"Allow","Action":"s3:*"}`), msgNoResources},

		// 7. Trust rules.
		{"trust action not STS", Trust, stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject"}`), msgTrustActions},
		{"trust NotAction", Trust, stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"NotAction":"s3:GetObject"}`), msgTrustActions},
		{"trust with Resource", Trust, stmt(`{` + trustOK + `,"Resource":"*"}`), msgProhibitedResource},
		{"trust with NotResource", Trust, stmt(`{` + trustOK + `,"NotResource":"*"}`), msgProhibitedResource},
		{"trust without principal", Trust, stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), msgMissingPrincipal},
		{"trust needs actions", Trust, stmt(`{"Effect":"Allow","Principal":"*"}`), msgNoActions},

		// 7. Resource policy rules.
		{"resource policy without principal", Resource, stmt(`{` + okAllow + `}`), msgMissingPrincipal},
		{"resource policy without resource", Resource, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*"}`), msgNoResources},

		// 8. Principal values.
		{"empty principal map", Trust, stmt(`{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}`), msgNoPrincipals},
		{"empty principal list", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}`), msgNoPrincipals},
		{"AWS principal not an ARN", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "AWS":"alice"`},
		{"AWS principal with a wildcard", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*"`},
		{"short account id", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "AWS":"12345"`},
		{"unknown principal type", Trust, stmt(`{"Effect":"Allow","Principal":{"service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "service":"ec2.amazonaws.com"`},
		{"service principal not a host name", Trust, stmt(`{"Effect":"Allow","Principal":{"Service":"ec2"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "Service":"ec2"`},
		{"federated principal of the wrong type", Trust, stmt(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:user/x"},"Action":"sts:AssumeRoleWithSAML"}`), `Invalid principal in policy: "Federated":"arn:aws:iam::123456789012:user/x"`},
		{"bad NotPrincipal in a resource policy", Resource, stmt(`{"Effect":"Deny","NotPrincipal":{"CanonicalUser":"xyz"},"Action":"s3:*","Resource":"*"}`), `Invalid principal in policy: "CanonicalUser":"xyz"`},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String()+"/"+tc.name, func(t *testing.T) {
			err := CheckIAM(tc.doc, tc.kind)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckIAM = %q, want nil", err)
				}
				return
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("CheckIAM = %v (%T), want *MalformedError %q", err, err, tc.want)
			}
			if me.Message != tc.want || err.Error() != tc.want {
				t.Errorf("CheckIAM message\n got %q\nwant %q", me.Message, tc.want)
			}
		})
	}
}

func TestCheckIAMReturnsUntypedNil(t *testing.T) {
	// A nil *MalformedError in an error interface is not nil; make sure the
	// valid case is a true nil.
	if err := CheckIAM(stmt(`{`+okAllow+`}`), Identity); err != nil {
		t.Fatalf("got %#v", err)
	}
	if err := CheckManagedPolicy(stmt(`{`+okAllow+`}`), Identity); err != nil {
		t.Fatalf("got %#v", err)
	}
}

func TestCheckManagedPolicy(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"2012-10-17", stmt(`{` + okAllow + `}`), ""},
		{"no Version", `{"Statement":{` + okAllow + `}}`, msgVersion2012},
		{"2008-10-17", `{"Version":"2008-10-17","Statement":{` + okAllow + `}}`, msgVersion2012},
		{"version before legacy parsing", `{"Statement":{"Effect":"denY","Action":"s3:ListBucket",` + okRes + `}}`, msgVersion2012},
		{"version before Sid uniqueness", `{"Statement":[{"Sid":"a",` + okAllow + `},{"Sid":"a",` + okAllow + `}]}`, msgVersion2012},
		{"syntax before version", `{"Version":"2013-10-17","Statement":{` + okAllow + `}}`, msgSyntax},
		{"other checks still apply", stmt(`{"Effect":"Allow","Action":"s3:ListBucket"}`), msgNoResources},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckManagedPolicy(tc.doc, Identity)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	compact := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	pretty := "{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": {\n\t\t\"Effect\": \"Allow\",\r\n\t\t\"Action\": \"s3:*\",\n\t\t\"Resource\": \"*\"\n\t}\n}\n"
	tests := []struct {
		name string
		doc  string
		want int
	}{
		{"empty", "", 0},
		{"only whitespace", " \t\r\n\v\f\u00a0\u2003", 0},
		{"compact", compact, len(compact)},
		{"pretty-printed counts the same", pretty, len(compact)},
		{"whitespace inside strings is ignored too", `{"Sid":"a b"}`, len(`{"Sid":"ab"}`)},
		{"characters, not bytes", `"été→"`, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Size(tc.doc); got != tc.want {
				t.Errorf("Size = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Identity: "identity", Trust: "trust", Boundary: "boundary", Resource: "resource", Kind(9): "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q, want %q", int(k), got, want)
		}
	}
}

package policy

import (
	"testing"
	"time"
)

type ctxMap = map[string][]string

// condAllows reports whether an Allow statement with the given Condition
// element matches a request with the given context.
func condAllows(t *testing.T, condition string, ctx ctxMap) bool {
	t.Helper()
	d := mustParse(t, pol(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":`+condition+`}`))
	r := Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: "s3:GetObject", Resource: "*", Context: ctx})
	return r.Decision == Allowed
}

func TestConditionOperators(t *testing.T) {
	none := ctxMap{}
	tests := []struct {
		name string
		cond string
		ctx  ctxMap
		want bool
	}{
		// String.
		{"StringEquals match", `{"StringEquals":{"aws:username":"alice"}}`, ctxMap{"aws:username": {"alice"}}, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"aws:username":"alice"}}`, ctxMap{"aws:username": {"Alice"}}, false},
		{"StringEquals key name is case-insensitive", `{"StringEquals":{"AWS:UserName":"alice"}}`, ctxMap{"aws:username": {"alice"}}, true},
		{"StringEquals ORs policy values", `{"StringEquals":{"aws:username":["bob","alice"]}}`, ctxMap{"aws:username": {"alice"}}, true},
		{"StringEquals missing key", `{"StringEquals":{"aws:username":"alice"}}`, none, false},
		{"StringEquals does not glob", `{"StringEquals":{"aws:username":"al*"}}`, ctxMap{"aws:username": {"alice"}}, false},
		{"StringNotEquals different", `{"StringNotEquals":{"aws:username":"bob"}}`, ctxMap{"aws:username": {"alice"}}, true},
		{"StringNotEquals same", `{"StringNotEquals":{"aws:username":["bob","alice"]}}`, ctxMap{"aws:username": {"alice"}}, false},
		{"StringNotEquals missing key is true", `{"StringNotEquals":{"aws:username":"bob"}}`, none, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctxMap{"aws:username": {"alice"}}, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, ctxMap{"aws:username": {"alice"}}, false},
		{"StringNotEqualsIgnoreCase missing key", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, none, true},
		{"StringLike *", `{"StringLike":{"s3:prefix":"home/*"}}`, ctxMap{"s3:prefix": {"home/alice/x"}}, true},
		{"StringLike ?", `{"StringLike":{"s3:prefix":"a?c"}}`, ctxMap{"s3:prefix": {"abc"}}, true},
		{"StringLike case-sensitive", `{"StringLike":{"s3:prefix":"Home/*"}}`, ctxMap{"s3:prefix": {"home/x"}}, false},
		{"StringLike empty value", `{"StringLike":{"s3:prefix":["","home/"]}}`, ctxMap{"s3:prefix": {""}}, true},
		{"StringNotLike", `{"StringNotLike":{"s3:prefix":"private/*"}}`, ctxMap{"s3:prefix": {"public/x"}}, true},
		{"StringNotLike matching", `{"StringNotLike":{"s3:prefix":"private/*"}}`, ctxMap{"s3:prefix": {"private/x"}}, false},
		{"StringNotLike missing key", `{"StringNotLike":{"s3:prefix":"private/*"}}`, none, true},

		// Numeric.
		{"NumericEquals", `{"NumericEquals":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10"}}, true},
		{"NumericEquals JSON number and decimal", `{"NumericEquals":{"s3:max-keys":10}}`, ctxMap{"s3:max-keys": {"10.0"}}, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"11"}}, true},
		{"NumericNotEquals equal", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10"}}, false},
		{"NumericLessThan", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"9"}}, true},
		{"NumericLessThan equal", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10"}}, false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10"}}, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10.5"}}, true},
		{"NumericGreaterThan negative", `{"NumericGreaterThan":{"s3:max-keys":"-1"}}`, ctxMap{"s3:max-keys": {"-2"}}, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"10"}}, true},
		{"Numeric not a number in the request", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctxMap{"s3:max-keys": {"ten"}}, false},
		{"Numeric not a number in the policy, negated", `{"NumericNotEquals":{"s3:max-keys":"ten"}}`, ctxMap{"s3:max-keys": {"10"}}, false},
		{"Numeric NaN is not a number", `{"NumericNotEquals":{"s3:max-keys":"1"}}`, ctxMap{"s3:max-keys": {"NaN"}}, false},
		{"Numeric missing key", `{"NumericLessThan":{"s3:max-keys":"10"}}`, none, false},
		{"NumericNotEquals missing key", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, none, true},

		// Date.
		{"DateEquals RFC 3339 across zones", `{"DateEquals":{"aws:CurrentTime":"2024-01-01T12:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"2024-01-01T13:00:00+01:00"}}, true},
		{"DateEquals epoch seconds", `{"DateEquals":{"aws:EpochTime":"1704110400"}}`, ctxMap{"aws:EpochTime": {"2024-01-01T12:00:00Z"}}, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T12:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"2024-01-02T12:00:00Z"}}, true},
		{"DateLessThan", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"2023-12-31T23:59:59Z"}}, true},
		{"DateLessThan later", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"2024-01-01T00:00:01Z"}}, false},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-01-01"}}`, ctxMap{"aws:CurrentTime": {"2024-01-01T00:00:00Z"}}, true},
		{"DateGreaterThan", `{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"1704067201"}}, true},
		{"DateGreaterThanEquals fractional seconds", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01T00:00:00.5Z"}}`, ctxMap{"aws:CurrentTime": {"2024-01-01T00:00:00.500Z"}}, true},
		{"DateGreaterThan negative zone", `{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00-05:00"}}`, ctxMap{"aws:CurrentTime": {"2024-01-01T04:00:00Z"}}, false},
		{"Date unreadable request value", `{"DateNotEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctxMap{"aws:CurrentTime": {"tomorrow"}}, false},
		{"Date missing key", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01"}}`, none, false},

		// Bool.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctxMap{"aws:SecureTransport": {"true"}}, true},
		{"Bool JSON boolean, any case", `{"Bool":{"aws:SecureTransport":true}}`, ctxMap{"aws:SecureTransport": {"TRUE"}}, true},
		{"Bool false vs true", `{"Bool":{"aws:SecureTransport":"false"}}`, ctxMap{"aws:SecureTransport": {"true"}}, false},
		{"Bool not a boolean", `{"Bool":{"aws:SecureTransport":"true"}}`, ctxMap{"aws:SecureTransport": {"yes"}}, false},
		{"Bool missing key", `{"Bool":{"aws:SecureTransport":"false"}}`, none, false},
		{"BoolIfExists missing key", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, none, true},
		{"BoolIfExists present", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, ctxMap{"aws:MultiFactorAuthPresent": {"true"}}, false},

		// Binary.
		{"BinaryEquals", `{"BinaryEquals":{"x:key":"QmluYXJ5VmFsdWU="}}`, ctxMap{"x:key": {"QmluYXJ5VmFsdWU="}}, true},
		{"BinaryEquals different", `{"BinaryEquals":{"x:key":"QmluYXJ5VmFsdWU="}}`, ctxMap{"x:key": {"b3RoZXI="}}, false},
		{"BinaryEquals not base64", `{"BinaryEquals":{"x:key":"QmluYXJ5VmFsdWU="}}`, ctxMap{"x:key": {"%%%"}}, false},

		// IP address.
		{"IpAddress in CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctxMap{"aws:SourceIp": {"203.0.113.7"}}, true},
		{"IpAddress outside CIDR", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctxMap{"aws:SourceIp": {"203.0.114.7"}}, false},
		{"IpAddress single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctxMap{"aws:SourceIp": {"203.0.113.7"}}, true},
		{"IpAddress host bits in the block", `{"IpAddress":{"aws:SourceIp":"203.0.113.9/24"}}`, ctxMap{"aws:SourceIp": {"203.0.113.200"}}, true},
		{"IpAddress list", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`, ctxMap{"aws:SourceIp": {"192.168.1.1"}}, true},
		{"IpAddress IPv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctxMap{"aws:SourceIp": {"2001:db8::1"}}, true},
		{"IpAddress IPv4-mapped request", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxMap{"aws:SourceIp": {"::ffff:10.1.2.3"}}, true},
		{"IpAddress IPv4 block, IPv6 request", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxMap{"aws:SourceIp": {"2001:db8::1"}}, false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctxMap{"aws:SourceIp": {"198.51.100.1"}}, true},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctxMap{"aws:SourceIp": {"203.0.113.1"}}, false},
		{"NotIpAddress missing key", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, none, true},
		{"IpAddress not an address", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctxMap{"aws:SourceIp": {"localhost"}}, false},
		{"IpAddress bad block", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/99"}}`, ctxMap{"aws:SourceIp": {"203.0.113.1"}}, false},

		// ARN.
		{"ArnEquals exact", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:123456789012:topic"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:topic"}}, true},
		{"ArnEquals wildcards per part", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:eu-west-1:123456789012:t"}}, true},
		{"ArnLike value with five parts", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-*:*"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:t"}}, false},
		{"ArnLike wildcard does not cross parts", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:t"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:us-east-1:999999999999:123456789012:t"}}, false},
		{"ArnLike resource part keeps colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:*"}}`, ctxMap{"aws:SourceArn": {"arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}, true},
		{"ArnLike case-sensitive", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*:role/Admin"}}`, ctxMap{"aws:SourceArn": {"arn:aws:iam::123456789012:role/admin"}}, false},
		{"ArnLike whole-value wildcard", `{"ArnLike":{"aws:SourceArn":"*"}}`, ctxMap{"aws:SourceArn": {"arn:aws:iam::123456789012:role/admin"}}, true},
		{"ArnLike request not an ARN", `{"ArnLike":{"aws:SourceArn":"*"}}`, ctxMap{"aws:SourceArn": {"not-an-arn"}}, false},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:a"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:b"}}, true},
		{"ArnNotLike matching", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:a*"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:us-east-1:123456789012:abc"}}, false},
		{"ArnNotLike missing key", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:a*"}}`, none, true},

		// Null.
		{"Null true, key absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, none, true},
		{"Null true, key present", `{"Null":{"aws:TokenIssueTime":"true"}}`, ctxMap{"aws:TokenIssueTime": {"x"}}, false},
		{"Null false, key present", `{"Null":{"aws:TokenIssueTime":false}}`, ctxMap{"aws:TokenIssueTime": {"x"}}, true},
		{"Null false, key absent", `{"Null":{"aws:TokenIssueTime":"false"}}`, none, false},
		{"Null empty value list is absent", `{"Null":{"aws:TokenIssueTime":"true"}}`, ctxMap{"aws:TokenIssueTime": {}}, true},
		{"Null other value", `{"Null":{"aws:TokenIssueTime":"maybe"}}`, none, false},

		// IfExists.
		{"StringEqualsIfExists absent", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, none, true},
		{"StringEqualsIfExists present, matching", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctxMap{"ec2:InstanceType": {"t3.micro"}}, true},
		{"StringEqualsIfExists present, other", `{"StringEqualsIfExists":{"ec2:InstanceType":"t3.micro"}}`, ctxMap{"ec2:InstanceType": {"m5.large"}}, false},
		{"NumericLessThanIfExists absent", `{"NumericLessThanIfExists":{"s3:max-keys":"5"}}`, none, true},
		{"IpAddressIfExists absent", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, none, true},
		{"ArnLikeIfExists present, other", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:a"}}`, ctxMap{"aws:SourceArn": {"arn:aws:sns:r:1:b"}}, false},
		{"StringNotEqualsIfExists present", `{"StringNotEqualsIfExists":{"aws:username":"alice"}}`, ctxMap{"aws:username": {"alice"}}, false},

		// ForAnyValue / ForAllValues.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"owner", "env"}}, true},
		{"ForAnyValue none matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"owner"}}, false},
		{"ForAnyValue absent is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}`, none, false},
		{"ForAnyValue negated: one outside the list", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"env", "owner"}}, true},
		{"ForAnyValue negated: all inside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"env", "team"}}, false},
		{"ForAnyValue negated absent is false", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env"]}}`, none, false},
		{"ForAllValues all match", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAllValues one does not", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}`, ctxMap{"aws:TagKeys": {"env", "owner"}}, false},
		{"ForAllValues absent is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, none, true},
		{"ForAllValues empty list is absent", `{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}`, ctxMap{"aws:TagKeys": {}}, true},
		{"ForAllValues negated: none in the list", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctxMap{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAllValues negated: one in the list", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["aws:*"]}}`, ctxMap{"aws:TagKeys": {"env", "aws:x"}}, false},
		{"ForAllValues with IfExists", `{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["e*"]}}`, ctxMap{"aws:TagKeys": {"env", "eu"}}, true},
		// ForAnyValue wins over IfExists: without the key no value can match
		// (found by the differential test; AWS documents ForAnyValue as false
		// for a missing key, and requests bear it out).
		{"ForAnyValue with IfExists absent", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, none, false},
		{"ForAnyValue negated with IfExists absent", `{"ForAnyValue:StringNotLikeIfExists":{"aws:TagKeys":["env"]}}`, none, false},
		{"ForAllValues with IfExists absent", `{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":["env"]}}`, none, true},
		{"plain operator on a multivalued key: any value", `{"StringEquals":{"aws:TagKeys":"env"}}`, ctxMap{"aws:TagKeys": {"owner", "env"}}, true},
		{"plain negated operator on a multivalued key: none may match", `{"StringNotEquals":{"aws:TagKeys":"env"}}`, ctxMap{"aws:TagKeys": {"owner", "env"}}, false},

		// Combination: AND across operators and keys, OR across values.
		{"AND across keys", `{"StringEquals":{"aws:username":"alice","aws:PrincipalTag/team":"blue"}}`, ctxMap{"aws:username": {"alice"}, "aws:PrincipalTag/team": {"red"}}, false},
		{"AND across operators", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctxMap{"aws:username": {"alice"}, "aws:SecureTransport": {"true"}}, true},
		{"AND across operators, one fails", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctxMap{"aws:username": {"alice"}, "aws:SecureTransport": {"false"}}, false},
		{"empty operator block", `{"StringEquals":{}}`, none, true},
		{"empty Condition", `{}`, none, true},
		{"key with no policy values", `{"StringEquals":{"aws:username":[]}}`, ctxMap{"aws:username": {"alice"}}, false},
		{"context keys merge across spellings", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxMap{"aws:TagKeys": {"a"}, "AWS:TAGKEYS": {"c"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := condAllows(t, tc.cond, tc.ctx); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

// An operator the package does not recognise must never match: not with the
// key present, not with it absent, not with IfExists or a set qualifier, not
// in a Deny either (where "never matches" means the Deny does not apply — a
// policy holding one is refused by CheckIAM, so it cannot be stored).
func TestUnknownOperatorNeverMatches(t *testing.T) {
	ops := []string{
		"StringEqualz", "stringequals", "STRINGEQUALS", "StringEqualsIfExist", "ForSomeValues:StringEquals",
		"ForAnyValue:Frobnicate", "FrobnicateIfExists", "IfExists", "", "ForAllValues:", "NumericBetween",
	}
	contexts := []ctxMap{{}, {"aws:username": {"alice"}}, {"aws:username": {"bob"}}}
	for _, op := range ops {
		if IsConditionOperator(op) {
			t.Errorf("IsConditionOperator(%q) = true", op)
		}
		for _, ctx := range contexts {
			cond := `{"` + op + `":{"aws:username":"alice"}}`
			if condAllows(t, cond, ctx) {
				t.Errorf("operator %q matched with context %v", op, ctx)
			}
			// Even an empty block under an unknown operator does not match.
			if condAllows(t, `{"`+op+`":{}}`, ctx) {
				t.Errorf("empty operator %q matched", op)
			}
			// Next to a known operator that matches.
			if condAllows(t, `{"StringLike":{"aws:username":"*"},"`+op+`":{"aws:username":"alice"}}`, ctx) {
				t.Errorf("operator %q matched beside a known one", op)
			}
		}
	}
	// In a Deny, an unknown operator does not make the Deny apply; the Allow
	// next to it is what decides. (CheckIAM refuses such a policy.)
	d := mustParse(t, pol(`[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Frobnicate":{"k":"v"}}}]`))
	r := Evaluate(Input{Identity: []Source{{ID: "p", Doc: d}}}, Request{Action: "s3:GetObject", Resource: "*", Context: ctxMap{"k": {"v"}}})
	if r.Decision != Allowed || len(r.Matched) != 1 {
		t.Errorf("got %+v", r)
	}
	if err := CheckIAM(pol(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Frobnicate":{"k":"v"}}}`), Identity); err == nil || err.Error() != msgSyntax {
		t.Errorf("CheckIAM = %v, want %q", err, msgSyntax)
	}
}

func TestIsConditionOperator(t *testing.T) {
	for name := range conditionOperators {
		for _, n := range []string{name, name + "IfExists", "ForAnyValue:" + name, "ForAllValues:" + name + "IfExists"} {
			if !IsConditionOperator(n) {
				t.Errorf("IsConditionOperator(%q) = false", n)
			}
		}
	}
	// The table holds exactly the operators the package documents.
	want := []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
	}
	if len(want) != len(conditionOperators) {
		t.Errorf("table has %d operators, want %d", len(conditionOperators), len(want))
	}
	for _, w := range want {
		if _, ok := conditionOperators[w]; !ok {
			t.Errorf("table lacks %s", w)
		}
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-01-02T03:04:05Z", utc(2024, 1, 2, 3, 4, 5, 0), true},
		{"2024-01-02t03:04:05z", utc(2024, 1, 2, 3, 4, 5, 0), true},
		{"2024-01-02T03:04:05.25Z", utc(2024, 1, 2, 3, 4, 5, 250000000), true},
		{"2024-01-02T03:04:05+02:00", utc(2024, 1, 2, 1, 4, 5, 0), true},
		{"2024-01-02T03:04:05-0130", time.Time{}, false},
		{"2024-01-02T03:04:05+23", utc(2024, 1, 1, 4, 4, 5, 0), true},
		{"2024-01-02", utc(2024, 1, 2, 0, 0, 0, 0), true},
		{"2024-01", utc(2024, 1, 1, 0, 0, 0, 0), true},
		{"2024-01-02T03:04", utc(2024, 1, 2, 3, 4, 0, 0), true},
		{"0", time.Unix(0, 0).UTC(), true},
		{"1704067200", utc(2024, 1, 1, 0, 0, 0, 0), true},
		{"", time.Time{}, false},
		{"soon", time.Time{}, false},
		{"2024-13-01", time.Time{}, false},
		{"2024-01-32", time.Time{}, false},
		{"2024-01-02T24:00:00Z", time.Time{}, false},
		{"2024-01-02T03:60:00Z", time.Time{}, false},
		{"2024-01-02T03:04:60Z", time.Time{}, false},
		{"2024-01-02T03:04:05Zjunk", time.Time{}, false},
		{"2024-01-02-03", time.Time{}, false},
		{"9223372036854775808", time.Time{}, false},
		{"12.5", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := parseDate(tc.in)
		if ok != tc.ok || (ok && !got.Equal(tc.want)) {
			t.Errorf("parseDate(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"a*", "a", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"**", "x", true},
		{"?", "é", true},
		{"a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, tc := range tests {
		if got := wildcardMatch(tc.pattern, tc.s, false); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want func(d *Document) any // the part of the document under test
		exp  any
	}{
		{
			name: "Statement as an object",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
			want: func(d *Document) any { return len(d.Statements) },
			exp:  1,
		},
		{
			name: "Statement as a list",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"},{"Effect":"Deny","Action":"c:d","Resource":"*"}]}`,
			want: func(d *Document) any { return []int{d.Statements[0].Index, d.Statements[1].Index} },
			exp:  []int{0, 1},
		},
		{
			name: "Version and Id",
			doc:  `{"Version":"2008-10-17","Id":"my-policy","Statement":[]}`,
			want: func(d *Document) any { return []string{d.Version, d.ID} },
			exp:  []string{"2008-10-17", "my-policy"},
		},
		{
			name: "Action as a string",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
			want: func(d *Document) any { return d.Statements[0].Action },
			exp:  []string{"s3:GetObject"},
		},
		{
			name: "Action as a list",
			doc:  `{"Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}}`,
			want: func(d *Document) any { return d.Statements[0].Action },
			exp:  []string{"s3:GetObject", "s3:PutObject"},
		},
		{
			name: "empty Action list stays non-nil",
			doc:  `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`,
			want: func(d *Document) any { return d.Statements[0].Action != nil && len(d.Statements[0].Action) == 0 },
			exp:  true,
		},
		{
			name: "NotAction as a string",
			doc:  `{"Statement":{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}}`,
			want: func(d *Document) any { return []any{d.Statements[0].Action == nil, d.Statements[0].NotAction} },
			exp:  []any{true, []string{"iam:*"}},
		},
		{
			name: "NotAction as a list",
			doc:  `{"Statement":{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*"}}`,
			want: func(d *Document) any { return d.Statements[0].NotAction },
			exp:  []string{"iam:*", "sts:*"},
		},
		{
			name: "Resource as a string",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b"}}`,
			want: func(d *Document) any { return d.Statements[0].Resource },
			exp:  []string{"arn:aws:s3:::b"},
		},
		{
			name: "Resource as a list",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}`,
			want: func(d *Document) any { return d.Statements[0].Resource },
			exp:  []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
		},
		{
			name: "NotResource as a string and as a list",
			doc:  `{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b"},{"Effect":"Deny","Action":"s3:*","NotResource":["x:y:z"]}]}`,
			want: func(d *Document) any { return [][]string{d.Statements[0].NotResource, d.Statements[1].NotResource} },
			exp:  [][]string{{"arn:aws:s3:::b"}, {"x:y:z"}},
		},
		{
			name: "Sid and Effect as written",
			doc:  `{"Statement":{"Sid":"ReadOnly","Effect":"allow","Action":"s3:*","Resource":"*"}}`,
			want: func(d *Document) any { return []string{d.Statements[0].Sid, d.Statements[0].Effect} },
			exp:  []string{"ReadOnly", "allow"},
		},
		{
			name: "Principal wildcard",
			doc:  `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`,
			want: func(d *Document) any { return *d.Statements[0].Principal },
			exp:  Principal{Wildcard: true},
		},
		{
			name: "Principal map with string and list values",
			doc:  `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root","Service":["ec2.amazonaws.com","lambda.amazonaws.com"],"Federated":"accounts.google.com","CanonicalUser":"abc"},"Action":"sts:AssumeRole"}}`,
			want: func(d *Document) any { return *d.Statements[0].Principal },
			exp: Principal{Values: map[string][]string{
				"AWS":           {"arn:aws:iam::123456789012:root"},
				"Service":       {"ec2.amazonaws.com", "lambda.amazonaws.com"},
				"Federated":     {"accounts.google.com"},
				"CanonicalUser": {"abc"},
			}},
		},
		{
			name: "NotPrincipal",
			doc:  `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111"]},"Action":"s3:*","Resource":"*"}}`,
			want: func(d *Document) any {
				return []any{d.Statements[0].Principal == nil, d.Statements[0].NotPrincipal.Values["AWS"]}
			},
			exp: []any{true, []string{"111111111111"}},
		},
		{
			name: "absent Principal is nil",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
			want: func(d *Document) any { return d.Statements[0].Principal == nil && d.Statements[0].NotPrincipal == nil },
			exp:  true,
		},
		{
			name: "Condition values: string, bool, number and lists of those",
			doc: `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{
				"StringEquals":{"aws:username":"alice","s3:prefix":["a/","b/"]},
				"Bool":{"aws:SecureTransport":true,"aws:MultiFactorAuthPresent":[false,"true"]},
				"NumericLessThan":{"s3:max-keys":10,"x:y":[1.5,"2",3e2]}}}}`,
			want: func(d *Document) any { return d.Statements[0].Condition },
			exp: Conditions{
				"StringEquals":    {"aws:username": {"alice"}, "s3:prefix": {"a/", "b/"}},
				"Bool":            {"aws:SecureTransport": {"true"}, "aws:MultiFactorAuthPresent": {"false", "true"}},
				"NumericLessThan": {"s3:max-keys": {"10"}, "x:y": {"1.5", "2", "3e2"}},
			},
		},
		{
			name: "empty Condition objects",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{},"Null":{"a:b":[]}}}}`,
			want: func(d *Document) any { return d.Statements[0].Condition },
			exp:  Conditions{"StringEquals": {}, "Null": {"a:b": {}}},
		},
		{
			name: "keys in any order",
			doc:  `{"Statement":{"Resource":"*","Action":"s3:*","Effect":"Allow","Sid":"Z"},"Version":"2012-10-17"}`,
			want: func(d *Document) any { return []string{d.Version, d.Statements[0].Sid} },
			exp:  []string{"2012-10-17", "Z"},
		},
		{
			name: "unicode text",
			doc:  `{"Statement":{"Sid":"\u00e9t\u00e9","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::café"}}`,
			want: func(d *Document) any { return []string{d.Statements[0].Sid, d.Statements[0].Resource[0]} },
			exp:  []string{"été", "arn:aws:s3:::café"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tc.want(d); !reflect.DeepEqual(got, tc.exp) {
				t.Errorf("got %#v, want %#v", got, tc.exp)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error message
	}{
		{"empty", ``, []string{"not valid JSON"}},
		{"not JSON", `This is not a json document`, []string{"not valid JSON", "line 1"}},
		{"truncated", `{"Statement":{"Effect":"Allow"`, []string{"not valid JSON"}},
		{"syntax error position", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [}\n}", []string{"not valid JSON", "line 3"}},
		{"trailing text", `{"Statement":[]} {}`, []string{"after the end"}},
		{"duplicate key", `{"Statement":{"Effect":"Allow","Effect":"Deny"}}`, []string{"duplicate key \"Effect\""}},
		{"array document", `[{"Effect":"Allow"}]`, []string{"must be a JSON object", "a list"}},
		{"null document", `null`, []string{"must be a JSON object", "null"}},
		{"unknown top-level element", `{"Version":"2012-10-17","Statment":[]}`, []string{`unknown top-level element "Statment"`}},
		{"Version not a string", `{"Version":2012,"Statement":[]}`, []string{"Version must be a string"}},
		{"Id not a string", `{"Id":["x"],"Statement":[]}`, []string{"Id must be a string"}},
		{"Statement a string", `{"Statement":"x"}`, []string{"Statement must be an object or a list"}},
		{"statement not an object", `{"Statement":["afd"]}`, []string{"statement 0 must be an object", "a string"}},
		{"unknown statement element names the statement", `{"Statement":[{"Effect":"Allow"},{"Sid":"Two","Effect":"Allow","Actions":"s3:*"}]}`,
			[]string{`statement 1 (Sid "Two")`, `unknown element "Actions"`}},
		{"Sid written after the bad field", `{"Statement":[{"Conditon":{},"Sid":"Late"}]}`, []string{`statement 0 (Sid "Late")`, `"Conditon"`}},
		{"Effect not a string", `{"Statement":{"Effect":true}}`, []string{"statement 0", "Effect must be a string", "a boolean"}},
		{"Sid not a string", `{"Statement":{"Sid":{}}}`, []string{"Sid must be a string"}},
		{"Action an object", `{"Statement":{"Action":{}}}`, []string{"Action must be a string or a list of strings", "an object"}},
		{"Action nested list", `{"Statement":{"Action":[[]]}}`, []string{"Action must be a string or a list of strings", "element 0 is a list"}},
		{"Resource list with an object", `{"Statement":{"Resource":["adfdf",{}]}}`, []string{"Resource", "element 1 is an object"}},
		{"NotResource a number", `{"Statement":{"NotResource":5}}`, []string{"NotResource must be"}},
		{"NotAction null", `{"Statement":{"NotAction":null}}`, []string{"NotAction must be", "null"}},
		{"Principal a non-wildcard string", `{"Statement":{"Principal":"arn:aws:iam::123456789012:root"}}`, []string{`Principal must be "*"`}},
		{"Principal a list", `{"Statement":{"Principal":["*"]}}`, []string{`Principal must be "*" or an object`}},
		{"Principal value an object", `{"Statement":{"Principal":{"AWS":{}}}}`, []string{"Principal.AWS must be a string or a list of strings"}},
		{"NotPrincipal value a number", `{"Statement":{"NotPrincipal":{"AWS":[1]}}}`, []string{"NotPrincipal.AWS"}},
		{"Condition a list", `{"Statement":{"Condition":[]}}`, []string{"Condition must be an object"}},
		{"Condition operator a string", `{"Statement":{"Condition":{"DateGreaterThan":"b"}}}`, []string{"DateGreaterThan must map to an object"}},
		{"Condition value an object", `{"Statement":{"Condition":{"DateGreaterThan":{"a":{}}}}}`, []string{"DateGreaterThan a must be a string"}},
		{"Condition value null", `{"Statement":{"Condition":{"StringEquals":{"a":null}}}}`, []string{"StringEquals a", "null"}},
		{"Condition list with an object", `{"Statement":{"Condition":{"StringEquals":{"a":["x",{}]}}}}`, []string{"element 1 must be a string, boolean or number"}},
		{"too deep", `{"Statement":{"Condition":{"StringEquals":{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}}}`, []string{"nesting deeper"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	// A pretty-printed policy as the console and most tools write it.
	pretty := `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Read",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::bucket/*"
        },
        {
            "Sid": "NoDelete",
            "Effect": "Deny",
            "Action": "s3:DeleteObject",
            "Resource": "*"
        }
    ]
}`
	oneLine := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	single := "{\n  \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}\n}"
	// Columns count characters, not bytes.
	unicodeDoc := `{"Id":"été","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	crlf := "{\r\n\"Statement\": [\r\n  {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}\r\n]}"

	tests := []struct {
		name string
		doc  string
		want [][2]Position // start, end per statement
	}{
		{"pretty-printed", pretty, [][2]Position{
			{{Line: 4, Column: 9}, {Line: 9, Column: 10}},
			{{Line: 10, Column: 9}, {Line: 15, Column: 10}},
		}},
		{"one line", oneLine, [][2]Position{
			{{Line: 1, Column: 38}, {Line: 1, Column: 84}},
			{{Line: 1, Column: 85}, {Line: 1, Column: 134}},
		}},
		{"single statement object", single, [][2]Position{
			{{Line: 2, Column: 16}, {Line: 2, Column: 67}},
		}},
		{"non-ASCII before the statement", unicodeDoc, [][2]Position{
			{{Line: 1, Column: 26}, {Line: 1, Column: 72}},
		}},
		{"CRLF line ends", crlf, [][2]Position{
			{{Line: 3, Column: 3}, {Line: 3, Column: 54}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Statements) != len(tc.want) {
				t.Fatalf("%d statements, want %d", len(d.Statements), len(tc.want))
			}
			for i, st := range d.Statements {
				if st.Start != tc.want[i][0] || st.End != tc.want[i][1] {
					t.Errorf("statement %d: Start %v End %v, want %v %v", i, st.Start, st.End, tc.want[i][0], tc.want[i][1])
				}
			}
		})
	}

	// The positions delimit exactly the statement's text: '{' at Start, '}'
	// just before End.
	d, err := Parse(oneLine)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range d.Statements {
		text := oneLine[st.Start.Column-1 : st.End.Column-1]
		if !strings.HasPrefix(text, "{") || !strings.HasSuffix(text, "}") || strings.Count(text, "{") != 1 {
			t.Errorf("statement %d text %q is not one statement object", st.Index, text)
		}
	}
}

package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type inner struct {
	Name string `json:"name"`
}

type Embedded struct {
	Marker string `json:"marker,omitempty"`
	Shadow string `json:"shadow"`
}

type target struct {
	Embedded
	UserName string            `json:"user_name"`
	Shadow   int               `json:"shadow"` // the shallower field wins
	Tags     map[string]string `json:"tags"`
	List     []inner           `json:"list"`
	Any      any               `json:"any"`
	Raw      json.RawMessage   `json:"raw"`
	Skipped  string            `json:"-"`
	Plain    bool
	hidden   string
}

func TestUnmarshal(t *testing.T) {
	cases := []struct {
		in   string
		want any // nil for success, else a pointer to the error type wanted
	}{
		{`{"user_name":"a","marker":"m","shadow":3,"tags":{"k":"v"},"list":[{"name":"x"}],"any":{"A":1,"a":2},"raw":{"X":1,"X":2},"Plain":true}`, nil},
		{`{}`, nil},
		{`null`, nil},
		{`{"user\u005fname":"a"}`, nil}, // an escape spells the same key
		{`{"USER_NAME":"a"}`, new(*UnknownKeyError)},
		{`{"User_Name":"a"}`, new(*UnknownKeyError)},
		{`{"uſer_name":"a"}`, new(*UnknownKeyError)},   // ſ folds to s in encoding/json
		{`{"marKer":"m"}`, new(*UnknownKeyError)},      // promoted fields too
		{`{"mar\u212aer":"m"}`, new(*UnknownKeyError)}, // the Kelvin sign folds to k
		{`{"plain":true}`, new(*UnknownKeyError)},
		{`{"Skipped":"x"}`, new(*UnknownKeyError)},
		{`{"hidden":"x"}`, new(*UnknownKeyError)},
		{`{"list":[{"name":"x"},{"NAME":"y"}]}`, new(*UnknownKeyError)},
		{`{"user_name":"a","user_name":"b"}`, new(*DuplicateKeyError)},
		{`{"tags":{"k":"v","k":"w"}}`, new(*DuplicateKeyError)},
		{`{"any":{"a":1,"a":2}}`, new(*DuplicateKeyError)},
		{`{"any":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`, new(*DepthError)},
		{`{"raw":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`, new(*DepthError)},
		{`{"user_name":1}`, new(*json.UnmarshalTypeError)},
		{`{"user_name":"a"} {}`, new(*json.SyntaxError)},
		{`{"user_name":"a"`, nil}, // checked below: an error, of any kind
	}
	for _, c := range cases {
		var v target
		err := Unmarshal([]byte(c.in), &v)
		switch {
		case c.want == nil && strings.HasSuffix(c.in, `"a"`):
			if err == nil {
				t.Errorf("%s: truncated input accepted", c.in)
			}
		case c.want == nil:
			if err != nil {
				t.Errorf("%.80s: %v", c.in, err)
			}
		case !errors.As(err, c.want):
			t.Errorf("%.80s: want %T, got %T %v", c.in, c.want, err, err)
		}
	}
	var v target
	if err := Unmarshal([]byte(`{"user_name":"a","shadow":3,"marker":"m"}`), &v); err != nil || v.UserName != "a" || v.Shadow != 3 || v.Marker != "m" {
		t.Fatalf("decoded %+v, %v", v, err)
	}
}

func TestMessagesAreShort(t *testing.T) {
	var v target
	err := Unmarshal([]byte(`{"`+strings.Repeat("k", 100000)+`":1}`), &v)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("%d-byte message", len(err.Error()))
	}
}

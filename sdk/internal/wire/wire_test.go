package wire

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestResult(t *testing.T) {
	for in, want := range map[string]string{
		`{"result":{"users":[{"user_name":"a\"}"}]}}`: `{"users":[{"user_name":"a\"}"}]}`,
		`{"result":[1,2]}`:                            `[1,2]`,
		`{"result":"x"}`:                              `"x"`,
		`{"result":12}`:                               `12`,
	} {
		if got, ok := Result([]byte(in)); !ok || string(got) != want {
			t.Errorf("Result(%s) = %s, %v; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{
		`{"error":{"code":"NotGranted","message":"m"}}`,
		`{"result":1,"error":{"code":"x"}}`,
		`{"result":{"a":1},"error":{"code":"x"}}`,
		`{"result":}`, `{"result":`, ``, `{"Result":1}`, ` {"result":1}`,
	} {
		if got, ok := Result([]byte(in)); ok {
			t.Errorf("Result(%s) = %s; want it refused", in, got)
		}
	}
}

func TestElements(t *testing.T) {
	in := ` [ {"result":{"a":"],}"}} , {"error":{"code":"Throttled"}},[1,[2]],"s\\",3 ] `
	got, ok := Elements([]byte(in))
	want := []string{`{"result":{"a":"],}"}}`, `{"error":{"code":"Throttled"}}`, `[1,[2]]`, `"s\\"`, `3`}
	if !ok || len(got) != len(want) {
		t.Fatalf("Elements = %q, %v", got, ok)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("element %d = %s, want %s", i, got[i], want[i])
		}
	}
	for _, in := range []string{`[`, `[1,]`, `[1 2]`, `{"a":1}`, `[1]x`, `["unterminated]`, `[{]`, `[,1]`} {
		if got, ok := Elements([]byte(in)); ok {
			t.Errorf("Elements(%s) = %q; want it refused", in, got)
		}
	}
	if got, ok := Elements([]byte(`[]`)); !ok || len(got) != 0 {
		t.Errorf("Elements([]) = %q, %v", got, ok)
	}
}

// FuzzElements: on every input encoding/json reads as an array, Elements
// finds the same elements; on any other it may refuse or answer, but never
// panics (its callers decode each element, which catches the rest).
func FuzzElements(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a",{"b":[2]}]`, `[{"result":{"x":"\"]"}},{"error":{}}]`, `[`, `[1,]`, ` [ 1 , 2 ] `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := Elements(b)
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil || bytes.TrimSpace(b)[0] != '[' {
			return
		}
		if !ok || len(got) != len(want) {
			t.Fatalf("Elements(%q) = %q, %v; encoding/json reads %q", b, got, ok, want)
		}
		for i := range want {
			if !bytes.Equal(bytes.TrimSpace(got[i]), bytes.TrimSpace(want[i])) {
				t.Fatalf("element %d: %q, encoding/json %q", i, got[i], want[i])
			}
		}
		for _, e := range got {
			if r, ok := Result(e); ok && !json.Valid(r) {
				t.Fatalf("Result(%q) = %q, not JSON", e, r)
			}
		}
	})
}

// Package strictjson decodes JSON from outside the process into Go values
// accepting each object key only as the Go type spells it, and only once.
//
// encoding/json matches object keys to struct fields case-insensitively,
// with Unicode folding ("USER_NAME" and "uſer_name" both fill user_name),
// and lets a later duplicate key overwrite an earlier one. For anything
// that decides what runs or records what ran, that is a way to make the
// code act on one value while a reader of the raw bytes (an audit log, a
// redactor, a person) sees another. Unmarshal refuses such input before
// encoding/json sees it:
//
//   - a key of a struct must be exactly one of its fields' JSON names
//     (embedded structs' fields included); any other key is an
//     *UnknownKeyError, whatever its spelling;
//   - a key may appear once per object, for structs and maps alike
//     (*DuplicateKeyError);
//   - nesting deeper than MaxDepth is refused (*DepthError).
//
// Values of a type with its own UnmarshalJSON (a policy document kept as
// text, say) are that type's to judge, and are not walked.
//
// Sizes are the caller's to cap before calling: Unmarshal reads all it is
// given.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/iammcp/iam-mcp-server/internal/quote"
)

// MaxDepth is the deepest nesting of objects and arrays Unmarshal accepts.
// No input this project decodes nests beyond a handful of levels; the cap
// keeps a hostile document from costing stack or time.
const MaxDepth = 64

// UnknownKeyError is a key that names no field of the struct it is in.
type UnknownKeyError struct {
	Path string // where the object is, e.g. "tags" or "" for the top
	Key  string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("unknown key %s%s", quoteKey(e.Key), at(e.Path))
}

// DuplicateKeyError is a key given twice in one object.
type DuplicateKeyError struct {
	Path string
	Key  string
}

func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("key %s given twice%s", quoteKey(e.Key), at(e.Path))
}

// DepthError is input nested deeper than MaxDepth.
type DepthError struct{ Path string }

func (e *DepthError) Error() string {
	return fmt.Sprintf("nested more than %d levels deep%s", MaxDepth, at(e.Path))
}

func at(path string) string {
	switch {
	case path == "":
		return ""
	case len(path) > 100: // built of keys from outside: bounded like them
		return " in " + quote.Short(path, 64)
	}
	return " in " + path
}

// quoteKey quotes a key for a message, cut short: a key is outside input,
// and a message must never echo a megabyte of it.
func quoteKey(k string) string { return quote.Short(k, 64) }

// Unmarshal decodes data, a single JSON value, into v (a non-nil pointer)
// under the rules of the package comment. Errors other than the three key
// and depth errors are encoding/json's (*json.SyntaxError,
// *json.UnmarshalTypeError, …), so callers can word them; trailing data
// after the value is a *json.SyntaxError too.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("strictjson: Unmarshal needs a non-nil pointer")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := check(dec, rv.Type().Elem(), "", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = &json.SyntaxError{Offset: dec.InputOffset()}
		}
		return fmt.Errorf("invalid character after the top-level value: %w", err)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// check reads one value from dec, checking its keys against t (nil when
// the value goes into an interface: only duplicates are checked then).
func check(dec *json.Decoder, t reflect.Type, path string, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType)) {
		return skip(dec, path, depth)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: encoding/json judges its type
	}
	if depth >= MaxDepth {
		return &DepthError{Path: path}
	}
	switch delim {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := check(dec, elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		switch {
		case t != nil && t.Kind() == reflect.Struct:
			fields = fieldsOf(t)
		case t != nil && t.Kind() == reflect.Map:
			elem = t.Elem()
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			if seen[key] {
				return &DuplicateKeyError{Path: path, Key: key}
			}
			seen[key] = true
			next := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					return &UnknownKeyError{Path: path, Key: key}
				}
				next = ft
			}
			if err := check(dec, next, join(path, key), depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// skip reads one value without looking at its keys (its type decodes
// itself), still bounding its depth.
func skip(dec *json.Decoder, path string, depth int) error {
	open := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' || d == '{' {
				open++
				if depth+open > MaxDepth {
					return &DepthError{Path: path}
				}
			} else {
				open--
			}
		}
		if open == 0 {
			return nil
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf is the exact JSON names of t's fields, as encoding/json names
// them: the json tag's name, else the Go name; "-" and unexported fields
// left out; embedded structs without a name of their own contribute their
// fields.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	addFields(t, out)
	fieldCache.Store(t, out)
	return out
}

func addFields(t reflect.Type, out map[string]reflect.Type) {
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	// Promoted fields after the struct's own: the shallower field wins, as
	// in encoding/json.
	for _, et := range embedded {
		promoted := map[string]reflect.Type{}
		addFields(et, promoted)
		for name, ft := range promoted {
			if _, own := out[name]; !own {
				out[name] = ft
			}
		}
	}
}

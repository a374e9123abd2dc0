// Package args turns a tool call's JSON arguments into the typed input of
// its catalogue operation, for the gate: the one place where arguments
// from outside (an MCP client, the command line, a plugin's iam_call) are
// read.
//
// Reading is strict, because what is decoded here is both what runs and
// what the audit log records:
//
//   - the whole argument object is capped at MaxBytes before any work;
//   - each key must be spelled exactly as the operation's input schema
//     names it, and given once (encoding/json alone would accept
//     "USER_NAME" or "uſer_name" for user_name, and let a second spelling
//     override the first: the call would act on one value while the raw
//     bytes show another);
//   - unknown keys and wrong types are refused, in a sentence naming the
//     argument.
//
// IAM's own rules for each value (name patterns, lengths, ranges) are the
// catalogue's to check, after decoding.
package args

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/iammcp/iam-mcp-server/internal/quote"
	"github.com/iammcp/iam-mcp-server/internal/strictjson"
	"github.com/iammcp/iam-mcp-server/sdk/api"
)

// MaxBytes caps the JSON arguments of one call. IAM's own values are
// small — names of 64 to 128 characters, policy documents of 2,048 to
// 10,240 characters (a role's inline policies together) — and the largest
// input of the catalogue (a simulation with several documents, or a
// document sent as an escaped string, pretty-printed) stays far below
// this. A larger call is refused before it is parsed, so that it costs
// neither memory nor time.
const MaxBytes = 256 << 10

// Options are the arguments the gate takes for itself, next to the
// operation's own: api.ArgAccount on every operation that calls AWS (not
// Offline), and api.ArgDryRun, api.ArgConfirmed on a mutating one.
type Options struct {
	// Account names the account to act in (an id or an alias, for the
	// gate to resolve); "" for the server's own.
	Account string
	// DryRun asks for the plan instead of the change.
	DryRun bool
	// Confirmed is the upstream server's consent flag, recorded and
	// otherwise ignored; nil when it was not given.
	Confirmed *bool
}

// gateArgs is how a mutation's Options are read: each a strict boolean,
// and the account a strict string.
type gateArgs struct {
	Account   strictString `json:"account"`
	DryRun    strictBool   `json:"dry_run"`
	Confirmed strictBool   `json:"confirmed"`
}

// readArgs is how a read's Options are read: only the account. dry_run
// and confirmed stay unknown keys on a read, which changes nothing.
type readArgs struct {
	Account strictString `json:"account"`
}

// MaxAccount is the longest account argument: an id is 12 digits, an
// alias (IAM's account alias, or the operator's name for it) at most 63
// characters.
const MaxAccount = 64

// CheckAccount refuses an account name that cannot name any account:
// empty (leave the argument out for the server's own) or longer than
// MaxAccount characters. Which names exist is the gate's to decide.
func CheckAccount(s string) *api.Error {
	if n := utf8.RuneCountInString(s); n == 0 || n > MaxAccount {
		return api.Errorf(api.InvalidInput, "argument %s must be an account's 12-digit id or its alias (1 to %d characters), as get_account_info lists them; got %s. Leave it out to act in the server's own account",
			api.ArgAccount, MaxAccount, Quote(s))
	}
	return nil
}

// strictString is a string argument that must be a JSON string when
// given: null is refused, as for strictBool (null would silently mean
// "the server's own account").
type strictString struct {
	set   bool
	value string
}

func (s *strictString) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s.value); err != nil {
			return err
		}
		s.set = true
		return nil
	}
	return &json.UnmarshalTypeError{Value: string(bytes.TrimSpace(data[:min(len(data), 8)])), Type: reflect.TypeFor[string]()}
}

// strictBool is a boolean argument that must be true or false when given.
// encoding/json reads null as "leave it alone", so "dry_run": null would
// make a real change of a call that meant to look: null is refused.
type strictBool struct{ set, value bool }

func (b *strictBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", "false":
		b.set, b.value = true, string(data) == "true"
		return nil
	}
	return &json.UnmarshalTypeError{Value: string(bytes.TrimSpace(data[:min(len(data), 8)])), Type: reflect.TypeFor[bool]()}
}

// Decode reads raw as the arguments of op and returns a pointer to a new
// value of op's input type. Empty arguments and null mean {}. Errors are
// InvalidInput, in words the assistant can act on, and never echo more
// than a short prefix of what was sent.
//
// The gate's own arguments (account, dry_run, confirmed) are unknown here: a caller
// that does not handle them must not take a dry run for a change. The gate
// uses DecodeCall.
func Decode(op api.Operation, raw json.RawMessage) (any, *api.Error) {
	return decode(reflect.TypeOf(op.Input), raw)
}

// DecodeCall is Decode for the gate: the arguments may also hold the
// gate's own (account on an operation that calls AWS; dry_run and
// confirmed on a mutating one), read with the same strictness (exact
// spelling, once, their types; an account of 1 to MaxAccount characters)
// and returned apart from the input. An Offline operation takes none.
func DecodeCall(op api.Operation, raw json.RawMessage) (any, Options, *api.Error) {
	if op.Offline {
		in, err := Decode(op, raw)
		return in, Options{}, err
	}
	extra := reflect.TypeFor[readArgs]()
	if op.Mutates {
		extra = reflect.TypeFor[gateArgs]()
	}
	v, err := decode(withOptions(reflect.TypeOf(op.Input), extra), raw)
	if err != nil {
		return nil, Options{}, err
	}
	w := reflect.ValueOf(v).Elem()
	var opts Options
	var account strictString
	switch g := w.Field(1).Interface().(type) {
	case gateArgs:
		account, opts.DryRun = g.Account, g.DryRun.value
		if g.Confirmed.set {
			opts.Confirmed = &g.Confirmed.value
		}
	case readArgs:
		account = g.Account
	}
	if account.set {
		if err := CheckAccount(account.value); err != nil {
			return nil, Options{}, err
		}
		opts.Account = account.value
	}
	return w.Field(0).Addr().Interface(), opts, nil
}

type optionKey struct{ in, extra reflect.Type }

var optionTypes sync.Map // optionKey → struct{ input; extra }

// withOptions is the input type with the gate's arguments (extra) beside
// its own fields: struct{ Input; extra }, both embedded, so that their
// JSON names share one object and strictjson checks them all at once.
func withOptions(in, extra reflect.Type) reflect.Type {
	key := optionKey{in, extra}
	if t, ok := optionTypes.Load(key); ok {
		return t.(reflect.Type)
	}
	t := reflect.StructOf([]reflect.StructField{
		{Name: in.Name(), Type: in, Anonymous: true},
		{Name: "GateArgs", Type: extra, Anonymous: true},
	})
	optionTypes.Store(key, t)
	return t
}

func decode(t reflect.Type, raw json.RawMessage) (any, *api.Error) {
	if len(raw) > MaxBytes {
		return nil, api.Errorf(api.InvalidInput,
			"the arguments are %d bytes, over this server's limit of %d (IAM's largest policy document is 10,240 characters); send only the arguments the tool's input schema lists",
			len(raw), MaxBytes)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return nil, api.Errorf(api.InvalidInput, "the arguments must be a JSON object of the tool's input schema")
	}
	in := reflect.New(t)
	if err := strictjson.Unmarshal(trimmed, in.Interface()); err != nil {
		return nil, describe(err)
	}
	return in.Interface(), nil
}

// describe words a decoding error for the assistant.
func describe(err error) *api.Error {
	var (
		unknown  *strictjson.UnknownKeyError
		dup      *strictjson.DuplicateKeyError
		deep     *strictjson.DepthError
		typeErr  *json.UnmarshalTypeError
		syntaxEr *json.SyntaxError
	)
	switch {
	case errors.As(err, &unknown) && unknown.Path == "":
		return api.Errorf(api.InvalidInput, "unknown argument %s; arguments are spelled exactly as the tool's input schema names them (lower case, with underscores)", Quote(unknown.Key))
	case errors.As(err, &unknown):
		return api.Errorf(api.InvalidInput, "unknown key %s in argument %s; check the tool's input schema for the accepted names and their spelling", Quote(unknown.Key), Quote(unknown.Path))
	case errors.As(err, &dup):
		where := "the arguments"
		if dup.Path != "" {
			where = "argument " + Quote(dup.Path)
		}
		return api.Errorf(api.InvalidInput, "%s give the key %s twice; give each argument once", where, Quote(dup.Key))
	case errors.As(err, &deep):
		return api.Errorf(api.InvalidInput, "the arguments nest more than %d levels deep; no tool takes such input", strictjson.MaxDepth)
	case errors.As(err, &typeErr):
		// Field paths through embedded structs carry the Go type's name
		// ("PageInput.max_items"); the caller knows only the JSON name.
		field := typeErr.Field[strings.LastIndex(typeErr.Field, ".")+1:]
		switch {
		case typeErr.Value == api.PolicyDocumentValue:
			return api.Errorf(api.InvalidInput, "argument %s must be an IAM policy document: a JSON object, or a string holding one", Quote(field))
		case field != "":
			return api.Errorf(api.InvalidInput, "argument %s has the wrong type: %s expected", Quote(field), kind(typeErr.Type))
		}
		return api.Errorf(api.InvalidInput, "the arguments must be a JSON object of the tool's input schema")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return api.Errorf(api.InvalidInput, "the arguments are not valid JSON: they end before the object closes; send one whole JSON object")
	case errors.As(err, &syntaxEr):
		return api.Errorf(api.InvalidInput, "the arguments are not valid JSON (at byte %d); send one JSON object", syntaxEr.Offset)
	}
	// encoding/json's remaining messages name types, never values.
	return api.Errorf(api.InvalidInput, "the arguments could not be read: %s", Cut(err.Error(), 200))
}

func kind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// QuoteMax is about how many bytes of a quoted value a message shows.
const QuoteMax = 64

// Quote quotes a value from outside for a message: Go-quoted (so control
// characters and invalid UTF-8 show as escapes, not as terminal commands),
// at most about QuoteMax bytes shown, with the full length said. A message
// must name what was wrong without echoing a megabyte back.
func Quote(s string) string { return quote.Short(s, QuoteMax) }

// Cut shortens a message from elsewhere to at most max characters.
func Cut(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Schema is a JSON Schema (the subset MCP tools use), built from Go types so
// that what a tool publishes and what it decodes can never disagree.
type Schema map[string]any

// SchemaOf derives the JSON Schema of a Go value's type. Structs become
// objects whose properties follow the `json` tags (embedded structs are
// flattened, as encoding/json does); a field without ",omitempty" is
// required; the `desc`, `enum`, `minimum`, `maximum` and `pattern` tags
// add a description and constraints. Objects reject unknown properties, so a
// misspelt argument is an error, not silently ignored.
func SchemaOf(v any) Schema {
	return schemaFor(reflect.TypeOf(v))
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	documentType = reflect.TypeOf(PolicyDocument(nil))
	textType     = reflect.TypeOf(PolicyText(""))
)

// schemaer is a type that publishes its own schema, for a value JSON
// accepts in more than one shape (ContextEntries).
type schemaer interface{ JSONSchema() Schema }

var schemaerType = reflect.TypeFor[schemaer]()

func schemaFor(t reflect.Type) Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(schemaerType) {
		return reflect.Zero(t).Interface().(schemaer).JSONSchema()
	}
	switch {
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == documentType, t == textType:
		// Both shapes are accepted on input; outputs are always objects.
		return Schema{"type": []string{"object", "string"}, "description": "an IAM policy document: a JSON object, or a string holding one"}
	}
	switch t.Kind() {
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}
	case reflect.Float64, reflect.Float32:
		return Schema{"type": "number"}
	case reflect.Slice:
		return Schema{"type": "array", "items": schemaFor(t.Elem())}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": schemaFor(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		required := []string{}
		addFields(t, props, &required)
		s := Schema{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	panic(fmt.Sprintf("api: no JSON Schema for %v", t))
}

func addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			addFields(f.Type, props, required)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := schemaFor(f.Type)
		if d := f.Tag.Get("desc"); d != "" {
			if prev, ok := s["description"].(string); ok {
				d = d + " (" + prev + ")"
			}
			s["description"] = d
		}
		if e := f.Tag.Get("enum"); e != "" {
			s["enum"] = strings.Split(e, ",")
		}
		for _, k := range []string{"minimum", "maximum"} {
			if v := f.Tag.Get(k); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					panic(fmt.Sprintf("api: %s.%s: bad %s tag %q", t.Name(), f.Name, k, v))
				}
				s[k] = n
			}
		}
		if p := f.Tag.Get("pattern"); p != "" {
			s["pattern"] = p
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") {
			*required = append(*required, name)
		}
	}
}

// JSON renders the schema; it cannot fail for schemas SchemaOf builds.
func (s Schema) JSON() json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

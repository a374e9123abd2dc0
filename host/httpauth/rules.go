package httpauth

// Rules is the operator's rules file, parsed: see ParseRules.
type Rules struct {
	narrowings []Narrowing // replaced by the rules file's parser
}

package krb5conf

import "errors"

// ErrMalformed is matched (errors.Is) by every error about the content of
// a configuration: a syntax error ([SyntaxError]), a value of the wrong
// kind (a boolean that is none of MIT's spellings), an unknown %{token}.
// A file that cannot be read is reported with its own error (for example
// one matching fs.ErrNotExist).
var ErrMalformed = errors.New("malformed Kerberos configuration")

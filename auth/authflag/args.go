package authflag

import (
	"flag"
	"strings"
)

// Reorder moves the operands of args after the flags defined on fs, so
// that "krbcurl URL -i" works as in curl (package flag stops at the first
// operand). Whether a flag takes a value is read from fs, so a flag added
// to fs needs no list kept here. Everything after "--" stays an operand.
func Reorder(fs *flag.FlagSet, args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			if takesValue(fs, a) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

// takesValue reports whether the flag argument a ("-x", "--name") is
// followed by its value as the next argument. An unknown flag is left to
// fs.Parse to refuse.
func takesValue(fs *flag.FlagSet, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

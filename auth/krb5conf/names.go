package krb5conf

// IsDriveLetter reports whether prefix, the part of a credential cache or
// keytab name before its first colon, is a drive letter: MIT's
// krb5_cc_resolve and krb5_kt_resolve take a one-letter prefix for one
// ("C:\Users\alice\krb5cc" is a file, not a cache of type "C"), on every
// system.
func IsDriveLetter(prefix string) bool {
	return len(prefix) == 1 && ('a' <= prefix[0] && prefix[0] <= 'z' || 'A' <= prefix[0] && prefix[0] <= 'Z')
}

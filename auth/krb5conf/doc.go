// Package krb5conf reads Kerberos configuration the way MIT's library does:
// krb5.conf and the profile syntax (sections, subsections, include and
// includedir, quoted values, first value wins), the KRB5_CONFIG search
// list, MIT's spellings of booleans and enctype lists, and the rules that
// turn default_ccache_name and default_client_keytab_name (or KRB5CCNAME
// and KRB5_CLIENT_KTNAME) into names, with MIT's %{uid}-style path tokens.
//
// It is the module's one krb5.conf parser, at the bottom of the layers
// beside package ticket: everything that needs a realm, a KDC address or
// a default name (credentials, auth, acceptor, kdctest) reads it through
// here. It imports nothing of the module; gokrb5's config type is embedded
// in [Config] so that gokrb5's messages and the KDC client can use it, but
// the text is parsed here, because gokrb5's own parser lets the last value
// win, drops enctype families and fails on dns_canonicalize_hostname =
// fallback.
//
// Opening the caches and keytabs these names designate is not this
// package's business: see auth/credentials.
package krb5conf

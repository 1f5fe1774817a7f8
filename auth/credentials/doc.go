// Package credentials is where Kerberos tickets come from: the MIT-style
// default credential cache (KRB5CCNAME, FILE: and DIR: collections,
// default_ccache_name), explicit principals, password and keytab logins, and
// krb5.conf loading with MIT's environment variables and include directives.
//
// The HTTP transport in package auth asks a [Source] for service tickets; any
// implementation (including a gomock mock) can stand in for the KDC.
package credentials

// Command krbcurl fetches a URL with Kerberos Negotiate authentication, for
// trying a Kerberized service the way curl users expect.
//
// Usage:
//
//	krbcurl [-X METHOD] [-d DATA|@FILE] [-H 'K: V']... [-i] [-o FILE] [-L]
//	        [-m SECONDS] [--cacert PEM] [--fail] [--mutual required|optional|disabled]
//	        [--no-sanitize] [--preemptive[=always|after-challenge|never]]
//	        [--hostname-override H] [--service S] [--auth-scheme negotiate|kerberos]
//	        [--principal P] [--password-file F] [--keytab F] [--raw-krb5]
//	        [--kdc-timeout DUR] [--delegate[=always|policy]] [--no-cbt]
//	        [--no-write-back] [-v] URL
//
// Exit status:
//
//	0   an HTTP response arrived (any status, unless --fail)
//	1   any other failure (network, TLS, file)
//	2   bad usage
//	10  the server failed mutual authentication
//	11  Kerberos failure: no ticket, KDC unreachable, unknown service principal
//	22  --fail and the status was 400 or above (curl's code)
//	28  the -m time limit ran out (curl's code), also while reaching a KDC
//
// Failures come with what to do, naming flags (package authflag's
// Explain): --hostname-override for a service principal the KDC does not
// know, kinit or --password-file/--keytab for a missing or expired
// ticket, krb5.conf for an unreachable KDC. When an unauthenticated error
// response is stripped (see --no-sanitize), and when an http:// URL
// reaches a port that speaks TLS, krbcurl says so on standard error.
package main

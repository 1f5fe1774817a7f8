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
//	        [--no-write-back] [-x|--proxy URL] [--noproxy LIST] [-v] URL
//
// -x/--proxy sends every request through the proxy (localhost too, as
// curl does); without it HTTP_PROXY, HTTPS_PROXY and NO_PROXY apply, as
// Go reads them. --noproxy is curl's list of hosts reached directly ("*":
// all). A proxy asking for Negotiate (407) gets a token for
// HTTP/<proxy host>, as curl --proxy-negotiate -U : gives it.
//
// Exit status:
//
//	0   an HTTP response arrived (any status, unless --fail)
//	1   any other failure (network, TLS, file)
//	2   bad usage
//	10  the server failed mutual authentication
//	11  Kerberos failure: no ticket, KDC unreachable, unknown service principal,
//	    a proxy's 407 that could not be answered
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

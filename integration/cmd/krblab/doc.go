// Command krblab starts a throwaway Kerberos lab on loopback, for trying
// this project (or any Kerberos HTTP client) without writing code: an MIT
// realm (KDC, krb5.conf), a user with a TGT in a credential cache, and the
// IIS-like test server over HTTP and HTTPS with WS-Management at /wsman,
// beside an in-memory WebHDFS namenode and datanode.
//
// Usage:
//
//	krblab [--user NAME] [-- COMMAND [ARGS...]]
//
// krblab prints shell export lines on standard output, then keeps
// everything running until interrupted (paste the lines into another
// shell, or source the output once the line "# krblab ready" is in it):
//
//	KRB5_CONFIG         the realm's krb5.conf
//	KRB5CCNAME          FILE: cache holding the user's TGT
//	KRBLAB_PRINCIPAL    the user, e.g. alice@KRBHTTP.TEST
//	KRBLAB_PASSWORD_FILE a file holding the user's password
//	KRBLAB_URL          http://localhost:PORT, the IIS-like server (GET /whoami)
//	KRBLAB_HTTPS_URL    https://localhost:PORT, the same over TLS with channel binding
//	KRBLAB_CA           PEM file of the CA that signed the HTTPS certificate
//	KRBLAB_WSMAN_URL    http://localhost:PORT/wsman, WinRM (message encryption over http)
//	KRBLAB_WEBHDFS_URL  http://localhost:PORT, the WebHDFS namenode (paths under /webhdfs/v1)
//
// Every service's principal is HTTP/localhost, the name in the URLs, so
// clients need no host name override. The datanode authenticates by the
// delegation token the namenode puts in its redirects, as Hadoop's does,
// and so has no principal of its own.
//
// With "-- COMMAND ARGS", krblab runs the command with these variables in
// its environment instead of waiting, then stops the lab and exits with
// the command's status:
//
//	krblab -- sh -c 'krbcurl "$KRBLAB_URL/whoami"'
//
// It needs MIT Kerberos's krb5kdc, kdb5_util, kadmin.local and kinit
// (Debian: krb5-kdc krb5-admin-server krb5-user). Everything lives in one
// temporary directory, removed when krblab stops.
package main

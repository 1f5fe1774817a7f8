// Package iis builds the IIS-like test server: our acceptor in front of a
// few handlers, answering the way IIS and HTTP.sys do around Windows
// authentication (separate Negotiate and NTLM challenges, Persistent-Auth,
// 400 for an oversized Authorization header, HTTP/1.1 only, HTTPAPI
// Server headers). The iislike command and the demo both use it.
package iis

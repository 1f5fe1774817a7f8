// Package kdcproxy is the server side of MS-KKDCP, the Kerberos KDC proxy
// protocol: an [http.Handler] that takes KDC-PROXY-MESSAGEs posted over
// HTTPS and relays the Kerberos request inside to a KDC of the named realm
// over TCP, so that clients who cannot reach port 88 (outside the corporate
// network, in a cloud) can still log in and get service tickets. MIT
// clients use it with "kdc = https://host/KdcProxy" in krb5.conf (and the
// krb5-k5tls plugin); Windows with its KDC proxy settings; this module's
// client with the same krb5.conf line.
//
// It behaves as Microsoft's KDC Proxy Server and python3-kdcproxy do, and
// is stricter where they leave room for abuse:
//
//   - only the realms it is configured with are served (no DNS, no open
//     relay), and only to KDCs listed for them, over TCP;
//   - only AS-REQ and TGS-REQ messages are relayed (no kpasswd), and a
//     reply must be an AS-REP, TGS-REP or KRB-ERROR;
//   - a request is at most [DefaultMaxRequestBytes] (python3-kdcproxy's
//     limit) and a reply at most 1 MiB; one request makes at most one KDC
//     exchange at a time, tried in order, so nothing is amplified;
//   - every exchange is bounded by a per-KDC timeout, an overall timeout
//     and the request's context, and the number of exchanges in flight is
//     bounded;
//   - plain HTTP is refused unless [WithAllowPlainHTTP] says TLS ends in
//     front of the handler;
//   - one structured log line per request (realm, message type, sizes,
//     KDC, status, time); message contents are never logged.
//
// Statuses follow python3-kdcproxy: 405 for a method other than POST, 411
// without a Content-Length, 413 for a body too large, 400 for a body that
// is not a KDC-PROXY-MESSAGE carrying an AS-REQ or TGS-REQ with a realm,
// 503 for a realm not served or no KDC answering, 502 for a KDC answer that
// is not a Kerberos reply.
package kdcproxy

// Command iislike is a test server that answers Kerberos Negotiate the way
// IIS and HTTP.sys do, for trying clients without a Windows machine. It
// serves GET /whoami (JSON: what the server saw of the client) behind
// authentication.
//
// Usage:
//
//	iislike --listen 127.0.0.1:8080 --keytab http.keytab
//	        [--tls-cert cert.pem --tls-key key.pem] [--cbt none|relaxed|strict]
//	        [--persistent-auth=true|false] [--clock-skew 5m]
//	        [--allow-unencrypted] [--datanode-listen 127.0.0.2:8081]
//	        [--kdc-proxy] [--realms A.TEST,B.TEST]
//
// --kdc-proxy also serves an MS-KKDCP KDC proxy (package auth/kdcproxy) at
// /KdcProxy, outside authentication, for the realms whose KDCs krb5.conf
// (KRB5_CONFIG) lists; it needs --tls-cert. --realms lists the client
// realms accepted, for services trusted by other realms.
package main

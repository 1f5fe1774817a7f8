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
//	        [--allow-unencrypted]
//	        [--namenode-listen 127.0.0.1:9871 --datanode-listen 127.0.0.2:9865]
//	        [--rm-listen 127.0.0.1:8090]
//	        [--kdc-proxy] [--realms A.TEST,B.TEST]
//	        [--replay-cache DIR | --replay-redis HOST:PORT [--replay-redis-fail-open]]
//	        [--replay-cache-size N]
//
// Besides /whoami, the IIS-like server mounts WS-Management (/wsman) and the
// Reporting Services REST API (/reports/api/v2.0). With --namenode-listen
// and --datanode-listen it also runs an in-memory Hadoop namenode and
// datanode (WebHDFS), which authenticate as Hadoop does rather than as IIS:
// the namenode with SPNEGO (the same keytab) and the hadoop.auth cookie,
// the datanode by the delegation token the namenode puts in its redirects.
// With --rm-listen it runs an in-memory YARN ResourceManager REST API behind
// the same Hadoop authentication.
//
// --kdc-proxy also serves an MS-KKDCP KDC proxy (package auth/kdcproxy) at
// /KdcProxy, outside authentication, for the realms whose KDCs krb5.conf
// (KRB5_CONFIG) lists; it needs --tls-cert. --realms lists the client
// realms accepted, for services trusted by other realms.
//
// Replay protection: by default a token seen before is refused for as
// long as it could be accepted, by a cache in memory (lost at exit).
// --replay-cache DIR keeps it in a file in DIR, read back at the next
// start; --replay-redis shares it with every replica given the same Redis
// server. When the cache is full (--replay-cache-size) or Redis cannot be
// reached, authentications get 503 (fail closed); with
// --replay-redis-fail-open they pass unchecked while Redis is down, and
// the log says so.
package main

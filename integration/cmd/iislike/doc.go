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
// Routes. On --listen, behind Kerberos Negotiate (IIS's rules: a 401 with
// "WWW-Authenticate: Negotiate", the connection authenticated once unless
// --persistent-auth=false):
//
//	GET  /whoami                JSON: principal, delegated, delegation_usable,
//	                            channel_bound, connection_auth
//	POST /wsman                 WS-Management (WinRM shells: create, command,
//	                            send, receive, signal, delete); over http the
//	                            messages are Kerberos-encrypted unless
//	                            --allow-unencrypted
//	     /reports/api/v2.0/...  SQL Server Reporting Services REST API
//	POST /KdcProxy              MS-KKDCP, without authentication (--kdc-proxy)
//
// On --namenode-listen, /webhdfs/v1/PATH?op=... (SPNEGO as Hadoop does it,
// then the hadoop.auth cookie; OPEN, CREATE, APPEND and GETFILECHECKSUM
// redirect to --datanode-listen with a delegation token, so the datanode
// needs no principal of its own). On --rm-listen, /ws/v1/cluster/...
// (YARN ResourceManager). Every server uses the keys of --keytab: the
// principal is HTTP/HOST for the host name clients put in their URLs
// (HTTP/localhost for http://localhost:PORT), whatever address it listens
// on.
//
// Flags:
//
//	--listen ADDR                 address of the IIS-like server (default 127.0.0.1:8080)
//	--keytab FILE                 keytab with the HTTP/HOST keys (required)
//	--tls-cert FILE --tls-key FILE  serve HTTPS (and the Hadoop daemons over TLS)
//	--cbt none|relaxed|strict     channel binding (Extended Protection) policy; needs --tls-cert
//	--persistent-auth BOOL        authenticate a connection once (default true), as IIS does
//	--clock-skew DUR              tolerated clock skew (default 5m)
//	--allow-unencrypted           WinRM: accept plaintext SOAP over http
//	--max-shells-per-user N       WinRM: open shells per user
//	--max-operations-per-user N   WinRM: operations under way per user
//	--namenode-listen ADDR        WebHDFS namenode (with --datanode-listen)
//	--datanode-listen ADDR        WebHDFS datanode (with --namenode-listen)
//	--rm-listen ADDR              YARN ResourceManager REST API
//	--kdc-proxy                   serve /KdcProxy for the realms of KRB5_CONFIG; needs --tls-cert
//	--realms A,B                  client realms accepted (default: the keytab's)
//	--replay-cache DIR, --replay-cache-size N, --replay-redis HOST:PORT,
//	--replay-redis-fail-open      replay protection (below)
//	-v                            log authentication failures
//
// For a realm, a user and all of these running in one command, see
// integration/cmd/krblab.
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

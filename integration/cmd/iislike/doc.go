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
//
// Besides /whoami, the IIS-like server mounts WS-Management (/wsman) and the
// Reporting Services REST API (/reports/api/v2.0). With --namenode-listen
// and --datanode-listen it also runs an in-memory Hadoop namenode and
// datanode (WebHDFS), which authenticate as Hadoop does rather than as IIS:
// the namenode with SPNEGO (the same keytab) and the hadoop.auth cookie,
// the datanode by the delegation token the namenode puts in its redirects.
// With --rm-listen it runs an in-memory YARN ResourceManager REST API behind
// the same Hadoop authentication.
package main

// Package restapis serves, in memory, the two REST APIs that module sdk
// has clients for, as plain http.Handlers to mount behind Negotiate (the
// IIS-like server, or the acceptor's middleware):
//
//   - [NewWebHDFS]: Hadoop WebHDFS, a namenode and a datanode sharing an
//     in-memory HDFS, which authenticate as Hadoop's do: the namenode with
//     hadoop-auth's filter (SPNEGO per request, the signed hadoop.auth
//     cookie, delegation tokens), the datanode by the delegation token the
//     namenode puts in its 307 redirects, never by SPNEGO. Serve them on
//     different listeners ([NewHadoopServer]), so that the redirect crosses
//     hosts as on a real cluster.
//   - [NewReports]: the catalog part of the SQL Server Reporting Services
//     REST API v2.0 (folders, catalog items, reports), under
//     /reports/api/v2.0/.
//
// The handlers follow the servers' documented behaviour and source closely
// enough to test clients against: authentication, status codes, JSON
// shapes and error bodies (RemoteException, OData errors), HDFS's
// permission, quota and snapshot rules. The report server lets everyone do
// everything, recording the principal the acceptor put in the request's
// context as the creator of what a request makes.
// They are written independently of the generated clients, from the same
// public documentation as the specs, so that a test through the SDK checks
// the specs too. Both are safe for concurrent use.
package restapis

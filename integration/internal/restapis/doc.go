// Package restapis serves, in memory, the REST APIs that module sdk has
// clients for, as plain http.Handlers, each behind the authentication of
// the real service:
//
//   - [NewWebHDFS]: Hadoop WebHDFS, a namenode and a datanode sharing an
//     in-memory HDFS, which authenticate as Hadoop's do: the namenode with
//     hadoop-auth's filter (SPNEGO per request, the signed hadoop.auth
//     cookie, delegation tokens), the datanode by the delegation token the
//     namenode puts in its 307 redirects, never by SPNEGO. Serve them on
//     different listeners ([NewHadoopServer]), so that the redirect crosses
//     hosts as on a real cluster.
//   - [NewReports]: the SQL Server Reporting Services REST API v2.0
//     (catalog items, folders, reports, data sources, subscriptions,
//     policies), under /reports/api/v2.0/, to mount behind Negotiate as
//     IIS does (the IIS-like server).
//   - [NewResourceManager]: Hadoop YARN's ResourceManager REST API
//     (/ws/v1/cluster), behind hadoop-auth's filter, with ResourceManager
//     delegation tokens.
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

// Package restapis serves, in memory, the two REST APIs that module sdk
// has clients for, as plain http.Handlers to mount behind Negotiate (the
// IIS-like server, or the acceptor's middleware):
//
//   - [NewWebHDFS]: Hadoop WebHDFS, as a namenode handler and a datanode
//     handler sharing one file system. The namenode answers CREATE, APPEND
//     and OPEN with a 307 redirect to the datanode's URL, so that serving
//     the two on different listeners (hosts, ports, service principals)
//     makes the redirect cross hosts as on a real cluster.
//   - [NewReports]: the catalog part of the SQL Server Reporting Services
//     REST API v2.0 (folders, catalog items, reports), under
//     /reports/api/v2.0/.
//
// The handlers follow the servers' documented behaviour closely enough to
// test clients against: status codes, JSON shapes and error bodies
// (RemoteException, OData errors). Everyone may do everything; the
// authenticated principal, when the acceptor put one in the request's
// context, is recorded as the owner or creator of what a request makes.
// They are written independently of the generated clients, from the same
// public documentation as the specs, so that a test through the SDK checks
// the specs too. Both are safe for concurrent use.
package restapis

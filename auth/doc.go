// Package auth adds Kerberos "Negotiate" (SPNEGO, RFC 4559) authentication
// to any net/http client.
//
// [NewTransport] wraps an [http.RoundTripper]; [NewClient] returns a ready
// [*http.Client]; the zero [Transport] works too. The transport answers a
// 401 Negotiate challenge with a Kerberos token, replays the request once
// with its body rewound (a body is streamed as net/http streams it, never
// read ahead; see [WithReplayBuffer]), and verifies the server's reply
// token (mutual authentication, required by default). A token the server
// refuses makes a [credentials.Dropper] source drop its ticket, and the
// request is retried once with a fresh one, so a rotated service key
// costs no failed request. [WithClientTrace] reports the security context
// a request established, for message protection on its connection. It mirrors every option of Python's requests-kerberos, with the
// defects of that library fixed: it never mutates the caller's request, it
// is safe for concurrent use, it knows which keep-alive connection a
// response came on (IIS and HTTP.sys authenticate a connection once), and
// its retries are bounded.
//
// Credentials come from the MIT default credential cache unless an option
// says otherwise; see package credentials for the sources, and package
// krb5conf for how KRB5CCNAME, KRB5_CONFIG and KRB5_CLIENT_KTNAME are
// honoured. On Windows, with no credential option, they are the
// logged-on user's, through SSPI (the README's Windows section).
//
// Within the module this package sits above credentials (where tickets
// come from) and gss (how a ticket becomes a token), and below the server
// side (acceptor, which does not import it) and the tools (authflag,
// cmd/krbcurl); the README lists every package by layer.
//
// Connection-bound authentication needs HTTP/1.1: IIS refuses Windows
// authentication over HTTP/2. When no base transport is given, the
// transport uses a clone of [http.DefaultTransport] that never negotiates
// HTTP/2. A caller-supplied base that speaks HTTP/2 still works, but every
// HTTP/2 response must then carry its own token: an HTTP/2 connection is
// never treated as authenticated, because its streams are multiplexed.
//
// Mutual authentication can differ per request or per host: a policy
// function ([WithMutualAuthenticationPolicy]) or the request's context
// ([WithMutualAuthenticationFor]) overrides the transport's mode for the
// requests it covers, for servers that cannot authenticate themselves,
// such as a Hadoop datanode that an authenticated namenode redirected to.
// [MutuallyAuthenticated] tells whether a response proved its server. A
// refusal ([*MutualAuthenticationError]) comes after the server processed
// the request, and says so with the status it answered.
package auth

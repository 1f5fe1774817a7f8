// Package mitpeer runs an HTTP Negotiate server whose acceptor is MIT's
// GSS-API, through Debian's python3-gssapi: a second acceptor nobody in
// this project wrote, and unlike Apache's mod_auth_gssapi one that checks
// channel bindings. It serves HTTP or HTTPS on a loopback port, answers
// mutual authentication with MIT's own AP-REP, and reports what MIT made
// of the client's token as JSON: the initiator, the context flags, and,
// when the client delegated, the delegated credentials' name and whether a
// context to a further service could be initiated with them.
package mitpeer

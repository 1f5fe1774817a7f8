// Package winrmserver is the WinRM endpoint of the IIS-like test server:
// the Windows Remote Shell operations of MS-WSMV (Create, Command, Send,
// Receive, Signal, Delete) over real processes, and Kerberos message
// encryption as Windows does it.
//
// Commands run on this host as "/bin/sh -c COMMAND ARGS..." (arguments
// joined with spaces, as cmd.exe gets them on Windows) in a temporary
// working directory per shell, in a process group of their own. This is a
// test server: serve it on loopback only. Every request must be
// authenticated.
//
// # Mounting
//
// The handler needs an authenticated identity with its Kerberos context,
// and for message encryption the connection-bound authentication of IIS.
// Either mount it behind an [acceptor.Authenticator] built with
// [acceptor.WithConnectionBound] (whose ConnContext the http.Server
// installs), as package iis does for all its handlers:
//
//	h, _ := winrmserver.New(winrmserver.Config{})
//	mux.Handle("/wsman", h)
//	srv := &http.Server{Handler: a.Wrap(mux), ConnContext: a.ConnContext}
//
// or give it the Authenticator and let it authenticate itself:
//
//	h, _ := winrmserver.New(winrmserver.Config{Authenticator: a})
//	srv := &http.Server{Handler: h, ConnContext: h.ConnContext}
//
// A request that already carries an identity is never authenticated
// twice. Encryption sessions are keyed by the security context the
// connection authenticated with, so they need no connection hook of their
// own, end with the connection's authentication and are renewed when a
// client authenticates its connection again. Close the Server to kill
// what still runs.
//
// # Behaviour
//
//   - POST only: other methods get 405 with Allow: POST; an empty
//     authenticated POST (the setup of message encryption) gets 200.
//   - multipart/encrypted requests are decrypted with the connection's
//     context and answered encrypted, faults included; a body that fails
//     verification gets 400 and the connection is closed. Plaintext SOAP
//     over http is refused with 415 unless AllowUnencrypted; over https
//     it is accepted.
//   - A request larger than MaxEnvelopeSize gets 413.
//   - Receive long-polls up to the request's OperationTimeout (capped) and
//     then answers the w:TimedOut fault 2150858793; responses are sized to
//     the client's MaxEnvelopeSize.
//   - An unknown ShellId or CommandId is fault 2150858843; too many shells
//     2150859173; too many operations at once 2150859174.
//   - Output waiting to be received is bounded per stream; a command that
//     writes faster than the client receives is blocked, as on Windows.
//   - Exit codes are the process's; a command killed by a signal exits
//     128+signal, as in a shell.
//   - A client that delegated credentials finds them in the credential
//     cache named by KRB5CCNAME.
package winrmserver

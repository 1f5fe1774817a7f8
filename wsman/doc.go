// Package wsman is a WS-Management (WinRM) client for the Windows Remote
// Shell: open a shell, run commands in it with their stdin, stdout,
// stderr and exit code, signal them, close the shell. It authenticates with
// Kerberos through module auth and, over plain http, encrypts every
// message with the Kerberos session as Windows does (MS-WSMV 2.2.9.1), so
// the server needs neither HTTPS nor AllowUnencrypted.
//
// # Quick start
//
//	c, err := wsman.NewClient("http://host.example.com:5985/wsman") // kinit'ed credential cache
//	if err != nil { ... }
//	defer c.Close()
//	code, err := c.Run(ctx, wsman.RunRequest{Command: "ipconfig", Args: []string{"/all"}, Stdout: os.Stdout})
//
// # Layers
//
// [Run] and [Stream] work over the [ShellClient] interface, one method per
// protocol operation, which [*Client] implements and a mock can. The
// client speaks net/http only: plain SOAP goes through its Kerberos
// transport (an *auth.Transport over [WithBaseTransport]) or through any
// [http.RoundTripper] given with [WithTransport]. Encrypted messages go in
// sessions: Windows binds the encryption context to the TCP connection
// that authenticated it, so each session is an *http.Transport cloned from
// the base and restricted to one connection. It is set up with an empty
// POST carrying a Kerberos token, through the same *auth.Transport (its
// challenge handling, service principal rules, channel bindings and
// mutual authentication); the transport reports the established context
// (auth.ClientTrace), and the messages that follow on that connection are
// sealed with its keys and sequence numbers. A session whose exchange
// fails is closed, never reused; a session whose connection is gone is
// replaced, never continued over a new connection ([ErrConnectionLost]).
//
// # Errors
//
// A SOAP fault is a [*Fault] with the WSManFault code, subcode and
// message; the OperationTimeout fault of a Receive is not an error but
// "poll again". HTTP answers without SOAP (401, 413, an error page) are
// [*HTTPError]; 413 matches [ErrEnvelopeTooLarge]. Everything that stops a
// message from arriving is a [*TransportError] wrapping the cause: network
// and TLS errors, *auth.NegotiateError (no ticket), mutual authentication
// failures (*auth.MutualAuthenticationError), and an encrypted reply that
// fails verification ([TamperedError], matching [ErrTampered]).
package wsman

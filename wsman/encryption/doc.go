// Package encryption is WinRM message encryption over HTTP with a Kerberos
// security context (MS-WSMV 2.2.9.1): each SOAP envelope travels as a
// multipart/encrypted body whose octet-stream part holds an RFC 4121 sealed
// wrap token, split into a length-prefixed header and data as long as the
// envelope.
//
// [Frame] and [Parse] are the framing alone, byte-exact with what Windows,
// pywinrm and pypsrp send, and tolerant of what Exchange sends (a space
// after the boundary's dashes, a missing final "--"). A [Session] adds the
// cryptography over a [gss.Sealer]: sequence numbers run per session, which
// must be per connection, because Windows binds the context to the TCP
// connection it was set up on.
//
// Client and server use the same code: wsman's client encrypts requests
// and decrypts replies, the test server of module integration does the
// reverse.
//
// A body that does not decrypt, whose checksum fails, that arrives out of
// sequence or whose plaintext length differs from the Length it announces
// is a [*TamperedError] (errors.Is [ErrTampered]); a body whose framing
// cannot be read is [ErrMalformed]. Nothing panics on hostile input.
package encryption

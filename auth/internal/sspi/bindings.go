package sspi

import "encoding/binary"

// secChannelBindingsLen is the size of SEC_CHANNEL_BINDINGS: eight
// 32-bit fields (initiator address type, length and offset; the same for
// the acceptor; application data length and offset).
const secChannelBindingsLen = 32

// ChannelBindings lays out SEC_CHANNEL_BINDINGS for a
// SECBUFFER_CHANNEL_BINDINGS buffer: no addresses (HTTP binds to the TLS
// channel only) and the application data (for HTTPS,
// gss.TLSServerEndPoint's "tls-server-end-point:" and the certificate
// hash) right after the header. Windows hashes the same fields as GSS-API
// does (RFC 4121 4.1.1.2), so the authenticator's Bnd equals
// gss.ChannelBindingsMD5 of the application data.
func ChannelBindings(applicationData []byte) []byte {
	b := make([]byte, secChannelBindingsLen, secChannelBindingsLen+len(applicationData))
	binary.LittleEndian.PutUint32(b[24:], uint32(len(applicationData)))
	binary.LittleEndian.PutUint32(b[28:], secChannelBindingsLen)
	return append(b, applicationData...)
}

package gss

// Hooks for the external tests, which build replies the package never
// sends itself (KRB-ERROR, SPNEGO reject).
var (
	MarshalNegTokenResp = marshalNegTokenResp
	TokIDKRBError       = tokIDKRBError
)

// MarshalKRB5 frames a Kerberos message as an RFC 4121 token.
func MarshalKRB5(id [2]byte, msg []byte) []byte { return marshalKRB5(id, msg) }

// OIDKRB5 returns the DER of the Kerberos mechanism OID.
func OIDKRB5() []byte { return oidKRB5 }

package gss

// WrapLayout wraps as [SecurityContext.Wrap] does, but with the given EC
// and RRC fields and a rotation by rotate bytes: the layouts other peers
// send (MIT's gss_wrap: RRC 0; MS-KILE's text: rotation by RRC+EC).
func (c *SecurityContext) WrapLayout(plaintext []byte, seq uint64, ec, rrc uint16, rotate int) ([]byte, error) {
	return c.wrap(plaintext, seq, ec, rrc, rotate)
}

// OpenUnsequenced is Open without the sequence check, for benchmarks that
// open one token many times.
func (s *Sealer) OpenUnsequenced(token []byte) ([]byte, error) {
	pt, _, err := s.open(token, nil)
	return pt, err
}

package encryption

import (
	"mime"
	"testing"
)

// The Content-Types recognized without mime.ParseMediaType give what it
// gives, and other spellings of the same type still parse through it.
func TestParseContentTypeFastPath(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{ProtocolSPNEGO, ProtocolKerberos} {
		ct := ContentType(protocol)
		_, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatal(err)
		}
		p, b, err := parseContentType(ct)
		if err != nil || p != params["protocol"] || b != params["boundary"] {
			t.Fatalf("%q: %q %q %v, mime: %q %q", ct, p, b, err, params["protocol"], params["boundary"])
		}
		other := `Multipart/Encrypted; protocol="` + protocol + `"; boundary="Encrypted Boundary"`
		if p, b, err := parseContentType(other); err != nil || p != protocol || b != Boundary {
			t.Fatalf("%q: %q %q %v", other, p, b, err)
		}
	}
	for _, bad := range []string{"multipart/encrypted", "text/plain", `multipart/encrypted;protocol=""`} {
		if _, _, err := parseContentType(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

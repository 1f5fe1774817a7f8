package ccache

import (
	"testing"
)

func FuzzParse(f *testing.F) {
	v4 := Marshal(sampleCache())
	f.Add(v4)
	f.Add(v4[:len(v4)/2])
	f.Add(toV3(v4))
	f.Add([]byte{})
	f.Add([]byte{5, 1, 1, 0, 0, 0, 1, 0, 0, 0, 'R'})
	f.Fuzz(func(t *testing.T, b []byte) {
		// The header reader (appending to a file) and the one-credential
		// reader (KCM, KEYRING) see the same bytes.
		if h, err := ParseHeader(b); err == nil && (h.Len > len(b) || h.Version < 1 || h.Version > 4) {
			t.Fatalf("header %+v from %d bytes", h, len(b))
		}
		if cr, err := ParseCredential(b); err == nil {
			if _, err := ParseCredential(MarshalCredential(nil, cr)); err != nil {
				t.Fatalf("re-parse of a marshalled credential: %v", err)
			}
		}
		c, err := Parse(b)
		if err != nil {
			return
		}
		// What parsed must survive a write and a second read, in its own
		// version too.
		if _, err := Parse(Marshal(c)); err != nil {
			t.Fatalf("re-parse of marshalled cache: %v", err)
		}
		if _, err := Parse(MarshalVersion(c, c.Version)); err != nil {
			t.Fatalf("re-parse of the cache in version %d: %v", c.Version, err)
		}
	})
}

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
		c, err := Parse(b)
		if err != nil {
			return
		}
		// What parsed must survive a write and a second read.
		if _, err := Parse(Marshal(c)); err != nil {
			t.Fatalf("re-parse of marshalled cache: %v", err)
		}
	})
}

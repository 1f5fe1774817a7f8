package ccache

import (
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/kinit-v4.ccache"); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	v4 := Marshal(sampleCache())
	f.Add(v4)
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

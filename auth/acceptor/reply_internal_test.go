package acceptor

import (
	"encoding/base64"
	"testing"
)

// TestReplyHeader checks the chunked encoding against the standard one
// at every length around the chunk size (384 bytes), where a mistake in
// the chunking would show.
func TestReplyHeader(t *testing.T) {
	token := make([]byte, 1200)
	for i := range token {
		token[i] = byte(i * 7)
	}
	for n := range len(token) {
		want := "Negotiate " + base64.StdEncoding.EncodeToString(token[:n])
		if got := replyHeader("Negotiate", token[:n]); got != want {
			t.Fatalf("%d bytes: %q, want %q", n, got, want)
		}
	}
}

package krbcrypto

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto/rfc3961"
)

// RFC 3961 A.1.
func TestNfoldRFC3961(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		bits int
		in   string
		out  string
	}{
		{64, "012345", "be072631276b1955"},
		{56, "password", "78a07b6caf85fa"},
		{64, "Rough Consensus, and Running Code", "bb6ed30870b7f0e0"},
		{168, "password", "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"},
		{192, "MASSACHVSETTS INSTITVTE OF TECHNOLOGY", "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b"},
		{168, "Q", "518a54a215a8452a518a54a215a8452a518a54a215"},
		{168, "ba", "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"},
		{64, "kerberos", "6b65726265726f73"},
		{128, "kerberos", "6b65726265726f737b9b5b2b93132b93"},
		{168, "kerberos", "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"},
		{256, "kerberos", "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4"},
	} {
		if got := hex.EncodeToString(nfold([]byte(v.in), v.bits/8)); got != v.out {
			t.Errorf("%d-fold(%q) = %s, want %s", v.bits, v.in, got, v.out)
		}
	}
}

// gokrb5's bit-by-bit n-fold is the oracle for the derivation constants
// and for inputs of every length up to three blocks.
func TestNfoldMatchesGokrb5(t *testing.T) {
	t.Parallel()
	in := make([]byte, 48)
	for i := range in {
		in[i] = byte(i*37 + 11)
	}
	for n := 1; n <= len(in); n++ {
		for _, outLen := range []int{8, 16, 21, 24, 32} {
			if got, want := nfold(in[:n], outLen), rfc3961.Nfold(in[:n], outLen*8); !bytes.Equal(got, want) {
				t.Fatalf("nfold(%d bytes, %d) = %x, gokrb5 %x", n, outLen, got, want)
			}
		}
	}
	for usage := range uint32(300) {
		for _, kind := range []byte{kindChecksum, kindEncrypt, kindIntegrity} {
			c := constant(usage, kind)
			if got, want := usageConstant(usage, kind), rfc3961.Nfold(c[:], 128); !bytes.Equal(got[:], want) {
				t.Fatalf("constant %x folds to %x, gokrb5 %x", c, got, want)
			}
		}
	}
}

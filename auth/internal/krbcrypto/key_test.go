package krbcrypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testKey(p *profile, seed byte) []byte {
	k := make([]byte, p.keyLen)
	for i := range k {
		k[i] = seed + byte(i*7)
	}
	return k
}

// RFC 3962 Appendix B: AES-128 CTS with IV 0 under the key "chicken
// teriyaki".
func TestCTSRFC3962(t *testing.T) {
	t.Parallel()
	blk, err := aes.NewCipher([]byte("chicken teriyaki"))
	if err != nil {
		t.Fatal(err)
	}
	u := &UsageKey{p: &profiles[0], ke: blk, ki: make([]byte, 16)}
	for _, v := range []struct{ in, out string }{
		{"4920776f756c64206c696b652074686520", "c6353568f2bf8cb4d8a580362da7ff7f97"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320", "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"},
		{"4920776f756c64206c696b65207468652047656e6572616c2047617527732043", "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c", "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20", "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8"},
		{"4920776f756c64206c696b65207468652047656e6572616c20476175277320436869636b656e2c20706c656173652c20616e6420776f6e746f6e20736f75702e", "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8"},
	} {
		buf := unhex(t, v.in)
		st := u.newState()
		u.ctsEncrypt(st, buf)
		if got := hex.EncodeToString(buf); got != v.out {
			t.Errorf("CTS(%s) = %s, want %s", v.in, got, v.out)
		}
		u.ctsDecrypt(st, buf)
		if got := hex.EncodeToString(buf); got != v.in {
			t.Errorf("CTS^-1(%s) = %s, want %s", v.out, got, v.in)
		}
	}
}

// RFC 8009 Appendix A: derived keys, encryption with a given confounder,
// checksums.
func TestRFC8009Vectors(t *testing.T) {
	t.Parallel()
	type enc struct{ plain, conf, cipher string }
	for _, v := range []struct {
		etype      int32
		key        string
		kc, ke, ki string
		encs       []enc
		ckIn, ck   string
	}{
		{
			etype: etypeID.AES128_CTS_HMAC_SHA256_128, key: "3705d96080c17728a0e800eab6e0d23c",
			kc: "b31a018a48f54776f403e9a396325dc3", ke: "9b197dd1e8c5609d6e67c3e37c62c72e", ki: "9fda0e56ab2d85e1569a688696c26a6c",
			encs: []enc{
				{"", "7e5895eaf2672435bad817f545a37148", "ef85fb890bb8472f4dab20394dca781dad877eda39d50c870c0d5a0a8e48c718"},
				{"000102030405", "7bca285e2fd4130fb55b1a5c83bc5b24", "84d7f30754ed987bab0bf3506beb09cfb55402cef7e6877ce99e247e52d16ed4421dfdf8976c"},
				{"000102030405060708090a0b0c0d0e0f", "56ab21713ff62c0a1457200f6fa9948f", "3517d640f50ddc8ad3628722b3569d2ae07493fa8263254080ea65c1008e8fc295fb4852e7d83e1e7c48c37eebe6b0d3"},
				{"000102030405060708090a0b0c0d0e0f1011121314", "a7a4e29a4728ce10664fb64e49ad3fac", "720f73b18d9859cd6ccb4346115cd336c70f58edc0c4437c5573544c31c813bce1e6d072c186b39a413c2f92ca9b8334a287ffcbfc"},
			},
			ckIn: "000102030405060708090a0b0c0d0e0f1011121314", ck: "d78367186643d67b411cba9139fc1dee",
		},
		{
			etype: etypeID.AES256_CTS_HMAC_SHA384_192, key: "6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52",
			kc: "ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d", ke: "56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49", ki: "69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f",
			encs: []enc{
				{"", "f764e9fa15c276478b2c7d0c4e5f58e4", "41f53fa5bfe7026d91faf9be959195a058707273a96a40f0a01960621ac612748b9bbfbe7eb4ce3c"},
				{"000102030405", "b80d3251c1f6471494256ffe712d0b9a", "4ed7b37c2bcac8f74f23c1cf07e62bc7b75fb3f637b9f559c7f664f69eab7b6092237526ea0d1f61cb20d69d10f2"},
				{"000102030405060708090a0b0c0d0e0f", "53bf8a0d105265d4e276428624ce5e63", "bc47ffec7998eb91e8115cf8d19dac4bbbe2e163e87dd37f49beca92027764f68cf51f14d798c2273f35df574d1f932e40c4ff255b36a266"},
				{"000102030405060708090a0b0c0d0e0f1011121314", "763e65367e864f02f55153c7e3b58af1", "40013e2df58e8751957d2878bcd2d6fe101ccfd556cb1eae79db3c3ee86429f2b2a602ac86fef6ecb647d6295fae077a1feb517508d2c16b4192e01f62"},
			},
			ckIn: "000102030405060708090a0b0c0d0e0f1011121314", ck: "45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a",
		},
	} {
		t.Run(fmt.Sprint(v.etype), func(t *testing.T) {
			k, err := NewKey(v.etype, unhex(t, v.key))
			if err != nil {
				t.Fatal(err)
			}
			u := k.Usage(2)
			if got := hex.EncodeToString(u.kcKey()); got != v.kc {
				t.Errorf("Kc %s, want %s", got, v.kc)
			}
			if got := hex.EncodeToString(u.ki); got != v.ki {
				t.Errorf("Ki %s, want %s", got, v.ki)
			}
			ke := kdfHMACSHA2(nil, k.p, k.base, usageLabel(2, kindEncrypt), k.p.keLen)
			if got := hex.EncodeToString(ke); got != v.ke {
				t.Errorf("Ke %s, want %s", got, v.ke)
			}
			for _, e := range v.encs {
				pt := unhex(t, e.plain)
				msg := append(unhex(t, e.conf), pt...)
				mac := make([]byte, u.MACLen())
				u.seal(msg, mac)
				if got := hex.EncodeToString(append(msg, mac...)); got != e.cipher {
					t.Errorf("encrypt(%s) = %s, want %s", e.plain, got, e.cipher)
				}
				back, err := u.Decrypt(unhex(t, e.cipher))
				if err != nil || !bytes.Equal(back, pt) {
					t.Errorf("decrypt(%s) = %x, %v", e.cipher, back, err)
				}
			}
			if got := hex.EncodeToString(u.Checksum(nil, unhex(t, v.ckIn))); got != v.ck {
				t.Errorf("checksum %s, want %s", got, v.ck)
			}
		})
	}
}

var oracleUsages = []uint32{1, 2, 3, 7, 11, 12, 14, 22, 23, 24, 25, 64, 1026}

// gokrb5 is the oracle for every enctype: the same derived keys, each side
// decrypts what the other encrypts, the same checksums.
func TestMatchesGokrb5(t *testing.T) {
	t.Parallel()
	for i := range profiles {
		p := &profiles[i]
		t.Run(fmt.Sprint(p.etype), func(t *testing.T) {
			t.Parallel()
			et, err := crypto.GetEtype(p.etype)
			if err != nil {
				t.Fatal(err)
			}
			base := testKey(p, byte(i))
			k, err := NewKey(p.etype, base)
			if err != nil {
				t.Fatal(err)
			}
			for _, usage := range oracleUsages {
				u := k.Usage(usage)
				if want, _ := et.DeriveKey(base, common.GetUsageKi(usage)); !bytes.Equal(u.ki, want) {
					t.Fatalf("usage %d Ki %x, gokrb5 %x", usage, u.ki, want)
				}
				if want, _ := et.DeriveKey(base, common.GetUsageKc(usage)); !bytes.Equal(u.kcKey(), want) {
					t.Fatalf("usage %d Kc %x, gokrb5 %x", usage, u.kcKey(), want)
				}
				for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, 4096} {
					pt := bytes.Repeat([]byte{byte(n)}, n)
					ct, err := u.Encrypt(nil, pt)
					if err != nil {
						t.Fatal(err)
					}
					if back, err := et.DecryptMessage(base, ct, usage); err != nil || !bytes.Equal(back, pt) {
						t.Fatalf("usage %d len %d: gokrb5 cannot decrypt ours: %v", usage, n, err)
					}
					_, theirs, err := et.EncryptMessage(base, pt, usage)
					if err != nil {
						t.Fatal(err)
					}
					if back, err := u.Decrypt(theirs); err != nil || !bytes.Equal(back, pt) {
						t.Fatalf("usage %d len %d: cannot decrypt gokrb5's: %v", usage, n, err)
					}
					want, err := et.GetChecksumHash(base, pt, usage)
					if err != nil {
						t.Fatal(err)
					}
					if got := u.Checksum(nil, pt); !bytes.Equal(got, want) {
						t.Fatalf("usage %d checksum %x, gokrb5 %x", usage, got, want)
					}
					if !u.VerifyChecksum(pt, want) {
						t.Fatal("VerifyChecksum refuses gokrb5's checksum")
					}
				}
			}
		})
	}
}

// MIT krb5's t_derive.c: derived keys of usage 2.
func TestDeriveMIT(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		etype      int32
		key        string
		kc, ke, ki string
	}{
		{etypeID.AES128_CTS_HMAC_SHA1_96, "42263c6e89f4fc28b8df68ee09799f15",
			"34280a382bc92769b2da2f9ef066854b", "5b14fc4e250e14ddf9dccf1af6674f53", "4ed31063621684f09ae8d89991af3e8f"},
		{etypeID.AES256_CTS_HMAC_SHA1_96, "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161",
			"bfab388bdcb238e9f9c98d6a878304f04d30c82556375ac507a7a852790f4674", "c7cfd9cd75fe793a586a542d87e0d1396f1134a104bb1a9190b8c90ada3ddf37", "97151b4c76945063e2eb0529dc067d97d7bba90776d8126d91f34f3101aea8ba"},
	} {
		k, err := NewKey(v.etype, unhex(t, v.key))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := aes.NewCipher(k.base)
		for _, c := range []struct {
			kind byte
			want string
		}{{kindChecksum, v.kc}, {kindEncrypt, v.ke}, {kindIntegrity, v.ki}} {
			if got := hex.EncodeToString(dk(nil, blk, usageConstant(2, c.kind), k.p.keLen)); got != c.want {
				t.Errorf("enctype %d kind %#x: %s, want %s", v.etype, c.kind, got, c.want)
			}
		}
	}
}

func TestTampered(t *testing.T) {
	t.Parallel()
	for i := range profiles {
		p := &profiles[i]
		k, _ := NewKey(p.etype, testKey(p, 1))
		u := k.Usage(24)
		ct, err := u.Encrypt(nil, []byte("a message of some length"))
		if err != nil {
			t.Fatal(err)
		}
		for j := range ct {
			bad := bytes.Clone(ct)
			bad[j] ^= 1
			if _, err := u.Decrypt(bad); !errors.Is(err, ErrIntegrity) {
				t.Fatalf("enctype %d: byte %d flipped: %v", p.etype, j, err)
			}
		}
		if _, err := k.Usage(22).Decrypt(ct); !errors.Is(err, ErrIntegrity) {
			t.Fatalf("other usage: %v", err)
		}
		for n := range u.Overhead() {
			if _, err := u.Decrypt(ct[:n]); !errors.Is(err, ErrShort) {
				t.Fatalf("%d bytes: %v", n, err)
			}
		}
	}
	if _, err := NewKey(etypeID.RC4_HMAC, make([]byte, 16)); err == nil {
		t.Fatal("RC4 accepted")
	}
	if _, err := NewKey(etypeID.AES256_CTS_HMAC_SHA1_96, make([]byte, 16)); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	k, _ := NewKey(etypeID.AES256_CTS_HMAC_SHA1_96, make([]byte, 32))
	u := k.Usage(24)
	buf := make([]byte, 1024+u.Overhead())
	ct, _ := u.Encrypt(nil, make([]byte, 1024))
	if n := testing.AllocsPerRun(100, func() {
		_ = u.EncryptInPlace(buf[:1024+ConfounderLen], buf[1024+ConfounderLen:])
		copy(buf, ct)
		_, _ = u.DecryptInPlace(buf)
	}); n != 0 {
		t.Errorf("%v allocations per encryption and decryption", n)
	}
}

var benchSizes = []int{1 << 10, 150 << 10}

// BenchmarkRawAESCTSHMACSHA1 is the floor for aes256-cts-hmac-sha1-96: the
// AES-256-CBC pass and the HMAC-SHA1 pass over a confounder, the message
// and a 16-byte header, with every key and mode made beforehand, using the
// standard library directly.
func BenchmarkRawAESCTSHMACSHA1(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			blk, _ := aes.NewCipher(make([]byte, 32))
			cbc := cipher.NewCBCEncrypter(blk, make([]byte, 16))
			mac := hmac.New(sha1.New, make([]byte, 32))
			n := (ConfounderLen + size + 16 + 15) / 16 * 16
			buf := make([]byte, n)
			sum := make([]byte, 0, sha1.Size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				mac.Reset()
				mac.Write(buf)
				sum = mac.Sum(sum[:0])
				cbc.CryptBlocks(buf, buf)
			}
		})
	}
}

// BenchmarkEncrypt measures UsageKey.EncryptInPlace, the same work as the
// raw benchmark plus the confounder and ciphertext stealing.
func BenchmarkEncrypt(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			k, _ := NewKey(etypeID.AES256_CTS_HMAC_SHA1_96, make([]byte, 32))
			u := k.Usage(24)
			buf := make([]byte, ConfounderLen+size+16+u.MACLen())
			msg := buf[:len(buf)-u.MACLen()]
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := u.EncryptInPlace(msg, buf[len(msg):]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDerive measures deriving Ke, Ki and Kc for one usage: what
// every message cost before the keys were cached.
func BenchmarkDerive(b *testing.B) {
	for i := range profiles {
		p := &profiles[i]
		b.Run(fmt.Sprint(p.etype), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k, _ := NewKey(p.etype, testKey(p, 3))
				k.Usage(24)
			}
		})
	}
}

// Package krbcrypto implements the Kerberos encryption and checksum
// profiles the project uses on its hot paths: aes128/aes256-cts-hmac-sha1-96
// (RFC 3961 simplified profile, RFC 3962) and aes128-cts-hmac-sha256-128 /
// aes256-cts-hmac-sha384-192 (RFC 8009).
//
// gokrb5 implements the same profiles, and stays the oracle for them in the
// tests, but it derives Ke, Ki and Kc again for every message, computes the
// RFC 3961 n-fold bit by bit, and allocates about a hundred times per call.
// Here a [Key] derives the keys of a usage once ([Key.Usage]) and the
// resulting [UsageKey] encrypts and decrypts in place with pooled AES-CBC and
// HMAC state, so a message costs the AES blocks, one HMAC and no
// allocation beyond the caller's buffer.
//
// Other enctypes (RC4-HMAC, DES3) are not handled: [Supported] reports
// false, and callers keep using gokrb5 for them.
package krbcrypto

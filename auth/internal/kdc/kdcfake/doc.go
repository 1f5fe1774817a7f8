// Package kdcfake is an in-process KDC for hermetic tests: it implements
// kdc.Transport, answers AS requests (with encrypted-timestamp
// pre-authentication) and TGS requests with real aes256 tickets, counts
// requests, and can be told to delay, fail, or run on a fake clock. Tests
// that need MIT's behaviour itself use package kdctest instead.
package kdcfake

// Package lab holds the integration lab's scripts (see README.md); Go code
// gets the ones it runs itself from here, so that the lab and the test
// suite run the same file.
package lab

import _ "embed"

// KDCProxyServe is kdcproxy-serve.py: python3-kdcproxy served over HTTPS.
//
//go:embed kdcproxy-serve.py
var KDCProxyServe string

// SquidConf is squid.conf.tmpl: Squid's configuration with placeholders,
// which squid.sh and the tests' Squid fill in.
//
//go:embed squid.conf.tmpl
var SquidConf string

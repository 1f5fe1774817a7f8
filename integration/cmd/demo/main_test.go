package main

import (
	"strings"
	"testing"
)

// TestDemo runs the README's main job as a test, so CI keeps it working.
func TestDemo(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"server saw: principal=alice@KRBHTTP.TEST channel_bound=false connection_auth=false",
		"no token: connection already mutually authenticated",
		"channel_bound=true",
		"delegated=true delegation_usable=true",
		"3 service-ticket request(s) as alice for HTTP/localhost across 4 calls",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

package auth

import (
	"fmt"
	"testing"
)

func TestLRUBounded(t *testing.T) {
	t.Parallel()
	c := newLRU[string, int](3)
	for i := range 3 {
		c.put(fmt.Sprint(i), i)
	}
	c.get("0") // 0 is now the most recently used; 1 the least
	c.put("3", 3)
	if _, ok := c.get("1"); ok || c.len() != 3 {
		t.Fatalf("len %d, least recently used kept: %v", c.len(), ok)
	}
	for _, k := range []string{"0", "2", "3"} {
		if _, ok := c.get(k); !ok {
			t.Fatalf("%s dropped", k)
		}
	}
	c.remove("2")
	if _, ok := c.get("2"); ok || c.len() != 2 {
		t.Fatal("remove")
	}
}

// TestPerOriginStateBounded: a transport that talked to more origins than
// it keeps state for holds maxOrigins of them.
func TestPerOriginStateBounded(t *testing.T) {
	t.Parallel()
	var tr Transport
	tr.init()
	for i := range maxOrigins + 10 {
		origin := fmt.Sprintf("https://h%d.example.test:443", i)
		tr.negotiateHosts.put(origin, struct{}{})
		tr.certs.put(origin, nil)
	}
	if tr.negotiateHosts.len() != maxOrigins || tr.certs.len() != maxOrigins {
		t.Fatalf("%d and %d entries, want %d", tr.negotiateHosts.len(), tr.certs.len(), maxOrigins)
	}
}

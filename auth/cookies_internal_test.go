package auth

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestRetryHeaderCookieRules(t *testing.T) {
	t.Parallel()
	resp := &http.Response{Header: http.Header{}}
	for _, c := range []*http.Cookie{
		{Name: "plain", Value: "1"},
		{Name: "secure", Value: "1", Secure: true},
		{Name: "parent", Value: "1", Domain: "example.test"},
		{Name: "sibling", Value: "1", Domain: "other.example.test"},
		{Name: "deep", Value: "1", Path: "/a/b/c"},
		{Name: "old", Value: "1", Expires: time.Now().Add(-time.Hour)},
		{Name: "elsewhere", Value: "", MaxAge: -1, Path: "/x"},
	} {
		resp.Header.Add("Set-Cookie", c.String())
	}
	h := http.Header{"Cookie": {"old=mine; elsewhere=mine; plain=0"}, "X-Keep": {"1"}}
	for raw, want := range map[string]string{
		"http://www.example.test/a/b":    "plain=1; parent=1; elsewhere=mine",
		"https://www.example.test/a/b/c": "deep=1; plain=1; secure=1; parent=1; elsewhere=mine",
	} {
		u, _ := url.Parse(raw)
		got := retryHeader(h, u, resp)
		if got.Get("Cookie") != want || got.Get("X-Keep") != "1" {
			t.Errorf("%s: Cookie %q, want %q", raw, got.Get("Cookie"), want)
		}
	}
	if h.Get("Cookie") != "old=mine; elsewhere=mine; plain=0" {
		t.Fatalf("input header changed: %v", h)
	}
}

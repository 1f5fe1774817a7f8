module github.com/krbhttp/krbhttp/wsman

go 1.26

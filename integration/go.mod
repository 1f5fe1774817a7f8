module github.com/krbhttp/krbhttp/integration

go 1.26

module github.com/krbhttp/krbhttp/sdk

go 1.26

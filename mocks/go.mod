module github.com/krbhttp/krbhttp/mocks

go 1.26

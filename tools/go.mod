module github.com/krbhttp/krbhttp/tools

go 1.26

module github.com/krbhttp/krbhttp/integration

go 1.26.0

require (
	github.com/google/uuid v1.6.0
	github.com/jcmturner/gokrb5/v8 v8.4.4
	github.com/krbhttp/krbhttp/auth v0.1.0
	github.com/krbhttp/krbhttp/redisstore v0.1.0
	github.com/krbhttp/krbhttp/sdk v0.1.0
)

require (
	github.com/alexbrainman/sspi v0.0.0-20250919150558-7d374ff0d59e // indirect
	github.com/jcmturner/goidentity/v6 v6.0.1 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
)

require (
	github.com/apapsch/go-jsonmerge/v2 v2.0.0 // indirect
	github.com/hashicorp/go-uuid v1.0.3 // indirect
	github.com/jcmturner/aescts/v2 v2.0.0 // indirect
	github.com/jcmturner/dnsutils/v2 v2.0.0 // indirect
	github.com/jcmturner/gofork v1.7.6 // indirect
	github.com/jcmturner/rpc/v2 v2.0.3 // indirect
	github.com/krbhttp/krbhttp/wsman v0.1.0
	github.com/oapi-codegen/runtime v1.9.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
)

replace github.com/krbhttp/krbhttp/auth => ../auth

replace github.com/krbhttp/krbhttp/redisstore => ../redisstore

replace github.com/krbhttp/krbhttp/sdk => ../sdk

replace github.com/krbhttp/krbhttp/wsman => ../wsman

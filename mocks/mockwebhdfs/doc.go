// Package mockwebhdfs holds gomock mocks of the interfaces of the WebHDFS
// client, [github.com/krbhttp/krbhttp/sdk/webhdfs]: MockClientInterface
// and MockClientWithResponsesInterface. Write code against
// webhdfs.ClientWithResponsesInterface (which *webhdfs.ClientWithResponses,
// returned by webhdfs.New, implements) and test it with the mock.
package mockwebhdfs

//go:generate go tool mockgen -typed -write_package_comment=false -destination=webhdfs.gen.go -package=mockwebhdfs github.com/krbhttp/krbhttp/sdk/webhdfs ClientInterface,ClientWithResponsesInterface

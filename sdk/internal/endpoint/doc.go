// Package endpoint holds what the SDK constructors share: checking the
// base URL, so that a typo fails at construction rather than on the first
// request, and building the Negotiate HTTP client.
package endpoint

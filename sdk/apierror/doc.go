// Package apierror is the error every SDK package's CheckResponse returns
// for a response whose status is not 2xx: the status, and the API's own
// error body when the response carried one. Each SDK package names its
// instance ResponseError (for example webhdfs.ResponseError, whose Body is
// the RemoteException), for errors.As.
package apierror

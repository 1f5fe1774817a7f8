package webhdfs

import "github.com/krbhttp/krbhttp/sdk/apierror"

// ResponseError is what [CheckResponse] returns: the status and, in Body,
// the RemoteException the server sent, if any.
type ResponseError = apierror.Error[RemoteExceptionResult]

// CheckResponse returns nil when r's status is 2xx and a *[ResponseError]
// otherwise. r is any response of the client (*GetResponse,
// *PutResponse, ...). A 307 that reaches the caller means the redirect to
// the datanode was not followed, usually because the body could not be
// rewound (see [FileBody]).
func CheckResponse(r apierror.Response[RemoteExceptionResult]) error {
	return apierror.Check("webhdfs", r)
}

// Summary describes the exception, e.g. "FileNotFoundException: File does
// not exist: /x".
func (r RemoteExceptionResult) Summary() string {
	return apierror.JavaException(r.RemoteException.Exception, r.RemoteException.Message)
}

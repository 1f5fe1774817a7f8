package webhdfs

import "io"

// FileBody returns a request body for CREATE (PutWithBody) and APPEND
// (PostWithBody) that reads the first size bytes of r, typically an
// *os.File, and can be sent more than once without holding the data in
// memory: the redirect to the datanode and a Negotiate challenge each need
// the body again. The clients of [New] and [NewWithClient] give such a
// request its Content-Length and GetBody. FileBody never closes r; the
// caller closes it when the call has returned.
func FileBody(r io.ReaderAt, size int64) io.Reader {
	return &fileBody{SectionReader: io.NewSectionReader(r, 0, size), r: r, size: size}
}

// fileBody is an io.ReadCloser so that http.NewRequest uses it as the
// request body as it is, where prepare can find it.
type fileBody struct {
	*io.SectionReader
	r    io.ReaderAt
	size int64
}

// Close does not close the underlying file: the request may need the body
// again, and the file is the caller's.
func (*fileBody) Close() error { return nil }

// rewind is the request's GetBody: a fresh reader from the start, which
// reads through ReadAt and so never races with an earlier reader still
// held by the transport.
func (b *fileBody) rewind() (io.ReadCloser, error) {
	return FileBody(b.r, b.size).(*fileBody), nil
}

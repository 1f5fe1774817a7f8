// Package mocks will hold gomock mocks of the public interfaces of this
// project, so that users can unit-test their code without a KDC. None are
// generated yet.
package mocks

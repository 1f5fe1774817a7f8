// Package soap builds the WS-Management requests of the Windows Remote
// Shell protocol (MS-WSMV) and parses the server's responses and faults.
//
// Requests are written by hand, element by element, in the order and with
// the prefixes Windows' own client and pywinrm use, so that golden files
// can pin them byte for byte. Responses are read with encoding/xml by
// namespace and local name, so any prefixes a server chooses work.
// Parsing is bounded by the caller (the body is read with a limit) and
// never panics on hostile input.
package soap

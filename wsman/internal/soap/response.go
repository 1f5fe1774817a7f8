package soap

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed marks a response that is not a SOAP envelope this package
// can read.
var ErrMalformed = errors.New("wsman: malformed SOAP response")

// Response is a server message: one of the shell responses or a fault.
type Response struct {
	Action    string
	MessageID string
	RelatesTo string

	ShellID   string   // CreateResponse
	CommandID string   // CommandResponse
	Streams   []Stream // ReceiveResponse, in document order
	// State is the CommandState URI of a ReceiveResponse (one of the
	// CommandState constants), ExitCode its exit code when HasExitCode.
	State       string
	ExitCode    int
	HasExitCode bool

	Fault *Fault // a fault, whatever the action says
}

// Stream is one rsp:Stream of a ReceiveResponse.
type Stream struct {
	Name      string // stdout or stderr
	CommandID string
	Data      []byte
	End       bool
}

// Fault is a SOAP fault with the WS-Management detail.
type Fault struct {
	Code      string // s:Sender or s:Receiver
	Subcode   string // e.g. w:TimedOut
	Reason    string
	WSManCode uint32 // f:WSManFault Code; 0 when absent
	Machine   string
	Message   string // f:Message, its text without markup
}

type xmlEnvelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action    string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		RelatesTo string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing RelatesTo"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		ResourceCreated *struct {
			// Nested structs: a path tag would want one namespace for
			// all its elements, and these are in two.
			ReferenceParameters struct {
				SelectorSet struct {
					Selectors []xmlSelector `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
				} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
			} `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing ReferenceParameters"`
		} `xml:"http://schemas.xmlsoap.org/ws/2004/09/transfer ResourceCreated"`
		Shell *struct {
			ShellID string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ShellId"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandResponse *struct {
			CommandID string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandId"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandResponse"`
		ReceiveResponse *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
			State *struct {
				State    string  `xml:"State,attr"`
				ExitCode *string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ExitCode"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandState"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell ReceiveResponse"`
		Fault *struct {
			Code struct {
				Value   string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				Subcode struct {
					Value string `xml:"http://www.w3.org/2003/05/soap-envelope Value"`
				} `xml:"http://www.w3.org/2003/05/soap-envelope Subcode"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Code"`
			Reason []string `xml:"http://www.w3.org/2003/05/soap-envelope Reason>Text"`
			Detail struct {
				WSManFault *struct {
					Code    string `xml:"Code,attr"`
					Machine string `xml:"Machine,attr"`
					Message struct {
						Inner string `xml:",innerxml"`
					} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault Message"`
				} `xml:"http://schemas.microsoft.com/wbem/wsman/1/wsmanfault WSManFault"`
			} `xml:"http://www.w3.org/2003/05/soap-envelope Detail"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Fault"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

type xmlSelector struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

// Parse reads a response envelope.
func Parse(b []byte) (*Response, error) {
	var e xmlEnvelope
	if err := xml.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	r := &Response{
		Action:    strings.TrimSpace(e.Header.Action),
		MessageID: strings.TrimSpace(e.Header.MessageID),
		RelatesTo: strings.TrimSpace(e.Header.RelatesTo),
	}
	body := &e.Body
	if f := body.Fault; f != nil {
		r.Fault = &Fault{
			Code:    strings.TrimSpace(f.Code.Value),
			Subcode: strings.TrimSpace(f.Code.Subcode.Value),
			Reason:  strings.TrimSpace(strings.Join(f.Reason, " ")),
		}
		if wf := f.Detail.WSManFault; wf != nil {
			r.Fault.Machine = wf.Machine
			r.Fault.Message = textOf(wf.Message.Inner)
			if wf.Code != "" {
				code, err := strconv.ParseUint(strings.TrimSpace(wf.Code), 0, 32)
				if err != nil {
					return nil, fmt.Errorf("%w: WSManFault Code %q", ErrMalformed, wf.Code)
				}
				r.Fault.WSManCode = uint32(code)
			}
		}
		return r, nil
	}
	if rc := body.ResourceCreated; rc != nil {
		for _, s := range rc.ReferenceParameters.SelectorSet.Selectors {
			if s.Name == "ShellId" {
				r.ShellID = strings.TrimSpace(s.Value)
			}
		}
	}
	if r.ShellID == "" && body.Shell != nil {
		r.ShellID = strings.TrimSpace(body.Shell.ShellID)
	}
	if body.CommandResponse != nil {
		r.CommandID = strings.TrimSpace(body.CommandResponse.CommandID)
	}
	if rr := body.ReceiveResponse; rr != nil {
		for _, s := range rr.Streams {
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Data))
			if err != nil {
				return nil, fmt.Errorf("%w: %s stream is not base64: %v", ErrMalformed, s.Name, err)
			}
			r.Streams = append(r.Streams, Stream{Name: s.Name, CommandID: s.CommandID, Data: data, End: strings.EqualFold(s.End, "true")})
		}
		if st := rr.State; st != nil {
			r.State = st.State
			if st.ExitCode != nil {
				code, err := strconv.ParseInt(strings.TrimSpace(*st.ExitCode), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%w: ExitCode %q", ErrMalformed, *st.ExitCode)
				}
				r.ExitCode, r.HasExitCode = int(code), true
			}
		}
	}
	return r, nil
}

// maxTextTokens bounds the walk over a fault message's markup.
const maxTextTokens = 10000

// textOf returns the character data of an XML fragment, its elements
// dropped (a provider fault nests its message in elements), with runs of
// white space collapsed.
func textOf(fragment string) string {
	d := xml.NewDecoder(strings.NewReader(fragment))
	var b bytes.Buffer
	for range maxTextTokens {
		tok, err := d.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok {
			b.Write(cd)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

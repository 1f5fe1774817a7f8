package winrmserver

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/krbhttp/krbhttp/wsman"
)

// URIs of the shell protocol (MS-WSMV).
const (
	nsShell        = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsTransfer     = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	resourceURICmd = nsShell + "/cmd"
	anonymous      = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
	actionFault    = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	stateDone      = nsShell + "/CommandState/Done"
	stateRunning   = nsShell + "/CommandState/Running"
)

// request is a client message, read by namespace and local name so that
// any prefixes work (pywinrm writes env:, Windows s:).
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		To               string  `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing To"`
		MessageID        string  `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		Action           string  `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		ResourceURI      string  `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		MaxEnvelopeSize  string  `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd MaxEnvelopeSize"`
		OperationTimeout string  `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		Selectors        []named `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet>Selector"`
		Options          []named `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet>Option"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Shell *struct {
			WorkingDirectory string  `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell WorkingDirectory"`
			IdleTimeOut      string  `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell IdleTimeOut"`
			Environment      []named `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Environment>Variable"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandLine *struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Receive *struct {
			Desired struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// named is an element with a Name attribute: Selector, Option, Variable.
type named struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

func lookup(list []named, name string) string {
	for _, n := range list {
		if strings.EqualFold(n.Name, name) {
			return strings.TrimSpace(n.Value)
		}
	}
	return ""
}

func (r *request) shellID() string { return lookup(r.Header.Selectors, "ShellId") }

// xsDuration matches the xs:duration forms clients send: PT20S,
// PT20.000S, PT1M30S, P1DT2H.
var xsDuration = regexp.MustCompile(`^P(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,9}(?:\.\d{1,9})?)S)?)?$`)

// parseDuration reads an xs:duration; zero and false when it is not one.
func parseDuration(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	m := xsDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	if m[4] != "" {
		sec, _ := strconv.ParseFloat(m[4], 64)
		d += time.Duration(sec * float64(time.Second))
	}
	return d, true
}

// esc escapes text for element content and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// reply is a response envelope in the layout Windows writes, answering
// the request with messageID.
func reply(action, relatesTo, body string) []byte {
	return []byte(`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"` +
		` xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="` + nsTransfer + `"` +
		` xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="` + nsShell + `"` +
		` xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header>` +
		`<a:Action>` + esc(action) + `</a:Action><a:MessageID>uuid:` + newID() + `</a:MessageID>` +
		`<a:To>` + anonymous + `</a:To><a:RelatesTo>` + esc(relatesTo) + `</a:RelatesTo></s:Header>` +
		`<s:Body>` + body + `</s:Body></s:Envelope>`)
}

// createdBody is the CreateResponse body: the EPR of the new shell and
// its details, as Windows 2012 and later send them.
func createdBody(endpoint, shellID, owner string) string {
	return `<x:ResourceCreated><a:Address>` + esc(endpoint) + `</a:Address><a:ReferenceParameters>` +
		`<w:ResourceURI>` + resourceURICmd + `</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">` + esc(shellID) +
		`</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
		`<rsp:Shell><rsp:ShellId>` + esc(shellID) + `</rsp:ShellId><rsp:ResourceUri>` + resourceURICmd + `</rsp:ResourceUri>` +
		`<rsp:Owner>` + esc(owner) + `</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams>` +
		`<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`
}

// receiveBody is a ReceiveResponse body for what take returned.
func receiveBody(commandID string, p *portion) string {
	var b strings.Builder
	b.WriteString(`<rsp:ReceiveResponse>`)
	id := esc(commandID)
	for i, name := range streamNames {
		if len(p.data[i]) > 0 {
			b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + id + `">` + base64.StdEncoding.EncodeToString(p.data[i]) + `</rsp:Stream>`)
		}
	}
	for i, name := range streamNames {
		if p.end[i] {
			b.WriteString(`<rsp:Stream Name="` + name + `" CommandId="` + id + `" End="true"></rsp:Stream>`)
		}
	}
	if p.done {
		b.WriteString(`<rsp:CommandState CommandId="` + id + `" State="` + stateDone + `"><rsp:ExitCode>` + strconv.Itoa(p.exitCode) + `</rsp:ExitCode></rsp:CommandState>`)
	} else {
		b.WriteString(`<rsp:CommandState CommandId="` + id + `" State="` + stateRunning + `"/>`)
	}
	b.WriteString(`</rsp:ReceiveResponse>`)
	return b.String()
}

// receiveOverhead is what a ReceiveResponse envelope takes besides the
// base64 of the output, with room to spare.
const receiveOverhead = 2048

// fault is a WS-Management fault.
type fault struct {
	status   int
	code     wsman.FaultCode
	soapCode string // s:Sender or s:Receiver
	subcode  string
	text     string
}

func (f *fault) Error() string { return fmt.Sprintf("fault %d %s: %s", f.code, f.subcode, f.text) }

// envelope is the fault message, in the layout of the MIT vectors.
func (f *fault) envelope(relatesTo, machine string) []byte {
	return []byte(`<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"` +
		` xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"` +
		` xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"><s:Header><a:Action>` + actionFault + `</a:Action>` +
		`<a:MessageID>uuid:` + newID() + `</a:MessageID><a:To>` + anonymous + `</a:To><a:RelatesTo>` + esc(relatesTo) + `</a:RelatesTo></s:Header>` +
		`<s:Body><s:Fault><s:Code><s:Value>` + f.soapCode + `</s:Value><s:Subcode><s:Value>` + f.subcode + `</s:Value></s:Subcode></s:Code>` +
		`<s:Reason><s:Text xml:lang="en-US">` + esc(f.text) + `</s:Text></s:Reason><s:Detail>` +
		`<f:WSManFault Code="` + strconv.FormatUint(uint64(f.code), 10) + `" Machine="` + esc(machine) + `"><f:Message>` + esc(f.text) + `</f:Message>` +
		`</f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`)
}

// The faults this server sends, with Windows' texts.
func faultTimedOut() *fault {
	return &fault{http.StatusInternalServerError, wsman.FaultOperationTimeout, "s:Receiver", "w:TimedOut",
		"The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "}
}

func faultShellNotFound(shellID string) *fault {
	return &fault{http.StatusInternalServerError, wsman.FaultShellNotFound, "s:Sender", "w:InvalidSelectors",
		"The request for the Windows Remote Shell with ShellId " + shellID + " failed because the shell was not found on the server. " +
			"Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. " +
			"Provide the correct ShellId or create a new shell and retry the operation. "}
}

func faultCommandNotFound(commandID string) *fault {
	return &fault{http.StatusInternalServerError, wsman.FaultShellNotFound, "s:Sender", "w:InvalidSelectors",
		"The request for the Windows Remote Shell command with CommandId " + commandID + " failed because the command was not found in the shell. "}
}

func faultMaxShells(n int) *fault {
	return &fault{http.StatusInternalServerError, wsman.FaultMaxShells, "s:Receiver", "w:QuotaLimit",
		fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d shells, "+
			"which has been exceeded. Close existing shells or raise the quota for this user. ", n)}
}

func faultMaxOperations(n int) *fault {
	return &fault{http.StatusInternalServerError, wsman.FaultMaxOperations, "s:Receiver", "w:QuotaLimit",
		fmt.Sprintf("The WS-Management service cannot process the request. This user is allowed a maximum number of %d concurrent operations, "+
			"which has been exceeded. Close existing operations for this user, or raise the quota for this user. ", n)}
}

// codeInvalidMessage is ERROR_WSMAN_INVALID_MESSAGE_INFORMATION_HEADER.
const codeInvalidMessage wsman.FaultCode = 2150858817

func faultInvalid(format string, args ...any) *fault {
	return &fault{http.StatusInternalServerError, codeInvalidMessage, "s:Sender", "w:InvalidMessageInformationHeader",
		"The WS-Management service cannot process the request: " + fmt.Sprintf(format, args...)}
}

// codeDirectory is ERROR_DIRECTORY, "The directory name is invalid."
const codeDirectory wsman.FaultCode = 267

func faultInternal(code wsman.FaultCode, text string) *fault {
	return &fault{http.StatusInternalServerError, code, "s:Receiver", "w:InternalError", text}
}

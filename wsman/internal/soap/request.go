package soap

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"strconv"
	"strings"
	"time"
)

// Namespaces of MS-WSMV.
const (
	NSSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	NSAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	NSWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	NSWSManMS    = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
	NSShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	NSTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	NSFault      = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// URIs of the shell protocol.
const (
	ResourceURICmd   = NSShell + "/cmd"
	AnonymousAddress = NSAddressing + "/role/anonymous"

	ActionCreate  = NSTransfer + "/Create"
	ActionDelete  = NSTransfer + "/Delete"
	ActionCommand = NSShell + "/Command"
	ActionSend    = NSShell + "/Send"
	ActionReceive = NSShell + "/Receive"
	ActionSignal  = NSShell + "/Signal"
	ActionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	CommandStateDone    = NSShell + "/CommandState/Done"
	CommandStateRunning = NSShell + "/CommandState/Running"
	CommandStatePending = NSShell + "/CommandState/Pending"
)

// ResponseAction is the action of the response to a request action.
func ResponseAction(action string) string { return action + "Response" }

// Header is what every request carries.
type Header struct {
	To               string        // the endpoint URL
	MessageID        string        // "uuid:..."
	Action           string        // one of the Action constants
	MaxEnvelopeSize  int           // the largest response the client accepts
	OperationTimeout time.Duration // how long the server may block
	Locale           string        // e.g. "en-US"
	ShellID          string        // the ShellId selector; empty for Create
	Options          []Option      // the OptionSet, in order
}

// Option is one w:Option of the OptionSet.
type Option struct{ Name, Value string }

// Variable is one environment variable of a shell.
type Variable struct{ Name, Value string }

// Shell is the body of Create.
type Shell struct {
	Environment      []Variable
	WorkingDirectory string
	IdleTimeout      time.Duration // 0: the server's default
}

// writer accumulates one envelope.
type writer struct{ bytes.Buffer }

// text writes s escaped for element content or an attribute value.
func (w *writer) text(s string) {
	_ = xml.EscapeText(w, []byte(s))
}

// elem writes <name attrs>text</name>; attrs alternate names and values.
func (w *writer) elem(name, text string, attrs ...string) {
	w.open(name, attrs...)
	w.text(text)
	w.close(name)
}

func (w *writer) open(name string, attrs ...string) {
	w.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.WriteString(" " + attrs[i] + `="`)
		w.text(attrs[i+1])
		w.WriteString(`"`)
	}
	w.WriteString(">")
}

func (w *writer) close(name string) { w.WriteString("</" + name + ">") }

// Duration formats d as an xs:duration in seconds, as WinRM writes them:
// PT20S, PT1.5S.
func Duration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// envelope writes the envelope around body, which writes the content of
// s:Body.
func envelope(h Header, body func(*writer)) []byte {
	w := &writer{}
	w.WriteString(`<s:Envelope xmlns:s="` + NSSOAP + `" xmlns:a="` + NSAddressing + `" xmlns:w="` + NSWSMan +
		`" xmlns:p="` + NSWSManMS + `" xmlns:rsp="` + NSShell + `"><s:Header>`)
	w.elem("a:To", h.To)
	w.WriteString(`<a:ReplyTo>`)
	w.elem("a:Address", AnonymousAddress, "s:mustUnderstand", "true")
	w.WriteString(`</a:ReplyTo>`)
	w.elem("w:MaxEnvelopeSize", strconv.Itoa(h.MaxEnvelopeSize), "s:mustUnderstand", "true")
	w.elem("a:MessageID", h.MessageID)
	w.WriteString(`<w:Locale xml:lang="`)
	w.text(h.Locale)
	w.WriteString(`" s:mustUnderstand="false"/><p:DataLocale xml:lang="`)
	w.text(h.Locale)
	w.WriteString(`" s:mustUnderstand="false"/>`)
	w.elem("w:OperationTimeout", Duration(h.OperationTimeout))
	w.elem("w:ResourceURI", ResourceURICmd, "s:mustUnderstand", "true")
	w.elem("a:Action", h.Action, "s:mustUnderstand", "true")
	if h.ShellID != "" {
		w.WriteString(`<w:SelectorSet>`)
		w.elem("w:Selector", h.ShellID, "Name", "ShellId")
		w.WriteString(`</w:SelectorSet>`)
	}
	if len(h.Options) > 0 {
		w.WriteString(`<w:OptionSet>`)
		for _, o := range h.Options {
			w.elem("w:Option", o.Value, "Name", o.Name)
		}
		w.WriteString(`</w:OptionSet>`)
	}
	w.WriteString(`</s:Header><s:Body>`)
	body(w)
	w.WriteString(`</s:Body></s:Envelope>`)
	return w.Bytes()
}

// Create is the request that opens a shell. Header.Action is set here.
func Create(h Header, s Shell) []byte {
	h.Action = ActionCreate
	return envelope(h, func(w *writer) {
		w.WriteString(`<rsp:Shell>`)
		if len(s.Environment) > 0 {
			w.WriteString(`<rsp:Environment>`)
			for _, v := range s.Environment {
				w.elem("rsp:Variable", v.Value, "Name", v.Name)
			}
			w.WriteString(`</rsp:Environment>`)
		}
		if s.WorkingDirectory != "" {
			w.elem("rsp:WorkingDirectory", s.WorkingDirectory)
		}
		if s.IdleTimeout > 0 {
			w.elem("rsp:IdleTimeOut", Duration(s.IdleTimeout))
		}
		w.WriteString(`<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`)
	})
}

// Command starts a command in the shell h.ShellID.
func Command(h Header, command string, args []string) []byte {
	h.Action = ActionCommand
	return envelope(h, func(w *writer) {
		w.WriteString(`<rsp:CommandLine>`)
		w.elem("rsp:Command", command)
		for _, a := range args {
			w.elem("rsp:Arguments", a)
		}
		w.WriteString(`</rsp:CommandLine>`)
	})
}

// Send delivers stdin data to a command; end closes its stdin.
func Send(h Header, commandID string, data []byte, end bool) []byte {
	h.Action = ActionSend
	return envelope(h, func(w *writer) {
		attrs := []string{"Name", "stdin", "CommandId", commandID}
		if end {
			attrs = append(attrs, "End", "true")
		}
		w.WriteString(`<rsp:Send>`)
		w.open("rsp:Stream", attrs...)
		enc := base64.NewEncoder(base64.StdEncoding, w)
		_, _ = enc.Write(data)
		_ = enc.Close()
		w.close("rsp:Stream")
		w.WriteString(`</rsp:Send>`)
	})
}

// Receive asks for a command's output.
func Receive(h Header, commandID string) []byte {
	h.Action = ActionReceive
	return envelope(h, func(w *writer) {
		w.WriteString(`<rsp:Receive>`)
		w.elem("rsp:DesiredStream", "stdout stderr", "CommandId", commandID)
		w.WriteString(`</rsp:Receive>`)
	})
}

// Signal sends a signal (a signal code URI) to a command.
func Signal(h Header, commandID, code string) []byte {
	h.Action = ActionSignal
	return envelope(h, func(w *writer) {
		w.open("rsp:Signal", "CommandId", commandID)
		w.elem("rsp:Code", code)
		w.close("rsp:Signal")
	})
}

// Delete closes the shell h.ShellID.
func Delete(h Header) []byte {
	h.Action = ActionDelete
	return envelope(h, func(*writer) {})
}

// SendCapacity returns how many stdin bytes fit in one Send request of at
// most maxEnvelope bytes with header h, or 0 when not even one does.
func SendCapacity(h Header, commandID string, maxEnvelope int) int {
	overhead := len(Send(h, commandID, nil, true))
	room := maxEnvelope - overhead
	if room < 4 {
		return 0
	}
	return room / 4 * 3
}

// NewUUID returns a random (version 4) UUID in the uppercase form Windows
// writes.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := strings.ToUpper(hex.EncodeToString(b[:]))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

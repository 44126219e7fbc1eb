package wire

import (
	"errors"
	"io"
)

// MaxMessageSize bounds one frame's body (request or response), stdin
// included. It is well above the largest payload Juju accepts from a tool
// (charm state is capped at 2 MiB).
const MaxMessageSize = 64 << 20

// Request asks the agent to run one tool in one hook context.
type Request struct {
	// ContextID is the hook's JUJU_CONTEXT_ID.
	ContextID string
	// Dir is the tool's working directory; relative file arguments are
	// resolved against it. It must be absolute.
	Dir string
	// Command is the tool name, e.g. "relation-get".
	Command string
	// Args are the tool's arguments, without the tool name.
	Args []string
	// StdinSet says Stdin holds the client's whole stdin.
	StdinSet bool
	Stdin    []byte
}

// Response is the outcome of one Request.
type Response struct {
	// Code is the tool's exit code: 0 ok, 1 runtime error, 2 usage error.
	Code   int
	Stdout []byte
	Stderr []byte
	// NeedStdin says the tool wants stdin and the request carried none;
	// the client must resend the request with StdinSet. Code, Stdout and
	// Stderr are meaningless when it is set.
	NeedStdin bool
}

var (
	// ErrTooLarge is returned for a frame whose body would exceed
	// MaxMessageSize.
	ErrTooLarge = errors.New("wire: message too large")
	// ErrMalformed is returned for a body that is not a well-formed
	// message of the expected kind.
	ErrMalformed = errors.New("wire: malformed message")
	// ErrJSONFraming is returned by ReadFrame when the peer speaks the
	// protocol's former JSON-lines framing: a hooktool binary older than
	// the agent.
	ErrJSONFraming = errors.New("wire: JSON-framed message from an older hook tool client; install the hooktool built with this agent")
)

const (
	kindRequest  = 'Q'
	kindResponse = 'R'

	flagStdin     = 1 // request: Stdin present
	flagNeedStdin = 1 // response: NeedStdin
)

// AppendRequest appends req to dst as one frame. A request whose body
// would exceed MaxMessageSize gets ErrTooLarge and dst back unchanged.
func AppendRequest(dst []byte, req Request) ([]byte, error) {
	size := 2 + 4 + len(req.ContextID) + 4 + len(req.Dir) + 4 + len(req.Command) + 4
	for _, a := range req.Args {
		size += 4 + len(a)
	}
	var flags byte
	if req.StdinSet {
		flags |= flagStdin
		size += 4 + len(req.Stdin)
	}
	if size > MaxMessageSize {
		return dst, ErrTooLarge
	}
	dst = appendHeader(dst, size, kindRequest, flags)
	dst = appendString(dst, req.ContextID)
	dst = appendString(dst, req.Dir)
	dst = appendString(dst, req.Command)
	dst = appendUint32(dst, uint32(len(req.Args)))
	for _, a := range req.Args {
		dst = appendString(dst, a)
	}
	if req.StdinSet {
		dst = appendBytes(dst, req.Stdin)
	}
	return dst, nil
}

// AppendResponse appends resp to dst as one frame. A response whose body
// would exceed MaxMessageSize gets ErrTooLarge and dst back unchanged.
func AppendResponse(dst []byte, resp Response) ([]byte, error) {
	size := 2 + 4 + 4 + len(resp.Stdout) + 4 + len(resp.Stderr)
	if size > MaxMessageSize {
		return dst, ErrTooLarge
	}
	var flags byte
	if resp.NeedStdin {
		flags |= flagNeedStdin
	}
	dst = appendHeader(dst, size, kindResponse, flags)
	dst = appendUint32(dst, uint32(int32(resp.Code)))
	dst = appendBytes(dst, resp.Stdout)
	dst = appendBytes(dst, resp.Stderr)
	return dst, nil
}

// ParseRequest decodes a frame body read by ReadFrame. Stdin aliases body.
// Args is never nil.
func ParseRequest(body []byte) (Request, error) {
	d := decoder{b: body}
	flags := d.header(kindRequest, flagStdin)
	req := Request{ContextID: d.str(), Dir: d.str(), Command: d.str()}
	n := d.uint32()
	// Each argument takes at least its 4-byte length: bound the
	// allocation by what the body can hold.
	if d.err == nil && uint64(n) > uint64(len(d.b))/4 {
		d.err = ErrMalformed
	}
	if d.err == nil {
		req.Args = make([]string, n)
		for i := range req.Args {
			req.Args[i] = d.str()
		}
	}
	if flags&flagStdin != 0 {
		req.StdinSet, req.Stdin = true, d.bytes()
	}
	if err := d.finish(); err != nil {
		return Request{}, err
	}
	return req, nil
}

// ParseResponse decodes a frame body read by ReadFrame. Stdout and Stderr
// alias body.
func ParseResponse(body []byte) (Response, error) {
	d := decoder{b: body}
	flags := d.header(kindResponse, flagNeedStdin)
	resp := Response{
		NeedStdin: flags&flagNeedStdin != 0,
		Code:      int(int32(d.uint32())),
		Stdout:    d.bytes(),
		Stderr:    d.bytes(),
	}
	if err := d.finish(); err != nil {
		return Response{}, err
	}
	return resp, nil
}

// ReadFrame reads one frame from r and returns its body in a new slice. It
// returns io.EOF if r ends before the frame's first byte,
// io.ErrUnexpectedEOF if it ends inside the frame, ErrTooLarge for a body
// over MaxMessageSize and ErrJSONFraming for a JSON line.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0] == '{' {
		return nil, ErrJSONFraming
	}
	n := uint32(hdr[0])<<24 | uint32(hdr[1])<<16 | uint32(hdr[2])<<8 | uint32(hdr[3])
	if n > MaxMessageSize {
		return nil, ErrTooLarge
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// appendHeader makes room for a whole frame of a size-byte body at once,
// then appends the length, kind and flags.
func appendHeader(dst []byte, size int, kind, flags byte) []byte {
	if free := cap(dst) - len(dst); free < 4+size {
		grown := make([]byte, len(dst), len(dst)+4+size)
		copy(grown, dst)
		dst = grown
	}
	return append(appendUint32(dst, uint32(size)), kind, flags)
}

func appendUint32(dst []byte, v uint32) []byte {
	return append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendString(dst []byte, s string) []byte {
	return append(appendUint32(dst, uint32(len(s))), s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	return append(appendUint32(dst, uint32(len(b))), b...)
}

// decoder reads a body front to back; the first error sticks and later
// reads return zero values.
type decoder struct {
	b   []byte
	err error
}

// header checks the kind byte and returns the flags, refusing bits outside
// known.
func (d *decoder) header(kind, known byte) byte {
	if len(d.b) < 2 || d.b[0] != kind || d.b[1]&^known != 0 {
		d.err = ErrMalformed
		return 0
	}
	flags := d.b[1]
	d.b = d.b[2:]
	return flags
}

func (d *decoder) uint32() uint32 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 4 {
		d.err = ErrMalformed
		return 0
	}
	v := uint32(d.b[0])<<24 | uint32(d.b[1])<<16 | uint32(d.b[2])<<8 | uint32(d.b[3])
	d.b = d.b[4:]
	return v
}

// bytes returns the next length-prefixed field, nil when empty.
func (d *decoder) bytes() []byte {
	n := d.uint32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(d.b)) {
		d.err = ErrMalformed
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	if n == 0 {
		return nil
	}
	return v
}

func (d *decoder) str() string { return string(d.bytes()) }

// finish reports the first error, or ErrMalformed if bytes are left over.
func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = ErrMalformed
	}
	return d.err
}

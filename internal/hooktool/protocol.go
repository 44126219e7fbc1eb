package hooktool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxMessageSize bounds one framed message (request or response), stdin
// included. It is well above the largest payload Juju accepts from a tool
// (charm state is capped at 2 MiB).
const MaxMessageSize = 64 << 20

// Request asks the agent to run one tool in one hook context.
type Request struct {
	// ContextID is the hook's JUJU_CONTEXT_ID.
	ContextID string `json:"context-id"`
	// Dir is the tool's working directory; relative file arguments are
	// resolved against it. It must be absolute.
	Dir string `json:"dir"`
	// Command is the tool name, e.g. "relation-get".
	Command string `json:"command"`
	// Args are the tool's arguments, without the tool name.
	Args []string `json:"args"`
	// StdinSet says Stdin holds the client's whole stdin.
	StdinSet bool   `json:"stdin-set,omitempty"`
	Stdin    []byte `json:"stdin,omitempty"`
}

// Response is the outcome of one Request.
type Response struct {
	// Code is the tool's exit code: 0 ok, 1 runtime error, 2 usage error.
	Code   int    `json:"code"`
	Stdout []byte `json:"stdout,omitempty"`
	Stderr []byte `json:"stderr,omitempty"`
	// NeedStdin says the tool wants stdin and the request carried none;
	// the client must resend the request with StdinSet. Code, Stdout and
	// Stderr are meaningless when it is set.
	NeedStdin bool `json:"need-stdin,omitempty"`
}

// StdinFunc returns the client's stdin. Without stdin in the request it
// returns ErrNeedStdin; the tool must then fail, and the server turns the
// result into a NeedStdin response whatever the tool printed.
type StdinFunc func() ([]byte, error)

// ErrNeedStdin is returned by a StdinFunc when the request carried no stdin.
var ErrNeedStdin = errors.New("hooktool: hook tool requires stdin, none supplied")

// errTooLarge is returned when a frame exceeds MaxMessageSize.
var errTooLarge = errors.New("hooktool: message too large")

// writeFrame writes v as one JSON line.
func writeFrame(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot encode message: %w", err)
	}
	if len(data) >= MaxMessageSize {
		return errTooLarge
	}
	data = append(data, '\n')
	_, err = w.Write(data)
	return err
}

// readFrame reads one JSON line into v. It returns io.EOF if the peer
// closed the connection between messages.
func readFrame(r *bufio.Reader, v any) error {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxMessageSize {
			return errTooLarge
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(buf) > 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(buf))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("cannot decode message: %w", err)
	}
	return nil
}

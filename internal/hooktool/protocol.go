package hooktool

import (
	"errors"

	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

// MaxMessageSize bounds one framed message (request or response), stdin
// included.
const MaxMessageSize = wire.MaxMessageSize

// Request asks the agent to run one tool in one hook context; see
// wire.Request.
type Request = wire.Request

// Response is the outcome of one Request; see wire.Response.
type Response = wire.Response

// StdinFunc returns the client's stdin. Without stdin in the request it
// returns ErrNeedStdin; the tool must then fail, and the server turns the
// result into a NeedStdin response whatever the tool printed.
type StdinFunc func() ([]byte, error)

// ErrNeedStdin is returned by a StdinFunc when the request carried no stdin.
var ErrNeedStdin = errors.New("hooktool: hook tool requires stdin, none supplied")

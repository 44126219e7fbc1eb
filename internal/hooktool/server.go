package hooktool

// Server lifecycle:
//
//	NewServer ──► serving ──Close──► closed (socket removed, all goroutines done)
//	               │  ▲
//	       Begin(id)│  │end()
//	               ▼  │
//	        context id registered: its requests reach the Handler
//
// Goroutines: one accept loop and one per open connection, all owned by the
// Server and waited for by Close.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

// Handler runs one tool for one registered hook context. stdin returns the
// client's stdin or ErrNeedStdin; if the handler called it and got
// ErrNeedStdin, the server ignores the returned Response and asks the
// client for stdin. A Handler is never called concurrently for the same
// context, and never after that context's end func returned.
type Handler[C any] func(ctx C, req Request, stdin StdinFunc) Response

// Server serves hook tool requests on a unix socket for one unit agent.
type Server[C any] struct {
	path     string
	peerUID  int // the only uid whose processes are served
	handler  Handler[C]
	listener *net.UnixListener

	mu       sync.Mutex
	contexts map[string]*hookContext[C] // guarded by mu
	conns    map[net.Conn]bool          // guarded by mu
	closed   bool                       // guarded by mu

	wg sync.WaitGroup
}

// hookContext is one registered hook. mu serialises its requests.
type hookContext[C any] struct {
	mu    sync.Mutex
	ctx   C
	ended bool // guarded by mu
}

// Option configures a Server.
type Option func(*options)

type options struct{ peerUID int }

// WithPeerUID serves only processes running as uid (default: the agent's
// own uid, which its hooks run as).
func WithPeerUID(uid int) Option { return func(o *options) { o.peerUID = uid } }

// NewServer listens on socketPath and serves requests with h. The socket is
// created inside a fresh 0700 directory next to socketPath, made 0600 and
// renamed into place, replacing any stale socket left by a previous agent.
// On Linux each connection's peer credentials (SO_PEERCRED) are checked
// too: a process of another uid is refused even if the socket's mode
// would let it connect (root, a changed mode).
func NewServer[C any](socketPath string, h Handler[C], opts ...Option) (*Server[C], error) {
	o := options{peerUID: os.Getuid()}
	for _, opt := range opts {
		opt(&o)
	}
	if h == nil {
		return nil, errors.New("cannot start hook tool server: nil handler")
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(socketPath), ".ht")
	if err != nil {
		return nil, fmt.Errorf("cannot start hook tool server: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	if err := os.Chmod(tmpDir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot start hook tool server: %w", err)
	}
	tmpPath := filepath.Join(tmpDir, "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmpPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot start hook tool server on %q: %w", socketPath, err)
	}
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("cannot start hook tool server: %w", err)
	}
	if err := os.Rename(tmpPath, socketPath); err != nil {
		l.Close()
		return nil, fmt.Errorf("cannot start hook tool server on %q: %w", socketPath, err)
	}
	s := &Server[C]{
		path:     socketPath,
		peerUID:  o.peerUID,
		handler:  h,
		listener: l,
		contexts: make(map[string]*hookContext[C]),
		conns:    make(map[net.Conn]bool),
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Path returns the socket path (the value of JUJU_AGENT_SOCKET_ADDRESS).
func (s *Server[C]) Path() string { return s.path }

// Begin registers a running hook under contextID. Requests carrying that ID
// are served with ctx until end is called; end waits for an in-flight
// request of this context to finish, so after it returns ctx is no longer
// used and the hook's changes can be committed. end is idempotent. Begin
// panics if contextID is empty or already registered: context IDs are
// unique per hook by construction.
func (s *Server[C]) Begin(contextID string, ctx C) (end func()) {
	if contextID == "" {
		panic("hooktool: empty context ID")
	}
	hc := &hookContext[C]{ctx: ctx}
	s.mu.Lock()
	if _, ok := s.contexts[contextID]; ok {
		s.mu.Unlock()
		panic(fmt.Sprintf("hooktool: context %q already registered", contextID))
	}
	s.contexts[contextID] = hc
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.contexts[contextID] == hc {
				delete(s.contexts, contextID)
			}
			s.mu.Unlock()
			hc.mu.Lock()
			hc.ended = true
			hc.mu.Unlock()
		})
	}
}

// Close stops accepting connections, interrupts idle ones, waits for
// in-flight requests to finish and removes the socket.
func (s *Server[C]) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	err := s.listener.Close()
	for conn := range s.conns {
		// Unblocks a read waiting for the next request; a request being
		// handled still gets its response written.
		conn.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.wg.Wait()
	if rmErr := os.Remove(s.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("cannot close hook tool server: %w", err)
	}
	return nil
}

func (s *Server[C]) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Accept errors other than close (EMFILE…) are transient.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(conn)
	}
}

func (s *Server[C]) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	r := bufio.NewReader(conn)
	var out []byte // reused response buffer
	if err := s.checkPeer(conn); err != nil {
		// Answer the first request (the client reads a response after
		// sending), then hang up.
		if _, rerr := wire.ReadFrame(r); rerr == nil {
			out, _ = wire.AppendResponse(out[:0], errorResponse(err.Error()))
			conn.Write(out)
		}
		return
	}
	for {
		body, err := wire.ReadFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !isTimeout(err) && !errors.Is(err, net.ErrClosed) {
				out, _ = wire.AppendResponse(out[:0], errorResponse("bad request: "+err.Error()))
				conn.Write(out)
			}
			return
		}
		req, err := wire.ParseRequest(body)
		if err != nil {
			out, _ = wire.AppendResponse(out[:0], errorResponse("bad request: "+err.Error()))
			conn.Write(out)
			return
		}
		out, err = wire.AppendResponse(out[:0], s.handle(req))
		if err != nil {
			out, _ = wire.AppendResponse(out[:0], errorResponse(fmt.Sprintf("cannot run %s: its output is over %d bytes", req.Command, MaxMessageSize)))
		}
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

// checkPeer refuses a connection from a process of another uid.
func (s *Server[C]) checkPeer(conn net.Conn) error {
	if !peerCredChecked {
		return nil
	}
	uid, err := peerUID(conn)
	if err != nil {
		return fmt.Errorf("connection refused: cannot read the peer's credentials: %v", err)
	}
	if uid != s.peerUID {
		return fmt.Errorf("connection refused: the hook tool runs as uid %d, the unit agent serves only uid %d", uid, s.peerUID)
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handle serves one request.
func (s *Server[C]) handle(req Request) Response {
	s.mu.Lock()
	hc := s.contexts[req.ContextID]
	s.mu.Unlock()
	if hc == nil {
		return wrongContext(req.ContextID)
	}
	if !filepath.IsAbs(req.Dir) {
		return errorResponse(fmt.Sprintf("bad request: Dir is not absolute: %q", req.Dir))
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if hc.ended {
		return wrongContext(req.ContextID)
	}
	needed := false
	stdin := func() ([]byte, error) {
		if !req.StdinSet {
			needed = true
			return nil, ErrNeedStdin
		}
		return req.Stdin, nil
	}
	resp := s.handler(hc.ctx, req, stdin)
	if needed {
		return Response{NeedStdin: true}
	}
	return resp
}

func wrongContext(id string) Response {
	return errorResponse(fmt.Sprintf("bad request: wrong context ID; got %q", id))
}

func errorResponse(msg string) Response {
	return Response{Code: 1, Stderr: []byte("ERROR " + msg + "\n")}
}

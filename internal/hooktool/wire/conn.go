package wire

import (
	"errors"
	"io"
	"syscall"
)

// Conn is one client connection to a hook tool server. It uses blocking
// system calls on its own socket, so it needs neither the net package nor
// the runtime's poller. It is not safe for concurrent use.
type Conn struct {
	fd  FD
	buf []byte // reused request buffer; owned by the caller's goroutine
}

// Dial connects to the unix socket at path (JUJU_AGENT_SOCKET_ADDRESS).
// Errors start with "cannot connect to unit agent".
func Dial(path string) (*Conn, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, errors.New("cannot connect to unit agent: cannot create socket: " + err.Error())
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return nil, errors.New("cannot connect to unit agent at " + path + ": " + err.Error())
	}
	return &Conn{fd: FD(fd)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	return syscall.Close(int(c.fd))
}

// Send sends one request and waits for its response. It does not handle
// NeedStdin; see Call.
func (c *Conn) Send(req Request) (Response, error) {
	frame, err := AppendRequest(c.buf[:0], req)
	if err != nil {
		return Response{}, errors.New("cannot send request: " + err.Error())
	}
	c.buf = frame
	if _, err := c.fd.Write(frame); err != nil {
		return Response{}, errors.New("cannot send request: " + err.Error())
	}
	body, err := ReadFrame(c.fd)
	if err == nil {
		var resp Response
		if resp, err = ParseResponse(body); err == nil {
			return resp, nil
		}
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return Response{}, errors.New("cannot read response: " + err.Error())
}

// Call sends req and, if the server asks for stdin, reads all of stdin (up
// to MaxMessageSize) and sends req again with it. A nil stdin counts as
// empty.
func (c *Conn) Call(req Request, stdin io.Reader) (Response, error) {
	req.StdinSet, req.Stdin = false, nil
	resp, err := c.Send(req)
	if err != nil || !resp.NeedStdin {
		return resp, err
	}
	var data []byte
	if stdin != nil {
		data, err = io.ReadAll(io.LimitReader(stdin, MaxMessageSize))
		if err != nil {
			return Response{}, errors.New("cannot read stdin: " + err.Error())
		}
	}
	req.StdinSet, req.Stdin = true, data
	resp, err = c.Send(req)
	if err == nil && resp.NeedStdin {
		return Response{}, errors.New("cannot run " + req.Command + ": server asked for stdin twice")
	}
	return resp, err
}

// Call dials path, runs one request with the stdin exchange and closes the
// connection.
func Call(path string, req Request, stdin io.Reader) (Response, error) {
	c, err := Dial(path)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	return c.Call(req, stdin)
}

// FD is an open file descriptor as an io.ReadWriter, without the os
// package. Read and Write retry on EINTR, and on EAGAIN (a non-blocking
// descriptor inherited from the parent) they retry every millisecond.
// Write writes everything or returns an error.
type FD int

// eagainWait is how long FD waits before retrying after EAGAIN.
var eagainWait = syscall.Timespec{Nsec: 1e6}

func (fd FD) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(int(fd), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			syscall.Nanosleep(&eagainWait, nil)
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (fd FD) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.Write(int(fd), p[written:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			syscall.Nanosleep(&eagainWait, nil)
			continue
		case err != nil:
			return written, err
		}
		written += n
	}
	return written, nil
}

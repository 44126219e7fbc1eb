package hooktool

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"time"
)

// DialTimeout bounds connecting to the agent socket.
const DialTimeout = 10 * time.Second

// Client is one connection to a unit agent's hook tool server. It is not
// safe for concurrent use.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to the agent socket. network is "unix" (or "tcp").
func Dial(network, address string) (*Client, error) {
	if network == "" {
		network = "unix"
	}
	conn, err := net.DialTimeout(network, address, DialTimeout)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to unit agent: %w", err)
	}
	return &Client{conn: conn, r: bufio.NewReader(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	return c.conn.Close()
}

// Send sends one request and waits for its response. It does not handle
// NeedStdin; see Call.
func (c *Client) Send(req Request) (Response, error) {
	if req.Args == nil {
		req.Args = []string{}
	}
	if err := writeFrame(c.conn, req); err != nil {
		return Response{}, fmt.Errorf("cannot send request: %w", err)
	}
	var resp Response
	if err := readFrame(c.r, &resp); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Response{}, fmt.Errorf("cannot read response: %w", err)
	}
	return resp, nil
}

// Call sends req and, if the server asks for stdin, reads all of stdin and
// sends req again with it. A nil stdin counts as empty.
func (c *Client) Call(req Request, stdin io.Reader) (Response, error) {
	req.StdinSet, req.Stdin = false, nil
	resp, err := c.Send(req)
	if err != nil || !resp.NeedStdin {
		return resp, err
	}
	var data []byte
	if stdin != nil {
		data, err = io.ReadAll(io.LimitReader(stdin, MaxMessageSize))
		if err != nil {
			return Response{}, fmt.Errorf("cannot read stdin: %w", err)
		}
	}
	req.StdinSet, req.Stdin = true, data
	resp, err = c.Send(req)
	if err == nil && resp.NeedStdin {
		return Response{}, fmt.Errorf("cannot run %s: server asked for stdin twice", req.Command)
	}
	return resp, err
}

// Call dials the agent, runs one request with the stdin protocol and closes
// the connection.
func Call(network, address string, req Request, stdin io.Reader) (Response, error) {
	c, err := Dial(network, address)
	if err != nil {
		return Response{}, err
	}
	defer c.Close()
	return c.Call(req, stdin)
}

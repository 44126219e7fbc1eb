package apiserver

import "net"

// ServeOn serves the API on one more listener (e.g. the address of the
// LXD bridge, for agents in containers) until the server stops.
func (s *Server) ServeOn(l net.Listener) error { return s.grpc.Serve(l) }

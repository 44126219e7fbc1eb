package api

import "google.golang.org/grpc"

// ClientConn is the connection as a gRPC client connection carrying the
// Conn's credentials, for callers that invoke methods by name (the
// authorization matrix test).
func (c *Conn) ClientConn() grpc.ClientConnInterface { return c.cc }

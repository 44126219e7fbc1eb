package api

import "google.golang.org/grpc"

// ClientConn is the connection's underlying gRPC client connection, for
// callers that invoke methods by name (the authorization matrix test).
func (c *Conn) ClientConn() *grpc.ClientConn { return c.cc }

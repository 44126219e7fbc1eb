package apiserver

import "google.golang.org/grpc"

// unaryInterceptors is the unary chain: the observer (if any) outermost,
// so it sees every call including those authentication refuses, then
// authentication.
func (s *Server) unaryInterceptors() []grpc.UnaryServerInterceptor {
	if s.cfg.UnaryObserver == nil {
		return []grpc.UnaryServerInterceptor{s.unaryAuth}
	}
	return []grpc.UnaryServerInterceptor{s.cfg.UnaryObserver, s.unaryAuth}
}

// streamInterceptors is the stream chain, ordered as unaryInterceptors.
func (s *Server) streamInterceptors() []grpc.StreamServerInterceptor {
	if s.cfg.StreamObserver == nil {
		return []grpc.StreamServerInterceptor{s.streamAuth}
	}
	return []grpc.StreamServerInterceptor{s.cfg.StreamObserver, s.streamAuth}
}

package apiserver

import "google.golang.org/grpc"

// unaryInterceptors is the unary chain: the observer (if any) outermost,
// so it sees every call including those authentication refuses, then
// authentication, then presence (presence.go).
func (s *Server) unaryInterceptors() []grpc.UnaryServerInterceptor {
	if s.cfg.UnaryObserver == nil {
		return []grpc.UnaryServerInterceptor{s.unaryAuth, s.presenceUnary}
	}
	return []grpc.UnaryServerInterceptor{s.cfg.UnaryObserver, s.unaryAuth, s.presenceUnary}
}

// streamInterceptors is the stream chain, ordered as unaryInterceptors.
func (s *Server) streamInterceptors() []grpc.StreamServerInterceptor {
	if s.cfg.StreamObserver == nil {
		return []grpc.StreamServerInterceptor{s.streamAuth, s.presenceStream}
	}
	return []grpc.StreamServerInterceptor{s.cfg.StreamObserver, s.streamAuth, s.presenceStream}
}

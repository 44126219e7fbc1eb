package watchhub

// Oldest is the revision after which the hub holds every event in memory.
func (h *Hub) Oldest() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.oldest
}

// Head is the newest revision the hub has published.
func (h *Hub) Head() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head
}

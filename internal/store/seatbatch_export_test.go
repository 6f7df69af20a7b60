package store

// SeatBatchesWaiting reports whether a shared seat statement of class id is running,
// and the sizes of the batches of bookings waiting for it, in order.
func (s *DB) SeatBatchesWaiting(id int64) (running bool, sizes []int) {
	s.seats.mu.Lock()
	defer s.seats.mu.Unlock()
	waiting, running := s.seats.classes[id]
	for _, bt := range waiting {
		sizes = append(sizes, len(bt.requests))
	}
	return running, sizes
}

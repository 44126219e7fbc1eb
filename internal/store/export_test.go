package store

// WithEpoch returns a copy of s writing under epoch e, to simulate a
// controller that was superseded.
func (s *Store) WithEpoch(e int64) *Store {
	c := *s
	c.epoch = e
	return &c
}

// TakeEpoch takes a new epoch, as a second controller opening the store would.
var TakeEpoch = (*Store).takeEpoch

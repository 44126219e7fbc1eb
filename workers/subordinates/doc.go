// Package subordinates is the controller worker that keeps subordinate
// units in step with their principals. It is level-triggered, as the
// cleaner is: on every store change (and every Resync) it derives from
// the documents alone what must happen now:
//
//	principal unit alive and in scope of a container relation with a
//	  subordinate application, no unit of it for this principal ─▶ add one
//	  (on the principal's machine)
//	subordinate unit alive, its principal dying, dead or gone ─▶ destroy it
//	subordinate unit alive, no alive container relation left between its
//	  application and its principal's ─▶ destroy it
//
// Creating is idempotent (the model guardian commits the unit with an
// index key per principal and subordinate application), so a pass
// repeated after a controller crash at any point adds nothing twice.
// Changes go through the actors (the Entities interface); the worker
// writes nothing itself. Decide is the pure core.
//
// Only the controller assembly imports this package.
package subordinates

// Package entity defines the durable documents of the controller's model
// (controller, model, application, unit, machine, charm), their key layout
// in the store, identities (tags) and the life cycle values.
//
// Each document has exactly one writer: the actor that owns the entity
// (see actors/). Everyone else reads documents from the store and must
// treat them as immutable snapshots.
//
// Who imports it: controller-side packages (actors, controller workers,
// the API server). Agents never do: they see the model only through the
// API's messages.
package entity

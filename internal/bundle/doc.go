// Package bundle reads Juju bundle files (bundle.yaml) and plans what
// deploying one changes in a model.
//
// Parse reads the subset Troupe deploys: applications with a local charm
// path (relative to the bundle file), num_units, options and to
// placements (a machine of the bundle's machines section, "new", or
// "<app>/<n>" to share a unit's machine), the machines section and
// relations as [[a:ep, b:ep], ...]. Plan is pure: given the bundle, the
// charms it names and what the model holds now, it returns the ordered
// changes (deploy, add machines, add units, set config, integrate). An
// application or relation already there with the same shape gives no
// change, so deploying a bundle twice changes nothing the second time; an
// application of another charm is a conflict, reported by name.
//
// The CLI (internal/cli) gathers the inputs, calls Plan and executes the
// changes through the ordinary API calls. This package does no IO besides
// Parse's reading of bytes it is given.
package bundle

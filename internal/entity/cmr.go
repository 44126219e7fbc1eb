package entity

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
)

// Cross-model relations within one controller.
//
// The offering model holds an Offer (which endpoints of which application
// other models may relate to). The consuming model holds a
// RemoteApplication (the SAAS entry `consume` creates, under an alias).
// A relation between a consuming application and the alias is an ordinary
// Relation of the consuming model whose Remote says which offering model
// serves the alias; the offering model holds a RelationLink under a
// relation id of its own, through which the offered application's units
// see and join that relation. Names in the relation's bags are the
// consuming model's: the offered units appear as <alias>/<n>; the
// offering side sees the consuming application as RemoteName
// ("remote-<32 hex>", as in Juju).

// Offer is an application endpoint offer of a model.
type Offer struct {
	UUID        string   `json:"uuid"`
	Name        string   `json:"name"`
	Application string   `json:"application"`
	Endpoints   []string `json:"endpoints"` // offered endpoint names, sorted
	Owner       string   `json:"owner"`
}

// RemoteApplication is a consumed offer (Juju's SAAS) in the consuming
// model, known there by Name (the alias).
type RemoteApplication struct {
	Name       string     `json:"name"`
	OfferUUID  string     `json:"offer-uuid"`
	OfferName  string     `json:"offer-name"`
	OfferModel string     `json:"offer-model"`      // offering model UUID
	ModelName  string     `json:"offer-model-name"` // offering model name
	Owner      string     `json:"offer-owner"`
	Controller string     `json:"controller"` // controller name, for the URL
	Endpoints  []Endpoint `json:"endpoints"`  // Application is Name
	Life       Life       `json:"life"`
}

// URL is the offer URL Juju's status shows: "ctrl:owner/model.offer".
func (r *RemoteApplication) URL() string {
	return OfferURL(r.Controller, r.Owner, r.ModelName, r.OfferName)
}

// OfferURL builds "ctrl:owner/model.offer" (the controller part only when
// given).
func OfferURL(controller, owner, model, offer string) string {
	u := owner + "/" + model + "." + offer
	if controller != "" {
		u = controller + ":" + u
	}
	return u
}

// RemoteRelation marks a relation of the consuming model whose other end
// is an offered application in another model.
type RemoteRelation struct {
	OfferModel string `json:"offer-model"` // offering model UUID
	LinkID     int    `json:"link-id"`     // the relation's id in the offering model
}

// RelationLink, in the offering model, stands for a relation of a
// consuming model: the offered application's units see it under ID. It
// is written with the relation (by the consuming model's guardian) and
// deleted with it (by the relation's actor).
type RelationLink struct {
	ID            int    `json:"id"` // relation id in the offering model
	Offer         string `json:"offer"`
	Application   string `json:"application"`    // offered application (offering model)
	ConsumerModel string `json:"consumer-model"` // consuming model UUID
	RelationID    int    `json:"relation-id"`    // the relation's id there
	Alias         string `json:"alias"`          // the offered application's name there
	ConsumerApp   string `json:"consumer-app"`   // the consuming application (consuming model)
	RemoteName    string `json:"remote-name"`    // the consuming application's name here
}

// ToConsumer maps a name (application or unit) seen in the offering model
// to the name the relation's bags use.
func (l *RelationLink) ToConsumer(name string) string {
	return l.rename(name, l.Application, l.Alias, l.RemoteName, l.ConsumerApp)
}

// FromConsumer maps a name of the relation's bags to the name the
// offering model's units see.
func (l *RelationLink) FromConsumer(name string) string {
	return l.rename(name, l.Alias, l.Application, l.ConsumerApp, l.RemoteName)
}

func (l *RelationLink) rename(name, fromA, toA, fromB, toB string) string {
	app, rest, isUnit := strings.Cut(name, "/")
	switch app {
	case fromA:
		app = toA
	case fromB:
		app = toB
	}
	if isUnit {
		return app + "/" + rest
	}
	return app
}

// NewRemoteName returns a fresh "remote-<32 hex>" application name (the
// hex part always holds a letter, so it is a valid application name).
func NewRemoteName() string {
	for {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			panic("entity: no randomness: " + err.Error())
		}
		h := hex.EncodeToString(b)
		if strings.ContainsAny(h, "abcdef") {
			return "remote-" + h
		}
	}
}

// OffersPrefix holds a model's offers.
func OffersPrefix(model string) string { return ModelPrefix(model) + "offer/" }

// OfferKey is the key of an Offer.
func OfferKey(model, name string) string { return OffersPrefix(model) + name }

// RemoteApplicationsPrefix holds a model's consumed offers.
func RemoteApplicationsPrefix(model string) string { return ModelPrefix(model) + "saas/" }

// RemoteApplicationKey is the key of a RemoteApplication.
func RemoteApplicationKey(model, name string) string { return RemoteApplicationsPrefix(model) + name }

// RelationLinksPrefix holds a model's links to other models' relations.
func RelationLinksPrefix(model string) string { return ModelPrefix(model) + "relation-link/" }

// RelationLinkKey is the key of a RelationLink.
func RelationLinkKey(model string, id int) string {
	return RelationLinksPrefix(model) + strconv.Itoa(id)
}

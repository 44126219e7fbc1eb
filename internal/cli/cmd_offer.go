package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// Cross-model relations within the controller: `offer`, `consume`,
// `offers`, `find-offers`, `remove-offer`, `remove-saas`. Argument forms
// and output shapes are Juju's (cli-contract §4.5).

// OfferURL is a parsed offer URL "[ctrl:][owner/]model.offer".
type OfferURL struct {
	Controller, Owner, Model, Name string
}

// ParseOfferURL parses "[ctrl:][owner/]model.offer". Pure.
func ParseOfferURL(s string) (OfferURL, error) {
	i := strings.LastIndex(s, ".")
	if i <= 0 || i == len(s)-1 {
		return OfferURL{}, fmt.Errorf("invalid offer URL %q: use [<controller>:][<owner>/]<model>.<offer>", s)
	}
	ref, err := cmdline.ParseModelRef(s[:i])
	if err != nil {
		return OfferURL{}, fmt.Errorf("invalid offer URL %q: %w", s, err)
	}
	name := s[i+1:]
	if !validName(name) {
		return OfferURL{}, fmt.Errorf("invalid offer URL %q: invalid offer name %q", s, name)
	}
	return OfferURL{Controller: ref.Controller, Owner: ref.User, Model: ref.Model, Name: name}, nil
}

func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// OfferTarget is the parsed argument of `offer`:
// "[owner/]model.app:ep[,ep]" or "app:ep[,ep]" (the current model).
type OfferTarget struct {
	Owner, Model, Application string
	Endpoints                 []string
}

// ParseOfferTarget parses offer's first argument. Pure.
func ParseOfferTarget(s string) (OfferTarget, error) {
	var t OfferTarget
	left, eps, ok := strings.Cut(s, ":")
	if !ok || eps == "" {
		return t, fmt.Errorf("invalid offer %q: name the endpoints, e.g. `troupe offer mymodel.mysql:db` or `mysql:db,admin`", s)
	}
	for _, e := range strings.Split(eps, ",") {
		if e = strings.TrimSpace(e); e == "" || !validName(e) {
			return t, fmt.Errorf("invalid offer %q: invalid endpoint %q", s, e)
		}
		t.Endpoints = append(t.Endpoints, e)
	}
	t.Application = left
	if i := strings.LastIndex(left, "."); i >= 0 {
		ref, err := cmdline.ParseModelRef(left[:i])
		if err != nil {
			return t, fmt.Errorf("invalid offer %q: %w", s, err)
		}
		if ref.Controller != "" {
			return t, fmt.Errorf("invalid offer %q: give the controller with --controller, not in the model reference", s)
		}
		t.Owner, t.Model, t.Application = ref.User, ref.Model, left[i+1:]
	}
	if !validName(t.Application) {
		return t, fmt.Errorf("invalid offer %q: invalid application name %q", s, t.Application)
	}
	return t, nil
}

// checkController refuses a controller other than the client's.
func checkController(cc ClientConfig, ctrl string) error {
	if ctrl != "" && ctrl != cc.Controller {
		return fmt.Errorf("controller %q not found: this client knows only %q; cross-controller offers are not supported", ctrl, cc.Controller)
	}
	return nil
}

func checkOwner(owner string) error {
	if owner != "" && owner != "admin" {
		return fmt.Errorf("owner %q not found: models on this controller are owned by admin", owner)
	}
	return nil
}

func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// runOffer is `troupe offer [owner/]model.app:ep[,ep] [name] [--controller c]`.
func runOffer(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("offer")
	fs.SetArgs("[<owner>/]<model>.<application>:<endpoint>[,<endpoint>...] [<offer-name>]")
	ctrl := fs.String("c", "controller", "", "controller of the model (the current one)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || len(rest) > 2 {
		return usage(errors.New("offer needs [<owner>/]<model>.<application>:<endpoint>[,<endpoint>] and optionally an offer name"))
	}
	t, err := ParseOfferTarget(rest[0])
	if err != nil {
		return usage(err)
	}
	name := t.Application
	if len(rest) == 2 {
		if name = rest[1]; !validName(name) {
			return usage(fmt.Errorf("invalid offer name %q: use lower-case letters, digits and dashes, starting with a letter", name))
		}
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := checkController(cc, *ctrl); err != nil {
		return err
	}
	if err := checkOwner(t.Owner); err != nil {
		return err
	}
	model := t.Model
	if model == "" {
		model = cc.CurrentModel
	}
	ctx, cancel := callCtx()
	defer cancel()
	res, err := conn.Offer(ctx, &apipb.OfferRequest{Model: model, Application: t.Application, Endpoints: t.Endpoints, Name: name})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Application %q endpoints [%s] available at %q\n", t.Application, strings.Join(t.Endpoints, ", "), res.Url)
	return nil
}

// runConsume is `troupe consume [-m m] [ctrl:][owner/]model.offer [alias]`.
func runConsume(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("consume")
	fs.SetArgs("[<controller>:][<owner>/]<model>.<offer> [<alias>]")
	modelRef := fs.String("m", "model", "", "model to consume the offer in")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || len(rest) > 2 {
		return usage(errors.New("consume needs an offer URL [<controller>:][<owner>/]<model>.<offer> and optionally an alias"))
	}
	u, err := ParseOfferURL(rest[0])
	if err != nil {
		return usage(err)
	}
	alias := ""
	if len(rest) == 2 {
		if alias = rest[1]; !validName(alias) {
			return usage(fmt.Errorf("invalid alias %q: use lower-case letters, digits and dashes, starting with a letter", alias))
		}
	}
	conn, m, err := connectModel(env, *modelRef)
	if err != nil {
		return err
	}
	defer conn.Close()
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	if err := checkController(cc, u.Controller); err != nil {
		return err
	}
	if err := checkOwner(u.Owner); err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	res, err := conn.Consume(ctx, &apipb.ConsumeRequest{Model: m, OfferModel: u.Model, OfferOwner: u.Owner, OfferName: u.Name, Alias: alias})
	if err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Added %s as %s\n", res.Url, res.Name)
	return nil
}

// OfferDetails is one entry of `offers --format json`, keyed by offer name.
type OfferDetails struct {
	Application string                     `json:"application"`
	Store       string                     `json:"store"`
	Charm       string                     `json:"charm,omitempty"`
	OfferURL    string                     `json:"offer-url"`
	Endpoints   map[string]OfferEndpoint   `json:"endpoints"`
	Connections []OfferConnectionDetails   `json:"connections,omitempty"`
	Users       map[string]OfferUserDetail `json:"users,omitempty"`
}

// OfferEndpoint is an offered endpoint (both keys required).
type OfferEndpoint struct {
	Interface string `json:"interface"`
	Role      string `json:"role"`
}

// OfferConnectionDetails is one consumer's relation with an offer.
type OfferConnectionDetails struct {
	SourceModel    string             `json:"source-model"`
	Username       string             `json:"username"`
	RelationID     int                `json:"relation-id"`
	Endpoint       string             `json:"endpoint"`
	Status         OfferConnectStatus `json:"status"`
	IngressSubnets []string           `json:"ingress-subnets,omitempty"`
}

// OfferConnectStatus is a connection's status.
type OfferConnectStatus struct {
	Current string `json:"current"`
	Message string `json:"message,omitempty"`
	Since   string `json:"since,omitempty"`
}

// OfferUserDetail is a user's access to an offer.
type OfferUserDetail struct {
	DisplayName string `json:"display-name,omitempty"`
	Access      string `json:"access"`
}

// FoundOffer is one entry of `find-offers --format json`, keyed by URL.
type FoundOffer struct {
	Access    string                     `json:"access,omitempty"`
	Endpoints map[string]OfferEndpoint   `json:"endpoints"`
	Users     map[string]OfferUserDetail `json:"users,omitempty"`
}

func offerEndpointMap(eps []*apipb.RelationEndpoint) map[string]OfferEndpoint {
	out := map[string]OfferEndpoint{}
	for _, e := range eps {
		out[e.Name] = OfferEndpoint{Interface: e.Interface, Role: e.Role}
	}
	return out
}

// BuildOffers turns the API's offers into `offers`' document. Pure.
func BuildOffers(store string, offers []*apipb.OfferInfo) map[string]OfferDetails {
	out := map[string]OfferDetails{}
	for _, o := range offers {
		d := OfferDetails{Application: o.Application, Store: store, Charm: o.Charm, OfferURL: strings.TrimPrefix(o.Url, store+":"),
			Endpoints: offerEndpointMap(o.Endpoints), Users: map[string]OfferUserDetail{o.Owner: {Access: "admin"}}}
		for _, c := range o.Connections {
			d.Connections = append(d.Connections, OfferConnectionDetails{SourceModel: c.SourceModel, Username: c.Username,
				RelationID: int(c.RelationId), Endpoint: c.Endpoint, Status: OfferConnectStatus{Current: c.Status}})
		}
		out[o.Name] = d
	}
	return out
}

// BuildFoundOffers turns the API's offers into `find-offers`' document. Pure.
func BuildFoundOffers(store string, offers []*apipb.OfferInfo) map[string]FoundOffer {
	out := map[string]FoundOffer{}
	for _, o := range offers {
		out[strings.TrimPrefix(o.Url, store+":")] = FoundOffer{Access: "admin", Endpoints: offerEndpointMap(o.Endpoints),
			Users: map[string]OfferUserDetail{o.Owner: {Access: "admin"}}}
	}
	return out
}

func writeDoc(w io.Writer, format string, v any, tabular func(io.Writer) error) error {
	switch format {
	case "json":
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	case "yaml":
		return writeYAML(w, v)
	case "tabular", "summary":
		return tabular(w)
	}
	return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", format))
}

// runOffers is `troupe offers [-m m] [--format f] [<offer-name>]` (alias
// list-offers): the model's offers with their connections.
func runOffers(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("offers")
	fs.SetArgs("[<offer-name>]")
	modelRef := fs.String("m", "model", "", "model whose offers to list")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	fs.String("", "interface", "", "accepted for compatibility")
	fs.String("", "application", "", "accepted for compatibility")
	fs.Bool("", "active-only", false, "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usage(errors.New("offers takes at most one offer name"))
	}
	conn, m, err := connectModel(env, *modelRef)
	if err != nil {
		return err
	}
	defer conn.Close()
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	ctx, cancel := callCtx()
	defer cancel()
	res, err := conn.ListOffers(ctx, &apipb.ListOffersRequest{Model: m})
	if err != nil {
		return apiError(err)
	}
	offers := res.Offers
	if len(rest) == 1 {
		offers = nil
		for _, o := range res.Offers {
			if o.Name == rest[0] {
				offers = append(offers, o)
			}
		}
	}
	doc := BuildOffers(cc.Controller, offers)
	return writeDoc(env.Stdout, *format, doc, func(w io.Writer) error { return writeOffersTable(w, doc) })
}

func writeOffersTable(w io.Writer, doc map[string]OfferDetails) error {
	if len(doc) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 1, 2, ' ', 0)
	fmt.Fprintln(tw, "Offer\tUser\tRelation ID\tStatus\tEndpoint\tInterface\tRole\tIngress subnets")
	for _, name := range sortedNames(doc) {
		d := doc[name]
		if len(d.Connections) == 0 {
			fmt.Fprintf(tw, "%s\t-\t\t\t\t\t\t\n", name)
			continue
		}
		for _, c := range d.Connections {
			ep := d.Endpoints[c.Endpoint]
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", name, c.Username, c.RelationID, c.Status.Current, c.Endpoint, ep.Interface, ep.Role, strings.Join(c.IngressSubnets, ","))
		}
	}
	return tw.Flush()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runFindOffers is `troupe find-offers [--url u] [--interface i] [--format f]`:
// the offers of every model the user can read.
func runFindOffers(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("find-offers")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	url := fs.String("", "url", "", "only offers whose URL contains this")
	iface := fs.String("", "interface", "", "only offers with an endpoint of this interface")
	fs.String("c", "controller", "", "accepted for compatibility (the current controller)")
	fs.String("m", "model", "", "only offers of this model")
	owner := fs.String("", "owner", "", "only offers owned by this user")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage(errors.New("find-offers takes no arguments; filter with --url, --interface or --owner"))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := callCtx()
	defer cancel()
	res, err := conn.ListOffers(ctx, &apipb.ListOffersRequest{AllModels: true})
	if err != nil {
		return apiError(err)
	}
	var offers []*apipb.OfferInfo
	for _, o := range res.Offers {
		if *url != "" && !strings.Contains(o.Url, *url) || *owner != "" && o.Owner != *owner {
			continue
		}
		if *iface != "" && !hasInterface(o, *iface) {
			continue
		}
		offers = append(offers, o)
	}
	doc := BuildFoundOffers(cc.Controller, offers)
	return writeDoc(env.Stdout, *format, doc, func(w io.Writer) error {
		if len(doc) == 0 {
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 1, 2, ' ', 0)
		fmt.Fprintln(tw, "Store\tURL\tAccess\tInterfaces")
		for _, u := range sortedNames(doc) {
			var ifs []string
			for _, ep := range sortedNames(doc[u].Endpoints) {
				ifs = append(ifs, doc[u].Endpoints[ep].Interface+":"+ep)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cc.Controller, u, doc[u].Access, strings.Join(ifs, ", "))
		}
		return tw.Flush()
	})
}

func hasInterface(o *apipb.OfferInfo, iface string) bool {
	for _, e := range o.Endpoints {
		if e.Interface == iface {
			return true
		}
	}
	return false
}

// runRemoveOffer is `troupe remove-offer [--force] <offer-url>|<offer>...`.
func runRemoveOffer(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-offer")
	fs.SetArgs("<offer-url>|<offer-name> ...")
	modelRef := fs.String("m", "model", "", "model of offers given by name")
	force := fs.Bool("", "force", false, "also remove the offer's relations")
	fs.Bool("y", "yes", false, "accepted for compatibility; troupe never prompts")
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("remove-offer needs at least one offer URL or name"))
	}
	conn, m, err := connectModel(env, *modelRef)
	if err != nil {
		return err
	}
	defer conn.Close()
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	// Every argument is checked before any offer is removed, so a typo
	// in the third leaves the first two in place.
	type target struct{ model, name string }
	targets := make([]target, 0, len(rest))
	for _, arg := range rest {
		t, err := removeOfferTarget(cc, m, arg)
		if err != nil {
			return err
		}
		targets = append(targets, target{t.Model, t.Name})
	}
	for _, t := range targets {
		ctx, cancel := callCtx()
		_, err := conn.RemoveOffer(ctx, &apipb.RemoveOfferRequest{Model: t.model, Name: t.name, Force: *force})
		cancel()
		if err != nil {
			return apiError(err)
		}
	}
	return nil
}

// removeOfferTarget resolves one remove-offer argument, an offer URL or a
// bare offer name in model m, to the offer's model and name.
func removeOfferTarget(cc ClientConfig, m, arg string) (OfferURL, error) {
	if !strings.Contains(arg, ".") {
		return OfferURL{Model: m, Name: arg}, nil
	}
	u, err := ParseOfferURL(arg)
	if err != nil {
		return OfferURL{}, usage(err)
	}
	if err := checkController(cc, u.Controller); err != nil {
		return OfferURL{}, err
	}
	if err := checkOwner(u.Owner); err != nil {
		return OfferURL{}, err
	}
	return u, nil
}

// runRemoveSaas is `troupe remove-saas [-m m] <name>...`: the consumed
// offers' relations depart on both sides, then the entries go.
func runRemoveSaas(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("remove-saas")
	fs.SetArgs("<saas-name> ...")
	modelRef := fs.String("m", "model", "", "model of the consumed offers")
	force := fs.Bool("", "force", false, "accepted for compatibility")
	fs.Bool("", "no-wait", false, "accepted for compatibility")
	fs.Bool("", "no-prompt", false, "accepted for compatibility; troupe never prompts")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("remove-saas needs the name of at least one consumed offer; see `troupe status`"))
	}
	conn, m, err := connectModel(env, *modelRef)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := callCtx()
	defer cancel()
	if _, err := conn.RemoveSaas(ctx, &apipb.RemoveSaasRequest{Model: m, Names: rest, Force: *force}); err != nil {
		return apiError(err)
	}
	return nil
}

// SplitIntegrateURL recognises an integrate argument that names an offer
// by URL, "[owner/]model.offer[:endpoint]"; ok is false for "app[:ep]".
// Pure.
func SplitIntegrateURL(arg string) (u OfferURL, endpoint string, ok bool, err error) {
	left, endpoint, _ := strings.Cut(arg, ":")
	if !strings.Contains(left, ".") {
		return u, "", false, nil
	}
	u, err = ParseOfferURL(left)
	return u, endpoint, true, err
}

// consumeForIntegrate consumes an offer URL argument of integrate and
// returns the argument to integrate with (the alias, with the endpoint);
// any other argument is returned as it is.
func consumeForIntegrate(ctx context.Context, env *Env, conn interface {
	Consume(context.Context, *apipb.ConsumeRequest, ...grpc.CallOption) (*apipb.ConsumeResult, error)
}, model, arg string) (string, error) {
	u, ep, ok, err := SplitIntegrateURL(arg)
	if !ok {
		return arg, nil
	}
	if err != nil {
		return "", usage(err)
	}
	if err := checkOwner(u.Owner); err != nil {
		return "", err
	}
	res, err := conn.Consume(ctx, &apipb.ConsumeRequest{Model: model, OfferModel: u.Model, OfferOwner: u.Owner, OfferName: u.Name})
	if err != nil {
		return "", apiError(err)
	}
	fmt.Fprintf(env.Stderr, "Added %s as %s\n", res.Url, res.Name)
	if ep != "" {
		return res.Name + ":" + ep, nil
	}
	return res.Name, nil
}

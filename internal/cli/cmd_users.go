package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api"
	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
	"github.com/troupe-dev/troupe/internal/entity"
)

// Users and model access (Juju's add-user, grant, revoke, login, logout,
// change-user-password, whoami). The CLI never prompts: where Juju asks
// for a password on the terminal, these read it from the first line of
// standard input (a second line, if present, must repeat it).

// stdin is where passwords are read from; tests replace it.
var stdin io.Reader = os.Stdin

func readPassword(what string) (string, error) {
	r := bufio.NewReader(stdin)
	first, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && first != "") {
		return "", fmt.Errorf("cannot read %s from standard input: %v; pipe it in, e.g. `echo $PW | troupe ...`", what, err)
	}
	first = strings.TrimRight(first, "\r\n")
	if second, err := r.ReadString('\n'); err == nil || second != "" {
		if strings.TrimRight(second, "\r\n") != first {
			return "", errors.New("passwords do not match")
		}
	}
	if first == "" {
		return "", fmt.Errorf("empty %s; pipe it in on standard input", what)
	}
	return first, nil
}

func userTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func runAddUser(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("add-user")
	controller := fs.String("c", "controller", "", "controller to add the user to (only the current one)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) < 1 || len(rest) > 2 {
		return usage(errors.New("expected a user name and an optional display name"))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	if *controller != "" && *controller != cc.Controller {
		return fmt.Errorf("controller %q not found: this client knows only %q", *controller, cc.Controller)
	}
	name, display := rest[0], ""
	if len(rest) == 2 {
		display = rest[1]
	}
	pw := entity.NewPassword()[:24]
	ctx, cancel := userTimeout()
	defer cancel()
	if _, err := conn.AddUser(ctx, &apipb.AddUserRequest{Name: name, DisplayName: display, Password: pw}); err != nil {
		return apiError(err)
	}
	fmt.Fprintf(env.Stdout, "User %q added\nPlease send this password to %s, who logs in with `troupe login -u %s` (password on standard input)\nand then chooses their own with `troupe change-user-password`:\n    %s\n\n", name, name, name, pw)
	fmt.Fprintf(env.Stdout, "%q has not been granted access to any models. You can use \"troupe grant\" to grant access.\n", name)
	return nil
}

func runGrantAccess(revoke bool) func(env *Env, args []string) error {
	verb := "grant"
	if revoke {
		verb = "revoke"
	}
	return func(env *Env, args []string) error {
		fs := cmdline.NewFlagSet(verb)
		fs.String("c", "controller", "", "controller (only the current one)")
		rest, err := parse(fs, args)
		if err != nil {
			return err
		}
		if len(rest) < 3 {
			return usage(fmt.Errorf("expected `troupe %s <user> read|write|admin <model> [<model>...]`", verb))
		}
		if _, err := entity.ParseAccess(rest[1]); err != nil {
			return usage(err)
		}
		conn, cc, err := connect(env)
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := userTimeout()
		defer cancel()
		for _, ref := range rest[2:] {
			m, err := resolveModelRef(cc, ref)
			if err != nil {
				return err
			}
			if _, err := conn.GrantAccess(ctx, &apipb.GrantAccessRequest{User: rest[0], Access: rest[1], Model: m, Revoke: revoke}); err != nil {
				return apiError(err)
			}
		}
		return nil
	}
}

func runLogin(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("login")
	user := fs.String("u", "user", "", "user to log in as (default: the current one)")
	controller := fs.String("c", "controller", "", "controller (only the current one)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usage(errors.New("expected at most a controller name"))
	}
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	if len(rest) == 1 && *controller == "" {
		*controller = rest[0]
	}
	if *controller != "" && *controller != cc.Controller {
		return fmt.Errorf("controller %q not found: this client knows only %q", *controller, cc.Controller)
	}
	name := *user
	if name == "" {
		name = strings.TrimPrefix(cc.Tag, "user-")
	}
	if name == "" {
		return usage(errors.New("no user given; use `troupe login -u <user>`"))
	}
	pw, err := readPassword("password")
	if err != nil {
		return err
	}
	info := cc.Info
	info.Tag, info.Password = "user-"+name, pw
	conn, err := api.Dial(info)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := userTimeout()
	defer cancel()
	if _, err := conn.WhoAmI(ctx, &apipb.WhoAmIRequest{}); err != nil {
		return fmt.Errorf("cannot log into %q: %w", cc.Controller, apiError(err))
	}
	cc.Info = info
	if err := writeClientConfig(env.Home, cc); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "Welcome, %s. You are now logged into %q.\n", name, cc.Controller)
	return nil
}

func runLogout(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("logout")
	force := fs.Bool("", "force", false, "log out even though the password cannot be recovered")
	fs.String("c", "controller", "", "controller (only the current one)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	if cc.Tag == "user-admin" && !*force {
		return errors.New("preventing account loss: the admin password was generated at bootstrap and is kept only here; set one with `troupe change-user-password` first, or use --force")
	}
	cc.Tag, cc.Password = "", ""
	if err := writeClientConfig(env.Home, cc); err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, "Logged out. You are no longer logged into any controllers.")
	return nil
}

func runChangeUserPassword(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("change-user-password")
	fs.String("c", "controller", "", "controller (only the current one)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usage(errors.New("expected at most a user name"))
	}
	conn, cc, err := connect(env)
	if err != nil {
		return err
	}
	defer conn.Close()
	me := strings.TrimPrefix(cc.Tag, "user-")
	name := me
	if len(rest) == 1 {
		name = rest[0]
	}
	pw, err := readPassword("new password")
	if err != nil {
		return err
	}
	ctx, cancel := userTimeout()
	defer cancel()
	if _, err := conn.ChangeUserPassword(ctx, &apipb.ChangeUserPasswordRequest{User: name, Password: pw}); err != nil {
		return apiError(err)
	}
	if name == me {
		cc.Password = pw
		if err := writeClientConfig(env.Home, cc); err != nil {
			return err
		}
		fmt.Fprintln(env.Stderr, "Your password has been changed.")
		return nil
	}
	fmt.Fprintf(env.Stderr, "Password for %q has been changed.\n", name)
	return nil
}

func runWhoAmI(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("whoami")
	format := fs.String("", "format", "tabular", "output format: tabular|json|yaml")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cc, err := readClientConfig(env.Home)
	if err != nil {
		return err
	}
	if cc.Tag == "" {
		return errors.New("you are not logged in; run `troupe login -u <user>`")
	}
	model := cc.CurrentModel
	if model != "" && !strings.Contains(model, "/") {
		model = "admin/" + model
	}
	doc := map[string]string{"controller": cc.Controller, "model": model, "user": strings.TrimPrefix(cc.Tag, "user-")}
	switch *format {
	case "json":
		return json.NewEncoder(env.Stdout).Encode(doc)
	case "yaml":
		return writeYAML(env.Stdout, doc)
	case "tabular":
		fmt.Fprintf(env.Stdout, "Controller:  %s\nModel:       %s\nUser:        %s\n", doc["controller"], doc["model"], doc["user"])
		return nil
	}
	return usage(fmt.Errorf("invalid --format %q: use tabular, json or yaml", *format))
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/troupe-dev/troupe/internal/api/apipb"
	"github.com/troupe-dev/troupe/internal/cmdline"
)

// sshValueOpts are OpenSSH options that take a value (`-i KEY`).
var sshValueOpts = map[string]bool{"-i": true, "-o": true, "-p": true, "-l": true, "-F": true, "-J": true, "-E": true, "-c": true, "-m": true}

// splitSSHArgs separates the OpenSSH options that follow the target from
// the remote command: options come first (`-i KEY -o X=Y`), the command is
// the rest.
func splitSSHArgs(args []string) (opts, command []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return opts, args[i+1:]
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return opts, args[i:]
		}
		opts = append(opts, a)
		if sshValueOpts[a] && i+1 < len(args) {
			i++
			opts = append(opts, args[i])
		}
	}
	return opts, nil
}

// machineDir finds the local-provider directory of the machine a target
// (unit name or machine id) runs on. Only the local provider is reachable:
// its machines are directories on this host.
func machineDir(env *Env, model, target string) (string, error) {
	conn, m, err := connectModel(env, model)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := conn.Status(ctx, &apipb.StatusRequest{Model: m})
	if err != nil {
		return "", apiError(err)
	}
	machine := target
	if strings.Contains(target, "/") {
		machine = ""
		for _, a := range st.Applications {
			for _, u := range a.Units {
				if u.Name == target {
					machine = u.Machine
				}
			}
		}
		if machine == "" {
			return "", fmt.Errorf("unit %q not found; see `troupe status`", target)
		}
	}
	for _, mc := range st.Machines {
		if mc.Id == machine && mc.InstanceId != "" {
			dir := filepath.Join(env.Home, "machines", mc.InstanceId)
			if _, err := os.Stat(dir); err != nil {
				return "", fmt.Errorf("machine %s is not on this host (%v): ssh reaches local-provider machines only", machine, err)
			}
			return dir, nil
		}
	}
	return "", fmt.Errorf("machine %q not found or not provisioned yet; see `troupe status`", machine)
}

// runSSH runs a command on a unit's or machine's host. On the local
// provider that host is this one, so the command runs here through a
// shell, in the machine's directory, with stdin, stdout and stderr passed
// through; its exit code is the command's. OpenSSH options are accepted
// and ignored.
func runSSH(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("ssh")
	fs.SetArgs("[<user>@]<target> [<ssh option>...] [<command> [<arg>...]]")
	fs.StopAtFirstPositional()
	model := fs.String("m", "model", "", "model of the target")
	fs.String("", "container", "", "accepted for compatibility (Kubernetes only)")
	fs.Bool("", "no-host-key-checks", false, "accepted for compatibility")
	fs.Bool("", "pty", false, "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usage(errors.New("no target given: a unit name or machine id"))
	}
	target := rest[0]
	if _, after, ok := strings.Cut(target, "@"); ok {
		target = after
	}
	_, command := splitSSHArgs(rest[1:])
	if len(command) == 0 {
		return usage(errors.New("interactive ssh sessions are not supported; give a command to run"))
	}
	dir, err := machineDir(env, *model, target)
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", strings.Join(command, " "))
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, env.Stdout, env.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return exitCode{ee.ExitCode()}
		}
		return fmt.Errorf("cannot run the command: %w", err)
	}
	return nil
}

// runSCP copies files between this host and local-provider machines:
// `[user@]<target>:<path>` names a path on the target's host (this host).
func runSCP(env *Env, args []string) error {
	fs := cmdline.NewFlagSet("scp")
	fs.SetArgs("[<scp option>...] <source> <destination>")
	model := fs.String("m", "model", "", "model of the targets")
	fs.String("", "container", "", "accepted for compatibility (Kubernetes only)")
	fs.Bool("", "no-host-key-checks", false, "accepted for compatibility")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	var paths []string
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			paths = append(paths, a)
		}
	}
	if len(paths) != 2 {
		return usage(errors.New("expected a source and a destination; remote paths are [user@]<target>:<path>"))
	}
	resolve := func(p string) (string, error) {
		target, path, ok := strings.Cut(p, ":")
		if !ok {
			return p, nil
		}
		if _, after, ok := strings.Cut(target, "@"); ok {
			target = after
		}
		if _, err := machineDir(env, *model, target); err != nil {
			return "", err
		}
		return path, nil
	}
	src, err := resolve(paths[0])
	if err != nil {
		return err
	}
	dst, err := resolve(paths[1])
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", src, err)
	}
	defer in.Close()
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		dst = filepath.Join(dst, filepath.Base(src))
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("cannot copy to %s: %w", dst, err)
	}
	return out.Close()
}

// exitCode makes Main exit with the code of a command run for the user,
// without an ERROR line (the command printed its own errors).
type exitCode struct{ code int }

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", e.code) }

package charm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindHandler(t *testing.T) {
	type file struct {
		mode    os.FileMode
		symlink string // when set, create a symlink with this target
		dir     bool
	}
	tests := []struct {
		name      string
		files     map[string]file
		hook      string
		action    bool
		want      string // relative path; "" with wantErr or ErrNoHandler
		dispatch  bool
		noHandler bool
		wantErr   string
	}{
		{name: "dispatch wins", files: map[string]file{"dispatch": {mode: 0o755}, "hooks/install": {mode: 0o755}}, hook: "install", want: "dispatch", dispatch: true},
		{name: "dispatch for unknown hook", files: map[string]file{"dispatch": {mode: 0o700}}, hook: "db-relation-joined", want: "dispatch", dispatch: true},
		{name: "dispatch for action", files: map[string]file{"dispatch": {mode: 0o755}, "actions/backup": {mode: 0o755}}, hook: "backup", action: true, want: "dispatch", dispatch: true},
		{name: "hook", files: map[string]file{"hooks/install": {mode: 0o755}}, hook: "install", want: "hooks/install"},
		{name: "hook group exec only", files: map[string]file{"hooks/start": {mode: 0o610}}, hook: "start", want: "hooks/start"},
		{name: "action", files: map[string]file{"actions/backup": {mode: 0o755}}, hook: "backup", action: true, want: "actions/backup"},
		{name: "hook symlink", files: map[string]file{"hooks/real": {mode: 0o755}, "hooks/install": {symlink: "real"}}, hook: "install", want: "hooks/install"},
		{name: "missing hook", files: map[string]file{"hooks/install": {mode: 0o755}}, hook: "start", noHandler: true},
		{name: "no hooks dir", hook: "start", noHandler: true},
		{name: "action not a hook", files: map[string]file{"hooks/backup": {mode: 0o755}}, hook: "backup", action: true, noHandler: true},
		{name: "non-executable hook", files: map[string]file{"hooks/install": {mode: 0o644}}, hook: "install", wantErr: "is not executable: make it executable (chmod +x)"},
		{name: "non-executable action", files: map[string]file{"actions/a": {mode: 0o600}}, hook: "a", action: true, wantErr: "is not executable"},
		{name: "non-executable dispatch", files: map[string]file{"dispatch": {mode: 0o644}, "hooks/install": {mode: 0o755}}, hook: "install", wantErr: "dispatch\" is not executable"},
		{name: "hook is a dir", files: map[string]file{"hooks/install": {dir: true}}, hook: "install", wantErr: "is not a regular file"},
		{name: "broken symlink", files: map[string]file{"hooks/install": {symlink: "gone"}}, hook: "install", wantErr: "broken symlink"},
		{name: "slash in name", hook: "../dispatch", wantErr: `invalid hook name "../dispatch"`},
		{name: "dotdot name", hook: "..", wantErr: `invalid hook name ".."`},
		{name: "empty name", hook: "", action: true, wantErr: `invalid action name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, f := range tt.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				switch {
				case f.dir:
					err := os.Mkdir(p, 0o755)
					if err != nil {
						t.Fatal(err)
					}
				case f.symlink != "":
					if err := os.Symlink(f.symlink, p); err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(p, []byte("#!/bin/sh\n"), f.mode); err != nil {
						t.Fatal(err)
					}
					if err := os.Chmod(p, f.mode); err != nil {
						t.Fatal(err)
					}
				}
			}
			find := FindHandler
			if tt.action {
				find = FindActionHandler
			}
			h, err := find(dir, tt.hook)
			switch {
			case tt.noHandler:
				if !errors.Is(err, ErrNoHandler) {
					t.Fatalf("got %+v, %v; want ErrNoHandler", h, err)
				}
			case tt.wantErr != "":
				if err == nil || errors.Is(err, ErrNoHandler) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %+v, %v; want error containing %q", h, err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if want := (Handler{Path: filepath.Join(dir, tt.want), Dispatch: tt.dispatch}); h != want {
					t.Fatalf("handler = %+v, want %+v", h, want)
				}
			}
		})
	}
}

package wire_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/troupe-dev/troupe/internal/hooktool/wire"
)

func TestRequestRoundTrip(t *testing.T) {
	cases := []wire.Request{
		{ContextID: "app/0-install-1", Dir: "/var/lib/charm", Command: "status-get", Args: []string{}},
		{ContextID: "c", Dir: "/", Command: "relation-set", Args: []string{"-r", "db:2", "k=a b\nc", "", "\xff\x00nul"}},
		{ContextID: "c", Dir: "/", Command: "state-set", Args: []string{"--file", "-"}, StdinSet: true},
		{ContextID: "c", Dir: "/", Command: "state-set", Args: []string{}, StdinSet: true, Stdin: []byte("a: b\n\x00")},
	}
	for _, want := range cases {
		frame, err := wire.AppendRequest([]byte("prefix"), want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(frame, []byte("prefix")) {
			t.Fatalf("AppendRequest dropped dst: %q", frame)
		}
		body, err := wire.ReadFrame(bytes.NewReader(frame[len("prefix"):]))
		if err != nil {
			t.Fatal(err)
		}
		got, err := wire.ParseRequest(body)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	cases := []wire.Response{
		{},
		{Code: 1, Stderr: []byte("ERROR no\n")},
		{Code: -1, Stdout: []byte("active\n"), Stderr: []byte("warn\n")},
		{NeedStdin: true},
	}
	for _, want := range cases {
		frame, err := wire.AppendResponse(nil, want)
		if err != nil {
			t.Fatal(err)
		}
		body, err := wire.ReadFrame(bytes.NewReader(frame))
		if err != nil {
			t.Fatal(err)
		}
		got, err := wire.ParseResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
		}
	}
}

// TestEncodingIsPinned holds the byte format documented in doc.go; a change
// here is a protocol change that needs a new kind byte.
func TestEncodingIsPinned(t *testing.T) {
	req, err := wire.AppendRequest(nil, wire.Request{ContextID: "c1", Dir: "/d", Command: "x", Args: []string{"a", ""}, StdinSet: true, Stdin: []byte("in")})
	if err != nil {
		t.Fatal(err)
	}
	const wantReq = "00000026" + "5101" + "000000026331" + "000000022f64" + "0000000178" +
		"00000002" + "0000000161" + "00000000" + "00000002696e"
	if got := hex.EncodeToString(req); got != wantReq {
		t.Errorf("request bytes\n got %s\nwant %s", got, wantReq)
	}
	resp, err := wire.AppendResponse(nil, wire.Response{Code: 2, Stdout: []byte("o"), NeedStdin: false})
	if err != nil {
		t.Fatal(err)
	}
	const wantResp = "0000000f" + "5200" + "00000002" + "000000016f" + "00000000"
	if got := hex.EncodeToString(resp); got != wantResp {
		t.Errorf("response bytes\n got %s\nwant %s", got, wantResp)
	}
}

func TestReadFrameErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", io.EOF},
		{"short header", "\x00\x00", io.ErrUnexpectedEOF},
		{"short body", "\x00\x00\x00\x05abc", io.ErrUnexpectedEOF},
		{"too large", "\x04\x00\x00\x01", wire.ErrTooLarge},
		{"json line", `{"context-id":"c"}` + "\n", wire.ErrJSONFraming},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wire.ReadFrame(strings.NewReader(tc.in))
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	good, _ := wire.AppendRequest(nil, wire.Request{ContextID: "c", Dir: "/", Command: "x", Args: []string{"a"}})
	body := good[4:]
	cases := map[string][]byte{
		"empty":          {},
		"response kind":  append([]byte{'R'}, body[1:]...),
		"unknown flag":   append([]byte{'Q', 0x80}, body[2:]...),
		"truncated":      body[:len(body)-1],
		"trailing bytes": append(append([]byte(nil), body...), 0),
		"huge argc":      []byte("Q\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"),
	}
	for name, b := range cases {
		if _, err := wire.ParseRequest(b); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	if _, err := wire.ParseResponse(body); !errors.Is(err, wire.ErrMalformed) {
		t.Errorf("request parsed as response: %v", err)
	}
}

func TestAppendTooLarge(t *testing.T) {
	dst := []byte("keep")
	out, err := wire.AppendRequest(dst, wire.Request{StdinSet: true, Stdin: make([]byte, wire.MaxMessageSize)})
	if !errors.Is(err, wire.ErrTooLarge) || string(out) != "keep" {
		t.Errorf("got %q, %v; want dst unchanged and ErrTooLarge", out, err)
	}
	if _, err := wire.AppendResponse(nil, wire.Response{Stdout: make([]byte, wire.MaxMessageSize-2-11)}); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("response one byte over: got %v, want ErrTooLarge", err)
	}
}

func TestDialMissingSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.socket")
	_, err := wire.Dial(path)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot connect to unit agent at "+path+": ") {
		t.Errorf("got %v", err)
	}
}

// TestFDNonBlocking writes more than a pipe holds to a non-blocking pipe:
// FD.Write must wait out EAGAIN and deliver every byte in order.
func TestFDNonBlocking(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[0])
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	got := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(wire.FD(p[0]))
		got <- data
	}()
	n, err := wire.FD(p[1]).Write(want)
	syscall.Close(p[1])
	if err != nil || n != len(want) {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if data := <-got; !bytes.Equal(data, want) {
		t.Errorf("read %d bytes, want %d identical ones", len(data), len(want))
	}
}

package logsender

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/troupe-dev/troupe/internal/api/apipb"
)

// Juju levels beyond slog's four.
const (
	LevelTrace    = slog.LevelDebug - 4
	LevelCritical = slog.LevelError + 4
)

// ModuleKey is the attribute naming a record's module.
const ModuleKey = "module"

// LevelName is the Juju name of an slog level.
func LevelName(l slog.Level) string {
	switch {
	case l <= LevelTrace:
		return "TRACE"
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	case l < LevelCritical:
		return "ERROR"
	default:
		return "CRITICAL"
	}
}

// ParseLevel is the slog level of a Juju level name (as juju-log takes
// it); ok is false for an unknown name, which means INFO.
func ParseLevel(name string) (l slog.Level, ok bool) {
	switch strings.ToUpper(name) {
	case "TRACE":
		return LevelTrace, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARNING", "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "CRITICAL":
		return LevelCritical, true
	}
	return slog.LevelInfo, false
}

// Handler tees records to an inner handler and a Buffer.
type Handler struct {
	inner  slog.Handler
	buf    *Buffer
	module string      // the default module
	omit   []string    // attribute keys left out of messages
	attrs  []slog.Attr // from WithAttrs, flattened
	group  string      // prefix of later attribute keys
}

// NewHandler returns a handler writing to inner (at its level) and to buf
// (at every level), with module as the default module. Attributes named
// in omit stay out of the buffered messages (a unit agent omits "unit":
// the record's entity says it); "source" is always omitted.
func NewHandler(inner slog.Handler, buf *Buffer, module string, omit ...string) *Handler {
	return &Handler{inner: inner, buf: buf, module: module, omit: append(omit, "source")}
}

// Logger wraps a logger's handler in a Handler.
func Logger(l *slog.Logger, buf *Buffer, module string, omit ...string) *slog.Logger {
	return slog.New(NewHandler(l.Handler(), buf, module, omit...))
}

// Enabled implements slog.Handler: every level is buffered.
func (h *Handler) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.inner.Enabled(ctx, r.Level) {
		err = h.inner.Handle(ctx, r)
	}
	if !isSpooled(ctx) {
		h.buf.Append(h.convert(r))
	}
	return err
}

type spooledKey struct{}

// Spooled marks ctx so that a record logged with it goes to the inner
// handler only, not to the Buffer: its caller delivers the line to the
// controller some other way (the unit outbox) and it must not arrive
// twice.
func Spooled(ctx context.Context) context.Context { return context.WithValue(ctx, spooledKey{}, true) }

func isSpooled(ctx context.Context) bool {
	v, _ := ctx.Value(spooledKey{}).(bool)
	return v
}

func (h *Handler) convert(r slog.Record) *apipb.LogRecord {
	module := h.module
	var msg strings.Builder
	msg.WriteString(r.Message)
	add := func(prefix string, a slog.Attr) {
		key := prefix + a.Key
		if key == ModuleKey {
			module = a.Value.String()
			return
		}
		if slices.Contains(h.omit, key) {
			return
		}
		appendAttr(&msg, key, a.Value)
	}
	for _, a := range h.attrs {
		add("", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		add(h.group, a)
		return true
	})
	return &apipb.LogRecord{TimeUnixNano: r.Time.UnixNano(), Level: LevelName(r.Level), Module: module, Message: msg.String()}
}

func appendAttr(b *strings.Builder, key string, v slog.Value) {
	v = v.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, a := range v.Group() {
			appendAttr(b, key+"."+a.Key, a.Value)
		}
		return
	}
	s := v.String()
	if strings.ContainsAny(s, " \t\n\"=") {
		s = strconv.Quote(s)
	}
	b.WriteString(" " + key + "=" + s)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.inner = h.inner.WithAttrs(as)
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.group + a.Key
		c.attrs = append(c.attrs, a)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.inner = h.inner.WithGroup(name)
	c.group = h.group + name + "."
	return &c
}

package logbuf

import (
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// appendRecord appends r as a slog.JSONHandler made with no options but
// a level writes it, after the handler's own attributes pre (encoded by
// appendAttrs, each followed by a comma), and reports whether it could:
// it encodes strings, integers, booleans and durations, and refuses
// (appending nothing) a record with any other kind of value, an empty
// key, or a time whose year has not four digits. Those records go to
// slog's own handler; what this one writes is byte for byte slog's
// (TestAppendRecordMatchesSlog), and it writes it in a quarter of the
// time (BenchmarkAccessLine), which a line per request makes worth it.
func appendRecord(b []byte, r slog.Record, pre []byte) ([]byte, bool) {
	n := len(b)
	b, ok := appendHead(b, r.Time, r.Level, r.Message, pre)
	if !ok {
		return b[:n], false
	}
	r.Attrs(func(a slog.Attr) bool {
		b = append(b, ',')
		b, ok = appendAttr(b, a)
		return ok
	})
	if !ok {
		return b[:n], false
	}
	return append(b, "}\n"...), true
}

// appendHead appends the opening of a line, up to the record's own
// attributes: the time (unless zero), level, message and the handler's
// attributes pre. It refuses a time whose year has not four digits.
func appendHead(b []byte, t time.Time, level slog.Level, msg string, pre []byte) ([]byte, bool) {
	b = append(b, '{')
	if !t.IsZero() {
		t = t.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		b = append(b, `"time":"`...)
		b = appendTime(b, t)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendString(b, level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, msg)
	if len(pre) > 0 {
		b = append(b, ',')
		b = append(b, pre[:len(pre)-1]...)
	}
	return b, true
}

// appendAttrs encodes as, each followed by a comma, for appendRecord's
// pre, and reports whether it could (the kinds appendRecord encodes).
func appendAttrs(b []byte, as []slog.Attr) ([]byte, bool) {
	for _, a := range as {
		var ok bool
		if b, ok = appendAttr(b, a); !ok {
			return nil, false
		}
		b = append(b, ',')
	}
	return b, true
}

func appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" {
		return b, false // slog drops some of these and not others
	}
	b = appendString(b, a.Key)
	b = append(b, ':')
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		b = appendString(b, v.String())
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = strconv.AppendInt(b, int64(v.Duration()), 10)
	default:
		return b, false
	}
	return b, true
}

// appendString appends s quoted as slog's JSON handler quotes it:
// encoding/json's escapes without the HTML ones, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// lines holds the buffers appendRecord writes into.
var lines = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// putLine returns p to lines, unless one long line grew it past 16 KiB
// (slog's own pool keeps no larger buffer either).
func putLine(p *[]byte) {
	if cap(*p) <= 16<<10 {
		lines.Put(p)
	}
}

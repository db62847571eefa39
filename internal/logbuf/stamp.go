package logbuf

import (
	"sync/atomic"
	"time"
)

// A stamp is the RFC 3339 text of one second in one location: the date
// and time up to the seconds, and the zone. Every line of a second
// shares it, so a line formats only its fraction of a second; formatting
// the whole time was about 60 % of an access line's encoding.
type stamp struct {
	sec  int64
	loc  *time.Location
	head []byte // 2006-01-02T15:04:05
	zone []byte // Z or -07:00
}

// lastStamp is the stamp of the last second a line was written in. It is
// replaced, never changed, so a reader holds a consistent one.
var lastStamp atomic.Pointer[stamp]

// appendTime appends t as t.AppendFormat(b, time.RFC3339Nano) does
// (TestAppendTimeMatchesFormat), for a t without a monotonic reading.
func appendTime(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	s := lastStamp.Load()
	if s == nil || s.sec != sec || s.loc != loc {
		s = &stamp{
			sec: sec, loc: loc,
			head: t.AppendFormat(nil, "2006-01-02T15:04:05"),
			zone: t.AppendFormat(nil, "Z07:00"),
		}
		lastStamp.Store(s)
	}
	b = append(b, s.head...)
	if ns := t.Nanosecond(); ns != 0 {
		// ".999999999": nine digits, then the trailing zeros dropped.
		var f [10]byte
		f[0] = '.'
		for i := 9; i > 0; i-- {
			f[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(f)
		for f[n-1] == '0' {
			n--
		}
		b = append(b, f[:n]...)
	}
	return append(b, s.zone...)
}

package metrics

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCounters(t *testing.T) {
	reg := NewRegistry()
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_requests_total", Help: "Requests."}, []string{"kind", "code"})
	reg.MustRegister(vec)
	c := ByCode(vec, "a")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 100 {
				c.Inc(200 + i%2*204) // 200 and 404, each 50 times
			}
		})
	}
	wg.Wait()
	if c.Get(200) != c.Get(200) {
		t.Error("Get(200) returned two counters")
	}
	w := httptest.NewRecorder()
	Handler(reg).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	page := w.Body.String()
	for _, want := range []string{
		`t_requests_total{code="200",kind="a"} 400`,
		`t_requests_total{code="404",kind="a"} 400`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

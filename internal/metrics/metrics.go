// Package metrics holds kinko's Prometheus metrics: one registry per
// server (never the global one), with the Go runtime's and the process's
// collectors, the counters and histograms that the server's code moves,
// and gauges read when they are scraped. Every name starts with kinko_
// and says its unit (_seconds, _total). Labels are bounded: a request is
// counted by its route pattern, never by its path, and an outcome by its
// stable error code. This package must never hold business rules nor
// import the domain packages.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Result of an outcome that succeeded; a failure is counted by its API
// error code (docs/api.md).
const OK = "ok"

// Metrics are one server's metrics.
type Metrics struct {
	reg               *prometheus.Registry
	requests          *prometheus.CounterVec
	requestDuration   *prometheus.HistogramVec
	logins            *prometheus.CounterVec
	issuances         *prometheus.CounterVec
	revocations       *prometheus.CounterVec
	handshakeRefusals *prometheus.CounterVec
	jobRuns           *prometheus.CounterVec
	jobDuration       *prometheus.HistogramVec
}

// New returns the metrics of a server, registered with a registry of
// their own together with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_http_requests_total",
			Help: "HTTP requests answered, by listener, route pattern and status.",
		}, []string{"listener", "route", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kinko_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by listener and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"listener", "route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_logins_total",
			Help: "Login attempts, by channel (password, certificate) and result (ok or the API error code).",
		}, []string{"channel", "result"}),
		issuances: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_certificate_issuances_total",
			Help: "Client certificate issuances and renewals asked for, by kind and result (ok or the API error code).",
		}, []string{"kind", "result"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_certificate_revocations_total",
			Help: "Client certificate revocations asked for, by who asked (master, bank) and result (ok or the API error code).",
		}, []string{"by", "result"}),
		handshakeRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_tls_handshake_refusals_total",
			Help: "TLS handshakes the certificate portal refused for the client certificate, by reason.",
		}, []string{"reason"}),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kinko_job_runs_total",
			Help: "Runs of the background jobs, by job and result (ok, error).",
		}, []string{"job", "result"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kinko_job_duration_seconds",
			Help:    "Time a background job's run took, by job.",
			Buckets: []float64{.005, .01, .05, .1, .5, 1, 5, 10, 30, 60},
		}, []string{"job"}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.logins, m.issuances, m.revocations, m.handshakeRefusals, m.jobRuns, m.jobDuration)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Register adds a collector to the server's registry.
func (m *Metrics) Register(c prometheus.Collector) error { return m.reg.Register(c) }

// Request counts an answered request.
func (m *Metrics) Request(listener, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(listener, route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(listener, route).Observe(d.Seconds())
}

// Login counts a login attempt on channel ("password", "certificate").
func (m *Metrics) Login(channel, result string) { m.logins.WithLabelValues(channel, result).Inc() }

// Issuance counts an issuance ("issue") or renewal ("renew") asked for.
func (m *Metrics) Issuance(kind, result string) { m.issuances.WithLabelValues(kind, result).Inc() }

// Revocation counts a revocation asked for by "master" or "bank".
func (m *Metrics) Revocation(by, result string) { m.revocations.WithLabelValues(by, result).Inc() }

// HandshakeRefused counts a TLS handshake refused for its client
// certificate.
func (m *Metrics) HandshakeRefused(reason string) { m.handshakeRefusals.WithLabelValues(reason).Inc() }

// JobRun counts a background job's run and its duration.
func (m *Metrics) JobRun(job string, err error, d time.Duration) {
	result := OK
	if err != nil {
		result = "error"
	}
	m.jobRuns.WithLabelValues(job, result).Inc()
	m.jobDuration.WithLabelValues(job).Observe(d.Seconds())
}

// gaugeFunc is a collector of gauges and counters read when scraped.
type gaugeFunc struct {
	descs   []*prometheus.Desc
	collect func(ch chan<- prometheus.Metric)
}

func (g gaugeFunc) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range g.descs {
		ch <- d
	}
}

func (g gaugeFunc) Collect(ch chan<- prometheus.Metric) { g.collect(ch) }

// DBPool returns a collector of the database pool's statistics.
func DBPool(stats func() sql.DBStats) prometheus.Collector {
	maxOpen := prometheus.NewDesc("kinko_db_max_open_connections", "Most connections the database pool may open.", nil, nil)
	open := prometheus.NewDesc("kinko_db_open_connections", "Connections the database pool holds open.", nil, nil)
	inUse := prometheus.NewDesc("kinko_db_in_use_connections", "Connections of the database pool in use.", nil, nil)
	idle := prometheus.NewDesc("kinko_db_idle_connections", "Idle connections of the database pool.", nil, nil)
	waits := prometheus.NewDesc("kinko_db_waits_total", "Times a query waited for a connection of the pool.", nil, nil)
	waited := prometheus.NewDesc("kinko_db_wait_seconds_total", "Time queries waited for a connection of the pool.", nil, nil)
	return gaugeFunc{descs: []*prometheus.Desc{maxOpen, open, inUse, idle, waits, waited}, collect: func(ch chan<- prometheus.Metric) {
		s := stats()
		ch <- prometheus.MustNewConstMetric(maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
		ch <- prometheus.MustNewConstMetric(open, prometheus.GaugeValue, float64(s.OpenConnections))
		ch <- prometheus.MustNewConstMetric(inUse, prometheus.GaugeValue, float64(s.InUse))
		ch <- prometheus.MustNewConstMetric(idle, prometheus.GaugeValue, float64(s.Idle))
		ch <- prometheus.MustNewConstMetric(waits, prometheus.CounterValue, float64(s.WaitCount))
		ch <- prometheus.MustNewConstMetric(waited, prometheus.CounterValue, s.WaitDuration.Seconds())
	}}
}

// GateStats are the password-check queue's figures (identity.Gate).
type GateStats struct {
	Slots, Running, Waiting int
	Refused                 uint64
}

// PasswordGate returns a collector of the password-check queue.
func PasswordGate(stats func() GateStats) prometheus.Collector {
	slots := prometheus.NewDesc("kinko_password_checks_slots", "Password checks that may run at once.", nil, nil)
	running := prometheus.NewDesc("kinko_password_checks_running", "Password checks running.", nil, nil)
	waiting := prometheus.NewDesc("kinko_password_checks_waiting", "Password checks waiting for a slot.", nil, nil)
	refused := prometheus.NewDesc("kinko_password_checks_refused_total", "Password checks refused as busy (queue full or wait over).", nil, nil)
	return gaugeFunc{descs: []*prometheus.Desc{slots, running, waiting, refused}, collect: func(ch chan<- prometheus.Metric) {
		s := stats()
		ch <- prometheus.MustNewConstMetric(slots, prometheus.GaugeValue, float64(s.Slots))
		ch <- prometheus.MustNewConstMetric(running, prometheus.GaugeValue, float64(s.Running))
		ch <- prometheus.MustNewConstMetric(waiting, prometheus.GaugeValue, float64(s.Waiting))
		ch <- prometheus.MustNewConstMetric(refused, prometheus.CounterValue, float64(s.Refused))
	}}
}

// Outbox returns a collector of the mail outbox's backlog: how many mails
// wait and the age of the oldest at now. A failed read is left out of the
// scrape (and the scrape fails, as Prometheus reports).
func Outbox(backlog func(context.Context) (int, time.Time, error), now func() time.Time) prometheus.Collector {
	depth := prometheus.NewDesc("kinko_mail_outbox_mails", "Mails waiting in the outbox (neither sent nor dropped).", nil, nil)
	age := prometheus.NewDesc("kinko_mail_outbox_oldest_age_seconds", "Age of the oldest mail waiting in the outbox; 0 when none waits.", nil, nil)
	return gaugeFunc{descs: []*prometheus.Desc{depth, age}, collect: func(ch chan<- prometheus.Metric) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n, oldest, err := backlog(ctx)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(depth, err)
			return
		}
		a := 0.0
		if n > 0 {
			a = max(now().Sub(oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(depth, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(age, prometheus.GaugeValue, a)
	}}
}

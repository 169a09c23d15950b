"""``/metrics``: the Prometheus exposition of the server's counters, by ``prometheus-client``.

Requests by route, method and status; request and SPARQL query latency histograms
(measured until the streamed body is closed); query timeouts; truncated answers;
rejected requests by reason (too large, overloaded, SERVICE refused, unauthorised,
forbidden); the query workers and the answer cache, read when scraped.

Each application keeps its own registry in its process (the server runs one worker
process; tests build many apps). When ``PROMETHEUS_MULTIPROC_DIR`` is set before the
server starts, prometheus-client keeps the values in files there and ``/metrics`` sums
every process's (its multiprocess mode): several worker processes answer as one
(empty that folder before the server starts, as prometheus-client asks).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

bp = Blueprint("metrics", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REJECTED_BY_STATUS = {401: "unauthorized", 403: "forbidden", 413: "too_large", 429: "overloaded"}
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# a whole value as /metrics always wrote it ("3", not "3.0"): clients read counts as integers
_INTEGRAL = re.compile(r" (-?\d+)\.0$", re.MULTILINE)


class Metrics:
    """The counters of one application (prometheus-client's metrics, thread-safe)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "eti_http_requests_total",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "eti_http_request_duration_seconds",
            "Time from a request's start until its body was sent, by route.",
            ["route"],
            buckets=BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "eti_http_requests_in_flight",
            "Requests being answered now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.query_seconds = Histogram(
            "eti_sparql_query_duration_seconds",
            "SPARQL query latency until the answer was streamed, by query form.",
            ["form"],
            buckets=BUCKETS,
            registry=r,
        )
        self.timeouts = Counter(
            "eti_sparql_query_timeouts_total",
            "Queries stopped at the time limit (query_timeout).",
            registry=r,
        )
        self.truncations = Counter(
            "eti_sparql_truncated_answers_total",
            "Answers cut at the row limit (max_rows), each flagged with ETI-Truncated.",
            registry=r,
        )
        self.rejections = Counter(
            "eti_rejected_requests_total",
            "Requests refused by a limit or a rule, by reason.",
            ["reason"],
            registry=r,
        )
        self.started = Gauge(
            "eti_process_start_time_seconds",
            "Start of the server process.",
            registry=r,
            multiprocess_mode="min",
        )
        self.started.set(round(time.time(), 3))

    # -- recording -------------------------------------------------------------------------

    def request_started(self) -> None:
        self.in_flight.inc()

    def request_done(self, route: str, method: str, status: int) -> None:
        self.requests.labels(route, method, str(status)).inc()
        reason = REJECTED_BY_STATUS.get(status)
        if reason:
            self.reject(reason)

    def request_closed(self, route: str, seconds: float) -> None:
        self.in_flight.dec()
        self.request_seconds.labels(route).observe(seconds)

    def query_done(self, form: str, seconds: float) -> None:
        self.query_seconds.labels(form).observe(seconds)

    def answered_at_once(self, route: str, method: str, form: str, seconds: float) -> None:
        """A query answered whole before the application ran (the lean path): the
        records of a request and of its query."""
        self.requests.labels(route, method, "200").inc()
        self.request_seconds.labels(route).observe(seconds)
        self.query_seconds.labels(form).observe(seconds)

    def timeout(self) -> None:
        self.timeouts.inc()

    def truncated(self) -> None:
        self.truncations.inc()

    def reject(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    # -- exposition ------------------------------------------------------------------------

    def render(self, workers: int | None = None, answers: object | None = None) -> str:
        """The exposition: this registry's families (every process's, in multiprocess
        mode), then what is read when scraped (query workers, answer cache)."""
        source = self.registry
        if os.environ.get(MULTIPROCESS_DIR):
            source = CollectorRegistry()
            MultiProcessCollector(source)
        shown = CollectorRegistry(auto_describe=False)
        shown.register(_AsBefore(source))
        shown.register(_Scraped(workers, answers))
        return _INTEGRAL.sub(r" \1", generate_latest(shown).decode("utf-8"))


def _bound(value: str) -> str:
    """A bucket bound as the exposition wrote it before prometheus-client (``1``, not
    ``1.0``), so dashboards and alerts keep matching ``le``."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


class _AsBefore:
    """The families of ``source`` with the sample names and labels /metrics always had:
    whole bucket bounds, and no ``_created`` series."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        for family in self.source.collect():
            family.samples = [
                s._replace(labels={**s.labels, "le": _bound(s.labels["le"])})
                if "le" in s.labels
                else s
                for s in family.samples
                if not s.name.endswith("_created")
            ]
            yield family


class _Scraped:
    """Values read when scraped: the query workers, the answer cache's lookups and size."""

    def __init__(self, workers: int | None, answers: object | None) -> None:
        self.workers, self.answers = workers, answers

    def collect(self) -> Iterator[Metric]:
        if self.workers is not None:
            yield GaugeMetricFamily(
                "eti_query_workers", "Processes answering queries.", value=self.workers
            )
        if self.answers is not None:
            lookups = CounterMetricFamily(
                "eti_answer_cache_lookups_total",
                "Lookups of whole answers kept until the next write, by result.",
                labels=["result"],
            )
            for result, attribute in (("hit", "hits"), ("miss", "misses")):
                lookups.add_metric([result], getattr(self.answers, attribute))
            yield lookups
            yield GaugeMetricFamily(
                "eti_answer_cache_bytes",
                "Bytes of answers kept (answer_cache).",
                value=self.answers.size,  # type: ignore[attr-defined]
            )


def current() -> Metrics:
    """The metrics of the application serving this request."""
    return current_app.extensions["eti.metrics"]


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "(unmatched)"


def install(app: Flask) -> Metrics:
    """Count every request of ``app`` and serve ``/metrics``."""
    registry = Metrics()
    app.extensions["eti.metrics"] = registry

    @app.before_request
    def _count_start() -> None:
        g.metrics_started = time.perf_counter()
        registry.request_started()
        g.metrics_open = True

    @app.after_request
    def _count(response: Response) -> Response:
        if not g.pop("metrics_open", False):  # the request failed before it was counted
            registry.request_started()
        route = _route()
        registry.request_done(route, request.method, response.status_code)
        started = g.get("metrics_started", time.perf_counter())
        response.call_on_close(
            lambda: registry.request_closed(route, time.perf_counter() - started)
        )
        return response

    app.register_blueprint(bp)
    return registry


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition of the server's counters."""
    cat = current_app.extensions["eti"]
    runner = getattr(cat, "_runner", None)  # never start the pool
    workers = getattr(runner, "size", None)
    answers = getattr(cat, "_answers", None)
    return Response(current().render(workers, answers), content_type=CONTENT_TYPE)

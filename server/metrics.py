"""``/metrics``: Prometheus text exposition, written here (no client library), thread-safe.

Requests by route, method and status; request and SPARQL query latency histograms
(measured until the streamed body is closed); query timeouts; truncated answers;
rejected requests by reason (too large, overloaded, SERVICE refused, unauthorised,
forbidden).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, g, request

bp = Blueprint("metrics", __name__)

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REJECTED_BY_STATUS = {401: "unauthorized", 403: "forbidden", 413: "too_large", 429: "overloaded"}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Iterable[str], values: Iterable[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.counts[i] += 1
        self.total += 1
        self.sum += seconds


class Metrics:
    """The counters of one application; every update and the rendering hold one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = time.time()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.request_seconds: dict[str, _Histogram] = {}
        self.query_seconds: dict[str, _Histogram] = {}
        self.timeouts = 0
        self.truncations = 0
        self.rejections: dict[str, int] = {}
        self.in_flight = 0

    # -- recording -------------------------------------------------------------------------

    def request_started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def request_done(self, route: str, method: str, status: int) -> None:
        with self._lock:
            key = (route, method, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            reason = REJECTED_BY_STATUS.get(status)
            if reason:
                self.rejections[reason] = self.rejections.get(reason, 0) + 1

    def request_closed(self, route: str, seconds: float) -> None:
        with self._lock:
            self.in_flight -= 1
            self.request_seconds.setdefault(route, _Histogram()).observe(seconds)

    def query_done(self, form: str, seconds: float) -> None:
        with self._lock:
            self.query_seconds.setdefault(form, _Histogram()).observe(seconds)

    def answered_at_once(self, route: str, method: str, form: str, seconds: float) -> None:
        """A query answered whole before the application ran (the lean path): the four
        records of a request and its query under one lock."""
        with self._lock:
            key = (route, method, "200")
            self.requests[key] = self.requests.get(key, 0) + 1
            for data, label in ((self.request_seconds, route), (self.query_seconds, form)):
                histogram = data.get(label)
                if histogram is None:
                    histogram = data[label] = _Histogram()
                histogram.observe(seconds)

    def timeout(self) -> None:
        with self._lock:
            self.timeouts += 1

    def truncated(self) -> None:
        with self._lock:
            self.truncations += 1

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejections[reason] = self.rejections.get(reason, 0) + 1

    # -- exposition ------------------------------------------------------------------------

    def render(self, workers: int | None = None, answers: object | None = None) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, text: str) -> None:
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        def histogram(name: str, label: str, data: dict[str, _Histogram]) -> None:
            for value, h in sorted(data.items()):
                for bound, count in zip(BUCKETS, h.counts, strict=True):
                    le = f'le="{_number(bound)}"'
                    lines.append(f"{name}_bucket{_labels([label], [value], le)} {count}")
                inf = 'le="+Inf"'
                lines.append(f"{name}_bucket{_labels([label], [value], inf)} {h.total}")
                lines.append(f"{name}_sum{_labels([label], [value])} {_number(h.sum)}")
                lines.append(f"{name}_count{_labels([label], [value])} {h.total}")

        with self._lock:
            family(
                "eti_http_requests_total",
                "counter",
                "HTTP requests answered, by route, method and status.",
            )
            for (route, method, status), n in sorted(self.requests.items()):
                labels = _labels(("route", "method", "status"), (route, method, status))
                lines.append(f"eti_http_requests_total{labels} {n}")
            family(
                "eti_http_request_duration_seconds",
                "histogram",
                "Time from a request's start until its body was sent, by route.",
            )
            histogram("eti_http_request_duration_seconds", "route", self.request_seconds)
            family("eti_http_requests_in_flight", "gauge", "Requests being answered now.")
            lines.append(f"eti_http_requests_in_flight {self.in_flight}")
            family(
                "eti_sparql_query_duration_seconds",
                "histogram",
                "SPARQL query latency until the answer was streamed, by query form.",
            )
            histogram("eti_sparql_query_duration_seconds", "form", self.query_seconds)
            family(
                "eti_sparql_query_timeouts_total",
                "counter",
                "Queries stopped at the time limit (query_timeout).",
            )
            lines.append(f"eti_sparql_query_timeouts_total {self.timeouts}")
            family(
                "eti_sparql_truncated_answers_total",
                "counter",
                "Answers cut at the row limit (max_rows), each flagged with ETI-Truncated.",
            )
            lines.append(f"eti_sparql_truncated_answers_total {self.truncations}")
            family(
                "eti_rejected_requests_total",
                "counter",
                "Requests refused by a limit or a rule, by reason.",
            )
            for reason, n in sorted(self.rejections.items()):
                lines.append(f"eti_rejected_requests_total{_labels(['reason'], [reason])} {n}")
            family("eti_process_start_time_seconds", "gauge", "Start of the server process.")
            lines.append(f"eti_process_start_time_seconds {_number(round(self.started, 3))}")
        if workers is not None:
            family("eti_query_workers", "gauge", "Processes answering queries.")
            lines.append(f"eti_query_workers {workers}")
        if answers is not None:
            family(
                "eti_answer_cache_lookups_total",
                "counter",
                "Lookups of whole answers kept until the next write, by result.",
            )
            for result, attribute in (("hit", "hits"), ("miss", "misses")):
                n = getattr(answers, attribute)
                lines.append(f"eti_answer_cache_lookups_total{_labels(['result'], [result])} {n}")
            family("eti_answer_cache_bytes", "gauge", "Bytes of answers kept (answer_cache).")
            lines.append(f"eti_answer_cache_bytes {answers.size}")  # type: ignore[attr-defined]
        return "\n".join(lines) + "\n"


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

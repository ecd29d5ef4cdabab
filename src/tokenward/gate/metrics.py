"""Prometheus metrics of the gate (SPEC I5). Labels never carry a user, a token or
a raw path: their number would be unbounded."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)


class GateMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "tokenward_gate_decisions_total",
            "Gate decisions by face, outcome and reason.",
            ["face", "outcome", "reason"],
            registry=registry,
        )
        self.latency = Histogram(
            "tokenward_gate_decision_seconds",
            "Time from request to decision, audit included.",
            ["face"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.audit_failures = Counter(
            "tokenward_audit_failures_total",
            "Audit records that could not be made durable (an allow among them was "
            "refused with 503).",
            registry=registry,
        )
        self.audit_batch_records = Histogram(
            "tokenward_audit_batch_records",
            "Records per committed audit batch (group commit).",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=registry,
        )
        self.audit_commit_seconds = Histogram(
            "tokenward_audit_commit_seconds",
            "Time to write and commit one audit batch.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0),
            registry=registry,
        )
        # Memory, CPU, open files and the Python version, as exporters usually have.
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self._registry = registry

    def batch_committed(self, records: int, seconds: float) -> None:
        """An audit batch is durable (the writer's AuditObserver)."""
        self.audit_batch_records.observe(records)
        self.audit_commit_seconds.observe(seconds)

    def records_failed(self, records: int) -> None:
        """Audit records were lost to a failure (the writer's AuditObserver)."""
        self.audit_failures.inc(records)

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value is read when scraped."""
        gauge = Gauge(name, documentation, registry=self._registry)
        gauge.set_function(read)

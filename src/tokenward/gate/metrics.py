"""Prometheus metrics of the gate (SPEC I5). Labels never carry a user, a token or
a raw path: their number would be unbounded."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
            "Audit batches that could not be committed.",
            registry=registry,
        )
        self._registry = registry

    def watch(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A gauge whose value is read when scraped."""
        gauge = Gauge(name, documentation, registry=self._registry)
        gauge.set_function(read)

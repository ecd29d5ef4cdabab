"""The running parts of the gate for one process, built from the container and
started and stopped with the server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError

from tokenward.audit.writer import AuditWriter
from tokenward.container import Container
from tokenward.errors import ConfigurationError
from tokenward.gate.addresses import ForwardingHeader, IPNetwork
from tokenward.gate.cache import TokenCache
from tokenward.gate.decision_log import DecisionLog
from tokenward.gate.identity import IdentityHeaders
from tokenward.gate.limits import FailureThrottle, RateLimiter
from tokenward.gate.metrics import GateMetrics
from tokenward.gate.service import Gate, UpstreamCredentials
from tokenward.gate.usage import UsageRecorder
from tokenward.gate.watcher import ChangeWatcher
from tokenward.logs import get_logger

log = get_logger(__name__)


class GateRuntime:
    def __init__(
        self,
        container: Container,
        *,
        credentials: UpstreamCredentials | None = None,
    ) -> None:
        settings = container.settings
        self.settings = settings
        self.db = container.db
        self.registry = CollectorRegistry()
        self.metrics = GateMetrics(self.registry)
        self.cache = TokenCache(max_entries=settings.gate_cache_size)
        self.audit = AuditWriter(container.db, container.clock, observer=self.metrics)
        self.usage = UsageRecorder()
        self._usage_task: asyncio.Task[None] | None = None
        self.trusted_proxies: tuple[IPNetwork, ...] = settings.trusted_proxy_networks
        self.forwarding_header: ForwardingHeader = settings.gate_forwarding_header
        self.identity = IdentityHeaders(
            user=settings.gate_user_header,
            groups=settings.gate_groups_header,
            token_id=settings.gate_token_id_header,
            scope=settings.gate_scope_header,
        )
        self.inject = settings.gate_identity == "inject"
        if self.inject and credentials is None:
            # Allowing without the credential would pass requests on anonymously.
            raise ConfigurationError(
                "gate_identity is inject, but no upstream credential store was given"
            )
        self.gate = Gate(
            db=container.db,
            clock=container.clock,
            key=container.instance_secret.key,
            prefix=settings.token_prefix,
            cache=self.cache,
            throttle=FailureThrottle(
                max_failures=settings.gate_failure_limit,
                window_seconds=settings.gate_failure_window_seconds,
            ),
            rate_limiter=RateLimiter(),
            audit=self.audit,
            usage=self.usage,
            metrics=self.metrics,
            credentials=credentials if self.inject else None,
            audit_anonymous=settings.audit_anonymous,
            durable_audit=settings.audit_durability == "durable",
            decision_log=DecisionLog(allowed_at_info=settings.log_allowed_decisions),
        )
        # Caches besides the gate's own (upstream credentials) join through
        # `forget_on_change`.
        self._forgetters: list[Callable[[], None]] = [self.gate.invalidate]
        self.watcher = ChangeWatcher(
            container.db,
            self._forget,
            poll_seconds=settings.gate_cache_poll_seconds,
        )
        container.db.on_change(self.gate.invalidate)
        self.metrics.watch(
            "tokenward_audit_queue_depth",
            "Audit records waiting to be committed.",
            lambda: self.audit.queue_depth,
        )
        self.metrics.watch(
            "tokenward_gate_cache_entries",
            "Token snapshots held by this instance.",
            lambda: len(self.cache),
        )
        self.running = False

    def forget_on_change(self, hook: Callable[[], None]) -> None:
        """Also run `hook` whenever the watcher hears of a change made elsewhere."""
        self._forgetters.append(hook)

    def _forget(self) -> None:
        for hook in self._forgetters:
            hook()

    async def start(self) -> None:
        self.audit.start()
        self.watcher.start()
        self._usage_task = asyncio.create_task(self._write_usage(), name="usage")
        self.running = True

    async def stop(self) -> None:
        """Stop taking changes and write every queued record and usage count.

        Called once the server has finished its requests in flight. A failure to
        write is logged, not raised, so the rest of the shutdown still runs.
        """
        self.running = False
        await self.watcher.stop()
        if self._usage_task is not None:
            self._usage_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._usage_task
            self._usage_task = None
        await self.audit.stop()
        await self._flush_usage(force=True)
        log.info("gate_stopped", audit_batches=self.audit.batches)

    async def _write_usage(self) -> None:
        """Write the coalesced usage counts once per interval, in a transaction of
        their own: a failure to write them never refuses a request."""
        while True:
            await asyncio.sleep(self.usage.flush_interval)
            await self._flush_usage(force=False)

    async def _flush_usage(self, *, force: bool) -> None:
        """Write what usage gathered; what a failed write took is kept for the
        next one."""
        try:
            async with self.db.write() as session:
                await self.usage.flush(session, force=force)
        except Exception as error:  # the counts taken are kept for the next flush
            self.usage.settle(durable=False)
            # A database that is down is an operator's matter: one line, no traceback.
            log.error(  # noqa: TRY400
                "usage_flush_failed",
                error=str(error),
                exc_info=not isinstance(error, SQLAlchemyError | OSError),
            )
        else:
            self.usage.settle(durable=True)

"""The gate: one decision per API call, audited before it is answered.

This is the only place that ties the pure decision to storage, cache, throttle,
audit and metrics; the faces (forward auth, reverse proxy) call `Gate.check`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.services import AuditEntry, Origin
from tokenward.audit.writer import AuditUnavailableError, AuditWriter
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.gate import decision as rules
from tokenward.gate.cache import Missing, TokenCache
from tokenward.gate.decision import Allowed, Decision, Denied, GateRequest
from tokenward.gate.decision_log import DecisionLog
from tokenward.gate.limits import FailureThrottle, RateLimiter
from tokenward.gate.loader import GateState, load_groups, load_state, load_token
from tokenward.gate.metrics import GateMetrics
from tokenward.gate.reasons import Reason
from tokenward.gate.usage import UsageRecorder
from tokenward.logs import get_logger
from tokenward.tokens.digest import token_digest

log = get_logger(__name__)

# Failures that say something about the client: too many, and it is throttled.
_COUNTED_FAILURES = frozenset(
    {
        Reason.MALFORMED_CREDENTIALS,
        Reason.MALFORMED_TOKEN,
        Reason.UNKNOWN_TOKEN,
        Reason.TOKEN_REVOKED,
        Reason.TOKEN_EXPIRED,
        Reason.USERNAME_MISMATCH,
        Reason.PASSWORD_DENIED,
        Reason.TOKEN_IN_URL,
    }
)


class UpstreamCredentials(Protocol):
    """Where credential injection finds the upstream credential of a user."""

    async def authorization_for(self, username: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """The parts of a request that go into its audit record but not the decision."""

    face: str
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision, and what the face needs to act on it."""

    decision: Decision
    # Set with credential injection: the Authorization value for the upstream.
    upstream_authorization: str | None = None


class Gate:
    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        key: bytes,
        prefix: str,
        cache: TokenCache,
        throttle: FailureThrottle,
        rate_limiter: RateLimiter,
        audit: AuditWriter,
        usage: UsageRecorder,
        metrics: GateMetrics,
        credentials: UpstreamCredentials | None = None,
        audit_anonymous: bool = False,
        durable_audit: bool = True,
        decision_log: DecisionLog | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._key = key
        self._prefix = prefix
        self._cache = cache
        self._throttle = throttle
        self._rate_limiter = rate_limiter
        self._audit = audit
        self._usage = usage
        self._metrics = metrics
        self._credentials = credentials
        self._audit_anonymous = audit_anonymous
        self._durable_audit = durable_audit
        self._decision_log = decision_log or DecisionLog()
        self._state: GateState | None = None
        self._state_generation = -1
        self._state_lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Forget every cached token and the policy: something changed."""
        self._cache.clear()

    async def check(self, request: GateRequest, meta: RequestMeta) -> Verdict:
        """Decide, audit, and return; never an allow without a durable record."""
        started = time.perf_counter()
        try:
            verdict = await self._decide(request)
        except (SQLAlchemyError, OSError) as error:
            log.warning("gate_storage_unavailable", error=str(error))
            verdict = Verdict(Denied(Reason.UNAVAILABLE))

        return await self._finish(request, meta, verdict, started)

    async def refuse(
        self, request: GateRequest, meta: RequestMeta, decision: Denied
    ) -> Verdict:
        """Audit and count a refusal the face decided (a request it cannot judge)."""
        return await self._finish(request, meta, Verdict(decision), time.perf_counter())

    async def _finish(
        self, request: GateRequest, meta: RequestMeta, verdict: Verdict, started: float
    ) -> Verdict:
        verdict = await self._record(request, meta, verdict)
        decision = verdict.decision
        outcome = "allowed" if decision.allowed else "denied"
        seconds = time.perf_counter() - started
        self._metrics.decisions.labels(meta.face, outcome, decision.reason).inc()
        self._metrics.latency.labels(meta.face).observe(seconds)
        self._decision_log.write(
            request,
            decision,
            face=meta.face,
            request_id=meta.request_id,
            seconds=seconds,
        )

        return verdict

    async def _decide(self, request: GateRequest) -> Verdict:
        credential = rules.classify(request, self._prefix)
        if isinstance(credential, Denied):
            return Verdict(credential)
        state = await self._current_state()
        if isinstance(credential, rules.NoCredentials):
            return Verdict(rules.decide_anonymous(request, state.policy))
        retry_after = self._throttle.retry_after(request.client_ip)
        if isinstance(credential, rules.PasswordCredential):
            if retry_after is not None:
                return Verdict(
                    Denied(Reason.THROTTLED, retry_after=retry_after),
                )
            async with self._db.read() as session:
                groups = await load_groups(session, credential.username)
            return Verdict(
                rules.decide_password(request, credential, groups, state.policy)
            )

        digest = token_digest(self._key, credential.secret)
        cached = self._cache.get(digest)
        if isinstance(cached, Missing):
            if retry_after is not None:
                # A throttled client gets no lookups; owners already cached pass.
                return Verdict(Denied(Reason.THROTTLED, retry_after=retry_after))
            generation = self._cache.generation
            async with self._db.read() as session:
                snapshot = await load_token(session, digest, state)
            self._cache.put(digest, snapshot, generation)
        else:
            snapshot = cached
        decision = rules.decide_token(
            request,
            credential,
            snapshot,
            state.policy,
            now=self._clock.now().timestamp(),
            rate_limiter=self._rate_limiter,
        )

        return await self._with_upstream_credential(decision)

    async def _with_upstream_credential(self, decision: Decision) -> Verdict:
        if self._credentials is None or not isinstance(decision, Allowed):
            return Verdict(decision)
        assert decision.username is not None  # noqa: S101 - token allows name an owner
        authorization = await self._credentials.authorization_for(decision.username)
        if authorization is None:
            return Verdict(
                Denied(
                    Reason.UPSTREAM_CREDENTIAL_MISSING,
                    token_id=decision.token_id,
                    username=decision.username,
                )
            )

        return Verdict(decision, upstream_authorization=authorization)

    async def _current_state(self) -> GateState:
        generation = self._cache.generation
        if self._state is not None and self._state_generation == generation:
            return self._state
        async with self._state_lock:
            if self._state is None or self._state_generation != generation:
                async with self._db.read() as session:
                    self._state = await load_state(session)
                self._state_generation = generation

        return self._state

    async def _record(
        self, request: GateRequest, meta: RequestMeta, verdict: Verdict
    ) -> Verdict:
        decision = verdict.decision
        if decision.reason in _COUNTED_FAILURES:
            self._throttle.record_failure(request.client_ip)
        if decision.reason is Reason.NO_CREDENTIALS and not self._audit_anonymous:
            return verdict
        client = str(request.client_ip) if request.client_ip else None
        entry = _audit_entry(decision)
        origin = Origin(
            client_ip=client,
            method=request.method,
            path=request.path,
            user_agent=meta.user_agent,
            request_id=meta.request_id,
        )
        try:
            written = self._audit.submit(entry, origin)
            if decision.allowed and self._durable_audit:
                # SPEC A3: an allow is answered only once its record is durable.
                # (The lossy mode, never the default, answers at once: a crash
                # can then lose the records of the last few milliseconds.)
                await written
        except AuditUnavailableError:
            # Counted by the writer, in tokenward_audit_failures_total.
            return Verdict(
                Denied(
                    Reason.UNAVAILABLE,
                    token_id=decision.token_id,
                    username=decision.username,
                )
            )
        if isinstance(decision, Allowed) and decision.token_id is not None:
            self._usage.note(decision.token_id, client, self._clock.now())

        return verdict


def _audit_entry(decision: Decision) -> AuditEntry:
    password = decision.reason in (Reason.PASSWORD_ALLOWED, Reason.PASSWORD_DENIED)

    return AuditEntry(
        AuditEvent.PASSWORD_LOGIN if password else AuditEvent.GATE_DECISION,
        outcome=Outcome.ALLOWED if decision.allowed else Outcome.DENIED,
        reason=str(decision.reason),
        actor=None,  # the subject acted; see the actor index in audit.models
        subject=decision.username,
        token_id=decision.token_id,
    )

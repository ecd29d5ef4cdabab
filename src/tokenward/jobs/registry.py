"""Every scheduled job by name, and what each one calls.

`periodic` jobs run every `jobs_interval_seconds` inside `serve`, in the order
listed; `delivery` jobs run every `jobs_delivery_interval_seconds`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from tokenward.container import Container
from tokenward.jobs.expiry import record_expiries
from tokenward.jobs.leases import Lease
from tokenward.jobs.reminders import send_reminders

JobFunction = Callable[[Container, Lease], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    description: str
    run: JobFunction
    schedule: Literal["periodic", "delivery"]


async def _expire_inactive(container: Container, _lease: Lease) -> dict[str, Any]:
    # Its batches are its own, so the lease is not renewed between them; a run
    # that outlived the lease would still expire no token twice (see its docs).
    expired = await container.token_policy.expire_inactive()

    return {"expired": len(expired)}


async def _expire(container: Container, lease: Lease) -> dict[str, Any]:
    recorded = await record_expiries(
        container.db, container.clock, between_batches=lease.renew
    )

    return {"expired": recorded}


async def _remind(container: Container, lease: Lease) -> dict[str, Any]:
    return await send_reminders(
        container.db, container.clock, between_batches=lease.renew
    )


async def _expire_requests(container: Container, lease: Lease) -> dict[str, Any]:
    expired = await container.token_requests.expire_due(between_batches=lease.renew)

    return {"expired": expired}


async def _deliver(container: Container, _lease: Lease) -> dict[str, Any]:
    report = await container.notifications.deliver_due()

    return report.summary()


async def _purge(container: Container, _lease: Lease) -> dict[str, Any]:
    return {"deleted": await container.notifications.purge()}


JOBS: tuple[Job, ...] = (
    # First: a token it expires records its own `token_expired`, with the reason.
    Job(
        "expire-inactive-tokens",
        "Expire tokens unused for the token policy's inactivity_days (if set).",
        _expire_inactive,
        "periodic",
    ),
    Job(
        "expire-tokens",
        "Audit `token_expired` once for each token past its expiry.",
        _expire,
        "periodic",
    ),
    Job(
        "send-reminders",
        "Queue expiry reminders at each lead time, once per token.",
        _remind,
        "periodic",
    ),
    Job(
        "expire-token-requests",
        "Expire token requests not decided, or approved and not generated, in time.",
        _expire_requests,
        "periodic",
    ),
    Job(
        "purge-notifications",
        "Delete sent and failed notifications older than the retention.",
        _purge,
        "periodic",
    ),
    Job(
        "deliver-notifications",
        "Send the queued e-mails and webhook calls that are due.",
        _deliver,
        "delivery",
    ),
)
JOB_NAMES = tuple(job.name for job in JOBS)


def job_named(name: str) -> Job:
    """The job called `name`; KeyError if there is none."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)

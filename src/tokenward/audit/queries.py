"""Reading the audit trail (SPEC A5): filters, keyset pages, streamed exports.

Pages run newest first, ordered by time and then by sequence number. Each filter
column has an index on (column, occurred_at), so a page is an index walk that stops
after `limit` rows, however many millions of records the table holds. The cursor
is the `seq` of the last record shown; the next page starts just below that
record's (occurred_at, seq) position, so records written meanwhile never shift a
page and no record is shown twice or skipped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokenward.audit.events import AuditEvent, Outcome
from tokenward.audit.models import AuditRecord
from tokenward.audit.services import AuditEntry, Origin, append
from tokenward.clock import Clock
from tokenward.db import Database
from tokenward.errors import InvalidInputError
from tokenward.gate.addresses import IPAddress, IPNetwork
from tokenward.policies.permissions import Actor, Permission, require

MAX_PAGE_SIZE = 500
# Records read per query while exporting, or while a range filter is checked in
# Python: large enough to amortise the query, small enough to keep memory flat.
_BATCH = 1000
Position = tuple[dt.datetime, int]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """An audit search; every given criterion must match.

    `user` matches the actor or the subject. `address` is one address or a
    network (a range); `events` matches any of the names given.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    user: str | None = None
    token_id: str | None = None
    address: IPAddress | IPNetwork | None = None
    events: tuple[AuditEvent, ...] = ()
    outcome: Outcome | None = None

    def described(self) -> dict[str, Any]:
        """The criteria given, as plain values (for the record of an export)."""
        found: dict[str, Any] = {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "user": self.user,
            "token_id": self.token_id,
            "address": str(self.address) if self.address is not None else None,
            "events": [str(event) for event in self.events] or None,
            "outcome": str(self.outcome) if self.outcome else None,
        }

        return {name: value for name, value in found.items() if value is not None}

    @property
    def exact(self) -> bool:
        """Whether SQL alone decides every criterion (a network is only narrowed
        there, and checked by `admits_address`)."""
        return not isinstance(self.address, IPNetwork)

    def admits_address(self, client_ip: str | None) -> bool:
        """Whether a stored client address lies in the filter's network (always
        true without a network filter, whose SQL condition is already exact)."""
        network = self.address
        if not isinstance(network, IPNetwork):
            return True
        if client_ip is None:
            return False
        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False

        return address.version == network.version and address in network


def audit_filter(
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    user: str | None = None,
    token_id: str | None = None,
    address: str | None = None,
    events: Sequence[str] = (),
    outcome: str | None = None,
) -> AuditFilter:
    """An AuditFilter from typed-in values, or InvalidInputError naming the field
    that is wrong. Empty strings mean "any"."""
    if since is not None and until is not None and since >= until:
        raise InvalidInputError("the start of the period must come before its end")
    known_events = {str(event) for event in AuditEvent}
    unknown = [name for name in events if name not in known_events]
    if unknown:
        raise InvalidInputError(f"unknown audit event {unknown[0]!r}", field="event")
    if outcome and outcome not in {str(each) for each in Outcome}:
        choices = ", ".join(Outcome)
        raise InvalidInputError(f"outcome is one of {choices}", field="outcome")

    return AuditFilter(
        since=since,
        until=until,
        user=user or None,
        token_id=token_id or None,
        address=parse_address_filter(address) if address else None,
        events=tuple(dict.fromkeys(AuditEvent(name) for name in events)),
        outcome=Outcome(outcome) if outcome else None,
    )


def parse_address_filter(text: str) -> IPAddress | IPNetwork:
    """One address (`10.0.0.7`) or a network in CIDR form (`10.0.0.0/16`).

    A network with host bits set is refused rather than widened silently: the
    person probably mistyped one of the two parts.
    """
    try:
        if "/" not in text:
            return ipaddress.ip_address(text)
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        widened = _widened(text)
        hint = f"; did you mean {widened}?" if widened else ""
        raise InvalidInputError(
            f"{text!r} is not an address or a network in CIDR form{hint}",
            field="address",
        ) from error
    if network.num_addresses == 1:
        return network.network_address

    return network


def _widened(text: str) -> str | None:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of records, newest first; `next_before` is the cursor of the next
    (older) page, None on the last page."""

    records: list[AuditRecord]
    next_before: int | None


class AuditLog:
    """Reads the audit trail for administrators. The one record it writes is of
    an export: who took a copy of which records, and where to."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def page(
        self,
        actor: Actor,
        criteria: AuditFilter,
        *,
        before: int | None = None,
        limit: int = 100,
    ) -> AuditPage:
        """Up to `limit` records matching `criteria`, older than the record whose
        seq is `before` (None: from the newest)."""
        require(actor, Permission.ADMINISTER)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInputError(
                f"limit is between 1 and {MAX_PAGE_SIZE}", field="limit"
            )

        async with self._db.read() as session:
            start = None if before is None else await _position(session, before)
            found = await _matching(session, criteria, start, limit + 1)

        records = found[:limit]
        more = len(found) > limit

        return AuditPage(records, records[-1].seq if more and records else None)

    async def export(
        self, actor: Actor, origin: Origin, criteria: AuditFilter, *, format: str
    ) -> AsyncIterator[AuditRecord]:
        """Every record matching `criteria`, newest first, read in batches.

        The permission is checked, and the export audited (`audit_exported`, with
        the filters and the format), before the first record is read: a refusal
        is still an HTTP status rather than a broken download, and no copy leaves
        without a record of it.
        """
        require(actor, Permission.ADMINISTER)
        exported = AuditEntry(
            AuditEvent.AUDIT_EXPORTED,
            actor=actor.name,
            details={"format": format, "filters": criteria.described()},
        )
        async with self._db.write() as session:
            await append(session, [exported], origin=origin, now=self._clock.now())

        return self._every(criteria)

    async def _every(self, criteria: AuditFilter) -> AsyncIterator[AuditRecord]:
        start: Position | None = None
        while True:
            # A short read transaction per batch: an export of millions of records
            # must not hold one snapshot (and on SQLite, the WAL) open throughout.
            async with self._db.read() as session:
                batch = await _matching(session, criteria, start, _BATCH)
            for record in batch:
                yield record
            if len(batch) < _BATCH:
                return
            start = (batch[-1].occurred_at, batch[-1].seq)


async def _position(session: AsyncSession, seq: int) -> Position:
    occurred_at = await session.scalar(
        select(AuditRecord.occurred_at).where(AuditRecord.seq == seq)
    )
    if occurred_at is None:
        raise InvalidInputError(
            f"no audit record has sequence number {seq} (it may have been "
            "purged); start again from the newest records",
            field="before",
        )

    return (occurred_at, seq)


async def _matching(
    session: AsyncSession, criteria: AuditFilter, start: Position | None, wanted: int
) -> list[AuditRecord]:
    """Up to `wanted` records matching `criteria` below `start`, newest first.

    SQL narrows a network filter only to the text prefix its addresses share
    (addresses are stored as text), so rows are checked again here and batches
    are read until enough have matched or the candidates run out.
    """
    found: list[AuditRecord] = []
    size = wanted if criteria.exact else max(wanted, _BATCH)
    while len(found) < wanted:
        queries = _queries(criteria, start, session.get_bind().dialect.name)
        candidates = await _newest(session, queries, size)
        found.extend(
            row for row in candidates if criteria.admits_address(row.client_ip)
        )
        if len(candidates) < size:
            break
        start = (candidates[-1].occurred_at, candidates[-1].seq)

    return found[:wanted]


async def _newest(
    session: AsyncSession, queries: list[Select[AuditRecord]], size: int
) -> list[AuditRecord]:
    """The `size` newest rows of the union of disjoint `queries`. Each is read in
    index order on its own, which a single OR across two indexes could not be."""
    rows: list[AuditRecord] = []
    for query in queries:
        rows.extend(await session.scalars(_ordered(query).limit(size)))
    rows.sort(key=lambda row: (row.occurred_at, row.seq), reverse=True)

    return rows[:size]


def _ordered(query: Select[AuditRecord]) -> Select[AuditRecord]:
    return query.order_by(AuditRecord.occurred_at.desc(), AuditRecord.seq.desc())


def _queries(
    criteria: AuditFilter, start: Position | None, dialect: str
) -> list[Select[AuditRecord]]:
    """The SQL for `criteria` below `start`: one query, or two disjoint ones when
    a user may be either the actor or the subject."""
    query = select(AuditRecord)
    if start is not None:
        at, seq = start
        # The first condition alone is a plain index range on occurred_at; the
        # second breaks ties between records of the same instant.
        query = query.where(
            AuditRecord.occurred_at <= at,
            or_(AuditRecord.occurred_at < at, AuditRecord.seq < seq),
        )
    if criteria.since is not None:
        query = query.where(AuditRecord.occurred_at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditRecord.occurred_at < criteria.until)
    if criteria.token_id is not None:
        query = query.where(AuditRecord.token_id == criteria.token_id)
    if criteria.events:
        query = query.where(AuditRecord.event.in_([str(e) for e in criteria.events]))
    if criteria.outcome is not None:
        query = query.where(AuditRecord.outcome == str(criteria.outcome))
    if criteria.address is not None:
        query = query.where(_address_condition(criteria.address, dialect))
    if criteria.user is None:
        return [query]

    user = criteria.user

    return [
        query.where(AuditRecord.subject == user),
        query.where(
            AuditRecord.actor == user,
            or_(AuditRecord.subject.is_(None), AuditRecord.subject != user),
        ),
    ]


def _address_condition(address: IPAddress | IPNetwork, dialect: str) -> Any:
    """Exact for one address; for a network, the stored texts that begin with the
    prefix every address in it is written with (checked exactly later)."""
    if not isinstance(address, IPNetwork):
        return AuditRecord.client_ip == str(address)
    prefix = _text_prefix(address)
    if not prefix:
        return AuditRecord.client_ip.is_not(None)
    if dialect != "sqlite":
        # PostgreSQL compares text by the database's collation, which may order
        # punctuation unlike bytes, so a range could miss rows; LIKE matches
        # characters whatever the collation. The prefix holds no wildcard.
        return AuditRecord.client_ip.like(prefix + "%")
    # SQLite compares bytes (BINARY), so the prefix is an index range: every text
    # starting with it sorts before the prefix with its last character (a
    # separator) raised by one.
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)

    return and_(AuditRecord.client_ip >= prefix, AuditRecord.client_ip < upper)


def _text_prefix(network: IPNetwork) -> str:
    """The text every address of `network` begins with, in the stored (compressed,
    lower-case) form: the whole octets of an IPv4 network, and for IPv6 the first
    group when the prefix fixes it and it is not zero (zero may be compressed)."""
    if isinstance(network, ipaddress.IPv4Network):
        octets = network.prefixlen // 8
        if octets == 0:
            return ""
        parts = str(network.network_address).split(".")[:octets]

        return ".".join(parts) + "."
    first = int(network.network_address) >> 112
    if network.prefixlen < 16 or first == 0:
        return ""

    return f"{first:x}:"

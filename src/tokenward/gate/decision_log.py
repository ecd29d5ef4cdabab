"""One structured log event per gate decision, `gate_decision`, for operators.

The audit trail is the record that counts; this line is for log collectors and for
people watching a deployment. It names the decision and where the request came
from, and never what could be a secret: no `Authorization` value, no token, and no
query string, since a client may have put a token there.

Refusals are logged at info (`unavailable` at warning: the operator has work to
do), allows at debug unless `log_allowed_decisions` is set. The level is checked
before anything is built, so a line nobody reads costs next to nothing on the hot
path.
"""

from __future__ import annotations

import logging

from tokenward.gate.decision import Decision, GateRequest
from tokenward.gate.reasons import Reason
from tokenward.logs import get_logger

LOGGER_NAME = "tokenward.gate"
EVENT = "gate_decision"


class DecisionLog:
    def __init__(self, *, allowed_at_info: bool = False) -> None:
        self._log = get_logger(LOGGER_NAME)
        self._levels = logging.getLogger(LOGGER_NAME)
        self._allowed_level = logging.INFO if allowed_at_info else logging.DEBUG

    def write(
        self,
        request: GateRequest,
        decision: Decision,
        *,
        face: str,
        request_id: str | None,
        seconds: float,
    ) -> None:
        """Log `decision` on `request`, if its level is enabled."""
        if decision.allowed:
            level = self._allowed_level
        elif decision.reason is Reason.UNAVAILABLE:
            level = logging.WARNING
        else:
            level = logging.INFO
        if not self._levels.isEnabledFor(level):
            return

        self._log.log(
            level,
            EVENT,
            face=face,
            outcome="allowed" if decision.allowed else "denied",
            reason=str(decision.reason),
            token_id=decision.token_id,
            user=decision.username,
            client_ip=str(request.client_ip) if request.client_ip else None,
            method=request.method,
            # Normalised paths carry no query; a refused raw target still might.
            path=request.path.split("?", 1)[0].split("#", 1)[0],
            status=decision.reason.status,
            duration_ms=round(seconds * 1000, 3),
            request_id=request_id,
        )

"""Policies for administrators: permissions by group, the token policy, the gate
policy and notifications (SPEC P2-P6, P8).

Every change goes through a preview before anything is saved: the form is parsed
into the document the REST API takes, its dry run is shown (the tokens it would
break, who gains or loses a permission, each setting before and after), and the
form travels on as typed in one hidden field. Saving parses that same text again,
so what is saved is what was previewed; the services redo their own checks.

`forms` holds what every part shares, `flow` the steps from form to saved change,
and one module per part says how its document becomes a form and back.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from tokenward.ui.pages.policies.flow import policy_routes
from tokenward.ui.pages.policies.gate_policy import GatePolicy
from tokenward.ui.pages.policies.notifications import Notifications
from tokenward.ui.pages.policies.permissions import Permissions
from tokenward.ui.pages.policies.token_policy import TokenPolicy

__all__ = ["routes"]

routes: list[BaseRoute] = policy_routes(
    [Permissions(), TokenPolicy(), GatePolicy(), Notifications()]
)

"""REST routes for upstream credentials: one's own under /me, and the removal of
anyone's by an administrator."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tokenward.upstream.schemas import CredentialOut, CredentialSave
from tokenward.web.dependencies import Caller, RequestOrigin, Services

router = APIRouter(tags=["upstream credentials"])

OWN = "/me/upstream-credential"


@router.put(OWN, response_model=CredentialOut)
async def save_my_credential(
    body: CredentialSave, services: Services, caller: Caller, origin: RequestOrigin
) -> CredentialOut:
    """Check a credential against the upstream and, if it works, store it to be
    injected in place of your tokens; any earlier one is replaced."""
    info = await services.upstream_credentials.save(
        caller, origin, caller.name, body.scheme, body.value.get_secret_value()
    )

    return CredentialOut.of(info)


@router.get(OWN, response_model=CredentialOut)
async def get_my_credential(services: Services, caller: Caller) -> CredentialOut:
    """What is stored for you, without the value."""
    return CredentialOut.of(
        await services.upstream_credentials.get(caller, caller.name)
    )


@router.delete(OWN, status_code=204)
async def remove_my_credential(
    services: Services, caller: Caller, origin: RequestOrigin
) -> Response:
    """Remove your credential; the gate refuses your tokens until you save one."""
    await services.upstream_credentials.remove(caller, origin, caller.name)

    return Response(status_code=204)


@router.post(f"{OWN}/check", response_model=CredentialOut)
async def check_my_credential(
    services: Services, caller: Caller, origin: RequestOrigin
) -> CredentialOut:
    """Try your stored credential against the upstream now."""
    info = await services.upstream_credentials.check(caller, origin, caller.name)

    return CredentialOut.of(info)


@router.delete("/users/{username}/upstream-credential", status_code=204)
async def remove_credential(
    username: str, services: Services, caller: Caller, origin: RequestOrigin
) -> Response:
    """Remove a user's credential (administrators); it can never be read."""
    await services.upstream_credentials.remove(caller, origin, username)

    return Response(status_code=204)

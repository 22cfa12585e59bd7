"""Who is calling: `Authorization: Bearer <access token>` → the portal it opens.

Route handlers take `portal: PortalId`; a missing or unknown token never reaches them (401), and
neither does a request over the portal's emulated HubSpot rate limit (429, `api/ratelimit.py`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hubtrail.api.ratelimit import enforce_rate_limit
from hubtrail.core.credentials import CredentialKind, bearer_token
from hubtrail.core.errors import AuthenticationError
from hubtrail.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def authenticated_portal(request: Request) -> int:
    """The hub id the request's access token belongs to; 401 in HubSpot's shape otherwise.

    With the portal's `rate_limit_emulation` on, the request is also counted against its token's
    limits (429 when over one).
    """
    token = bearer_token(request.headers.get("authorization"))
    runtime = runtime_of(request)
    portal_id = None
    if token is not None:
        portal_id = await runtime.directory.portal_for(token, CredentialKind.ACCESS_TOKEN)
    if token is None or portal_id is None:
        raise AuthenticationError.missing_credentials()
    await enforce_rate_limit(runtime, request, token, portal_id)
    return portal_id


PortalId = Annotated[int, Depends(authenticated_portal)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

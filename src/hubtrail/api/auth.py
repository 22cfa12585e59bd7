"""Who is calling: `Authorization: Bearer <access token>` → the portal it opens.

Route handlers take `portal: PortalId`; a missing or unknown token never reaches them (401).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hubtrail.core.credentials import CredentialKind, bearer_token
from hubtrail.core.errors import AuthenticationError
from hubtrail.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def authenticated_portal(request: Request) -> int:
    """The hub id the request's access token belongs to; 401 in HubSpot's shape otherwise."""
    token = bearer_token(request.headers.get("authorization"))
    runtime = runtime_of(request)
    portal_id = None
    if token is not None:
        portal_id = await runtime.directory.portal_for(token, CredentialKind.ACCESS_TOKEN)
    if portal_id is None:
        raise AuthenticationError.missing_credentials()
    return portal_id


PortalId = Annotated[int, Depends(authenticated_portal)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

"""HubSpot's account details: `GET /account-info/v3/details`.

Clients call it to learn which portal a token opens (`portalId`) and the account's time zone and
currency. hubtrail accounts are UTC and USD, hosted wherever hubtrail runs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hubtrail.api.auth import PortalId

router = APIRouter()


@router.get("/account-info/v3/details")
async def account_details(portal: PortalId) -> dict[str, Any]:
    """The portal's account details in HubSpot's shape."""
    return {
        "portalId": portal,
        "accountType": "STANDARD",
        "timeZone": "UTC",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "+00:00",
        "utcOffsetMilliseconds": 0,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }

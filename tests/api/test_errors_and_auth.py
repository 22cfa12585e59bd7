"""The API's error shape and authentication, shared by every endpoint."""

import httpx


async def test_unknown_route_is_a_hubspot_shaped_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/crm/v3/objects/nothing-here/1/2/3")
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "OBJECT_NOT_FOUND"
    assert body["correlationId"] == response.headers["x-hubspot-correlation-id"]

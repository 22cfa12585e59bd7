"""api: HubSpot-compatible HTTP API routers (FastAPI) and operational endpoints."""

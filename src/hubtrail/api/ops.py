"""Operational endpoints: `/healthz` and `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from hubtrail.runtime import Runtime

router = APIRouter()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 otherwise."""
    runtime = _runtime(request)
    try:
        await runtime.db.read(lambda conn: conn.execute(text("SELECT 1")))
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "database": runtime.db.url.get_backend_name()})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime = _runtime(request)
    await runtime.refresh_inbox_depth()
    return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

"""`create_app(settings)`: the ASGI app.

Ingestion paths are dispatched first, straight to plain ASGI handlers (the hot path); everything
else goes to the FastAPI app (operations now, the CRM API and the dashboard later).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hubtrail.api import (
    account,
    association_batches,
    associations,
    events,
    forms,
    object_batches,
    objects,
    ops,
    properties,
)
from hubtrail.api.errors import install_error_handlers
from hubtrail.api.openapi import install_openapi
from hubtrail.config import Settings
from hubtrail.ingest import forms as form_submissions
from hubtrail.ingest.asgi import ASGIApp, Receive, Scope, Send
from hubtrail.ingest.context import IngestContext
from hubtrail.ingest.hubspot_events import HubSpotEventsEndpoints
from hubtrail.ingest.segment import PATHS as SEGMENT_PATHS
from hubtrail.ingest.segment import SegmentEndpoints
from hubtrail.ingest.tracking import TrackingEndpoints
from hubtrail.runtime import Runtime
from hubtrail.web import dashboard, forms_embed, script, segment_browser
from hubtrail.web.dashboard.auth import SignInRequired, sign_in_redirect

# Each API module contributes one router; add new ones here.
ROUTERS = [
    ops.router,
    account.router,
    object_batches.router,
    objects.router,
    associations.router,
    association_batches.router,
    properties.router,
    events.router,
    forms.router,
    form_submissions.router,
    segment_browser.router,  # before script.router: /js/segment-hubspot.js is not a hub id
    script.router,
    forms_embed.router,
    *dashboard.ROUTERS,
]


class HubtrailApp:
    """The ASGI callable uvicorn serves; `runtime` and `lifespan()` are there for tests."""

    def __init__(self, runtime: Runtime, on_started: Callable[[], None] | None = None) -> None:
        self.runtime = runtime
        self._on_started = on_started
        settings = runtime.settings
        context = IngestContext(
            committer=runtime.committer,
            directory=runtime.directory,
            metrics=runtime.metrics,
            max_query_bytes=settings.max_query_bytes,
            max_body_bytes=settings.max_body_bytes,
            clock_ms=runtime.clock_ms,
        )
        events, tracking = HubSpotEventsEndpoints(context), TrackingEndpoints(context)
        segment = SegmentEndpoints(context)
        self._fast_routes: dict[tuple[str, str], ASGIApp] = {
            ("POST", "/collect"): tracking.collect,
            ("OPTIONS", "/collect"): tracking.preflight,
            ("GET", "/__ptq.gif"): tracking.gif,
            ("GET", "/__ptbe.gif"): tracking.gif,
            **{("POST", path): segment.call for path in SEGMENT_PATHS},
            **{("OPTIONS", path): segment.preflight for path in SEGMENT_PATHS},
            ("GET", "/v1/event"): events.v1_event,
            ("HEAD", "/v1/event"): events.v1_event,
            ("POST", "/events/v3/send"): events.v3_send,
            ("POST", "/events/v3/send/batch"): events.v3_send_batch,
        }
        self.api = FastAPI(
            title="hubtrail", version="0.1.0", lifespan=self._lifespan, docs_url="/api/docs"
        )
        self.api.state.runtime = runtime
        install_error_handlers(self.api, dashboard.page_errors)
        self.api.add_exception_handler(
            SignInRequired,
            lambda _request, exc: sign_in_redirect(exc.next_path),
        )
        install_openapi(self.api)
        for router in ROUTERS:
            self.api.include_router(router)

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.runtime.start()
        if self._on_started is not None:
            self._on_started()
        try:
            yield
        finally:
            await self.runtime.stop()

    def lifespan(self) -> AsyncIterator[None]:
        """Start and stop the runtime around a block, as the server's lifespan does."""
        return self._lifespan(self.api)  # type: ignore[return-value]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self._fast_routes.get((scope["method"], scope["path"]))
            if handler is not None:
                await handler(scope, receive, send)
                return
        await self.api(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    run_processor: bool | None = None,
    on_started: Callable[[], None] | None = None,
) -> HubtrailApp:
    """The app; its processor runs as `settings.process_in_server` says unless overridden.

    `on_started` is called once the store is migrated and the inbox writer is running.
    """
    in_server = settings.process_in_server if run_processor is None else run_processor
    return HubtrailApp(Runtime(settings, run_processor=in_server), on_started)

"""What a page embedding a hubtrail form loads: the forms script and each form's definition.

- `GET /forms/embed/v2.js` (also `/forms/v2.js` and `/forms/shell.js`, the other names HubSpot
  serves its forms script under): `static/forms-embed.js`, which defines `hbspt.forms.create`.
  The same for every portal, so it is read once, at import; browsers keep it five minutes, as
  they keep hubtrail.js, and ask again with its ETag.
- `GET /forms/v2/{portalId}/{formGuid}/definition`: the public definition the script renders,
  readable from any origin (the form lives on the customer's site, hubtrail on its own host).
  Archived forms and unknown portals are 404s, which the script reports in the console.

Submissions go to `/submissions/v3/integration/submit/...` (api/forms.py), not through here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from hubtrail.core.forms import HONEYPOT_FIELD, Form, form_to_json
from hubtrail.core.plain_text import is_ascii_digits
from hubtrail.runtime import Runtime
from hubtrail.store import forms as forms_store
from hubtrail.web.script import CACHE_CONTROL, MEDIA_TYPE, etag_matches

router = APIRouter()

SCRIPT_PATHS = ("/forms/embed/v2.js", "/forms/v2.js", "/forms/shell.js")
SCRIPT_BODY = (Path(__file__).parent / "static" / "forms-embed.js").read_bytes()
SCRIPT_ETAG = '"' + hashlib.sha256(SCRIPT_BODY).hexdigest()[:32] + '"'
DEFINITION_CACHE_CONTROL = "public, max-age=60"  # an edited form reaches pages within a minute
MAX_GUID_CHARS = 64  # guids are 36; anything much longer is no form's


async def forms_script(request: Request) -> Response:
    """The embed script, with an ETag so a browser's copy is revalidated cheaply."""
    headers = {"ETag": SCRIPT_ETAG, "Cache-Control": CACHE_CONTROL}
    if etag_matches(request.headers.get("if-none-match", ""), SCRIPT_ETAG):
        return Response(status_code=304, headers=headers)
    return Response(SCRIPT_BODY, media_type=MEDIA_TYPE, headers=headers)


for _path in SCRIPT_PATHS:
    router.add_api_route(_path, forms_script, methods=["GET"], include_in_schema=False)


def public_definition(form: Form) -> dict[str, Any]:
    """What a page may see of a form: its fields and what follows a submit, nothing internal."""
    return {
        "portalId": form.portal_id,
        "guid": form.guid,
        "name": form.name,
        **form_to_json(form),
        "honeypot": HONEYPOT_FIELD,
    }


@router.get("/forms/v2/{portal_id}/{form_guid}/definition", include_in_schema=False)
async def form_definition(portal_id: str, form_guid: str, request: Request) -> Response:
    """The live form `form_guid` of portal `portal_id`; 404 (plain JSON) when there is none."""
    runtime: Runtime = request.app.state.runtime
    form = None
    if is_ascii_digits(portal_id) and len(form_guid) <= MAX_GUID_CHARS:
        hub_id = int(portal_id)
        form = await runtime.db.read(lambda conn: forms_store.get_form(conn, hub_id, form_guid))
    cors = {"Access-Control-Allow-Origin": "*"}
    if form is None or form.archived:
        message = (
            f"Portal {portal_id} has no form {form_guid}: check the portalId and formId "
            "given to hbspt.forms.create."
        )
        return JSONResponse(
            {"status": "error", "message": message},
            status_code=404,
            headers={**cors, "Cache-Control": "no-store"},
        )
    return JSONResponse(
        public_definition(form), headers={**cors, "Cache-Control": DEFINITION_CACHE_CONTROL}
    )

from hubtrail.core.errors import FieldError, ValidationError, hubspot_error_body
from hubtrail.core.events import internal_event_name, parse_event_ref, qualified_event_name
from hubtrail.core.messages import PARTITION_COUNT, Kind, Message, Source
from hubtrail.core.outcomes import Outcome, Status


def test_event_refs() -> None:
    by_id = parse_event_ref("000000001625", 62515)
    assert by_id is not None
    assert by_id.definition_id == 1625
    named = parse_event_ref("Clicked Buy Button", 62515)
    assert named is not None
    assert named.definition_id is None
    assert named.name == "clicked_buy_button"
    qualified = parse_event_ref("pe62515_login_event", 62515)
    assert qualified is not None
    assert qualified.name == "login_event"
    other_hub = parse_event_ref("pe1_login", 62515)
    assert other_hub is not None
    assert other_hub.name == "pe1_login"
    assert parse_event_ref("   ", 1) is None
    assert qualified_event_name(5, "x") == "pe5_x"


def test_internal_names_are_valid_hubspot_names() -> None:
    assert internal_event_name("3D view") == "e_3d_view"
    assert internal_event_name("!!!") is None
    assert len(internal_event_name("a" * 80) or "") == 50


def _message(**kw: object) -> Message:
    base: dict[str, object] = {
        "message_id": "m1",
        "portal_id": 1,
        "source": Source.HTTP_EVENTS,
        "kind": Kind.TRACK,
        "received_at_ms": 1,
        "occurred_at_ms": 1,
    }
    base.update(kw)
    return Message(**base)  # type: ignore[arg-type]


def test_message_json_round_trip() -> None:
    message = _message(
        email="a@b.com", contact_properties={"firstname": "A"}, event_properties={"n": 1}
    )
    assert Message.from_json(message.to_json()) == message


def test_partition_follows_visitor_then_email() -> None:
    assert (
        _message(visitor_key="v1").partition()
        == _message(message_id="m2", visitor_key="v1").partition()
    )
    assert (
        _message(email="A@b.com").partition()
        == _message(message_id="x", email="a@B.com ").partition()
    )
    assert 0 <= _message().partition() < PARTITION_COUNT


def test_hubspot_error_body_shape() -> None:
    error = ValidationError(
        "Invalid input JSON on fields: eventName",
        errors=[
            FieldError(
                "eventName is required", "REQUIRED", {"field": ["eventName"]}, in_="eventName"
            )
        ],
    )
    body = hubspot_error_body(error, "cid")
    assert body == {
        "status": "error",
        "message": "Invalid input JSON on fields: eventName",
        "correlationId": "cid",
        "category": "VALIDATION_ERROR",
        "errors": [
            {
                "message": "eventName is required",
                "code": "REQUIRED",
                "context": {"field": ["eventName"]},
                "in": "eventName",
            }
        ],
    }


def test_outcome_status() -> None:
    outcome = Outcome()
    assert outcome.status is Status.APPLIED
    outcome.note("X", "f", "why")
    assert outcome.status is Status.PARTIAL
    assert Outcome(error="boom").status is Status.FAILED

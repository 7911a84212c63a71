"""Every error an API client can meet is JSON {"code", "message", "field"}: never an HTML page."""

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import purchase_body

SHAPE = {"code", "message", "field"}


def _assert_shape(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE and body["code"] == code and body["message"]
    return body


def test_no_key_is_401_with_the_scheme(db):
    response = APIClient().get("/api/v1/statement")
    _assert_shape(response, 401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_wrong_or_revoked_key_is_401(db, agent_key):
    from vending.models import ApiKey
    from vending.services.agents import api_key_revoke

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key kor_nothing_here")
    _assert_shape(client.get("/api/v1/statement"), 401, "NOT_AUTHENTICATED")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_key[1]}")
    _assert_shape(client.get("/api/v1/statement"), 401, "NOT_AUTHENTICATED")
    api_key_revoke(api_key=ApiKey.objects.get())
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {agent_key[1]}")
    _assert_shape(client.get("/api/v1/statement"), 401, "NOT_AUTHENTICATED")


def test_unknown_path_is_json_404(api):
    _assert_shape(api.get("/api/v1/nothing/here"), 404, "NOT_FOUND")
    _assert_shape(api.get("/api/v1/purchases/not-a-uuid"), 404, "NOT_FOUND")


def test_wrong_verb_is_json_405(api):
    _assert_shape(api.delete("/api/v1/purchases"), 405, "METHOD_NOT_ALLOWED")


def test_missing_scope_is_json_403(db):
    from tests.api.conftest import new_agent
    from vending.services.agents import api_key_create

    agent, _ = new_agent("No scopes")
    issued = api_key_create(terminal=agent.terminals.get(), scopes=[])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {issued.plaintext}")
    _assert_shape(client.post("/api/v1/quotes", {}, format="json"), 403, "PERMISSION_DENIED")


def test_suspended_agent_is_json_403(api, agent_key, kenya_meter):
    from vending.services.agents import agent_set_status

    agent_set_status(agent=agent_key[0], status="suspended", actor=None, reason="test")
    _assert_shape(api.post("/api/v1/purchases", purchase_body(kenya_meter), format="json"), 403, "AGENT_SUSPENDED")


def test_throttled_is_json_429(api, settings):
    settings.API_THROTTLE_RATE = "2/min"
    from django.core.cache import cache

    cache.clear()
    api.get("/api/v1/statement")
    api.get("/api/v1/statement")
    response = api.get("/api/v1/statement")
    _assert_shape(response, 429, "THROTTLED")
    assert int(response["Retry-After"]) > 0


def test_unparseable_json_is_400_parse_error(api):
    response = api.post("/api/v1/purchases", data="{not json", content_type="application/json")
    _assert_shape(response, 400, "PARSE_ERROR")


def test_wrong_media_type_is_415(api):
    response = api.post("/api/v1/purchases", data="id=1", content_type="application/x-www-form-urlencoded")
    _assert_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_validation_error_names_the_field(api, kenya_meter):
    body = purchase_body(kenya_meter)
    body["meter"] = "12345678901"  # bad check digit
    response = api.post("/api/v1/purchases", body, format="json")
    assert _assert_shape(response, 400, "VALIDATION_ERROR")["field"] == "meter"
    body = purchase_body(kenya_meter, payment={"method": "mobile_money", "wallet": "mpesa"})
    assert (
        _assert_shape(api.post("/api/v1/purchases", body, format="json"), 400, "VALIDATION_ERROR")["field"]
        == "payment.phone"
    )
    assert _assert_shape(api.post("/api/v1/purchases", [1, 2], format="json"), 400, "VALIDATION_ERROR")


def test_unknown_meter_is_404_meter_not_found(api, kenya_meter):
    body = purchase_body(kenya_meter)
    from tests.factories import make_drn

    body["meter"] = make_drn()
    assert _assert_shape(api.post("/api/v1/purchases", body, format="json"), 404, "METER_NOT_FOUND")["field"] == "meter"


def test_an_unexpected_error_is_json_500(api, kenya_meter, monkeypatch):
    from vending.api import views

    def boom(**kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(views, "meter_vend_check", boom)
    api.raise_request_exception = False
    _assert_shape(api.get(f"/api/v1/meters/{kenya_meter.drn}"), 500, "SERVER_ERROR")


@pytest.mark.parametrize("path", ["/api/v1/schema/", "/api/v1/docs/"])
def test_schema_and_docs_are_public(client, db, path):
    assert client.get(path).status_code == 200

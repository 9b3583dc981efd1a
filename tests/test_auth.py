"""Keys and accounts (the route-by-route authorization matrix is test_authorization.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Server
from tests.helpers import assert_envelope


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer sk_unknown_key_1234567890", "Basic abc", "sk_x"]
)
def test_missing_or_unknown_keys_are_unauthenticated(
    anon: httpx.Client, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (("GET", "/v1/projects"), ("POST", "/v1/assets"), ("GET", "/v1/users/me")):
        r = anon.request(method, path, headers=headers, json={})
        assert_envelope(r, 401, "unauthenticated")
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_users_me(client: httpx.Client) -> None:
    me = client.get("/v1/users/me").json()
    assert set(me) == {"id", "email", "name", "created_at"}
    assert me["email"].endswith("@example.com")


def test_keys_are_minted_listed_and_revoked(client: httpx.Client, server: Server) -> None:
    r = client.post("/v1/api-keys", json={"name": "ci"})
    assert r.status_code == 201
    key = r.json()
    assert key["plaintext"].startswith("sk_") and key["plaintext"].startswith(key["prefix"])
    assert key["revoked_at"] is None and key["name"] == "ci"
    listed = client.get("/v1/api-keys").json()
    assert listed["total"] == 2
    assert all("plaintext" not in k for k in listed["items"])
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {key['plaintext']}"}
    ) as c:
        assert c.get("/v1/users/me").json() == client.get("/v1/users/me").json()
        assert client.delete(f"/v1/api-keys/{key['id']}").status_code == 204
        assert_envelope(c.get("/v1/users/me"), 401, "unauthenticated")
    assert client.delete(f"/v1/api-keys/{key['id']}").status_code == 204  # idempotent
    revoked = [k for k in client.get("/v1/api-keys").json()["items"] if k["id"] == key["id"]]
    assert revoked[0]["revoked_at"] is not None
    assert_envelope(client.post("/v1/api-keys", json={"name": ""}), 422, "validation_error")


def test_another_accounts_key_is_not_found(
    client: httpx.Client, other_client: httpx.Client
) -> None:
    key_id = client.post("/v1/api-keys", json={"name": "mine"}).json()["id"]
    assert_envelope(other_client.delete(f"/v1/api-keys/{key_id}"), 404, "not_found")


def test_local_account_is_created_on_first_start(server: Server) -> None:
    key = server.local_key
    assert key.startswith("sk_")
    me = httpx.get(server.base_url + "/v1/users/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["email"].startswith("local@")
    assert "local-api-key" in server.log_path.read_text()

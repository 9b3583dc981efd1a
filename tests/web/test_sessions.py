"""The dashboard's sign-in (issue 22): an API key exchanged for an HttpOnly session cookie that
the public API accepts, with a CSRF token on every change; bearer keys as before."""

from __future__ import annotations

from contextlib import closing

import httpx

from roughy.db import Database
from tests.conftest import Server, new_key
from tests.helpers import assert_envelope


def signed_in(server: Server, key: str) -> tuple[httpx.Client, str]:
    """A client holding a session cookie (and no key), and its CSRF token."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    r = client.post("/dashboard/session", json={"api_key": key})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert key not in cookie and key not in r.text
    return client, r.json()["csrf_token"]


def test_the_page_is_served_at_the_root(anon: httpx.Client) -> None:
    r = anon.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/dashboard/static/js/app.js" in r.text
    js = anon.get("/dashboard/static/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert anon.get("/dashboard/static/vendor/uppy/uppy.min.js").status_code == 200
    assert "/dashboard/session" not in anon.get("/openapi.json").text


def test_a_session_reads_and_changes_with_its_csrf_token(server: Server, db: Database) -> None:
    client, csrf = signed_in(server, new_key(db))
    with closing(client):
        me = client.get("/dashboard/session")
        assert me.status_code == 200 and me.json()["csrf_token"] == csrf
        assert client.get("/v1/projects").status_code == 200
        refused = client.post("/v1/projects", json={"name": "No token"})
        assert_envelope(refused, 403, "forbidden")
        wrong = client.post("/v1/projects", json={"name": "x"}, headers={"X-CSRF-Token": "x" * 32})
        assert_envelope(wrong, 403, "forbidden")
        made = client.post("/v1/projects", json={"name": "Talks"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        # Nothing was made by the refused requests.
        assert [p["name"] for p in client.get("/v1/projects").json()["items"]] == ["Talks"]


def test_a_bearer_key_is_judged_alone_whatever_the_cookie(server: Server, db: Database) -> None:
    client, _ = signed_in(server, new_key(db))
    with closing(client):
        r = client.get("/v1/projects", headers={"Authorization": "Bearer sk_not_a_real_key_at_all"})
        assert_envelope(r, 401, "unauthenticated")
        other = new_key(db)
        r = client.post(
            "/v1/projects", json={"name": "By key"}, headers={"Authorization": f"Bearer {other}"}
        )
        assert r.status_code == 201, r.text  # a bearer request needs no CSRF token


def test_a_revoked_key_ends_its_sessions(server: Server, db: Database) -> None:
    key = new_key(db)
    client, _ = signed_in(server, key)
    with closing(client), httpx.Client(base_url=server.base_url, timeout=30) as keyed:
        keyed.headers["Authorization"] = f"Bearer {key}"
        key_id = keyed.get("/v1/api-keys").json()["items"][0]["id"]
        assert keyed.delete(f"/v1/api-keys/{key_id}").status_code == 204
        assert_envelope(client.get("/v1/projects"), 401, "unauthenticated")
        assert_envelope(client.get("/dashboard/session"), 401, "unauthenticated")


def test_bad_keys_and_tampered_cookies_are_refused(server: Server, db: Database) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as anon:
        assert_envelope(
            anon.post("/dashboard/session", json={"api_key": "sk_unknownunknownunknown"}),
            401,
            "unauthenticated",
        )
        assert_envelope(anon.post("/dashboard/session", json={}), 422, "validation_error")
        assert_envelope(anon.get("/dashboard/session"), 401, "unauthenticated")
        anon.cookies.set("roughy_session", "AAAA" * 14)
        assert_envelope(anon.get("/v1/projects"), 401, "unauthenticated")
    client, _ = signed_in(server, new_key(db))
    with closing(client):
        value = client.cookies["roughy_session"]
        flipped = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
        client.cookies.set("roughy_session", flipped)
        assert_envelope(client.get("/v1/projects"), 401, "unauthenticated")


def test_signing_out_clears_the_cookie(server: Server, db: Database) -> None:
    client, csrf = signed_in(server, new_key(db))
    with closing(client):
        assert_envelope(client.delete("/dashboard/session"), 403, "forbidden")
        r = client.delete("/dashboard/session", headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204
        assert 'roughy_session=""' in r.headers["set-cookie"]
        assert_envelope(client.get("/v1/projects"), 401, "unauthenticated")

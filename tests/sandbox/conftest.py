"""Fixtures for the sandbox tests: one module-wide seeded sandbox and tiny HTTP helpers."""

from __future__ import annotations

import httpx
import pytest

import onesig_nb as osn

SEED_USERS = [
    {"external_id": "ana", "platform": "ios", "tags": {"first_name": "Ana", "city": "Lisbon"}},
    {"external_id": "bo", "platform": "android", "tags": {"first_name": "Bo", "language": "de"}},
    {"external_id": "cy", "platform": "web", "tags": {}},
    {"external_id": "off", "platform": "ios", "subscribed": False, "tags": {"first_name": "Off"}},
    {"external_id": "multi", "platform": "ios", "tags": {"first_name": "Mo"}},
    {"external_id": "multi", "platform": "web"},
]


class Api:
    """Raw HTTP against a sandbox, with the right auth header for each API family."""

    def __init__(self, sb: osn.Sandbox) -> None:
        self.sb = sb
        self.http = httpx.Client(base_url=sb.url, timeout=10)

    def legacy(self, method: str, path: str, json=None, *, auth: str | None = None, **kw):
        headers = {"Authorization": auth if auth is not None else f"Basic {self.sb.api_key}"}
        return self.http.request(method, "/api/v1" + path, json=json, headers=headers, **kw)

    def current(self, method: str, path: str, json=None, *, auth: str | None = None, **kw):
        headers = {"Authorization": auth if auth is not None else f"Key {self.sb.api_key}"}
        return self.http.request(method, path, json=json, headers=headers, **kw)

    def push(self, ids, *, api: str = "current", **fields):
        body = {"app_id": self.sb.app_id, "contents": {"en": "Hi"}, **fields}
        if api == "current":
            body.setdefault("include_aliases", {"external_id": list(ids)})
            body.setdefault("target_channel", "push")
            return self.current("POST", "/notifications", body)
        body.setdefault("include_external_user_ids", list(ids))
        return self.legacy("POST", "/notifications", body)


@pytest.fixture(scope="module")
def seeded():
    """A sandbox seeded with SEED_USERS, shared by one test module."""
    with osn.Sandbox(seed=3) as sb:
        sb.add_users(SEED_USERS)
        yield sb


@pytest.fixture
def api(seeded):
    client = Api(seeded)
    yield client
    client.http.close()


@pytest.fixture
def fresh_users() -> list[dict]:
    """Who ``fresh_api``'s sandbox holds: :data:`SEED_USERS`, unless a test module overrides
    this fixture with people of its own."""
    return SEED_USERS


@pytest.fixture
def fresh_api(fresh_sandbox, fresh_users):
    """Raw HTTP against a sandbox of the test's own, seeded with ``fresh_users``."""
    fresh_sandbox.add_users(fresh_users)
    client = Api(fresh_sandbox)
    yield client
    client.http.close()


def run_async(coro):
    """``asyncio.run`` in a thread of its own.

    Another test in the same session (Playwright's sync API, a kernel) may leave an event loop
    running in the main thread, where ``asyncio.run`` refuses to start.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

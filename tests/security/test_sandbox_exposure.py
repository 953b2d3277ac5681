"""The sandbox is reachable from this machine only, and its admin routes need its key."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

ADMIN_ROUTES = [
    ("GET", "/_sandbox/info", None),
    ("GET", "/_sandbox/users", None),
    ("POST", "/_sandbox/users", [{"external_id": "intruder", "platform": "web"}]),
    ("GET", "/_sandbox/users/user-1/tags", None),
    ("GET", "/_sandbox/notifications", None),
    ("GET", "/_sandbox/deliveries", None),
    ("GET", "/_sandbox/requests", None),
    ("GET", "/_sandbox/requests/count", None),
    ("PUT", "/_sandbox/faults", {"rate": 1.0}),
    ("DELETE", "/_sandbox/faults", None),
    ("PUT", "/_sandbox/latency", {"ms": 5000}),
    ("PUT", "/_sandbox/rate_limits", {"limits": True}),
    ("POST", "/_sandbox/reset", None),
    ("POST", "/_sandbox/shutdown", None),
]
WRONG = "os_v2_app_not-the-sandbox-key-00000000000000"


def _listening(pid: int, port: int) -> list[str]:
    """IP addresses the process (or its children) listens on at ``port``."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    addrs = []
    for proc in procs:
        for conn in proc.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                addrs.append(conn.laddr.ip)
    return addrs


def _external_ips() -> list[str]:
    ips = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                ips.append(a.address)
    return ips


def _assert_loopback_only(pid: int, port: int) -> None:
    addrs = _listening(pid, port)
    assert addrs, "found no listening socket for the sandbox"
    assert set(addrs) == {"127.0.0.1"}, f"the sandbox listens on {addrs}"
    for ip in _external_ips():
        with pytest.raises(OSError):
            socket.create_connection((ip, port), timeout=1).close()


def test_sandbox_listens_on_loopback_only(fresh_sandbox):
    sb = fresh_sandbox
    assert sb.url.startswith("http://127.0.0.1:")
    _assert_loopback_only(sb._proc.pid, sb.port)


def test_sandbox_command_listens_on_loopback_only(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onesig_nb.sandbox",
            "--port",
            "0",
            "--db",
            str(tmp_path / "cli.sqlite"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            for word in line.split():
                if word.startswith("http://"):
                    url = word.rstrip(".,")
        assert url and url.startswith("http://127.0.0.1:"), f"printed URL: {url}"
        _assert_loopback_only(proc.pid, int(url.rsplit(":", 1)[1].strip("/")))
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": f"Key {WRONG}"},
        {"Authorization": f"Basic {WRONG}"},
        {"X-Sandbox-Key": WRONG},
        {"Authorization": "Key "},
    ],
)
def test_admin_routes_refuse_requests_without_the_key(fresh_sandbox, headers):
    sb = fresh_sandbox
    sb.add_users([{"external_id": "user-1", "platform": "ios", "tags": {"plan": "pro"}}])
    for method, path, body in ADMIN_ROUTES:
        resp = requests.request(method, sb.url + path, json=body, headers=headers, timeout=10)
        assert resp.status_code == 401, f"{method} {path} answered {resp.status_code} {headers}"
        assert sb.api_key not in resp.text
    # nothing changed: the server still runs, with its user, no faults, no latency
    assert sb.user_tags("user-1") == {"plan": "pro"}
    assert "intruder" not in set(sb.users()["external_id"])
    t0 = time.perf_counter()
    info = requests.get(
        sb.url + "/_sandbox/info", headers={"Authorization": f"Key {sb.api_key}"}, timeout=10
    )
    assert info.status_code == 200
    assert time.perf_counter() - t0 < 2.0, "the refused latency change took effect"


def test_api_routes_refuse_requests_without_the_key(fresh_sandbox):
    sb = fresh_sandbox
    sb.add_users([{"external_id": "user-1", "platform": "ios"}])
    calls = [
        (
            "POST",
            "/api/v1/notifications",
            {"app_id": sb.app_id, "contents": {"en": "x"}, "include_external_user_ids": ["user-1"]},
        ),
        ("PUT", f"/api/v1/apps/{sb.app_id}/users/user-1", {"tags": {"a": "b"}}),
        (
            "POST",
            "/notifications",
            {
                "app_id": sb.app_id,
                "contents": {"en": "x"},
                "include_aliases": {"external_id": ["user-1"]},
            },
        ),
        (
            "PATCH",
            f"/apps/{sb.app_id}/users/by/external_id/user-1",
            {"properties": {"tags": {"a": "b"}}},
        ),
        ("GET", f"/apps/{sb.app_id}/users/by/external_id/user-1", None),
    ]
    for headers in ({}, {"Authorization": f"Key {WRONG}"}, {"Authorization": f"Basic {WRONG}"}):
        for method, path, body in calls:
            resp = requests.request(method, sb.url + path, json=body, headers=headers, timeout=10)
            assert resp.status_code in (400, 401, 403), f"{method} {path}: {resp.status_code}"
    assert len(sb.deliveries()) == 0
    assert sb.user_tags("user-1") == {}

"""The sandbox starts, serves both API families, persists, and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx

import onesig_nb as osn
from onesig_nb.sandbox.runner import bind


def test_sandbox_serves_both_families_and_renders_per_user(fresh_api):
    sb = fresh_api.sb
    r = fresh_api.push(["ana", "bo"], contents={"en": "Hi {{ first_name | default: 'there' }}"})
    assert r.status_code == 200 and r.json()["id"]
    r2 = fresh_api.push(
        ["cy"], api="legacy", contents={"en": "Hey {{ first_name | default: 'you' }}"}
    )
    assert r2.json()["recipients"] == 1
    d = sb.deliveries()
    assert sorted(d.contents) == ["Hey you", "Hi Ana", "Hi Bo"]
    assert sb.request_count() == 2


def test_tag_edits_in_both_dialects_are_stored(fresh_api):
    sb = fresh_api.sb
    r = fresh_api.legacy(
        "PUT", f"/apps/{sb.app_id}/users/ana", {"tags": {"plan": "pro", "city": ""}}
    )
    assert r.status_code == 200 and r.json() == {"success": True}
    r = fresh_api.current(
        "PATCH",
        f"/apps/{sb.app_id}/users/by/external_id/ana",
        {"properties": {"tags": {"ltv": "9"}}},
    )
    assert r.status_code == 202
    assert sb.user_tags("ana") == {"first_name": "Ana", "plan": "pro", "ltv": "9"}


def test_persisted_db_keeps_identity_and_data_across_restart_on_same_port(tmp_path):
    db = tmp_path / "sb.sqlite"
    with osn.Sandbox(db=db) as first:
        first.add_users([{"external_id": "x", "platform": "ios", "tags": {"a": "1"}}])
        port, app_id, key = first.port, first.app_id, first.api_key
    with osn.Sandbox(db=db, port=port) as second:
        assert (second.port, second.app_id, second.api_key) == (port, app_id, key)
        assert second.user_tags("x") == {"a": "1"}


def test_attach_gives_the_same_accessors(fresh_api):
    sb = fresh_api.sb
    other = osn.Sandbox.attach(sb.url, sb.app_id, sb.api_key)
    assert other.user_tags("bo")["first_name"] == "Bo"
    other.stop()  # no-op for an attached handle
    assert sb.running


def test_cli_prints_identity_and_stops_cleanly_on_sigterm(tmp_path):
    sock = bind(0)
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onesig_nb.sandbox",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "c.db"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert f"http://127.0.0.1:{port}" in lines[0]
        assert "app id:" in lines[1] and "api key:" in lines[2]
        assert httpx.post(f"http://127.0.0.1:{port}/notifications", json={}).status_code == 403
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_supplied_key_is_stored_only_as_a_hash(tmp_path):
    db = tmp_path / "k.sqlite"
    key = "os_v2_app_CANARYcanary0123456789"
    with osn.Sandbox(db=db, api_key=key) as sb:
        assert sb.api_key == key
        sb.add_users([{"external_id": "x", "platform": "ios"}])
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert key.encode() not in raw
    try:
        osn.Sandbox(db=db)
    except osn.OneSigNbError as exc:
        assert "Pass the same key again" in str(exc) and key not in str(exc)
    else:
        raise AssertionError("a hashed-key store must not start without its key")
    with osn.Sandbox(db=db, api_key=key) as again:
        assert again.user_tags("x") == {}


def test_sandbox_close_is_stop_and_the_context_manager_stops_it():
    with osn.Sandbox() as sb:
        assert sb.running and sb.info()["app_id"] == sb.app_id
    assert not sb.running
    other = osn.Sandbox()
    assert other.running
    other.close()
    assert not other.running
    other.close()  # closing twice is harmless

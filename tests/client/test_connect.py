"""connect(): environment credentials, or a local sandbox announced in one line."""

from __future__ import annotations

import onesig_nb as osn
from onesig_nb.connect import connect
from onesig_nb.onesignal import OneSignal


def test_without_a_key_connect_starts_a_seeded_sandbox_and_says_so(
    sample_workspace, monkeypatch, capsys
):
    monkeypatch.setenv("ONESIG_NB_WORKSPACE", str(sample_workspace))
    client = connect()
    try:
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and "sandbox" in out[0] and "ONESIGNAL_REST_API_KEY" in out[0]
        assert client.sandbox is not None and client.base_url == client.sandbox.url
        assert len(client.sandbox.users()) > 0
        assert client.sandbox.api_key not in out[0]
        assert client.api == "current"
    finally:
        sandbox = client.sandbox
        client.close()
    assert not sandbox.running


def test_connect_attaches_to_a_sandbox_named_by_the_environment(monkeypatch, capsys):
    with osn.Sandbox() as sb:
        monkeypatch.setenv("ONESIGNAL_APP_ID", sb.app_id)
        monkeypatch.setenv("ONESIGNAL_REST_API_KEY", sb.api_key)
        monkeypatch.setenv("ONESIGNAL_API_BASE", sb.url)
        with connect(api="legacy") as client:
            assert isinstance(client, OneSignal)
            assert client.api == "legacy" and client.base_url == sb.url
            assert client.sandbox is not None and client.sandbox.url == sb.url
        assert sb.running  # an attached handle does not own the sandbox
    assert capsys.readouterr().out == ""


def test_real_host_credentials_do_not_probe_for_a_sandbox(monkeypatch):
    monkeypatch.setenv("ONESIGNAL_APP_ID", "6f0c6b2e-4c4f-4f6e-9a43-0c2b1d9c7e11")
    monkeypatch.setenv("ONESIGNAL_REST_API_KEY", "os_v2_app_not_a_real_key_123456")
    with connect() as client:
        assert client.base_url == "https://api.onesignal.com" and client.sandbox is None
        assert "not_a_real_key" not in repr(client)

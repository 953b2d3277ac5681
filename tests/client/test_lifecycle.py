"""A client nobody closes still shuts its bulk engine down cleanly."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap

import pytest

import onesig_nb as osn
from onesig_nb.onesignal import OneSignal, TagEdit


@pytest.fixture(scope="module")
def sandbox():
    """A sandbox of this module's own: these tests write tags, which must not leak into the
    session-wide sample sandbox other tests compare previews against."""
    with osn.Sandbox() as sb:
        sb.add_users([{"external_id": f"u_{i:06d}", "platform": "android"} for i in range(40)])
        yield sb


SCRIPT = textwrap.dedent(
    """
    import sys
    from onesig_nb.onesignal import NotificationRequest, OneSignal, TagEdit

    url, app_id, key = sys.argv[1:4]
    client = OneSignal(app_id, key, base_url=url, rate_limits=False)
    done = client.edit_tags_bulk([TagEdit(f"u_{i:06d}", {"plan": "pro"}) for i in range(40)])
    reqs = [NotificationRequest({"contents": {"en": "Hi"}}, (f"u_{i:06d}",), f"k{i}")
            for i in range(5)]
    sent = list(client.iter_notifications(reqs))
    print(len(done), len(sent))
    # no client.close(): the script just ends, as most scripts do
    """
)


def test_a_script_that_never_closes_the_client_exits_without_unclosed_noise(sandbox, tmp_path):
    script = tmp_path / "no_close.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONESIGNAL_")}
    env["PYTHONWARNINGS"] = "default"  # show ResourceWarnings too
    proc = subprocess.run(
        [sys.executable, str(script), sandbox.url, sandbox.app_id, sandbox.api_key],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["40", "5"]
    assert "Unclosed" not in proc.stderr, proc.stderr[-2000:]
    assert "ResourceWarning" not in proc.stderr, proc.stderr[-2000:]


def test_a_client_that_is_garbage_collected_stops_its_engine(sandbox):
    client = OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url, rate_limits=False)
    results = client.edit_tags_bulk([TagEdit("u_000001", {"plan": "pro"})])
    assert results[0].ok
    thread = client.engine._thread
    assert thread.is_alive()
    del client, results
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()


def test_close_is_idempotent_and_the_client_is_a_context_manager(sandbox):
    with OneSignal(sandbox.app_id, sandbox.api_key, base_url=sandbox.url) as client:
        client.edit_tags_bulk([TagEdit("u_000001", {"plan": "pro"})])
        thread = client.engine._thread
    assert not thread.is_alive()
    client.close()  # a second close is harmless


class _StoppableSandbox:
    def __init__(self) -> None:
        self.stopped = 0

    def stop(self) -> None:
        self.stopped += 1


def test_close_stops_an_adopted_sandbox_once_and_leaves_one_it_only_points_at():
    adopted, attached = _StoppableSandbox(), _StoppableSandbox()
    owner = OneSignal("app", "os_v2_app_not_a_real_key_123456", base_url="http://127.0.0.1:9")
    owner.adopt_sandbox(adopted)
    assert owner.sandbox is adopted and owner.is_sandbox
    owner.close()
    owner.close()
    visitor = OneSignal("app", "os_v2_app_not_a_real_key_123456", base_url="http://127.0.0.1:9")
    visitor.sandbox = attached
    visitor.close()
    assert (adopted.stopped, attached.stopped) == (1, 0)

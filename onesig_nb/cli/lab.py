"""``onesig-nb lab``: sample workspace + a persisted sandbox + JupyterLab (or Voilà), in one go.

    onesig-nb lab --workspace workspace --notebooks notebooks              # make lab
    onesig-nb lab --workspace workspace --notebooks notebooks --voila 01-quickstart.ipynb   # make app

What it does, in order:

1. makes sure the sample Segment workspace exists (:func:`onesig_nb.samples.ensure_workspace`);
2. starts the local OneSignal sandbox, persisted in ``<workspace>/sandbox.sqlite`` and seeded
   from the workspace's OneSignal roster the first time only (it keeps its app id and key, so
   it stays "the same app" across restarts);
3. launches ``jupyter lab`` (or ``voila``) on the notebooks folder with ``ONESIGNAL_API_BASE``,
   ``ONESIGNAL_APP_ID``, ``ONESIGNAL_REST_API_KEY`` pointing at that sandbox and
   ``ONESIG_NB_WORKSPACE`` set, so every notebook's ``osn.connect()`` talks to it;
4. prints the URLs; Ctrl-C or SIGTERM stops everything it started.

Tests use :func:`start` (the same code path) and get a :class:`Stack` back.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from onesig_nb.config import ENV_API, ENV_APP_ID, ENV_BASE, ENV_KEY, ENV_WORKSPACE, mask
from onesig_nb.errors import ConfigError, OneSigNbError

__all__ = ["Stack", "main", "start"]

log = logging.getLogger("onesig_nb.cli.lab")

DEFAULT_LAB_PORT = 8888
PORT_SCAN = 50  # how many ports after the default we try before giving up
READY_TIMEOUT_S = 90.0  # JupyterLab needs ~5 s here; generous for a loaded 2-core machine
STOP_TIMEOUT_S = 10.0
SANDBOX_DB = "sandbox.sqlite"
ISOLATED_DIRS = {
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
    "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
    "IPYTHONDIR": "ipython",
}


@dataclass
class Stack:
    """What :func:`start` launched: the sandbox, the Jupyter process and their URLs."""

    workspace: Path
    notebooks: Path
    sandbox: Any
    process: subprocess.Popen
    base_url: str  # http://127.0.0.1:PORT (no token)
    token: str | None
    kind: str  # "lab" or "voila"
    env: dict[str, str] = field(repr=False)
    log_path: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        """The URL a person opens (with the token for JupyterLab)."""
        if self.kind == "voila":
            return self.base_url + "/"
        return f"{self.base_url}/lab?token={self.token}"

    def notebook_url(self, name: str) -> str:
        """URL of one notebook in JupyterLab (or the Voilà app itself)."""
        if self.kind == "voila":
            return self.base_url + "/"
        return f"{self.base_url}/lab/tree/{name}?token={self.token}"

    def voila_url(self, name: str) -> str:
        """Voilà rendering of a notebook; JupyterLab serves it too when voila is installed."""
        if self.kind == "voila":
            return self.base_url + "/"
        return f"{self.base_url}/voila/render/{name}?token={self.token}"

    def stop(self) -> None:
        """Stop Jupyter (SIGTERM, then SIGKILL) and the sandbox. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        _terminate(self.process)
        try:
            self.sandbox.stop()
        except Exception as exc:  # noqa: BLE001 - stopping must not hide the first error
            log.warning("sandbox did not stop cleanly: %s", exc)
        if self._log_file is not None:
            self._log_file.close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        proc.terminate()
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait(STOP_TIMEOUT_S)


def free_port(start_at: int = DEFAULT_LAB_PORT, *, tries: int = PORT_SCAN) -> int:
    """The first port from ``start_at`` that 127.0.0.1 can bind (0: any free port)."""
    candidates = [0] if start_at == 0 else range(start_at, start_at + tries)
    for port in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise ConfigError(
        f"No free port in {start_at}..{start_at + tries - 1}. Pass --port with a free one."
    )


def start_sandbox(workspace: Path, *, port: int = 0):
    """Start the workspace's persisted sandbox; seed it from the roster the first time only.

    The sandbox keeps its app id, key and data in ``<workspace>/sandbox.sqlite``, so it is the
    same app after a restart (and campaign journals named after the app id still apply).
    Seeding (:func:`onesig_nb.connect.seed_sandbox`) also registers the QA phone
    ``"qa-you"``, once, for ``campaign.send_test(["qa-you"])``.
    """
    from onesig_nb.connect import seed_sandbox
    from onesig_nb.sandbox import Sandbox

    sb = Sandbox(db=workspace / SANDBOX_DB, port=port)
    try:
        seed_sandbox(sb, workspace)
    except BaseException:
        sb.stop()
        raise
    return sb


def _isolate(env: dict[str, str], state_dir: Path) -> None:
    """Point Jupyter/IPython/Chromium state at ``state_dir`` (tests): no news toast, and no
    windowed notebooks, so a browser test finds every cell's widgets in the page."""
    for var, sub in ISOLATED_DIRS.items():
        path = state_dir / sub
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["XDG_CONFIG_HOME"] = str(state_dir / "xdg-config")
    env["XDG_CACHE_HOME"] = str(state_dir / "xdg-cache")
    notif = state_dir / "lab-settings" / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}\n')
    # every cell in the DOM (JupyterLab 4 otherwise only renders the cells on screen)
    tracker = state_dir / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}\n')


def _command(
    kind: str,
    notebooks: Path,
    *,
    port: int,
    token: str | None,
    open_browser: bool,
    voila_notebook: str | None,
) -> list[str]:
    bindir = Path(sys.executable).parent
    browser = [] if open_browser else ["--no-browser"]
    if kind == "voila":
        exe = bindir / "voila"
        return [
            str(exe if exe.exists() else "voila"),
            str(notebooks / voila_notebook),
            *browser,
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.root_dir={notebooks}",
        ]
    exe = bindir / "jupyter"
    cmd = [
        str(exe if exe.exists() else "jupyter"),
        "lab",
        *browser,
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebooks}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def _wait_ready(stack: Stack, timeout: float) -> None:
    probe = (
        f"{stack.base_url}/api/status?token={stack.token}"
        if stack.kind == "lab"
        else stack.base_url + "/"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise OneSigNbError(
                f"{stack.kind} exited with code {stack.process.returncode} before it was ready."
                + (f" Its log: {stack.log_path}" if stack.log_path else "")
            )
        try:
            with urllib.request.urlopen(probe, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise OneSigNbError(
        f"{stack.kind} did not answer {stack.base_url} within {timeout:.0f} s."
        + (f" Its log: {stack.log_path}" if stack.log_path else "")
    )


def start(
    workspace: str | os.PathLike,
    notebooks: str | os.PathLike,
    *,
    port: int | None = None,
    voila: str | None = None,
    open_browser: bool = False,
    users: int = 5_000,
    seed: int = 7,
    token: str | None = None,
    state_dir: str | os.PathLike | None = None,
    log_path: str | os.PathLike | None = None,
    sandbox_port: int = 0,
    ready_timeout: float = READY_TIMEOUT_S,
) -> Stack:
    """Start the stack ``make lab`` (or, with ``voila=``, ``make app``) runs and wait until it answers.

    ``state_dir`` isolates Jupyter's config/data/runtime/settings and IPython's profile in that
    folder (tests use it); ``log_path`` sends Jupyter's output to a file instead of the terminal.
    Returns a :class:`Stack`; call ``.stop()`` (or use it as a context manager) to stop it all.
    """
    from onesig_nb.samples import ensure_workspace

    notebooks_dir = Path(notebooks).resolve()
    if not notebooks_dir.is_dir():
        raise ConfigError(f"Notebooks folder {notebooks_dir} does not exist. Pass --notebooks DIR.")
    if voila is not None and not (notebooks_dir / voila).is_file():
        raise ConfigError(
            f"{voila!r} is not a notebook in {notebooks_dir}. Pass --voila NAME.ipynb."
        )
    ws = Path(ensure_workspace(Path(workspace), users=users, seed=seed)).resolve()
    sb = start_sandbox(ws, port=sandbox_port)
    log_file: IO[bytes] | None = None
    try:
        kind = "voila" if voila else "lab"
        the_port = free_port(
            DEFAULT_LAB_PORT if port is None else port, tries=PORT_SCAN if port is None else 1
        )
        the_token = None if kind == "voila" else (token or secrets.token_hex(24))
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("ONESIGNAL_"):
                del env[name]  # the sandbox, never a real app picked up from the shell
        env.update(
            {
                ENV_BASE: sb.url,
                ENV_APP_ID: sb.app_id,
                ENV_KEY: sb.api_key,
                ENV_API: "current",
                ENV_WORKSPACE: str(ws),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if state_dir is not None:
            _isolate(env, Path(state_dir))
        stdout: Any = None
        if log_path is not None:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            log_file = open(log_path, "ab")  # noqa: SIM115 - closed by Stack.stop()
            stdout = log_file
        cmd = _command(
            kind,
            notebooks_dir,
            port=the_port,
            token=the_token,
            open_browser=open_browser,
            voila_notebook=voila,
        )
        log.info("starting %s on port %s", kind, the_port)
        proc = subprocess.Popen(
            cmd,
            cwd=notebooks_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            start_new_session=True,  # Ctrl-C reaches us only; we stop it with SIGTERM
        )
    except BaseException:
        sb.stop()
        if log_file is not None:
            log_file.close()
        raise
    stack = Stack(
        workspace=ws,
        notebooks=notebooks_dir,
        sandbox=sb,
        process=proc,
        base_url=f"http://127.0.0.1:{the_port}",
        token=the_token,
        kind=kind,
        env=env,
        log_path=Path(log_path) if log_path else None,
        _log_file=log_file,
    )
    try:
        _wait_ready(stack, ready_timeout)
    except BaseException:
        stack.stop()
        raise
    return stack


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="onesig-nb lab",
        description="Sample workspace + local OneSignal sandbox + JupyterLab (or Voilà) on the "
        "notebooks folder. Ctrl-C stops everything.",
    )
    p.add_argument(
        "--workspace", default="workspace", help="sample workspace folder (made if missing)"
    )
    p.add_argument("--notebooks", default="notebooks", help="folder JupyterLab opens")
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"JupyterLab port (default: first free from {DEFAULT_LAB_PORT})",
    )
    p.add_argument(
        "--voila",
        metavar="NOTEBOOK",
        default=None,
        help="serve this notebook as a Voilà app instead",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--users", type=int, default=5_000, help="sample size when the workspace is made"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the stack until Ctrl-C or SIGTERM; returns the exit code."""
    args = _parser().parse_args(argv)
    stop_now = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop_now.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"onesig-nb: preparing the sample workspace in {args.workspace} …", flush=True)
        try:
            stack = start(
                args.workspace,
                args.notebooks,
                port=args.port,
                voila=args.voila,
                open_browser=not args.no_browser,
                users=args.users,
            )
        except OneSigNbError as exc:
            print(f"onesig-nb lab: {exc}", file=sys.stderr)
            return 1
        with stack:
            sb = stack.sandbox
            print(f"onesig-nb: sandbox  {sb.url}  (app {sb.app_id}, key {mask(sb.api_key)})")
            label = "Voilà app" if stack.kind == "voila" else "JupyterLab"
            print(f"onesig-nb: {label:<10} {stack.url}")
            print("onesig-nb: Ctrl-C stops JupyterLab and the sandbox.", flush=True)
            while not stop_now.is_set():
                if stack.process.poll() is not None:
                    print(f"onesig-nb: {stack.kind} exited ({stack.process.returncode}).")
                    return int(stack.process.returncode or 0)
                stop_now.wait(0.5)
            print("\nonesig-nb: stopping …", flush=True)
        print("onesig-nb: stopped.")
        return 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

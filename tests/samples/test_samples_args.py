"""Bad arguments fail clearly and leave nothing behind; ensure_workspace and the CLI."""

from __future__ import annotations

import json
import os

import pytest

from onesig_nb.errors import SourceError, ValidationError
from onesig_nb.samples import ensure_workspace, load_manifest, load_roster, make_workspace
from onesig_nb.samples.cli import main


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


@pytest.mark.parametrize("users", [0, -5, 1.5, "100", None, True])
def test_bad_user_counts_are_refused_before_writing(tmp_path, users):
    with pytest.raises(ValidationError, match="users"):
        make_workspace(tmp_path / "ws", users=users)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("seed", [-1, "7", 1.0])
def test_bad_seeds_are_refused(tmp_path, seed):
    with pytest.raises(ValidationError, match="seed"):
        make_workspace(tmp_path / "ws", users=10, seed=seed)
    assert leftovers(tmp_path) == []


def test_unwritable_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(ValidationError, match="Cannot write the sample workspace"):
        make_workspace(blocker / "ws", users=10)
    with pytest.raises(ValidationError, match="not a directory"):
        make_workspace(blocker, users=10)
    assert leftovers(tmp_path) == ["a-file"]


def test_existing_non_empty_directory_needs_overwrite(tmp_path):
    target = tmp_path / "ws"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ValidationError, match="overwrite=True"):
        make_workspace(target, users=10)
    with pytest.raises(ValidationError, match="not a sample workspace"):
        make_workspace(target, users=10, overwrite=True)
    assert leftovers(target) == ["notes.txt"] and leftovers(tmp_path) == ["ws"]


def test_overwrite_replaces_a_previous_workspace(tmp_path):
    target = make_workspace(tmp_path / "ws", users=20, seed=1)
    (target / "stale.txt").write_text("old")
    make_workspace(target, users=30, seed=2, overwrite=True)
    assert load_manifest(target)["users"] == 30
    assert not (target / "stale.txt").exists()
    assert leftovers(tmp_path) == ["ws"]


def test_empty_existing_directory_is_filled(tmp_path):
    (tmp_path / "ws").mkdir()
    assert make_workspace(tmp_path / "ws", users=10) == (tmp_path / "ws").absolute()
    assert (tmp_path / "ws" / "manifest.json").is_file()


def test_failure_midway_leaves_nothing_half_written(tmp_path, monkeypatch):
    import onesig_nb.samples as samples

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(samples, "write_roster", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        make_workspace(tmp_path / "ws", users=10)
    assert leftovers(tmp_path) == []


def test_ensure_workspace_generates_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ONESIG_NB_WORKSPACE", str(tmp_path / "env-ws"))
    ws = ensure_workspace(users=15, seed=3)
    assert ws == (tmp_path / "env-ws").absolute()
    stamp = (ws / "manifest.json").stat().st_mtime_ns
    assert ensure_workspace(users=99, seed=4) == ws
    assert (ws / "manifest.json").stat().st_mtime_ns == stamp
    assert load_manifest(ws)["users"] == 15


def test_ensure_workspace_defaults_to_dot_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = ensure_workspace(users=10)
    assert ws == (tmp_path / "workspace").absolute() and (ws / "manifest.json").is_file()


def test_loaders_say_how_to_generate_a_missing_workspace(tmp_path):
    with pytest.raises(SourceError, match="make_workspace"):
        load_manifest(tmp_path)
    with pytest.raises(SourceError, match="onesig-nb sample"):
        load_roster(tmp_path / "nowhere")


def test_cli_writes_and_summarises(tmp_path, capsys):
    out = tmp_path / "cli-ws"
    assert main(["--users", "40", "--seed", "5", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert str(out) in text and "cart_abandoners" in text and "40 people" in text
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert main(["--users", "40", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["--users", "41", "--out", str(out), "--overwrite"]) == 0


def test_cli_rejects_zero_users(tmp_path, capsys):
    assert main(["--users", "0", "--out", str(tmp_path / "w")]) == 2
    assert "users must be at least 1" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "w")


def test_onesig_nb_sample_dispatches_here(tmp_path):
    from onesig_nb.cli import main as cli_main

    assert cli_main(["sample", "--users", "12", "--out", str(tmp_path / "w")]) == 0
    assert load_manifest(tmp_path / "w")["users"] == 12

"""`make models` (scripts/models.py) refuses a model folder whose files differ from the published
hashes, with one line naming the file; checked on a small folder made here (no download)."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

_spec = importlib.util.spec_from_file_location("make_models", ROOT / "scripts" / "models.py")
assert _spec and _spec.loader
models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models)


@pytest.fixture()
def folder(tmp_path, monkeypatch) -> Path:
    """A folder of two files with their sha256 pinned, as the real hash file pins the model's."""
    out = tmp_path / "model"
    (out / "2_Dense").mkdir(parents=True)
    files = {"config.json": b'{"a": 1}', "2_Dense/model.safetensors": b"\x00weights"}
    for name, data in files.items():
        (out / name).write_bytes(data)
    pins = tmp_path / "pins.sha256"
    pins.write_text("".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items()))
    monkeypatch.setattr(models, "HASHES", pins)
    return out


def test_a_folder_with_the_published_hashes_passes(folder):
    models.verify(folder)


def test_a_changed_file_is_refused_naming_it(folder):
    (folder / "2_Dense" / "model.safetensors").write_bytes(b"\x00tampered")
    with pytest.raises(models.ModelError, match=r"2_Dense/model.safetensors: sha256 differs") as err:
        models.verify(folder)
    assert "\n" not in str(err.value)


def test_a_missing_file_is_refused_naming_it(folder):
    (folder / "config.json").unlink()
    with pytest.raises(models.ModelError, match=r"config.json: missing"):
        models.verify(folder)


@pytest.mark.integration
def test_the_check_command_exits_2_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "models.py"), "--check", "--target", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "missing" in done.stderr


def test_the_pinned_hashes_are_the_shared_published_ones():
    pinned = models.pinned()
    assert len(pinned) == 15 and "model.safetensors" in pinned
    assert all(len(h) == 64 for h in pinned.values())

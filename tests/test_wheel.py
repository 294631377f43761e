"""The package a user installs the ordinary way (`pip install .`, not editable) carries the prompt
templates: a wheel built from this checkout, installed alone into a folder of its own, answers in
LLM mode against the fake server from a directory outside the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

from .conftest import ROOT


def test_the_wheel_carries_the_prompt_templates_and_answers_in_llm_mode(copied_home, fake_llm, tmp_path):
    dist, site, elsewhere, src = (tmp_path / n for n in ("dist", "site", "elsewhere", "src"))
    elsewhere.mkdir()
    # Built from a copy of the sources: setuptools' build/ folder stays out of the checkout, where a
    # stale one would slip modules that no longer exist into every later wheel.
    for folder in ("rag", "prompts"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # no build isolation: the build needs no download (setuptools and wheel are in the test venv)
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)], check=True
    )
    (wheel,) = dist.glob("rag-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {n for n in names if n.startswith("rag/templates/")} == {
        f"rag/templates/{p.name}" for p in (ROOT / "prompts").glob("*.md")
    }
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "rag").rglob("*.py")}
    assert {n for n in names if n.endswith(".py")} == modules
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)

    # the wheel's package first on the path; its dependencies from the test venv
    env = {**os.environ, "PYTHONPATH": str(site), "RAG_HOME": str(copied_home)}
    env.update(OPENAI_BASE_URL=fake_llm.base_url, OPENAI_API_KEY="test-key", RAG_LLM_MODEL="fake-model")
    env.pop("RAG_PROMPTS_DIR", None)
    code = "import sys, rag.interfaces.cli; print(rag.interfaces.cli.__file__, file=sys.stderr); rag.interfaces.cli.main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "ask", "--json", "到2025年上市企业超过多少家？"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.startswith(str(site)), done.stderr  # the installed copy ran, not the checkout
    answer = json.loads(done.stdout)
    assert done.returncode == 0 and answer["mode"] == "llm" and "150家" in answer["answer"]

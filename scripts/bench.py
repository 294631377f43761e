"""Timings and memory for the closing notes: python scripts/bench.py [--web]

- ingest of seeds/ into a fresh RAG_HOME (first run, with model load) and a re-run
- in-process search latency (median of 50 queries) and answer latency (extractive)
- cold `rag search` / `rag ask` process time and peak memory (max RSS)
- with --web: time to first token and to the full answer on the page (Playwright + chromium)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RAG = str(Path(sys.executable).parent / "rag")


def timed(cmd: list[str], env: dict) -> tuple[float, int]:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dt = time.perf_counter() - t
    return dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    env = {**os.environ, "RAG_HOME": str(home)}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    first, rss1 = timed([RAG, "ingest", str(ROOT / "seeds")], env)
    again, _ = timed([RAG, "ingest", str(ROOT / "seeds")], env)
    print(
        f"ingest seeds/ (28 paragraphs): first {first:.2f} s (includes model load), re-run {again:.2f} s; peak RSS {rss1} MB"
    )
    cold = [timed([RAG, "search", "到2025年上市企业超过多少家？"], env)[0] for _ in range(3)]
    print(f"cold `rag search` process: median {statistics.median(cold):.2f} s")
    cold_ask = [timed([RAG, "ask", "--json", "到2025年上市企业超过多少家？"], env)[0] for _ in range(3)]
    cold_en = [timed([RAG, "ask", "--json", "Who chaired the meeting?"], env)[0] for _ in range(3)]
    print(
        f"cold `rag ask` (extractive) process: Chinese median {statistics.median(cold_ask):.2f} s, English {statistics.median(cold_en):.2f} s"
    )
    print(f"peak RSS of any CLI process: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024} MB")

    from eval.data import load_seed
    from rag.answering.answer import answer
    from rag.config import load_settings
    from rag.interfaces.service import Service

    svc = Service.from_settings(load_settings(RAG_HOME=home))
    items = load_seed()
    svc.retriever.search("warm up", 5)
    qs = [it.question for it in items][:50]
    s_times, a_times = [], []
    for q in qs:
        t = time.perf_counter()
        svc.retriever.search(q, 5)
        s_times.append(time.perf_counter() - t)
    for q in qs:
        t = time.perf_counter()
        answer(q, retriever=svc.retriever, settings=svc.settings)
        a_times.append(time.perf_counter() - t)
    print(f"in-process search: median {statistics.median(s_times) * 1000:.1f} ms over {len(qs)} queries")
    print(
        f"in-process answer (extractive): median {statistics.median(a_times) * 1000:.1f} ms, p95 {sorted(a_times)[int(0.95 * len(a_times))] * 1000:.0f} ms"
    )
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
    if "--web" in sys.argv:
        web(svc)


def web(svc) -> None:
    import socket

    from playwright.sync_api import sync_playwright

    from rag.interfaces.web import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo, url = serve(svc, port=port, block=False)
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = b.new_page()
        page.goto(url)
        firsts, fulls = [], []
        for i, q in enumerate(
            [
                "到2025年上市企业超过多少家？",
                "到2025年的目标是什么？",
                "Who chaired the meeting?",
                "制造业增加值占GDP比重的目标是多少？",
                "哪些单位的负责人在会上作了交流发言？",
            ]
        ):
            page.locator("#rag-question textarea").fill(q)
            t = time.perf_counter()
            page.locator("#rag-ask").click()
            page.locator("#rag-chat .message-row, #rag-chat [data-testid='bot']").nth(2 * i + 1).wait_for(
                timeout=60_000
            )
            first = time.perf_counter() - t
            page.locator("#rag-chat .rag-mode").nth(i).wait_for(timeout=60_000)
            fulls.append(time.perf_counter() - t)
            firsts.append(first)
        print(
            f"page (extractive): first content median {statistics.median(firsts):.2f} s, full cited answer median {statistics.median(fulls):.2f} s"
        )
        b.close()
    demo.close()


if __name__ == "__main__":
    main()

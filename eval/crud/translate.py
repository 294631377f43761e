"""English versions of the kept CRUD-RAG questions, machine-translated, so that the English path
(an English question over Chinese posts) is measured on more than the seed's few English
questions, and tuned on more than a handful. Each keeps its question's split, facts, gold
paragraphs and rejection posts: the dev ones may be tuned on, the test ones stay held out.

The translator is any OpenAI-compatible endpoint (OPENAI_BASE_URL; the local Qwen2.5-Coder-1.5B
of `make local-llm` wrote the committed file). Its English is plain and sometimes stiff, which
is what users' English often is; a translation that is not one English line is left out.

    OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=local python -m eval.crud.translate

Writes eval/crud/english.jsonl (resumes: questions already there are not asked again)."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "english.jsonl"
SYSTEM = (
    "Translate the user's Chinese question about a news story into one natural English question. "
    "Write Chinese names of people and places in pinyin, countries and organisations by their usual "
    "English names, and keep every number and date. Reply with the English question only."
)
_ENGLISH = re.compile(r"^[\x20-\x7E’‘“”–—éèáàüöäçñ]+\?$")


def translation(reply: str) -> str | None:
    """The English question in a reply, or None (Chinese left in it, several lines, no question)."""
    lines = [ln.strip().strip('"') for ln in reply.strip().splitlines() if ln.strip()]
    if len(lines) != 1:
        return None
    text = re.sub(r"^(?:English|Translation)\s*:\s*", "", lines[0], flags=re.I)
    return text if _ENGLISH.match(text) else None


def main() -> int:
    from openai import OpenAI

    client = OpenAI()
    model = sys.argv[1] if len(sys.argv) > 1 else "qwen2.5-coder-1.5b-instruct"
    done = (
        {r["translates"] for r in map(json.loads, OUT.read_text(encoding="utf-8").splitlines())}
        if OUT.exists()
        else set()
    )
    rows = [json.loads(line) for line in (HERE / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    today = dt.date.today().isoformat()
    with OUT.open("a", encoding="utf-8") as out:
        for row in rows:
            if not row["kept"] or row["id"] in done:
                continue
            reply = client.chat.completions.create(
                model=model,
                messages=[
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": row["question"]},
                ],
                temperature=0,
                max_tokens=80,
            )
            english = translation(reply.choices[0].message.content or "")
            print(f"{row['id']}: {row['question']} → {english}", flush=True)
            if english is None:
                continue
            purpose = "to tune the English path on" if row["split"] == "dev" else "held out"
            out.write(
                json.dumps(
                    {
                        **row,
                        "id": row["id"].replace("crud-", "crud-en-", 1),
                        "question": english,
                        "kind": "english",
                        "origin": f"{row['split']}, machine-translated by {model} on {today} {purpose}; translates {row['id']}",
                        "translates": row["id"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

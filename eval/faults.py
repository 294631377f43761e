"""What verification does with claims a model plants: the fake model's fault modes, run end to end.

Each planted claim is recorded by the fake server (`FakeLLMServer.planted`) as it writes it, so
the score needs no labels: a false claim *survives* when its text is still in the final answer;
a true claim (a right sentence cited to the wrong block, or reworded) is *kept* when its text is
in the answer and cited to a paragraph that holds its source sentence. A true claim in an answer
that fell back for what the question asks (the asked amount, year or person is not in it:
`llm_unverifiable: the question …`) was not judged by verification: it is counted apart, as
*unjudged*, not as kept or lost.
"""

from __future__ import annotations

from .data import Item
from .fake_llm import PLANTED_FAULTS
from .score import normalize

# the answer's checks about what the question asks (answer.llm_fallback: asked kind, year, person)
QUESTION_FALLBACK = "the question"
PER_SET = 10  # Chinese questions per set for each fault: 8 faults × ~25 questions ≈ 200 answers
ENGLISH = 5


def _questions(sets: dict[str, list[Item]], fault: str) -> list[Item]:
    answerable = [it for items in sets.values() for it in items if it.answerable]
    english = [it for it in answerable if not any("\u4e00" <= ch <= "\u9fff" for ch in it.question)]
    if fault == "wrong_person_en":
        return [it for it in english if it.question.lower().startswith("who")]
    chinese = [
        it for name in sets for it in [x for x in sets[name] if x.answerable and x not in english][:PER_SET]
    ]
    return chinese + (english[:ENGLISH] if fault in ("miscite", "header_number", "invent_uncited") else [])


def _present(claim: str, answer: str) -> bool:
    from rag.verification.verify import MARKER_RE

    return normalize(claim.rstrip("。.")) in normalize(MARKER_RE.sub("", answer))


def _cited_right(claim: str, source: str, ans) -> bool:
    """The answer's sentence holding `claim` cites a paragraph that holds `source`."""
    from rag.language.text import nfkc
    from rag.verification.verify import split_claims

    by_n = {c.n: c for c in ans.citations}
    for c in split_claims(ans.answer):
        if normalize(claim.rstrip("。.")) in normalize(c.text):
            return any(n in by_n and nfkc(source) in nfkc(by_n[n].text) for n in c.markers)
    return False


def fault_suite(sets: dict[str, list[Item]], svc, settings, server, k: int, split: str) -> dict:
    """The planted claims of every fault mode, on the questions of one split."""
    from rag.answering.answer import answer
    from rag.answering.llm import OpenAIChat

    by_fault: dict[str, dict] = {}
    survivors: list[str] = []
    lost: list[str] = []  # true claims dropped or left cited wrongly
    unjudged: list[str] = []
    sets = {name: [it for it in items if it.split == split] for name, items in sets.items()}
    for fault in PLANTED_FAULTS:
        llm = OpenAIChat.from_settings(
            settings.model_copy(
                update={"openai_base_url": server.base_url, "llm_model": f"fake-model fault={fault}"}
            )
        )
        f = {
            "questions": 0,
            "planted": 0,
            "false": 0,
            "false_surviving": 0,
            "true": 0,
            "true_kept": 0,
            "true_unjudged": 0,
        }
        for it in _questions(sets, fault):
            server.planted.clear()
            ans = answer(it.question, retriever=svc.retriever, settings=settings, llm=llm, k=k)
            f["questions"] += 1
            for p in server.planted:
                f["planted"] += 1
                if p["false"]:
                    f["false"] += 1
                    if _present(p.get("quote", p["claim"]), ans.answer):
                        f["false_surviving"] += 1
                        survivors.append(f"{fault}: {it.id} kept “{p['claim']}” → {ans.answer[:160]}")
                elif any(
                    w.code == "llm_unverifiable" and w.detail.startswith(QUESTION_FALLBACK)
                    for w in ans.warnings
                ):
                    f["true_unjudged"] += 1
                    unjudged.append(f"{fault}: {it.id} “{p['claim'][:60]}” → {ans.answer[:100]}")
                else:
                    f["true"] += 1
                    kept = _present(p["claim"], ans.answer) and _cited_right(p["claim"], p["source"], ans)
                    f["true_kept"] += kept
                    if not kept:
                        lost.append(
                            f"{fault}: {it.id} lost “{p['claim'][:60]}” ({'; '.join(str(w)[:90] for w in ans.warnings[:2])}) → {ans.answer[:100]}"
                        )
        by_fault[fault] = f
    false = sum(f["false"] for f in by_fault.values())
    true = sum(f["true"] for f in by_fault.values())
    kept = sum(f["true_kept"] for f in by_fault.values())
    return {
        "planted_falsehoods": false,
        "planted_falsehoods_surviving": sum(f["false_surviving"] for f in by_fault.values()),
        "planted_true": true,
        "true_kept": kept,
        "true_claims_kept": round(kept / true, 3) if true else 1.0,
        "true_unjudged": sum(f["true_unjudged"] for f in by_fault.values()),
        "by_fault": by_fault,
        "survivors": survivors,
        "lost": lost,
        "unjudged": unjudged,
    }

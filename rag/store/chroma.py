"""Chroma store: a chunk collection (vectors), a document registry (what is current) and, for
embedders that keep them, the vectors of the chunks' sentences (the reader's second stage)."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from rag.config import Settings, quiet_third_parties
from rag.errors import EmbedderMismatch, StoreError, first_line
from rag.locks import file_lock
from rag.records import Article, Chunk, DocInfo

REGISTRY_SUFFIX = "-docs"
SENTENCES_SUFFIX = "-sentences"
# e5 cosines sit in a narrow band, where Chroma's default graph (ef 100, M 16) missed some of the
# exact nearest chunks, differently in each process; a denser graph did not (figures:
# docs/rules.md, "Retrieval"). Fixed at creation: older stores keep theirs until `rag ingest --reembed`.
HNSW = {"space": "cosine", "ef_construction": 400, "max_neighbors": 32, "ef_search": 400}
_UNIT = [1.0]  # the registry holds no vectors; Chroma requires one, so every record gets this


def _date_int(date: str) -> int:
    return int(date.replace("-", "")) if date else 0


def _store_errors(func):
    """Turn Chroma/transport failures into StoreError with one readable line."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (EmbedderMismatch, StoreError):
            raise
        except Exception as exc:  # noqa: BLE001 - chromadb raises many unrelated types (httpx, sqlite, its own)
            raise StoreError(f"vector store failed: {type(exc).__name__}: {first_line(exc)}") from exc

    return wrapper


class Store:
    """What is stored, behind a few calls. Chroma's embedding function is never used."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self.name = name
        self._chunks = None
        self._registry = None
        self._sentences = None
        self._batch: int | None = None
        self._settings: Settings | None = None  # an embedded store not opened yet (see `open`)
        self._open_lock = threading.Lock()

    # ---- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The embedded store under RAG_HOME, or a Chroma server when RAG_CHROMA_URL is set.
        The embedded one is opened at its first use (importing chromadb costs ~0.6 s, which an
        ingest into a new home spends while the embedder works)."""
        if settings.chroma_url:
            return cls(open_client(settings), settings.collection)
        store = cls(None, settings.collection)
        store._settings = settings
        return store

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._open_lock:
                if self._client is None and self._settings is not None:
                    # Chroma creates its sqlite tables and our collections on first open; two
                    # processes doing that at once collide ("table collections already exists").
                    with file_lock(self._settings.home / "open.lock", required=False):
                        client = open_client(self._settings)
                        self._create_collections(client)
                    self._client = client
        return self._client

    def connect(self) -> None:
        """Open the store now if it is not open yet."""
        self._collections()

    def known_empty(self) -> bool:
        """True when nothing can be stored: an embedded store whose folder does not exist yet
        (checked now, without opening it). False whenever it cannot be told without opening."""
        return (
            self._client is None
            and self._settings is not None
            and not (self._settings.home / "chroma").exists()
        )

    @_store_errors
    def _collections(self):
        if self._chunks is None:
            self._create_collections(self.client)
        return self._chunks, self._registry

    @_store_errors
    def _create_collections(self, client: Any) -> None:
        self._chunks = client.get_or_create_collection(
            self.name, embedding_function=None, configuration={"hnsw": HNSW}
        )
        self._registry = client.get_or_create_collection(self.name + REGISTRY_SUFFIX, embedding_function=None)
        # read by id only: no search graph is ever queried, Chroma builds one all the same
        self._sentences = client.get_or_create_collection(
            self.name + SENTENCES_SUFFIX, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    @property
    def chunks(self):
        return self._collections()[0]

    @property
    def registry(self):
        return self._collections()[1]

    @property
    def sentences(self):
        self._collections()
        return self._sentences

    # ---- embedder identity --------------------------------------------------------------------
    @_store_errors
    def embedder_name(self) -> str | None:
        return (self.chunks.metadata or {}).get("embedder")

    def check_embedder(self, name: str) -> None:
        """Refuse an embedder other than the one the stored vectors came from."""
        current = self.embedder_name()
        if current and current != name:
            raise EmbedderMismatch(
                f"the store '{self.name}' holds vectors from {current}, not {name}; "
                f"set RAG_EMBEDDER back, point RAG_HOME at a new folder for {name}, "
                f"or re-embed this store with `rag ingest --reembed`"
            )

    @_store_errors
    def claim_embedder(self, name: str, dim: int) -> None:
        """Record the embedder on first write; refuse a different one afterwards."""
        self.check_embedder(name)
        if not self.embedder_name():
            self.chunks.modify(metadata={**(self.chunks.metadata or {}), "embedder": name, "dim": dim})

    # ---- documents ----------------------------------------------------------------------------
    @_store_errors
    def docs(self) -> dict[str, DocInfo]:
        got = self.registry.get(include=["metadatas"])
        out = {}
        for doc_id, m in zip(got["ids"], got["metadatas"] or []):
            out[doc_id] = DocInfo(
                doc_id=doc_id,
                title=m.get("title", ""),
                date=m.get("date", ""),
                categories=tuple(json.loads(m.get("categories", "[]"))),
                tags=tuple(json.loads(m.get("tags", "[]"))),
                source_url=m.get("source_url", ""),
                path=m.get("path", ""),
                n_paragraphs=int(m.get("n_paragraphs", 0)),
                chunk_ids=tuple(json.loads(m.get("chunk_ids", "[]"))),
                digest=m.get("digest", ""),
            )
        return out

    @_store_errors
    def articles(self, doc_ids: Iterable[str]) -> dict[str, Article]:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        got = self.registry.get(ids=ids, include=["metadatas", "documents"])
        out = {}
        for doc_id, m, body in zip(got["ids"], got["metadatas"], got["documents"]):
            out[doc_id] = Article(
                doc_id=doc_id,
                title=m.get("title", ""),
                date=m.get("date", ""),
                paragraphs=tuple(json.loads(body)),
                categories=tuple(json.loads(m.get("categories", "[]"))),
                tags=tuple(json.loads(m.get("tags", "[]"))),
                source_url=m.get("source_url", ""),
                path=m.get("path", ""),
            )
        return out

    def article(self, doc_id: str) -> Article | None:
        return self.articles([doc_id]).get(doc_id)

    @_store_errors
    def put_docs(self, entries: Sequence[tuple[Article, Sequence[str]]]) -> None:
        """Make each article's `chunk_ids` its current chunks (after they are written): one
        registry write for the batch (each write costs ~0.1 s in embedded Chroma, whatever its size)."""
        if not entries:
            return
        ids, docs, metas = [], [], []
        for article, chunk_ids in entries:
            ids.append(article.doc_id)
            docs.append(json.dumps(list(article.paragraphs), ensure_ascii=False))
            metas.append(
                {
                    "title": article.title,
                    "date": article.date,
                    "date_int": _date_int(article.date),
                    "categories": json.dumps(list(article.categories), ensure_ascii=False),
                    "tags": json.dumps(list(article.tags), ensure_ascii=False),
                    "source_url": article.source_url,
                    "path": article.path,
                    "n_paragraphs": len(article.paragraphs),
                    "chunk_ids": json.dumps(list(chunk_ids)),
                    "digest": article.digest,
                }
            )
        step = self._max_batch()
        for lo in range(0, len(ids), step):
            hi = lo + step
            self.registry.upsert(
                ids=ids[lo:hi],
                embeddings=[_UNIT] * len(ids[lo:hi]),
                documents=docs[lo:hi],
                metadatas=metas[lo:hi],
            )
        self._bump()

    def _max_batch(self) -> int:
        """The most records one write may carry (Chroma's limit; asked once)."""
        if self._batch is None:
            try:
                self._batch = max(1, int(self.client.get_max_batch_size()))
            except Exception:  # noqa: BLE001 - older clients and servers do not say; Chroma's floor is 5461
                self._batch = 1000
        return self._batch

    def _bump(self) -> None:
        """A new generation tag on the registry: readers reload only when it changes."""
        self.registry.modify(metadata={"generation": uuid.uuid4().hex})

    @_store_errors
    def generation(self) -> str:
        """The registry's generation tag, read fresh (another process may have written)."""
        col = self.client.get_or_create_collection(self.name + REGISTRY_SUFFIX, embedding_function=None)
        return (col.metadata or {}).get("generation", "")

    @_store_errors
    def delete_doc(self, doc_id: str) -> int:
        """Remove a document and all its chunks; returns the number of chunks removed."""
        ids = self.stored_chunk_ids(doc_id)
        self.registry.delete(ids=[doc_id])  # first: retrieval stops seeing it at once
        self._bump()
        if ids:
            self.chunks.delete(ids=sorted(ids))
        self.sentences.delete(where={"doc_id": doc_id})
        return len(ids)

    # ---- chunks -------------------------------------------------------------------------------
    @_store_errors
    def stored_chunk_ids(self, doc_id: str) -> set[str]:
        """Every chunk of the document in the collection, current or left over by a killed run."""
        return set(self.chunks.get(where={"doc_id": doc_id}, include=[])["ids"])

    @_store_errors
    def chunk_ids_by_doc(self) -> dict[str, set[str]]:
        """Every chunk id in the collection, by document: one paged read instead of one per post."""
        out: dict[str, set[str]] = {}
        step = self._max_batch()
        for offset in itertools.count(0, step):
            ids = self.chunks.get(include=[], limit=step, offset=offset)["ids"]
            for cid in ids:
                out.setdefault(doc_of(cid), set()).add(cid)
            if len(ids) < step:
                return out
        return out

    @_store_errors
    def add_chunks(self, items: Sequence[tuple[Article, Chunk]], vectors: Sequence[Sequence[float]]) -> None:
        """Write chunks (of one or many articles) with their vectors, in as few upserts as Chroma allows."""
        if not items:
            return
        metas = [
            {
                "doc_id": c.doc_id,
                "paragraph": c.paragraph,
                "part": c.part,
                "tokens": c.tokens,
                "start": c.start,
                "plen": c.paragraph_chars,
                "title": a.title,
                "date": a.date,
                "date_int": _date_int(a.date),
            }
            for a, c in items
        ]
        step = self._max_batch()
        for lo in range(0, len(items), step):
            part = items[lo : lo + step]
            self.chunks.upsert(
                ids=[c.id for _, c in part],
                embeddings=[list(v) for v in vectors[lo : lo + step]],
                documents=[c.text for _, c in part],
                metadatas=metas[lo : lo + step],
            )

    @_store_errors
    def delete_chunks(self, ids: Iterable[str]) -> None:
        ids = sorted(ids)
        if ids:
            self.chunks.delete(ids=ids)

    @_store_errors
    def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        ids, step = list(ids), self._max_batch()
        out: list[Chunk] = []
        for lo in range(0, len(ids), step):
            got = self.chunks.get(ids=ids[lo : lo + step], include=["metadatas", "documents"])
            out.extend(_chunk(i, m, d) for i, m, d in zip(got["ids"], got["metadatas"], got["documents"]))
        return out

    # ---- sentence vectors ---------------------------------------------------------------------
    @_store_errors
    def add_sentences(
        self, doc_ids: Sequence[str], texts: Sequence[str], vectors: Sequence[Sequence[float]]
    ) -> None:
        """Keep the vectors of sentences (each of the post `doc_ids[i]`), keyed by their text."""
        step = self._max_batch()
        for lo in range(0, len(texts), step):
            hi = lo + step
            self.sentences.upsert(
                ids=[sentence_id(t) for t in texts[lo:hi]],
                embeddings=[list(v) for v in vectors[lo:hi]],
                metadatas=[{"doc_id": d} for d in doc_ids[lo:hi]],
            )

    @_store_errors
    def sentence_vectors(self, texts: Sequence[str]) -> dict[str, list[float]]:
        """The kept vectors of those of `texts` the store has, by text."""
        by_id = {sentence_id(t): t for t in texts}
        ids, step = sorted(by_id), self._max_batch()
        out: dict[str, list[float]] = {}
        for lo in range(0, len(ids), step):
            got = self.sentences.get(ids=ids[lo : lo + step], include=["embeddings"])
            for i, v in zip(got["ids"], got["embeddings"]):
                out[by_id[i]] = [float(x) for x in v]
        return out

    @_store_errors
    def dense(self, vector: Sequence[float], n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine distance), nearest first."""
        count = self.chunks.count()
        if count == 0:
            return []
        got = self.chunks.query(
            query_embeddings=[list(vector)], n_results=min(n, count), where=where, include=["distances"]
        )
        return list(zip(got["ids"][0], got["distances"][0]))

    @_store_errors
    def drop(self) -> None:
        """Delete the collections (used to discard a half-built re-embed)."""
        for name in (self.name, self.name + REGISTRY_SUFFIX, self.name + SENTENCES_SUFFIX):
            try:
                self.client.delete_collection(name)
            except Exception:  # noqa: BLE001 - "does not exist" has no stable type across Chroma versions
                pass
        self._chunks = self._registry = self._sentences = None

    @_store_errors
    def replace_with(self, other: Store) -> None:
        """Make `other`'s collections this store's: drop ours, then rename theirs to our names."""
        other._collections()
        self.drop()
        other.chunks.modify(name=self.name)
        other.registry.modify(name=self.name + REGISTRY_SUFFIX)
        other.sentences.modify(name=self.name + SENTENCES_SUFFIX)
        self._chunks = self._registry = self._sentences = None

    def stamp(self, docs: dict[str, DocInfo] | None = None) -> str:
        """A fingerprint of what is current: changes whenever any document's chunk set changes."""
        docs = self.docs() if docs is None else docs
        h = hashlib.sha1(self.name.encode())
        for doc_id in sorted(docs):
            h.update(doc_id.encode())
            h.update(",".join(docs[doc_id].chunk_ids).encode())
        return h.hexdigest()[:16]


def sentence_id(text: str) -> str:
    """A kept sentence vector's id: its text's digest (a sentence is found by what it says)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:24]


def doc_of(chunk_id: str) -> str:
    """The document of a chunk id (ids are DOC:pN:PART:HASH, see chunking.chunk_article)."""
    return chunk_id.rsplit(":", 3)[0]


def _chunk(chunk_id: str, m: dict, text: str) -> Chunk:
    return Chunk(
        id=chunk_id,
        doc_id=m["doc_id"],
        paragraph=int(m["paragraph"]),
        part=int(m["part"]),
        text=text,
        tokens=int(m.get("tokens", 0)),
        start=int(m.get("start", -1)),
        paragraph_chars=int(m.get("plen", 0)),
    )


def open_client(settings: Settings):
    """chromadb client for the configured store; imported here because chromadb costs ~1 s."""
    quiet_third_parties()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            from urllib.parse import urlparse

            u = urlparse(
                settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}"
            )
            if not u.hostname:
                raise StoreError(f"RAG_CHROMA_URL={settings.chroma_url!r} has no host")
            return chromadb.HttpClient(
                host=u.hostname,
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                settings=chroma_settings,
            )
        path = settings.home / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except StoreError:
        raise
    except PermissionError as exc:
        raise StoreError(
            f"cannot open the store under {settings.home}: permission denied ({exc.filename})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - connection refused, bad path, locked sqlite…
        where = settings.chroma_url or str(settings.home / "chroma")
        if "readonly database" in str(exc):  # Chroma writes even to open a store for reading
            raise StoreError.read_only(where) from None
        raise StoreError(
            f"cannot open the vector store at {where}: {type(exc).__name__}: {first_line(exc)}"
        ) from None

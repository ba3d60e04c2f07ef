"""Near-duplicate and spam/bot flags: the same text seen again, copied by several accounts, a link pushed.

Texts are compared by MinHash (datasketch) over word 3-gram shingles, with an LSH index of the last
`window` posts this process has seen. Memory only, no I/O: the engine keeps one detector per process.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH
from pydantic import BaseModel, ConfigDict, Field

from nlp.language import HANDLE, URL

WORD = re.compile(r"\w+")


class DedupSettings(BaseModel):
    """`nlp.duplicates` in config.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    similarity: float = Field(
        default=0.8, gt=0.0, le=1.0, description="estimated Jaccard similarity of word 3-grams"
    )
    min_words: int = Field(default=6, ge=1, description='shorter texts are never duplicates ("Thanks!")')
    window: int = Field(default=50_000, ge=1, description="posts remembered")
    copy_authors: int = Field(default=3, ge=2, description="accounts posting one text make it coordinated")
    link_repeats: int = Field(default=3, ge=2, description="times one author posts a link to flag it")
    num_perm: int = Field(default=64, ge=16, le=512)


@dataclass(frozen=True)
class PostFlags:
    """What the detector says of one post; `reasons` are short sentences a person can check."""

    flags: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PostToCheck:
    id: str
    text: str
    author: str | None
    urls: list[str]


def shingles(text: str) -> set[str]:
    """Word 3-grams of the case-folded text without URLs and @handles (bots vary those first)."""
    words = WORD.findall(HANDLE.sub(" ", URL.sub(" ", text)).casefold())
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


def _link_key(url: str) -> str:
    """The link without its query string and fragment: tracking parameters differ between copies."""
    return re.split(r"[?#]", url.strip().rstrip("/.,;:!)"), maxsplit=1)[0].casefold()


class StreamDeduplicator:
    """Flags each post against the posts seen before it in this process.

    - `near_duplicate`: its text is near-identical to an earlier post (`duplicate_of` names the first one);
    - `coordinated`: `copy_authors` or more different accounts posted that text (copy-paste campaign, bots);
    - `repeated_link`: its author has posted the same link `link_repeats` times or more.
    Flagging the same post id twice gives the same answer: re-collection never makes a post its own copy.
    """

    def __init__(self, settings: DedupSettings | None = None) -> None:
        self.settings = settings or DedupSettings()
        self._lsh = MinHashLSH(threshold=self.settings.similarity, num_perm=self.settings.num_perm)
        self._hashes: dict[str, MinHash] = {}
        self._root: dict[str, str] = {}  # post id -> first post of its text
        self._authors: dict[str, set[str]] = {}  # first post -> accounts that posted that text
        self._links: dict[tuple[str, str], int] = {}  # (author, link) -> posts in the window
        self._links_of: dict[str, list[tuple[str, str]]] = {}
        self._seen: dict[str, PostFlags] = {}
        self._order: deque[str] = deque()

    def flag(self, posts: list[PostToCheck]) -> list[PostFlags]:
        """Flags for a batch, in order; later posts of the batch are compared with earlier ones too."""
        return [self._flag_one(post) for post in posts]

    def _flag_one(self, post: PostToCheck) -> PostFlags:
        if post.id in self._seen:
            return self._seen[post.id]
        flags: list[str] = []
        reasons: list[str] = []
        author = (post.author or "").casefold() or None
        root = self._match(post)
        if root is not None:
            flags.append("near_duplicate")
            reasons.append(f"same text as {root}")
            authors = self._authors.setdefault(root, set())
            if author:
                authors.add(author)
            if len(authors) >= self.settings.copy_authors:
                flags.append("coordinated")
                reasons.append(f"{len(authors)} accounts posted this text")
        keys = [(author, link) for link in dict.fromkeys(_link_key(u) for u in post.urls)] if author else []
        self._links_of[post.id] = keys
        for key in keys:
            count = self._links[key] = self._links.get(key, 0) + 1
            if count >= self.settings.link_repeats and "repeated_link" not in flags:
                flags.append("repeated_link")
                reasons.append(f"{post.author} posted {key[1]} {count} times")
        result = PostFlags(flags=flags, duplicate_of=root, reasons=reasons)
        self._remember(post, root, author, result)
        return result

    def _match(self, post: PostToCheck) -> str | None:
        if len(WORD.findall(URL.sub(" ", post.text))) < self.settings.min_words:
            return None
        minhash = MinHash(num_perm=self.settings.num_perm)
        minhash.update_batch([w.encode("utf-8") for w in shingles(post.text)])
        candidates = self._lsh.query(minhash)
        self._lsh.insert(post.id, minhash)
        self._hashes[post.id] = minhash
        similarity, best = max(
            ((minhash.jaccard(self._hashes[c]), c) for c in candidates), default=(0.0, None)
        )
        if best is None or similarity < self.settings.similarity:
            return None
        return self._root.get(best, best)

    def _remember(self, post: PostToCheck, root: str | None, author: str | None, result: PostFlags) -> None:
        self._seen[post.id] = result
        if post.id in self._hashes:
            self._root[post.id] = root or post.id
            if root is None and author:
                self._authors[post.id] = {author}
        self._order.append(post.id)
        while len(self._order) > self.settings.window:
            self._forget(self._order.popleft())

    def _forget(self, post_id: str) -> None:
        self._seen.pop(post_id, None)
        self._authors.pop(post_id, None)
        for key in self._links_of.pop(post_id, []):
            self._links[key] -= 1
            if not self._links[key]:
                del self._links[key]
        if self._hashes.pop(post_id, None) is not None:
            self._lsh.remove(post_id)
            self._root.pop(post_id, None)

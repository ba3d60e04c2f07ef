"""Real labelled posts: copied once from `shared/datasets` into nlp/data/real with fixed splits, then read.

    python -m nlp.realdata ../shared/datasets     # (re)writes nlp/data/real/<source>/{train,val}.jsonl
    python -m nlp.realdata select-intents         # semeval_en_intents/selection.json (fixed before labelling)

Every source keeps a validation split that is never trained on; public benchmarks' *test* splits are not
here at all (UMSAB `test_*`, SemEval-2017 test, TweetEval test). Each folder carries its source and
licence (SOURCE.md, LICENSE). Lines use the training format of nlp/train.py; `"intents": null` means the
source labels sentiment only, so intent heads never read its empty list as "no intent". The team's
intent labels (freemobilachat_fr, semeval_en_intents) are written by hand, not by this module: the import
rewrites freemobilachat_fr from its label files when given them, and never touches semeval_en_intents.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REAL_DIR = Path(__file__).resolve().parent / "data" / "real"
SEED = 2026
SEMEVAL_TRAIN, SEMEVAL_VAL = 12_000, 2_000
REVIEWS_TRAIN, REVIEWS_VAL = 4_000, 1_000
DEFT_VAL_SHARE = 0.2
POLARITY = {-1: "negative", 0: "neutral", 1: "positive"}
DEFT_LABELS = {"objective": "neutral", "negative": "negative", "positive": "positive"}


@dataclass(frozen=True)
class RealSource:
    """One real labelled source as shipped: what it is and how its validation split is scored."""

    name: str
    lang: str
    kind: str  # tweet | review
    metric: str  # macro_f1 (3 classes) | polarity (positive vs negative, neutral gold left out)
    description: str
    # Set when the source's texts and sentiment labels are another source's (labelled again for intents):
    # that source carries their sentiment, so this one is neither trained nor scored for sentiment.
    sentiment_of: str | None = None


SOURCES = {
    s.name: s
    for s in (
        RealSource("umsab_fr", "fr", "tweet", "macro_f1", "UMSAB French tweets (XLM-T train/val)"),
        RealSource("umsab_en", "en", "tweet", "macro_f1", "UMSAB English tweets (XLM-T train/val)"),
        RealSource("semeval_en", "en", "tweet", "macro_f1", "SemEval 2013-2016 Task 4A English tweets"),
        RealSource("deft2017_fr", "fr", "tweet", "macro_f1", "DEFT 2017 French tweets (mixed left out)"),
        RealSource("reviews_fr", "fr", "review", "polarity", "Babelio French reader reviews"),
        RealSource(
            "critiques_libres_fr", "fr", "review", "polarity", "Critiques Libres French reviews (val only)"
        ),
        RealSource(
            "freemobilachat_fr",
            "fr",
            "tweet",
            "macro_f1",
            "French tweets to a telecom operator, labelled by the team (nlp/data/LABELLING.md)",
        ),
        RealSource(
            "semeval_en_intents",
            "en",
            "tweet",
            "macro_f1",
            "English SemEval tweets, intents labelled by the team (nlp/data/LABELLING.md)",
            sentiment_of="semeval_en",
        ),
    )
}

# semeval_en_intents: which SemEval tweets are labelled for intents (selection.json, fixed before labelling).
# Retrieval keeps tweets that name a company, product or service, or use a customer's words; the random
# half is drawn from every tweet of the split not retrieved.
INTENT_SELECTION = {"val": (2029, 150, 150), "train": (2030, 300, 300)}  # seed, retrieved, random
INTENT_BRANDS = (
    r"apple|iphones?|ipads?|ipod|itunes|icloud|ios|macbooks?|imac|samsung|galaxy|microsoft|windows|xbox"
    r"|skype|sony|playstation|ps[34]|nintendo|wii|amazon|kindle|netflix|hulu|spotify|pandora|google|gmail"
    r"|android|nexus|chromecast|youtube|verizon|at&t|t-?mobile|sprint|comcast|xfinity|time warner|directv"
    r"|metropcs|vodafone|british gas|uber|lyft|starbucks|mcdonald'?s|walmart|best ?buy|costco|ryanair"
    r"|easyjet|jetblue|british airways|fedex|usps|paypal|ebay|snapchat|tesla|nike|adidas|blackberry|bbm"
    r"|nokia|lumia|htc|motorola|dell|lenovo|nvidia|steam|call of duty|minecraft|airlines?|flights?|phones?"
    r"|laptops?|tablets?|apps?|wifi|internet|cable"
)
INTENT_CUES = (
    r"buy|buying|bought|purchas\w*|order(?:ed|ing)?|pre-?order\w*|cancel(?:led|ed|ling|ing)?"
    r"|switch(?:ing|ed)? (?:to|from|back)|refund\w*|customer (?:service|support|care)|upgrad\w*|subscri\w*"
    r"|unsubscri\w*|recommend\w*|should i (?:get|buy)"
)
INTENT_HANDLES = r"@\w*(?:help|support|care|cares|service)\b"  # a company's support account


def intent_retrievable(text: str) -> bool:
    """Whether a tweet names a company, product or service, uses a customer's words, or a support handle."""
    return bool(
        re.search(rf"\b(?:{INTENT_BRANDS})\b", text, re.IGNORECASE)
        or re.search(rf"\b(?:{INTENT_CUES})\b", text, re.IGNORECASE)
        or re.search(INTENT_HANDLES, text, re.IGNORECASE)
    )


def select_intent_posts(root: Path = REAL_DIR) -> dict:
    """The SemEval tweets to label for intents, per split: seeded samples of the retrievable tweets and of
    all the others, shuffled together (so the labeller does not see which is which); the method of each."""
    selection: dict = {
        "description": (
            "English SemEval 2013-2016 tweets (nlp/data/real/semeval_en) labelled for intents (issue 16 "
            "item 4), chosen before labelling. Per split: random.Random(seed) samples `retrieved` of the "
            "tweets that `intent_retrievable` keeps (brands, customer cues, support handles: `keywords`), "
            "then `random` of all the tweets not retrieved, and shuffles the two together. `method` gives "
            "each row id's way in (retrieval:keywords | random), in labelling order. val: held aside, never "
            "trained or tuned on; train: training data for the intent heads only (their sentiment stays "
            "semeval_en's)."
        ),
        "source": "semeval_en",
        "keywords": {"brands": INTENT_BRANDS, "cues": INTENT_CUES, "handles": INTENT_HANDLES},
    }
    for split, (seed, retrieved, randoms) in INTENT_SELECTION.items():
        rows = read_split("semeval_en", split, root)
        pool = [r["id"] for r in rows if intent_retrievable(r["text"])]
        rng = random.Random(seed)
        chosen = rng.sample(pool, retrieved)
        taken = set(chosen)
        rest = [r["id"] for r in rows if r["id"] not in taken]
        picked = [(i, "retrieval:keywords") for i in chosen] + [
            (i, "random") for i in rng.sample(rest, randoms)
        ]
        rng.shuffle(picked)
        selection[split] = {
            "seed": seed,
            "pool": len(rows),
            "retrievable": len(pool),
            "retrieved": retrieved,
            "random": randoms,
            "method": dict(picked),
        }
    return selection


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def _row(source: str, number: int, lang: str, text: str, sentiment: str, intents: list[str] | None) -> dict:
    return {
        "id": f"{source}-{number}",
        "lang": lang,
        "text": text,
        "sentiment": sentiment,
        "intents": intents,
    }


def _write(folder: Path, split: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{split}.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _umsab(shared: Path, language: str, code: str) -> dict[str, list[dict]]:
    names = ("negative", "neutral", "positive")
    splits = {}
    for split in ("train", "val"):
        texts = (shared / f"sentiment/umsab/{language}_{split}_text.txt").read_text("utf-8").splitlines()
        labels = (shared / f"sentiment/umsab/{language}_{split}_labels.txt").read_text("utf-8").split()
        splits[split] = [
            _row(f"umsab_{code}-{split}", i, code, t, names[int(label)], None)
            for i, (t, label) in enumerate(zip(texts, labels, strict=True))
        ]
    return splits


def _semeval(shared: Path, exclude: set[str]) -> dict[str, list[dict]]:
    """Unique tweets of every 2013-2016 file; tweets whose years disagree, or that UMSAB holds, left out."""
    by_text: dict[str, set[str]] = {}
    text_of: dict[str, str] = {}
    for path in sorted((shared / "sentiment/semeval_en").glob("*.tsv")):
        for line in path.read_text("utf-8").splitlines():
            parts = line.rstrip("\t").split("\t")
            if len(parts) < 3 or parts[1] not in ("negative", "neutral", "positive"):
                continue
            text = "\t".join(parts[2:]).strip()
            key = _norm(text)
            if not key or key in exclude:
                continue
            by_text.setdefault(key, set()).add(parts[1])
            text_of.setdefault(key, text)
    rows = [(text_of[k], next(iter(v))) for k, v in sorted(by_text.items()) if len(v) == 1]
    random.Random(SEED).shuffle(rows)
    val, train = rows[:SEMEVAL_VAL], rows[SEMEVAL_VAL : SEMEVAL_VAL + SEMEVAL_TRAIN]
    return {
        split: [_row(f"semeval_en-{split}", i, "en", t, s, None) for i, (t, s) in enumerate(part)]
        for split, part in (("train", train), ("val", val))
    }


def _deft(shared: Path) -> dict[str, list[dict]]:
    rows = []
    for line in (shared / "sentiment/deft2017_fr/task1-train.tsv").read_text("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].strip() in DEFT_LABELS:
            rows.append((parts[0], parts[1].strip(), DEFT_LABELS[parts[2].strip()]))
    random.Random(SEED).shuffle(rows)
    cut = int(len(rows) * DEFT_VAL_SHARE)
    return {
        split: [_row(f"deft2017_fr-{split}", int(n), "fr", t, s, None) for n, t, s in part]
        for split, part in (("train", rows[cut:]), ("val", rows[:cut]))
    }


def _reviews(path: Path, source: str) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text("utf-8").splitlines()):
        item = json.loads(line)
        text = (item.get("reader_review") or "").strip()
        if text and item.get("label") in POLARITY:
            rows.append(_row(source, number, "fr", text, POLARITY[item["label"]], None))
    return rows


def _freemobilachat(labels_dir: Path, selection: dict) -> dict[str, list[dict]]:
    """The team's labels (one JSONL per labelling chunk), split as selection.json fixed before labelling."""
    labelled = {}
    for path in sorted(labels_dir.glob("labels*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            item = json.loads(line)
            labelled[item["tweet_id"]] = item
    out = {}
    for split, key in (("train", "train_ids"), ("val", "eval_ids")):
        out[split] = [
            {
                "id": f"freemobilachat_fr-{tid}",
                "lang": "fr",
                "text": labelled[tid]["text"],
                "sentiment": labelled[tid]["sentiment"],
                "intents": labelled[tid]["intents"],
                "doubtful": bool(labelled[tid].get("doubtful")),
                **({"note": labelled[tid]["note"]} if labelled[tid].get("note") else {}),
            }
            for tid in selection[key]
            if tid in labelled
        ]
    return out


def _unique(splits: dict[str, list[dict]]) -> None:
    """Each text once per source, and never in training when its validation split holds it (sources repeat
    posts: Babelio holds the same review under several books, DEFT the same tweet twice)."""
    seen = {_norm(r["text"]) for r in splits.get("val", [])}
    for split in ("val", "train"):
        if split not in splits:
            continue
        kept, inside = [], set()
        for row in splits[split]:
            key = _norm(row["text"])
            if key in inside or (split == "train" and key in seen):
                continue
            inside.add(key)
            kept.append(row)
        splits[split] = kept


def import_shared(
    shared: Path, labels_dir: Path | None = None, out: Path = REAL_DIR
) -> dict[str, dict[str, int]]:
    """Write every source's fixed splits under `out`; returns the row counts."""
    data = shared / "datasets" if (shared / "datasets").is_dir() else shared
    written: dict[str, dict[str, list[dict]]] = {
        "umsab_fr": _umsab(data, "french", "fr"),
        "umsab_en": _umsab(data, "english", "en"),
    }
    umsab_texts = {_norm(r["text"]) for s in ("umsab_fr", "umsab_en") for p in written[s].values() for r in p}
    written["semeval_en"] = _semeval(data, umsab_texts)
    written["deft2017_fr"] = _deft(data)
    babelio = _reviews(data / "sentiment/fr_book_reviews/babelio.jsonl", "reviews_fr")
    random.Random(SEED).shuffle(babelio)
    written["reviews_fr"] = {
        "train": babelio[REVIEWS_VAL : REVIEWS_VAL + REVIEWS_TRAIN],
        "val": babelio[:REVIEWS_VAL],
    }
    written["critiques_libres_fr"] = {
        "val": _reviews(data / "sentiment/fr_book_reviews/critiques_libres.jsonl", "critiques_libres_fr")
    }
    selection_file = out / "freemobilachat_fr" / "selection.json"
    if labels_dir is not None:
        written["freemobilachat_fr"] = _freemobilachat(labels_dir, json.loads(selection_file.read_text()))
    licences = {
        "umsab_fr": data / "sentiment/umsab/LICENSE",
        "umsab_en": data / "sentiment/umsab/LICENSE",
        "freemobilachat_fr": data / "unlabelled/freemobilachat_fr/LICENSE",
    }
    for name, splits in written.items():
        _unique(splits)
        for split, rows in splits.items():
            _write(out / name, split, rows)
        if name in licences:
            shutil.copyfile(licences[name], out / name / "LICENSE")
    return {name: {split: len(rows) for split, rows in splits.items()} for name, splits in written.items()}


def retrieved_ids(source: str, root: Path = REAL_DIR) -> set[str]:
    """Row ids of a source's posts picked by keyword retrieval, not at random: every labelling round after
    the first (`selection.json` `round2`, `round3`, …, keyed by tweet id, freemobilachat_fr) and the
    per-split `method` blocks (keyed by row id, semeval_en_intents)."""
    path = root / source / "selection.json"
    if not path.is_file():
        return set()
    selection = json.loads(path.read_text("utf-8"))
    methods = {
        f"{source}-{tid}": method
        for key, block in selection.items()
        if re.fullmatch(r"round\d+", key) and isinstance(block, dict)
        for tid, method in block.get("method", {}).items()
    }
    for split in ("train", "val"):
        methods.update(selection.get(split, {}).get("method", {}))
    return {row_id for row_id, method in methods.items() if method.startswith("retrieval")}


def sentiment_sources() -> list[str]:
    """The sources trained and scored for sentiment: all but those whose texts another source carries."""
    return [name for name, source in SOURCES.items() if source.sentiment_of is None]


def intent_sources(root: Path = REAL_DIR) -> list[str]:
    """The sources whose held-aside validation split is labelled for intents (`intents` not null)."""
    return [s for s in SOURCES if any(r.get("intents") is not None for r in read_split(s, "val", root))]


def read_split(source: str, split: str, root: Path = REAL_DIR) -> list[dict]:
    """The rows of one source's split as shipped ([] when that source has no such split)."""
    path = root / source / f"{split}.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def write_intent_selection(root: Path = REAL_DIR) -> Path:
    """Write semeval_en_intents/selection.json (done once, before labelling; a test checks it reproduces)."""
    path = root / "semeval_en_intents" / "selection.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(select_intent_posts(root), indent=1, ensure_ascii=False) + "\n", "utf-8")
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["select-intents"]:  # python -m nlp.realdata select-intents
        print(write_intent_selection())
        sys.exit(0)
    labels = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(import_shared(Path(sys.argv[1]), labels), indent=1))

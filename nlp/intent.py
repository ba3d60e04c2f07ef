"""Intent v1: French and English cue patterns, one label per mention with a confidence.

Order matters: spam beats everything, churn beats complaint (a churn threat is also a complaint,
but the more urgent label wins), and so on.
"""

from __future__ import annotations

import re

from core.documents import Label

_CUES: dict[str, list[str]] = {
    "spam": [
        r"code promo",
        r"promo code",
        r"gagne[zr]?\b",
        r"\bgiveaway\b",
        r"\bcrypto",
        r"\bbitcoin",
        r"\bairdrop\b",
        r"cliquez ici",
        r"click (here|the link)",
        r"\bfree (iphone|gift)",
        r"iphone (gratuit|offert)",
        r"concours",
        r"\bdm me\b",
        r"\bforex\b",
        r"100 ?% gratuit",
    ],
    "churn_risk": [
        r"\br[ée]sili",
        r"\bcancel(l?ing|l?ed)? my\b",
        r"\bcancel(l?ing)?\b.*\b(contract|subscription|plan)",
        r"\bquitter\b",
        r"\bje (pars|m'en vais|me casse)\b",
        r"\bi'?m (leaving|done with)\b",
        r"\bleaving\b",
        r"\bchanger d'op[ée]rateur",
        r"\bswitch(ing)? (to|over to)\b",
        r"\b(je )?passe(r|rai)? chez\b",
        r"\bport(ing)? my number",
        r"\bporta(bilité|ge)\b",
        r"\bdernier mois\b",
        r"\blast month with\b",
    ],
    "purchase": [
        r"\bje (vais|voudrais|veux) (prendre|souscrire|m'abonner)",
        r"\bsouscri",
        r"\bm'abonner\b",
        r"\bthinking (of|about) (getting|buying|signing|switching)",
        r"\bsign(ing)? up\b",
        r"\b(want|going|planning) to (buy|get|order)\b",
        r"\blooking (for|to get) a (new )?(plan|box|fibre)",
        r"\bint[ée]ress[ée]e? par\b",
        r"\bcommander\b",
        r"\bwhere can i (buy|get)\b",
        r"\bje craque\b",
        r"\bordered\b",
        r"\bje viens de commander\b",
        r"\bquel forfait\b",
        r"\bdevis\b",
        r"\bquote\b",
    ],
    "complaint": [
        r"\bpanne\b",
        r"\bne (marche|fonctionne)\b",
        r"\btoujours pas\b",
        r"\binadmissible\b",
        r"\bscandal",
        r"\boutage\b",
        r"\bnot working\b",
        r"\bstill no\b",
        r"\bworst\b",
        r"\brembours",
        r"\brefund\b",
        r"\bcoup[ée]e?\b",
        r"\bdown\b",
        r"\bbroken\b",
        r"\bnul(le)?\b",
        r"\bhonte\b",
        r"\bfactur[ée] (deux|2) fois\b",
        r"\bovercharg",
        r"\bcharged twice\b",
        r"\battente\b",
        r"\bon hold\b",
        r"\bunacceptable\b",
        r"\bterrible\b",
        r"\bd[ée]çue?\b",
        r"\bdisappointed\b",
        r"\blent(e|eur)?\b",
        r"\bslow\b",
        r"\bplant[ée]?\b",
        r"\bbug",
        r"\bpas de r[ée]ponse\b",
        r"\bno (answer|reply|response)\b",
        r"\bjamais\b.*\br[ée]pon",
    ],
    "question": [
        r"\?",
        r"\bcomment (faire|on|je)\b",
        r"\bquelqu'un (sait|a)\b",
        r"\bhow (do|can|to)\b",
        r"\bdoes anyone\b",
        r"\bis it possible\b",
        r"\best-ce que\b",
        r"\bany idea\b",
    ],
    "praise": [
        r"\bmerci\b",
        r"\bbravo\b",
        r"\bau top\b",
        r"\bsuper\b",
        r"\bg[ée]nial",
        r"\bexcellent",
        r"\bparfait",
        r"\bje recommande\b",
        r"\bgreat\b",
        r"\blove\b",
        r"\bamazing\b",
        r"\bthank",
        r"\bkudos\b",
        r"\bawesome\b",
        r"\brecommend\b",
        r"\bimpeccable\b",
        r"\bravie?\b",
        r"\bhappy\b",
    ],
}
_PATTERNS = {intent: [re.compile(c, re.IGNORECASE) for c in cues] for intent, cues in _CUES.items()}
_PRIORITY = ["spam", "churn_risk", "purchase", "complaint", "question", "praise"]


def classify_intent(texts: list[str], brand_terms: list[str] | None = None) -> list[Label]:
    """One intent per text. Switching *to* the brand is a purchase, away from it a churn risk."""
    brand = [b.casefold() for b in brand_terms or []]
    return [_classify(text, brand) for text in texts]


def _classify(text: str, brand: list[str]) -> Label:
    hits = {intent: sum(1 for p in pats if p.search(text)) for intent, pats in _PATTERNS.items()}
    if hits["churn_risk"] and brand and switching_to_brand(text, brand):
        hits["purchase"] += hits["churn_risk"]
        hits["churn_risk"] = 0
    for intent in _PRIORITY:
        if hits[intent]:
            others = sum(v for k, v in hits.items() if k != intent)
            confidence = min(0.95, 0.55 + 0.12 * (hits[intent] - 1) + (0.1 if not others else 0.0))
            return Label(label=intent, confidence=round(confidence, 3))
    return Label(label="other", confidence=0.5)


_SWITCH = re.compile(r"(switch(ing)? (over )?to|passe(r|rai)? chez|chez)\s+(\S+(?:\s+\S+)?)", re.IGNORECASE)


def switching_to_brand(text: str, brand: list[str]) -> bool:
    """Whether the text says its author moves *to* one of the (casefolded) brand terms."""
    for match in _SWITCH.finditer(text):
        target = match.group(5).casefold()
        if any(b.lstrip("@#") in target for b in brand):
            return True
    return False

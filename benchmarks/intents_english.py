"""English intents on real customer messages: Banking77 queries to a bank (never trained on).

    .venv/bin/python benchmarks/intents_english.py [--shared ../shared/datasets] [--take 1500]

Banking77 labels 77 banking intents, not Écoute's. Where one of its categories says plainly what
Écoute's intent is, the recall of that intent is measured on it (seeded sample of the train split,
which Écoute never trains on):
- churn_risk on `terminate_account` ("I want to close my account");
- complaint on categories that report a failure (a declined payment, a charge twice, a card that
  does not work, money not received...);
- question on messages that end with "?".
No precision: Banking77 holds no post without an intent, so it cannot say when the model over-fires.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from nlp.classifier import ACCURATE_MODEL_DIR, FAST_MODEL_DIR, load_classifier
from nlp.language import normalise

FAILURES = {
    "card_not_working", "declined_card_payment", "declined_transfer", "declined_cash_withdrawal",
    "transaction_charged_twice", "wrong_amount_of_cash_received", "failed_transfer", "card_swallowed",
    "extra_charge_on_statement", "refund_not_showing_up", "transfer_not_received_by_recipient",
    "balance_not_updated_after_bank_transfer", "balance_not_updated_after_cheque_or_cash_deposit",
    "cash_withdrawal_not_recognised", "card_payment_not_recognised", "direct_debit_payment_not_recognised",
    "wrong_exchange_rate_for_cash_withdrawal", "card_payment_wrong_exchange_rate",
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--take", type=int, default=1500)
    args = parser.parse_args()
    with (args.shared / "intent" / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    random.Random(16).shuffle(rows)
    terminate = [r for r in rows if r["category"] == "terminate_account"]
    rows = rows[: args.take] + [r for r in terminate if r not in rows[: args.take]]
    groups = {
        "churn_risk": [r for r in rows if r["category"] == "terminate_account"],
        "complaint": [r for r in rows if r["category"] in FAILURES],
        "question": [r for r in rows if r["text"].strip().endswith("?")],
    }
    print(f"Banking77 train, seeded sample: {len(rows)} messages")
    for name, directory in (("fast", FAST_MODEL_DIR), ("accurate", ACCURATE_MODEL_DIR)):
        classifier = load_classifier(str(directory))
        for intent, group in groups.items():
            texts = [normalise(r["text"]).for_models for r in group]
            predictions = classifier.predict(texts, ["en"] * len(texts))
            found = sum(intent in {i.label for i in p.intents} for p in predictions)
            print(f"{name:<9} {intent:<11} recall {found / len(group):.3f}  ({found} of {len(group)})")


if __name__ == "__main__":
    main()

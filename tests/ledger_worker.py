"""A separate process that writes a ledger, for the tests of concurrent writers and of a killed run.

    python tests/ledger_worker.py record TARGET LABEL COUNT [--go FILE] [--slow SECONDS] [--die-after N --marker FILE]
    python tests/ledger_worker.py grant TARGET SUBMISSION [--go FILE] [--slow SECONDS]

``record`` records COUNT tongzhou:3 claims of one enterprise in 2025, each 600,000 (investment
2,000,000; ``items`` takes another), files named after LABEL; ``grant`` decides one submission ``grant``. ``--go`` waits
for that file to appear (so two workers start together); ``--slow`` sleeps inside the write
transaction, after the record is read (so the two overlap); ``--die-after N`` writes ``--marker``
and hangs after N submissions are added, inside the transaction, for the test to kill it.
Prints the outcomes as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addin.ledger import repository  # noqa: E402
from addin.ledger.db import open_ledger  # noqa: E402
from policies import evaluate  # noqa: E402

USCC = "91350100M000100Y43"


def items(label: str, count: int, investment: int = 2_000_000) -> list[repository.Item]:
    out = []
    for k in range(count):
        inputs = {"zone": "tongzhou", "investment_yuan": investment}
        amount = evaluate("tongzhou:3", on=2025, **inputs).amount
        file = f"{label}-{k}.xlsx"
        out.append(
            repository.Item(
                file=file,
                sha256=repository.sha256_of(file.encode()),
                uscc=USCC,
                enterprise="甲公司",
                project=f"{label}-{k}",
                clause="tongzhou:3",
                year=2025,
                inputs=inputs,
                declared=amount,
                recomputed=amount,
                passed=True,
                granted=amount,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["record", "grant"])
    parser.add_argument("target")
    parser.add_argument("what")
    parser.add_argument("count", nargs="?", type=int, default=1)
    parser.add_argument("--go")
    parser.add_argument("--slow", type=float, default=0)
    parser.add_argument("--die-after", type=int)
    parser.add_argument("--marker")
    args = parser.parse_args()

    if args.slow:
        apply_rules = repository.apply_rules

        def slow(*a, **kw):
            time.sleep(args.slow)  # inside the write transaction: the record is read, nothing written yet
            return apply_rules(*a, **kw)

        repository.apply_rules = slow
    if args.die_after is not None:
        add_payments = repository.add_payments
        added = [0]

        def hang(*a, **kw):
            add_payments(*a, **kw)
            added[0] += 1
            if added[0] == args.die_after:
                Path(args.marker).write_text("inside the transaction")
                time.sleep(600)

        repository.add_payments = hang
    ledger = open_ledger(args.target)
    if args.go:
        while not Path(args.go).exists():
            time.sleep(0.01)
    if args.action == "record":
        outcomes = repository.record(ledger, items(args.what, args.count))
        print(json.dumps([[o.submission, o.new, str(o.granted)] for o in outcomes]))
    else:
        made = repository.decide(ledger, int(args.what), "grant", reviewer="worker", reason="concurrent grant")
        print(json.dumps([made.id, str(made.amount)]))
    ledger.close()
    assert Decimal  # exact amounts travel as text


if __name__ == "__main__":
    main()

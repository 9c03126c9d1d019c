"""The policy core: the three Beijing policies as validated data, evaluated exactly.

>>> from policies import evaluate
>>> evaluate("etown:27", capacity_kw=100).amount
Decimal('80000.00')
>>> evaluate("etown:27", capacity_kw=100, on=2027, reform={"etown:27.per_kw": {"2027-01-01": 1000}}).amount
Decimal('100000.00')
"""

from .award import Award, Check, Note, Payment, Step
from .catalog import catalog, clause_info
from .engine import evaluate, evaluate_many, find_clause
from .errors import GreenAwardError, InputError, PolicyDataError, UnknownClauseError
from .parameters import Reform, load_reform, parse_reform
from .registry import policies

__all__ = [
    "Award",
    "Check",
    "GreenAwardError",
    "InputError",
    "Note",
    "Payment",
    "PolicyDataError",
    "Reform",
    "Step",
    "UnknownClauseError",
    "catalog",
    "clause_info",
    "evaluate",
    "evaluate_many",
    "find_clause",
    "load_reform",
    "parse_reform",
    "policies",
]

"""The policy core: the three Beijing policies as validated data, evaluated exactly.

    >>> from policies import evaluate
    >>> evaluate("etown:27", capacity_kw=100).amount
    Decimal('80000.00')
"""

from .award import Award, Check, Note, Payment, Step
from .catalog import catalog, clause_info
from .engine import evaluate, find_clause
from .errors import GreenAwardError, InputError, PolicyDataError, UnknownClauseError
from .registry import policies

__all__ = [
    "Award",
    "Check",
    "GreenAwardError",
    "InputError",
    "Note",
    "Payment",
    "PolicyDataError",
    "Step",
    "UnknownClauseError",
    "catalog",
    "clause_info",
    "evaluate",
    "find_clause",
    "policies",
]

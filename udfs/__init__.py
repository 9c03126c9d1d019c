"""Worksheet functions for Excel through xlwings: ``UDF Modules: udfs`` finds every one at package level.

    >>> import udfs
    >>> udfs.PV_SUBSIDY(100.0)
    80000.0

See docs/excel.md for the set-up and the function reference.
"""

from importlib.util import find_spec as _find_spec

from ._sheet import WorksheetError
from .functions import (
    AWARD_CLAUSES,
    AWARD_EXPLAIN,
    AWARD_INPUTS,
    AWARD_PAYMENTS,
    AWARD_WHATIF,
    BOILER_AWARD,
    DATA_CENTRE_AWARD,
    ENERGY_SAVING_AWARD,
    FLEET_AWARD,
    GREEN_AWARD,
    GREEN_POWER_AWARD,
    LOAN_INTEREST_SUBSIDY,
    MACHINERY_AWARD,
    PV_SUBSIDY,
    RENEWABLE_ENERGY_AWARD,
    RETROFIT_AWARD,
    TCE,
    VEHICLE_AWARD,
    WORKSHEET_FUNCTIONS,
)

__all__ = [f.__name__ for f in WORKSHEET_FUNCTIONS] + ["WORKSHEET_FUNCTIONS", "WorksheetError"]

# Issue 4's PORTFOLIO_AWARDS lives in its own module; exported here once that module exists
# (an error inside it is not hidden: only a missing file is skipped).
if _find_spec(__name__ + ".portfolio") is not None:
    from .portfolio import PORTFOLIO_AWARDS  # noqa: F401

    __all__.append("PORTFOLIO_AWARDS")

if _find_spec(__name__ + ".match") is not None:  # issue 15's AWARD_MATCH
    from .match import AWARD_MATCH  # noqa: F401

    __all__.append("AWARD_MATCH")

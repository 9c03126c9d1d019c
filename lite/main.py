"""green-award's worksheet functions in xlwings Lite: this is the editor's main.py.

requirements.txt installs the green-award wheel; importing its functions here registers them with
Lite, e.g. =GREEN_AWARD("etown:27", "capacity_kw", 100) or =PV_SUBSIDY(100). See docs/excel.md.
Written by green-award excel --lite; add your own functions below.
"""

from udfs import (  # noqa: F401
    GREEN_AWARD,
    AWARD_EXPLAIN,
    AWARD_WHATIF,
    AWARD_PAYMENTS,
    AWARD_CLAUSES,
    AWARD_INPUTS,
    TCE,
    PV_SUBSIDY,
    ENERGY_SAVING_AWARD,
    DATA_CENTRE_AWARD,
    RETROFIT_AWARD,
    GREEN_POWER_AWARD,
    LOAN_INTEREST_SUBSIDY,
    VEHICLE_AWARD,
    BOILER_AWARD,
    FLEET_AWARD,
    MACHINERY_AWARD,
    RENEWABLE_ENERGY_AWARD,
    PORTFOLIO_AWARDS,
    AWARD_MATCH,
)

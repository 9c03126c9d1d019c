"""The fast paths say what the slow ones say.

- Each expression is compiled to one generated Python function (``expr.compile_expr``); the nested
  closures it falls back to for very deep trees evaluate every expression alike.
- ``evaluate`` works out what depends only on the choices a computation made (the binding limit,
  every limit, the trace's texts) once per pattern and clause (``CompiledClause.patterns``): an award
  from a warm pattern cache equals one worked out afresh, whatever came before it.
- An award's later fields (``award.LATER``: steps, payments, the bindings), made when first read, are
  the same whichever is read first; an award pickles and copies as its plain data.
- ``evaluate``'s look-up of a clause by its exact id (``engine.UNDATED``) gives the award the full
  path gives.
- ``evaluate_many`` is ``evaluate`` per item, with the errors returned in place.
- The compiled catalog's cache (``policies.registry``) gives the policies the files give, is rebuilt
  when a file changes or an entry is damaged, and can be turned off.
- ``green-award calc CLAUSE name=value`` answered without typer prints what the full command line prints;
  anything else (an error, an option, help) is the full command line's.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import pickle
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import inputs_strategy

from policies import Award, InputError, UnknownClauseError, evaluate, expr, registry
from policies.award import LATER
from policies.engine import COMPILED_CACHES, UNDATED, all_clauses, compiled, evaluate_many
from policies.inputs import coercer, limit

ROOT = Path(__file__).resolve().parent.parent
MONETARY = [c for _, c in all_clauses() if c.monetary]


def _data(award: object) -> dict:
    """Everything an award says, data and prose (``to_dict`` renders the trace, reasons and notes)."""
    assert not isinstance(award, Exception)
    return award.to_dict()  # type: ignore[attr-defined]


def _outcome(clause_id: str, inputs: dict) -> object:
    try:
        return _data(evaluate(clause_id, **inputs))
    except InputError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("clause", MONETARY, ids=lambda c: c.id)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_award_from_the_pattern_cache_equals_one_worked_out_afresh(clause, data: st.DataObject) -> None:
    first, second = data.draw(inputs_strategy(clause)), data.draw(inputs_strategy(clause))
    _outcome(clause.id, first)  # warms the cache with the first draw's pattern
    warm = _outcome(clause.id, second)
    compiled(clause.id).patterns.clear()
    assert _outcome(clause.id, second) == warm


def test_the_pattern_decides_the_binding_and_the_trace() -> None:
    """beijing:2.1: the same clause bound by the unit price, then by the rate, then by the cap."""
    compiled("beijing:2.1").patterns.clear()
    base = {"project_type": "energy_saving", "investment_yuan": 10_000_000}
    by_price = evaluate("beijing:2.1", energy_saved_tce=1000, **base)
    by_rate = evaluate("beijing:2.1", energy_saved_tce=5000, **base)
    by_cap = evaluate("beijing:2.1", project_type="energy_saving", energy_saved_tce=90_000, investment_yuan=2e8)
    assert (by_price.amount, by_price.binding) == (Decimal("1200000.00"), "unit_price")
    assert (by_rate.amount, by_rate.binding) == (Decimal("2500000.00"), "rate")
    assert (by_cap.amount, by_cap.binding) == (Decimal("30000000.00"), "cap")
    assert by_rate.trace[-2].startswith("决定金额 Binding: rate") and by_cap.trace[-2].startswith(
        "决定金额 Binding: cap"
    )
    assert [v for _, v in by_rate.steps[0].args] == [6_000_000, 2_500_000, 30_000_000]
    assert len(compiled("beijing:2.1").patterns) == 3


def test_the_award_fields_hold_what_their_names_say() -> None:
    """``_evaluate`` sets each field by its name (the later ones are made from ``workings``)."""
    assert [f.name for f in dataclasses.fields(Award)] == [
        "clause", "policy", "article", "title", "amount", "eligible", "binding", "binding_kind", "ceiling",
        "payments", "inputs", "reform", "checks", "steps", "bindings", "readings", "workings",
    ]  # fmt: skip
    award = evaluate("etown:27", capacity_kw=100, on=2025, reform={"etown:27.per_kw": 1000})
    assert (award.clause, award.policy, award.article, award.title.en) == (
        "etown:27", "etown", "五(十一)27", "Distributed photovoltaics (one-off)"
    )  # fmt: skip
    assert (award.amount, award.eligible, award.binding, award.binding_kind, award.ceiling) == (
        Decimal("100000.00"), True, "per_kw", "unit_price", False
    )  # fmt: skip
    assert [p.amount for p in award.payments] == [Decimal("100000.00")] and award.inputs["capacity_kw"] == 100
    assert award.reform == {"etown:27.per_kw": Decimal(1000)} and award.checks[0].code == "validity"
    assert award.steps[-1].kind == "amount" and award.bindings == ("per_kw", "full_share")
    assert award.readings[0].startswith("改革 Reform") and "八(三)" in award.readings[-1]  # the window's note


def test_a_reformed_clause_has_patterns_of_its_own() -> None:
    """The binding step shows the value in force: the reform's, not the cached clause's."""
    plain = evaluate("etown:27", capacity_kw=100)
    reformed = evaluate("etown:27", capacity_kw=100, reform={"etown:27.per_kw": 1000})
    again = evaluate("etown:27", capacity_kw=100)
    assert [s.value for s in plain.steps if s.kind == "binding"] == [800]
    assert [s.value for s in reformed.steps if s.kind == "binding"] == [1000]
    assert reformed.amount == Decimal("100000.00") and again.to_dict() == plain.to_dict()


# --- the later fields, pickling, the look-up ---------------------------------------------------------------

LATER_CALLS = [
    (
        "beijing:2.1",
        {"on": "2025-06-01", "project_type": "energy_saving", "energy_saved_tce": 1000, "investment_yuan": 1e7},
    ),
    ("etown:27", {"capacity_kw": 100.0, "ownership": "third_party", "on": 2025, "reform": {"etown:27.per_kw": 1000}}),
    ("etown:27", {"capacity_kw": 100, "ownership": "third_party_budget_owner", "applicant": "owner"}),  # not eligible
    ("tongzhou:3", {"investment_yuan": 5e7, "zone": "tongzhou"}),
]


@pytest.mark.parametrize("first", sorted(LATER))
@pytest.mark.parametrize(("clause", "inputs"), LATER_CALLS)
def test_the_later_fields_are_the_same_whichever_is_read_first(first: str, clause: str, inputs: dict) -> None:
    compiled(clause).patterns.clear()
    award = evaluate(clause, **inputs)
    made = getattr(award, first)
    assert getattr(award, first) is made  # kept in its slot, not made again
    assert _data(award) == _data(evaluate(clause, **inputs))  # reads every field, "binding" first
    assert {name: getattr(award, name) for name in LATER} == {
        name: getattr(evaluate(clause, **inputs), name) for name in sorted(LATER, reverse=True)
    }


@pytest.mark.parametrize(("clause", "inputs"), LATER_CALLS)
def test_an_award_pickles_and_copies_as_its_plain_data(clause: str, inputs: dict) -> None:
    award = evaluate(clause, **inputs)
    for other in (pickle.loads(pickle.dumps(evaluate(clause, **inputs))), copy.deepcopy(evaluate(clause, **inputs))):
        assert other.workings is None and other == award and _data(other) == _data(award)
        assert repr(other) == repr(award)
    plain = Award(**{f.name: getattr(award, f.name) for f in dataclasses.fields(Award) if f.name != "workings"})
    assert plain == award and _data(plain) == _data(award)
    with pytest.raises(AttributeError, match="no_such_field"):
        award.no_such_field  # type: ignore[attr-defined]  # noqa: B018


def test_the_look_up_by_exact_id_gives_what_the_full_path_gives() -> None:
    inputs = {"capacity_kw": 100.0, "ownership": "third_party"}
    UNDATED.clear()
    full = evaluate("etown:27", **inputs)  # the full path, which fills the look-up
    assert UNDATED["etown:27"] is compiled("etown:27")
    assert evaluate("etown:27", **inputs) == full == evaluate(" etown:27 ", **inputs)
    assert " etown:27 " not in UNDATED  # only exact ids: the full path strips
    assert evaluate_many([("etown:27", None, inputs)]) == [full]
    reformed = evaluate("etown:27", reform={"etown:27.per_kw": 1000}, **inputs)  # a reform: never the look-up
    assert reformed.amount == Decimal("50000.00") and full.amount == Decimal("40000.00")
    with pytest.raises(UnknownClauseError):
        evaluate(27, **inputs)  # type: ignore[arg-type]  # not a text: the full path says so


# --- the coercers' quick paths ----------------------------------------------------------------------------

SPECS = {(name, repr(spec)): spec for _, c in all_clauses() for name, spec in compiled(c.id).specs.items()}
NUMBER_SPECS = [spec for spec in SPECS.values() if spec.type in ("money", "number", "integer", "ratio")]
CHOICE_SPECS = [spec for spec in SPECS.values() if spec.type == "choice"]


class Real(float):
    """A float that is not exactly ``float``: it takes the coercer's full path."""


class Text(str):
    """The same for a text."""


def _coerced(convert, raw: object) -> tuple[str, str]:
    try:
        return "value", repr(convert(raw))
    except ValueError as exc:
        return "error", str(exc)


def _edges(spec) -> list[float]:
    """The floats at and beside every bound the coercer checks."""
    bound = limit(spec)
    marks = [spec.lower, spec.upper, bound[0] if bound else None, Decimal("1e-30"), Decimal("1e30"), Decimal(0)]
    out = []
    for mark in (float(m) for m in marks if m is not None):
        out += [mark, math.nextafter(mark, -math.inf), math.nextafter(mark, math.inf), -mark]
    return out


@pytest.mark.parametrize("spec", NUMBER_SPECS, ids=lambda s: f"{s.type}-{s.unit}-{s.lower}-{s.upper}")
@settings(max_examples=200, deadline=None)
@given(number=st.floats())
def test_a_float_on_the_quick_path_is_coerced_as_on_the_full_one(spec, number: float) -> None:
    convert = coercer(spec)
    for raw in [number, *_edges(spec)]:
        assert _coerced(convert, raw) == _coerced(convert, Real(raw)), raw


@pytest.mark.parametrize("spec", CHOICE_SPECS, ids=lambda s: "-".join(s.values or ()))
def test_a_choice_written_as_it_is_listed_is_read_as_on_the_full_path(spec) -> None:
    convert = coercer(spec)
    assert spec.values is not None
    for value, label in spec.values.items():
        for text in (value, label.zh, label.en, value.upper(), f" {value} ", "no such value"):
            assert _coerced(convert, text) == _coerced(convert, Text(text)), text


# --- generated expressions and closures ---------------------------------------------------------------------

NUMBERS = st.deferred(
    lambda: st.one_of(
        st.sampled_from(["a", "b", "c", "0", "2.5", "1200", "0.3"]),
        st.tuples(NUMBERS, st.sampled_from(["+", "-", "*", "/"]), NUMBERS).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        NUMBERS.map(lambda n: f"-{n}"),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(NUMBERS, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        NUMBERS.map(lambda n: f"round({n}, 2)"),
        st.tuples(NUMBERS, TESTS, NUMBERS).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )
)
TESTS = st.deferred(
    lambda: st.one_of(
        st.sampled_from(["flag", "kind == 'x'", "kind != 'y'", "True"]),
        TESTS.map(lambda t: f"not {t}"),
        st.tuples(NUMBERS, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), NUMBERS).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(TESTS, min_size=2, max_size=3)).map(
            lambda t: "(" + f" {t[0]} ".join(t[1]) + ")"
        ),
        st.tuples(NUMBERS, NUMBERS).map(lambda t: f"at_least({t[0]}, {t[1]})"),
    )
)
VALUES = st.fixed_dictionaries(
    {},
    optional={
        "a": st.decimals(min_value=-1000, max_value=10**9, places=2, allow_nan=False),
        "b": st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(3)]),
        "c": st.just(Decimal(7)),
        "flag": st.booleans(),
        "kind": st.sampled_from(["x", "y"]),
    },
)


def _run_compiled(function: expr.Compiled, env: dict) -> tuple:
    ctx = expr.Context(dict(env))
    try:
        value: object = function(ctx)
    except expr.MissingName as missing:
        value = ("missing", missing.name)
    except Exception as exc:  # noqa: BLE001 - the same error from both, whatever it is
        value = (type(exc).__name__,)
    steps = [(id(node), values, index) for node, values, index in ctx.steps]
    return value, ctx.chosen, steps


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(NUMBERS, TESTS), env=VALUES, record=st.booleans())
def test_a_generated_expression_evaluates_as_the_closures_do(text: str, env: dict, record: bool) -> None:
    node = expr.parse(text)
    generated = expr.compile_expr(node, record)
    assert generated.__name__ == "expression"  # the generated function, not the fallback
    assert _run_compiled(generated, env) == _run_compiled(expr.compile_closures(node, record), env)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(NUMBERS, TESTS), env=VALUES, written=st.sets(st.sampled_from(["a", "b", "c", "flag", "kind"])))
def test_values_written_into_an_expression_evaluate_as_read_from_the_context(text: str, env: dict, written) -> None:
    """The engine writes a clause's parameters into its expressions (``constants``) instead of merging them
    into every evaluation's context: the same values, the same results and choices."""
    node = expr.parse(text)
    constants = {name: value for name, value in env.items() if name in written}
    rest = {name: value for name, value in env.items() if name not in written}
    expected = _run_compiled(expr.compile_expr(node), env)
    assert _run_compiled(expr.compile_expr(node, constants=constants), rest) == expected
    assert _run_compiled(expr.compile_closures(node, constants=constants), rest) == expected


def test_a_reformed_threshold_decides_the_rule() -> None:
    """A rule's parameter is written into its test: a reform's value is the one the rule compares with."""
    inputs = {"loan_principal_yuan": 1e6, "loan_rate": 0.03, "fixed_asset_investment_yuan": 6e6}
    published = evaluate("beijing:8", **inputs)
    reformed = evaluate("beijing:8", reform={"beijing:8.min_fixed_asset_investment": 7e6}, **inputs)
    assert published.check("threshold:fixed_asset_investment_yuan").status == "passed"  # type: ignore[union-attr]
    assert reformed.check("threshold:fixed_asset_investment_yuan").status == "failed"  # type: ignore[union-attr]
    assert published.eligible and not reformed.eligible and reformed.amount == 0


def test_a_tree_too_deep_to_generate_is_evaluated_by_closures() -> None:
    node = expr.parse(" + ".join(["a"] * 400))  # a left-deep tree of 399 additions
    function = expr.compile_expr(node)
    assert function.__name__ != "expression"
    assert function(expr.Context({"a": Decimal("0.01")})) == Decimal("4.00")
    with pytest.raises(expr.MissingName, match="a"):
        function(expr.Context({}))


# --- evaluate_many ----------------------------------------------------------------------------------------


def test_evaluate_many_is_evaluate_per_item_with_errors_returned() -> None:
    items = [
        ("etown:27", None, {"capacity_kw": 100}),
        ("etown:27", 2025, {"capacity_kw": "bad"}),
        ("nowhere:1", None, {}),
        (
            "beijing:2.1",
            "2025-06-01",
            {"project_type": "energy_saving", "energy_saved_tce": 10, "investment_yuan": 1e6},
        ),
        ("tongzhou:3", None, {"investment_yuan": 5_000_000, "no_such_input": 1}),
        ("tongzhou:3", None, {"investment_yuan": 5_000_000, "on": 2025}),  # a name, not evaluate's keyword
    ]
    results = evaluate_many(items)
    assert len(results) == len(items)
    assert _data(results[0]) == _data(evaluate("etown:27", capacity_kw=100))
    assert isinstance(results[1], InputError) and "capacity_kw" in str(results[1])
    assert isinstance(results[2], UnknownClauseError)
    assert _data(results[3]) == _data(evaluate("beijing:2.1", on="2025-06-01", **items[3][2]))
    assert results[3].amount == Decimal("12000.00")  # type: ignore[union-attr]
    assert isinstance(results[4], InputError) and "no_such_input" in str(results[4])
    assert isinstance(results[5], InputError) and "on: unknown input" in str(results[5])


def test_evaluate_many_under_a_reform() -> None:
    results = evaluate_many(
        [("etown:27", 2027, {"capacity_kw": 100})], reform={"etown:27.per_kw": {"2027-01-01": 1000}}
    )
    assert results[0].amount == Decimal("100000.00") and results[0].reform is not None  # type: ignore[union-attr]
    with pytest.raises(InputError, match="etown:27.per_kwh"):
        evaluate_many([], reform={"etown:27.per_kwh": 1})  # a bad reform is the caller's error, not an item's


@pytest.mark.parametrize("clause", MONETARY[:6], ids=lambda c: c.id)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_evaluate_many_agrees_with_evaluate(clause, data: st.DataObject) -> None:
    draws = [data.draw(inputs_strategy(clause)) for _ in range(3)]
    results = evaluate_many([(clause.id, None, inputs) for inputs in draws])
    for inputs, result in zip(draws, results):
        expected = _outcome(clause.id, inputs)
        got = ("error", str(result)) if isinstance(result, InputError) else _data(result)
        assert got == expected


# --- the compiled catalog's cache ---------------------------------------------------------------------------


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(registry.CACHE_DIR, str(folder))
    registry.reload(*COMPILED_CACHES)
    yield folder
    monkeypatch.undo()
    registry.reload(*COMPILED_CACHES)


def _hashes(policies: dict) -> dict[str, str]:
    return {pid: registry.content_hash(p) for pid, p in policies.items()}


def test_the_cached_catalog_is_the_catalog_of_the_files(cache: Path) -> None:
    fresh = registry.read_all(registry.DATA_DIR, [])
    built = registry.load_all(registry.DATA_DIR, [])  # loads and writes the entry
    (entry,) = cache.glob("catalog-*.pickle")
    registry.reload(*COMPILED_CACHES)
    read = registry.load_all(registry.DATA_DIR, [])  # from the entry
    assert _hashes(read) == _hashes(built) == _hashes(fresh)
    assert read is not built and pickle.loads(entry.read_bytes())[1].keys() == fresh.keys()
    assert evaluate("etown:27", capacity_kw=100).amount == Decimal("80000.00")


def test_a_changed_policy_file_is_another_key(cache: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(registry.DATA_DIR, data)
    first = registry.catalog_key(data, [])
    assert registry.load_all(data, [])["etown"].clauses[0].id
    etown = data / "etown.yaml"
    text = etown.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("      per_kw: {value: 800"))
    etown.write_text(text.replace(old, old.replace("800", "900", 1)), encoding="utf-8")
    assert registry.catalog_key(data, []) != first
    registry.reload(*COMPILED_CACHES)
    per_kw = next(c for c in registry.load_all(data, [])["etown"].clauses if c.id == "etown:27").parameters["per_kw"]
    assert per_kw.value == 900  # the new file's figure, not the cached 800


def test_a_damaged_entry_is_rebuilt_silently(cache: Path) -> None:
    registry.load_all(registry.DATA_DIR, [])
    (entry,) = cache.glob("catalog-*.pickle")
    entry.write_bytes(b"not a pickle")
    registry.reload(*COMPILED_CACHES)
    assert "etown" in registry.load_all(registry.DATA_DIR, [])
    assert pickle.loads(entry.read_bytes())[1].keys() == {"beijing", "tongzhou", "etown"}
    entry.write_bytes(pickle.dumps(("something", "else")))  # readable, but not a catalog
    registry.reload(*COMPILED_CACHES)
    assert "etown" in registry.load_all(registry.DATA_DIR, [])


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.CACHE_DIR, "")
    assert registry.cache_dir() is None
    registry.reload(*COMPILED_CACHES)
    try:
        assert "etown" in registry.load_all(registry.DATA_DIR, [])
    finally:
        monkeypatch.undo()
        registry.reload(*COMPILED_CACHES)


def test_an_unwritable_cache_is_skipped(cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("a file where the folder should be", encoding="utf-8")
    assert "etown" in registry.load_all(registry.DATA_DIR, [])


# --- green-award calc without typer -------------------------------------------------------------------------

SCRIPT = Path(sys.executable).with_name("green-award")
FULL = "import sys; from addin.cli import main; sys.argv = ['green-award', *sys.argv[1:]]; main()"


def _run(command: list[str]) -> tuple[int, str, str]:
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.skipif(not SCRIPT.exists(), reason="the green-award script is not installed beside this Python")
@pytest.mark.parametrize(
    "args, status",
    [
        (["calc", "etown:27", "capacity_kw=100"], 0),
        (["calc", "beijing:2.1", "project_type=energy_saving", "energy_saved_tce=1000", "investment_yuan=1e7"], 0),
        (["calc", "etown:27", "capacity_kw=100", "zone=tongzhou"], 0),  # not eligible: the reasons
        (["calc", "etown:27", "capacity_kw=-5"], 2),  # bad input: one line
        (["calc", "etown:99", "capacity_kw=100"], 2),  # unknown clause
        (["calc", "etown:27", "capacity"], 2),  # not name=value
        (["calc", "etown:27", "capacity_kw=100", "--json"], 0),
        (["calc", "--help"], 0),
    ],
    ids=["award", "min", "ineligible", "bad-input", "unknown-clause", "not-name-value", "json", "help"],
)
def test_the_script_prints_what_the_full_command_line_prints(args: list[str], status: int) -> None:
    quick = _run([str(SCRIPT), *args])
    assert quick == _run([sys.executable, "-c", FULL, *args])
    assert quick[0] == status and (quick[1] if status == 0 else quick[2]).strip()


def test_the_quick_path_answers_calc_without_typer() -> None:
    code = (
        "import sys; from addin.entry import _quick_calc\n"
        "done = _quick_calc(['calc', 'etown:27', 'capacity_kw=100'])\n"
        "left = _quick_calc(['calc', 'etown:27', 'capacity_kw=100', '--json'])\n"
        "print(done, left, 'typer' in sys.modules)"
    )
    status, out, _ = _run([sys.executable, "-c", code])
    assert status == 0 and "80,000" in out and out.splitlines()[-1] == "True False False"


def test_a_calc_from_the_cached_catalog_imports_neither_pyyaml_nor_rich(tmp_path: Path) -> None:
    code = (
        "import sys, io, contextlib; from addin.entry import _quick_calc\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    done = _quick_calc(['calc', 'etown:27', 'capacity_kw=100'])\n"
        "print(done, '80,000' in out.getvalue(), 'yaml' in sys.modules, 'rich' in sys.modules)"
    )
    env = {**os.environ, "GREEN_AWARD_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert first.stdout.split() == ["True", "True", "True", "False"]  # the files read (PyYAML), then cached
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert again.stdout.split() == ["True", "True", "False", "False"]


def test_calc_prints_whole_lines_into_a_file_and_dims_notes_only_on_a_colour_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from addin.entry import print_award

    award = evaluate("etown:27", capacity_kw=100)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    piped, terminal = io.StringIO(), Terminal()
    print_award(award, piped)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    print_award(award, terminal)
    lines = piped.getvalue().splitlines()
    assert lines == [*award.trace, "支付 Payment: 事后一次性奖励 / One payment, afterwards: 80,000.00 元 (due)"] + [
        f"注 Note: {note}" for note in award.notes
    ]
    assert max(len(line) for line in lines) > 100 and "\033" not in piped.getvalue()  # not wrapped, no codes
    assert terminal.getvalue().count("\033[2m注 Note:") == len(award.notes)
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    print_award(award, plain)
    assert plain.getvalue() == piped.getvalue()


def test_the_collector_is_off_for_a_quick_calc_and_back_on_for_every_other_command() -> None:
    code = (
        "import gc, io, sys, contextlib; from addin.entry import main\n"
        "for argv in (['calc', 'etown:27', 'capacity_kw=100'], ['clauses']):\n"
        "    gc.enable(); gc.unfreeze(); sys.argv = ['green-award', *argv]\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main()\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    status, out, err = _run([sys.executable, "-c", code])
    assert status == 0, err
    assert out.split() == ["False", "False", "True", "True"]  # calc: off, nothing frozen; clauses: on, frozen

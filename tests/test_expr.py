"""The amount language's typed nodes: parsed, evaluated exactly, shown in the trace and in Excel."""

from decimal import Decimal

import pytest

from policies import expr

EVERY_KIND = 'round(-a * 2 + b / 4, 2) if not flag and (kind == "x" or at_least(a, 3)) else max(min(a, 1.5), True - 1)'


def test_each_kind_of_node_is_its_own_type() -> None:
    node = expr.parse(EVERY_KIND)
    assert isinstance(node, expr.IfElse)
    kinds = {type(n).__name__ for n in expr.walk(node)}
    assert kinds == {"IfElse", "Call", "BinOp", "Neg", "Name", "Number", "BoolOp", "Not", "Compare", "String", "Bool"}
    match node.test:
        case expr.BoolOp("and", (expr.Not(expr.Name("flag")), expr.BoolOp("or", (compare, at_least)))):
            assert compare != expr.Compare("==", compare.left, compare.right)  # nodes compare by identity
            assert compare.op == "==" and isinstance(compare.left, expr.Name) and compare.left.name == "kind"
            assert isinstance(compare.right, expr.String) and compare.right.value == "x"
            assert isinstance(at_least, expr.Call) and at_least.function == "at_least"
        case _:
            pytest.fail(f"not the tree expected: {node.test!r}")
    number = expr.parse("1.5")
    assert isinstance(number, expr.Number) and number.value == Decimal("1.5")


@pytest.mark.parametrize(
    "a, b, flag, kind, expected, chosen",
    [
        (Decimal(1), Decimal(2), False, "x", Decimal("-1.50"), 1),  # the if's body: round(-2 + 0.5, 2)
        (Decimal(1), Decimal(2), True, "x", Decimal(1), 2),  # the orelse: max(min(1, 1.5), 0)
        (Decimal(5), Decimal(0), False, "y", Decimal("-10.00"), 1),  # at_least(5, 3) holds
        (Decimal(2), Decimal(0), False, "y", Decimal("1.5"), 2),  # neither: max(min(2, 1.5), 0)
    ],
)
def test_every_kind_evaluates_and_records_its_choice(a, b, flag, kind, expected, chosen) -> None:
    node = expr.parse(EVERY_KIND)
    expr.annotate(node, str)
    ctx = expr.Context({"a": a, "b": b, "flag": flag, "kind": kind})
    assert expr.compile_expr(node)(ctx) == expected
    assert ctx.chosen[id(node)] == chosen
    assert bool(ctx.steps) is (chosen == 2)  # max and min record their arguments when taken


def test_the_trace_text_and_the_excel_formula_of_every_kind() -> None:
    node = expr.parse(EVERY_KIND)
    expr.annotate(node, lambda name: f"<{name}>")
    assert node.text == (
        "(round(((−<a> × 2) + (<b> ÷ 4)), 2) if not <flag> and <kind> = 'x' or <a> ≥ 3 "
        "else max(min(<a>, 1.5), (true − 1)))"
    )
    assert expr.to_excel(node, lambda name: f"in_{name}") == (
        'IF(AND(NOT(in_flag),OR((in_kind="x"),(in_a>=3-ABS(3)*0.000000001))),'
        "ROUND(((-(in_a)*2)+(in_b/4)),2),MAX(MIN(in_a,1.5),(TRUE-1)))"
    )


def test_names_comparisons_and_the_deciding_parameter() -> None:
    node = expr.parse('min(rate * x, cap) if "self" == ownership else fixed')
    assert expr.names(node) == ["ownership", "rate", "x", "cap", "fixed"]  # the test first, as walk goes
    assert expr.string_comparisons(node) == [("ownership", "self")]
    is_parameter = {"rate", "cap", "fixed"}.__contains__
    for x, ownership, decided in (
        (Decimal(10), "self", "rate"),
        (Decimal(10**6), "self", "cap"),
        (Decimal(1), "other", "fixed"),
    ):
        ctx = expr.Context(
            {"rate": Decimal("0.5"), "cap": Decimal(100), "fixed": Decimal(7), "x": x, "ownership": ownership}
        )
        expr.compile_expr(node, record=False)(ctx)
        assert expr.deciding_name(node, ctx.chosen, is_parameter) == decided
        assert ctx.steps == []  # record=False: no trace lines
    assert expr.deciding_name(node, {}, is_parameter) is None  # an if not evaluated decides nothing


def test_with_args_keeps_the_kind_and_its_operator() -> None:
    node = expr.parse("a - b")
    assert isinstance(node, expr.BinOp)
    swapped = expr.with_args(node, (node.right, node.left))
    assert isinstance(swapped, expr.BinOp) and swapped.op == "-"
    assert expr.to_excel(swapped, str) == "(b-a)"
    call = expr.parse("max(a, b, c)")
    assert expr.to_excel(expr.with_args(call, call.args[::-1]), str) == "MAX(c,b,a)"


def test_a_missing_name_is_named() -> None:
    with pytest.raises(expr.MissingName) as caught:
        expr.compile_expr(expr.parse("a + b"))(expr.Context({"a": Decimal(1)}))
    assert caught.value.name == "b"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("a +", "not a valid expression"),
        ("a < b < c", "only single comparisons"),
        ("abs(a)", "only the functions min, max, round, at_least"),
        ("min(a, b=1)", "only the functions"),
        ("round(a, b)", "round takes a value and a number of decimal places"),
        ("max(a)", "max needs at least two values"),
        ("a ** 2", "BinOp is not allowed"),
        ("None", "constant None is not allowed"),
    ],
)
def test_text_outside_the_language_is_refused(bad: str, message: str) -> None:
    with pytest.raises(expr.ExpressionError, match=message):
        expr.parse(bad)


def test_a_declaration_reads_at_least_as_at_least_not_as_the_larger_of() -> None:
    """The printed rule of etown:19 read 取大值（【其中新能源车辆数】，80% × …）: "the larger of", which
    says nothing; ``at_least(a, b)`` is a ≥ b."""
    from addin.declaration_template import describe
    from policies.engine import compiled

    cc = compiled("etown:19")
    described = [describe(cc, node) for node in cc.clause.rule_nodes]
    assert "【其中新能源车辆数】 ≥ 80% × 【自有货物运输车辆总数】" in described
    assert not any("取大值" in text for text in described)

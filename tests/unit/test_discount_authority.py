"""rules.discount_authority: limits per role and per user, the approval and its fingerprint."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from rules.discount_authority import (
    DiscountPolicy,
    approval_fingerprint,
    check_discount_authority,
)
from rules.document_pricing import LineRequest, PricedDocument, price_document
from rules.price_resolution import PriceBook
from tests.unit.pricing_builders import (
    ACCOUNT,
    NOW,
    OTHER_ACCOUNT,
    D,
    make_entry,
    make_list,
    make_product,
    make_request,
)

REP = uuid.uuid4()
STAR = uuid.uuid4()  # a rep trusted with more
PEN, INK = make_product(), make_product()
STANDARD = make_list()
BOOK = PriceBook(
    [STANDARD], [make_entry(STANDARD, PEN.id, "10.00"), make_entry(STANDARD, INK.id, "3.00")]
)
PRODUCTS = {PEN.id: PEN, INK.id: INK}
POLICY = DiscountPolicy(
    role_max={"rep": D("10"), "manager": D("25"), "admin": D("100")}, user_max={STAR: D("20")}
)


def priced(
    lines: Sequence[LineRequest], order_discount: str = "0", **overrides: object
) -> PricedDocument:
    values: dict[str, object] = {
        "book": BOOK,
        "products": PRODUCTS,
        "account_id": ACCOUNT,
        "segment": None,
        "currency": "CNY",
        "at": NOW,
        "order_discount_pct": D(order_discount),
        **overrides,
    }
    return price_document(lines, **values)  # type: ignore[arg-type]


def test_a_discount_up_to_the_roles_limit_needs_no_approval() -> None:
    check = check_discount_authority(
        priced([make_request(PEN.id, "1", "10")]), user_id=REP, role="rep", policy=POLICY
    )
    assert (check.needs_approval, check.reason, check.max_discount_pct) == (False, None, D("10"))


def test_a_line_discount_above_the_roles_limit_waits_for_approval() -> None:
    doc = priced([make_request(INK.id, "1", "5"), make_request(PEN.id, "1", "12")])
    check = check_discount_authority(doc, user_id=REP, role="rep", policy=POLICY)
    assert (check.needs_approval, check.reason, check.field) == (
        True,
        "discount_above_authority",
        "lines[1].discount_pct",
    )
    assert (check.limit_pct, check.max_discount_pct) == (D("10"), D("12"))
    assert (
        check_discount_authority(doc, user_id=REP, role="manager", policy=POLICY).approved is False
    )
    assert not check_discount_authority(
        doc, user_id=REP, role="manager", policy=POLICY
    ).needs_approval


def test_line_and_order_discount_combine_against_the_limit() -> None:
    # 5 % then 6 % is 10.7 %, above a rep's 10 %, though each is below it
    doc = priced([make_request(PEN.id, "1", "5")], order_discount="6")
    check = check_discount_authority(doc, user_id=REP, role="rep", policy=POLICY)
    assert (check.needs_approval, check.max_discount_pct, check.field) == (
        True,
        D("10.7"),
        "lines[0].discount_pct",
    )


def test_an_order_discount_alone_above_the_limit_is_named() -> None:
    check = check_discount_authority(
        priced([], order_discount="11"), user_id=REP, role="rep", policy=POLICY
    )
    assert (check.needs_approval, check.field) == (True, "order_discount_pct")


def test_a_users_override_replaces_the_roles_limit_both_ways() -> None:
    doc = priced([make_request(PEN.id, "1", "18")])
    assert not check_discount_authority(doc, user_id=STAR, role="rep", policy=POLICY).needs_approval
    strict = DiscountPolicy(role_max={"manager": D("25")}, user_max={REP: D("0")})
    assert check_discount_authority(doc, user_id=REP, role="manager", policy=strict).needs_approval


def test_an_unknown_role_has_no_authority() -> None:
    doc = priced([make_request(PEN.id, "1", "0.01")])
    check = check_discount_authority(doc, user_id=REP, role="intern", policy=POLICY)
    assert (check.needs_approval, check.limit_pct) == (True, D("0"))


def test_an_approval_covers_exactly_the_content_it_saw() -> None:
    lines = [make_request(PEN.id, "2", "15"), make_request(INK.id, "3")]
    doc = priced(lines)
    approval = approval_fingerprint(doc)
    check = check_discount_authority(
        doc, user_id=REP, role="rep", policy=POLICY, approved_fingerprint=approval
    )
    assert (check.needs_approval, check.approved, check.reason) == (False, True, None)
    # the same content in another order and under new line ids is still covered
    reordered = [
        LineRequest(
            id=uuid.uuid4(),
            product_id=r.product_id,
            quantity=r.quantity * 1,
            discount_pct=r.discount_pct,
        )
        for r in reversed(lines)
    ]
    assert approval_fingerprint(priced(reordered)) == approval
    # 2 and 2.00 are the same quantity
    rescaled = [make_request(PEN.id, "2.00", "15.0"), make_request(INK.id, "3")]
    assert approval_fingerprint(priced(rescaled)) == approval


@pytest.mark.parametrize(
    ("lines", "order_discount", "overrides"),
    [
        ([("pen", "3", "15"), ("ink", "3", "0")], "0", {}),  # a quantity changed
        ([("pen", "2", "16"), ("ink", "3", "0")], "0", {}),  # a discount changed
        ([("pen", "2", "15")], "0", {}),  # a line removed
        ([("pen", "2", "15"), ("ink", "3", "0"), ("ink", "1", "0")], "0", {}),  # a line added
        ([("pen", "2", "15"), ("ink", "3", "0")], "1", {}),  # the order discount
        ([("pen", "2", "15"), ("ink", "3", "0")], "0", {"account_id": OTHER_ACCOUNT}),
    ],
)
def test_changing_priced_content_after_approval_asks_again(
    lines: list[tuple[str, str, str]], order_discount: str, overrides: dict[str, object]
) -> None:
    ids = {"pen": PEN.id, "ink": INK.id}
    approved = approval_fingerprint(
        priced([make_request(PEN.id, "2", "15"), make_request(INK.id, "3")])
    )
    changed = priced(
        [make_request(ids[name], qty, disc) for name, qty, disc in lines],
        order_discount,
        **overrides,
    )
    assert approval_fingerprint(changed) != approved
    check = check_discount_authority(
        changed, user_id=REP, role="rep", policy=POLICY, approved_fingerprint=approved
    )
    assert (check.needs_approval, check.reason) == (True, "discount_above_authority")


def test_a_price_change_after_approval_asks_again() -> None:
    lines = [make_request(PEN.id, "2", "15")]
    approved = approval_fingerprint(priced(lines))
    dearer = PriceBook([STANDARD], [make_entry(STANDARD, PEN.id, "10.50")])
    assert approval_fingerprint(priced(lines, book=dearer)) != approved


@pytest.mark.parametrize("limit", ["-1", "100.5", "NaN"])
def test_limits_outside_0_to_100_are_refused(limit: str) -> None:
    with pytest.raises(ValueError):
        DiscountPolicy(role_max={"rep": D(limit)})
    with pytest.raises(ValueError):
        DiscountPolicy(user_max={REP: D(limit)})

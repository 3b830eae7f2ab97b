"""Validators run before a pushed create and what they fill in is stored; create-only fields;
queued writes refused by the database at flush are redone one by one."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from protocol.ids import uuid7
from server.sfa.accounts.models import Account
from server.sfa.quotes.models import Quote
from server.sfa.visits.models import Visit
from tests.builders import make_user
from tests.integration.sfa.core_builders import add_member, make_tree
from tests.integration.sync import toy
from tests.integration.sync.toy import make_folder, make_note
from tests.pricing_tools import priced_product
from tests.synctools import device_for, insert_account

NOON = "2030-05-06T12:00:00Z"


async def line(db, quantity: str, unit_price: str, tax_rate: str = "0") -> dict[str, str]:
    """A line of a product of its own, which the server prices at ``unit_price``."""
    return {
        "id": str(uuid7()),
        "product_id": str(await priced_product(db, unit_price, tax_rate)),
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_pct": "0",
        "tax_rate": tax_rate,
    }


async def row_of(db, table, record_id):
    async with db.transaction() as session:
        statement = sa.select(table).where(table.c.id == uuid.UUID(str(record_id)))
        return (await session.execute(statement)).one()


async def test_a_visit_created_without_rep_id_gets_the_pusher(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    visit_id = uuid7()
    result = await phone.push_one(
        "visit", visit_id, "upsert", {"account_id": str(account_id), "planned_at": NOON}
    )
    assert result["status"] == "applied", result
    row = await row_of(db, Visit.__table__, visit_id)
    assert (row.rep_id, row.status, row.version) == (rep.id, "planned", 1)
    snapshot, _ = await phone.snapshot()
    assert snapshot[("visit", str(visit_id))]["rep_id"] == str(rep.id)


async def test_a_pushed_quote_stores_the_totals_the_server_computes(client, db) -> None:
    rep = await make_user(db, "rep")
    account_id = await insert_account(db, owner_id=rep.id)
    phone = await device_for(client, db, rep)
    quote_id = uuid7()
    lines = [await line(db, "3", "0.335", tax_rate="0.13"), await line(db, "1", "10")]
    created, edited = await phone.push(
        phone.mutation(
            "quote", quote_id, "upsert", {"account_id": str(account_id), "lines": lines}
        ),
        phone.mutation("quote", quote_id, "upsert", {"lines": lines[1:]}, base_version=1),
    )
    assert (created["status"], edited["status"]) == ("applied", "applied")
    snapshot, _ = await phone.snapshot()
    held = snapshot[("quote", str(quote_id))]
    assert (held["total"], held["owner_id"], held["version"]) == ("10.00", str(rep.id), 2)
    row = await row_of(db, Quote.__table__, quote_id)
    assert (row.subtotal, row.tax_total, row.total) == (Decimal("10"), Decimal("0"), Decimal("10"))
    assert row.owner_id == rep.id
    again = await phone.push_one("quote", quote_id, "upsert", {"lines": lines}, base_version=2)
    assert again["status"] == "applied", again
    row = await row_of(db, Quote.__table__, quote_id)
    assert (row.subtotal, row.tax_total, row.total) == (
        Decimal("11.01"),
        Decimal("0.13"),
        Decimal("11.14"),
    )


async def test_a_rep_creates_an_account_in_their_territory_only(client, db) -> None:
    tree = await make_tree(db)
    rep = await make_user(db, "rep")
    await add_member(db, tree["n1a"], rep.id)
    phone = await device_for(client, db, rep)
    mine, foreign, rated, edit = uuid7(), uuid7(), uuid7(), uuid7()
    results = await phone.push(
        phone.mutation(
            "account", mine, "upsert", {"name": "Corner shop", "territory_id": str(tree["n1a"])}
        ),
        phone.mutation(
            "account", foreign, "upsert", {"name": "Far away", "territory_id": str(tree["s1a"])}
        ),
        phone.mutation("account", rated, "upsert", {"name": "Rich", "credit_limit": "5000"}),
        phone.mutation(
            "account", mine, "upsert", {"territory_id": str(tree["n1b"])}, base_version=1
        ),
    )
    assert results[0]["status"] == "applied", results[0]
    assert [(r["error"]["code"], r["error"].get("field")) for r in results[1:]] == [
        ("out_of_scope", None),
        ("server_owned_field", "credit_limit"),
        ("server_owned_field", "territory_id"),  # create-only: never on an edit
    ]
    snapshot, _ = await phone.snapshot()
    held = snapshot[("account", str(mine))]
    assert (held["name"], held["territory_id"]) == ("Corner shop", str(tree["n1a"]))
    async with db.transaction() as session:
        ids = set((await session.execute(sa.select(Account.id))).scalars())
    assert mine in ids and foreign not in ids and rated not in ids and edit not in ids


async def test_a_rep_may_not_create_an_account_owned_by_someone_else(client, db) -> None:
    rep = await make_user(db, "rep")
    other = await make_user(db, "rep")
    phone = await device_for(client, db, rep)
    own, theirs = uuid7(), uuid7()
    results = await phone.push(
        phone.mutation("account", own, "upsert", {"name": "Mine", "owner_id": str(rep.id)}),
        phone.mutation(
            "account", theirs, "upsert", {"name": "Not mine", "owner_id": str(other.id)}
        ),
    )
    assert results[0]["status"] == "applied", results[0]
    assert (results[1]["error"]["code"], results[1]["error"]["field"]) == ("forbidden", "owner_id")
    row = await row_of(db, Account.__table__, own)
    assert row.owner_id == rep.id


async def test_a_write_the_database_refuses_at_flush_rejects_only_its_mutation(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    gone = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    async with toy_db.transaction() as session:  # removed behind the engine's back
        await session.execute(sa.delete(toy.folders).where(toy.folders.c.id == gone))
    orphan = uuid.uuid4()
    results = await rep.push(
        [
            rep.mutation("note", note, base_version=1, title="first"),
            rep.mutation("note", orphan, folder_id=str(gone), title="orphan"),
            rep.mutation("note", note, base_version=1, body="last"),
        ]
    )
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert results[1]["error"]["code"] == "validation_error"
    async with toy_db.transaction() as session:
        row = (await session.execute(sa.select(toy.notes).where(toy.notes.c.id == note))).one()
        orphans = (
            await session.execute(sa.select(sa.func.count()).where(toy.notes.c.id == orphan))
        ).scalar_one()
    assert (row.title, row.body, row.version, orphans) == ("first", "last", 3, 0)
    changes = await rep.pull_all()
    assert [(c["id"], c["version"]) for c in changes if c["entity"] == "note"] == [(str(note), 3)]


async def test_many_edits_of_one_record_in_a_push_store_the_last_version(
    toy_db, writer, make_device
):
    rep = await make_device(keys={"t:north"})
    folder = await make_folder(toy_db, writer, "t:north")
    note = await make_note(toy_db, writer, folder, title="t")
    new = uuid.uuid4()
    results = await rep.push(
        [rep.mutation("note", new, folder_id=str(folder), title="n0")]
        + [rep.mutation("note", note, base_version=1, title=f"v{i}") for i in range(5)]
        + [rep.mutation("note", new, base_version=0, amount="1.25")]
    )
    assert [r["version"] for r in results] == [1, 2, 3, 4, 5, 6, 2]
    async with toy_db.transaction() as session:
        rows = {
            r.id: r
            for r in await session.execute(
                sa.select(toy.notes).where(toy.notes.c.id.in_([note, new]))
            )
        }
    assert (rows[note].title, rows[note].version) == ("v4", 6)
    assert (rows[new].title, rows[new].amount, rows[new].version) == ("n0", Decimal("1.25"), 2)
    changes = {c["id"]: c for c in await rep.pull_all() if c["entity"] == "note"}
    assert changes[str(note)]["record"]["title"] == "v4"
    assert Decimal(changes[str(new)]["record"]["amount"]) == Decimal("1.25")
    assert changes[str(new)]["version"] == 2

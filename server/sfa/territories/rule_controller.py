"""``/territories/{id}/rules``: managers edit the assignment rules of their subtree."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.guards import managers_only
from server.http.concurrency import IfMatch, expected_version
from server.pagination import Page
from server.sfa.territories.rule_schemas import RuleCreate, RulePatch, RuleRecord
from server.sfa.territories.rule_service import TerritoryRuleService
from server.sync.registry import Principal


def provide_rule_service(
    state: State, principal: NamedDependency[Principal]
) -> TerritoryRuleService:
    """The service for one request, wired from the app state."""
    return TerritoryRuleService(state.db, state.writer, principal, state.settings)


class TerritoryRuleController(Controller):
    """Assignment rules: the first matching rule (by priority) places a new or edited account."""

    path = "/territories/{territory_id:uuid}/rules"
    tags = ["territories"]
    guards = [managers_only]
    dependencies = {"service": Provide(provide_rule_service, sync_to_thread=False)}

    @get("/")
    async def list_rules(
        self,
        service: NamedDependency[TerritoryRuleService],
        territory_id: FromPath[uuid.UUID],
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
    ) -> Page[RuleRecord]:
        """A territory's rules, keyset-paginated by id."""
        return await service.list_rules(territory_id, cursor=cursor, limit=limit)

    @get("/{rule_id:uuid}")
    async def get_rule(
        self,
        service: NamedDependency[TerritoryRuleService],
        territory_id: FromPath[uuid.UUID],
        rule_id: FromPath[uuid.UUID],
    ) -> RuleRecord:
        """One rule."""
        return await service.get_rule(territory_id, rule_id)

    @post("/")
    async def create_rule(
        self,
        service: NamedDependency[TerritoryRuleService],
        territory_id: FromPath[uuid.UUID],
        data: JSONBody[RuleCreate],
    ) -> RuleRecord:
        """Add a rule."""
        return await service.create_rule(territory_id, data)

    @patch("/{rule_id:uuid}")
    async def update_rule(
        self,
        service: NamedDependency[TerritoryRuleService],
        territory_id: FromPath[uuid.UUID],
        rule_id: FromPath[uuid.UUID],
        data: JSONBody[RulePatch],
        if_match: IfMatch = None,
    ) -> RuleRecord:
        """Change a rule."""
        return await service.update_rule(
            territory_id, rule_id, data, expected=expected_version(if_match, data.version)
        )

    @delete("/{rule_id:uuid}")
    async def delete_rule(
        self,
        service: NamedDependency[TerritoryRuleService],
        territory_id: FromPath[uuid.UUID],
        rule_id: FromPath[uuid.UUID],
        if_match: IfMatch = None,
    ) -> None:
        """Remove a rule."""
        await service.delete_rule(territory_id, rule_id, expected=expected_version(if_match))

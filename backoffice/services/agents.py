"""Staff actions on agents: each checks the actor's permission, then calls the core service in vending."""

from decimal import Decimal

from django.contrib.auth.models import User

from backoffice.permissions import ISSUE_API_KEY, SET_CREDIT_LIMIT, SUSPEND_AGENT, TOPUP_FLOAT, require, require_reason
from vending.models import Agent, AgentTerminal, ApiKey, FloatEntry
from vending.services import agents as core


def float_topup(*, actor: User | None, agent: Agent, amount: Decimal, reference: str) -> FloatEntry:
    """Finance records money the agent paid in; the balance is the sum of the ledger."""
    require(actor, TOPUP_FLOAT)
    return core.float_topup(agent=agent, amount=amount, reference=require_reason(reference), actor=actor)


def credit_limit_set(*, actor: User | None, agent: Agent, credit_limit: Decimal, reason: str) -> Agent:
    require(actor, SET_CREDIT_LIMIT)
    return core.agent_set_credit_limit(
        agent=agent, credit_limit=credit_limit, actor=actor, reason=require_reason(reason)
    )


def agent_suspend(*, actor: User | None, agent: Agent, reason: str, suspend: bool = True) -> Agent:
    require(actor, SUSPEND_AGENT)
    status = Agent.Status.SUSPENDED if suspend else Agent.Status.ACTIVE
    return core.agent_set_status(agent=agent, status=status, actor=actor, reason=require_reason(reason))


def api_key_issue(*, actor: User | None, terminal: AgentTerminal, scopes: list[str]) -> core.IssuedKey:
    """A new key for the terminal; its plaintext is for the page that shows it once."""
    require(actor, ISSUE_API_KEY)
    return core.api_key_create(terminal=terminal, scopes=scopes, actor=actor)


def api_key_revoke(*, actor: User | None, api_key: ApiKey) -> ApiKey:
    require(actor, ISSUE_API_KEY)
    return core.api_key_revoke(api_key=api_key, actor=actor)

"""The logistics rules R10–R12 (PRODUCT.md §3) as pure functions over a Registry and an order.

Each check returns a list of `Problem`s (empty when the rule passes); `refusal(problems)` turns them
into the `Refused` error the caller raises. Every problem names its rule code, the line it is about
(if any) and the agreement article it rests on, taken from the agreement's `articles` or, when the
record has none, "the agreement's scope" / "the agreement's settlement terms".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from accord.errors import Refused
from accord.logistics import money
from accord.logistics.model import Line, OrderState
from accord.registry import lifecycle
from accord.registry.model import Agreement, AgreementKind, Registry

LOGISTICS_AGREEMENT = "LOGISTICS_AGREEMENT"  # R10
LOGISTICS_SCOPE = "LOGISTICS_SCOPE"  # R11
SETTLEMENT = "SETTLEMENT"  # R12
WORKFLOW = "WORKFLOW"  # the order's state machine: a step not allowed in its current state

RULE_NUMBERS = {LOGISTICS_AGREEMENT: "R10", LOGISTICS_SCOPE: "R11", SETTLEMENT: "R12"}

# Default settlement periods (R12; domain.md §3.4): cash 30 days after the invoice,
# replacement-in-kind and equal-value exchange one year after delivery.
DEFAULT_PERIODS = {"cash": "30d", "replacement-in-kind": "1y", "equal-value-exchange": "1y"}
ANCHORS = {"cash": "invoice", "replacement-in-kind": "delivery", "equal-value-exchange": "delivery"}


@dataclass(frozen=True)
class Problem:
    """One reason a rule refuses: the rule code, the words, the line number and the article."""

    rule: str
    message: str
    line: int | None = None
    article: str | None = None

    def text(self) -> str:
        num = RULE_NUMBERS.get(self.rule)
        head = f"{num} {self.rule}" if num else self.rule
        where = f" [{self.article}]" if self.article else ""
        return f"{head}: {self.message}{where}"

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "message": self.message,
            "line": self.line,
            "article": self.article,
        }


class OrderRefused(Refused):
    """A refusal by R10–R12 or by the workflow; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        rules = list(dict.fromkeys(p.rule for p in self.problems))
        super().__init__("; ".join(p.text() for p in self.problems), rules)
        if set(rules) == {WORKFLOW}:
            # The order's state does not allow the step (deliver a rejected order, …): a
            # conflict with the stored order (RFC 9110 §15.5.10), not a rule of the agreements.
            self.http_status = 409
            self.title = "Conflict"


def refusal(problems: Sequence[Problem]) -> OrderRefused:
    """Returns the error to raise for a non-empty list of problems."""
    return OrderRefused(problems)


def article(agreement: Agreement, topic: str) -> str:
    """Returns where the agreement says it: "<id> <article>" or the generic fallback."""
    text = agreement.articles.get(topic)
    if text is None and topic == "ammunition":
        text = agreement.articles.get("scope")
    if text is None:
        fallback = "settlement terms" if topic == "settlement" else "scope"
        return f"{agreement.id}: the agreement's {fallback}"
    return f"{agreement.id} {text}"


def _is_logistics(ag: Agreement) -> bool:
    return ag.kind is AgreementKind.LOGISTICS_SUPPORT


def candidates(registry: Registry, a: str, b: str, on: date) -> list[Agreement]:
    """Returns the logistics-support agreements binding both parties and in force on `on`, the
    most recent entry into force first (ties by id): the deterministic order of preference."""
    found = [
        ag
        for ag in registry.agreements
        if _is_logistics(ag) and ag.binds(a) and ag.binds(b) and lifecycle.in_force(ag, on)
    ]
    found.sort(key=lambda ag: ag.id)
    found.sort(key=lambda ag: lifecycle.force_date(ag) or date.min, reverse=True)
    return found


def agreement_problems(
    registry: Registry, requester: str, supplier: str, on: date, agreement_id: str
) -> list[Problem]:
    """R10: the named agreement must be a logistics-support agreement binding both parties and in
    force on the order date."""
    ag = next((x for x in registry.agreements if x.id == agreement_id), None)
    pair = f"{requester} and {supplier}"
    if ag is None:
        return [Problem(LOGISTICS_AGREEMENT, f"{agreement_id!r} is not a known agreement")]
    where = article(ag, "scope")
    if not _is_logistics(ag):
        return [
            Problem(
                LOGISTICS_AGREEMENT,
                f"{ag.id} is an {ag.kind.value} agreement, not a logistics-support agreement",
                article=where,
            )
        ]
    if not (ag.binds(requester) and ag.binds(supplier)):
        return [Problem(LOGISTICS_AGREEMENT, f"{ag.id} does not bind {pair}", article=where)]
    if not lifecycle.in_force(ag, on):
        st = lifecycle.status(ag, on).value
        return [
            Problem(
                LOGISTICS_AGREEMENT,
                f"{ag.id} is not in force on {on.isoformat()} (status: {st})",
                article=where,
            )
        ]
    return []


def scope_problems(ag: Agreement, purpose: str, lines: Sequence[Line]) -> list[Problem]:
    """R11: the purpose and every line's category must be covered; weapons never are; ammunition
    only where the agreement allows it for this purpose. An agreement that lists no categories
    covers every category except weapons and ammunition."""
    out: list[Problem] = []
    scope = ag.scope
    if not scope.covers_purpose(purpose):
        covered = "all" if scope.purposes == "all" else ", ".join(scope.purposes)
        out.append(
            Problem(
                LOGISTICS_SCOPE,
                f"the purpose {purpose!r} is not covered by {ag.id} (purposes: {covered})",
                article=article(ag, "scope"),
            )
        )
    for ln in lines:
        cat = ln.category
        if cat == "weapons":
            out.append(
                Problem(
                    LOGISTICS_SCOPE,
                    f"line {ln.no} (weapons): weapons are never provided under a logistics "
                    "agreement",
                    line=ln.no,
                    article=article(ag, "scope"),
                )
            )
        elif cat == "ammunition":
            ammo = scope.ammunition
            listed = not scope.categories or "ammunition" in scope.categories
            if not (ammo.allowed and listed):
                why = f"ammunition is not allowed under {ag.id}"
            elif ammo.purposes != "all" and purpose not in ammo.purposes:
                why = (
                    f"ammunition is allowed under {ag.id} only for {', '.join(ammo.purposes)}, "
                    f"not for {purpose}"
                )
            else:
                continue
            out.append(
                Problem(
                    LOGISTICS_SCOPE,
                    f"line {ln.no} (ammunition): {why}",
                    line=ln.no,
                    article=article(ag, "ammunition"),
                )
            )
        elif scope.categories and cat not in scope.categories:
            out.append(
                Problem(
                    LOGISTICS_SCOPE,
                    f"line {ln.no} ({cat}): the category {cat!r} is not covered by {ag.id}",
                    line=ln.no,
                    article=article(ag, "scope"),
                )
            )
    return out


def choose_agreement(
    registry: Registry,
    requester: str,
    supplier: str,
    on: date,
    purpose: str,
    lines: Sequence[Line],
    agreement_id: str | None = None,
) -> tuple[Agreement | None, list[Problem]]:
    """R10 then R11: returns the agreement the order is raised under and the problems found.

    With `agreement_id` that agreement is checked. Without it, among the logistics agreements in
    force between the parties on `on` (most recent entry into force first) the first one that
    covers the order is taken; when none covers it, the most recent one, with its R11 problems."""
    if agreement_id is not None:
        problems = agreement_problems(registry, requester, supplier, on, agreement_id)
        if problems:
            return None, problems
        ag = next(x for x in registry.agreements if x.id == agreement_id)
        return ag, scope_problems(ag, purpose, lines)
    found = candidates(registry, requester, supplier, on)
    if not found:
        return None, [
            Problem(
                LOGISTICS_AGREEMENT,
                f"no logistics-support agreement is in force between {requester} and "
                f"{supplier} on {on.isoformat()}",
            )
        ]
    for ag in found:
        if not scope_problems(ag, purpose, lines):
            return ag, []
    return found[0], scope_problems(found[0], purpose, lines)


def settlement_terms(ag: Agreement | None, method: str) -> tuple[str, str]:
    """R12: returns (anchor, period) for the method: the deadline runs `period` from the invoice
    (cash) or the delivery (in kind, exchange); the agreement's `settlement_days` overrides the
    default period."""
    days = ag.settlement_days.get(method) if ag is not None else None
    period = f"{days}d" if days is not None and days > 0 else DEFAULT_PERIODS[method]
    return ANCHORS[method], period


def close_problems(state: OrderState, ag: Agreement | None) -> list[Problem]:
    """R12: an order closes only with a receipt, its documents (order, receipt, invoice,
    settlement) and full settlement in every currency (domain.md §3.6, the AGATRS findings)."""
    where = article(ag, "settlement") if ag is not None else None
    out: list[Problem] = []
    if state.delivered_on is None or state.signed_by is None:
        out.append(Problem(SETTLEMENT, "no signed receipt is recorded", article=where))
    if state.invoiced is None:
        out.append(Problem(SETTLEMENT, "no invoice is recorded", article=where))
    missing = [
        k for k in ("order", "receipt", "invoice", "settlement") if k not in state.document_kinds()
    ]
    if missing:
        out.append(
            Problem(
                SETTLEMENT,
                f"source documents missing: {', '.join(missing)} (attach them first)",
                article=where,
            )
        )
    for cur, amount in state.open.items():
        if amount != 0:
            text = money.money_text(amount, cur)
            out.append(
                Problem(SETTLEMENT, f"{text} is still open (not fully settled)", article=where)
            )
    return out

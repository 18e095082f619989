"""Presentation of cost estimates: text table, Markdown, base-vs-head deltas (the advice on
top of them, savings suggestions and the budget gate, is computed in compiler.plan.advice).

Every amount shown is rounded to cents with ROUND_HALF_UP (`compiler.cost.money`); deltas are
computed on the rounded amounts, so a PR comment never shows a "+$0.00" change. Output is
deterministic: environments and items are sorted, no timestamps.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from compiler.plan.cost import KIND_ORDER, CostEstimate, CostItem, money

NONE = "–"


# ---------------------------------------------------------------------------- single estimate


def _usd(amount: Decimal) -> str:
    return f"${amount:,}"


def _signed(amount: Decimal) -> str:
    if amount == 0:
        return "$0.00"
    return f"+${amount:,}" if amount > 0 else f"-${-amount:,}"


def render_table(estimate: CostEstimate) -> str:
    """An aligned plain-text table, one line per item, then the total."""
    header = ("COMPONENT", "KIND", "TYPE", "MONTHLY USD", "DETAIL")
    rows = [(i.component, i.kind, i.type, f"{i.rounded:,}", i.detail) for i in estimate.items]
    total = ("TOTAL", "", "", f"{money(estimate.total_usd):,}", "")
    widths = [max(len(r[k]) for r in [header, *rows, total]) for k in range(4)]

    def line(r: tuple[str, ...]) -> str:
        return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]), r[3].rjust(widths[3]), r[4]]).rstrip()

    rule = "-" * (sum(widths) + 6)
    notes = [f"note: {n}" for n in estimate.notes]
    return "\n".join([line(header), *(line(r) for r in rows), rule, line(total), *notes]) + "\n"


def _cell(text: str) -> str:
    """A spec-derived string in a Markdown table cell (compiler.output.markdown.text)."""
    from compiler.output.markdown import text as md_text

    return md_text(text)


def render_markdown(estimate: CostEstimate) -> str:
    """A Markdown table of the items and the total."""
    out = ["| Component | Kind | Type | Monthly | Detail |", "|---|---|---|---:|---|"]
    for i in estimate.items:
        out.append(f"| {_cell(i.component)} | {_cell(i.kind)} | {_cell(i.type)} | {_usd(i.rounded)} | {_cell(i.detail)} |")
    out.append(f"| **Total** | | | **{_usd(money(estimate.total_usd))}** | |")
    if estimate.notes:
        out += ["", *(f"_Note: {_cell(n)}_" for n in estimate.notes)]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- deltas


def _key(item: CostItem) -> tuple[int, str]:
    return (KIND_ORDER[item.kind], item.component)


def _status(base: Decimal | None, head: Decimal | None, same_type: bool = True) -> str:
    if base is None:
        return "added"
    if head is None:
        return "removed"
    return "unchanged" if base == head and same_type else "changed"


def _amount(d: Decimal | None) -> float | None:
    return None if d is None else float(d)


def _env_delta(name: str, base: CostEstimate | None, head: CostEstimate | None) -> dict[str, Any]:
    b_items = {_key(i): i for i in base.items} if base else {}
    h_items = {_key(i): i for i in head.items} if head else {}
    components = []
    for key in sorted(set(b_items) | set(h_items)):
        b, h = b_items.get(key), h_items.get(key)
        bu, hu = (b.rounded if b else None), (h.rounded if h else None)
        item = h or b
        assert item is not None
        components.append(
            {
                "component": item.component,
                "kind": item.kind,
                "type": item.type,
                "base_type": b.type if b else None,
                "status": _status(bu, hu, b is None or h is None or b.type == h.type),
                "base_usd": _amount(bu),
                "head_usd": _amount(hu),
                "delta_usd": float((hu or 0) - (bu or 0)),
            }
        )
    bt = money(base.total_usd) if base else None
    ht = money(head.total_usd) if head else None
    changed = any(c["status"] != "unchanged" for c in components)
    status = _status(bt, ht) if (bt is None or ht is None) else ("changed" if changed or bt != ht else "unchanged")
    return {
        "name": name,
        "status": status,
        "base_usd": _amount(bt),
        "head_usd": _amount(ht),
        "delta_usd": float((ht or 0) - (bt or 0)),
        "components": components,
    }


def delta_dict(base: dict[str, CostEstimate | None], head: dict[str, CostEstimate | None]) -> dict[str, Any]:
    """Base-vs-head cost per environment and component, as plain JSON data (amounts in USD, cents)."""
    envs = [_env_delta(n, base.get(n), head.get(n)) for n in sorted(set(base) | set(head)) if base.get(n) or head.get(n)]
    bt = sum((Decimal(str(e["base_usd"])) for e in envs if e["base_usd"] is not None), Decimal("0.00"))
    ht = sum((Decimal(str(e["head_usd"])) for e in envs if e["head_usd"] is not None), Decimal("0.00"))
    return {"currency": "USD", "total": {"base_usd": float(bt), "head_usd": float(ht), "delta_usd": float(ht - bt)}, "environments": envs}


def _dec(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(str(x)).quantize(Decimal("0.01"))


def _change(base: Decimal | None, head: Decimal | None) -> str:
    delta = (head or Decimal("0.00")) - (base or Decimal("0.00"))
    text = _signed(delta)
    if base and head is not None and delta:
        pct = (100 * delta / base).quantize(Decimal("0.1"), ROUND_HALF_UP)
        text += f" ({'+' if pct > 0 else ''}{pct}%)"
    return text


def _money_or_none(x: Decimal | None) -> str:
    return NONE if x is None else _usd(x)


def render_delta_markdown(base: dict[str, CostEstimate | None], head: dict[str, CostEstimate | None]) -> str:
    """A PR comment: the total change, a line per environment, and the changed items of each."""
    data = delta_dict(base, head)
    bt, ht = _dec(data["total"]["base_usd"]), _dec(data["total"]["head_usd"])
    assert bt is not None and ht is not None
    delta = ht - bt
    verb = "increase" if delta > 0 else "decrease" if delta < 0 else "not change"
    summary = f"Monthly cost will {verb}" + (f" by **{_usd(abs(delta))}**" if delta else "") + f" ({_usd(bt)} → {_usd(ht)})."
    out = ["### mlc cost estimate", "", summary, "", "| Environment | Base | Head | Change |", "|---|---:|---:|---:|"]
    for e in data["environments"]:
        label = _cell(e["name"]) + (f" ({e['status']})" if e["status"] in ("added", "removed") else "")
        out.append(
            f"| {label} | {_money_or_none(_dec(e['base_usd']))} | {_money_or_none(_dec(e['head_usd']))} | "
            f"{_change(_dec(e['base_usd']), _dec(e['head_usd']))} |"
        )
    for e in data["environments"]:
        changed = [c for c in e["components"] if c["status"] != "unchanged"]
        if not changed:
            continue
        out += ["", f"#### {_cell(e['name'])}", "", "| Item | Kind | Type | Base | Head | Change |", "|---|---|---|---:|---:|---:|"]
        for c in changed:
            label = _cell(c["component"]) + (f" ({c['status']})" if c["status"] in ("added", "removed") else "")
            typ = _cell(c["type"]) if c["base_type"] in (None, c["type"]) else f"{_cell(c['base_type'])} → {_cell(c['type'])}"
            out.append(
                f"| {label} | {_cell(c['kind'])} | {typ} | "
                f"{_money_or_none(_dec(c['base_usd']))} | {_money_or_none(_dec(c['head_usd']))} | "
                f"{_change(_dec(c['base_usd']), _dec(c['head_usd']))} |"
            )
        unchanged = len(e["components"]) - len(changed)
        if unchanged:
            out += ["", f"_{unchanged} unchanged item{'s' if unchanged != 1 else ''} not shown._"]
    return "\n".join(out) + "\n"


def render_delta_table(base: dict[str, CostEstimate | None], head: dict[str, CostEstimate | None]) -> str:
    """Plain text: a line per environment (base, head, change), then the changed items of each."""
    data = delta_dict(base, head)
    header = ("ITEM", "KIND", "TYPE", "BASE USD", "HEAD USD", "CHANGE")
    rows: list[tuple[str, ...]] = []
    for e in data["environments"]:
        label = e["name"] + (f" ({e['status']})" if e["status"] in ("added", "removed") else "")
        rows.append(
            (
                label,
                "environment",
                "",
                _plain(_dec(e["base_usd"])),
                _plain(_dec(e["head_usd"])),
                _change(_dec(e["base_usd"]), _dec(e["head_usd"])),
            )
        )
        for c in e["components"]:
            if c["status"] == "unchanged":
                continue
            typ = c["type"] if c["base_type"] in (None, c["type"]) else f"{c['base_type']} -> {c['type']}"
            label = "  " + c["component"] + (f" ({c['status']})" if c["status"] in ("added", "removed") else "")
            rows.append(
                (
                    label,
                    c["kind"],
                    typ,
                    _plain(_dec(c["base_usd"])),
                    _plain(_dec(c["head_usd"])),
                    _change(_dec(c["base_usd"]), _dec(c["head_usd"])),
                )
            )
    bt, ht = _dec(data["total"]["base_usd"]), _dec(data["total"]["head_usd"])
    total = ("TOTAL", "", "", _plain(bt), _plain(ht), _change(bt, ht))
    widths = [max(len(r[k]) for r in [header, *rows, total]) for k in range(6)]

    def line(r: tuple[str, ...]) -> str:
        cells = [r[k].ljust(widths[k]) if k < 3 else r[k].rjust(widths[k]) for k in range(6)]
        return "  ".join(cells).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows), "-" * (sum(widths) + 10), line(total)]) + "\n"


def _plain(x: Decimal | None) -> str:
    return NONE if x is None else f"{x:,}"


def increase_over_limit(env: str, base_usd: Decimal | None, head_usd: Decimal | None, limit: float | None) -> str | None:
    """The cost gate of a pull request: a message when the monthly increase of `env` exceeds
    `limit` (budget.max_increase_usd or --max-increase-usd), else None. Amounts are the
    rounded totals `mlc cost` shows; a new environment counts its whole estimate."""
    if limit is None or head_usd is None:
        return None
    delta = head_usd - (base_usd or Decimal("0.00"))
    cap = money(limit)
    if delta <= cap:
        return None
    return f"{env}: monthly cost increases by ${delta:,} ({_money_or_none(base_usd)} → ${head_usd:,}), above the allowed ${cap:,}"

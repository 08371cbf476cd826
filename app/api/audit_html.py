"""The audit as one self-contained HTML page: inline CSS, inline bars, no scripts, no external assets."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2433;padding:0 1rem}h1{margin:0 0 .2rem}h2{margin-top:2rem;border-bottom:1px solid #dde3ee}
.muted{color:#6b7385}.tiles{display:flex;gap:1rem;flex-wrap:wrap}.tile{flex:1 1 200px;border-radius:10px;
padding:1rem;background:#f5f7fb;border-left:6px solid #999}.tile.pass{border-color:#2e9e5b}.tile.fail{border-color:#d64545}
.tile .v{font-size:2rem;font-weight:700}table{border-collapse:collapse;width:100%}td,th{text-align:left;
padding:.35rem .5rem;border-bottom:1px solid #eef1f6;vertical-align:top}.bar{height:12px;border-radius:6px;
background:#e6eaf2;position:relative;min-width:160px}.bar>span{position:absolute;left:0;top:0;bottom:0;
border-radius:6px}.ok{background:#2e9e5b}.low{background:#e0a030}.bad{background:#d64545}
.sev-error{color:#d64545;font-weight:600}.sev-warning{color:#b7791f}.sev-info{color:#6b7385}code{font-size:12px}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _tile(name: str, kpi: dict[str, Any], lower_is_better: bool = False) -> str:
    """A KPI against its target; with nothing measured (no records) neither met nor missed."""
    state, verdict = {True: ("pass", "met"), False: ("fail", "missed"), None: ("", "nothing measured")}[kpi["pass"]]
    sign = "&lt;" if lower_is_better else "&gt;"  # as summary._kpi judges it (DESIGN: "> 0.95", "< 0.02")
    return (f'<div class="tile {state}"><div class="muted">{escape(name)}</div><div class="v">{_pct(kpi["value"])}'
            f'</div><div>target {sign} {_pct(kpi["target"])} · {verdict}</div></div>')


def _records_tile(complete: dict[str, Any] | None) -> str:
    """Beside the completeness KPI (required fields filled): the share of records with every one filled."""
    if not complete:
        return ""
    overall = complete["overall"]
    per_list = " · ".join(f"{escape(t)} {_pct(s['ratio'])}" for t, s in complete.items()
                          if t != "overall" and s["records"])
    return (f'<div class="tile"><div class="muted">Records with all required fields</div><div class="v">'
            f'{_pct(overall["ratio"])}</div><div>{overall["complete"]} of {overall["records"]} records'
            f'{" · " + per_list if per_list else ""}</div></div>')


SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
CROSS_ROWS = 200


def _bar(percent: float, target: float) -> str:
    css = "ok" if percent > target else ("low" if percent >= target - 20 else "bad")
    return f'<div class="bar"><span class="{css}" style="width:{max(0.0, min(100.0, percent)):.1f}%"></span></div>'


def _recent(recent: dict[str, Any] | None) -> str:
    """Seed 002's morning report: records added and updated in the last `[impact] recent_hours`, per list."""
    if not recent:
        return ""
    cells = [(t, n) for t, n in recent.items() if isinstance(n, dict)]
    return (f"<h2>Records added / updated in the last {recent['hours']} hours</h2><table><tr><th></th>"
            + "".join(f"<th>{escape(t)}</th>" for t, _ in cells) + "</tr><tr><td>added</td>"
            + "".join(f"<td>{n['created']}</td>" for _, n in cells) + "</tr><tr><td>updated</td>"
            + "".join(f"<td>{n['updated']}</td>" for _, n in cells) + "</tr></table>")


STANDARD_ROWS = 100


def _standardization(found: dict[str, Any] | None) -> str:
    """Seed 002's variations that need standardisation: 'Tech' ×2 → Technology, per field (the JSON audit's
    `summary.standardization` holds the update to apply for each)."""
    rows = [(f, u) for f in (found or {}).get("fields", []) for u in f["updates"]]
    parts = [f"</table><h2>Standardisation: {(found or {}).get('variants', 0)} written variant(s)</h2>"
             "<table><tr><th>record type</th><th>field</th><th>variant → standard form</th>"
             "<th>records</th></tr>"]
    for f, u in rows[:STANDARD_ROWS]:
        ids = ", ".join(str(i) for i in u["ids"]) + ("" if u["ids_complete"] else ", …")
        parts.append(f"<tr><td>{escape(f['record_type'])}</td><td>{escape(f['field'])}</td>"
                     f"<td>{escape(repr(u['from']))} ×{u['records']} → {escape(u['to'])}</td>"
                     f"<td><code>{escape(ids)}</code></td></tr>")
    if not rows:
        parts.append("<tr><td colspan=4 class=muted>every value is written in its standard form</td></tr>")
    elif len(rows) > STANDARD_ROWS:
        parts.append(f"<tr><td colspan=4 class=muted>… and {len(rows) - STANDARD_ROWS:,} more "
                     f"(the JSON audit lists them)</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def render_audit(audit: dict[str, Any], rules_version: str) -> str:
    """The HTML data health report."""
    summary = audit["summary"]
    kpis = summary["kpis"]
    target = 100 * kpis["completeness"]["target"]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>crm-dq data health audit</title>"
             f"<style>{STYLE}</style></head><body><h1>CRM data health audit</h1>"
             f"<div class=muted>rules {escape(rules_version)} · "
             + " · ".join(f"{n} {escape(t)}" for t, n in summary["totals"].items()) + "</div>",
             _recent(summary.get("recent_activity")),
             '<h2>KPIs against targets</h2><div class="tiles">',
             _tile("Completeness", kpis["completeness"]), _tile("Accuracy", kpis["accuracy"]),
             _tile("Duplicate rate", kpis["duplicate_rate"], lower_is_better=True),
             _records_tile(summary.get("records_complete")), "</div>",
             "<h2>Completeness of critical fields</h2><table><tr><th>record type</th><th>field</th><th>filled</th>"
             "<th></th></tr>"]
    for record_type, fields in summary["completeness_by_field"].items():
        for field, percent in sorted(fields.items(), key=lambda f: f[1]):
            parts.append(f"<tr><td>{escape(record_type)}</td><td>{escape(field)}</td><td>{percent:.1f}%</td>"
                         f"<td>{_bar(percent, target)}</td></tr>")
    parts.append("</table><h2>Cleanup tasks, by business impact</h2><table><tr><th>#</th><th>task</th>"
                 "<th>findings</th><th>impact</th></tr>")
    for n, task in enumerate(audit["cleanup_tasks"], 1):
        parts.append(f"<tr><td>{n}</td><td>{escape(task['task'])}</td><td>{task['findings']}</td>"
                     f"<td>{task['impact']:.1f}</td></tr>")
    parts.append("</table><h2>Top findings</h2><table><tr><th>impact</th><th>record</th><th>rule</th>"
                 "<th>message</th></tr>")
    for f in summary["top_findings"]:
        parts.append(f"<tr><td>{f['impact']:.1f}</td><td>{escape(f['record_type'])} "
                     f"<code>{escape(str(f['record_id']))}</code></td><td class='sev-{escape(f['severity'])}'>"
                     f"<code>{escape(f['rule'])}</code></td><td>{escape(f['message'])}</td></tr>")
    parts.append(_standardization(summary.get("standardization")))
    parts.append("<h2>Issues by rule</h2><table><tr><th>rule</th><th>count</th></tr>")
    for rule_id, count in list(summary["issues_by_rule"].items())[:40]:
        parts.append(f"<tr><td><code>{escape(rule_id)}</code></td><td>{count}</td></tr>")
    parts.append("</table><h2>Duplicate clusters</h2><table><tr><th>type</th><th>cluster</th><th>survivor</th></tr>")
    for record_type, result in audit["duplicates"].items():
        survivors = result.get("survivors") or [None] * len(result["clusters"])
        for cluster, survivor in list(zip(result["clusters"], survivors, strict=True))[:100]:
            survivor = survivor or cluster[0]
            parts.append(f"<tr><td>{escape(record_type)}</td><td><code>{escape(', '.join(cluster))}</code></td>"
                         f"<td><code>{escape(str(survivor))}</code></td></tr>")
    parts.append("</table><h2>Cross-record findings</h2><table><tr><th>record</th><th>rule</th><th>message</th></tr>")
    cross = sorted(audit["cross_record"], key=lambda f: SEVERITY_RANK.get(f["severity"], 3))  # stable
    for f in cross[:CROSS_ROWS]:
        parts.append(f"<tr><td>{escape(f['record_type'])} <code>{escape(str(f['record_id']))}</code></td>"
                     f"<td class='sev-{escape(f['severity'])}'><code>{escape(f['rule'])}</code></td>"
                     f"<td>{escape(f['message'])}</td></tr>")
    if len(cross) > CROSS_ROWS:
        parts.append(f"<tr><td colspan=3 class=muted>… and {len(cross) - CROSS_ROWS:,} more "
                     f"(the JSON audit lists them all)</td></tr>")
    parts.append(f"</table><p class=muted>Impact = {escape(summary['impact_formula'])}.</p></body></html>")
    return "".join(parts)

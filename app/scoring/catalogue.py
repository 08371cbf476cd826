"""Renders the rule catalogue (docs/RULES.md) from the registry, so the documentation cannot drift."""

from __future__ import annotations

from app.scoring.registry import RULES


def render_catalogue() -> str:
    """Markdown table of every registered rule, grouped by record type."""
    import app.scoring.rules  # noqa: F401

    lines = ["# Rule catalogue", "", "Generated from the registry by `make docs`; "
             "`tests/scoring/test_catalogue.py` fails when it is stale.", "",
             "Seeds: 000 system updates process, 001 weekly operations, 002 operations playbook, "
             "003 CRM procedures, 004 implementation roadmap.", ""]
    for record_type in ("account", "contact", "opportunity", "lead"):
        lines += [f"## {record_type}", "", "| id | severity | category | fields | seed | what it checks |",
                  "|---|---|---|---|---|---|"]
        for rule in (r for r in RULES.values() if r.record_type == record_type):
            fields = ", ".join(rule.fields)
            covered = ", ".join(f"`{c}`" for c in rule.covers)
            about = (f"its finding (about {', '.join(rule.gap_fields)})" if rule.gap_fields
                     else "its finding on a field")
            covers = (f" {about[0].upper()}{about[1:]} covers the same field's {covered} (counted under it, "
                      "penalised once).") if rule.covers else ""
            lines.append(f"| `{rule.id}` | {rule.severity} | {rule.category} | {fields} | {rule.seed} | "
                         f"{rule.description}{covers} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_catalogue(), end="")

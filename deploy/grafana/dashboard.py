"""The crm-dq Grafana dashboard as code (grafana-foundation-sdk, Grafana's own builder library).

    .venv/bin/python deploy/grafana/dashboard.py > deploy/grafana/dashboards/crm-dq.json   # or: make dashboard

KPI stat thresholds come from the rules file's `[kpi]` table: the defaults (app/scoring/defaults.toml), or the
organisation's file `CRM_DQ_RULES_FILE` names, as the service reads it (`CRM_DQ_RULES_FILE=org.toml make
dashboard`: the stats were coloured at the default 95% and 98% whatever the organisation's targets). The time
series draw the targets the service exports (`crm_dq_kpi_target`) whatever the dashboard was built with.
A test checks that the committed JSON is this script's output.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, common, stat, timeseries
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.scoring import load_rules  # noqa: E402

UID = "crm-dq-kpis"
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
T = 'record_type=~"$record_type"'
MATCHABLE = 'record_type=~"account|contact|lead"'
# Routes the response-time KPI covers: everything but the bulk operations (batch, audit, duplicates, bulk index).
INTERACTIVE = 'route=~"/v1/.+",route!~"/v1/(batch|audit|duplicates)|/v1/index/.+/bulk"'


def ratio(num: str, den: str, window: str, den_selector: str = T) -> str:
    """sum of increases over `window` of one counter divided by another's."""
    return (f"sum(increase({num}{{{T}}}[{window}])) / "
            f"sum(increase({den}{{{den_selector}}}[{window}]))")


def completeness(window: str) -> str:
    return ratio("crm_dq_required_fields_filled_total", "crm_dq_required_fields_total", window)


def accuracy(window: str) -> str:
    return ratio("crm_dq_fields_valid_total", "crm_dq_fields_checked_total", window)


def duplicate_rate(window: str) -> str:
    return ratio("crm_dq_duplicate_records_total", "crm_dq_records_scored_total", window, f"{T}, {MATCHABLE}")


def latency(q: float, window: str) -> str:
    return (f"histogram_quantile({q}, sum by (le) "
            f"(rate(crm_dq_http_request_duration_seconds_bucket{{{INTERACTIVE}}}[{window}])))")


def target(kpi: str) -> str:
    return f'max(crm_dq_kpi_target{{kpi="{kpi}"}})'


def query(expr: str, legend: str = "", ref: str = "A", instant: bool = False,
          fmt: PromQueryFormat | None = None) -> prom.Dataquery:
    q = prom.Dataquery().expr(expr).ref_id(ref).datasource(DS)
    if legend:
        q = q.legend_format(legend)
    if fmt is not None:
        q = q.format(fmt)
    return q.instant() if instant else q.range()


def above(target: float) -> float:
    """The least value above `target`: a Grafana step colours values at or above it, and the completeness and
    accuracy targets are met above them (DESIGN: completeness > 0.95), as the alerts and a batch's kpis judge."""
    return math.nextafter(target, math.inf)


def steps(*pairs: tuple[float | None, str]) -> db.ThresholdsConfig:
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=v, color=c) for v, c in pairs])


def kpi_stat(title: str, expr: str, unit: str, thresholds: db.ThresholdsConfig, description: str) -> stat.Panel:
    return (stat.Panel().title(title).description(description).datasource(DS).unit(unit).decimals(2)
            .with_target(query(expr, instant=True)).thresholds(thresholds)
            .color_mode(cm.BigValueColorMode.BACKGROUND).graph_mode(cm.BigValueGraphMode.NONE)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))
            .height(5).span(4))


def series(title: str, width: int = 12) -> timeseries.Panel:
    """A time series panel with its legend below and a tooltip listing every series."""
    return (timeseries.Panel().title(title).datasource(DS).height(8).span(width).line_width(1).fill_opacity(10)
            .legend(common.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                    .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
            .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)))


def kpi_series(title: str, expr: str, kpi: str, unit: str) -> timeseries.Panel:
    return (series(f"{title} vs target", width=8).unit(unit)
            .with_target(query(expr, legend=kpi, ref="A"))
            .with_target(query(target(kpi), legend="target", ref="B"))
            .override_by_name("target", [dm.DynamicConfigValue(id_val="custom.lineStyle",
                                                               value={"fill": "dash", "dash": [10, 10]}),
                                         dm.DynamicConfigValue(id_val="color",
                                                               value={"mode": "fixed", "fixedColor": "red"})]))


def distribution(title: str, family: str) -> bargauge.Panel:
    expr = f"sum by (le) (increase({family}_bucket{{{T}}}[$__range]))"
    return (bargauge.Panel().title(title).datasource(DS).height(8).span(12)
            .description("Records per score band over the dashboard's time range.")
            .with_target(query(expr, legend="{{le}}", instant=True, fmt=PromQueryFormat.HEATMAP))
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT).orientation(cm.VizOrientation.VERTICAL)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"])))


def build() -> db.Dashboard:
    """The dashboard: KPI stats against their targets, KPI series with target lines, issues, scores, HTTP."""
    kpi = load_rules(os.environ.get("CRM_DQ_RULES_FILE") or None).file.kpi
    rate = "$__rate_interval"
    return (
        db.Dashboard("crm-dq: CRM data quality").uid(UID).tags(["crm-dq", "data-quality"])
        .description("Completeness, accuracy and duplicate rate against the seeds' targets; latency and errors.")
        .refresh("30s").time("now-6h", "now").timezone("browser").editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .with_variable(db.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        .with_variable(db.QueryVariable("record_type").label("Record type").datasource(DS)
                       .query("label_values(crm_dq_records_scored_total, record_type)")
                       .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED).multi(True).include_all(True)
                       .all_value(".*").sort(dm.VariableSort.ALPHABETICAL_ASC))
        .with_row(db.Row("KPIs over the time range"))
        .with_panel(kpi_stat("Completeness", completeness("$__range"), "percentunit",
                             steps((None, "red"), (above(kpi.completeness), "green")),
                             f"Required fields filled / required fields judged; target above {kpi.completeness:.0%}."))
        .with_panel(kpi_stat("Accuracy", accuracy("$__range"), "percentunit",
                             steps((None, "red"), (above(kpi.accuracy), "green")),
                             f"Format-checked fields valid / checked; target above {kpi.accuracy:.0%}."))
        .with_panel(kpi_stat("Duplicate rate", duplicate_rate("$__range"), "percentunit",
                             steps((None, "green"), (kpi.duplicate_rate, "red")),
                             f"Duplicate records / scored accounts, contacts and leads; target below "
                             f"{kpi.duplicate_rate:.0%}."))
        .with_panel(kpi_stat("p95 response time", latency(0.95, "$__range"), "s",
                             steps((None, "green"), (kpi.response_seconds, "red")),
                             f"95th percentile of interactive requests (not batch, audit, duplicates or bulk "
                             f"index); target below {kpi.response_seconds:g} s."))
        .with_panel(kpi_stat("Records scored", f"sum(increase(crm_dq_records_scored_total{{{T}}}[$__range]))",
                             "short", steps((None, "blue")), "Records scored by every route and source."))
        .with_panel(kpi_stat("5xx responses", 'sum(increase(crm_dq_http_request_duration_seconds_count'
                                              '{status=~"5.."}[$__range])) or vector(0)',
                             "short", steps((None, "green"), (1, "red")), "Any 5xx is a bug."))
        .with_row(db.Row("KPIs against their targets"))
        .with_panel(kpi_series("Completeness", completeness(rate), "completeness", "percentunit"))
        .with_panel(kpi_series("Accuracy", accuracy(rate), "accuracy", "percentunit"))
        .with_panel(kpi_series("Duplicate rate", duplicate_rate(rate), "duplicate_rate", "percentunit"))
        .with_row(db.Row("Issues and scores"))
        .with_panel(series("Issues by rule (top 10)").height(9)
                    .with_target(query(f"topk(10, sum by (rule) (rate(crm_dq_issues_total{{{T}}}[{rate}])))",
                                       legend="{{rule}}"))
                    .unit("short").stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL)))
        .with_panel(series("Issues by severity").height(9)
                    .with_target(query(f"sum by (severity) (rate(crm_dq_issues_total{{{T}}}[{rate}]))",
                                       legend="{{severity}}")).unit("short"))
        .with_panel(distribution("Quality score distribution", "crm_dq_quality_score"))
        .with_panel(distribution("Lead score distribution", "crm_dq_lead_score"))
        .with_panel(series("Records scored by source")
                    .with_target(query(f"sum by (source) (rate(crm_dq_records_scored_total{{{T}}}[{rate}]))",
                                       legend="{{source}}")).unit("reqps"))
        .with_panel(series("Median quality score")
                    .with_target(query("histogram_quantile(0.5, sum by (le, record_type) "
                                       f"(rate(crm_dq_quality_score_bucket{{{T}}}[{rate}])))",
                                       legend="{{record_type}}")).min(0).max(100))
        .with_row(db.Row("HTTP"))
        .with_panel(series("Latency p50 / p95 / p99 (interactive routes)").unit("s")
                    .with_target(query(latency(0.5, rate), legend="p50", ref="A"))
                    .with_target(query(latency(0.95, rate), legend="p95", ref="B"))
                    .with_target(query(latency(0.99, rate), legend="p99", ref="C"))
                    .with_target(query(target("response_seconds"), legend="target", ref="D")))
        .with_panel(series("Requests by route").unit("reqps")
                    .with_target(query("sum by (route) (rate(crm_dq_http_request_duration_seconds_count"
                                       f"[{rate}]))", legend="{{route}}")))
        .with_panel(series("Error rate (4xx, 5xx)").unit("percentunit")
                    .with_target(query('sum(rate(crm_dq_http_request_duration_seconds_count{status=~"5.."}'
                                       f'[{rate}])) / sum(rate(crm_dq_http_request_duration_seconds_count'
                                       f'[{rate}])) or vector(0)', legend="5xx", ref="A"))
                    .with_target(query('sum(rate(crm_dq_http_request_duration_seconds_count{status=~"4.."}'
                                       f'[{rate}])) / sum(rate(crm_dq_http_request_duration_seconds_count'
                                       f'[{rate}])) or vector(0)', legend="4xx", ref="B")))
        .with_panel(series("Requests in flight")
                    .with_target(query("sum(crm_dq_http_requests_in_flight)", legend="in flight")).unit("short"))
    )


def render() -> str:
    """The dashboard JSON, as committed: panels (rows too) numbered 1, 2, … in order."""
    model = build().build()
    for n, panel in enumerate(model.panels or [], start=1):
        panel.id_val = n
    return JSONEncoder(sort_keys=True, indent=2).encode(model) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

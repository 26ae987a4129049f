"""Static checks of the observability files: the Grafana dashboard (JSON shape, targets, the
catalogue's metrics), the alert rules (`promtool check rules`, `promtool test rules`), and the
PrometheusRule in k8s/ that must carry the same groups. The queries themselves are run against
a real Prometheus in test_observability_prometheus.py."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "grafana" / "dashboards" / "reprise.json"
ALERTS = ROOT / "prometheus" / "alerts.yaml"
ALERT_TESTS = ROOT / "prometheus" / "alerts.test.yaml"
PROMETHEUS_RULE = ROOT / "k8s" / "monitoring" / "prometheusrule.yaml"
MISSING_PROMETHEUS = "Debian's prometheus package is not installed (scripts/setup.sh --test installs it)"

# The metric catalogue of issue 21: the dashboard must show every one of them.
CATALOGUE = [
    "llm_requests_total", "llm_tokens_total", "llm_latency_seconds", "llm_time_to_first_byte_seconds",
    "llm_proxy_overhead_seconds", "llm_active_requests", "llm_cache_operations_total",
    "llm_cache_memory_bytes", "llm_cache_memory_entries", "llm_cache_evictions_total",
    "llm_coalesced_requests_total", "llm_upstream_attempts_total", "llm_upstream_retries_total",
    "llm_upstream_responses_total", "llm_upstream_latency_seconds", "llm_circuit_breaker_state",
    "llm_redis_command_duration_seconds", "llm_redis_errors_total", "llm_redis_up",
    "llm_config_reloads_total", "reprise_build_info",
]
# Exported beside the catalogue (Sources/RepriseProxy/Observability/ProxyMetrics.swift).
EXTRA_METRICS = ["reprise_access_log_dropped_lines_total"]

# Panels an operator looks for first; the Prometheus test requires data in CORE_PANELS.
REQUIRED_PANELS = [
    "Latency p50 / p95 / p99", "Proxy overhead p50 / p99", "Cache hit ratio over time",
    "Cache operations by backend and result",
    "Upstream tokens by model and type", "Tokens saved (served from cache)", "Answers by status", "Errors by status",
    "Upstream responses by upstream and status", "Active requests", "Time to first byte p50 / p95 / p99",
    "Upstream attempts by outcome", "Upstream retries", "Circuit breaker state", "Redis up",
    "Redis command latency p50 / p99", "Redis errors by kind", "L1 memory", "L1 entries", "L1 evictions",
    "Config reloads", "Requests by variant", "5xx ratio by variant", "Latency p95 by variant",
]
CORE_PANELS = [
    "Requests/s", "Latency p50 / p95 / p99", "Cache hit ratio", "Cache hit ratio over time",
    "Upstream tokens by model and type",
    "Tokens saved (served from cache)", "Active requests", "Proxy overhead p50 / p99",
]

# What Grafana puts in place of the dashboard's variables when a query runs with "All" selected
# and a short time range.
VARIABLE_VALUES = {
    "$__rate_interval": "1m",
    "$__range": "5m",
    "$route": ".*",
    "$variant": ".*",
    "$model": ".*",
}


def dashboard():
    return json.loads(DASHBOARD.read_text())


def dashboard_panels():
    """Every panel but rows, with those inside collapsed rows."""
    panels = []
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            panels.extend(panel.get("panels", []))
        else:
            panels.append(panel)
    return panels


def substitute_variables(expr):
    for name in sorted(VARIABLE_VALUES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLE_VALUES[name])
    assert "$" not in expr, f"a variable without a test value in {expr!r}"
    return expr


def dashboard_expressions():
    """(panel title, refId, PromQL with the variables substituted) of every target."""
    return [
        (panel["title"], target["refId"], substitute_variables(target["expr"]))
        for panel in dashboard_panels()
        for target in panel["targets"]
    ]


def template_variable_queries():
    """(variable, series selector, label) of each `label_values(SELECTOR, LABEL)` variable."""
    queries = []
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["definition"])
            assert match, variable["definition"]
            queries.append((variable["name"], substitute_variables(match.group(1)), match.group(2)))
    return queries


def alert_names():
    return re.findall(r"^\s*- alert: (\S+)\s*$", ALERTS.read_text(), re.MULTILINE)


def prometheusrule_spec_text():
    """The PrometheusRule's `spec:` (its last key) as a Prometheus rule file: dedented by two."""
    lines = PROMETHEUS_RULE.read_text().splitlines()
    assert "apiVersion: monitoring.coreos.com/v1" in lines and "kind: PrometheusRule" in lines
    spec = lines.index("spec:")
    body = lines[spec + 1:]
    assert all(line.startswith("  ") or not line.strip() for line in body), "spec: must be the last key"
    return "\n".join(line[2:] for line in body) + "\n"


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.skip(MISSING_PROMETHEUS)
    return path


def run_promtool(*args):
    result = subprocess.run([promtool(), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{result.stdout}{result.stderr}"
    return result.stdout


def test_dashboard_is_an_importable_grafana_dashboard():
    board = dashboard()
    assert board["uid"] == "reprise" and board["title"]
    assert board["schemaVersion"] >= 36  # Grafana 9.x/10.x+ format
    assert board["id"] is None  # an import must not overwrite another dashboard by id
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("route", "variant", "model"):
        variable = variables[name]
        assert variable["type"] == "query"
        assert variable["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert variable["definition"].startswith("label_values(llm_requests_total")
        assert variable["definition"].endswith(f", {name})")
        assert variable["includeAll"] and variable["allValue"] == ".*"


def test_every_panel_has_targets_on_the_datasource_variable():
    panels = dashboard_panels()
    ids = [panel["id"] for panel in dashboard()["panels"]] + [
        inner["id"] for row in dashboard()["panels"] for inner in row.get("panels", [])
    ]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no targets"
        assert panel.get("description"), f"{panel['title']} has no description"
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), f"{panel['title']} {target['refId']} has no expression"
            assert target["datasource"]["uid"] == "${datasource}"


def test_panels_do_not_overlap_on_the_grid():
    taken = set()
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


def test_dashboard_shows_every_catalogue_metric_and_the_required_panels():
    expressions = " ".join(expr for _, _, expr in dashboard_expressions())
    missing = [name for name in CATALOGUE if not re.search(rf"\b{name}(_bucket)?\b", expressions)]
    assert not missing, f"metrics without a panel: {missing}"
    titles = [panel["title"] for panel in dashboard_panels()]
    assert len(titles) == len(set(titles)), "panel titles must be unique"
    assert not [title for title in REQUIRED_PANELS + CORE_PANELS if title not in titles]


def referenced_metrics(text):
    names = set(re.findall(r"\b((?:llm|reprise)_[a-z_]+)", text))
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in names}


def test_dashboard_and_alerts_name_only_exported_metrics():
    expressions = " ".join(expr for _, _, expr in dashboard_expressions())
    known = set(CATALOGUE + EXTRA_METRICS)
    assert referenced_metrics(expressions) - known == set()
    # The whole rule file: expressions, and the metrics its descriptions tell operators to look at.
    assert referenced_metrics(ALERTS.read_text()) - known == set()


def test_histogram_quantiles_aggregate_rates_by_le():
    for title, ref_id, expr in dashboard_expressions():
        for match in re.finditer(r"histogram_quantile\(([\d.]+), sum by \(([^)]*)\) \(rate\((\w+)\{", expr):
            assert "le" in [label.strip() for label in match.group(2).split(",")], f"{title} {ref_id}"
            assert match.group(3).endswith("_bucket"), f"{title} {ref_id}"


def test_alert_rules_pass_promtool_check():
    output = run_promtool("check", "rules", ALERTS)
    assert f"SUCCESS: {len(alert_names())} rules found" in output


def test_alert_unit_tests_pass():
    assert "SUCCESS" in run_promtool("test", "rules", ALERT_TESTS)


def test_every_alert_has_a_unit_test_that_fires_and_one_that_does_not():
    tests = ALERT_TESTS.read_text()
    assert len(alert_names()) == 8
    for name in alert_names():
        fires = re.search(rf"alertname: {name}\n\s+exp_alerts:", tests)
        quiet = re.search(rf"alertname: {name}\n(?!\s+exp_alerts:)", tests)
        assert fires and quiet, f"{name} needs a firing and a quiet case in {ALERT_TESTS.name}"


def test_prometheusrule_carries_the_same_rule_file_and_passes_the_same_unit_tests(tmp_path):
    # The text of the groups is the same, so a reader of either sees the same rules; the
    # Prometheus test also compares the groups as Prometheus loaded them from both files.
    assert prometheusrule_spec_text() == ALERTS.read_text()
    (tmp_path / "alerts.yaml").write_text(prometheusrule_spec_text())
    shutil.copy(ALERT_TESTS, tmp_path / "alerts.test.yaml")
    run_promtool("check", "rules", tmp_path / "alerts.yaml")
    assert "SUCCESS" in run_promtool("test", "rules", tmp_path / "alerts.test.yaml")


def test_every_alert_links_a_runbook_section_of_the_readme():
    """Each rule's runbook_url names an anchor of README.md, made from a `Runbook: <alert>`
    heading the way GitHub makes anchors (lowercased, spaces to dashes, punctuation dropped)."""
    readme = (ROOT / "README.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, flags=re.MULTILINE)
    }
    rules = re.findall(r"- alert: (\w+)[\s\S]*?runbook_url: \"README\.md#([\w-]+)\"", ALERTS.read_text())
    assert len(rules) == ALERTS.read_text().count("- alert:"), "an alert without a runbook_url"
    for alert, anchor in rules:
        assert anchor == f"runbook-{alert.lower()}", (alert, anchor)
        assert anchor in anchors, f"README.md has no '#### Runbook: {alert}' section"

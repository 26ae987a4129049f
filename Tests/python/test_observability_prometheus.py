"""A real Prometheus (Debian's package) scrapes a running Reprise (with a real Redis behind it)
every second while a short load (misses, hits, a stream, errors) goes through it; then every
PromQL expression of the Grafana dashboard and of the alert rules runs through Prometheus's
query API. Each must be accepted and evaluate without error, and the core panels must show
data. The alert rules are loaded as Prometheus rule files, from prometheus/alerts.yaml and from
the PrometheusRule's spec, so the groups are compared as Prometheus itself parsed them."""
import json
import math
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import BUILD, ManagedProcess
from test_observability_files import (
    ALERTS, CORE_PANELS, MISSING_PROMETHEUS, alert_names, dashboard_expressions, prometheusrule_spec_text,
    template_variable_queries,
)

SCRAPE_SECONDS = 1


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def wait_until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class PrometheusServer:
    """Prometheus on a free loopback port, with its TSDB in a temporary folder."""

    def __init__(self, folder, scrape_target, rule_files):
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": f"{SCRAPE_SECONDS}s"},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": [{"job_name": "reprise", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [scrape_target]}]}],
        }
        # JSON is YAML: Prometheus reads this file as its configuration.
        (folder / "prometheus.yml").write_text(json.dumps(config, indent=2))
        self.log = open(folder / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [shutil.which("prometheus"), f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until(self.ready, "Prometheus to be ready")
        except AssertionError:
            self.stop()
            raise AssertionError(f"Prometheus did not start:\n{(folder / 'prometheus.log').read_text()}")

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"Prometheus exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def api(self, path, **params):
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            return get_json(url)
        except urllib.error.HTTPError as error:  # 400/422: the body names the problem
            return json.load(error)

    def scrapes(self):
        """Samples of `up` seen for the target so far, or None while it was never scraped."""
        result = self.api("query", query="count_over_time(up[10m])")["data"]["result"]
        return int(result[0]["value"][1]) if result else None

    def target_address(self):
        (target,) = self.api("targets")["data"]["activeTargets"]
        return target["labels"]["instance"]

    def target_health(self):
        targets = self.api("targets")["data"]["activeTargets"]
        return [(target["health"], target["lastError"]) for target in targets]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Load:
    """Requests through Reprise that move every core metric: misses, hits, a stream, errors."""

    def __init__(self, reprise_url):
        self.url = reprise_url + "/v1/chat/completions"
        self.tag = uuid.uuid4().hex

    def post(self, body, headers=None):
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer sk-observability",
                     **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                return response.status, response.headers.get("x-cache")
        except urllib.error.HTTPError as error:
            error.read()
            return error.code, error.headers.get("x-cache")

    def chat(self, text, stream=False):
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"{self.tag} {text}"}]}
        if stream:
            body["stream"] = True
        return body

    def round(self, number):
        """One round: 3 new questions answered twice (miss then hit), a stream, a 500 and a 429."""
        seen = []
        for question in range(3):
            body = self.chat(f"round {number} question {question}")
            seen.append(self.post(body))
            seen.append(self.post(body))
        seen.append(self.post(self.chat(f"round {number} stream", stream=True)))
        seen.append(self.post(self.chat(f"round {number} error"), {"X-Mock-Status": "500"}))
        seen.append(self.post(self.chat(f"round {number} limited"),
                              {"X-Mock-Status": "429", "X-Mock-Retry-After": "120"}))
        return seen


@pytest.fixture(scope="module")
def prometheus_binary():
    if shutil.which("prometheus") is None:
        pytest.skip(MISSING_PROMETHEUS)


class RedisServer:
    """redis-server on a free loopback port, without persistence."""

    def __init__(self):
        self.port = free_loopback_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, "redis-server to answer")

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh --test installs it)")
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def scraped_reprise(prometheus_binary, mock_upstream, redis_server, tmp_path_factory):
    """Reprise of its own (its counters start at zero) with Redis, scraped by Prometheus, after
    the load."""
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "reprise.yaml"
    config.write_text(f"cache:\n  redis:\n    url: {redis_server.url}\n")
    reprise = ManagedProcess([BUILD / "reprise", "--config", config, "--listen", "127.0.0.1:0",
                              "--upstream", mock_upstream.url])
    spec_rules = folder / "prometheusrule-spec.yaml"
    spec_rules.write_text(prometheusrule_spec_text())
    prometheus = PrometheusServer(folder, f"127.0.0.1:{reprise.port}", [ALERTS, spec_rules])
    try:
        wait_until(lambda: prometheus.scrapes(), "the first scrape of Reprise")
        load = Load(reprise.url)
        # Two rounds a few scrapes apart: a series born in the first round has a sample before
        # the second round's increase, so rate() over it is above zero.
        first = load.round(1)
        scraped = prometheus.scrapes()
        wait_until(lambda: prometheus.scrapes() >= scraped + 3, "3 scrapes after the first round")
        second = load.round(2)
        scraped = prometheus.scrapes()
        wait_until(lambda: prometheus.scrapes() >= scraped + 3, "3 scrapes after the second round")
        yield prometheus, first + second
    finally:
        prometheus.stop()
        reprise.stop()


def values(result):
    """The numbers of an instant query's result (vector or scalar)."""
    if result["resultType"] == "scalar":
        return [float(result["result"][1])]
    return [float(sample["value"][1]) for sample in result["result"]]


def test_the_load_produced_misses_hits_a_stream_and_errors(scraped_reprise):
    prometheus, answers = scraped_reprise
    assert ("200", "MISS") in [(str(status), cache) for status, cache in answers], answers
    assert ("200", "HIT") in [(str(status), cache) for status, cache in answers], answers
    statuses = {status for status, _ in answers}
    assert 500 in statuses and 429 in statuses, answers
    assert all(health == "up" for health, _ in prometheus.target_health()), prometheus.target_health()


def test_every_dashboard_expression_runs_and_the_core_panels_have_data(scraped_reprise):
    prometheus, _ = scraped_reprise
    failures, empty_core = [], []
    for title, ref_id, expr in dashboard_expressions():
        answer = prometheus.api("query", query=expr)
        if answer["status"] != "success":
            failures.append(f"{title} {ref_id}: {answer.get('errorType')}: {answer.get('error')}\n  {expr}")
            continue
        numbers = values(answer["data"])
        if title in CORE_PANELS and not any(math.isfinite(number) for number in numbers):
            empty_core.append(f"{title} {ref_id}: {numbers}\n  {expr}")
    assert not failures, "expressions Prometheus refused:\n" + "\n".join(failures)
    assert not empty_core, "core panels without data:\n" + "\n".join(empty_core)


def test_every_template_variable_lists_the_scraped_values(scraped_reprise):
    prometheus, _ = scraped_reprise
    expected = {"route": "default", "variant": "primary", "model": "gpt-4o-mini"}
    queries = template_variable_queries()
    assert sorted(name for name, _, _ in queries) == sorted(expected)
    for name, selector, label in queries:
        answer = prometheus.api(f"label/{label}/values", **{"match[]": selector})
        assert answer["status"] == "success", (name, answer)
        assert expected[name] in answer["data"], (name, answer)


def loaded_rule_groups(prometheus):
    """The alerting rules Prometheus loaded, per rule file, once each was evaluated."""
    def evaluated():
        groups = prometheus.api("rules", type="alert")["data"]["groups"]
        never = "0001-01-01"  # Go's zero time: not evaluated yet
        return groups if groups and not any(group["lastEvaluation"].startswith(never) for group in groups) else None
    return wait_until(evaluated, "every rule group to be evaluated", timeout=30)


def test_every_alert_expression_runs_and_every_rule_evaluates(scraped_reprise):
    prometheus, _ = scraped_reprise
    groups = loaded_rule_groups(prometheus)
    rules = [rule for group in groups for rule in group["rules"]]
    assert sorted({rule["name"] for rule in rules}) == sorted(alert_names())
    for rule in rules:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))
        answer = prometheus.api("query", query=rule["query"])
        assert answer["status"] == "success", (rule["name"], answer)


def test_every_alert_has_for_a_severity_and_a_runbook(scraped_reprise):
    prometheus, _ = scraped_reprise
    for group in loaded_rule_groups(prometheus):
        for rule in group["rules"]:
            name = rule["name"]
            assert rule["duration"] > 0, f"{name} has no for:"
            assert rule["labels"].get("severity") in ("warning", "critical"), name
            assert rule["annotations"].get("summary") and rule["annotations"].get("description"), name
            assert rule["annotations"].get("runbook_url") == f"README.md#runbook-{name.lower()}", name


def test_prometheusrule_groups_equal_the_rule_file_as_prometheus_loaded_them(scraped_reprise):
    prometheus, _ = scraped_reprise

    def comparable(group):
        return [
            {key: rule[key] for key in ("name", "query", "duration", "labels", "annotations")}
            for rule in group["rules"]
        ] + [group["name"], group["interval"]]

    by_file = {}
    for group in loaded_rule_groups(prometheus):
        by_file.setdefault(group["file"], []).append(comparable(group))
    assert len(by_file) == 2, sorted(by_file)
    rule_file = by_file.pop(str(ALERTS))
    (spec_file,) = by_file.values()
    assert rule_file == spec_file


def test_redis_panels_show_the_redis_in_use(scraped_reprise):
    prometheus, _ = scraped_reprise
    for title, ref_id, expr in dashboard_expressions():
        if title in ("Redis up", "Redis command latency p50 / p99"):
            numbers = values(prometheus.api("query", query=expr)["data"])
            assert any(math.isfinite(number) for number in numbers), (title, ref_id, numbers, expr)
            if title == "Redis up":
                assert numbers == [1.0], numbers


# Last in this file: it stops the module's Redis.
def test_redis_unavailable_condition_holds_once_redis_is_gone(scraped_reprise, redis_server):
    """The alert's expression (without its `for:`) selects the instance once Redis is down and
    requests went on: its breaker opened, llm_redis_up turned 0."""
    prometheus, _ = scraped_reprise
    rule = next(rule for group in loaded_rule_groups(prometheus) for rule in group["rules"]
                if rule["name"] == "RepriseRedisUnavailable")
    assert values(prometheus.api("query", query=rule["query"])["data"]) == []
    redis_server.stop()
    load = Load(f"http://{prometheus.target_address()}")

    def selected():
        load.round(3)
        return values(prometheus.api("query", query=rule["query"])["data"])
    assert wait_until(selected, "the RepriseRedisUnavailable condition", timeout=60)

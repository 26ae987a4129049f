"""Checks of the Kubernetes deployment (k8s/, Containerfile, scripts/container-entrypoint.sh),
offline, with no cluster and no container engine:

- every kustomization renders (`kubectl kustomize` when kubectl is installed, else the small
  renderer below, which is compared with kubectl's output whenever both are there);
- every rendered object validates against the Kubernetes OpenAPI schemas (kubernetes-validate,
  strict: unknown fields fail) for the oldest version the manifests support (1.29: native
  sidecars) and the newest one the package knows; the Prometheus Operator objects (CRDs the
  package has no schema for) get the structural checks below;
- the objects fit together: names referenced exist, selectors select pods, named ports exist,
  the probes hit the port the config opens, the grace period covers the drain, every container
  has the security context and resources;
- yamllint on k8s/;
- `reprise check-config` accepts the configuration in every ConfigMap, with the environment the
  pod gives it;
- the Containerfile parses: every COPY source exists or is made by the build stage, the runtime
  stage has no compiler, the user is not root, its packages provide every shared library the
  binary loads;
- the image's entrypoint script runs outside a container against the built binary.
"""
import copy
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import BUILD, ManagedProcess

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = ["sidecar", "gateway", "canary"]
KUSTOMIZATIONS = ["base", "overlays/sidecar", "overlays/gateway", "overlays/canary", "grafana", "monitoring"]
# grafana/ builds its ConfigMap from grafana/dashboards/reprise.json, outside its folder.
NEEDS_UNRESTRICTED_LOADS = {"grafana"}
CONTAINERFILE = ROOT / "Containerfile"
ENTRYPOINT = ROOT / "scripts" / "container-entrypoint.sh"
REPRISE = BUILD / "reprise"
NO_BINARY = f"no reprise binary at {REPRISE} (swift build, or set REPRISE_BUILD_DIR)"
# The oldest Kubernetes with native sidecars on by default, and the newest schema available.
OLDEST_KUBERNETES = "1.29"
CUSTOM_RESOURCES = {"PodMonitor", "PrometheusRule"}
# Environment values standing in for the Secrets' keys when check-config runs (an admin token
# must have at least 16 characters); the shipped Secrets hold no values.
SECRET_STAND_INS = {"token": "0123456789abcdef0123", "secret": "cache-hmac-key", "api-key": "sk-test"}
KUBECTL = shutil.which("kubectl")


# ---------------------------------------------------------------------------------------------
# Rendering


class MiniKustomize:
    """The subset of kustomize these manifests use, for machines without kubectl: resources
    (files and folders), configMapGenerator (files, hash suffix, options), patches (strategic
    merge with `$patch: delete`, and JSON 6902 with a target), labels (includeSelectors for
    Deployments), nameSuffix, replicas, images, and the name references those rename (ConfigMap
    volumes, HPA targets). Anything else is refused, so a manifest that starts using a feature
    this does not know fails here instead of rendering wrongly."""

    KNOWN_FIELDS = {"apiVersion", "kind", "resources", "configMapGenerator", "patches", "labels",
                    "nameSuffix", "replicas", "images"}
    # Strategic merge keys of the lists the patches touch (Kubernetes' patchMergeKey).
    MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
                  "volumeMounts": "mountPath", "ports": "containerPort"}
    SERVICE_MERGE_KEYS = {"ports": "port"}

    def __init__(self, unrestricted=False):
        self.unrestricted = unrestricted

    def build(self, directory):
        directory = Path(directory)
        spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
        unknown = set(spec) - self.KNOWN_FIELDS
        if unknown:
            raise NotImplementedError(f"{directory}: kustomization fields {sorted(unknown)}")
        objects = []
        for entry in spec.get("resources", []):
            path = (directory / entry).resolve()
            if path.is_dir():
                objects += self.build(path)
            else:
                self._check_inside(directory, path)
                objects += [o for o in yaml.safe_load_all(path.read_text()) if o]
        renamed = {}
        for generator in spec.get("configMapGenerator", []):
            config_map, original = self._generate(directory, generator)
            renamed[("ConfigMap", original)] = config_map["metadata"]["name"]
            objects.append(config_map)
        for patch in spec.get("patches", []):
            objects = self._patch(directory, objects, patch)
        for label in spec.get("labels", []):
            self._label(objects, label)
        suffix = spec.get("nameSuffix", "")
        if suffix:
            for obj in objects:
                if obj["kind"] not in CUSTOM_RESOURCES:
                    old = obj["metadata"]["name"]
                    obj["metadata"]["name"] = self._with_suffix(old, suffix, obj["kind"])
                    renamed[(obj["kind"], old)] = obj["metadata"]["name"]
        for replica in spec.get("replicas", []):
            for obj in objects:
                if obj["kind"] == "Deployment" and obj["metadata"]["name"] in (
                        replica["name"], self._with_suffix(replica["name"], suffix, "Deployment")):
                    obj["spec"]["replicas"] = replica["count"]
        for image in spec.get("images", []):
            for container in all_containers(objects):
                name = container["image"].split(":")[0]
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
        self._update_references(objects, renamed)
        return objects

    def _check_inside(self, directory, path):
        if not self.unrestricted and directory.resolve() not in path.resolve().parents:
            raise PermissionError(f"{path} is not in or below {directory} (kustomize's load restrictor)")

    def _generate(self, directory, generator):
        data = {}
        for entry in generator["files"]:
            key, _, source = entry.rpartition("=") if "=" in entry else (Path(entry).name, "", entry)
            path = (directory / source).resolve()
            self._check_inside(directory, path)
            data[key] = path.read_text()
        options = generator.get("options", {})
        name = generator["name"]
        if not options.get("disableNameSuffixHash"):
            name = f"{name}-{self.content_hash(data)}"
        metadata = {"name": name}
        for field in ("labels", "annotations"):
            if field in options:
                metadata[field] = dict(options[field])
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}, generator["name"]

    @staticmethod
    def content_hash(data):
        """kustomize's ConfigMap name suffix: SHA-256 of Go's JSON of {data, kind, name} with the
        name still empty, its first 10 hex digits with 0, 1, 3, a and e swapped for letters."""
        text = json.dumps({"data": data, "kind": "ConfigMap", "name": ""}, sort_keys=True,
                          separators=(",", ":"), ensure_ascii=False)
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                              ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(char, escaped)
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        return digest.translate(str.maketrans("013ae", "ghkmt"))

    @staticmethod
    def _with_suffix(name, suffix, kind):
        # A generated ConfigMap keeps its hash last: reprise-config-HASH -> reprise-config-canary-HASH.
        match = re.fullmatch(r"(.*)-([0-9a-z]{10})", name) if kind == "ConfigMap" else None
        return f"{match.group(1)}{suffix}-{match.group(2)}" if match else name + suffix

    def _patch(self, directory, objects, patch):
        path = directory / patch["path"]
        self._check_inside(directory, path)
        document = yaml.safe_load(path.read_text())
        if isinstance(document, list):  # JSON 6902
            target = patch["target"]
            matches = [o for o in objects if o["kind"] == target["kind"] and o["metadata"]["name"] == target["name"]]
            assert len(matches) == 1, f"{path}: target {target} matches {len(matches)} objects"
            for operation in document:
                apply_json_patch(matches[0], operation)
            return objects
        kind, name = document["kind"], document["metadata"]["name"]
        matches = [o for o in objects if o["kind"] == kind and self._original_name(o) == name]
        assert len(matches) == 1, f"{path}: {kind}/{name} matches {len(matches)} objects"
        if document.get("$patch") == "delete":
            return [o for o in objects if o is not matches[0]]
        keys = self.SERVICE_MERGE_KEYS if kind == "Service" else self.MERGE_KEYS
        strategic_merge(matches[0], document, keys)
        return objects

    @staticmethod
    def _original_name(obj):
        name = obj["metadata"]["name"]
        match = re.fullmatch(r"(.*)-[0-9a-z]{10}", name) if obj["kind"] == "ConfigMap" else None
        return match.group(1) if match else name

    @staticmethod
    def _label(objects, label):
        pairs = label["pairs"]
        for obj in objects:
            obj["metadata"].setdefault("labels", {}).update(pairs)
            if label.get("includeSelectors") and obj["kind"] == "Deployment":
                obj["spec"]["selector"]["matchLabels"].update(pairs)
                obj["spec"]["template"]["metadata"]["labels"].update(pairs)
            elif label.get("includeSelectors") and obj["kind"] not in ("ConfigMap", "Secret"):
                raise NotImplementedError(f"includeSelectors on a {obj['kind']}")

    @staticmethod
    def _update_references(objects, renamed):
        for obj in objects:
            for volume in pod_spec(obj).get("volumes", []) if pod_spec(obj) else []:
                if "configMap" in volume:
                    volume["configMap"]["name"] = renamed.get(("ConfigMap", volume["configMap"]["name"]),
                                                              volume["configMap"]["name"])
            if obj["kind"] == "HorizontalPodAutoscaler":
                target = obj["spec"]["scaleTargetRef"]
                target["name"] = renamed.get((target["kind"], target["name"]), target["name"])


def strategic_merge(target, patch, merge_keys):
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            strategic_merge(target[key], value, merge_keys)
        elif isinstance(value, list) and key in merge_keys and isinstance(target.get(key), list):
            merge_key = merge_keys[key]
            for item in value:
                existing = [e for e in target[key] if e.get(merge_key) == item.get(merge_key)]
                if existing:
                    strategic_merge(existing[0], item, merge_keys)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def apply_json_patch(document, operation):
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key = int(last) if isinstance(node, list) else last
    if operation["op"] == "remove":
        del node[key]
    elif operation["op"] in ("add", "replace"):
        if operation["op"] == "replace":
            node[key]  # must exist
        if isinstance(node, list) and operation["op"] == "add":
            node.insert(key, copy.deepcopy(operation["value"]))
        else:
            node[key] = copy.deepcopy(operation["value"])
    else:
        raise NotImplementedError(f"JSON patch op {operation['op']}")


def kubectl_render(directory, unrestricted=False):
    command = [KUBECTL, "kustomize", str(directory)]
    if unrestricted:
        command += ["--load-restrictor", "LoadRestrictionsNone"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stderr}"
    return [o for o in yaml.safe_load_all(result.stdout) if o]


def render(directory, unrestricted=False):
    if KUBECTL:
        return kubectl_render(directory, unrestricted)
    return MiniKustomize(unrestricted).build(directory)


_RENDERED = {}


def rendered(name):
    """A kustomization's objects; `name` is a folder under k8s/ or an overlay's name."""
    if name not in _RENDERED:
        folder = f"overlays/{name}" if name in OVERLAYS else name
        _RENDERED[name] = render(K8S / folder, unrestricted=name in NEEDS_UNRESTRICTED_LOADS)
    return copy.deepcopy(_RENDERED[name])


# ---------------------------------------------------------------------------------------------
# Helpers over rendered objects


def pod_spec(obj):
    if obj["kind"] in ("Deployment", "StatefulSet"):
        return obj["spec"]["template"]["spec"]
    return None


def pod_labels(obj):
    return obj["spec"]["template"]["metadata"].get("labels", {})


def all_containers(objects):
    for obj in objects:
        spec = pod_spec(obj)
        if spec:
            yield from spec.get("initContainers", [])
            yield from spec.get("containers", [])


def workloads(objects):
    return [o for o in objects if pod_spec(o)]


def find(objects, kind, name=None):
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def selects(selector, labels):
    return all(labels.get(key) == value for key, value in selector.items())


def reprise_containers(obj):
    """(container, is_native_sidecar) for each Reprise container of a workload."""
    spec = pod_spec(obj)
    found = [(c, c.get("restartPolicy") == "Always") for c in spec.get("initContainers", [])
             if c["name"] == "reprise"]
    found += [(c, False) for c in spec["containers"] if c["name"] == "reprise"]
    return found


def mounted_config(objects, workload, container):
    """The reprise.yaml the container reads: the ConfigMap volume mounted at /etc/reprise."""
    mount = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/etc/reprise"]
    assert mount, f"{workload['metadata']['name']}: reprise has no configuration at /etc/reprise"
    volume = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount[0]["name"]][0]
    config_map = find(objects, "ConfigMap", volume["configMap"]["name"])
    assert config_map, f"ConfigMap {volume['configMap']['name']} is not rendered"
    return config_map[0]["data"]["reprise.yaml"]


def seconds(duration):
    match = re.fullmatch(r"(\d+)(ms|s|m|h)?", str(duration))
    value, unit = int(match.group(1)), match.group(2) or "s"
    return value * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]


def mebibytes(size):
    """A Reprise size (64MiB, 65536) or a Kubernetes quantity (256Mi, 1Gi) in MiB."""
    match = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB|Ki|Mi|Gi)?", str(size))
    factor = {None: 1 / 2**20, "KiB": 1 / 1024, "Ki": 1 / 1024, "MiB": 1, "Mi": 1, "GiB": 1024, "Gi": 1024}
    return int(match.group(1)) * factor[match.group(2)]


# Measured (README, "Kubernetes"): 39 MiB resident idle, and a full L1 costs about twice its
# cache.memory.max_bytes in resident memory (small chat answers, release build).
IDLE_RSS_MIB = 39
L1_RESIDENT_FACTOR = 2


def container_environment(container, optional_secrets=True):
    """What the kubelet would put in the environment: literal values, Secret keys stood in for;
    with optional_secrets=False, the optional Secret keys are missing (as shipped)."""
    environment = {}
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"]["secretKeyRef"]
        if optional_secrets or not reference.get("optional"):
            environment[variable["name"]] = SECRET_STAND_INS[reference["key"]]
    return environment


def normalized(objects):
    """Objects keyed by kind and name, lists of named items sorted, for comparing renderers."""
    def sort_lists(node):
        if isinstance(node, dict):
            return {k: sort_lists(v) for k, v in node.items()}
        if isinstance(node, list):
            items = [sort_lists(v) for v in node]
            if items and all(isinstance(i, dict) and "name" in i for i in items):
                items.sort(key=lambda i: str(i["name"]))
            return items
        return node
    return {(o["kind"], o["metadata"]["name"]): sort_lists(o) for o in objects}


# ---------------------------------------------------------------------------------------------
# Rendering and schema validation


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_kustomization_renders_and_validates_against_the_kubernetes_schemas(name):
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is not installed (scripts/setup.sh --test)")
    objects = rendered(name)
    assert objects, f"k8s/{name} renders nothing"
    versions = [OLDEST_KUBERNETES, kubernetes_validate.latest_version()]
    problems = []
    for obj in objects:
        if obj["kind"] in CUSTOM_RESOURCES:
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                problems.append(f"{obj['kind']}/{obj['metadata']['name']} (Kubernetes {version}): "
                                f"{error.message} at {'/'.join(map(str, error.path))}")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed: nothing to compare the renderer with")
@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_python_renderer_agrees_with_kubectl(name):
    unrestricted = name in NEEDS_UNRESTRICTED_LOADS
    ours = normalized(MiniKustomize(unrestricted).build(K8S / name))
    theirs = normalized(kubectl_render(K8S / name, unrestricted))
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == theirs[key], f"{key} differs"


def test_python_renderer_keeps_kustomizes_load_restriction():
    with pytest.raises(PermissionError):
        MiniKustomize().build(K8S / "grafana")


def test_yamllint_passes_on_k8s():
    yamllint = pytest.importorskip("yamllint", reason="yamllint is not installed (scripts/setup.sh --test)")
    del yamllint
    result = subprocess.run([sys.executable, "-m", "yamllint", "-s", "-c", "k8s/.yamllint", "k8s"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# The objects fit together


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_referenced_configmap_and_secret_exists(name):
    objects = rendered(name)
    # The canary is deployed beside the stable overlay and shares its Secrets.
    shared = rendered("base") if name == "canary" else []
    available = {(o["kind"], o["metadata"]["name"]) for o in objects + shared}
    missing = []
    for workload in workloads(objects):
        spec = pod_spec(workload)
        for volume in spec.get("volumes", []):
            if "configMap" in volume and ("ConfigMap", volume["configMap"]["name"]) not in available:
                missing.append(f"ConfigMap {volume['configMap']['name']}")
        for container in spec.get("initContainers", []) + spec["containers"]:
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    secret = [o for o in objects + shared if o["kind"] == "Secret"
                              and o["metadata"]["name"] == reference["name"]]
                    # The shipped Secrets hold no values; each names its keys in an annotation.
                    keys = secret[0]["metadata"].get("annotations", {}).get("reprise/keys", "") if secret else ""
                    if reference["key"] not in keys.split(","):
                        missing.append(f"Secret {reference['name']} key {reference['key']}")
    assert not missing, f"{name}: {missing}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_selectors_select_pods_and_named_ports_exist(name):
    objects = rendered(name)
    pods = workloads(objects)
    problems = []

    def ports_of(labels):
        return {p["name"] for w in pods if selects(labels, pod_labels(w)) for c in all_containers([w])
                for p in c.get("ports", []) if "name" in p}

    for workload in pods:
        if not selects(workload["spec"]["selector"]["matchLabels"], pod_labels(workload)):
            problems.append(f"{workload['metadata']['name']}: its selector does not match its pods")
    for service in find(objects, "Service"):
        selector = service["spec"]["selector"]
        if not any(selects(selector, pod_labels(w)) for w in pods):
            problems.append(f"Service {service['metadata']['name']} selects no pod")
        for port in service["spec"]["ports"]:
            if port["targetPort"] not in ports_of(selector):
                problems.append(f"Service {service['metadata']['name']}: no pod port {port['targetPort']}")
    for monitor in find(objects, "PodMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            if endpoint["port"] not in ports_of(selector):
                problems.append(f"PodMonitor: no pod port {endpoint['port']}")
    for policy in find(objects, "NetworkPolicy"):
        selector = policy["spec"]["podSelector"]["matchLabels"]
        if not any(selects(selector, pod_labels(w)) for w in pods):
            problems.append(f"NetworkPolicy {policy['metadata']['name']} selects no pod")
        for rule in policy["spec"]["ingress"]:
            for peer in rule["from"]:
                if "podSelector" in peer and not any(selects(peer["podSelector"]["matchLabels"], pod_labels(w))
                                                     for w in pods):
                    problems.append(f"NetworkPolicy {policy['metadata']['name']}: no pod may use it")
            for port in rule["ports"]:
                if port["port"] not in ports_of(selector):
                    problems.append(f"NetworkPolicy {policy['metadata']['name']}: no pod port {port['port']}")
    for budget in find(objects, "PodDisruptionBudget"):
        if not any(selects(budget["spec"]["selector"]["matchLabels"], pod_labels(w)) for w in pods):
            problems.append(f"PodDisruptionBudget {budget['metadata']['name']} selects no pod")
    for autoscaler in find(objects, "HorizontalPodAutoscaler"):
        target = autoscaler["spec"]["scaleTargetRef"]
        if not find(objects, target["kind"], target["name"]):
            problems.append(f"HorizontalPodAutoscaler targets missing {target['kind']}/{target['name']}")
    assert not problems, "\n".join(problems)


def test_only_pods_that_run_reprise_may_reach_redis():
    objects = rendered("sidecar") + [o for o in rendered("gateway") if o["metadata"]["name"] == "reprise-gateway"]
    policy = find(objects, "NetworkPolicy", "reprise-redis")[0]
    peers = [peer["podSelector"]["matchLabels"] for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    for workload in workloads(objects):
        runs_reprise = bool(reprise_containers(workload))
        admitted = any(selects(peer, pod_labels(workload)) for peer in peers)
        if workload["kind"] == "StatefulSet":
            continue
        assert admitted == runs_reprise, workload["metadata"]["name"]


def test_gateway_app_calls_the_service_and_has_no_sidecar():
    objects = rendered("gateway")
    app = find(objects, "Deployment", "example-app")[0]
    spec = pod_spec(app)
    assert "initContainers" not in spec and "volumes" not in spec
    environment = {v["name"]: v.get("value") for v in spec["containers"][0]["env"]}
    assert environment["OPENAI_BASE_URL"] == "http://reprise:8080/v1"
    service = find(objects, "Service", "reprise")[0]
    assert {p["port"] for p in service["spec"]["ports"]} == {8080, 9090}
    assert not any(o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("reprise-config-") for o in objects)


def test_canary_is_a_separate_variant_of_the_workload():
    stable = find(rendered("sidecar"), "Deployment", "example-app")[0]
    canary = find(rendered("canary"), "Deployment", "example-app-canary")[0]
    assert stable["spec"]["selector"]["matchLabels"]["track"] == "stable"
    assert canary["spec"]["selector"]["matchLabels"]["track"] == "canary"
    # Neither Deployment may claim the other's pods.
    assert not selects(stable["spec"]["selector"]["matchLabels"], pod_labels(canary))
    assert not selects(canary["spec"]["selector"]["matchLabels"], pod_labels(stable))
    assert canary["spec"]["replicas"] == 1
    images = {c["name"]: c["image"] for c in all_containers([stable])}
    canary_images = {c["name"]: c["image"] for c in all_containers([canary])}
    assert images["app"] == canary_images["app"] and images["reprise"] != canary_images["reprise"]


def test_pods_are_locked_down_and_have_resources():
    problems = []
    for name in OVERLAYS:
        for workload in workloads(rendered(name)):
            spec = pod_spec(workload)
            pod_security = spec.get("securityContext", {})
            for container in spec.get("initContainers", []) + spec["containers"]:
                where = f"{name}: {workload['metadata']['name']}/{container['name']}"
                security = {**pod_security, **container.get("securityContext", {})}
                if not security.get("runAsNonRoot") or security.get("runAsUser") == 0:
                    problems.append(f"{where} may run as root")
                if security.get("allowPrivilegeEscalation") is not False:
                    problems.append(f"{where} allows privilege escalation")
                if security.get("readOnlyRootFilesystem") is not True:
                    problems.append(f"{where} has a writable root filesystem")
                if security.get("capabilities", {}).get("drop") != ["ALL"]:
                    problems.append(f"{where} keeps capabilities")
                if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                    problems.append(f"{where} has no RuntimeDefault seccomp profile")
                resources = container.get("resources", {})
                if not {"cpu", "memory"} <= set(resources.get("requests", {})) or "memory" not in resources.get("limits", {}):
                    problems.append(f"{where} lacks CPU/memory requests or a memory limit")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", OVERLAYS)
def test_reprise_probes_ports_and_grace_period_follow_its_configuration(name):
    objects = rendered(name)
    checked = 0
    for workload in workloads(objects):
        spec = pod_spec(workload)
        for container, native in reprise_containers(workload):
            where = f"{name}: {workload['metadata']['name']}"
            config = yaml.safe_load(mounted_config(objects, workload, container))
            server = config.get("server", {})
            metrics_port = int(config["metrics"]["listen"].rsplit(":", 1)[1])
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports["metrics"] == metrics_port, where
            for probe, path in (("startupProbe", "/healthz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                action = container[probe]["httpGet"]
                assert action["path"] == path and ports[action["port"]] == metrics_port, f"{where} {probe}"
            listen_host, listen_port = server["listen"].rsplit(":", 1)
            if "http" in ports:
                assert listen_host == "0.0.0.0" and ports["http"] == int(listen_port), where
            else:
                assert listen_host == "127.0.0.1", f"{where}: a sidecar must listen on loopback only"
            # A native sidecar stops after the app; a regular container keeps serving through a
            # preStop sleep while endpoints (or the app beside it) let go.
            pre_stop = 0
            if not native:
                command = container["lifecycle"]["preStop"]["exec"]["command"]
                assert command[0] == "/bin/sleep", where
                pre_stop = int(command[1])
            l1 = mebibytes(config.get("cache", {}).get("memory", {}).get("max_bytes", "256MiB"))
            limit = mebibytes(container["resources"]["limits"]["memory"])
            assert limit >= IDLE_RSS_MIB + L1_RESIDENT_FACTOR * l1, f"{where}: {limit} MiB cannot hold a full L1"
            drain = seconds(server.get("drain_delay", "2s")) + seconds(server.get("shutdown_grace_period", "25s"))
            assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain + 1, where
            checked += 1
    assert checked, f"{name}: no Reprise container"


@pytest.mark.parametrize("name", OVERLAYS)
def test_config_in_configmap_passes_reprise_check_config(name, tmp_path):
    if not REPRISE.exists():
        pytest.skip(NO_BINARY)
    objects = rendered(name)
    checked = 0
    for workload in workloads(objects):
        for container, _ in reprise_containers(workload):
            path = tmp_path / f"{workload['metadata']['name']}.yaml"
            path.write_text(mounted_config(objects, workload, container))
            # With values in the Secrets, and without the optional ones (the shipped Secrets).
            for optional_secrets in (True, False):
                environment = container_environment(container, optional_secrets)
                result = subprocess.run([REPRISE, "check-config", path], capture_output=True, text=True,
                                        env={"PATH": os.environ.get("PATH", ""), **environment})
                assert result.returncode == 0, f"{name}: {path.name}: {result.stdout}{result.stderr}"
            checked += 1
    assert checked


def test_check_config_fails_without_the_pods_environment(tmp_path):
    """The configs depend on the Deployment's variables: without them check-config must fail,
    so the test above proves the Deployment provides them."""
    if not REPRISE.exists():
        pytest.skip(NO_BINARY)
    objects = rendered("sidecar")
    workload = find(objects, "Deployment", "example-app")[0]
    container = reprise_containers(workload)[0][0]
    path = tmp_path / "reprise.yaml"
    path.write_text(mounted_config(objects, workload, container))
    result = subprocess.run([REPRISE, "check-config", path], capture_output=True, text=True,
                            env={"PATH": os.environ.get("PATH", "")})
    assert result.returncode == 78 and "REPRISE_UPSTREAM_URL" in result.stdout + result.stderr


def test_base_includes_the_alert_rules_unchanged():
    rule = [o for o in rendered("base") if o["kind"] == "PrometheusRule"]
    original = yaml.safe_load((K8S / "monitoring" / "prometheusrule.yaml").read_text())
    assert len(rule) == 1
    assert rule[0]["spec"] == original["spec"]
    assert rule[0]["spec"]["groups"][0]["rules"], "no alert rules"


def test_custom_resources_have_the_fields_the_operator_needs():
    monitor = find(rendered("base"), "PodMonitor")[0]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/metrics"
    config = yaml.safe_load((K8S / "base" / "workload" / "reprise.yaml").read_text())
    assert config["metrics"].get("path", "/metrics") == "/metrics"
    rule = find(rendered("base"), "PrometheusRule")[0]
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(alert), alert.get("alert")


def test_grafana_dashboard_configmap_is_the_dashboard_file():
    objects = rendered("grafana")
    assert len(objects) == 1
    config_map = objects[0]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["data"]["reprise.json"] == (ROOT / "grafana" / "dashboards" / "reprise.json").read_text()
    json.loads(config_map["data"]["reprise.json"])


@pytest.mark.parametrize("example", ["add-sidecar.yaml", "classic-sidecar.yaml"])
def test_example_patches_turn_a_plain_deployment_into_a_valid_one(example, tmp_path):
    """The README's snippets: each patch applied to a plain Deployment renders a valid pod with
    Reprise next to the app."""
    kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    plain = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "my-app"},
        "spec": {"selector": {"matchLabels": {"app": "my-app"}},
                 "template": {"metadata": {"labels": {"app": "my-app"}},
                              "spec": {"containers": [{"name": "app", "image": "my-app:1"}]}}},
    }
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump(plain))
    shutil.copy(K8S / "examples" / example, tmp_path / example)
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(
        {"resources": ["deployment.yaml"], "patches": [{"path": example}]}))
    (deployment,) = render(tmp_path)
    kubernetes_validate.validate(deployment, OLDEST_KUBERNETES, strict=True)
    spec = pod_spec(deployment)
    (reprise, native), = reprise_containers(deployment)
    assert native == (example == "add-sidecar.yaml")
    app = [c for c in spec["containers"] if c["name"] == "app"][0]
    assert app["image"] == "my-app:1"
    assert {"name": "OPENAI_BASE_URL", "value": "http://127.0.0.1:8080/v1"} in app["env"]
    assert pod_labels(deployment) == {"app": "my-app", "reprise-proxy": "true"}
    assert reprise["volumeMounts"][0]["mountPath"] == "/etc/reprise"


# ---------------------------------------------------------------------------------------------
# Containerfile


def containerfile_stages():
    """[(stage name, base image, [(instruction, arguments)])], continuation lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    arguments = {}
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "ARG" and not stages:
            name, _, default = rest.partition("=")
            arguments[name] = default
        elif instruction == "FROM":
            image, _, alias = rest.partition(" AS ")
            image = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], image)
            stages.append((alias.strip(), image.strip(), []))
        else:
            stages[-1][2].append((instruction, rest))
    return stages


def test_containerfile_copies_only_what_exists_or_the_build_stage_made():
    stages = containerfile_stages()
    names = [name for name, _, _ in stages]
    assert names == ["build", "runtime"]
    for name, _, instructions in stages:
        for instruction, rest in (i for i in instructions if i[0] == "COPY"):
            words = shlex.split(rest)
            source_stage = [w.split("=", 1)[1] for w in words if w.startswith("--from=")]
            sources = [w for w in words if not w.startswith("--")][:-1]
            for source in sources:
                if source_stage:
                    assert source_stage[0] in names[:names.index(name)], rest
                    producing = " ".join(r for i, r in dict(stages_by_name(stages))[source_stage[0]] if i == "RUN")
                    assert source.rstrip("/") in producing, f"{source} is not made by stage {source_stage[0]}"
                else:
                    assert (ROOT / source).exists(), f"COPY source {source} does not exist"


def stages_by_name(stages):
    return [(name, instructions) for name, _, instructions in stages]


def test_containerfile_runtime_stage_has_no_compiler_and_no_root_user():
    _, image, instructions = containerfile_stages()[-1]
    assert image.startswith("debian:") and "swift" not in image
    installed = " ".join(rest for instruction, rest in instructions if instruction == "RUN")
    packages = runtime_packages()
    for forbidden in ("swift", "clang", "gcc", "g++", "build-essential", "make"):
        assert forbidden not in packages, forbidden
    assert not any(p.endswith("-dev") for p in packages)
    assert "swift build" not in installed
    users = [rest for instruction, rest in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entrypoint = json.loads([rest for instruction, rest in instructions if instruction == "ENTRYPOINT"][-1])
    copied = [shlex.split(rest) for instruction, rest in instructions if instruction == "COPY"]
    assert ["scripts/container-entrypoint.sh", entrypoint[0]] in copied


def runtime_packages():
    _, _, instructions = containerfile_stages()[-1]
    text = " ".join(rest for instruction, rest in instructions if instruction == "RUN")
    match = re.search(r"apt-get install -y --no-install-recommends (.*?)(?:&&|$)", text)
    return match.group(1).split()


# Libraries every Debian image has (Essential packages and their dependencies).
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "libzstd1", "zlib1g"}


def test_runtime_packages_provide_every_shared_library_the_binary_loads():
    if not REPRISE.exists():
        pytest.skip(NO_BINARY)
    if not shutil.which("ldd") or not shutil.which("dpkg"):
        pytest.skip("ldd and dpkg are needed to map libraries to Debian packages")
    result = subprocess.run(["ldd", REPRISE], capture_output=True, text=True, check=True)
    packages = set(runtime_packages()) | BASE_IMAGE_PACKAGES
    missing = []
    for line in result.stdout.splitlines():
        match = re.search(r"=> (/\S+)", line)
        if not match or "/swift/" in match.group(1):
            continue  # the Swift runtime: copied from the build stage
        owner = subprocess.run(["dpkg", "-S", os.path.realpath(match.group(1))], capture_output=True, text=True)
        if owner.returncode != 0:
            owner = subprocess.run(["dpkg", "-S", match.group(1)], capture_output=True, text=True)
        package = owner.stdout.split(":")[0]
        if package not in packages:
            missing.append(f"{match.group(1)} ({package or 'no package'})")
    assert not missing, f"not installed in the runtime stage: {missing}"


# ---------------------------------------------------------------------------------------------
# The entrypoint script, outside a container


def entrypoint_environment(tmp_path, **extra):
    return {"PATH": os.environ.get("PATH", ""), "REPRISE_BIN": str(REPRISE),
            "REPRISE_MOUNTED_CONFIG": str(tmp_path / "etc" / "reprise.yaml"),
            "REPRISE_DEFAULT_CONFIG": str(ROOT / "config" / "reprise.yaml"), **extra}


def run_entrypoint(tmp_path, *args, **extra):
    return subprocess.run(["sh", ENTRYPOINT, *args], capture_output=True, text=True, timeout=60,
                          env=entrypoint_environment(tmp_path, **extra))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class EntrypointProcess(ManagedProcess):
    """The script started as the container runtime would: a clean environment, then exec."""

    def __init__(self, tmp_path, args, **extra):
        assignments = [f"{k}={v}" for k, v in entrypoint_environment(tmp_path, **extra).items()]
        super().__init__(["env", "-i", *assignments, "sh", ENTRYPOINT, *args], timeout=30)

    def metrics_port(self, timeout=10):
        """The separate metrics listener's port, printed just after the main listener's."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                match = re.search(r"listening on metrics://\S+:(\d+)", line)
                if match:
                    return int(match.group(1))
            time.sleep(0.05)
        raise AssertionError(f"no metrics listener: {''.join(self.output)}")


@pytest.fixture
def need_binary():
    if not REPRISE.exists():
        pytest.skip(NO_BINARY)


def test_entrypoint_serves_the_image_default_and_execs_reprise(tmp_path, need_binary):
    process = EntrypointProcess(tmp_path, ["--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9"])
    try:
        assert any("config/reprise.yaml (image default)" in line for line in process.output)
        assert get(process.url + "/healthz") == 200
        # exec: the process started is reprise itself, which gets the kubelet's SIGTERM.
        assert Path(f"/proc/{process.proc.pid}/exe").resolve() == REPRISE.resolve()
    finally:
        process.proc.send_signal(signal.SIGTERM)
        assert process.proc.wait(40) == 0


def test_entrypoint_prefers_the_mounted_config_and_drains_on_sigterm(tmp_path, need_binary):
    objects = rendered("sidecar")
    workload = find(objects, "Deployment", "example-app")[0]
    container = reprise_containers(workload)[0][0]
    config = yaml.safe_load(mounted_config(objects, workload, container))
    config["metrics"]["listen"] = "127.0.0.1:0"  # the pod's 0.0.0.0:9090, on a free port here
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "reprise.yaml").write_text(yaml.safe_dump(config))
    environment = container_environment(container)
    environment.update(REPRISE_UPSTREAM_URL="http://127.0.0.1:9", REDIS_URL="")
    process = EntrypointProcess(tmp_path, ["--listen", "127.0.0.1:0"], **environment)
    try:
        assert any("(mounted)" in line for line in process.output)
        metrics = f"http://127.0.0.1:{process.metrics_port()}"
        assert get(metrics + "/readyz") == 200 and get(metrics + "/healthz") == 200
        process.proc.send_signal(signal.SIGTERM)
        # server.drain_delay: not ready, still alive and accepting, so the kubelet's readiness
        # probe takes the pod out of Services before connections are refused.
        deadline = time.monotonic() + 1.5
        statuses = set()
        while time.monotonic() < deadline:
            statuses.add((get(metrics + "/readyz"), get(process.url + "/healthz")))
            time.sleep(0.1)
        assert (503, 200) in statuses, statuses
        assert process.proc.wait(40) == 0
    finally:
        process.stop()


def test_entrypoint_check_config_validates_the_chosen_file(tmp_path, need_binary):
    assert run_entrypoint(tmp_path, "check-config").returncode == 0
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "reprise.yaml").write_text("server:\n  listn: 127.0.0.1:8080\n")
    result = run_entrypoint(tmp_path, "check-config")
    assert result.returncode == 78 and "server.listn" in result.stdout + result.stderr
    assert run_entrypoint(tmp_path, "--version").stdout.strip()


def test_entrypoint_refuses_an_unreadable_config(tmp_path):
    result = run_entrypoint(tmp_path, REPRISE_CONFIG=str(tmp_path / "missing.yaml"))
    assert result.returncode == 78 and "missing.yaml (REPRISE_CONFIG) is not readable" in result.stderr

"""The systems under test and their helpers: the mock upstream, Reprise in a given cache
configuration, nginx (caching or plain) and redis-server. Reprise's YAML pieces are variables
here (overridable from the environment) so they follow the configuration format as it evolves."""
import os
import subprocess

from pki import SERVER_NAME
from processes import StartError, free_port, wait_for_port

# Reprise's configuration: BASE wraps one CACHE_* snippet. Override any of them with the
# environment variable of the same name prefixed BENCH_ (e.g. BENCH_CACHE_REDIS_YAML).
BASE_YAML = """\
server:
  listen: 127.0.0.1:0
  threads: {threads}
{server_tls_yaml}upstream:
  url: {upstream_url}
{upstream_tls_yaml}logging:
  # Like nginx's access_log off: no per-request log lines on the measured path.
  level: warning
{cache_yaml}"""

CACHE_L1_YAML = """\
cache:
  enabled: true
  memory:
    enabled: true
"""

# Redis as the only cache layer (L1 off): the hit is served from Redis.
CACHE_REDIS_YAML = """\
cache:
  enabled: true
  memory:
    enabled: false
  redis:
    url: redis://127.0.0.1:{redis_port}
"""

CACHE_OFF_YAML = """\
cache:
  enabled: false
"""

YAML = {name: os.environ.get("BENCH_" + name, value) for name, value in {
    "BASE_YAML": BASE_YAML,
    "CACHE_L1_YAML": CACHE_L1_YAML,
    "CACHE_REDIS_YAML": CACHE_REDIS_YAML,
    "CACHE_OFF_YAML": CACHE_OFF_YAML,
}.items()}

# Reprise's HTTPS listener (server.tls) with the run's certificate: the hit-https scenario.
SERVER_TLS_YAML = """\
  tls:
    listen: 127.0.0.1:{port}
    certificate: {certificate}
    private_key: {key}
"""

# An https:// upstream (the TLS mock): trusted through the run's private CA only.
UPSTREAM_TLS_YAML = """\
  ca_file: {ca_file}
"""

REPRISE_LISTENING = r"reprise listening on http://127\.0\.0\.1:(\d+)"
MOCK_LISTENING = r"reprise-mock-upstream listening on 127\.0\.0\.1:(\d+)"


class ConfigRejected(Exception):
    """Reprise refused a configuration (e.g. a key this version does not know yet)."""


class Systems:
    def __init__(self, registry, work_dir, bin_dir, repo_dir, threads):
        self.registry = registry
        self.work_dir = work_dir
        self.bin_dir = bin_dir
        self.repo_dir = repo_dir
        self.threads = threads
        self.count = 0

    def _name(self, base):
        self.count += 1
        return f"{self.count:02d}-{base}"

    def binary(self, name):
        return os.path.join(self.bin_dir, name)

    # The mock upstream ------------------------------------------------------------------------
    def start_mock(self, latency_ms=0, chunk_delay_ms=0, chunks=8, pki=None):
        """pki: serve HTTPS with its server certificate (the mock's --tls-certificate/--tls-key)."""
        argv = [self.binary("reprise-mock-upstream"), "--port", "0", "--threads", str(self.threads),
                "--latency-ms", str(latency_ms), "--chunk-delay-ms", str(chunk_delay_ms),
                "--chunks", str(chunks)]
        if pki is not None:
            argv += ["--tls-certificate", pki.certificate, "--tls-key", pki.key]
        child = self.registry.start(self._name("mock-tls" if pki else "mock"), argv, MOCK_LISTENING)
        child.pki = pki
        return child

    # Reprise -----------------------------------------------------------------------------------
    @staticmethod
    def upstream_url(upstream_port, pki=None):
        if pki is None:
            return f"http://127.0.0.1:{upstream_port}"
        return f"https://{SERVER_NAME}:{upstream_port}"

    def reprise_config(self, cache_name, upstream_port, redis_port=None, threads=None, pki=None, serve_tls=None):
        """serve_tls: (pki, port) for an HTTPS listener beside the plain one."""
        cache_yaml = YAML[cache_name].format(redis_port=redis_port)
        tls_yaml = UPSTREAM_TLS_YAML.format(ca_file=pki.ca_file) if pki else ""
        server_tls_yaml = ""
        if serve_tls:
            server_pki, port = serve_tls
            server_tls_yaml = SERVER_TLS_YAML.format(port=port, certificate=server_pki.certificate, key=server_pki.key)
        text = YAML["BASE_YAML"].format(threads=threads or self.threads, upstream_port=upstream_port,
                                        server_tls_yaml=server_tls_yaml,
                                        upstream_url=self.upstream_url(upstream_port, pki),
                                        upstream_tls_yaml=tls_yaml, cache_yaml=cache_yaml)
        path = os.path.join(self.work_dir, f"reprise-{cache_name.lower()}-{upstream_port}.yaml")
        with open(path, "w") as f:
            f.write(text)
        check = subprocess.run([self.binary("reprise"), "check-config", path],
                               capture_output=True, text=True)
        if check.returncode != 0:
            message = " ".join((check.stderr or check.stdout).replace(path, "the config").split())
            raise ConfigRejected(message)
        return path

    def start_reprise(self, cache_name, upstream_port, redis_port=None, threads=None, wrapper=None,
                      binary=None, timeout=60, pki=None, serve_pki=None):
        """pki: the upstream is the TLS mock, trusted through pki.ca_file. serve_pki: Reprise also
        serves HTTPS with that certificate, on child.tls_port."""
        tls_port = free_port() if serve_pki else None
        config = self.reprise_config(cache_name, upstream_port, redis_port, threads, pki,
                                     serve_tls=(serve_pki, tls_port) if serve_pki else None)
        argv = (wrapper or []) + [binary or self.binary("reprise"), "--config", config,
                                  "--listen", "127.0.0.1:0",
                                  "--upstream", self.upstream_url(upstream_port, pki)]
        child = self.registry.start(self._name(f"reprise-{cache_name.lower()}"), argv, REPRISE_LISTENING,
                                    timeout=timeout)
        child.config_path = config
        child.tls_port = tls_port
        if tls_port:
            wait_for_port(tls_port, timeout, child)
        return child

    # nginx --------------------------------------------------------------------------------------
    def start_nginx(self, kind, upstream_port, workers=None, extra_globals="", wrapper=None, pki=None):
        """kind: "cache", "plain" or "plain-tls" (bench/nginx/<kind>.conf); pki for plain-tls.
        "cache-tls": cache.conf listening with TLS (pki's certificate) instead of plain HTTP."""
        name = self._name(f"nginx-{kind}")
        prefix = os.path.join(self.work_dir, name)
        for sub in ("", "cache", "client_body", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"):
            os.makedirs(os.path.join(prefix, sub), exist_ok=True)
        port = free_port()
        conf_name = "cache" if kind == "cache-tls" else kind
        with open(os.path.join(self.repo_dir, "bench", "nginx", f"{conf_name}.conf")) as f:
            conf = f.read()
        if kind == "cache-tls":
            conf = conf.replace("listen {{LISTEN}} backlog=4096;", NGINX_TLS_LISTEN)
        replacements = {
            "{{USER_LINE}}": "user root;" if os.geteuid() == 0 else "",
            "{{WORKERS}}": str(workers or self.threads),
            "{{PREFIX}}": prefix,
            "{{UPSTREAM}}": f"127.0.0.1:{upstream_port}",
            "{{LISTEN}}": f"127.0.0.1:{port}",
            "{{CA_FILE}}": pki.ca_file if pki else "",
            "{{CERTIFICATE}}": pki.certificate if pki else "",
            "{{CERTIFICATE_KEY}}": pki.key if pki else "",
            "{{SERVER_NAME}}": SERVER_NAME,
        }
        for key, value in replacements.items():
            conf = conf.replace(key, value)
        conf_path = os.path.join(prefix, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        argv = (wrapper or []) + [nginx_binary(), "-p", prefix, "-e", os.path.join(prefix, "error.log"),
                                  "-c", conf_path, "-g", "daemon off;" + extra_globals]
        child = self.registry.start(name, argv)
        wait_for_port(port, 60, child)
        child.port = port
        return child

    # redis-server ------------------------------------------------------------------------------
    def start_redis(self):
        port = free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.work_dir, "--maxmemory", "1gb",
                "--maxmemory-policy", "allkeys-lru"]
        child = self.registry.start(self._name("redis"), argv)
        wait_for_port(port, 30, child)
        child.port = port
        return child


# nginx's HTTPS listener for the hit-https scenario: the run's certificate, TLS 1.2-1.3 as
# Reprise's listener offers, sessions cached and tickets on (Reprise resumes both ways too).
NGINX_TLS_LISTEN = """listen {{LISTEN}} ssl backlog=4096;
        ssl_certificate {{CERTIFICATE}};
        ssl_certificate_key {{CERTIFICATE_KEY}};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:bench_ssl:10m;"""


def nginx_binary():
    for candidate in ("/usr/sbin/nginx", "/usr/bin/nginx"):
        if os.path.exists(candidate):
            return candidate
    return "nginx"

"""A throwaway PKI for the https:// upstream scenarios, made per run by bench/lib/make-pki.sh
(openssl CLI) in the run's work directory (removed with it; nothing is committed): a private
CA and an ECDSA P-256 server certificate for localhost / 127.0.0.1 signed by it."""
import os
import subprocess

# The name both proxies verify the mock's certificate against (Reprise's upstream URL host,
# nginx's proxy_ssl_name); /etc/hosts maps it to 127.0.0.1, where the mock listens.
SERVER_NAME = "localhost"

MAKE_PKI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-pki.sh")


class PKI:
    def __init__(self, directory):
        self.directory = directory
        self.ca_file = os.path.join(directory, "ca.pem")
        self.certificate = os.path.join(directory, "server.pem")
        self.key = os.path.join(directory, "server.key")


def make_pki(work_dir):
    directory = os.path.join(work_dir, "pki")
    os.makedirs(directory, exist_ok=True)
    result = subprocess.run([MAKE_PKI, directory], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{MAKE_PKI} failed: {result.stderr.strip()[-400:]}")
    return PKI(directory)

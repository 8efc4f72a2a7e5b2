"""What the bench scripts share: nginx on loopback, Scrapy's settings, worker subprocesses,
memory readings, and the machine, versions and commit recorded with every result.

Imported as `common` (the scripts put bench/ on sys.path, as they do for dedup_corpus).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATA = REPO.parent / "shared" / "bench"
USER_AGENT = "scrape-clean-bench/0.1 (+https://example.org/scrape-clean)"


class BenchError(Exception):
    """The bench could not run (as opposed to a system that failed)."""


def read_html(path: Path) -> str:
    """A benchmark page (gzip or not) decoded as UTF-8, errors replaced (as bench/quality.py)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------
# nginx on 127.0.0.x

NGINX_CONF = """\
# Written by bench/common.py. One worker process: on a 2-core machine the client gets the other.
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    gzip off;
    charset utf-8;
    types {{ text/html html; }}
    default_type application/octet-stream;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
{listen}
        server_name localhost;
        root {site};
        location / {{ try_files $uri =404; }}
    }}
}}
"""

# Straight to 127.0.0.1, whatever *_proxy variables say.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError(
            "nginx is not installed and this is not root, so the bench cannot install it: "
            "run `sudo apt-get install -y nginx` (or put nginx on PATH) and try again"
        )
    print("nginx is not installed: installing it with `apt-get install -y nginx` ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "nginx"]
    if subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False).returncode:
        print("apt-get install failed: running `apt-get update` and trying again ...", flush=True)
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL, check=False)
        if subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=False).returncode:
            raise BenchError("could not install nginx with apt-get (see the messages above)")
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        raise BenchError("apt-get installed nginx but no nginx binary was found")
    print(f"installed nginx: {found}", flush=True)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx in the foreground (daemon off) as our child; `stop` ends it by its pid.

    `hosts` > 1: the same site also on 127.0.0.2, 127.0.0.3, ... (same port), which clients
    take for distinct hosts (their per-host limits and connection pools are per origin)."""

    def __init__(self, binary: str, tmp: Path, site: Path, hosts: int = 1) -> None:
        if not 1 <= hosts <= 254:
            raise ValueError("hosts must be 1 to 254")
        self.binary, self.tmp, self.site, self.hosts = binary, tmp, site, hosts
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, probe_path: str) -> None:
        for _ in range(5):  # the port may be taken between free_port() and nginx's bind
            self.port = free_port()
            conf = self.tmp / "nginx.conf"
            listen = "\n".join(f"        listen {self.address(h)}:{self.port};"
                               for h in range(self.hosts))
            conf.write_text(NGINX_CONF.format(tmp=self.tmp, site=self.site, listen=listen))
            self.proc = subprocess.Popen(
                [self.binary, "-p", str(self.tmp), "-e", str(self.tmp / "error.log"),
                 "-c", str(conf)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with _NO_PROXY.open(self.url(probe_path, self.hosts - 1), timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    time.sleep(0.05)
            err = self._stop_and_read_errors()
            if "Address already in use" not in err:
                raise BenchError(f"nginx did not start: {err.strip() or 'no message'}")
        raise BenchError("nginx could not bind a free port on 127.0.0.1 (5 tries)")

    @staticmethod
    def address(host: int) -> str:
        return f"127.0.0.{host + 1}"

    def url(self, path: str, host: int = 0) -> str:
        return f"http://{self.address(host)}:{self.port}/{path}"

    def version(self) -> str:
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True, check=False)
        return (out.stderr or out.stdout).strip().removeprefix("nginx version: ")

    def _stop_and_read_errors(self) -> str:
        self.stop()
        log = self.tmp / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGQUIT)  # graceful: the master waits for its worker
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_serving(name: str, bench: Callable[[], int]) -> int:
    """Run a bench that serves pages with nginx: SIGTERM and SIGHUP end it as Ctrl-C does (so
    its `finally` stops nginx); exit status 2 when it could not run, 130 when interrupted."""
    def on_signal(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return bench()
    except BenchError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; nginx stopped", file=sys.stderr)
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def scrapy_settings(concurrency: int, per_domain: int | None = None,
                    log_level: str = "ERROR") -> dict[str, Any]:
    """Scrapy with politeness off: no delay, robots.txt, AutoThrottle, cache, cookies or
    telnet console; `concurrency` requests at once, `per_domain` (default: all) per host."""
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain or concurrency,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": log_level,
        "USER_AGENT": USER_AGENT,
    }


# ---------------------------------------------------------------------------------------------
# Worker subprocesses


def worker_env() -> dict[str, str]:
    """The environment of a measured subprocess: no proxy settings (loopback traffic stays on
    loopback), a fixed hash seed, and one thread for numerical libraries."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    return env


def run_json_worker(cmd: Sequence[str], label: dict[str, Any], timeout: float,
                    echo_stderr: bool = False) -> dict[str, Any]:
    """Run `cmd` (in the repo, worker_env) and return the last JSON line it printed, or
    `label` with an "error" saying why there is none."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=worker_env(),
                              timeout=timeout, cwd=REPO, check=False)
    except subprocess.TimeoutExpired:
        return {**label, "error": f"no result within {timeout:.0f} s"}
    if echo_stderr:
        print(proc.stderr)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return {**label, "error": f"worker exited with {proc.returncode}:\n{tail}"}
    return json.loads(lines[-1])


def parse_choices(value: str, known: Iterable[str]) -> list[str]:
    """A comma-separated --systems value, each checked against `known`."""
    known = list(known)
    chosen = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown system(s) {', '.join(unknown) or '(none)'}; "
            f"choose from: {', '.join(known)}")
    return chosen


def proc_status_kib(field: str, pid: int | str = "self") -> int:
    """VmRSS (now) or VmHWM (peak) of a process, KiB (not ru_maxrss: Linux carries that
    over an exec, so a child would report the parent's). 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss if pid == "self" else 0


def reset_peak_rss() -> bool:
    """Restart VmHWM from the current RSS (Linux: "5" to clear_refs), so the peak measured
    afterwards is that of what follows, not of loading the inputs."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------
# What a result records


def machine() -> dict[str, Any]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "platform": platform.platform()}


def versions(dists: Iterable[str], **extra: str) -> dict[str, str]:
    """Python's version, `extra` as given, and each installed distribution's."""
    out = {"python": platform.python_version(), **extra}
    for dist in dists:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


def git_state() -> dict[str, Any]:
    """The commit measured and whether the working tree had changes (None outside a repo)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True,
                                  text=True, timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def rounded(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 5)
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` (floats rounded) whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rounded(payload), indent=1, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    tmp.replace(path)


def rate_spread(good: list[dict[str, Any]], count: str,
                unit: str) -> tuple[dict[str, float], dict[str, Any]]:
    """`{unit}_per_s` (median), `_min` and `_max` of `run[count] / run["wall_s"]` over the
    good runs, and the run with the median rate."""
    rates = [r[count] / r["wall_s"] for r in good]
    median_run = sorted(good, key=lambda r: r[count] / r["wall_s"])[len(good) // 2]
    return ({f"{unit}_per_s": statistics.median(rates), f"{unit}_per_s_min": min(rates),
             f"{unit}_per_s_max": max(rates)}, median_run)

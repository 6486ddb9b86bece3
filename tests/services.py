"""Throwaway real servers for tests that run the production profile: a Redis server, a
PostgreSQL cluster or database, gunicorn, a Celery worker, an SMTP server that only counts,
and a small browser that talks to gunicorn as a person's browser would.

Everything here is started by the test that needs it, on a free port on the loopback
interface, in a directory of its own, and stopped (its whole process group) and removed when
the test ends, whatever happened. Waits are bounded and poll.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import http.cookiejar
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "faults-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
ENCRYPTION_KEY = "q8Kc6jGm1v2UQZlT3mE6m7yQeYtF0H1bR3wVb8yQ2Sg="
#: Settings of the surrounding shell that would change what a server started here does.
NOT_INHERITED = {"MAIL_SERVER", "MAIL_PORT", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_USE_TLS",
                 "CELERY_RESULT_BACKEND", "REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL",
                 "LMS_ENV", "SECRET_KEY", "ENCRYPTION_KEY", "ENCRYPTION_KEY_FILE", "BASE_URL"}
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def postgresql_server_url() -> str:
    """The suite's PostgreSQL server (``TEST_DATABASE_URL``); the tests that run the
    production profile are skipped in the SQLite pass, by design: they run in the PostgreSQL
    pass of ``make test``."""
    import pytest

    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        pytest.skip("runs the production profile, which is on PostgreSQL: it runs in the "
                    "PostgreSQL pass of make test (TEST_DATABASE_URL)")
    return url.replace("postgres://", "postgresql://", 1)


def check_postgresql(url: str) -> None:
    import psycopg

    psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                    connect_timeout=3).close()


def check_redis_server_installed() -> None:
    if not shutil.which("redis-server"):
        raise FileNotFoundError("redis-server is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float, what: str | Callable[[], str],
               interval: float = 0.05):
    """Poll ``check`` until it returns something true, for at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g} s waiting for "
                               f"{what() if callable(what) else what}")
        time.sleep(interval)


def app_environment(**settings: str) -> dict[str, str]:
    """The environment of a web or worker process: the production profile's settings, none of
    the shell's, and the repository on the path (for the tests' own worker entry)."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update({"LMS_ENV": "development", "SECRET_KEY": SECRET_KEY,
                "ENCRYPTION_KEY": ENCRYPTION_KEY, "LOG_LEVEL": "INFO",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                            env.get("PYTHONPATH")]))})
    env.update(settings)
    return env


# --- processes ----------------------------------------------------------------------------


class Service:
    """A process in a session (so a process group) of its own, with its output in a file."""

    def __init__(self, name: str, log: Path):
        self.name = name
        self.log = log
        self.process: subprocess.Popen | None = None

    def _spawn(self, args: list[str], env: dict | None = None, cwd: Path | None = None) -> None:
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(args, env=env, cwd=cwd or ROOT, stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def output(self, tail: int = 6000) -> str:
        try:
            return self.log.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL for the whole group (a worker and its pool children), at once."""
        if self.process is None:
            return
        self.signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a pool child that outlived its parent) goes too.
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


class RedisServer(Service):
    """``redis-server`` keeping nothing on disk, as the production cache and broker does when
    it restarts empty."""

    def __init__(self, directory: Path, port: int | None = None):
        super().__init__("redis", directory / "redis.log")
        self.directory = directory
        self.port = port or free_port()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def ping(self) -> bool:
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1,
                             socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server") or "redis-server"
        self._spawn([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                     "--appendonly", "no", "--dir", str(self.directory)])
        wait_until(self.ping, 15, lambda: f"redis-server on {self.port}:\n{self.output()}")
        return self


class PostgresCluster:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary directory, as the
    ``postgres`` user when running as root), on a free port, for tests that stop it."""

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="lms-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                cwd=self.directory, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): "
                               f"{result.stdout}{result.stderr}\n{self.output()}")
        return result

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> PostgresCluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
        return self

    def _options(self) -> str:
        return (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
                "-c max_connections=50 -c shared_buffers=16MB")

    def start(self) -> PostgresCluster:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-w", "-t", "30", "start")
        return self

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-m", "fast", "-w", "-t", "30", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_bindir() -> Path:
    """The newest installed PostgreSQL's server programs (Debian keeps them off the PATH)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise FileNotFoundError("initdb (PostgreSQL's server programs) is not installed")


def check_postgres_binaries() -> None:
    bindir = postgres_bindir()
    for program in ("initdb", "pg_ctl", "postgres"):
        if not (bindir / program).exists():
            raise FileNotFoundError(f"{bindir / program} is missing")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        raise FileNotFoundError("runuser (to run initdb as the postgres user) is missing")


@contextlib.contextmanager
def throwaway_database(server_url: str, prefix: str) -> Iterator[str]:
    """A database made for one test on an existing server, dropped afterwards; the URL of the
    server is any database on it (``.../test``). Yields the new database's URL."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    base = server_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        with psycopg.connect(base + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Gunicorn(Service):
    def __init__(self, directory: Path, env: dict[str, str], *, workers: int = 1,
                 threads: int = 4):
        super().__init__("gunicorn", directory / "gunicorn.log")
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.threads = threads

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self._spawn([sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-k", "gthread",
                     "--threads", str(self.threads), "-b", f"127.0.0.1:{self.port}",
                     "--graceful-timeout", "2", "--log-level", "info", "lms.wsgi:app"],
                    env=self.env)
        return self

    def wait_ready(self, timeout: float = 60) -> Gunicorn:
        def healthy():
            if not self.running():
                raise AssertionError(f"gunicorn exited:\n{self.output()}")
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200

        try:
            wait_until(healthy, timeout, lambda: f"gunicorn:\n{self.output()}", interval=0.1)
        except AssertionError as exc:
            raise TimeoutError(str(exc)) from exc
        return self


class CeleryWorker(Service):
    def __init__(self, directory: Path, env: dict[str, str], *, name: str = "worker",
                 app: str = "lms.worker", beat: bool = False, pool: str = "prefork"):
        super().__init__(name, directory / f"{name}.log")
        self.directory = directory
        self.env = env
        self.app = app
        self.beat = beat
        self.pool = pool

    def start(self) -> CeleryWorker:
        args = [sys.executable, "-m", "celery", "-A", self.app, "worker", f"--pool={self.pool}",
                "--concurrency=1", "-Q", "celery", "-n", f"{self.name}-{secrets.token_hex(3)}@%h",
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                "--loglevel=INFO"]
        if self.beat:
            args += ["--beat", "--schedule", str(self.directory / f"{self.name}-beat-schedule")]
        self._spawn(args, env=self.env, cwd=self.directory)
        return self

    def pool_processes(self) -> list[int]:
        """The pool's child processes (the ones that run tasks), by process id."""
        return child_processes(self.process.pid) if self.process else []

    def wait_ready(self, timeout: float = 60) -> CeleryWorker:
        def ready():
            if not self.running():
                raise AssertionError
            return "ready." in self.output(tail=10**7)

        try:
            wait_until(ready, timeout, lambda: f"{self.name}:\n{self.output()}", interval=0.1)
        except AssertionError as exc:
            raise TimeoutError(f"{self.name} exited:\n{self.output()}") from exc
        return self


def child_processes(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux: read from /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return found


# --- an SMTP server that counts what it is given -----------------------------------------


class SmtpSink:
    """Just enough SMTP to take messages from ``smtplib``; every message is kept, so a test
    can say how many times each address was written to."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 sink ESMTP")
                sender, recipients = "", []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.reply("250 sink")
                    elif verb == b"MAIL":
                        sender, recipients = _address(line), []
                        self.reply("250 OK")
                    elif verb == b"RCPT":
                        recipients.append(_address(line))
                        self.reply("250 OK")
                    elif verb == b"DATA":
                        self.reply("354 go on")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        with sink._lock:
                            sink.messages.append((sender, recipients, data))
                        self.reply("250 kept")
                    elif verb == b"QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP and anything else
                        self.reply("250 OK")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> SmtpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sent_to(self) -> Counter:
        """How many messages each address was given."""
        with self._lock:
            return Counter(r.lower() for _, recipients, _ in self.messages for r in recipients)

    def delivered(self) -> Counter:
        """How many messages each (address, subject) was given."""
        from email.parser import BytesHeaderParser
        from email.policy import default

        with self._lock:
            messages = list(self.messages)
        parse = BytesHeaderParser(policy=default).parsebytes
        return Counter((r.lower(), str(parse(data)["Subject"]))
                       for _, recipients, data in messages for r in recipients)


def _address(line: bytes) -> str:
    match = re.search(rb"<([^>]*)>", line)
    return (match.group(1) if match else line.split(b":", 1)[-1].strip()).decode()


# --- a browser ----------------------------------------------------------------------------


@dataclass
class Page:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self):
        import json

        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, the form token and nothing else: requests as a person's browser sends them.
    Redirects are not followed, so a test sees the server's answer itself; a connection that
    fails is status 0."""

    def __init__(self, base: str, timeout: float = 15):
        self.base = base
        self.timeout = timeout
        self.token: str | None = None
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects())

    def request(self, method: str, path: str, *, data: dict | None = None,
                files: dict[str, tuple[str, bytes, str]] | None = None,
                headers: dict[str, str] | None = None) -> Page:
        body, headers = None, dict(headers or {})
        if files:
            boundary = secrets.token_hex(12)
            body = _multipart(boundary, data or {}, files)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers=headers)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                page = Page(response.status, _lower(response.headers),
                            response.read().decode(errors="replace"))
        except urllib.error.HTTPError as error:
            page = Page(error.code, _lower(error.headers), error.read().decode(errors="replace"))
        except (OSError, http.client.HTTPException) as error:
            return Page(0, {}, f"{type(error).__name__}: {error}")
        match = TOKEN.search(page.body)
        if match:
            self.token = match.group(1)
        return page

    def get(self, path: str, **kwargs) -> Page:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> Page:
        if self.token is None:
            self.get("/sign-in")
        return self.request("POST", path, data={"csrf_token": self.token, **(data or {})},
                            **kwargs)

    def sign_in(self, email: str, password: str) -> Page:
        self.get("/sign-in")
        page = self.post("/sign-in", {"email": email, "password": password})
        if page.status == 302:
            self.get("/")  # the token is bound to the session, which signing in renewed
        return page


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _multipart(boundary: str, fields: dict, files: dict[str, tuple[str, bytes, str]]) -> bytes:
    out = b""
    for name, value in fields.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n").encode()
    for name, (filename, content, mimetype) in files.items():
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {mimetype}\r\n\r\n').encode()
        out += content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


# --- the platform's schema and content, on a database of the test's own --------------------


def prepared_app(database_url: str):
    """An app on ``database_url`` with the migrated schema, the courses and the item bank,
    for making people and records through the real services before the servers start."""
    from flask_migrate import upgrade

    from assessments.bank.services import load_bank
    from courses.services import load_content
    from lms import create_app
    from lms.platform.extensions import db

    app = create_app({"LMS_ENV": "testing", "SECRET_KEY": SECRET_KEY,
                      "ENCRYPTION_KEY": ENCRYPTION_KEY, "SQLALCHEMY_DATABASE_URI": database_url,
                      "BASE_URL": "http://127.0.0.1", "SERVER_NAME": None})
    with app.app_context():
        upgrade()
        load_content()
        load_bank()
        db.session.commit()
    return app

"""A real PostgreSQL on 127.0.0.1 for integration tests, from the Debian server binaries.

- Binaries: ``/usr/lib/postgresql/<major>/bin`` (Debian package ``postgresql``; the newest
  major wins), or the folder named by ``PHOTOATLAS_PG_BIN``. :func:`pg_bin_dir` returns
  ``None`` when there are none, so a test can skip with a reason.
- PostgreSQL refuses to run as root. CI runs as root, so there the cluster folder is owned
  by the ``postgres`` user (``nobody`` if the package made none) and every server binary
  runs through ``setpriv`` (util-linux, in every Debian) as that user. The folder is a fresh
  ``mkdtemp`` under the system temp dir (``/tmp`` if that one is private), not pytest's
  ``tmp_path``, whose root-owned 0700 parents the unprivileged user could not enter.
- One cluster per session: ``initdb`` with no fsync (~1 s), TCP on loopback only, the unix
  socket in the cluster folder, password (SCRAM) auth over TCP. A role and a database are
  created for the client with a password generated per run.
"""

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from tests.servers._proc import ServerProcess, free_port

START_TIMEOUT_S = 60.0
SUPERUSER = "postgres"


def pg_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``, or None when the server is not installed."""
    override = os.environ.get("PHOTOATLAS_PG_BIN")
    candidates = [Path(override)] if override else sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for c in candidates:
        if (c / "initdb").is_file() and (c / "postgres").is_file():
            return c
    return None


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the server: nobody changes when we are not root; as root, an unprivileged user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL as")


class PostgresServer:
    """``start()`` → ``host``, ``port``, ``db``, ``user``, ``password`` (a role that owns ``db``)."""

    def __init__(self, db: str = "photoatlas", user: str = "photoatlas"):
        self.host = "127.0.0.1"
        self.db = db
        self.user = user
        self.password = secrets.token_hex(12)  # generated per run: nothing real, nothing committed
        self._superuser_password = secrets.token_hex(12)
        self.port: int | None = None
        self.root: Path | None = None
        self.proc: ServerProcess | None = None
        self._runas = _service_user()

    def env(self) -> dict:
        """The DAGSTER_PG_* variables deploy/dagster.production.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db,
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
        }

    def connect(self, db: str | None = None, superuser: bool = False):
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, dbname=db or self.db, connect_timeout=3,
            user=SUPERUSER if superuser else self.user,
            password=self._superuser_password if superuser else self.password,
        )

    def _as_service_user(self, argv: list[str]) -> list[str]:
        if self._runas is None:
            return argv
        u = self._runas
        return ["setpriv", f"--reuid={u.pw_uid}", f"--regid={u.pw_gid}", "--clear-groups", "--", *argv]

    def _temp_base(self) -> str:
        """The system temp dir, or /tmp when the service user could not enter it (a private TMPDIR)."""
        base = Path(tempfile.gettempdir()).resolve()
        if self._runas is None or all(os.stat(p).st_mode & 0o001 for p in (base, *base.parents)):
            return str(base)
        return "/tmp"

    def start(self) -> "PostgresServer":
        bin_dir = pg_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries not found (Debian: apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="photoatlas-pg-", dir=self._temp_base()))
        if self._runas is not None:
            os.chown(self.root, self._runas.pw_uid, self._runas.pw_gid)
        pwfile = self.root / "superuser.pw"
        pwfile.write_text(self._superuser_password + "\n")
        if self._runas is not None:
            os.chown(pwfile, self._runas.pw_uid, self._runas.pw_gid)
        data = self.root / "data"
        env = {**os.environ, "LC_ALL": "C", "LANG": "C", "HOME": str(self.root)}
        done = subprocess.run(
            self._as_service_user([
                str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync",
            ]),
            cwd=self.root, env=env, capture_output=True, text=True, timeout=120,
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

        self.port = free_port()
        argv = self._as_service_user([
            str(bin_dir / "postgres"), "-D", str(data), "-h", self.host, "-p", str(self.port),
            "-k", str(self.root),  # the unix socket lives with the cluster, not in /var/run/postgresql
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=100", "-c", "shared_buffers=64MB",
        ])
        self.proc = ServerProcess("postgres", argv, self.root, env={"LC_ALL": "C", "LANG": "C", "HOME": str(self.root)})
        self.proc.start(self._ready, timeout_s=START_TIMEOUT_S)
        self._create_client_role()
        return self

    def _ready(self) -> bool:
        self.connect(db="postgres", superuser=True).close()
        return True

    def _create_client_role(self) -> None:
        from psycopg2 import sql

        conn = self.connect(db="postgres", superuser=True)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                role, db = sql.Identifier(self.user), sql.Identifier(self.db)
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(self.password)))
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, role))
        finally:
            conn.close()

    def create_database(self, name: str) -> dict:
        """A fresh database owned by the client role; returns ``env()`` pointing at it."""
        from psycopg2 import sql

        conn = self.connect(db="postgres", superuser=True)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(self.user)))
        finally:
            conn.close()
        return {**self.env(), "DAGSTER_PG_DB": name}

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back open sessions, do not wait for clients), then clean up."""
        if self.proc is not None and self.proc.proc is not None and self.proc.proc.poll() is None:
            try:
                os.kill(self.proc.proc.pid, signal.SIGINT)
                self.proc.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
            self.proc.stop()  # SIGTERM, then SIGKILL to the process group if it is still there
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

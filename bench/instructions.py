#!/usr/bin/env python3
"""Instructions per request: the service under valgrind's callgrind, which counts the instructions
it executes. A count, not a time, so neither the machine's speed on the day nor what else runs on
it enters the figure (docs/performance.md quotes it beside the A/B tables, which measure time).

    python3 bench/instructions.py ADMIN_URL BINARY [BINARY ...] [--endpoint 'GET events']

For each binary and endpoint ('GET case' as the leader, 'GET events' as the system account, at
1 000 cases): the service is started under callgrind twice, each time answers 100 requests of
warm-up and then N, one at a time, and stops; the difference of the two totals divided by the
difference of the N (1 300 − 300) is what one request costs, with start-up, warm-up and shutdown
cancelled out. The service's own threads are counted (valgrind runs them all); PostgreSQL's work
is not. Connections to PostgreSQL go without TLS (PGSSLMODE=disable, unless set).

ADMIN_URL is a PostgreSQL where a database and the role helhed_bench may be created (e.g.
postgres://postgres@127.0.0.1:5432/postgres). Needs valgrind and oha.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

WARMUP = 100
FEW, MANY = 300, 1300


def load(admin):
    """A database of 1 000 cases, as the benchmark's smallest size."""
    if R.psql(admin, f"SELECT count(*) FROM pg_roles WHERE rolname = '{R.ROLE}'") == "0":
        R.psql(admin, f"CREATE ROLE {R.ROLE} LOGIN NOSUPERUSER")
    db = "helhed_instructions"
    R.psql(admin, f"DROP DATABASE IF EXISTS {db}")
    R.psql(admin, f"CREATE DATABASE {db} OWNER {R.ROLE}")
    host = admin.split("@", 1)[1].split("/", 1)[0]
    return db, f"postgres://{R.ROLE}@{host}/{db}"


def endpoint_args(name, base, token_of):
    if name == "GET case":
        ids = "|".join(f"00000000-0000-7000-8000-{n:012x}" for n in range(1, 401))
        return ["-H", f"Authorization: Bearer {token_of('bench-es', 'bench.leader', 'leader')}",
                "--rand-regex-url", f"{base}/api/v1/cases/({ids})"]
    if name == "GET events":
        return ["-H", f"Authorization: Bearer {token_of('bench-es', 'bench.system', 'system')}",
                f"{base}/api/v1/events?limit=50"]
    raise SystemExit(f"unknown endpoint {name!r}: 'GET case' or 'GET events'")


def instructions(binary, db_url, issuers, endpoint, requests, tmp):
    """The service's instructions in all, started under callgrind, after WARMUP + `requests`."""
    port = R.free_port()
    out = os.path.join(tmp, f"callgrind.{port}")
    env = dict(os.environ, DATABASE_URL=db_url, HELHED_ISSUERS=issuers, HELHED_BIND=f"127.0.0.1:{port}",
               HELHED_DB_POOL_SIZE="8", RUST_LOG="warn")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "serve"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base + "/health/ready", timeout=5)
            break
        except Exception:
            time.sleep(0.2)
    else:
        proc.kill()
        raise SystemExit("the service did not become ready under valgrind")
    token_of = lambda iss, sub, roles: R.sh(  # noqa: E731
        [binary, "token", "--iss", iss, "--sub", sub, "--dept", "social", "--roles", roles, "--ttl", "7200"],
        env=env).strip()
    args = endpoint_args(endpoint, base, token_of)
    for n in (WARMUP, requests):
        R.sh(["oha", "--no-tui", "--output-format", "json", "-c", "1", "-n", str(n)] + args)
    proc.terminate()
    proc.wait(timeout=120)
    text = open(out).read()
    found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
    if not found:
        raise SystemExit(f"no total in {out}")
    return int(found.group(1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("admin_url")
    p.add_argument("binaries", nargs="+")
    p.add_argument("--endpoint", action="append", default=None)
    args = p.parse_args()
    os.environ.setdefault("PGSSLMODE", "disable")
    db, db_url = load(args.admin_url)
    R.sh([args.binaries[0], "migrate"], env=dict(os.environ, DATABASE_URL=db_url))
    R.sh(["psql", args.admin_url.rsplit("/", 1)[0] + "/" + db, "-qX", "-v", "ON_ERROR_STOP=1", "-v", "cases=1000",
          "-v", "seed=0.42", "-f", os.path.join(R.ROOT, "bench/generate.sql")])
    with tempfile.TemporaryDirectory() as tmp:
        issuers = R.keys(tmp)
        for endpoint in args.endpoint or ["GET case", "GET events"]:
            for binary in args.binaries:
                few = instructions(binary, db_url, issuers, endpoint, FEW, tmp)
                many = instructions(binary, db_url, issuers, endpoint, MANY, tmp)
                print(f"{endpoint:<12} {binary}: {(many - few) / (MANY - FEW):,.0f} instructions per request", flush=True)
    R.psql(args.admin_url, f"DROP DATABASE IF EXISTS {db}")


if __name__ == "__main__":
    main()

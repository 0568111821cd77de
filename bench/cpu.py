#!/usr/bin/env python3
"""Where a GET case's CPU goes: the service's own CPU per request (from /proc), the load
generator's, and the rest of the machine (PostgreSQL and the kernel), against the same for
pgbench running the bare SQL. 1 000 cases, 16 connections, 10 s each. Quoted in
docs/performance.md ("GET case against its bare SQL").

    python3 bench/cpu.py ADMIN_URL path/to/release/helhed [--perf]

With --perf, a pass of its own after the measurement records the service with `perf` (call
graphs from DWARF, 8 s) and prints where its CPU goes, by the part of the request that spends it
(a sample counts for the first part, in the order below, that any frame of its stack belongs to).
Connections to PostgreSQL go without TLS (PGSSLMODE=disable, unless set), as on the cluster
`scripts/bench` starts: a machine's PostgreSQL with `ssl = on` would add TLS to both sides.

ADMIN_URL is a PostgreSQL where a database and the role helhed_bench may be created (e.g. the
cluster scripts/bench starts, or postgres://postgres@127.0.0.1:5432/postgres).
"""
import collections
import os
import re
import resource
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

admin, binary = sys.argv[1], sys.argv[2]
profile = "--perf" in sys.argv[3:]
os.environ.setdefault("PGSSLMODE", "disable")

# The parts of a request, first match wins: a frame of the sample's stack matches the pattern.
PARTS = [
    ("diesel: the statement's text, rebuilt to find it in the statement cache", r"construct_sql|cached_statement_non_generic"),
    ("diesel: the statement's parameters", r"collect_binds"),
    ("libpq: sending the statement", r"PQsendQueryPrepared"),
    ("libpq: waiting for and reading the answer", r"PQgetResult"),
    ("diesel: the row, decoded", r"build_from_row|LoadIter"),
    ("diesel: the rest", r"diesel::"),
    ("r2d2: connection check-out and return", r"r2d2::"),
    ("the view: built and serialised to JSON", r"serialize|serde_json|CaseView|with_etag"),
    ("the hand-off to the blocking pool (spawn_blocking)", r"spawn_blocking"),
    ("the blocking pool's threads, between tasks", r"blocking::pool::Inner::run"),
    ("authentication", r"helhed::auth"),
    ("actix: writing the answer", r"poll_flush|poll_write"),
    ("actix: reading and routing the request", r"poll_request"),
    ("actix and tokio: the rest", r"actix_|tokio::|mio::"),
]


def parts_of(perf_data):
    """The share of the samples in each part of a request."""
    script = subprocess.run(["perf", "script", "-i", perf_data, "-F", "ip,sym"], capture_output=True, text=True).stdout
    counts, total = collections.Counter(), 0
    for sample in script.split("\n\n"):
        frames = [line.strip().split(None, 1)[-1] for line in sample.splitlines() if line.strip()]
        if not frames:
            continue
        total += 1
        stack = "\n".join(frames)
        counts[next((name for name, pat in PARTS if re.search(pat, stack)), "elsewhere (start-up, logging, the kernel alone)")] += 1
    return counts, total
exists = R.psql(admin, f"SELECT count(*) FROM pg_roles WHERE rolname = '{R.ROLE}'")
if exists == "0":
    R.psql(admin, f"CREATE ROLE {R.ROLE} LOGIN NOSUPERUSER")
db = "helhed_cpu"
R.psql(admin, f"DROP DATABASE IF EXISTS {db}")
R.psql(admin, f"CREATE DATABASE {db} OWNER {R.ROLE}")
host = admin.split("@", 1)[1].split("/", 1)[0]
db_url = f"postgres://{R.ROLE}@{host}/{db}"
R.sh([binary, "migrate"], env=dict(os.environ, DATABASE_URL=db_url))
R.sh(["psql", admin.rsplit("/", 1)[0] + "/" + db, "-qX", "-v", "ON_ERROR_STOP=1", "-v", "cases=1000", "-v", "seed=0.42", "-f", os.path.join(R.ROOT, "bench/generate.sql")])
R.psql(admin, f"GRANT SELECT ON bench_cases, bench_spend_cases TO {R.ROLE}", db)
def proc_cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def total_cpu():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f)); idle = v[3] + v[4]
    return (sum(v) - idle) / os.sysconf("SC_CLK_TCK")
with tempfile.TemporaryDirectory() as tmp:
    issuers = R.keys(tmp)
    svc = R.Service(binary, db_url, issuers, 8)
    leader = svc.token("bench-es", "bench.leader", "social", "leader")
    ids = "|".join(f"00000000-0000-7000-8000-{n:012x}" for n in range(1, 401))
    args = ["-H", f"Authorization: Bearer {leader}", "--rand-regex-url", f"{svc.base}/api/v1/cases/({ids})"]
    R.oha(args, 16, 3)
    s0, t0 = proc_cpu(svc.proc.pid), total_cpu()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = R.oha(args, 16, 10)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s1, t1 = proc_cpu(svc.proc.pid), total_cpu()
    n = res["rps"] * 10
    oha_cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    print(f"API: {res['rps']:.0f} req/s; service {s1-s0:.1f} CPU-s ({(s1-s0)/n*1e6:.0f} us/req), oha {oha_cpu:.1f} CPU-s, machine {t1-t0:.1f} CPU-s, rest (PostgreSQL) {t1-t0-(s1-s0)-oha_cpu:.1f} CPU-s ({(t1-t0-(s1-s0)-oha_cpu)/n*1e6:.0f} us/req)")
    if profile:
        data = os.path.join(tmp, "perf.data")
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "299", "--call-graph", "dwarf,16384",
                                 "-p", str(svc.proc.pid), "-o", data, "--", "sleep", "8"])
        R.oha(args, 16, 8)
        perf.wait()
        counts, total = parts_of(data)
        print(f"where the service's CPU goes ({total} samples):")
        for name, count in counts.most_common():
            print(f"  {count / total:6.1%}  {name}")
    svc.stop()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = total_cpu()
    b = R.pgbench(admin, db, "get_case.sql", 16, 10, {"ncases": 1000, "nspend": 1})
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN); t1 = total_cpu()
    n = b["tps"] * 10
    pg_client = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    print(f"pgbench: {b['tps']:.0f} tps; pgbench {pg_client:.1f} CPU-s, machine {t1-t0:.1f} CPU-s, rest (PostgreSQL) {t1-t0-pg_client:.1f} CPU-s ({(t1-t0-pg_client)/n*1e6:.0f} us/tx)")

#!/usr/bin/env python3
"""Where a GET case's CPU goes: the service's own CPU per request (from /proc), the load
generator's, and the rest of the machine (PostgreSQL and the kernel), against the same for
pgbench running the bare SQL. 1 000 cases, 16 connections, 10 s each. Quoted in
docs/performance.md ("GET case against its bare SQL").

    python3 bench/cpu.py ADMIN_URL path/to/release/helhed

ADMIN_URL is a PostgreSQL where a database and the role helhed_bench may be created (e.g. the
cluster scripts/bench starts, or postgres://postgres@127.0.0.1:5432/postgres).
"""
import os
import resource
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as R  # noqa: E402

admin, binary = sys.argv[1], sys.argv[2]
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
    svc.stop()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN); t0 = total_cpu()
    b = R.pgbench(admin, db, "get_case.sql", 16, 10, {"ncases": 1000, "nspend": 1})
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN); t1 = total_cpu()
    n = b["tps"] * 10
    pg_client = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    print(f"pgbench: {b['tps']:.0f} tps; pgbench {pg_client:.1f} CPU-s, machine {t1-t0:.1f} CPU-s, rest (PostgreSQL) {t1-t0-pg_client:.1f} CPU-s ({(t1-t0-pg_client)/n*1e6:.0f} us/tx)")

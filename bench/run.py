#!/usr/bin/env python3
"""Helhed's benchmark: the API against the bare SQL it needs, at several data sizes and
concurrency levels, on the same machine in the same run. Called by scripts/bench, which starts a
private PostgreSQL and builds the release binary; writes docs/performance.md.

Per data size (cases): load the synthetic municipality (bench/generate.sql), start the release
service, and for each endpoint and concurrency level (1, 16, 64) run oha for a warm-up and then a
measured period; run pgbench with the endpoint's bare SQL (bench/pgbench/*.sql) at the same
concurrency; record the service's RSS; measure GET case and its bare SQL once more with
PostgreSQL on one half of the CPUs and the client side on the other (the database on cores of its
own); capture the plan of every list filter with auto_explain.
"""

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROLE = "helhed_bench"
SECRET = "bench-secret-bench-secret-bench-secret-01"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def psql(url, sql, db=None):
    target = url if db is None else url.rsplit("/", 1)[0] + "/" + db
    return sh(["psql", target, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql]).strip()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def keys(dir_):
    """An ES256 and an RS256 issuer besides HS256: tokens of several issuers, as in production."""
    sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{dir_}/es.key"])
    sh(["openssl", "pkey", "-in", f"{dir_}/es.key", "-pubout", "-out", f"{dir_}/es.pem"])
    sh(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{dir_}/rs.key"])
    sh(["openssl", "pkey", "-in", f"{dir_}/rs.key", "-pubout", "-out", f"{dir_}/rs.pem"])
    all_depts = '["labour_market", "youth", "social", "health_care", "school"]'
    with open(f"{dir_}/issuers.toml", "w") as f:
        f.write(f'''[[issuer]]
iss = "bench-hs"
departments = {all_depts}
algorithm = "HS256"
secret = "{SECRET}"

[[issuer]]
iss = "bench-es"
departments = {all_depts}
algorithm = "ES256"
public_key_pem = "es.pem"
private_key_pem = "es.key"

[[issuer]]
iss = "bench-rs"
departments = {all_depts}
algorithm = "RS256"
public_key_pem = "rs.pem"
private_key_pem = "rs.key"
''')
    return f"{dir_}/issuers.toml"


class Service:
    def __init__(self, binary, db_url, issuers, pool):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=db_url, HELHED_ISSUERS=issuers, HELHED_BIND=f"127.0.0.1:{self.port}",
                   HELHED_DB_POOL_SIZE=str(pool), RUST_LOG="warn")
        self.env = env
        self.binary = binary
        self.proc = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/health/ready", timeout=1)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit("the service did not become ready")

    def token(self, iss, sub, dept, roles):
        return sh([self.binary, "token", "--iss", iss, "--sub", sub, "--dept", dept, "--roles", roles, "--ttl", "7200"],
                  env=self.env).strip()

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=40)


def oha(args, conc, seconds):
    out = sh(["oha", "--no-tui", "--output-format", "json", "-c", str(conc), "-z", f"{seconds}s"] + args)
    data = json.loads(out)
    summary = data["summary"]
    pct = data["latencyPercentiles"]
    statuses = data.get("statusCodeDistribution", {})
    return {
        "rps": summary["requestsPerSec"],
        "p50_ms": (pct.get("p50") or 0) * 1000,
        "p99_ms": (pct.get("p99") or 0) * 1000,
        "statuses": statuses,
    }


def pgbench(admin_url, db, script, conc, seconds, defines, durable=True):
    url = admin_url.rsplit("/", 1)[0] + "/" + db
    args = ["pgbench", url, "-n", "-M", "prepared", "-f", os.path.join(ROOT, "bench/pgbench", script),
            "-c", str(conc), "-j", str(min(conc, 2)), "-T", str(seconds)]
    for k, v in defines.items():
        args += ["-D", f"{k}={v}"]
    with tempfile.TemporaryDirectory() as logs:
        # without durable commits: the most any batching of commits (audit rows) could gain
        env = dict(os.environ) if durable else dict(os.environ, PGOPTIONS="-c synchronous_commit=off")
        out = sh(args + ["-l", "--log-prefix", os.path.join(logs, "tx")], env=env)
        latencies = []
        for name in os.listdir(logs):
            with open(os.path.join(logs, name)) as f:
                latencies += [int(line.split()[2]) for line in f if line.strip()]
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))] / 1000 if latencies else 0
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    return {"tps": tps, "p50_ms": pick(0.5), "p99_ms": pick(0.99)}


def cpu_halves():
    """The CPUs this process may use, split in two: PostgreSQL's, and the client side's."""
    cpus = sorted(os.sched_getaffinity(0))
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def postgres_pids(admin_url):
    """The server's postmaster and every process it started (backends, writers, ...)."""
    data = psql(admin_url, "SHOW data_directory")
    with open(os.path.join(data, "postmaster.pid")) as f:
        main = int(f.readline())
    pids = [main]
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == main:
            pids.append(int(entry))
    return pids


def pin_postgres(admin_url, cpus):
    """Runs the server on `cpus`; the backends it forks later inherit the postmaster's CPUs."""
    for pid in postgres_pids(admin_url):
        try:
            os.sched_setaffinity(pid, cpus)
        except ProcessLookupError:
            pass


def separated(args, size, db, db_url, issuers, token, path, defines):
    """GET case and its bare SQL with PostgreSQL on one half of the CPUs and the client side (the
    service and oha; pgbench's own client) on the other, as when the database has a machine of
    its own: the ratio then compares the service with the database alone, not with the share of
    the cores it takes from it. Returns {conc: (api, bare)}, or None where the CPUs cannot be
    split (one CPU, or no right to move the server's processes)."""
    admin = args.admin_url
    pg_cpus, client_cpus = cpu_halves()
    own = os.sched_getaffinity(0)
    if not pg_cpus or not client_cpus:
        return None
    out = {}
    svc = None
    try:
        pin_postgres(admin, pg_cpus)
        os.sched_setaffinity(0, client_cpus)  # the service, oha and pgbench inherit it
        svc = Service(args.binary, db_url, issuers, args.pool)
        oha_args = ["-H", f"Authorization: Bearer {token}", "--rand-regex-url", f"{svc.base}{path}"]
        for conc in [c for c in args.concurrency if c > 1]:
            oha(oha_args, conc, args.warmup)
            api = oha(oha_args, conc, args.seconds)
            bare = pgbench(admin, db, "get_case.sql", conc, args.seconds, defines)
            out[conc] = (api, bare)
            print(f"  {size:>8} GET case, PostgreSQL on CPUs {sorted(pg_cpus)}, the rest on {sorted(client_cpus)}, c={conc:<3} "
                  f"{api['rps']:8.0f} req/s  p50 {api['p50_ms']:7.2f} ms  p99 {api['p99_ms']:7.2f} ms  {api['statuses']}  "
                  f"bare SQL {bare['tps']:8.0f} tps  ratio {api['rps'] / bare['tps']:.2f}", flush=True)
    except PermissionError as e:
        print(f"  {size:>8} GET case with PostgreSQL on CPUs of its own: not measured ({e})", flush=True)
        return None
    finally:
        if svc:
            svc.stop()
        os.sched_setaffinity(0, own)
        try:
            pin_postgres(admin, own)
        except PermissionError:
            pass  # nothing was moved
    return out


PLAN_RUNS = 8
PROFILE_CONC, PROFILE_SECONDS = 16, 5


def profile_statements(admin_url, db, service_args, endpoints):
    """PostgreSQL's own time per request of each endpoint, split into planning and execution
    (pg_stat_statements, loaded by scripts/bench with tracking off; it is switched on for the
    service's role only for this pass, so the measurements above run without it)."""
    if "pg_stat_statements" not in psql(admin_url, "SHOW shared_preload_libraries"):
        return {}
    psql(admin_url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db)
    psql(admin_url, f"ALTER ROLE {ROLE} SET pg_stat_statements.track = 'top'")
    binary, db_url, issuers, pool = service_args
    svc = Service(binary, db_url, issuers, pool)
    profile = {}
    try:
        for name, oha_args in endpoints.items():
            oha_args = [re.sub(r"http://127\.0\.0\.1:[0-9]+", svc.base, a) for a in oha_args]
            oha(oha_args, PROFILE_CONC, 1)
            psql(admin_url, "SELECT pg_stat_statements_reset()", db)
            r = oha(oha_args, PROFILE_CONC, PROFILE_SECONDS)
            requests = sum(int(v) for v in r["statuses"].values())
            rows = psql(admin_url, "SELECT coalesce(sum(calls), 0) || ' ' || coalesce(sum(plans), 0) || ' ' || "
                                   "coalesce(sum(total_plan_time), 0) || ' ' || coalesce(sum(total_exec_time), 0) "
                                   f"FROM pg_stat_statements WHERE userid = '{ROLE}'::regrole "
                                   f"AND dbid = (SELECT oid FROM pg_database WHERE datname = '{db}')", db)
            calls, plans, plan_ms, exec_ms = (float(x) for x in rows.split())
            if requests:
                profile[name] = {"statements": calls / requests, "plans": plans / requests,
                                 "plan_us": plan_ms * 1000 / requests, "exec_us": exec_ms * 1000 / requests}
    finally:
        svc.stop()
        psql(admin_url, f"ALTER ROLE {ROLE} RESET pg_stat_statements.track")
    return profile


def explain_lists(admin_url, db, service_args, log_file, leader, caseworker, system, case_id):
    """The plans of the list endpoint's filters, as PostgreSQL ran them (auto_explain)."""
    settings = ["session_preload_libraries = 'auto_explain'", "auto_explain.log_min_duration = 0",
                "auto_explain.log_analyze = on", "auto_explain.log_buffers = on", "auto_explain.log_format = text"]
    for s in settings:
        psql(admin_url, f"ALTER ROLE {ROLE} SET {s}")
    binary, db_url, issuers = service_args
    svc = Service(binary, db_url, issuers, 4)
    filters = [("no filter (leader)", leader, ""), ("status=active", leader, "status=active"),
               ("track=youth", leader, "track=youth"),
               ("committee_id", leader, "committee_id=00000000-0000-7000-8000-000000000002"),
               ("coordinator=co7", leader, "coordinator=co7"), ("involved_department=health_care", leader, "involved_department=health_care"),
               ("follow_up_before", leader, "follow_up_before=2026-01-01"),
               ("no filter (caseworker cw7, sees own referrals)", caseworker, ""),
               ("the event feed (system of social)", system, None)]
    plans = []
    for name, token, query in filters:
        start = os.path.getsize(log_file)
        path = "/api/v1/events?limit=50" if query is None else f"/api/v1/cases?limit=50&{query}"
        req = urllib.request.Request(f"{svc.base}{path}", headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(req, timeout=60).read()
        time.sleep(0.5)
        with open(log_file, errors="replace") as f:
            f.seek(start)
            text = f.read()
        # the plan of the list query: the one that selects from cases with a LIMIT
        chunks = text.split("LOG:  duration:")
        table = "case_events" if query is None else "cases"
        plan = next((c for c in chunks if "Limit" in c and table in c and "ORDER BY" in c.replace("order by", "ORDER BY")), "")
        plan_lines = [line for line in plan.splitlines() if line.startswith(("  ", "\t")) or "Limit" in line]
        plans.append((name, "\n".join(plan_lines[:40]) or "(plan not captured)"))
    svc.stop()
    # Generic or custom: PostgreSQL plans a prepared statement afresh for its first five runs, then
    # keeps one generic plan if that is not dearer; otherwise it goes on planning every run. With
    # one pooled connection every request runs the same prepared statement; a generic plan shows
    # its parameters ($n) in its conditions, a custom one the caller's values.
    svc = Service(binary, db_url, issuers, 1)
    choices = []
    for name, token, path, marker in [("GET case (leader of social)", leader, f"/api/v1/cases/{case_id}", 'WITH "seen"'),
                                      ("the event feed (system of social)", system, "/api/v1/events?limit=50", "pg_snapshot_xmin")]:
        start = os.path.getsize(log_file)
        for _ in range(PLAN_RUNS):
            req = urllib.request.Request(f"{svc.base}{path}", headers={"Authorization": f"Bearer {token}"})
            urllib.request.urlopen(req, timeout=60).read()
        time.sleep(0.5)
        with open(log_file, errors="replace") as f:
            f.seek(start)
            runs = [c for c in f.read().split("LOG:  duration:") if marker in c and "Query Text" in c]
        kinds = ["G" if re.search(r"(Cond|Filter): .*\$[0-9]", c.split("Query Text", 1)[1].split("\n", 1)[1]) else "C"
                 for c in runs]
        choices.append((name, "".join(kinds)))
    svc.stop()
    for s in settings:
        psql(admin_url, f"ALTER ROLE {ROLE} RESET {s.split(' = ')[0]}")
    return plans, choices


def run_size(args, size, issuers_dir):
    db = f"helhed_bench_{size}"
    admin = args.admin_url
    psql(admin, f"DROP DATABASE IF EXISTS {db}")
    psql(admin, f"CREATE DATABASE {db} OWNER {ROLE}")
    host = admin.split("@", 1)[1].split("/", 1)[0]
    db_url = f"postgres://{ROLE}@{host}/{db}"
    env = dict(os.environ, DATABASE_URL=db_url)
    sh([args.binary, "migrate"], env=env)
    started = time.time()
    sh(["psql", admin.rsplit("/", 1)[0] + "/" + db, "-qX", "-v", "ON_ERROR_STOP=1", "-v", f"cases={size}", "-v", "seed=0.42",
        "-f", os.path.join(ROOT, "bench/generate.sql")])
    load_seconds = time.time() - started
    # Write the loaded pages out now, so that no checkpoint of the load runs during a measurement.
    psql(admin, "CHECKPOINT")
    psql(admin, f"GRANT SELECT ON bench_cases, bench_spend_cases TO {ROLE}", db)
    nspend = int(psql(admin, "SELECT count(*) FROM bench_spend_cases", db))
    db_bytes = int(psql(admin, f"SELECT pg_database_size('{db}')"))
    citizen = psql(admin, "SELECT citizen_id FROM bench_cases WHERE n = 1", db)

    issuers = os.path.join(issuers_dir, "issuers.toml")
    svc = Service(args.binary, db_url, issuers, args.pool)
    leader = svc.token("bench-es", "bench.leader", "social", "leader")
    caseworker = svc.token("bench-rs", "cw7", "social", "caseworker")
    coordinator = svc.token("bench-hs", "bench.coordinator", "social", "caseworker")
    system = svc.token("bench-es", "bench.system", "social", "system")

    rng = random.Random(42)
    sample = sorted(rng.sample(range(1, size + 1), min(size, 400)))
    case_ids = "|".join(f"00000000-0000-7000-8000-{n:012x}" for n in sample)
    spend_ids = psql(admin, f"SELECT string_agg(case_id::text, '|') FROM (SELECT case_id FROM bench_spend_cases ORDER BY n LIMIT 400) s", db)
    auth = lambda t: ["-H", f"Authorization: Bearer {t}"]
    referral = json.dumps({"citizen_id": citizen, "problem_areas": ["mental_health"], "description": "bench",
                           "involved_departments": ["social"], "citizen_view": "bench"})
    spend = json.dumps({"amount_ore": 100, "category": "transport", "description": "Bus"})
    endpoints = {
        "GET case": auth(leader) + ["--rand-regex-url", f"{svc.base}/api/v1/cases/({case_ids})"],
        "GET cases (status=active)": auth(leader) + [f"{svc.base}/api/v1/cases?status=active&limit=50"],
        "POST spend": auth(coordinator) + ["-m", "POST", "-T", "application/json", "-d", spend,
                                           "--rand-regex-url", f"{svc.base}/api/v1/cases/({spend_ids})/budget/spends"],
        "POST referral": auth(caseworker) + ["-m", "POST", "-T", "application/json", "-d", referral, f"{svc.base}/api/v1/cases"],
        "GET events": auth(system) + [f"{svc.base}/api/v1/events?limit=50"],
    }
    if args.endpoints:
        endpoints = {k: v for k, v in endpoints.items() if k in args.endpoints}
    results = {}
    previous = {}
    # A/B: the previous build serves the same database on its own port; each measurement of this
    # build is followed at once by the same measurement of the previous one, so that both see the
    # same machine, the same data and the same caches.
    prev_svc = Service(args.baseline, db_url, issuers, args.pool) if args.baseline else None

    def measure_previous(name, oha_args, conc):
        prev_args = [a.replace(svc.base, prev_svc.base) for a in oha_args]
        oha(prev_args, conc, args.warmup)
        pr = oha(prev_args, conc, args.seconds)
        previous[(name, conc)] = pr
        print(f"  {size:>8} {name:<28} c={conc:<3} {pr['rps']:8.0f} req/s  p50 {pr['p50_ms']:7.2f} ms  "
              f"p99 {pr['p99_ms']:7.2f} ms  (previous build)  {pr['statuses']}", flush=True)
    peak_rss = 0
    turn = 0
    for name, oha_args in endpoints.items():
        for conc in args.concurrency:
            # Every other measurement the previous build goes first (A B, B A, …), so that
            # neither build always meets the database after the other has grown its tables.
            turn += 1
            if prev_svc and turn % 2 == 0:
                measure_previous(name, oha_args, conc)
            oha(oha_args, conc, args.warmup)
            sampler_stop = threading.Event()
            peak = [0]

            def sample_rss():
                while not sampler_stop.is_set():
                    peak[0] = max(peak[0], svc.rss_kib()[0])
                    time.sleep(0.2)
            t = threading.Thread(target=sample_rss)
            t.start()
            r = oha(oha_args, conc, args.seconds)
            sampler_stop.set()
            t.join()
            r["rss_mib"] = peak[0] / 1024
            peak_rss = max(peak_rss, peak[0])
            results[(name, conc)] = r
            print(f"  {size:>8} {name:<28} c={conc:<3} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                  f"rss {r['rss_mib']:.0f} MiB  {r['statuses']}", flush=True)
            if prev_svc and turn % 2 == 1:
                measure_previous(name, oha_args, conc)
    svc.stop()
    if prev_svc:
        prev_svc.stop()
    profile = profile_statements(admin, db, (args.binary, db_url, issuers, args.pool), endpoints)
    baselines = {}
    for script, name in [("get_case.sql", "GET case"), ("spend.sql", "POST spend")]:
        if name not in endpoints:
            continue
        for conc in args.concurrency:
            b = pgbench(admin, db, script, conc, args.seconds, {"ncases": size, "nspend": nspend})
            baselines[(name, conc)] = b
            print(f"  {size:>8} pgbench {script:<18} c={conc:<3} {b['tps']:8.0f} tps", flush=True)
    undurable = {}
    if "GET case" in endpoints:
        for conc in args.concurrency:
            b = pgbench(admin, db, "get_case.sql", conc, args.seconds, {"ncases": size, "nspend": nspend}, durable=False)
            undurable[conc] = b
            print(f"  {size:>8} pgbench get_case.sql (synchronous_commit=off) c={conc:<3} {b['tps']:8.0f} tps", flush=True)
    split = None
    if "GET case" in endpoints:
        split = separated(args, size, db, db_url, issuers, leader, f"/api/v1/cases/({case_ids})",
                          {"ncases": size, "nspend": nspend})
    first_case = f"00000000-0000-7000-8000-{sample[0]:012x}"
    plans, choices = (explain_lists(admin, db, (args.binary, db_url, issuers), args.pg_log, leader, caseworker, system,
                                    first_case) if args.pg_log else ([], []))
    return {"size": size, "load_seconds": load_seconds, "db_bytes": db_bytes, "results": results, "baselines": baselines,
            "peak_rss_mib": peak_rss / 1024, "plans": plans, "choices": choices, "profile": profile, "undurable": undurable,
            "previous": previous, "separated": split}


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0) / 1024 / 1024
    pg = sh(["psql", "--version"]).strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, {pg}"


def unexpected(name, statuses):
    """The answers of a measurement other than its endpoint's success status, with their share."""
    ok = "200" if name.startswith("GET") else "201"
    total = sum(int(v) for v in statuses.values())
    odd = {k: int(v) for k, v in statuses.items() if str(k) != ok}
    return ", ".join(f"{k} × {v} ({v / total:.1%})" for k, v in sorted(odd.items())) if total and odd else ""


def report(args, runs):
    lines = []
    w = lines.append
    w("# Performance")
    w("")
    w("Measured by `scripts/bench` (rerun it to refresh this page; it overwrites it). "
      f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}.")
    w("")
    w("## Method")
    w("")
    w("- A private PostgreSQL 15 cluster (started by the script, `synchronous_commit = on`) holds a synthetic "
      "municipality from `bench/generate.sql` (reproducible from a seed): citizens and cases in every status, "
      "meetings, decisions, plan versions, case history, ledger entries and five audit rows per case.")
    w(f"- The release build of the service runs with a pool of {args.pool} connections. "
      f"`oha` (the HTTP load generator from crates.io, installed by `scripts/bench`) drives each endpoint for {args.warmup} s of warm-up and then "
      f"{args.seconds} s of measurement at {', '.join(map(str, args.concurrency))} connections, with tokens "
      "of three issuers (ES256 for the leader and the system, RS256 for the caseworker, HS256 for the coordinator), "
      "so token verification is on the path as it is in production. GET case picks one of 400 random cases per request.")
    w("- The physical limit is measured in the same run: pgbench runs the bare SQL each endpoint needs "
      "(`bench/pgbench/get_case.sql`: the one statement of GET case, which reads the case through the visibility predicate "
      "with everything its view shows and writes its audit row in a data-modifying CTE, committing once as in the service; "
      "`bench/pgbench/spend.sql`: lock, ledger entry, running total, event and audit row) with the "
      "same statements, prepared as the service prepares them, and at the same concurrency. The ratio is the API's requests per second over pgbench's "
      "transactions per second.")
    w("- Every read writes its audit row and commits it durably before the answer leaves, as the service does in production.")
    if any(run.get("separated") for run in runs):
        w("- GET case is measured once more with PostgreSQL's processes on one half of the machine's CPUs and the "
          "service, oha and pgbench's client on the other half, the bare SQL next to it the same way: the ratio of a "
          "deployment where the database has cores (a machine) of its own, so that it compares the service with the "
          "database alone rather than with the share of the cores the service's own work takes from it.")
    w("")
    for run in runs:
        size = run["size"]
        w(f"## {size:,} cases".replace(",", " "))
        w("")
        w(f"Loaded in {run['load_seconds']:.0f} s; database size {run['db_bytes'] / 1024 / 1024:.0f} MiB; "
          f"peak service RSS under load {run['peak_rss_mib']:.0f} MiB.")
        w("")
        w("| endpoint | conn | req/s | p50 ms | p99 ms | p99/p50 | bare SQL tps | bare p50 / p99 ms | ratio |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (name, conc), r in run["results"].items():
            base = run["baselines"].get((name, conc))
            ratio = f"{r['rps'] / base['tps']:.2f}" if base else "—"
            tps = f"{base['tps']:.0f}" if base else "—"
            bare = f"{base['p50_ms']:.2f} / {base['p99_ms']:.2f}" if base else "—"
            spread = r["p99_ms"] / r["p50_ms"] if r["p50_ms"] else 0
            w(f"| {name} | {conc} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {spread:.1f} | {tps} | {bare} | {ratio} |")
        w("")
        if run.get("separated"):
            w("GET case with PostgreSQL on one half of the CPUs and the service, oha and pgbench's client on the other "
              "(as with the database on a machine of its own; the bare SQL measured the same way, next to it):")
            w("")
            w("| endpoint | conn | req/s | p50 ms | p99 ms | p99/p50 | bare SQL tps | bare p50 / p99 ms | ratio |")
            w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for conc, (r, base) in run["separated"].items():
                spread = r["p99_ms"] / r["p50_ms"] if r["p50_ms"] else 0
                w(f"| GET case | {conc} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {spread:.1f} | "
                  f"{base['tps']:.0f} | {base['p50_ms']:.2f} / {base['p99_ms']:.2f} | {r['rps'] / base['tps']:.2f} |")
            w("")
        measured_sets = [("this build", run["results"]), ("previous build", run.get("previous", {})),
                         ("PostgreSQL on CPUs of its own", {("GET case", c): r for c, (r, _) in (run.get("separated") or {}).items()})]
        others = [f"{name} at {conc} ({label}): {odd}" for label, measured in measured_sets
                  for (name, conc), r in measured.items() if (odd := unexpected(name, r["statuses"]))]
        w("Answers other than the endpoint's success status (200 for a GET, 201 for a POST), which the rates "
          "above include: " + ("; ".join(others) if others else "none") + ".")
        w("")
    if any(run["previous"] for run in runs):
        w(f"## A/B: this build against {args.baseline_label}")
        w("")
        w("Both builds served the same database in the same run, each measurement of one build next to the same "
          "measurement of the other, the previous build first every other time.")
        w("")
        w("| cases | endpoint | conn | previous req/s | req/s | gain | previous p50 / p99 ms | p50 / p99 ms |")
        w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for run in runs:
            for (name, conc), pr in run["previous"].items():
                r = run["results"][(name, conc)]
                gain = r["rps"] / pr["rps"] if pr["rps"] else 0
                w(f"| {run['size']:,} | {name} | {conc} | {pr['rps']:.0f} | {r['rps']:.0f} | {gain:.2f}× | "
                  f"{pr['p50_ms']:.2f} / {pr['p99_ms']:.2f} | {r['p50_ms']:.2f} / {r['p99_ms']:.2f} |".replace(",", " "))
        w("")
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        w(f"## How cost grows with data: {large['size']:,} vs {small['size']:,} cases".replace(",", " "))
        w("")
        w("| endpoint | conn | p50 small | p50 large | ×  | req/s small | req/s large |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for (name, conc), r in small["results"].items():
            l = large["results"][(name, conc)]
            w(f"| {name} | {conc} | {r['p50_ms']:.2f} | {l['p50_ms']:.2f} | {l['p50_ms'] / r['p50_ms']:.2f} | {r['rps']:.0f} | {l['rps']:.0f} |")
        w("")
    w("## Targets")
    w("")
    for run in runs:
        res, base = run["results"], run["baselines"]
        top = max(args.concurrency)
        checks = []
        for name, target in [("GET case", 0.7), ("POST spend", 0.6)]:
            ratios = [res[(name, c)]["rps"] / base[(name, c)]["tps"] for c in args.concurrency if (name, c) in base]
            if not ratios:
                continue
            checks.append(f"{name} ≥ {target}× bare SQL: {' / '.join(f'{x:.2f}' for x in ratios)} "
                          f"({'met' if min(ratios) >= target else 'missed'})")
        if run.get("separated"):
            split = run["separated"]
            ratios = [split[c][0]["rps"] / split[c][1]["tps"] for c in split]
            checks.append(f"GET case ≥ 0.7× bare SQL with PostgreSQL on CPUs of its own, at {' / '.join(map(str, split))}: "
                          f"{' / '.join(f'{x:.2f}' for x in ratios)} ({'met' if min(ratios) >= 0.7 else 'missed'})")
        bare = base.get(("GET case", top))
        bare_spread = bare["p99_ms"] / bare["p50_ms"] if bare and bare["p50_ms"] else 0
        for name in ["GET case", "GET cases (status=active)", "GET events"]:
            loads = [c for c in args.concurrency if c > 1 and (name, c) in res]
            if not loads:
                continue
            spreads = [res[(name, c)]["p99_ms"] / res[(name, c)]["p50_ms"] if res[(name, c)]["p50_ms"] else 0 for c in loads]
            checks.append(f"{name} p99 ≤ 2× p50 at {' / '.join(map(str, loads))}: {' / '.join(f'{x:.1f}×' for x in spreads)} "
                          f"({'met' if max(spreads) <= 2 else 'missed'}; the bare SQL of GET case at {top}: {bare_spread:.1f}×)")
        if run["undurable"]:
            gains = [run["undurable"][c]["tps"] / base[("GET case", c)]["tps"] for c in args.concurrency
                     if c in run["undurable"] and ("GET case", c) in base]
            checks.append("audit batching could gain at most " + " / ".join(f"{g:.2f}×" for g in gains)
                          + " (the bare SQL of GET case without durable commits, over with them)")
        checks.append(f"RSS < 200 MiB: {run['peak_rss_mib']:.0f} MiB ({'met' if run['peak_rss_mib'] < 200 else 'missed'})")
        w(f"- **{run['size']:,} cases**: ".replace(",", " ") + "; ".join(checks) + ".")
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        top = max(args.concurrency)
        for name in ["GET case", "GET cases (status=active)", "GET events"]:
            if (name, top) not in small["results"]:
                continue
            worst = max(large["results"][(name, c)]["p50_ms"] / small["results"][(name, c)]["p50_ms"] for c in args.concurrency)
            w(f"- {name} latency at {large['size']:,} within 1.5× of {small['size']:,}: worst {worst:.2f}× "
              f"({'met' if worst <= 1.5 else 'missed'}).".replace(",", " "))
    w("- PostgREST as a peer: not available from Debian's packages on this machine kind, so no peer figure.")
    w("")
    with open(os.path.join(ROOT, "bench/reading.md")) as f:
        w(f.read().rstrip())
    w("")
    if any(run.get("profile") for run in runs):
        w(f"## PostgreSQL's time per request (pg_stat_statements, {PROFILE_CONC} connections, {PROFILE_SECONDS} s)")
        w("")
        w("A pass of its own after the measurements, with tracking on for the service's role only. "
          "Statements: executions per request (a transaction's BEGIN and COMMIT count); planned: how many of "
          "them PostgreSQL planned for this run rather than reusing a generic plan. Times are PostgreSQL's, "
          "per request, in µs; the rest of a request's time is the service, the kernel and the wire.")
        w("")
        w("| cases | endpoint | statements | planned | planning µs | execution µs |")
        w("|---:|---|---:|---:|---:|---:|")
        for run in runs:
            for name, pr in run.get("profile", {}).items():
                w(f"| {run['size']:,} | {name} | {pr['statements']:.1f} | {pr['plans']:.2f} | {pr['plan_us']:.0f} | "
                  f"{pr['exec_us']:.0f} |".replace(",", " "))
        w("")
    if any(run.get("choices") for run in runs):
        w(f"## Generic or custom plans ({PLAN_RUNS} requests on one pooled connection)")
        w("")
        w("G: the run used the statement's generic plan (planned once); C: PostgreSQL planned it afresh "
          "for the caller's values. After five custom runs it keeps a generic plan unless it judges that dearer.")
        w("")
        w("| cases | statement | runs |")
        w("|---:|---|---|")
        for run in runs:
            for name, kinds in run.get("choices", []):
                w(f"| {run['size']:,} | {name} | `{kinds or '(not captured)'}` |".replace(",", " "))
        w("")
    if any(run["plans"] for run in runs):
        w("## Plans of the list filters and the event feed (auto_explain, as the service ran them)")
        w("")
        for run in runs:
            for name, plan in run["plans"]:
                w(f"<details><summary>{run['size']:,} cases — {name}</summary>".replace(",", " "))
                w("")
                w("```")
                w(plan)
                w("```")
                w("</details>")
                w("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--pg-log", default=None)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000, 1000000])
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--pool", type=int, default=6)
    p.add_argument("--out", default=os.path.join(ROOT, "docs/performance.md"))
    p.add_argument("--baseline", default=None,
                   help="a previous build of the service, measured A/B against this one in the same run")
    p.add_argument("--baseline-label", default="the previous build")
    p.add_argument("--endpoints", nargs="+", default=None,
                   help="only these endpoints (e.g. 'GET case'); for trying a change, with --out elsewhere")
    args = p.parse_args()
    exists = psql(args.admin_url, f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'")
    if exists == "0":
        psql(args.admin_url, f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER")
    with tempfile.TemporaryDirectory() as tmp:
        keys(tmp)
        runs = []
        for size in args.sizes:
            print(f"== {size} cases", flush=True)
            runs.append(run_size(args, size, tmp))
    report(args, runs)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

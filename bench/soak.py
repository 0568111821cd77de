#!/usr/bin/env python3
"""The long fault test (scripts/soak): PostgreSQL is stopped with `pg_ctl stop -m immediate`
under a load of spends and reads, and started again. Requests during the outage must get 503
within seconds and never hang; the service must recover by itself; every acknowledged spend
must be in the ledger, and every spend retried with its Idempotency-Key must end stored exactly
once."""

import argparse
import json
import os
import random
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid

ROLE = "helhed_soak"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def psql(url, sql):
    return sh(["psql", url, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql]).strip()


def request(method, url, token, body=None, key=None, timeout=30):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    started = time.time()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=timeout) as r:
            return r.status, time.time() - started
    except urllib.error.HTTPError as e:
        return e.code, time.time() - started
    except Exception:
        return 0, time.time() - started


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--admin-url", required=True)
    p.add_argument("--binary", required=True)
    p.add_argument("--pg-ctl", required=True)
    p.add_argument("--pg-data", required=True)
    p.add_argument("--generate", required=True)
    p.add_argument("--outage", type=float, default=5.0)
    args = p.parse_args()
    admin = args.admin_url
    base_url = admin.rsplit("/", 1)[0]
    if psql(admin, f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'") == "0":
        psql(admin, f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER")
    psql(admin, "DROP DATABASE IF EXISTS helhed_soak")
    psql(admin, f"CREATE DATABASE helhed_soak OWNER {ROLE}")
    host = admin.split("@", 1)[1].split("/", 1)[0]
    db_url = f"postgres://{ROLE}@{host}/helhed_soak"
    sh([args.binary, "migrate"], env=dict(os.environ, DATABASE_URL=db_url))
    sh(["psql", base_url + "/helhed_soak", "-qX", "-v", "ON_ERROR_STOP=1", "-v", "cases=2000", "-v", "seed=0.7", "-f", args.generate])
    spend_cases = psql(base_url + "/helhed_soak", "SELECT string_agg(case_id::text, ',') FROM bench_spend_cases").split(",")
    read_cases = psql(base_url + "/helhed_soak", "SELECT string_agg(case_id::text, ',') FROM (SELECT case_id FROM bench_cases LIMIT 200) s").split(",")

    issuers = "/tmp/helhed-soak-issuers.toml"
    with open(issuers, "w") as f:
        f.write('[[issuer]]\niss = "soak"\ndepartments = ["labour_market", "youth", "social", "health_care", "school"]\n'
                'algorithm = "HS256"\nsecret = "soak-secret-soak-secret-soak-secret-0123"\n')
    port = 18000 + random.randint(0, 999)
    env = dict(os.environ, DATABASE_URL=db_url, HELHED_ISSUERS=issuers, HELHED_BIND=f"127.0.0.1:{port}", RUST_LOG="warn",
               HELHED_DB_POOL_SIZE="8")
    server = subprocess.Popen([args.binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if request("GET", api + "/health/ready", "")[0] == 200:
            break
        time.sleep(0.1)
    token = lambda sub, roles: sh([args.binary, "token", "--iss", "soak", "--sub", sub, "--dept", "social", "--roles", roles], env=env).strip()
    coordinator, leader = token("bench.coordinator", "caseworker"), token("bench.leader", "leader")

    log = []  # (phase, kind, status, seconds, key)
    lock = threading.Lock()
    stop = threading.Event()
    phase = ["before"]

    def worker(n):
        rng = random.Random(n)
        while not stop.is_set():
            if rng.random() < 0.5:
                key = f"soak-{uuid.uuid4()}"
                case = rng.choice(spend_cases)
                status, took = request("POST", f"{api}/api/v1/cases/{case}/budget/spends", coordinator,
                                       {"amount_ore": 100, "category": "transport", "description": key}, key=key)
                with lock:
                    log.append((phase[0], "spend", status, took, (key, case)))
            else:
                status, took = request("GET", f"{api}/api/v1/cases/{rng.choice(read_cases)}", leader)
                with lock:
                    log.append((phase[0], "read", status, took, None))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(5)
    phase[0] = "outage"
    subprocess.run(["runuser", "-u", "postgres", "--", args.pg_ctl, "-D", args.pg_data, "-m", "immediate", "stop"],
                   check=True, capture_output=True)
    time.sleep(args.outage)
    subprocess.run(["runuser", "-u", "postgres", "--", args.pg_ctl, "-D", args.pg_data, "-w", "-l", os.path.join(os.path.dirname(args.pg_data), "postgres.log"),
                    "-o", f"-p {host.split(':')[1]} -k {os.path.dirname(args.pg_data)} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    phase[0] = "after"
    time.sleep(10)
    stop.set()
    for t in threads:
        t.join()

    # Retry every spend that was not acknowledged, with its key, until it is.
    spends = [(e[4], e[2]) for e in log if e[1] == "spend"]
    acked = {key for (key, _), status in spends if status == 201}
    pending = {(key, case) for (key, case), status in spends if status != 201}
    retried = len(pending)
    for _ in range(60):
        for key, case in list(pending):
            status, _ = request("POST", f"{api}/api/v1/cases/{case}/budget/spends", coordinator,
                                {"amount_ore": 100, "category": "transport", "description": key}, key=key)
            if status == 201:
                pending.discard((key, case))
        if not pending:
            break
        time.sleep(1)
    rows = psql(base_url + "/helhed_soak", "SELECT description || ' ' || count(*) FROM ledger_entries WHERE description LIKE 'soak-%' GROUP BY description")
    stored = dict(line.rsplit(" ", 1) for line in rows.splitlines() if line)
    all_keys = {key for (key, _), _ in spends}
    lost = [k for k in acked if k not in stored]
    doubled = [k for k, n in stored.items() if int(n) > 1]
    strangers = [k for k in stored if k not in all_keys]
    during = [e for e in log if e[0] == "outage"]
    statuses = {}
    for e in during:
        statuses[e[2]] = statuses.get(e[2], 0) + 1
    max_outage_latency = max((e[3] for e in during), default=0)
    after_ok = [e for e in log if e[0] == "after" and e[2] in (200, 201)]
    server.terminate()
    server.wait(timeout=40)
    result = {
        "requests": len(log),
        "outage_seconds": args.outage,
        "during_outage": {"requests": len(during), "statuses": statuses, "max_latency_s": round(max_outage_latency, 2)},
        "after_restart_ok": len(after_ok),
        "spends": len(spends),
        "acknowledged_first_time": len(acked),
        "retried_with_key": retried,
        "still_unacknowledged": len(pending),
        "stored": len(stored),
        "acknowledged_but_lost": len(lost),
        "stored_twice": len(doubled),
        "stored_without_request": len(strangers),
    }
    print(json.dumps(result, indent=2))
    ok = (not lost and not doubled and not strangers and not pending and max_outage_latency < 10
          and all(s in (200, 201, 503) for s in statuses) and after_ok)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()

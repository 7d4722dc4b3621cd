#!/usr/bin/env python3
"""sfnlite on one PostgreSQL with 1, 2 and 3 replicas, beside the SQLite backend: one table.

    python3 bench/replicas.py [--runs 3] [--duration 5] [--connections 16]

For each setup (SQLite; PostgreSQL with 1, 2, 3 replicas, a fresh database each run) and each
run, in alternation:
1. Fresh publishes/s: wrk sends UpdateStateMachine with a new definition and publish=true
   (every request makes a version), its connections split evenly over the replicas, each
   replica's share on a machine of its own.
2. Completed executions/s: wrk starts executions of a three-Pass STANDARD machine through
   every replica for --duration seconds; then the time until none runs. Rate = started /
   (load + drain), every step committed.
Both backends are durable: SQLite with synchronous=FULL, PostgreSQL with fsync on
(scripts/postgres.sh with SFNLITE_PG_FSYNC=1). Medians of --runs. Everything runs on this
machine: the replicas, PostgreSQL and wrk share its cores.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ROOT = bench.ROOT
THREE_PASS = '{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"n":1},"ResultPath":"$.a","Next":"B"},"B":{"Type":"Pass","Next":"C"},"C":{"Type":"Pass","End":true}}}'
log = bench.log


def postgres(folder):
    env = dict(os.environ, SFNLITE_PG_FSYNC="1")
    url = subprocess.run([os.path.join(ROOT, "scripts", "postgres.sh"), "start", folder], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    return url


def fresh_database(url, name):
    base = url.rsplit("/", 1)[0]
    port = base.rsplit(":", 1)[1]
    bin_dir = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    psql = f"/usr/lib/postgresql/{bin_dir}/bin/psql"
    subprocess.run([psql, "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "sfnlite", "-c",
                    f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return f"{base}/{name}"


def parallel(jobs):
    """Runs the callables at once; their results in order."""
    out = [None] * len(jobs)

    def run(i, f):
        out[i] = f()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def measure(dbs, replicas, args, tag):
    """Starts `replicas` processes on db (one per entry of dbs: the same URL, or one SQLite
    file), measures both workloads, stops them."""
    procs = [bench.sfnlite(db) for db in dbs[:replicas]]
    try:
        addrs = [p.addr for p in procs]
        per = max(1, args.connections // replicas)
        machines = []
        for i, a in enumerate(addrs):
            m = bench.call(a, "CreateStateMachine", {"name": f"pub{i}", "definition": THREE_PASS, "roleArn": bench.ROLE})
            machines.append(m["stateMachineArn"])
        pubs = parallel([lambda a=a, m=m, i=i: bench.wrk(a, bench.lua_fresh("UpdateStateMachine", m, f"{tag}-{i}"), args.duration, per)
                         for i, (a, m) in enumerate(zip(addrs, machines))])
        run_arn = bench.call(addrs[0], "CreateStateMachine", {"name": "run", "definition": THREE_PASS, "roleArn": bench.ROLE})["stateMachineArn"]
        t0 = time.perf_counter()
        starts = parallel([lambda a=a: bench.wrk(a, bench.lua_static("StartExecution", {"stateMachineArn": run_arn}), args.duration, per)
                           for a in addrs])
        loaded = time.perf_counter()
        while True:
            page = bench.call(addrs[-1], "ListExecutions", {"stateMachineArn": run_arn, "statusFilter": "RUNNING", "maxResults": 1})
            if not page["executions"]:
                break
            time.sleep(0.01)
        drained = time.perf_counter()
        started = sum(s["requests"] - s["errors"] for s in starts)
        return {
            "publishes": sum(p["rps"] for p in pubs),
            "publish_errors": sum(p["errors"] for p in pubs),
            "executions": started / (drained - t0),
            "drain": drained - loaded,
            "start_errors": sum(s["errors"] for s in starts),
        }
    finally:
        for p in procs:
            p.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    bench.ensure_wrk()
    bench.build()
    work = tempfile.mkdtemp()
    pg_dir = tempfile.mkdtemp()  # its own folder: the server user must reach it
    url = postgres(pg_dir)
    setups = [("SQLite, 1 process", 1, "sqlite"), ("PostgreSQL, 1 replica", 1, "pg"),
              ("PostgreSQL, 2 replicas", 2, "pg"), ("PostgreSQL, 3 replicas", 3, "pg")]
    results = {name: [] for name, _, _ in setups}
    try:
        for run in range(args.runs):
            for name, n, kind in setups:
                tag = f"r{run}{kind}{n}"
                if kind == "sqlite":
                    dbs = [os.path.join(work, f"{tag}.db")]
                else:
                    dbs = [fresh_database(url, f"b_{tag}")] * n
                r = measure(dbs, n, args, tag)
                log(f"run {run + 1} {name}: {r['publishes']:.0f} publishes/s, {r['executions']:.0f} executions/s "
                    f"(drain {r['drain']:.2f} s, errors {r['publish_errors']}/{r['start_errors']})")
                results[name].append(r)
    finally:
        subprocess.run([os.path.join(ROOT, "scripts", "postgres.sh"), "stop", pg_dir], check=False)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)
    base = statistics.median(r["publishes"] for r in results["PostgreSQL, 1 replica"])
    base_e = statistics.median(r["executions"] for r in results["PostgreSQL, 1 replica"])
    print(f"\n{os.cpu_count()} cores, medians of {args.runs} runs of {args.duration} s, {args.connections} connections\n")
    print("| setup | fresh publishes/s | vs 1 replica | completed executions/s | vs 1 replica |")
    print("|---|---:|---:|---:|---:|")
    for name, _, _ in setups:
        p = statistics.median(r["publishes"] for r in results[name])
        e = statistics.median(r["executions"] for r in results[name])
        print(f"| {name} | {p:,.0f} | {p / base:.2f}x | {e:,.0f} | {e / base_e:.2f}x |")


if __name__ == "__main__":
    main()

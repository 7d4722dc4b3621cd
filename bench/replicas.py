#!/usr/bin/env python3
"""sfnlite on one PostgreSQL with 1, 2 and 3 replicas, beside the SQLite backend: one table.

    python3 bench/replicas.py [--runs 3] [--duration 5] [--connections 16] [--replica-cpu 0.4]

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
machine: the replicas, PostgreSQL and wrk share its cores, so a workload that already uses
every core with one replica cannot gain from a second one here. --replica-cpu N gives each
sfnlite process a CPU cgroup of its own capped at N cores (needs a writable cgroup cpu
controller, v1 or v2): each replica then has the CPU of a small machine of its own, as
replicas behind a load balancer have, and what a replica adds shows.
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


def cgroup_root():
    """The writable CPU controller: (folder, version), or None."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "/sys/fs/cgroup", 2
    if os.path.isdir("/sys/fs/cgroup/cpu"):
        return "/sys/fs/cgroup/cpu", 1
    return None


def cap_cpu(pid, name, cores):
    """Moves process `pid` into a CPU cgroup of its own, `name`, capped at `cores` cores."""
    root, version = cgroup_root()
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    period = 100_000
    quota = int(cores * period)
    if version == 2:
        with open(os.path.join(folder, "cpu.max"), "w") as f:
            f.write(f"{quota} {period}")
    else:
        with open(os.path.join(folder, "cpu.cfs_period_us"), "w") as f:
            f.write(str(period))
        with open(os.path.join(folder, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(quota))
    with open(os.path.join(folder, "cgroup.procs"), "w") as f:
        f.write(str(pid))
    return folder


def measure(dbs, replicas, args, tag):
    """Starts `replicas` processes on db (one per entry of dbs: the same URL, or one SQLite
    file), measures both workloads, stops them."""
    procs = [bench.sfnlite(db) for db in dbs[:replicas]]
    groups = []
    try:
        if args.replica_cpu:
            groups = [cap_cpu(p.p.pid, f"sfnlite-bench-{i}", args.replica_cpu) for i, p in enumerate(procs)]
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
        for g in groups:
            try:
                os.rmdir(g)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--replica-cpu", type=float, default=None,
                    help="cap each sfnlite process at this many cores (a CPU cgroup each)")
    args = ap.parse_args()
    if args.replica_cpu and not cgroup_root():
        sys.exit("--replica-cpu needs a writable cgroup cpu controller")
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
    cap = f", each sfnlite process capped at {args.replica_cpu} cores" if args.replica_cpu else ""
    print(f"\n{os.cpu_count()} cores, medians of {args.runs} runs of {args.duration} s, {args.connections} connections{cap}\n")
    print("| setup | fresh publishes/s | vs 1 replica | completed executions/s | vs 1 replica |")
    print("|---|---:|---:|---:|---:|")
    for name, _, _ in setups:
        p = statistics.median(r["publishes"] for r in results[name])
        e = statistics.median(r["executions"] for r in results[name])
        print(f"| {name} | {p:,.0f} | {p / base:.2f}x | {e:,.0f} | {e / base_e:.2f}x |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""sfnlite's execution benchmark: one command, one table.

    python3 bench/executions.py [--runs 3] [--duration 5] [--peers] [--waiting 100000] [--stored 1000000]
                                [--activities 1000] [--pending 10000] [--against BIN] [--http N] [--map N]

1. Throughput: a STANDARD machine of three Pass states, started through an alias by wrk
   (-t1, 16 connections) for --duration seconds; then the time until the last execution has
   finished. Executions/s = started / (load time + drain time): started *and* completed,
   every step committed with synchronous=FULL. With --peers the same workload runs on the
   peers of ../shared/tools/peers.sh in the same alternating runs.
2. Waiting: --waiting executions started into a 150 s Wait; RSS while they all wait, and how
   late each Wait fired (WaitStateExited minus WaitStateEntered minus 60 s, from the
   histories of a sample of 2,000).
3. Listing: ListExecutions pages of 100 on a machine with --stored executions against one
   with 200 (rows seeded directly into the database).
4. Activities: --activities round trips, one at a time over one keep-alive connection, each
   timed from GetActivityTask (the task already waiting) through SendTaskSuccess until
   DescribeExecution shows the execution finished; then RSS with --pending tasks waiting.

Only the Python standard library is used (and wrk, installed when missing).
"""
import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the shared helpers: build, Proc, call, wrk, peers)

ROLE = bench.ROLE
THREE_PASS = json.dumps({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Result": {"n": 1}, "ResultPath": "$.a", "Next": "B"},
    "B": {"Type": "Pass", "Next": "C"},
    "C": {"Type": "Pass", "End": True}}})
WAIT_SECONDS = 150
WAITING = json.dumps({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "P"},
    "P": {"Type": "Pass", "End": True}}})
log = bench.log


# The same workflow in JSONata: A merges {"a": {"n": 1}} into its input, B and C pass it on.
THREE_PASS_JSONATA = json.dumps({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
    "A": {"Type": "Pass", "Output": "{% $merge([$states.input, {'a': {'n': 1}}]) %}", "Next": "B"},
    "B": {"Type": "Pass", "Next": "C"},
    "C": {"Type": "Pass", "End": True}}})


def running(addr, machine):
    page = bench.call(addr, "ListExecutions", {"stateMachineArn": machine, "statusFilter": "RUNNING", "maxResults": 1})
    return len(page["executions"]) > 0


def drain(addr, machine, limit=300):
    """Seconds until no execution of `machine` runs."""
    t0 = time.perf_counter()
    while running(addr, machine):
        if time.perf_counter() - t0 > limit:
            raise RuntimeError(f"executions still running after {limit} s")
        time.sleep(0.01)
    return time.perf_counter() - t0


def setup_alias(addr, tag):
    """A three-Pass machine, version 1 and alias `live`; the alias ARN (the machine ARN when
    the server has no aliases) and the machine ARN."""
    m = bench.call(addr, "CreateStateMachine", {"name": f"three-pass-{tag}", "definition": THREE_PASS, "roleArn": ROLE, "publish": True})
    try:
        a = bench.call(addr, "CreateStateMachineAlias", {"name": "live", "routingConfiguration": [{"stateMachineVersionArn": m["stateMachineVersionArn"], "weight": 100}]})
        return a["stateMachineAliasArn"], m["stateMachineArn"]
    except Exception as e:  # a peer without aliases starts the machine itself
        log(f"{addr}: no alias ({e}); starting the machine ARN")
        return m["stateMachineArn"], m["stateMachineArn"]


def throughput(args, tmp, notes):
    servers = {"sfnlite": bench.sfnlite(os.path.join(tmp, "exec.db"))}
    targets = {}
    tag = int(time.time())
    targets["sfnlite"] = setup_alias(servers["sfnlite"].addr, tag)
    if args.against:
        servers["before"] = bench.sfnlite(os.path.join(tmp, "before.db"), binary=args.against)
        targets["before"] = setup_alias(servers["before"].addr, tag)
    if args.peers and os.path.exists(os.path.join(bench.SHARED_TOOLS, "peers.sh")):
        bench.sh(["bash", os.path.join(bench.SHARED_TOOLS, "peers.sh"), "start"])
        for name, port in [("LocalStack", 4566), ("MiniStack", 4577)]:
            a = f"127.0.0.1:{port}"
            try:
                targets[name] = setup_alias(a, tag)
                servers[name] = type("Peer", (), {"addr": a})()
            except Exception as e:
                notes.append(f"{name}: not measured ({e})")
    samples = {n: [] for n in servers}
    for run in range(args.runs):
        names = list(servers) if run % 2 == 0 else list(reversed(servers))
        for name in names:
            addr = servers[name].addr
            start_arn, machine = targets[name]
            r = bench.wrk(addr, bench.lua_static("StartExecution", {"stateMachineArn": start_arn}), args.duration)
            started = r["requests"] - r["errors"]
            waited = drain(addr, machine)
            r["exec_per_s"] = started / (args.duration + waited)
            r["drain_s"] = waited
            samples[name].append(r)
            log(f"run {run + 1}/{args.runs} {name}: {r}")
    rows = []
    med = {n: {k: statistics.median(s[k] for s in v) for k in v[0]} for n, v in samples.items()}
    for name, m in med.items():
        ratio = "baseline" if name == "sfnlite" else f"sfnlite does {med['sfnlite']['exec_per_s'] / m['exec_per_s']:.1f}× as many"
        rows.append((f"{name}: StartExecution through an alias, 3 Pass states, until all finished", m["exec_per_s"], m["rps"], m["p50"], m["p99"], m["errors"], m["drain_s"], ratio))
    notes.append(f"RSS after the throughput runs: {servers['sfnlite'].rss_mib():.1f} MiB")
    servers["sfnlite"].stop()
    if "before" in servers:
        servers["before"].stop()
    if args.peers:
        import subprocess
        subprocess.run(["bash", os.path.join(bench.SHARED_TOOLS, "peers.sh"), "stop"])
    return rows


def jsonata(args, tmp):
    """The three-Pass workload in JSONata beside its JSONPath twin, same server, same runs."""
    p = bench.sfnlite(os.path.join(tmp, "jsonata.db"))
    machines = {}
    for name, definition in [("JSONPath", THREE_PASS), ("JSONata", THREE_PASS_JSONATA)]:
        machines[name] = bench.call(p.addr, "CreateStateMachine", {"name": f"twin-{name.lower()}", "definition": definition, "roleArn": ROLE})["stateMachineArn"]
    samples = {n: [] for n in machines}
    for run in range(args.runs):
        names = list(machines) if run % 2 == 0 else list(reversed(machines))
        for name in names:
            r = bench.wrk(p.addr, bench.lua_static("StartExecution", {"stateMachineArn": machines[name], "input": "{\"x\": 1}"}), args.duration)
            waited = drain(p.addr, machines[name])
            r["exec_per_s"] = (r["requests"] - r["errors"]) / (args.duration + waited)
            r["drain_s"] = waited
            samples[name].append(r)
            log(f"run {run + 1}/{args.runs} {name} twin: {r}")
    p.stop()
    med = {n: {k: statistics.median(s[k] for s in v) for k in v[0]} for n, v in samples.items()}
    rows = []
    for name, m in med.items():
        ratio = "baseline" if name == "JSONPath" else f"{med['JSONPath']['exec_per_s'] / m['exec_per_s']:.2f}× the time per execution"
        rows.append((f"3 Pass states in {name}, started directly, until all finished", m["exec_per_s"], m["rps"], m["p50"], m["p99"], m["errors"], m["drain_s"], ratio))
    return rows


def express(args, tmp):
    """StartSyncExecution of a three-Pass EXPRESS machine: runs answered per second, latency."""
    p = bench.sfnlite(os.path.join(tmp, "express.db"))
    m = bench.call(p.addr, "CreateStateMachine", {"name": "express-three-pass", "definition": THREE_PASS, "roleArn": ROLE, "type": "EXPRESS"})["stateMachineArn"]
    samples = []
    for run in range(args.runs):
        r = bench.wrk(p.addr, bench.lua_static("StartSyncExecution", {"stateMachineArn": m}), args.duration)
        samples.append(r)
        log(f"run {run + 1}/{args.runs} StartSyncExecution: {r}")
    rss = p.rss_mib()
    p.stop()
    med = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    return med, rss


def start_many(addr, machine, count, threads=8):
    """Starts `count` executions over keep-alive connections."""
    host, port = addr.split(":")
    body = json.dumps({"stateMachineArn": machine})
    headers = {"X-Amz-Target": "AWSStepFunctions.StartExecution", "Content-Type": "application/x-amz-json-1.0", "Authorization": bench.AUTH}
    lock = threading.Lock()
    left = [count]
    errors = [0]

    def worker():
        c = http.client.HTTPConnection(host, int(port))
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            c.request("POST", "/", body, headers)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                with lock:
                    errors[0] += 1

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors[0]


def waiting(args, tmp, notes):
    p = bench.sfnlite(os.path.join(tmp, "waiting.db"))
    m = bench.call(p.addr, "CreateStateMachine", {"name": "waits", "definition": WAITING, "roleArn": ROLE})["stateMachineArn"]
    idle = p.rss_mib()
    t0 = time.perf_counter()
    errors = start_many(p.addr, m, args.waiting)
    took = time.perf_counter() - t0
    if took >= WAIT_SECONDS:
        notes.append(f"starting {args.waiting} took {took:.0f} s, longer than the Wait: not all waited at once")
    peak = p.rss_mib()
    drain(p.addr, m, limit=600)
    c = sqlite3.connect(os.path.join(tmp, "waiting.db"))
    rows = c.execute(
        """WITH events AS (
               SELECT c.execution_id, c.first_event + j.key AS id, j.value ->> 0 AS previous_id,
                      j.value ->> 1 AS type, j.value ->> 2 AS timestamp_ms
               FROM history_chunks c, json_each(c.events) j)
           SELECT x.timestamp_ms - n.timestamp_ms FROM events n
           JOIN events x ON x.execution_id = n.execution_id AND x.previous_id = n.id AND x.type = 'WaitStateExited'
           WHERE n.type = 'WaitStateEntered'""").fetchall()
    c.close()
    late = sorted(r[0] - WAIT_SECONDS * 1000 for r in rows)
    sample = late if len(late) <= 2000 else sorted(random.sample(late, 2000))
    early = sum(1 for x in late if x < 0)

    def pct(q):
        return sample[min(len(sample) - 1, int(q * len(sample)))]

    notes.append(
        f"{args.waiting} executions waiting at once ({took:.1f} s to start them, {errors} errors): RSS {peak:.1f} MiB "
        f"({peak - idle:+.1f} MiB over idle); Waits fired late by p50 {pct(0.5)} ms, p99 {pct(0.99)} ms, max {late[-1]} ms "
        f"(all {len(late)} Waits; {early} early)")
    p.stop()


def listing(args, tmp):
    db = os.path.join(tmp, "stored.db")
    p = bench.sfnlite(db)
    big = bench.call(p.addr, "CreateStateMachine", {"name": "big", "definition": THREE_PASS, "roleArn": ROLE})["stateMachineArn"]
    small = bench.call(p.addr, "CreateStateMachine", {"name": "small", "definition": THREE_PASS, "roleArn": ROLE})["stateMachineArn"]
    p.stop()
    c = sqlite3.connect(db)
    log(f"seeding {args.stored} executions…")
    with c:
        for arn, count in [(big, args.stored), (small, 200)]:
            (rev,) = c.execute("SELECT r.id FROM revisions r JOIN state_machines m ON m.id = r.state_machine_id WHERE m.arn = ?", (arn,)).fetchone()
            exec_prefix = arn.replace(":stateMachine:", ":execution:") + ":e"
            c.execute(
                """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                   INSERT INTO executions (arn, machine_arn, name, revision, status, input, output, start_ms, stop_ms)
                   SELECT ? || i, ?, 'e' || i, ?, 'SUCCEEDED', '{}', '{}', 1700000000000 + i, 1700000000001 + i FROM n""",
                (count, exec_prefix, arn, rev),
            )
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    p = bench.sfnlite(db)
    scale = {}
    for _ in range(args.runs):
        for name, arn in [(f"{args.stored} executions stored", big), ("200 executions stored", small)]:
            scale.setdefault(name, []).append(bench.wrk(p.addr, bench.lua_static("ListExecutions", {"stateMachineArn": arn, "maxResults": 100}), args.duration))
    p.stop()
    rows = []
    small_m = bench.median_of(scale["200 executions stored"])
    for name, s in scale.items():
        m = bench.median_of(s)
        ratio = "baseline" if name == "200 executions stored" else f"{m['rps'] / small_m['rps']:.2f}× rps, {m['p99'] / small_m['p99']:.2f}× p99"
        rows.append((f"ListExecutions page of 100, {name}", m["rps"], m["p50"], m["p99"], m["errors"], ratio))
    return rows


def activities(args, tmp, notes):
    p = bench.sfnlite(os.path.join(tmp, "activities.db"))
    host, port = p.addr.split(":")
    conn = http.client.HTTPConnection(host, int(port))

    def rpc(op, body):
        conn.request("POST", "/", json.dumps(body), {"X-Amz-Target": f"AWSStepFunctions.{op}",
                     "Content-Type": "application/x-amz-json-1.0", "Authorization": bench.AUTH})
        r = conn.getresponse()
        out = json.loads(r.read())
        if r.status != 200:
            raise RuntimeError(f"{op}: {out}")
        return out

    act = rpc("CreateActivity", {"name": "work"})["activityArn"]
    definition = json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": act, "End": True}}})
    m = rpc("CreateStateMachine", {"name": "worked", "definition": definition, "roleArn": ROLE})["stateMachineArn"]
    took = []
    for i in range(args.activities):
        e = rpc("StartExecution", {"stateMachineArn": m, "name": f"r{i}"})["executionArn"]
        t0 = time.perf_counter()
        t = rpc("GetActivityTask", {"activityArn": act, "workerName": "bench"})
        rpc("SendTaskSuccess", {"taskToken": t["taskToken"], "output": "{}"})
        while rpc("DescribeExecution", {"executionArn": e})["status"] == "RUNNING":
            pass
        took.append((time.perf_counter() - t0) * 1000)
    took.sort()
    idle = p.rss_mib()
    errors = start_many(p.addr, m, args.pending)
    peak = p.rss_mib()
    notes.append(
        f"activity round trip (GetActivityTask, SendTaskSuccess, until the execution finished), {len(took)} one at a time: "
        f"p50 {took[len(took) // 2]:.2f} ms, p99 {took[min(len(took) - 1, int(len(took) * 0.99))]:.2f} ms; "
        f"{args.pending} tasks waiting for a worker ({errors} errors): RSS {peak:.1f} MiB ({peak - idle:+.1f} MiB)"
    )
    p.stop()


# A local HTTP endpoint for the HTTP Task workload: its own process (no GIL shared with the
# client), answering every request with a small JSON body over keep-alive connections.
ENDPOINT = r"""
import asyncio
BODY = b'{"ok":true}'
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(BODY), BODY)
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
"""


def http_task(args, tmp, notes):
    """The overhead of an HTTP Task over the raw call it makes: one at a time over keep-alive
    connections, the raw POST to a local endpoint, then the same POST made by an HTTP Task —
    in an EXPRESS machine through StartSyncExecution (nothing stored), and in a STANDARD
    machine (StartExecution, then DescribeExecution until it finished) beside a one-Pass
    STANDARD machine measured the same way, so the Task's own cost (its two commits
    included) is the difference."""
    import subprocess
    ep = subprocess.Popen([sys.executable, "-c", ENDPOINT], stdout=subprocess.PIPE, text=True)
    port = int(ep.stdout.readline())
    url = f"http://127.0.0.1:{port}/hook"
    p = bench.sfnlite(os.path.join(tmp, "http.db"))
    host, sport = p.addr.split(":")
    conns = {"sfn": http.client.HTTPConnection(host, int(sport)), "raw": http.client.HTTPConnection("127.0.0.1", port)}

    def exchange(which, method, path, body, headers):
        # A connection idle past the server's idle timeout (while the other workload ran) is
        # closed by the server: open a fresh one, untimed work either way.
        for attempt in (0, 1):
            try:
                c = conns[which]
                c.request(method, path, body, headers)
                r = c.getresponse()
                return r.status, r.read()
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                if attempt:
                    raise
                conns[which].close()
                conns[which] = http.client.HTTPConnection(*((host, int(sport)) if which == "sfn" else ("127.0.0.1", port)))

    def rpc(op, body):
        status, data = exchange("sfn", "POST", "/", json.dumps(body), {"X-Amz-Target": f"AWSStepFunctions.{op}",
                                "Content-Type": "application/x-amz-json-1.0", "Authorization": bench.AUTH})
        out = json.loads(data)
        if status != 200:
            raise RuntimeError(f"{op}: {out}")
        return out

    task = {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": url, "Method": "POST", "RequestBody": {"n": 1}}, "End": True}
    one_task = json.dumps({"StartAt": "T", "States": {"T": task}})
    one_pass = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    express_m = rpc("CreateStateMachine", {"name": "http-x", "definition": one_task, "roleArn": ROLE, "type": "EXPRESS"})["stateMachineArn"]
    standard_m = rpc("CreateStateMachine", {"name": "http-s", "definition": one_task, "roleArn": ROLE})["stateMachineArn"]
    pass_m = rpc("CreateStateMachine", {"name": "pass-s", "definition": one_pass, "roleArn": ROLE})["stateMachineArn"]

    def timed(f, n):
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            f()
            out.append((time.perf_counter() - t0) * 1000)
        out.sort()
        return out

    def raw():
        exchange("raw", "POST", "/hook", '{"n":1}', {"content-type": "application/json"})

    def sync():
        out = rpc("StartSyncExecution", {"stateMachineArn": express_m})
        if out["status"] != "SUCCEEDED":
            raise RuntimeError(out)

    def standard(machine):
        def run():
            e = rpc("StartExecution", {"stateMachineArn": machine})["executionArn"]
            while True:
                d = rpc("DescribeExecution", {"executionArn": e})
                if d["status"] != "RUNNING":
                    if d["status"] != "SUCCEEDED":
                        raise RuntimeError(d)
                    return
        return run

    n = args.http
    pct = lambda xs, q: xs[min(len(xs) - 1, int(len(xs) * q))]
    rows = []
    for run in range(args.runs):
        r = {"raw": timed(raw, n), "sync": timed(sync, n),
             "task": timed(standard(standard_m), n // 4), "pass": timed(standard(pass_m), n // 4)}
        rows.append({k: (pct(v, 0.5), pct(v, 0.99)) for k, v in r.items()})
        log(f"run {run + 1}/{args.runs} HTTP Task: " + ", ".join(f"{k} p50 {v[0]:.3f} ms" for k, v in rows[-1].items()))
    med = {k: (statistics.median(r[k][0] for r in rows), statistics.median(r[k][1] for r in rows)) for k in rows[0]}
    p.stop()
    ep.kill()
    return med


def distributed(items, kind):
    """A Distributed Map of `items` inline items ($range in JSONata) over a Pass processor with
    `kind` children; the Map's output is the count of results (the array itself would pass
    the 256 KiB payload limit)."""
    return json.dumps({"QueryLanguage": "JSONata", "StartAt": "Map", "States": {"Map": {
        "Type": "Map", "Items": "{%% [1..%d] %%}" % items,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "Output": "{% $count($states.result) %}", "End": True}}})


def finished(addr, arn, limit=600):
    t0 = time.perf_counter()
    while True:
        d = bench.call(addr, "DescribeExecution", {"executionArn": arn})
        if d["status"] != "RUNNING":
            return d
        if time.perf_counter() - t0 > limit:
            raise RuntimeError(f"{arn} still running after {limit} s")
        time.sleep(0.02)


def map_run(args, tmp, notes):
    """--map N: a Distributed Map of N items over a Pass processor (STANDARD and EXPRESS
    children), StartExecution until the parent has finished; beside it, in the same runs, the
    same N one-Pass executions started through the API (8 connections) until all finished."""
    n = args.map
    p = bench.sfnlite(os.path.join(tmp, "map.db"))
    one_pass = bench.call(p.addr, "CreateStateMachine", {"name": "one-pass", "roleArn": ROLE, "definition": json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})})["stateMachineArn"]
    machines = {kind: bench.call(p.addr, "CreateStateMachine", {"name": f"map-{kind.lower()}", "roleArn": ROLE, "definition": distributed(n, kind)})["stateMachineArn"] for kind in ("STANDARD", "EXPRESS")}
    times = {"STANDARD": [], "EXPRESS": [], "api": []}
    for run in range(args.runs):
        for kind, m in machines.items():
            t0 = time.perf_counter()
            e = bench.call(p.addr, "StartExecution", {"stateMachineArn": m})["executionArn"]
            d = finished(p.addr, e)
            took = time.perf_counter() - t0
            if d["status"] != "SUCCEEDED" or json.loads(d["output"]) != n:
                raise RuntimeError(f"map run of {n} items: {d}")
            times[kind].append(took)
            log(f"run {run + 1}/{args.runs} Distributed Map of {n:,} items, {kind} children: {took:.2f} s")
        t0 = time.perf_counter()
        errors = start_many(p.addr, one_pass, n)
        drain(p.addr, one_pass)
        took = time.perf_counter() - t0
        times["api"].append(took)
        log(f"run {run + 1}/{args.runs} {n:,} one-Pass StartExecutions until finished: {took:.2f} s ({errors} errors)")
    rss = p.rss_mib()
    db_mib = os.path.getsize(os.path.join(tmp, "map.db")) / 2**20
    p.stop()
    notes.append(f"map workload: RSS {rss:.1f} MiB after the runs, database {db_mib:.0f} MiB")
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--waiting", type=int, default=100_000, help="executions waiting at once (0 skips)")
    ap.add_argument("--stored", type=int, default=1_000_000, help="executions stored for the listing workload (0 skips)")
    ap.add_argument("--activities", type=int, default=1000, help="activity round trips (0 skips)")
    ap.add_argument("--pending", type=int, default=10_000, help="activity tasks left waiting for the memory figure")
    ap.add_argument("--express", action="store_true", help="StartSyncExecution of a three-Pass EXPRESS machine")
    ap.add_argument("--jsonata", action="store_true", help="the JSONata three-Pass workload beside its JSONPath twin")
    ap.add_argument("--no-throughput", action="store_true", help="skip the throughput workload (to run only others)")
    ap.add_argument("--http", type=int, default=0, metavar="N", help="HTTP Task overhead over its raw call, N calls per run (0 skips)")
    ap.add_argument("--map", type=int, default=0, metavar="N", help="a Distributed Map of N inline items over a Pass processor (0 skips)")
    ap.add_argument("--against", metavar="BIN", help="an earlier sfnlite binary measured on the throughput workload in the same runs")
    args = ap.parse_args()
    bench.ensure_wrk()
    bench.build()
    tmp = tempfile.mkdtemp(prefix="sfnlite-exec-bench-")
    notes = []
    if not args.no_throughput:
        rows = throughput(args, tmp, notes)
        print(f"\n{args.runs} alternating runs of {args.duration} s each, wrk -t1 -c16, medians; {os.cpu_count()} cores\n")
        print("| workload | executions/s | StartExecution rps | p50 ms | p99 ms | errors | drain s | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, eps, rps, p50, p99, err, drained, ratio in rows:
            print(f"| {name} | {eps:,.0f} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {err:.0f} | {drained:.2f} | {ratio} |")
    if args.express:
        m, rss = express(args, tmp)
        print("\n| workload | runs/s | p50 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|")
        print(f"| StartSyncExecution, EXPRESS machine of 3 Pass states (RSS {rss:.1f} MiB) | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['errors']:.0f} |")
    if args.http:
        m = http_task(args, tmp, notes)
        print("\n| one at a time, keep-alive | p50 ms | p99 ms | overhead p50 ms |")
        print("|---|---:|---:|---:|")
        print(f"| raw POST to the local endpoint | {m['raw'][0]:.3f} | {m['raw'][1]:.3f} | |")
        print(f"| StartSyncExecution, EXPRESS machine of one HTTP Task making that POST | {m['sync'][0]:.3f} | {m['sync'][1]:.3f} | {m['sync'][0] - m['raw'][0]:.3f} |")
        print(f"| STANDARD one-Pass machine, StartExecution until finished | {m['pass'][0]:.3f} | {m['pass'][1]:.3f} | |")
        print(f"| STANDARD one-HTTP-Task machine, StartExecution until finished | {m['task'][0]:.3f} | {m['task'][1]:.3f} | {m['task'][0] - m['pass'][0] - m['raw'][0]:.3f} (over the one-Pass run and the raw call) |")
    if args.map:
        m = map_run(args, tmp, notes)
        print(f"\n| {args.map:,} items, medians of {args.runs} | seconds until finished | items/s | ratio to the API starts |")
        print("|---|---:|---:|---|")
        print(f"| {args.map:,} one-Pass StartExecutions (8 connections) | {m['api']:.2f} | {args.map / m['api']:,.0f} | 1.00 |")
        for kind in ("STANDARD", "EXPRESS"):
            print(f"| Distributed Map, Pass processor, {kind} children | {m[kind]:.2f} | {args.map / m[kind]:,.0f} | {m['api'] / m[kind]:.2f}x faster |")
    if args.jsonata:
        print("\n| workload | executions/s | StartExecution rps | p50 ms | p99 ms | errors | drain s | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, eps, rps, p50, p99, err, drained, ratio in jsonata(args, tmp):
            print(f"| {name} | {eps:,.0f} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {err:.0f} | {drained:.2f} | {ratio} |")
    if args.stored:
        print("\n| workload | rps | p50 ms | p99 ms | errors | ratio |")
        print("|---|---:|---:|---:|---:|---|")
        for name, rps, p50, p99, err, ratio in listing(args, tmp):
            print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {err:.0f} | {ratio} |")
    if args.waiting:
        waiting(args, tmp, notes)
    if args.activities:
        activities(args, tmp, notes)
    print()
    for n in notes:
        print(f"- {n}")


if __name__ == "__main__":
    main()

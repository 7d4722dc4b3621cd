#!/usr/bin/env python3
"""sfnlite's benchmark: one command, one table.

    python3 bench/bench.py [--runs 5] [--duration 5] [--peers] [--big 1000000] [--against BIN]

Builds the release binary, installs wrk when missing, builds and starts the baselines from
../shared/tools/ceiling when present, seeds data, drives every workload with wrk (-t1, c=16)
in alternating runs, and prints one table (workload, rps, p50, p99, errors, ratio to its
baseline), medians over the runs. With --peers it also starts the peer emulators from
../shared/tools/peers.sh and measures them in the same run. Only the Python standard library
is used. With --against BIN it also measures another sfnlite binary (an earlier build) on
the republish and durable-publish workloads in the same alternating runs, and prints this
build's ratio to it.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_TOOLS = os.path.join(os.path.dirname(ROOT), "shared", "tools")
ROLE = "arn:aws:iam::123456789012:role/bench"
AUTH = "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=0"
DEFINITION = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    log("$", " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    sh(["apt-get", "install", "-y", "-qq", "wrk"])


def build():
    sh(["cargo", "build", "--release", "--locked", "--bin", "sfnlite"], cwd=ROOT)
    ceiling_src = os.path.join(SHARED_TOOLS, "ceiling")
    if not os.path.isdir(ceiling_src):
        log("no ../shared/tools/ceiling: baselines skipped")
        return None
    work = os.path.join(ROOT, "target", "bench-ceiling")
    src = os.path.join(work, "src")
    if os.path.isdir(src):
        shutil.rmtree(src)
    shutil.copytree(ceiling_src, src)
    sh(["cargo", "build", "--release", "-q"], cwd=src, env=dict(os.environ, CARGO_TARGET_DIR=os.path.join(work, "target")))
    return os.path.join(work, "target", "release", "ceiling")


class Proc:
    """A server process that prints `listening on ADDR` to stderr."""

    def __init__(self, args, env=None):
        self.p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, env=env)
        for line in self.p.stderr:
            m = re.search(r"listening on (\S+)", line)
            if m:
                self.addr = m.group(1)
                break
        else:
            raise RuntimeError(f"{args[0]} did not start")
        # Keep draining stderr so the server never blocks on a full pipe.
        import threading

        threading.Thread(target=lambda: [None for _ in self.p.stderr], daemon=True).start()

    def rss_mib(self):
        with open(f"/proc/{self.p.pid}/status") as f:
            kib = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        return kib / 1024

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()


def sfnlite(db, *extra, binary=None):
    binary = binary or os.path.join(ROOT, "target", "release", "sfnlite")
    return Proc([binary, "--listen", "127.0.0.1:0", "--db", db, "--version-quota", "100000000", "--log", "warn", *extra])


def call(addr, op, body):
    req = urllib.request.Request(
        f"http://{addr}/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"AWSStepFunctions.{op}", "Content-Type": "application/x-amz-json-1.0", "Authorization": AUTH},
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def lua_static(op, body):
    return f"""
wrk.method = "POST"
wrk.body = {json.dumps(json.dumps(body))}
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.{op}"
wrk.headers["Authorization"] = "{AUTH}"
"""


def lua_fresh(op, arn, tag):
    """Every request a new definition, so every UpdateStateMachine(publish) makes a version."""
    return f"""
local n = 0
local headers = {{ ["Content-Type"] = "application/x-amz-json-1.0", ["X-Amz-Target"] = "AWSStepFunctions.{op}", ["Authorization"] = "{AUTH}" }}
request = function()
  n = n + 1
  local def = '{{\\\\"Comment\\\\":\\\\"{tag}-' .. n .. '\\\\",\\\\"StartAt\\\\":\\\\"A\\\\",\\\\"States\\\\":{{\\\\"A\\\\":{{\\\\"Type\\\\":\\\\"Pass\\\\",\\\\"End\\\\":true}}}}}}'
  local body = '{{"stateMachineArn":"{arn}","definition":"' .. def .. '","publish":true}}'
  return wrk.format("POST", "/", headers, body)
end
"""


def wrk(addr, script, duration, connections=16):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", f.name, f"http://{addr}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "errors": errors, "requests": requests}


def median_of(samples):
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def seed_big(db, count):
    """`count` versions on machine `big` and 200 on machine `small` (both fill a page of 100),
    inserted directly."""
    p = sfnlite(db)
    big = call(p.addr, "CreateStateMachine", {"name": "big", "definition": DEFINITION, "roleArn": ROLE})["stateMachineArn"]
    small = call(p.addr, "CreateStateMachine", {"name": "small", "definition": DEFINITION, "roleArn": ROLE})["stateMachineArn"]
    for i in range(200):
        call(p.addr, "UpdateStateMachine", {"stateMachineArn": small, "definition": json.dumps({"Comment": f"c{i}", "StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}), "publish": True})
    p.stop()
    c = sqlite3.connect(db)
    (mid,) = c.execute("SELECT id FROM state_machines WHERE name = 'big'").fetchone()
    log(f"seeding {count} versions…")
    with c:
        c.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
               INSERT INTO revisions (state_machine_id, revision_id, definition, role_arn, logging, tracing, encryption, created_ms)
               SELECT ?, printf('00000000-0000-4000-8000-%012d', i), ?, ?, '{"level":"OFF","includeExecutionData":false}',
                      '{"enabled":false}', '{"type":"AWS_OWNED_KEY"}', 1700000000000 + i FROM n""",
            (count, mid, DEFINITION, ROLE),
        )
        c.execute(
            """INSERT INTO versions (state_machine_id, revision, number, description, created_ms)
               SELECT ?, id, row_number() OVER (ORDER BY id), NULL, created_ms FROM revisions
               WHERE state_machine_id = ? AND revision_id IS NOT NULL""",
            (mid, mid),
        )
        c.execute("UPDATE state_machines SET last_version = ? WHERE id = ?", (count, mid))
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return big, small


def startup_ms(db, trials=15):
    binary = os.path.join(ROOT, "target", "release", "sfnlite")
    times = []
    for _ in range(trials):
        t0 = time.perf_counter()
        p = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--db", db, "--log", "warn"], stderr=subprocess.PIPE, text=True)
        addr = None
        for line in p.stderr:
            m = re.search(r"listening on (\S+)", line)
            if m:
                addr = m.group(1)
                break
        with urllib.request.urlopen(f"http://{addr}/health") as r:
            r.read()
        times.append((time.perf_counter() - t0) * 1000)
        p.terminate()
        p.wait()
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--big", type=int, default=1_000_000, help="versions seeded for the scale workloads (0 skips them)")
    ap.add_argument("--peers", action="store_true", help="also start and measure ../shared/tools/peers.sh")
    ap.add_argument("--against", metavar="BIN", help="an earlier sfnlite binary to compare this build with, in the same run")
    args = ap.parse_args()

    ensure_wrk()
    ceiling_bin = build()
    tmp = tempfile.mkdtemp(prefix="sfnlite-bench-")
    rows, notes = [], []

    servers = {}
    main_db = os.path.join(tmp, "main.db")
    servers["sfnlite"] = sfnlite(main_db)
    addr = servers["sfnlite"].addr
    notes.append(f"RSS idle after start: {servers['sfnlite'].rss_mib():.1f} MiB")
    hot = call(addr, "CreateStateMachine", {"name": "hot", "definition": DEFINITION, "roleArn": ROLE, "publish": True})
    fresh = call(addr, "CreateStateMachine", {"name": "fresh", "definition": DEFINITION, "roleArn": ROLE})["stateMachineArn"]
    if ceiling_bin:
        servers["ceiling"] = Proc([ceiling_bin, "127.0.0.1:0"])
        servers["ceiling-write"] = Proc([ceiling_bin, "127.0.0.1:0", "--write", os.path.join(tmp, "ceiling.db")])

    publish_body = {"stateMachineArn": hot["stateMachineArn"]}
    workloads = []  # (name, server, script, baseline name)
    if ceiling_bin:
        workloads.append(("ceiling: publish shape, no storage", "ceiling", lua_static("PublishStateMachineVersion", publish_body), None))
    workloads.append(("sfnlite: idempotent PublishStateMachineVersion", "sfnlite", lua_static("PublishStateMachineVersion", publish_body), "ceiling: publish shape, no storage"))
    workloads.append(("sfnlite: DescribeStateMachine (version ARN)", "sfnlite", lua_static("DescribeStateMachine", {"stateMachineArn": hot["stateMachineVersionArn"]}), "ceiling: publish shape, no storage"))
    if ceiling_bin:
        workloads.append(("ceiling --write: one durable commit per request", "ceiling-write", None, None))
    workloads.append(("sfnlite: UpdateStateMachine(publish) durable, fresh version", "sfnlite", None, "ceiling --write: one durable commit per request"))

    before_fresh = None
    if args.against:
        servers["before"] = sfnlite(os.path.join(tmp, "before.db"), binary=args.against)
        b = servers["before"].addr
        b_hot = call(b, "CreateStateMachine", {"name": "hot", "definition": DEFINITION, "roleArn": ROLE, "publish": True})
        before_fresh = call(b, "CreateStateMachine", {"name": "fresh", "definition": DEFINITION, "roleArn": ROLE})["stateMachineArn"]
        workloads.append(("before: idempotent PublishStateMachineVersion", "before", lua_static("PublishStateMachineVersion", {"stateMachineArn": b_hot["stateMachineArn"]}), "ceiling: publish shape, no storage"))
        workloads.append(("before: UpdateStateMachine(publish) durable, fresh version", "before", ("fresh", before_fresh), "ceiling --write: one durable commit per request"))

    if args.peers and os.path.exists(os.path.join(SHARED_TOOLS, "peers.sh")):
        try:
            sh(["bash", os.path.join(SHARED_TOOLS, "peers.sh"), "start"])
            for name, port in [("LocalStack", 4566), ("MiniStack", 4577)]:
                try:
                    a = f"127.0.0.1:{port}"
                    # Peers may keep state between runs: names unique to this run.
                    tag = int(time.time())
                    h = call(a, "CreateStateMachine", {"name": f"hot-{tag}", "definition": DEFINITION, "roleArn": ROLE})
                    call(a, "PublishStateMachineVersion", {"stateMachineArn": h["stateMachineArn"]})
                    f = call(a, "CreateStateMachine", {"name": f"fresh-{tag}", "definition": DEFINITION, "roleArn": ROLE})
                    servers[name] = type("Peer", (), {"addr": a})()
                    workloads.append((f"{name}: idempotent PublishStateMachineVersion", name, lua_static("PublishStateMachineVersion", {"stateMachineArn": h["stateMachineArn"]}), "ceiling: publish shape, no storage"))
                    workloads.append((f"{name}: UpdateStateMachine(publish)", name, ("fresh", f["stateMachineArn"]), "ceiling --write: one durable commit per request"))
                except Exception as e:  # a peer that does not start or answer is reported, not fatal
                    notes.append(f"{name}: not measured ({e})")
        except subprocess.CalledProcessError as e:
            notes.append(f"peers.sh failed: {e}")

    samples = {w[0]: [] for w in workloads}
    for run in range(args.runs):
        # Every other run in reverse, so no workload always runs first (or right after the
        # same neighbour) — position in a run moves rps by several percent on 2 cores.
        order = workloads if run % 2 == 0 else list(reversed(workloads))
        for name, server, script, _ in order:
            a = servers[server].addr
            if script is None:
                target = fresh if server == "sfnlite" else "arn:aws:states:us-east-1:123456789012:stateMachine:ceiling"
                script = lua_fresh("UpdateStateMachine" if server == "sfnlite" else "PublishStateMachineVersion", target, f"r{run}")
            elif isinstance(script, tuple):
                script = lua_fresh("UpdateStateMachine", script[1], f"r{run}")
            samples[name].append(wrk(a, script, args.duration))
            log(f"run {run + 1}/{args.runs} {name}: {samples[name][-1]}")

    med = {k: median_of(v) for k, v in samples.items()}
    for name, _, _, baseline in workloads:
        m = med[name]
        ratio = f"{m['rps'] / med[baseline]['rps']:.2f}× rps, {m['p99'] / med[baseline]['p99']:.2f}× p99" if baseline in med else "baseline"
        rows.append((name, m["rps"], m["p50"], m["p99"], m["errors"], ratio))
    notes.append(f"RSS after the load: {servers['sfnlite'].rss_mib():.1f} MiB")
    if args.against:
        for what in ["idempotent PublishStateMachineVersion", "UpdateStateMachine(publish) durable, fresh version"]:
            now, then = med[f"sfnlite: {what}"], med[f"before: {what}"]
            # Each run measures both builds back to back, so the ratio within a run cancels
            # the machine's drift between runs; its median is the steadier figure.
            pairs = [a["rps"] / b["rps"] for a, b in zip(samples[f"sfnlite: {what}"], samples[f"before: {what}"])]
            notes.append(
                f"this build / {args.against}, {what}: {now['rps'] / then['rps']:.3f}× rps (ratio of medians), "
                f"{statistics.median(pairs):.3f}× rps (median of per-run ratios), {now['p99'] / then['p99']:.3f}× p99"
            )
    for s in servers.values():
        if isinstance(s, Proc):
            s.stop()
    # Measured before the peers are stopped: a peer shutting down would compete for the CPU.
    notes.append(f"start-up to first answered request (existing database, median of 15): {startup_ms(main_db):.1f} ms")
    if args.peers:
        subprocess.run(["bash", os.path.join(SHARED_TOOLS, "peers.sh"), "stop"])

    if args.big:
        big_db = os.path.join(tmp, "big.db")
        big, small = seed_big(big_db, args.big)
        p = sfnlite(big_db)
        time.sleep(0.5)
        notes.append(f"RSS idle with {args.big} versions: {p.rss_mib():.1f} MiB")
        scale = {}
        for run in range(args.runs):
            for name, script in [
                (f"ListStateMachineVersions page of 100, machine with {args.big} versions", lua_static("ListStateMachineVersions", {"stateMachineArn": big, "maxResults": 100})),
                ("ListStateMachineVersions page of 100, machine with 200 versions", lua_static("ListStateMachineVersions", {"stateMachineArn": small, "maxResults": 100})),
                (f"UpdateStateMachine(publish) with {args.big} versions stored", lua_fresh("UpdateStateMachine", big, f"b{run}")),
            ]:
                scale.setdefault(name, []).append(wrk(p.addr, script, args.duration))
        notes.append(f"RSS after load with {args.big} versions: {p.rss_mib():.1f} MiB")
        p.stop()
        fresh_empty = med["sfnlite: UpdateStateMachine(publish) durable, fresh version"]
        for name, s in scale.items():
            m = median_of(s)
            if name.startswith("UpdateStateMachine"):
                ratio = f"{m['rps'] / fresh_empty['rps']:.2f}× rps of the small database"
            elif "200 versions" in name:
                ratio = "baseline"
            else:
                small_m = median_of(scale["ListStateMachineVersions page of 100, machine with 200 versions"])
                ratio = f"{m['rps'] / small_m['rps']:.2f}× rps, {m['p99'] / small_m['p99']:.2f}× p99"
            rows.append((name, m["rps"], m["p50"], m["p99"], m["errors"], ratio))

    print(f"\n{args.runs} alternating runs of {args.duration} s each, wrk -t1 -c16, medians; {os.cpu_count()} cores\n")
    print("| workload | rps | p50 ms | p99 ms | errors | ratio to baseline |")
    print("|---|---:|---:|---:|---:|---|")
    for name, rps, p50, p99, err, ratio in rows:
        print(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {err:.0f} | {ratio} |")
    print()
    for n in notes:
        print(f"- {n}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""certwatch's scans against c7n-org's on one moto organization, in one run.

Usage (from the workspace root; bench/moto/run.sh builds certwatch first):

    python3 bench/moto/bench.py [--members 20] [--rounds 3] [--certwatch target/release/certwatch]

Starts moto on a free loopback port, seeds it with bench/moto/seed_bench_org.py (20 members x
3 regions x 5 certificates = 300), then runs, round after round (after one untimed warm-up
of each tool):

  c7n-org   `c7n-org run` of bench/moto/policy.yml (acm-certificate: list, describe each, tags)
            over the management account and every member, --cache-period 0, a fresh cache dir
  cold      `certwatch scan --format json` (no store)
  first     `certwatch scan --store S --format json` into a new store S
  repeat    the same command again on S: certificates whose listing did not change are not
            described again (stats.describes_saved)

Every request moto receives during a run is recorded (moto's recorder, MOTO_RECORDER_FILEPATH)
and counted by service and action from its signature and X-Amz-Target or Action, so both tools'
calls are counted the same way, on the server; certwatch's own stats.api_calls and c7n's
api-stats (metadata.json, which leave out c7n's AssumeRole calls) are printed beside it.

Prints one row per run, then per kind the range and median, the ratios c7n-org / certwatch
(of the medians, and per round), and the repeat scan's calls by action. Everything (moto's log,
the reports, the c7n output, results.json) stays in --workdir (default target/bench-moto).
moto is stopped by its PID at the end, also on failure.
"""

import argparse
import base64
import glob
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.normpath(os.path.join(HERE, "..", ".."))
REGION = "us-east-1"


def target_dir():
    return os.path.join(WORKSPACE, os.environ.get("CARGO_TARGET_DIR", "target"))


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# venvs


def ensure_venv(venv, requirements):
    """Builds `venv` from `requirements` unless it was built from the same text; its python.

    The same stamp as tests/e2e/support/moto.rs writes for target/moto-venv, so both share it.
    """
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, "certwatch-requirements.txt")
    with open(requirements) as f:
        wanted = f.read()
    if os.path.exists(python) and os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == wanted:
                return python
    log(f"building {venv} from {requirements}")
    if os.path.exists(venv):
        shutil.rmtree(venv)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements],
        check=True,
    )
    with open(stamp, "w") as f:
        f.write(wanted)
    return python


# ---------------------------------------------------------------------------------------------
# moto


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self, python, workdir):
        self.recording = os.path.join(workdir, "moto-recording.jsonl")
        self.log_path = os.path.join(workdir, "moto.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update(
            MOTO_ACM_VALIDATION_WAIT="0",
            PYTHONUNBUFFERED="1",
            MOTO_RECORDER_FILEPATH=self.recording,
        )
        with open(self.log_path, "w") as out:
            self.process = subprocess.Popen(
                [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"moto_server exited: see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"moto_server did not answer within 60 s: see {self.log_path}")
                time.sleep(0.2)

    def recorder(self, verb):
        request = urllib.request.Request(f"{self.url}/moto-api/recorder/{verb}", method="POST")
        urllib.request.urlopen(request, timeout=10).read()

    def cpu_seconds(self):
        """moto's CPU time so far (user + system), from /proc."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        """By its PID: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def action_of(entry):
    """`service:Action` of one recorded request (the signing name: tagging for the tagging API)."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    scope = CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "unsigned"
    target = headers.get("x-amz-target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    query = urllib.parse.urlparse(entry.get("url", "")).query
    for text in (body, query):
        action = urllib.parse.parse_qs(text).get("Action")
        if action:
            return f"{service}:{action[0]}"
    return f"{service}:{entry.get('method', '?')} {urllib.parse.urlparse(entry.get('url', '')).path}"


def read_recording(path):
    counts = Counter()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    counts[action_of(json.loads(line))] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# the runs


def aws_env(url):
    """The environment tests/e2e/support/moto.rs gives the binary: no inherited AWS_* at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def machine_busy_seconds():
    """CPU time the whole machine spent busy so far (every core, every process), from /proc."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def timed(moto, record, command, env, stdout_path, stderr_path, cwd=None):
    """Runs `command`: its wall time, moto's requests by action, the load, CPU seconds.

    The command's CPU is that of it and every descendant it waited for (c7n-org's workers)."""
    if record:
        moto.recorder("stop-recording")
        moto.recorder("reset-recording")
        moto.recorder("start-recording")
    load_before = os.getloadavg()[0]
    times, moto_cpu, busy = os.times(), moto.cpu_seconds(), machine_busy_seconds()
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        started = time.monotonic()
        finished = subprocess.run(command, env=env, stdout=out, stderr=err, cwd=cwd)
        wall = time.monotonic() - started
    after = os.times()
    cpu = {
        "cpu_s": after.children_user + after.children_system
        - times.children_user - times.children_system,
        "moto_cpu_s": moto.cpu_seconds() - moto_cpu,
    }
    # What the rest of the machine (other users' builds and benchmarks) took meanwhile.
    cpu["others_cpu_s"] = max(
        0.0, machine_busy_seconds() - busy - cpu["cpu_s"] - cpu["moto_cpu_s"]
    )
    if record:
        moto.recorder("stop-recording")
    if finished.returncode != 0:
        raise SystemExit(f"{command[0]} exited {finished.returncode}: see {stderr_path}")
    calls = read_recording(moto.recording) if record else Counter()
    return wall, calls, load_before, cpu


def run_c7n(args, moto, workdir, name, expected):
    out = os.path.join(workdir, name)
    cache = os.path.join(workdir, name + "-cache")
    for path in (out, cache):
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(cache)
    env = aws_env(moto.url)
    if args.c7n_parallel:
        env["C7N_ORG_PARALLEL"] = str(args.c7n_parallel)
    command = [
        os.path.join(os.path.dirname(args.c7n_python), "c7n-org"),
        "run",
        "-c", os.path.join(workdir, "accounts.yml"),
        "-s", out,
        "-u", os.path.join(HERE, "policy.yml"),
        "--cache-period", "0",
        "--cache-path", cache,
    ]
    wall, calls, load, cpu = timed(
        moto, args.record, command, env, out + ".stdout", out + ".log", cwd=workdir
    )
    found = 0
    own_stats = Counter()
    for path in glob.glob(os.path.join(out, "*", "*", "*", "resources.json")):
        with open(path) as f:
            found += len(json.load(f))
        with open(os.path.join(os.path.dirname(path), "metadata.json")) as f:
            own_stats.update(json.load(f).get("api-stats", {}))
    with open(out + ".log") as f:
        errors = [line for line in f if "Error" in line or "Exception" in line]
    if found != expected or errors:
        raise SystemExit(
            f"c7n-org found {found} certificates of {expected}, {len(errors)} error lines: "
            f"see {out}.log"
        )
    return {
        "tool": "c7n-org",
        "wall_s": wall,
        "calls": dict(calls),
        "api_calls": sum(calls.values()) if args.record else sum(own_stats.values()),
        "own_api_calls": sum(own_stats.values()),
        "own_calls_by_action": dict(own_stats),
        "certificates": found,
        "describes_saved": None,
        "load": load,
        **cpu,
    }


def run_certwatch(args, moto, workdir, name, expected, store=None):
    command = [args.certwatch, "scan", "--config", os.path.join(workdir, "certwatch.toml")]
    if store:
        command += ["--store", store]
    command += ["--format", "json"]
    report_path = os.path.join(workdir, name + ".json")
    wall, calls, load, cpu = timed(
        moto, args.record, command, aws_env(moto.url), report_path, report_path + ".log"
    )
    with open(report_path) as f:
        report = json.load(f)
    stats = report["stats"]
    if len(report["certificates"]) != expected or report["failures"]:
        raise SystemExit(
            f"certwatch found {len(report['certificates'])} certificates of {expected}, "
            f"{len(report['failures'])} failures: see {report_path}"
        )
    return {
        "tool": "certwatch",
        "wall_s": wall,
        "calls": dict(calls),
        "api_calls": sum(calls.values()) if args.record else stats["api_calls"],
        "own_api_calls": stats["api_calls"],
        "own_calls_by_action": stats.get("calls_by_action", {}),
        "certificates": len(report["certificates"]),
        "describes_saved": stats.get("describes_saved"),
        "scan_ms": stats.get("duration_ms"),
        "targets": stats.get("targets"),
        "load": load,
        **cpu,
    }


# ---------------------------------------------------------------------------------------------
# configuration files


def write_inputs(workdir, manifest, search):
    regions = manifest["regions"]
    role = manifest["member_role"]
    # c7n-org wants a role (or a profile) for every account: the management account assumes
    # the same role name in itself (moto's AssumeRole accepts it), one AssumeRole per region.
    lines = ["accounts:"]
    accounts = [(manifest["management_account"], "management")]
    accounts += [(m["id"], m["name"]) for m in manifest["members"]]
    for account_id, name in accounts:
        lines += [
            f"  - account_id: '{account_id}'",
            f"    name: {name}",
            f"    regions: [{', '.join(regions)}]",
            f"    role: arn:aws:iam::{account_id}:role/{role}",
        ]
    with open(os.path.join(workdir, "accounts.yml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(workdir, "certwatch.toml"), "w") as f:
        f.write(
            "# bench/moto: the org of seed_bench_org.py, every other key at its default.\n"
            "[organization]\n"
            f'member_role_name = "{role}"\n'
            "[scan]\n"
            f"regions = [{', '.join(json.dumps(r) for r in regions)}]\n"
            + ("" if search else "search_certificates = false\n")
            + "[checks]\n"
            "dns = false\n"
            "tls = false\n"
        )


# ---------------------------------------------------------------------------------------------
# the table


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if min(values) == max(values):
        return fmt(values[0])
    return f"{fmt(min(values))}–{fmt(max(values))} (median {fmt(statistics.median(values))})"


def fmt(value):
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def report(runs, certificates, record):
    kinds = ["c7n-org", "cold", "first", "repeat"]
    print()
    print(f"{'run':<10} {'round':>5} {'wall s':>8} {'API calls':>10} {'calls/cert':>10} "
          f"{'own count':>9} {'describes saved':>15} {'certs':>6} {'CPU s':>6} {'moto CPU':>8} "
          f"{'others CPU':>10} {'load':>5}")
    for run in runs:
        print(
            f"{run['kind']:<10} {run['round']:>5} {run['wall_s']:>8.2f} {run['api_calls']:>10} "
            f"{run['api_calls'] / certificates:>10.3f} {run['own_api_calls']:>9} "
            f"{'—' if run['describes_saved'] is None else run['describes_saved']:>15} "
            f"{run['certificates']:>6} {run['cpu_s']:>6.2f} {run['moto_cpu_s']:>8.2f} "
            f"{run['others_cpu_s']:>10.2f} "
            f"{run['load']:>5.2f}"
        )
    timed_runs = [r for r in runs if r["round"] != "warm"]
    by_kind = {k: [r for r in timed_runs if r["kind"] == k] for k in kinds}
    print()
    print("API calls: " + ("every request moto received (its recorder)" if record else
          "the tools' own counts (--no-record; c7n's api-stats leave out its AssumeRole calls)") +
          "; own count: certwatch's stats.api_calls, c7n's metadata.json api-stats; CPU s: the "
          "tool and its children; others CPU: the rest of the machine meanwhile")
    print()
    print(f"{'kind':<10} {'wall s':<32} {'CPU s':<28} {'moto CPU s':<28} {'API calls':<12} "
          f"{'calls/cert':<12} describes saved")
    for kind in kinds:
        rows = by_kind[kind]
        if not rows:
            continue
        print(
            f"{kind:<10} {spread([r['wall_s'] for r in rows]):<32} "
            f"{spread([r['cpu_s'] for r in rows]):<28} "
            f"{spread([r['moto_cpu_s'] for r in rows]):<28} "
            f"{spread([r['api_calls'] for r in rows]):<12} "
            f"{spread([round(r['api_calls'] / certificates, 3) for r in rows]):<12} "
            f"{spread([r['describes_saved'] for r in rows])}"
        )
    medians = {k: statistics.median(r["wall_s"] for r in rows) for k, rows in by_kind.items() if rows}
    print()
    for kind in ["cold", "first", "repeat"]:
        if kind not in medians or "c7n-org" not in medians:
            continue
        paired = [
            c["wall_s"] / w["wall_s"]
            for c, w in zip(by_kind["c7n-org"], by_kind[kind])
        ]
        print(
            f"c7n-org / certwatch {kind:<6}: {medians['c7n-org'] / medians[kind]:6.1f}x of the "
            f"medians; per round {', '.join(f'{p:.1f}x' for p in paired)}"
        )
    if by_kind["repeat"]:
        last = by_kind["repeat"][-1]
        print()
        print(f"repeat scan, round {last['round']}: calls by action "
              f"({last['api_calls']} calls, {last['api_calls'] / certificates:.3f} per certificate)")
        actions = last["calls"] or last["own_calls_by_action"]
        for action, count in sorted(actions.items(), key=lambda kv: (-kv[1], kv[0])):
            own = last["own_calls_by_action"].get(action, "—")
            print(f"  {action:<40} {count:>5}   certwatch's own count {own}")
    return medians


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--certwatch", default=os.path.join(target_dir(), "release", "certwatch"))
    parser.add_argument("--workdir", default=os.path.join(target_dir(), "bench-moto"))
    parser.add_argument("--c7n-parallel", type=int, default=None,
                        help="C7N_ORG_PARALLEL (c7n-org's default: 4 x CPUs processes)")
    parser.add_argument("--no-search", dest="search", action="store_false",
                        help="certwatch with scan.search_certificates = false (moto answers "
                        "SearchCertificates with HTTP 500, which the SDK retries: 3 calls per "
                        "target before the fallback to ListCertificates)")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="do not record moto's requests (calls then from the tools' own counts)")
    args = parser.parse_args()

    if not os.access(args.certwatch, os.X_OK):
        sys.exit(f"{args.certwatch} is missing: cargo build --release --bin certwatch")
    moto_python = ensure_venv(
        os.path.join(target_dir(), "moto-venv"), os.path.join(WORKSPACE, "tests/moto/requirements.txt")
    )
    args.c7n_python = ensure_venv(
        os.path.join(target_dir(), "c7n-venv"), os.path.join(HERE, "c7n-requirements.txt")
    )
    workdir = os.path.abspath(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)

    moto = Moto(moto_python, workdir)
    log(f"moto on {moto.url} (pid {moto.process.pid}), work in {workdir}")
    try:
        started = time.monotonic()
        seeded = subprocess.run(
            [moto_python, os.path.join(HERE, "seed_bench_org.py"), moto.url,
             "--members", str(args.members)],
            env=aws_env(moto.url), capture_output=True, text=True,
        )
        if seeded.returncode != 0:
            sys.exit(f"seeding failed:\n{seeded.stderr}")
        manifest = json.loads(seeded.stdout)
        with open(os.path.join(workdir, "manifest.json"), "w") as f:
            f.write(seeded.stdout)
        certificates = manifest["certificates"]
        log(f"seeded {len(manifest['members'])} members x {len(manifest['regions'])} regions, "
            f"{certificates} certificates {manifest['certificates_by_kind']} "
            f"in {time.monotonic() - started:.0f} s")
        write_inputs(workdir, manifest, args.search)
        log(f"certwatch {args.certwatch}, scan.search_certificates = {str(args.search).lower()}")

        runs = []

        def add(kind, round_, run):
            run.update(kind=kind, round=round_)
            runs.append(run)
            log(f"{kind:<8} round {round_}: {run['wall_s']:.2f} s, {run['api_calls']} calls, "
                f"{run['certificates']} certificates, describes saved {run['describes_saved']}")

        if args.warmup:
            add("c7n-org", "warm", run_c7n(args, moto, workdir, "c7n-warm", certificates))
            add("cold", "warm", run_certwatch(args, moto, workdir, "cold-warm", certificates))
        for i in range(1, args.rounds + 1):
            add("c7n-org", i, run_c7n(args, moto, workdir, f"c7n-{i}", certificates))
            add("cold", i, run_certwatch(args, moto, workdir, f"cold-{i}", certificates))
            store = os.path.join(workdir, f"store-{i}.sqlite")
            add("first", i, run_certwatch(args, moto, workdir, f"first-{i}", certificates, store))
            add("repeat", i, run_certwatch(args, moto, workdir, f"repeat-{i}", certificates, store))

        medians = report(runs, certificates, args.record)
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump(
                {"manifest": manifest, "search_certificates": args.search, "runs": runs,
                 "median_wall_s": medians},
                f,
                indent=2,
            )
        print(f"\nresults: {os.path.join(workdir, 'results.json')}")
    finally:
        moto.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measures a regression baseline for one experiment: runs it over several seeds and writes
experiments/baselines/<table>_<name>.json with the values, their mean and spread, and the
tolerance the regression test uses.

    /usr/bin/python3 tools/measure_baseline.py //experiments/table_d:scratchdet300 \
        --profile ci --seeds 0,1,2 [--test-seed 0] [--suffix mini] [--from-results DIR]

--from-results DIR reads finished runs (DIR/<profile>/table_x/<name>/seed<k>/result.json, as
the experiment binaries write them) instead of training again. --suffix names a second
baseline of the same experiment: experiments/baselines/<table>_<name>_<suffix>.json.

Tolerance rule (README, "CI regression of mAP"): 3 x the sample standard deviation of mAP
over the seeds (one-sided: a drop below mean - 3 sd happens by chance with probability
~0.1% for a normal spread). The regression test trains one seed (--test-seed) and fails when
its mAP is below mean - tolerance.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target")
    ap.add_argument("--profile", default="ci")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--test-seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--suffix", default="")
    ap.add_argument("--from-results", default="")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pkg, name = args.target.lstrip("/").split(":")
    table = pkg.split("table_")[-1]
    seeds = [int(s) for s in args.seeds.split(",")]
    values, seconds, commits = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.abspath(args.from_results) if args.from_results else scratch
        if not args.from_results:
            subprocess.run(["bazel", "build", args.target], check=True, cwd=root)
        binary = os.path.join(root, "bazel-bin", pkg, name)
        for seed in seeds:
            if not args.from_results:
                subprocess.run([binary, "--profile", args.profile, "--seed", str(seed), "--out",
                                out, "--threads", str(args.threads), "--fresh"], check=True,
                               cwd=root, env=dict(os.environ, BUILD_WORKSPACE_DIRECTORY=root))
            path = os.path.join(out, args.profile, f"table_{table}", name, f"seed{seed}",
                                "result.json")
            with open(path) as f:
                result = json.load(f)
            if result["status"]["state"] != "ok":
                sys.exit(f"{path}: status {result['status']} - cannot be a baseline")
            # The machine facts are under config.run (older results: the top level).
            threads = result["config"].get("run", result["config"]).get("threads")
            if threads != args.threads:
                sys.exit(f"{path}: ran with {threads} threads, not "
                         f"{args.threads}: the regression test could not reproduce it")
            values.append(result["metrics"]["mAP"])
            seconds.append(result["metrics"]["wall_time_s"])
            commits.append(result["provenance"]["git_commit"] +
                           ("-dirty" if result["provenance"].get("git_dirty") else ""))
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    baseline = {
        "experiment": name,
        "table": table.upper(),
        "profile": args.profile,
        "seeds": seeds,
        "values": values,
        "mean": statistics.mean(values),
        "std": sd,
        "tolerance": 3 * sd,
        "tolerance_rule": "3 x sample standard deviation over seeds",
        "seed": args.test_seed,
        "threads": args.threads,
        "wall_time_s": seconds,
        "measured_at_commit": commits[0] if len(set(commits)) == 1 else commits,
        "measured_on": datetime.date.today().isoformat(),
    }
    suffix = f"_{args.suffix}" if args.suffix else ""
    path = os.path.join(root, "experiments", "baselines", f"table_{table}_{name}{suffix}.json")
    with open(path, "w") as f:
        json.dump(baseline, f, indent=2)
        f.write("\n")
    print(json.dumps(baseline, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

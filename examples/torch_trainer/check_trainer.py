#!/usr/bin/env python3
"""CTest check of pgps-train --quick (standard library only).

Runs the trainer three times: uninterrupted into WORK/full; stopped after two epochs into
WORK/split; resumed from WORK/split. Then checks that
  * every output is written and parses (summary.json, epochs.csv, the SVG plot, plans.jsonl),
  * the stages advance as planned (each epoch trains the patch and batch of its planned stage,
    every batch plan of the epoch has that patch and batch; progressive runs grow the patch),
  * the training loss falls in every run,
  * the resumed run continues with the same batch plans: the plan saved when the run stopped,
    the first plan after the resume and the uninterrupted run's plan of that step are equal, and
    so are all later plans.
"""
import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

MODES = ["constant", "efficiency", "performance"]
STRUCTURES = ["hippocampus_L", "hippocampus_R", "amygdala_L", "amygdala_R"]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)
    return condition


def run(trainer, args):
    command = [trainer] + args
    print("+", " ".join(command), flush=True)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(result.stdout)
    if result.returncode != 0:
        sys.exit(f"pgps-train exited with {result.returncode}")
    return result.stdout


def read_plans(path):
    plans = {}
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            plans[(record["epoch"], record["iteration"])] = record["plan"]
    return plans


def check_outputs(directory, epochs, iterations):
    summary = json.load(open(os.path.join(directory, "summary.json")))
    runs = {r["mode"]: r for r in summary["runs"]}
    check(sorted(runs) == sorted(MODES), f"{directory}: summary.json runs are {sorted(runs)}")
    for mode, r in runs.items():
        for key in ["wall_s", "train_s", "val_s", "voxels", "predicted_voxel_fraction", "mean_dice"]:
            check(isinstance(r.get(key), (int, float)) and math.isfinite(r[key]), f"{mode}: {key} = {r.get(key)}")
        check(sorted(r["dice"]) == sorted(STRUCTURES), f"{mode}: dice keys {sorted(r['dice'])}")
        check(all(0.0 <= r["dice"][s] <= 1.0 for s in STRUCTURES), f"{mode}: dice values {r['dice']}")
        check(r["finished"], f"{mode}: not finished")
    check(runs["constant"]["predicted_voxel_fraction"] == 1.0, "the baseline's predicted voxel fraction is not 1")
    check(runs["efficiency"]["predicted_voxel_fraction"] < 1.0, "efficiency mode predicts no saving")

    rows = list(csv.DictReader(open(os.path.join(directory, "epochs.csv"))))
    check(len(rows) == 3 * epochs, f"{directory}: epochs.csv has {len(rows)} rows, expected {3 * epochs}")
    ET.parse(os.path.join(directory, "dice_vs_time.svg"))  # raises if the SVG is not well-formed XML
    check(os.path.getsize(os.path.join(directory, "dice_vs_time.svg")) > 1000, "the SVG plot is nearly empty")
    check(os.path.exists(os.path.join(directory, "summary.md")), "summary.md missing")

    for mode in MODES:
        stages = runs[mode]["stages"]
        records = [r for r in rows if r["run"] == mode]
        plans = read_plans(os.path.join(directory, mode, "plans.jsonl"))
        check(len(plans) == epochs * iterations, f"{mode}: {len(plans)} plans, expected {epochs * iterations}")
        # Stages as planned: epoch e trains in the stage whose [first_epoch, first_epoch + epochs) holds e.
        for r in records:
            e = int(r["epoch"])
            planned = [s for s in stages if s["first_epoch"] <= e < s["first_epoch"] + s["epochs"]]
            if not check(len(planned) == 1, f"{mode}: epoch {e} is in {len(planned)} planned stages"):
                continue
            s = planned[0]
            patch = [int(r["patch_z"]), int(r["patch_y"]), int(r["patch_x"])]
            check(int(r["stage"]) == s["index"] and patch == s["patch"] and int(r["batch"]) == s["batch"],
                  f"{mode}: epoch {e} trained stage {r['stage']} {patch} b{r['batch']}, planned {s}")
            for it in range(iterations):
                plan = plans.get((e, it))
                if check(plan is not None, f"{mode}: no plan for epoch {e} iteration {it}"):
                    check(plan["patch"] == s["patch"] and len(plan["slots"]) == s["batch"],
                          f"{mode}: plan of epoch {e} iteration {it} has patch {plan['patch']} "
                          f"and {len(plan['slots'])} slots, planned {s['patch']} b{s['batch']}")
        if mode != "constant":
            check(len(stages) > 1, f"{mode}: only {len(stages)} stage")
            volumes = [s["patch"][0] * s["patch"][1] * s["patch"][2] for s in stages]
            check(volumes == sorted(volumes) and len(set(volumes)) == len(volumes), f"{mode}: patches do not grow: {volumes}")
            check(len({int(r["stage"]) for r in records}) == len(stages), f"{mode}: not every stage was trained")
        losses = [float(r["loss"]) for r in records]
        check(losses[-1] < losses[0], f"{mode}: the loss did not fall: {losses}")
    return runs, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainer", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--threads", default="1")
    args = parser.parse_args()
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    full = os.path.join(args.work_dir, "full")
    split = os.path.join(args.work_dir, "split")

    run(args.trainer, ["--quick", "--threads", args.threads, "-o", full])
    settings = json.load(open(os.path.join(full, "settings.json")))
    epochs, iterations = settings["epochs"], settings["iterations"]
    stop = 2
    run(args.trainer, ["--quick", "--threads", args.threads, "-o", split, "--stop-after", str(stop)])
    for mode in MODES:
        check(os.path.exists(os.path.join(split, mode, "next_plan.json")), f"{mode}: the stopped run saved no next plan")
    log = run(args.trainer, ["--resume", split, "--threads", args.threads])
    check("resumed" in log, "the resumed run does not say it resumed")

    full_runs, full_rows = check_outputs(full, epochs, iterations)
    split_runs, split_rows = check_outputs(split, epochs, iterations)

    for mode in MODES:
        saved = json.load(open(os.path.join(split, mode, "next_plan.json")))
        resumed = json.load(open(os.path.join(split, mode, "resumed_plan.json")))
        uninterrupted = read_plans(os.path.join(full, mode, "plans.jsonl"))
        check(saved == resumed, f"{mode}: the plan after resuming differs from the one saved at the stop")
        check(resumed == uninterrupted[(stop, 0)], f"{mode}: the resumed plan differs from the uninterrupted run's")
        check(read_plans(os.path.join(split, mode, "plans.jsonl")) == uninterrupted,
              f"{mode}: the interrupted + resumed run's batch plans differ from the uninterrupted run's")
        # Model and optimizer come back too: the first resumed epoch's loss matches the
        # uninterrupted run's (LibTorch on the CPU with a fixed thread count is deterministic).
        a = [float(r["loss"]) for r in full_rows if r["run"] == mode]
        b = [float(r["loss"]) for r in split_rows if r["run"] == mode]
        check(all(abs(x - y) <= 1e-3 * max(1.0, abs(x)) for x, y in zip(a, b)),
              f"{mode}: losses of the resumed run {b} differ from the uninterrupted run's {a}")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed:")
    for mode in MODES:
        r = full_runs[mode]
        print(f"  {mode:11s} train {r['train_s']:.1f} s, predicted voxel fraction {r['predicted_voxel_fraction']:.3f}, "
              f"mean Dice {r['mean_dice']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

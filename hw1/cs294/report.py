"""REPORT.md: the reproduction's tables, figures and videos on one page, beside the published numbers.

Everything here is read from the run directories and step stamps under the results root, so the
report can be rewritten at any time without rerunning anything. No TensorFlow here.
"""

import dataclasses
import datetime
import json
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from cs294 import files, pipeline, plots, provenance, published
from cs294.sweeps import bootstrap_interval
from cs294.errors import UserError

STAGE_ORDER = ("speed benchmark", "expert check", "expert data", "BC", "DAgger", "data efficiency", "Hopper study", "BC curves", "BCO", "videos")

TASKS, SEED_002 = published.TASKS, published.SEED_002


def load_runs(results: Path, env_name: str, method: str, finished: "set[Path] | None" = None, pattern: str = "seed*") -> list[dict]:
    """The metrics.json of every finished seed<S> run of one method on one task; a damaged one is a UserError naming it.

    A DAgger run stopped mid-way (killed, or failed after a commit) keeps its committed iterations
    with "complete": false until it is resumed; it counts in no table. With `finished` (resolved
    run directories), only those count: the reproduction's report reads the outputs of its own
    finished steps, never a run someone else left under its root. Damaged means anything the
    tables would crash on or print as nan: not JSON, JSON of another shape (a list, no "expert",
    an empty "iterations"), a folder in the file's place, or a return that is NaN.
    """
    runs = []
    for path in sorted((results / env_name / method).glob(f"{pattern}/metrics.json")):
        if finished is not None and path.parent.resolve() not in finished:
            continue
        try:
            run = read_run(path)
            if run.get("complete") is False:
                continue
            check_run(run, method.removeprefix("efficiency/"))
        except Damaged as problem:
            raise UserError(f"{path} is damaged ({problem}); make that run again (reproduce.py remakes its own steps; for a run made by "
                            f"hand, run its script with --run_dir {path.parent} --overwrite), or remove that run's folder") from None
        runs.append(run)
    return runs


def read_run(path: Path) -> dict:
    """A run's metrics.json as the mapping bc.py, dagger.py and bco.py write, or Damaged."""
    try:
        run = json.loads(path.read_text())
    except IsADirectoryError:
        raise Damaged("a folder, not a file") from None
    except ValueError:
        raise Damaged("not JSON: truncated or overwritten") from None
    except OSError as error:
        raise Damaged(f"unreadable: {error.strerror}") from None
    if not isinstance(run, dict):
        raise Damaged(f"a JSON {type(run).__name__}, not the mapping bc.py, dagger.py and bco.py write")
    return run


def check_run(run: dict, method: str) -> None:
    """What the tables read of a finished run of `method`; older bco.py runs without a summary count in no table (bco_runs_of)."""
    if method != "bco":
        check_imitation_run(run, method)
    elif "summary" in run:
        check_bco_run(run)


class Damaged(Exception):
    """What is wrong with a run's metrics.json, in words: the reason its tables refuse it."""


def name_of(keys: tuple[str | int, ...]) -> str:
    """('iterations', -1, 'return_mean') -> 'iterations[-1].return_mean', as the message names a field."""
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in keys).lstrip(".")


def field(run: dict, *keys: str | int) -> object:
    """run[key][key]..., or Damaged naming the first step that is missing, e.g. 'iterations[0] is missing (the list is empty)'."""
    value: object = run
    for depth, key in enumerate(keys):
        if isinstance(key, int):
            if not isinstance(value, list) or not -len(value) <= key < len(value):
                raise Damaged(f"{name_of(keys[:depth + 1])} is missing" + (" (the list is empty)" if value == [] else ""))
        elif not isinstance(value, dict) or key not in value:
            raise Damaged(f"{name_of(keys[:depth + 1])} is missing")
        value = value[key]
    return value


def mapping(run: dict, *keys: str | int) -> dict:
    value = field(run, *keys)
    if not isinstance(value, dict):
        raise Damaged(f"{name_of(keys)} is {json.dumps(value)[:40]}, not a mapping")
    return value


def finite(run: dict, *keys: str | int) -> float:
    """A number a table shows or adds up; NaN, infinities, strings and booleans are damage, not numbers to print."""
    value = field(run, *keys)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Damaged(f"{name_of(keys)} is {json.dumps(value)[:40]}, not a number")
    try:
        number = float(value)  # an integer too large for a float is as unusable as an infinity
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Damaged(f"{name_of(keys)} is {json.dumps(value)[:40]}, not a finite number")
    return number


def nonempty_list(run: dict, key: str) -> list:
    """run[key] as a list with at least one item, or Damaged."""
    value = field(run, key)
    if not isinstance(value, list) or not value:
        raise Damaged(f"{key} is empty" if value == [] else f"{key} is {json.dumps(value)[:40]}, not a list")
    return value


def check_score(run: dict, *keys: str | int) -> None:
    """An evaluation as evaluation_cell reads it: mean and std, and episodes and falls where recorded."""
    recorded = mapping(run, *keys)
    finite(run, *keys, "mean")
    finite(run, *keys, "std")
    for count in ("falls", "episodes") if "falls" in recorded else ("episodes",) if "episodes" in recorded else ():
        finite(run, *keys, count)


def check_imitation_run(run: dict, method: str) -> None:
    """What the main table, the data-efficiency study and the BCO table read of a bc.py or dagger.py run."""
    check_score(run, "expert")
    if method != "dagger":  # bc.py's: its score, and demonstration_episodes and expert_labels
        check_score(run, "evaluation")
        finite(run, "data", "episodes")
        finite(run, "data", "transitions")
        return
    if "evaluation" in run:  # scored(); a DAgger run from before "evaluation" was recorded is scored on its last iteration
        check_score(run, "evaluation")
    else:
        finite(run, "iterations", -1, "return_std")
        mapping(run, "config")
    iterations = nonempty_list(run, "iterations")
    finite(run, "iterations", 0, "episodes")
    for index in range(len(iterations)):  # DAgger's wall time, its labels, and the labels it needed to score as the expert
        recorded = mapping(run, "iterations", index)
        finite(run, "iterations", index, "seconds")
        finite(run, "iterations", index, "return_mean")
        finite(run, "iterations", index, "expert_labels" if "expert_labels" in recorded else "transitions")
        if "expert_return_mean" in recorded:
            finite(run, "iterations", index, "expert_return_mean")
    losses = field(run, "validation_loss_per_epoch")  # the report's loss figure (dagger_panels): one list of epochs per fit
    if not isinstance(losses, list) or not all(isinstance(fit, list) for fit in losses):
        raise Damaged(f"validation_loss_per_epoch is {json.dumps(losses)[:40]}, not a list of lists")


def check_bco_run(run: dict) -> None:
    """What the BCO table reads of a bco.py run that records its summary (bco_table)."""
    for part in ("bco0", "kept", "last"):
        finite(run, "summary", part, "normalized_score")
        finite(run, "summary", part, "return")
    finite(run, "summary", "kept", "iteration")
    finite(run, "summary", "random")
    finite(run, "summary", "expert")
    for count in ("pre", "post", "post_to_pre", "selection"):
        finite(run, "interactions", count)
    finite(run, "demonstrations", "steps")
    iterations = nonempty_list(run, "iterations")
    for index in range(len(iterations)):  # the report's BCO figure: interactions and normalized score per iteration (bco_panels)
        finite(run, "iterations", index, "interactions")
        finite(run, "iterations", index, "normalized_score")


def summarize(values: list[float], digits: int = 1) -> str:
    """Mean ± std over runs; a single run is given as itself with its n, never as '± 0.0'."""
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (n = 1)"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def share(value: list[float], expert: list[float], digits: int = 0) -> str:
    if not value or not expert:
        return ""
    if np.mean(expert) <= 0:  # Reacher's returns are negative: a gap reads better than a ratio
        return f" (gap {np.mean(value) - np.mean(expert):+.1f})"
    return f" ({100 * np.mean(value) / np.mean(expert):.{digits}f}%)"


def falls_text(evaluations: list[dict]) -> str:
    """Episodes that ended before the time limit, over all the runs' evaluation episodes: 'falls k/n'."""
    if any("falls" not in e for e in evaluations):  # runs made before falls were counted (2026-12-04)
        return "falls not recorded"
    return f"falls {sum(e['falls'] for e in evaluations)}/{sum(e['episodes'] for e in evaluations)}"


def scored(run: dict) -> dict:
    """A bc.py or dagger.py run's score: its "evaluation"; for a DAgger run made before that was recorded, its last iteration's."""
    if "evaluation" in run:
        return run["evaluation"]
    last = run["iterations"][-1]
    return {"mean": last["return_mean"], "std": last["return_std"], "episodes": run["config"].get("eval_episodes", 0)}


def expert_labels(run: dict) -> int:
    """The expert-labelled transitions a run learned from: BC's demonstrations; DAgger's rollouts plus every state it had relabelled."""
    if "iterations" not in run:
        return run["data"]["transitions"]
    last = run["iterations"][-1]
    return last.get("expert_labels", last["transitions"])  # before expert_labels was recorded, every transition was one


def evaluation_cell(evaluations: list[dict], expert: list[float]) -> str:
    """Mean ± std over seeds, the 95% bootstrap interval of that mean, the share of the expert, and the falls."""
    if not evaluations:
        return "–"
    means = [e["mean"] for e in evaluations]
    if len(means) == 1 and evaluations[0].get("episodes", 0) > 1:  # one seed: the spread over its episodes, as the homework's table has it
        only = evaluations[0]
        return (f"{only['mean']:.1f} ± {only['std']:.1f} over its {only['episodes']} episodes (n = 1){share(means, expert)}, "
                f"{falls_text(evaluations)}")
    interval = " [{:.0f}, {:.0f}]".format(*bootstrap_interval(means)) if len(means) > 1 else ""
    return f"{summarize(means)}{interval}{share(means, expert)}, {falls_text(evaluations)}"


HEADLINE_START, HEADLINE_END = "<!-- headline:start -->", "<!-- headline:end -->"


def main_cells(results: Path, env_name: str, finished: "set[Path] | None" = None) -> dict[str, str]:
    """The expert, BC and DAgger (last iteration) cells of one task, shared by the headline and the full table.

    bc.py and dagger.py score a seed's runs, and the expert beside them, on the same episodes, so one expert column serves both.
    """
    bc_runs, dagger_runs = load_runs(results, env_name, "bc", finished), load_runs(results, env_name, "dagger", finished)
    experts = [run["expert"] for run in bc_runs] or [run["expert"] for run in dagger_runs]
    expert = [e["mean"] for e in experts]
    return {"expert": evaluation_cell(experts, []), "bc": evaluation_cell([scored(run) for run in bc_runs], expert),
            "dagger": evaluation_cell([scored(run) for run in dagger_runs], [run["expert"]["mean"] for run in dagger_runs]),
            "runs": f"{len(bc_runs)}/{len(dagger_runs)}", "rollouts": rollouts_cell(bc_runs + dagger_runs)}


def demonstration_episodes(run: dict) -> int:
    """The expert rollouts a bc.py or dagger.py run started from (after --num_demos), as its metrics.json records them."""
    return run["iterations"][0]["episodes"] if "iterations" in run else run["data"]["episodes"]


def rollouts_cell(task_runs: list[dict]) -> str:
    """The runs' own rollout counts, e.g. '10', or '1, 10' when the runs differ; '–' without runs."""
    return ", ".join(str(count) for count in sorted({demonstration_episodes(run) for run in task_runs})) or "–"


def episodes_note(settings: dict) -> str:
    """What every cell of the headline and the main table is: the statistics, the episodes and the falls."""
    return (f"Mean ± std over seeds {', '.join(map(str, settings['seeds']))}, each run scored on {settings['eval_episodes']} episodes, "
            "[the 95% bootstrap interval of that mean], (% of the expert); the expert, BC and DAgger of one seed play the same episodes. "
            "Falls: episodes that ended before the time limit, out of all the runs' episodes. DAgger is its last iteration")


def headline(context: "Context") -> list[str]:
    """The short table README.md copies word for word (a test checks the copy): expert, BC and DAgger's last iteration."""
    root, tasks = context.root, list(context.profile_settings["tasks"])
    lines = ["| task | expert | BC | DAgger | seed 002: expert | BC | DAgger |", "|---|---|---|---|---|---|---|"]
    for env_name in tasks:
        cells = main_cells(root, env_name, context.finished)
        _, *published = SEED_002[env_name]
        lines.append(f"| {env_name} | {cells['expert']} | {cells['bc']} | {cells['dagger']} | " + " | ".join(published) + " |")
    run = latest_clean_run(context)
    timing = f"the latest clean start took {run['seconds'] / 60:.1f} min" if run else partial_run_text(context)
    return [HEADLINE_START, *lines, "", f"{episodes_note(context.profile_settings)}; {timing}.", HEADLINE_END]


def unfinished_note(context: "Context") -> list[str]:
    """A warning above the tables when some of their steps are not finished now: their runs are left out, not shown stale."""
    missing = context.unfinished(STAGE_ORDER)
    if not missing:
        return []
    shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
    return [f"**{len(missing)} steps of this profile are not finished with the current code and inputs ({shown}); "
            f"their runs and sections are left out. `{context.finishing}` finishes them.**", ""]


def finished_section(context: "Context", path: Path, drop_title: bool = True) -> list[str]:
    """A step's own Markdown section if that step is finished with the current code and inputs; else a line saying it is left out."""
    if context.finished & {path.resolve(), *path.resolve().parents}:  # the step's output is the file or a folder holding it
        return section_file(path, drop_title)
    return [f"*Left out: `{relative(path, context.root)}` is not finished with the current code and inputs "
            f"(`{context.finishing}` makes it).*"]


def table(results: Path, tasks: Sequence[str] = TASKS, finished: "set[Path] | None" = None) -> str:
    """Expert / BC / DAgger (last iteration) per task beside seed 002's published numbers, with DAgger's expert labels and time."""
    lines = ["| task | rollouts: ours (seed 002) | expert (ours) | BC (ours) | DAgger, last iteration (ours) | runs (BC/DAgger) | DAgger expert labels | DAgger wall time | seed 002 expert | seed 002 BC | seed 002 DAgger |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for env_name in tasks:
        cells, dagger_runs = main_cells(results, env_name, finished), load_runs(results, env_name, "dagger", finished)
        labels = f"{np.mean([expert_labels(run) for run in dagger_runs]):,.0f}" if dagger_runs else "–"
        wall = f"{np.mean([sum(r['seconds'] for r in run['iterations']) for run in dagger_runs]) / 60:.1f} min" if dagger_runs else "–"
        rollouts, *published = SEED_002[env_name]
        lines.append(f"| {env_name} | {cells['rollouts']} ({rollouts}) | {cells['expert']} | {cells['bc']} | {cells['dagger']} | {cells['runs']} | {labels} | {wall} | "
                     + " | ".join(published) + " |")
    lines += ["", "Mean ± std over seeds [95% bootstrap interval of the mean] (% of the expert on the same episodes), and the falls. "
              "Expert labels: the initial rollouts' transitions plus every state the expert relabelled, mean over seeds. Wall time adds up "
              "the iterations (rollouts, labelling, training), evaluation excluded. No \"best iteration\" is reported: it would be chosen on "
              "the episodes that score it."]
    return "\n".join(lines) + "\n"


def efficiency_runs(root: Path, task: str, method: str, count: int, published_count: int, finished: "set[Path] | None") -> list[dict]:
    """The study's runs of one method from the first `count` rollouts; at the published count, the main table's runs."""
    if count == published_count:
        return load_runs(root, task, method, finished)
    return load_runs(root, task, f"efficiency/{method}", finished, pattern=f"demos{count}_seed*")  # studies.efficiency_run_dir's layout


def study_schedule(p: dict) -> str:
    """The study's DAgger schedule in words: iterations x retrain epochs per task where it is not the main table's."""
    own = p.get("efficiency_dagger") or {}
    if not own:
        return "the main table's schedule of each task"
    by_schedule: dict[tuple[int, int], list[str]] = {}
    for task, (iterations, epochs) in own.items():
        by_schedule.setdefault((iterations, epochs), []).append(task)
    parts = [f"{iterations} iterations × {epochs} epochs on {', '.join(tasks)}" for (iterations, epochs), tasks in sorted(by_schedule.items())]
    return "; ".join(parts) + " (the study's own schedule, chosen on seeds the study does not use: docs/dagger.md)"


def reached(score: float, expert: float) -> bool:
    """Whether a return counts as the expert's: 95% of it, or within 1.0 where returns are negative (Reacher)."""
    return score >= expert - 1.0 if expert <= 0 else score >= 0.95 * expert


def labels_to_reach(run: dict) -> int | None:
    """The expert labels of a DAgger run's first iteration that scored as the expert (reached()), or None if none did.

    Each iteration is held to the expert on its own episodes (an iteration before the last plays the first --curve_episodes).
    """
    return next((it.get("expert_labels", it["transitions"]) for it in run["iterations"]
                 if reached(it["return_mean"], it.get("expert_return_mean", run["expert"]["mean"]))), None)


def labels_needed(p: dict, root: Path, finished: "set[Path] | None" = None) -> list[str]:
    """Per task: the fewest expert labels with which BC scored as the expert, beside DAgger's from the study's fewest rollouts."""
    lines = ["| task | BC: fewest rollouts that reached it | BC: expert labels | DAgger from N rollouts: seeds that reached it | "
             "DAgger: expert labels when it first did |", "|---|---|---|---|---|"]
    for task in p["tasks"]:
        published_count, counts = p["rollouts"][task], sorted(n for n in {*p["efficiency"], p["rollouts"][task]} if n <= p["rollouts"][task])
        bc_cell, bc_labels = "not reached", "–"
        for count in counts:
            runs = efficiency_runs(root, task, "bc", count, published_count, finished)
            if runs and reached(float(np.mean([scored(run)["mean"] for run in runs])), float(np.mean([run["expert"]["mean"] for run in runs]))):
                bc_cell, bc_labels = str(count), f"{np.mean([expert_labels(run) for run in runs]):,.0f}"
                break
        dagger_runs = efficiency_runs(root, task, "dagger", counts[0], published_count, finished) if counts else []
        if not dagger_runs and bc_cell == "not reached":
            continue
        needed = [labels_to_reach(run) for run in dagger_runs]
        hits = [n for n in needed if n is not None]
        dagger_labels = f"{np.mean(hits):,.0f}" + (" (those seeds)" if len(hits) < len(needed) else "") if hits else "–"
        lines.append(f"| {task} | {bc_cell} | {bc_labels} | N = {counts[0]}: {len(hits)}/{len(needed)} | {dagger_labels} |")
    return lines


EFFICIENCY_START, EFFICIENCY_END = "<!-- efficiency:start -->", "<!-- efficiency:end -->"


def share_and_falls(runs: list[dict]) -> str:
    """'53%, falls 20/150' (Reacher: 'gap -1237.4, falls 0/150'): the runs' mean against the expert on the same episodes."""
    if not runs:
        return "–"
    evaluations = [scored(run) for run in runs]
    return f"{share([e['mean'] for e in evaluations], [run['expert']['mean'] for run in runs]).strip(' ()')}, {falls_text(evaluations)}"


def efficiency_headline(p: dict, root: Path, finished: "set[Path] | None" = None) -> list[str]:
    """The short table of the study, for README.md to copy word for word: BC and DAgger from the fewest rollouts."""
    fewest, tasks = min(p["efficiency"]), list(p["tasks"])
    rows: dict[str, list[str]] = {"BC": [], "DAgger, last iteration": [], "DAgger: expert labels when it first scored as the expert": []}
    for task in tasks:
        bc_runs, dagger_runs = (efficiency_runs(root, task, method, fewest, p["rollouts"][task], finished) for method in ("bc", "dagger"))
        needed = [labels for labels in map(labels_to_reach, dagger_runs) if labels is not None]
        rows["BC"].append(share_and_falls(bc_runs))
        rows["DAgger, last iteration"].append(share_and_falls(dagger_runs))
        rows["DAgger: expert labels when it first scored as the expert"].append(
            f"{np.mean(needed):,.0f} ({len(needed)}/{len(p['seeds'])} seeds)" if needed else "–")
    lines = [f"| from {fewest} expert rollout{'s' if fewest > 1 else ''} | " + " | ".join(tasks) + " |", "|---|" + "---|" * len(tasks),
             *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items())]
    note = (f"Mean over seed{'s' if len(p['seeds']) > 1 else ''} {', '.join(map(str, p['seeds']))}, each run scored on {p['eval_episodes']} episodes: % of the expert on the same "
            "episodes (on negative returns, the gap to the expert's), and falls out of all the runs' episodes. DAgger: "
            f"{study_schedule(p)}. Scoring as the expert: 95% of its return (on negative returns, within 1.0), at the first iteration "
            "that did, on the first 10 evaluation episodes (dagger.py's --curve_episodes); the mean over the seeds that got there.")
    return [EFFICIENCY_START, *lines, "", note, EFFICIENCY_END]


def efficiency_study(p: dict, root: Path, finished: "set[Path] | None" = None) -> tuple[list[str], list[dict]]:
    """The data-efficiency table (one row per task and number of rollouts) and the figure's panels; p: a profile's settings."""
    lines = ["| task | rollouts | BC: expert labels | BC return | DAgger: expert labels | DAgger return |", "|---|---|---|---|---|---|"]
    panels = []
    for task in p["tasks"]:
        published_count = p["rollouts"][task]
        methods: dict[str, dict] = {"BC": {}, "DAgger": {}}
        expert = []
        for count in sorted({*p["efficiency"], published_count}):
            if count > published_count:
                continue
            cells = []
            for name, method in (("BC", "bc"), ("DAgger", "dagger")):
                task_runs = efficiency_runs(root, task, method, count, published_count, finished)
                if not task_runs:
                    cells += ["–", "–"]
                    continue
                expert += [run["expert"]["mean"] for run in task_runs]
                labels, means = float(np.mean([expert_labels(run) for run in task_runs])), [scored(run)["mean"] for run in task_runs]
                low, high = bootstrap_interval(means)
                for key, value in (("labels", labels), ("mean", float(np.mean(means))), ("low", low), ("high", high)):
                    methods[name].setdefault(key, []).append(value)
                cells += [f"{labels:,.0f}", evaluation_cell([scored(run) for run in task_runs], [run["expert"]["mean"] for run in task_runs])]
            lines.append(f"| {task} | {count} | " + " | ".join(cells) + " |")
        if expert:
            panels.append({"env": task, "expert": float(np.mean(expert)), "methods": {name: curve for name, curve in methods.items() if curve}})
    return lines, panels


BCO_TASKS = ("CartPole-v1", "MountainCar-v0", "Reacher-v1", "Hopper-v1", "HalfCheetah-v1", "Ant-v1")
# Issue 16's targets for BCO(alpha)'s normalized score: 0.9, and 0.8 on Ant.
BCO_TARGETS = {task: 0.8 if task == "Ant-v1" else 0.9 for task in BCO_TASKS}


def score_cell(values: list[float]) -> str:
    """Normalized scores: mean ± std over seeds, two decimals; one run is given with its n."""
    return summarize(values, digits=2)


def count_cell(values: list[float]) -> str:
    """A count as the mean over seeds, with thousands separators."""
    return f"{np.mean(values):,.0f}" if values else "–"


def bco_runs_of(results: Path, tasks: Sequence[str], finished: "set[Path] | None" = None) -> dict[str, list[dict]]:
    """The BCO runs per task that record the reward-free selection and the accounting (bco.py since issue 16)."""
    found = {task: [run for run in load_runs(results, task, "bco", finished) if "summary" in run] for task in tasks}
    return {task: task_runs for task, task_runs in found.items() if task_runs}


def bco_table(results: Path, tasks: Sequence[str] = BCO_TASKS, finished: "set[Path] | None" = None) -> str:
    """BCO in the paper's accounting: |I_pre|, alpha |I_pre| and the selection episodes apart; normalized scores, then returns."""
    runs = bco_runs_of(results, tasks, finished)
    lines = ["| task | seeds | demo steps | \\|I_pre\\| | α·\\|I_pre\\| | post / pre | selection steps | BCO(0) | BCO(α), kept | BCO(α), last | target |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for task, task_runs in runs.items():
        summary = [run["summary"] for run in task_runs]
        interactions = [run["interactions"] for run in task_runs]
        lines.append(f"| {task} | {len(task_runs)} | {count_cell([run['demonstrations']['steps'] for run in task_runs])} | "
                     f"{count_cell([i['pre'] for i in interactions])} | {count_cell([i['post'] for i in interactions])} | "
                     f"{np.mean([i['post_to_pre'] for i in interactions]):g} | {count_cell([i['selection'] for i in interactions])} | "
                     f"{score_cell([s['bco0']['normalized_score'] for s in summary])} | {score_cell([s['kept']['normalized_score'] for s in summary])} | "
                     f"{score_cell([s['last']['normalized_score'] for s in summary])} | {BCO_TARGETS.get(task, 0.9):g} |")
    lines += ["", "| task | random | expert | BC, true actions | BCO(0) | BCO(α), kept | BCO(α), last | kept iteration per seed |",
              "|---|---|---|---|---|---|---|---|"]
    for task, task_runs in runs.items():
        summary = [run["summary"] for run in task_runs]
        bc = [run["evaluation"]["mean"] for run in (load_runs(results, task, "bc_bco", finished) or load_runs(results, task, "bc", finished))]
        lines.append(f"| {task} | {summarize([s['random'] for s in summary])} | {summarize([s['expert'] for s in summary])} | {summarize(bc)} | "
                     f"{summarize([s['bco0']['return'] for s in summary])} | {summarize([s['kept']['return'] for s in summary])} | "
                     f"{summarize([s['last']['return'] for s in summary])} | {', '.join(str(s['kept']['iteration']) for s in summary)} |")
    return "\n".join(lines) + "\n"


def bco_panels(results: Path, tasks: Sequence[str], finished: "set[Path] | None" = None) -> list[dict]:
    """Per task: the mean over seeds of the interactions and the normalized score at each iteration, and the kept policies' mean score."""
    panels = []
    for task, task_runs in bco_runs_of(results, tasks, finished).items():
        length = min(len(run["iterations"]) for run in task_runs)
        rows = [[run["iterations"][index] for run in task_runs] for index in range(length)]
        panels.append({"env": task, "interactions": [float(np.mean([r["interactions"] for r in row])) for row in rows],
                       "mean": [float(np.mean([r["normalized_score"] for r in row])) for row in rows],
                       "std": [float(np.std([r["normalized_score"] for r in row])) for row in rows],
                       "kept": float(np.mean([run["summary"]["kept"]["normalized_score"] for run in task_runs])),
                       "target": BCO_TARGETS.get(task, 0.9)})
    return panels


def bco_curve_episodes(runs: dict[str, list[dict]]) -> str:
    """How many evaluation episodes scored the iterations between BCO(0) and the last, over these runs ("10", or "5 to 10"; "K" for none)."""
    counts = sorted({min(run["config"].get("curve_episodes", run["config"]["eval_episodes"]), run["config"]["eval_episodes"])
                     for task_runs in runs.values() for run in task_runs})
    return "K" if not counts else str(counts[0]) if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def bco_settings(profile_bco: dict, budget: Sequence[str] = ()) -> str:
    """The bco.py options each task ran with, as one sentence."""
    return "; ".join(f"{task}: `{' '.join([*arguments, *budget]) or 'defaults'}`" for task, (_, arguments) in profile_bco.items())


@dataclasses.dataclass
class Context:
    """What the report needs to know about the invocation that wrote it."""

    command: str
    profile: str
    profile_settings: dict
    root: Path
    jobs: list[pipeline.Job]
    outcome: pipeline.Outcome
    video_problem: str | None
    machine: str
    finish_command: str = ""
    """The command that finishes every step of the profile (the invocation's --root and --data_dir, without --only)."""

    @property
    def finishing(self) -> str:
        return self.finish_command or f"python hw1/reproduce.py --profile {self.profile}"

    @property
    def finished(self) -> set[Path]:
        """The resolved outputs of this plan's steps that finished in this invocation or were found cached: all a table may read."""
        done = set(self.outcome.ran) | set(self.outcome.cached)
        return {job.output.resolve() for job in self.jobs if job.name in done}

    def unfinished(self, stages: Sequence[str]) -> list[str]:
        """The names of this plan's steps of these stages that are neither finished nor cached now (failed, skipped or stale)."""
        done = set(self.outcome.ran) | set(self.outcome.cached)
        return [job.name for job in self.jobs if job.stage in stages and job.name not in done]


def relative(path: Path, root: Path) -> str:
    """A link target relative to the report's directory."""
    return os.path.relpath(path, root)


def _time(stamp: dict, field: str) -> datetime.datetime | None:
    """A recorded time, or None where there is none or it is damaged (a time without a zone, too: it compares with none of ours)."""
    try:
        time = datetime.datetime.fromisoformat(stamp[field])
    except (KeyError, TypeError, ValueError):
        return None
    return time if time.tzinfo is not None else None


def span_minutes(stamps: list[dict]) -> float:
    """Minutes from the first step's start to the last step's end."""
    starts = [t for t in (_time(s, "started_utc") for s in stamps) if t]
    ends = [t for t in (_time(s, "finished_utc") for s in stamps) if t]
    return (max(ends) - min(starts)).total_seconds() / 60 if starts and ends else 0.0


def latest_complete_run(context: Context, clean: bool = True) -> dict | None:
    """The latest recorded run of reproduce.py that ran steps and finished every step of the plan; with clean, one that found nothing cached.

    A run of part of the plan (--only data/, say) covers fewer steps than the plan holds: its time is no reproduction's.
    """
    history = pipeline.read_invocations(context.root / "reproduce")
    complete = [run for run in history if run.get("ran") and not run.get("failed") and not run.get("interrupted")
                and run["ran"] + run.get("cached", 0) == len(context.jobs) and (run.get("cached") == 0 or not clean)]
    return complete[-1] if complete else None


def latest_clean_run(context: Context) -> dict | None:
    """The latest recorded run of reproduce.py that started clean (nothing cached) and finished every step."""
    return latest_complete_run(context, clean=True)


def partial_run_text(context: Context) -> str:
    """Where no clean start is recorded: the latest complete run's time and what it found cached, so its time is not read as a clean start's."""
    run = latest_complete_run(context, clean=False)
    if not run:
        return "no complete run is recorded"
    return (f"no clean start is recorded; the latest complete run ran {run['ran']} steps in {run['seconds'] / 60:.1f} min "
            f"with {run.get('cached', 0)} cached")


def step_seconds(stamp: dict) -> float:
    """A finished step's recorded time; 0 where it holds none, a damaged one, or the step did not finish (pipeline.measured_seconds)."""
    return pipeline.measured_seconds(stamp) or 0.0


def stage_times(context: Context) -> list[str]:
    """Per stage: steps, summed step time, and its wall-clock span inside the latest clean run, from the step stamps."""
    stamps = [pipeline.read_stamp(context.root / "reproduce", job) or {} for job in context.jobs]
    run = latest_clean_run(context)
    window = (_time(run, "started_utc"), _time(run, "finished_utc")) if run else None
    lines = ["| stage | steps | summed step time | wall-clock span in that run |", "|---|---|---|---|"]
    for stage in [s for s in STAGE_ORDER if any(job.stage == s for job in context.jobs)]:
        members = [stamp for job, stamp in zip(context.jobs, stamps) if job.stage == stage]
        inside = [s for s in members if window and _time(s, "started_utc") and window[0] <= _time(s, "started_utc") <= window[1]]
        span = f"{span_minutes(inside):.1f} min" if len(inside) == len(members) else "– (redone later)"
        lines.append(f"| {stage} | {len(members)} | {sum(map(step_seconds, members)) / 60:.1f} min | {span} |")
    total = sum(map(step_seconds, stamps))
    lines += ["", f"All steps together: {total / 60:.1f} min of step time. Steps run side by side, so the stages overlap.", ""]
    if run:
        lines.append(f"**The latest complete run from a clean start took {run['seconds'] / 60:.1f} min** "
                     f"({run['ran']} steps, started {run['started_utc'][:19]}; `reproduce/invocations.json` lists every run).")
    else:
        lines.append(f"{partial_run_text(context).capitalize()} (`reproduce/invocations.json` lists the runs).")
    return lines


def dagger_panels(root: Path, tasks: list[str], finished: "set[Path] | None" = None) -> tuple[list[dict], list[dict]]:
    """Return-per-iteration panels (mean over seeds) and validation-loss panels (seed 0) for the tasks with DAgger runs."""
    returns, losses = [], []
    for task in tasks:
        runs = load_runs(root, task, "dagger", finished)
        if not runs:
            continue
        length = min(len(run["iterations"]) for run in runs)
        per_iteration = np.array([[row["return_mean"] for row in run["iterations"][:length]] for run in runs])
        returns.append({"env": task, "iterations": list(range(length)), "mean": per_iteration.mean(axis=0), "std": per_iteration.std(axis=0),
                        "expert": float(np.mean([run["expert"]["mean"] for run in runs])), "bc": float(per_iteration[:, 0].mean())})
        epochs = runs[0]["validation_loss_per_epoch"]
        if epochs and epochs[0]:
            losses.append({"env": task, "bc": epochs[0], "dagger": [value for iteration in epochs[1:] for value in iteration]})
    return returns, losses


def section_file(path: Path, drop_title: bool = True) -> list[str]:
    """The lines of a markdown file another step wrote, without its title and one heading level down."""
    if not path.exists():
        return [f"(missing: {path.name} was not written; see the step logs)"]
    lines = path.read_text().strip().splitlines()
    if drop_title and lines and lines[0].startswith("# "):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines = lines[1:]
    return ["#" + line if line.startswith("#") else line for line in lines]


def videos(context: Context, tasks: list[str]) -> list[str]:
    if context.video_problem:
        return [f"No videos: {context.video_problem}. Everything else in this report is unaffected."]
    lines = ["Each clip replays one episode per policy from the same reset seed: the expert, BC (seed 0) and DAgger (seed 0), "
             "left to right, every fourth step. GIFs at half size; the MP4 links are sharper."]
    for task in tasks:
        mp4 = context.root / "videos" / f"{task}.mp4"
        if mp4.exists() and mp4.resolve() in context.finished:  # a clip of older policies is not shown as these runs'
            lines += ["", f"**{task}** ([MP4]({relative(mp4, context.root)}))", "",
                      f"![{task}: expert, BC, DAgger]({relative(mp4.with_suffix('.gif'), context.root)})"]
        else:
            lines += ["", f"*Left out: the {task} clip is not finished with the current code and inputs.*"]
    return lines


def policies(context: Context, tasks: list[str]) -> list[str]:
    lines = ["| task | BC | DAgger | BCO |", "|---|---|---|---|"]
    for task in tasks:
        cells = []
        for method in ("bc", "dagger", "bco"):
            path = context.root / task / method / "seed0" / "policy.keras"
            ours = path.exists() and path.parent.resolve() in context.finished  # as in the tables: only this plan's finished steps
            cells.append(f"[{method}/seed0/policy.keras]({relative(path, context.root)})" if ours else "–")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return lines


def settings(context: Context) -> list[str]:
    p = context.profile_settings
    lines = ["| task | expert rollouts | BC epochs | DAgger epochs: first fit + iterations × retrain | input clip C | seeds |", "|---|---|---|---|---|---|"]
    for task in p["tasks"]:
        iterations, retrain = p["dagger"][task]
        first = p.get("dagger_first_epochs") or p["bc_epochs"][task]  # DAgger's first fit is BC's unless the profile says otherwise
        clip = p["clip_observations"].get(task)
        lines.append(f"| {task} | {p['rollouts'][task]} | {p['bc_epochs'][task]} | {first} + {iterations} × {retrain} = {first + iterations * retrain} | "
                     f"{f'±{clip:g}' if clip else 'off'} | "
                     f"{', '.join(map(str, p['seeds']))} |")
    lines += ["", f"Every run is evaluated on {p['eval_episodes']} episodes whose reset seeds differ from the data's. bc.py's network: "
              "two hidden layers of 64 ReLU units, inputs normalized inside the model (and clipped to ±C std where the table says so), Adam 1e-3, batch 32. "
              f"DAgger adds {p['dagger_rollouts']} episodes of the learner per iteration, relabeled by the expert, and retrains warm on all the data."]
    return lines


def expert_check_section(context: "Context") -> list[str]:
    """The experts against their published returns (check_experts.py), when the profile checks them."""
    root, profile = context.root, context.profile_settings
    tasks, episodes = profile.get("expert_check") or ((), 0)
    if not episodes:
        return []
    return ["## The experts in the 2017 tasks", "",
            f"`python hw1/check_experts.py --episodes {episodes}`: each expert acts deterministically on reset seeds 0..{episodes - 1}; "
            "a fall is an episode that ended before the time limit (on MountainCar-v0, where ending early is reaching the flag, an episode that never reached it). The 2017 tasks restore the 2017 capsule inertials "
            "(and, for Humanoid-v1, clipped controls and the 2017 contact cost): see docs/experts.md.", "",
            *finished_section(context, root / "expert_check" / "experts.md", drop_title=False), ""]


def build_report(context: Context) -> str:
    """The whole REPORT.md text."""
    root, p = context.root, context.profile_settings
    tasks = list(p["tasks"])
    figures = root / "figures"
    finished = context.finished
    returns, losses = dagger_panels(root, tasks, finished)
    if returns:
        plots.plot_dagger_grid(figures / "dagger_returns.png", returns)
    if losses:
        plots.plot_validation_loss_grid(figures / "validation_loss.png", losses)
    versions = provenance.package_versions()
    lines = [
        "# Reproduction report: CS294-112 HW1 (Fall 2017) on today's MuJoCo",
        "",
        f"Written by `{context.command}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"profile `{context.profile}`, on {context.machine}, no GPU. Packages: "
        + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "Each number below comes from a run directory next to this file; `reproduce/jobs/` holds every step's exact command "
        "and time, and `reproduce/logs/` its output.",
        "",
        "## Headline",
        "",
        *unfinished_note(context),
        *headline(context),
        "",
        "## Time per stage",
        "",
        *stage_times(context),
        "",
        *expert_check_section(context),
        "## Expert, BC and DAgger beside seed 002",
        "",
        *settings(context),
        "",
        table(root, tasks, finished).strip(),
        "",
    ]
    if returns:
        lines += ["### Return against DAgger iteration", "", "Mean ± std over seeds; iteration 0 is BC.", "",
                  f"![DAgger return per iteration]({relative(figures / 'dagger_returns.png', root)})", ""]
    if losses:
        lines += ["### Validation loss: BC against DAgger", "",
                  "Seed 0. BC's epochs, then DAgger's retraining epochs in order; each DAgger iteration validates on a fresh split of the grown data.", "",
                  f"![validation loss]({relative(figures / 'validation_loss.png', root)})", ""]
    if p.get("efficiency"):
        rows, panels = efficiency_study(p, root, finished)
        if panels:
            plots.plot_efficiency_grid(figures / "data_efficiency.png", panels)
        lines += ["## Data efficiency: BC against DAgger per expert label", "", *efficiency_headline(p, root, finished), "",
                  f"BC and DAgger started from the first N expert rollouts of each task's file (N = {', '.join(map(str, p['efficiency']))} "
                  "and the published count, whose runs are the main table's), with the main table's settings: BC "
                  f"{p.get('efficiency_epochs', 100)} epochs on the few rollouts, DAgger {study_schedule(p)} from a first fit of as many epochs. "
                  "Expert labels: the transitions of the rollouts, plus, for DAgger, every state the expert relabelled. "
                  "Each cell: mean ± std over seeds [95% bootstrap interval of the mean] (% of the expert on the same episodes), falls.", "",
                  *rows, ""]
        if panels:
            lines += [f"![return against expert labels]({relative(figures / 'data_efficiency.png', root)})", ""]
        lines += ["### Expert labels needed to score as the expert", "",
                  "Scoring as the expert: 95% of its return on the same episodes (Reacher: within 1.0 of it). BC: the fewest of the "
                  "study's rollout counts whose mean over seeds got there, and its labels. DAgger: from the study's fewest rollouts, the "
                  "seeds whose iterations got there, and the expert labels at the first iteration that did, mean over those seeds "
                  "(an iteration before the last is scored on the first 10 of the evaluation episodes, dagger.py's --curve_episodes).", "",
                  *labels_needed(p, root, finished), ""]
    for task in p["curves"]:
        lines += [f"## BC against the number of demonstrations: {task}", "", *finished_section(context, root / task / "bc_curve" / "bc_curve.md"), ""]
        if (root / task / "bc_curve" / "bc_curve.md").resolve() in finished:
            lines += [f"![{task} curve]({relative(root / task / 'bc_curve' / 'bc_curve.png', root)})", ""]
    if p["study_seeds"]:
        lines += ["## Hopper architecture study beside seed 000", "", *finished_section(context, root / "hopper_architectures.md"), ""]
    if p["bco"]:
        panels = bco_panels(root, list(p["bco"]), finished)
        if panels:
            plots.plot_bco_grid(figures / "bco_scores.png", panels)
        lines += ["## Behavioral cloning from observation", "",
                  "BCO(0) learns its inverse model from |I_pre| random steps; each BCO(α) iteration adds α·|I_pre| steps of "
                  "the exploring policy's own play (the α·|I_pre| column sums them over the iterations, and post / pre is their ratio to |I_pre|). After every iteration the policy "
                  "drives noise-free selection episodes, which are counted, and the kept policy is the one whose states and the "
                  "demonstrations lie closest, measured both ways (docs/bco.md); no reward is read to choose it. Normalized score = (return − random) / (expert − random), the random "
                  "policy and the expert scored on the same evaluation episodes as the learner: all of them for BCO(0), the kept and the last iteration, "
                  f"and the first {bco_curve_episodes(bco_runs_of(root, list(p['bco']), finished))} for each iteration in between, the figure's other "
                  "points (bco.py's --curve_episodes). The BC column is bc.py on the demonstration "
                  "file with its true actions (on the same first N episodes where BCO used only N). bco.py options per task, beside its defaults "
                  "(α 0.5, |I_pre| = the demonstration steps, exploration 0.1, 2 selection episodes, policy mean of 10 networks and inverse "
                  "model of 5, first fits 100 and 30 epochs, warm refits 10 and 10): " + bco_settings(p["bco"], p.get("bco_budget", ())) + ".", "",
                  bco_table(root, list(p["bco"]), finished).strip() if any(bco_runs_of(root, list(p["bco"]), finished).values())
                  else "*Left out: no BCO run of this profile is finished with the current code and inputs "
                       f"(`{context.finishing}` makes them).*", ""]
        if panels:
            lines += [f"![BCO normalized score against interactions]({relative(figures / 'bco_scores.png', root)})", ""]
        if p.get("label_noise"):
            lines += ["### Why BCO averages ensembles", "",
                      "`label_noise.py`: bc.py's network cloned on Hopper from the true actions (clipped to the bounds), from the same "
                      "with Gaussian noise, and from the actions BCO seed 0's final inverse model infers; one network against the mean "
                      "of five.", "", *finished_section(context, root / "Hopper-v1" / "label_noise.md", drop_title=False), ""]
    if p["video_tasks"]:
        lines += ["## Videos", "", *videos(context, tasks), ""]
    if p["benchmark_steps"]:
        lines += ["## Speed", "",
                  f"`python hw1/benchmark.py` over {p['benchmark_steps']} steps per loop, run alone: the training engine's samples/s "
                  "against a plain and a compiled `model.fit`; the policy call in numpy against compiled TensorFlow; this project's "
                  "rollout loop (16 environments, one batched policy call per step) against a bare single-environment loop with a "
                  "numpy expert.", "", *finished_section(context, root / "benchmark.md", drop_title=False), ""]
    lines += ["## Saved policies", "", "Every run directory holds its `policy.keras`; it loads with `keras.saving.load_model(path)` and maps raw "
              "observations to actions.", "", *policies(context, tasks), ""]
    return "\n".join(lines)


def write_report(context: Context) -> Path:
    """Write ROOT/REPORT.md and its figures; returns the report's path."""
    path = context.root / "REPORT.md"
    files.write_text(path, build_report(context))
    return path

"""The reward tables from the runs under results/: Expert / BC / DAgger beside seed 002, and BCO.

    python hw1/tables.py

Reads <results>/<ENV>/bc/seed*/metrics.json and <results>/<ENV>/dagger/seed*/metrics.json:
reproduce.py's runs under results/ by default, or, with --results runs, the runs made by hand
(bc.py and dagger.py write runs/<ENV>/<method>/seed<S>_<time> unless given --run_dir). Every
finished run found there counts; reproduce.py's own REPORT.md counts only its finished steps. A
method's return is the mean over seeds of each run's mean evaluation return, ± the std over
seeds, with the falls; DAgger is its last iteration. The expert, BC and DAgger of one seed are
scored on the same evaluation episodes.

Where <results>/<ENV>/efficiency/ holds the data-efficiency study's runs (the full profile's
layout), it also prints the study's table and the expert labels BC and DAgger needed to score as
the expert.

The BCO tables read <results>/<ENV>/bco/seed*/metrics.json (bco.py) for the six BCO tasks:
normalized scores of BCO(0), the kept policy and the last iteration, the interactions by purpose, and returns.

A run whose metrics.json is damaged (not JSON, JSON of another shape, or a return that is NaN or
infinite) is refused, naming the file: make that run again, or remove its folder.
"""

import argparse
import re
from pathlib import Path

from cs294 import cli, files, report
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("tables.py", __doc__)
    parser.add_argument("--results", type=Path, default=Path("results"), help="the folder of <ENV>/<method>/seed*/ runs: results (the reproduction's, default) or runs (made by hand)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    return parser


def study_settings(results: Path, tasks: list[str]) -> dict:
    """The data-efficiency study's layout as found under results: its rollout counts, and each task's main-table count."""
    # studies.efficiency_run_dir's names, demos<N>_seed<S>; another folder there (demosX_seed0) is no run of the study.
    studied = {task: sorted({int(match[1]) for path in (results / task / "efficiency").glob("*/demos*_seed*")
                             if (match := re.fullmatch(r"demos(\d+)_seed.*", path.name))})
               for task in tasks if (results / task / "efficiency").is_dir()}
    main_counts = {task: max((report.demonstration_episodes(run) for run in report.load_runs(results, task, "bc")), default=0) for task in studied}
    return {"tasks": [task for task in studied if studied[task]], "efficiency": sorted({n for counts in studied.values() for n in counts}),
            "rollouts": main_counts}


def main(args: argparse.Namespace) -> str:
    # Only the tasks that have runs: a table of dashes says nothing a user can act on.
    if args.results.exists() and not args.results.is_dir():
        raise UserError(f"--results {args.results} is a file; name the folder of <ENV>/<method>/seed*/ runs (results or runs)")
    tasks = [task for task in report.TASKS if report.load_runs(args.results, task, "bc") or report.load_runs(args.results, task, "dagger")]
    if not tasks and not report.bco_runs_of(args.results, report.BCO_TASKS):
        raise UserError(f"no finished bc.py, dagger.py or bco.py runs under {args.results}/<ENV>/<method>/seed*/; "
                        "run reproduce.py (results/) or pass --results runs for the runs made by hand")
    text = report.table(args.results, tasks) if tasks else f"No BC or DAgger runs under {args.results}.\n"
    text += "\n" + (report.bco_table(args.results) if report.bco_runs_of(args.results, report.BCO_TASKS) else f"No BCO runs under {args.results}.\n")
    settings = study_settings(args.results, tasks)
    if settings["tasks"]:
        text += "\n" + "\n".join(report.efficiency_study(settings, args.results)[0]) + "\n\n" + "\n".join(report.labels_needed(settings, args.results)) + "\n"
    print(text)
    if args.output:
        files.write_text(args.output, text)
    return text


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

"""The reward tables from the runs under results/: Expert / BC / DAgger beside seed 002, and BCO.

    python hw1/tables.py

Reads <results>/<ENV>/bc/seed*/metrics.json and <results>/<ENV>/dagger/seed*/metrics.json:
reproduce.py's runs under results/ by default, or, with --results runs, the runs made by hand
(bc.py and dagger.py write runs/<ENV>/<method>/seed<S>_<time> unless given --run_dir). Every
finished run found there counts; reproduce.py's own REPORT.md counts only its finished steps. A method's return is the mean over seeds of each run's mean evaluation return, ± the
std over seeds. For DAgger, each run's best iteration counts (the one saved as policy.keras). The
expert column is the expert scored on the same evaluation seeds as the BC runs; DAgger's
percentages use the expert on DAgger's own evaluation seeds. The best iteration is chosen on the
evaluation episodes, which flatters it a little; the last iteration's return is given too.

The BCO tables read <results>/<ENV>/bco/seed*/metrics.json (bco.py) for the six BCO tasks:
normalized scores of BCO(0), the kept policy and the last iteration, the interactions by purpose, and returns.
"""

import argparse
from pathlib import Path

from cs294 import cli, files, report
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("tables.py", __doc__)
    parser.add_argument("--results", type=Path, default=Path("results"), help="the folder of <ENV>/<method>/seed*/ runs: results (the reproduction's, default) or runs (made by hand)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    return parser


def main(args: argparse.Namespace) -> str:
    # Only the tasks that have runs: a table of dashes says nothing a user can act on.
    tasks = [task for task in report.TASKS if report.load_runs(args.results, task, "bc") or report.load_runs(args.results, task, "dagger")]
    if not tasks and not report.bco_runs_of(args.results, report.BCO_TASKS):
        raise UserError(f"no finished bc.py, dagger.py or bco.py runs under {args.results}/<ENV>/<method>/seed*/; "
                        "run reproduce.py (results/) or pass --results runs for the runs made by hand")
    text = report.table(args.results, tasks) if tasks else f"No BC or DAgger runs under {args.results}.\n"
    text += "\n" + (report.bco_table(args.results) if report.bco_runs_of(args.results, report.BCO_TASKS) else f"No BCO runs under {args.results}.\n")
    print(text)
    if args.output:
        files.write_text(args.output, text)
    return text


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

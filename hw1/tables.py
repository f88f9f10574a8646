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


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("tables.py", __doc__)
    parser.add_argument("--results", type=Path, default=Path("results"), help="the folder of <ENV>/<method>/seed*/ runs: results (the reproduction's, default) or runs (made by hand)")
    parser.add_argument("--output", type=Path, default=None, help="also write the table to this markdown file")
    return parser


def main(args: argparse.Namespace) -> str:
    text = report.table(args.results) + "\n" + report.bco_table(args.results)
    print(text)
    if args.output:
        files.write_text(args.output, text)
    return text


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

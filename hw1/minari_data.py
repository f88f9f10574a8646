"""Convert between rollout files and Minari datasets (the successor of D4RL), both ways.

    python hw1/minari_data.py export data/Hopper-v1_10_rollouts.h5 cs294/hopper/expert-v0
    python hw1/minari_data.py import cs294/hopper/expert-v0 data/Hopper-v1_from_minari.h5

`export` writes a Minari dataset under MINARI_DATASETS_PATH (default ~/.minari/datasets): its env
spec builds the file's task again (CS294/Hopper-v1 for the 2017 Hopper-v1, once `import cs294`
has run), and its ref_min_score and ref_max_score are the mean returns of a random policy and
of the expert on --ref_episodes episodes whose seeds the data does not use. `import` writes a rollout file from any
local Minari dataset whose task this project builds; bc.py, dagger.py and bco.py also read one
directly with --data minari:ID (bco.py: --demos). docs/data-format.md has the details.
"""

import argparse
import os
import tempfile
from pathlib import Path

from cs294 import cli, minari_io
from cs294.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("minari_data.py", __doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="{export,import}")
    export = commands.add_parser("export", help="rollout file -> Minari dataset", formatter_class=cli.HelpFormatter)
    export.add_argument("rollouts", type=Path, help="rollout file written by run_expert.py (or dagger.py's aggregated.h5)")
    export.add_argument("dataset_id", help="Minari id of the new dataset, (namespace/)name-vN, e.g. cs294/hopper/expert-v0")
    scores = export.add_argument_group("reference scores")
    fields = export.add_argument_group("who made the dataset")
    scores.add_argument("--ref_episodes", type=int, default=minari_io.DEFAULT_REF_EPISODES,
                        help=f"evaluation episodes behind ref_min_score (random policy) and ref_max_score (expert); 0 leaves both out "
                             f"(default: {minari_io.DEFAULT_REF_EPISODES})")
    scores.add_argument("--expert", type=Path, default=None, help="expert pickle for ref_max_score (default: experts/<env>.pkl)")
    scores.add_argument("--seed", type=int, default=0, help="seed of the reference episodes' reset seeds and of the random policy (default: 0)")
    fields.add_argument("--author", default=minari_io.DEFAULT_AUTHOR, help="the dataset's author field")
    fields.add_argument("--author_email", default=None, help="the dataset's author_email field (default: none)")
    imported = commands.add_parser("import", help="Minari dataset -> rollout file", formatter_class=cli.HelpFormatter)
    imported.add_argument("dataset_id", help="id of a local Minari dataset, e.g. cs294/hopper/expert-v0 or mujoco/hopper/expert-v0")
    imported.add_argument("output", type=Path, help="rollout file to write")
    return parser


def _datasets_folder() -> str:
    """How the message names Minari's datasets folder: as MINARI_DATASETS_PATH gives it, or where it is when that is not set."""
    path = os.environ.get("MINARI_DATASETS_PATH")
    if path:
        return f"MINARI_DATASETS_PATH={path}"
    return f"the Minari datasets folder {minari_io.datasets_root()} (MINARI_DATASETS_PATH is not set)"


def _nearest_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists; one we may not look at is a UserError."""
    for candidate in (path, *path.parents):
        try:
            if candidate.exists() or candidate.is_symlink():  # a broken link is in the way as a file is
                return candidate
        except OSError as error:  # e.g. a folder on the way that we may not look into
            raise UserError(f"{_datasets_folder()}: {candidate} cannot be looked at ({error.strerror or error}); "
                            "point MINARI_DATASETS_PATH at a folder you can write to") from None
    return path


def check_datasets_folder(dataset_id: str) -> None:
    """Before an export: the datasets folder, and the dataset's namespace folders in it, are folders where new folders can be made.

    Minari makes them as it writes, so a file in the way or a folder that takes no new entries
    would otherwise end the export in a traceback.
    """
    root = minari_io.datasets_root()
    for path in (root, (root / dataset_id).parent):  # not the dataset's own folder: an existing one is export_dataset's to refuse
        existing = _nearest_existing(path)
        if not existing.is_dir():
            kind = "a file" if existing.exists() else "a broken symbolic link"
            if existing == root:
                raise UserError(f"{_datasets_folder()} is {kind}, not a folder; point MINARI_DATASETS_PATH at a folder "
                                "(Minari keeps each dataset in a folder there)")
            raise UserError(f"{_datasets_folder()}: {existing} is {kind}, so {path} cannot be made; move it away, "
                            "or point MINARI_DATASETS_PATH at another folder")
        try:
            with tempfile.TemporaryDirectory(dir=existing):
                pass
        except OSError as error:
            raise UserError(f"{_datasets_folder()} is not writable: {existing} takes no new folders ({error.strerror or error}); "
                            "point MINARI_DATASETS_PATH at a folder you can write to, or make this one writable") from None


def check_import(dataset_id: str, output: Path) -> None:
    """Before an import: the output lies outside the dataset it reads.

    A missing or damaged dataset is refused by import_dataset, whose first step, minari_io.load,
    checks the dataset's files for every reader (--data minari:ID too).
    """
    folder = cli.resolved("MINARI_DATASETS_PATH", minari_io.datasets_root() / dataset_id)
    written = cli.resolved("output", output)
    if written == folder or folder in written.parents:
        raise UserError(f"the output {output} lies in the folder of Minari dataset {dataset_id} ({folder}), which it reads: writing "
                        "it would overwrite or change the dataset; write the rollout file outside that folder")


def main(args: argparse.Namespace) -> minari_io.Exported | object:
    """Run the subcommand; returns what export_dataset or import_dataset returned."""
    if args.command == "export":
        check_datasets_folder(args.dataset_id)
        exported = minari_io.export_dataset(args.rollouts, args.dataset_id, expert_path=args.expert, ref_episodes=args.ref_episodes,
                                            seed=args.seed, author=args.author, author_email=args.author_email)
        scores = ("" if exported.ref_min_score is None else
                  f"; ref_min_score {exported.ref_min_score:.1f} (random policy), ref_max_score {exported.ref_max_score:.1f} (expert), "
                  f"{args.ref_episodes} episodes each")
        print(f"wrote Minari dataset {exported.dataset_id} ({exported.episodes} episodes, {exported.steps} steps, env {exported.env_id}) "
              f"to {exported.folder}{scores}")
        return exported
    check_import(args.dataset_id, args.output)
    rollouts = minari_io.import_dataset(args.dataset_id, args.output)
    print(f"wrote {len(rollouts.trajectories)} episodes of {rollouts.attributes['env_name']} "
          f"({rollouts.attributes['dynamics']}), {sum(t.length for t in rollouts.trajectories)} steps, to {args.output}")
    return rollouts


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

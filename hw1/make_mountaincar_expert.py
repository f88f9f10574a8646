"""Design the MountainCar-v0 expert (an energy-pumping controller) and save it in the expert pickle format.

    python hw1/make_mountaincar_expert.py

The expert is designed, not trained. The car is too weak to drive up the hill, so it pumps
energy: it pushes in the direction it moves, which adds to its speed on every swing. At rest,
the first push decides how many swings it takes, so the rule gets a small position term:
push right when v - k (x - c) > 0. The script picks k and c from a small grid by the mean
return on --search_episodes episodes, then checks the expert on --check_episodes other
episodes and writes experts/MountainCar-v0.pkl only if every one reaches the flag. The rule is
linear, with three logits (left, no push, right) = (-z, 0, z), so it has the same format as
the 2017 experts with action_type 'discrete' (experts/README.md).
"""

import argparse
import itertools
import pickle
import tempfile
from pathlib import Path

import numpy as np

from cs294 import cli, environments, provenance

ENV_NAME = "MountainCar-v0"
POSITION_WEIGHTS = (1e-4, 1e-3, 3e-3, 5e-3, 1e-2)
POSITION_CENTRES = tuple(np.round(np.arange(-0.56, -0.39, 0.02), 2))
FLAG_REACHED = -200.0  # a car that never reaches the flag scores -200 at the time limit


def pickle_for(position_weight: float, centre: float) -> dict:
    """z = v - k (x - c) as a linear expert with logits (-z, 0, z) over (push left, no push, push right)."""
    from cs294 import designed_experts  # here, not above: it imports Keras, which --help does not need

    z_kernel = np.array([-position_weight, 1.0])  # (x, v)
    z_bias = position_weight * centre
    kernel = np.stack([-z_kernel, np.zeros(2), z_kernel], axis=1)
    return designed_experts.linear_discrete_pickle(kernel, np.array([-z_bias, 0.0, z_bias]))


def mean_return(payload: dict, seeds: list[int]) -> float:
    """The rule's mean return on these episodes, through the project's own loader and rollout loop."""
    from cs294 import experts, rollouts  # here, not above: they import Keras, which --help does not need

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "rule.pkl"
        path.write_bytes(pickle.dumps(payload, protocol=2))
        model = experts.build_expert_model(experts.load_expert_weights(path))
    return rollouts.evaluate(model, environments.resolve(ENV_NAME), seeds)[0].mean


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("make_mountaincar_expert.py", __doc__)
    search = parser.add_argument_group("search and check")
    output = parser.add_argument_group("output")
    output.add_argument("--output", type=Path, default=environments.default_expert_path(ENV_NAME), help="where the pickle goes (default: experts/MountainCar-v0.pkl)")
    search.add_argument("--search_episodes", type=int, default=50, help="episodes that score each rule of the grid (default: 50)")
    search.add_argument("--check_episodes", type=int, default=100, help="other episodes that must all reach the flag (default: 100)")
    search.add_argument("--seed", type=int, default=12345, help="seed of the search and check episodes (default: 12345)")
    return parser


def main(args: argparse.Namespace) -> dict:
    from cs294 import designed_experts, rollouts  # here, not above: they import Keras, which --help does not need

    seeds = rollouts.episode_seeds(np.random.default_rng(args.seed), args.search_episodes + args.check_episodes)
    search_seeds, check_seeds = seeds[:args.search_episodes], seeds[args.search_episodes:]
    scores = {(k, c): mean_return(pickle_for(k, c), search_seeds) for k, c in itertools.product(POSITION_WEIGHTS, POSITION_CENTRES)}
    (weight, centre), best = max(scores.items(), key=lambda item: item[1])
    print(f"rule: push right when v - {weight:g} (x - ({centre:g})) > 0; {best:.1f} on the {len(search_seeds)} search episodes "
          f"(pushing with the velocity alone: {mean_return(pickle_for(0.0, 0.0), search_seeds):.1f})")
    stats = designed_experts.write_checked(pickle_for(weight, centre), args.output, ENV_NAME, check_seeds, minimum=FLAG_REACHED + 1)
    print(f"wrote {args.output} (sha256 {provenance.file_sha256(args.output)})")
    return {"position_weight": weight, "centre": centre, "search_mean": best, "stats": vars(stats)}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

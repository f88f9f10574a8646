"""Design the CartPole-v1 expert (an LQR controller) and save it in the expert pickle format.

    python hw1/make_cartpole_expert.py

The expert is designed, not trained. The script linearizes gymnasium's CartPole equations about
the upright pole and solves the discrete-time Riccati equation, which gives a gain K with
u = -K s. CartPole only pushes left or right with a fixed force, so the expert pushes right when
u > 0. That is a linear policy with two logits, (K s / 2, -K s / 2): no hidden layer, and the
same format as the 2017 experts with action_type 'discrete' (experts/README.md). The script then
runs the expert on --check_episodes fresh episodes and writes experts/CartPole-v1.pkl only if
every one of them reaches 500.
"""

import argparse
from pathlib import Path

import numpy as np

from cs294 import cli, environments, provenance

# gymnasium's CartPoleEnv constants.
GRAVITY, CART_MASS, POLE_MASS, HALF_POLE_LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02


def linearized_dynamics() -> tuple[np.ndarray, np.ndarray]:
    """A, B of s' = A s + B F about the upright pole, for the state (x, x_dot, theta, theta_dot) and Euler steps of TAU."""
    total = CART_MASS + POLE_MASS
    denominator = HALF_POLE_LENGTH * (4.0 / 3.0 - POLE_MASS / total)
    theta_acc_theta, theta_acc_force = GRAVITY / denominator, -1.0 / (total * denominator)
    x_acc_theta = -POLE_MASS * HALF_POLE_LENGTH * theta_acc_theta / total
    x_acc_force = 1.0 / total - POLE_MASS * HALF_POLE_LENGTH * theta_acc_force / total
    continuous_a = np.array([[0, 1, 0, 0], [0, 0, x_acc_theta, 0], [0, 0, 0, 1], [0, 0, theta_acc_theta, 0]], dtype=np.float64)
    continuous_b = np.array([[0], [x_acc_force], [0], [theta_acc_force]], dtype=np.float64)
    return np.eye(4) + TAU * continuous_a, TAU * continuous_b


def lqr_gain(a: np.ndarray, b: np.ndarray, state_cost: np.ndarray, action_cost: float, iterations: int = 5000) -> np.ndarray:
    """K of the infinite-horizon discrete LQR, by iterating the Riccati equation to its fixed point."""
    p = state_cost.copy()
    for _ in range(iterations):
        gain = np.linalg.solve(action_cost + b.T @ p @ b, b.T @ p @ a)
        p = state_cost + a.T @ p @ (a - b @ gain)
    return gain


def expert_pickle(gain: np.ndarray) -> dict:
    """The policy as a linear expert with two logits: logit_right - logit_left = -K s."""
    from cs294 import designed_experts  # here, not above: it imports Keras, which --help does not need

    kernel = np.stack([gain[0] / 2, -gain[0] / 2], axis=1)
    return designed_experts.linear_discrete_pickle(kernel, np.zeros(2))


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("make_cartpole_expert.py", __doc__)
    check = parser.add_argument_group("check")
    output = parser.add_argument_group("output")
    output.add_argument("--output", type=Path, default=environments.default_expert_path("CartPole-v1"), help="where the pickle goes (default: experts/CartPole-v1.pkl)")
    check.add_argument("--check_episodes", type=int, default=100, help="episodes that must all reach 500 (default: 100)")
    check.add_argument("--seed", type=int, default=12345, help="seed of the check episodes (default: 12345)")
    return parser


def main(args: argparse.Namespace) -> dict:
    from cs294 import designed_experts, rollouts  # here, not above: they import Keras, which --help does not need

    a, b = linearized_dynamics()
    # Cart position matters too: without its cost the cart drifts past +-2.4 within 500 steps.
    gain = lqr_gain(a, b, state_cost=np.diag([1.0, 1.0, 10.0, 1.0]), action_cost=1.0)
    print(f"LQR gain K = {np.array2string(gain[0], precision=3)} for (x, x_dot, theta, theta_dot)")
    seeds = rollouts.episode_seeds(np.random.default_rng(args.seed), args.check_episodes)
    stats = designed_experts.write_checked(expert_pickle(gain), args.output, "CartPole-v1", seeds, minimum=500)
    print(f"wrote {args.output} (sha256 {provenance.file_sha256(args.output)})")
    return {"gain": gain.tolist(), "stats": vars(stats)}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

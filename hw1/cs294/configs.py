"""The settings of a policy, of its training and of the rollout loop, with their defaults; nothing here imports TensorFlow.

models, training and rollouts use these (and re-export the dataclasses); they live apart so that
cs294.arguments can show the defaults in `--help` without importing Keras.
"""

import dataclasses

DEFAULT_NUM_ENVS = 16
"""Environments the rollout loop steps side by side unless told otherwise."""


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """The architecture of a cloned policy."""

    hidden: tuple[int, ...] = (64, 64)
    """Units of each hidden Dense layer. Seed 002 used (50, 50); (64, 64) measured better on Hopper (README)."""
    activation: str = "relu"
    """Activation of the hidden layers: relu (seed 002) or tanh."""
    l2: float = 0.0
    """L2 penalty on every kernel (seed 000's regularization used 0.01)."""
    head: str = "linear"
    """Output block: linear (a Dense layer), or lstm (an LSTM over a length-1 sequence, seed 000)."""
    observation_clip: float = 0.0
    """If > 0, normalized inputs are clipped to [-clip, clip]; 0 leaves them as they are. Humanoid needs it:
    unclipped, one episode scored -1,071,294 when a contact force 17,814 std from its training mean drove
    the actions to 1450. Hopper is hurt by it: clipped at 10, seed 0 fell from 3721.8 to 3341.1 (README)."""


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How a policy is fit; the defaults are seed 002's (batch 32, learning rate 1e-3, 100 epochs, Adam)."""

    epochs: int = 100
    """Passes over the training data."""
    batch_size: int = 32
    """Samples per gradient step."""
    learning_rate: float = 1e-3
    """Step size of the optimizer."""
    optimizer: str = "adam"
    """adam or sgd."""
    validation_fraction: float = 0.1
    """Share of the transitions held out to measure validation loss."""

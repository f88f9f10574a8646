"""What a run leaves behind: TensorBoard scalars, progress on the terminal, and JSON metrics."""

import json
from pathlib import Path
from typing import Any, Mapping

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import tensorflow as tf
from tqdm import tqdm

from cs294.data import atomic_path


def write_text(path: str | Path, text: str) -> None:
    """Write a text file atomically: readers see the old file or the new one, never half of one."""
    with atomic_path(path) as temporary:
        temporary.write_text(text)


def read_json(path: str | Path) -> Any:
    """Read a JSON file this project wrote."""
    return json.loads(Path(path).read_text())


def write_json(path: str | Path, payload: Any) -> None:
    """Write JSON atomically."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


class TensorBoardLogger:
    """One event file per run directory, with namespaced tags (train/…, eval/…)."""

    def __init__(self, log_dir: str | Path) -> None:
        self.writer = tf.summary.create_file_writer(str(log_dir))

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        with self.writer.as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, value, step=step)
        self.writer.flush()

    def text(self, tag: str, markdown: str) -> None:
        with self.writer.as_default():
            tf.summary.text(tag, markdown, step=0)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class EpochLogger(keras.callbacks.Callback):
    """Shows each epoch's losses in a progress bar and sends them to TensorBoard."""

    def __init__(self, logger: TensorBoardLogger, epochs: int, description: str, tag_prefix: str = "train", step_offset: int = 0) -> None:
        super().__init__()
        self.logger = logger
        self.tag_prefix = tag_prefix
        self.step_offset = step_offset
        self.progress = tqdm(total=epochs, unit="epoch", desc=description)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        logs = logs or {}
        values = {f"{self.tag_prefix}/loss": logs["loss"]}
        if "val_loss" in logs:
            values[f"{self.tag_prefix}/validation_loss"] = logs["val_loss"]
        self.logger.scalars(values, step=self.step_offset + epoch)
        self.progress.set_postfix({name.split("/")[-1]: f"{value:.4g}" for name, value in values.items()})
        self.progress.update()

    def on_train_end(self, logs: Mapping[str, float] | None = None) -> None:
        self.progress.close()


def hyperparameter_table(config: Mapping[str, Any]) -> str:
    """The run's settings as a markdown table, for TensorBoard's text tab."""
    rows = "\n".join(f"| {name} | {value} |" for name, value in sorted(config.items()))
    return f"| setting | value |\n|---|---|\n{rows}"


def save_policy(model: keras.Model, path: str | Path) -> None:
    """Save a .keras file atomically; it loads with plain keras.saving.load_model(path)."""
    with atomic_path(path) as temporary:
        model.save(temporary)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str | Path) -> None:
    """Save a matplotlib figure as PNG atomically and free it."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=100, format="png")
    _pyplot().close(figure)


def plot_dagger_returns(path: str | Path, env_name: str, iterations: list[int], means: list[float], stds: list[float],
                        expert_mean: float, bc_mean: float) -> None:
    """Evaluation return against DAgger iteration, with the expert's and BC's lines."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.errorbar(iterations, means, yerr=stds, marker="o", capsize=3, label="DAgger")
    axes.axhline(expert_mean, color="black", linestyle="--", label="expert")
    axes.axhline(bc_mean, color="tab:red", linestyle=":", label="BC (iteration 0)")
    axes.set_xlabel("DAgger iteration")
    axes.set_ylabel("evaluation return")
    axes.set_title(f"{env_name}: DAgger")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)


def plot_validation_loss(path: str | Path, env_name: str, bc_loss: list[float], dagger_loss: list[float]) -> None:
    """Validation loss per epoch: behavioral cloning, then DAgger's retraining epochs (seed 002's plot)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(range(1, len(bc_loss) + 1), bc_loss, label="behavioral cloning")
    axes.plot(range(1, len(dagger_loss) + 1), dagger_loss, label="DAgger (all iterations, in order)")
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation loss (MSE)")
    axes.set_title(f"{env_name}: validation loss, BC against DAgger")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)


def plot_demonstration_curve(path: str | Path, env_name: str, demos: list[int], means: list[float], stds: list[float],
                             expert_mean: float) -> None:
    """Return against the number of demonstrations (log scale), mean ± std over seeds, with the expert's line."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.errorbar(demos, means, yerr=stds, marker="o", capsize=3, label="BC")
    axes.axhline(expert_mean, color="black", linestyle="--", label="expert")
    axes.set_xscale("log")
    axes.set_xticks(demos, labels=[str(count) for count in demos])
    axes.minorticks_off()
    axes.set_xlabel("expert demonstrations (episodes)")
    axes.set_ylabel("evaluation return")
    axes.set_title(f"{env_name}: behavioral cloning against demonstrations")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)

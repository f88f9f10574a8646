"""What a run leaves behind: TensorBoard scalars, progress on the terminal, and JSON metrics."""

import math
from pathlib import Path
from typing import Any, Mapping

from cs294 import quiet_tensorflow  # noqa: F401  (first: before keras)

import keras
import tensorflow as tf
from tqdm import tqdm

from cs294.files import atomic_path


class TensorBoardLogger:
    """Event files in the run directory itself, so TensorBoard names the run by its folder; namespaced tags (train/…, eval/…).

    The events file is opened by the first write, so a run refused before it logs anything leaves none behind.
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self._writer: tf.summary.SummaryWriter | None = None

    @property
    def writer(self) -> tf.summary.SummaryWriter:
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        return self._writer

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        with self.writer.as_default():
            for tag, value in values.items():
                tf.summary.scalar(tag, value, step=step)
        self.writer.flush()

    def text(self, tag: str, markdown: str) -> None:
        with self.writer.as_default():
            tf.summary.text(tag, markdown, step=0)
        self.writer.flush()

    def hparams(self, config: Mapping[str, Any]) -> None:
        """The run's settings for TensorBoard's HParams tab, beside its eval/… scalars (lists and None as text)."""
        from tensorboard.plugins.hparams import api as hparams

        shown = {name: value if isinstance(value, (bool, int, float, str)) else str(value) for name, value in config.items()}
        with self.writer.as_default():
            hparams.hparams(shown)
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the events file, if a write opened one."""
        if self._writer is not None:
            self._writer.close()


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
        # The losses fall by orders of magnitude: their log10 reads as a curve without TensorBoard's log-scale switch.
        logged = {**values, **{f"{name}_log10": math.log10(value) for name, value in values.items() if value > 0}}
        self.logger.scalars(logged, step=self.step_offset + epoch)
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

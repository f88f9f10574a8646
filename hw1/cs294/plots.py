"""The project's figures, drawn with matplotlib on the file-only Agg backend; no TensorFlow here."""

from pathlib import Path

from cs294.files import atomic_path


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


def _grid(count: int, width: float = 4.0, height: float = 3.0):
    plt = _pyplot()
    columns = min(3, count)
    rows = -(-count // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    axes = list(axes.flat)
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, axes


def plot_curve_grid(path: str | Path, panels: list[dict], x: str, curve: str, xlabel: str, ylabel: str,
                    lines: list[tuple[str, str, str, str]]) -> None:
    """One panel per task: a curve (mean ± std over seeds against panel[x]) and horizontal lines.

    Each panel dict has env, x's values, mean and std; `lines` are (key in the panel, label, color, linestyle).
    """
    figure, axes = _grid(len(panels))
    for axis, panel in zip(axes, panels):
        axis.errorbar(panel[x], panel["mean"], yerr=panel["std"], marker="o", markersize=3, capsize=2, label=curve)
        for key, label, color, style in lines:
            axis.axhline(panel[key], color=color, linestyle=style, label=label)
        axis.set_title(panel["env"])
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
    axes[0].legend(fontsize="small")
    figure.tight_layout()
    save_figure(figure, path)


def plot_dagger_grid(path: str | Path, panels: list[dict]) -> None:
    """One panel per task: DAgger's return per iteration (mean ± std over seeds), with the expert's and BC's lines.

    Each panel dict has env, iterations, mean, std, expert and bc.
    """
    plot_curve_grid(path, panels, "iterations", "DAgger", "DAgger iteration", "evaluation return",
                    [("expert", "expert", "black", "--"), ("bc", "BC", "tab:red", ":")])


def plot_bco_grid(path: str | Path, panels: list[dict]) -> None:
    """One panel per task: BCO's normalized score against interactions (mean ± std over seeds), the kept policies' mean and the target.

    Each panel dict has env, interactions, mean, std, kept and target.
    """
    plot_curve_grid(path, panels, "interactions", "each iteration", "interactions (pre + post + selection)", "normalized score",
                    [("kept", "kept (reward-free choice)", "tab:green", "-."), ("target", "target", "black", "--")])


def plot_validation_loss_grid(path: str | Path, panels: list[dict]) -> None:
    """One panel per task: validation loss per epoch of BC, then of DAgger's retraining (seed 002's plot).

    Each panel dict has env, bc (losses) and dagger (losses, all iterations in order).
    """
    figure, axes = _grid(len(panels))
    for axis, panel in zip(axes, panels):
        axis.plot(range(1, len(panel["bc"]) + 1), panel["bc"], label="BC")
        axis.plot(range(1, len(panel["dagger"]) + 1), panel["dagger"], label="DAgger (iterations in order)")
        axis.set_yscale("log")
        axis.set_title(panel["env"])
        axis.set_xlabel("epoch")
        axis.set_ylabel("validation loss (MSE)")
    axes[0].legend(fontsize="small")
    figure.tight_layout()
    save_figure(figure, path)


def plot_efficiency_grid(path: str | Path, panels: list[dict]) -> None:
    """One panel per task: return against expert-labelled transitions (log scale) for BC and DAgger, a 95% CI band over seeds.

    Each panel dict has env, expert and methods: {name: {"labels", "mean", "low", "high"}}, one point per number of demonstrations.
    """
    figure, axes = _grid(len(panels))
    for axis, panel in zip(axes, panels):
        for (name, curve), color in zip(panel["methods"].items(), ("tab:red", "tab:blue")):
            axis.plot(curve["labels"], curve["mean"], marker="o", markersize=3, color=color, label=name)
            axis.fill_between(curve["labels"], curve["low"], curve["high"], color=color, alpha=0.2)
        axis.axhline(panel["expert"], color="black", linestyle="--", label="expert")
        axis.set_xscale("log")
        axis.set_title(panel["env"])
        axis.set_xlabel("expert-labelled transitions")
        axis.set_ylabel("evaluation return")
    axes[0].legend(fontsize="small")
    figure.tight_layout()
    save_figure(figure, path)

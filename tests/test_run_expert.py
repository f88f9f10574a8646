"""hw1/run_expert.py and hw1/show_data.py as a user runs them: real runs, real files, clear errors."""

import signal
import subprocess
import sys
import time

import h5py
import pytest

import run_expert
import show_data
from conftest import EXPERTS_DIR, REPO_ROOT, as_if_from_a_terminal, run_script
from cs294 import cli, data


def test_short_real_run_writes_a_valid_file(tmp_path, capsys):
    # In this process, through the script's own entry point (cli.run): a fresh interpreter only added its start-up.
    output = tmp_path / "hopper.h5"
    code = cli.run(run_expert.main, run_expert.build_parser(), [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1",
                                                                "--num_rollouts", "2", "--max_timesteps", "50", "--output", str(output)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    lines = printed.out.splitlines()
    assert [line.split()[:2] for line in lines[:2]] == [["episode", "0"], ["episode", "1"]]
    assert lines[2].startswith("mean return") and lines[3].startswith("std of return")
    loaded = data.read_rollouts(output, env_name="Hopper-v1")
    assert [t.length for t in loaded.trajectories] == [50, 50]
    assert all(t.truncations[-1] for t in loaded.trajectories)
    assert loaded.attributes["gym_id"] == "Hopper-v4"
    assert loaded.attributes["policy_sha256"] == "56145a42b49fa5d7ca20bdc30407752a0830ee4cae882eccfd01e4fdddc4cf92"
    with h5py.File(output) as file:  # readable without this project's code
        assert file["episode_000000/observations"].shape == (51, 11)
        assert file["episode_000001/actions"].shape == (50, 3)


def test_the_same_command_writes_the_same_bytes(tmp_path):
    # reproduce.py keys the steps that read a rollout file by its sha256: remade data must not redo them.
    written = []
    for name in ("first.h5", "second.h5"):
        arguments = [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "2", "--max_timesteps", "30", "--output", str(tmp_path / name)]
        assert cli.run(run_expert.main, run_expert.build_parser(), arguments) == 0
        written.append((tmp_path / name).read_bytes())
        time.sleep(1.1)  # HDF5 and ISO times count seconds: a time written into the file would differ between the two
    assert written[0] == written[1]


def test_default_output_goes_under_data():
    assert data.default_rollouts_path("Hopper-v1", 10).as_posix() == "data/Hopper-v1_10_rollouts.h5"


def run_in_process(module, argv, capsys):
    code = cli.run(module.main, module.build_parser(), argv)
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(("argv", "message"), [
    (["{experts}/Hopper-v1.pkl", "Hoper-v1"], "unknown environment 'Hoper-v1'"),
    (["{experts}/Hopper.pkl", "Hopper-v1"], "does not exist"),
    (["{experts}/Hopper-v1.pkl", "Walker2d-v1"], "is the expert of Hopper-v1, not of Walker2d-v1"),
    (["{experts}/Hopper-v1.pkl", "Hopper-v1", "--num_rollouts", "0"], "--num_rollouts must be at least 1"),
])
def test_user_mistakes_give_one_line_and_exit_2(argv, message, capsys, tmp_path):
    output = tmp_path / "out.h5"
    code, stderr = run_in_process(run_expert, [a.format(experts=EXPERTS_DIR) for a in argv] + ["--output", str(output)], capsys)
    assert code == 2
    assert message in stderr and len(stderr.splitlines()) == 1
    assert not output.exists()


def test_truncated_data_file_gives_one_line_and_exit_2(tmp_path, capsys):
    path = tmp_path / "rollouts.h5"
    run_expert.main(run_expert.build_parser().parse_args(
        [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "1", "--max_timesteps", "100", "--output", str(path)]))
    capsys.readouterr()
    assert run_in_process(show_data, [str(path)], capsys)[0] == 0
    path.write_bytes(path.read_bytes()[:5000])
    code, stderr = run_in_process(show_data, [str(path)], capsys)
    assert code == 2 and "truncated" in stderr and len(stderr.splitlines()) == 1


def test_errors_reach_the_shell_as_a_non_zero_exit_code(tmp_path):
    # A fresh process: what is checked is the exit code and stderr of `python hw1/run_expert.py` itself.
    result = run_script("run_expert.py", str(EXPERTS_DIR / "Hopper-v1.pkl"), "NoSuchEnv-v0", "--output", str(tmp_path / "x.h5"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("run_expert.py: error: unknown environment 'NoSuchEnv-v0'")


def test_interrupted_run_leaves_no_file(tmp_path):
    # A fresh process: Ctrl-C (SIGINT) must reach a running script.
    output = tmp_path / "humanoid.h5"
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "hw1" / "run_expert.py"), str(EXPERTS_DIR / "Humanoid-v1.pkl"), "Humanoid-v1",
         "--num_rollouts", "400", "--max_timesteps", "100", "--output", str(output)],  # short episodes: the first line comes soon
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_if_from_a_terminal)
    # Wait until episodes are running, then press Ctrl-C.
    assert process.stdout.readline().startswith("episode")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert list(tmp_path.iterdir()) == []


def test_replay_reproduces_recorded_episodes_without_tensorflow(tmp_path):
    path = tmp_path / "hopper.h5"
    run_expert.main(run_expert.build_parser().parse_args(
        [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--num_rollouts", "2", "--max_timesteps", "300", "--output", str(path)]))
    # The rendering side must never load TensorFlow, which crashes alongside OpenGL.
    check = ("import sys; sys.path.insert(0, 'hw1'); from cs294 import replay; "
             f"drifts = replay.replay_file({str(path)!r}, render_mode=None); "
             "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'; print(max(drifts))")
    result = subprocess.run([sys.executable, "-c", check], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 1e-4  # float32 storage of the observations is the only difference


def test_render_without_a_display_is_a_clear_error(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, stderr = run_in_process(run_expert, [str(EXPERTS_DIR / "Hopper-v1.pkl"), "Hopper-v1", "--render", "--output", str(tmp_path / "x.h5")], capsys)
    assert code == 2 and "no display was found" in stderr

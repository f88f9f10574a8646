"""The expert's returns on a run's evaluation episodes are played once and read back by the next run of that seed (cs294.expert_scores)."""

import json

import bc
import dagger
from cs294 import cli, expert_scores


def run(module, argv, capsys) -> tuple[int, str]:
    code = cli.run(module.main, module.build_parser(), [str(word) for word in argv])
    return code, capsys.readouterr().out


def test_bc_and_dagger_of_one_seed_play_the_experts_episodes_once_and_a_damaged_file_is_played_again(tmp_path, hopper_data, capsys, monkeypatch):
    monkeypatch.setenv("CS294_CACHE", str(tmp_path / "cache"))
    common = ["Hopper-v1", "--data", hopper_data, "--epochs", "2", "--eval_episodes", "3", "--seed", "7"]
    code, first = run(bc, [*common, "--run_dir", tmp_path / "bc"], capsys)
    assert code == 0 and "played before" not in first
    kept = list((tmp_path / "cache" / "expert_scores").glob("*.json"))
    assert len(kept) == 1
    played = json.loads((tmp_path / "bc" / "metrics.json").read_text())["expert"]

    # DAgger of the same seed scores the expert on the same episodes: it reads them back, to the same numbers.
    code, second = run(dagger, [*common, "--iterations", "1", "--retrain_epochs", "1", "--run_dir", tmp_path / "dagger"], capsys)
    assert code == 0 and "played before: read back" in second
    read_back = json.loads((tmp_path / "dagger" / "metrics.json").read_text())["expert"]
    assert {name: read_back[name] for name in played} == played and len(read_back["returns"]) == 3

    # Another seed plays other episodes: a second file.
    code, other = run(bc, [*common[:-1], "8", "--run_dir", tmp_path / "bc8"], capsys)
    assert code == 0 and "played before" not in other and len(list(kept[0].parent.glob("*.json"))) == 2

    # A damaged file, or one whose returns were edited, is played again and rewritten whole.
    for damage in (lambda text: text[: len(text) // 2], lambda text: text.replace('"returns": [\n    ', '"returns": [\n    1.0e3 + ')):
        kept[0].write_text(damage(kept[0].read_text()))
        if "1.0e3 +" in kept[0].read_text():  # not JSON any more either way; make the edit valid JSON with a wrong value
            payload = json.loads(kept[0].read_text().replace("1.0e3 + ", ""))
            payload["returns"][0] += 1000.0
            kept[0].write_text(json.dumps(payload))
        code, again = run(bc, [*common, "--run_dir", tmp_path / "bc", "--overwrite"], capsys)
        assert code == 0 and "played before" not in again
        assert json.loads((tmp_path / "bc" / "metrics.json").read_text())["expert"] == played
        assert expert_scores.read(kept[0], json.loads(kept[0].read_text())["key"], 3) is not None


def test_cache_off_plays_every_time(tmp_path, hopper_data, capsys, monkeypatch):
    monkeypatch.setenv("CS294_CACHE", "off")
    assert expert_scores.cache_dir() is None
    common = ["Hopper-v1", "--data", hopper_data, "--epochs", "1", "--eval_episodes", "1", "--seed", "9"]
    for name in ("a", "b"):
        code, output = run(bc, [*common, "--run_dir", tmp_path / name], capsys)
        assert code == 0 and "played before" not in output


def test_a_cache_that_cannot_be_written_only_costs_the_next_run_the_episodes(tmp_path, hopper_data, capsys, monkeypatch):
    blocked = tmp_path / "not_a_directory"
    blocked.write_text("a file where the cache's folder would go\n")
    monkeypatch.setenv("CS294_CACHE", str(blocked))
    common = ["Hopper-v1", "--data", hopper_data, "--epochs", "1", "--eval_episodes", "1", "--seed", "10"]
    for name in ("a", "b"):
        code, output = run(bc, [*common, "--run_dir", tmp_path / name], capsys)
        assert code == 0 and "played before" not in output
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["expert"] == json.loads((tmp_path / "b" / "metrics.json").read_text())["expert"]


def test_the_key_names_the_cpu_so_a_shared_cache_keeps_each_cpus_own_returns(tmp_path, hopper_data, capsys, monkeypatch):
    identity = expert_scores.cpu_identity()
    assert identity.startswith(__import__("platform").machine()) and identity.count(" | ") == 2
    monkeypatch.setenv("CS294_CACHE", str(tmp_path / "cache"))
    common = ["Hopper-v1", "--data", hopper_data, "--epochs", "1", "--eval_episodes", "2", "--seed", "11"]
    code, first = run(bc, [*common, "--run_dir", tmp_path / "here"], capsys)
    assert code == 0 and "played before" not in first
    # Another node's CPU, sharing this cache over the network: it plays the episodes itself and keeps a file of its own.
    monkeypatch.setattr(expert_scores, "cpu_identity", lambda: "x86_64 | another CPU | 0123456789abcdef")
    code, other = run(bc, [*common, "--run_dir", tmp_path / "there"], capsys)
    assert code == 0 and "played before" not in other
    assert len(list((tmp_path / "cache" / "expert_scores").glob("*.json"))) == 2

"""The Ray backend's handling of DAgger's commits, without Ray: snapshots of a run directory, landing them, and the store that holds them."""

from cs294 import cluster, files


def test_a_snapshot_holds_one_commit_without_half_written_files_and_lands_whole(tmp_path):
    run = tmp_path / "worker" / "seed0"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "iteration_000.keras").write_bytes(b"policy 0")
    assert cluster.committed_snapshot(run, "state.json", {}) is None  # nothing committed yet: nothing to send
    files.write_json(run / "state.json", {"completed_iterations": 0, "data": str(tmp_path / "worker" / "x.h5")})
    with files.atomic_path(run / "aggregated.h5") as temporary:  # a file being written when the snapshot is taken
        temporary.write_bytes(b"half")
        record, contents = cluster.committed_snapshot(run, "state.json", {str(tmp_path / "worker"): str(tmp_path / "driver")})
    assert record == (run / "state.json").read_bytes()
    assert sorted(contents) == ["seed0/checkpoints/iteration_000.keras", "seed0/state.json"]
    assert str(tmp_path / "driver" / "x.h5") in contents["seed0/state.json"].decode()  # the driver's paths in text files

    landed = tmp_path / "driver" / "seed0"
    cluster.land(landed, contents)
    cluster.land(landed, {"seed0/state.json": b"{}"})  # a later commit replaces the whole directory
    assert sorted(path.relative_to(landed).as_posix() for path in landed.rglob("*")) == ["state.json"]
    assert not list(landed.parent.glob(".*landing-*"))


def test_the_store_of_commits_gives_each_snapshot_once_and_forgets_ended_steps():
    store = cluster.CommitStore()
    store.put("dagger/Hopper-v1/seed0", {"seed0/state.json": b"0"})
    store.put("dagger/Hopper-v1/seed0", {"seed0/state.json": b"1"})  # only the latest commit matters
    assert store.take(["dagger/Ant-v1/seed0", "dagger/Hopper-v1/seed0"]) == ("dagger/Hopper-v1/seed0", {"seed0/state.json": b"1"})
    assert store.take(["dagger/Hopper-v1/seed0"]) is None  # taken already
    assert store.get("dagger/Hopper-v1/seed0") == {"seed0/state.json": b"1"}  # what a retried attempt starts from
    store.forget("dagger/Hopper-v1/seed0")
    store.put("dagger/Hopper-v1/seed0", {"seed0/state.json": b"2"})  # a late attempt of an ended step
    assert store.get("dagger/Hopper-v1/seed0") is None and store.take(["dagger/Hopper-v1/seed0"]) is None

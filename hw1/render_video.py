"""Render recorded episodes to a video, side by side, without a screen.

    python hw1/render_video.py data/Hopper-v1_10_rollouts.h5 --output hopper.mp4

Each FILE is a rollout file (run_expert.py writes them, for experts and for learned policy.keras
files alike); the chosen episode of each is replayed from its seed and actions and rendered
offscreen (MUJOCO_GL=egl unless set; glfw on macOS), and the episodes play side by side,
captioned with --labels. The suffix of --output picks MP4 or GIF; --gif also writes a smaller
GIF. This process never imports TensorFlow, which crashes alongside OpenGL. --check only tests
that rendering works.
"""

import argparse
from pathlib import Path

from cs294 import video

video.select_offscreen_backend()  # before gymnasium makes any MuJoCo environment

from cs294 import cli, data, environments  # noqa: E402
from cs294.errors import UserError  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser("render_video.py", __doc__)
    parser.add_argument("files", type=Path, nargs="*", help="rollout files of one environment, shown left to right")
    video = parser.add_argument_group("the video")
    output = parser.add_argument_group("output")
    modes = parser.add_argument_group("modes")
    output.add_argument("--output", type=Path, help="video to write: .mp4 or .gif")
    video.add_argument("--labels", default=None, help="comma-separated captions, one per file (default: the files' names)")
    video.add_argument("--episode", type=int, default=0, help="index of the episode to show from each file (default: 0)")
    video.add_argument("--frame_skip", type=int, default=4, help="render every k-th step (default: 4)")
    video.add_argument("--size", type=int, default=240, help="width and height of each tile in pixels (default: 240)")
    output.add_argument("--gif", type=Path, default=None, help="also write a GIF at half the size and frame rate, for pages that show no MP4")
    output.add_argument("--gif_steps", type=int, default=500, help="the GIF shows the first N steps only, to stay small (default: 500)")
    modes.add_argument("--check", action="store_true", help="only check that offscreen rendering works")
    return parser


def check_args(args: argparse.Namespace) -> list[str]:
    if not args.files or args.output is None:
        raise UserError("give one or more rollout files and --output PATH.mp4 (or .gif)")
    if args.output.suffix not in (".mp4", ".gif"):
        raise UserError(f"--output must end in .mp4 or .gif, not {args.output.name}")
    if args.frame_skip < 1 or args.size < 16 or args.gif_steps < 1:
        raise UserError("--frame_skip and --gif_steps must be at least 1, and --size at least 16")
    labels = args.labels.split(",") if args.labels else [path.stem for path in args.files]
    if len(labels) != len(args.files):
        raise UserError(f"--labels has {len(labels)} captions for {len(args.files)} files; give one per file")
    return labels


def main(args: argparse.Namespace) -> dict:
    """Replay, render and write the video; returns its path and frame count."""
    if args.check:
        backend = video.check_rendering()
        print(f"offscreen rendering works (MUJOCO_GL={backend})")
        return {"backend": backend}
    labels = check_args(args)
    recorded = [data.read_rollouts(path) for path in args.files]
    env_names = {rollouts.attributes["env_name"] for rollouts in recorded}
    if len(env_names) != 1:
        raise UserError(f"the files hold episodes of {', '.join(sorted(env_names))}; a video shows one environment")
    for path, rollouts in zip(args.files, recorded):
        if not 0 <= args.episode < len(rollouts.trajectories):
            raise UserError(f"{path} has {len(rollouts.trajectories)} episodes; --episode {args.episode} is out of range")
    video.check_rendering()
    spec = environments.resolve(env_names.pop())
    env = environments.make_env(spec, render_mode="rgb_array", width=args.size, height=args.size)
    try:
        video.make_fast_renderer(env)
        sources = [video.episode_frames(env, rollouts.trajectories[args.episode], args.frame_skip) for rollouts in recorded]
        fps = 1.0 / (env.unwrapped.dt * args.frame_skip)
    finally:
        env.close()
    frames = video.tile(sources, labels)
    video.write_video(args.output, frames, fps)
    if args.gif:  # small enough for a web page: every other frame, half the pixels
        shown = args.gif_steps // args.frame_skip + 1
        small = [[frame[::2, ::2] for frame in frames[:shown:2]] for frames in sources]
        video.write_video(args.gif, video.tile(small, labels, font_size=10), fps / 2)
    print(f"wrote {args.output}" + (f" and {args.gif}" if args.gif else "") + f": {len(frames)} frames at {fps:.1f} frames/s")
    return {"output": args.output, "frames": len(frames)}


if __name__ == "__main__":
    raise SystemExit(cli.run(main, build_parser()))

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

import mujoco  # noqa: E402

from cs294 import cli, data, environments, replay  # noqa: E402
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


# Each tile is rendered in MuJoCo's offscreen framebuffer, and every frame is held in memory until the video is written:
# 2048 pixels is far beyond any web page and below what OpenGL allows (16384 with Mesa; larger fails "not complete").
MAX_SIZE = 2048
# A MuJoCo episode's length: a larger step shows only the first and last frame, and makes a GIF frame last so long
# that its 16-bit duration overflows.
MAX_FRAME_SKIP = 1000
# The widest frame each format takes: H.264 (libx264) at most 16384 pixels, a GIF's 16-bit screen width 65535.
MAX_WIDTH = {".mp4": 16384, ".gif": 65535}


def check_args(args: argparse.Namespace) -> list[str]:
    """Every check of the arguments alone, before a file is read or anything is written; returns the captions."""
    if not args.files or args.output is None:
        raise UserError("give one or more rollout files and --output PATH.mp4 (or .gif)")
    if args.output.suffix not in (".mp4", ".gif"):
        raise UserError(f"--output must end in .mp4 or .gif, not {args.output.name}")
    if args.frame_skip < 1 or args.size < 16 or args.gif_steps < 1:
        raise UserError("--frame_skip and --gif_steps must be at least 1, and --size at least 16")
    if args.size > MAX_SIZE:
        raise UserError(f"--size {args.size} is too large: each tile is at most {MAX_SIZE} pixels wide and high; choose a smaller --size")
    if args.frame_skip > MAX_FRAME_SKIP:
        raise UserError(f"--frame_skip {args.frame_skip} is too large: render at least every {MAX_FRAME_SKIP}th step "
                        f"(--frame_skip {MAX_FRAME_SKIP} or less)")
    width, limit = args.size * len(args.files), MAX_WIDTH[args.output.suffix]
    if width > limit:
        raise UserError(f"{len(args.files)} tiles of --size {args.size} make a video {width} pixels wide, but a {args.output.suffix} "
                        f"frame is at most {limit}; choose a --size of at most {limit // len(args.files)} or fewer files")
    labels = args.labels.split(",") if args.labels else [path.stem for path in args.files]
    if len(labels) != len(args.files):
        raise UserError(f"--labels has {len(labels)} captions for {len(args.files)} files; give one per file")
    check_outputs(args)
    return labels


def check_outputs(args: argparse.Namespace) -> None:
    """--gif checked as cli checks --output (both against the rollout files, which cli does not see in a list), and not the same file."""
    inputs = [cli.resolved("a rollout file", path) for path in args.files if cli.is_file(path)]
    cli.check_output("output", args.output, inputs)
    if args.gif is None:
        return
    if args.gif.suffix != ".gif":
        raise UserError(f"--gif must end in .gif, not {args.gif.name}")
    try:
        cli.check_output("output", args.gif, inputs)
    except UserError as error:  # its messages begin "--output <path>"
        raise UserError("--gif" + str(error).removeprefix("--output")) from None
    except OSError as error:  # e.g. a folder on the way that we may not look into
        raise UserError(f"--gif {args.gif} cannot be written ({error.strerror or error}); choose another path") from None
    if cli.resolved("--gif", args.gif) == cli.resolved("--output", args.output):
        raise UserError(f"--output and --gif both name {args.output}; give the GIF a name of its own")


def check_mujoco(spec: environments.EnvSpec) -> None:
    """Only MuJoCo tasks render offscreen here (at --size): CartPole and the other classic-control tasks draw with pygame."""
    import gymnasium as gym
    from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

    entry_point = gym.spec(spec.gym_id).entry_point
    try:
        creator = entry_point if callable(entry_point) else gym.envs.registration.load_env_creator(entry_point)
    except (ImportError, gym.error.Error) as error:  # e.g. Box2D tasks without Box2D
        raise UserError(f"{spec.name} cannot be made here ({error}); render_video.py renders MuJoCo tasks") from None
    # A task registered through a function (gymnasium's Hopper-v3, say) is MuJoCo's if the function lives in gymnasium's MuJoCo package.
    mujoco = issubclass(creator, MujocoEnv) if isinstance(creator, type) else "mujoco" in getattr(creator, "__module__", "")
    if not mujoco:
        raise UserError(f"render_video.py renders MuJoCo tasks only (Ant, HalfCheetah, Hopper, Humanoid, Reacher, Walker2d, ...), "
                        f"not {spec.name}; python hw1/replay.py FILE shows its episodes in a window (pip install \"gymnasium[classic-control]\" first)")


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
    for path, rollouts in zip(args.files, recorded):  # the chosen episode of each file, before anything renders
        replay.check_replayable(path, rollouts.trajectories, [args.episode], "--episode", "render")
    spec = environments.resolve(env_names.pop())
    check_mujoco(spec)
    video.check_rendering()
    env = environments.make_env(spec, render_mode="rgb_array", width=args.size, height=args.size)
    try:
        try:
            video.make_fast_renderer(env)
        except mujoco.FatalError as error:  # an OpenGL that allows less than MAX_SIZE
            raise UserError(f"MuJoCo cannot render {args.size}x{args.size} tiles here ({error}); choose a smaller --size") from None
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

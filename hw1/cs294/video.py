"""Videos of recorded episodes, rendered offscreen by replaying them; nothing here imports TensorFlow.

MuJoCo renders without a screen through EGL (or OSMesa) only if MUJOCO_GL is set before the first
environment is made, so scripts call `select_offscreen_backend` before anything imports
gymnasium's MuJoCo environments. macOS has no EGL, and MuJoCo refuses MUJOCO_GL=egl there as soon
as it is imported; its CGL backend is no help either, since gymnasium's renderer takes only glfw,
egl or osmesa. There the default is glfw, which needs a desktop session (docs/install.md). Episodes are replayed from their reset seed and actions
(cs294.replay), because TensorFlow and Mesa's OpenGL crash in one process.
"""

import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from cs294.errors import UserError
from cs294.files import atomic_path

OFFSCREEN_BACKENDS = ("egl", "osmesa")
MACOS_ADVICE = ("on macOS, use MUJOCO_GL=glfw (the default there) from a logged-in desktop session: macOS has no EGL, "
                "and gymnasium's renderer takes only glfw, egl or osmesa, not MuJoCo's cgl")


def select_offscreen_backend() -> str:
    """Set MUJOCO_GL to egl (macOS: glfw) unless the user chose a backend; returns the one in use."""
    return os.environ.setdefault("MUJOCO_GL", "glfw" if sys.platform == "darwin" else OFFSCREEN_BACKENDS[0])


def make_fast_renderer(env) -> None:
    """Shadows, reflections and 4x anti-aliasing off: 8-10x faster in software, and it still looks right."""
    import mujoco

    env.unwrapped.model.vis.quality.offsamples = 0
    env.reset(seed=0)
    env.render()  # creates the renderer's scene, whose flags can then be set
    renderer = env.unwrapped.mujoco_renderer
    viewer = renderer._get_viewer("rgb_array")
    viewer.scn.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = 0
    viewer.scn.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = 0
    model = env.unwrapped.model
    # gymnasium resets its offscreen camera to a fixed free camera on every frame, so walkers leave
    # the picture. Without a camera id it leaves the camera alone, and the camera follows the body
    # of a robot whose root can move (a free or sliding first joint), but not Reacher's fixed arm.
    if model.njnt and int(model.jnt_type[0]) in (int(mujoco.mjtJoint.mjJNT_FREE), int(mujoco.mjtJoint.mjJNT_SLIDE)):
        renderer.camera_id = None
        viewer.cam.type = mujoco.mjtCamera.mjCAMERA_TRACKING
        viewer.cam.trackbodyid = 1


def episode_frames(env, trajectory, frame_skip: int) -> list[np.ndarray]:
    """Frames of one recorded episode, every frame_skip-th step, by replaying its actions."""
    env.reset(seed=trajectory.seed)
    frames = [env.render()]
    for step, action in enumerate(trajectory.actions, start=1):
        env.step(action)
        if step % frame_skip == 0 or step == trajectory.length:
            frames.append(env.render())
    return frames


def label(frame: np.ndarray, text: str, font_size: int) -> np.ndarray:
    """The frame with a caption on a dark band in its top-left corner."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=font_size)
    left, top, right, bottom = draw.textbbox((4, 2), text, font=font)
    draw.rectangle((0, 0, right + 4, bottom + 4), fill=(0, 0, 0))
    draw.text((4, 2), text, fill=(255, 255, 255), font=font)
    return np.asarray(image)


def tile(sources: Sequence[list[np.ndarray]], captions: Sequence[str], font_size: int = 14) -> list[np.ndarray]:
    """Side-by-side frames; a source that ended early holds its last frame, captioned as ended."""
    length = max(len(frames) for frames in sources)
    tiled = []
    for index in range(length):
        row = []
        for frames, caption in zip(sources, captions):
            ended = index >= len(frames)
            row.append(label(frames[min(index, len(frames) - 1)], caption + (" (fell)" if ended else ""), font_size))
        tiled.append(np.concatenate(row, axis=1))
    return tiled


def write_video(path: str | Path, frames: Sequence[np.ndarray], fps: float) -> None:
    """An MP4 (H.264) or a GIF, by the path's suffix, written atomically."""
    import imageio.v2 as imageio

    path = Path(path)
    with atomic_path(path) as temporary:
        if path.suffix == ".gif":
            imageio.mimsave(temporary, frames, format="GIF", duration=1000 / fps, loop=0)
        else:
            imageio.mimsave(temporary, frames, format="FFMPEG", fps=fps, codec="libx264", quality=4, macro_block_size=8)


def rendering_advice(platform: str = sys.platform) -> str:
    """What to install or set when offscreen rendering fails on this platform."""
    if platform == "darwin":
        return MACOS_ADVICE
    return "install Debian's libegl1 libegl-mesa0 libgl1-mesa-dri libopengl0, or libosmesa6 and set MUJOCO_GL=osmesa (macOS: MUJOCO_GL=glfw)"


def check_rendering(env_name: str = "Hopper-v1") -> str:
    """Render one offscreen frame, or raise a UserError that says what is missing."""
    backend = select_offscreen_backend()
    from cs294 import environments

    try:
        env = environments.make_env(environments.resolve(env_name), render_mode="rgb_array", width=64, height=64)
        env.reset(seed=0)
        frame = env.render()
        env.close()
    except Exception as error:  # mujoco raises FatalError, or an ImportError/AttributeError from the GL bindings
        raise UserError(f"offscreen rendering with MUJOCO_GL={backend} failed ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}); "
                        + rendering_advice()) from None
    if frame is None or frame.ndim != 3:
        raise UserError(f"offscreen rendering with MUJOCO_GL={backend} returned no image")
    return backend

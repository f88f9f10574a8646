"""The 2017 tasks as gymnasium ids: `import cs294` registers CS294/Hopper-v1 and its five siblings.

Any gymnasium code can then build the task that the project's own `Hopper-v1` means (the 2017
inertials; for Humanoid also clipped actions and the 2017 contact cost):

    import cs294, gymnasium as gym
    env = gym.make("CS294/Hopper-v1")          # or gym.make("cs294:CS294/Hopper-v1") without the import

Registering imports gymnasium and nothing heavier: MuJoCo and the task itself load at gym.make
time, through the entry point cs294.tasks_2017:make_task.
"""

import gymnasium as gym

NAMESPACE = "CS294"
TASKS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")
"""The 2017 MuJoCo names of environments.PUBLISHED_ENVS (CartPole-v1 is gymnasium's own, unchanged)."""
ENTRY_POINT = "cs294.tasks_2017:make_task"


def gym_id(task: str) -> str:
    """`Hopper-v1` -> `CS294/Hopper-v1`."""
    return f"{NAMESPACE}/{task}"


def task_of(gym_id_: str) -> str | None:
    """`CS294/Hopper-v1` -> `Hopper-v1`; None for any other id."""
    namespace, _, task = gym_id_.partition("/")
    return task if namespace == NAMESPACE and task in TASKS else None


def register() -> None:
    """Register every CS294/* id once; a second call (a reloaded module) changes nothing."""
    for task in TASKS:
        if gym_id(task) in gym.registry:
            continue
        # Each 2017 name is built from gymnasium's v4 task of the same name (environments.PUBLISHED_ENVS,
        # checked by tests/test_gym_ids.py), whose time limit it keeps: 1000 steps, Reacher 50.
        gym.register(gym_id(task), entry_point=ENTRY_POINT, kwargs={"task": task},
                     max_episode_steps=gym.spec(task.replace("-v1", "-v4")).max_episode_steps)

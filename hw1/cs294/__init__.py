"""Imitation learning on MuJoCo: the CS294-112 (Fall 2017) HW1 library behind the hw1/ scripts.

Modules that need TensorFlow import `cs294.quiet_tensorflow` first. `environments`, `data` and
`replay` do not import TensorFlow at all, which matters for rendering (see replay.py); nor do
`configs` and `arguments`, from which the scripts build their parsers, so that `--help` is quick.

Importing the package registers the 2017 tasks as gymnasium ids, `CS294/Hopper-v1` and the
others (cs294.gym_ids); that imports gymnasium only.
"""

from cs294 import gym_ids

gym_ids.register()

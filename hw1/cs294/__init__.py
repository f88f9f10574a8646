"""Imitation learning on MuJoCo: the CS294-112 (Fall 2017) HW1 library behind the hw1/ scripts.

Modules that need TensorFlow import `cs294.quiet_tensorflow` first. `environments`, `data` and
`replay` do not import TensorFlow at all, which matters for rendering (see replay.py).
"""

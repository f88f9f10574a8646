"""The published 2017 numbers this project is compared with (seed 002's reward table)."""

TASKS = ("Ant-v1", "HalfCheetah-v1", "Hopper-v1", "Humanoid-v1", "Reacher-v1", "Walker2d-v1")
# Seed 002's table: rollouts, expert, BC, DAgger as mean (std).
SEED_002 = {
    "Ant-v1": (250, "4747 (459)", "905 (1)", "896 (2)"),
    "HalfCheetah-v1": (10, "4161 (69)", "4197 (76)", "4139 (57)"),
    "Hopper-v1": (10, "3780 (1)", "3581 (598)", "3775 (2)"),
    "Humanoid-v1": (250, "10402 (107)", "354 (7)", "385 (24)"),
    "Reacher-v1": (10, "-3.8 (1)", "-14 (5)", "-12 (3)"),
    "Walker2d-v1": (250, "5513 (49)", "4993 (1058)", "5460 (132)"),
}

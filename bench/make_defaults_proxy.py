#!/usr/bin/python3
"""A stand-in for recordings from another device (issue 11's hidden check):
24 users with 2 recordings each, 6 channels named acc_x..z (total
acceleration: userAcceleration + gravity, as a raw accelerometer gives) and
gyro_x..z (rotation rate), each recording all six MotionSense activities
back to back (r1: trials 7, 3, 1, 9, 5, 6; r2: trials 15, 4, 2, 16, 13, 14).

  /usr/bin/python3 bench/make_defaults_proxy.py [MOTIONSENSE_DIR] [OUT_DIR] [--turn_second=DEG]

--turn_second=DEG: the second recording of every user is turned by one fixed
rotation (its own per user, seeded) about a random axis by DEG degrees, both
sensors alike: the device was worn another way on the second day (MotionSense
kept the phone in the same pocket the same way in every trial).
"""
import csv
import math
import os
import random
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--turn_second=")]
turns = [a for a in sys.argv[1:] if a.startswith("--turn_second=")]
if any(arg in ("-h", "--help") for arg in args) or len(args) > 2:
    print(__doc__.strip())
    sys.exit(0 if not len(args) > 2 else 2)
try:
    turn_deg = float(turns[-1].split("=", 1)[1]) if turns else 0.0
except ValueError:
    sys.exit(f"make_defaults_proxy: --turn_second={turns[-1].split('=', 1)[1]} is not a number")
root = os.path.join(args[0] if len(args) > 0 else "../shared/data/motionsense",
                    "A_DeviceMotion_data")
out = args[1] if len(args) > 1 else "/tmp/defaults_proxy"
recordings = {"r1": ["wlk_7", "ups_3", "dws_1", "jog_9", "sit_5", "std_6"],
              "r2": ["wlk_15", "ups_4", "dws_2", "jog_16", "sit_13", "std_14"]}
if not os.path.isdir(root):
    sys.exit(f"make_defaults_proxy: {root} is not a folder (give the MotionSense folder)")


def rotation(rng, degrees):
    """Rotation matrix by `degrees` about a uniformly random axis."""
    axis = [rng.gauss(0, 1) for _ in range(3)]
    norm = math.sqrt(sum(a * a for a in axis)) or 1.0
    x, y, z = (a / norm for a in axis)
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    t = 1 - c
    return [[t * x * x + c, t * x * y - s * z, t * x * z + s * y],
            [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
            [t * x * z - s * y, t * y * z + s * x, t * z * z + c]]


def turn(r, v):
    return [sum(r[i][j] * v[j] for j in range(3)) for i in range(3)]


rng = random.Random(20261130)
for user in range(1, 25):
    folder = os.path.join(out, f"user{user:02d}")
    os.makedirs(folder, exist_ok=True)
    r2 = rotation(rng, turn_deg)
    for name, sessions in recordings.items():
        with open(os.path.join(folder, name + ".csv"), "w") as f:
            f.write("acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
            for session in sessions:
                with open(os.path.join(root, session, f"sub_{user}.csv")) as src:
                    for row in csv.DictReader(src):
                        acc = [float(row[f"userAcceleration.{c}"]) + float(row[f"gravity.{c}"])
                               for c in "xyz"]
                        gyro = [float(row[f"rotationRate.{c}"]) for c in "xyz"]
                        if turn_deg and name == "r2":
                            acc, gyro = turn(r2, acc), turn(r2, gyro)
                        f.write(",".join("%.5f" % v for v in acc + gyro) + "\n")
print(f"wrote 48 recordings under {out}" +
      (f" (second recordings turned by {turn_deg:g} degrees)" if turn_deg else ""))

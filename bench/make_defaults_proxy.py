#!/usr/bin/python3
"""A stand-in for recordings from another device (issue 11's hidden check):
24 users with 2 recordings each, 6 channels named acc_x..z (total
acceleration: userAcceleration + gravity, as a raw accelerometer gives) and
gyro_x..z (rotation rate), each recording all six MotionSense activities
back to back (r1: trials 7, 3, 1, 9, 5, 6; r2: trials 15, 4, 2, 16, 13, 14).

  /usr/bin/python3 bench/make_defaults_proxy.py [MOTIONSENSE_DIR] [OUT_DIR]
"""
import csv
import os
import sys

if any(arg in ("-h", "--help") for arg in sys.argv[1:]) or len(sys.argv) > 3:
    print(__doc__.strip())
    sys.exit(0 if len(sys.argv) <= 3 else 2)
root = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/motionsense",
                    "A_DeviceMotion_data")
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/defaults_proxy"
recordings = {"r1": ["wlk_7", "ups_3", "dws_1", "jog_9", "sit_5", "std_6"],
              "r2": ["wlk_15", "ups_4", "dws_2", "jog_16", "sit_13", "std_14"]}
if not os.path.isdir(root):
    sys.exit(f"make_defaults_proxy: {root} is not a folder (give the MotionSense folder)")
for user in range(1, 25):
    folder = os.path.join(out, f"user{user:02d}")
    os.makedirs(folder, exist_ok=True)
    for name, sessions in recordings.items():
        with open(os.path.join(folder, name + ".csv"), "w") as f:
            f.write("acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
            for session in sessions:
                with open(os.path.join(root, session, f"sub_{user}.csv")) as src:
                    for row in csv.DictReader(src):
                        acc = [float(row[f"userAcceleration.{c}"]) + float(row[f"gravity.{c}"])
                               for c in "xyz"]
                        gyro = [float(row[f"rotationRate.{c}"]) for c in "xyz"]
                        f.write(",".join("%.5f" % v for v in acc + gyro) + "\n")
print(f"wrote 48 recordings under {out}")

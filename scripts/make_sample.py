#!/usr/bin/python3
"""Makes testdata/motionsense_sample: the first rows of a few MotionSense users.

Copies A_DeviceMotion_data/<session>/sub_<user>.csv for the chosen users and
every session, keeping the header and the first --rows data lines byte for
byte. Standard library only.
"""
import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--src", default="../shared/data/motionsense")
    parser.add_argument("--dst", default="testdata/motionsense_sample")
    parser.add_argument("--users", default="1,2,3,4,5,6")
    parser.add_argument("--rows", type=int, default=256)
    args = parser.parse_args()
    src = os.path.join(args.src, "A_DeviceMotion_data")
    if not os.path.isdir(src):
        sys.exit(f"make_sample: {src} is not a directory")
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    total = 0
    for session in sorted(os.listdir(src)):
        for user in users:
            path = os.path.join(src, session, f"sub_{user}.csv")
            if not os.path.isfile(path):
                sys.exit(f"make_sample: missing {path}")
            with open(path, "rb") as f:
                lines = f.readlines()[: args.rows + 1]
            out_dir = os.path.join(args.dst, "A_DeviceMotion_data", session)
            os.makedirs(out_dir, exist_ok=True)
            with open(os.path.join(out_dir, f"sub_{user}.csv"), "wb") as f:
                f.writelines(lines)
            total += sum(len(line) for line in lines)
    print(f"wrote {total / 1e6:.2f} MB to {args.dst}")


if __name__ == "__main__":
    main()

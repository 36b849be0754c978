#!/usr/bin/python3
"""Writes testdata/motionsense_demo from the full MotionSense recordings.

The demo's sample (scripts/run_demo.sh): 12 users, the four moving
activities in two trials each (walking wlk_7/wlk_15, jogging jog_9/jog_16,
upstairs ups_3/ups_4, downstairs dws_1/dws_2), 704 rows (14 s at 50 Hz) from
row 200 of each recording (earlier where a recording is shorter), and six
channels: rotation rate and user acceleration, 4 decimals. Long enough for
probes of 5 non-overlapping 128-sample windows; about 3 MB.

  /usr/bin/python3 testdata/make_demo_sample.py [MOTIONSENSE_DIR]
"""
import csv
import os
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data", "motionsense")
DST = os.path.join(os.path.dirname(__file__), "motionsense_demo", "A_DeviceMotion_data")
SESSIONS = ["wlk_7", "wlk_15", "jog_9", "jog_16", "ups_3", "ups_4", "dws_1", "dws_2"]
COLUMNS = ["rotationRate.x", "rotationRate.y", "rotationRate.z",
           "userAcceleration.x", "userAcceleration.y", "userAcceleration.z"]
START, ROWS = 200, 704

for session in SESSIONS:
    os.makedirs(os.path.join(DST, session), exist_ok=True)
    for user in range(1, 13):
        src = os.path.join(SRC, "A_DeviceMotion_data", session, f"sub_{user}.csv")
        with open(src) as f:
            rows = list(csv.DictReader(f))
        start = max(0, min(START, len(rows) - ROWS))
        rows = rows[start:start + ROWS]
        if len(rows) < ROWS:
            sys.exit(f"{src}: {len(rows)} rows, want {ROWS}")
        with open(os.path.join(DST, session, f"sub_{user}.csv"), "w") as out:
            out.write("," + ",".join(COLUMNS) + "\n")
            for i, row in enumerate(rows):
                out.write(str(i) + "," + ",".join("%.4f" % float(row[c]) for c in COLUMNS) + "\n")
print(f"wrote {len(SESSIONS) * 12} files under {DST}")

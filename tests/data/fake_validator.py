"""Stands in for veraPDF or JHOVE in tests of the external-command validator.

Reads the file named on the command line and answers by a rule on its content: "good" prints
PASS and exits 0; "bad" prints FAIL and exits 1; "slow" sleeps a minute (the time limit must stop
it); anything else prints nothing and exits 3 (no verdict).
"""

import sys
import time

with open(sys.argv[-1], "rb") as fh:
    data = fh.read()
if b"slow" in data:
    time.sleep(60)
if b"good" in data:
    print(f"PASS {sys.argv[-1]}")
    sys.exit(0)
if b"bad" in data:
    print(f"FAIL {sys.argv[-1]}: object 12 is broken")
    sys.exit(1)
sys.exit(3)

"""How long one look for an email takes in a mail folder of N messages: the test support's
`messages_mentioning` (reading each file once) against reading every file on every look, as it
did before. Run: .venv/bin/python bench-results/tslow-20261206w24/mail_scan.py SAMPLE.eml"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.support import mail


def every_file(mail_dir: Path, needle: str) -> int:
    found = 0
    for path in sorted(mail_dir.glob("*.eml")):
        if needle.encode() in path.read_bytes():
            found += 1
    return found


def main() -> None:
    sample = Path(sys.argv[1])
    for n in (500, 3000):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for i in range(n):
                shutil.copy(sample, folder / f"20261206T000000.{i:06d}Z-x.eml")
            mail.messages_mentioning(folder, "warm")  # the first look reads every file
            for name, look in (("every file", every_file), ("read once", mail.messages_mentioning)):
                started = time.process_time()
                for _ in range(20):
                    look(folder, "RET-NOWHERE")
                per = (time.process_time() - started) / 20
                print(f"{n} messages, {name}: {per * 1000:.1f} ms CPU per look")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Interrupts a training run again and again, then lets it finish.

  kill_resume.py [--no-finish] [--max-delay S] SIGNAL TIMES SEED CKPT_DIR PROGRAM [ARGS...]

Starts PROGRAM ARGS, waits until CKPT_DIR holds a checkpoint (`*.json`),
waits a delay drawn from random.Random(SEED) (S/10 to S seconds, S = 0.25 by
default) and sends SIGNAL (KILL or TERM) while the run still trains; the
next launch continues it through `checkpoint.resume = auto`. After TIMES
interruptions it runs PROGRAM ARGS --resume to the end (not with
--no-finish). Prints one line per interruption (the signal and the exit
status; a run that ended before the signal came is an error) and the last
run's exit status; the runs' standard error goes to this script's standard
error, their standard output to its standard output.
"""

import glob
import os
import random
import signal
import subprocess
import sys
import time


def main():
    finish = sys.argv[1] != "--no-finish"
    if not finish:
        del sys.argv[1]
    max_delay = 0.25
    if sys.argv[1] == "--max-delay":
        max_delay = float(sys.argv[2])
        del sys.argv[1:3]
    sig_name, times, seed, ckpt_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    command = sys.argv[5:]
    sig = getattr(signal, "SIG" + sig_name)
    rng = random.Random(seed)
    for i in range(times):
        proc = subprocess.Popen(command)
        deadline = time.monotonic() + 60
        while not glob.glob(os.path.join(ckpt_dir, "epoch=*.json")):
            if proc.poll() is not None:
                raise SystemExit(f"run {i + 1} ended (status {proc.returncode}) before its first checkpoint")
            if time.monotonic() > deadline:
                raise SystemExit(f"run {i + 1} wrote no checkpoint in 60 s")
            time.sleep(0.005)
        time.sleep(rng.uniform(max_delay / 10, max_delay))
        if proc.poll() is not None:
            raise SystemExit(f"run {i + 1} finished (status {proc.returncode}) before SIG{sig_name}")
        proc.send_signal(sig)
        status = proc.wait()
        status = status if status >= 0 else 128 - status
        print(f"run {i + 1}: SIG{sig_name}, exit status {status}", flush=True)
        # SIGKILL ends the process as the signal's own status; SIGTERM is
        # caught, checkpointed and reported as 128 + 15 by the run itself.
        if status != 128 + sig:
            raise SystemExit(f"run {i + 1}: exit status {status}, expected {128 + sig}")
    if not finish:
        return
    status = subprocess.call(command + ["--resume"])
    print(f"last run: exit status {status}", flush=True)
    if status != 0:
        raise SystemExit(f"the resumed run failed with exit status {status}")


if __name__ == "__main__":
    main()

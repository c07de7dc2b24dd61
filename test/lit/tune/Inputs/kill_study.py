"""SIGKILLs a study mid-way and resumes it.

usage: kill_study.py DB DONE EXE ARGS...

Starts `EXE ARGS...` (a `tune` command), waits until the study database DB
holds at least DONE finished trials while others run, SIGKILLs the tuner
(its trial processes die with it), then runs `EXE ARGS... --resume` to the
end. Prints what it saw and what the study holds at the end; exits 1 when
the study lost, duplicated or double-counted a trial.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time


def states(db):
    if not os.path.exists(db):
        return []
    try:
        con = sqlite3.connect(db, timeout=10)
        rows = con.execute("select number, state, attempts from trials order by number").fetchall()
        con.close()
        return rows
    except sqlite3.Error:
        return []


def main():
    db, done_wanted, exe = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    proc = subprocess.Popen(exe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    seen = []
    while time.time() < deadline:
        seen = states(db)
        done = sum(1 for _, s, _ in seen if s in ("complete", "pruned", "failed"))
        running = [n for n, s, _ in seen if s == "running"]
        if done >= done_wanted and running:
            break
        if proc.poll() is not None:
            print("the study ended before it could be killed")
            return 1
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.2)  # the trial processes die with their tuner
    seen = states(db)
    running = [n for n, s, _ in seen if s == "running"]
    done = sum(1 for _, s, _ in seen if s in ("complete", "pruned", "failed"))
    print(f"killed: {done} done, {len(running)} running")
    resumed = subprocess.run(exe + ["--resume"], capture_output=True, text=True)
    sys.stderr.write(resumed.stderr)
    if resumed.returncode != 0:
        print(f"the resumed study exited with {resumed.returncode}")
        return 1
    final = states(db)
    numbers = [n for n, _, _ in final]
    print(f"resumed: {len(final)} trials, numbers {numbers[0]}..{numbers[-1]}, "
          f"{'all distinct' if len(set(numbers)) == len(numbers) else 'duplicated'}")
    counts = {}
    for _, s, _ in final:
        counts[s] = counts.get(s, 0) + 1
    print("states: " + ", ".join(f"{k}={counts[k]}" for k in sorted(counts)))
    restarted = [n for n, _, a in final if n in running and a >= 2]
    print(f"restarted: {len(restarted)} of the {len(running)} that were running")
    return 0


sys.exit(main())

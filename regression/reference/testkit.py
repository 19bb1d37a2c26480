"""What the Python tests share: one line per check, the closing "N passed, M failed", and the
environment that lets Open MPI run as root."""
import os

counts = {"passed": 0, "failed": 0}


def check(name, ok, detail):
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
    counts["passed" if ok else "failed"] += 1


def summary():
    """Print the closing line; the exit status the test should return."""
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def mpienv():
    env = dict(os.environ)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return env

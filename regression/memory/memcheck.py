#!/usr/bin/python3
"""regression/memory/memcheck.py -- `make check-memory`: a representative part of the test suite under
valgrind memcheck.

Runs, each under `valgrind --leak-check=full` with regression/memory/sgm.supp:
  - the C unit tests (regression/unit/test_sde, test_score; test_random -philox_print only);
  - `sgm sample` on a small gmm8 problem with every sampler (1 rank), a few of them on 2 ranks, the
    Gaussian score, a run with trajectory frames and checkpoints, and `sgm nll` on its output;
  - a few bad inputs (sgm must fail cleanly: a memory error is a failure, leaks on the error path are
    not, since PETSc's error handling returns without destroying objects by design).
A run fails if valgrind reports a memory error (invalid read/write, use of uninitialised values,
bad free) or, for the successful runs, a definite leak, that the suppressions do not cover.  The
unit tests' own numerical checks are not counted: valgrind computes long double in 64 bits, so a
few 1e-13 tolerances fail under it (make check runs them natively).  The valgrind logs of failed
runs are printed; all are kept in regression/memory/out/ with --keep.
About 4 minutes on 2 cores.

usage: memcheck.py --srcdir DIR --builddir DIR [--jobs N] [--keep] [--list] [NAME ...]
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import time

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1",
           "HWLOC_COMPONENTS": "-x86"}  # hwloc's x86 CPUID backend cannot run under valgrind

SMALL = ["-nsamples", "64", "-sampler_steps", "8", "-quiet", "-overwrite", "-trajectory_frames", "0"]
SAMPLERS = ["em", "ancestral", "ode", "pc", "ald", "ddim", "heun", "edm", "dpmpp2m", "adaptive"]


def runs():
    """(name, nranks, command after `sgm`, expect_success)."""
    r = []
    for s in SAMPLERS:
        deck = f"input/gmm8_{s}.opts" if s != "em" else "input/gmm8.opts"
        extra = {"ald": ["-sampler_steps", "4"], "adaptive": ["-adaptive_abstol", "0.05", "-adaptive_reltol", "0.05"]}.get(s, [])
        r.append((f"sample_{s}", 1, ["sample", "-options_file", deck, *SMALL, *extra, "-output", "{out}/s.h5"], True))
    for s in ["em", "ode", "pc", "adaptive"]:
        deck = f"input/gmm8_{s}.opts" if s != "em" else "input/gmm8.opts"
        extra = ["-adaptive_abstol", "0.05", "-adaptive_reltol", "0.05"] if s == "adaptive" else []
        r.append((f"sample_{s}_2ranks", 2, ["sample", "-options_file", deck, *SMALL, *extra, "-output", "{out}/s.h5"], True))
    r.append(("sample_gaussian", 1, ["sample", "-options_file", "input/gauss1d.opts", *SMALL, "-output", "{out}/s.h5"], True))
    r.append(("sample_trajectory_checkpoint", 2, ["sample", "-options_file", "input/gmm8.opts", *SMALL,
                                                  "-trajectory_frames", "3", "-checkpoint_every", "3",
                                                  "-output", "{out}/s.h5"], True))
    r.append(("nll", 1, ["nll", "-options_file", "input/gmm8.opts", "-nll_data", "{out}/data.h5", "-quiet",
                         "-overwrite", "-output", "{out}/nll.h5"], True))
    bad = [("error_unknown_option", ["-sampler_stpes", "3"]),
           ("error_gmm_file_missing", ["-gmm_file", "{out}/missing.h5"]),
           ("error_options_file_missing", ["-options_file", "{out}/missing.opts"]),
           ("error_steps_zero", ["-sampler_steps", "0"]),
           ("error_output_dir_missing", ["-output", "{out}/no/such/dir/s.h5"])]
    for name, args in bad:
        r.append((name, 1, ["sample", "-options_file", "input/gmm8.opts", *SMALL, "-output", "{out}/s.h5", *args], False))
    return r


def valgrind(srcdir, logpattern):
    return ["valgrind", "--error-exitcode=97", "--leak-check=full", "--show-leak-kinds=definite",
            "--num-callers=40", f"--suppressions={os.path.join(srcdir, 'regression', 'memory', 'sgm.supp')}",
            f"--log-file={logpattern}"]


def libtool(builddir):
    return [os.path.join(builddir, "libtool"), "--mode=execute"]


def errors_in(log, leaks):
    """The valgrind error reports (and definite leaks if leaks) in one log, as text blocks."""
    text = open(log).read()
    blocks, cur = [], None
    for line in text.splitlines():
        body = re.sub(r"^==\d+== ?", "", line)
        if cur is None:
            if re.match(r"(Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched free|"
                        r"Source and destination overlap|Argument .* of function)", body) or \
                    (leaks and "definitely lost in loss record" in body):
                cur = [body]
        elif body.strip() == "":
            blocks.append("\n".join(cur))
            cur = None
        else:
            cur.append(body)
    return blocks


def run_one(spec, a):
    name, nranks, args, ok = spec
    out = os.path.join(a.builddir, "regression", "memory", "out", name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    if name == "nll":  # a few points of the target to evaluate
        subprocess.run([os.path.join(a.builddir, "src", "sgm"), "sample", "-options_file", "input/gmm8.opts",
                        *SMALL, "-output", os.path.join(out, "data.h5")], cwd=a.srcdir,
                       env=dict(os.environ, **MPI_ENV), check=True, capture_output=True)
    args = [x.format(out=out) for x in args]
    if name.startswith("unit_"):
        cmd = libtool(a.builddir) + valgrind(a.srcdir, os.path.join(out, "vg.%p.log")) + \
              [os.path.join(a.builddir, "regression", "unit", name[5:]), *args]
    else:
        cmd = libtool(a.builddir) + valgrind(a.srcdir, os.path.join(out, "vg.%p.log")) + \
              [os.path.join(a.builddir, "src", "sgm"), *args]
        if nranks > 1:
            cmd = ["mpiexec", "-n", str(nranks)] + cmd
    t0 = time.time()
    r = subprocess.run(cmd, cwd=a.srcdir, env=dict(os.environ, **MPI_ENV), capture_output=True, text=True)
    problems = []
    if name.startswith("unit_") and r.returncode not in (0, 97):
        # valgrind computes long double in 64 bits, so libm's last bits differ and a few unit
        # tolerances of 1e-13 fail: a numerical check, not a memory error (make check runs them)
        print(f"{name}: exit status {r.returncode} under valgrind (numerical checks; not counted)", flush=True)
    elif ok and r.returncode != 0:
        problems.append(f"exit status {r.returncode}\n{r.stdout}{r.stderr}")
    if not ok and (r.returncode == 0 or "sgm: error:" not in r.stderr):
        problems.append(f"expected a clean input error, got exit status {r.returncode}\n{r.stderr}")
    pid_logs = []
    for log in sorted(glob.glob(os.path.join(out, "vg.*.log"))):
        head = open(log).read(4000)
        if "Command:" not in head or ("/sgm " not in head and "/test_" not in head):
            continue  # a process Open MPI forked before exec
        pid_logs.append(log)
        for b in errors_in(log, leaks=ok):
            problems.append(f"{os.path.basename(log)}:\n{b}")
    if not pid_logs:
        problems.append("no valgrind log of the program")
    return name, time.time() - t0, problems, out


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1])
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--builddir", required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    a.srcdir, a.builddir = os.path.abspath(a.srcdir), os.path.abspath(a.builddir)
    # test_random's 10^6-sample moments take minutes under valgrind: its Philox blocks only
    specs = [("unit_test_random", 1, ["-philox_print"], True), ("unit_test_sde", 1, [], True),
             ("unit_test_score", 1, [], True)] + runs()
    if a.names:
        specs = [s for s in specs if s[0] in a.names]
    if a.list:
        for s in specs:
            print(f"{s[0]:32s} ranks {s[1]}  {'sgm ' + ' '.join(s[2]) if s[2] else ''}")
        return 0
    if not shutil.which("valgrind"):
        print("check-memory: valgrind not found")
        return 1
    nfail = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for name, dt, problems, out in ex.map(lambda s: run_one(s, a), specs):
            print(f"{name:32s} {dt:6.1f} s  {'FAIL' if problems else 'PASS'}", flush=True)
            for p in problems:
                print("    " + p.replace("\n", "\n    "))
            nfail += bool(problems)
            if not problems and not a.keep:
                shutil.rmtree(out, ignore_errors=True)
    try:
        os.rmdir(os.path.join(a.builddir, "regression", "memory", "out"))
    except OSError:
        pass
    print(f"{len(specs) - nfail} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())

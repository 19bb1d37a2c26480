#!/usr/bin/env python3
"""Checkpoint and restart of `sgm sample` (issue 4): for every sampler, a run interrupted at a random
point and restarted with -restart gives /samples and /trajectory bitwise identical to an uninterrupted
run, on the same and on another number of ranks.

Per sampler (a small case of its input/gmm8_<sampler>.opts deck):
  reference     uninterrupted run on 2 ranks
  sigterm       -checkpoint_test_signal_step K (rank 0 raises SIGTERM after step K): exit 75, no final
                file, FILE.partial kept, checkpoint at step K; -restart on the same rank count, and
                on another (1->2 or 2->3) for the rank-invariant samplers
  sigkill       -checkpoint_every M, kill -9 of every process of the job at a random time after the
                first checkpoint appears: FILE.partial is readable HDF5 holding at least the checkpoint's
                `frames` frames, equal to the reference's; then -restart
  external      kill -TERM of the sgm processes (not mpiexec) at a random time: as sigterm, then -restart
and the bad restarts: missing file, not a checkpoint, truncated, other -nsamples / -seed / sampler /
-sampler_steps, missing FILE.partial -> one `sgm: error:` line, non-zero exit, no output file.

Every random point comes from one seeded generator (--seed, printed) so a failure can be replayed.
Run from the build directory: python3 regression/restart/test-restart.py [--sampler NAME] [--keep].
Prints one line per check and "N passed, M failed"; exits 1 on failure.  About 2-3 minutes on 2 cores.
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

SRCDIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
EXIT_CHECKPOINTED = 75
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}

# name, deck, options that make the case small but long enough to be interrupted (0.2-1.5 s of
# sampling), and whether the result is independent of the number of ranks.
CASES = [
    ("em", "gmm8.opts", "-nsamples 10000 -sampler_steps 300", True),
    ("ancestral", "gmm8_ancestral.opts", "-nsamples 10000 -sampler_steps 300", True),
    ("ode", "gmm8_ode.opts", "-nsamples 10000 -ts_type rk -ts_rk_type 4 -ts_adapt_type none -sampler_steps 100", True),
    # PETSc's adaptive RK: error norms are reductions, so only the same rank count is required
    ("ode-rk5dp", "gmm8_ode.opts", "-nsamples 10000 -ts_rtol 1e-9 -ts_atol 1e-9 -ode_bitwise_restart", False),
    ("pc", "gmm8_pc.opts", "-nsamples 10000 -sampler_steps 120", True),
    ("ald", "gmm8_ald.opts", "-nsamples 10000 -sampler_steps 40", True),
    ("ddim", "gmm8_ddim.opts", "-nsamples 10000 -sampler_steps 300", True),
    ("heun", "gmm8_heun.opts", "-nsamples 10000 -sampler_steps 150", True),
    ("edm", "gmm8_edm.opts", "-nsamples 10000 -sampler_steps 150", True),
    ("dpmpp2m", "gmm8_dpmpp2m.opts", "-nsamples 10000 -sampler_steps 400", True),
    ("adaptive", "gmm8_adaptive.opts", "-nsamples 2000 -adaptive_abstol 0.03 -adaptive_reltol 0.03", True),
]


class Suite:
    def __init__(self, args):
        self.sgm = os.path.abspath(args.sgm)
        self.mpiexec = os.environ.get("MPIEXEC") or shutil.which("mpiexec") or "mpiexec"
        self.work = args.workdir
        self.seed = args.seed
        self.rng = None
        self.passed = self.failed = 0
        self.counting = True
        self.env = dict(os.environ, **MPI_ENV)

    def check(self, ok, what, detail="", info=""):
        """One line per check; `detail` says why it failed, `info` is printed either way.  Checks of what
        is not required (self.counting false) print 'info' and count neither way."""
        if not self.counting:
            print("info %s: %s" % (what, "yes" if ok else "no: " + detail), flush=True)
            return ok
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        more = ("; ".join(x for x in (info, detail if not ok else "") if x))
        print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + more) if more else ""), flush=True)
        return ok

    # ---- running sgm -------------------------------------------------------------------------------
    def command(self, n, opts, output, extra=()):
        deck, small = opts
        return [self.mpiexec, "-n", str(n), self.sgm, "sample", "-options_file", os.path.join(SRCDIR, "input", deck),
                "-gmm_file", os.path.join(SRCDIR, "input", "gmm8.h5")] + small.split() + \
               ["-output", output, "-quiet"] + list(extra)

    def start(self, n, opts, output, extra=(), log="log"):
        """mpiexec in a session of its own, so that every process of the job can be found by session id."""
        f = open(os.path.join(self.work, log), "w")
        p = subprocess.Popen(self.command(n, opts, output, extra), cwd=self.work, env=self.env, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        p.logfile = f
        return p

    def finish(self, p, timeout=120):
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill_job(p, signal.SIGKILL)
            rc = p.wait()
        p.logfile.close()
        with open(p.logfile.name) as f:
            return rc, f.read()

    def run(self, n, opts, output, extra=()):
        return self.finish(self.start(n, opts, output, extra))

    @staticmethod
    def job_processes(p):
        """(pid, command name) of every process in the session that mpiexec leads.  Open MPI puts each
        rank in a process group of its own, so killpg(mpiexec) would miss them; the session does not."""
        procs = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    s = f.read()
            except OSError:
                continue
            comm = s[s.index("(") + 1:s.rindex(")")]
            fields = s[s.rindex(")") + 2:].split()
            if int(fields[3]) == p.pid and fields[0] != "Z":
                procs.append((int(d), comm))
        return procs

    def kill_job(self, p, sig, only=None):
        targets = [pid for pid, comm in self.job_processes(p) if only is None or comm == only]
        for pid in targets:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return len(targets)

    def wait_for(self, p, path, timeout=60):
        t0 = time.time()
        while not os.path.exists(path):
            if p.poll() is not None or time.time() - t0 > timeout:
                return False
            time.sleep(0.002)
        return True

    # ---- reading results ---------------------------------------------------------------------------
    @staticmethod
    def read(path):
        with h5py.File(path, "r") as f:
            r = {"samples": f["samples"][()] if "samples" in f else None,
                 "traj_x": f["trajectory/x"][()] if "trajectory/x" in f else np.zeros((0,)),
                 "traj_t": f["trajectory/t"][()] if "trajectory/t" in f else np.zeros((0,)),
                 "nfe": f["nfe"][()] if "nfe" in f else None,
                 "steps": int(f.attrs["steps_taken"]) if "steps_taken" in f.attrs else None,
                 "wall": float(f.attrs["wall_time_seconds"]) if "wall_time_seconds" in f.attrs else None}
        return r

    @staticmethod
    def ckpt_attrs(path):
        with h5py.File(path, "r") as f:
            return {k: f.attrs[k] for k in ("step", "frames", "nfe", "nranks")}

    @staticmethod
    def diff(name, a, b):
        """'' if a and b are bitwise equal, else where they first differ."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return "%s shape %s vs reference %s" % (name, a.shape, b.shape)
        if a.tobytes() == b.tobytes():
            return ""
        bad = np.argwhere(a.view(np.uint64) != b.view(np.uint64)) if a.dtype == np.float64 else np.argwhere(a != b)
        i = tuple(bad[0])
        return "%s differs in %d entries, first at %s: %r vs reference %r (max |diff| %.3g)" % (
            name, len(bad), i, a[i], b[i], float(np.max(np.abs(a.astype(float) - b.astype(float)))))

    def compare(self, out, ref):
        got = self.read(out)
        msgs = [self.diff(k, got[k], ref[k]) for k in ("samples", "traj_x", "traj_t")]
        msgs = [m for m in msgs if m]
        nfe = "" if got["nfe"] is None or np.array_equal(got["nfe"], ref["nfe"]) else \
            "nfe %g vs reference %g" % (got["nfe"][0], ref["nfe"][0])
        return "; ".join(msgs), nfe

    def check_partial(self, tag, out, ckpt, ref):
        """After an interruption: FILE.partial is readable and holds the frames the checkpoint counts."""
        try:
            a = self.ckpt_attrs(ckpt)
        except Exception as e:  # noqa: BLE001 -- any failure to read is the finding
            return self.check(False, tag + " checkpoint readable", "%s: %s" % (ckpt, e)), None
        try:
            with h5py.File(out + ".partial", "r") as f:
                x = f["trajectory/x"][()] if "trajectory/x" in f else np.zeros((0,) + ref["traj_x"].shape[1:])
                t = f["trajectory/t"][()] if "trajectory/t" in f else np.zeros((0,))
        except Exception as e:  # noqa: BLE001
            return self.check(False, tag + " partial readable", "%s.partial: %s" % (out, e)), a
        k = int(a["frames"])
        ok = x.shape[0] >= k and t.shape[0] >= k
        m = self.diff("frames", x[:k], ref["traj_x"][:k]) + self.diff(" times", t[:k], ref["traj_t"][:k]) if ok else ""
        self.check(ok and not m, tag + " partial readable, frames kept",
                   m, info="checkpoint step %d, frames %d; %s.partial has %d frames" % (
                       a["step"], k, os.path.basename(out), x.shape[0]))
        return ok and not m, a

    def restart(self, tag, n, opts, out, ckpt, ref):
        rc, log = self.run(n, opts, out, ["-restart", ckpt])
        if not self.check(rc == 0 and os.path.exists(out) and not os.path.exists(out + ".partial"),
                          tag + " restart on %d rank(s) completes" % n,
                          "exit %d, %s" % (rc, log.strip().splitlines()[-1] if log.strip() else "no output")):
            return
        m, nfe = self.compare(out, ref)
        self.check(not m, tag + " /samples and /trajectory bitwise equal to the reference", m)
        self.check(not nfe, tag + " NFE equal to the reference", nfe)

    # ---- the cases ---------------------------------------------------------------------------------
    def reference(self, name, opts):
        out = os.path.join(self.work, name + "-ref.h5")
        rc, log = self.run(2, opts, out)
        if not self.check(rc == 0, name + " reference run", "exit %d %s" % (rc, log[-300:])):
            return None
        ref = self.read(out)
        print("     %s: %d steps, NFE %g, %d frames, %.2f s of sampling" % (
            name, ref["steps"], ref["nfe"][0], ref["traj_x"].shape[0], ref["wall"]), flush=True)
        return ref

    def sigterm(self, name, opts, ref, n0, n1):
        tag = "%s sigterm %d->%d" % (name, n0, n1)
        k = self.rng.randint(1, ref["steps"] - 1)
        tag += " K=%d" % k
        out = os.path.join(self.work, "%s-term-%d%d.h5" % (name, n0, n1))
        ckpt = out + ".ckpt"
        rc, log = self.run(n0, opts, out, ["-checkpoint_test_signal_step", str(k)])
        ok = rc == EXIT_CHECKPOINTED and not os.path.exists(out) and os.path.exists(out + ".partial") \
            and os.path.exists(ckpt) and not os.path.exists(ckpt + ".partial")
        if not self.check(ok, tag + " stops with exit 75, checkpoint and .partial, no final file",
                          "exit %d, files %s" % (rc, sorted(os.listdir(self.work)))):
            return
        ok, a = self.check_partial(tag, out, ckpt, ref)
        if a is not None:
            self.check(int(a["step"]) == k, tag + " checkpoint at step K", "checkpoint step %d" % a["step"])
        self.restart(tag, n1, opts, out, ckpt, ref)

    def interrupt(self, name, opts, ref, how, n0, n1, interval=False):
        """sigkill: kill -9 of the whole job after the first checkpoint (written every steps/8 steps, or
        with `interval` every 1/8 of the sampling time by -checkpoint_interval); external: kill -TERM of
        the sgm processes.  A random delay, shortened and retried if the run finished before it came."""
        every = max(1, ref["steps"] // 8)
        span = max(ref["wall"], 0.05)
        trigger = ["-checkpoint_interval", "%.3f" % (span / 8)] if interval else ["-checkpoint_every", str(every)]
        if how == "sigkill":  # deterministic: rank 0 dies by SIGKILL after a random step past the first checkpoint
            k = self.rng.randint(every + 1, max(every + 1, ref["steps"] - 1))
            tag = "%s %s%s %d->%d kill at step %d" % (name, how, "(interval)" if interval else "", n0, n1, k)
            out = os.path.join(self.work, "%s-%s.h5" % (name, how))
            ckpt = out + ".ckpt"
            if interval:  # a checkpoint interval shorter than any step: one after every step
                trigger = ["-checkpoint_interval", "1e-9"]
            p = self.start(n0, opts, out, trigger + ["-checkpoint_test_kill_step", str(k)])
            rc, log = self.finish(p)
            t0 = time.time()
            while self.job_processes(p) and time.time() - t0 < 10:  # no orphaned rank may outlive the kill
                time.sleep(0.01)
            if not self.check(rc != 0 and not os.path.exists(out) and os.path.exists(ckpt),
                              tag + " killed after a checkpoint, no final file", "exit %d" % rc):
                return
            ok, a = self.check_partial(tag, out, ckpt, ref)
            if a is None:
                return
            print("     %s: stopped at checkpoint step %d of %d" % (tag, a["step"], ref["steps"]), flush=True)
            self.restart(tag, n1, opts, out, ckpt, ref)
            return
        for attempt in range(4):
            frac = self.rng.uniform(0.05, 0.8) / 2 ** attempt
            tag = "%s %s%s %d->%d delay=%.0f%%" % (name, how, "(interval)" if interval and how == "sigkill" else "",
                                                  n0, n1, 100 * frac)
            out = os.path.join(self.work, "%s-%s-%d.h5" % (name, how, attempt))
            ckpt = out + ".ckpt"
            extra = trigger if how == "sigkill" else []
            p = self.start(n0, opts, out, extra)
            # after the first checkpoint (sigkill), or once the output exists, i.e. the handlers are in
            if not self.wait_for(p, ckpt if how == "sigkill" else out + ".partial"):
                rc, log = self.finish(p)
                self.check(False, tag + " run reaches its first checkpoint", "exit %d %s" % (rc, log[-300:]))
                return
            time.sleep(0.02 + frac * span)
            nk = 0
            if p.poll() is None:
                nk = self.kill_job(p, signal.SIGKILL if how == "sigkill" else signal.SIGTERM,
                                   None if how == "sigkill" else "sgm")
            rc, log = self.finish(p)
            if how == "sigkill":
                t0 = time.time()
                while self.job_processes(p) and time.time() - t0 < 10:  # no orphaned rank may outlive the kill
                    time.sleep(0.01)
            if rc == 0 or os.path.exists(out):
                print("     %s: the run finished before the signal; shorter delay" % tag, flush=True)
                continue
            break
        else:  # a machine fast enough to finish first every time: the hook cases cover the signal path
            print("     %s: not interrupted (the run was always faster than the signal); not counted" % tag, flush=True)
            return
        if how == "sigkill":
            if not self.check(rc != 0 and not os.path.exists(out) and os.path.exists(ckpt),
                              tag + " killed (%d processes) after a checkpoint, no final file" % nk, "exit %d" % rc):
                return
        elif not self.check(rc == EXIT_CHECKPOINTED and not os.path.exists(out) and os.path.exists(ckpt),
                            tag + " SIGTERM to %d rank(s): exit 75, checkpoint, no final file" % nk,
                            "exit %d %s" % (rc, log[-300:])):
            return
        ok, a = self.check_partial(tag, out, ckpt, ref)
        if a is None:
            return
        print("     %s: stopped at checkpoint step %d of %d" % (tag, a["step"], ref["steps"]), flush=True)
        self.restart(tag, n1, opts, out, ckpt, ref)

    def errors(self):
        """Bad restarts, from a checkpoint of the em case."""
        name, deck, small, _ = CASES[0]
        opts = (deck, small)
        out = os.path.join(self.work, "err-src.h5")
        rc, _ = self.run(2, opts, out, ["-checkpoint_test_signal_step", "100"])
        if not self.check(rc == EXIT_CHECKPOINTED, "errors: interrupted em run for the bad restarts", "exit %d" % rc):
            return
        ckpt = out + ".ckpt"
        trunc = os.path.join(self.work, "truncated.ckpt")
        with open(ckpt, "rb") as f, open(trunc, "wb") as g:
            g.write(f.read()[:4096])
        ref = os.path.join(self.work, "not-a-checkpoint.h5")
        with h5py.File(ref, "w") as f:
            f["samples"] = np.zeros((10000, 2))
        bad = [("missing file", opts, ["-restart", os.path.join(self.work, "nonexistent.ckpt")], out),
               ("not a checkpoint", opts, ["-restart", ref], out),
               ("truncated checkpoint", opts, ["-restart", trunc], out),
               ("other -nsamples", opts, ["-restart", ckpt, "-nsamples", "9000"], out),
               ("other -seed", opts, ["-restart", ckpt, "-seed", "7"], out),
               ("other sampler", opts, ["-restart", ckpt, "-sampler_type", "ancestral"], out),
               ("other -sampler_steps", opts, ["-restart", ckpt, "-sampler_steps", "123"], out),
               ("missing FILE.partial", opts, ["-restart", ckpt], os.path.join(self.work, "elsewhere.h5"))]
        for what, o, extra, dest in bad:
            before = os.path.getmtime(dest + ".partial") if os.path.exists(dest + ".partial") else None
            rc, log = self.run(2, o, dest, extra)
            errs = [line for line in log.splitlines() if line.startswith("sgm: error:")]
            after = os.path.getmtime(dest + ".partial") if os.path.exists(dest + ".partial") else None
            self.check(rc != 0 and len(errs) == 1 and not os.path.exists(dest) and before == after,
                       "errors: -restart with %s" % what, info=errs[0] if errs else "",
                       detail="exit %d, %d error line(s)%s%s" % (rc, len(errs),
                                                         ", final file written" if os.path.exists(dest) else "",
                                                         ", .partial touched" if before != after else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sgm", default="src/sgm", help="the sgm program (default: src/sgm of the build directory)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SGM_RESTART_SEED", "20261126")),
                    help="seed of the random interruption points")
    ap.add_argument("--sampler", action="append", help="run only this case (repeatable), e.g. em, ode-rk5dp")
    ap.add_argument("--workdir", help="directory for the runs (default: a new one under the current directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if not os.access(args.sgm, os.X_OK):
        sys.exit("test-restart: %s not found; run from the build directory or give --sgm" % args.sgm)
    made = not args.workdir
    if made:
        args.workdir = tempfile.mkdtemp(prefix="sgm-restart.", dir=os.getcwd())
    s = Suite(args)
    t0 = time.time()
    print("test-restart: seed %d (replay with --seed %d), work in %s" % (args.seed, args.seed, args.workdir), flush=True)
    for i, (name, deck, small, invariant) in enumerate(CASES):
        if args.sampler and name not in args.sampler:
            continue
        tc = time.time()
        s.rng = random.Random("%d-%s" % (args.seed, name))  # the same points with or without --sampler
        opts = (deck, small)
        ref = s.reference(name, opts)
        if ref is None:
            continue
        s.sigterm(name, opts, ref, 2, 2)
        if invariant:
            s.sigterm(name, opts, ref, *((1, 2) if i % 2 == 0 else (2, 3)))
        else:  # not required: report whether another rank count happens to agree
            s.counting = False
            s.sigterm(name, opts, ref, 2, 3)
            s.counting = True
        s.interrupt(name, opts, ref, "sigkill", 2, 2, interval=i % 2 == 1)
        s.interrupt(name, opts, ref, "external", 2, 1 if invariant else 2)
        print("     %s: %.0f s" % (name, time.time() - tc), flush=True)
    if not args.sampler or "errors" in args.sampler:
        s.errors()
    print("%d passed, %d failed (%.0f s)" % (s.passed, s.failed, time.time() - t0))
    if made and not args.keep and not s.failed:
        shutil.rmtree(args.workdir)
    elif made:
        print("test-restart: runs kept in %s" % args.workdir)
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# test-slurm.sh -- the job scripts in jobscripts/ on a real Slurm: a one-node cluster started on this
# machine (regression/slurm/minicluster.sh), the real scripts submitted with sbatch, their outputs
# checked, the daemons stopped.  Run by `make check-slurm` from the build directory:
#   top_srcdir=/path/to/sgm regression/slurm/test-slurm.sh      (cwd: the build directory)
# Needs root and the Debian packages slurm-wlm, munge and libpmix-dev (.ci/debian-packages.txt);
# installs nothing.
#
# Submitted, from a work directory in which input/ and jobscripts/ are the source tree's (the scripts
# expect to be submitted from the top of the sgm tree); only environment variables and sbatch
# options differ from a user's submission:
#   chain      jobscripts/chain.sh: sample.sbatch -> plot.sbatch (afterok), default deck
#   ensemble   jobscripts/ensemble.sbatch as a 3-task array, then jobscripts/ensemble-merge
#   straight   sample.sbatch, 60000 samples, uninterrupted
#   requeue    the same job (plus -checkpoint_every 100), sent SIGUSR1 with `scancel -s USR1` (to
#              the job steps, as --signal=USR1@60 does) after its first checkpoint: checkpoint,
#              exit 75, requeue, -restart
#   requeue_b  the same, with `scancel --batch -s USR1` (to the batch shell, as --signal=B:USR1@60
#              does), which the script forwards to srun
#   timelimit  sample.sbatch on 1 rank with a real 1-minute limit and --signal=USR1@50, requeued
#              until done, against the same job uninterrupted (SGM_SLURM_TEST_TIMELIMIT=0: skip it)
#   regression jobscripts/regression.sbatch running two regression cases with regression/run
#   trainchain jobscripts/chain.sh with TRAIN_DECK: train.sbatch -> sample.sbatch (-score_type mlp)
#              -> plot.sbatch, on data from `sgm data`
#   trainstraight, trainrequeue  train.sbatch uninterrupted, and the same signalled with
#              `scancel -s USR1` after its first checkpoint: stopped, requeued, continued; the model
#              weights must be bitwise those of the uninterrupted job
#   cspstraight, csprequeue  train.sbatch with COMMAND=csp (sgm csp train, deck input/csp_task1.opts,
#              a small network) on the crystals of postprocess/sgm-crystals, uninterrupted and
#              signalled after its first checkpoint: the same, for a crystal model
# Prints one line per check, "PASS name" or "FAIL name: why", and ends with "N passed, M failed";
# exit status 1 if a check failed.  On failure the work directory (daemon logs, job outputs) is kept
# and its path printed.  2 to 4 minutes on 2 cores (under 1 without the time-limit job).
# shellcheck disable=SC2317  # functions called through check() and traps look unreachable to it
set -uo pipefail

srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
builddir=$(pwd)
export PATH=$PATH:/usr/sbin
# Forget any Slurm this may run under (a job's SLURM_JOB_ID would make the scripts think they run in
# a job); the test cluster's SLURM_CONF is exported once it is up.
unset "${!SLURM_@}"
SGM=$builddir/src/sgm
PYTHON=${PYTHON:-python3}           # with numpy and h5py (make passes configure's)
WAIT=${SGM_SLURM_TEST_TIMEOUT:-900}  # seconds any one wait may take (a hang, not a slow machine)

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
check() {  # check NAME WHY-IF-FAILED COMMAND...: COMMAND's status decides
  local name=$1 why=$2
  shift 2
  if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
  exit $?
}

if [ "$(id -u)" != 0 ]; then
  echo "test-slurm: must run as root (the test cluster's daemons run as root)" >&2
  fail cluster "not root"
  finish
fi
for prog in munged slurmctld slurmd sbatch scontrol scancel srun; do
  if ! command -v "$prog" >/dev/null; then
    echo "test-slurm: $prog not found: apt-get install slurm-wlm munge (.ci/debian-packages.txt)" >&2
    fail cluster "$prog missing"
    finish
  fi
done
[ -x "$SGM" ] || { echo "test-slurm: $SGM not built (run make first)" >&2; fail cluster "no sgm"; finish; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sgm-slurm.XXXXXX")
cluster=$tmp/cluster
work=$tmp/work
cleanup() {
  "$srcdir/regression/slurm/minicluster.sh" stop "$cluster" >/dev/null 2>&1
  if [ "$failed" = 0 ] && [ "$passed" -gt 0 ]; then
    rm -rf "$tmp"
  else
    echo "test-slurm: kept $tmp (daemon logs in cluster/log, job outputs in work/)"
  fi
}
trap cleanup EXIT
interrupted() { trap - INT TERM; fail interrupted "by signal $1; stopping the cluster"; finish; }
trap 'interrupted INT' INT
trap 'interrupted TERM' TERM

# ---- The cluster.
t0=$(date +%s)
if ! "$srcdir/regression/slurm/minicluster.sh" start "$cluster" >"$tmp/start.log" 2>&1; then
  cat "$tmp/start.log" >&2
  fail cluster "the one-node cluster did not start (messages above)"
  finish
fi
export SLURM_CONF=$cluster/etc/slurm.conf
pass "cluster (started in $(($(date +%s) - t0)) s)"
check srun_pmix "srun --mpi=list does not offer pmix (Open MPI needs it)" \
  bash -c 'srun --mpi=list 2>&1 | grep -qw pmix'

mkdir -p "$work"
ln -s "$srcdir/input" "$work/input"
ln -s "$srcdir/jobscripts" "$work/jobscripts"
cd "$work" || exit 1
export SGM

# ---- Helpers on jobs.  `scontrol show job -o ID` prints one line per job (per task for an array).
field() {  # field ID NAME: NAME=value of job ID (first line)
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
finished() {  # finished ID: every job (array task) of ID is in a final state
  local states
  states=$(scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*') || return 1
  [ -n "$states" ] && ! grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUE|SUSPENDED|RESIZING|SIGNALING|STAGE_OUT' <<<"$states"
}
finished_all() { local id; for id in "$@"; do finished "$id" || return 1; done; }
wait_jobs() {  # wait_jobs ID...: until all are finished, at most $WAIT s
  local i
  for ((i = 0; i < 2 * WAIT; i++)); do
    finished_all "$@" && return 0
    sleep 0.5
  done
  echo "test-slurm: jobs $* not finished after $WAIT s:" >&2
  scontrol show job "$@" >&2
  return 1
}
completed() {  # completed ID: every job (array task) of ID ended COMPLETED with exit code 0:0
  local lines
  lines=$(scontrol show job -o "$1" 2>/dev/null) || return 1
  ! grep -v 'JobState=COMPLETED .*ExitCode=0:0' <<<"$lines" | grep -q . && [ -n "$lines" ]
}
report() {  # report ID FILE...: show a failed job's state and outputs
  scontrol show job "$1" 2>&1 | sed 's/^/    /'
  local f
  for f in "${@:2}"; do [ -f "$f" ] && { echo "    ---- $f"; tail -n 30 "$f" | sed 's/^/    /'; }; done
}
h5() {  # h5 PYTHON-EXPRESSION FILE...: evaluate with f = [h5py.File(...)], print the result
  "$PYTHON" - "$@" <<'EOF'
import sys, h5py, numpy as np
f = [h5py.File(p, "r") for p in sys.argv[2:]]
print(eval(sys.argv[1]))
EOF
}
secs() { date -d "$1" +%s 2>/dev/null || echo 0; }

# ---- Submit everything; the 2-core node runs the jobs in turn.
chain_out=$(jobscripts/chain.sh 2>&1)
chain_sample=$(sed -n 's/^sample //p' <<<"$chain_out")
chain_plot=$(sed -n 's/^plot //p' <<<"$chain_out")
chain_h5=$(sed -n 's/^output //p' <<<"$chain_out")

ens=$(SEED_BASE=100 EXTRA_OPTS="-nsamples 2000 -trajectory_frames 0" \
  sbatch --parsable --array=0-2 jobscripts/ensemble.sbatch 2>&1)

big="-nsamples 60000"
straight=$(OUTPUT=straight.h5 EXTRA_OPTS="$big" POSTPROCESS=no sbatch --parsable jobscripts/sample.sbatch 2>&1)
# The jobs to be signalled also checkpoint every 100 steps (of 1000): the first checkpoint file tells
# the test that sgm is running, with its signal handlers installed, and has most of its work ahead.
requeue=$(OUTPUT=requeue.h5 EXTRA_OPTS="$big -checkpoint_every 100" sbatch --parsable jobscripts/sample.sbatch 2>&1)
requeue_b=$(OUTPUT=requeue_b.h5 EXTRA_OPTS="$big -checkpoint_every 100" POSTPROCESS=no \
  sbatch --parsable jobscripts/sample.sbatch 2>&1)
regr=$(BUILDDIR=$builddir SUITE=run CASES="gmm8_em bitwise_em" sbatch --parsable jobscripts/regression.sbatch 2>&1)
# Training: a short net on 8gaussians; the chain trains and samples, the requeue pair is compared.
"$SGM" data -dataset 8gaussians -n 20000 -seed 7 -output d8.h5 -quiet
tshort="-train_steps 2000 -net_width 64 -net_depth 2 -train_log_every 500"
tchain_out=$(TRAIN_DECK=input/train_8gaussians.opts DATA=d8.h5 TRAIN_OPTS="$tshort" MODEL=tchain-model.h5 \
  OUTPUT=tchain.h5 EXTRA_OPTS="-nsamples 4000" jobscripts/chain.sh 2>&1)
tchain_train=$(sed -n 's/^train //p' <<<"$tchain_out")
tchain_sample=$(sed -n 's/^sample //p' <<<"$tchain_out")
tchain_plot=$(sed -n 's/^plot //p' <<<"$tchain_out")
tlong="-train_steps 8000 -net_width 64 -net_depth 2 -train_log_every 1000"
trs=$(MODEL=trs.h5 DATA=d8.h5 EXTRA_OPTS="$tlong" CHECKPOINT_EVERY=500 sbatch --parsable jobscripts/train.sbatch 2>&1)
trq=$(MODEL=trq.h5 DATA=d8.h5 EXTRA_OPTS="$tlong" CHECKPOINT_EVERY=500 sbatch --parsable jobscripts/train.sbatch 2>&1)
# A crystal model (COMMAND=csp): the same pair, on the prototypes of postprocess/sgm-crystals.
"$builddir/postprocess/sgm-crystals" --outdir . >/dev/null || fail crystals "postprocess/sgm-crystals failed (python3-ase?)"
clong="-csp_train_steps 3000 -csp_hidden 16 -csp_layers 2 -csp_log_every 1000"
crs=$(COMMAND=csp MODEL=crs.h5 DATA=crystals-train.h5 EXTRA_OPTS="$clong" CHECKPOINT_EVERY=100 sbatch --parsable jobscripts/train.sbatch 2>&1)
crq=$(COMMAND=csp MODEL=crq.h5 DATA=crystals-train.h5 EXTRA_OPTS="$clong" CHECKPOINT_EVERY=100 sbatch --parsable jobscripts/train.sbatch 2>&1)
# The real time limit (SGM_SLURM_TEST_TIMELIMIT=0 skips it, saving 1.5 minutes).  One rank, a
# 1-minute limit and --signal=USR1@50: slurmctld checks limits every 30 s, so each run is signalled
# 10-40 s in, and a run of over a minute (1.5e6 samples, 1000 steps) needs one to three requeues.
# The reference is the same job uninterrupted, also on one rank so that both run side by side; they
# are submitted last, so that the node is theirs once the short jobs are done.
if [ "${SGM_SLURM_TEST_TIMELIMIT:-1}" = 1 ]; then
  long="-nsamples ${SGM_SLURM_TEST_NSAMPLES:-1500000} -trajectory_frames 0"
  tl=$(OUTPUT=timelimit.h5 EXTRA_OPTS="$long" POSTPROCESS=no \
    sbatch --parsable --ntasks=1 --time=1 --signal=USR1@50 jobscripts/sample.sbatch 2>&1)
  tl_ref=$(OUTPUT=timelimit_ref.h5 EXTRA_OPTS="$long" POSTPROCESS=no \
    sbatch --parsable --ntasks=1 jobscripts/sample.sbatch 2>&1)
fi
timelimit_jobs=()
[ "${SGM_SLURM_TEST_TIMELIMIT:-1}" = 1 ] && timelimit_jobs=(tl tl_ref)
for v in chain_sample chain_plot ens straight requeue requeue_b regr tchain_train tchain_sample tchain_plot trs trq crs crq "${timelimit_jobs[@]}"; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
    fail submit "could not submit $v: ${!v} $chain_out"
    finish
  fi
done
pass "submit (chain $chain_sample->$chain_plot, ensemble $ens, straight $straight, requeue $requeue, requeue_b $requeue_b, regression $regr)"

# signal_when_running ID OUTPUT SCANCEL-OPTIONS...: once sgm has written its first checkpoint
# OUTPUT.ckpt, signal the job as Slurm's --signal would.
signal_when_running() {
  local id=$1 out=$2 i
  shift 2
  for ((i = 0; i < 10 * WAIT; i++)); do
    if [ -f "$out.ckpt" ] && [ "$(field "$id" JobState)" = RUNNING ]; then
      scancel "$@" "$id"
      return 0
    fi
    finished "$id" && break
    sleep 0.1
  done
  echo "test-slurm: job $id never ran sgm ($out.ckpt did not appear)" >&2
  return 1
}
check requeue_signal "could not signal job $requeue while sgm ran" \
  signal_when_running "$requeue" requeue.h5 --signal=USR1
check requeue_b_signal "could not signal the batch shell of job $requeue_b while sgm ran" \
  signal_when_running "$requeue_b" requeue_b.h5 --batch --signal=USR1
check trainrequeue_signal "could not signal training job $trq while sgm ran" \
  signal_when_running "$trq" trq.h5 --signal=USR1
check csprequeue_signal "could not signal the crystal training job $crq while sgm ran" \
  signal_when_running "$crq" crq.h5 --signal=USR1

all=("$chain_sample" "$chain_plot" "$ens" "$straight" "$requeue" "$requeue_b" "$regr" "$tchain_train" "$tchain_sample" "$tchain_plot" "$trs" "$trq" "$crs" "$crq")
[ "${SGM_SLURM_TEST_TIMELIMIT:-1}" = 1 ] && all+=("$tl" "$tl_ref")
wait_jobs "${all[@]}"

# ---- chain: sample -> plot, in that order, outputs present and readable.
if completed "$chain_sample" && completed "$chain_plot"; then pass chain_completed
else
  fail chain_completed "sample job $(field "$chain_sample" JobState), plot job $(field "$chain_plot" JobState)"
  report "$chain_sample" "sgm-sample-$chain_sample.out"
  report "$chain_plot" "sgm-plot-$chain_plot.out"
fi
order_ok() {
  [ "$(secs "$(field "$chain_plot" StartTime)")" -ge "$(secs "$(field "$chain_sample" EndTime)")" ] &&
    [ "$(secs "$(field "$chain_sample" EndTime)")" -gt 0 ]
}
check chain_order "plot job started ($(field "$chain_plot" StartTime)) before sample job ended ($(field "$chain_sample" EndTime))" order_ok
check chain_hdf5 "$chain_h5 missing or /samples not [10000,2]" \
  test "$(h5 'f[0]["samples"].shape' "$chain_h5" 2>/dev/null)" = "(10000, 2)"
summary_ok() { "$PYTHON" "$builddir/postprocess/sgm-summary" "$chain_h5" >/dev/null 2>&1; }
check chain_summary "sgm-summary failed on $chain_h5" summary_ok
check chain_plot_files "plot job wrote no ${chain_h5%.h5}.png (> 10 kB) or .txt" \
  bash -c "[ \$(stat -c %s '${chain_h5%.h5}.png' 2>/dev/null || echo 0) -gt 10000 ] && grep -q nsamples '${chain_h5%.h5}.txt'"
check chain_log_view "no -log_view profile logs/sample-$chain_sample.log" \
  grep -q "Performance Summary" "logs/sample-$chain_sample.log"

# ---- ensemble: one file per task, seeds 100..102, different samples; merged.
if completed "$ens"; then pass ensemble_completed
else fail ensemble_completed "array job $ens: $(scontrol show job -o "$ens" | grep -o 'JobState=[A-Z]*' | tr '\n' ' ')"; report "$ens" sgm-ensemble-"$ens"_*.out
fi
edir=ensemble-$ens
check ensemble_files "expected $edir/seed-{100,101,102}.h5" \
  test "$(cd "$edir" 2>/dev/null && echo seed-*.h5)" = "seed-100.h5 seed-101.h5 seed-102.h5"
check ensemble_seeds "seed attributes are not 100 101 102" \
  test "$(h5 '[int(x.attrs["seed"]) for x in f]' "$edir"/seed-10{0,1,2}.h5 2>/dev/null)" = "[100, 101, 102]"
check ensemble_distinct "two tasks produced the same /samples" \
  test "$(h5 'len({x["samples"][:].tobytes() for x in f})' "$edir"/seed-10{0,1,2}.h5 2>/dev/null)" = 3
merge() {
  "$PYTHON" jobscripts/ensemble-merge "$edir" -o merged.h5 >merge.log 2>&1 || { sed 's/^/    /' merge.log; return 1; }
}
check ensemble_merge "jobscripts/ensemble-merge $edir failed (its output above)" merge
check ensemble_merged "merged.h5 /samples is not [6000,2], or not the three files in seed order" \
  test "$(h5 '(f[0]["samples"].shape, bool((f[0]["samples"][2000:4000] == f[2]["samples"][:]).all()))' \
    merged.h5 "$edir"/seed-10{0,1,2}.h5 2>/dev/null)" = "((6000, 2), True)"

# ---- requeue: stopped by the signal, requeued, restarted, bitwise equal to the straight run.
for id in "$straight" "$requeue" "$requeue_b"; do
  completed "$id" || { fail "sample_$id" "job $id: $(field "$id" JobState)"; report "$id" "sgm-sample-$id.out"; }
done
for r in requeue requeue_b; do
  id=${!r}
  check "${r}_restarts" "job $id was not requeued once (Restarts=$(field "$id" Restarts))" \
    test "$(field "$id" Restarts)" = 1
  check "${r}_stopped" "job $id: sgm did not stop at a checkpoint and continue from it" \
    bash -c "grep -q 'stopped by a signal' sgm-sample-$id.out && grep -q 'continuing from $r.h5.ckpt' sgm-sample-$id.out"
  check "${r}_bitwise" "$r.h5 /samples differ from straight.h5 (uninterrupted run)" \
    test "$(h5 'f[0]["samples"][:].tobytes() == f[1]["samples"][:].tobytes()' "$r.h5" straight.h5 2>/dev/null)" = True
  check "${r}_clean" "checkpoint or .partial left behind" \
    bash -c "[ ! -e $r.h5.ckpt ] && [ ! -e $r.h5.partial ]"
  check "${r}_log_view" "expected one -log_view profile per run: logs/sample-$id.log and logs/sample-$id.1.log" \
    bash -c "grep -q 'Performance Summary' logs/sample-$id.log && grep -q 'Performance Summary' logs/sample-$id.1.log"
done
check requeue_postprocess "requeue.png/requeue.txt not written after the restarted run" \
  bash -c "[ -s requeue.png ] && grep -q nsamples requeue.txt"

# ---- the real time limit: requeued at least once, completed, bitwise equal.
if [ "${SGM_SLURM_TEST_TIMELIMIT:-1}" = 1 ]; then
  if completed "$tl" && completed "$tl_ref"; then pass timelimit_completed
  else fail timelimit_completed "job $tl: $(field "$tl" JobState), reference $tl_ref: $(field "$tl_ref" JobState)"
    report "$tl" "sgm-sample-$tl.out"
  fi
  check "timelimit_requeued (Restarts=$(field "$tl" Restarts))" "job $tl was never stopped by its time-limit signal (Restarts=$(field "$tl" Restarts))" \
    test "$(field "$tl" Restarts)" -ge 1
  check timelimit_bitwise "timelimit.h5 /samples differ from timelimit_ref.h5 (uninterrupted)" \
    test "$(h5 'f[0]["samples"][:].tobytes() == f[1]["samples"][:].tobytes()' timelimit.h5 timelimit_ref.h5 2>/dev/null)" = True
fi

# ---- training: chain train -> sample -> plot; requeued training bitwise equal to the straight one.
if completed "$tchain_train" && completed "$tchain_sample" && completed "$tchain_plot"; then pass trainchain_completed
else
  fail trainchain_completed "train $(field "$tchain_train" JobState), sample $(field "$tchain_sample" JobState), plot $(field "$tchain_plot" JobState)"
  report "$tchain_train" "sgm-train-$tchain_train.out"
  report "$tchain_sample" "sgm-sample-$tchain_sample.out"
fi
check trainchain_samples "tchain.h5 /samples not [4000,2], or not sampled from the trained model" \
  test "$(h5 '(f[0]["samples"].shape, f[0].attrs["score_file"].decode())' tchain.h5 2>/dev/null)" = "((4000, 2), 'tchain-model.h5')"
for id in "$trs" "$trq"; do
  completed "$id" || { fail "train_$id" "job $id: $(field "$id" JobState)"; report "$id" "sgm-train-$id.out"; }
done
check trainrequeue_restarts "job $trq was not requeued once (Restarts=$(field "$trq" Restarts))" \
  test "$(field "$trq" Restarts)" = 1
check trainrequeue_stopped "job $trq: sgm train did not stop at a checkpoint and continue from it" \
  bash -c "grep -q 'stopped by a signal' sgm-train-$trq.out && grep -q 'continuing from trq.h5.ckpt' sgm-train-$trq.out"
check trainrequeue_bitwise "trq.h5 weights differ from trs.h5 (uninterrupted training)" \
  test "$(h5 'all(f[0][g][:].tobytes() == f[1][g][:].tobytes() for g in ("model/theta", "model_raw/theta", "train/loss"))' trq.h5 trs.h5 2>/dev/null)" = True

# ---- crystal model (COMMAND=csp): requeued training bitwise equal to the straight one.
for id in "$crs" "$crq"; do
  completed "$id" || { fail "csptrain_$id" "job $id: $(field "$id" JobState)"; report "$id" "sgm-train-$id.out"; }
done
check csprequeue_restarts "job $crq was not requeued once (Restarts=$(field "$crq" Restarts))" \
  test "$(field "$crq" Restarts)" = 1
check csprequeue_stopped "job $crq: sgm csp train did not stop at a checkpoint and continue from it" \
  bash -c "grep -q 'sgm csp train: stopped by a signal' sgm-train-$crq.out && grep -q 'continuing from crq.h5.ckpt' sgm-train-$crq.out"
check csprequeue_bitwise "crq.h5 weights differ from crs.h5 (uninterrupted training)" \
  test "$(h5 'all(f[0][g][:].tobytes() == f[1][g][:].tobytes() for g in ("theta", "theta_raw"))' crq.h5 crs.h5 2>/dev/null)" = True

# ---- regression suite on the compute node.
if completed "$regr" && grep -qE '^[0-9]+ passed, 0 failed' "sgm-regression-$regr.out"; then pass regression
else fail regression "job $regr: $(field "$regr" JobState)"; report "$regr" "sgm-regression-$regr.out"
fi

echo "test-slurm: $(($(date +%s) - t0)) s"
finish

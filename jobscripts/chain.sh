#!/bin/bash
# chain.sh -- submit a pipeline of dependent Slurm jobs, each starting only if the previous one
# succeeded (sbatch --dependency=afterok:ID): [train ->] sample -> eval -> plot.  With TRAIN_DECK
# set, a training job (train.sbatch) comes first, the sampling job samples its model (-score_type
# mlp) and the eval job compares the samples with the training data (DATA).
#
#   jobscripts/chain.sh                                        gmm8 deck, default resources
#   DECK=input/gauss64.opts SBATCH_OPTS="-A myacct -p compute" NTASKS=8 jobscripts/chain.sh
#   TRAIN_DECK=input/train_8gaussians.opts DATA=d8.h5 jobscripts/chain.sh    train, then sample it
# Run it from the top of the sgm tree, on a login node (it only submits; it returns at once).
# Prints one line per job, "<step> <job id>", and finally the output file's name.  If a job fails,
# the jobs after it are cancelled by Slurm (--kill-on-invalid-dep=yes) rather than left pending.
# A sampling job hit by its time limit requeues itself (sample.sbatch) and keeps its job id, so the
# jobs after it wait for its final run.
set -euo pipefail

# ---- Settings, from the environment; DECK, SGM, EXTRA_OPTS, LOGDIR, ... reach sample.sbatch.
SBATCH_OPTS=${SBATCH_OPTS:-}        # options for every job, e.g. "-A myacct -p compute" (split on spaces)
NTASKS=${NTASKS:-2}                 # MPI ranks of the sampling job
TIME=${TIME:-00:15:00}              # its time limit
DECK=${DECK:-input/gmm8.opts}
JOBSCRIPTS=${JOBSCRIPTS:-$(dirname "$0")}

# submit STEP SBATCH-ARGS...: submit a job, print "STEP ID", leave the id in $id
submit() {
  local step=$1
  shift
  # shellcheck disable=SC2086  # SBATCH_OPTS is a list of options
  id=$(sbatch --parsable $SBATCH_OPTS "$@")
  id=${id%%;*}  # "id;cluster" on multi-cluster sites
  echo "$step $id"
}
after() { echo "--dependency=afterok:$1 --kill-on-invalid-dep=yes"; }

# Training (TRAIN_DECK set): train.sbatch writes MODEL; the sampling job waits for it and samples
# the trained network with the deck's sampler (-score_type mlp -score_file MODEL).
TRAIN_DECK=${TRAIN_DECK:-}
deps=()
if [ -n "$TRAIN_DECK" ]; then
  MODEL=${MODEL:-model-$(date +%Y%m%d-%H%M%S)-$$.h5}
  TRAIN_TIME=${TRAIN_TIME:-01:00:00}
  DECK=$TRAIN_DECK MODEL=$MODEL EXTRA_OPTS=${TRAIN_OPTS:-} \
    submit train --ntasks="$NTASKS" --time="$TRAIN_TIME" "$JOBSCRIPTS/train.sbatch"
  train_id=$id
  read -r -a deps <<<"$(after "$train_id")"
  EXTRA_OPTS="${EXTRA_OPTS:-} -score_type mlp -score_file $MODEL"
  echo "model $MODEL"
fi

# Sampling.  Its OUTPUT defaults to <deck>-<job id>.h5, known once it is submitted; no
# post-processing inside it, the plot job does that.
POSTPROCESS=no DECK=$DECK EXTRA_OPTS=${EXTRA_OPTS:-} submit sample "${deps[@]}" --ntasks="$NTASKS" --time="$TIME" "$JOBSCRIPTS/sample.sbatch"
sample_id=$id
output=${OUTPUT:-$(basename "$DECK" .opts)-$sample_id.h5}

# Evaluation (eval.sbatch, doc/eval.md): the samples against the density they were drawn for (a gmm
# or gaussian file, from $output's attributes) and, after training, against the training data.
# EVAL=no leaves it out; REFERENCE names another reference set; EVAL_OPTS adds sgm eval options.
last_id=$sample_id
[ -n "$TRAIN_DECK" ] && REFERENCE=${REFERENCE:-${DATA:-}}
if [ -n "$TRAIN_DECK" ] && [ -z "$REFERENCE" ]; then
  echo "eval skipped: a trained model has no known density; set DATA or REFERENCE to compare with a set"
elif [ "${EVAL:-yes}" != no ]; then
  # shellcheck disable=SC2046  # after's output is two options
  INPUT=$output REFERENCE=${REFERENCE:-} EVAL_OPTS=${EVAL_OPTS:-} submit eval $(after "$sample_id") --ntasks="$NTASKS" "$JOBSCRIPTS/eval.sbatch"
  last_id=$id
fi

# Post-processing: summary and plot of the samples.
# shellcheck disable=SC2046  # after's output is two options
INPUT=$output submit plot $(after "$last_id") "$JOBSCRIPTS/plot.sbatch"
echo "output $output"

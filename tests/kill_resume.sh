#!/usr/bin/env bash
# Crash safety within an epoch: `fovea train --checkpoint-every N` is SIGKILLed right after its first
# mid-epoch checkpoint, resumed from that file, and must end with weights equal, bit for bit, to
# an uninterrupted run with the same seed. Also: progress lines reach a file before the kill.
# usage: kill_resume.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"

# 2,000 Fashion-MNIST training images as an IDX folder: an epoch of 62 batches takes about a second
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 2000
args=(--data "$dir/data" --epochs 3 --batch 32 --seed 5 --no-test --backend reference --shift 2 --flip)
model=$src/models/lenet5.fv
"$fovea" train "$model" "${args[@]}" --out "$dir/full.fvm" >"$dir/full.log" 2>&1
check "the uninterrupted run" "[ -s '$dir/full.fvm' ]"

"$fovea" train "$model" "${args[@]}" --out "$dir/part.fvm" --checkpoint-every 10 >"$dir/part.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -e "$dir/part.fvm" ] && break; sleep 0.01; done # the first checkpoint: batch 10 of epoch 1
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
check "killed before the end (it wrote a checkpoint and no test line)" "[ -e '$dir/part.fvm' ] && ! grep -q '^saved' '$dir/part.log'"
check "progress reached the log file before the kill" "grep -q '^Training' '$dir/part.log' && grep -q '^Epoch 1/3' '$dir/part.log'"
"$fovea" train "$dir/part.fvm" --data "$dir/data" --epochs 3 --no-test --backend reference --shift 2 --flip --checkpoint-every 10 \
  --out "$dir/part.fvm" >"$dir/resume.log" 2>&1
check "the resumed run continued mid-epoch ($(grep -m1 resuming "$dir/resume.log"))" "grep -q '^resuming epoch [0-9]* at batch [0-9]*' '$dir/resume.log'"
"$fovea" weights "$dir/full.fvm" --exact >"$dir/full.txt"
"$fovea" weights "$dir/part.fvm" --exact >"$dir/part.txt"
check "killed and resumed ends with the uninterrupted run's weights, bit for bit" "cmp -s '$dir/full.txt' '$dir/part.txt'"
check "... and its model file, byte for byte (optimizer state and history too)" "cmp -s '$dir/full.fvm' '$dir/part.fvm'"
check "the same last-epoch loss and accuracy" "[ \"\$(tr '\r' '\n' <'$dir/full.log' | grep -o 'loss: [0-9.]* - accuracy: [0-9.]*$' | tail -1)\" = \"\$(tr '\r' '\n' <'$dir/resume.log' | grep -o 'loss: [0-9.]* - accuracy: [0-9.]*$' | tail -1)\" ]"

# Ctrl-C (SIGINT) and a scheduler's preemption (SIGTERM) mid-epoch: the batch under way finishes and
# is saved, the exit status is 128 + the signal, and resuming ends as the uninterrupted run
for sig in INT TERM; do
  rm -f "$dir/sig.fvm"
  "$fovea" train "$model" "${args[@]}" --out "$dir/sig.fvm" --checkpoint-every 20 >"$dir/sig.log" 2>"$dir/sig.err" &
  pid=$!
  for _ in $(seq 1 600); do [ -e "$dir/sig.fvm" ] && break; sleep 0.01; done # batch 20 of epoch 1 is saved: the run is mid-epoch
  kill -$sig $pid
  wait $pid
  rc=$?
  want=$([ $sig = INT ] && echo 130 || echo 143)
  check "SIG$sig: exit $want (got $rc)" "[ $rc -eq $want ]"
  check "SIG$sig: one line says where it stopped and what it saved ($(tr -d '\n' <"$dir/sig.err"))" \
    "grep -q 'SIG$sig: stopped at epoch 1, batch [0-9]*; saved .*sig.fvm, which resumes there' '$dir/sig.err'"
  batch=$(grep -o 'batch [0-9]*' "$dir/sig.err" | grep -o '[0-9]*')
  "$fovea" train "$dir/sig.fvm" --data "$dir/data" --epochs 3 --no-test --backend reference --shift 2 --flip --out "$dir/sig.fvm" >"$dir/sig-resume.log" 2>&1
  check "SIG$sig: the checkpoint is of that batch ($(grep -m1 resuming "$dir/sig-resume.log"))" "grep -q '^resuming epoch 1 at batch $((batch + 1))$' '$dir/sig-resume.log'"
  check "SIG$sig: resumed, it ends as the uninterrupted run, byte for byte" "cmp -s '$dir/full.fvm' '$dir/sig.fvm'"
done
check "no temporary file is left" "! ls '$dir'/*.tmp.* >/dev/null 2>&1"

# divergence stops with a message naming the epoch and batch, and the last good checkpoint stays
cp "$dir/full.fvm" "$dir/good.fvm"
before=$(md5sum <"$dir/good.fvm")
"$fovea" train "$model" --data "$dir/data" --epochs 2 --batch 32 --lr 1e5 --optimizer sgd --no-test --out "$dir/good.fvm" >"$dir/div.log" 2>"$dir/div.err"
rc=$?
check "divergence: non-zero exit and 'epoch E, batch B: ... diverged' ($(cat "$dir/div.err"))" "[ $rc -ne 0 ] && grep -q 'epoch [0-9]*, batch [0-9]*: .*diverged' '$dir/div.err'"
check "the checkpoint from before the divergence is intact" "grep -q 'epoch 1,' '$dir/div.err' && [ \"\$(md5sum <'$dir/good.fvm')\" = '$before' ] && '$fovea' weights '$dir/good.fvm' >/dev/null"
finish

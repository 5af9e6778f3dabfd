#!/usr/bin/env bash
# Data-parallel training over MPI on loopback (mpirun -np 2): a batch split across two ranks trains
# the model one process trains, up to the order of sums; two 2-rank runs are identical; a lost or
# hung rank ends the job in seconds with one line, and its last save resumes with any number of
# ranks; ranks given different data or options refuse to start. Without MPI built, mpirun's ranks
# say so. Takes about a minute.
# usage: mpi.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"
mpirun=(mpirun --allow-run-as-root -q)
diff=$src/tests/weights_diff.py
weights() { "$fovea" weights "$1" --exact >"$2"; }

if ! "$fovea" --version | grep 'over MPI: yes' >/dev/null; then
  if command -v mpirun >/dev/null; then
    "${mpirun[@]}" -np 2 "$fovea" train "$src/models/lenet5.fv" --data nowhere >"$dir/no.log" 2>&1
    check "built without MPI: a rank under mpirun says so ($(head -1 "$dir/no.log"))" "grep 'built without MPI' '$dir/no.log' >/dev/null"
  else
    check "built without MPI and no mpirun: fovea says it has no MPI" "'$fovea' --version | grep 'over MPI: no' >/dev/null"
  fi
  finish
  exit
fi

# 6,400 Fashion-MNIST training images (100 batches of 64) and the 10,000 test images
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 6400 10000
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/one" 64    # one batch: one step
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/ten" 640   # ten steps
lenet=$src/models/lenet5.fv bn=$src/tests/data/bn-cnn.fv
sgd=(--epochs 1 --batch 64 --optimizer sgd --lr 0.01 --seed 3 --no-test --backend reference)

# 1 and 2 ranks, plain SGD: only the order of the sums differs (the whole batch's mean gradient is
# the ranks' halves added; batch norm sums its statistics across the ranks)
one_and_two() { # name model data tolerance [ranks]
  local name=$1 model=$2 data=$3 tol=$4 ranks=${5:-2}
  "$fovea" train "$model" --data "$dir/$data" "${sgd[@]}" --out "$dir/$name-1.fvm" >"$dir/$name-1.log" 2>&1
  "${mpirun[@]}" --oversubscribe -np "$ranks" "$fovea" train "$model" --data "$dir/$data" "${sgd[@]}" --out "$dir/$name-n.fvm" >"$dir/$name-n.log" 2>&1
  weights "$dir/$name-1.fvm" "$dir/$name-1.txt"
  weights "$dir/$name-n.fvm" "$dir/$name-n.txt"
  check "$name: 1 and $ranks ranks end with the same weights ($(/usr/bin/python3 "$diff" "$dir/$name-1.txt" "$dir/$name-n.txt" "$tol"))" \
    "/usr/bin/python3 '$diff' '$dir/$name-1.txt' '$dir/$name-n.txt' '$tol' >/dev/null"
}
one_and_two "lenet5, one step" "$lenet" one 1e-6
one_and_two "bn-cnn, one step" "$bn" one 1e-6
one_and_two "bn-cnn, one step on 3 ranks (22, 21, 21 samples)" "$bn" one 1e-6 3
one_and_two "lenet5, an epoch of 6,400 images" "$lenet" data 1e-4
# Through batch norm an epoch amplifies rounding: two single-process runs that differ only in their
# order of sums (the reference and oneDNN backends) end 1.5% apart after 100 steps; 10 steps here.
one_and_two "bn-cnn, ten steps" "$bn" ten 1e-4
check "progress is printed once (one 'Epoch 1/1')" "[ \$(tr '\r' '\n' <'$dir/lenet5, an epoch of 6,400 images-n.log' | grep -c '^Epoch 1/1') -eq 1 ]"
check "each rank runs half a batch on its share of the cores" "grep 'data-parallel over 2 ranks (MPI): each runs 32 samples of a batch on 1 thread$' '$dir/lenet5, an epoch of 6,400 images-n.log' >/dev/null"

# Adam, augmentation and dropout: the same test accuracy, and two 2-rank runs identical. Within a
# point: two single-process runs that differ only in their order of sums (the reference and oneDNN
# backends) end 0.46 points apart on lenet5 on an AVX2 CPU (74.48% and 74.02%)
adam=(--epochs 2 --batch 64 --seed 3 --shift 2 --flip)
for m in lenet5 bn-cnn; do
  model=$lenet
  [ $m = bn-cnn ] && model=$bn
  "$fovea" train "$model" --data "$dir/data" "${adam[@]}" --out "$dir/$m-a1.fvm" >"$dir/$m-a1.log" 2>&1
  "${mpirun[@]}" -np 2 "$fovea" train "$model" --data "$dir/data" "${adam[@]}" --out "$dir/$m-a2.fvm" >"$dir/$m-a2.log" 2>&1
  a1=$(grep -o 'accuracy [0-9.]*%' "$dir/$m-a1.log" | tail -1 | grep -o '[0-9.]*')
  a2=$(grep -o 'accuracy [0-9.]*%' "$dir/$m-a2.log" | tail -1 | grep -o '[0-9.]*')
  check "$m, Adam with augmentation: test accuracy with 1 and 2 ranks within 1 point (${a1:-?}% and ${a2:-?}%)" \
    "[ -n '$a1' ] && [ -n '$a2' ] && awk 'BEGIN { d = $a1 - $a2; exit !(d <= 1 && d >= -1) }'"
done
"${mpirun[@]}" -np 2 "$fovea" train "$bn" --data "$dir/data" "${adam[@]}" --no-test --out "$dir/again-1.fvm" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$fovea" train "$bn" --data "$dir/data" "${adam[@]}" --no-test --out "$dir/again-2.fvm" >/dev/null 2>&1
check "two 2-rank runs: the same model file, byte for byte" "[ -s '$dir/again-1.fvm' ] && cmp -s '$dir/again-1.fvm' '$dir/again-2.fvm'"

# A rank killed mid-epoch: the job ends within seconds with one line naming it; rank 0's last
# save resumes with 1 rank (the uninterrupted run's weights, up to the order of sums) or 2 (its
# model file, byte for byte)
rank_pid() { # the process of rank $1
  for p in $(pgrep -x fovea); do
    tr '\0' '\n' 2>/dev/null <"/proc/$p/environ" | grep "^OMPI_COMM_WORLD_RANK=$1$" >/dev/null && echo "$p"
  done
}
run=(--epochs 1 --batch 64 --optimizer sgd --lr 0.01 --seed 3 --no-test --backend reference --checkpoint-every 10)
"${mpirun[@]}" -np 2 "$fovea" train "$lenet" --data "$dir/data" "${run[@]}" --out "$dir/full.fvm" >/dev/null 2>&1
"${mpirun[@]}" -np 2 "$fovea" train "$lenet" --data "$dir/data" "${run[@]}" --out "$dir/part.fvm" >"$dir/kill.log" 2>"$dir/kill.err" &
job=$!
for _ in $(seq 1 1000); do [ -e "$dir/part.fvm" ] && break; sleep 0.01; done
victim=$(rank_pid 1)
killed_at=$(date +%s.%N)
[ -n "$victim" ] && kill -9 $victim
wait $job
rc=$?
took=$(echo "$(date +%s.%N) - $killed_at" | bc)
check "killed rank 1: the job ends (exit $rc) within 10 s (took ${took} s)" "[ -n '$victim' ] && [ $rc -ne 0 ] && awk 'BEGIN { exit !($took < 10) }'"
check "... with one line naming the rank ($(cat "$dir/kill.err"))" "[ \$(wc -l <'$dir/kill.err') -eq 1 ] && grep 'rank 1 (process [0-9]* on this machine) ended' '$dir/kill.err' >/dev/null"
cp "$dir/part.fvm" "$dir/part2.fvm"
"$fovea" train "$dir/part.fvm" --data "$dir/data" --epochs 1 --no-test --backend reference --out "$dir/part.fvm" >"$dir/resume1.log" 2>&1
check "the last save resumes mid-epoch with 1 rank ($(grep -m1 '^resuming' "$dir/resume1.log"))" "grep '^resuming epoch 1 at batch [0-9]*' '$dir/resume1.log' >/dev/null"
weights "$dir/full.fvm" "$dir/full.txt"
weights "$dir/part.fvm" "$dir/part.txt"
check "... and ends as the uninterrupted 2-rank run ($(/usr/bin/python3 "$diff" "$dir/full.txt" "$dir/part.txt" 1e-4))" \
  "/usr/bin/python3 '$diff' '$dir/full.txt' '$dir/part.txt' 1e-4 >/dev/null"
"${mpirun[@]}" -np 2 "$fovea" train "$dir/part2.fvm" --data "$dir/data" --epochs 1 --no-test --backend reference --checkpoint-every 10 \
  --out "$dir/part2.fvm" >/dev/null 2>&1
check "resumed with 2 ranks, it ends as the uninterrupted run, byte for byte" "cmp -s '$dir/full.fvm' '$dir/part2.fvm'"

# A scheduler's SIGTERM to mpirun reaches every rank: they stop at the same batch, rank 0 saves it
# and says so once, and the save resumes there
rm -f "$dir/term.fvm"
"${mpirun[@]}" -np 2 "$fovea" train "$lenet" --data "$dir/data" "${run[@]}" --out "$dir/term.fvm" >/dev/null 2>"$dir/term.err" &
job=$!
for _ in $(seq 1 1000); do [ -e "$dir/term.fvm" ] && break; sleep 0.01; done
kill -TERM $job
wait $job
check "SIGTERM to mpirun: one line from rank 0 ($(cat "$dir/term.err"))" \
  "[ \$(wc -l <'$dir/term.err') -eq 1 ] && grep 'SIGTERM: stopped at epoch 1, batch [0-9]*; saved .*term.fvm' '$dir/term.err' >/dev/null"
batch=$(grep -o 'batch [0-9]*' "$dir/term.err" | grep -o '[0-9]*')
"$fovea" train "$dir/term.fvm" --data "$dir/data" --epochs 1 --no-test --backend reference >"$dir/term-resume.log" 2>&1
check "... and its save resumes at the next batch ($(grep -m1 '^resuming' "$dir/term-resume.log"))" "grep '^resuming epoch 1 at batch $((${batch:-0} + 1))$' '$dir/term-resume.log' >/dev/null"

# A rank that hangs (stopped): the others give up after --rank-timeout
"${mpirun[@]}" -np 2 "$fovea" train "$lenet" --data "$dir/data" "${sgd[@]}" --rank-timeout 3 >"$dir/hang.log" 2>"$dir/hang.err" &
job=$!
for _ in $(seq 1 1000); do grep '^Epoch 1/1' "$dir/hang.log" >/dev/null 2>&1 && break; sleep 0.01; done
victim=$(rank_pid 1)
stopped_at=$(date +%s.%N)
[ -n "$victim" ] && kill -STOP $victim
wait $job
rc=$?
took=$(echo "$(date +%s.%N) - $stopped_at" | bc)
[ -n "$victim" ] && kill -9 $victim 2>/dev/null
check "a hung rank: the job ends (exit $rc) within 10 s (took ${took} s) with one line ($(cat "$dir/hang.err"))" \
  "[ $rc -ne 0 ] && awk 'BEGIN { exit !($took < 10) }' && [ \$(wc -l <'$dir/hang.err') -eq 1 ] && grep 'no answer from another rank for 3 s' '$dir/hang.err' >/dev/null"

# Ranks given different data or options refuse to start (a hash from each, compared with rank 0's)
cp -r "$dir/one" "$dir/other"
/usr/bin/python3 -c "import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[-1] ^= 1; open(p, 'wb').write(b)" "$dir/other/train-images-idx3-ubyte"
"${mpirun[@]}" -np 1 "$fovea" train "$lenet" --data "$dir/one" "${sgd[@]}" : -np 1 "$fovea" train "$lenet" --data "$dir/other" "${sgd[@]}" \
  >/dev/null 2>"$dir/data.err"
check "different data on rank 1 is refused ($(head -1 "$dir/data.err"))" "grep 'training data differs from rank 0' '$dir/data.err' >/dev/null"
"${mpirun[@]}" -np 1 "$fovea" train "$lenet" --data "$dir/one" "${sgd[@]}" : -np 1 "$fovea" train "$lenet" --data "$dir/one" "${sgd[@]}" --shift 1 \
  >/dev/null 2>"$dir/options.err"
check "different options on rank 1 are refused ($(head -1 "$dir/options.err"))" "grep 'options differ from rank 0' '$dir/options.err' >/dev/null"
finish

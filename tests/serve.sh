#!/usr/bin/env bash
# fovea serve: the API against the CLI's own answers (predict, saliency), every endpoint, a table
# of malformed requests (each a 4xx with a JSON error, the server answering after each), the
# bearer token, concurrent requests batched together, and SIGTERM letting the requests under way
# finish before it exits 0.
# usage: serve.sh FOVEA SOURCE_DIR
set -uo pipefail
fovea=$1 src=$2
. "$src/tests/lib.sh"

# a trained-looking model: lenet5's seeded weights with Fashion-MNIST's class names, and its ONNX export
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/data" 64
"$fovea" train "$src/models/lenet5.fv" --data "$dir/data" --epochs 1 --batch 32 --no-test --out "$dir/lenet5.fvm" >/dev/null 2>&1
"$fovea" export "$dir/lenet5.fvm" -o "$dir/lenet5-onnx.onnx" >/dev/null 2>&1
/usr/bin/python3 "$src/scripts/fashion_samples.py" "$dir/png" 1 >/dev/null
png=$(ls "$dir"/png/*.png | head -1)

start_server() { # args...: starts fovea serve on a free port; sets $pid and $url
  "$fovea" serve "$@" --port 0 >"$dir/serve.log" 2>&1 &
  pid=$!
  url=$(served_url "$dir/serve.log")
}
code() { curl -s -o "$dir/body" -w '%{http_code}' "$@"; } # the status; the body in $dir/body
json_error() { /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d.get('error'), str) and d['error'] else 1)" "$dir/body"; }
alive() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200 ]; }

start_server "$dir/lenet5.fvm" "$dir/lenet5-onnx.onnx" --max-body-mb 1 --max-pixels 1000000
check "the server starts and prints its address ($(head -1 "$dir/serve.log"))" "[ -n '$url' ]"
check "GET /healthz" "[ \$(code '$url/healthz') = 200 ] && grep '\"status\": \"ok\"' '$dir/body' >/dev/null"
check "GET / is the explorer page" "[ \$(code '$url/') = 200 ] && grep '<title>fovea explorer</title>' '$dir/body' >/dev/null"
code "$url/v1/models" >/dev/null
check "GET /v1/models: both models, their inputs and class names" "/usr/bin/python3 -c \"
import json; m = json.load(open('$dir/body'))['models']
assert [x['name'] for x in m] == ['lenet5', 'lenet5-onnx'], m
assert m[0]['input'] == [28, 28, 1] and m[0]['classes'][9] == 'Ankle boot' and m[0]['layers'][1]['kind'] == 'conv2d'\""

# predict: the same top classes and probabilities as fovea predict
"$fovea" predict "$dir/lenet5.fvm" "$png" --json --top 3 >"$dir/cli.json"
code -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/predict?top=3" >/dev/null
check "predict a PNG: the top 3 of fovea predict, to 1e-6" "/usr/bin/python3 -c \"
import json; a = json.load(open('$dir/cli.json'))['predictions'][0]['top']; b = json.load(open('$dir/body'))['predictions'][0]['top']
assert [x['class'] for x in a] == [x['class'] for x in b], (a, b)
assert all(abs(x['probability'] - y['probability']) < 1e-6 for x, y in zip(a, b)), (a, b)\""
/usr/bin/python3 -c "
import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(1).random((5, 28, 28, 1), dtype=np.float32))" "$dir/x.npy"
"$fovea" forward "$dir/lenet5.fvm" --input "$dir/x.npy" --output "$dir/y.npy" >/dev/null
code -X POST --data-binary @"$dir/x.npy" -H 'Content-Type: application/octet-stream' "$url/v1/models/lenet5/predict?top=1" >/dev/null
check "predict a .npy batch of 5: each sample's top class and probability as fovea forward's" "/usr/bin/python3 -c \"
import json, numpy as np; y = np.load('$dir/y.npy'); p = json.load(open('$dir/body'))['predictions']
assert len(p) == 5 and all(r['top'][0]['class'] == int(y[i].argmax()) and abs(r['top'][0]['probability'] - float(y[i].max())) < 1e-6 for i, r in enumerate(p)), p\""
# a request's rows are queued together, so an idle server runs 4 of them as one batch of 4
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32))" "$dir/x4.npy"
code "$url/metrics" >/dev/null && before=$(grep '^fovea_batches_total ' "$dir/body" | grep -o '[0-9]*$')
code -X POST --data-binary @"$dir/x4.npy" -H 'Content-Type: application/octet-stream' "$url/v1/models/lenet5/predict" >/dev/null
code "$url/metrics" >/dev/null && after=$(grep '^fovea_batches_total ' "$dir/body" | grep -o '[0-9]*$')
check "a .npy of 4 rows runs as one batch (forward passes $before -> $after)" "[ $((${after:-0} - ${before:-0})) -eq 1 ]"
check "the ONNX model predicts the same class" "[ \$(code -X POST --data-binary @'$png' -H 'Content-Type: image/png' '$url/v1/models/lenet5-onnx/predict?top=1') = 200 ] && grep '\"class\": $(/usr/bin/python3 -c "import json; print(json.load(open('$dir/cli.json'))['predictions'][0]['top'][0]['class'])")' '$dir/body' >/dev/null"

# explain: pictures a person reads (224 x 224), and saliency's values as fovea saliency's
for method in saliency smoothgrad guided gradcam gradcam%2B%2B; do
  c=$(code -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/explain?method=$method")
  check "explain $method: a 224 x 224 PNG" "[ $c = 200 ] && /usr/bin/python3 -c \"
import struct; b = open('$dir/body', 'rb').read(); assert b[:8] == b'\\\\x89PNG\\\\r\\\\n\\\\x1a\\\\n' and struct.unpack('>II', b[16:24]) == (224, 224)\""
done
"$fovea" saliency "$dir/lenet5.fvm" "$png" --raw "$dir/saliency.npy" -o "$dir/pictures" >/dev/null
code -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/explain?method=saliency&format=npy" >/dev/null
check "explain saliency as .npy: fovea saliency's map, to 1e-6" "/usr/bin/python3 -c \"
import numpy as np; a = np.load('$dir/saliency.npy')[0]; b = np.load('$dir/body')
assert a.shape == b.shape and np.abs(a - b).max() <= 1e-6 * max(1e-12, np.abs(a).max()), (a.shape, b.shape)\""
check "a layer's outputs (method=maps)" "[ \$(code -X POST --data-binary @'$png' -H 'Content-Type: image/png' '$url/v1/models/lenet5/explain?method=maps&layer=conv2d_1') = 200 ] && /usr/bin/python3 -c \"
import json; d = json.load(open('$dir/body')); assert d['shape'] == [28, 28, 6] and len(d['values']) == 28 * 28 * 6\""
check "a convolution's filters" "[ \$(code '$url/v1/models/lenet5/filters?layer=conv2d_1') = 200 ] && /usr/bin/python3 -c \"
import json; d = json.load(open('$dir/body')); assert d['shape'] == [5, 5, 1, 6] and len(d['values']) == 150\""
check "GET /metrics: Prometheus text with requests, latency, in-flight" "[ \$(code '$url/metrics') = 200 ] && grep '^fovea_requests_total{code=\"2xx\"} [1-9]' '$dir/body' >/dev/null && grep '^fovea_request_seconds_bucket{le=\"+Inf\"}' '$dir/body' >/dev/null && grep '^fovea_in_flight ' '$dir/body' >/dev/null"

# malformed requests: each a 4xx with a JSON error, and the server still answering
head -c 100 "$png" >"$dir/truncated.png"
/usr/bin/python3 -c "
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
ihdr = struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)  # 900 megapixels claimed
sys.stdout.buffer.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(b'\0' * 30001 * 20)) + chunk(b'IEND', b''))" >"$dir/huge.png"
head -c 2000000 /dev/zero >"$dir/big.bin"
/usr/bin/python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.zeros((2, 5, 5, 1), np.float32))" "$dir/wrong.npy"
/usr/bin/python3 -c "import numpy as np, sys; x = np.zeros((1, 28, 28, 1), np.float32); x[0, 3, 3, 0] = np.nan; np.save(sys.argv[1], x)" "$dir/nan.npy"
bad() { # name, expected status, curl arguments...
  local name=$1 want=$2
  shift 2
  local got
  got=$(code "$@")
  check "$name: $want with a JSON error ($(head -c 160 "$dir/body"))" "[ '$got' = '$want' ] && json_error && alive"
}
bad "a truncated PNG" 400 -X POST --data-binary @"$dir/truncated.png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/predict"
bad "a wrong content type" 415 -X POST --data-binary @"$png" -H 'Content-Type: text/plain' "$url/v1/models/lenet5/predict"
bad "an image claiming 30000 x 30000 pixels (--max-pixels)" 413 -X POST --data-binary @"$dir/huge.png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/predict"
bad "an unknown model" 404 -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/nothing/predict"
bad "an unknown layer" 404 -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/explain?method=maps&layer=conv9"
bad "an unknown method" 400 -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/explain?method=magic"
bad "a class out of range" 400 -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/explain?class=10"
bad "a body over --max-body-mb" 413 -X POST --data-binary @"$dir/big.bin" -H 'Content-Type: application/octet-stream' "$url/v1/models/lenet5/predict"
bad "an empty body" 400 -X POST -H 'Content-Type: image/png' "$url/v1/models/lenet5/predict"
bad "a .npy of the wrong shape" 400 -X POST --data-binary @"$dir/wrong.npy" -H 'Content-Type: application/octet-stream' "$url/v1/models/lenet5/predict"
bad "a .npy holding NaN" 400 -X POST --data-binary @"$dir/nan.npy" -H 'Content-Type: application/octet-stream' "$url/v1/models/lenet5/predict"
bad "GET on predict" 405 "$url/v1/models/lenet5/predict"
bad "an unknown path" 404 "$url/etc/passwd"
bad "a path climbing out" 404 "$url/v1/models/../../etc/passwd"
bad "top=0" 400 -X POST --data-binary @"$png" -H 'Content-Type: image/png' "$url/v1/models/lenet5/predict?top=0"
bad "a query string of 5,000 bytes" 414 "$url/v1/models?x=$(head -c 5000 /dev/zero | tr '\0' a)"
# slowloris: a client that sends half its headers and waits holds one connection, not the server
exec 3<>"/dev/tcp/127.0.0.1/${url##*:}"
printf 'POST /v1/models/lenet5/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n' >&3
check "a client holding half-sent headers does not stop others" "alive && [ \$(code -X POST --data-binary @'$png' -H 'Content-Type: image/png' '$url/v1/models/lenet5/predict') = 200 ]"
exec 3>&-

# concurrent requests: all answered, and batched together
seq 1 64 | xargs -P 64 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST --data-binary @"$png" -H 'Content-Type: image/png' \
  "$url/v1/models/lenet5/predict" >"$dir/codes"
code "$url/metrics" >/dev/null
predictions=$(grep '^fovea_predictions_total ' "$dir/body" | grep -o '[0-9]*$')
batches=$(grep '^fovea_batches_total ' "$dir/body" | grep -o '[0-9]*$')
check "64 concurrent predictions: all 200" "[ \$(grep -c '^200$' '$dir/codes') -eq 64 ]"
check "... run in fewer forward passes than samples ($predictions samples in $batches passes)" "[ ${batches:-0} -gt 0 ] && [ ${batches:-0} -lt ${predictions:-0} ]"

# SIGTERM: requests under way finish, then the server exits 0
seq 1 16 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' -X POST --data-binary @"$png" -H 'Content-Type: image/png' \
  "$url/v1/models/lenet5/explain?method=smoothgrad" >"$dir/drain" &
clients=$!
sleep 0.05
kill -TERM $pid
wait $pid
rc=$?
wait $clients
check "SIGTERM: exit 0 ($rc) after finishing the requests under way ($(grep -c '^200$' "$dir/drain") answered 200, none cut off)" \
  "[ $rc -eq 0 ] && ! grep -v -e '^200$' -e '^000$' '$dir/drain' >/dev/null && grep '^stopped$' '$dir/serve.log' >/dev/null"

# the bearer token
start_server "$dir/lenet5.fvm" --token s3cret
check "--token: a request without it is 401" "[ \$(code '$url/v1/models') = 401 ] && json_error"
check "--token: with it, 200" "[ \$(code -H 'Authorization: Bearer s3cret' '$url/v1/models') = 200 ]"
check "--token: a wrong one is 401" "[ \$(code -H 'Authorization: Bearer s3cre' '$url/v1/models') = 401 ]"
check "--token: /healthz needs none" "alive"
kill -TERM $pid
wait $pid
# fovea train --serve: the page and API of the network as it trains
/usr/bin/python3 "$src/tests/fashion_subset.py" "$dir/train2k" 2000
"$fovea" train "$src/models/lenet5.fv" --data "$dir/train2k" --epochs 4 --batch 32 --no-test --serve 0 >"$dir/train.log" 2>&1 &
trainer=$!
url=$(served_url "$dir/train.log")
for _ in $(seq 1 500); do
  code "$url/v1/training" >/dev/null
  grep '"epoch": 1' "$dir/body" >/dev/null && break
  sleep 0.02
done
check "train --serve: /v1/training gives the epochs so far ($(head -c 150 "$dir/body"))" "grep '\"epochs\": 4' '$dir/body' >/dev/null && grep '\"epoch\": 1, \"loss\": ' '$dir/body' >/dev/null"
check "train --serve: it predicts with the weights of the last epoch" "[ \$(code -X POST --data-binary @'$png' -H 'Content-Type: image/png' '$url/v1/models/lenet5/predict') = 200 ]"
check "train --serve: the page has the training section" "[ \$(code '$url/') = 200 ] && grep 'id=\"training\"' '$dir/body' >/dev/null"
wait $trainer
check "train --serve: the training ends as usual (exit $?), and the page with it" "grep '^saved\|62/62' '$dir/train.log' >/dev/null && [ \$(curl -s -o /dev/null -w '%{http_code}' '$url/healthz') = 000 ]"
check "a model that is not there: one line, exit 1" "! '$fovea' serve '$dir/none.fvm' --port 0 >'$dir/none.log' 2>&1 && [ \$(wc -l <'$dir/none.log') -le 2 ]"
finish

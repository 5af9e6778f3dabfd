// ort_run.js — runs an ONNX model with ONNX Runtime (npm onnxruntime-node, CPU) on a float32 .npy
// batch and writes the first output as .npy: the peer fovea's exports are checked against.
// usage: NODE_PATH=DIR/node_modules node tests/ort_run.js MODEL.onnx X.npy Y.npy [THREADS] [REPEAT]
// With REPEAT > 0 it also times REPEAT runs and prints "ort_ms MEDIAN" (bench/).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(`${path}: expected float32 in C order`);
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const offset = start + headerLen;
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(path, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

async function main() {
  const [model, xPath, yPath, threads = '2', repeat = '0'] = process.argv.slice(2);
  const options = { intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionProviders: ['cpu'] };
  const session = await ort.InferenceSession.create(model, options);
  const x = readNpy(xPath);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  let out = await session.run(feeds);
  const times = [];
  for (let r = 0; r < Number(repeat); r++) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const y = out[session.outputNames[0]];
  writeNpy(yPath, y.dims, y.data);
  if (times.length) {
    times.sort((a, b) => a - b);
    console.log(`ort_ms ${times[Math.floor(times.length / 2)].toFixed(3)} rss_mb ${(process.memoryUsage().rss / 1048576).toFixed(0)}`);
  }
}

main().catch(e => { console.error(`ort_run: ${e.message}`); process.exit(1); });

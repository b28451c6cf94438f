/* LeNet-5 in plain JavaScript: the course's network, the same weights, the same steps.
 *
 * The forward pass mirrors lenet_course.models.LeNet5.stages (article order: ReLU after each
 * convolution, then max pooling) and the preprocessing mirrors
 * lenet_course.data.preprocess_drawing and prepare_images; browser tests hold each equal to
 * the Python version. Weights, sizes and constants come from window.LENET5_DATA
 * (lenet5_data.js, written by lenet_course.web from the verified checkpoints when the website
 * is built): nothing here repeats a number that Python knows. The 1998 network
 * (lenet5_classic.js) uses the layers below.
 *
 * API (also for the browser console):
 *   lenet.preprocess(bitmap, height, width) -> 784 grey levels 0..255 (28x28, MNIST-style)
 *   lenet.predict(pixels)   pixels: 784 grey levels (28x28, row-major)
 *                           -> {probabilities, logits, prediction, stages: {input, c1, ...}}
 *   lenet.networks.lenet5, lenet.networks.lenet5_classic: each {layers, predict(pixels)}
 */
(function () {
  "use strict";

  const data = window.LENET5_DATA;
  // the same names and values as lenet_course.inputs and lenet_course.data
  const { MNIST_SIZE, INPUT_SIZE, PAD, DIGIT_BOX, INK_THRESHOLD, MNIST_MEAN, MNIST_STD } = data.constants;

  // --- weights -------------------------------------------------------------------------
  function decodeFloats(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return Float64Array.from(new Float32Array(bytes.buffer));  // computed in float64
  }

  function loadWeights(tensors) {
    const w = {};
    for (const [name, tensor] of Object.entries(tensors)) {
      w[name] = { shape: tensor.shape, values: decodeFloats(tensor.data) };
    }
    return w;
  }

  // --- layers (each stage is a Float64Array, row-major; shapes as [channels, size, size]) ----
  // conv2d: input (C, H, W) -> output (O, H-k+1, W-k+1); weight (O, C, k, k), bias (O)
  function conv2d(input, [channels, size], weight, bias) {
    const [outMaps, , k] = weight.shape;
    const out = size - k + 1;
    const result = new Float64Array(outMaps * out * out);
    for (let o = 0; o < outMaps; o++) {
      for (let i = 0; i < out; i++) {
        for (let j = 0; j < out; j++) {
          let sum = bias.values[o];
          for (let c = 0; c < channels; c++) {
            for (let u = 0; u < k; u++) {
              for (let v = 0; v < k; v++) {
                sum += weight.values[((o * channels + c) * k + u) * k + v] *
                       input[(c * size + i + u) * size + j + v];
              }
            }
          }
          result[(o * out + i) * out + j] = sum;
        }
      }
    }
    return result;
  }

  // pool2x2: (C, H, W) -> (C, H/2, W/2), each 2x2 block made one value by
  // combine(map, topLeft, topRight, bottomLeft, bottomRight)
  function pool2x2(input, [channels, size], combine) {
    const out = size / 2;
    const result = new Float64Array(channels * out * out);
    for (let c = 0; c < channels; c++) {
      for (let i = 0; i < out; i++) {
        for (let j = 0; j < out; j++) {
          const at = (y, x) => input[(c * size + y) * size + x];
          result[(c * out + i) * out + j] = combine(
            c, at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1));
        }
      }
    }
    return result;
  }

  // maxPool2x2: the largest of each 2x2 block
  const maxPool2x2 = (input, shape) => pool2x2(input, shape, (c, a, b, d, e) => Math.max(a, b, d, e));

  // linear: (in) -> (out), weight (out, in) as torch.nn.Linear stores it
  function linear(input, weight, bias) {
    const [outUnits, inUnits] = weight.shape;
    const result = new Float64Array(outUnits);
    for (let o = 0; o < outUnits; o++) {
      let sum = bias.values[o];
      for (let i = 0; i < inUnits; i++) sum += weight.values[o * inUnits + i] * input[i];
      result[o] = sum;
    }
    return result;
  }

  const relu = (x) => x.map((v) => Math.max(v, 0));

  function softmax(logits) {
    const top = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  }

  const argmax = (values) => values.indexOf(Math.max(...values));

  // --- input: 28x28 grey levels -> the normalised 32x32 field (prepare_images) ----------------
  function prepare(pixels) {
    if (pixels.length !== MNIST_SIZE * MNIST_SIZE) {
      throw new Error(`predict expects ${MNIST_SIZE * MNIST_SIZE} grey levels ` +
                      `(${MNIST_SIZE}x${MNIST_SIZE}), got ${pixels.length}`);
    }
    // as prepare_images: pad with PAD blank pixels (pad_to_32), then the same float32 steps
    // for every pixel, padding included: / 255, - mean, / std
    const x = new Float64Array(INPUT_SIZE * INPUT_SIZE);
    for (let i = 0; i < INPUT_SIZE; i++) {
      for (let j = 0; j < INPUT_SIZE; j++) {
        const inside = i >= PAD && i < PAD + MNIST_SIZE && j >= PAD && j < PAD + MNIST_SIZE;
        const pixel = inside ? pixels[(i - PAD) * MNIST_SIZE + j - PAD] : 0;
        const scaled = Math.fround(Math.fround(pixel / 255) - Math.fround(MNIST_MEAN));
        x[i * INPUT_SIZE + j] = Math.fround(scaled / Math.fround(MNIST_STD));
      }
    }
    return x;  // (1, 32, 32)
  }

  // --- a drawing made to look like MNIST (mirrors lenet_course.data.preprocess_drawing) ----
  const round = (v) => Math.floor(v + 0.5);

  function resample(image, imageWidth, top, left, height, width, outH, outW) {
    const sy = height / outH, sx = width / outW;
    const out = [];
    for (let i = 0; i < outH; i++) {
      const y0 = i * sy, y1 = (i + 1) * sy;
      const row = [];
      for (let j = 0; j < outW; j++) {
        const x0 = j * sx, x1 = (j + 1) * sx;
        let total = 0.0;
        for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), height); y++) {
          const wy = Math.min(y1, y + 1) - Math.max(y0, y);
          for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), width); x++) {
            const wx = Math.min(x1, x + 1) - Math.max(x0, x);
            total += wy * wx * image[(top + y) * imageWidth + left + x];
          }
        }
        row.push(total / (sy * sx));
      }
      out.push(row);
    }
    return out;
  }

  // bitmap: height*width ink levels 0..255 (row-major) -> 784 grey levels (28x28)
  function preprocess(bitmap, height, width) {
    if (bitmap.length !== height * width) {
      throw new Error(`preprocess expects ${height}x${width} = ${height * width} values, got ${bitmap.length}`);
    }
    const rows = [], cols = [];
    for (let y = 0; y < height; y++) {
      let ink = false;
      for (let x = 0; x < width; x++) if (bitmap[y * width + x] > INK_THRESHOLD) ink = true;
      if (ink) rows.push(y);
    }
    for (let x = 0; x < width; x++) {
      if (rows.some((y) => bitmap[y * width + x] > INK_THRESHOLD)) cols.push(x);
    }
    const field = new Array(MNIST_SIZE * MNIST_SIZE).fill(0);
    if (rows.length) {
      const top = rows[0], left = cols[0];
      const boxH = rows[rows.length - 1] - top + 1, boxW = cols[cols.length - 1] - left + 1;
      const scale = DIGIT_BOX / Math.max(boxH, boxW);
      const outH = Math.max(1, round(boxH * scale)), outW = Math.max(1, round(boxW * scale));
      const small = resample(bitmap, width, top, left, boxH, boxW, outH, outW);
      let mass = 0, my = 0, mx = 0;  // plain += in reading order, as in Python
      small.forEach((row, i) => row.forEach((v, j) => { mass += v; my += i * v; mx += j * v; }));
      const cy = my / mass, cx = mx / mass, centre = (MNIST_SIZE - 1) / 2;
      const oy = Math.min(Math.max(round(centre - cy), 0), MNIST_SIZE - outH);
      const ox = Math.min(Math.max(round(centre - cx), 0), MNIST_SIZE - outW);
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) field[(oy + i) * MNIST_SIZE + ox + j] = small[i][j];
      }
    }
    return field.map((v) => Math.min(255, Math.max(0, round(v))));
  }

  // --- a network as the page sees it: its layers (exported from trace_shapes), its weights ----
  function network(name, stages, read) {
    const exported = data.networks[name];
    const net = { name, ...exported, weights: loadWeights(exported.tensors) };
    net.shape = Object.fromEntries(exported.layers.map((layer) => [layer.name, layer.shape]));
    net.shape.input = [1, INPUT_SIZE, INPUT_SIZE];
    net.stages = (x) => stages(net.weights, net.shape, net.constants, x);
    net.predict = (pixels) => {
      const s = net.stages(prepare(pixels));
      return { ...read(Array.from(s.output)), stages: s };
    };
    // the exported shapes must be what the forward pass computes (a wrong export fails loudly)
    const s = net.stages(prepare(new Array(MNIST_SIZE * MNIST_SIZE).fill(0)));
    for (const layer of exported.layers) {
      const size = layer.shape.reduce((a, b) => a * b, 1);
      if (s[layer.name].length !== size) {
        throw new Error(`${name}: ${layer.name} has ${s[layer.name].length} values, its shape says ${size}`);
      }
    }
    return net;
  }

  // --- the network: LeNet5.stages in JavaScript ------------------------------------------
  function stages(w, shape, constants, x) {
    const out = { input: x };  // (1, 32, 32), what c1 reads
    out.c1 = relu(conv2d(x, shape.input, w["c1.weight"], w["c1.bias"]));         // (6, 28, 28)
    out.s2 = maxPool2x2(out.c1, shape.c1);                                       // (6, 14, 14)
    out.c3 = relu(conv2d(out.s2, shape.s2, w["c3.weight"], w["c3.bias"]));       // (16, 10, 10)
    out.s4 = maxPool2x2(out.c3, shape.c3);                                       // (16, 5, 5)
    out.f5 = relu(linear(out.s4, w["f5.weight"], w["f5.bias"]));                 // (120) from 400
    out.f6 = relu(linear(out.f5, w["f6.weight"], w["f6.bias"]));                 // (84)
    out.output = linear(out.f6, w["output.weight"], w["output.bias"]);           // (10) logits
    return out;
  }

  function readLogits(logits) {
    const probabilities = softmax(logits);
    return { logits, probabilities, prediction: argmax(probabilities) };
  }

  // --- the public API ------------------------------------------------------------------------
  const lenet5 = network("lenet5", stages, readLogits);

  window.lenet = {
    predict: lenet5.predict, preprocess, prepare,
    checkpoint: lenet5.checkpoint, samples: data.samples, constants: data.constants,
    networks: { lenet5 },
    // for lenet5_classic.js and lenet5_units.js
    layers: { conv2d, linear, pool2x2, maxPool2x2, relu, softmax, argmax }, network,
  };
})();

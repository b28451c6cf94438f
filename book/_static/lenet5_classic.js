/* LeNet-5 as the 1998 paper built it, in plain JavaScript: mirrors
 * lenet_course.classic.LeNet5Classic.stages with the weights of lenet5_classic.pt.
 *
 * Its own parts: the paper's input scale (to_paper_scale), the squashing function
 * f(a) = A tanh(S a), trainable subsampling (Subsampling), the C3 that reads only the S2 maps
 * of Table I (PartialConv2d), and the Euclidean RBF output units (RBFOutput). The convolution
 * and linear layers and the 2x2-block loop (pool2x2) are lenet5.js's. The constants (A, S, the
 * input scale, Table I, the digit bitmaps) come from lenet5_data.js, exported from
 * lenet_course.classic.
 *
 *   lenet.networks.lenet5_classic.predict(pixels)
 *     -> {scores, penalties, prediction, stages: {input, c1, s2, c3, s4, c5, f6, output}}
 *   scores = stages.output = minus the penalties (distances); the smallest distance wins.
 */
(function () {
  "use strict";
  if (!window.lenet) return;
  const { conv2d, linear, pool2x2, argmax } = window.lenet.layers;
  const { MNIST_MEAN, MNIST_STD } = window.lenet.constants;

  // to_paper_scale: course-normalised pixels -> background -0.1, ink 1.175 (float32, as torch)
  function toPaperScale(x, { PAPER_BACKGROUND, PAPER_INK }) {
    return x.map((v) => {
      const pixels = Math.fround(Math.fround(v * Math.fround(MNIST_STD)) + Math.fround(MNIST_MEAN));
      return Math.fround(PAPER_BACKGROUND + Math.fround(Math.fround(PAPER_INK - PAPER_BACKGROUND) * pixels));
    });
  }

  // squash: f(a) = A tanh(S a), unit by unit
  const squash = (x, { A, S }) => x.map((v) => A * Math.tanh(S * v));

  // Subsampling: (C, H, W) -> (C, H/2, W/2): each 2x2 sum x its map's coefficient + its map's bias
  const subsampling = (input, shape, coefficient, bias) => pool2x2(
    input, shape, (c, a, b, d, e) => (a + b + d + e) * coefficient.values[c] + bias.values[c]);

  // PartialConv2d: (6, 14, 14) -> (16, 10, 10); map o reads only the S2 maps table[o].
  // weight (60, 25): one 5x5 kernel per connection, in the order of the table's rows.
  function partialConv2d(input, [, size], table, weight, bias) {
    const k = Math.round(Math.sqrt(weight.shape[1]));
    const out = size - k + 1;
    const result = new Float64Array(table.length * out * out);
    let slot = 0;
    table.forEach((inputs, o) => {
      for (let i = 0; i < out; i++) {
        for (let j = 0; j < out; j++) result[(o * out + i) * out + j] = bias.values[o];
      }
      for (const c of inputs) {
        for (let i = 0; i < out; i++) {
          for (let j = 0; j < out; j++) {
            let sum = 0;
            for (let u = 0; u < k; u++) {
              for (let v = 0; v < k; v++) {
                sum += weight.values[(slot * k + u) * k + v] * input[(c * size + i + u) * size + j + v];
              }
            }
            result[(o * out + i) * out + j] += sum;
          }
        }
        slot++;
      }
    });
    return result;
  }

  // RBFOutput: (84) -> (10) penalties y_i = sum_j (x_j - w_ij)^2, centres (10, 84) of +1 and -1
  function rbf(input, centres) {
    const [outUnits, inUnits] = centres.shape;
    const result = new Float64Array(outUnits);
    for (let o = 0; o < outUnits; o++) {
      let sum = 0;
      for (let i = 0; i < inUnits; i++) sum += (input[i] - centres.values[o * inUnits + i]) ** 2;
      result[o] = sum;
    }
    return result;
  }

  // --- the network: LeNet5Classic.stages in JavaScript ----------------------------------
  function stages(w, shape, constants, x) {
    const f = (values) => squash(values, constants);
    const out = { input: toPaperScale(x, constants) };  // (1, 32, 32), what c1 reads
    out.c1 = f(conv2d(out.input, shape.input, w["c1.weight"], w["c1.bias"]));                      // (6, 28, 28)
    out.s2 = f(subsampling(out.c1, shape.c1, w["s2.coefficient"], w["s2.bias"]));                  // (6, 14, 14)
    out.c3 = f(partialConv2d(out.s2, shape.s2, constants.C3_TABLE, w["c3.weight"], w["c3.bias"])); // (16, 10, 10)
    out.s4 = f(subsampling(out.c3, shape.c3, w["s4.coefficient"], w["s4.bias"]));                  // (16, 5, 5)
    out.c5 = f(conv2d(out.s4, shape.s4, w["c5.weight"], w["c5.bias"]));                            // (120), flattened
    out.f6 = f(linear(out.c5, w["f6.weight"], w["f6.bias"]));                                      // (84)
    out.output = rbf(out.f6, w["output.centres"]).map((v) => -v);                                  // (10) scores
    return out;
  }

  function readScores(scores) {
    const penalties = scores.map((v) => -v);
    return { scores, penalties, prediction: argmax(scores) };
  }

  window.lenet.networks.lenet5_classic = window.lenet.network("lenet5_classic", stages, readScores);
  window.lenet.layers.squash = squash;
})();

/* The arithmetic of one unit: how its value is computed from the layer below, with the page's
 * numbers. Mirrors lenet_course.web.unit_arithmetic (same names, same fields); a browser test
 * holds the two equal for units of every layer of both networks.
 *
 *   lenet.unitArithmetic(net, stages, layer, index)
 *     net: lenet.networks.lenet5 or .lenet5_classic; stages: net.predict(pixels).stages
 *     index: [map, row, column] in a layer of maps, [unit] in a layer of units
 *     -> {layer, index, kind, value, field: [top, left, bottom, right] on the 32x32 input, ...}
 *   kind "conv": inputs, window, patches, kernels, products, partials, bias, pre, activation
 *   kind "maxpool": window, values (the 2x2, row by row), largest
 *   kind "subsampling": window, values, sum, coefficient, bias, pre, activation
 *   kind "dense": top (the 5 largest products by size), others, rest, bias, pre
 *                 (+ logits, probabilities, winner for the article's output)
 *   kind "rbf": state, centre, squares, distance, penalties, winner
 */
(function () {
  "use strict";
  if (!window.lenet) return;
  const TOP_PRODUCTS = 5;  // as lenet_course.web.TOP_PRODUCTS
  const sum = (values) => values.reduce((a, b) => a + b, 0);

  // ReceptiveField.box: the input pixels (top, left, bottom, right) seen by unit (row, col)
  function box({ size, jump }, row, col) {
    const top = row * jump, left = col * jump;
    return [top, left, top + size - 1, left + size - 1];
  }

  // a convolution unit: one k x k window of each input map it reads, times its kernel
  function convUnit(net, layer, below, [channels, size], [o, r, c]) {
    const w = net.weights[`${layer}.weight`], bias = net.weights[`${layer}.bias`].values[o];
    const table = layer === "c3" ? net.constants.C3_TABLE : null;  // the 1998 C3 (PartialConv2d)
    const inputs = table ? [...table[o]].sort((a, b) => a - b) : [...Array(channels).keys()];  // in map order
    const k = table ? Math.round(Math.sqrt(w.shape[1])) : w.shape[2];
    const slot0 = table ? table.slice(0, o).reduce((n, row) => n + row.length, 0) : 0;
    const patches = [], kernels = [], products = [];
    inputs.forEach((m) => {
      const patch = [], kernel = [];
      for (let u = 0; u < k; u++) {
        for (let v = 0; v < k; v++) {
          patch.push(below[(m * size + r + u) * size + c + v]);
          kernel.push(table ? w.values[((slot0 + table[o].indexOf(m)) * k + u) * k + v]  // Table I's order
                            : w.values[((o * channels + m) * k + u) * k + v]);
        }
      }
      patches.push(patch);
      kernels.push(kernel);
      products.push(patch.map((p, i) => p * kernel[i]));
    });
    const partials = products.map(sum);
    return { kind: "conv", inputs, window: [r, c], patches, kernels, products, partials,
             bias, pre: sum(partials) + bias };
  }

  // a 2x2 unit: max pooling (the article) or the paper's trainable subsampling
  function poolUnit(net, layer, below, [, size], [m, r, c], kind) {
    const at = (y, x) => below[(m * size + y) * size + x];
    const values = [at(2 * r, 2 * c), at(2 * r, 2 * c + 1), at(2 * r + 1, 2 * c), at(2 * r + 1, 2 * c + 1)];
    const unit = { window: [2 * r, 2 * c], values };
    if (kind === "Subsampling") {
      const coefficient = net.weights[`${layer}.coefficient`].values[m];
      const bias = net.weights[`${layer}.bias`].values[m];
      return { kind: "subsampling", ...unit, sum: sum(values), coefficient, bias,
               pre: sum(values) * coefficient + bias };
    }
    return { kind: "maxpool", ...unit, largest: values.indexOf(Math.max(...values)) };
  }

  // a unit that reads every value below (F5, F6, the logits; the 1998 C5): the five largest
  // products by size, the others as one sum, and the bias
  function denseUnit(net, layer, below, [u]) {
    const w = net.weights[`${layer}.weight`], bias = net.weights[`${layer}.bias`].values[u];
    const n = below.length;
    const products = Array.from(below, (v, i) => w.values[u * n + i] * v);
    const order = [...products.keys()].sort((a, b) => Math.abs(products[b]) - Math.abs(products[a]));
    const top = order.slice(0, TOP_PRODUCTS).map((i) => (
      { input: i, value: below[i], weight: w.values[u * n + i], product: products[i] }));
    const rest = sum(order.slice(TOP_PRODUCTS).map((i) => products[i]));
    return { kind: "dense", top, others: n - TOP_PRODUCTS, rest, bias, pre: sum(products) + bias };
  }

  // an RBF output unit: the squared distance from F6's 84 values to digit k's bitmap
  function rbfUnit(net, layer, below, [k]) {
    const centres = net.weights[`${layer}.centres`];
    const n = below.length;
    const centreOf = (d) => Array.from(centres.values.slice(d * n, (d + 1) * n));
    const squaresTo = (d) => centreOf(d).map((w, i) => (below[i] - w) ** 2);
    const penalties = centres.shape[0] ? [...Array(centres.shape[0]).keys()].map((d) => sum(squaresTo(d))) : [];
    return { kind: "rbf", state: Array.from(below), centre: centreOf(k), squares: squaresTo(k),
             distance: penalties[k], penalties, winner: penalties.indexOf(Math.min(...penalties)) };
  }

  function unitArithmetic(net, stages, layer, index) {
    const names = ["input", ...net.layers.map((l) => l.name)];
    const at = names.indexOf(layer);
    const spec = net.layers[at - 1];
    const belowName = names[at - 1], below = stages[belowName], belowShape = net.shape[belowName];
    const isMaps = index.length === 3;
    let unit;
    if ((spec.kind === "Conv2d" || spec.kind === "PartialConv2d") && isMaps) {
      unit = convUnit(net, layer, below, belowShape, index);
    } else if (spec.kind === "MaxPool2d" || spec.kind === "Subsampling") {
      unit = poolUnit(net, layer, below, belowShape, index, spec.kind);
    } else if (spec.kind === "RBFOutput") {
      unit = rbfUnit(net, layer, below, index);
    } else {  // Linear, or the 1998 C5: a convolution whose window is its whole input
      unit = denseUnit(net, layer, below, index);
      if (at === names.length - 1) {  // the article's logits
        const logits = Array.from(stages[layer]);
        const probabilities = window.lenet.layers.softmax(logits);
        unit = { ...unit, logits, probabilities, winner: logits.indexOf(Math.max(...logits)) };
      }
    }
    if ("pre" in unit && at !== names.length - 1) unit.activation = net.constants.activation;
    const shape = net.shape[layer];
    const flat = isMaps ? (index[0] * shape[1] + index[1]) * shape[2] + index[2] : index[0];
    const [row, col] = isMaps ? index.slice(1) : [0, 0];
    return { layer, index: [...index], ...unit, value: stages[layer][flat], field: box(spec.field, row, col) };
  }

  window.lenet.unitArithmetic = unitArithmetic;
})();

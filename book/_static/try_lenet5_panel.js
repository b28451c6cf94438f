/* The drawing page's unit panel: one unit's arithmetic, drawn from lenet.unitArithmetic.
 * try_lenet5.js owns the page and the selection; this file only turns numbers into HTML,
 * canvases and outlines. Exposes lenet.panel = {paint, colours, format, Panel}. */
(function () {
  "use strict";
  if (!window.lenet) return;

  // --- numbers ---------------------------------------------------------------------------
  const MINUS = "\u2212";
  function format(v, digits = 3) {
    const text = Math.abs(v).toFixed(digits);
    return (v < 0 && Number(text) !== 0 ? MINUS : "") + text;  // no "-0.000"
  }
  const signed = (v, digits = 3) => (v < 0 && Number(Math.abs(v).toFixed(digits)) !== 0 ? "" : "+") + format(v, digits);
  const range = (values) => {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return [lo, hi];
  };
  const PICKER_PX = 210;  // the longer side of the picture in which a unit is picked
  // 5.06e-13 as 5.06 x 10^-13, and numbers near 1 as they are
  function power(v) {
    if (v >= 0.01 && v < 1000) return format(v, 3);
    const [m, e] = v.toExponential(2).split("e");
    return `${m}\u00d710<sup>${format(Number(e), 0)}</sup>`;
  }
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const escape = (text) => String(text).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

  // --- colours: ink grey for values and activations, blue-white-red centred on 0 for weights
  // and products (matplotlib's RdBu_r, as the chapters' figures use) ------------------------------
  const RDBU = [[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
                [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]];
  function diverging(v, limit) {
    const t = limit > 0 ? clamp(v / limit, -1, 1) : 0;
    const at = (t + 1) / 2 * (RDBU.length - 1), i = Math.min(Math.floor(at), RDBU.length - 2), f = at - i;
    return RDBU[i].map((a, k) => Math.round(a + f * (RDBU[i + 1][k] - a)));
  }
  function grey(v, lo, hi) {
    const g = Math.round(255 * (1 - (hi > lo ? clamp((v - lo) / (hi - lo), 0, 1) : 0)));
    return [g, g, g];
  }
  const css = ([r, g, b]) => `rgb(${r},${g},${b})`;
  const isDark = ([r, g, b]) => 0.299 * r + 0.587 * g + 0.114 * b < 140;
  const limitOf = (values) => Math.max(...values.map(Math.abs)) || 1;

  // values[offset ..] as a rows x cols picture on a canvas, one pixel per value; colour is
  // {lo, hi} for ink grey (white lo, black hi; the fast path for the maps) or v -> [r, g, b]
  function paint(canvas, values, offset, rows, cols, colour) {
    if (canvas.width !== cols || canvas.height !== rows) { canvas.width = cols; canvas.height = rows; }
    const g = canvas.getContext("2d");
    if (!canvas.image || canvas.image.width !== cols || canvas.image.height !== rows) {
      canvas.image = g.createImageData(cols, rows);
    }
    const pixels = canvas.image.data;
    const { lo, hi } = colour, scale = hi > lo ? 1 / (hi - lo) : 0;
    for (let i = 0; i < rows * cols; i++) {
      const v = offset + i < values.length ? values[offset + i] : NaN;
      if (Number.isNaN(v)) { pixels[4 * i + 3] = 0; continue; }
      if (typeof colour === "function") {
        const [r, gr, b] = colour(v);
        pixels[4 * i] = r; pixels[4 * i + 1] = gr; pixels[4 * i + 2] = b;
      } else {
        const level = Math.round(255 * (1 - clamp((v - lo) * scale, 0, 1)));
        pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = level;
      }
      pixels[4 * i + 3] = 255;
    }
    g.putImageData(canvas.image, 0, 0);
  }

  // an outline over a picture of rows x cols cells: cells (top..bottom, left..right) inclusive
  function outline(mark, rows, cols, [top, left, bottom, right]) {
    Object.assign(mark.style, {
      top: `${100 * top / rows}%`, left: `${100 * left / cols}%`,
      height: `${100 * (bottom - top + 1) / rows}%`, width: `${100 * (right - left + 1) / cols}%`,
      display: "block",
    });
  }

  // a table of numbers, each cell coloured; the full value in its tooltip
  function numberGrid(values, cols, colour, digits, label, marked = -1, cls = "") {
    let html = `<table class="lenet-grid ${cls}" aria-label="${escape(label)}">`;
    for (let r = 0; r * cols < values.length; r++) {
      html += "<tr>";
      for (let c = 0; c < cols && r * cols + c < values.length; c++) {
        const v = values[r * cols + c], rgb = colour(v);
        const mark = r * cols + c === marked ? ' class="lenet-largest"' : "";
        html += `<td${mark} style="background:${css(rgb)};color:${isDark(rgb) ? "#fff" : "#111"}" ` +
                `title="${v}">${format(v, digits)}</td>`;
      }
      html += "</tr>";
    }
    return html + "</table>";
  }

  const figure = (inner, caption, cls = "") =>
    `<figure class="lenet-fig ${cls}">${inner}<figcaption>${caption}</figcaption></figure>`;
  const frame = (cls, extra = "") =>
    `<div class="lenet-frame ${cls}"${extra}><canvas></canvas><span class="lenet-mark"></span></div>`;
  // one line of a sum: what is added, and the running number
  const line = (what, value, cls = "") =>
    `<tr class="${cls}"><th scope="row">${what}</th><td>${value}</td></tr>`;

  // --- names, as the chapters write them -----------------------------------------------------
  const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"];
  const count = (n) => NUMBER_WORDS[n] || n.toLocaleString("en");
  const upper = (name) => (name === "output" ? "output" : name.toUpperCase());
  const isMaps = (shape) => shape.length === 3 && shape[1] > 1;
  const units = (shape) => shape.reduce((a, b) => a * b, 1);

  // a vector layer drawn as a grid: the divisor of n nearest below its square root as the width
  // (84 -> 7 wide, 12 tall, as the 1998 digit bitmaps are drawn); ten outputs in one row
  function gridOf(n) {
    if (n <= 10) return [1, n];
    let cols = Math.floor(Math.sqrt(n));
    while (n % cols) cols--;
    return [n / cols, cols];
  }

  // --- the words the panel writes: English, or 简体中文 on the Chinese edition (its pages are
  // <html lang="zh-CN">); numbers, shapes and layer names (C1, S2, ...) are the same in both.
  // L, B: layer names as upper() writes them ("output" for the output layer) ---------------------
  const dash = (a, b) => `${a}\u2013${b}`;
  // Chinese: no space between two Chinese characters where a name was left out ("输入 的" -> "输入的")
  const tidy = (text) => text.replace(/([\u3000-\u303f\u3400-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])/g, "$1");
  const TEXT = {
    en: {
      layer: (L) => L,
      grid: { window: "window", kernel: "kernel", products: "products", f6: "F6 values", bitmap: "bitmap", squares: "squares" },
      inputPixel: (r, c) => `input pixel (${r}, ${c})`,
      unitAt: (L, u) => `${L} unit ${u}`,
      mapAt: (L, m, r, c) => `${L} map ${m}, row ${r}, column ${c}`,
      outputUnit: (d) => `Output unit ${d} (digit ${d})`,
      relu: (positive) => `ReLU: ${positive ? "positive, so kept" : "negative, so 0"}`,
      squashed: (A, S, pre) => `squashed: ${A} tanh(${S} \u00d7 ${pre})`,
      applyReLU: "applies ReLU (a negative sum becomes 0)",
      squash: (A, result) => `squashes the ${result ? "result" : "sum"} with f(a) = ${A} tanh(2a/3), which keeps it between ${MINUS}${A} and ${A}`,
      chooseLayer: "Choose a layer", chooseMap: "Choose a map", previousMap: "Previous map", nextMap: "Next map",
      distance: (v) => `distance ${v}`, logit: (v) => `logit ${v}`, value: (v) => `value ${v}`,
      title: (where, value) => `${where}: ${value}`,
      mapOf: (m, n) => `map ${m} of ${n}`,
      convInput: (L, k, act) => `Each ${L} unit multiplies a ${k}x${k} patch of the input by its map's ${k}x${k} ` +
        `kernel of weights, adds the ${k * k} products and the map's bias, and ${act}.`,
      readsTableI: (L, B, m, inputs) => `only the ${count(inputs.length)} ${B} maps that the paper's Table I connects to ` +
        `${L} map ${m} (maps ${inputs.join(", ")})`,
      readsAll: (B, n) => `all ${count(n)} ${B} maps`,
      conv: (L, B, k, reads, act) => `Each ${L} unit reads a ${k}x${k} window at the same place in ${reads}, multiplies each ` +
        `window by its own ${k}x${k} kernel and adds the products: one partial sum per ${B} map. ` +
        `The partial sums plus the map's bias give the sum, and the unit ${act}.`,
      maxpool: (L, B) => `Each ${L} unit is the largest of the four ${B} values in its 2x2 window (max pooling). It has no weights.`,
      subsampling: (L, B, act) => `Each ${L} unit of the 1998 network adds the four ${B} values in its 2x2 window, ` +
        `multiplies the sum by its map's trainable coefficient, adds its map's bias, and ${act}.`,
      denseValues: (B, n, maps, h, w) => (maps ? `${n} ${B} values (${count(maps)} maps of ${h}x${w})` : `${n} ${B} values`),
      denseConv: (L, B, h, w) => `${L} is a convolution whose ${h}x${w} kernel covers the whole of ` +
        `every ${B} map, so it works like a fully connected layer. `,
      dense: (conv, L, values, n, act, others) => `${conv}Each ${L} unit multiplies each of the ${values} by its own weight, adds the ` +
        `${n} products and a bias, ${act ? `and ${act}` : "and that is the logit (no activation)"}. Listed: the five ` +
        `products largest in size (positive or negative), the other ${others} added together, and the bias.`,
      rbf: (B, n, h, w) => `Each output unit of the 1998 network compares the ${n} ${B} values with ` +
        `a fixed ${w}x${h} bitmap of its digit (+1 where it has ink, ${MINUS}1 elsewhere) and ` +
        `adds the ${n} squared differences: a distance. The smallest distance wins.`,
      paperScale: (paper, ink) => ` (paper ${paper}, ink ${ink})`,
      wholeField: (size, scale) => `The ${size}x${size} input${scale}. Its receptive field is all of it: this unit depends on every pixel.`,
      field: (size, scale, [top, left, bottom, right]) => `The ${size}x${size} input${scale}. Outlined: its receptive field, ` +
        `the ${bottom - top + 1}x${right - left + 1} pixels it depends on (rows ${dash(top, bottom)}, columns ${dash(left, right)}).`,
      pickerMap: (L, m, rows, cols) => `${L} map ${m} (${rows}x${cols})`,
      pickerOutputs: (n) => `The ${n} output units, digits 0 to ${n - 1}`,
      pickerUnits: (L, n, cols) => `All ${n} ${L} units, ${cols} to a row`,
      pickerLabel: (what) => `${what}: arrow keys choose a unit`,
      pickerCaption: (what) => `${what}, darker is larger. Click or tap a unit to see its arithmetic; arrow keys move.`,
      belowCaption: (B, m, maps, h, w, r, c) => `${B} map ${m} of ${maps} (${h}x${w}): the 2x2 window this unit reads, ` +
        `rows ${dash(r, r + 1)}, columns ${dash(c, c + 1)}.`,
      theInput: "the input",
      mapName: (B, m) => `${B} map ${m}`,
      cardsStep: (B, n, k, r, c) => `The ${count(n)} ${B} maps, the ${k}x${k} window (rows ${dash(r, r + k - 1)}, ` +
        `columns ${dash(c, c + k - 1)}) outlined on each, and each map's partial sum. Choose a map to see its products.`,
      notRead: "not read (Table I)",
      patchStep: (B, m, k) => `${B === null ? "The patch" : `${B} map ${m} in full`}: ` +
        `its ${k}x${k} window times the kernel, value by value (shown to 2 decimals):`,
      windowOf: (k, source) => `the ${k}x${k} window of ${source}`,
      kernelOf: (L, m, source) => `the kernel: ${L} map ${m}'s weights for ${source} (blue negative, red positive)`,
      products: (n) => `the ${n} products`,
      sumOfProducts: (n) => `sum of the ${n} products`,
      partialFrom: (B, m) => `partial sum from ${B} map ${m}`,
      sumOfPartials: (n) => `sum of the ${count(n)} partial sums`,
      mapBias: (L, m) => `+ bias of ${L} map ${m}`,
      before: (relu) => `= sum before the ${relu ? "ReLU" : "squashing"}`,
      windowOfValues: (B) => `the 2x2 window of ${B} values`,
      windowLargest: (B) => `the 2x2 window of ${B} values; outlined: the largest`,
      largestOf: (values) => `largest of ${values.join(", ")}`,
      sumOfFour: "sum of the four",
      coefficient: (L, m) => `\u00d7 coefficient of ${L} map ${m}`,
      timesCoefficient: "= the sum times the coefficient",
      otherProducts: (n) => `the other ${n} products, added`,
      unitBias: (L, u) => `+ bias of ${L} unit ${u}`,
      logitOf: (d) => `= the logit of digit ${d}`,
      productHeads: ["input", "value", "\u00d7 weight", "= product"],
      wins: " (wins)",
      softmaxStep: (top) => "Softmax turns the ten logits into probabilities that add up to 1: " +
        `each e<sup>logit</sup> divided by the sum of the ten. (Subtracting the largest logit, ` +
        `${top}, from each first keeps the numbers small and changes nothing.) The largest logit wins.`,
      softmaxHeads: ["digit", "logit", "probability"],
      sum: "sum",
      bitmapsStep: (h, w) => `The ten bitmaps (${w}x${h}, black +1, white ${MINUS}1) and the ` +
        "distance of F6's values to each; choose one to see its squared differences.",
      closest: "closest",
      digitStep: (k, f6, n, w) => `Digit ${k} in full: ${f6}'s ${n} values, laid out ` +
        `${w} wide like the bitmap, minus the bitmap, squared (shown to 2 decimals):`,
      stateOf: (f6, n) => `${f6}'s ${n} values`,
      bitmapOf: (k) => `the bitmap of digit ${k}`,
      squaredDifferences: "the squared differences",
      distanceTo: (n, k) => `sum of the ${n} squared differences: the distance to digit ${k}`,
      smallest: (d) => `the smallest of the ten distances: digit ${d}`,
      minusDistance: "(the network's output is minus the distance, so the largest output wins)",
    },
    zh: {
      layer: (L) => (L === "output" ? "输出" : L),
      grid: { window: "窗口", kernel: "卷积核", products: "乘积", f6: "F6 的值", bitmap: "位图", squares: "差的平方" },
      inputPixel: (r, c) => `输入像素 (${r}, ${c})`,
      unitAt: (L, u) => (L === "output" ? `输出单元 ${u}` : `${L} 单元 ${u}`),
      mapAt: (L, m, r, c) => `${L} 特征图 ${m}，第 ${r} 行，第 ${c} 列`,
      outputUnit: (d) => `输出单元 ${d}（数字 ${d}）`,
      relu: (positive) => `ReLU：${positive ? "为正，保持不变" : "为负，变为 0"}`,
      squashed: (A, S, pre) => `压缩：${A} tanh(${S} \u00d7 ${pre})`,
      applyReLU: "经过 ReLU（为负的和变为 0）",
      squash: (A, result) => `用 f(a) = ${A} tanh(2a/3) 压缩${result ? "结果" : "这个和"}，使它保持在 ${MINUS}${A} 与 ${A} 之间`,
      chooseLayer: "选择一层", chooseMap: "选择特征图", previousMap: "上一张特征图", nextMap: "下一张特征图",
      distance: (v) => `距离 ${v}`, logit: (v) => `logit ${v}`, value: (v) => `值 ${v}`,
      title: (where, value) => `${where}：${value}`,
      mapOf: (m, n) => `特征图 ${m}（共 ${n} 张）`,
      convInput: (L, k, act) => `每个 ${L} 单元把输入中一个 ${k}x${k} 的图像块与所在特征图的 ${k}x${k} 卷积核（权重）` +
        `逐个相乘，把这 ${k * k} 个乘积与该特征图的偏置相加，然后${act}。`,
      readsTableI: (L, B, m, inputs) => `只读取论文表 I 连到 ${L} 特征图 ${m} 的 ${inputs.length} 张 ${B} 特征图` +
        `（特征图 ${inputs.join("、")}）`,
      readsAll: (B, n) => `读取全部 ${n} 张 ${B} 特征图`,
      conv: (L, B, k, reads, act) => `每个 ${L} 单元${reads}，在每张特征图的同一位置取一个 ${k}x${k} 窗口，` +
        `把每个窗口与它自己的 ${k}x${k} 卷积核相乘，再把乘积相加：每张 ${B} 特征图得到一个部分和。` +
        `各部分和加上该特征图的偏置就是总和，然后单元${act}。`,
      maxpool: (L, B) => `每个 ${L} 单元的值是它的 2x2 窗口中 4 个 ${B} 值里最大的一个（最大池化）。它没有权重。`,
      subsampling: (L, B, act) => `1998 年的网络中，每个 ${L} 单元把它的 2x2 窗口中的 4 个 ${B} 值相加，` +
        `把和乘以所在特征图的可训练系数，加上该特征图的偏置，然后${act}。`,
      denseValues: (B, n, maps, h, w) => (maps ? `${n} 个 ${B} 值（${maps} 张 ${h}x${w} 特征图）` : `${n} 个 ${B} 值`),
      denseConv: (L, B, h, w) => `${L} 是一个卷积层，它的 ${h}x${w} 卷积核覆盖每张 ${B} 特征图的全部，` +
        "所以它的作用与全连接层相同。",
      dense: (conv, L, values, n, act, others) => tidy(`${conv}每个 ${L === "output" ? "输出" : L} 单元把 ${values} ` +
        `中的每一个乘以各自的权重，再把 ${n} 个乘积与一个偏置相加，` +
        `${act ? `然后${act}` : "得到的和就是 logit（不经过激活函数）"}。下面列出的是绝对值最大的 5 个乘积` +
        `（无论正负）、其余 ${others} 个乘积之和，以及偏置。`),
      rbf: (B, n, h, w) => `1998 年的网络中，每个输出单元把 ${n} 个 ${B} 值与它所代表数字的一张固定的 ` +
        `${w}x${h} 位图（有墨迹处为 +1，其余为 ${MINUS}1）比较，把 ${n} 个差的平方相加，得到一个距离。距离最小者胜出。`,
      paperScale: (paper, ink) => `（白纸 ${paper}，墨迹 ${ink}）`,
      wholeField: (size, scale) => `${size}x${size} 的输入${scale}。这个单元的感受野是整个输入：它依赖于每一个像素。`,
      field: (size, scale, [top, left, bottom, right]) => `${size}x${size} 的输入${scale}。框出的是它的感受野，` +
        `即它所依赖的 ${bottom - top + 1}x${right - left + 1} 个像素（第 ${dash(top, bottom)} 行，第 ${dash(left, right)} 列）。`,
      pickerMap: (L, m, rows, cols) => `${L} 特征图 ${m}（${rows}x${cols}）`,
      pickerOutputs: (n) => `${n} 个输出单元，对应数字 0 到 ${n - 1}`,
      pickerUnits: (L, n, cols) => `全部 ${n} 个 ${L} 单元，每行 ${cols} 个`,
      pickerLabel: (what) => `${what}：用方向键选择单元`,
      pickerCaption: (what) => `${what}，颜色越深，值越大。点击或轻触一个单元，查看它的运算；方向键可以移动。`,
      belowCaption: (B, m, maps, h, w, r, c) => `${B} 特征图 ${m}（共 ${maps} 张，${h}x${w}）：这个单元读取的 2x2 窗口，` +
        `第 ${dash(r, r + 1)} 行，第 ${dash(c, c + 1)} 列。`,
      theInput: "输入",
      mapName: (B, m) => `${B} 特征图 ${m}`,
      cardsStep: (B, n, k, r, c) => `${n} 张 ${B} 特征图，每张上都框出了 ${k}x${k} 窗口（第 ${dash(r, r + k - 1)} 行，` +
        `第 ${dash(c, c + k - 1)} 列），下面是每张特征图的部分和。选择一张特征图，查看它的乘积。`,
      notRead: "未读取（表 I）",
      patchStep: (B, m, k) => `${B === null ? "图像块" : `${B} 特征图 ${m} 的详细运算`}：` +
        `它的 ${k}x${k} 窗口与卷积核逐值相乘（保留 2 位小数）：`,
      windowOf: (k, source) => tidy(`${source} 的 ${k}x${k} 窗口`),
      kernelOf: (L, m, source) => tidy(`卷积核：${L} 特征图 ${m} 用于 ${source} 的权重（蓝为负，红为正）`),
      products: (n) => `${n} 个乘积`,
      sumOfProducts: (n) => `${n} 个乘积之和`,
      partialFrom: (B, m) => `来自 ${B} 特征图 ${m} 的部分和`,
      sumOfPartials: (n) => `${n} 个部分和之和`,
      mapBias: (L, m) => `+ ${L} 特征图 ${m} 的偏置`,
      before: (relu) => `= ${relu ? "ReLU " : "压缩"}之前的和`,
      windowOfValues: (B) => `${B} 值的 2x2 窗口`,
      windowLargest: (B) => `${B} 值的 2x2 窗口；框出的是最大值`,
      largestOf: (values) => `${values.join("、")} 中的最大值`,
      sumOfFour: "4 个值之和",
      coefficient: (L, m) => `\u00d7 ${L} 特征图 ${m} 的系数`,
      timesCoefficient: "= 和乘以系数",
      otherProducts: (n) => `其余 ${n} 个乘积之和`,
      unitBias: (L, u) => (L === "output" ? `+ 输出单元 ${u} 的偏置` : `+ ${L} 单元 ${u} 的偏置`),
      logitOf: (d) => `= 数字 ${d} 的 logit`,
      productHeads: ["输入", "值", "\u00d7 权重", "= 乘积"],
      wins: "（胜出）",
      softmaxStep: (top) => "softmax 把 10 个 logits 变成和为 1 的概率：每个 e<sup>logit</sup> 除以这 10 个数之和。" +
        `（先从每个 logit 中减去最大的 logit ${top}，可以让数值保持较小，结果不变。）logit 最大者胜出。`,
      softmaxHeads: ["数字", "logit", "概率"],
      sum: "总和",
      bitmapsStep: (h, w) => `10 张位图（${w}x${h}，黑为 +1，白为 ${MINUS}1），以及 F6 的值到每张位图的距离；` +
        "选择一张，查看它的差的平方。",
      closest: "最近",
      digitStep: (k, f6, n, w) => `数字 ${k} 的详细运算：${f6} 的 ${n} 个值像位图一样排成每行 ${w} 个，` +
        "减去位图，再平方（保留 2 位小数）：",
      stateOf: (f6, n) => `${f6} 的 ${n} 个值`,
      bitmapOf: (k) => `数字 ${k} 的位图`,
      squaredDifferences: "差的平方",
      distanceTo: (n, k) => `${n} 个差的平方之和：到数字 ${k} 的距离`,
      smallest: (d) => `10 个距离中的最小者：数字 ${d}`,
      minusDistance: "（网络的输出是距离的相反数，所以输出最大者胜出）",
    },
  }[(document.documentElement.lang || "").startsWith("zh") ? "zh" : "en"];

  // where a value of stage `name` sits: "S4 map 3, row 2, column 1" or "F5 unit 17"
  function describe(net, name, flat) {
    const shape = net.shape[name];
    if (name === "input") return TEXT.inputPixel(Math.floor(flat / shape[2]), flat % shape[2]);
    if (!isMaps(shape)) return TEXT.unitAt(upper(name), flat);
    const per = shape[1] * shape[2], m = Math.floor(flat / per), r = Math.floor((flat % per) / shape[2]);
    return TEXT.mapAt(upper(name), m, r, flat % shape[2]);
  }

  function activationText(net, pre, value) {
    const { activation, A, S } = net.constants;
    if (activation === "relu") {
      return line(TEXT.relu(pre > 0), format(value), "lenet-result");
    }
    return line(TEXT.squashed(A, format(S, 4), format(pre)), format(value), "lenet-result");
  }

  // "applies ReLU ..." or "squashes the sum ..." ("the result" after subsampling)
  const activationWords = (net, result = false) => (net.constants.activation === "relu"
    ? TEXT.applyReLU : TEXT.squash(net.constants.A, result));

  // --- the panel ---------------------------------------------------------------------------------
  class Panel {
    constructor(root, actions) {
      this.root = root;
      this.actions = actions;  // {select(layer, index), strongest(layer, map)}
      this.detail = null;  // which input map of a C3 unit is shown in full
      root.innerHTML = `
        <h4 class="lenet-unit-title" id="lenet-unit-title"></h4>
        <div class="lenet-unit-nav">
          <div class="lenet-unit-layers" role="group" aria-label="${TEXT.chooseLayer}"></div>
          <div class="lenet-unit-step" role="group" aria-label="${TEXT.chooseMap}">
            <button type="button" data-step="-1" aria-label="${TEXT.previousMap}">\u2039</button>
            <span class="lenet-unit-mapname"></span>
            <button type="button" data-step="1" aria-label="${TEXT.nextMap}">\u203a</button>
          </div>
        </div>
        <p class="lenet-unit-what"></p>
        <div class="lenet-unit-where">
          ${figure(frame("lenet-unit-input"), "", "lenet-where-input")}
          ${figure(frame("lenet-unit-picker", ' tabindex="0" role="slider"'), "", "lenet-where-picker")}
          ${figure(frame("lenet-unit-below"), "", "lenet-where-below")}
        </div>
        <div class="lenet-unit-math"></div>`;
      this.math = root.querySelector(".lenet-unit-math");
      // the panel's width, read when it changes rather than on every update (reading it then
      // would make the browser lay out the whole page in the middle of drawing)
      this.width = root.clientWidth;
      new ResizeObserver(([entry]) => {
        if (Math.abs(entry.contentRect.width - this.width) > 1 && this.net) {
          this.width = entry.contentRect.width;
          this.actions.refresh();
        }
      }).observe(root);
      this.picker = root.querySelector(".lenet-unit-picker");
      root.addEventListener("click", (event) => this.click(event));
      this.picker.addEventListener("pointerdown", (event) => this.pick(event));
      this.picker.addEventListener("keydown", (event) => this.key(event));
    }

    // --- choosing a unit inside the panel ---
    click(event) {
      const target = event.target.closest("[data-step], [data-layer], [data-detail], [data-digit]");
      if (!target || !this.root.contains(target)) return;
      const { layer, index } = this.selection;
      if (target.dataset.step) {
        const maps = this.net.shape[layer][0];
        const m = (index[0] + Number(target.dataset.step) + maps) % maps;
        this.actions.select(layer, this.actions.strongest(layer, m));
      } else if (target.dataset.layer) {
        this.actions.select(target.dataset.layer, this.actions.strongest(target.dataset.layer, index[0]));
      } else if (target.dataset.detail) {
        this.detail = { key: this.key_, map: Number(target.dataset.detail) };
        this.actions.refresh();
      } else if (target.dataset.digit) {
        this.actions.select(layer, [Number(target.dataset.digit)]);
      }
    }

    pick(event) {
      event.preventDefault();
      const box = this.picker.getBoundingClientRect();
      const [rows, cols] = this.grid;
      const r = clamp(Math.floor((event.clientY - box.top) / box.height * rows), 0, rows - 1);
      const c = clamp(Math.floor((event.clientX - box.left) / box.width * cols), 0, cols - 1);
      this.moveTo(r, c);
      this.picker.focus({ preventScroll: true });
    }

    key(event) {
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (!moves[event.key]) return;
      event.preventDefault();
      const [r, c] = this.cell;
      const [rows, cols] = this.grid;
      this.moveTo(clamp(r + moves[event.key][0], 0, rows - 1), clamp(c + moves[event.key][1], 0, cols - 1));
    }

    moveTo(r, c) {
      const { layer, index } = this.selection;
      if (index.length === 3) this.actions.select(layer, [index[0], r, c]);
      else if (r * this.grid[1] + c < units(this.net.shape[layer])) {
        this.actions.select(layer, [r * this.grid[1] + c]);
      }
    }

    // --- drawing it ---
    show(net, result, selection, unit) {
      const focused = document.activeElement && this.root.contains(document.activeElement)
        ? document.activeElement.dataset.focus : null;
      Object.assign(this, { net, result, selection, unit });
      this.key_ = `${net.name}/${selection.layer}/${selection.index}`;
      const { layer, index } = selection;
      const shape = net.shape[layer], maps = isMaps(shape);
      const names = ["input", ...net.layers.map((l) => l.name)];

      // the title: which unit, and its value
      const where = maps ? TEXT.mapAt(upper(layer), ...index)
        : layer === "output" ? TEXT.outputUnit(index[0]) : TEXT.unitAt(upper(layer), index[0]);
      const value = unit.kind === "rbf" ? TEXT.distance(format(unit.distance))
        : unit.kind === "dense" && !unit.activation ? TEXT.logit(format(unit.value)) : TEXT.value(format(unit.value));
      this.root.querySelector(".lenet-unit-title").textContent = TEXT.title(where, value);

      // layer buttons and the map stepper
      const layers = this.root.querySelector(".lenet-unit-layers");
      if (layers.dataset.net !== net.name) {
        layers.dataset.net = net.name;
        layers.innerHTML = names.slice(1).map((n) =>
          `<button type="button" data-layer="${n}" data-focus="layer-${n}">${TEXT.layer(upper(n))}</button>`).join("");
      }
      layers.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.layer === layer)));
      const step = this.root.querySelector(".lenet-unit-step");
      step.hidden = !maps;
      if (maps) step.querySelector(".lenet-unit-mapname").textContent = TEXT.mapOf(index[0], shape[0]);

      this.root.querySelector(".lenet-unit-what").innerHTML = this.what(net, layer, unit);
      this.showWhere(net, result.stages, layer, index, unit, names);
      this.math.innerHTML = this[unit.kind](net, result.stages, layer, unit, names);
      this.paintMath(net, unit);
      if (focused) {
        const again = this.root.querySelector(`[data-focus="${focused}"]`);
        if (again) again.focus({ preventScroll: true });
      }
    }

    what(net, layer, unit) {
      const names = ["input", ...net.layers.map((l) => l.name)];
      const below = names[names.indexOf(layer) - 1], shapeBelow = net.shape[below];
      const classic = net.constants.activation === "squash";
      const L = upper(layer), B = below === "input" ? TEXT.theInput : upper(below);
      switch (unit.kind) {
        case "conv": {
          const k = Math.round(Math.sqrt(unit.kernels[0].length));
          if (below === "input") {
            return TEXT.convInput(L, k, activationWords(net));
          }
          const reads = classic ? TEXT.readsTableI(L, B, unit.index[0], unit.inputs) : TEXT.readsAll(B, shapeBelow[0]);
          return TEXT.conv(L, B, k, reads, activationWords(net));
        }
        case "maxpool":
          return TEXT.maxpool(L, B);
        case "subsampling":
          return TEXT.subsampling(L, B, activationWords(net, true));
        case "dense": {
          const n = units(shapeBelow);
          const values = TEXT.denseValues(B, n, isMaps(shapeBelow) && shapeBelow[0], shapeBelow[1], shapeBelow[2]);
          const conv = net.layers.find((l) => l.name === layer).kind === "Conv2d"
            ? TEXT.denseConv(L, B, shapeBelow[1], shapeBelow[2]) : "";
          return TEXT.dense(conv, L, values, n, unit.activation && activationWords(net), unit.others);
        }
        case "rbf": {
          const [h, w] = [net.constants.DIGIT_BITMAPS[0].length, net.constants.DIGIT_BITMAPS[0][0].length];
          return TEXT.rbf(B, unit.state.length, h, w);
        }
        default: return "";
      }
    }

    // the input with the receptive field, the picker, and for a 2x2 unit the map below
    showWhere(net, stages, layer, index, unit, names) {
      const input = this.root.querySelector(".lenet-unit-input");
      const [, size] = net.shape.input;
      const [lo, hi] = range(stages.input);
      paint(input.querySelector("canvas"), stages.input, 0, size, size, { lo, hi });
      outline(input.querySelector(".lenet-mark"), size, size, unit.field);
      const [top, left, bottom, right] = unit.field;
      const whole = bottom - top + 1 >= size && right - left + 1 >= size;
      const scale = net.constants.activation === "squash"
        ? TEXT.paperScale(format(net.constants.PAPER_BACKGROUND, 1), net.constants.PAPER_INK) : "";
      input.nextElementSibling.innerHTML = whole ? TEXT.wholeField(size, scale) : TEXT.field(size, scale, unit.field);

      // the picker: the unit's map, or its layer as a grid of units
      const shape = net.shape[layer], values = stages[layer];
      const maps = isMaps(shape);
      this.grid = maps ? [shape[1], shape[2]] : gridOf(units(shape));
      const [rows, cols] = this.grid;
      const offset = maps ? index[0] * rows * cols : 0;
      const [plo, phi] = range(maps ? values.slice(offset, offset + rows * cols) : values);
      const canvas = this.picker.querySelector("canvas");
      paint(canvas, values, offset, rows, cols, { lo: Math.min(plo, 0), hi: phi });
      this.cell = maps ? [index[1], index[2]] : [Math.floor(index[0] / cols), index[0] % cols];
      outline(this.picker.querySelector(".lenet-mark"), rows, cols, [...this.cell, ...this.cell]);
      const side = clamp(this.width - 180, 120, PICKER_PX);  // beside the input on a phone
      const cell = Math.max(4, Math.floor(side / Math.max(rows, cols)));  // square cells
      Object.assign(this.picker.style, { width: `${cols * cell}px`, height: `${rows * cell}px` });
      this.picker.parentElement.style.width = `${Math.max(cols * cell, 150)}px`;
      const what = maps ? TEXT.pickerMap(upper(layer), index[0], rows, cols)
        : layer === "output" ? TEXT.pickerOutputs(units(shape))
        : TEXT.pickerUnits(upper(layer), units(shape), cols);
      this.picker.setAttribute("aria-label", TEXT.pickerLabel(what));
      this.picker.setAttribute("aria-valuetext", this.root.querySelector(".lenet-unit-title").textContent);
      this.picker.parentElement.querySelector("figcaption").textContent = TEXT.pickerCaption(what);

      // the 2x2 window in the map below (S2, S4)
      const belowFig = this.root.querySelector(".lenet-where-below");
      belowFig.hidden = !unit.values;
      if (unit.values) {
        const below = names[names.indexOf(layer) - 1];
        const [maps2, h, w] = net.shape[below];
        const off = index[0] * h * w, [blo, bhi] = range(stages[below].slice(off, off + h * w));
        const frameBelow = belowFig.querySelector(".lenet-frame");
        paint(frameBelow.querySelector("canvas"), stages[below], off, h, w, { lo: Math.min(blo, 0), hi: bhi });
        const [r0, c0] = unit.window;
        outline(frameBelow.querySelector(".lenet-mark"), h, w, [r0, c0, r0 + 1, c0 + 1]);
        belowFig.querySelector("figcaption").textContent = TEXT.belowCaption(upper(below), index[0], maps2, h, w, r0, c0);
      }
    }

    // --- one function per kind of unit: the arithmetic as HTML ---
    conv(net, stages, layer, unit, names) {
      const below = names[names.indexOf(layer) - 1];
      const k = Math.round(Math.sqrt(unit.kernels[0].length));
      const [r, c] = unit.window;
      let detail = unit.partials.reduce((best, p, n) => (Math.abs(p) > Math.abs(unit.partials[best]) ? n : best), 0);
      if (this.detail && this.detail.key === this.key_) detail = unit.inputs.indexOf(this.detail.map);
      if (detail < 0) detail = 0;
      const m = unit.inputs[detail];
      const source = below === "input" ? TEXT.theInput : TEXT.mapName(upper(below), m);
      let html = "";
      if (below !== "input") {  // one card per map below: its window and partial sum
        const all = net.shape[below][0];
        html += `<p class="lenet-step">${TEXT.cardsStep(upper(below), all, k, r, c)}</p><div class="lenet-partials">`;
        for (let i = 0; i < all; i++) {
          const n = unit.inputs.indexOf(i);
          html += n < 0
            ? `<div class="lenet-card lenet-unused">${frame("lenet-card-map", ` data-map="${i}"`)}` +
              `<span>${TEXT.mapName(upper(below), i)}</span><span>${TEXT.notRead}</span></div>`
            : `<button type="button" class="lenet-card" data-detail="${i}" data-focus="detail-${i}" ` +
              `aria-pressed="${i === m}">${frame("lenet-card-map", ` data-map="${i}"`)}` +
              `<span>${TEXT.mapName(upper(below), i)}</span><span>${signed(unit.partials[n])}</span></button>`;
        }
        html += "</div>";
      }
      const patch = unit.patches[detail], kernel = unit.kernels[detail], products = unit.products[detail];
      const [plo, phi] = range(below === "input" ? stages.input : stages[below]);
      const kLimit = limitOf(kernel), pLimit = limitOf(products);
      html += `<p class="lenet-step">${TEXT.patchStep(below === "input" ? null : upper(below), m, k)}</p>` +
              '<div class="lenet-grids">' +
              figure(numberGrid(patch, k, (v) => grey(v, Math.min(plo, 0), phi), 2, TEXT.grid.window),
                     TEXT.windowOf(k, source)) +
              '<span class="lenet-op">\u00d7</span>' +
              figure(numberGrid(kernel, k, (v) => diverging(v, kLimit), 2, TEXT.grid.kernel),
                     TEXT.kernelOf(upper(layer), unit.index[0], source)) +
              '<span class="lenet-op">=</span>' +
              figure(numberGrid(products, k, (v) => diverging(v, pLimit), 2, TEXT.grid.products),
                     TEXT.products(k * k)) + "</div>";
      let rows = "";
      if (below === "input") {
        rows += line(TEXT.sumOfProducts(k * k), format(unit.partials[0]));
      } else {
        unit.inputs.forEach((i, n) => { rows += line(TEXT.partialFrom(upper(below), i), signed(unit.partials[n])); });
        rows += line(TEXT.sumOfPartials(unit.inputs.length), format(unit.partials.reduce((a, b) => a + b, 0)), "lenet-subtotal");
      }
      rows += line(TEXT.mapBias(upper(layer), unit.index[0]), signed(unit.bias));
      rows += line(TEXT.before(net.constants.activation === "relu"), format(unit.pre), "lenet-subtotal");
      rows += activationText(net, unit.pre, unit.value);
      return html + `<table class="lenet-sum">${rows}</table>`;
    }

    maxpool(net, stages, layer, unit, names) {
      const below = upper(names[names.indexOf(layer) - 1]);
      const [lo, hi] = range(stages[names[names.indexOf(layer) - 1]]);  // the layer's own scale
      return '<div class="lenet-grids">' +
             figure(numberGrid(unit.values, 2, (v) => grey(v, Math.min(lo, 0), hi), 3, TEXT.grid.window, unit.largest, "lenet-grid-big"),
                    TEXT.windowLargest(below)) + "</div>" +
             `<table class="lenet-sum">${line(TEXT.largestOf(unit.values.map((v) => format(v))),
                                              format(unit.value), "lenet-result")}</table>`;
    }

    subsampling(net, stages, layer, unit, names) {
      const below = upper(names[names.indexOf(layer) - 1]);
      const [lo, hi] = range(stages[names[names.indexOf(layer) - 1]]);  // the layer's own scale
      const m = unit.index[0];
      return '<div class="lenet-grids">' +
             figure(numberGrid(unit.values, 2, (v) => grey(v, Math.min(lo, 0), hi), 3, TEXT.grid.window, -1, "lenet-grid-big"),
                    TEXT.windowOfValues(below)) + "</div>" +
             '<table class="lenet-sum">' +
             line(TEXT.sumOfFour, format(unit.sum)) +
             line(TEXT.coefficient(upper(layer), m), format(unit.coefficient)) +
             line(TEXT.timesCoefficient, format(unit.sum * unit.coefficient), "lenet-subtotal") +
             line(TEXT.mapBias(upper(layer), m), signed(unit.bias)) +
             line(TEXT.before(false), format(unit.pre), "lenet-subtotal") +
             activationText(net, unit.pre, unit.value) + "</table>";
    }

    dense(net, stages, layer, unit, names) {
      const below = names[names.indexOf(layer) - 1];
      const limit = limitOf(unit.top.map((t) => t.product));
      let rows = unit.top.map((t) => {
        const rgb = diverging(t.product, limit);
        return `<tr><th scope="row">${describe(net, below, t.input)}</th><td>${format(t.value)}</td>` +
               `<td>${signed(t.weight)}</td><td style="background:${css(rgb)};color:${isDark(rgb) ? "#fff" : "#111"}">` +
               `${signed(t.product)}</td></tr>`;
      }).join("");
      const wide = (what, value, cls = "") => `<tr class="${cls}"><th scope="row" colspan="3">${what}</th><td>${value}</td></tr>`;
      rows += wide(TEXT.otherProducts(unit.others), signed(unit.rest));
      rows += wide(TEXT.unitBias(upper(layer), unit.index[0]), signed(unit.bias));
      if (unit.activation) {
        rows += wide(TEXT.before(unit.activation === "relu"), format(unit.pre), "lenet-subtotal");
        rows += activationText(net, unit.pre, unit.value).replace("<th ", '<th colspan="3" ');
      } else {
        rows += wide(TEXT.logitOf(unit.index[0]), format(unit.pre), "lenet-result");
      }
      let html = '<table class="lenet-sum lenet-products"><thead><tr>' +
                 TEXT.productHeads.map((head) => `<th scope="col">${head}</th>`).join("") +
                 `</tr></thead><tbody>${rows}</tbody></table>`;
      if (unit.logits) html += this.softmax(unit);
      return html;
    }

    softmax(unit) {
      const top = Math.max(...unit.logits);
      const e = unit.logits.map((v) => Math.exp(v - top));
      const total = e.reduce((a, b) => a + b, 0);
      const rows = unit.logits.map((v, d) => {
        const cls = [d === unit.winner ? "lenet-winner-row" : "", d === unit.index[0] ? "lenet-chosen" : ""].join(" ");
        return `<tr class="${cls}" data-digit="${d}"><th scope="row">${d}${d === unit.winner ? TEXT.wins : ""}</th>` +
               `<td>${format(v)}</td><td>${power(e[d])}</td>` +
               `<td>${(100 * unit.probabilities[d]).toFixed(2)}%</td></tr>`;
      }).join("");
      const [digit, logit, probability] = TEXT.softmaxHeads;
      return `<p class="lenet-step">${TEXT.softmaxStep(format(top))}</p>` +
             `<table class="lenet-sum lenet-softmax"><thead><tr><th scope="col">${digit}</th><th scope="col">${logit}</th>` +
             `<th scope="col">e<sup>logit ${MINUS} ${format(top)}</sup></th><th scope="col">${probability}</th></tr></thead>` +
             `<tbody>${rows}<tr class="lenet-subtotal"><th scope="row">${TEXT.sum}</th><td></td>` +
             `<td>${power(total)}</td><td>100%</td></tr></tbody></table>`;
    }

    rbf(net, stages, layer, unit) {
      const bitmaps = net.constants.DIGIT_BITMAPS;
      const [h, w] = [bitmaps[0].length, bitmaps[0][0].length];
      const k = unit.index[0];
      let html = `<p class="lenet-step">${TEXT.bitmapsStep(h, w)}</p>` +
                 '<div class="lenet-bitmaps">';
      unit.penalties.forEach((d, digit) => {
        const cls = [digit === unit.winner ? "lenet-winner-card" : "", digit === k ? "lenet-chosen" : ""].join(" ");
        html += `<button type="button" class="lenet-card ${cls}" data-digit="${digit}" data-focus="digit-${digit}" ` +
                `aria-pressed="${digit === k}">${frame("lenet-bitmap", ` data-bitmap="${digit}"`)}` +
                `<span>${digit}: ${format(d, 2)}</span>${digit === unit.winner ? `<span>${TEXT.closest}</span>` : ""}</button>`;
      });
      html += "</div>";
      const f6 = upper(net.layers[net.layers.length - 2].name);
      html += `<p class="lenet-step">${TEXT.digitStep(k, f6, unit.state.length, w)}</p>` +
              '<div class="lenet-grids">' +
              figure(numberGrid(unit.state, w, (v) => diverging(v, net.constants.A), 2, TEXT.grid.f6),
                     TEXT.stateOf(f6, unit.state.length)) +
              `<span class="lenet-op">${MINUS}</span>` +
              figure(numberGrid(unit.centre, w, (v) => diverging(v, 1.5), 0, TEXT.grid.bitmap),
                     TEXT.bitmapOf(k)) +
              '<span class="lenet-op">\u2192</span>' +
              figure(numberGrid(unit.squares, w, (v) => diverging(v, limitOf(unit.squares)), 2, TEXT.grid.squares),
                     TEXT.squaredDifferences) + "</div>" +
              '<table class="lenet-sum">' +
              line(TEXT.distanceTo(unit.squares.length, k), format(unit.distance), "lenet-result") +
              line(TEXT.smallest(unit.winner), format(unit.penalties[unit.winner]),
                   unit.winner === k ? "lenet-subtotal" : "") +
              line(TEXT.minusDistance, format(unit.value)) +
              "</table>";
      return html;
    }

    // canvases inside the math: the maps below a C3 unit, the digit bitmaps
    paintMath(net, unit) {
      this.math.querySelectorAll(".lenet-card-map").forEach((el) => {
        const names = ["input", ...net.layers.map((l) => l.name)];
        const below = names[names.indexOf(unit.layer) - 1];
        const [, h, w] = net.shape[below];
        const m = Number(el.dataset.map), off = m * h * w;
        const values = this.result.stages[below];
        const [lo, hi] = range(values);
        paint(el.querySelector("canvas"), values, off, h, w, { lo: Math.min(lo, 0), hi });
        const k = Math.round(Math.sqrt(unit.kernels[0].length));
        outline(el.querySelector(".lenet-mark"), h, w, [unit.window[0], unit.window[1], unit.window[0] + k - 1, unit.window[1] + k - 1]);
      });
      this.math.querySelectorAll(".lenet-bitmap").forEach((el) => {
        const rows = net.constants.DIGIT_BITMAPS[Number(el.dataset.bitmap)];
        const values = rows.join("").split("").map((ch) => (ch === "#" ? 1 : -1));
        paint(el.querySelector("canvas"), values, 0, rows.length, rows[0].length, { lo: -1, hi: 1 });
        el.querySelector(".lenet-mark").style.display = "none";
      });
    }
  }

  window.lenet.panel = { Panel, paint, outline, grey, diverging, format, range, count, upper, isMaps, units, gridOf };
})();

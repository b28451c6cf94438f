/* The drawing page: a canvas to draw on, every layer of LeNet-5 as you draw, and any unit's
 * arithmetic on a click, a tap or a key. The networks and the preprocessing are in lenet5.js and
 * lenet5_classic.js (window.lenet); the unit panel is try_lenet5_panel.js; this file holds the
 * page together: drawing, the maps, the selection and the switch between the two networks. */
(function () {
  "use strict";
  const page = document.getElementById("lenet-demo");
  if (!page || !window.lenet || !window.lenet.panel) return;
  const { Panel, paint, outline, format, range, count, upper, isMaps, units } = window.lenet.panel;

  // --- the words the script writes: English, or 简体中文 on the Chinese edition (its pages are
  // <html lang="zh-CN">); numbers, shapes and layer names (C1, S2, ...) are the same in both ----
  const TEXT = {
    en: {
      sample: (index, label) => `MNIST test digit #${index}, a ${label}`,
      maxPool: (L, n, size) => `${L}: ${count(n)} ${size}x${size} maps, after 2x2 max pooling`,
      subsampling: (L, n, size) => `${L}: ${count(n)} ${size}x${size} maps, after 2x2 subsampling, squashed`,
      tableI: (L, n, size) => `${L}: ${count(n)} ${size}x${size} feature maps, each from the S2 maps of Table I, squashed`,
      featureMaps: (L, n, size, after) => `${L}: ${count(n)} ${size}x${size} feature maps, ${after}`,
      units: (L, n, after) => `${L}: ${n} units, ${after}`,
      squashed: "squashed",
      afterReLU: "after ReLU",
      chooseMap: (L) => `${L}: choose a map to see its units`,
      map: (L, m, size) => `${L} map ${m} (${size}x${size})`,
      strip: (L, n) => `${L}: ${n} units`,
      outputs: "The ten outputs: choose one to see its arithmetic",
      distances: "Distance from F6 to each digit's bitmap (the smallest wins)",
      probabilities: "Probability of each digit (softmax of the ten logits)",
      output: (d) => `output ${d}`,
      blank: "Draw a digit in the box, or load one with the buttons.",
      classicReads: (first, d1, second, d2) =>
        `The 1998 LeNet-5 reads a ${first}: distance ${d1}, next closest ${second} at ${d2}.`,
      reads: (digit, percent) => `LeNet-5 reads a ${digit} (${percent}%).`,
    },
    zh: {
      sample: (index, label) => `MNIST 测试集中的数字 #${index}，是 ${label}`,
      maxPool: (L, n, size) => `${L}：${n} 张 ${size}x${size} 特征图，经过 2x2 最大池化`,
      subsampling: (L, n, size) => `${L}：${n} 张 ${size}x${size} 特征图，经过 2x2 下采样和压缩`,
      tableI: (L, n, size) => `${L}：${n} 张 ${size}x${size} 特征图，各自读取表 I 所列的 S2 特征图，经过压缩`,
      featureMaps: (L, n, size, after) => `${L}：${n} 张 ${size}x${size} 特征图，${after}`,
      units: (L, n, after) => `${L}：${n} 个单元，${after}`,
      squashed: "经过压缩",
      afterReLU: "经过 ReLU",
      chooseMap: (L) => `${L}：选择一张特征图，查看它的单元`,
      map: (L, m, size) => `${L} 特征图 ${m}（${size}x${size}）`,
      strip: (L, n) => `${L}：${n} 个单元`,
      outputs: "10 个输出：选择一个，查看它的运算",
      distances: "F6 到每个数字位图的距离（最小者胜出）",
      probabilities: "每个数字的概率（10 个 logits 的 softmax）",
      output: (d) => `输出 ${d}`,
      blank: "在方框里写一个数字，或者用按钮载入一个。",
      classicReads: (first, d1, second, d2) =>
        `1998 年的 LeNet-5 认为是 ${first}：距离 ${d1}；其次是 ${second}，距离 ${d2}。`,
      reads: (digit, percent) => `LeNet-5 认为是 ${digit}（${percent}%）。`,
    },
  }[(document.documentElement.lang || "").startsWith("zh") ? "zh" : "en"];

  const pad = document.getElementById("lenet-pad");
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const SIDE = pad.width;  // 280 canvas pixels; the stroke is about as thick as MNIST's pen
  const STROKE = Math.round(SIDE / 12);

  let net = window.lenet.networks.lenet5;
  let selection = { layer: net.layers[0].name, index: [0, 12, 12] };
  let result = null, unit = null, pixels = null;

  // --- drawing with mouse, pen or touch (pointer events) -----------------------------------
  let drawing = false, last = null, pending = false;

  function position(event) {
    const box = pad.getBoundingClientRect();
    return [(event.clientX - box.left) * SIDE / box.width, (event.clientY - box.top) * SIDE / box.height];
  }

  function stroke(from, to) {
    ctx.strokeStyle = "rgba(0, 0, 0, 1)";
    ctx.lineWidth = STROKE;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }

  pad.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    stroke(last, last);
    schedule();
  });
  pad.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    event.preventDefault();
    const next = position(event);
    stroke(last, next);
    last = next;
    schedule();
  });
  for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
    pad.addEventListener(type, () => { drawing = false; });
  }

  function clear() {
    ctx.clearRect(0, 0, SIDE, SIDE);
    schedule();
  }
  document.getElementById("lenet-clear").addEventListener("click", clear);

  // --- MNIST test digits into the canvas ----------------------------------------------------
  const samples = document.getElementById("lenet-samples");
  for (const sample of window.lenet.samples) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = String(sample.label);
    button.title = TEXT.sample(sample.index, sample.label);
    button.addEventListener("click", () => loadDigit(sample.pixels));
    samples.appendChild(button);
  }

  function loadDigit(pixels) {
    const { MNIST_SIZE } = window.lenet.constants;
    const small = document.createElement("canvas");
    small.width = small.height = MNIST_SIZE;
    const image = small.getContext("2d").createImageData(MNIST_SIZE, MNIST_SIZE);
    pixels.forEach((v, i) => { image.data[4 * i + 3] = v; });  // ink as opacity
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.clearRect(0, 0, SIDE, SIDE);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, SIDE, SIDE);
    schedule();
  }

  function inkOf() {
    const rgba = ctx.getImageData(0, 0, SIDE, SIDE).data;
    const ink = new Array(SIDE * SIDE);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];  // opacity = ink, 0..255
    return ink;
  }

  // --- the layers, built from the network's exported shapes -----------------------------------
  const layersBox = document.getElementById("lenet-layers");
  const bars = document.getElementById("lenet-bars");
  const el = (tag, cls, attrs = {}) => {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const classic = () => net.constants.activation === "squash";

  function heading(layer) {
    const [n, size] = layer.shape, L = upper(layer.name);
    const after = classic() ? TEXT.squashed : TEXT.afterReLU;
    switch (layer.kind) {
      case "MaxPool2d": return TEXT.maxPool(L, n, size);
      case "Subsampling": return TEXT.subsampling(L, n, size);
      case "PartialConv2d": return TEXT.tableI(L, n, size);
      default: return isMaps(layer.shape) ? TEXT.featureMaps(L, n, size, after)
                                          : TEXT.units(L, units(layer.shape), after);
    }
  }

  // every map and strip is a button: click or tap picks the unit under the pointer; with the
  // keyboard, Tab reaches each layer, the arrow keys move between its maps, Enter picks the map
  function item(cls, layer, map, label) {
    const node = el("div", cls, { role: "button", tabindex: "-1", "aria-label": label,
                                  "data-layer": layer, "data-map": String(map) });
    node.append(el("canvas"), el("span", "lenet-mark"));
    return node;
  }

  function buildLayers() {
    layersBox.textContent = "";
    for (const layer of net.layers.slice(0, -1)) {
      const section = el("div", "lenet-layer");
      const title = el("h4");
      title.textContent = heading(layer);
      const group = el("div", isMaps(layer.shape) ? "lenet-maps" : "lenet-strips",
                       { role: "group", "aria-label": TEXT.chooseMap(upper(layer.name)) });
      if (isMaps(layer.shape)) {
        const [maps, size] = layer.shape;
        for (let m = 0; m < maps; m++) {
          const map = item("lenet-map", layer.name, m, TEXT.map(upper(layer.name), m, size));
          map.style.setProperty("--side", size >= 14 ? "56px" : "36px");
          group.append(map);
        }
      } else {
        group.append(item("lenet-strip", layer.name, 0, TEXT.strip(upper(layer.name), units(layer.shape))));
      }
      group.firstChild.tabIndex = 0;
      section.append(title, group);
      layersBox.append(section);
    }
  }

  function buildBars() {
    bars.textContent = "";
    bars.setAttribute("role", "group");
    bars.setAttribute("aria-label", TEXT.outputs);
    document.getElementById("lenet-bars-title").textContent = classic()
      ? TEXT.distances
      : TEXT.probabilities;
    const outputs = units(net.shape.output);
    for (let d = 0; d < outputs; d++) {
      const row = el("div", "lenet-bar", { role: "button", tabindex: d ? "-1" : "0", "data-layer": "output",
                                           "data-map": String(d), "aria-label": TEXT.output(d) });
      row.innerHTML = `<span class="lenet-digit">${d}</span>` +
        (classic() ? '<canvas class="lenet-bitmap-small"></canvas>' : "") +
        '<span class="lenet-track"><span class="lenet-fill"></span></span><span class="lenet-value"></span>';
      bars.append(row);
      if (classic()) {
        const bitmap = net.constants.DIGIT_BITMAPS[d];
        paint(row.querySelector("canvas"), bitmap.join("").split("").map((ch) => (ch === "#" ? 1 : -1)),
              0, bitmap.length, bitmap[0].length, { lo: -1, hi: 1 });
      }
    }
  }

  // --- choosing a unit ------------------------------------------------------------------------
  const spec = (layer) => net.layers.find((l) => l.name === layer);

  // the largest unit of map m (or of a layer of units): where a new selection starts
  function strongest(layer, m) {
    const shape = net.shape[layer], values = result.stages[layer];
    if (!isMaps(shape)) return [selection.layer === layer ? selection.index[0] : argmaxOf(values, 0, values.length)];
    const per = shape[1] * shape[2];
    const best = argmaxOf(values, m * per, per);
    return [m, Math.floor(best / shape[2]), best % shape[2]];
  }
  function argmaxOf(values, offset, n) {
    let best = 0;
    for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
    return best;
  }

  function select(layer, index, { scroll = false } = {}) {
    selection = { layer, index: [...index] };
    render();
    if (!scroll) return;
    const top = panelRoot.getBoundingClientRect().top, shown = window.innerHeight - top;
    if (window.innerWidth < 700 && shown < window.innerHeight / 2) {  // a phone: go to the panel
      panelRoot.scrollIntoView({ block: "start", behavior: "smooth" });
    } else if (window.innerWidth >= 700 && shown < 260) {  // a wide screen: show the panel's
      window.scrollBy({ top: 260 - shown, behavior: "smooth" });  // first lines, and most maps
    }
  }

  function fromItem(node, event) {
    const layer = node.dataset.layer, m = Number(node.dataset.map);
    const shape = net.shape[layer];
    const box = node.getBoundingClientRect();
    const pointer = Boolean(event);
    const fx = pointer ? Math.min(Math.max((event.clientX - box.left) / box.width, 0), 0.999) : null;
    const fy = pointer ? Math.min(Math.max((event.clientY - box.top) / box.height, 0), 0.999) : null;
    if (layer === "output") return select(layer, [m], { scroll: pointer });
    if (isMaps(shape)) {
      const index = pointer ? [m, Math.floor(fy * shape[1]), Math.floor(fx * shape[2])] : strongest(layer, m);
      return select(layer, index, { scroll: pointer });
    }
    return select(layer, pointer ? [Math.floor(fx * units(shape))] : strongest(layer, 0), { scroll: pointer });
  }

  function onItemKey(event) {
    const node = event.target.closest("[data-layer]");
    if (!node) return;
    const group = [...node.parentElement.children];
    const at = group.indexOf(node);
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      fromItem(node, null);
    } else if (step && group.length > 1) {
      event.preventDefault();
      const next = group[(at + step + group.length) % group.length];
      node.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
      fromItem(next, null);
    } else if (step && node.classList.contains("lenet-strip")) {  // move along a strip's units
      event.preventDefault();
      const n = units(net.shape[node.dataset.layer]);
      const u = selection.layer === node.dataset.layer ? selection.index[0] : 0;
      select(node.dataset.layer, [(u + step + n) % n]);
    }
  }

  // a tap or a click is a pointer that goes down and up on the same map without moving far (a
  // touch that scrolls the page is cancelled by the browser); pointerup, not click, so that a tap
  // soon after drawing is not taken for half of a double tap
  let press = null;
  for (const holder of [layersBox, bars]) {
    holder.addEventListener("pointerdown", (event) => {
      const node = event.target.closest("[data-layer]");
      press = node && event.button === 0 ? { node, id: event.pointerId, x: event.clientX, y: event.clientY } : null;
    });
    holder.addEventListener("pointerup", (event) => {
      const node = event.target.closest("[data-layer]");
      if (press && node === press.node && event.pointerId === press.id &&
          Math.hypot(event.clientX - press.x, event.clientY - press.y) < 12) fromItem(node, event);
      press = null;
    });
    holder.addEventListener("pointercancel", () => { press = null; });
    holder.addEventListener("click", (event) => {  // a screen reader's "activate"
      const node = event.target.closest("[data-layer]");
      if (node && event.detail === 0) fromItem(node, null);
    });
    holder.addEventListener("keydown", onItemKey);
  }

  const panelRoot = document.getElementById("lenet-unit");
  const panel = new Panel(panelRoot, {
    select: (layer, index, options) => select(layer, index, options),
    strongest: (layer, m) => strongest(layer, Math.min(m, isMaps(net.shape[layer]) ? net.shape[layer][0] - 1 : 0)),
    refresh: () => render(),
  });

  // --- the switch between the two networks ----------------------------------------------------
  function useNetwork(name) {
    const names = net.layers.map((l) => l.name);
    const position = names.indexOf(selection.layer);
    net = window.lenet.networks[name];
    page.dataset.network = name;
    const layer = net.layers[position].name, shape = net.shape[layer];
    const fits = selection.index.length === (isMaps(shape) ? 3 : 1) &&
                 selection.index.every((v, i) => v < (isMaps(shape) ? shape[i] : units(shape)));
    selection = { layer, index: fits ? selection.index : isMaps(shape) ? [0, 0, 0] : [0] };
    for (const input of document.querySelectorAll("input[name=lenet-network]")) input.checked = input.value === name;
    buildLayers();
    buildBars();
    update();
  }
  for (const input of document.querySelectorAll("input[name=lenet-network]")) {
    input.addEventListener("change", () => { if (input.checked) useNetwork(input.value); });
  }

  // --- what the network sees, layer by layer --------------------------------------------------
  function update() {
    pending = false;
    pixels = window.lenet.preprocess(inkOf(), SIDE, SIDE);
    const blank = pixels.every((v) => v === 0);
    page.classList.toggle("lenet-blank", blank);
    result = net.predict(pixels);
    const s = result.stages;
    const { MNIST_SIZE, INPUT_SIZE } = window.lenet.constants;
    paint(document.querySelector("#lenet-mnist canvas"), pixels, 0, MNIST_SIZE, MNIST_SIZE, { lo: 0, hi: 255 });
    const [ilo, ihi] = range(s.input);
    paint(document.querySelector("#lenet-input canvas"), s.input, 0, INPUT_SIZE, INPUT_SIZE, { lo: ilo, hi: ihi });
    for (const layer of net.layers.slice(0, -1)) {
      const values = s[layer.name];
      const [lo, hi] = range(values);  // one scale for the whole layer, so maps can be compared
      const colour = { lo: Math.min(lo, 0), hi };
      const nodes = layersBox.querySelectorAll(`[data-layer="${layer.name}"] canvas`);
      if (isMaps(layer.shape)) {
        const [, h, w] = layer.shape;
        nodes.forEach((canvas, m) => paint(canvas, values, m * h * w, h, w, colour));
      } else {
        paint(nodes[0], values, 0, 1, values.length, colour);
      }
    }
    showOutputs(blank);
    page.dataset.prediction = blank ? "" : String(result.prediction);
    render();
  }

  function showOutputs(blank) {
    const rows = [...bars.children];
    if (classic()) {
      const top = Math.max(...result.penalties);
      rows.forEach((row, d) => {
        const v = result.penalties[d];
        row.querySelector(".lenet-fill").style.width = `${(100 * v / top).toFixed(1)}%`;
        row.querySelector(".lenet-value").textContent = blank ? "" : format(v, 1);
        row.classList.toggle("lenet-winner", !blank && d === result.prediction);
      });
      const order = [...result.penalties.keys()].sort((a, b) => result.penalties[a] - result.penalties[b]);
      document.getElementById("lenet-answer").textContent = blank
        ? TEXT.blank
        : TEXT.classicReads(order[0], format(result.penalties[order[0]], 2),
                            order[1], format(result.penalties[order[1]], 2));
      return;
    }
    rows.forEach((row, d) => {
      const p = result.probabilities[d];
      row.querySelector(".lenet-fill").style.width = `${(100 * p).toFixed(1)}%`;
      row.querySelector(".lenet-value").textContent = blank ? "" : `${(100 * p).toFixed(1)}%`;
      row.classList.toggle("lenet-winner", !blank && d === result.prediction);
    });
    document.getElementById("lenet-answer").textContent = blank
      ? TEXT.blank
      : TEXT.reads(result.prediction, (100 * result.probabilities[result.prediction]).toFixed(1));
  }

  // the selected unit: outlined where it sits, its receptive field on the input, the panel
  function render() {
    unit = window.lenet.unitArithmetic(net, result.stages, selection.layer, selection.index);
    for (const node of [...layersBox.querySelectorAll("[data-layer]"), ...bars.children]) {
      const chosen = node.dataset.layer === selection.layer &&
                     (node.dataset.layer !== "output" && !isMaps(net.shape[selection.layer]) ||
                      Number(node.dataset.map) === selection.index[0]);
      node.classList.toggle("lenet-selected", chosen);
      node.setAttribute("aria-pressed", String(chosen));
      const mark = node.querySelector(".lenet-mark");
      if (!mark) continue;
      if (!chosen) { mark.style.display = "none"; continue; }
      const shape = net.shape[selection.layer];
      if (isMaps(shape)) {
        const [, r, c] = selection.index;
        outline(mark, shape[1], shape[2], [r, c, r, c]);
      } else {
        outline(mark, 1, units(shape), [0, selection.index[0], 0, selection.index[0]]);
      }
    }
    const { INPUT_SIZE } = window.lenet.constants;
    outline(document.querySelector("#lenet-input .lenet-mark"), INPUT_SIZE, INPUT_SIZE, unit.field);
    panel.show(net, result, selection, unit);
  }

  function schedule() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  }

  // for the console, the tests and links: lenet.draw.select("c3", [4, 3, 3])
  window.lenet.draw = {
    clear, loadDigit, update, select: (layer, index) => select(layer, index), useNetwork,
    get unit() { return unit; }, get pixels() { return pixels; }, get selection() { return selection; }, get network() { return net.name; },
  };

  // a link may choose the network, a sample digit and a unit: #net=lenet5&sample=7&unit=c1,2,10,11
  const wanted = new URLSearchParams(location.hash.slice(1));
  buildLayers();
  buildBars();
  if (wanted.get("sample") !== null) {
    const sample = window.lenet.samples.find((s) => String(s.label) === wanted.get("sample"));
    if (sample) loadDigit(sample.pixels);
  }
  if (wanted.get("net") in window.lenet.networks) net = window.lenet.networks[wanted.get("net")];
  if (wanted.get("unit")) {
    const [layer, ...index] = wanted.get("unit").split(",");
    if (spec(layer)) selection = { layer, index: index.map(Number) };
  }
  useNetwork(net.name);
})();

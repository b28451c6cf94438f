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

  // where a value of stage `name` sits: "S4 map 3, row 2, column 1" or "F5 unit 17"
  function describe(net, name, flat) {
    const shape = net.shape[name];
    if (name === "input") return `input pixel (${Math.floor(flat / shape[2])}, ${flat % shape[2]})`;
    if (!isMaps(shape)) return `${upper(name)} unit ${flat}`;
    const per = shape[1] * shape[2], m = Math.floor(flat / per), r = Math.floor((flat % per) / shape[2]);
    return `${upper(name)} map ${m}, row ${r}, column ${flat % shape[2]}`;
  }

  function activationText(net, pre, value) {
    const { activation, A, S } = net.constants;
    if (activation === "relu") {
      return line(`ReLU: ${pre > 0 ? "positive, so kept" : "negative, so 0"}`, format(value), "lenet-result");
    }
    return line(`squashed: ${A} tanh(${format(S, 4)} \u00d7 ${format(pre)})`, format(value), "lenet-result");
  }

  const activationWords = (net) => (net.constants.activation === "relu"
    ? "applies ReLU (a negative sum becomes 0)"
    : `squashes the sum with f(a) = ${net.constants.A} tanh(2a/3), which keeps it between ` +
      `${MINUS}${net.constants.A} and ${net.constants.A}`);

  // --- the panel ---------------------------------------------------------------------------------
  class Panel {
    constructor(root, actions) {
      this.root = root;
      this.actions = actions;  // {select(layer, index), strongest(layer, map)}
      this.detail = null;  // which input map of a C3 unit is shown in full
      root.innerHTML = `
        <h4 class="lenet-unit-title" id="lenet-unit-title"></h4>
        <div class="lenet-unit-nav">
          <div class="lenet-unit-layers" role="group" aria-label="Choose a layer"></div>
          <div class="lenet-unit-step" role="group" aria-label="Choose a map">
            <button type="button" data-step="-1" aria-label="Previous map">\u2039</button>
            <span class="lenet-unit-mapname"></span>
            <button type="button" data-step="1" aria-label="Next map">\u203a</button>
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
      const where = maps ? `${upper(layer)} map ${index[0]}, row ${index[1]}, column ${index[2]}`
        : layer === "output" ? `Output unit ${index[0]} (digit ${index[0]})` : `${upper(layer)} unit ${index[0]}`;
      const value = unit.kind === "rbf" ? `distance ${format(unit.distance)}`
        : unit.kind === "dense" && !unit.activation ? `logit ${format(unit.value)}` : `value ${format(unit.value)}`;
      this.root.querySelector(".lenet-unit-title").textContent = `${where}: ${value}`;

      // layer buttons and the map stepper
      const layers = this.root.querySelector(".lenet-unit-layers");
      if (layers.dataset.net !== net.name) {
        layers.dataset.net = net.name;
        layers.innerHTML = names.slice(1).map((n) =>
          `<button type="button" data-layer="${n}" data-focus="layer-${n}">${upper(n)}</button>`).join("");
      }
      layers.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.layer === layer)));
      const step = this.root.querySelector(".lenet-unit-step");
      step.hidden = !maps;
      if (maps) step.querySelector(".lenet-unit-mapname").textContent = `map ${index[0]} of ${shape[0]}`;

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
      const L = upper(layer), B = below === "input" ? "the input" : upper(below);
      switch (unit.kind) {
        case "conv": {
          const k = Math.round(Math.sqrt(unit.kernels[0].length));
          if (below === "input") {
            return `Each ${L} unit multiplies a ${k}x${k} patch of the input by its map's ${k}x${k} ` +
                   `kernel of weights, adds the ${k * k} products and the map's bias, and ${activationWords(net)}.`;
          }
          const reads = classic
            ? `only the ${count(unit.inputs.length)} ${B} maps that the paper's Table I connects to ` +
              `${L} map ${unit.index[0]} (maps ${unit.inputs.join(", ")})`
            : `all ${count(shapeBelow[0])} ${B} maps`;
          return `Each ${L} unit reads a ${k}x${k} window at the same place in ${reads}, multiplies each ` +
                 `window by its own ${k}x${k} kernel and adds the products: one partial sum per ${B} map. ` +
                 `The partial sums plus the map's bias give the sum, and the unit ${activationWords(net)}.`;
        }
        case "maxpool":
          return `Each ${L} unit is the largest of the four ${B} values in its 2x2 window ` +
                 "(max pooling). It has no weights.";
        case "subsampling":
          return `Each ${L} unit of the 1998 network adds the four ${B} values in its 2x2 window, ` +
                 "multiplies the sum by its map's trainable coefficient, adds its map's bias, and " +
                 `${activationWords(net).replace("squashes the sum", "squashes the result")}.`;
        case "dense": {
          const n = units(shapeBelow);
          const values = isMaps(shapeBelow) ? `${n} ${B} values (${count(shapeBelow[0])} maps of ` +
            `${shapeBelow[1]}x${shapeBelow[2]})` : `${n} ${B} values`;
          const conv = net.layers.find((l) => l.name === layer).kind === "Conv2d"
            ? `${L} is a convolution whose ${shapeBelow[1]}x${shapeBelow[2]} kernel covers the whole of ` +
              `every ${B} map, so it works like a fully connected layer. ` : "";
          const tail = unit.activation ? `and ${activationWords(net)}` : "and that is the logit (no activation)";
          return `${conv}Each ${L} unit multiplies each of the ${values} by its own weight, adds the ` +
                 `${n} products and a bias, ${tail}. Listed: the five products largest in size (positive ` +
                 `or negative), the other ${unit.others} added together, and the bias.`;
        }
        case "rbf": {
          const [h, w] = [net.constants.DIGIT_BITMAPS[0].length, net.constants.DIGIT_BITMAPS[0][0].length];
          return `Each output unit of the 1998 network compares the ${unit.state.length} ${B} values with ` +
                 `a fixed ${w}x${h} bitmap of its digit (+1 where it has ink, ${MINUS}1 elsewhere) and ` +
                 `adds the ${unit.state.length} squared differences: a distance. The smallest distance wins.`;
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
        ? ` (paper ${format(net.constants.PAPER_BACKGROUND, 1)}, ink ${net.constants.PAPER_INK})` : "";
      input.nextElementSibling.innerHTML = whole
        ? `The ${size}x${size} input${scale}. Its receptive field is all of it: this unit depends on every pixel.`
        : `The ${size}x${size} input${scale}. Outlined: its receptive field, the ${bottom - top + 1}x` +
          `${right - left + 1} pixels it depends on (rows ${top}\u2013${bottom}, columns ${left}\u2013${right}).`;

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
      const what = maps ? `${upper(layer)} map ${index[0]} (${rows}x${cols})`
        : layer === "output" ? `The ${units(shape)} output units, digits 0 to ${units(shape) - 1}`
        : `All ${units(shape)} ${upper(layer)} units, ${cols} to a row`;
      this.picker.setAttribute("aria-label", `${what}: arrow keys choose a unit`);
      this.picker.setAttribute("aria-valuetext", this.root.querySelector(".lenet-unit-title").textContent);
      this.picker.parentElement.querySelector("figcaption").textContent =
        `${what}, darker is larger. Click or tap a unit to see its arithmetic; arrow keys move.`;

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
        belowFig.querySelector("figcaption").textContent = `${upper(below)} map ${index[0]} of ${maps2} ` +
          `(${h}x${w}): the 2x2 window this unit reads, rows ${r0}\u2013${r0 + 1}, columns ${c0}\u2013${c0 + 1}.`;
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
      const source = below === "input" ? "the input" : `${upper(below)} map ${m}`;
      let html = "";
      if (below !== "input") {  // one card per map below: its window and partial sum
        const all = net.shape[below][0];
        html += `<p class="lenet-step">The ${count(all)} ${upper(below)} maps, the ${k}x${k} window ` +
                `(rows ${r}\u2013${r + k - 1}, columns ${c}\u2013${c + k - 1}) outlined on each, and each ` +
                "map's partial sum. Choose a map to see its products.</p><div class=\"lenet-partials\">";
        for (let i = 0; i < all; i++) {
          const n = unit.inputs.indexOf(i);
          html += n < 0
            ? `<div class="lenet-card lenet-unused">${frame("lenet-card-map", ` data-map="${i}"`)}` +
              `<span>${upper(below)} map ${i}</span><span>not read (Table I)</span></div>`
            : `<button type="button" class="lenet-card" data-detail="${i}" data-focus="detail-${i}" ` +
              `aria-pressed="${i === m}">${frame("lenet-card-map", ` data-map="${i}"`)}` +
              `<span>${upper(below)} map ${i}</span><span>${signed(unit.partials[n])}</span></button>`;
        }
        html += "</div>";
      }
      const patch = unit.patches[detail], kernel = unit.kernels[detail], products = unit.products[detail];
      const [plo, phi] = range(below === "input" ? stages.input : stages[below]);
      const kLimit = limitOf(kernel), pLimit = limitOf(products);
      html += `<p class="lenet-step">${below === "input" ? "The patch" : `${upper(below)} map ${m} in full`}: ` +
              `its ${k}x${k} window times the kernel, value by value (shown to 2 decimals):</p>` +
              '<div class="lenet-grids">' +
              figure(numberGrid(patch, k, (v) => grey(v, Math.min(plo, 0), phi), 2, "window"),
                     `the ${k}x${k} window of ${source}`) +
              '<span class="lenet-op">\u00d7</span>' +
              figure(numberGrid(kernel, k, (v) => diverging(v, kLimit), 2, "kernel"),
                     `the kernel: ${upper(layer)} map ${unit.index[0]}'s weights for ${source} ` +
                     "(blue negative, red positive)") +
              '<span class="lenet-op">=</span>' +
              figure(numberGrid(products, k, (v) => diverging(v, pLimit), 2, "products"),
                     `the ${k * k} products`) + "</div>";
      let rows = "";
      if (below === "input") {
        rows += line(`sum of the ${k * k} products`, format(unit.partials[0]));
      } else {
        unit.inputs.forEach((i, n) => { rows += line(`partial sum from ${upper(below)} map ${i}`, signed(unit.partials[n])); });
        rows += line(`sum of the ${count(unit.inputs.length)} partial sums`, format(unit.partials.reduce((a, b) => a + b, 0)), "lenet-subtotal");
      }
      rows += line(`+ bias of ${upper(layer)} map ${unit.index[0]}`, signed(unit.bias));
      rows += line(`= sum before the ${net.constants.activation === "relu" ? "ReLU" : "squashing"}`, format(unit.pre), "lenet-subtotal");
      rows += activationText(net, unit.pre, unit.value);
      return html + `<table class="lenet-sum">${rows}</table>`;
    }

    maxpool(net, stages, layer, unit, names) {
      const below = upper(names[names.indexOf(layer) - 1]);
      const [lo, hi] = range(stages[names[names.indexOf(layer) - 1]]);  // the layer's own scale
      return '<div class="lenet-grids">' +
             figure(numberGrid(unit.values, 2, (v) => grey(v, Math.min(lo, 0), hi), 3, "window", unit.largest, "lenet-grid-big"),
                    `the 2x2 window of ${below} values; outlined: the largest`) + "</div>" +
             `<table class="lenet-sum">${line(`largest of ${unit.values.map((v) => format(v)).join(", ")}`,
                                              format(unit.value), "lenet-result")}</table>`;
    }

    subsampling(net, stages, layer, unit, names) {
      const below = upper(names[names.indexOf(layer) - 1]);
      const [lo, hi] = range(stages[names[names.indexOf(layer) - 1]]);  // the layer's own scale
      const m = unit.index[0];
      return '<div class="lenet-grids">' +
             figure(numberGrid(unit.values, 2, (v) => grey(v, Math.min(lo, 0), hi), 3, "window", -1, "lenet-grid-big"),
                    `the 2x2 window of ${below} values`) + "</div>" +
             '<table class="lenet-sum">' +
             line("sum of the four", format(unit.sum)) +
             line(`\u00d7 coefficient of ${upper(layer)} map ${m}`, format(unit.coefficient)) +
             line("= the sum times the coefficient", format(unit.sum * unit.coefficient), "lenet-subtotal") +
             line(`+ bias of ${upper(layer)} map ${m}`, signed(unit.bias)) +
             line("= sum before the squashing", format(unit.pre), "lenet-subtotal") +
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
      rows += wide(`the other ${unit.others} products, added`, signed(unit.rest));
      rows += wide(`+ bias of ${upper(layer)} unit ${unit.index[0]}`, signed(unit.bias));
      if (unit.activation) {
        rows += wide(`= sum before the ${unit.activation === "relu" ? "ReLU" : "squashing"}`, format(unit.pre), "lenet-subtotal");
        rows += activationText(net, unit.pre, unit.value).replace("<th ", '<th colspan="3" ');
      } else {
        rows += wide(`= the logit of digit ${unit.index[0]}`, format(unit.pre), "lenet-result");
      }
      let html = '<table class="lenet-sum lenet-products"><thead><tr><th scope="col">input</th>' +
                 '<th scope="col">value</th><th scope="col">\u00d7 weight</th><th scope="col">= product</th>' +
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
        return `<tr class="${cls}" data-digit="${d}"><th scope="row">${d}${d === unit.winner ? " (wins)" : ""}</th>` +
               `<td>${format(v)}</td><td>${power(e[d])}</td>` +
               `<td>${(100 * unit.probabilities[d]).toFixed(2)}%</td></tr>`;
      }).join("");
      return `<p class="lenet-step">Softmax turns the ten logits into probabilities that add up to 1: ` +
             `each e<sup>logit</sup> divided by the sum of the ten. (Subtracting the largest logit, ` +
             `${format(top)}, from each first keeps the numbers small and changes nothing.) ` +
             "The largest logit wins.</p>" +
             '<table class="lenet-sum lenet-softmax"><thead><tr><th scope="col">digit</th><th scope="col">logit</th>' +
             `<th scope="col">e<sup>logit ${MINUS} ${format(top)}</sup></th><th scope="col">probability</th></tr></thead>` +
             `<tbody>${rows}<tr class="lenet-subtotal"><th scope="row">sum</th><td></td>` +
             `<td>${power(total)}</td><td>100%</td></tr></tbody></table>`;
    }

    rbf(net, stages, layer, unit) {
      const bitmaps = net.constants.DIGIT_BITMAPS;
      const [h, w] = [bitmaps[0].length, bitmaps[0][0].length];
      const k = unit.index[0];
      let html = `<p class="lenet-step">The ten bitmaps (${w}x${h}, black +1, white ${MINUS}1) and the ` +
                 "distance of F6's values to each; choose one to see its squared differences.</p>" +
                 '<div class="lenet-bitmaps">';
      unit.penalties.forEach((d, digit) => {
        const cls = [digit === unit.winner ? "lenet-winner-card" : "", digit === k ? "lenet-chosen" : ""].join(" ");
        html += `<button type="button" class="lenet-card ${cls}" data-digit="${digit}" data-focus="digit-${digit}" ` +
                `aria-pressed="${digit === k}">${frame("lenet-bitmap", ` data-bitmap="${digit}"`)}` +
                `<span>${digit}: ${format(d, 2)}</span>${digit === unit.winner ? "<span>closest</span>" : ""}</button>`;
      });
      html += "</div>";
      const f6 = upper(net.layers[net.layers.length - 2].name);
      html += `<p class="lenet-step">Digit ${k} in full: ${f6}'s ${unit.state.length} values, laid out ` +
              `${w} wide like the bitmap, minus the bitmap, squared (shown to 2 decimals):</p>` +
              '<div class="lenet-grids">' +
              figure(numberGrid(unit.state, w, (v) => diverging(v, net.constants.A), 2, "F6 values"),
                     `${f6}'s ${unit.state.length} values`) +
              `<span class="lenet-op">${MINUS}</span>` +
              figure(numberGrid(unit.centre, w, (v) => diverging(v, 1.5), 0, "bitmap"),
                     `the bitmap of digit ${k}`) +
              '<span class="lenet-op">\u2192</span>' +
              figure(numberGrid(unit.squares, w, (v) => diverging(v, limitOf(unit.squares)), 2, "squares"),
                     "the squared differences") + "</div>" +
              '<table class="lenet-sum">' +
              line(`sum of the ${unit.squares.length} squared differences: the distance to digit ${k}`, format(unit.distance), "lenet-result") +
              line(`the smallest of the ten distances: digit ${unit.winner}`, format(unit.penalties[unit.winner]),
                   unit.winner === k ? "lenet-subtotal" : "") +
              line("(the network's output is minus the distance, so the largest output wins)", format(unit.value)) +
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

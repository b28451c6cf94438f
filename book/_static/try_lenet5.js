/* The drawing page: a canvas to draw on, and every layer of LeNet-5 as you draw.
 * The network and the preprocessing are in lenet5.js (window.lenet); this file only draws. */
(function () {
  "use strict";
  const page = document.getElementById("lenet-demo");
  if (!page || !window.lenet) return;

  const pad = document.getElementById("lenet-pad");
  const ctx = pad.getContext("2d", { willReadFrequently: true });
  const SIDE = pad.width;  // 280 canvas pixels; the stroke is about as thick as MNIST's pen
  const STROKE = Math.round(SIDE / 12);

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
    button.title = `MNIST test digit #${sample.index}, a ${sample.label}`;
    button.addEventListener("click", () => loadDigit(sample.pixels));
    samples.appendChild(button);
  }

  function loadDigit(pixels) {
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const image = small.getContext("2d").createImageData(28, 28);
    pixels.forEach((v, i) => { image.data[4 * i + 3] = v; });  // ink as opacity
    small.getContext("2d").putImageData(image, 0, 0);
    ctx.clearRect(0, 0, SIDE, SIDE);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, SIDE, SIDE);
    schedule();
  }

  // --- what the network sees, layer by layer --------------------------------------------------
  function inkOf() {
    const rgba = ctx.getImageData(0, 0, SIDE, SIDE).data;
    const ink = new Array(SIDE * SIDE);
    for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i + 3];  // opacity = ink, 0..255
    return ink;
  }

  // one map (size x size values) into a small canvas; grey from lo (white) to hi (black)
  function paint(canvas, values, offset, size, lo, hi) {
    canvas.width = canvas.height = size;
    const g = canvas.getContext("2d");
    const image = g.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const t = hi > lo ? (values[offset + i] - lo) / (hi - lo) : 0;
      const grey = Math.round(255 * (1 - Math.min(Math.max(t, 0), 1)));
      image.data.set([grey, grey, grey, 255], 4 * i);
    }
    g.putImageData(image, 0, 0);
  }

  function panel(id, count, size) {
    const holder = document.getElementById(id);
    while (holder.children.length < count) holder.appendChild(document.createElement("canvas"));
    return [...holder.children].map((canvas) => { canvas.className = "lenet-map"; return canvas; })
      .slice(0, count).map((canvas) => [canvas, size]);
  }

  const range = (values) => values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);

  function showMaps(id, values, count, size) {
    const [lo, hi] = range(values);  // one scale for the whole layer, so maps can be compared
    panel(id, count, size).forEach(([canvas], m) => paint(canvas, values, m * size * size, size, Math.min(lo, 0), hi));
  }

  function showStrip(id, values) {
    const canvas = document.getElementById(id);
    canvas.width = values.length;
    canvas.height = 1;
    const [, hi] = range(values);
    const g = canvas.getContext("2d");
    const image = g.createImageData(values.length, 1);
    values.forEach((v, i) => {
      const grey = Math.round(255 * (1 - (hi > 0 ? v / hi : 0)));
      image.data.set([grey, grey, grey, 255], 4 * i);
    });
    g.putImageData(image, 0, 0);
  }

  const bars = document.getElementById("lenet-bars");
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "lenet-bar";
    row.innerHTML = `<span class="lenet-digit">${d}</span><span class="lenet-track"><span class="lenet-fill"></span></span><span class="lenet-value"></span>`;
    bars.appendChild(row);
  }

  function update() {
    pending = false;
    const pixels = window.lenet.preprocess(inkOf(), SIDE, SIDE);
    const blank = pixels.every((v) => v === 0);
    page.classList.toggle("lenet-blank", blank);
    const result = window.lenet.predict(pixels);
    const s = result.stages;
    paint(document.getElementById("lenet-mnist"), pixels, 0, 28, 0, 255);
    const [lo, hi] = range(s.input);
    paint(document.getElementById("lenet-input"), s.input, 0, 32, lo, hi);
    showMaps("lenet-c1", s.c1, 6, 28);
    showMaps("lenet-s2", s.s2, 6, 14);
    showMaps("lenet-c3", s.c3, 16, 10);
    showMaps("lenet-s4", s.s4, 16, 5);
    showStrip("lenet-f5", Array.from(s.f5));
    showStrip("lenet-f6", Array.from(s.f6));
    [...bars.children].forEach((row, d) => {
      const p = result.probabilities[d];
      row.querySelector(".lenet-fill").style.width = `${(100 * p).toFixed(1)}%`;
      row.querySelector(".lenet-value").textContent = blank ? "" : `${(100 * p).toFixed(1)}%`;
      row.classList.toggle("lenet-winner", !blank && d === result.prediction);
    });
    document.getElementById("lenet-answer").textContent = blank
      ? "Draw a digit in the box."
      : `LeNet-5 reads a ${result.prediction} (${(100 * result.probabilities[result.prediction]).toFixed(1)}%).`;
    page.dataset.prediction = blank ? "" : String(result.prediction);
  }

  function schedule() {
    if (!pending) {
      pending = true;
      requestAnimationFrame(update);
    }
  }

  window.lenet.draw = { clear, loadDigit, update };  // for the console and the tests
  update();
})();

// The crainpaint app's page: open a photo, paint the hole on a canvas over a fitted view of it,
// send the mask to the server, follow the job, compare before/after and download the result.
// The mask canvas is at most `mask_max_side` pixels a side; the server scales it to the photo.
"use strict";

const PAINT_COLOUR = "rgb(255, 40, 90)";
const POLL_MILLISECONDS = 250;
const ZOOM_STEP = 1.25;

const byId = (id) => document.getElementById(id);
const elements = {};
for (const id of ["photo-input", "mask-input", "brush-tool", "eraser-tool", "brush-size",
                  "brush-size-value", "undo", "clear", "zoom-out", "zoom-in", "zoom-fit",
                  "zoom-value", "inpaint", "preset", "geometry", "seam", "dilate-px", "progress",
                  "status", "message", "compare", "compare-slider", "download", "paint-more",
                  "viewport", "stage", "before-image", "after-image", "divider", "mask-canvas", "drop-hint",
                  "limits"]) {
  elements[id.replace(/-(\w)/g, (_, letter) => letter.toUpperCase())] = byId(id);
}
const canvas = elements.maskCanvas;
const context = canvas.getContext("2d", { willReadFrequently: true });

const state = {
  config: null,
  photo: null,        // the photo being painted on (an upload or the last result)
  history: [],        // painting operations, replayed on undo: stroke, mask or clear
  stroke: null,       // the stroke being painted
  tool: "brush",
  zoom: 1,            // multiple of the size that fits the view
  busy: false,
  comparing: false,
};

function setStatus(text) { elements.status.textContent = text; }

function showMessage(text) {
  elements.message.textContent = text;
  elements.message.hidden = false;
}

function clearMessage() { elements.message.hidden = true; elements.message.textContent = ""; }

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch (ignored) { /* not JSON: fall through */ }
  return `The server answered ${response.status} ${response.statusText}.`;
}

function updateButtons() {
  const ready = state.photo !== null && !state.busy;
  elements.inpaint.disabled = !ready;
  elements.undo.disabled = !ready || state.history.length === 0;
  elements.clear.disabled = !ready || state.history.length === 0;
  elements.brushTool.setAttribute("aria-pressed", String(state.tool === "brush"));
  elements.eraserTool.setAttribute("aria-pressed", String(state.tool === "eraser"));
}

// ---------------------------------------------------------------------------------------------
// View: the stage is the photo's size times the fitting scale times the zoom.

function layout() {
  if (!state.photo) return;
  const { width, height } = state.photo;
  const fit = Math.min(elements.viewport.clientWidth / width,
                       elements.viewport.clientHeight / height);
  const scale = fit * state.zoom;
  elements.stage.style.width = `${Math.max(1, Math.round(width * scale))}px`;
  elements.stage.style.height = `${Math.max(1, Math.round(height * scale))}px`;
  elements.zoomValue.textContent = `${Math.round(scale * 100)}%`;
}

function setZoom(zoom) {
  state.zoom = Math.min(32, Math.max(1 / 4, zoom));
  layout();
}

// ---------------------------------------------------------------------------------------------
// Painting: operations are kept so that undo replays all but the last.

function canvasPoint(event) {
  const rect = canvas.getBoundingClientRect();
  return { x: (event.clientX - rect.left) * canvas.width / rect.width,
           y: (event.clientY - rect.top) * canvas.height / rect.height };
}

function drawSegment(stroke, from, to) {
  context.save();
  context.globalCompositeOperation = stroke.erase ? "destination-out" : "source-over";
  context.strokeStyle = context.fillStyle = PAINT_COLOUR;
  context.lineWidth = stroke.width;
  context.lineCap = context.lineJoin = "round";
  context.beginPath();
  if (from.x === to.x && from.y === to.y) {
    context.arc(to.x, to.y, stroke.width / 2, 0, 2 * Math.PI);
    context.fill();
  } else {
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
  }
  context.restore();
}

function redraw() {
  context.clearRect(0, 0, canvas.width, canvas.height);
  for (const operation of state.history) {
    if (operation.type === "clear") {
      context.clearRect(0, 0, canvas.width, canvas.height);
    } else if (operation.type === "mask") {
      context.drawImage(operation.canvas, 0, 0);
    } else {
      const points = operation.points;
      drawSegment(operation, points[0], points[0]);
      for (let index = 1; index < points.length; index++) {
        drawSegment(operation, points[index - 1], points[index]);
      }
    }
  }
}

function startStroke(event) {
  if (!state.photo || state.busy || event.button !== 0) return;
  if (state.comparing) leaveCompare();
  const rect = canvas.getBoundingClientRect();
  const point = canvasPoint(event);
  state.stroke = { type: "stroke", erase: state.tool === "eraser", points: [point],
                   width: Number(elements.brushSize.value) * canvas.width / rect.width };
  state.history.push(state.stroke);
  drawSegment(state.stroke, point, point);
  elements.stage.setPointerCapture(event.pointerId);
  event.preventDefault();
}

function continueStroke(event) {
  if (!state.stroke) return;
  const point = canvasPoint(event);
  const points = state.stroke.points;
  drawSegment(state.stroke, points[points.length - 1], point);
  points.push(point);
}

function endStroke() {
  state.stroke = null;
  updateButtons();
}

// The hole as the server reads it: an opaque PNG, white = hole; null when nothing is painted.
async function maskBlob() {
  const painted = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const output = new ImageData(canvas.width, canvas.height);
  let holes = 0;
  for (let index = 0; index < painted.length; index += 4) {
    const value = painted[index + 3] >= 128 ? 255 : 0;
    holes += value ? 1 : 0;
    output.data[index] = output.data[index + 1] = output.data[index + 2] = value;
    output.data[index + 3] = 255;
  }
  if (holes === 0) return null;
  const encoder = document.createElement("canvas");
  encoder.width = canvas.width;
  encoder.height = canvas.height;
  encoder.getContext("2d").putImageData(output, 0, 0);
  return new Promise((resolve) => encoder.toBlob(resolve, "image/png"));
}

// A mask file (white = hole) becomes a painting operation at the mask canvas's size.
async function loadMaskFile(file) {
  clearMessage();
  if (!state.photo) { showMessage("Open a photo first, then load its mask."); return; }
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch (error) {
    showMessage(`Cannot open ${file.name}: it is not an image this browser reads.`);
    return;
  } finally {
    URL.revokeObjectURL(url);
  }
  const photoAspect = state.photo.width / state.photo.height;
  if (Math.abs(image.naturalWidth / image.naturalHeight - photoAspect) > 0.02 * photoAspect) {
    showMessage(`The mask ${file.name} is ${image.naturalWidth}×${image.naturalHeight} but the ` +
                `photo is ${state.photo.width}×${state.photo.height}: a mask must have the ` +
                "photo's shape.");
    return;
  }
  const layer = document.createElement("canvas");
  layer.width = canvas.width;
  layer.height = canvas.height;
  const layerContext = layer.getContext("2d");
  layerContext.drawImage(image, 0, 0, layer.width, layer.height);
  const pixels = layerContext.getImageData(0, 0, layer.width, layer.height);
  const data = pixels.data;
  for (let index = 0; index < data.length; index += 4) {
    const hole = (data[index] + data[index + 1] + data[index + 2]) / 3 > 127;
    [data[index], data[index + 1], data[index + 2]] = [255, 40, 90];
    data[index + 3] = hole ? 255 : 0;
  }
  layerContext.putImageData(pixels, 0, 0);
  if (state.comparing) leaveCompare();
  state.history.push({ type: "mask", canvas: layer });
  redraw();
  updateButtons();
  setStatus(`Loaded the mask ${file.name}.`);
}

// ---------------------------------------------------------------------------------------------
// Photos and jobs.

async function showPhoto(photo, name) {
  state.photo = photo;
  const scale = Math.min(1, state.config.mask_max_side / Math.max(photo.width, photo.height));
  canvas.width = Math.max(1, Math.round(photo.width * scale));
  canvas.height = Math.max(1, Math.round(photo.height * scale));
  state.history = [];
  redraw();
  elements.beforeImage.src = photo.view_url;
  await elements.beforeImage.decode();
  elements.afterImage.hidden = true;
  elements.stage.hidden = false;
  elements.dropHint.hidden = true;
  elements.compare.hidden = true;
  setComparing(false);
  state.zoom = 1;
  layout();
  updateButtons();
  setStatus(`${name}: ${photo.width}×${photo.height} (${photo.megapixels} megapixels, ` +
            `${photo.bit_depth}-bit). Paint over what to remove.`);
  document.body.dataset.state = "ready";
}

async function openPhotoFile(file) {
  if (!file || state.busy) return;
  clearMessage();
  state.busy = true;
  updateButtons();
  elements.progress.hidden = false;
  elements.progress.removeAttribute("value");
  setStatus(`Opening ${file.name}…`);
  try {
    const response = await fetch(`/api/photos?name=${encodeURIComponent(file.name)}`,
                                 { method: "POST", body: file });
    if (!response.ok) {
      showMessage(await errorOf(response));
      setStatus(state.photo ? "Kept the previous photo." : "Open a photo to begin.");
      return;
    }
    const body = await response.json();
    await showPhoto(body.photo, file.name);
  } catch (error) {
    showMessage(`Cannot reach the server: ${error.message}`);
  } finally {
    state.busy = false;
    elements.progress.hidden = true;
    updateButtons();
  }
}

function jobOptions() {
  return { preset: elements.preset.value, geometry: elements.geometry.value,
           seam: elements.seam.value, dilate_px: elements.dilatePx.value || "0" };
}

function showProgress(job) {
  if (job.state === "queued") {
    elements.progress.removeAttribute("value");
    setStatus(`Waiting in line: position ${job.position}.`);
    return;
  }
  if (job.estimate_seconds) {
    elements.progress.value = Math.min(0.95, job.elapsed_seconds / job.estimate_seconds);
  } else {
    elements.progress.removeAttribute("value");
  }
  setStatus(`Working: ${job.stage}… ${job.elapsed_seconds.toFixed(1)} s`);
}

async function followJob(job) {
  while (job.state === "queued" || job.state === "running") {
    showProgress(job);
    await new Promise((resolve) => setTimeout(resolve, POLL_MILLISECONDS));
    const response = await fetch(`/api/jobs/${job.job_id}`);
    if (!response.ok) throw new Error(await errorOf(response));
    job = (await response.json()).job;
  }
  return job;
}

async function inpaint() {
  if (!state.photo || state.busy) return;
  clearMessage();
  const blob = await maskBlob();
  if (!blob) {
    showMessage("The mask is empty: paint over what to remove (or load a mask) first.");
    return;
  }
  state.busy = true;
  updateButtons();
  document.body.dataset.state = "working";
  elements.progress.hidden = false;
  setStatus("Sending the mask…");
  try {
    const query = new URLSearchParams({ photo: state.photo.photo_id, ...jobOptions() });
    const response = await fetch(`/api/jobs?${query}`, {
      method: "POST", body: blob, headers: { "Content-Type": "image/png" } });
    if (!response.ok) throw new Error(await errorOf(response));
    const job = await followJob((await response.json()).job);
    if (job.state === "failed") throw new Error(job.error);
    await showResult(job.result, job.elapsed_seconds);
  } catch (error) {
    showMessage(error.message);
    setStatus("Inpainting did not finish; the photo and the mask are as they were.");
    document.body.dataset.state = "ready";
  } finally {
    state.busy = false;
    elements.progress.hidden = true;
    updateButtons();
  }
}

function setComparing(comparing) {
  state.comparing = comparing;
  document.body.classList.toggle("comparing", comparing);
  elements.afterImage.hidden = !comparing;
  elements.divider.hidden = !comparing;
  elements.compareSlider.parentElement.hidden = !comparing;
  elements.paintMore.hidden = !comparing;
}

// Before on the left of the divider, after on its right.
function updateCompare() {
  elements.afterImage.style.clipPath = `inset(0 0 0 ${elements.compareSlider.value}%)`;
  elements.divider.style.left = `${elements.compareSlider.value}%`;
}

// The result becomes the photo to paint on; before/after are shown until painting goes on.
async function showResult(result, seconds) {
  elements.afterImage.src = result.view_url;
  await elements.afterImage.decode();
  state.photo = result;
  state.history = [];
  redraw();
  elements.download.href = result.download_url;
  elements.download.download = result.download_name;
  elements.compare.hidden = false;
  setComparing(true);
  updateCompare();
  setStatus(`Inpainted ${result.width}×${result.height} in ${seconds.toFixed(1)} s. Drag the ` +
            "slider to compare; paint to go on with the result.");
  document.body.dataset.state = "done";
}

function leaveCompare() {
  elements.beforeImage.src = state.photo.view_url;
  setComparing(false);
}

// ---------------------------------------------------------------------------------------------
// Wiring.

function selectPreset() {
  const preset = state.config.presets[elements.preset.value];
  elements.geometry.value = preset.geometry;
  elements.seam.value = preset.seam;
}

async function start() {
  const response = await fetch("/api/config");
  state.config = await response.json();
  for (const [select, choices] of [[elements.geometry, state.config.geometries],
                                   [elements.seam, state.config.seams]]) {
    for (const choice of choices) select.add(new Option(choice, choice));
  }
  selectPreset();
  elements.dilatePx.max = state.config.max_dilate_px;
  elements.dilatePx.value = state.config.dilate_px;
  elements.limits.textContent = `Photos up to ${state.config.max_pixels_text} (this server's ` +
    "limit, set with --max_pixels); the download is a lossless PNG at the photo's full " +
    "resolution; pixels outside the painted hole are kept exactly.";
  updateButtons();
  document.body.dataset.state = "empty";
}

elements.photoInput.addEventListener("change", () => {
  openPhotoFile(elements.photoInput.files[0]);
  elements.photoInput.value = "";
});
elements.maskInput.addEventListener("change", () => {
  if (elements.maskInput.files[0]) loadMaskFile(elements.maskInput.files[0]);
  elements.maskInput.value = "";
});
elements.brushTool.addEventListener("click", () => { state.tool = "brush"; updateButtons(); });
elements.eraserTool.addEventListener("click", () => { state.tool = "eraser"; updateButtons(); });
elements.brushSize.addEventListener("input", () => {
  elements.brushSizeValue.textContent = elements.brushSize.value;
});
elements.undo.addEventListener("click", () => { state.history.pop(); redraw(); updateButtons(); });
elements.clear.addEventListener("click", () => {
  state.history.push({ type: "clear" });
  redraw();
  updateButtons();
});
elements.zoomIn.addEventListener("click", () => setZoom(state.zoom * ZOOM_STEP));
elements.zoomOut.addEventListener("click", () => setZoom(state.zoom / ZOOM_STEP));
elements.zoomFit.addEventListener("click", () => setZoom(1));
elements.viewport.addEventListener("wheel", (event) => {
  if (!event.ctrlKey || !state.photo) return;
  event.preventDefault();
  setZoom(state.zoom * (event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP));
}, { passive: false });
elements.inpaint.addEventListener("click", inpaint);
elements.preset.addEventListener("change", selectPreset);
elements.compareSlider.addEventListener("input", updateCompare);
elements.paintMore.addEventListener("click", leaveCompare);
elements.stage.addEventListener("pointerdown", startStroke);
elements.stage.addEventListener("pointermove", continueStroke);
elements.stage.addEventListener("pointerup", endStroke);
elements.stage.addEventListener("pointercancel", endStroke);
window.addEventListener("resize", layout);
document.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "z" && !state.busy) {
    elements.undo.click();
  }
});
for (const name of ["dragenter", "dragover"]) {
  document.addEventListener(name, (event) => {
    event.preventDefault();
    elements.viewport.classList.add("dragging");
  });
}
document.addEventListener("dragleave", () => elements.viewport.classList.remove("dragging"));
document.addEventListener("drop", (event) => {
  event.preventDefault();
  elements.viewport.classList.remove("dragging");
  const file = event.dataTransfer.files[0];
  if (file) openPhotoFile(file);
});

start().catch((error) => showMessage(`Cannot load the app's settings: ${error.message}`));

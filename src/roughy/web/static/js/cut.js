// A cut: the review (every word and pause kept or dropped, and why), overrides that make a
// new cut, renders with their progress, and the exports.

import { get, post } from "./api.js";
import { bytes, chip, field, h, seconds } from "./dom.js";
import { crumbs, showError } from "./ui.js";
import { player } from "./asset.js";

const OPEN = new Set(["pending", "processing"]);
const REASONS = {
  filler: "filler",
  false_start: "false start",
  retake: "retake",
  off_script: "off script",
  silence: "silence",
  override: "override",
};

// Script lines as the server numbers them: lines with a word in them; a script written as one
// paragraph is numbered by its sentences.
function scriptLines(script) {
  if (!script) return [];
  let lines = script.split(/\r?\n/).map((l) => l.trim()).filter((l) => /[\p{L}\p{N}]/u.test(l));
  if (lines.length === 1) lines = lines[0].split(/(?<=[.!?…])\s+/).filter((l) => /[\p{L}\p{N}]/u.test(l));
  return lines;
}

function reasonText(d) {
  if (!d.reason) return "";
  if (d.reason === "retake" && d.line) return `retake of line ${d.line}`;
  if (d.reason === "false_start" && d.line) return `false start of line ${d.line}`;
  return REASONS[d.reason] || d.reason;
}

// The takes of each script line: the words of each (line, take), in the recording's order.
function takesOf(items) {
  const byLine = new Map();
  for (const d of items) {
    if (d.kind === "pause" || !d.line || !d.take) continue;
    if (!byLine.has(d.line)) byLine.set(d.line, new Map());
    const takes = byLine.get(d.line);
    if (!takes.has(d.take)) takes.set(d.take, { line: d.line, take: d.take, words: [], start: Infinity, end: 0 });
    const take = takes.get(d.take);
    take.words.push(d);
    take.start = Math.min(take.start, Number(d.start));
    take.end = Math.max(take.end, Number(d.end));
  }
  return byLine;
}

export async function cutView(view, page, cutId) {
  let cut = await get(`/v1/cuts/${cutId}`);
  const asset = await get(`/v1/assets/${cut.asset_id}`);
  const project = await get(`/v1/projects/${asset.project_id}`);
  const name = asset.filename || asset.id.slice(0, 8);
  crumbs(
    h("a", { href: "#/" }, "Projects"),
    h("a", { href: `#/projects/${project.id}` }, project.name),
    h("a", { href: `#/assets/${asset.id}` }, name),
    h("span", {}, "Cut"),
  );
  const status = h("div", { id: "cut-status" });
  view.replaceChildren(h("section", { className: "card" }, h("h1", {}, `Cut of ${name}`), status));

  page.every(1000, async () => {
    cut = await get(`/v1/cuts/${cutId}`);
    status.replaceChildren(
      h("p", {}, chip(cut.state), " ", cut.state === "failed" ? cut.error_message : OPEN.has(cut.state) ? "Transcribing and deciding…" : ""),
    );
    if (OPEN.has(cut.state)) return true;
    if (cut.state === "completed") await review(view, page, cut, asset);
    return false;
  });
}

async function review(view, page, cut, asset) {
  const { items, missing_lines: missing } = await get(`/v1/cuts/${cut.id}/decisions`);
  const lines = scriptLines(cut.script);
  const media = player(asset);
  let stopAt = null;
  media.addEventListener("timeupdate", () => {
    if (stopAt !== null && media.currentTime >= stopAt) {
      media.pause();
      stopAt = null;
    }
  });
  function play(start, end) {
    // The source, from its signed URL: the browser asks for the bytes it needs (Range).
    media.currentTime = Number(start);
    stopAt = Number(end);
    media.play().catch(() => {});
  }

  const overrides = cut.overrides.slice();
  async function remake(more) {
    let next = overrides;
    for (const o of more) {
      if ("take" in o) next = next.filter((p) => !("take" in p) || p.line !== o.line);
      next = next.concat([o]);
    }
    try {
      const made = await post("/v1/cuts", { asset_id: cut.asset_id, script: cut.script, options: cut.options, overrides: next });
      location.hash = `#/cuts/${made.id}`;
    } catch (error) {
      showError(error);
    }
  }

  // Summary: durations, missing lines, the overrides it was made with.
  const before = Number(asset.duration_seconds || 0);
  const after = Number(cut.kept_duration_seconds || 0);
  const summary = h(
    "div",
    { id: "summary" },
    h(
      "dl",
      { className: "facts" },
      h("dt", {}, "Before"),
      h("dd", { id: "before" }, seconds(before)),
      h("dt", {}, "After"),
      h("dd", { id: "after" }, seconds(after)),
      h("dt", {}, "Dropped"),
      h("dd", {}, before ? `${Math.round((100 * (before - after)) / before)} %` : "–"),
    ),
    missing.length
      ? h(
          "div",
          { id: "missing", className: "notice" },
          h("strong", {}, "Lines never said: "),
          h("ol", {}, missing.map((n) => h("li", { value: n }, lines[n - 1] || `line ${n}`))),
        )
      : "",
    overrides.length
      ? h("p", { id: "overrides", className: "muted" }, `Made with ${overrides.length} override(s) over the decision.`)
      : "",
  );

  // The transcript: each word and pause, kept or struck through with its reason.
  const selected = new Set();
  const keepButton = h("button", { type: "button", disabled: true, id: "keep-selected" }, "Keep selected");
  const dropButton = h("button", { type: "button", disabled: true, id: "drop-selected" }, "Drop selected");
  function selection(keep) {
    const chosen = items.filter((d, i) => selected.has(i));
    return chosen.map((d) => ({ start: d.start, end: d.end, keep }));
  }
  keepButton.addEventListener("click", () => remake(selection(true)));
  dropButton.addEventListener("click", () => remake(selection(false)));
  let previous = null; // the reason shows once for a run of words dropped for it
  const words = items.map((d, i) => {
    const reason = reasonText(d);
    const text = d.kind === "pause" ? `${(Number(d.end) - Number(d.start)).toFixed(1)}s` : d.text;
    const first = d.kind !== "pause" && reason !== previous;
    if (d.kind !== "pause") previous = reason;
    const el = h(
      "button",
      {
        type: "button",
        className: `d ${d.kind} ${d.keep ? "kept" : "dropped"}${d.reason ? ` reason-${d.reason}` : ""}`,
        title: `${Number(d.start).toFixed(2)}–${Number(d.end).toFixed(2)} s${reason ? `: ${reason}` : ""}${d.note ? ` (${d.note})` : ""}`,
        dataset: { index: i, keep: d.keep, reason: d.reason || "", kind: d.kind },
        onclick: () => {
          if (selected.has(i)) selected.delete(i);
          else selected.add(i);
          el.classList.toggle("selected");
          keepButton.disabled = dropButton.disabled = selected.size === 0;
          play(d.start, d.end);
        },
      },
      text,
      reason && first ? h("small", { className: "why" }, reason) : "",
    );
    return el;
  });
  const transcript = h(
    "div",
    { className: "card" },
    h("h2", {}, "Review"),
    h(
      "p",
      { className: "legend muted" },
      h("span", { className: "d kept" }, "kept"),
      " ",
      h("span", { className: "d dropped" }, "dropped"),
      " Click a word or a pause to hear it from the source and select it.",
    ),
    h("div", { className: "transcript", id: "transcript" }, words),
    h("div", { className: "inline sticky" }, keepButton, dropButton),
  );

  // Takes: each script line's attempts, the kept one marked; keep another instead.
  const takes = takesOf(items);
  const takeList = h(
    "ol",
    { className: "takes", id: "takes" },
    lines.map((line, index) => {
      const n = index + 1;
      const mine = [...(takes.get(n) || new Map()).values()];
      return h(
        "li",
        { value: n, dataset: { line: n } },
        h("div", { className: "line" }, line),
        mine.length
          ? h(
              "ul",
              {},
              mine.map((t) => {
                const kept = t.words.some((w) => w.keep);
                const why = t.words.find((w) => !w.keep && w.reason !== "filler");
                return h(
                  "li",
                  { className: `take ${kept ? "kept" : "dropped"}`, dataset: { take: t.take } },
                  h("span", { className: "grow" }, `Take ${t.take} `, h("span", { className: "muted" }, `${seconds(t.start)}–${seconds(t.end)}`), " ", t.words.map((w) => w.text).join(" ")),
                  kept ? h("span", { className: "chip state-ready" }, "kept") : h("span", { className: "chip" }, why ? reasonText(why) : "dropped"),
                  h("button", { type: "button", className: "small", onclick: () => play(t.start, t.end) }, "Play"),
                  kept ? "" : h("button", { type: "button", className: "small primary keep-take", onclick: () => remake([{ line: n, take: t.take }]) }, "Keep this take"),
                );
              }),
            )
          : h("p", { className: "muted" }, "Not said."),
      );
    }),
  );

  view.replaceChildren(
    h("section", { className: "card" }, h("h1", {}, `Cut of ${asset.filename || asset.id.slice(0, 8)}`), chip(cut.state), summary, h("div", { className: "media" }, media)),
    transcript,
    lines.length ? h("section", { className: "card" }, h("h2", {}, "Takes"), takeList) : "",
    renders(page, cut, asset),
    exportsCard(cut),
  );
}

function exportsCard(cut) {
  const links = [
    ["SRT", `/v1/cuts/${cut.id}/subtitle/export?format=srt`],
    ["VTT", `/v1/cuts/${cut.id}/subtitle/export?format=vtt`],
    ["FCPXML", `/v1/cuts/${cut.id}/export?format=fcpxml`],
    ["xmeml", `/v1/cuts/${cut.id}/export?format=xmeml`],
    ["EDL", `/v1/cuts/${cut.id}/export?format=edl`],
    ["OTIO", `/v1/cuts/${cut.id}/export?format=otio`],
  ];
  return h(
    "section",
    { className: "card" },
    h("h2", {}, "Exports"),
    h("div", { className: "inline wrap", id: "exports" }, links.map(([label, href]) => h("a", { className: "button", href, download: "" }, label))),
  );
}

function select(name, options) {
  return h("select", { name, id: `render-${name}` }, options.map(([value, label]) => h("option", { value }, label)));
}

function renders(page, cut, asset) {
  const audioOnly = asset.type === "audio";
  const format = select("format", (audioOnly ? [] : [["mp4", "MP4 (H.264 + AAC)"], ["mov", "MOV"]]).concat([["m4a", "M4A (AAC)"], ["mp3", "MP3"]]));
  const resolution = select("resolution", [["", "Auto"], ["720p", "720p"], ["1080p", "1080p"], ["4k", "4K"]]);
  const video = select("video_bitrate", [["", "Auto"], ["5", "5 Mbps"], ["10", "10 Mbps"], ["20", "20 Mbps"], ["50", "50 Mbps"]]);
  const audio = select("audio_bitrate", [["", "Auto"], ["128", "128 kbps"], ["192", "192 kbps"], ["256", "256 kbps"], ["320", "320 kbps"]]);
  const rate = h("input", { type: "number", name: "frame_rate", id: "render-frame_rate", min: 1, max: 120, placeholder: "Auto" });
  const list = h("ul", { className: "rows", id: "renders" });
  // Audio formats have no picture: its settings do not apply.
  const pictureOnly = () => {
    const sound = ["m4a", "mp3"].includes(format.value);
    for (const control of [resolution, video, rate]) control.disabled = sound;
  };
  format.addEventListener("change", pictureOnly);
  pictureOnly();
  const form = h(
    "form",
    {
      id: "render-form",
      className: "grid",
      onsubmit: async (event) => {
        event.preventDefault();
        const output = { format: format.value };
        if (resolution.value) output.resolution = resolution.value;
        if (video.value) output.video_bitrate = Number(video.value);
        if (audio.value) output.audio_bitrate = Number(audio.value);
        if (rate.value) output.frame_rate = Number(rate.value);
        for (const [name, control] of [["resolution", resolution], ["video_bitrate", video], ["frame_rate", rate]]) {
          if (control.disabled) delete output[name];
        }
        try {
          await post("/v1/renders", { asset_id: cut.asset_id, cut_id: cut.id, output });
          watch();
        } catch (error) {
          showError(error);
        }
      },
    },
    field("Format", format),
    field("Resolution", resolution),
    field("Video bitrate", video),
    field("Audio bitrate", audio),
    field("Frame rate", rate),
    h("button", { type: "submit", className: "primary", id: "render-button" }, "Render"),
  );

  function row(render) {
    const out = render.output;
    const label = [out.format, out.resolution, out.video_bitrate && `${out.video_bitrate} Mbps`, out.audio_bitrate && `${out.audio_bitrate} kbps`].filter(Boolean).join(" · ");
    const facts = render.state === "completed" ? ` · ${seconds(render.duration_seconds)} · ${bytes(render.size_bytes)}` : "";
    const cells = [h("span", { className: "grow" }, label + facts), chip(render.state)];
    if (OPEN.has(render.state)) {
      cells.push(h("progress", { max: 1, value: render.progress }), h("span", { className: "muted" }, `${Math.round(render.progress * 100)} %`));
      cells.push(
        h("button", {
          type: "button",
          className: "small",
          onclick: async () => {
            try {
              await post(`/v1/renders/${render.id}/cancel`);
              watch();
            } catch (error) {
              showError(error);
            }
          },
        }, "Cancel"),
      );
    }
    if (render.state === "failed") cells.push(h("span", { className: "muted" }, render.error_message));
    if (render.download_url) cells.push(h("a", { className: "button primary download-render", href: render.download_url, download: "" }, "Download"));
    return h("li", { className: "row", dataset: { id: render.id, state: render.state } }, cells);
  }

  let watching = false;
  function watch() {
    if (watching) return;
    watching = true;
    page.every(1000, async () => {
      const { items } = await get(`/v1/renders?cut_id=${cut.id}&limit=100`);
      list.replaceChildren(...(items.length ? items.map(row) : [h("li", { className: "muted" }, "No renders yet.")]));
      watching = items.some((r) => OPEN.has(r.state));
      return watching;
    });
  }
  watch();
  return h("section", { className: "card" }, h("h2", {}, "Render"), form, list);
}

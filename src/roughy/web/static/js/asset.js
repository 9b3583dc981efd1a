// An asset: its state live, its facts, credits charged, download; cut it with a script.

import { get, post } from "./api.js";
import { bytes, chip, h, seconds } from "./dom.js";
import { crumbs, showError } from "./ui.js";

const SETTLED = new Set(["ready", "failed", "pending_payment"]);

async function charged(assetId) {
  const { items } = await get("/v1/credits/history?limit=100");
  const entries = items.filter((entry) => entry.asset_id === assetId);
  return entries.length ? -entries.reduce((sum, entry) => sum + entry.delta, 0) : null;
}

function facts(asset, credits) {
  const rows = [
    ["State", chip(asset.state)],
    ["Type", asset.type || "–"],
    ["Duration", seconds(asset.duration_seconds)],
    ["Size", bytes(asset.size_bytes)],
    ["Language", asset.language || "detected"],
    ["Credits charged", credits === null ? "–" : String(credits)],
  ];
  if (asset.error_message) rows.push(["Why it failed", asset.error_message]);
  return h("dl", { className: "facts", id: "asset-facts" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function player(asset) {
  const tag = asset.type === "audio" ? "audio" : "video";
  return h(tag, { id: "player", controls: true, preload: "metadata", src: asset.download_url });
}

export async function assetView(view, page, assetId) {
  let asset = await get(`/v1/assets/${assetId}`);
  const project = await get(`/v1/projects/${asset.project_id}`);
  const name = asset.filename || asset.id.slice(0, 8);
  crumbs(h("a", { href: "#/" }, "Projects"), h("a", { href: `#/projects/${project.id}` }, project.name), h("span", {}, name));

  const about = h("div", {});
  const media = h("div", { className: "media" });
  const cuts = h("ul", { className: "rows", id: "cuts" });
  const script = h("textarea", { id: "script", name: "script", rows: 8, placeholder: "One line per script line. Leave empty to cut by the speech alone." });
  const file = h("input", { type: "file", id: "script-file", accept: ".txt,.md,text/plain" });
  file.addEventListener("change", async () => {
    if (file.files.length) script.value = await file.files[0].text();
  });
  const go = h("button", { type: "submit", className: "primary", id: "cut-button" }, "Cut it");
  const form = h(
    "form",
    {
      id: "cut-form",
      onsubmit: async (event) => {
        event.preventDefault();
        go.disabled = true;
        try {
          const text = script.value.trim();
          const cut = await post("/v1/cuts", { asset_id: assetId, script: text ? text : null });
          location.hash = `#/cuts/${cut.id}`;
        } catch (error) {
          showError(error);
        } finally {
          go.disabled = false;
        }
      },
    },
    h("label", { className: "field" }, h("span", {}, "Script (paste it, or load a text file)"), script),
    h("div", { className: "inline" }, file, h("span", { className: "grow" }), go),
  );
  view.replaceChildren(
    h("section", { className: "card" }, h("h1", {}, name), about, media),
    h("section", { className: "card" }, h("h2", {}, "Cut"), form),
    h("section", { className: "card" }, h("h2", {}, "Cuts of it"), cuts),
  );

  let shown = null;
  async function load() {
    asset = await get(`/v1/assets/${assetId}`);
    const credits = await charged(assetId);
    about.replaceChildren(
      facts(asset, credits),
      asset.download_url
        ? h("a", { className: "button", id: "download", href: asset.download_url, download: asset.filename || "" }, "Download")
        : "",
    );
    if (asset.state === "ready" && shown !== asset.id) {
      shown = asset.id;
      media.replaceChildren(player(asset));
    }
    go.disabled = !asset.cuttable;
    const list = await get(`/v1/cuts?asset_id=${assetId}&limit=100`);
    cuts.replaceChildren(
      ...(list.items.length
        ? list.items.map((cut) =>
            h(
              "li",
              { className: "row" },
              h("a", { href: `#/cuts/${cut.id}`, className: "grow" }, cut.script ? cut.script.split("\n")[0].slice(0, 80) : "By the speech alone"),
              cut.overrides.length ? h("span", { className: "chip" }, `${cut.overrides.length} override(s)`) : "",
              chip(cut.state),
              h("span", { className: "muted" }, cut.kept_duration_seconds ? seconds(cut.kept_duration_seconds) : ""),
            ),
          )
        : [h("li", { className: "muted" }, "Not cut yet.")]),
    );
    return !SETTLED.has(asset.state) || list.items.some((cut) => cut.state === "pending" || cut.state === "processing");
  }
  page.every(1000, async () => load());
}

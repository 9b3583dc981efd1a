// Projects: the list (create, delete), and one project: upload into it, its assets live.

import { ApiError, csrfToken, del, get, post } from "./api.js";
import { bytes, chip, h, seconds } from "./dom.js";
import { crumbs, showError } from "./ui.js";

export async function projectsView(view, page) {
  crumbs(h("span", {}, "Projects"));
  const list = h("ul", { className: "rows", id: "projects" });
  const name = h("input", { name: "name", id: "project-name", placeholder: "e.g. Interviews", required: true, maxLength: 200 });
  const form = h(
    "form",
    {
      className: "inline",
      id: "new-project",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const project = await post("/v1/projects", { name: name.value });
          location.hash = `#/projects/${project.id}`;
        } catch (error) {
          showError(error);
        }
      },
    },
    h("label", { className: "field grow" }, h("span", {}, "New project"), name),
    h("button", { type: "submit", className: "primary" }, "Create"),
  );
  view.replaceChildren(h("section", { className: "card" }, h("h1", {}, "Projects"), form, list));

  async function load() {
    const { items, total } = await get("/v1/projects?limit=100");
    list.replaceChildren(
      ...(items.length ? items.map(projectRow) : [h("li", { className: "muted" }, "No projects yet: create one above.")]),
    );
    if (total > items.length) list.append(h("li", { className: "muted" }, `and ${total - items.length} more`));
  }

  function projectRow(project) {
    const remove = h("button", { type: "button", className: "danger small" }, "Delete");
    remove.addEventListener("click", async () => {
      if (remove.dataset.armed !== "yes") {
        remove.dataset.armed = "yes";
        remove.textContent = "Delete it and its files?";
        return;
      }
      try {
        await del(`/v1/projects/${project.id}`);
        await load();
      } catch (error) {
        showError(error);
      }
    });
    return h(
      "li",
      { className: "row", dataset: { id: project.id } },
      h("a", { href: `#/projects/${project.id}`, className: "grow" }, project.name),
      h("span", { className: "muted" }, new Date(project.created_at).toLocaleDateString()),
      remove,
    );
  }

  await load();
}

function serverMessage(error) {
  // tus-js-client keeps the response: the API's envelope says what went wrong, for people.
  const response = error && error.originalResponse;
  if (!response) return null;
  try {
    return JSON.parse(response.getBody()).error.message;
  } catch {
    return null;
  }
}

function shouldRetry(error) {
  const response = error && error.originalResponse;
  const status = response ? response.getStatus() : 0;
  if (!status || status >= 500 || status === 423) return true;
  if (status !== 409) return false;
  // Retried: the upload was interrupted, or the server holds another offset (tus-js-client
  // asks it with HEAD). Not retried: the first chunk refused as media we do not take.
  let code = "";
  let message = "";
  try {
    ({ code, message } = JSON.parse(response.getBody()).error);
  } catch {
    return true;
  }
  return code === "upload_interrupted" || /Upload-Offset/.test(message);
}

function uploader(target, projectId, onChange) {
  const uppy = new Uppy.Uppy({ id: `roughy-${projectId}`, autoProceed: true, meta: { project_id: projectId } })
    .use(Uppy.Dashboard, {
      inline: true,
      target,
      width: "100%",
      height: 320,
      showProgressDetails: true,
      proudlyDisplayPoweredByUppy: false,
      note: "Audio or video. An upload cut off (a reload, a lost connection) resumes where it stopped: add the same file again.",
    })
    .use(Uppy.Tus, {
      endpoint: "/v1/uploads",
      headers: () => ({ "X-CSRF-Token": csrfToken() }),
      chunkSize: window.roughyUploadChunkBytes || 64 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      removeFingerprintOnSuccess: true,
      allowedMetaFields: ["project_id", "name", "type"],
      onShouldRetry: (error, attempt, options, next) => shouldRetry(error) && next(error),
    });
  uppy.on("upload-error", (file, error) => {
    const message = serverMessage(error) || "The upload failed.";
    showError(new ApiError(0, "upload", `${file.name}: ${message}`));
    uppy.setFileState(file.id, { error: message });
  });
  uppy.on("upload-success", onChange);
  // Finished files leave the drop zone (the list below has them); failed ones stay, with why.
  uppy.on("complete", (result) => result.successful.forEach((file) => uppy.removeFile(file.id)));
  uppy.on("upload", onChange);
  return uppy;
}

const SETTLED = new Set(["ready", "failed", "pending_payment"]);

export async function projectView(view, page, projectId) {
  const project = await get(`/v1/projects/${projectId}`);
  crumbs(h("a", { href: "#/" }, "Projects"), h("span", {}, project.name));
  const drop = h("div", { id: "uploader" });
  const rows = h("tbody", { id: "assets" });
  view.replaceChildren(
    h("section", { className: "card" }, h("h1", {}, project.name), h("h2", {}, "Upload"), drop),
    h(
      "section",
      { className: "card" },
      h("h2", {}, "Recordings"),
      h(
        "div",
        { className: "scroll" },
        h(
          "table",
          { className: "assets" },
          h("thead", {}, h("tr", {}, ["Name", "State", "Duration", "Size", "Added"].map((t) => h("th", {}, t)))),
          rows,
        ),
      ),
    ),
  );
  let refresh = () => {};
  const uppy = uploader(drop, projectId, () => refresh());
  page.onClose(() => uppy.destroy());

  async function load() {
    const { items } = await get(`/v1/assets?project_id=${projectId}&limit=100`);
    rows.replaceChildren(
      ...(items.length
        ? items.map((asset) =>
            h(
              "tr",
              { dataset: { id: asset.id, state: asset.state } },
              h("td", {}, h("a", { href: `#/assets/${asset.id}` }, asset.filename || asset.id.slice(0, 8))),
              h("td", {}, chip(asset.state)),
              h("td", {}, seconds(asset.duration_seconds)),
              h("td", {}, bytes(asset.size_bytes)),
              h("td", { className: "muted" }, new Date(asset.created_at).toLocaleString()),
            ),
          )
        : [h("tr", {}, h("td", { colSpan: 5, className: "muted" }, "Nothing uploaded yet."))]),
    );
    return items.some((asset) => !SETTLED.has(asset.state));
  }
  let fast = true;
  refresh = () => {
    fast = true;
  };
  let last = 0;
  page.every(1000, async () => {
    // Every second while something is on its way; every five once all have settled.
    if (!fast && Date.now() - last < 5000) return true;
    last = Date.now();
    fast = await load();
    page.balance();
    return true;
  });
}

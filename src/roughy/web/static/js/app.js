// The dashboard: a page per hash route, each over the public API.
//   #/                 projects
//   #/projects/ID      a project: upload, its assets
//   #/assets/ID        an asset: facts, download, cut it with a script, its cuts
//   #/cuts/ID          a cut: the review, overrides, renders and exports

import { api, get, setCsrf } from "./api.js";
import { h } from "./dom.js";
import { clearError, crumbs, showError } from "./ui.js";
import { assetView } from "./asset.js";
import { cutView } from "./cut.js";
import { projectView, projectsView } from "./projects.js";

const view = document.getElementById("view");
let current = null; // the page shown: its timers and Uppy go when another is shown

// The page's lifetime: polls that stop when it goes, things to close with it.
class Page {
  constructor() {
    this.timers = [];
    this.closers = [];
    this.gone = false;
  }
  every(ms, fn) {
    const tick = async () => {
      if (this.gone) return;
      let again = true;
      try {
        again = (await fn()) !== false;
      } catch (error) {
        showError(error);
      }
      if (again && !this.gone) this.timers.push(setTimeout(tick, ms));
    };
    tick();
  }
  onClose(fn) {
    this.closers.push(fn);
  }
  close() {
    this.gone = true;
    this.timers.forEach(clearTimeout);
    this.closers.forEach((fn) => fn());
  }
}

async function balance() {
  try {
    const { balance } = await get("/v1/credits/balance");
    document.getElementById("balance").textContent = `${balance} credits`;
  } catch {
    /* shown where it matters */
  }
}

function signInView() {
  if (current) current.close();
  current = null;
  document.getElementById("who").textContent = "";
  document.getElementById("balance").textContent = "";
  document.getElementById("sign-out").hidden = true;
  crumbs();
  const key = h("input", {
    type: "password",
    name: "api_key",
    id: "api-key",
    autocomplete: "off",
    placeholder: "sk_…",
    required: true,
  });
  const form = h(
    "form",
    {
      className: "card narrow",
      id: "sign-in",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const session = await api("POST", "/dashboard/session", { api_key: key.value });
          key.value = "";
          started(session);
        } catch (error) {
          showError(error);
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("p", { className: "muted" }, "With an API key: the one the server printed when it first started, or one made with roughy keys create."),
    h("label", { className: "field" }, h("span", {}, "API key"), key),
    h("button", { type: "submit", className: "primary" }, "Sign in"),
  );
  view.replaceChildren(form);
  key.focus();
}

function started(session) {
  setCsrf(session.csrf_token);
  clearError();
  document.getElementById("who").textContent = session.email;
  document.getElementById("sign-out").hidden = false;
  balance();
  route();
}

async function route() {
  if (current) current.close();
  const page = (current = new Page());
  page.balance = balance;
  const [, kind, id] = (location.hash.replace(/^#/, "") || "/").split("/");
  view.replaceChildren(h("p", { className: "muted" }, "Loading…"));
  try {
    if (kind === "projects" && id) await projectView(view, page, id);
    else if (kind === "assets" && id) await assetView(view, page, id);
    else if (kind === "cuts" && id) await cutView(view, page, id);
    else await projectsView(view, page);
  } catch (error) {
    showError(error);
  }
}

document.getElementById("sign-out").addEventListener("click", async () => {
  try {
    await api("DELETE", "/dashboard/session");
  } finally {
    setCsrf(null);
    signInView();
  }
});

window.addEventListener("roughy:signed-out", () => signInView());

window.addEventListener("hashchange", () => {
  if (document.getElementById("sign-out").hidden) return;
  clearError();
  route();
});

(async () => {
  try {
    started(await get("/dashboard/session"));
  } catch {
    signInView();
  }
})();

// What every page shares: the error banner (an API error shows its message) and the trail.

import { ApiError } from "./api.js";
import { h } from "./dom.js";

const banner = document.getElementById("error");

export function showError(error) {
  const message = error instanceof ApiError ? error.message : String(error.message || error);
  banner.replaceChildren(
    h("span", { className: "message" }, message),
    h("button", { type: "button", className: "link", onclick: () => (banner.hidden = true) }, "Dismiss"),
  );
  banner.hidden = false;
  if (error instanceof ApiError && error.status === 401) {
    window.dispatchEvent(new Event("roughy:signed-out"));
  }
}

export function clearError() {
  banner.hidden = true;
}

export function crumbs(...parts) {
  document.getElementById("crumbs").replaceChildren(
    ...parts.flatMap((part, i) => [i ? h("span", { className: "muted" }, " / ") : "", part]),
  );
}

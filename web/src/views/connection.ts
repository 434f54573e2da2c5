// The visitor's Calendly connection: connect with Calendly's OAuth button or a personal access
// token, see what is connected, disconnect.
import { answer, api, type Connection, GatewayError } from "../api";
import { h, show } from "../dom";
import { forget } from "../state";

type Guard = (work: () => Promise<void>) => Promise<void>;

/** Calendly sent the browser back here (`?code=…&state=…`, or `?error=…`): finish connecting. */
export async function completeOAuth(params: URLSearchParams, go: (route: string) => void): Promise<void> {
  const state = params.get("state") ?? "";
  const error = params.get("error");
  // The code is used once: out of the address bar (and the history) before anything else.
  history.replaceState(null, "", `${location.pathname}#/connection`);
  const body = error ? { error, state } : { code: params.get("code") ?? "", state };
  await answer(api.POST("/calendly/oauth/complete", { body }));
  forget();
  go("#/connection");
}

function connected(connection: Connection, guard: Guard, go: (route: string) => void): HTMLElement[] {
  const method = connection.method === "oauth" ? "Calendly's Connect button (OAuth)" : "a personal access token";
  const disconnect = h("button", { type: "button", class: "secondary" }, "Disconnect");
  disconnect.addEventListener("click", () =>
    void guard(async () => {
      await answer(api.DELETE("/calendly/connection"));
      forget();
      go("#/connection");
    }),
  );
  return [
    h("h1", {}, "Your Calendly account"),
    h(
      "dl",
      { class: "facts card" },
      h("dt", {}, "Name"),
      h("dd", { id: "calendly-name" }, connection.name),
      h("dt", {}, "Email"),
      h("dd", {}, connection.email),
      h("dt", {}, "Time zone"),
      h("dd", {}, connection.timezone),
      h("dt", {}, "Connected with"),
      h("dd", {}, method),
      h("dt", {}, "Updates from Calendly"),
      h("dd", {}, connection.webhooks === "active" ? "instant (webhooks)" : `refreshed every few seconds (webhooks ${connection.webhooks})`),
    ),
    h("p", { class: "actions" }, h("a", { class: "button", href: "#/book" }, "Book a time"), disconnect),
  ];
}

function notConnected(guard: Guard, go: (route: string) => void, unusable: boolean): (HTMLElement | null)[] {
  const oauth = h("button", { type: "button", id: "connect-oauth" }, "Connect with Calendly");
  oauth.addEventListener("click", () =>
    void guard(async () => {
      const start = await answer(api.POST("/calendly/oauth/start"));
      location.assign(start.authorize_url);
    }),
  );
  const token = h("input", {
    id: "pat",
    name: "pat",
    type: "password",
    required: true,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "pat-help",
  });
  const form = h(
    "form",
    { class: "card" },
    h("h2", {}, "Or paste a personal access token"),
    h("label", { for: "pat" }, "Personal access token"),
    h("p", { id: "pat-help", class: "help" }, "Made in Calendly under Integrations › API and webhooks. It is checked with Calendly, then kept encrypted by the gateway."),
    token,
    h("button", { type: "submit", class: "secondary" }, "Connect with the token"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void guard(async () => {
      await answer(api.PUT("/calendly/connection", { body: { personal_access_token: token.value } }));
      forget();
      go("#/book");
    });
  });
  return [
    h("h1", {}, "Connect your Calendly account"),
    unusable ? h("p", { class: "lead" }, "Calendly no longer accepts the account connected before (access was revoked or has expired). Connect it again.") : null,
    h("div", { class: "card" }, h("p", {}, "Calendly asks you to allow access, then sends you back here."), oauth),
    form,
  ];
}

export async function connectionView(guard: Guard, go: (route: string) => void): Promise<void> {
  try {
    const connection = await answer(api.GET("/calendly/connection"));
    show(connected(connection, guard, go));
  } catch (error) {
    if (error instanceof GatewayError && (error.code === "calendly_not_connected" || error.code === "calendly_reauth_required")) {
      show(notConnected(guard, go, error.code === "calendly_reauth_required"));
      return;
    }
    throw error;
  }
}

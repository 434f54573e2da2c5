// Signing in as a demo user: the gateway's `POST /demo/session` stands in for the web
// application's own sign-in.
import { answer, api, session } from "../api";
import { h, show } from "../dom";
import { forget } from "../state";

export function signIn(go: (route: string) => void, guard: (work: () => Promise<void>) => Promise<void>): void {
  const input = h("input", {
    id: "user-id",
    name: "user-id",
    required: true,
    maxlength: 255,
    autocomplete: "username",
    value: session.user() ?? "",
    "aria-describedby": "user-id-help",
  });
  const form = h(
    "form",
    { class: "card" },
    h("label", { for: "user-id" }, "Your user id"),
    h("p", { id: "user-id-help", class: "help" }, "Any name: each user id has its own Calendly connection and bookings."),
    input,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void guard(async () => {
      const userId = input.value.trim();
      const signed = await answer(api.POST("/demo/session", { body: { user_id: userId } }));
      forget();
      session.start(userId, signed.access_token);
      go("#/book");
    });
  });
  show(h("h1", {}, "Sign in"), h("p", {}, "Sign in as a user of the web application to connect a Calendly account and book."), form);
}

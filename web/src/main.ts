// The demo client: which view the address shows, and every error in words.
import { GatewayError, session } from "./api";
import { clearNotice, element, h, notify, show } from "./dom";
import { bookView } from "./views/book";
import { bookingsView } from "./views/bookings";
import { completeOAuth, connectionView } from "./views/connection";
import { confirmationView, formView } from "./views/form";
import { signIn } from "./views/signin";
import { wordsFor } from "./words";

function go(route: string): void {
  if (location.hash === route) {
    void render();
  } else {
    location.hash = route;
  }
}

/** Runs `work`, showing any refusal in words; a sign-in that ended goes back to signing in. */
async function guard(work: () => Promise<void>): Promise<void> {
  clearNotice();
  try {
    await work();
  } catch (error) {
    const words = wordsFor(error);
    const actions = words.action ? [h("a", { class: "button", href: words.action.href }, words.action.label)] : [];
    notify(words.text, ...actions);
    if (error instanceof GatewayError && error.status === 401) {
      session.end();
      header();
    }
  }
}

function header(): void {
  const user = session.user();
  element("nav").hidden = !session.token();
  element("who").hidden = !user;
  element("who-name").textContent = user ? `Signed in as ${user}` : "";
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    const hash = location.hash;
    const current = hash === link.hash || (link.hash === "#/book" && (hash.startsWith("#/book/") || hash.startsWith("#/booking/")));
    if (current) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  }
}

/** The title of each page that loads before it shows, by the start of its address. */
const TITLES: [string, string][] = [
  ["#/connection", "Calendly account"],
  ["#/bookings", "Your bookings"],
  ["#/booking/", "Booking"],
  ["#/book/form", ""],
  ["#/book", "Book a time"],
];

async function render(): Promise<void> {
  const route = location.hash || "#/book";
  const signedIn = session.token() !== null;
  if (!signedIn && route !== "#/signin") {
    location.hash = "#/signin";
    return;
  }
  header();
  // The page's title at once, so that a refusal is shown above the page it belongs to.
  const title = TITLES.find(([prefix]) => route.startsWith(prefix))?.[1];
  if (title) {
    show(h("h1", {}, title), h("p", { class: "help loading" }, "Loading…"));
  }
  await guard(async () => {
    if (route === "#/signin") {
      signIn(go, guard);
    } else if (route === "#/connection") {
      await connectionView(guard, go);
    } else if (route === "#/book/form") {
      formView(guard, go);
    } else if (route.startsWith("#/booking/")) {
      await confirmationView(decodeURIComponent(route.slice("#/booking/".length)), guard, go);
    } else if (route === "#/bookings") {
      await bookingsView(guard);
    } else {
      await bookView(guard, go);
    }
  });
  // Refused: the notice says why, and nothing is loading any more.
  document.querySelector("#view .loading")?.remove();
}

function start(): void {
  element("sign-out").addEventListener("click", () => {
    session.end();
    go("#/signin");
  });
  window.addEventListener("hashchange", () => void render());
  const params = new URLSearchParams(location.search);
  if (params.has("state")) {
    if (session.token()) {
      void guard(() => completeOAuth(params, go));
      return;
    }
    // Back from Calendly, but signed out meanwhile: the code is of no use to anyone else.
    history.replaceState(null, "", `${location.pathname}#/signin`);
    void render().then(() => notify("Your sign-in ended before Calendly sent you back. Sign in, then connect again."));
    return;
  }
  void render();
}

start();

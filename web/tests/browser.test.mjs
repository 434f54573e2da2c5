// The demo client in a real browser (Debian's Chromium through playwright-core, never a browser
// download) against the gateway and the Calendly stand-in binaries: sign in, connect through the
// stand-in's OAuth authorize page, slots in a chosen zone with a half-hour offset, book, the time
// gone, listed, cancelled, back; a 409 and a 429 in words; axe-core on every view; screenshots
// under target/web/. Once at desktop width with the page served by the gateway at /demo/, once at
// phone width with the page on another origin (CORS preflights, Idempotency-Key included).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startAll } from "./processes.mjs";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(ROOT, "target", "web");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** A zone half an hour off the hour (UTC+05:30, no daylight saving): the stand-in's slots start on UTC hours. */
const ZONE = "Asia/Kolkata";

const RUNS = [
  { name: "desktop", width: 1280, height: 900, crossOrigin: false },
  { name: "phone", width: 390, height: 844, crossOrigin: true },
];

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});
after(async () => {
  await browser?.close();
});

/** axe-core's serious and critical findings on the page as it is now. */
async function accessibilityProblems(page) {
  await page.evaluate(AXE);
  const results = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

for (const run of RUNS) {
  describe(`the demo client at ${run.width} px (${run.crossOrigin ? "another origin" : "served at /demo/"})`, () => {
    let servers;
    let context;
    let page;
    const seen = { authorize: 0, bookingKeys: [], codes: [], cspErrors: [], pageErrors: [] };

    before(async () => {
      servers = await startAll({ crossOrigin: run.crossOrigin, bookingLimit: [2, 2, 100] });
      context = await browser.newContext({ viewport: { width: run.width, height: run.height }, timezoneId: "Europe/London", locale: "en-GB" });
      page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on("request", (request) => {
        if (request.url().startsWith(`${servers.standIn}/oauth/authorize`)) seen.authorize += 1;
        const code = new URL(request.url()).searchParams.get("code");
        if (code) seen.codes.push(code);
        if (request.method() === "POST" && request.url() === `${servers.gateway}/calendly/bookings`) {
          seen.bookingKeys.push(request.headers()["idempotency-key"]);
        }
      });
      page.on("console", (message) => {
        if (message.type() === "error" && /Content Security Policy/i.test(message.text())) seen.cspErrors.push(message.text());
      });
      page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
      mkdirSync(SHOTS, { recursive: true });
    });

    after(async () => {
      await context?.close();
      await servers?.stop();
    });

    const shot = (view) => page.screenshot({ path: join(SHOTS, `${run.name}-${view}.png`), fullPage: true });
    const scan = async (view) => {
      await shot(view);
      assert.deepEqual(await accessibilityProblems(page), [], `axe-core on the ${view} view at ${run.width} px`);
    };
    const slotButtons = () => page.locator("#slots button.slot");
    const startsShown = () => slotButtons().evaluateAll((buttons) => buttons.map((b) => b.dataset.start));
    const weekShown = () => page.locator("#week").textContent();
    const nextWeek = async () => {
      const before = await weekShown();
      await page.getByRole("button", { name: "Next week" }).click();
      await page.locator("#week").filter({ hasNotText: before }).waitFor();
      await page.locator("#slots").waitFor();
    };
    /** The week of the first booking, which the page keeps while the visitor moves around. */
    let week;
    const backToTheWeek = async () => {
      await page.locator("#slots").waitFor();
      assert.equal(await weekShown(), week, "the page shows the week it showed before");
    };

    test("signing in as a demo user", async () => {
      await page.goto(servers.page);
      await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
      // The scan finds what it should: an input without a label is a critical finding.
      await page.evaluate(() => document.querySelector("main")?.append(Object.assign(document.createElement("input"), { id: "unlabelled" })));
      assert.ok((await accessibilityProblems(page)).some((problem) => problem.startsWith("label (critical)")));
      await page.evaluate(() => document.getElementById("unlabelled")?.remove());
      await scan("sign-in");
      // By keyboard alone: the view's heading has the focus, the field is the next stop, Enter sends.
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Sign in");
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "user-id");
      await page.keyboard.type(`ada-${run.name}`);
      await page.keyboard.press("Enter");
      await page.getByText(`Signed in as ada-${run.name}`).waitFor();
      // Not connected yet: said in words, with the way to connect.
      await page.locator("#notice").getByText("No Calendly account is connected yet").waitFor();
    });

    test("connecting through the stand-in's OAuth authorize page", async () => {
      await page.locator("#notice").getByRole("link", { name: "Connect Calendly" }).click();
      await page.getByRole("heading", { name: "Connect your Calendly account", exact: true }).waitFor();
      await scan("connect");
      await page.getByRole("button", { name: "Connect with Calendly" }).click();
      await page.getByRole("heading", { name: "Your Calendly account", exact: true }).waitFor();
      assert.equal(seen.authorize, 1, "the browser went through Calendly's (the stand-in's) authorize page");
      assert.match(await page.locator("#calendly-name").textContent(), /^Stand-in User /);
      assert.ok(!page.url().includes("code="), "the code is out of the address bar once used");
      const stats = await (await fetch(`${servers.standIn}/stats`)).json();
      assert.equal(stats.oauth_token_authorization_code, 1, "the code was exchanged once");
      await scan("connection");
    });

    test("slots in a zone half an hour off UTC, by day", async () => {
      await page.getByRole("link", { name: "Book a time" }).first().click();
      await page.getByRole("heading", { name: "Book a time", exact: true }).waitFor();
      // One kind of meeting: the 15-minute one, with a required question and Zoom.
      await page.locator("#event-types").waitFor();
      const kinds = page.locator("#event-types input[type=checkbox]");
      assert.ok((await kinds.count()) >= 2);
      for (const box of (await kinds.all()).slice(1)) await box.uncheck();
      await page.getByLabel("Time zone").fill(ZONE);
      await page.getByRole("button", { name: "Show times" }).click();
      await nextWeek();
      await page.getByText("Times in Asia/Kolkata.").waitFor();
      week = await weekShown();
      const starts = await startsShown();
      assert.ok(starts.length > 0, "the next week has free times");
      for (const start of starts) assert.match(start, /T\d\d:30:00\+05:30$/, `${start} is in ${ZONE}`);
      const firstLabel = await slotButtons().first().locator(".time").textContent();
      assert.match(firstLabel, /^\d\d:30–\d\d:45$/, "a 15-minute slot shown in the zone's own time");
      await scan("slots");
    });

    let booked;
    test("booking a slot, then it is gone", async () => {
      booked = (await startsShown())[0];
      // A slot is a button: chosen from the keyboard.
      await slotButtons().first().focus();
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: /^Book / }).waitFor();
      await page.getByLabel("Your name").fill("Ada Lovelace");
      await page.getByLabel("Your email").fill("ada@example.com");
      await page.getByLabel(/What should we talk about\?/).fill("Engines");
      await scan("form");
      await page.getByRole("button", { name: "Book", exact: true }).click();
      await page.getByRole("heading", { name: "Booked", exact: true }).waitFor();
      assert.match(await page.locator("#booking-when").textContent(), /Asia\/Kolkata/);
      await scan("confirmation");
      await page.getByRole("link", { name: "Book another time" }).click();
      await backToTheWeek();
      assert.ok(!(await startsShown()).includes(booked), `${booked} is no longer offered`);
    });

    test("listed, cancelled, and the time is back", async () => {
      await page.getByRole("navigation").getByRole("link", { name: "Bookings" }).click();
      await page.getByRole("heading", { name: "Your bookings", exact: true }).waitFor();
      // The row of that time (Calendly writes its times with microseconds).
      const at = Date.parse(booked);
      const rows = page.locator("#bookings li");
      await rows.first().waitFor();
      const index = (await rows.evaluateAll((items) => items.map((li) => Date.parse(li.dataset.start ?? "")))).indexOf(at);
      assert.ok(index >= 0, `${booked} is among the bookings`);
      const row = rows.nth(index);
      assert.equal(await row.locator(".status").textContent(), "Booked");
      await scan("bookings");
      await row.getByRole("button", { name: /^Cancel / }).click();
      await rows.nth(index).locator(".status").getByText("Canceled").waitFor();
      await page.getByRole("navigation").getByRole("link", { name: "Book a time" }).click();
      await backToTheWeek();
      assert.ok((await startsShown()).includes(booked), `${booked} is offered again`);
    });

    test("a time taken meanwhile: 409 in words", async () => {
      const [, second] = await startsShown();
      await slotButtons().nth(1).click();
      await page.getByLabel("Your name").fill("Ada Lovelace");
      await page.getByLabel("Your email").fill("ada@example.com");
      await page.getByLabel(/What should we talk about\?/).fill("Engines");
      // Someone else books that very time through the gateway while the form is open.
      const token = await page.evaluate(() => sessionStorage.getItem("token"));
      const types = await (await fetch(`${servers.gateway}/calendly/user-event-types`, { headers: { Authorization: `Bearer ${token}` } })).json();
      const direct = await fetch(`${servers.gateway}/calendly/bookings`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          event_type: types[0].uri,
          start_time: second,
          invitee: { name: "Charles Babbage", email: "charles@example.com", timezone: "Europe/London" },
          location: { kind: "zoom_conference" },
          questions_and_answers: [{ question: "What should we talk about?", answer: "Engines", position: 0 }],
        }),
      });
      assert.equal(direct.status, 201, await direct.text());
      await page.getByRole("button", { name: "Book", exact: true }).click();
      await page.locator("#notice").getByText("That time was just taken or is no longer free. Pick another time.").waitFor();
      await scan("conflict");
    });

    test("Calendly's booking limit reached: 429 in words, with when to try again", async () => {
      await page.locator("#notice").getByRole("link", { name: "See the free times" }).click();
      await backToTheWeek();
      await slotButtons().nth(2).click();
      await page.getByLabel("Your name").fill("Ada Lovelace");
      await page.getByLabel("Your email").fill("ada@example.com");
      await page.getByLabel(/What should we talk about\?/).fill("Engines");
      await page.getByRole("button", { name: "Book", exact: true }).click();
      const words = page.locator("#notice").getByText(/Calendly is not taking more requests for this account right now\. Try again in \d+ (seconds|minutes) \(at /);
      await words.waitFor();
      await scan("rate-limited");
    });

    /** A personal access token the stand-in grants two scopes only: no bookings can be read with it. */
    const TOKEN = `scoped[users:read,event_types:read]pat-${run.name}`;
    test("reconnected with a personal access token lacking a scope: 424 in words, with the way to reconnect", async () => {
      await page.getByRole("navigation").getByRole("link", { name: "Calendly account" }).click();
      await page.getByRole("heading", { name: "Your Calendly account", exact: true }).waitFor();
      await page.getByRole("button", { name: "Disconnect" }).click();
      await page.getByRole("heading", { name: "Connect your Calendly account", exact: true }).waitFor();
      await page.getByLabel("Personal access token").fill(TOKEN);
      await page.getByRole("button", { name: "Connect with the token" }).click();
      await page.getByRole("heading", { name: "Book a time", exact: true }).waitFor();
      await page.locator("#slots").waitFor();
      await page.getByRole("navigation").getByRole("link", { name: "Calendly account" }).click();
      await page.getByText("a personal access token", { exact: true }).waitFor();
      await page.getByRole("navigation").getByRole("link", { name: "Bookings" }).click();
      const notice = page.locator("#notice");
      await notice.getByText("The Calendly connection was not given access to scheduled_events:read. Reconnect your Calendly account and allow it.").waitFor();
      // Said above the page it belongs to, whose address the navigation marks alone.
      await page.getByRole("heading", { name: "Your bookings", exact: true }).waitFor();
      assert.deepEqual(await page.locator('#nav a[aria-current="page"]').allTextContents(), ["Bookings"]);
      await page.locator("#view .loading").waitFor({ state: "detached" });
      await notice.getByRole("link", { name: "Reconnect your Calendly account" }).waitFor();
      await scan("scope-missing");
    });

    test("no errors in the page, no refusal by its security policy, no secret in the logs", async () => {
      assert.deepEqual(seen.pageErrors, []);
      const token = await page.evaluate(() => sessionStorage.getItem("token"));
      const logs = servers.log.join("");
      assert.match(logs, /POST.*\/calendly\/bookings|calendly\/bookings.*POST/, "the gateway logged the requests");
      assert.equal(seen.codes.length, 1, "one OAuth code came back");
      for (const secret of [token, TOKEN, ...seen.codes]) {
        assert.ok(secret && !logs.includes(secret), "neither the bearer token, the personal access token nor the OAuth code is logged");
      }
      assert.deepEqual(seen.cspErrors, []);
      // Every booking carried a key of its own form; from another origin, the header (not one
      // a page may send without asking) needs the gateway's CORS preflight to allow it.
      assert.equal(seen.bookingKeys.length, 3, "three bookings sent by the page");
      for (const key of seen.bookingKeys) assert.match(key ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(new Set(seen.bookingKeys).size, 3);
      assert.equal(new URL(servers.page).origin !== servers.gateway, run.crossOrigin);
    });
  });
}

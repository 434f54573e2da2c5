// The host's bookings from now on, with a way to cancel each.
import { answer, api, type Booking } from "../api";
import { announce, h, show } from "../dom";
import { state } from "../state";
import { when } from "../time";

type Guard = (work: () => Promise<void>) => Promise<void>;

/** How far ahead the list looks. */
const DAYS_AHEAD = 60;

function row(booking: Booking, guard: Guard, reload: () => void): HTMLElement {
  const canceled = booking.status === "canceled";
  const cancel = h("button", { type: "button", class: "danger", "aria-label": `Cancel ${booking.name} on ${when(booking.start_time, state.zone)}` }, "Cancel");
  cancel.addEventListener("click", () =>
    void guard(async () => {
      await answer(api.POST("/calendly/bookings/{uuid}/cancellation", { params: { path: { uuid: booking.uuid } }, body: { reason: "Canceled from the demo client" } }));
      announce(`${booking.name} on ${when(booking.start_time, state.zone)} is canceled.`);
      reload();
    }),
  );
  return h(
    "li",
    { class: canceled ? "booking canceled" : "booking", "data-start": booking.start_time },
    h("a", { href: `#/booking/${booking.uuid}` }, h("span", { class: "what" }, booking.name), h("span", { class: "time" }, when(booking.start_time, state.zone))),
    h("span", { class: "status" }, canceled ? "Canceled" : "Booked"),
    canceled ? null : cancel,
  );
}

export async function bookingsView(guard: Guard): Promise<void> {
  const now = new Date();
  const until = new Date(now.getTime() + DAYS_AHEAD * 86_400_000);
  const { collection } = await answer(
    api.GET("/calendly/bookings", {
      params: { query: { start_time: now.toISOString(), end_time: until.toISOString() } },
    }),
  );
  const reload = () => void guard(() => bookingsView(guard));
  show(
    h("h1", {}, "Your bookings"),
    h("p", { class: "help" }, `The next ${DAYS_AHEAD} days, times in ${state.zone.replaceAll("_", " ")}.`),
    collection.length === 0
      ? h("p", { id: "bookings", class: "empty" }, "No bookings yet.")
      : h("ul", { id: "bookings", class: "bookings" }, collection.map((booking) => row(booking, guard, reload))),
  );
}

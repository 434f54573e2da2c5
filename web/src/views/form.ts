// The booking form, built from the event type's questions and locations, and the confirmation.
import { answer, api, type Booking, type BookingRequest, type Place, type Question } from "../api";
import { h, show } from "../dom";
import { eventTypeOf, state } from "../state";
import { clockOf, dayName, when } from "../time";

type Guard = (work: () => Promise<void>) => Promise<void>;

const PLACES: Record<string, string> = {
  zoom_conference: "Zoom (a link is sent by email)",
  google_conference: "Google Meet (a link is sent by email)",
  microsoft_teams_conference: "Microsoft Teams (a link is sent by email)",
  physical: "In person",
  outbound_call: "Phone call: the host calls you",
  inbound_call: "Phone call: you call the host",
  ask_invitee: "Somewhere you choose",
  custom: "As described by the host",
};

/** A place the invitee must describe (a phone number, an address of their choice). */
function asksWhere(kind: string): string | null {
  if (kind === "outbound_call") return "Your phone number";
  if (kind === "ask_invitee") return "Where to meet";
  return null;
}

function field(id: string, text: string, control: HTMLElement, required: boolean, help?: string): HTMLElement {
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, text, required ? h("span", { class: "required" }, " (required)") : null),
    help ? h("p", { class: "help", id: `${id}-help` }, help) : null,
    control,
  );
}

function questionField(question: Question, index: number): HTMLElement {
  const id = `question-${index}`;
  const common = { id, name: id, required: question.required, "data-question": question.name, "data-position": question.position };
  const choices = question.answer_choices ?? [];
  if (question.type === "single_select" && choices.length > 0) {
    return field(id, question.name, h("select", common, h("option", { value: "" }, "Choose…"), choices.map((c) => h("option", { value: c }, c))), question.required);
  }
  if (question.type === "phone_number") {
    return field(id, question.name, h("input", { ...common, type: "tel", autocomplete: "tel" }), question.required);
  }
  if (question.type === "text") {
    return field(id, question.name, h("textarea", { ...common, rows: 3, maxlength: 10000 }), question.required);
  }
  return field(id, question.name, h("input", { ...common, type: "text", maxlength: 10000 }), question.required);
}

function placePicker(places: Place[]): HTMLElement | null {
  if (places.length === 0) {
    return null;
  }
  const where = h("input", { id: "where", name: "where", type: "text", autocomplete: "tel" });
  const whereField = field("where", "", where, true);
  const describe = (kind: string) => {
    const asks = asksWhere(kind);
    whereField.hidden = asks === null;
    where.required = asks !== null;
    const labelElement = whereField.querySelector("label");
    if (labelElement) labelElement.textContent = asks ?? "";
  };
  const radios = places.map((place, index) => {
    const id = `place-${index}`;
    const radio = h("input", { type: "radio", id, name: "place", value: place.kind, required: true, checked: index === 0 });
    radio.addEventListener("change", () => describe(place.kind));
    const text = PLACES[place.kind] ?? place.kind.replaceAll("_", " ");
    return h("div", { class: "choice" }, radio, h("label", { for: id }, place.location ? `${text}: ${place.location}` : text));
  });
  describe(places[0]?.kind ?? "");
  return h("fieldset", { id: "places" }, h("legend", {}, "Where"), radios, whereField);
}

function requestFrom(form: HTMLFormElement): BookingRequest {
  const slot = state.slot;
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? "";
  const answers = Array.from(form.querySelectorAll<HTMLInputElement>("[data-question]"))
    .filter((input) => input.value.trim() !== "")
    .map((input) => ({ question: input.dataset.question ?? "", answer: input.value.trim(), position: Number(input.dataset.position) }));
  const place = form.querySelector<HTMLInputElement>('input[name="place"]:checked');
  const guests = value("guests").split(/[\s,;]+/).filter(Boolean);
  const where = value("where");
  return {
    event_type: slot?.event_type ?? "",
    start_time: slot?.start ?? "",
    invitee: { name: value("name"), email: value("email"), timezone: state.zone },
    location: place ? { kind: place.value, location: asksWhere(place.value) && where ? where : null } : null,
    questions_and_answers: answers,
    guests: guests.length > 0 ? guests : null,
  };
}

export function formView(guard: Guard, go: (route: string) => void): void {
  const slot = state.slot;
  if (!slot) {
    go("#/book");
    return;
  }
  const eventType = eventTypeOf(slot.event_type);
  const questions = (eventType?.custom_questions ?? []).filter((q) => q.enabled).sort((a, b) => a.position - b.position);
  // One key for every attempt at this form: sending it again never books twice.
  const key = crypto.randomUUID();
  const submit = h("button", { type: "submit" }, "Book");
  const form = h(
    "form",
    { class: "card", id: "booking-form" },
    field("name", "Your name", h("input", { id: "name", name: "name", required: true, autocomplete: "name", maxlength: 255 }), true),
    field("email", "Your email", h("input", { id: "email", name: "email", type: "email", required: true, autocomplete: "email" }), true),
    questions.map(questionField),
    placePicker(eventType?.locations ?? []),
    field("guests", "Guests", h("input", { id: "guests", name: "guests", type: "text", "aria-describedby": "guests-help" }), false, "Email addresses of up to 10 others to invite, separated by commas."),
    h("p", { class: "actions" }, submit, h("a", { href: "#/book", class: "button secondary" }, "Pick another time")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    void guard(async () => {
      try {
        const booking = await answer(api.POST("/calendly/bookings", { body: requestFrom(form), params: { header: { "Idempotency-Key": key } } }));
        state.booked = booking;
        state.slot = null;
        go(`#/booking/${booking.uuid}`);
      } finally {
        submit.disabled = false;
      }
    });
  });
  show(
    h("h1", {}, `Book ${eventType?.name ?? "a meeting"}`),
    h("p", { class: "lead", id: "chosen-time" }, `${dayName(slot.start.slice(0, 10))}, ${clockOf(slot.start)}–${clockOf(slot.end)} (${state.zone.replaceAll("_", " ")})`),
    form,
  );
}

export function bookingFacts(booking: Booking, zone: string): HTMLElement {
  const invitee = booking.invitees?.[0];
  return h(
    "dl",
    { class: "facts card" },
    h("dt", {}, "What"),
    h("dd", {}, booking.name),
    h("dt", {}, "When"),
    h("dd", { id: "booking-when" }, `${when(booking.start_time, zone)} (${zone.replaceAll("_", " ")})`),
    h("dt", {}, "Status"),
    h("dd", { id: "booking-status" }, booking.status === "canceled" ? "Canceled" : "Booked"),
    invitee ? [h("dt", {}, "Invitee"), h("dd", {}, `${invitee.name} <${invitee.email}>`)] : null,
  );
}

export async function confirmationView(uuid: string, guard: Guard, go: (route: string) => void): Promise<void> {
  const booking = state.booked?.uuid === uuid ? state.booked : await answer(api.GET("/calendly/bookings/{uuid}", { params: { path: { uuid } } }));
  state.booked = booking;
  const invitee = booking.invitees?.[0];
  const cancel = h("button", { type: "button", class: "danger" }, "Cancel this booking");
  cancel.addEventListener("click", () =>
    void guard(async () => {
      state.booked = await answer(api.POST("/calendly/bookings/{uuid}/cancellation", { params: { path: { uuid } }, body: { reason: "Canceled from the demo client" } }));
      go(`#/booking/${uuid}`);
    }),
  );
  const active = booking.status !== "canceled";
  show(
    h("h1", {}, active ? "Booked" : "Canceled"),
    active ? h("p", { class: "lead" }, "Calendly sends the invitation by email.") : null,
    bookingFacts(booking, state.zone),
    h(
      "p",
      { class: "actions" },
      active ? cancel : null,
      active && invitee?.reschedule_url ? h("a", { class: "button secondary", href: invitee.reschedule_url, rel: "noopener" }, "Reschedule at Calendly") : null,
      active && invitee?.cancel_url ? h("a", { class: "button secondary", href: invitee.cancel_url, rel: "noopener" }, "Calendly's cancel page") : null,
      h("a", { class: "button secondary", href: "#/bookings" }, "All bookings"),
      h("a", { class: "button secondary", href: "#/book" }, "Book another time"),
    ),
  );
}

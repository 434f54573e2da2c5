// Choosing a time: event types, a time zone, and the free slots of a week, by day.
import { answer, api, type EventType, type Slot, type SlotDay } from "../api";
import { announce, h, show } from "../dom";
import { eventTypeOf, setChosen, setZone, state } from "../state";
import { addDays, clockOf, dateIn, dayName, startOfDay, zones } from "../time";

type Guard = (work: () => Promise<void>) => Promise<void>;

async function eventTypes(): Promise<EventType[]> {
  if (state.eventTypes.length === 0) {
    state.eventTypes = (await answer(api.GET("/calendly/user-event-types"))) as EventType[];
  }
  return state.eventTypes;
}

function label(eventType: EventType | undefined): string {
  if (!eventType) {
    return "Meeting";
  }
  return eventType.duration ? `${eventType.name ?? "Meeting"} (${eventType.duration} min)` : (eventType.name ?? "Meeting");
}

function chooser(active: EventType[], refresh: () => void): HTMLElement {
  const boxes = active.map((eventType, index) => {
    const id = `event-type-${index}`;
    const box = h("input", {
      type: "checkbox",
      id,
      value: eventType.uri,
      checked: state.chosen.size === 0 || state.chosen.has(eventType.uri),
    });
    box.addEventListener("change", () => {
      const checked = Array.from(document.querySelectorAll<HTMLInputElement>("#event-types input:checked"), (b) => b.value);
      setChosen(checked);
      refresh();
    });
    return h("div", { class: "choice" }, box, h("label", { for: id }, label(eventType)));
  });
  return h("fieldset", { id: "event-types" }, h("legend", {}, "Kinds of meeting"), boxes);
}

/** A zone the browser knows by this name (Chromium lists `Asia/Calcutta` but takes `Asia/Kolkata` too). */
function knownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

function zonePicker(refresh: () => void): HTMLElement {
  const input = h("input", {
    id: "zone",
    name: "zone",
    list: "zone-names",
    value: state.zone,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "zone-help",
  });
  const help = h("p", { class: "help", id: "zone-help" }, "Any IANA time zone, such as Europe/Paris or Asia/Kolkata.");
  const form = h(
    "form",
    { class: "field", id: "zone-form" },
    h("label", { for: "zone" }, "Time zone"),
    help,
    h("datalist", { id: "zone-names" }, zones(state.zone).map((zone) => h("option", { value: zone }))),
    h("div", { class: "inline" }, input, h("button", { type: "submit", class: "secondary" }, "Show times")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const zone = input.value.trim();
    if (!knownZone(zone)) {
      input.setAttribute("aria-invalid", "true");
      help.textContent = `"${zone}" is not a time zone this browser knows. Use an IANA name such as Europe/Paris.`;
      return;
    }
    input.removeAttribute("aria-invalid");
    setZone(zone);
    refresh();
  });
  return form;
}

function slotButton(slot: Slot, many: boolean, go: (route: string) => void): HTMLElement {
  const eventType = eventTypeOf(slot.event_type);
  const time = `${clockOf(slot.start)}–${clockOf(slot.end)}`;
  const button = h(
    "button",
    { type: "button", class: "slot", "data-start": slot.start, "aria-label": `${dayName(slot.start.slice(0, 10))}, ${time}, ${label(eventType)}` },
    h("span", { class: "time" }, time),
    many ? h("span", { class: "what" }, eventType?.name ?? "") : null,
  );
  button.addEventListener("click", () => {
    state.slot = slot;
    go("#/book/form");
  });
  return button;
}

function days(found: SlotDay[], many: boolean, go: (route: string) => void): HTMLElement {
  if (found.length === 0) {
    return h("p", { id: "slots", class: "empty" }, "No free times this week. Try the next week.");
  }
  return h(
    "div",
    { id: "slots", class: "days" },
    found.map((day) =>
      h(
        "section",
        { class: "day", "aria-labelledby": `day-${day.date}` },
        h("h3", { id: `day-${day.date}` }, dayName(day.date)),
        h("ul", { class: "slots" }, day.slots.map((slot) => h("li", {}, slotButton(slot, many, go)))),
      ),
    ),
  );
}

export async function bookView(guard: Guard, go: (route: string) => void): Promise<void> {
  const active = (await eventTypes()).filter((e) => e.active !== false);
  state.weekStart ??= dateIn(state.zone);
  const today = dateIn(state.zone);
  if (state.weekStart < today) {
    state.weekStart = today;
  }
  const area = h("div", { class: "week" }, h("p", {}, "Loading the free times…"));
  const load = (): Promise<void> =>
    guard(async () => {
      const start = state.weekStart ?? today;
      const chosen = active.filter((e) => state.chosen.size === 0 || state.chosen.has(e.uri)).map((e) => e.uri);
      const heading = h("h2", { id: "week" }, `${dayName(start, false)} – ${dayName(addDays(start, 6), false)}`);
      const previous = h("button", { type: "button", class: "secondary", disabled: start <= today }, "Previous week");
      const next = h("button", { type: "button", class: "secondary" }, "Next week");
      previous.addEventListener("click", () => {
        state.weekStart = addDays(start, -7);
        void load();
      });
      next.addEventListener("click", () => {
        state.weekStart = addDays(start, 7);
        void load();
      });
      if (chosen.length === 0) {
        area.replaceChildren(heading, h("p", { id: "slots", class: "empty" }, "Choose at least one kind of meeting."));
        return;
      }
      const slots = await answer(
        api.GET("/calendly/slots", {
          params: {
            query: {
              start_time: startOfDay(start, state.zone),
              end_time: startOfDay(addDays(start, 7), state.zone),
              event_type: chosen,
              timezone: state.zone,
            },
          },
        }),
      );
      const count = slots.days.reduce((n, day) => n + day.slots.length, 0);
      area.replaceChildren(
        heading,
        h("div", { class: "actions" }, previous, next),
        h("p", { class: "help" }, `Times in ${slots.timezone.replaceAll("_", " ")}.`),
        days(slots.days, chosen.length > 1, go),
      );
      announce(`${count} free times in the week of ${dayName(start)}.`);
    });
  if (active.length === 0) {
    show(h("h1", {}, "Book a time"), h("p", {}, "This Calendly account has no active event types. Switch one on in Calendly first."));
    return;
  }
  show(
    h("h1", {}, "Book a time"),
    h("div", { class: "card controls" }, chooser(active, () => void load()), zonePicker(() => void load())),
    area,
  );
  await load();
}

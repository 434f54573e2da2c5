// What the visitor chose, kept while they move between views (and the zone and event types for
// the tab).
import type { Booking, EventType, Slot } from "./api";
import { browserZone, dateIn } from "./time";

const ZONE_KEY = "zone";
const CHOSEN_KEY = "event-types";

export const state = {
  eventTypes: [] as EventType[],
  /** The zone slots are shown in: the browser's by default. */
  zone: sessionStorage.getItem(ZONE_KEY) ?? browserZone(),
  /** The first day of the week shown, in `zone`. */
  weekStart: null as string | null,
  /** The event types asked about (their URIs); none chosen yet: every active one. */
  chosen: new Set<string>(JSON.parse(sessionStorage.getItem(CHOSEN_KEY) ?? "[]") as string[]),
  /** The slot being booked. */
  slot: null as Slot | null,
  /** The booking just made. */
  booked: null as Booking | null,
};

export function setZone(zone: string): void {
  state.zone = zone;
  state.weekStart = dateIn(zone);
  sessionStorage.setItem(ZONE_KEY, zone);
}

export function setChosen(uris: string[]): void {
  state.chosen = new Set(uris);
  sessionStorage.setItem(CHOSEN_KEY, JSON.stringify(uris));
}

export function eventTypeOf(uri: string): EventType | undefined {
  return state.eventTypes.find((e) => e.uri === uri);
}

export function forget(): void {
  state.eventTypes = [];
  state.slot = null;
  state.booked = null;
  sessionStorage.removeItem(CHOSEN_KEY);
}
